/* Writing a model in bounded memory, alone or shared by several processes:
 * the file layout is fixed first (io/plan.c), then each tensor is generated
 * in chunks (units) and written at its offset. Philox makes every element
 * addressable (nninit_fill_range), so any split of the units gives the same
 * bytes; a torch generator is drawn in PyTorch's construction order, in
 * one process, each tensor in the same chunks (init/internal.h's
 * nninit__draw carries the stream from one chunk to the next).
 * Tensor-parallel slices map each chunk of the slice to runs of the whole
 * tensor. */
#include "model/internal.h"
#include "rng/internal.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Elements per chunk: 16 MiB of float32 (32 MiB generated as float64). */
#define CHUNK_ELEMS ((int64_t)1 << 22)

typedef struct jtensor {
    const nninit__mtensor *e;
    int whole;             /* generated at once (orthogonal, sparse, ...) */
    int sliced;            /* the file holds slice [start, start+len) of dimension dim */
    int dim;
    int64_t start, len;
    int64_t numel;         /* in the file */
    uint64_t nbytes;       /* in the file */
} jtensor;

typedef struct junit {
    size_t tensor;
    uint64_t begin, end;   /* bytes of the file tensor */
} junit;

struct nninit_model_job {
    const nninit_model *m;
    nninit_model_opts o;
    char *path;
    nninit_dtype gen;          /* F32 or F64 */
    size_t n;                  /* tensors in the file(s), model order */
    jtensor *t;
    nninit_tensor_desc *desc;
    junit *u;
    size_t n_units;
    uint32_t *crc;
    uint64_t total;            /* tensor bytes */
    nninit__plan *plan;        /* NULL: written in file order (nninit_model_write only) */
    nninit_rng *rng;
    int torch;
    int64_t chunk;             /* elements per chunk */
    void *gbuf, *fbuf;         /* a chunk generated (gen dtype) and converted (file dtype) */
    /* the metadata, alive as long as the job */
    char *specs, seed_txt[32], stream_txt[16], slice_txt[64];
    const char *meta[40];
    int ran;
};

static int host_big_endian(void)
{
    const uint16_t one = 1;
    unsigned char lo;
    memcpy(&lo, &one, 1);
    return lo != 1;
}

void nninit_model_job_free(nninit_model_job *job)
{
    if (!job)
        return;
    nninit__plan_free(job->plan);
    nninit_rng_free(job->rng);
    free(job->path);
    free(job->t);
    free(job->desc);
    free(job->u);
    free(job->crc);
    free(job->gbuf);
    free(job->fbuf);
    free(job->specs);
    free(job);
}

/* Generated whole: the initializers that need the whole matrix, and under
 * Philox the LSTM forget-bias concatenation (three fills) and a tensor that
 * does not resolve (its error is reported when it is drawn, as nninit_fill
 * reports it). A torch generator draws the rest, those included, in pieces. */
static int structured(const nninit__mtensor *e, int torch)
{
    nninit_prim p;
    if (e->forget_units > 0)
        return !torch;
    if (nninit_resolve(&e->init, &e->shape, e->layout, &p, NULL) != NNINIT_OK)
        return !torch;
    return p.kind == NNINIT_PRIM_ORTHOGONAL || p.kind == NNINIT_PRIM_SPARSE || p.kind == NNINIT_PRIM_DELTA_ORTHOGONAL;
}

/* Memory a tensor generated whole takes: itself, its slice, and for a QR
 * the matrix again plus a float64 workspace (fill.c, orthogonal.c). */
static uint64_t whole_need(const jtensor *jt, size_t gs)
{
    uint64_t numel = (uint64_t)nninit__mtensor_numel(jt->e), need = numel * gs;
    nninit_prim p;
    if (nninit_resolve(&jt->e->init, &jt->e->shape, jt->e->layout, &p, NULL) == NNINIT_OK &&
        (p.kind == NNINIT_PRIM_ORTHOGONAL || p.kind == NNINIT_PRIM_DELTA_ORTHOGONAL))
        need += numel * gs + numel * 8;
    if (jt->sliced)
        need += (uint64_t)jt->numel * gs;
    return need;
}

static void set_metadata(nninit_model_job *job, int layouts_seen, nninit_layout common)
{
    const nninit_model_opts *o = &job->o;
    snprintf(job->seed_txt, sizeof job->seed_txt, "%" PRIu64, o->seed);
    snprintf(job->stream_txt, sizeof job->stream_txt, "%d", NNINIT_STREAM_VERSION);
    job->specs = nninit__model_specs_json(job->m);
    const char **meta = job->meta;
    int k = 0;
    if (o->write.format != NNINIT_FORMAT_WEIGHTS_H5) { /* what Hugging Face loaders check */
        meta[k++] = "format";
        meta[k++] = "pt";
    }
    meta[k++] = "nninit.version";
    meta[k++] = nninit_version();
    meta[k++] = "nninit.stream_version";
    meta[k++] = job->stream_txt;
    meta[k++] = "nninit.rng";
    meta[k++] = nninit_rng_kind_name(o->rng);
    meta[k++] = "nninit.seed";
    meta[k++] = job->seed_txt;
    meta[k++] = "nninit.source";
    meta[k++] = job->m->source;
    meta[k++] = "nninit.description";
    meta[k++] = job->m->description;
    if (layouts_seen == 1) {
        meta[k++] = "nninit.layout";
        meta[k++] = nninit_layout_name(common);
    }
    if (job->specs) {
        meta[k++] = "nninit.specs";
        meta[k++] = job->specs;
    }
    if (o->slice_count > 1) {
        snprintf(job->slice_txt, sizeof job->slice_txt, "%d:%d/%d", o->slice_dim, o->slice_index, o->slice_count);
        meta[k++] = "nninit.slice";
        meta[k++] = job->slice_txt;
    }
    meta[k] = NULL;
    job->o.write.metadata = meta;
}

