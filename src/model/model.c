/* Whole models: the tensor list, overrides, and generation into a tensor
 * file (Philox per-name streams, or one torch generator in PyTorch's
 * construction order). */
#include "model/internal.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

nninit_model *nninit__model_new(const char *source, const char *description)
{
    nninit_model *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->source = nninit__strdup(source);
    m->description = nninit__strdup(description ? description : "");
    if (!m->source || !m->description) {
        nninit_model_free(m);
        return NULL;
    }
    return m;
}

nninit_status nninit__model_add(nninit_model *m, const char *name, const nninit_shape *shape, nninit_layout layout,
                                const nninit_init *init, const char *spec, nninit__mtensor **out, nninit_err *err)
{
    if (m->n == m->cap) {
        size_t cap = m->cap ? 2 * m->cap : 16;
        nninit__mtensor *t = realloc(m->t, cap * sizeof *t);
        if (!t)
            return nninit__err(err, NNINIT_ENOMEM, "out of memory for %zu model tensors", cap);
        m->t = t;
        m->cap = cap;
    }
    nninit__mtensor *e = &m->t[m->n];
    memset(e, 0, sizeof *e);
    e->shape = *shape;
    e->layout = layout;
    e->init = *init;
    e->zero_row = -1;
    e->draw = m->next_draw;
    e->copy_of = -1;
    e->copy_stream = -1;
    if ((name && !(e->name = nninit__strdup(name))) || !(e->spec = nninit__strdup(spec ? spec : ""))) {
        free(e->name);
        return nninit__err(err, NNINIT_ENOMEM, "out of memory");
    }
    m->n++;
    m->next_draw++;
    if (out)
        *out = e;
    return NNINIT_OK;
}

void nninit_model_free(nninit_model *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n; i++) {
        free(m->t[i].name);
        free(m->t[i].spec);
        free(m->t[i].layer);
        free(m->t[i].cls);
        free(m->t[i].act);
    }
    free(m->t);
    free(m->source);
    free(m->description);
    free(m);
}

size_t nninit_model_count(const nninit_model *m)
{
    size_t k = 0;
    for (size_t i = 0; m && i < m->n; i++)
        k += m->t[i].name != NULL;
    return k;
}

const nninit__mtensor *nninit__model_nth(const nninit_model *m, size_t i)
{
    for (size_t j = 0; m && j < m->n; j++)
        if (m->t[j].name && i-- == 0)
            return &m->t[j];
    return NULL;
}

const nninit_model_tensor *nninit_model_tensor_at(const nninit_model *m, size_t i, nninit_model_tensor *buf)
{
    const nninit__mtensor *e = nninit__model_nth(m, i);
    if (!e || !buf)
        return NULL;
    buf->name = e->name;
    buf->shape = e->shape;
    buf->layout = e->layout;
    buf->init = e->init;
    buf->spec = e->spec;
    buf->is_int64 = e->is_int64;
    return buf;
}

nninit_status nninit_model_override(nninit_model *m, const char *name, const char *spec, nninit_err *err)
{
    for (size_t i = 0; m && name && i < m->n; i++) {
        nninit__mtensor *e = &m->t[i];
        if (!e->name || strcmp(e->name, name))
            continue;
        if (e->is_int64)
            return nninit__err(err, NNINIT_EINVAL, "tensor '%s' is an int64 counter; it has no initializer", name);
        nninit_init init;
        nninit_status s = nninit_init_parse(spec, &init, err);
        if (s != NNINIT_OK)
            return s;
        char *copy = nninit__strdup(spec);
        if (!copy)
            return nninit__err(err, NNINIT_ENOMEM, "out of memory");
        /* A deep-copied module: an overridden copy is drawn on its own (at its place in the
         * construction order); an overridden original leaves its copies the values the module was
         * constructed with: its construction draw stays (a phantom the copies repeat) and the
         * original is redrawn after all construction draws. */
        e->copy_of = -1;
        int has_copies = 0;
        for (size_t j = 0; j < m->n; j++)
            has_copies |= m->t[j].copy_of == (int64_t)i;
        if (has_copies) {
            nninit__mtensor o = *e;
            nninit__mtensor *ph;
            if ((s = nninit__model_add(m, NULL, &o.shape, o.layout, &o.init, o.spec, &ph, err))) {
                free(copy);
                return s;
            }
            ph->draw = o.draw;
            ph->zero_row = o.zero_row;
            ph->forget_units = o.forget_units;
            for (size_t j = 0; j < m->n; j++)
                if (m->t[j].copy_of == (int64_t)i)
                    m->t[j].copy_of = (int64_t)(m->n - 1);
            e = &m->t[i];
            e->draw = m->next_draw++;
        }
        free(e->spec);
        e->spec = copy;
        e->init = init;
        return NNINIT_OK;
    }
    return nninit__err(err, NNINIT_ENOTFOUND, "override: the model has no tensor named '%s'", name ? name : "");
}

