/* The network object: construction from a layer description (every tensor
 * filled by nninit_fill from its own Philox stream), shape inference (a
 * description whose shapes do not chain is refused here, naming the two
 * layers), and the accessors. Forward and backward are in net_run.c. */
#include "nn/internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const kind_names[NNINIT_LAYER_KIND_COUNT] = {
    "dense",   "activation",       "batch_normalization",      "dropout", "conv2d", "max_pooling2d",
    "average_pooling2d", "global_average_pooling2d", "flatten", "add",     "scale", "simple_rnn", "lstm", "gru",
    "embedding", "position_embedding", "layer_normalization", "multi_head_attention", "transformer"};

const char *nninit_layer_kind_name(nninit_layer_kind kind)
{
    return (unsigned)kind < NNINIT_LAYER_KIND_COUNT ? kind_names[kind] : "unknown";
}

nninit_layer_desc nninit_layer_desc_default(nninit_layer_kind kind)
{
    nninit_layer_desc d;
    memset(&d, 0, sizeof d);
    d.kind = kind;
    d.use_bias = kind != NNINIT_LAYER_SCALE;
    d.act = NNINIT_ACT_LINEAR;
    /* Keras' defaults: Dense and Conv2D glorot_uniform/zeros, BatchNormalization ones/zeros, 0.99, 1e-3 */
    strcpy(d.kernel_init, kind == NNINIT_LAYER_SCALE ? "ones" : "glorot_uniform");
    strcpy(d.bias_init, "zeros");
    strcpy(d.gamma_init, "ones");
    strcpy(d.beta_init, "zeros");
    d.momentum = 0.99;
    d.epsilon = 1e-3;
    int pool = kind == NNINIT_LAYER_MAXPOOL2D || kind == NNINIT_LAYER_AVGPOOL2D;
    d.kernel[0] = d.kernel[1] = pool ? 2 : 3;
    d.strides[0] = d.strides[1] = pool ? 0 : 1; /* pooling: 0 = the window */
    d.dilation[0] = d.dilation[1] = 1;
    d.groups = 1;
    d.input[0] = d.input[1] = NNINIT_INPUT_PREV;
    strcpy(d.recurrent_init, "orthogonal");
    d.unit_forget_bias = 1;
    d.reset_after = 1;
    if (kind == NNINIT_LAYER_SIMPLE_RNN || kind == NNINIT_LAYER_LSTM || kind == NNINIT_LAYER_GRU)
        d.act = NNINIT_ACT_TANH;
    if (kind == NNINIT_LAYER_EMBEDDING)
        strcpy(d.kernel_init, "uniform"); /* Keras Embedding: RandomUniform(-0.05, 0.05) */
    d.padding_idx = -1;
    if (kind == NNINIT_LAYER_TRANSFORMER)
        d.act = NNINIT_ACT_GELU;
    d.heads = 1;
    d.scale = 1;
    return d;
}

nninit_net_opts nninit_net_opts_default(void)
{
    nninit_net_opts o;
    memset(&o, 0, sizeof o);
    o.seed = NNINIT_DEFAULT_SEED;
    o.layout = NNINIT_LAYOUT_KERAS;
    return o;
}

void nninit__net_free_buffers(nninit_net *net)
{
    for (int i = 0; i < net->n_layers; i++) {
        nninit__layer *L = &net->layers[i];
        free(L->z);
        free(L->out);
        free(L->dz);
        free(L->dx);
        free(L->dx2);
        free(L->gsum);
        free(L->work);
        free(L->cache);
        free(L->ids);
        L->cache = NULL;
        L->ids = NULL;
        L->z = L->out = L->dz = L->dx = L->dx2 = L->gsum = L->work = NULL;
    }
    free(net->dx_in_sum);
    net->dx_in_sum = NULL;
    net->dx_in = NULL;
    net->cap = 0;
}

void nninit_net_free(nninit_net *net)
{
    if (!net)
        return;
    nninit__net_free_buffers(net);
    for (int i = 0; i < net->n_layers; i++) {
        nninit__layer *L = &net->layers[i];
        free(L->rnn);
        free(L->block);
        for (int p = 0; p < NNINIT__MAX_PARAMS; p++) {
            free(L->param[p].value);
            free(L->param[p].grad);
            free(L->param[p].m1);
            free(L->param[p].m2);
        }
        free(L->run_mean);
        free(L->run_var);
        free(L->bn_invstd);
    }
    free(net->layers);
    free(net);
}

/* err->msg = "<name>: <err->msg>", cut to fit. */
static void prefix_err(nninit_err *err, const char *name)
{
    if (!err)
        return;
    size_t cap = sizeof err->msg, pl = strlen(name) + 2, ml = strlen(err->msg);
    if (pl >= cap)
        return;
    if (ml > cap - 1 - pl)
        ml = cap - 1 - pl;
    memmove(err->msg + pl, err->msg, ml);
    memcpy(err->msg, name, pl - 2);
    memcpy(err->msg + pl - 2, ": ", 2);
    err->msg[pl + ml] = '\0';
}

/* Fills one parameter from its SPEC with the stream of its name. Under the
 * torch layout a kernel is filled in torch's shape ((out, in) or
 * (out, in/groups, kh, kw)) and transposed into the engine's. */