static nninit_status check_opts(const nninit_model_opts *o, nninit_err *err)
{
    if (o->dtype != NNINIT_FD_F32 && o->dtype != NNINIT_FD_F64 && o->dtype != NNINIT_FD_BF16 &&
        o->dtype != NNINIT_FD_F16)
        return nninit__err(err, NNINIT_EINVAL, "model dtype %s: expected F32, F64, BF16 or F16",
                           nninit_file_dtype_name(o->dtype));
    if (o->slice_count < 0 || (o->slice_count > 1 && (o->slice_index < 0 || o->slice_index >= o->slice_count)) ||
        (o->slice_count <= 1 && o->slice_index != 0))
        return nninit__err(err, NNINIT_EINVAL, "slice %d of %d: expected an index from 0 to count - 1", o->slice_index,
                           o->slice_count);
    if (o->slice_count > 1 && (o->slice_dim < 0 || o->slice_dim >= NNINIT_MAX_DIMS))
        return nninit__err(err, NNINIT_EINVAL, "slice dimension %d: expected 0 to %d", o->slice_dim,
                           NNINIT_MAX_DIMS - 1);
    if (o->slice_count > 1 && o->rng != NNINIT_RNG_PHILOX)
        return nninit__err(err, NNINIT_EUNSUPPORTED, "slices need the Philox generator: a torch generator draws the "
                           "whole model as one sequential stream, so a slice would cost the whole model; use "
                           "--rng philox");
    return NNINIT_OK;
}

static nninit_status precheck(const nninit_model *m, int torch, nninit_dtype gen, const nninit_rng *rng,
                              nninit_err *err);

static nninit_status job_new(const nninit_model *m, const char *path, const nninit_model_opts *opts, int sequential_ok,
                             nninit_model_job **out, nninit_err *err)
{
    *out = NULL;
    if (!m || !path)
        return nninit__err(err, NNINIT_EMISUSE, "nninit_model_write: model and path must not be NULL");
    nninit_model_opts o = opts ? *opts : nninit_model_opts_default();
    nninit_status s = check_opts(&o, err);
    if (s)
        return s;
    nninit_model_job *job = calloc(1, sizeof *job);
    if (!job)
        return nninit__err(err, NNINIT_ENOMEM, "out of memory");
    job->m = m;
    job->o = o;
    job->gen = o.dtype == NNINIT_FD_F64 ? NNINIT_F64 : NNINIT_F32;
    job->torch = o.rng != NNINIT_RNG_PHILOX;
    size_t gs = nninit_dtype_size(job->gen);
    size_t n_live = nninit_model_count(m);
    job->n = n_live;
    job->path = nninit__strdup(path);
    job->t = nninit__calloc_array(n_live ? n_live : 1, sizeof *job->t);
    job->desc = nninit__calloc_array(n_live ? n_live : 1, sizeof *job->desc);
    if (!job->path || !job->t || !job->desc) {
        s = nninit__err(err, NNINIT_ENOMEM, "out of memory");
        goto fail;
    }
    job->chunk = o.chunk_elems > 0 ? o.chunk_elems : CHUNK_ELEMS;
    while (o.memory_limit && job->chunk > 4096 && (uint64_t)job->chunk * 16 > o.memory_limit)
        job->chunk /= 2; /* a generated and a converted chunk, float64 at most, within a quarter of the limit */
    int layouts_seen = 0;
    nninit_layout common = NNINIT_LAYOUT_KERAS;
    for (size_t i = 0, k = 0; i < m->n; i++) {
        const nninit__mtensor *e = &m->t[i];
        uint64_t numel, nb;
        if ((s = nninit__tensor_bytes(e->name ? e->name : "tensor", &e->shape, NNINIT_FD_F64, &numel, &nb, err)))
            goto fail;
        if (!e->name)
            continue;
        jtensor *jt = &job->t[k];
        nninit_tensor_desc *d = &job->desc[k];
        int h5 = o.write.format == NNINIT_FORMAT_WEIGHTS_H5;
        if (h5 && !e->store_path) {
            s = nninit__err(err, NNINIT_EINVAL, "%s: .weights.h5 is the layout of Keras' model.load_weights; %s",
                            path, strcmp(m->source, "keras") ? "this model is not a Keras model (write safetensors "
                            "or npz)" : "nninit does not know where Keras stores this model's variables");
            if (!strcmp(m->source, "keras") && err)
                snprintf(err->msg + strlen(err->msg), sizeof err->msg - strlen(err->msg), " (first: '%.100s')",
                         e->name);
            goto fail;
        }
        jt->e = e;
        d->name = h5 ? e->store_path : e->name; /* Keras' store path; "" for a variable Keras does not store */
        d->shape = e->shape;
        d->dtype = e->is_int64 ? NNINIT_FD_I64 : o.dtype;
        if (o.slice_count > 1 && e->shape.ndim > o.slice_dim) {
            jt->sliced = 1;
            jt->dim = o.slice_dim;
            nninit_slice_bounds(e->shape.dim[o.slice_dim], o.slice_index, o.slice_count, &jt->start, &jt->len, NULL);
            d->shape.dim[o.slice_dim] = jt->len;
        }
        if ((s = nninit__tensor_bytes(e->name, &d->shape, d->dtype, &numel, &jt->nbytes, err)))
            goto fail;
        jt->numel = (int64_t)numel;
        jt->whole = !e->is_int64 && structured(e, job->torch);
        if (jt->whole && o.memory_limit && whole_need(jt, gs) > o.memory_limit) {
            char need[32], lim[32];
            s = nninit__err(err, NNINIT_ENOMEM, "tensor '%.200s' (%s) must be generated whole and needs about %s of "
                            "memory, above the limit of %s; raise the limit or give it an element-wise initializer",
                            e->name, e->spec, nninit__format_bytes(whole_need(jt, gs), need, sizeof need),
                            nninit__format_bytes(o.memory_limit, lim, sizeof lim));
            goto fail;
        }
        job->total += jt->nbytes;
        if (!e->is_int64) {
            if (layouts_seen && common != e->layout)
                layouts_seen = 2;
            else if (!layouts_seen)
                layouts_seen = 1;
            common = e->layout;
        }
        k++;
    }
    /* the units: whole tensors one each, others in chunks of job->chunk
     * elements; torch: one per tensor (one process draws them all in order) */
    size_t cap = 0;
    for (size_t k = 0; k < n_live; k++) {
        jtensor *jt = &job->t[k];
        uint64_t es = jt->numel ? jt->nbytes / (uint64_t)jt->numel : 1;
        uint64_t step = jt->whole || job->torch ? (jt->nbytes ? jt->nbytes : 1) : (uint64_t)job->chunk * es;
        uint64_t parts = jt->nbytes ? (jt->nbytes + step - 1) / step : 1;
        cap += (size_t)parts;
    }
    job->u = nninit__calloc_array(cap ? cap : 1, sizeof *job->u);
    job->crc = nninit__calloc_array(cap ? cap : 1, sizeof *job->crc);
    if (!job->u || !job->crc) {
        s = nninit__err(err, NNINIT_ENOMEM, "out of memory for %zu work units", cap);
        goto fail;
    }
    for (size_t k = 0; k < n_live; k++) {
        jtensor *jt = &job->t[k];
        uint64_t es = jt->numel ? jt->nbytes / (uint64_t)jt->numel : 1;
        uint64_t step = jt->whole || job->torch ? (jt->nbytes ? jt->nbytes : 1) : (uint64_t)job->chunk * es;
        uint64_t b = 0;
        do {
            junit *u = &job->u[job->n_units++];
            u->tensor = k;
            u->begin = b;
            u->end = b + step < jt->nbytes ? b + step : jt->nbytes;
            b = u->end;
        } while (b < jt->nbytes);
    }
    if (!job->o.write.metadata)
        set_metadata(job, layouts_seen, common);
    if ((s = nninit_rng_new(o.rng, o.seed, &job->rng, err)) || (s = precheck(m, job->torch, job->gen, job->rng, err)))
        goto fail;
    s = nninit__plan_new(path, job->desc, n_live, &job->o.write, &job->plan, err);
    if (s == NNINIT_EUNSUPPORTED && sequential_ok) {
        if (err)
            memset(err, 0, sizeof *err);
        s = NNINIT_OK;
    }
    if (s)
        goto fail;
    *out = job;
    return NNINIT_OK;
fail:
    nninit_model_job_free(job);
    return s;
}

