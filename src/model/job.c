/* Writing a model in bounded memory, alone or shared by several processes:
 * the file layout is fixed first (io/plan.c), then each tensor is generated
 * in chunks (units) and written at its offset. Philox makes every element
 * addressable (nninit_fill_range), so any split of the units gives the same
 * bytes; a torch generator is drawn in PyTorch's construction order, one
 * whole tensor at a time, in one process. Tensor-parallel slices map each
 * chunk of the slice to runs of the whole tensor. */
#include "model/internal.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Elements per chunk: 16 MiB of float32 (32 MiB generated as float64). */
#define CHUNK_ELEMS ((int64_t)1 << 22)

typedef struct jtensor {
    const nninit__mtensor *e;
    int whole;             /* generated at once (structured initializer, torch) */
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

static int structured(const nninit__mtensor *e)
{
    nninit_prim p;
    if (e->forget_units > 0)
        return 1;
    if (nninit_resolve(&e->init, &e->shape, e->layout, &p, NULL) != NNINIT_OK)
        return 1; /* its error is reported when it is drawn, as nninit_fill reports it */
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
    job->chunk = CHUNK_ELEMS;
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
        jt->whole = !e->is_int64 && (job->torch || structured(e));
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
    /* the units: whole tensors one each, others in chunks of job->chunk elements */
    size_t cap = 0;
    for (size_t k = 0; k < n_live; k++) {
        jtensor *jt = &job->t[k];
        uint64_t es = jt->numel ? jt->nbytes / (uint64_t)jt->numel : 1;
        uint64_t step = jt->whole ? (jt->nbytes ? jt->nbytes : 1) : (uint64_t)job->chunk * es;
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
        uint64_t step = jt->whole ? (jt->nbytes ? jt->nbytes : 1) : (uint64_t)job->chunk * es;
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
    if ((s = nninit_rng_new(o.rng, o.seed, &job->rng, err)))
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
        snprintf(err->msg, sizeof err->msg, "tensor '%.200s': %.1800s", e->name, what);
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
    unsigned char *mem;
    uint32_t crc;
} sink;

static nninit_status emit(nninit_model_job *job, size_t k, uint64_t off, void *bytes, size_t len, sink *out,
                          nninit_err *err)
{
    const jtensor *jt = &job->t[k];
    int bits = nninit_file_dtype_bits(job->desc[k].dtype);
    if (host_big_endian() && bits > 8)
        nninit__swap_bytes(bytes, len * 8 / (size_t)bits, (size_t)bits / 8);
    if (!out->plan) {
        memcpy(out->mem + off, bytes, len);
        return NNINIT_OK;
    }
    if (nninit__plan_needs_crc(out->plan)) /* npz only: safetensors has no checksum to spend a pass on */
        out->crc = nninit__crc32(out->crc, bytes, len);
    return named(nninit__plan_pwrite(out->plan, k, off, bytes, len, err), jt->e, err);
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
    nninit_file_dtype gd = nninit_file_dtype_of(job->gen);
    nninit_status s = NNINIT_OK;
    if (!job->gbuf) {
        job->gbuf = nninit__malloc_array((size_t)job->chunk, 8);
        job->fbuf = nninit__malloc_array((size_t)job->chunk, 8);
        if (!job->gbuf || !job->fbuf)
            return nninit__err(err, NNINIT_ENOMEM, "out of memory for a chunk of %" PRId64 " elements", job->chunk);
    }
    for (int64_t f = (int64_t)(b / es), fe = (int64_t)(e / es); f < fe && !s;) {
        int64_t n = fe - f < job->chunk ? fe - f : job->chunk;
        void *bytes;
        if (jt->e->is_int64) {
            memset(job->fbuf, 0, (size_t)n * 8);
            bytes = job->fbuf;
        } else {
            if ((s = gen_elems(job, jt, whole, f, f + n, job->gbuf, err)))
                break;
            bytes = job->gbuf;
            if (gd != job->o.dtype) { /* a value beyond float16's range is refused, not written as inf */
                if ((s = nninit_convert_finite(gd, job->gbuf, job->o.dtype, job->fbuf, (size_t)n, err))) {
                    if (err) {
                        char what[NNINIT_ERR_MSG_MAX];
                        snprintf(what, sizeof what, "%s", err->msg);
                        snprintf(err->msg, sizeof err->msg, "tensor '%.200s': %.1800s", jt->e->name, what);
                    }
                    break;
                }
                bytes = job->fbuf;
            }
        }
        s = emit(job, k, (uint64_t)f * es, bytes, (size_t)((uint64_t)n * es), out, err);
        f += n;
    }
    return s;
}

/* A tensor generated whole (structured initializer), then written. */
static nninit_status produce_whole(nninit_model_job *job, size_t k, sink *out, nninit_err *err)
{
    const jtensor *jt = &job->t[k];
    size_t gs = nninit_dtype_size(job->gen);
    if (nninit__mtensor_numel(jt->e) == 0)
        return NNINIT_OK;
    void *whole = nninit__malloc_array((size_t)nninit__mtensor_numel(jt->e), gs);
    if (!whole) {
        char sz[32];
        return nninit__err(err, NNINIT_ENOMEM, "tensor '%.200s': out of memory for its %s, generated whole",
                           jt->e->name,
                           nninit__format_bytes((uint64_t)nninit__mtensor_numel(jt->e) * gs, sz, sizeof sz));
    }
    nninit_status s = nninit__model_fill_one(jt->e, nninit__model_stream_name(job->m, jt->e), "", job->gen,
                                             job->o.threads, job->rng, whole, err);
    if (!s)
        s = produce(job, k, whole, 0, jt->nbytes, out, err);
    free(whole);
    return s;
}

static void report(nninit_model_job *job, uint64_t done, uint64_t total)
{
    if (job->o.progress)
        job->o.progress(job->o.progress_user, done, total);
}

/* torch: every tensor in construction order (phantoms drawn and dropped),
 * whole, written at its offset; a deep copy (no draws of its own) gets its
 * original's values, held until the end. */
static nninit_status run_torch(nninit_model_job *job, nninit_err *err)
{
    const nninit_model *m = job->m;
    size_t nt = m->n ? m->n : 1;
    const nninit__mtensor **order = nninit__malloc_array(nt, sizeof *order);
    size_t *file_index = nninit__malloc_array(nt, sizeof *file_index);
    size_t *first_unit = nninit__malloc_array(job->n ? job->n : 1, sizeof *first_unit);
    void **held = nninit__calloc_array(nt, sizeof *held);
    int *copied = nninit__calloc_array(nt, sizeof *copied);
    nninit_status s = NNINIT_OK;
    if (!order || !file_index || !first_unit || !held || !copied) {
        s = nninit__err(err, NNINIT_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0, k = 0; i < m->n; i++) {
        order[i] = &m->t[i];
        file_index[i] = m->t[i].name ? k++ : (size_t)-1;
        if (m->t[i].copy_of >= 0)
            copied[m->t[i].copy_of] = 1;
    }
    for (size_t u = job->n_units; u-- > 0;)
        first_unit[job->u[u].tensor] = u;
    qsort(order, m->n, sizeof *order, nninit__cmp_draw);
    uint64_t done = 0;
    size_t gs = nninit_dtype_size(job->gen);
    for (int pass = 0; pass < 2 && !s; pass++) /* the draws, then the copies */
        for (size_t i = 0; i < m->n && !s; i++) {
            const nninit__mtensor *e = order[i];
            size_t at = (size_t)(e - m->t), k = file_index[at];
            int copy = e->copy_of >= 0 && !e->is_int64;
            if (copy != pass)
                continue;
            sink out = {job->plan, NULL, 0};
            void *whole = NULL;
            if (copy) {
                if (k != (size_t)-1)
                    s = produce(job, k, held[e->copy_of], 0, job->t[k].nbytes, &out, err);
            } else if (e->is_int64) {
                if (k != (size_t)-1)
                    s = produce(job, k, NULL, 0, job->t[k].nbytes, &out, err);
            } else {
                whole = nninit__malloc_array((size_t)nninit__mtensor_numel(e) + 1, gs);
                if (!whole)
                    s = nninit__err(err, NNINIT_ENOMEM, "out of memory for tensor '%s'", e->name ? e->name : "");
                else
                    s = nninit__model_fill_one(e, e->name, "", job->gen, job->o.threads, job->rng, whole, err);
                if (!s && k != (size_t)-1)
                    s = produce(job, k, whole, 0, job->t[k].nbytes, &out, err);
                if (copied[at])
                    held[at] = whole;
                else
                    free(whole);
            }
            if (k != (size_t)-1) {
                job->crc[first_unit[k]] = out.crc;
                done += job->t[k].nbytes;
                report(job, done, job->total);
            }
        }
done:
    for (size_t i = 0; held && i < m->n; i++)
        free(held[i]);
    free(held);
    free(copied);
    free(order);
    free(file_index);
    free(first_unit);
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
        sink out = {job->plan, NULL, 0};
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

typedef struct seq_ctx {
    nninit_model_job *job;
    void **pre;           /* torch: every tensor drawn first, in construction order */
    const size_t *written; /* file tensor j is job tensor written[j] (NULL: all, in order) */
} seq_ctx;

static nninit_status seq_source(void *user, size_t k, void *out, nninit_err *err)
{
    seq_ctx *c = user;
    nninit_model_job *job = c->job;
    if (c->written)
        k = c->written[k];
    sink s_out = {NULL, out, 0};
    if (c->pre)
        return produce(job, k, c->pre[k], 0, job->t[k].nbytes, &s_out, err);
    if (job->t[k].whole)
        return produce_whole(job, k, &s_out, err);
    return produce(job, k, NULL, 0, job->t[k].nbytes, &s_out, err);
}

static nninit_status write_in_file_order(nninit_model_job *job, nninit_err *err)
{
    seq_ctx c = {job, NULL, NULL};
    nninit_status s = NNINIT_OK;
    size_t gs = nninit_dtype_size(job->gen);
    if (job->torch) { /* PyTorch draws in construction order, which is not the file order */
        c.pre = nninit__calloc_array(job->n ? job->n : 1, sizeof *c.pre);
        if (!c.pre)
            return nninit__err(err, NNINIT_ENOMEM, "out of memory");
        for (size_t k = 0; k < job->n && !s; k++)
            if (!job->t[k].e->is_int64 && !(c.pre[k] = nninit__malloc_array((size_t)job->t[k].numel, gs)))
                s = nninit__err(err, NNINIT_ENOMEM, "out of memory for tensor '%s'", job->t[k].e->name);
        if (!s)
            s = nninit_model_fill(job->m, job->rng, "", job->gen, job->o.threads, c.pre, err);
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
    if (!s)
        s = nninit_tensors_write(job->path, desc, n_write, &job->o.write, seq_source, &c, err);
    if (desc != job->desc)
        free(desc);
    free(written);
    for (size_t k = 0; c.pre && k < job->n; k++)
        free(c.pre[k]);
    free(c.pre);
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
