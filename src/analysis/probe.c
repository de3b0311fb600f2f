/* The signal-propagation probe: a deep dense net pushed with one batch and
 * back-propagated, with per-layer statistics, distinct-unit counts before and
 * after a few SGD steps, the input-output Jacobian's singular values, and the
 * mean-field prediction next to each measurement (theory.c). */
#include "analysis/probe_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Variance ratio over the depth beyond which the verdict is not "stable". */
#define VERDICT_FACTOR 10.0

static const char *const verdict_names[] = {"vanishing", "stable", "exploding"};

const char *nninit_probe_verdict_name(nninit_probe_verdict v)
{
    return (unsigned)v <= NNINIT_VERDICT_EXPLODING ? verdict_names[v] : "unknown";
}

nninit_probe_opts nninit_probe_opts_default(void)
{
    nninit_probe_opts o;
    memset(&o, 0, sizeof o);
    o.depth = 10;
    o.width = 256;
    o.batch = 256;
    o.act = NNINIT_ACT_TANH;
    o.kernel_init = "glorot_uniform";
    o.bias_init = "zeros";
    o.seed = NNINIT_DEFAULT_SEED;
    o.lr = 0.01;
    o.input_scale = 1.0;
    return o;
}

void nninit_probe_result_free(nninit_probe_result *r)
{
    if (!r)
        return;
    free(r->layers);
    free(r->sv);
    free(r);
}

static void probe_free(nninit__probe *p)
{
    for (int l = 0; l < p->depth; l++) {
        if (p->w) free(p->w[l]);
        if (p->b) free(p->b[l]);
        if (p->dw) free(p->dw[l]);
        if (p->db) free(p->db[l]);
        if (p->pre) free(p->pre[l]);
        if (p->act) free(p->act[l]);
        if (p->invstd) free(p->invstd[l]);
    }
    free(p->w), free(p->b), free(p->dw), free(p->db), free(p->pre), free(p->act), free(p->invstd);
    free(p->x), free(p->hw), free(p->hb), free(p->hdw), free(p->hdb), free(p->logits);
    free(p->g), free(p->g2), free(p->tmp), free(p->tmp2), free(p->ones), free(p->scratch);
    free(p->L);
}

static nninit_status fill_param(const char *spec, const char *name, const nninit_shape *shape, nninit_rng *rng,
                                float *out, nninit_err *err)
{
    nninit_init init;
    nninit_status s = nninit_init_parse(spec, &init, err);
    if (s != NNINIT_OK)
        return s;
    nninit_fill_opts fo = nninit_fill_opts_default();
    fo.dtype = NNINIT_F32;
    fo.stream = nninit_stream_from_name(name);
    return nninit_fill(&init, shape, &fo, rng, out, err);
}

