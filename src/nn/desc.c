/* Model descriptions: the MLP recipe behind the CLI flags, and layer lists
 * in JSON with Keras-style layer configs (jansson). */
#include "nn/internal.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LAYERS 4096

nninit_mlp_desc nninit_mlp_desc_default(void)
{
    nninit_mlp_desc m;
    memset(&m, 0, sizeof m);
    m.n_outputs = 10;
    m.act = NNINIT_ACT_RELU;
    m.out_act = NNINIT_ACT_LINEAR;
    return m;
}

static nninit_status copy_spec(char *dst, const char *src, const char *what, nninit_err *err)
{
    size_t n = strlen(src);
    if (n >= NNINIT_SPEC_MAX)
        return nninit__err(err, NNINIT_EINVAL, "%s: initializer spec of %zu bytes; at most %d fit", what, n,
                           NNINIT_SPEC_MAX - 1);
    memcpy(dst, src, n + 1);
    return NNINIT_OK;
}

nninit_status nninit_net_desc_mlp(const nninit_mlp_desc *mlp, nninit_layer_desc **layers, int *n_layers,
                                 nninit_err *err)
{
    if (!mlp || !layers || !n_layers)
        return nninit__err(err, NNINIT_EMISUSE, "nninit_net_desc_mlp: NULL argument");
    *layers = NULL;
    *n_layers = 0;
    if (mlp->n_hidden < 0 || mlp->n_hidden > 1000 || (mlp->n_hidden > 0 && !mlp->hidden) || mlp->n_outputs < 1)
        return nninit__err(err, NNINIT_EINVAL, "mlp: %d hidden layers, %lld outputs; expected 0 .. 1000 and >= 1",
                           mlp->n_hidden, (long long)mlp->n_outputs);
    if (!(mlp->dropout >= 0.0 && mlp->dropout < 1.0))
        return nninit__err(err, NNINIT_EINVAL, "dropout rate %g; expected 0 <= rate < 1", mlp->dropout);
    int per = 1 + (mlp->bn ? 2 : 0) + (mlp->dropout > 0.0);
    int count = mlp->n_hidden * per + 1;
    nninit_layer_desc *L = nninit__malloc_array((size_t)count, sizeof *L);
    if (!L)
        return nninit__err(err, NNINIT_ENOMEM, "mlp: out of memory");
    int k = 0;
    nninit_status s = NNINIT_OK;
    for (int i = 0; i <= mlp->n_hidden && s == NNINIT_OK; i++) {
        int last = i == mlp->n_hidden;
        nninit_layer_desc d = nninit_layer_desc_default(NNINIT_LAYER_DENSE);
        d.units = last ? mlp->n_outputs : mlp->hidden[i];
        d.act = last ? mlp->out_act : mlp->bn ? NNINIT_ACT_LINEAR : mlp->act;
        d.alpha = last || mlp->bn ? 0.0 : mlp->alpha;
        if (mlp->kernel_init)
            s = copy_spec(d.kernel_init, mlp->kernel_init, "kernel", err);
        if (s == NNINIT_OK && mlp->bias_init)
            s = copy_spec(d.bias_init, mlp->bias_init, "bias", err);
        L[k++] = d;
        if (last)
            break;
        if (mlp->bn) {
            L[k++] = nninit_layer_desc_default(NNINIT_LAYER_BATCHNORM);
            nninit_layer_desc a = nninit_layer_desc_default(NNINIT_LAYER_ACTIVATION);
            a.act = mlp->act;
            a.alpha = mlp->alpha;
            L[k++] = a;
        }
        if (mlp->dropout > 0.0) {
            nninit_layer_desc dr = nninit_layer_desc_default(NNINIT_LAYER_DROPOUT);
            dr.rate = mlp->dropout;
            L[k++] = dr;
        }
    }
    if (s != NNINIT_OK) {
        free(L);
        return s;
    }
    *layers = L;
    *n_layers = k;
    return NNINIT_OK;
}

/* ---- JSON ---- */

/* ASCII case-insensitive comparison (strcasecmp is POSIX, not C11, and locale-dependent). */
static int strcasecmp_ascii(const char *a, const char *b)
{
    for (;; a++, b++) {
        int ca = (unsigned char)*a, cb = (unsigned char)*b;
        ca = ca >= 'A' && ca <= 'Z' ? ca + 32 : ca;
        cb = cb >= 'A' && cb <= 'Z' ? cb + 32 : cb;
        if (ca != cb || !ca)
            return ca - cb;
    }
}

static int name_is(const char *cls, const char *a, const char *b, const char *c)
{
    return !strcasecmp_ascii(cls, a) || (b && !strcasecmp_ascii(cls, b)) || (c && !strcasecmp_ascii(cls, c));
}

/* An initializer value: a string (name, call, @file) or a Keras serialized object. */
/* The tanh-form GELU as a Keras 3 JSON names it: Keras' string "gelu" is the
 * exact form (keras.activations.gelu(approximate=False)); the tanh form has
 * no string of its own and is serialized as keras_hub's (formerly
 * keras_nlp's) registered function gelu_approximate (GPT-2's activation). */
