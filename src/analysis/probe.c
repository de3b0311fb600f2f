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
    nninit_net_free(p->net);
    free(p->desc), free(p->blk), free(p->x), free(p->g), free(p->L);
}

/* Copies an initializer SPEC into a layer description's field. */
static nninit_status put_spec(char *dst, const char *spec, nninit_err *err)
{
    size_t n = strlen(spec);
    if (n >= NNINIT_SPEC_MAX)
        return nninit__err(err, NNINIT_EINVAL, "probe: an initializer SPEC of %zu characters; at most %d", n,
                           NNINIT_SPEC_MAX - 1);
    memcpy(dst, spec, n + 1);
    return NNINIT_OK;
}

/* The engine names the tensor whose initializer failed ("dense_2/kernel:
 * unknown initializer ..."); the probe's messages name the dense layer of a
 * model ("dense_2: ...") and nothing in a --depth/--width net. */
static void probe_fill_err(nninit_err *err, int model)
{
    if (!err || strncmp(err->msg, "dense_", 6))
        return;
    const char *slash = strchr(err->msg, '/'), *colon = slash ? strstr(slash, ": ") : NULL;
    if (!colon || (strncmp(slash, "/kernel: ", 9) && strncmp(slash, "/bias: ", 7)))
        return;
    size_t keep = model ? (size_t)(slash - err->msg) : 0, rest = strlen(colon + 2);
    if (model) {
        memcpy(err->msg + keep, ": ", 2);
        keep += 2;
    }
    memmove(err->msg + keep, colon + 2, rest + 1);
}

/* The engine's layers of the probe: per block a dense layer (its activation
 * fused unless batch norm comes between), the batch norm (gamma 1, beta 0:
 * the probe never steps them) and its activation layer, and the add of the
 * skip; then, with labels, the linear head (kernel as the last block's,
 * bias zero). The engine names the dense layers dense_0, dense_1, ... (the
 * head dense_<depth>), so their Philox streams are those of the same layers
 * in nninit_net_new. */
static nninit_status build_net(nninit__probe *p, nninit_err *err)
{
    int max_desc = 4 * p->depth + 1;
    p->desc = nninit__calloc_array((size_t)max_desc, sizeof *p->desc);
    p->blk = nninit__calloc_array((size_t)p->depth, sizeof *p->blk);
    if (!p->desc || !p->blk)
        return nninit__err(err, NNINIT_ENOMEM, "probe: out of memory for %d layers", p->depth);
    int n = 0;
    nninit_status s = NNINIT_OK;
    for (int l = 0; l < p->depth && s == NNINIT_OK; l++) {
        const nninit__probe_layer *y = &p->L[l];
        int in = l ? block_out(p, l - 1) : NNINIT_INPUT_NET;
        nninit_layer_desc *d = &p->desc[n];
        *d = nninit_layer_desc_default(NNINIT_LAYER_DENSE);
        d->units = y->n_out;
        d->use_bias = y->use_bias;
        d->act = y->bn ? NNINIT_ACT_LINEAR : y->act;
        d->alpha = y->bn ? 0.0 : y->alpha;
        d->input[0] = in;
        if ((s = put_spec(d->kernel_init, y->kernel_init, err)) != NNINIT_OK ||
            (s = put_spec(d->bias_init, y->bias_init, err)) != NNINIT_OK)
            break;
        p->blk[l].dense = p->blk[l].act = n++;
        p->blk[l].add = -1;
        if (y->bn) {
            d = &p->desc[n++];
            *d = nninit_layer_desc_default(NNINIT_LAYER_BATCHNORM);
            d->epsilon = y->bn_epsilon;
            d = &p->desc[n];
            *d = nninit_layer_desc_default(NNINIT_LAYER_ACTIVATION);
            d->act = y->act;
            d->alpha = y->alpha;
            p->blk[l].act = n++;
        }
        if (has_skip(p, l)) {
            d = &p->desc[n];
            *d = nninit_layer_desc_default(NNINIT_LAYER_ADD);
            d->input[0] = p->blk[l].act;
            d->input[1] = in;
            p->blk[l].add = n++;
        }
    }
    p->n_body = n;
    if (s == NNINIT_OK && p->o->labels) {
        nninit_layer_desc *d = &p->desc[n++];
        *d = nninit_layer_desc_default(NNINIT_LAYER_DENSE);
        d->units = p->o->n_classes;
        s = put_spec(d->kernel_init, p->L[p->depth - 1].kernel_init, err);
    }
    p->n_desc = n;
    if (s != NNINIT_OK)
        return s;
    nninit_net_opts no = nninit_net_opts_default();
    no.seed = p->o->seed;
    s = nninit_net_new(p->n0, p->desc, p->n_desc, &no, &p->net, err);
    if (s != NNINIT_OK)
        probe_fill_err(err, p->o->layers != NULL);
    return s;
}