nninit_status nninit_model_job_new(const nninit_model *m, const char *path, const nninit_model_opts *opts,
                                   nninit_model_job **out, nninit_err *err)
{
    if (!out)
        return nninit__err(err, NNINIT_EMISUSE, "nninit_model_job_new: out must not be NULL");
    return job_new(m, path, opts, 0, out, err);
}

size_t nninit_model_job_units(const nninit_model_job *job) { return job ? job->n_units : 0; }
uint64_t nninit_model_job_bytes(const nninit_model_job *job) { return job && job->plan ? nninit__plan_bytes(job->plan) : 0; }
uint32_t *nninit_model_job_checksums(nninit_model_job *job) { return job ? job->crc : NULL; }

void nninit_model_job_share(const nninit_model_job *job, int part, int n_parts, size_t *begin, size_t *end)
{
    *begin = *end = 0;
    if (!job || n_parts < 1 || part < 0 || part >= n_parts)
        return;
    if (job->torch || job->total == 0) { /* one sequential stream: the first part does it all */
        *end = part == 0 ? job->n_units : 0;
        return;
    }
    /* unit u goes to the part its first byte falls in: contiguous, byte-balanced */
    size_t b = job->n_units, e = job->n_units;
    uint64_t before = 0;
    for (size_t u = 0; u < job->n_units; u++) {
        /* the same arithmetic in every process, monotone in `before` */
        double owner = floor((double)before * n_parts / (double)job->total);
        if (owner >= part && b == job->n_units)
            b = u;
        if (owner >= part + 1) {
            e = u;
            break;
        }
        before += job->u[u].end - job->u[u].begin;
    }
    *begin = b;
    *end = e < b ? b : e;
}

nninit_status nninit_model_job_create(nninit_model_job *job, char **handle, nninit_err *err)
{
    if (!job || !job->plan)
        return nninit__err(err, NNINIT_EMISUSE, "nninit_model_job_create: no job");
    return nninit__plan_create(job->plan, handle, err);
}

nninit_status nninit_model_job_attach(nninit_model_job *job, const char *handle, nninit_err *err)
{
    if (!job || !job->plan)
        return nninit__err(err, NNINIT_EMISUSE, "nninit_model_job_attach: no job");
    return nninit__plan_attach(job->plan, handle, err);
}

static nninit_status named(nninit_status s, const nninit__mtensor *e, nninit_err *err)
{
    if (s != NNINIT_OK && err && strncmp(err->msg, "tensor '", 8)) {
        char what[NNINIT_ERR_MSG_MAX];
        snprintf(what, sizeof what, "%s", err->msg);
        /* a phantom (a construction draw the module overwrites) has no name */
        snprintf(err->msg, sizeof err->msg, "tensor '%.200s': %.1800s", e->name ? e->name : "(construction draw)",
                 what);
    }
    return s;
}

/* Elements [fb, fe) of the full tensor e (Philox), with an Embedding
 * padding row zeroed where it falls inside. */
static nninit_status fill_run(nninit_model_job *job, const nninit__mtensor *e, int64_t fb, int64_t fe, void *out,
                              nninit_err *err)
{
    nninit_fill_opts fo = nninit_fill_opts_default();
    fo.layout = e->layout;
    fo.dtype = job->gen;
    fo.threads = job->o.threads;
    fo.stream = nninit_stream_from_name(nninit__model_stream_name(job->m, e));
    nninit_status s = named(nninit_fill_range(&e->init, &e->shape, &fo, job->rng, fb, fe, out, err), e, err);
    if (!s && e->zero_row >= 0 && e->shape.ndim >= 1) {
        int64_t row = 1;
        for (int d = 1; d < e->shape.ndim; d++)
            row *= e->shape.dim[d];
        int64_t zb = e->zero_row * row, ze = zb + row;
        zb = zb > fb ? zb : fb;
        ze = ze < fe ? ze : fe;
        size_t gs = nninit_dtype_size(job->gen);
        if (zb < ze)
            memset((unsigned char *)out + (size_t)(zb - fb) * gs, 0, (size_t)(ze - zb) * gs);
    }
    return s;
}