static nninit_status probe_alloc(nninit__probe *p, nninit_err *err)
{
    int L = p->depth;
    int64_t B = p->batch, wide = p->wmax;
    p->w = calloc((size_t)L, sizeof *p->w);
    p->b = calloc((size_t)L, sizeof *p->b);
    p->dw = calloc((size_t)L, sizeof *p->dw);
    p->db = calloc((size_t)L, sizeof *p->db);
    p->pre = calloc((size_t)L, sizeof *p->pre);
    p->act = calloc((size_t)L, sizeof *p->act);
    p->invstd = calloc((size_t)L, sizeof *p->invstd);
    if (!p->w || !p->b || !p->dw || !p->db || !p->pre || !p->act || !p->invstd)
        goto oom;
    for (int l = 0; l < L; l++) {
        int64_t W = n_out_of(p, l);
        size_t nw = (size_t)n_in_of(p, l) * (size_t)W;
        p->w[l] = nninit__malloc_array(nw, sizeof(float));
        p->dw[l] = nninit__malloc_array(nw, sizeof(float));
        p->b[l] = nninit__calloc_array((size_t)W, sizeof(float));
        p->db[l] = nninit__malloc_array((size_t)W, sizeof(float));
        p->pre[l] = nninit__malloc_array((size_t)(B * W), sizeof(float));
        p->act[l] = nninit__malloc_array((size_t)(B * W), sizeof(float));
        p->invstd[l] = nninit__malloc_array((size_t)W, sizeof(float));
        if (!p->w[l] || !p->dw[l] || !p->b[l] || !p->db[l] || !p->pre[l] || !p->act[l] || !p->invstd[l])
            goto oom;
    }
    p->x = nninit__malloc_array((size_t)(B * p->n0), sizeof(float));
    p->g = nninit__malloc_array((size_t)(B * wide), sizeof(float));
    p->g2 = nninit__malloc_array((size_t)(B * wide), sizeof(float));
    p->tmp = nninit__malloc_array((size_t)(B * wide), sizeof(float));
    p->tmp2 = nninit__malloc_array((size_t)(B * wide), sizeof(float));
    p->ones = nninit__malloc_array((size_t)wide, sizeof(float));
    p->scratch = nninit__malloc_array((size_t)(3 * wide), sizeof(float));
    if (!p->x || !p->g || !p->g2 || !p->tmp || !p->tmp2 || !p->ones || !p->scratch)
        goto oom;
    for (int64_t i = 0; i < wide; i++)
        p->ones[i] = 1.0f;
    if (p->o->labels) {
        int64_t C = p->o->n_classes, W = n_out_of(p, L - 1);
        p->hw = nninit__malloc_array((size_t)(W * C), sizeof(float));
        p->hdw = nninit__malloc_array((size_t)(W * C), sizeof(float));
        p->hb = nninit__calloc_array((size_t)C, sizeof(float));
        p->hdb = nninit__malloc_array((size_t)C, sizeof(float));
        p->logits = nninit__malloc_array((size_t)(B * C), sizeof(float));
        if (!p->hw || !p->hdw || !p->hb || !p->hdb || !p->logits)
            goto oom;
    }
    return NNINIT_OK;
oom:
    return nninit__err(err, NNINIT_ENOMEM, "probe: out of memory for %d layers of %lld x %lld", L, (long long)B,
                       (long long)wide);
}

static nninit_status probe_init(nninit__probe *p, nninit_err *err)
{
    nninit_rng *rng = NULL;
    nninit_status s = nninit_rng_new(NNINIT_RNG_PHILOX, p->o->seed, &rng, err);
    if (s != NNINIT_OK)
        return s;
    char name[64];
    for (int l = 0; l < p->depth && s == NNINIT_OK; l++) {
        nninit_shape ws = {2, {n_in_of(p, l), n_out_of(p, l)}}, bs = {1, {n_out_of(p, l)}};
        snprintf(name, sizeof name, "dense_%d/kernel", l);
        s = fill_param(p->L[l].kernel_init, name, &ws, rng, p->w[l], err);
        if (s == NNINIT_OK && p->L[l].use_bias) {
            snprintf(name, sizeof name, "dense_%d/bias", l);
            s = fill_param(p->L[l].bias_init, name, &bs, rng, p->b[l], err);
        }
        if (s != NNINIT_OK && err && p->o->layers) { /* name the model's layer */
            char msg[sizeof err->msg];
            memcpy(msg, err->msg, sizeof msg);
            snprintf(err->msg, sizeof err->msg, "dense_%d: %.*s", l % 1000000, (int)sizeof err->msg - 24, msg);
        }
    }
    if (s == NNINIT_OK && p->hw) {
        nninit_shape hs = {2, {n_out_of(p, p->depth - 1), p->o->n_classes}};
        snprintf(name, sizeof name, "dense_%d/kernel", p->depth);
        s = fill_param(p->L[p->depth - 1].kernel_init, name, &hs, rng, p->hw, err);
    }
    nninit_rng_free(rng);
    if (s != NNINIT_OK)
        return s;
    uint32_t key[2];
    nninit__philox_key(p->o->seed, key);
    if (p->o->x)
        memcpy(p->x, p->o->x, (size_t)(p->batch * p->n0) * sizeof(float));
    else
        nninit__philox_normal(key, nninit_stream_from_name("probe/input"), NNINIT_F32, 0,
                              (size_t)(p->batch * p->n0), 0.0, 1.0, p->x);
    if (p->o->input_scale != 1.0)
        for (int64_t i = 0; i < p->batch * p->n0; i++)
            p->x[i] = (float)(p->o->input_scale * (double)p->x[i]);
    return NNINIT_OK;
}