nninit_model_opts nninit_model_opts_default(void)
{
    nninit_model_opts o;
    memset(&o, 0, sizeof o);
    o.rng = NNINIT_RNG_PHILOX;
    o.seed = NNINIT_DEFAULT_SEED;
    o.dtype = NNINIT_FD_F32;
    o.write = nninit_write_opts_default();
    return o;
}

/* ---- generation ---- */

typedef struct gen_ctx {
    const nninit_model *m;
    const nninit_model_opts *o;
    const char *prefix;           /* prepended to names for Philox streams ("" in files) */
    const nninit__mtensor **live; /* the written tensors, in model order */
    nninit_rng *rng;
    nninit_dtype gen;             /* F32 or F64 */
    void **pre;                   /* torch: tensors generated up front (gen dtype) */
    void *scratch;                /* philox: one tensor in gen dtype */
} gen_ctx;

/* Fills tensor e; `stream` names its Philox stream (e's own name but for
 * a copy, which regenerates its original's). */
static nninit_status fill_one(gen_ctx *c, const nninit__mtensor *e, const char *stream, void *out, nninit_err *err)
{
    nninit_fill_opts fo = nninit_fill_opts_default();
    fo.layout = e->layout;
    fo.dtype = c->gen;
    fo.threads = c->o->threads;
    char full[1100];
    const char *prefix = c->prefix ? c->prefix : "";
    if (stream && snprintf(full, sizeof full, "%s%s", prefix, stream) >= (int)sizeof full)
        return nninit__err(err, NNINIT_EINVAL, "tensor '%.60s': prefix '%.60s' makes the name longer than %zu bytes",
                           stream, prefix, sizeof full - 1);
    fo.stream = stream ? nninit_stream_from_name(full) : 0;
    char what[NNINIT_ERR_MSG_MAX];
    nninit_status s;
    if (e->forget_units > 0) {
        /* keras lstm.py: concatenate(init((u,)), ones((u,)), init((2u,))),
         * each part drawn for its own shape; the third part takes the
         * stream of "<name>#2". */
        int64_t u = e->forget_units;
        size_t w = nninit_dtype_size(c->gen);
        nninit_shape s1 = {1, {u}}, s3 = {1, {2 * u}};
        nninit_init ones = nninit_init_default(NNINIT_ONES);
        char n3[1110];
        snprintf(n3, sizeof n3, "%s#2", stream ? full : "");
        s = nninit_fill(&e->init, &s1, &fo, c->rng, out, err);
        if (!s)
            s = nninit_fill(&ones, &s1, &fo, c->rng, (unsigned char *)out + (size_t)u * w, err);
        fo.stream = nninit_stream_from_name(n3);
        if (!s)
            s = nninit_fill(&e->init, &s3, &fo, c->rng, (unsigned char *)out + (size_t)(2 * u) * w, err);
    } else {
        s = nninit_fill(&e->init, &e->shape, &fo, c->rng, out, err);
    }
    if (s != NNINIT_OK && err) {
        snprintf(what, sizeof what, "%s", err->msg);
        snprintf(err->msg, sizeof err->msg, "tensor '%.200s': %.1800s", e->name ? e->name : "(construction draw)",
                 what);
        return s;
    }
    if (e->zero_row >= 0 && e->shape.ndim >= 1) {
        int64_t row = 1;
        for (int d = 1; d < e->shape.ndim; d++)
            row *= e->shape.dim[d];
        size_t w = nninit_dtype_size(c->gen);
        memset((unsigned char *)out + (size_t)(e->zero_row * row) * w, 0, (size_t)row * w);
    }
    return s;
}