/* The runs of the whole tensor that file elements [b, e) are (slice.c). */
typedef struct run_ctx {
    nninit_model_job *job;
    const jtensor *jt;
    const unsigned char *whole; /* generated whole, or NULL: drawn per run */
    unsigned char *out;
} run_ctx;

static nninit_status one_run(void *user, int64_t fb, int64_t fe, int64_t at, nninit_err *err)
{
    run_ctx *c = user;
    size_t gs = nninit_dtype_size(c->job->gen);
    if (c->whole) {
        memcpy(c->out + (size_t)at * gs, c->whole + (size_t)fb * gs, (size_t)(fe - fb) * gs);
        return NNINIT_OK;
    }
    return fill_run(c->job, c->jt->e, fb, fe, c->out + (size_t)at * gs, err);
}

/* File elements [b, e) of tensor jt in the generation dtype into gout;
 * `whole` (numel of the full tensor, or NULL) holds it when generated whole. */
static nninit_status gen_elems(nninit_model_job *job, const jtensor *jt, const void *whole, int64_t b, int64_t e,
                               void *gout, nninit_err *err)
{
    run_ctx c = {job, jt, whole, gout};
    if (!jt->sliced)
        return one_run(&c, b, e, 0, err);
    return nninit__slice_runs(&jt->e->shape, jt->dim, jt->start, jt->len, b, e, one_run, &c, err);
}

/* Bytes [b, e) of file tensor k (little-endian) to `sink`: into the plan at
 * their offset, or into memory (the file-order writer), and into *crc. */
typedef struct sink {
    nninit__plan *plan;    /* NULL: copy into mem */
    unsigned char *mem;    /* byte `base` of the tensor goes to mem[0] */
    uint32_t crc;
    uint64_t base;
} sink;

static nninit_status emit(nninit_model_job *job, size_t k, uint64_t off, void *bytes, size_t len, sink *out,
                          nninit_err *err)
{
    const jtensor *jt = &job->t[k];
    int bits = nninit_file_dtype_bits(job->desc[k].dtype);
    if (host_big_endian() && bits > 8)
        nninit__swap_bytes(bytes, len * 8 / (size_t)bits, (size_t)bits / 8);
    if (!out->plan) {
        memcpy(out->mem + (off - out->base), bytes, len);
        return NNINIT_OK;
    }
    if (nninit__plan_needs_crc(out->plan)) /* npz only: safetensors has no checksum to spend a pass on */
        out->crc = nninit__crc32(out->crc, bytes, len);
    return named(nninit__plan_pwrite(out->plan, k, off, bytes, len, err), jt->e, err);
}

static nninit_status chunk_buffers(nninit_model_job *job, nninit_err *err)
{
    if (!job->gbuf) {
        job->gbuf = nninit__malloc_array((size_t)job->chunk, 8);
        job->fbuf = nninit__malloc_array((size_t)job->chunk, 8);
        if (!job->gbuf || !job->fbuf)
            return nninit__err(err, NNINIT_ENOMEM, "out of memory for a chunk of %" PRId64 " elements", job->chunk);
    }
    return NNINIT_OK;
}

/* File elements [f, f + n) of tensor k, generated into job->gbuf, in the
 * file dtype to `out`. */
static nninit_status put_chunk(nninit_model_job *job, size_t k, int64_t f, int64_t n, sink *out, nninit_err *err)
{
    const jtensor *jt = &job->t[k];
    uint64_t es = jt->nbytes / (uint64_t)jt->numel;
    nninit_file_dtype gd = nninit_file_dtype_of(job->gen);
    void *bytes = job->gbuf;
    if (gd != job->o.dtype) { /* a value beyond float16's range is refused, not written as inf */
        nninit_status s = nninit_convert_finite(gd, job->gbuf, job->o.dtype, job->fbuf, (size_t)n, err);
        if (s)
            return named(s, jt->e, err);
        bytes = job->fbuf;
    }
    return emit(job, k, (uint64_t)f * es, bytes, (size_t)((uint64_t)n * es), out, err);
}

/* Bytes [b, e) of file tensor k, through chunks of job->chunk elements;
 * `whole` as in gen_elems. */
static nninit_status produce(nninit_model_job *job, size_t k, const void *whole, uint64_t b, uint64_t e, sink *out,
                             nninit_err *err)
{
    const jtensor *jt = &job->t[k];
    if (jt->nbytes == 0 || b == e)
        return NNINIT_OK;
    uint64_t es = jt->nbytes / (uint64_t)jt->numel;
    nninit_status s = chunk_buffers(job, err);
    for (int64_t f = (int64_t)(b / es), fe = (int64_t)(e / es); f < fe && !s;) {
        int64_t n = fe - f < job->chunk ? fe - f : job->chunk;
        if (jt->e->is_int64) {
            memset(job->fbuf, 0, (size_t)n * 8);
            s = emit(job, k, (uint64_t)f * es, job->fbuf, (size_t)n * 8, out, err);
        } else if (!(s = gen_elems(job, jt, whole, f, f + n, job->gbuf, err))) {
            s = put_chunk(job, k, f, n, out, err);
        }
        f += n;
    }
    return s;
}

/* Tensor k generated whole (structured initializer, Philox) into a new
 * *whole (free it). */
static nninit_status gen_whole(nninit_model_job *job, size_t k, void **whole, nninit_err *err)
{
    const jtensor *jt = &job->t[k];
    size_t gs = nninit_dtype_size(job->gen);
    *whole = nninit__malloc_array((size_t)nninit__mtensor_numel(jt->e) + 1, gs);
    if (!*whole) {
        char sz[32];
        return nninit__err(err, NNINIT_ENOMEM, "tensor '%.200s': out of memory for its %s, generated whole",
                           jt->e->name,
                           nninit__format_bytes((uint64_t)nninit__mtensor_numel(jt->e) * gs, sz, sizeof sz));
    }
    return nninit__model_fill_one(jt->e, nninit__model_stream_name(job->m, jt->e), "", job->gen, job->o.threads,
                                  job->rng, *whole, err);
}

