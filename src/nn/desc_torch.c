/* PyTorch module recipes as net descriptions: the recipe syntax of
 * `nninit model --torch` (parsed by the shared Python-call parser,
 * init/pycall.c) read as a forward pass. Sequential runs its modules in
 * order; nninit's wrappers, written as a module of your own with one
 * attribute (so `nninit model --torch` names and draws their tensors as
 * PyTorch would for such a class), give what a recipe cannot say:
 *   Residual(body=M)      x + M(x)
 *   LastStep(rnn=M)       the last step of a recurrent module's output
 *   Positions(wpe=Embedding(T, d))  x + wpe.weight[t] (GPT-2's learned positions)
 *   Causal(block=M)       M (MultiheadAttention, TransformerEncoderLayer) with the causal mask
 * Layers are built under the torch layout: Linear and Conv2d kernels are
 * transposed into the engine's, recurrent, attention and transformer
 * tensors are kept as PyTorch holds them. */
#include "nn/internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef nninit__pyval value;

typedef struct tbuild {
    nninit_layer_desc *L;
    int n, cap;
    nninit_err *err;
} tbuild;

static nninit_status push(tbuild *b, const nninit_layer_desc *d)
{
    if (b->n == b->cap) {
        int cap = b->cap ? 2 * b->cap : 16;
        if (cap > 4096)
            return nninit__err(b->err, NNINIT_EINVAL, "recipe: more than 4096 layers");
        nninit_layer_desc *L = realloc(b->L, (size_t)cap * sizeof *L);
        if (!L)
            return nninit__err(b->err, NNINIT_ENOMEM, "recipe: out of memory");
        b->L = L;
        b->cap = cap;
    }
    b->L[b->n++] = *d;
    return NNINIT_OK;
}

/* The arguments of call v bound to the parameter names (positional first,
 * then keywords); unknown keywords are an error. */
static nninit_status bind(const value *v, const char *const *names, const value **args, nninit_err *err)
{
    int np = 0;
    while (names[np])
        np++;
    for (int i = 0; i < np; i++)
        args[i] = NULL;
    int next = 0;
    for (size_t i = 0; i < v->n; i++) {
        int slot = -1;
        if (!v->keys[i][0]) {
            slot = next < np ? next++ : -1;
            if (slot < 0)
                return nninit__err(err, NNINIT_EINVAL, "%s(): too many positional arguments", v->text);
        } else {
            for (int k = 0; k < np && slot < 0; k++)
                if (!strcmp(names[k], v->keys[i]))
                    slot = k;
            if (slot < 0)
                return nninit__err(err, NNINIT_EINVAL, "%s(): keyword '%s' is not one nninit train reads", v->text,
                                   v->keys[i]);
        }
        args[slot] = v->items[i];
    }
    return NNINIT_OK;
}

static int is_none(const value *a) { return !a || a->kind == NNINIT__PY_NONE; }

static nninit_status int_arg(const value *v, const value *a, const char *what, int64_t dflt, int64_t lo, int64_t *out,
                             nninit_err *err)
{
    if (is_none(a)) {
        if (dflt < lo)
            return nninit__err(err, NNINIT_EINVAL, "%s(): missing %s", v->text, what);
        *out = dflt;
        return NNINIT_OK;
    }
    if (a->kind == NNINIT__PY_TUPLE && a->n >= 1) { /* (3, 3) where the engine takes one size: both equal */
        for (size_t k = 1; k < a->n; k++)
            if (a->items[k]->kind != NNINIT__PY_INT || a->items[k]->i != a->items[0]->i)
                return nninit__err(err, NNINIT_EINVAL, "%s(): %s must be one size for both axes", v->text, what);
        a = a->items[0];
    }
    if (a->kind != NNINIT__PY_INT || a->i < lo || a->i > (INT64_C(1) << 24))
        return nninit__err(err, NNINIT_EINVAL, "%s(): %s must be an integer >= %lld", v->text, what, (long long)lo);
    *out = a->i;
    return NNINIT_OK;
}

static nninit_status bool_arg(const value *v, const value *a, const char *what, int dflt, int *out, nninit_err *err)
{
    if (is_none(a)) {
        *out = dflt;
        return NNINIT_OK;
    }
    if (a->kind != NNINIT__PY_BOOL)
        return nninit__err(err, NNINIT_EINVAL, "%s(): %s must be True or False", v->text, what);
    *out = (int)a->i;
    return NNINIT_OK;
}