static int all_finite(const float *v, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        if (!isfinite(v[i]))
            return 0;
    return 1;
}

static nninit_status forward(nninit__probe *p, nninit_err *err)
{
    int64_t B = p->batch;
    const float *in = p->x;
    for (int l = 0; l < p->depth; l++) {
        const nninit__probe_layer *y = &p->L[l];
        int64_t W = y->n_out;
        float *h = y->bn ? p->tmp : p->pre[l];
        nninit__sgemm(0, 0, B, W, n_in_of(p, l), 1.0f, in, p->w[l], 0.0f, h);
        for (int64_t r = 0; r < B; r++)
            for (int64_t j = 0; j < W; j++)
                h[r * W + j] += p->b[l][j];
        if (y->bn) {
            /* no affine parameters (gamma 1, beta 0); training-mode batch
             * statistics; the running statistics are discarded */
            float *run_mean = p->scratch, *run_var = p->scratch + W, *zeros = p->scratch + 2 * W;
            memset(p->scratch, 0, (size_t)(3 * W) * sizeof(float));
            nninit__bn_forward(h, B, W, p->ones, zeros, 0.99, y->bn_epsilon, 1, run_mean, run_var, p->pre[l],
                               p->invstd[l], p->pre[l]);
        }
        nninit_act_forward(y->act, y->alpha, p->pre[l], p->act[l], B, W);
        if (has_skip(p, l))
            for (int64_t i = 0; i < B * W; i++)
                p->act[l][i] += in[i];
        if (!all_finite(p->act[l], B * W))
            return nninit__err(err, NNINIT_ENUMERIC, "probe: activations overflow at layer %d of %d (inf or nan); "
                               "the initializer makes the signal explode: use fewer layers or a smaller scale",
                               l + 1, p->depth);
        in = p->act[l];
    }
    return NNINIT_OK;
}

/* Back-propagates g = dL/da_L (overwritten; p->g) through every layer,
 * writing dW, db, and calling `stat` with dL/da_l and dL/da_{l-1} of each
 * layer (may be NULL). */
typedef void (*grad_stat_fn)(void *ctx, int l, const float *g_out, const float *g_in, int64_t n_in);

static void backward(nninit__probe *p, grad_stat_fn stat, void *ctx)
{
    int64_t B = p->batch;
    float *g = p->g, *g_prev = p->g2, *dh = p->tmp;
    for (int l = p->depth - 1; l >= 0; l--) {
        const nninit__probe_layer *y = &p->L[l];
        int64_t W = y->n_out, n_in = n_in_of(p, l);
        const float *in = l ? p->act[l - 1] : p->x;
        /* the activation's output without the skip: act(pre) = act - in */
        float *a_noskip = p->act[l];
        if (has_skip(p, l)) {
            a_noskip = g_prev; /* scratch; g_prev is written only below */
            for (int64_t i = 0; i < B * W; i++)
                a_noskip[i] = p->act[l][i] - in[i];
        }
        nninit_act_backward(y->act, y->alpha, p->pre[l], a_noskip, g, dh, B, W);
        if (y->bn) {
            /* dh is dL/dxhat; through the normalisation (gamma = 1) */
            nninit__bn_backward(p->pre[l], p->invstd[l], p->ones, dh, B, W, p->scratch, p->scratch + W, p->tmp2);
            memcpy(dh, p->tmp2, (size_t)(B * W) * sizeof(float));
        }
        nninit__sgemm(1, 0, n_in, W, B, 1.0f, in, dh, 0.0f, p->dw[l]);
        for (int64_t j = 0; j < W; j++) {
            double s = 0;
            for (int64_t r = 0; r < B; r++)
                s += (double)dh[r * W + j];
            p->db[l][j] = y->use_bias ? (float)s : 0.0f;
        }
        nninit__sgemm(0, 1, B, n_in, W, 1.0f, dh, p->w[l], 0.0f, g_prev);
        if (has_skip(p, l))
            for (int64_t i = 0; i < B * W; i++)
                g_prev[i] += g[i];
        if (stat)
            stat(ctx, l, g, g_prev, n_in);
        float *t = g;
        g = g_prev;
        g_prev = t;
    }
}