/* A tensor generated whole (structured initializer), then written. */
static nninit_status produce_whole(nninit_model_job *job, size_t k, sink *out, nninit_err *err)
{
    if (nninit__mtensor_numel(job->t[k].e) == 0)
        return NNINIT_OK;
    void *whole = NULL;
    nninit_status s = gen_whole(job, k, &whole, err);
    if (!s)
        s = produce(job, k, whole, 0, job->t[k].nbytes, out, err);
    free(whole);
    return s;
}

static void report(nninit_model_job *job, uint64_t done, uint64_t total)
{
    if (job->o.progress)
        job->o.progress(job->o.progress_user, done, total);
}

/* One model tensor drawn from a torch generator in pieces: its parts (one,
 * or a Keras LSTM's init((u,)), ones((u,)), init((2u,)) with
 * unit_forget_bias, as nninit__model_fill_one draws them), each an
 * nninit__draw, then its padding row zeroed where a piece covers it. */
typedef struct tdraw {
    const nninit__mtensor *e;
    nninit_fill_opts fo;
    nninit_init ones;
    nninit_shape shape[3];
    const nninit_init *init[3];
    int parts, part;
    nninit_rng *rng;
    nninit__draw d;
    int64_t pos;
} tdraw;

static nninit_status tdraw_part(tdraw *t, nninit_err *err)
{
    nninit__draw_end(&t->d);
    return named(nninit__draw_begin(&t->d, t->init[t->part], &t->shape[t->part], &t->fo, t->rng, NULL, err), t->e,
                 err);
}

/* t's parts for tensor e, nothing begun yet. */
static void tdraw_setup(tdraw *t, const nninit__mtensor *e, nninit_dtype gen, nninit_rng *rng)
{
    memset(t, 0, sizeof *t);
    t->e = e;
    t->rng = rng;
    t->fo = nninit_fill_opts_default();
    t->fo.layout = e->layout;
    t->fo.dtype = gen;
    if (e->forget_units > 0) {
        int64_t u = e->forget_units;
        t->ones = nninit_init_default(NNINIT_ONES);
        t->shape[0] = (nninit_shape){1, {u}};
        t->shape[1] = (nninit_shape){1, {u}};
        t->shape[2] = (nninit_shape){1, {2 * u}};
        t->init[0] = &e->init;
        t->init[1] = &t->ones;
        t->init[2] = &e->init;
        t->parts = 3;
    } else {
        t->shape[0] = e->shape;
        t->init[0] = &e->init;
        t->parts = 1;
    }
}

static nninit_status tdraw_begin(tdraw *t, const nninit__mtensor *e, nninit_dtype gen, nninit_rng *rng,
                                 nninit_err *err)
{
    tdraw_setup(t, e, gen, rng);
    return tdraw_part(t, err);
}

/* Every tensor a write draws, checked before any file exists (a draw that
 * fails midway leaves nothing behind, but only after the temporaries were
 * made and, for a large model, minutes of work): each part's initializer on
 * its shape and layout (nninit_resolve: a fan rule on 1 dimension, dirac_'s
 * groups), its values finite in the generation dtype, and under a torch
 * generator what PyTorch cannot draw or nninit cannot replay (bounds
 * uniform_ rejects, an initializer torch.nn.init lacks, PyTorch >= 2.12's
 * trunc_normal_). The checks are the draws' own: a zero-length
 * nninit_fill_range on a Philox generator, then (torch) a draw begun and
 * ended on a copy of the generator. orthogonal_ and sparse_, whose start
 * draws the whole matrix, get the first check only: what they can still
 * lack is memory (opts->memory_limit's check). Philox draws no phantom and
 * no tensor of zero elements; a torch generator begins a draw for both. */
static nninit_status precheck(const nninit_model *m, int torch, nninit_dtype gen, const nninit_rng *rng,
                              nninit_err *err)
{
    nninit_rng *philox = NULL;
    nninit_status s = torch ? nninit_rng_new(NNINIT_RNG_PHILOX, 0, &philox, err) : NNINIT_OK;
    for (size_t i = 0; i < m->n && !s; i++) {
        const nninit__mtensor *e = &m->t[i];
        if (e->is_int64 || (!torch && (!e->name || nninit__mtensor_numel(e) == 0)))
            continue; /* Philox draws neither phantoms nor empty tensors (produce: nothing to write) */
        tdraw t;
        nninit_rng copy = *rng;
        tdraw_setup(&t, e, gen, &copy);
        for (int p = 0; p < t.parts && !s; p++) {
            double none;
            nninit_prim prim;
            s = nninit_fill_range(t.init[p], &t.shape[p], &t.fo, philox ? philox : rng, 0, 0, &none, err);
            if (!s && torch && !(s = nninit_resolve(t.init[p], &t.shape[p], t.fo.layout, &prim, err)) &&
                prim.kind != NNINIT_PRIM_ORTHOGONAL && prim.kind != NNINIT_PRIM_SPARSE) {
                s = nninit__draw_begin(&t.d, t.init[p], &t.shape[p], &t.fo, &copy, NULL, err);
                nninit__draw_end(&t.d);
            }
        }
        if (s && err && strncmp(err->msg, "tensor '", 8)) { /* "tensor 'NAME': INIT: what is wrong" */
            const char *kind = nninit_init_kind_name(e->init.kind);
            size_t k = strlen(kind);
            if (strncmp(err->msg, kind, k) || err->msg[k] != ':') {
                char what[NNINIT_ERR_MSG_MAX];
                snprintf(what, sizeof what, "%s", err->msg);
                snprintf(err->msg, sizeof err->msg, "%.100s: %.1800s", kind, what);
            }
        }
        s = named(s, e, err);
    }
    nninit_rng_free(philox);
    return s;
}