static nninit_status init_param(nninit__param *p, const char *spec, const nninit_net_opts *opts, nninit_rng *rng,
                                int is_kernel, nninit_err *err)
{
    nninit_init init;
    nninit_status s = nninit_init_parse(spec, &init, err);
    if (s != NNINIT_OK) {
        prefix_err(err, p->name); /* so the user knows which layer was wrong */
        return s;
    }
    nninit_fill_opts fo = nninit_fill_opts_default();
    fo.layout = opts->layout;
    fo.dtype = NNINIT_F32;
    fo.stream = nninit_stream_from_name(p->name);
    fo.threads = 1;
    nninit_shape shape = p->shape;
    float *tmp = NULL;
    int torch = is_kernel && opts->layout == NNINIT_LAYOUT_TORCH;
    if (torch) {
        if (p->shape.ndim == 4) { /* HWIO -> OIHW */
            shape.dim[0] = p->shape.dim[3];
            shape.dim[1] = p->shape.dim[2];
            shape.dim[2] = p->shape.dim[0];
            shape.dim[3] = p->shape.dim[1];
        } else {
            shape.dim[0] = p->shape.dim[1];
            shape.dim[1] = p->shape.dim[0];
        }
        tmp = nninit__malloc_array((size_t)p->n, sizeof *tmp);
        if (!tmp)
            return nninit__err(err, NNINIT_ENOMEM, "%s: out of memory", p->name);
    }
    s = nninit_fill(&init, &shape, &fo, rng, tmp ? (void *)tmp : (void *)p->value, err);
    if (s != NNINIT_OK) {
        free(tmp);
        prefix_err(err, p->name);
        return s;
    }
    if (tmp) {
        nninit__from_torch_layout(tmp, &p->shape, p->value);
        free(tmp);
    }
    return NNINIT_OK;
}

void nninit__from_torch_layout(const float *src, const nninit_shape *engine_shape, float *dst)
{
    if (engine_shape->ndim == 4) {
        /* OIHW (o, i, kh, kw) -> HWIO (kh, kw, i, o) */
        int64_t kh = engine_shape->dim[0], kw = engine_shape->dim[1], ci = engine_shape->dim[2],
                co = engine_shape->dim[3];
        for (int64_t o = 0; o < co; o++)
            for (int64_t i = 0; i < ci; i++)
                for (int64_t a = 0; a < kh; a++)
                    for (int64_t b = 0; b < kw; b++)
                        dst[((a * kw + b) * ci + i) * co + o] = src[((o * ci + i) * kh + a) * kw + b];
    } else if (engine_shape->ndim == 2) {
        int64_t rows = engine_shape->dim[1], cols = engine_shape->dim[0]; /* torch (out, in) */
        for (int64_t r = 0; r < rows; r++)
            for (int64_t c = 0; c < cols; c++)
                dst[c * rows + r] = src[r * cols + c];
    } else {
        int64_t n = 1;
        for (int d = 0; d < engine_shape->ndim; d++)
            n *= engine_shape->dim[d];
        memcpy(dst, src, (size_t)n * sizeof *dst);
    }
}

static nninit_status add_param(nninit__layer *L, int idx, const char *tensor, int ndim, const int64_t *dims,
                               nninit_err *err)
{
    nninit__param *p = &L->param[idx];
    snprintf(p->name, sizeof p->name, "%s/%s", L->name, tensor);
    p->shape.ndim = ndim;
    p->n = 1;
    for (int d = 0; d < ndim; d++) {
        p->shape.dim[d] = dims[d];
        p->n *= dims[d];
    }
    p->value = nninit__malloc_array((size_t)p->n, sizeof *p->value);
    p->grad = nninit__calloc_array((size_t)p->n, sizeof *p->grad);
    if (!p->value || !p->grad)
        return nninit__err(err, NNINIT_ENOMEM, "%s: out of memory for %lld values", p->name, (long long)p->n);
    return NNINIT_OK;
}

/* add_param then init_param. */
static nninit_status add_init(nninit__layer *L, int idx, const char *tensor, int ndim, const int64_t *dims,
                              const char *spec, const nninit_net_opts *o, nninit_rng *rng, int is_kernel,
                              nninit_err *err)
{
    nninit_status s = add_param(L, idx, tensor, ndim, dims, err);
    return s == NNINIT_OK ? init_param(&L->param[idx], spec, o, rng, is_kernel, err) : s;
}

/* The attention tensors from index first on, in the order nninit_net_param
 * documents: Keras query, key, value, output (kernel (in, out) then bias),
 * or torch's in_proj_weight (3 d, d), in_proj_bias, out_proj (stored as
 * torch holds them, so torch's fans and fill order apply as they are). */
static nninit_status add_attention_params(nninit__layer *L, int first, const nninit_layer_desc *d, int bias,
                                          const nninit_net_opts *o, nninit_rng *rng, nninit_err *err)
{
    const nninit__mha_spec *m = &L->block->mha;
    int64_t D = m->d_model, Hh = m->heads * m->head_dim;
    int k = first;
    nninit_status s = NNINIT_OK;
    if (m->torch_layout) {
        int64_t in_w[2] = {3 * D, D}, in_b = 3 * D, out_w[2] = {D, D};
        s = add_init(L, k++, "attention/in_proj_weight", 2, in_w, d->kernel_init, o, rng, 0, err);
        if (s == NNINIT_OK && bias)
            s = add_init(L, k++, "attention/in_proj_bias", 1, &in_b, d->bias_init, o, rng, 0, err);
        if (s == NNINIT_OK)
            s = add_init(L, k++, "attention/out_proj/weight", 2, out_w, d->kernel_init, o, rng, 0, err);
        if (s == NNINIT_OK && bias)
            s = add_init(L, k++, "attention/out_proj/bias", 1, &D, d->bias_init, o, rng, 0, err);
        return s;
    }
    static const char *const proj[4] = {"query", "key", "value", "attention_output"};
    for (int p = 0; p < 4 && s == NNINIT_OK; p++) {
        char nm[40];
        int64_t kd[2] = {p < 3 ? D : Hh, p < 3 ? Hh : D}, bd = p < 3 ? Hh : D;
        snprintf(nm, sizeof nm, "attention/%s/kernel", proj[p]);
        s = add_init(L, k++, nm, 2, kd, d->kernel_init, o, rng, 0, err);
        snprintf(nm, sizeof nm, "attention/%s/bias", proj[p]);
        if (s == NNINIT_OK && bias)
            s = add_init(L, k++, nm, 1, &bd, d->bias_init, o, rng, 0, err);
    }
    return s;
}