static void mean_var(const float *v, int64_t n, double *mean, double *var)
{
    double s = 0, ss = 0;
    for (int64_t i = 0; i < n; i++)
        s += (double)v[i];
    double m = s / (double)n;
    for (int64_t i = 0; i < n; i++) {
        double d = (double)v[i] - m;
        ss += d * d;
    }
    if (mean)
        *mean = m;
    if (var)
        *var = ss / (double)n;
}

typedef struct grad_ctx {
    nninit__probe *p;
    nninit_probe_result *r;
} grad_ctx;

static void record_grads(void *ctx, int l, const float *g_out, const float *g_in, int64_t n_in)
{
    grad_ctx *k = ctx;
    nninit_probe_layer *y = &k->r->layers[l];
    int64_t B = k->p->batch, W = n_out_of(k->p, l);
    mean_var(g_out, B * W, NULL, &y->grad_out_var);
    mean_var(g_in, B * n_in, NULL, &y->grad_in_var);
    mean_var(k->p->dw[l], n_in * W, NULL, &y->grad_w_var);
    y->bwd_gain = y->grad_out_var > 0 ? y->grad_in_var / y->grad_out_var : (double)NAN;
}

/* dL/da_L into p->g: the head's softmax cross-entropy with labels (also
 * filling the head's gradients), else MSE against `target` when given,
 * else standard normal. */
static nninit_status output_grad(nninit__probe *p, const float *target, double *loss, nninit_err *err)
{
    int64_t W = n_out_of(p, p->depth - 1), B = p->batch;
    const float *aL = p->act[p->depth - 1];
    *loss = (double)NAN;
    if (p->o->labels) {
        int64_t C = p->o->n_classes;
        nninit__sgemm(0, 0, B, C, W, 1.0f, aL, p->hw, 0.0f, p->logits);
        for (int64_t r = 0; r < B; r++)
            for (int64_t c = 0; c < C; c++)
                p->logits[r * C + c] += p->hb[c];
        float *dlog = p->tmp; /* (B, C), C <= wmax checked */
        nninit_status s = nninit_loss(NNINIT_LOSS_SOFTMAX_CE, p->logits, B, C, p->o->labels, NULL, loss, dlog, err);
        if (s != NNINIT_OK)
            return s;
        nninit__sgemm(1, 0, W, C, B, 1.0f, aL, dlog, 0.0f, p->hdw);
        for (int64_t c = 0; c < C; c++) {
            double sum = 0;
            for (int64_t r = 0; r < B; r++)
                sum += (double)dlog[r * C + c];
            p->hdb[c] = (float)sum;
        }
        nninit__sgemm(0, 1, B, W, C, 1.0f, dlog, p->hw, 0.0f, p->g);
        return NNINIT_OK;
    }
    if (target)
        return nninit_loss(NNINIT_LOSS_MSE, aL, B, W, NULL, target, loss, p->g, err);
    uint32_t key[2];
    nninit__philox_key(p->o->seed, key);
    nninit__philox_normal(key, nninit_stream_from_name("probe/grad"), NNINIT_F32, 0, (size_t)(B * W), 0.0, 1.0,
                          p->g);
    return NNINIT_OK;
}

/* ---- distinct units ---- */

typedef struct unit_key {
    const float *row;
    int64_t len;
} unit_key;

static int cmp_unit(const void *a, const void *b)
{
    const unit_key *x = a, *y = b;
    for (int64_t i = 0; i < x->len; i++)
        if (x->row[i] != y->row[i])
            return x->row[i] < y->row[i] ? -1 : 1;
    return 0;
}

/* Units of layer l whose incoming weights and bias agree with another's
 * (so they compute the same activation on every input and receive the same
 * gradient) count once. "Agree" is within 1e-5 of the layer's largest
 * |value|, not bit for bit: BLAS kernels may round mathematically identical
 * columns of a product differently (edge blocks), which is noise, not
 * symmetry breaking. Rows are sorted lexicographically and adjacent rows
 * compared, so a group of copies counts as 1. */