static nninit_status probe_init(nninit__probe *p, nninit_err *err)
{
    int64_t n_last = p->o->labels ? p->o->n_classes : n_out_of(p, p->depth - 1);
    p->x = nninit__malloc_array((size_t)(p->batch * p->n0), sizeof(float));
    p->g = nninit__malloc_array((size_t)(p->batch * n_last), sizeof(float));
    if (!p->x || !p->g)
        return nninit__err(err, NNINIT_ENOMEM, "probe: out of memory for a batch of %lld x %lld",
                           (long long)p->batch, (long long)p->wmax);
    nninit_status s = build_net(p, err);
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

/* Block l's tensors of the last forward/backward. */
static const float *tensor(const nninit__probe *p, int layer, nninit_tensor_role role)
{
    return nninit_net_tensor(p->net, layer, role, NULL, NULL);
}
static const float *block_pre(const nninit__probe *p, int l) /* the activation's input */
{
    const nninit__probe_block *b = &p->blk[l];
    return b->act == b->dense ? tensor(p, b->dense, NNINIT_T_PREACT) : tensor(p, b->act, NNINIT_T_INPUT);
}
static const float *block_act(const nninit__probe *p, int l) /* a_l */
{
    return tensor(p, block_out(p, l), NNINIT_T_OUTPUT);
}
static const float *block_grad_in(const nninit__probe *p, int l) /* dL/da_{l-1}, dL/dx for l = 0 */
{
    return l ? tensor(p, block_out(p, l - 1), NNINIT_T_GRAD_OUTPUT) : nninit_net_input_grad(p->net, NULL, NULL);
}
static float *block_param(const nninit__probe *p, int layer, int which, float **grad)
{
    float *v = NULL;
    if (nninit_net_param(p->net, layer, which, &v, grad, NULL, NULL, NULL) != NNINIT_OK && grad)
        *grad = NULL;
    return v;
}

/* The engine's forward in training mode (batch statistics), then the
 * probe's check that every block's output is finite. */
static nninit_status forward(nninit__probe *p, nninit_err *err)
{
    nninit_status s = nninit_net_forward(p->net, p->x, p->batch, 1, NULL, err);
    for (int l = 0; l < p->depth && s == NNINIT_OK; l++)
        if (!all_finite(block_act(p, l), p->batch * n_out_of(p, l)))
            return nninit__err(err, NNINIT_ENUMERIC, "probe: activations overflow at layer %d of %d (inf or nan); "
                               "the initializer makes the signal explode: use fewer layers or a smaller scale",
                               l + 1, p->depth);
    return s;
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

/* The gradient statistics of every block after the engine's backward. */
static void record_grads(const nninit__probe *p, nninit_probe_result *r)
{
    int64_t B = p->batch;
    for (int l = 0; l < p->depth; l++) {
        nninit_probe_layer *y = &r->layers[l];
        int64_t W = n_out_of(p, l), n_in = n_in_of(p, l);
        float *dw = NULL;
        block_param(p, p->blk[l].dense, 0, &dw);
        mean_var(tensor(p, block_out(p, l), NNINIT_T_GRAD_OUTPUT), B * W, NULL, &y->grad_out_var);
        mean_var(block_grad_in(p, l), B * n_in, NULL, &y->grad_in_var);
        mean_var(dw, n_in * W, NULL, &y->grad_w_var);
        y->bwd_gain = y->grad_out_var > 0 ? y->grad_in_var / y->grad_out_var : (double)NAN;
    }
}

/* dL/dOutput into p->g: softmax cross-entropy on the head's logits with
 * labels, else MSE of a_L against `target` when given, else standard
 * normal. */
static nninit_status output_grad(nninit__probe *p, const float *target, double *loss, nninit_err *err)
{
    int64_t W = n_out_of(p, p->depth - 1), B = p->batch;
    const float *out = tensor(p, p->n_desc - 1, NNINIT_T_OUTPUT);
    *loss = (double)NAN;
    if (p->o->labels)
        return nninit_loss(NNINIT_LOSS_SOFTMAX_CE, out, B, p->o->n_classes, p->o->labels, NULL, loss, p->g, err);
    if (target)
        return nninit_loss(NNINIT_LOSS_MSE, out, B, W, NULL, target, loss, p->g, err);
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
    const float *w = block_param(p, p->blk[l].dense, 0, NULL);
    const float *b = p->L[l].use_bias ? block_param(p, p->blk[l].dense, 1, NULL) : NULL;
    double scale = 0;
    for (int64_t j = 0; j < W; j++) {
        float *r = rows + j * len;
        for (int64_t i = 0; i < n_in; i++)
            r[i] = w[i * W + j];
        r[n_in] = b ? b[j] : 0.0f;
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
    /* plain SGD (the engine's rule, momentum 0) on the dense layers and the
     * head; the batch norms keep gamma 1 and beta 0 */
    nninit_optim_opts sgd = nninit_optim_opts_default();
    nninit_status s = nninit__optim_prepare(p->net, &sgd, p->o->lr, err);
    for (int step = 0; step < p->o->train_steps && s == NNINIT_OK; step++) {
        if ((s = forward(p, err)) != NNINIT_OK || (s = output_grad(p, target, loss, err)) != NNINIT_OK ||
            (s = nninit_net_backward(p->net, p->g, 0, err)) != NNINIT_OK)
            break;
        for (int i = 0; i < p->n_desc; i++)
            if (p->desc[i].kind == NNINIT_LAYER_DENSE)
                nninit__layer_step(&p->net->layers[i], &sgd, p->o->lr, p->net->t);
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
    if ((s = probe_init(&p, err)) != NNINIT_OK || (s = forward(&p, err)) != NNINIT_OK ||
        (s = output_grad(&p, NULL, &r->loss, err)) != NNINIT_OK ||
        (s = nninit_net_backward(p.net, p.g, 1, err)) != NNINIT_OK)
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
        mean_var(block_pre(&p, l), B * W, &y->pre_mean, &y->pre_var);
        mean_var(block_act(&p, l), B * W, &y->act_mean, &y->act_var);
        double prev = l ? r->layers[l - 1].pre_var : r->input_var;
        y->fwd_gain = prev > 0 ? y->pre_var / prev : (double)NAN;
        y->frac_dead = y->frac_saturated = (double)NAN;
        const float *a = tensor(&p, p.blk[l].act, NNINIT_T_OUTPUT); /* the activation's own output */
        int64_t cnt = 0;
        for (int64_t i = 0; i < B * W; i++) {
            float v = a[i];
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
    record_grads(&p, r);
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