/* An attention or transformer layer: its spec and tensors. */
static nninit_status build_attention(nninit__layer *L, const nninit_layer_desc *d, const nninit_net_opts *o,
                                     nninit_rng *rng, nninit_err *err)
{
    int64_t D = L->in_shape.dim[1];
    int torch = o->layout == NNINIT_LAYOUT_TORCH;
    if (!d->key_dim && D % d->heads)
        return nninit__err(err, NNINIT_EINVAL, "%s: %lld features do not split into %lld heads; give key_dim or a "
                           "head count that divides them", L->name, (long long)D, (long long)d->heads);
    int64_t hd = d->key_dim ? d->key_dim : D / d->heads;
    if (torch && hd * d->heads != D)
        return nninit__err(err, NNINIT_EINVAL, "%s: key_dim %lld x %lld heads != %lld features; torch's "
                           "MultiheadAttention needs key_dim = d / heads", L->name, (long long)hd,
                           (long long)d->heads, (long long)D);
    nninit__block_spec *b = calloc(1, sizeof *b);
    if (!b)
        return nninit__err(err, NNINIT_ENOMEM, "%s: out of memory", L->name);
    L->block = b;
    b->mha.d_model = D;
    b->mha.heads = d->heads;
    b->mha.head_dim = hd;
    b->mha.torch_layout = torch;
    b->mha.causal = d->causal;
    if (d->kind == NNINIT_LAYER_ATTENTION) {
        L->n_params = (torch ? 2 : 4) * (d->use_bias ? 2 : 1);
        return add_attention_params(L, 0, d, d->use_bias, o, rng, err);
    }
    /* transformer: always with biases, as torch's TransformerEncoderLayer */
    b->d_ff = d->units;
    b->gelu_approximate = d->act == NNINIT_ACT_GELU_TANH;
    b->ln_epsilon = d->epsilon;
    L->n_params = torch ? 12 : 16;
    int64_t w1[2] = {torch ? d->units : D, torch ? D : d->units}, w2[2] = {w1[1], w1[0]};
    int lnk = torch ? 8 : 0, mk = torch ? 0 : 2, fk = torch ? 4 : 12; /* first index of each group */
    nninit_status s = add_init(L, lnk, "ln1/gamma", 1, &D, d->gamma_init, o, rng, 0, err);
    if (s == NNINIT_OK)
        s = add_init(L, lnk + 1, "ln1/beta", 1, &D, d->beta_init, o, rng, 0, err);
    if (s == NNINIT_OK)
        s = add_attention_params(L, mk, d, 1, o, rng, err);
    if (s == NNINIT_OK)
        s = add_init(L, 10, "ln2/gamma", 1, &D, d->gamma_init, o, rng, 0, err);
    if (s == NNINIT_OK)
        s = add_init(L, 11, "ln2/beta", 1, &D, d->beta_init, o, rng, 0, err);
    if (s == NNINIT_OK)
        s = add_init(L, fk, "mlp/w1", 2, w1, d->kernel_init, o, rng, 0, err);
    if (s == NNINIT_OK)
        s = add_init(L, fk + 1, "mlp/b1", 1, &d->units, d->bias_init, o, rng, 0, err);
    if (s == NNINIT_OK)
        s = add_init(L, fk + 2, "mlp/w2", 2, w2, d->kernel_init, o, rng, 0, err);
    if (s == NNINIT_OK)
        s = add_init(L, fk + 3, "mlp/b2", 1, &D, d->bias_init, o, rng, 0, err);
    return s;
}