static nninit_status num_arg(const value *v, const value *a, const char *what, double dflt, double *out,
                             nninit_err *err)
{
    if (is_none(a)) {
        *out = dflt;
        return NNINIT_OK;
    }
    if (a->kind != NNINIT__PY_INT && a->kind != NNINIT__PY_FLOAT)
        return nninit__err(err, NNINIT_EINVAL, "%s(): %s must be a number", v->text, what);
    *out = a->kind == NNINIT__PY_INT ? (double)a->i : a->f;
    return NNINIT_OK;
}

/* An argument that training needs at one value: dropout 0, bidirectional False, ... */
static nninit_status must_be(const value *v, const value *a, const char *what, double want, const char *why,
                             nninit_err *err)
{
    double x = want;
    if (a && (a->kind == NNINIT__PY_INT || a->kind == NNINIT__PY_BOOL))
        x = (double)a->i;
    else if (a && a->kind == NNINIT__PY_FLOAT)
        x = a->f;
    else if (!is_none(a))
        x = NAN;
    if (x != want)
        return nninit__err(err, NNINIT_EUNSUPPORTED, "%s(): %s must be %g; %s", v->text, what, want, why);
    return NNINIT_OK;
}

static const char *str_arg(const value *a)
{
    return a && (a->kind == NNINIT__PY_STR || a->kind == NNINIT__PY_NAME) ? a->text : NULL;
}

static nninit_status module(tbuild *b, const value *v, int causal);

static nninit_status act_layer(tbuild *b, nninit_act act, double alpha)
{
    nninit_layer_desc d = nninit_layer_desc_default(NNINIT_LAYER_ACTIVATION);
    d.act = act;
    d.alpha = alpha;
    return push(b, &d);
}

static nninit_status b_rnn(tbuild *b, const value *v, nninit_layer_kind kind, int last_step)
{
    static const char *const P[] = {"input_size", "hidden_size", "num_layers", "nonlinearity", "bias", "batch_first",
                                    "dropout", "bidirectional", "proj_size", "device", "dtype", NULL};
    static const char *const P_GATED[] = {"input_size", "hidden_size", "num_layers", "bias", "batch_first", "dropout",
                                          "bidirectional", "proj_size", "device", "dtype", NULL};
    const value *a[12];
    int simple = kind == NNINIT_LAYER_SIMPLE_RNN, o = simple ? 0 : -1; /* offset of the names after nonlinearity */
    nninit_status s = bind(v, simple ? P : P_GATED, a, b->err);
    int64_t in, hidden, layers;
    int bias = 1, batch_first = 0;
    if (s == NNINIT_OK)
        s = int_arg(v, a[0], "input_size", -1, 1, &in, b->err);
    if (s == NNINIT_OK)
        s = int_arg(v, a[1], "hidden_size", -1, 1, &hidden, b->err);
    if (s == NNINIT_OK)
        s = int_arg(v, a[2], "num_layers", 1, 1, &layers, b->err);
    if (s == NNINIT_OK)
        s = bool_arg(v, a[4 + o], "bias", 1, &bias, b->err);
    if (s == NNINIT_OK)
        s = bool_arg(v, a[5 + o], "batch_first", 0, &batch_first, b->err);
    if (s == NNINIT_OK && !batch_first)
        s = nninit__err(b->err, NNINIT_EUNSUPPORTED, "%s(): give batch_first=True; the engine feeds (batch, steps, "
                        "features)", v->text);
    if (s == NNINIT_OK)
        s = must_be(v, a[6 + o], "dropout", 0, "add a Dropout module instead", b->err);
    if (s == NNINIT_OK)
        s = must_be(v, a[7 + o], "bidirectional", 0, "the engine's recurrent layers run forward", b->err);
    if (s == NNINIT_OK)
        s = must_be(v, a[8 + o], "proj_size", 0, "projected LSTMs are not an engine layer", b->err);
    nninit_act act = NNINIT_ACT_TANH;
    if (s == NNINIT_OK && simple && str_arg(a[3])) {
        if (!strcmp(str_arg(a[3]), "relu"))
            act = NNINIT_ACT_RELU;
        else if (strcmp(str_arg(a[3]), "tanh"))
            s = nninit__err(b->err, NNINIT_EINVAL, "RNN(): nonlinearity must be 'tanh' or 'relu'");
    }
    for (int64_t l = 0; s == NNINIT_OK && l < layers; l++) {
        nninit_layer_desc d = nninit_layer_desc_default(kind);
        d.units = hidden;
        d.use_bias = bias;
        d.act = act;
        d.return_sequences = !(last_step && l == layers - 1);
        d.unit_forget_bias = 0; /* torch has none */
        s = push(b, &d);
    }
    return s;
}