static int is_gelu_approximate(const char *name)
{
    return !strcmp(name, "gelu_approximate") || !strcmp(name, "keras_hub>gelu_approximate") ||
           !strcmp(name, "keras_nlp>gelu_approximate");
}

static nninit_status get_init(json_t *v, char *dst, const char *what, nninit_err *err)
{
    if (json_is_string(v))
        return copy_spec(dst, json_string_value(v), what, err);
    if (json_is_object(v)) {
        char *text = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
        if (!text)
            return nninit__err(err, NNINIT_ENOMEM, "%s: out of memory", what);
        nninit_status s = copy_spec(dst, text, what, err);
        free(text);
        return s;
    }
    return nninit__err(err, NNINIT_EINVAL, "%s: expected an initializer name or a Keras initializer object", what);
}

static nninit_status get_num(json_t *v, double *out, const char *what, nninit_err *err)
{
    if (!json_is_number(v))
        return nninit__err(err, NNINIT_EINVAL, "%s: expected a number", what);
    *out = json_number_value(v);
    return NNINIT_OK;
}

/* Keys that Keras writes for bookkeeping and that do not change the maths. */
static int ignorable(const char *key, json_t *v)
{
    static const char *const keys[] = {"name", "trainable", "dtype", "module", "registered_name", "build_config",
                                       "batch_input_shape", "batch_shape", "input_shape", "seed", "noise_shape",
                                       "synchronized", "lora_rank", "lora_alpha", "quantization_config", NULL};
    for (int i = 0; keys[i]; i++)
        if (!strcmp(key, keys[i]))
            return 1;
    /* regularizers and constraints are accepted only when absent (null) */
    size_t n = strlen(key);
    if (json_is_null(v) && ((n > 12 && !strcmp(key + n - 12, "_regularizer")) ||
                            (n > 11 && !strcmp(key + n - 11, "_constraint"))))
        return 1;
    return 0;
}

/* An integer or a pair [a, b] of integers in 1 .. 4096 (kernel_size, strides, ...). */
static nninit_status get_pair(json_t *v, int64_t out[2], const char *what, const char *key, nninit_err *err)
{
    json_t *e[2] = {v, v};
    if (json_is_array(v) && json_array_size(v) == 2) {
        e[0] = json_array_get(v, 0);
        e[1] = json_array_get(v, 1);
    }
    for (int k = 0; k < 2; k++) {
        if (!json_is_integer(e[k]) || json_integer_value(e[k]) < 1 || json_integer_value(e[k]) > 4096)
            return nninit__err(err, NNINIT_EINVAL, "%s: %s must be an integer or a pair of integers in 1 .. 4096",
                               what, key);
        out[k] = (int64_t)json_integer_value(e[k]);
    }
    return NNINIT_OK;
}

static nninit_status get_int_range(json_t *v, int64_t lo, int64_t hi, int64_t *out, const char *what, const char *key,
                                   nninit_err *err)
{
    if (!json_is_number(v))
        return nninit__err(err, NNINIT_EINVAL, "%s: %s must be a number", what, key);
    double u = json_number_value(v);
    if (!(u >= (double)lo && u <= (double)hi && u == floor(u)))
        return nninit__err(err, NNINIT_EINVAL, "%s: %s %g; expected an integer in %lld .. %lld", what, key, u,
                           (long long)lo, (long long)hi);
    *out = (int64_t)u;
    return NNINIT_OK;
}

static nninit_status get_bool(json_t *v, int *out, const char *what, const char *key, nninit_err *err)
{
    if (!json_is_boolean(v))
        return nninit__err(err, NNINIT_EINVAL, "%s: %s must be true or false", what, key);
    *out = json_is_true(v);
    return NNINIT_OK;
}

#define SUPPORTED                                                                                                      \
    "Dense, Activation, BatchNormalization, Dropout, Conv2D, DepthwiseConv2D, MaxPooling2D, AveragePooling2D, "        \
    "GlobalAveragePooling2D, Flatten, Add, Scale, SimpleRNN, LSTM, GRU, Embedding, PositionEmbedding, "              \
    "LayerNormalization, RMSNormalization, MultiHeadAttention, TransformerBlock, InputLayer"

/* What the graph needs of a layer besides its description. */
typedef struct layer_refs {
    const char *name;     /* config.name or name; NULL if none */
    const char *src[2];   /* producers by name (Keras inbound_nodes, nninit "inputs"); NULL = the layer before */
    int n_src;
    int is_input;         /* InputLayer */
    int causal;           /* Keras MultiHeadAttention called with use_causal_mask=True */
    nninit_shape input;   /* its batch_shape without the batch axis (ndim 0 if absent) */
} layer_refs;

/* Producer names of a Keras Functional layer: Keras 3 ({"args": [tensor or
 * [tensors]], each {"config": {"keras_history": [name, 0, 0]}}) or Keras 2
 * ([[[name, 0, 0, {}], ...]]). */