static nninit_status check_desc(int i, const nninit_layer_desc *d, nninit_err *err)
{
    if ((unsigned)d->kind >= NNINIT_LAYER_KIND_COUNT)
        return nninit__err(err, NNINIT_EINVAL, "layer %d: unknown kind %d", i, (int)d->kind);
    const char *kn = kind_names[d->kind];
    if ((unsigned)d->act >= NNINIT_ACT_COUNT)
        return nninit__err(err, NNINIT_EINVAL, "layer %d: unknown activation %d", i, (int)d->act);
    int recurrent = d->kind == NNINIT_LAYER_SIMPLE_RNN || d->kind == NNINIT_LAYER_LSTM || d->kind == NNINIT_LAYER_GRU;
    if ((d->kind == NNINIT_LAYER_DENSE || recurrent || (d->kind == NNINIT_LAYER_CONV2D && d->depth_multiplier <= 0)) &&
        (d->units < 1 || d->units > (INT64_C(1) << 24)))
        return nninit__err(err, NNINIT_EINVAL, "layer %d (%s): %s %lld; expected 1 .. 16777216", i, kn,
                           d->kind == NNINIT_LAYER_DENSE ? "units" : "filters", (long long)d->units);
    if (!isfinite(d->alpha))
        return nninit__err(err, NNINIT_EINVAL, "layer %d: activation parameter %g; expected a finite value", i,
                           d->alpha);
    if (d->kind == NNINIT_LAYER_BATCHNORM &&
        (!(d->momentum >= 0.0 && d->momentum <= 1.0) || !(d->epsilon > 0.0) || !isfinite(d->epsilon)))
        return nninit__err(err, NNINIT_EINVAL,
                           "layer %d (batch_normalization): momentum %g, epsilon %g; expected momentum in [0, 1], "
                           "epsilon > 0",
                           i, d->momentum, d->epsilon);
    int seq_attn = d->kind == NNINIT_LAYER_ATTENTION || d->kind == NNINIT_LAYER_TRANSFORMER;
    if ((d->kind == NNINIT_LAYER_EMBEDDING || d->kind == NNINIT_LAYER_TRANSFORMER) &&
        (d->units < 1 || d->units > (INT64_C(1) << 24)))
        return nninit__err(err, NNINIT_EINVAL, "layer %d (%s): %s %lld; expected 1 .. 16777216", i, kn,
                           d->kind == NNINIT_LAYER_EMBEDDING ? "output_dim" : "intermediate_dim", (long long)d->units);
    if ((d->kind == NNINIT_LAYER_EMBEDDING || d->kind == NNINIT_LAYER_POSITION_EMBEDDING) &&
        (d->vocab < 1 || d->vocab > (INT64_C(1) << 24)))
        return nninit__err(err, NNINIT_EINVAL, "layer %d (%s): %s %lld; expected 1 .. 16777216", i, kn,
                           d->kind == NNINIT_LAYER_EMBEDDING ? "input_dim" : "sequence_length", (long long)d->vocab);
    if (d->kind == NNINIT_LAYER_EMBEDDING && (d->padding_idx < -1 || d->padding_idx >= d->vocab))
        return nninit__err(err, NNINIT_EINVAL, "layer %d (%s): padding_idx %lld; expected -1 (none) or 0 .. %lld", i, kn,
                           (long long)d->padding_idx, (long long)(d->vocab - 1));
    if (seq_attn && (d->heads < 1 || d->heads > 4096 || d->key_dim < 0 || d->key_dim > (INT64_C(1) << 20)))
        return nninit__err(err, NNINIT_EINVAL, "layer %d (%s): num_heads %lld, key_dim %lld; expected 1 .. 4096 heads "
                           "and key_dim 0 (d / heads) .. 1048576", i, kn, (long long)d->heads, (long long)d->key_dim);
    if (d->kind == NNINIT_LAYER_TRANSFORMER && d->act != NNINIT_ACT_GELU && d->act != NNINIT_ACT_GELU_TANH)
        return nninit__err(err, NNINIT_EINVAL, "layer %d (transformer): activation %s; the block's MLP is gelu or "
                           "gelu_tanh", i, nninit_act_name(d->act));
    if ((d->kind == NNINIT_LAYER_LAYER_NORM || d->kind == NNINIT_LAYER_TRANSFORMER) &&
        (!(d->epsilon > 0.0) || !isfinite(d->epsilon) || d->norm < 0 || d->norm > 2))
        return nninit__err(err, NNINIT_EINVAL, "layer %d (%s): epsilon %g, norm %d; expected epsilon > 0 and norm 0 "
                           "(layer), 1 (rms) or 2 (Keras rms_scaling)", i, kn, d->epsilon, d->norm);
    if (d->kind == NNINIT_LAYER_DROPOUT && !(d->rate >= 0.0 && d->rate < 1.0))
        return nninit__err(err, NNINIT_EINVAL, "layer %d (dropout): rate %g; expected 0 <= rate < 1", i, d->rate);
    if (d->kind == NNINIT_LAYER_CONV2D && (d->depth_multiplier < 0 || d->depth_multiplier > 4096))
        return nninit__err(err, NNINIT_EINVAL, "layer %d (conv2d): depth_multiplier %lld; expected 0 .. 4096", i,
                           (long long)d->depth_multiplier);
    if (d->kind == NNINIT_LAYER_CONV2D && (d->groups < 1 || d->groups > (INT64_C(1) << 24)))
        return nninit__err(err, NNINIT_EINVAL, "layer %d (conv2d): groups %lld; expected 1 .. 16777216", i,
                           (long long)d->groups);
    if ((unsigned)d->padding > NNINIT_PAD_SAME)
        return nninit__err(err, NNINIT_EINVAL, "layer %d (%s): unknown padding %d; expected valid or same", i, kn,
                           (int)d->padding);
    for (int k = 0; k < 2; k++)
        if (d->input[k] < NNINIT_INPUT_PREV || d->input[k] >= i)
            return nninit__err(err, NNINIT_EINVAL, "layer %d (%s): input %d is layer %d; expected an earlier layer "
                               "(0 .. %d), -1 (the network input) or -2 (the layer before)", i, kn, k, d->input[k],
                               i - 1);
    return NNINIT_OK;
}

/* "(28, 28, 1)" */
static const char *shape_text(const nninit_shape *s, char *buf, size_t n)
{
    size_t k = (size_t)snprintf(buf, n, "(");
    for (int d = 0; d < s->ndim && k < n; d++)
        k += (size_t)snprintf(buf + k, n - k, d ? ", %lld" : "%lld", (long long)s->dim[d]);
    if (k < n)
        snprintf(buf + k, n - k, ")");
    return buf;
}

/* Output shape of layer L (kind d) from its input shape; the error names
 * this layer and its producer `from`. */