nninit_status nninit_model_check(const nninit_model *m, const nninit_model_opts *opts, nninit_err *err)
{
    if (!m)
        return nninit__err(err, NNINIT_EMISUSE, "nninit_model_check: model must not be NULL");
    nninit_model_opts o = opts ? *opts : nninit_model_opts_default();
    nninit_rng *rng = NULL;
    nninit_status s = check_opts(&o, err);
    if (!s)
        s = nninit_rng_new(o.rng, o.seed, &rng, err);
    if (!s)
        s = precheck(m, o.rng != NNINIT_RNG_PHILOX, o.dtype == NNINIT_FD_F64 ? NNINIT_F64 : NNINIT_F32, rng, err);
    nninit_rng_free(rng);
    return s;
}

/* The next n elements of the tensor into out (generation dtype). */
static nninit_status tdraw_next(tdraw *t, void *out, int64_t n, nninit_err *err)
{
    size_t gs = nninit_dtype_size(t->fo.dtype);
    int64_t b = t->pos;
    nninit_status s = NNINIT_OK;
    for (int64_t done = 0; done < n && !s;) {
        if (t->d.pos == t->d.numel) {
            if (++t->part >= t->parts)
                return named(nninit__err(err, NNINIT_EMISUSE, "drawn past its end"), t->e, err);
            if ((s = tdraw_part(t, err)))
                break;
            continue;
        }
        int64_t k = n - done < t->d.numel - t->d.pos ? n - done : t->d.numel - t->d.pos;
        s = named(nninit__draw_next(&t->d, (unsigned char *)out + (size_t)done * gs, k, err), t->e, err);
        done += k;
    }
    t->pos += n;
    const nninit__mtensor *e = t->e;
    if (!s && e->zero_row >= 0 && e->shape.ndim >= 1) {
        int64_t row = 1;
        for (int d = 1; d < e->shape.ndim; d++)
            row *= e->shape.dim[d];
        int64_t zb = e->zero_row * row > b ? e->zero_row * row : b;
        int64_t ze = (e->zero_row + 1) * row < t->pos ? (e->zero_row + 1) * row : t->pos;
        if (zb < ze)
            memset((unsigned char *)out + (size_t)(zb - b) * gs, 0, (size_t)(ze - zb) * gs);
    }
    return s;
}

/* Tensor e drawn on rng chunk by chunk, into file tensor k (none: drawn
 * and dropped, as PyTorch's construction draws that a module overwrites). */
static nninit_status torch_tensor(nninit_model_job *job, const nninit__mtensor *e, nninit_rng *rng, size_t k,
                                  sink *out, uint64_t *done, nninit_err *err)
{
    tdraw t;
    nninit_status s = chunk_buffers(job, err);
    if (!s)
        s = tdraw_begin(&t, e, job->gen, rng, err);
    int64_t numel = nninit__mtensor_numel(e);
    for (int64_t f = 0; f < numel && !s;) {
        int64_t n = numel - f < job->chunk ? numel - f : job->chunk;
        if (!(s = tdraw_next(&t, job->gbuf, n, err)) && k != (size_t)-1) {
            s = put_chunk(job, k, f, n, out, err);
            *done += (uint64_t)n * (job->t[k].nbytes / (uint64_t)job->t[k].numel);
            report(job, *done, job->total);
        }
        f += n;
    }
    nninit__draw_end(&t.d);
    return s;
}

/* torch: every tensor in construction order (phantoms drawn and dropped),
 * chunk by chunk, written at its offset. A deep copy (no draws of its own)
 * gets its original's values by drawing the original again from the
 * generator state saved before it. */