static nninit_status count_distinct(const nninit__probe *p, int l, int64_t *out, nninit_err *err)
{
    int64_t n_in = n_in_of(p, l), W = n_out_of(p, l), len = n_in + 1;
    float *rows = nninit__malloc_array((size_t)(W * len), sizeof(float));
    unit_key *keys = nninit__malloc_array((size_t)W, sizeof *keys);
    if (!rows || !keys) {
        free(rows);
        free(keys);
        return nninit__err(err, NNINIT_ENOMEM, "probe: out of memory counting units");
    }
    double scale = 0;
    for (int64_t j = 0; j < W; j++) {
        float *r = rows + j * len;
        for (int64_t i = 0; i < n_in; i++)
            r[i] = p->w[l][i * W + j];
        r[n_in] = p->b[l][j];
        for (int64_t i = 0; i < len; i++)
            scale = fmax(scale, fabs((double)r[i]));
        keys[j] = (unit_key){r, len};
    }
    qsort(keys, (size_t)W, sizeof *keys, cmp_unit);
    double tol = 1e-5 * scale;
    int64_t n = W > 0;
    for (int64_t j = 1; j < W; j++) {
        const float *x = keys[j - 1].row, *y = keys[j].row;
        int differ = 0;
        for (int64_t i = 0; i < len && !differ; i++)
            differ = fabs((double)x[i] - (double)y[i]) > tol;
        n += differ;
    }
    free(rows);
    free(keys);
    *out = n;
    return NNINIT_OK;
}

static nninit_status train_steps(nninit__probe *p, double *loss, nninit_err *err)
{
    int64_t W = n_out_of(p, p->depth - 1), B = p->batch;
    float *target = NULL;
    if (!p->o->labels) {
        /* a fixed random regression target (stream "probe/target") */
        target = nninit__malloc_array((size_t)(B * W), sizeof(float));
        if (!target)
            return nninit__err(err, NNINIT_ENOMEM, "probe: out of memory for the training target");
        uint32_t key[2];
        nninit__philox_key(p->o->seed, key);
        nninit__philox_normal(key, nninit_stream_from_name("probe/target"), NNINIT_F32, 0, (size_t)(B * W), 0.0,
                              1.0, target);
    }
    nninit_status s = NNINIT_OK;
    float lr = (float)p->o->lr;
    for (int step = 0; step < p->o->train_steps && s == NNINIT_OK; step++) {
        if ((s = forward(p, err)) != NNINIT_OK || (s = output_grad(p, target, loss, err)) != NNINIT_OK)
            break;
        backward(p, NULL, NULL);
        for (int l = 0; l < p->depth; l++) {
            int64_t nw = n_in_of(p, l) * n_out_of(p, l);
            for (int64_t i = 0; i < nw; i++)
                p->w[l][i] -= lr * p->dw[l][i];
            for (int64_t j = 0; j < n_out_of(p, l); j++)
                p->b[l][j] -= lr * p->db[l][j];
        }
        if (p->hw) {
            int64_t C = p->o->n_classes;
            for (int64_t i = 0; i < W * C; i++)
                p->hw[i] -= lr * p->hdw[i];
            for (int64_t c = 0; c < C; c++)
                p->hb[c] -= lr * p->hdb[c];
        }
    }
    free(target);
    return s;
}

/* The probe's layers: depth x (width, act, kernel_init, bias_init, bn) from
 * the options, or the dense layers of opts->layers with the batch norm and
 * activation layers that follow each folded into it. */