static void inbound_names(json_t *layer, layer_refs *r)
{
    json_t *nodes = json_object_get(layer, "inbound_nodes");
    json_t *node = json_is_array(nodes) ? json_array_get(nodes, 0) : NULL;
    if (!node)
        return;
    json_t *flat[4];
    int nf = 0;
    if (json_is_object(node)) {
        r->causal = json_is_true(json_object_get(json_object_get(node, "kwargs"), "use_causal_mask"));
        json_t *args = json_object_get(node, "args");
        for (size_t i = 0; i < json_array_size(args) && nf < 4; i++) {
            json_t *a = json_array_get(args, i);
            if (json_is_array(a))
                for (size_t j = 0; j < json_array_size(a) && nf < 4; j++)
                    flat[nf++] = json_array_get(a, j);
            else
                flat[nf++] = a;
        }
        for (int i = 0; i < nf && r->n_src < 2; i++) {
            json_t *hist = json_object_get(json_object_get(flat[i], "config"), "keras_history");
            const char *nm = json_string_value(json_array_get(hist, 0));
            if (nm)
                r->src[r->n_src++] = nm;
            else
                r->n_src = 3; /* not a tensor: refused by the caller */
        }
        if (nf > 2)
            r->n_src = 3;
        return;
    }
    for (size_t i = 0; i < json_array_size(node); i++) {
        /* Keras 2: [name, node, tensor, kwargs] */
        json_t *kw = json_array_get(json_array_get(node, i), 3);
        if (json_is_true(json_object_get(kw, "use_causal_mask")))
            r->causal = 1;
        const char *nm = json_string_value(json_array_get(json_array_get(node, i), 0));
        if (r->n_src < 2 && nm)
            r->src[r->n_src] = nm;
        r->n_src++;
    }
}

/* Shape without the batch axis from [null, 28, 28, 1]. */
static nninit_status get_batch_shape(json_t *v, nninit_shape *out, const char *what, nninit_err *err)
{
    size_t n = json_array_size(v);
    if (!json_is_array(v) || n < 2 || n > 4)
        return nninit__err(err, NNINIT_EINVAL, "%s: batch_shape must be [null, F], [null, T, F] or [null, H, W, C]",
                           what);
    out->ndim = (int)n - 1;
    for (size_t i = 1; i < n; i++) {
        json_t *e = json_array_get(v, i);
        if (!json_is_integer(e) || json_integer_value(e) < 1 || json_integer_value(e) > (1 << 24))
            return nninit__err(err, NNINIT_EINVAL, "%s: batch_shape needs fixed sizes in 1 .. 16777216 after the "
                               "batch axis", what);
        out->dim[i - 1] = (int64_t)json_integer_value(e);
    }
    return NNINIT_OK;
}