static nninit_status infer_shape(nninit__layer *L, const nninit_layer_desc *d, const char *from,
                                 const nninit_shape *in2, const char *from2, nninit_err *err)
{
    char a[96], b[96];
    const nninit_shape *in = &L->in_shape;
    nninit_shape *out = &L->out_shape;
    *out = *in;
    switch (d->kind) {
    case NNINIT_LAYER_DENSE:
        if (in->ndim > 2)
            return nninit__err(err, NNINIT_EINVAL, "%s: cannot take the %s image output of %s; a dense layer takes "
                               "(features) or (steps, features): put a flatten or global average pooling layer "
                               "between them", L->name, shape_text(in, a, sizeof a), from);
        out->dim[in->ndim - 1] = d->units;
        return NNINIT_OK;
    case NNINIT_LAYER_CONV2D:
    case NNINIT_LAYER_MAXPOOL2D:
    case NNINIT_LAYER_AVGPOOL2D:
    case NNINIT_LAYER_GLOBAL_AVGPOOL2D: {
        if (in->ndim != 3)
            return nninit__err(err, NNINIT_EINVAL, "%s: cannot take the %s %s%s; it needs (height, width, channels) "
                               "images", L->name, shape_text(in, a, sizeof a), strcmp(from, "the input") ? "output of " : "",
                               strcmp(from, "the input") ? from : "network input");
        nninit__conv_geom *g = &L->geom;
        memset(g, 0, sizeof *g);
        g->h = in->dim[0];
        g->w = in->dim[1];
        g->c = in->dim[2];
        if (d->kind == NNINIT_LAYER_GLOBAL_AVGPOOL2D) {
            out->ndim = 1;
            out->dim[0] = g->c;
            return NNINIT_OK;
        }
        int conv = d->kind == NNINIT_LAYER_CONV2D;
        g->kh = d->kernel[0];
        g->kw = d->kernel[1];
        g->sh = d->strides[0] ? d->strides[0] : g->kh;
        g->sw = d->strides[1] ? d->strides[1] : g->kw;
        g->dh = d->dilation[0];
        g->dw = d->dilation[1];
        g->groups = conv ? d->groups : 1;
        g->cout = conv ? d->units : g->c;
        if (conv && d->depth_multiplier > 0) { /* depthwise: one group per input channel */
            g->groups = g->c;
            g->cout = g->c * d->depth_multiplier;
        }
        if (conv && (g->c % g->groups || g->cout % g->groups))
            return nninit__err(err, NNINIT_EINVAL, "%s: groups %lld must divide both its input channels (%lld, from "
                               "%s) and its filters (%lld)", L->name, (long long)g->groups, (long long)g->c, from,
                               (long long)g->cout);
        nninit_status s = nninit__conv_geom_init(g, d->padding, L->name, err);
        if (s != NNINIT_OK)
            return s;
        out->dim[0] = g->ho;
        out->dim[1] = g->wo;
        out->dim[2] = g->cout;
        return NNINIT_OK;
    }
    case NNINIT_LAYER_FLATTEN:
        out->ndim = 1;
        out->dim[0] = L->n_in;
        return NNINIT_OK;
    case NNINIT_LAYER_SIMPLE_RNN:
    case NNINIT_LAYER_LSTM:
    case NNINIT_LAYER_GRU:
        if (in->ndim != 2)
            return nninit__err(err, NNINIT_EINVAL, "%s: cannot take the %s %s%s; it needs (steps, features) "
                               "sequences", L->name, shape_text(in, a, sizeof a), strcmp(from, "the input") ? "output of " : "",
                               strcmp(from, "the input") ? from : "network input");
        out->ndim = d->return_sequences ? 2 : 1;
        out->dim[0] = d->return_sequences ? in->dim[0] : d->units;
        out->dim[1] = d->units;
        return NNINIT_OK;
    case NNINIT_LAYER_EMBEDDING:
        if (in->ndim != 1)
            return nninit__err(err, NNINIT_EINVAL, "%s: cannot take the %s %s%s; it needs (steps) token ids", L->name,
                               shape_text(in, a, sizeof a), strcmp(from, "the input") ? "output of " : "",
                               strcmp(from, "the input") ? from : "network input");
        out->ndim = 2;
        out->dim[1] = d->units;
        return NNINIT_OK;
    case NNINIT_LAYER_POSITION_EMBEDDING:
    case NNINIT_LAYER_ATTENTION:
    case NNINIT_LAYER_TRANSFORMER:
        if (in->ndim != 2)
            return nninit__err(err, NNINIT_EINVAL, "%s: cannot take the %s %s%s; it needs (steps, features) "
                               "sequences", L->name, shape_text(in, a, sizeof a), strcmp(from, "the input") ? "output of " : "",
                               strcmp(from, "the input") ? from : "network input");
        if (d->kind == NNINIT_LAYER_POSITION_EMBEDDING && in->dim[0] > d->vocab)
            return nninit__err(err, NNINIT_EINVAL, "%s: its input (from %s) has %lld steps, its table %lld rows; "
                               "sequence_length must be at least the steps", L->name, from, (long long)in->dim[0],
                               (long long)d->vocab);
        return NNINIT_OK;
    case NNINIT_LAYER_ADD:
        if (in2->ndim != in->ndim || memcmp(in2->dim, in->dim, (size_t)in->ndim * sizeof in->dim[0]))
            return nninit__err(err, NNINIT_EINVAL, "%s: cannot add the %s output of %s and the %s output of %s; the "
                               "shapes must be equal", L->name, shape_text(in, a, sizeof a), from,
                               shape_text(in2, b, sizeof b), from2);
        return NNINIT_OK;
    default:
        return NNINIT_OK;
    }
}

static int64_t shape_numel(const nninit_shape *s)
{
    int64_t n = 1;
    for (int d = 0; d < s->ndim; d++)
        n *= s->dim[d];
    return n;
}

nninit_status nninit_net_new(int64_t n_inputs, const nninit_layer_desc *layers, int n_layers,
                             const nninit_net_opts *opts, nninit_net **out, nninit_err *err)
{
    nninit_shape in = {1, {n_inputs}};
    return nninit_net_new_shaped(&in, layers, n_layers, opts, out, err);
}