static int64_t numel_of(const nninit__mtensor *e)
{
    int64_t numel = 1;
    for (int d = 0; d < e->shape.ndim; d++)
        numel *= e->shape.dim[d];
    return numel;
}

static nninit_status source(void *user, size_t i, void *out, nninit_err *err)
{
    gen_ctx *c = user;
    const nninit__mtensor *e = c->live[i];
    int64_t numel = numel_of(e);
    if (e->is_int64) {
        memset(out, 0, (size_t)numel * 8);
        return NNINIT_OK;
    }
    void *vals = c->pre ? c->pre[i] : c->scratch;
    nninit_file_dtype gd = nninit_file_dtype_of(c->gen);
    if (!c->pre) { /* Philox: a copy regenerates its original's values from the original's stream */
        const char *stream = e->copy_of >= 0 ? c->m->t[e->copy_stream].name : e->name;
        nninit_status s = fill_one(c, e, stream, gd == c->o->dtype ? out : vals, err);
        if (s != NNINIT_OK || gd == c->o->dtype)
            return s;
    }
    return nninit_convert(gd, vals, c->o->dtype, out, (size_t)numel, err);
}

static int cmp_draw(const void *a, const void *b)
{
    const nninit__mtensor *x = *(const nninit__mtensor *const *)a, *y = *(const nninit__mtensor *const *)b;
    return x->draw < y->draw ? -1 : x->draw > y->draw;
}