static nninit_status parse_layer(json_t *obj, int idx, nninit_layer_desc *d, layer_refs *r, nninit_err *err)
{
    char what[64];
    snprintf(what, sizeof what, "model layer %d", idx);
    memset(r, 0, sizeof *r);
    if (!json_is_object(obj))
        return nninit__err(err, NNINIT_EINVAL, "%s: expected an object with class_name", what);
    json_t *cls = json_object_get(obj, "class_name");
    if (!cls)
        cls = json_object_get(obj, "type");
    if (!json_is_string(cls))
        return nninit__err(err, NNINIT_EINVAL, "%s: missing \"class_name\"; expected one of " SUPPORTED, what);
    const char *c = json_string_value(cls);
    json_t *cfg = json_object_get(obj, "config");
    int flat = !json_is_object(cfg);
    if (flat)
        cfg = obj;
    r->name = json_string_value(json_object_get(cfg, "name"));
    if (!r->name)
        r->name = json_string_value(json_object_get(obj, "name"));
    if (!flat)
        inbound_names(obj, r);
    if (name_is(c, "InputLayer", "input", NULL)) {
        r->is_input = 1;
        json_t *bs = json_object_get(cfg, "batch_shape");
        if (!bs)
            bs = json_object_get(cfg, "batch_input_shape");
        return bs && !json_is_null(bs) ? get_batch_shape(bs, &r->input, what, err) : NNINIT_OK;
    }
    int depthwise = 0;
    if (name_is(c, "Dense", NULL, NULL))
        *d = nninit_layer_desc_default(NNINIT_LAYER_DENSE);
    else if (name_is(c, "Activation", NULL, NULL))
        *d = nninit_layer_desc_default(NNINIT_LAYER_ACTIVATION);
    else if (name_is(c, "BatchNormalization", "batch_normalization", "batchnorm"))
        *d = nninit_layer_desc_default(NNINIT_LAYER_BATCHNORM);
    else if (name_is(c, "Dropout", NULL, NULL))
        *d = nninit_layer_desc_default(NNINIT_LAYER_DROPOUT);
    else if (name_is(c, "Conv2D", "conv2d", "Convolution2D"))
        *d = nninit_layer_desc_default(NNINIT_LAYER_CONV2D);
    else if ((depthwise = name_is(c, "DepthwiseConv2D", "depthwise_conv2d", NULL)) != 0) {
        *d = nninit_layer_desc_default(NNINIT_LAYER_CONV2D);
        d->depth_multiplier = 1;
    } else if (name_is(c, "MaxPooling2D", "max_pooling2d", "MaxPool2D"))
        *d = nninit_layer_desc_default(NNINIT_LAYER_MAXPOOL2D);
    else if (name_is(c, "AveragePooling2D", "average_pooling2d", "AvgPool2D"))
        *d = nninit_layer_desc_default(NNINIT_LAYER_AVGPOOL2D);
    else if (name_is(c, "GlobalAveragePooling2D", "global_average_pooling2d", "GlobalAvgPool2D"))
        *d = nninit_layer_desc_default(NNINIT_LAYER_GLOBAL_AVGPOOL2D);
    else if (name_is(c, "Flatten", NULL, NULL))
        *d = nninit_layer_desc_default(NNINIT_LAYER_FLATTEN);
    else if (name_is(c, "Add", NULL, NULL))
        *d = nninit_layer_desc_default(NNINIT_LAYER_ADD);
    else if (name_is(c, "Scale", NULL, NULL))
        *d = nninit_layer_desc_default(NNINIT_LAYER_SCALE);
    else if (name_is(c, "SimpleRNN", "simple_rnn", NULL))
        *d = nninit_layer_desc_default(NNINIT_LAYER_SIMPLE_RNN);
    else if (name_is(c, "LSTM", NULL, NULL))
        *d = nninit_layer_desc_default(NNINIT_LAYER_LSTM);
    else if (name_is(c, "GRU", NULL, NULL))
        *d = nninit_layer_desc_default(NNINIT_LAYER_GRU);
    else if (name_is(c, "Embedding", NULL, NULL))
        *d = nninit_layer_desc_default(NNINIT_LAYER_EMBEDDING);
    else if (name_is(c, "PositionEmbedding", "position_embedding", NULL))
        *d = nninit_layer_desc_default(NNINIT_LAYER_POSITION_EMBEDDING);
    else if (name_is(c, "LayerNormalization", "layer_normalization", "LayerNorm")) {
        *d = nninit_layer_desc_default(NNINIT_LAYER_LAYER_NORM);
    } else if (name_is(c, "RMSNormalization", "rms_normalization", "RMSNorm")) {
        *d = nninit_layer_desc_default(NNINIT_LAYER_LAYER_NORM);
        d->norm = 1;
        d->epsilon = 1e-6; /* keras.layers.RMSNormalization's default */
    } else if (name_is(c, "MultiHeadAttention", "multi_head_attention", NULL))
        *d = nninit_layer_desc_default(NNINIT_LAYER_ATTENTION);
    else if (name_is(c, "TransformerBlock", "transformer_block", "transformer"))
        *d = nninit_layer_desc_default(NNINIT_LAYER_TRANSFORMER);
    else
        return nninit__err(err, NNINIT_EUNSUPPORTED, "%s: layer class '%.64s' is not supported by the engine; "
                           "supported: " SUPPORTED, what, c);
    snprintf(what, sizeof what, "model layer %d (%.24s)", idx, c);
    nninit_layer_kind k = d->kind;
    int conv = k == NNINIT_LAYER_CONV2D, pool = k == NNINIT_LAYER_MAXPOOL2D || k == NNINIT_LAYER_AVGPOOL2D;
    int rnn = k == NNINIT_LAYER_SIMPLE_RNN || k == NNINIT_LAYER_LSTM || k == NNINIT_LAYER_GRU;
    int weighted = k == NNINIT_LAYER_DENSE || conv || rnn;
    int attn = k == NNINIT_LAYER_ATTENTION || k == NNINIT_LAYER_TRANSFORMER, lnorm = k == NNINIT_LAYER_LAYER_NORM;
    if (attn)
        d->causal = r->causal;
    int has_units = 0;
    const char *key;
    json_t *v;
    json_object_foreach(cfg, key, v)
    {
        nninit_status s = NNINIT_OK;
        if (flat && (!strcmp(key, "class_name") || !strcmp(key, "type")))
            continue;
        if (!flat && (!strcmp(key, "class_name") || !strcmp(key, "config")))
            continue;
        if (!strcmp(key, "activation") && (weighted || k == NNINIT_LAYER_ACTIVATION)) {
            if (json_is_null(v))
                d->act = NNINIT_ACT_LINEAR;
            else if (!json_is_string(v))
                s = nninit__err(err, NNINIT_EINVAL, "%s: activation must be a name such as \"relu\"", what);
            else if (is_gelu_approximate(json_string_value(v)))
                d->act = NNINIT_ACT_GELU_TANH;
            else
                s = nninit_act_parse(json_string_value(v), &d->act, &d->alpha, err);
        } else if (rnn && !strcmp(key, "recurrent_initializer")) {
            s = get_init(v, d->recurrent_init, what, err);
        } else if (rnn && !strcmp(key, "return_sequences")) {
            s = get_bool(v, &d->return_sequences, what, key, err);
        } else if (k == NNINIT_LAYER_LSTM && !strcmp(key, "unit_forget_bias")) {
            s = get_bool(v, &d->unit_forget_bias, what, key, err);
        } else if (k == NNINIT_LAYER_GRU && !strcmp(key, "reset_after")) {
            s = get_bool(v, &d->reset_after, what, key, err);
        } else if (rnn && !strcmp(key, "recurrent_activation")) {
            if (!(json_is_string(v) && !strcmp(json_string_value(v), "sigmoid")))
                s = nninit__err(err, NNINIT_EUNSUPPORTED, "%s: recurrent_activation must be \"sigmoid\"", what);
        } else if (rnn && (!strcmp(key, "return_state") || !strcmp(key, "go_backwards") || !strcmp(key, "stateful") ||
                           !strcmp(key, "time_major"))) {
            if (!json_is_false(v))
                s = nninit__err(err, NNINIT_EUNSUPPORTED, "%s: %s must be false", what, key);
        } else if (rnn && (!strcmp(key, "dropout") || !strcmp(key, "recurrent_dropout"))) {
            if (!json_is_number(v) || json_number_value(v) != 0.0)
                s = nninit__err(err, NNINIT_EUNSUPPORTED, "%s: %s must be 0 (add a Dropout layer instead)", what, key);
        } else if (rnn && (!strcmp(key, "unroll") || !strcmp(key, "implementation") ||
                           !strcmp(key, "zero_output_for_mask"))) {
            continue; /* how Keras schedules the computation, not what it computes */
        } else if ((k == NNINIT_LAYER_DENSE && !strcmp(key, "units")) || (rnn && !strcmp(key, "units")) ||
                   (conv && !depthwise && !strcmp(key, "filters"))) {
            s = get_int_range(v, 1, 16777216, &d->units, what, key, err);
            has_units = 1;
        } else if ((weighted || k == NNINIT_LAYER_SCALE) && !strcmp(key, "use_bias")) {
            s = get_bool(v, &d->use_bias, what, key, err);
        } else if (weighted && !strcmp(key, depthwise ? "depthwise_initializer" : "kernel_initializer")) {
            s = get_init(v, d->kernel_init, what, err);
        } else if (k == NNINIT_LAYER_SCALE && !strcmp(key, "multiplier_initializer")) {
            s = get_init(v, d->kernel_init, what, err);
        } else if ((weighted || k == NNINIT_LAYER_SCALE) && !strcmp(key, "bias_initializer")) {
            s = get_init(v, d->bias_init, what, err);
        } else if ((conv || pool) && !strcmp(key, conv ? "kernel_size" : "pool_size")) {
            s = get_pair(v, d->kernel, what, key, err);
        } else if ((conv || pool) && !strcmp(key, "strides")) {
            if (!(pool && json_is_null(v))) /* pooling: null = the window */
                s = get_pair(v, d->strides, what, key, err);
        } else if (conv && !strcmp(key, "dilation_rate")) {
            s = get_pair(v, d->dilation, what, key, err);
        } else if (conv && !depthwise && !strcmp(key, "groups")) {
            s = get_int_range(v, 1, 16777216, &d->groups, what, key, err);
        } else if (depthwise && !strcmp(key, "depth_multiplier")) {
            s = get_int_range(v, 1, 4096, &d->depth_multiplier, what, key, err);
        } else if ((conv || pool) && !strcmp(key, "padding")) {
            const char *pv = json_string_value(v);
            if (pv && !strcasecmp_ascii(pv, "valid"))
                d->padding = NNINIT_PAD_VALID;
            else if (pv && !strcasecmp_ascii(pv, "same"))
                d->padding = NNINIT_PAD_SAME;
            else
                s = nninit__err(err, NNINIT_EUNSUPPORTED, "%s: padding must be \"valid\" or \"same\"", what);
        } else if ((conv || pool || k == NNINIT_LAYER_GLOBAL_AVGPOOL2D || k == NNINIT_LAYER_FLATTEN) &&
                   !strcmp(key, "data_format")) {
            if (!json_is_null(v) && !(json_is_string(v) && !strcmp(json_string_value(v), "channels_last")))
                s = nninit__err(err, NNINIT_EUNSUPPORTED, "%s: data_format must be \"channels_last\" (NHWC)", what);
        } else if (k == NNINIT_LAYER_GLOBAL_AVGPOOL2D && !strcmp(key, "keepdims")) {
            if (!json_is_false(v))
                s = nninit__err(err, NNINIT_EUNSUPPORTED, "%s: keepdims must be false", what);
        } else if (k == NNINIT_LAYER_BATCHNORM && !strcmp(key, "gamma_initializer")) {
            s = get_init(v, d->gamma_init, what, err);
        } else if (k == NNINIT_LAYER_BATCHNORM && !strcmp(key, "beta_initializer")) {
            s = get_init(v, d->beta_init, what, err);
        } else if (k == NNINIT_LAYER_BATCHNORM && !strcmp(key, "momentum")) {
            s = get_num(v, &d->momentum, what, err);
        } else if (k == NNINIT_LAYER_BATCHNORM && !strcmp(key, "epsilon")) {
            s = get_num(v, &d->epsilon, what, err);
        } else if (k == NNINIT_LAYER_BATCHNORM && (!strcmp(key, "center") || !strcmp(key, "scale"))) {
            if (!json_is_true(v))
                s = nninit__err(err, NNINIT_EUNSUPPORTED, "%s: %s=false is not supported; gamma and beta are always "
                                "trained", what, key);
        } else if (k == NNINIT_LAYER_BATCHNORM && !strcmp(key, "axis")) {
            /* the last axis: -1, or its index (1 for vectors, 3 for NHWC images) */
            if (!json_is_integer(v) || (json_integer_value(v) != -1 && json_integer_value(v) != 1 &&
                                        json_integer_value(v) != 3))
                s = nninit__err(err, NNINIT_EUNSUPPORTED, "%s: axis must be -1 (the feature or channel axis)", what);
        } else if (k == NNINIT_LAYER_BATCHNORM && (!strcmp(key, "moving_mean_initializer") ||
                                                   !strcmp(key, "moving_variance_initializer"))) {
            /* the running statistics start at Keras' defaults; other values are refused, not ignored */
            const char *want = key[7] == 'm' ? "zeros" : "ones";
            const char *got = json_is_string(v) ? json_string_value(v)
                              : json_is_object(v) && json_is_string(json_object_get(v, "class_name"))
                                  ? json_string_value(json_object_get(v, "class_name"))
                                  : "";
            if (strcasecmp_ascii(got, want))
                s = nninit__err(err, NNINIT_EUNSUPPORTED, "%s: %s must be \"%s\"", what, key, want);
        } else if (k == NNINIT_LAYER_DROPOUT && !strcmp(key, "rate")) {
            s = get_num(v, &d->rate, what, err);
        } else if (k == NNINIT_LAYER_EMBEDDING && !strcmp(key, "input_dim")) {
            s = get_int_range(v, 1, 16777216, &d->vocab, what, key, err);
            has_units |= 2;
        } else if (k == NNINIT_LAYER_EMBEDDING && !strcmp(key, "output_dim")) {
            s = get_int_range(v, 1, 16777216, &d->units, what, key, err);
            has_units |= 1;
        } else if (k == NNINIT_LAYER_EMBEDDING && !strcmp(key, "embeddings_initializer")) {
            s = get_init(v, d->kernel_init, what, err);
        } else if (k == NNINIT_LAYER_EMBEDDING && (!strcmp(key, "mask_zero") || !strcmp(key, "sparse"))) {
            if (!json_is_false(v))
                s = nninit__err(err, NNINIT_EUNSUPPORTED, "%s: %s must be false (masks are not supported)", what, key);
        } else if (k == NNINIT_LAYER_EMBEDDING && !strcmp(key, "input_length")) {
            continue; /* Keras 2: the sequence length, which the input shape gives */
        } else if (k == NNINIT_LAYER_POSITION_EMBEDDING && !strcmp(key, "sequence_length")) {
            s = get_int_range(v, 1, 16777216, &d->vocab, what, key, err);
            has_units = 3;
        } else if (k == NNINIT_LAYER_POSITION_EMBEDDING && !strcmp(key, "initializer")) {
            s = get_init(v, d->kernel_init, what, err);
        } else if ((lnorm || k == NNINIT_LAYER_TRANSFORMER) &&
                   (!strcmp(key, "epsilon") || !strcmp(key, "layer_norm_epsilon"))) {
            s = get_num(v, &d->epsilon, what, err);
        } else if (lnorm && !strcmp(key, "axis")) {
            json_t *a = json_is_array(v) && json_array_size(v) == 1 ? json_array_get(v, 0) : v;
            if (!json_is_integer(a) || json_integer_value(a) != -1)
                s = nninit__err(err, NNINIT_EUNSUPPORTED, "%s: axis must be -1 (the last axis)", what);
        } else if (lnorm && d->norm != 1 && !strcmp(key, "center")) {
            s = get_bool(v, &d->use_bias, what, key, err);
        } else if (lnorm && d->norm != 1 && !strcmp(key, "scale")) {
            s = get_bool(v, &d->scale, what, key, err);
        } else if (lnorm && d->norm != 1 && !strcmp(key, "rms_scaling")) {
            int rms = 0;
            s = get_bool(v, &rms, what, key, err);
            if (rms)
                d->norm = 2;
        } else if ((lnorm || k == NNINIT_LAYER_TRANSFORMER) && !strcmp(key, "gamma_initializer")) {
            s = get_init(v, d->gamma_init, what, err);
        } else if ((lnorm || k == NNINIT_LAYER_TRANSFORMER) && !strcmp(key, "beta_initializer")) {
            s = get_init(v, d->beta_init, what, err);
        } else if (attn && !strcmp(key, "num_heads")) {
            s = get_int_range(v, 1, 4096, &d->heads, what, key, err);
            has_units |= 2;
        } else if (attn && !strcmp(key, "key_dim")) {
            s = get_int_range(v, 1, 1048576, &d->key_dim, what, key, err);
            has_units |= k == NNINIT_LAYER_ATTENTION ? 1 : 0;
        } else if (k == NNINIT_LAYER_ATTENTION && !strcmp(key, "value_dim")) {
            int64_t vd = 0;
            if (!json_is_null(v) && (s = get_int_range(v, 1, 1048576, &vd, what, key, err)) == NNINIT_OK &&
                json_is_integer(json_object_get(cfg, "key_dim")) && vd != json_integer_value(json_object_get(cfg, "key_dim")))
                s = nninit__err(err, NNINIT_EUNSUPPORTED, "%s: value_dim %lld differs from key_dim; the engine's "
                                "heads have one width (value_dim null or equal to key_dim)", what, (long long)vd);
        } else if (k == NNINIT_LAYER_ATTENTION && (!strcmp(key, "output_shape") || !strcmp(key, "attention_axes"))) {
            json_t *a = json_is_array(v) && json_array_size(v) == 1 ? json_array_get(v, 0) : v;
            int ok = json_is_null(v) || (key[0] == 'a' && json_is_integer(a) && json_integer_value(a) == 1);
            if (!ok)
                s = nninit__err(err, NNINIT_EUNSUPPORTED, "%s: %s must be null (the query's width; attention over "
                                "the steps)", what, key);
        } else if (attn && (!strcmp(key, "dropout") || !strcmp(key, "attention_dropout"))) {
            if (!json_is_number(v) || json_number_value(v) != 0.0)
                s = nninit__err(err, NNINIT_EUNSUPPORTED, "%s: %s must be 0 (add a Dropout layer instead)", what, key);
        } else if (k == NNINIT_LAYER_ATTENTION && !strcmp(key, "flash_attention")) {
            continue; /* how Keras schedules the computation, not what it computes */
        } else if (attn && (!strcmp(key, "causal") || !strcmp(key, "use_causal_mask"))) {
            s = get_bool(v, &d->causal, what, key, err);
        } else if (attn && !strcmp(key, "kernel_initializer")) {
            s = get_init(v, d->kernel_init, what, err);
        } else if (attn && !strcmp(key, "bias_initializer")) {
            s = get_init(v, d->bias_init, what, err);
        } else if (k == NNINIT_LAYER_ATTENTION && !strcmp(key, "use_bias")) {
            s = get_bool(v, &d->use_bias, what, key, err);
        } else if (k == NNINIT_LAYER_TRANSFORMER && !strcmp(key, "intermediate_dim")) {
            s = get_int_range(v, 1, 16777216, &d->units, what, key, err);
            has_units |= 1;
        } else if (k == NNINIT_LAYER_TRANSFORMER && !strcmp(key, "activation")) {
            if (json_is_string(v) && is_gelu_approximate(json_string_value(v)))
                d->act = NNINIT_ACT_GELU_TANH;
            else if (!(json_is_string(v) && !strcmp(json_string_value(v), "gelu")))
                s = nninit__err(err, NNINIT_EUNSUPPORTED, "%s: activation must be \"gelu\" or keras_hub's "
                                "\"gelu_approximate\"", what);
        } else if (k == NNINIT_LAYER_TRANSFORMER && !strcmp(key, "normalize_first")) {
            if (!json_is_true(v))
                s = nninit__err(err, NNINIT_EUNSUPPORTED, "%s: normalize_first must be true (a pre-LN block)", what);
        } else if (flat && !strcmp(key, "inputs")) {
            size_t n = json_array_size(v);
            if (!json_is_array(v) || n < 1 || n > 2)
                s = nninit__err(err, NNINIT_EINVAL, "%s: inputs must list one or two layer names", what);
            for (size_t i = 0; s == NNINIT_OK && i < n; i++) {
                r->src[i] = json_string_value(json_array_get(v, i));
                if (!r->src[i])
                    s = nninit__err(err, NNINIT_EINVAL, "%s: inputs must list layer names (\"input\" for the "
                                    "network input)", what);
            }
            r->n_src = (int)n;
        } else if (!flat && !strcmp(key, "inbound_nodes")) {
            continue;
        } else if (!ignorable(key, v)) {
            s = nninit__err(err, NNINIT_EINVAL, "%s: unknown key '%.64s'", what, key);
        }
        if (s != NNINIT_OK)
            return s;
    }
    if (rnn && !(d->act == NNINIT_ACT_TANH || (k == NNINIT_LAYER_SIMPLE_RNN && d->act == NNINIT_ACT_RELU)))
        return nninit__err(err, NNINIT_EUNSUPPORTED, "%s: activation must be tanh%s", what,
                           k == NNINIT_LAYER_SIMPLE_RNN ? " or relu" : "");
    if ((k == NNINIT_LAYER_DENSE || rnn || (conv && !depthwise)) && !has_units)
        return nninit__err(err, NNINIT_EINVAL, "%s: missing \"%s\"", what, conv ? "filters" : "units");
    static const char *const need[][2] = {{"output_dim", "input_dim"}, {"key_dim", "num_heads"},
                                          {"intermediate_dim", "num_heads"}};
    int ni = k == NNINIT_LAYER_EMBEDDING ? 0 : k == NNINIT_LAYER_ATTENTION ? 1 : k == NNINIT_LAYER_TRANSFORMER ? 2 : -1;
    if (ni >= 0 && has_units != 3)
        return nninit__err(err, NNINIT_EINVAL, "%s: missing \"%s\"", what, need[ni][has_units & 1]);
    if (k == NNINIT_LAYER_POSITION_EMBEDDING && !has_units)
        return nninit__err(err, NNINIT_EINVAL, "%s: missing \"sequence_length\"", what);
    /* self-attention: Keras calls it with the same tensor as query and value (and key) */
    if (k == NNINIT_LAYER_ATTENTION && r->n_src >= 2) {
        for (int i = 1; i < r->n_src && i < 2; i++)
            if (r->n_src > 2 || strcmp(r->src[i], r->src[0]))
                return nninit__err(err, NNINIT_EUNSUPPORTED, "%s: query, value and key must be the same tensor (self-"
                                   "attention); cross-attention is not supported", what);
        r->n_src = 1;
    }
    int want_src = k == NNINIT_LAYER_ADD ? 2 : 1;
    if (r->n_src > want_src || (k == NNINIT_LAYER_ADD && r->n_src != 2))
        return nninit__err(err, NNINIT_EUNSUPPORTED, "%s: %d inputs; %s takes %s", what, r->n_src, c,
                           k == NNINIT_LAYER_ADD ? "exactly two (add more with a chain of Add layers)" : "one");
    return NNINIT_OK;
}