static nninit_status b_attention(tbuild *b, const value *v, int causal)
{
    static const char *const P[] = {"embed_dim", "num_heads", "dropout", "bias", "add_bias_kv", "add_zero_attn",
                                    "kdim", "vdim", "batch_first", "device", "dtype", NULL};
    const value *a[11];
    nninit_layer_desc d = nninit_layer_desc_default(NNINIT_LAYER_ATTENTION);
    int64_t dim;
    int bf = 0, bkv = 0, zero = 0;
    nninit_status s = bind(v, P, a, b->err);
    if (s == NNINIT_OK)
        s = int_arg(v, a[0], "embed_dim", -1, 1, &dim, b->err);
    if (s == NNINIT_OK)
        s = int_arg(v, a[1], "num_heads", -1, 1, &d.heads, b->err);
    if (s == NNINIT_OK)
        s = must_be(v, a[2], "dropout", 0, "add a Dropout module instead", b->err);
    if (s == NNINIT_OK)
        s = bool_arg(v, a[3], "bias", 1, &d.use_bias, b->err);
    if (s == NNINIT_OK)
        s = bool_arg(v, a[4], "add_bias_kv", 0, &bkv, b->err);
    if (s == NNINIT_OK)
        s = bool_arg(v, a[5], "add_zero_attn", 0, &zero, b->err);
    if (s == NNINIT_OK && (bkv || zero || !is_none(a[6]) || !is_none(a[7])))
        s = nninit__err(b->err, NNINIT_EUNSUPPORTED, "MultiheadAttention(): add_bias_kv, add_zero_attn, kdim and vdim "
                        "are not supported (self-attention of one packed in_proj)");
    if (s == NNINIT_OK)
        s = bool_arg(v, a[8], "batch_first", 0, &bf, b->err);
    if (s == NNINIT_OK && !bf)
        s = nninit__err(b->err, NNINIT_EUNSUPPORTED, "MultiheadAttention(): give batch_first=True; the engine feeds "
                        "(batch, steps, features)");
    d.causal = causal;
    (void)dim; /* the input's width; checked against the tensors when they are paired */
    return s == NNINIT_OK ? push(b, &d) : s;
}

static nninit_status b_encoder_layer(tbuild *b, const value *v, int causal)
{
    static const char *const P[] = {"d_model", "nhead", "dim_feedforward", "dropout", "activation", "layer_norm_eps",
                                    "batch_first", "norm_first", "device", "dtype", NULL};
    const value *a[10];
    nninit_layer_desc d = nninit_layer_desc_default(NNINIT_LAYER_TRANSFORMER);
    int64_t dim;
    int bf = 0, nf = 0;
    nninit_status s = bind(v, P, a, b->err);
    if (s == NNINIT_OK)
        s = int_arg(v, a[0], "d_model", -1, 1, &dim, b->err);
    if (s == NNINIT_OK)
        s = int_arg(v, a[1], "nhead", -1, 1, &d.heads, b->err);
    if (s == NNINIT_OK)
        s = int_arg(v, a[2], "dim_feedforward", 2048, 1, &d.units, b->err);
    if (s == NNINIT_OK && is_none(a[3]))
        s = nninit__err(b->err, NNINIT_EUNSUPPORTED, "TransformerEncoderLayer(): give dropout=0.0 (its default 0.1 "
                        "is not part of the engine's block)");
    if (s == NNINIT_OK)
        s = must_be(v, a[3], "dropout", 0, "the engine's block has no dropout", b->err);
    if (s == NNINIT_OK && !(str_arg(a[4]) && !strcmp(str_arg(a[4]), "gelu")))
        s = nninit__err(b->err, NNINIT_EUNSUPPORTED, "TransformerEncoderLayer(): give activation='gelu' (the engine's "
                        "block)");
    if (s == NNINIT_OK)
        s = num_arg(v, a[5], "layer_norm_eps", 1e-5, &d.epsilon, b->err);
    if (s == NNINIT_OK)
        s = bool_arg(v, a[6], "batch_first", 0, &bf, b->err);
    if (s == NNINIT_OK)
        s = bool_arg(v, a[7], "norm_first", 0, &nf, b->err);
    if (s == NNINIT_OK && (!bf || !nf))
        s = nninit__err(b->err, NNINIT_EUNSUPPORTED, "TransformerEncoderLayer(): give batch_first=True and "
                        "norm_first=True (the engine's pre-LN block on (batch, steps, features))");
    d.causal = causal;
    (void)dim;
    return s == NNINIT_OK ? push(b, &d) : s;
}

