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
    if (m->n >= NNINIT__MODEL_MAX_TENSORS)
        return nninit__model_cap_err(err, "model", "the number of tensors", (uint64_t)m->n + 1,
                                     NNINIT__MODEL_MAX_TENSORS);
    if (m->n == m->cap) {
        size_t cap = m->cap ? 2 * m->cap : 16;
        nninit__mtensor *t = realloc(m->t, cap * sizeof *t);
        if (!t)
            return nninit__err(err, NNINIT_ENOMEM, "out of memory for %zu model tensors", cap);
        m->t = t;
        m->cap = cap;
    }
    if (name && m->n_named == m->named_cap) {
        size_t cap = m->named_cap ? 2 * m->named_cap : 16;
        size_t *nm = realloc(m->named, cap * sizeof *nm);
        if (!nm)
            return nninit__err(err, NNINIT_ENOMEM, "out of memory for %zu model tensors", cap);
        m->named = nm;
        m->named_cap = cap;
    }
    nninit__mtensor *e = &m->t[m->n];
    memset(e, 0, sizeof *e);
    e->shape = *shape;
    e->layout = layout;
    if (nninit_init_copy(&e->init, init, err)) /* the model owns its own copy of a window's values */
        return NNINIT_ENOMEM;
    e->zero_row = -1;
    e->draw = m->next_draw;
    e->copy_of = -1;
    e->copy_stream = -1;
    size_t first;
    if ((name && !(e->name = nninit__strdup(name))) || !(e->spec = nninit__strdup(spec ? spec : "")) ||
        (name && !nninit__strmap_get(&m->by_name, e->name, &first) && nninit__strmap_put(&m->by_name, e->name, m->n))) {
        free(e->name);
        free(e->spec);
        nninit_init_clear(&e->init);
        return nninit__err(err, NNINIT_ENOMEM, "out of memory");
    }
    if (name)
        m->named[m->n_named++] = m->n;
    m->n++;
    m->next_draw++;
    if (out)
        *out = e;
    return NNINIT_OK;
}

nninit_status nninit__model_cap_err(nninit_err *err, const char *subject, const char *what, uint64_t value,
                                    uint64_t cap)
{
    return nninit__err(err, NNINIT_EINVAL, "%s: %s is %" PRIu64 ", above the cap of %" PRIu64 " (caps stop a "
                       "mistyped or hostile model before the work; docs/models.md lists them)", subject, what, value,
                       cap);
}

int nninit__model_find(const nninit_model *m, const char *name, size_t *pos)
{
    return nninit__strmap_get(&m->by_name, name, pos);
}

nninit_status nninit__model_reindex(nninit_model *m, nninit_err *err)
{
    nninit__strmap_free(&m->by_name);
    m->n_named = 0;
    size_t first;
    for (size_t i = 0; i < m->n; i++) {
        const char *name = m->t[i].name;
        if (!name)
            continue;
        if (!nninit__strmap_get(&m->by_name, name, &first) && nninit__strmap_put(&m->by_name, name, i))
            return nninit__err(err, NNINIT_ENOMEM, "out of memory");
        m->named[m->n_named++] = i; /* never more than before */
    }
    return NNINIT_OK;
}

void nninit_model_free(nninit_model *m)
{
    if (!m)
        return;
    nninit__strmap_free(&m->by_name);
    free(m->named);
    for (size_t i = 0; i < m->n; i++) {
        free(m->t[i].name);
        free(m->t[i].spec);
        free(m->t[i].layer);
        free(m->t[i].cls);
        free(m->t[i].act);
        free(m->t[i].store_path);
        nninit_init_clear(&m->t[i].init);
    }
    free(m->t);
    free(m->source);
    free(m->description);
    free(m);
}

size_t nninit_model_count(const nninit_model *m)
{
    return m ? m->n_named : 0;
}