static nninit_status build_layers(const nninit_probe_opts *o, nninit__probe_layer **out, int *depth, nninit_err *err)
{
    *out = NULL;
    if (!o->layers) {
        if (o->depth < 1 || o->depth > 100000)
            return nninit__err(err, NNINIT_EINVAL, "probe: depth %d; use 1 to 100000", o->depth);
        if (o->width < 1 || o->width > (1 << 20))
            return nninit__err(err, NNINIT_EINVAL, "probe: width %lld; use 1 to 1048576", (long long)o->width);
        if ((unsigned)o->act >= NNINIT_ACT_COUNT || o->act == NNINIT_ACT_SOFTMAX)
            return nninit__err(err, NNINIT_EUNSUPPORTED, "probe: activation '%s'; use an elementwise activation",
                               nninit_act_name(o->act));
        if (!o->kernel_init || !o->bias_init)
            return nninit__err(err, NNINIT_EMISUSE, "probe: NULL initializer spec");
        nninit__probe_layer *L = calloc((size_t)o->depth, sizeof *L);
        if (!L)
            return nninit__err(err, NNINIT_ENOMEM, "probe: out of memory");
        for (int l = 0; l < o->depth; l++)
            L[l] = (nninit__probe_layer){o->width, o->act, o->alpha, o->kernel_init, o->bias_init, 1, o->bn, 1e-3};
        *out = L;
        *depth = o->depth;
        return NNINIT_OK;
    }
    if (o->n_layers < 1)
        return nninit__err(err, NNINIT_EINVAL, "probe: the model has no layers; give at least one dense layer");
    nninit__probe_layer *L = calloc((size_t)o->n_layers, sizeof *L);
    if (!L)
        return nninit__err(err, NNINIT_ENOMEM, "probe: out of memory");
    int n = 0;
    nninit_status s = NNINIT_OK;
    for (int i = 0; i < o->n_layers && s == NNINIT_OK; i++) {
        const nninit_layer_desc *d = &o->layers[i];
        nninit__probe_layer *last = n ? &L[n - 1] : NULL;
        switch (d->kind) {
        case NNINIT_LAYER_DENSE:
            if (d->units < 1 || d->units > (1 << 20)) {
                s = nninit__err(err, NNINIT_EINVAL, "probe: layer %d has %lld units; use 1 to 1048576", i,
                                (long long)d->units);
                break;
            }
            L[n++] = (nninit__probe_layer){d->units, d->act, d->alpha, d->kernel_init, d->bias_init, d->use_bias, 0, 1e-3};
            break;
        case NNINIT_LAYER_BATCHNORM:
            if (!last || last->bn || last->act != NNINIT_ACT_LINEAR)
                s = nninit__err(err, NNINIT_EUNSUPPORTED, "probe: layer %d: batch normalization must follow a dense "
                                "layer without activation", i);
            else if (strcmp(d->gamma_init, "ones") || strcmp(d->beta_init, "zeros"))
                s = nninit__err(err, NNINIT_EUNSUPPORTED, "probe: layer %d: the probe's batch norm has gamma 1 and "
                                "beta 0; gamma_init '%.40s', beta_init '%.40s' are not supported", i, d->gamma_init,
                                d->beta_init);
            else
                last->bn = 1, last->bn_epsilon = d->epsilon;
            break;
        case NNINIT_LAYER_ACTIVATION:
            if (!last || last->act != NNINIT_ACT_LINEAR)
                s = nninit__err(err, NNINIT_EUNSUPPORTED, "probe: layer %d: an activation layer must follow a dense "
                                "layer without activation (or its batch norm)", i);
            else
                last->act = d->act, last->alpha = d->alpha;
            break;
        case NNINIT_LAYER_DROPOUT:
            break; /* the probe measures the net as evaluated: dropout is the identity */
        default:
            s = nninit__err(err, NNINIT_EUNSUPPORTED, "probe: layer %d: kind %d is not supported", i, (int)d->kind);
        }
    }
    if (s == NNINIT_OK && n == 0)
        s = nninit__err(err, NNINIT_EINVAL, "probe: the model has no dense layer");
    for (int l = 0; l < n && s == NNINIT_OK; l++)
        if (L[l].act == NNINIT_ACT_SOFTMAX || (unsigned)L[l].act >= NNINIT_ACT_COUNT)
            s = nninit__err(err, NNINIT_EUNSUPPORTED, "probe: dense layer %d uses softmax; the probe needs elementwise "
                            "activations (use a linear output: logits)", l);
    if (s != NNINIT_OK) {
        free(L);
        return s;
    }
    *out = L;
    *depth = n;
    return NNINIT_OK;
}