static nninit_status b_conv(tbuild *b, const value *v)
{
    static const char *const P[] = {"in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation",
                                    "groups", "bias", "padding_mode", "device", "dtype", NULL};
    const value *a[11];
    nninit_layer_desc d = nninit_layer_desc_default(NNINIT_LAYER_CONV2D);
    int64_t cin, k, st, dil, pad = 0;
    nninit_status s = bind(v, P, a, b->err);
    if (s == NNINIT_OK)
        s = int_arg(v, a[0], "in_channels", -1, 1, &cin, b->err);
    if (s == NNINIT_OK)
        s = int_arg(v, a[1], "out_channels", -1, 1, &d.units, b->err);
    if (s == NNINIT_OK)
        s = int_arg(v, a[2], "kernel_size", -1, 1, &k, b->err);
    if (s == NNINIT_OK)
        s = int_arg(v, a[3], "stride", 1, 1, &st, b->err);
    if (s == NNINIT_OK)
        s = int_arg(v, a[5], "dilation", 1, 1, &dil, b->err);
    if (s == NNINIT_OK)
        s = int_arg(v, a[6], "groups", 1, 1, &d.groups, b->err);
    if (s == NNINIT_OK)
        s = bool_arg(v, a[7], "bias", 1, &d.use_bias, b->err);
    if (s == NNINIT_OK && str_arg(a[8]) && strcmp(str_arg(a[8]), "zeros"))
        s = nninit__err(b->err, NNINIT_EUNSUPPORTED, "Conv2d(): padding_mode must be 'zeros'");
    const char *ps = str_arg(a[4]);
    if (s == NNINIT_OK && ps) {
        if (!strcmp(ps, "same"))
            d.padding = NNINIT_PAD_SAME;
        else if (strcmp(ps, "valid"))
            s = nninit__err(b->err, NNINIT_EINVAL, "Conv2d(): padding '%s'; expected 'same', 'valid' or a size", ps);
    } else if (s == NNINIT_OK) {
        s = int_arg(v, a[4], "padding", 0, 0, &pad, b->err);
        /* symmetric padding equals 'same' only for stride 1 and pad = dilation (k - 1) / 2 */
        if (s == NNINIT_OK && pad > 0) {
            if (st == 1 && (k - 1) % 2 == 0 && pad == dil * (k - 1) / 2)
                d.padding = NNINIT_PAD_SAME;
            else
                s = nninit__err(b->err, NNINIT_EUNSUPPORTED, "Conv2d(): padding=%lld with kernel %lld, stride %lld is "
                                "not an engine padding; use 0, 'same' or (stride 1) dilation (k - 1) / 2",
                                (long long)pad, (long long)k, (long long)st);
        }
    }
    d.kernel[0] = d.kernel[1] = k;
    d.strides[0] = d.strides[1] = st;
    d.dilation[0] = d.dilation[1] = dil;
    (void)cin;
    return s == NNINIT_OK ? push(b, &d) : s;
}