const nninit__mtensor *nninit__model_nth(const nninit_model *m, size_t i)
{
    return m && i < m->n_named ? &m->t[m->named[i]] : NULL;
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
    size_t i;
    if (m && name && nninit__model_find(m, name, &i)) {
        nninit__mtensor *e = &m->t[i];
        if (e->is_int64)
            return nninit__err(err, NNINIT_EINVAL, "tensor '%s' is an int64 counter; it has no initializer", name);
        if (e->same_variable)
            return nninit__err(err, NNINIT_EINVAL, "override: '%s' is the variable '%s' tracked a second time (Keras "
                               "stores it twice); override '%s'", name, m->t[e->copy_of].name, m->t[e->copy_of].name);
        nninit_init init;
        nninit_status s = nninit_init_parse(spec, &init, err);
        if (s != NNINIT_OK)
            return s;
        char *copy = nninit__strdup(spec);
        if (!copy) {
            nninit_init_clear(&init);
            return nninit__err(err, NNINIT_ENOMEM, "out of memory");
        }
        /* A deep-copied module: an overridden copy is drawn on its own (at its place in the
         * construction order); an overridden original leaves its copies the values the module was
         * constructed with: its construction draw stays (a phantom the copies repeat) and the
         * original is redrawn after all construction draws. */
        e->copy_of = -1;
        int has_copies = 0;
        for (size_t j = 0; m->has_copies && j < m->n; j++) /* O(n) only where copies exist */
            has_copies |= m->t[j].copy_of == (int64_t)i && !m->t[j].same_variable;
        if (has_copies) {
            nninit__mtensor o = *e;
            nninit__mtensor *ph;
            if ((s = nninit__model_add(m, NULL, &o.shape, o.layout, &o.init, o.spec, &ph, err))) {
                free(copy);
                nninit_init_clear(&init);
                return s;
            }
            ph->draw = o.draw;
            ph->zero_row = o.zero_row;
            ph->forget_units = o.forget_units;
            for (size_t j = 0; j < m->n; j++)
                if (m->t[j].copy_of == (int64_t)i && !m->t[j].same_variable)
                    m->t[j].copy_of = (int64_t)(m->n - 1);
            e = &m->t[i];
            e->draw = m->next_draw++;
        }
        free(e->spec);
        e->spec = copy;
        nninit_init_clear(&e->init);
        e->init = init; /* the parsed values become the tensor's own */
        for (size_t j = 0; m->has_copies && j < m->n; j++) { /* the same variable tracked again follows it */
            nninit__mtensor *a = &m->t[j];
            if (a->same_variable && a->copy_of == (int64_t)i) {
                char *sp = nninit__strdup(spec);
                nninit_init ai;
                if (!sp || nninit_init_copy(&ai, &init, err)) {
                    free(sp);
                    return nninit__err(err, NNINIT_ENOMEM, "out of memory");
                }
                free(a->spec);
                a->spec = sp;
                nninit_init_clear(&a->init);
                a->init = ai;
            }
        }
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

/* Fills tensor e; `stream` names its Philox stream (e's own name but for
 * a copy, which regenerates its original's). */
nninit_status nninit__model_fill_one(const nninit__mtensor *e, const char *stream, const char *prefix, nninit_dtype gen,
                                    int threads, nninit_rng *rng, void *out, nninit_err *err)
{
    nninit_fill_opts fo = nninit_fill_opts_default();
    fo.layout = e->layout;
    fo.dtype = gen;
    fo.threads = threads;
    char full[1100];
    if (!prefix)
        prefix = "";
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
        size_t w = nninit_dtype_size(gen);
        nninit_shape s1 = {1, {u}}, s3 = {1, {2 * u}};
        nninit_init ones = nninit_init_default(NNINIT_ONES);
        char n3[1110];
        snprintf(n3, sizeof n3, "%s#2", stream ? full : "");
        s = nninit_fill(&e->init, &s1, &fo, rng, out, err);
        if (!s)
            s = nninit_fill(&ones, &s1, &fo, rng, (unsigned char *)out + (size_t)u * w, err);
        fo.stream = nninit_stream_from_name(n3);
        if (!s)
            s = nninit_fill(&e->init, &s3, &fo, rng, (unsigned char *)out + (size_t)(2 * u) * w, err);
    } else {
        s = nninit_fill(&e->init, &e->shape, &fo, rng, out, err);
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
        size_t w = nninit_dtype_size(gen);
        memset((unsigned char *)out + (size_t)(e->zero_row * row) * w, 0, (size_t)row * w);
    }
    return s;
}

const char *nninit__model_stream_name(const nninit_model *m, const nninit__mtensor *e)
{
    return e->copy_of >= 0 ? m->t[e->copy_stream].name : e->name;
}

int64_t nninit__mtensor_numel(const nninit__mtensor *e)
{
    int64_t numel = 1;
    for (int d = 0; d < e->shape.ndim; d++)
        numel *= e->shape.dim[d];
    return numel;
}

int nninit__cmp_draw(const void *a, const void *b)
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
        qsort(order, m->n, sizeof *order, nninit__cmp_draw);
    for (size_t i = 0; i < m->n && !s; i++) {
        const nninit__mtensor *e = order[i];
        size_t at = (size_t)(e - m->t);
        void *d = dest[at];
        if (e->is_int64) {
            if (d)
                memset(d, 0, (size_t)nninit__mtensor_numel(e) * 8);
            continue;
        }
        if (e->copy_of >= 0) /* no draws of its own: filled below from its original */
            continue;
        if (d) {
            s = nninit__model_fill_one(e, e->name, prefix, dtype, threads, rng, d, err);
        } else if (torch) { /* not kept (a phantom or a skipped tensor): its draws still advance the stream */
            void *scratch = nninit__malloc_array((size_t)nninit__mtensor_numel(e), nninit_dtype_size(dtype));
            if (!scratch)
                s = nninit__err(err, NNINIT_ENOMEM, "out of memory for tensor '%s'", e->name ? e->name : "");
            else
                s = nninit__model_fill_one(e, e->name, prefix, dtype, threads, rng, scratch, err);
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
            memcpy(dest[i], v, (size_t)nninit__mtensor_numel(e) * nninit_dtype_size(dtype));
        else /* Philox: the original's stream gives the original's values */
            s = nninit__model_fill_one(e, nninit__model_stream_name(m, e), prefix, dtype, threads, rng, dest[i], err);
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
char *nninit__model_specs_json(const nninit_model *m)
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