static int find_name(char *const *names, int n, const char *name)
{
    for (int i = n - 1; i >= 0; i--)
        if (names[i] && !strcmp(names[i], name))
            return i;
    return -3;
}

nninit_status nninit_net_desc_parse_json(const char *text, nninit_layer_desc **layers, int *n_layers,
                                         nninit_err *err)
{
    return nninit_net_desc_parse_json_shaped(text, layers, n_layers, NULL, NULL, err);
}

nninit_status nninit_net_desc_parse_json_shaped(const char *text, nninit_layer_desc **layers, int *n_layers,
                                                nninit_shape *input, int *keras, nninit_err *err)
{
    if (!text || !layers || !n_layers)
        return nninit__err(err, NNINIT_EMISUSE, "nninit_net_desc_parse_json: NULL argument");
    *layers = NULL;
    *n_layers = 0;
    if (input)
        memset(input, 0, sizeof *input);
    if (keras)
        *keras = 0;
    json_error_t je;
    json_t *root = json_loads(text, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return nninit__err(err, NNINIT_EINVAL, "model JSON: %s at line %d, column %d", je.text, je.line, je.column);
    json_t *list = root;
    int is_keras = 0;
    if (json_is_object(root)) {
        list = json_object_get(root, "layers");
        json_t *cfg = json_object_get(root, "config");
        if (!list && json_is_object(cfg)) {
            list = json_object_get(cfg, "layers");
            is_keras = json_is_string(json_object_get(root, "class_name"));
        }
    }
    nninit_status s = NNINIT_OK;
    size_t n = json_is_array(list) ? json_array_size(list) : 0;
    if (!json_is_array(list) || n == 0 || n > MAX_LAYERS) {
        json_decref(root);
        return nninit__err(err, NNINIT_EINVAL, "model JSON: expected a list of 1 .. %d layers, or an object with "
                           "\"layers\"", MAX_LAYERS);
    }
    nninit_layer_desc *L = nninit__malloc_array(n, sizeof *L);
    char **names = nninit__calloc_array(n, sizeof *names); /* names of the kept layers, by index */
    if (!L || !names) {
        free(L);
        free(names);
        json_decref(root);
        return nninit__err(err, NNINIT_ENOMEM, "model JSON: out of memory");
    }
    const char *input_name = "input";
    nninit_shape in_shape = {0, {0}};
    int k = 0;
    for (size_t i = 0; i < n && s == NNINIT_OK; i++) {
        layer_refs r;
        s = parse_layer(json_array_get(list, i), (int)i, &L[k], &r, err);
        if (s != NNINIT_OK)
            break;
        if (r.is_input) {
            if (r.name)
                input_name = r.name;
            if (r.input.ndim)
                in_shape = r.input;
            continue;
        }
        for (int j = 0; j < r.n_src; j++) {
            int at = !strcmp(r.src[j], input_name) ? NNINIT_INPUT_NET : find_name(names, k, r.src[j]);
            if (at == -3) {
                s = nninit__err(err, NNINIT_EINVAL, "model layer %d: input '%.64s' is not an earlier layer; expected "
                                "the name of a layer above it or \"%.32s\"", (int)i, r.src[j], input_name);
                break;
            }
            L[k].input[j] = at == k - 1 && r.n_src == 1 ? NNINIT_INPUT_PREV : at;
        }
        if (s == NNINIT_OK && r.name && !(names[k] = nninit__strdup(r.name)))
            s = nninit__err(err, NNINIT_ENOMEM, "model JSON: out of memory");
        k++;
    }
    json_decref(root);
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    if (s == NNINIT_OK && k == 0)
        s = nninit__err(err, NNINIT_EINVAL, "model JSON: no layers besides InputLayer; expected at least one");
    if (s != NNINIT_OK) {
        free(L);
        return s;
    }
    *layers = L;
    *n_layers = k;
    if (input)
        *input = in_shape;
    if (keras)
        *keras = is_keras;
    return NNINIT_OK;
}