static nninit_status check_opts(const nninit_probe_opts *o, const nninit__probe *p, nninit_err *err)
{
    if (o->n_inputs < 0 || o->n_inputs > (1 << 20))
        return nninit__err(err, NNINIT_EINVAL, "probe: %lld inputs; use 1 to 1048576", (long long)o->n_inputs);
    if (o->batch < 1 || o->batch > (1 << 20))
        return nninit__err(err, NNINIT_EINVAL, "probe: batch %lld; use 1 to 1048576", (long long)o->batch);
    if (o->train_steps < 0 || !(o->lr >= 0) || !isfinite(o->lr))
        return nninit__err(err, NNINIT_EINVAL, "probe: %d training steps at lr %g; need steps >= 0, lr >= 0",
                           o->train_steps, o->lr);
    if (!(o->input_scale >= 0) || !isfinite(o->input_scale))
        return nninit__err(err, NNINIT_EINVAL, "probe: input scale %g; must be finite and >= 0", o->input_scale);
    if (o->jacobian_samples < 0)
        return nninit__err(err, NNINIT_EINVAL, "probe: %d Jacobian samples; must be >= 0", o->jacobian_samples);
    int any_bn = 0;
    for (int l = 0; l < p->depth; l++)
        any_bn |= p->L[l].bn;
    if (o->jacobian_samples > 0 && any_bn)
        return nninit__err(err, NNINIT_EUNSUPPORTED, "probe: the Jacobian with batch norm couples the rows of the "
                           "batch; run --jacobian without --bn");
    if (o->jacobian_samples > 0 && (double)p->n0 * (double)p->wmax > 1e8)
        return nninit__err(err, NNINIT_EINVAL, "probe: a Jacobian of %lld inputs through layers up to %lld wide is "
                           "too large; keep both below 10000", (long long)p->n0, (long long)p->wmax);
    if (o->labels) {
        if (o->n_classes < 2 || o->n_classes > p->wmax)
            return nninit__err(err, NNINIT_EINVAL, "probe: %d classes; need 2 to %lld (the widest layer)",
                               (int)o->n_classes, (long long)p->wmax);
        for (int64_t r = 0; r < o->batch; r++)
            if (o->labels[r] < 0 || o->labels[r] >= o->n_classes)
                return nninit__err(err, NNINIT_EINVAL, "probe: label %d of row %lld is outside [0, %d)",
                                   (int)o->labels[r], (long long)r, (int)o->n_classes);
    }
    return NNINIT_OK;
}

static nninit_probe_verdict verdict(double ratio)
{
    return ratio < 1 / VERDICT_FACTOR ? NNINIT_VERDICT_VANISHING
           : ratio > VERDICT_FACTOR  ? NNINIT_VERDICT_EXPLODING
                                     : NNINIT_VERDICT_STABLE;
}