nninit_status nninit_net_new_shaped(const nninit_shape *input, const nninit_layer_desc *layers, int n_layers,
                                    const nninit_net_opts *opts, nninit_net **out, nninit_err *err)
{
    if (!out || !input)
        return nninit__err(err, NNINIT_EMISUSE, "nninit_net_new: NULL argument");
    *out = NULL;
    int64_t n_inputs = 1;
    int shape_ok = input->ndim >= 1 && input->ndim <= 3;
    for (int d = 0; shape_ok && d < input->ndim; d++) {
        shape_ok = input->dim[d] >= 1 && input->dim[d] <= (INT64_C(1) << 24);
        n_inputs *= shape_ok ? input->dim[d] : 1;
    }
    if (!layers || n_layers < 1 || n_layers > 100000 || !shape_ok || n_inputs > (INT64_C(1) << 24))
        return nninit__err(err, NNINIT_EINVAL,
                           "network: %d layers for inputs of %d dimensions; expected at least one layer and a sample "
                           "shape (F), (T, F) or (H, W, C) of 1 .. 16777216 values",
                           n_layers, input->ndim);
    nninit_net_opts o = opts ? *opts : nninit_net_opts_default();
    for (int i = 0; i < n_layers; i++) {
        nninit_status s = check_desc(i, &layers[i], err);
        if (s != NNINIT_OK)
            return s;
    }
    nninit_net *net = calloc(1, sizeof *net);
    if (!net)
        return nninit__err(err, NNINIT_ENOMEM, "network: out of memory");
    net->layers = nninit__calloc_array((size_t)n_layers, sizeof *net->layers);
    if (!net->layers) {
        free(net);
        return nninit__err(err, NNINIT_ENOMEM, "network: out of memory");
    }
    net->n_layers = n_layers;
    net->n_inputs = n_inputs;
    net->in_shape = *input;
    net->seed = o.seed;
    nninit__philox_key(o.seed, net->key);
    nninit_rng *rng = NULL;
    nninit_status s = nninit_rng_new(NNINIT_RNG_PHILOX, o.seed, &rng, err);
    int count[NNINIT_LAYER_KIND_COUNT] = {0};
    for (int i = 0; s == NNINIT_OK && i < n_layers; i++) {
        const nninit_layer_desc *d = &layers[i];
        nninit__layer *L = &net->layers[i];
        L->kind = d->kind;
        snprintf(L->name, sizeof L->name, "%s_%d", kind_names[d->kind], count[d->kind]++);
        int n_src = d->kind == NNINIT_LAYER_ADD ? 2 : 1;
        L->src[1] = -1;
        const char *from[2] = {"the input", "the input"};
        nninit_shape in_sh[2];
        for (int k = 0; k < n_src; k++) {
            int src = d->input[k] == NNINIT_INPUT_PREV ? i - 1 : d->input[k];
            L->src[k] = src;
            if (src >= 0) {
                net->layers[src].n_consumers++;
                from[k] = net->layers[src].name;
                in_sh[k] = net->layers[src].out_shape;
            } else {
                in_sh[k] = *input;
            }
        }
        L->in_shape = in_sh[0];
        L->n_in = shape_numel(&L->in_shape);
        s = infer_shape(L, d, from[0], &in_sh[1], from[1], err);
        if (s != NNINIT_OK)
            break;
        L->n_out = shape_numel(&L->out_shape);
        if (L->n_out > (INT64_C(1) << 28)) {
            s = nninit__err(err, NNINIT_EINVAL, "%s: %lld values per sample; at most 2^28", L->name,
                            (long long)L->n_out);
            break;
        }
        L->act = d->kind == NNINIT_LAYER_DENSE || d->kind == NNINIT_LAYER_ACTIVATION || d->kind == NNINIT_LAYER_CONV2D
                     ? d->act
                     : NNINIT_ACT_LINEAR;
        L->alpha = d->alpha;
        L->flatten_chw = d->kind == NNINIT_LAYER_FLATTEN && o.layout == NNINIT_LAYOUT_TORCH && L->in_shape.ndim == 3;
        int64_t feat = L->out_shape.dim[L->out_shape.ndim - 1];
        if (d->kind == NNINIT_LAYER_DENSE || d->kind == NNINIT_LAYER_CONV2D) {
            int64_t kd[4];
            int nd = 2;
            if (d->kind == NNINIT_LAYER_DENSE) {
                kd[0] = L->in_shape.dim[L->in_shape.ndim - 1];
                kd[1] = d->units;
            } else {
                kd[0] = L->geom.kh;
                kd[1] = L->geom.kw;
                kd[2] = L->geom.c / L->geom.groups;
                kd[3] = L->geom.cout;
                nd = 4;
            }
            L->n_params = d->use_bias ? 2 : 1;
            s = add_param(L, 0, "kernel", nd, kd, err);
            if (s == NNINIT_OK)
                s = init_param(&L->param[0], d->kernel_init, &o, rng, 1, err);
            if (s == NNINIT_OK && d->use_bias)
                s = add_param(L, 1, "bias", 1, &feat, err);
            if (s == NNINIT_OK && d->use_bias)
                s = init_param(&L->param[1], d->bias_init, &o, rng, 0, err);
        } else if (d->kind == NNINIT_LAYER_SIMPLE_RNN || d->kind == NNINIT_LAYER_LSTM || d->kind == NNINIT_LAYER_GRU) {
            nninit__rnn_spec *sp = calloc(1, sizeof *sp);
            L->rnn = sp;
            if (!sp) {
                s = nninit__err(err, NNINIT_ENOMEM, "%s: out of memory", L->name);
                break;
            }
            sp->cell = d->kind == NNINIT_LAYER_LSTM ? NNINIT__CELL_LSTM
                       : d->kind == NNINIT_LAYER_GRU ? NNINIT__CELL_GRU
                                                     : NNINIT__CELL_SIMPLE;
            int torch = o.layout == NNINIT_LAYOUT_TORCH; /* PyTorch's tensors, gates and two biases */
            sp->torch_layout = torch;
            sp->reset_after = torch ? 1 : d->reset_after;
            sp->relu = d->act == NNINIT_ACT_RELU;
            sp->return_sequences = d->return_sequences;
            sp->n_in = L->in_shape.dim[1];
            sp->units = d->units;
            int64_t G = nninit__rnn_gates(sp->cell), u = d->units;
            int64_t kd[2] = {sp->n_in, G * u}, rd[2] = {u, G * u}, bd[2] = {2, G * u};
            int64_t tk[2] = {G * u, sp->n_in}, tr[2] = {G * u, u};
            int gru2 = sp->cell == NNINIT__CELL_GRU && d->reset_after;
            L->n_params = (d->use_bias ? 3 : 2) + (torch && d->use_bias);
            s = add_init(L, 0, torch ? "weight_ih" : "kernel", 2, torch ? tk : kd, d->kernel_init, &o, rng, 0, err);
            if (s == NNINIT_OK)
                s = add_init(L, 1, torch ? "weight_hh" : "recurrent_kernel", 2, torch ? tr : rd, d->recurrent_init, &o,
                             rng, 0, err);
            if (s == NNINIT_OK && d->use_bias && torch) {
                s = add_init(L, 2, "bias_ih", 1, bd + 1, d->bias_init, &o, rng, 0, err);
                if (s == NNINIT_OK)
                    s = add_init(L, 3, "bias_hh", 1, bd + 1, d->bias_init, &o, rng, 0, err);
            } else if (s == NNINIT_OK && d->use_bias) {
                s = add_init(L, 2, "bias", gru2 ? 2 : 1, gru2 ? bd : bd + 1, d->bias_init, &o, rng, 0, err);
            }
            if (s == NNINIT_OK && d->use_bias && !torch && sp->cell == NNINIT__CELL_LSTM && d->unit_forget_bias)
                for (int64_t j = u; j < 2 * u; j++) /* Keras: the forget gate's block starts at 1 */
                    L->param[2].value[j] = 1.0f;
        } else if (d->kind == NNINIT_LAYER_EMBEDDING || d->kind == NNINIT_LAYER_POSITION_EMBEDDING) {
            int64_t td[2] = {d->vocab, feat};
            L->n_params = 1;
            s = add_init(L, 0, "embeddings", 2, td, d->kernel_init, &o, rng, 0, err);
            L->padding_idx = d->kind == NNINIT_LAYER_EMBEDDING ? d->padding_idx : -1;
            if (s == NNINIT_OK && L->padding_idx >= 0) /* torch: _fill_padding_idx_with_zero after the fill */
                memset(L->param[0].value + L->padding_idx * feat, 0, (size_t)feat * sizeof *L->param[0].value);
        } else if (d->kind == NNINIT_LAYER_LAYER_NORM) {
            L->norm_kind = d->norm == 1 ? NNINIT__NORM_RMS : d->norm == 2 ? NNINIT__NORM_RMS_KERAS : NNINIT__NORM_LAYER;
            L->epsilon = d->epsilon;
            L->norm_gamma = d->scale || d->norm == 2;
            L->norm_beta = d->use_bias && d->norm == 0;
            if (L->norm_gamma)
                s = add_init(L, L->n_params++, d->norm == 1 ? "scale" : "gamma", 1, &feat, d->gamma_init, &o, rng, 0,
                             err);
            if (s == NNINIT_OK && L->norm_beta)
                s = add_init(L, L->n_params++, "beta", 1, &feat, d->beta_init, &o, rng, 0, err);
        } else if (d->kind == NNINIT_LAYER_ATTENTION || d->kind == NNINIT_LAYER_TRANSFORMER) {
            s = build_attention(L, d, &o, rng, err);
        } else if (d->kind == NNINIT_LAYER_SCALE) {
            int64_t one = 1;
            L->n_params = d->use_bias ? 2 : 1;
            s = add_param(L, 0, "multiplier", 1, &one, err);
            if (s == NNINIT_OK)
                s = init_param(&L->param[0], d->kernel_init, &o, rng, 0, err);
            if (s == NNINIT_OK && d->use_bias)
                s = add_param(L, 1, "bias", 1, &one, err);
            if (s == NNINIT_OK && d->use_bias)
                s = init_param(&L->param[1], d->bias_init, &o, rng, 0, err);
        } else if (d->kind == NNINIT_LAYER_BATCHNORM) {
            L->n_params = 2;
            L->momentum = d->momentum;
            L->epsilon = d->epsilon;
            s = add_param(L, 0, "gamma", 1, &feat, err);
            if (s == NNINIT_OK)
                s = init_param(&L->param[0], d->gamma_init, &o, rng, 0, err);
            if (s == NNINIT_OK)
                s = add_param(L, 1, "beta", 1, &feat, err);
            if (s == NNINIT_OK)
                s = init_param(&L->param[1], d->beta_init, &o, rng, 0, err);
            L->run_mean = nninit__calloc_array((size_t)feat, sizeof *L->run_mean);
            L->run_var = nninit__malloc_array((size_t)feat, sizeof *L->run_var);
            L->bn_invstd = nninit__calloc_array((size_t)feat, sizeof *L->bn_invstd);
            if (s == NNINIT_OK && (!L->run_mean || !L->run_var || !L->bn_invstd))
                s = nninit__err(err, NNINIT_ENOMEM, "%s: out of memory", L->name);
            for (int64_t j = 0; s == NNINIT_OK && j < feat; j++)
                L->run_var[j] = 1.0f; /* Keras moving_variance_initializer "ones" */
        } else if (d->kind == NNINIT_LAYER_DROPOUT) {
            L->rate = d->rate;
            char sname[64];
            snprintf(sname, sizeof sname, "%s/mask", L->name);
            L->stream = nninit_stream_from_name(sname);
        }
    }
    /* every output but the last must feed a later layer: a dangling branch
     * would be computed and never trained */
    for (int i = 0; s == NNINIT_OK && i + 1 < n_layers; i++)
        if (net->layers[i].n_consumers == 0)
            s = nninit__err(err, NNINIT_EINVAL, "%s: its output is not used by any later layer; only the last layer "
                            "may be an output", net->layers[i].name);
    nninit_rng_free(rng);
    if (s != NNINIT_OK) {
        nninit_net_free(net);
        return s;
    }
    *out = net;
    return NNINIT_OK;
}