nninit_status nninit_model_fill(const nninit_model *m, nninit_rng *rng, const char *prefix, nninit_dtype dtype,
                                int threads, void *const *out, nninit_err *err)
{
    if (!m || !rng || !out)
        return nninit__err(err, NNINIT_EMISUSE, "nninit_model_fill: model, rng and out must not be NULL");
    if (dtype != NNINIT_F32 && dtype != NNINIT_F64)
        return nninit__err(err, NNINIT_EINVAL, "model fill dtype %s: expected float32 or float64",
                           nninit_dtype_name(dtype));
    nninit_model_opts o = nninit_model_opts_default();
    o.threads = threads;
    gen_ctx c;
    memset(&c, 0, sizeof c);
    c.m = m;
    c.o = &o;
    c.prefix = prefix;
    c.rng = rng;
    c.gen = dtype;
    /* out[k] for the k-th named tensor, phantoms (NULL names) skipped. */
    void **dest = nninit__calloc_array(m->n ? m->n : 1, sizeof *dest);
    const nninit__mtensor **order = nninit__calloc_array(m->n ? m->n : 1, sizeof *order);
    void **held = nninit__calloc_array(m->n ? m->n : 1, sizeof *held); /* torch: drawn, not kept, copied */
    int *copied = nninit__calloc_array(m->n ? m->n : 1, sizeof *copied);
    nninit_status s = NNINIT_OK;
    if (!dest || !order || !held || !copied) {
        s = nninit__err(err, NNINIT_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0, k = 0; i < m->n; i++) {
        order[i] = &m->t[i];
        if (m->t[i].name)
            dest[i] = out[k++];
        if (m->t[i].copy_of >= 0)
            copied[m->t[i].copy_of] = 1;
    }
    int torch = nninit_rng_get_kind(rng) != NNINIT_RNG_PHILOX;
    if (torch) /* PyTorch draws in construction order, phantoms included */
        qsort(order, m->n, sizeof *order, cmp_draw);
    for (size_t i = 0; i < m->n && !s; i++) {
        const nninit__mtensor *e = order[i];
        size_t at = (size_t)(e - m->t);
        void *d = dest[at];
        if (e->is_int64) {
            if (d)
                memset(d, 0, (size_t)numel_of(e) * 8);
            continue;
        }
        if (e->copy_of >= 0) /* no draws of its own: filled below from its original */
            continue;
        if (d) {
            s = fill_one(&c, e, e->name, d, err);
        } else if (torch) { /* not kept (a phantom or a skipped tensor): its draws still advance the stream */
            void *scratch = nninit__malloc_array((size_t)numel_of(e), nninit_dtype_size(dtype));
            if (!scratch)
                s = nninit__err(err, NNINIT_ENOMEM, "out of memory for tensor '%s'", e->name ? e->name : "");
            else
                s = fill_one(&c, e, e->name, scratch, err);
            if (copied[at])
                held[at] = scratch;
            else
                free(scratch);
        }
    }
    for (size_t i = 0; i < m->n && !s; i++) {
        const nninit__mtensor *e = &m->t[i];
        if (e->copy_of < 0 || !dest[i] || e->is_int64)
            continue;
        size_t from = (size_t)e->copy_of;
        const void *v = dest[from] ? dest[from] : held[from];
        if (torch && v)
            memcpy(dest[i], v, (size_t)numel_of(e) * nninit_dtype_size(dtype));
        else /* Philox: the original's stream gives the original's values */
            s = fill_one(&c, e, m->t[e->copy_stream].name, dest[i], err);
    }
done:
    for (size_t i = 0; held && i < m->n; i++)
        free(held[i]);
    free(held);
    free(copied);
    free(dest);
    free(order);
    return s;
}

/* The provenance metadata: {"tensor name": initializer JSON, ...}. */
static char *specs_json(const nninit_model *m)
{
    nninit__sb b = NNINIT__SB_INIT;
    nninit__sb_str(&b, "{");
    int first = 1;
    for (size_t i = 0; i < m->n; i++) {
        const nninit__mtensor *e = &m->t[i];
        if (!e->name || e->is_int64)
            continue;
        char *ij = NULL;
        if (nninit_init_to_json(&e->init, &ij, NULL) != NNINIT_OK)
            continue;
        if (!first)
            nninit__sb_str(&b, ",");
        first = 0;
        nninit__sb_json_str(&b, e->name);
        nninit__sb_str(&b, ":");
        nninit__sb_str(&b, ij); /* already JSON */
        nninit_free(ij);
    }
    nninit__sb_str(&b, "}");
    return nninit__sb_take(&b);
}

nninit_status nninit_model_write(const nninit_model *m, const char *path, const nninit_model_opts *opts,
                                 nninit_err *err)
{
    if (!m || !path)
        return nninit__err(err, NNINIT_EMISUSE, "nninit_model_write: model and path must not be NULL");
    nninit_model_opts o = opts ? *opts : nninit_model_opts_default();
    if (o.dtype != NNINIT_FD_F32 && o.dtype != NNINIT_FD_F64 && o.dtype != NNINIT_FD_BF16 &&
        o.dtype != NNINIT_FD_F16)
        return nninit__err(err, NNINIT_EINVAL, "model dtype %s: expected F32, F64, BF16 or F16",
                           nninit_file_dtype_name(o.dtype));
    gen_ctx c;
    memset(&c, 0, sizeof c);
    c.m = m;
    c.o = &o;
    c.gen = o.dtype == NNINIT_FD_F64 ? NNINIT_F64 : NNINIT_F32;
    size_t n_live = nninit_model_count(m);
    nninit_tensor_desc *desc = nninit__calloc_array(n_live ? n_live : 1, sizeof *desc);
    c.live = nninit__calloc_array(n_live ? n_live : 1, sizeof *c.live);
    char *specs = NULL;
    nninit_status s = NNINIT_OK;
    if (!desc || !c.live) {
        s = nninit__err(err, NNINIT_ENOMEM, "out of memory");
        goto done;
    }
    uint64_t max_numel = 1;
    int layouts_seen = 0;
    nninit_layout common = NNINIT_LAYOUT_KERAS;
    for (size_t i = 0, k = 0; i < m->n; i++) {
        const nninit__mtensor *e = &m->t[i];
        uint64_t numel, nb;
        if ((s = nninit__tensor_bytes(e->name ? e->name : "tensor", &e->shape, NNINIT_FD_F64, &numel, &nb, err)))
            goto done;
        if (numel > max_numel)
            max_numel = numel;
        if (!e->name)
            continue;
        c.live[k] = e;
        desc[k].name = e->name;
        desc[k].shape = e->shape;
        desc[k].dtype = e->is_int64 ? NNINIT_FD_I64 : o.dtype;
        if (!e->is_int64) {
            if (layouts_seen && common != e->layout)
                layouts_seen = 2;
            else if (!layouts_seen)
                layouts_seen = 1;
            common = e->layout;
        }
        k++;
    }
    if ((s = nninit_rng_new(o.rng, o.seed, &c.rng, err)) != NNINIT_OK)
        goto done;
    if (o.rng != NNINIT_RNG_PHILOX) {
        /* PyTorch draws in construction order, which is not the file
         * order: generate everything first. */
        c.pre = nninit__calloc_array(n_live ? n_live : 1, sizeof *c.pre);
        if (!c.pre) {
            s = nninit__err(err, NNINIT_ENOMEM, "out of memory");
            goto done;
        }
        size_t w = nninit_dtype_size(c.gen);
        for (size_t k = 0; k < n_live; k++) {
            if (c.live[k]->is_int64)
                continue;
            if (!(c.pre[k] = nninit__malloc_array((size_t)numel_of(c.live[k]), w))) {
                s = nninit__err(err, NNINIT_ENOMEM, "out of memory for tensor '%s'", c.live[k]->name);
                goto done;
            }
        }
        if ((s = nninit_model_fill(m, c.rng, "", c.gen, o.threads, c.pre, err)))
            goto done;
    } else {
        c.scratch = nninit__malloc_array((size_t)max_numel, nninit_dtype_size(c.gen));
        if (!c.scratch) {
            s = nninit__err(err, NNINIT_ENOMEM, "out of memory for %" PRIu64 " elements", max_numel);
            goto done;
        }
    }
    nninit_write_opts wo = o.write;
    char seed_txt[32], stream_txt[16];
    const char *meta[32];
    if (!wo.metadata) {
        snprintf(seed_txt, sizeof seed_txt, "%" PRIu64, o.seed);
        snprintf(stream_txt, sizeof stream_txt, "%d", NNINIT_STREAM_VERSION);
        specs = specs_json(m);
        int k = 0;
        meta[k++] = "format";
        meta[k++] = "pt";
        meta[k++] = "nninit.version";
        meta[k++] = nninit_version();
        meta[k++] = "nninit.stream_version";
        meta[k++] = stream_txt;
        meta[k++] = "nninit.rng";
        meta[k++] = nninit_rng_kind_name(o.rng);
        meta[k++] = "nninit.seed";
        meta[k++] = seed_txt;
        meta[k++] = "nninit.source";
        meta[k++] = m->source;
        meta[k++] = "nninit.description";
        meta[k++] = m->description;
        if (layouts_seen == 1) {
            meta[k++] = "nninit.layout";
            meta[k++] = nninit_layout_name(common);
        }
        if (specs) {
            meta[k++] = "nninit.specs";
            meta[k++] = specs;
        }
        meta[k] = NULL;
        wo.metadata = meta;
    }
    s = nninit_tensors_write(path, desc, n_live, &wo, source, &c, err);
done:
    if (c.pre)
        for (size_t i = 0; i < n_live; i++)
            free(c.pre[i]);
    free(c.pre);
    free(c.scratch);
    nninit_rng_free(c.rng);
    free(specs);
    free(desc);
    free(c.live);
    return s;
}