nninit_status nninit_probe_run(const nninit_probe_opts *opts, nninit_probe_result **out, nninit_err *err)
{
    if (!out)
        return nninit__err(err, NNINIT_EMISUSE, "nninit_probe_run: NULL output");
    *out = NULL;
    if (!opts)
        return nninit__err(err, NNINIT_EMISUSE, "nninit_probe_run: NULL options");
    nninit__probe p;
    memset(&p, 0, sizeof p);
    p.o = opts;
    p.batch = opts->batch;
    nninit_status s = build_layers(opts, &p.L, &p.depth, err);
    if (s != NNINIT_OK)
        return s;
    p.n0 = opts->n_inputs ? opts->n_inputs : p.L[0].n_out;
    p.wmax = p.n0;
    for (int l = 0; l < p.depth; l++)
        p.wmax = p.L[l].n_out > p.wmax ? p.L[l].n_out : p.wmax;
    if ((s = check_opts(opts, &p, err)) != NNINIT_OK) {
        free(p.L);
        return s;
    }
    nninit_probe_result *r = calloc(1, sizeof *r);
    if (!r) {
        free(p.L);
        return nninit__err(err, NNINIT_ENOMEM, "probe: out of memory");
    }
    r->depth = p.depth;
    r->layers = calloc((size_t)p.depth, sizeof *r->layers);
    if (!r->layers) {
        free(r);
        free(p.L);
        return nninit__err(err, NNINIT_ENOMEM, "probe: out of memory");
    }
    if ((s = probe_alloc(&p, err)) != NNINIT_OK || (s = probe_init(&p, err)) != NNINIT_OK ||
        (s = forward(&p, err)) != NNINIT_OK || (s = output_grad(&p, NULL, &r->loss, err)) != NNINIT_OK)
        goto fail;
    int64_t B = p.batch;
    mean_var(p.x, B * p.n0, NULL, &r->input_var);
    {
        double m2 = 0;
        for (int64_t i = 0; i < B * p.n0; i++)
            m2 += (double)p.x[i] * (double)p.x[i];
        r->input_m2 = m2 / (double)(B * p.n0);
    }
    for (int l = 0; l < p.depth; l++) {
        nninit_probe_layer *y = &r->layers[l];
        int64_t W = n_out_of(&p, l);
        nninit_act act = p.L[l].act;
        y->units = W;
        y->act = act;
        mean_var(p.pre[l], B * W, &y->pre_mean, &y->pre_var);
        mean_var(p.act[l], B * W, &y->act_mean, &y->act_var);
        double prev = l ? r->layers[l - 1].pre_var : r->input_var;
        y->fwd_gain = prev > 0 ? y->pre_var / prev : (double)NAN;
        y->frac_dead = y->frac_saturated = (double)NAN;
        const float *a = p.act[l];
        const float *in = l ? p.act[l - 1] : p.x;
        int64_t cnt = 0;
        for (int64_t i = 0; i < B * W; i++) {
            float v = has_skip(&p, l) ? a[i] - in[i] : a[i]; /* the activation's own output */
            if (act == NNINIT_ACT_RELU)
                cnt += v == 0.0f;
            else if (act == NNINIT_ACT_TANH)
                cnt += fabsf(v) > 0.99f;
            else if (act == NNINIT_ACT_SIGMOID)
                cnt += v < 0.01f || v > 0.99f;
        }
        if (act == NNINIT_ACT_RELU)
            y->frac_dead = (double)cnt / (double)(B * W);
        else if (act == NNINIT_ACT_TANH || act == NNINIT_ACT_SIGMOID)
            y->frac_saturated = (double)cnt / (double)(B * W);
        if ((s = count_distinct(&p, l, &y->distinct_before, err)) != NNINIT_OK)
            goto fail;
        y->distinct_after = -1;
    }
    grad_ctx gk = {&p, r};
    backward(&p, record_grads, &gk);
    nninit__probe_predict(&p, r);
    if (p.depth >= 2) {
        const double tiny = 1e-300;
        double fr = (r->layers[p.depth - 1].pre_var + tiny) / (r->layers[0].pre_var + tiny);
        double br = (r->layers[0].grad_in_var + tiny) / (r->layers[p.depth - 1].grad_in_var + tiny);
        r->fwd_gain_geo = pow(fr, 1.0 / (p.depth - 1));
        r->bwd_gain_geo = pow(br, 1.0 / (p.depth - 1));
        r->fwd_verdict = verdict(fr);
        r->bwd_verdict = verdict(br);
    } else {
        r->fwd_gain_geo = r->bwd_gain_geo = (double)NAN;
        r->fwd_verdict = r->bwd_verdict = NNINIT_VERDICT_STABLE;
    }
    if (opts->jacobian_samples > 0 && (s = nninit__probe_jacobian(&p, r, err)) != NNINIT_OK)
        goto fail;
    if (opts->train_steps > 0) {
        double loss;
        if ((s = train_steps(&p, &loss, err)) != NNINIT_OK)
            goto fail;
        for (int l = 0; l < p.depth; l++)
            if ((s = count_distinct(&p, l, &r->layers[l].distinct_after, err)) != NNINIT_OK)
                goto fail;
    }
    probe_free(&p);
    *out = r;
    return NNINIT_OK;
fail:
    probe_free(&p);
    nninit_probe_result_free(r);
    return s;
}