int nninit_net_n_layers(const nninit_net *net) { return net ? net->n_layers : 0; }
int64_t nninit_net_n_inputs(const nninit_net *net) { return net ? net->n_inputs : 0; }
int64_t nninit_net_n_outputs(const nninit_net *net) { return net ? net->layers[net->n_layers - 1].n_out : 0; }

nninit_shape nninit_net_input_shape(const nninit_net *net)
{
    nninit_shape s = {0, {0}};
    return net ? net->in_shape : s;
}

int64_t nninit_net_n_params(const nninit_net *net)
{
    int64_t n = 0;
    for (int i = 0; net && i < net->n_layers; i++)
        for (int p = 0; p < net->layers[i].n_params; p++)
            n += net->layers[i].param[p].n;
    return n;
}

nninit_status nninit_net_layer_info(const nninit_net *net, int layer, nninit_layer_info *info, nninit_err *err)
{
    if (!net || !info)
        return nninit__err(err, NNINIT_EMISUSE, "nninit_net_layer_info: NULL argument");
    if (layer < 0 || layer >= net->n_layers)
        return nninit__err(err, NNINIT_EINVAL, "layer %d: out of range; the network has %d layers", layer,
                           net->n_layers);
    const nninit__layer *L = &net->layers[layer];
    info->kind = L->kind;
    info->name = L->name;
    info->n_in = L->n_in;
    info->n_out = L->n_out;
    info->act = L->act;
    info->alpha = L->alpha;
    info->n_params = L->n_params;
    info->in_shape = L->in_shape;
    info->out_shape = L->out_shape;
    info->input[0] = L->src[0];
    info->input[1] = L->src[1];
    return NNINIT_OK;
}