static nninit_status run_torch(nninit_model_job *job, nninit_err *err)
{
    const nninit_model *m = job->m;
    size_t nt = m->n ? m->n : 1;
    const nninit__mtensor **order = nninit__malloc_array(nt, sizeof *order);
    size_t *file_index = nninit__malloc_array(nt, sizeof *file_index);
    size_t *unit_of = nninit__malloc_array(job->n ? job->n : 1, sizeof *unit_of);
    nninit_rng **saved = nninit__calloc_array(nt, sizeof *saved);
    int *copied = nninit__calloc_array(nt, sizeof *copied);
    nninit_status s = NNINIT_OK;
    if (!order || !file_index || !unit_of || !saved || !copied) {
        s = nninit__err(err, NNINIT_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0, k = 0; i < m->n; i++) {
        order[i] = &m->t[i];
        file_index[i] = m->t[i].name ? k++ : (size_t)-1;
        if (m->t[i].copy_of >= 0)
            copied[m->t[i].copy_of] = 1;
    }
    for (size_t u = 0; u < job->n_units; u++) /* one unit per tensor */
        unit_of[job->u[u].tensor] = u;
    qsort(order, m->n, sizeof *order, nninit__cmp_draw);
    uint64_t done = 0;
    for (int pass = 0; pass < 2 && !s; pass++) /* the draws, then the copies */
        for (size_t i = 0; i < m->n && !s; i++) {
            const nninit__mtensor *e = order[i];
            size_t at = (size_t)(e - m->t), k = file_index[at];
            int copy = e->copy_of >= 0 && !e->is_int64;
            if (copy != pass || (copy && k == (size_t)-1))
                continue;
            sink out = {job->plan, NULL, 0, 0};
            if (copy) {
                if (!saved[e->copy_of]) {
                    s = nninit__err(err, NNINIT_EINVAL, "tensor '%s': a copy of a tensor that draws nothing",
                                    e->name);
                    break;
                }
                nninit_rng replay = *saved[e->copy_of];
                s = torch_tensor(job, &m->t[e->copy_of], &replay, k, &out, &done, err);
            } else if (e->is_int64) {
                if (k != (size_t)-1 && !(s = produce(job, k, NULL, 0, job->t[k].nbytes, &out, err)))
                    report(job, done += job->t[k].nbytes, job->total);
            } else {
                if (copied[at]) {
                    if (!(saved[at] = malloc(sizeof *saved[at]))) {
                        s = nninit__err(err, NNINIT_ENOMEM, "out of memory");
                        break;
                    }
                    *saved[at] = *job->rng;
                }
                s = torch_tensor(job, e, job->rng, k, &out, &done, err);
            }
            if (k != (size_t)-1)
                job->crc[unit_of[k]] = out.crc;
        }
done:
    for (size_t i = 0; saved && i < m->n; i++)
        free(saved[i]);
    free(saved);
    free(copied);
    free(order);
    free(file_index);
    free(unit_of);
    return s;
}

nninit_status nninit_model_job_run(nninit_model_job *job, size_t begin, size_t end, nninit_err *err)
{
    if (!job || !job->plan || begin > end || end > job->n_units)
        return nninit__err(err, NNINIT_EMISUSE, "nninit_model_job_run: units [%zu, %zu) outside the job", begin, end);
    if (job->ran)
        return nninit__err(err, NNINIT_EMISUSE, "nninit_model_job_run: a job runs once");
    job->ran = 1;
    if (job->torch) {
        if (begin == end)
            return NNINIT_OK;
        if (begin != 0 || end != job->n_units)
            return nninit__err(err, NNINIT_EUNSUPPORTED, "a torch generator is one sequential stream: its job runs "
                               "whole in one process");
        return run_torch(job, err);
    }
    uint64_t total = 0, done = 0;
    for (size_t u = begin; u < end; u++)
        total += job->u[u].end - job->u[u].begin;
    nninit_status s = NNINIT_OK;
    for (size_t u = begin; u < end && !s; u++) {
        const junit *un = &job->u[u];
        sink out = {job->plan, NULL, 0, 0};
        s = job->t[un->tensor].whole ? produce_whole(job, un->tensor, &out, err)
                                     : produce(job, un->tensor, NULL, un->begin, un->end, &out, err);
        job->crc[u] = out.crc;
        done += un->end - un->begin;
        if (!s)
            report(job, done, total);
    }
    return s;
}

nninit_status nninit_model_job_finish(nninit_model_job *job, const uint32_t *checksums, nninit_err *err)
{
    if (!job || !job->plan)
        return nninit__err(err, NNINIT_EMISUSE, "nninit_model_job_finish: no job");
    uint32_t *data_crc = NULL;
    if (nninit__plan_needs_crc(job->plan)) {
        const uint32_t *c = checksums ? checksums : job->crc;
        data_crc = nninit__calloc_array(job->n ? job->n : 1, sizeof *data_crc);
        if (!data_crc)
            return nninit__err(err, NNINIT_ENOMEM, "out of memory");
        for (size_t u = 0; u < job->n_units; u++) /* units are in tensor order, each tensor's in byte order */
            data_crc[job->u[u].tensor] =
                nninit__crc32_combine(data_crc[job->u[u].tensor], c[u], job->u[u].end - job->u[u].begin);
    }
    nninit_status s = nninit__plan_finish(job->plan, data_crc, err);
    free(data_crc);
    return s;
}

/* ---- the file-order writer (npz-deflated, npy-dir, streams) ---- */

/* A torch generator serving tensors in file order, which is not PyTorch's
 * construction order: the generator runs forward through the construction
 * order, saving its state (5 KB) before each tensor whose values are wanted
 * and drawing and dropping what the writer does not ask for yet; a tensor
 * asked for after the generator passed it is drawn again from its saved
 * state. When the file order is the construction order nothing is drawn
 * twice; at worst every tensor is drawn twice. */
typedef struct torch_seq {
    const nninit__mtensor **order; /* construction order */
    size_t next;                   /* order[next] is the next tensor the generator draws */
    nninit_rng **saved;            /* by model index: the generator before its draws */
    int *wanted;                   /* by model index: in the file or copied */
    size_t file_k;                 /* file tensor being delivered (SIZE_MAX: none) */
    nninit_rng replay;
    tdraw t;
} torch_seq;

static void torch_seq_free(torch_seq *ts, size_t n_model)
{
    if (ts->file_k != SIZE_MAX)
        nninit__draw_end(&ts->t.d);
    for (size_t i = 0; ts->saved && i < n_model; i++)
        free(ts->saved[i]);
    free(ts->saved);
    free(ts->order);
    free(ts->wanted);
}

static nninit_status torch_seq_init(torch_seq *ts, nninit_model_job *job, nninit_err *err)
{
    const nninit_model *m = job->m;
    size_t nt = m->n ? m->n : 1;
    memset(ts, 0, sizeof *ts);
    ts->file_k = SIZE_MAX;
    ts->order = nninit__malloc_array(nt, sizeof *ts->order);
    ts->saved = nninit__calloc_array(nt, sizeof *ts->saved);
    ts->wanted = nninit__calloc_array(nt, sizeof *ts->wanted);
    if (!ts->order || !ts->saved || !ts->wanted)
        return nninit__err(err, NNINIT_ENOMEM, "out of memory");
    for (size_t i = 0; i < m->n; i++) {
        ts->order[i] = &m->t[i];
        ts->wanted[i] |= m->t[i].name != NULL;
        if (m->t[i].copy_of >= 0)
            ts->wanted[m->t[i].copy_of] = 1;
    }
    qsort(ts->order, m->n, sizeof *ts->order, nninit__cmp_draw);
    return NNINIT_OK;
}

/* The generator positioned at the start of model tensor `at`'s draws. */
static nninit_status torch_seq_seek(torch_seq *ts, nninit_model_job *job, size_t at, nninit_rng **rng,
                                    nninit_err *err)
{
    const nninit_model *m = job->m;
    if (ts->saved[at]) {
        ts->replay = *ts->saved[at];
        *rng = &ts->replay;
        return NNINIT_OK;
    }
    while (ts->next < m->n) {
        const nninit__mtensor *e = ts->order[ts->next++];
        size_t i = (size_t)(e - m->t);
        if (e->is_int64 || e->copy_of >= 0) /* no draws of its own */
            continue;
        if (ts->wanted[i]) {
            if (!(ts->saved[i] = malloc(sizeof *ts->saved[i])))
                return nninit__err(err, NNINIT_ENOMEM, "out of memory");
            *ts->saved[i] = *job->rng;
        }
        if (i == at) { /* drawn now, on the generator itself */
            *rng = job->rng;
            return NNINIT_OK;
        }
        uint64_t ignored = 0;
        sink none = {NULL, NULL, 0, 0};
        nninit_status s = torch_tensor(job, e, job->rng, (size_t)-1, &none, &ignored, err);
        if (s)
            return s;
    }
    return nninit__err(err, NNINIT_EINVAL, "tensor '%s': not drawn by the model (a copy of a tensor that draws "
                       "nothing)", m->t[at].name ? m->t[at].name : "");
}

typedef struct seq_ctx {
    nninit_model_job *job;
    const size_t *written; /* file tensor j is job tensor written[j] (NULL: all, in order) */
    size_t whole_k;        /* Philox: tensor k generated whole, held in `whole` while written */
    void *whole;
    torch_seq *ts;         /* torch generators */
    uint64_t done;         /* bytes delivered (progress) */
} seq_ctx;

/* Bytes [off, off + len) of file tensor k, little-endian: the writers ask
 * for each tensor's bytes in order. */
static nninit_status seq_piece_gen(seq_ctx *c, size_t k, uint64_t off, void *out, size_t len, nninit_err *err);

static nninit_status seq_piece(void *user, size_t k, uint64_t off, void *out, size_t len, nninit_err *err)
{
    seq_ctx *c = user;
    nninit_status s = seq_piece_gen(c, k, off, out, len, err);
    if (!s)
        report(c->job, c->done += len, c->job->total);
    return s;
}

static nninit_status seq_piece_gen(seq_ctx *c, size_t k, uint64_t off, void *out, size_t len, nninit_err *err)
{
    nninit_model_job *job = c->job;
    if (c->written)
        k = c->written[k];
    const jtensor *jt = &job->t[k];
    sink s_out = {NULL, out, 0, off};
    nninit_status s = NNINIT_OK;
    int last = off + len == jt->nbytes;
    if (job->torch && !jt->e->is_int64) {
        torch_seq *ts = c->ts;
        uint64_t es = jt->nbytes / (uint64_t)jt->numel;
        if (ts->file_k != k) {
            const nninit_model *m = job->m;
            size_t at = jt->e->copy_of >= 0 ? (size_t)jt->e->copy_of : (size_t)(jt->e - m->t);
            nninit_rng *rng = NULL;
            if (ts->file_k != SIZE_MAX)
                nninit__draw_end(&ts->t.d);
            ts->file_k = SIZE_MAX;
            if ((s = chunk_buffers(job, err)) || (s = torch_seq_seek(ts, job, at, &rng, err)) ||
                (s = tdraw_begin(&ts->t, &m->t[at], job->gen, rng, err)))
                return s;
            ts->file_k = k;
        }
        for (int64_t f = (int64_t)(off / es), fe = (int64_t)((off + len) / es); f < fe && !s;) {
            int64_t n = fe - f < job->chunk ? fe - f : job->chunk;
            if (!(s = tdraw_next(&ts->t, job->gbuf, n, err)))
                s = put_chunk(job, k, f, n, &s_out, err);
            f += n;
        }
        if (last || s) {
            nninit__draw_end(&ts->t.d);
            ts->file_k = SIZE_MAX;
        }
        return s;
    }
    if (jt->whole && !jt->e->is_int64) {
        if (c->whole_k != k) {
            free(c->whole);
            c->whole = NULL;
            c->whole_k = SIZE_MAX;
            if ((s = gen_whole(job, k, &c->whole, err)))
                return s;
            c->whole_k = k;
        }
        s = produce(job, k, c->whole, off, off + len, &s_out, err);
        if (last || s) {
            free(c->whole);
            c->whole = NULL;
            c->whole_k = SIZE_MAX;
        }
        return s;
    }
    return produce(job, k, NULL, off, off + len, &s_out, err);
}

static nninit_status write_in_file_order(nninit_model_job *job, nninit_err *err)
{
    seq_ctx c = {job, NULL, SIZE_MAX, NULL, NULL, 0};
    torch_seq ts;
    nninit_status s = NNINIT_OK;
    if (job->torch) {
        c.ts = &ts;
        s = torch_seq_init(&ts, job, err);
    }
    /* .weights.h5: the variables Keras does not store (LoRA kernels, store path "") stay out */
    nninit_tensor_desc *desc = job->desc;
    size_t *written = NULL, n_write = job->n;
    if (!s && job->o.write.format == NNINIT_FORMAT_WEIGHTS_H5) {
        desc = nninit__calloc_array(job->n ? job->n : 1, sizeof *desc);
        written = nninit__calloc_array(job->n ? job->n : 1, sizeof *written);
        if (!desc || !written)
            s = nninit__err(err, NNINIT_ENOMEM, "out of memory");
        n_write = 0;
        for (size_t k = 0; !s && k < job->n; k++)
            if (job->desc[k].name[0]) {
                desc[n_write] = job->desc[k];
                written[n_write++] = k;
            }
        c.written = written;
    }
    if (!s) {
        nninit__src src = nninit__src_pieces(desc, seq_piece, &c);
        if (job->o.chunk_elems > 0) /* pieces of the chunk's size, in whole 8-byte words */
            src.piece_max = (size_t)(job->chunk < 2 ? 8 : job->chunk * 4 / 8 * 8);
        s = nninit__tensors_write_src(job->path, desc, n_write, &job->o.write, &src, err);
    }
    if (desc != job->desc)
        free(desc);
    free(written);
    free(c.whole);
    if (c.ts)
        torch_seq_free(&ts, job->m->n);
    return s;
}

nninit_status nninit_model_write(const nninit_model *m, const char *path, const nninit_model_opts *opts,
                                 nninit_err *err)
{
    nninit_model_job *job = NULL;
    nninit_status s = job_new(m, path, opts, 1, &job, err);
    if (s)
        return s;
    if (!job->plan)
        s = write_in_file_order(job, err);
    else if (!(s = nninit__plan_create(job->plan, NULL, err)) && !(s = nninit_model_job_run(job, 0, job->n_units, err)))
        s = nninit_model_job_finish(job, NULL, err);
    nninit_model_job_free(job);
    return s;
}