static nninit_status b_pool(tbuild *b, const value *v, nninit_layer_kind kind)
{
    static const char *const P[] = {"kernel_size", "stride", "padding", "dilation", "return_indices", "ceil_mode",
                                    NULL};
    static const char *const PA[] = {"kernel_size", "stride", "padding", "ceil_mode", "count_include_pad",
                                     "divisor_override", NULL};
    const value *a[7];
    nninit_layer_desc d = nninit_layer_desc_default(kind);
    int64_t k, st, pad;
    int max = kind == NNINIT_LAYER_MAXPOOL2D, ceil_mode = 0;
    nninit_status s = bind(v, max ? P : PA, a, b->err);
    if (s == NNINIT_OK)
        s = int_arg(v, a[0], "kernel_size", -1, 1, &k, b->err);
    if (s == NNINIT_OK)
        s = int_arg(v, a[1], "stride", k, 1, &st, b->err);
    if (s == NNINIT_OK)
        s = int_arg(v, a[2], "padding", 0, 0, &pad, b->err);
    if (s == NNINIT_OK)
        s = bool_arg(v, a[max ? 5 : 3], "ceil_mode", 0, &ceil_mode, b->err);
    if (s == NNINIT_OK && max)
        s = must_be(v, a[3], "dilation", 1, "pooling windows are dense", b->err);
    if (s == NNINIT_OK && (pad || ceil_mode))
        s = nninit__err(b->err, NNINIT_EUNSUPPORTED, "%s(): padding and ceil_mode are not supported (valid windows)",
                        v->text);
    d.kernel[0] = d.kernel[1] = k;
    d.strides[0] = d.strides[1] = st;
    return s == NNINIT_OK ? push(b, &d) : s;
}

/* The one attribute of a wrapper Name(attr=M). */
static nninit_status wrapped(const value *v, const char *attr, const value **m, nninit_err *err)
{
    if (v->n != 1 || strcmp(v->keys[0], attr) || v->items[0]->kind != NNINIT__PY_CALL)
        return nninit__err(err, NNINIT_EINVAL, "%s(): write it as %s(%s=Module(...)), one attribute", v->text, v->text,
                           attr);
    *m = v->items[0];
    return NNINIT_OK;
}