nninit_status nninit_net_param(nninit_net *net, int layer, int which, float **value, float **grad,
                               nninit_shape *shape, const char **name, nninit_err *err)
{
    if (!net)
        return nninit__err(err, NNINIT_EMISUSE, "nninit_net_param: net is NULL");
    if (layer < 0 || layer >= net->n_layers)
        return nninit__err(err, NNINIT_EINVAL, "layer %d: out of range; the network has %d layers", layer,
                           net->n_layers);
    nninit__layer *L = &net->layers[layer];
    if (which < 0 || which >= L->n_params)
        return nninit__err(err, NNINIT_EINVAL, "%s: no parameter %d; it has %d", L->name, which, L->n_params);
    nninit__param *p = &L->param[which];
    if (value)
        *value = p->value;
    if (grad)
        *grad = p->grad;
    if (shape)
        *shape = p->shape;
    if (name)
        *name = p->name;
    return NNINIT_OK;
}

nninit_status nninit_net_state(nninit_net *net, int layer, int which, float **value, int64_t *n, nninit_err *err)
{
    if (!net)
        return nninit__err(err, NNINIT_EMISUSE, "nninit_net_state: net is NULL");
    if (layer < 0 || layer >= net->n_layers)
        return nninit__err(err, NNINIT_EINVAL, "layer %d: out of range; the network has %d layers", layer,
                           net->n_layers);
    nninit__layer *L = &net->layers[layer];
    if (L->kind != NNINIT_LAYER_BATCHNORM || which < 0 || which > 1)
        return nninit__err(err, NNINIT_EINVAL, "%s: no state %d; only batch normalization has state (0 running mean, "
                           "1 running variance)", L->name, which);
    if (value)
        *value = which ? L->run_var : L->run_mean;
    if (n)
        *n = L->param[0].n;
    return NNINIT_OK;
}

/* Only dense and conv2d kernels are stored transposed from PyTorch's layout;
 * every other tensor has one layout in both frameworks, or (recurrent,
 * attention, transformer layers built under the torch layout) is kept as
 * PyTorch holds it. */
static int torch_transposed(const nninit_net *net, int layer, int which)
{
    nninit_layer_kind k = net->layers[layer].kind;
    return which == 0 && (k == NNINIT_LAYER_DENSE || k == NNINIT_LAYER_CONV2D);
}

nninit_status nninit_net_set_param(nninit_net *net, int layer, int which, const float *src, nninit_layout layout,
                                   nninit_err *err)
{
    float *v;
    nninit_shape sh;
    if (!src)
        return nninit__err(err, NNINIT_EMISUSE, "nninit_net_set_param: src is NULL");
    nninit_status s = nninit_net_param(net, layer, which, &v, NULL, &sh, NULL, err);
    if (s != NNINIT_OK)
        return s;
    if (layout == NNINIT_LAYOUT_TORCH && torch_transposed(net, layer, which))
        nninit__from_torch_layout(src, &sh, v);
    else
        memcpy(v, src, (size_t)net->layers[layer].param[which].n * sizeof *v);
    return NNINIT_OK;
}

nninit_status nninit_net_get_param(nninit_net *net, int layer, int which, float *dst, nninit_layout layout,
                                   nninit_err *err)
{
    float *v;
    nninit_shape sh;
    if (!dst)
        return nninit__err(err, NNINIT_EMISUSE, "nninit_net_get_param: dst is NULL");
    nninit_status s = nninit_net_param(net, layer, which, &v, NULL, &sh, NULL, err);
    if (s != NNINIT_OK)
        return s;
    int64_t n = net->layers[layer].param[which].n;
    if (!(layout == NNINIT_LAYOUT_TORCH && torch_transposed(net, layer, which))) {
        memcpy(dst, v, (size_t)n * sizeof *dst);
    } else if (sh.ndim == 4) { /* HWIO (kh, kw, i, o) -> OIHW */
        int64_t kh = sh.dim[0], kw = sh.dim[1], ci = sh.dim[2], co = sh.dim[3];
        for (int64_t o = 0; o < co; o++)
            for (int64_t i = 0; i < ci; i++)
                for (int64_t a = 0; a < kh; a++)
                    for (int64_t b = 0; b < kw; b++)
                        dst[((o * ci + i) * kh + a) * kw + b] = v[((a * kw + b) * ci + i) * co + o];
    } else { /* (in, out) -> (out, in) */
        int64_t in = sh.dim[0], out = sh.dim[1];
        for (int64_t r = 0; r < in; r++)
            for (int64_t c = 0; c < out; c++)
                dst[c * in + r] = v[r * out + c];
    }
    return NNINIT_OK;
}