static nninit_status module(tbuild *b, const value *v, int causal)
{
    nninit_err *err = b->err;
    if (v->kind != NNINIT__PY_CALL)
        return nninit__err(err, NNINIT_EINVAL, "recipe at offset %zu: expected a module such as Linear(3, 4)", v->pos);
    const char *n = v->text;
    const value *a[12];
    nninit_status s = NNINIT_OK;
    if (causal && strcmp(n, "MultiheadAttention") && strcmp(n, "TransformerEncoderLayer"))
        return nninit__err(err, NNINIT_EINVAL, "Causal(): wraps a MultiheadAttention or a TransformerEncoderLayer, "
                           "not %s", n);
    if (!strcmp(n, "Sequential")) {
        for (size_t i = 0; i < v->n && s == NNINIT_OK; i++)
            s = v->keys[i][0] ? nninit__err(err, NNINIT_EINVAL, "Sequential(): takes modules in order (nninit train "
                                            "does not read OrderedDict)")
                              : module(b, v->items[i], 0);
        return s;
    }
    if (!strcmp(n, "Residual")) {
        const value *m;
        if ((s = wrapped(v, "body", &m, err)) != NNINIT_OK)
            return s;
        int before = b->n - 1; /* the block's input: the layer before it, or the network input */
        if ((s = module(b, m, 0)) != NNINIT_OK)
            return s;
        if (b->n - 1 == before)
            return nninit__err(err, NNINIT_EINVAL, "Residual(): its body has no layers");
        nninit_layer_desc d = nninit_layer_desc_default(NNINIT_LAYER_ADD);
        d.input[0] = before >= 0 ? before : NNINIT_INPUT_NET;
        d.input[1] = b->n - 1;
        return push(b, &d);
    }
    if (!strcmp(n, "Causal")) {
        const value *m;
        return (s = wrapped(v, "block", &m, err)) != NNINIT_OK ? s : module(b, m, 1);
    }
    if (!strcmp(n, "LastStep")) {
        const value *m;
        if ((s = wrapped(v, "rnn", &m, err)) != NNINIT_OK)
            return s;
        nninit_layer_kind k = !strcmp(m->text, "LSTM") ? NNINIT_LAYER_LSTM
                              : !strcmp(m->text, "GRU") ? NNINIT_LAYER_GRU
                              : !strcmp(m->text, "RNN") ? NNINIT_LAYER_SIMPLE_RNN
                                                        : NNINIT_LAYER_KIND_COUNT;
        if (k == NNINIT_LAYER_KIND_COUNT)
            return nninit__err(err, NNINIT_EINVAL, "LastStep(): wraps an RNN, LSTM or GRU, not %s", m->text);
        return b_rnn(b, m, k, 1);
    }
    if (!strcmp(n, "Positions")) {
        static const char *const P[] = {"num_embeddings", "embedding_dim", "padding_idx", "max_norm", "norm_type",
                                        "scale_grad_by_freq", "sparse", "_weight", "device", "dtype", NULL};
        const value *m;
        nninit_layer_desc d = nninit_layer_desc_default(NNINIT_LAYER_POSITION_EMBEDDING);
        int64_t dim;
        if ((s = wrapped(v, "wpe", &m, err)) != NNINIT_OK)
            return s;
        if (strcmp(m->text, "Embedding"))
            return nninit__err(err, NNINIT_EINVAL, "Positions(): wpe must be an Embedding(steps, width)");
        if ((s = bind(m, P, a, err)) == NNINIT_OK && (s = int_arg(m, a[0], "num_embeddings", -1, 1, &d.vocab, err)) ==
                                                        NNINIT_OK)
            s = int_arg(m, a[1], "embedding_dim", -1, 1, &dim, err);
        return s == NNINIT_OK ? push(b, &d) : s;
    }
    if (!strcmp(n, "Linear")) {
        static const char *const P[] = {"in_features", "out_features", "bias", "device", "dtype", NULL};
        nninit_layer_desc d = nninit_layer_desc_default(NNINIT_LAYER_DENSE);
        int64_t in;
        if ((s = bind(v, P, a, err)) == NNINIT_OK && (s = int_arg(v, a[0], "in_features", -1, 1, &in, err)) ==
                                                        NNINIT_OK &&
            (s = int_arg(v, a[1], "out_features", -1, 1, &d.units, err)) == NNINIT_OK)
            s = bool_arg(v, a[2], "bias", 1, &d.use_bias, err);
        return s == NNINIT_OK ? push(b, &d) : s;
    }
    if (!strcmp(n, "Conv2d"))
        return b_conv(b, v);
    if (!strcmp(n, "MaxPool2d"))
        return b_pool(b, v, NNINIT_LAYER_MAXPOOL2D);
    if (!strcmp(n, "AvgPool2d"))
        return b_pool(b, v, NNINIT_LAYER_AVGPOOL2D);
    if (!strcmp(n, "AdaptiveAvgPool2d")) {
        static const char *const P[] = {"output_size", NULL};
        int64_t sz = 0;
        if ((s = bind(v, P, a, err)) == NNINIT_OK && (s = int_arg(v, a[0], "output_size", -1, 1, &sz, err)) ==
                                                        NNINIT_OK &&
            sz != 1)
            s = nninit__err(err, NNINIT_EUNSUPPORTED, "AdaptiveAvgPool2d(): output_size must be 1 (global average)");
        nninit_layer_desc d = nninit_layer_desc_default(NNINIT_LAYER_GLOBAL_AVGPOOL2D);
        return s == NNINIT_OK ? push(b, &d) : s;
    }
    if (!strcmp(n, "Flatten")) {
        static const char *const P[] = {"start_dim", "end_dim", NULL};
        if ((s = bind(v, P, a, err)) == NNINIT_OK)
            s = must_be(v, a[0], "start_dim", 1, "the batch axis stays", err);
        if (s == NNINIT_OK)
            s = must_be(v, a[1], "end_dim", -1, "flatten the whole sample", err);
        nninit_layer_desc d = nninit_layer_desc_default(NNINIT_LAYER_FLATTEN);
        return s == NNINIT_OK ? push(b, &d) : s;
    }
    if (!strcmp(n, "Dropout")) {
        static const char *const P[] = {"p", "inplace", NULL};
        nninit_layer_desc d = nninit_layer_desc_default(NNINIT_LAYER_DROPOUT);
        if ((s = bind(v, P, a, err)) == NNINIT_OK)
            s = num_arg(v, a[0], "p", 0.5, &d.rate, err);
        return s == NNINIT_OK ? push(b, &d) : s;
    }
    if (!strcmp(n, "Identity"))
        return NNINIT_OK;
    if (!strcmp(n, "BatchNorm1d") || !strcmp(n, "BatchNorm2d")) {
        static const char *const P[] = {"num_features", "eps", "momentum", "affine", "track_running_stats", "device",
                                        "dtype", NULL};
        nninit_layer_desc d = nninit_layer_desc_default(NNINIT_LAYER_BATCHNORM);
        int64_t nf;
        double mom = 0.1;
        if ((s = bind(v, P, a, err)) == NNINIT_OK && (s = int_arg(v, a[0], "num_features", -1, 1, &nf, err)) ==
                                                        NNINIT_OK &&
            (s = num_arg(v, a[1], "eps", 1e-5, &d.epsilon, err)) == NNINIT_OK &&
            (s = num_arg(v, a[2], "momentum", 0.1, &mom, err)) == NNINIT_OK &&
            (s = must_be(v, a[3], "affine", 1, "gamma and beta are always trained", err)) == NNINIT_OK)
            s = must_be(v, a[4], "track_running_stats", 1, "evaluation uses the running statistics", err);
        d.momentum = 1.0 - mom; /* torch: running = (1 - m) running + m batch; the engine keeps Keras' m */
        return s == NNINIT_OK ? push(b, &d) : s;
    }
    if (!strcmp(n, "LayerNorm")) {
        static const char *const P[] = {"normalized_shape", "eps", "elementwise_affine", "device", "dtype", NULL};
        nninit_layer_desc d = nninit_layer_desc_default(NNINIT_LAYER_LAYER_NORM);
        int64_t ns;
        int affine = 1;
        if ((s = bind(v, P, a, err)) == NNINIT_OK && a[0] && a[0]->kind == NNINIT__PY_TUPLE && a[0]->n != 1)
            s = nninit__err(err, NNINIT_EUNSUPPORTED, "LayerNorm(): normalized_shape must be the last axis only");
        if (s == NNINIT_OK && (s = int_arg(v, a[0], "normalized_shape", -1, 1, &ns, err)) == NNINIT_OK &&
            (s = num_arg(v, a[1], "eps", 1e-5, &d.epsilon, err)) == NNINIT_OK)
            s = bool_arg(v, a[2], "elementwise_affine", 1, &affine, err);
        d.scale = d.use_bias = affine;
        return s == NNINIT_OK ? push(b, &d) : s;
    }
    if (!strcmp(n, "Embedding")) {
        static const char *const P[] = {"num_embeddings", "embedding_dim", "padding_idx", "max_norm", "norm_type",
                                        "scale_grad_by_freq", "sparse", "_weight", "device", "dtype", NULL};
        nninit_layer_desc d = nninit_layer_desc_default(NNINIT_LAYER_EMBEDDING);
        if ((s = bind(v, P, a, err)) == NNINIT_OK && (s = int_arg(v, a[0], "num_embeddings", -1, 1, &d.vocab, err)) ==
                                                        NNINIT_OK)
            s = int_arg(v, a[1], "embedding_dim", -1, 1, &d.units, err);
        /* padding_idx: the row starts at zero and gets no gradient; negative counts from the end (Embedding.__init__) */
        if (s == NNINIT_OK && !is_none(a[2])) {
            if (a[2]->kind != NNINIT__PY_INT || a[2]->i >= d.vocab || a[2]->i < -d.vocab)
                s = nninit__err(err, NNINIT_EINVAL, "Embedding(): padding_idx must be an integer within num_embeddings "
                                "(-%lld .. %lld)", (long long)d.vocab, (long long)(d.vocab - 1));
            else
                d.padding_idx = a[2]->i < 0 ? a[2]->i + d.vocab : a[2]->i;
        }
        for (int k = 3; s == NNINIT_OK && k < 8; k++) /* max_norm, _weight None; flags False */
            if (k != 4 && !is_none(a[k]) && !(a[k]->kind == NNINIT__PY_BOOL && !a[k]->i))
                s = nninit__err(err, NNINIT_EUNSUPPORTED, "Embedding(): %s is not supported in training", P[k]);
        return s == NNINIT_OK ? push(b, &d) : s;
    }
    if (!strcmp(n, "LSTM"))
        return b_rnn(b, v, NNINIT_LAYER_LSTM, 0);
    if (!strcmp(n, "GRU"))
        return b_rnn(b, v, NNINIT_LAYER_GRU, 0);
    if (!strcmp(n, "RNN"))
        return b_rnn(b, v, NNINIT_LAYER_SIMPLE_RNN, 0);
    if (!strcmp(n, "MultiheadAttention"))
        return b_attention(b, v, causal);
    if (!strcmp(n, "TransformerEncoderLayer"))
        return b_encoder_layer(b, v, causal);
    static const struct { const char *name; nninit_act act; } acts[] = {
        {"ReLU", NNINIT_ACT_RELU}, {"Tanh", NNINIT_ACT_TANH}, {"Sigmoid", NNINIT_ACT_SIGMOID},
        {"SiLU", NNINIT_ACT_SWISH}, {"SELU", NNINIT_ACT_SELU}, {"GELU", NNINIT_ACT_GELU},
        {"ELU", NNINIT_ACT_ELU}, {"LeakyReLU", NNINIT_ACT_LEAKY_RELU}, {"Softmax", NNINIT_ACT_SOFTMAX}};
    for (size_t i = 0; i < sizeof acts / sizeof *acts; i++) {
        if (strcmp(n, acts[i].name))
            continue;
        static const char *const P_ALPHA[] = {"alpha", "inplace", NULL}, *const P_SLOPE[] = {"negative_slope",
                                                                                               "inplace", NULL};
        static const char *const P_GELU[] = {"approximate", NULL}, *const P_DIM[] = {"dim", NULL},
                                 *const P_NONE[] = {"inplace", NULL};
        nninit_act act = acts[i].act;
        const char *const *P = act == NNINIT_ACT_ELU ? P_ALPHA : act == NNINIT_ACT_LEAKY_RELU ? P_SLOPE
                               : act == NNINIT_ACT_GELU ? P_GELU : act == NNINIT_ACT_SOFTMAX ? P_DIM : P_NONE;
        double alpha = act == NNINIT_ACT_ELU ? 1.0 : act == NNINIT_ACT_LEAKY_RELU ? 0.01 : 0.0;
        if ((s = bind(v, P, a, err)) != NNINIT_OK)
            return s;
        if (act == NNINIT_ACT_ELU || act == NNINIT_ACT_LEAKY_RELU)
            s = num_arg(v, a[0], P[0], alpha, &alpha, err);
        if (s == NNINIT_OK && act == NNINIT_ACT_GELU && str_arg(a[0]) && !strcmp(str_arg(a[0]), "tanh"))
            act = NNINIT_ACT_GELU_TANH;
        else if (s == NNINIT_OK && act == NNINIT_ACT_GELU && !is_none(a[0]) &&
                 !(str_arg(a[0]) && !strcmp(str_arg(a[0]), "none")))
            s = nninit__err(err, NNINIT_EINVAL, "GELU(): approximate must be 'none' or 'tanh'");
        if (s == NNINIT_OK && act == NNINIT_ACT_SOFTMAX)
            s = must_be(v, a[0], "dim", -1, "softmax over the last axis", err);
        return s == NNINIT_OK ? act_layer(b, act, alpha) : s;
    }
    return nninit__err(err, NNINIT_EUNSUPPORTED, "recipe: %s is not a module nninit train runs; supported: Sequential, "
                       "Linear, Conv2d, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d(1), Flatten, Dropout, Identity, "
                       "BatchNorm1d/2d, LayerNorm, Embedding, RNN, LSTM, GRU, MultiheadAttention, "
                       "TransformerEncoderLayer, ReLU, Tanh, Sigmoid, SiLU, SELU, GELU, ELU, LeakyReLU, Softmax, and "
                       "nninit's Residual(body=M), LastStep(rnn=M), Positions(wpe=Embedding(T, d)), Causal(block=M)", n);
}

nninit_status nninit_net_desc_parse_torch(const char *recipe, nninit_layer_desc **layers, int *n_layers,
                                          nninit_err *err)
{
    if (!recipe || !layers || !n_layers)
        return nninit__err(err, NNINIT_EMISUSE, "nninit_net_desc_parse_torch: NULL argument");
    *layers = NULL;
    *n_layers = 0;
    value *v = NULL;
    nninit_status s = nninit__py_parse(recipe, &v, err);
    if (s != NNINIT_OK) {
        if (err) {
            char msg[sizeof err->msg];
            snprintf(msg, sizeof msg, "%s", err->msg);
            nninit__err(err, s, "recipe %.240s", msg);
        }
        return s;
    }
    tbuild b = {NULL, 0, 0, err};
    s = module(&b, v, 0);
    nninit__py_free(v);
    if (s == NNINIT_OK && b.n == 0)
        s = nninit__err(err, NNINIT_EINVAL, "recipe: no layers; expected at least one module with a forward pass");
    if (s != NNINIT_OK) {
        free(b.L);
        return s;
    }
    *layers = b.L;
    *n_layers = b.n;
    return NNINIT_OK;
}
