/* PyTorch module recipes ("Sequential(Linear(784, 256), ReLU(), ...)"):
 * parameter shapes, state_dict names and reset_parameters initializers of
 * torch/nn/modules/{linear,conv,sparse,batchnorm,normalization,rnn,
 * activation}.py in PyTorch 1.13, in construction (draw) order. */
#include "model/internal.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Recipes are parsed by the shared Python-call parser (init/pycall.c). */
typedef nninit__pyval value;

/* A tuple or a list: (3, 1) and [3, 1] both give sizes. */
static int is_seq(const value *v)
{
    return v->kind == NNINIT__PY_TUPLE || v->kind == NNINIT__PY_LIST;
}

/* ---- binding a call's arguments to a module's parameter list ---- */

#define MAX_PARAMS 16

typedef struct bound_args {
    const value *arg[MAX_PARAMS];
} bound_args;

static nninit_status bind(const value *call, const char *const *params, bound_args *b, nninit_err *err)
{
    memset(b, 0, sizeof *b);
    size_t np = 0;
    while (params[np])
        np++;
    size_t next = 0;
    for (size_t i = 0; i < call->n; i++) {
        size_t slot;
        if (!call->keys[i][0]) {
            if (next >= np)
                return nninit__err(err, NNINIT_EINVAL, "%s(): too many positional arguments (takes %zu)",
                                   call->text, np);
            slot = next++;
        } else {
            for (slot = 0; slot < np && strcmp(params[slot], call->keys[i]); slot++)
                ;
            if (slot == np)
                return nninit__err(err, NNINIT_EINVAL, "%s(): unexpected keyword '%s'; its arguments are %s%s%s%s%s",
                                   call->text, call->keys[i], params[0], np > 1 ? ", " : "", np > 1 ? params[1] : "",
                                   np > 2 ? ", " : "", np > 2 ? params[2] : "");
        }
        if (b->arg[slot])
            return nninit__err(err, NNINIT_EINVAL, "%s(): argument '%s' given twice", call->text, params[slot]);
        b->arg[slot] = call->items[i];
    }
    /* dtype=/device=: the parameters are drawn as torch's default float32 on the CPU; another dtype
     * would draw other bits (the output --dtype converts after drawing, which is not the same) */
    for (size_t slot = 0; slot < np; slot++) {
        const value *a = b->arg[slot];
        if (!a || a->kind == NNINIT__PY_NONE)
            continue;
        int named = a->kind == NNINIT__PY_NAME || a->kind == NNINIT__PY_STR;
        if (!strcmp(params[slot], "dtype") && !(named && (!strcmp(a->text, "float32") || !strcmp(a->text, "float"))))
            return nninit__err(err, NNINIT_EINVAL, "%s(): dtype=%s: recipes describe float32 modules (torch's default "
                               "dtype, whose draws nninit reproduces); drop it and convert with --dtype", call->text,
                               named ? a->text : nninit__py_kind_name(a->kind));
        if (!strcmp(params[slot], "device") && !(named && !strncmp(a->text, "cpu", 3)))
            return nninit__err(err, NNINIT_EINVAL, "%s(): device must be None or 'cpu' (the CPU generator's draws)",
                               call->text);
    }
    return NNINIT_OK;
}

static nninit_status get_int(const value *call, const bound_args *b, const char *const *params, int slot, int required,
                             int64_t dflt, int64_t lo, int64_t *out, nninit_err *err)
{
    const value *v = b->arg[slot];
    if (!v || v->kind == NNINIT__PY_NONE) {
        if (required && !v)
            return nninit__err(err, NNINIT_EINVAL, "%s(): missing argument '%s'", call->text, params[slot]);
        *out = dflt;
        return NNINIT_OK;
    }
    if (v->kind == NNINIT__PY_BOOL) { /* Python bools are ints */
        *out = v->i;
    } else if (v->kind != NNINIT__PY_INT) {
        return nninit__err(err, NNINIT_EINVAL, "%s(): '%s' must be an integer", call->text, params[slot]);
    } else {
        *out = v->i;
    }
    if (*out < lo)
        return nninit__err(err, NNINIT_EINVAL, "%s(): '%s' is %lld; it must be >= %lld", call->text, params[slot],
                           (long long)*out, (long long)lo);
    /* Sizes are capped at 2^31 so that products of two (gates * hidden,
     * 3 * embed_dim, fan_in) cannot overflow. */
    if (*out > NNINIT__MODEL_MAX_DIM || *out < -NNINIT__MODEL_MAX_DIM)
        return nninit__err(err, NNINIT_EINVAL, "%s(): '%s' is %lld; sizes must be below 2^31", call->text,
                           params[slot], (long long)*out);
    return NNINIT_OK;
}

static nninit_status get_bool(const value *call, const bound_args *b, const char *const *params, int slot, int dflt,
                              int *out, nninit_err *err)
{
    const value *v = b->arg[slot];
    if (!v) {
        *out = dflt;
        return NNINIT_OK;
    }
    if (v->kind != NNINIT__PY_BOOL && v->kind != NNINIT__PY_INT)
        return nninit__err(err, NNINIT_EINVAL, "%s(): '%s' must be True or False", call->text, params[slot]);
    *out = v->i != 0;
    return NNINIT_OK;
}

/* An int or a tuple of `nd` ints (kernel_size=3 or (3, 1)). */
static nninit_status get_tuple(const value *call, const bound_args *b, const char *const *params, int slot, int nd,
                               int64_t *out, nninit_err *err)
{
    const value *v = b->arg[slot];
    if (!v)
        return nninit__err(err, NNINIT_EINVAL, "%s(): missing argument '%s'", call->text, params[slot]);
    if (v->kind == NNINIT__PY_INT) {
        for (int d = 0; d < nd; d++)
            out[d] = v->i;
    } else if (is_seq(v) && v->n == (size_t)nd) {
        for (int d = 0; d < nd; d++) {
            if (v->items[d]->kind != NNINIT__PY_INT)
                return nninit__err(err, NNINIT_EINVAL, "%s(): '%s' must hold integers", call->text, params[slot]);
            out[d] = v->items[d]->i;
        }
    } else {
        return nninit__err(err, NNINIT_EINVAL, "%s(): '%s' must be an integer or a tuple of %d", call->text,
                           params[slot], nd);
    }
    for (int d = 0; d < nd; d++)
        if (out[d] < 1 || out[d] > NNINIT__MODEL_MAX_DIM)
            return nninit__err(err, NNINIT_EINVAL, "%s(): '%s' entries must be in [1, 2^31]", call->text,
                               params[slot]);
    return NNINIT_OK;
}

/* ---- builders ---- */

typedef struct builder {
    nninit_model *m;
    char prefix[512];
    nninit_err *err;
} builder;

static nninit_status add(builder *bd, const char *leaf, int ndim, const int64_t *dims, const nninit_init *init,
                         const char *spec, nninit__mtensor **out)
{
    char name[600];
    if (leaf)
        snprintf(name, sizeof name, "%s%s", bd->prefix, leaf);
    nninit_shape sh;
    sh.ndim = ndim;
    for (int d = 0; d < ndim; d++)
        sh.dim[d] = dims[d];
    return nninit__model_add(bd->m, leaf ? name : NULL, &sh, NNINIT_LAYOUT_TORCH, init, spec, out, bd->err);
}

static nninit_init torch_uniform(double lo, double hi)
{
    nninit_init in = nninit_init_default(NNINIT_TORCH_UNIFORM);
    in.minval = lo;
    in.maxval = hi;
    return in;
}

/* Linear/Conv weight default: kaiming_uniform_(w, a=math.sqrt(5)). */
static nninit_init torch_default_weight(void)
{
    nninit_init in = nninit_init_default(NNINIT_TORCH_KAIMING_UNIFORM);
    in.neg_slope = sqrt(5.0);
    return in;
}

static nninit_status weight_and_bias(builder *bd, int ndim, const int64_t *wdims, int has_bias, int64_t n_bias,
                                     const char *wname, const char *bname)
{
    nninit_init w = torch_default_weight();
    nninit_status s = add(bd, wname, ndim, wdims, &w, "kaiming_uniform_(a=math.sqrt(5))", NULL);
    if (s || !has_bias)
        return s;
    /* bias: U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in of the weight as
     * _calculate_fan_in_and_fan_out gives it (dim 1 times the receptive field). */
    int64_t fan_in = wdims[1];
    for (int d = 2; d < ndim; d++) {
        if (fan_in > INT64_MAX / wdims[d])
            return nninit__err(bd->err, NNINIT_EOVERFLOW, "%s%s: fan_in overflows 64 bits", bd->prefix, bname);
        fan_in *= wdims[d];
    }
    double bound = fan_in > 0 ? 1.0 / sqrt((double)fan_in) : 0.0;
    nninit_init b = torch_uniform(-bound, bound);
    char spec[96];
    snprintf(spec, sizeof spec, "uniform_(a=-1/sqrt(%lld), b=1/sqrt(%lld))", (long long)fan_in, (long long)fan_in);
    return add(bd, bname, 1, &n_bias, &b, spec, NULL);
}

static const char *const P_LINEAR[] = {"in_features", "out_features", "bias", "device", "dtype", NULL};
static const char *const P_CONV[] = {"in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation",
                                     "groups", "bias", "padding_mode", "device", "dtype", NULL};
static const char *const P_CONVT[] = {"in_channels", "out_channels", "kernel_size", "stride", "padding",
                                      "output_padding", "groups", "bias", "dilation", "padding_mode", "device",
                                      "dtype", NULL};
static const char *const P_EMB[] = {"num_embeddings", "embedding_dim", "padding_idx", "max_norm", "norm_type",
                                    "scale_grad_by_freq", "sparse", "_weight", "device", "dtype", NULL};
static const char *const P_BN[] = {"num_features", "eps", "momentum", "affine", "track_running_stats", "device",
                                   "dtype", NULL};
static const char *const P_LN[] = {"normalized_shape", "eps", "elementwise_affine", "device", "dtype", NULL};
static const char *const P_LSTM[] = {"input_size", "hidden_size", "num_layers", "bias", "batch_first", "dropout",
                                     "bidirectional", "proj_size", "device", "dtype", NULL};
static const char *const P_RNN[] = {"input_size", "hidden_size", "num_layers", "nonlinearity", "bias", "batch_first",
                                    "dropout", "bidirectional", "device", "dtype", NULL};
static const char *const P_MHA[] = {"embed_dim", "num_heads", "dropout", "bias", "add_bias_kv", "add_zero_attn",
                                    "kdim", "vdim", "batch_first", "device", "dtype", NULL};

static nninit_status build(builder *bd, const value *v);
static nninit_status build_named(builder *bd, const char *name, const value *child);

static nninit_status b_linear(builder *bd, const value *v)
{
    bound_args b;
    int64_t in = 0, out = 0;
    int bias = 1;
    nninit_status s;
    if ((s = bind(v, P_LINEAR, &b, bd->err)) || (s = get_int(v, &b, P_LINEAR, 0, 1, 0, 0, &in, bd->err)) ||
        (s = get_int(v, &b, P_LINEAR, 1, 1, 0, 0, &out, bd->err)) ||
        (s = get_bool(v, &b, P_LINEAR, 2, 1, &bias, bd->err)))
        return s;
    int64_t w[2] = {out, in};
    return weight_and_bias(bd, 2, w, bias, out, "weight", "bias");
}

static nninit_status b_conv(builder *bd, const value *v, int nd, int transposed)
{
    const char *const *P = transposed ? P_CONVT : P_CONV;
    int groups_slot = transposed ? 6 : 6, bias_slot = 7;
    bound_args b;
    int64_t in = 0, out = 0, groups = 0, k[3] = {0};
    int bias = 1;
    nninit_status s;
    if ((s = bind(v, P, &b, bd->err)) || (s = get_int(v, &b, P, 0, 1, 0, 1, &in, bd->err)) ||
        (s = get_int(v, &b, P, 1, 1, 0, 1, &out, bd->err)) || (s = get_tuple(v, &b, P, 2, nd, k, bd->err)) ||
        (s = get_int(v, &b, P, groups_slot, 0, 1, 1, &groups, bd->err)) ||
        (s = get_bool(v, &b, P, bias_slot, 1, &bias, bd->err)))
        return s;
    if (in % groups || out % groups)
        return nninit__err(bd->err, NNINIT_EINVAL, "%s(): in_channels %lld and out_channels %lld must be divisible "
                           "by groups %lld", v->text, (long long)in, (long long)out, (long long)groups);
    /* ConvNd: (out, in/groups, *k); ConvTransposeNd: (in, out/groups, *k). */
    int64_t w[5] = {transposed ? in : out, transposed ? out / groups : in / groups, k[0], k[1], k[2]};
    return weight_and_bias(bd, 2 + nd, w, bias, out, "weight", "bias");
}

static const char *const P_EMBBAG[] = {"num_embeddings", "embedding_dim", "max_norm", "norm_type",
                                       "scale_grad_by_freq", "mode", "sparse", "_weight", "include_last_offset",
                                       "padding_idx", "device", "dtype", NULL};

/* Embedding and EmbeddingBag: weight (num, dim) = normal_, padding_idx row zeroed (sparse.py). */
static nninit_status b_embedding(builder *bd, const value *v)
{
    int bag = !strcmp(v->text, "EmbeddingBag");
    const char *const *P = bag ? P_EMBBAG : P_EMB;
    bound_args b;
    int64_t num = 0, dim = 0, pad = 0;
    nninit_status s;
    if ((s = bind(v, P, &b, bd->err)) || (s = get_int(v, &b, P, 0, 1, 0, 1, &num, bd->err)) ||
        (s = get_int(v, &b, P, 1, 1, 0, 1, &dim, bd->err)) ||
        (s = get_int(v, &b, P, bag ? 9 : 2, 0, INT64_MIN, INT64_MIN, &pad, bd->err)))
        return s;
    if (b.arg[7] && b.arg[7]->kind != NNINIT__PY_NONE)
        return nninit__err(bd->err, NNINIT_EINVAL, "Embedding(): _weight cannot be given in a recipe");
    if (pad != INT64_MIN) { /* Embedding.__init__: negative padding_idx counts from the end */
        if (pad >= num || pad < -num)
            return nninit__err(bd->err, NNINIT_EINVAL, "Embedding(): padding_idx %lld must be within num_embeddings "
                               "%lld", (long long)pad, (long long)num);
        if (pad < 0)
            pad += num;
    }
    int64_t w[2] = {num, dim};
    nninit_init in = nninit_init_default(NNINIT_TORCH_NORMAL); /* reset_parameters: init.normal_(weight) */
    nninit__mtensor *e;
    if ((s = add(bd, "weight", 2, w, &in, "normal_", &e)))
        return s;
    if (pad != INT64_MIN)
        e->zero_row = pad; /* _fill_padding_idx_with_zero */
    return NNINIT_OK;
}

/* BatchNormNd (affine, running stats by default) and InstanceNormNd
 * (neither by default) share _NormBase's parameters and buffers. */
static nninit_status b_batchnorm(builder *bd, const value *v, int dflt)
{
    bound_args b;
    int64_t nf = 0;
    int affine = dflt, track = dflt;
    nninit_status s;
    if ((s = bind(v, P_BN, &b, bd->err)) || (s = get_int(v, &b, P_BN, 0, 1, 0, 1, &nf, bd->err)) ||
        (s = get_bool(v, &b, P_BN, 3, dflt, &affine, bd->err)) ||
        (s = get_bool(v, &b, P_BN, 4, dflt, &track, bd->err)))
        return s;
    nninit_init ones = nninit_init_default(NNINIT_TORCH_ONES), zeros = nninit_init_default(NNINIT_TORCH_ZEROS);
    if (affine && ((s = add(bd, "weight", 1, &nf, &ones, "ones_", NULL)) ||
                   (s = add(bd, "bias", 1, &nf, &zeros, "zeros_", NULL))))
        return s;
    if (track) {
        nninit__mtensor *e;
        if ((s = add(bd, "running_mean", 1, &nf, &zeros, "zeros_", NULL)) ||
            (s = add(bd, "running_var", 1, &nf, &ones, "ones_", NULL)) ||
            (s = add(bd, "num_batches_tracked", 0, NULL, &zeros, "zeros_ (int64)", &e)))
            return s;
        e->is_int64 = 1;
    }
    return NNINIT_OK;
}

static nninit_status b_layernorm(builder *bd, const value *v)
{
    bound_args b;
    int affine = 1;
    nninit_status s;
    if ((s = bind(v, P_LN, &b, bd->err)) || (s = get_bool(v, &b, P_LN, 2, 1, &affine, bd->err)))
        return s;
    const value *ns = b.arg[0];
    int64_t dims[NNINIT_MAX_DIMS];
    int nd = 0;
    if (!ns)
        return nninit__err(bd->err, NNINIT_EINVAL, "LayerNorm(): missing argument 'normalized_shape'");
    if (ns->kind == NNINIT__PY_INT) {
        dims[nd++] = ns->i;
    } else if (is_seq(ns) && ns->n >= 1 && ns->n <= NNINIT_MAX_DIMS) {
        for (size_t i = 0; i < ns->n; i++) {
            if (ns->items[i]->kind != NNINIT__PY_INT)
                return nninit__err(bd->err, NNINIT_EINVAL, "LayerNorm(): normalized_shape must hold integers");
            dims[nd++] = ns->items[i]->i;
        }
    } else {
        return nninit__err(bd->err, NNINIT_EINVAL, "LayerNorm(): normalized_shape must be an int or a tuple");
    }
    for (int d = 0; d < nd; d++)
        if (dims[d] < 1 || dims[d] > NNINIT__MODEL_MAX_DIM)
            return nninit__err(bd->err, NNINIT_EINVAL, "LayerNorm(): normalized_shape entries must be in [1, 2^31]");
    if (!affine)
        return NNINIT_OK;
    nninit_init ones = nninit_init_default(NNINIT_TORCH_ONES), zeros = nninit_init_default(NNINIT_TORCH_ZEROS);
    if ((s = add(bd, "weight", nd, dims, &ones, "ones_", NULL)))
        return s;
    return add(bd, "bias", nd, dims, &zeros, "zeros_", NULL);
}

/* RNNBase: parameters per layer and direction (weight_ih, weight_hh,
 * bias_ih, bias_hh), all U(-1/sqrt(hidden), 1/sqrt(hidden)) drawn in that
 * order by reset_parameters. */
static nninit_status b_rnn(builder *bd, const value *v, int gates)
{
    const char *const *P = gates == 1 ? P_RNN : P_LSTM;
    int bias_slot = gates == 1 ? 4 : 3, bidir_slot = gates == 1 ? 7 : 6;
    bound_args b;
    int64_t in = 0, hid = 0, layers = 0, proj = 0;
    int bias = 1, bidir = 0;
    nninit_status s;
    if ((s = bind(v, P, &b, bd->err)) || (s = get_int(v, &b, P, 0, 1, 0, 1, &in, bd->err)) ||
        (s = get_int(v, &b, P, 1, 1, 0, 1, &hid, bd->err)) || (s = get_int(v, &b, P, 2, 0, 1, 1, &layers, bd->err)) ||
        (s = get_bool(v, &b, P, bias_slot, 1, &bias, bd->err)) ||
        (s = get_bool(v, &b, P, bidir_slot, 0, &bidir, bd->err)))
        return s;
    char subject[80];
    snprintf(subject, sizeof subject, "%.60s()", v->text);
    if (layers > NNINIT__MODEL_MAX_STACK)
        return nninit__model_cap_err(bd->err, subject, "num_layers", (uint64_t)layers, NNINIT__MODEL_MAX_STACK);
    if (gates == 4 && !strcmp(v->text, "LSTM") && (s = get_int(v, &b, P, 7, 0, 0, 0, &proj, bd->err)))
        return s;
    if (proj && proj >= hid)
        return nninit__err(bd->err, NNINIT_EINVAL, "LSTM(): proj_size %lld has to be smaller than hidden_size %lld",
                           (long long)proj, (long long)hid);
    if (!strcmp(v->text, "GRU") && b.arg[7])
        return nninit__err(bd->err, NNINIT_EINVAL, "GRU(): unexpected keyword 'proj_size'");
    if (gates == 1 && b.arg[3] && (b.arg[3]->kind != NNINIT__PY_STR || (strcmp(b.arg[3]->text, "tanh") &&
                                                               strcmp(b.arg[3]->text, "relu"))))
        return nninit__err(bd->err, NNINIT_EINVAL, "RNN(): nonlinearity must be 'tanh' or 'relu'");
    double stdv = 1.0 / sqrt((double)hid);
    nninit_init u = torch_uniform(-stdv, stdv);
    char spec[80];
    snprintf(spec, sizeof spec, "uniform_(a=-1/sqrt(%lld), b=1/sqrt(%lld))", (long long)hid, (long long)hid);
    int64_t gate = (int64_t)gates * hid;
    int dirs = bidir ? 2 : 1;
    /* proj_size > 0 (LSTM): the recurrent state has proj_size units, and weight_hr_l{k} (proj, hidden)
     * comes after the biases (rnn.py RNNBase.__init__) */
    int64_t real_hid = proj ? proj : hid;
    for (int64_t l = 0; l < layers; l++)
        for (int d = 0; d < dirs; d++) {
            const char *suf = d ? "_reverse" : "";
            int64_t lin = l == 0 ? in : real_hid * dirs;
            int64_t wih[2] = {gate, lin}, whh[2] = {gate, real_hid}, whr[2] = {proj, hid};
            char n1[64], n2[64], n3[64], n4[64], n5[64];
            snprintf(n5, sizeof n5, "weight_hr_l%lld%s", (long long)l, suf);
            snprintf(n1, sizeof n1, "weight_ih_l%lld%s", (long long)l, suf);
            snprintf(n2, sizeof n2, "weight_hh_l%lld%s", (long long)l, suf);
            snprintf(n3, sizeof n3, "bias_ih_l%lld%s", (long long)l, suf);
            snprintf(n4, sizeof n4, "bias_hh_l%lld%s", (long long)l, suf);
            if ((s = add(bd, n1, 2, wih, &u, spec, NULL)) || (s = add(bd, n2, 2, whh, &u, spec, NULL)))
                return s;
            if (bias && ((s = add(bd, n3, 1, &gate, &u, spec, NULL)) || (s = add(bd, n4, 1, &gate, &u, spec, NULL))))
                return s;
            if (proj && (s = add(bd, n5, 2, whr, &u, spec, NULL)))
                return s;
        }
    return NNINIT_OK;
}

static const char *const P_RNNCELL[] = {"input_size", "hidden_size", "bias", "nonlinearity", "device", "dtype", NULL};
static const char *const P_CELL[] = {"input_size", "hidden_size", "bias", "device", "dtype", NULL};

/* RNNCell / LSTMCell / GRUCell (RNNCellBase): weight_ih (g*h, in), weight_hh (g*h, h), bias_ih, bias_hh,
 * all U(-1/sqrt(h), 1/sqrt(h)) in that order. */
static nninit_status b_cell(builder *bd, const value *v, int gates)
{
    const char *const *P = gates == 1 ? P_RNNCELL : P_CELL;
    bound_args b;
    int64_t in = 0, hid = 0;
    int bias = 1;
    nninit_status s;
    if ((s = bind(v, P, &b, bd->err)) || (s = get_int(v, &b, P, 0, 1, 0, 1, &in, bd->err)) ||
        (s = get_int(v, &b, P, 1, 1, 0, 1, &hid, bd->err)) || (s = get_bool(v, &b, P, 2, 1, &bias, bd->err)))
        return s;
    if (gates == 1 && b.arg[3] && (b.arg[3]->kind != NNINIT__PY_STR || (strcmp(b.arg[3]->text, "tanh") &&
                                                                      strcmp(b.arg[3]->text, "relu"))))
        return nninit__err(bd->err, NNINIT_EINVAL, "RNNCell(): nonlinearity must be 'tanh' or 'relu'");
    double stdv = 1.0 / sqrt((double)hid);
    nninit_init u = torch_uniform(-stdv, stdv);
    char spec[80];
    snprintf(spec, sizeof spec, "uniform_(a=-1/sqrt(%lld), b=1/sqrt(%lld))", (long long)hid, (long long)hid);
    int64_t gate = (int64_t)gates * hid, wih[2] = {gate, in}, whh[2] = {gate, hid};
    if ((s = add(bd, "weight_ih", 2, wih, &u, spec, NULL)) || (s = add(bd, "weight_hh", 2, whh, &u, spec, NULL)))
        return s;
    if (bias && ((s = add(bd, "bias_ih", 1, &gate, &u, spec, NULL)) || (s = add(bd, "bias_hh", 1, &gate, &u, spec, NULL))))
        return s;
    return NNINIT_OK;
}

/* MultiheadAttention: out_proj (a Linear) draws its default init when it
 * is constructed, before _reset_parameters draws xavier_uniform_ for the
 * input projections and zeroes the biases (out_proj.bias included, after
 * its draw). state_dict order: own parameters, then out_proj. */
static nninit_status b_mha(builder *bd, const value *v)
{
    bound_args b;
    int64_t E = 0, heads = 0, kdim = 0, vdim = 0;
    int bias = 1, bias_kv = 0;
    nninit_status s;
    if ((s = bind(v, P_MHA, &b, bd->err)) || (s = get_int(v, &b, P_MHA, 0, 1, 0, 1, &E, bd->err)) ||
        (s = get_int(v, &b, P_MHA, 1, 1, 0, 1, &heads, bd->err)) || (s = get_bool(v, &b, P_MHA, 3, 1, &bias, bd->err)) ||
        (s = get_bool(v, &b, P_MHA, 4, 0, &bias_kv, bd->err)) ||
        (s = get_int(v, &b, P_MHA, 6, 0, E, 1, &kdim, bd->err)) || (s = get_int(v, &b, P_MHA, 7, 0, E, 1, &vdim, bd->err)))
        return s;
    if (E % heads)
        return nninit__err(bd->err, NNINIT_EINVAL, "MultiheadAttention(): embed_dim %lld must be divisible by "
                           "num_heads %lld", (long long)E, (long long)heads);
    nninit_model *m = bd->m;
    size_t first = m->n;
    nninit_init xu = nninit_init_default(NNINIT_TORCH_XAVIER_UNIFORM);
    nninit_init xn = nninit_init_default(NNINIT_TORCH_XAVIER_NORMAL);
    nninit_init zero = nninit_init_default(NNINIT_TORCH_CONSTANT);
    zero.value = 0.0;
    zero.has_value = 1;
    int same = kdim == E && vdim == E;
    int64_t e3 = 3 * E, kv[3] = {1, 1, E};
    /* Own parameters in registration order (state_dict order). */
    size_t i_in = m->n;
    if (same) {
        int64_t w[2] = {3 * E, E};
        if ((s = add(bd, "in_proj_weight", 2, w, &xu, "xavier_uniform_", NULL)))
            return s;
    } else {
        int64_t q[2] = {E, E}, k[2] = {E, kdim}, vv[2] = {E, vdim};
        if ((s = add(bd, "q_proj_weight", 2, q, &xu, "xavier_uniform_", NULL)) ||
            (s = add(bd, "k_proj_weight", 2, k, &xu, "xavier_uniform_", NULL)) ||
            (s = add(bd, "v_proj_weight", 2, vv, &xu, "xavier_uniform_", NULL)))
            return s;
    }
    size_t n_in = m->n - i_in;
    size_t i_inb = m->n;
    if (bias && (s = add(bd, "in_proj_bias", 1, &e3, &zero, "constant_(0.)", NULL)))
        return s;
    size_t i_kv = m->n;
    if (bias_kv && ((s = add(bd, "bias_k", 3, kv, &xn, "xavier_normal_", NULL)) ||
                    (s = add(bd, "bias_v", 3, kv, &xn, "xavier_normal_", NULL))))
        return s;
    /* out_proj: its weight keeps the Linear default; its bias is drawn,
     * then set to 0 by _reset_parameters (only when bias=True). */
    char saved[512];
    snprintf(saved, sizeof saved, "%s", bd->prefix);
    snprintf(bd->prefix, sizeof bd->prefix, "%.480sout_proj.", saved);
    size_t i_out = m->n;
    int64_t w[2] = {E, E};
    nninit_init dw = torch_default_weight();
    if ((s = add(bd, "weight", 2, w, &dw, "kaiming_uniform_(a=math.sqrt(5))", NULL)))
        return s;
    size_t i_outb = m->n;
    if (bias) {
        double bound_ = 1.0 / sqrt((double)E);
        nninit_init ub = torch_uniform(-bound_, bound_);
        if ((s = add(bd, NULL, 1, &E, &ub, "uniform_ (construction draw)", NULL)) || /* phantom draw */
            (s = add(bd, "bias", 1, &E, &zero, "constant_(0.)", NULL)))
            return s;
    }
    snprintf(bd->prefix, sizeof bd->prefix, "%s", saved);
    /* Draw order: out_proj.weight, out_proj.bias draw, input projections,
     * in_proj_bias, out_proj.bias (zero), bias_k, bias_v. */
    int64_t r = m->t[first].draw; /* the ranks appending gave these tensors, reordered */
    m->t[i_out].draw = r++;
    if (bias)
        m->t[i_outb].draw = r++; /* the phantom */
    for (size_t i = 0; i < n_in; i++)
        m->t[i_in + i].draw = r++;
    if (bias) {
        m->t[i_inb].draw = r++;
        m->t[i_outb + 1].draw = r++;
    }
    if (bias_kv) {
        m->t[i_kv].draw = r++;
        m->t[i_kv + 1].draw = r++;
    }
    return NNINIT_OK;
}


static const char *const P_BILINEAR[] = {"in1_features", "in2_features", "out_features", "bias", "device", "dtype",
                                         NULL};
static const char *const P_GN[] = {"num_groups", "num_channels", "eps", "affine", "device", "dtype", NULL};
static const char *const P_PRELU[] = {"num_parameters", "init", "device", "dtype", NULL};
static const char *const P_TRANSFORMER[] = {"d_model", "nhead", "dim_feedforward", "dropout", "activation",
                                            "layer_norm_eps", "batch_first", "norm_first", "device", "dtype", NULL};

/* Bilinear.reset_parameters: weight and bias U(+-1/sqrt(in1_features)). */
static nninit_status b_bilinear(builder *bd, const value *v)
{
    bound_args b;
    int64_t in1 = 0, in2 = 0, out = 0;
    int bias = 1;
    nninit_status s;
    if ((s = bind(v, P_BILINEAR, &b, bd->err)) || (s = get_int(v, &b, P_BILINEAR, 0, 1, 0, 1, &in1, bd->err)) ||
        (s = get_int(v, &b, P_BILINEAR, 1, 1, 0, 1, &in2, bd->err)) ||
        (s = get_int(v, &b, P_BILINEAR, 2, 1, 0, 1, &out, bd->err)) ||
        (s = get_bool(v, &b, P_BILINEAR, 3, 1, &bias, bd->err)))
        return s;
    double bnd = 1.0 / sqrt((double)in1);
    nninit_init u = torch_uniform(-bnd, bnd);
    char spec[80];
    snprintf(spec, sizeof spec, "uniform_(a=-1/sqrt(%lld), b=1/sqrt(%lld))", (long long)in1, (long long)in1);
    int64_t w[3] = {out, in1, in2};
    if ((s = add(bd, "weight", 3, w, &u, spec, NULL)) || !bias)
        return s;
    return add(bd, "bias", 1, &out, &u, spec, NULL);
}

static nninit_status b_groupnorm(builder *bd, const value *v)
{
    bound_args b;
    int64_t groups = 0, ch = 0;
    int affine = 1;
    nninit_status s;
    if ((s = bind(v, P_GN, &b, bd->err)) || (s = get_int(v, &b, P_GN, 0, 1, 0, 1, &groups, bd->err)) ||
        (s = get_int(v, &b, P_GN, 1, 1, 0, 1, &ch, bd->err)) || (s = get_bool(v, &b, P_GN, 3, 1, &affine, bd->err)))
        return s;
    if (ch % groups)
        return nninit__err(bd->err, NNINIT_EINVAL, "GroupNorm(): num_channels %lld must be divisible by num_groups "
                           "%lld", (long long)ch, (long long)groups);
    if (!affine)
        return NNINIT_OK;
    nninit_init ones = nninit_init_default(NNINIT_TORCH_ONES), zeros = nninit_init_default(NNINIT_TORCH_ZEROS);
    if ((s = add(bd, "weight", 1, &ch, &ones, "ones_", NULL)))
        return s;
    return add(bd, "bias", 1, &ch, &zeros, "zeros_", NULL);
}

/* PReLU: weight (num_parameters,) = init (0.25), no random draws. */
static nninit_status b_prelu(builder *bd, const value *v)
{
    bound_args b;
    int64_t n = 0;
    nninit_status s;
    if ((s = bind(v, P_PRELU, &b, bd->err)) || (s = get_int(v, &b, P_PRELU, 0, 0, 1, 1, &n, bd->err)))
        return s;
    double init = 0.25;
    if (b.arg[1]) {
        if (b.arg[1]->kind == NNINIT__PY_FLOAT)
            init = b.arg[1]->f;
        else if (b.arg[1]->kind == NNINIT__PY_INT)
            init = (double)b.arg[1]->i;
        else
            return nninit__err(bd->err, NNINIT_EINVAL, "PReLU(): 'init' must be a number");
    }
    nninit_init c = nninit_init_default(NNINIT_TORCH_CONSTANT);
    c.value = init;
    c.has_value = 1;
    char spec[64];
    snprintf(spec, sizeof spec, "constant_(%.17g)", init);
    return add(bd, "weight", 1, &n, &c, spec, NULL);
}

/* A sub-module given as recipe text, built under prefix + leaf + ".". */
static nninit_status build_sub(builder *bd, const char *leaf, const char *text)
{
    value *v;
    nninit_status s = nninit__py_parse(text, &v, bd->err);
    if (s)
        return s;
    s = build_named(bd, leaf, v);
    nninit__py_free(v);
    return s;
}

/* TransformerEncoderLayer / TransformerDecoderLayer (torch 1.13): modules
 * constructed in the order self_attn, [multihead_attn,] linear1, linear2,
 * norm1, norm2, [norm3]; each draws as it is constructed. */
static nninit_status b_transformer(builder *bd, const value *v, int decoder)
{
    bound_args b;
    int64_t d = 0, heads = 0, ff = 0;
    nninit_status s;
    if ((s = bind(v, P_TRANSFORMER, &b, bd->err)) || (s = get_int(v, &b, P_TRANSFORMER, 0, 1, 0, 1, &d, bd->err)) ||
        (s = get_int(v, &b, P_TRANSFORMER, 1, 1, 0, 1, &heads, bd->err)) ||
        (s = get_int(v, &b, P_TRANSFORMER, 2, 0, 2048, 1, &ff, bd->err)))
        return s;
    if (b.arg[4] && b.arg[4]->kind != NNINIT__PY_STR)
        return nninit__err(bd->err, NNINIT_EINVAL, "%s(): activation must be 'relu' or 'gelu' in a recipe", v->text);
    char t[128];
    size_t first_t = bd->m->n;
    snprintf(t, sizeof t, "MultiheadAttention(%lld, %lld)", (long long)d, (long long)heads);
    if ((s = build_sub(bd, "self_attn", t)) || (decoder && (s = build_sub(bd, "multihead_attn", t))))
        return s;
    snprintf(t, sizeof t, "Linear(%lld, %lld)", (long long)d, (long long)ff);
    if ((s = build_sub(bd, "linear1", t)))
        return s;
    snprintf(t, sizeof t, "Linear(%lld, %lld)", (long long)ff, (long long)d);
    if ((s = build_sub(bd, "linear2", t)))
        return s;
    size_t end_ffn = bd->m->n;
    snprintf(t, sizeof t, "LayerNorm(%lld)", (long long)d);
    for (int k = 1; k <= (decoder ? 3 : 2); k++) {
        char leaf[16];
        snprintf(leaf, sizeof leaf, "norm%d", k);
        if ((s = build_sub(bd, leaf, t)))
            return s;
    }
    /* layer metadata: linear1 feeds the activation; the attention output
     * projections and linear2 end residual branches, each followed by a
     * LayerNorm unless norm_first (pre-norm) */
    int norm_first = 0;
    if ((s = get_bool(v, &b, P_TRANSFORMER, 7, 0, &norm_first, bd->err)))
        return s;
    const char *act = b.arg[4] ? b.arg[4]->text : "relu";
    for (size_t i = first_t; i < end_ffn; i++) {
        nninit__mtensor *e = &bd->m->t[i];
        if (!e->name || !e->layer)
            continue;
        const char *leaf = strrchr(e->layer, '.');
        leaf = leaf ? leaf + 1 : e->layer;
        int out = e->role == NNINIT_ROLE_OUT_PROJ || (!strcmp(leaf, "linear2") && e->role == NNINIT_ROLE_KERNEL);
        e->residual_out |= out;
        if ((!strcmp(leaf, "linear1") && (s = nninit__meta_set_act(bd->m, i, i + 1, act, 0, bd->err))) ||
            (!strcmp(leaf, "linear2") && (s = nninit__meta_set_act(bd->m, i, i + 1, "linear", !norm_first, bd->err))) ||
            ((e->role == NNINIT_ROLE_OUT_PROJ || e->role == NNINIT_ROLE_OUT_PROJ_BIAS) &&
             (s = nninit__meta_set_act(bd->m, i, i + 1, "linear", !norm_first, bd->err))))
            return s;
    }
    return NNINIT_OK;
}

/* TransformerEncoder(encoder_layer, num_layers, norm) and TransformerDecoder
 * (torch 1.13): the layer is constructed (and draws) once as an argument,
 * then _get_clones deep-copies it num_layers times, so layers.K repeats
 * layers.0's values exactly (no draws); norm, an argument written after the
 * layer, is constructed after it. The prototype itself is not registered. */
static const char *const P_TENCODER[] = {"encoder_layer", "num_layers", "norm", "enable_nested_tensor", "mask_check",
                                         NULL};
static const char *const P_TDECODER[] = {"decoder_layer", "num_layers", "norm", NULL};

static nninit_status build_under(builder *bd, const char *path, const value *child);

static nninit_status b_stack(builder *bd, const value *v, int decoder)
{
    const char *const *P = decoder ? P_TDECODER : P_TENCODER;
    bound_args b;
    int64_t n = 0;
    nninit_status s;
    if ((s = bind(v, P, &b, bd->err)) || (s = get_int(v, &b, P, 1, 1, 0, 0, &n, bd->err)))
        return s;
    if (!b.arg[0])
        return nninit__err(bd->err, NNINIT_EINVAL, "%s(): missing argument '%s'", v->text, P[0]);
    char subject[80];
    snprintf(subject, sizeof subject, "%.60s()", v->text);
    if (n > NNINIT__MODEL_MAX_STACK)
        return nninit__model_cap_err(bd->err, subject, "num_layers", (uint64_t)n, NNINIT__MODEL_MAX_STACK);
    nninit_model *m = bd->m;
    size_t first = m->n;
    if ((s = build_under(bd, "layers.0", b.arg[0])))
        return s;
    size_t last = m->n;
    size_t plen = strlen(bd->prefix) + strlen("layers.0.");
    for (int64_t k = 1; k < n; k++)
        for (size_t i = first; i < last; i++) {
            if (!m->t[i].name) /* a construction draw of the prototype: copies do not draw */
                continue;
            nninit__mtensor o = m->t[i]; /* by value: add() may move m->t */
            char leaf[600], spec[700];
            snprintf(leaf, sizeof leaf, "layers.%lld.%s", (long long)k, o.name + plen);
            size_t from = o.copy_of >= 0 ? (size_t)o.copy_of : i;
            snprintf(spec, sizeof spec, "copy of %.300s: %.300s", m->t[from].name, o.spec);
            nninit__mtensor *e;
            if ((s = add(bd, leaf, o.shape.ndim, o.shape.dim, &o.init, spec, &e)))
                return s;
            e->is_int64 = o.is_int64;
            e->zero_row = o.zero_row;
            e->forget_units = o.forget_units;
            e->copy_of = (int64_t)from;
            m->has_copies = 1;
            e->copy_stream = o.copy_of >= 0 ? o.copy_stream : (int64_t)i;
            char layer[620]; /* the clone's layer metadata: layers.0... -> layers.K... */
            snprintf(layer, sizeof layer, "%slayers.%lld%s", bd->prefix, (long long)k,
                     o.layer && strlen(o.layer) + 1 >= plen ? o.layer + plen - 1 : "");
            if ((s = nninit__meta_copy(e, &o, layer, bd->err)))
                return s;
        }
    if (n == 0) { /* ModuleList of none: the prototype drew, nothing is kept */
        for (size_t i = first; i < last; i++) {
            free(m->t[i].name);
            m->t[i].name = NULL;
        }
        if ((s = nninit__model_reindex(m, bd->err)))
            return s;
    }
    if (b.arg[2] && b.arg[2]->kind != NNINIT__PY_NONE)
        return build_under(bd, "norm", b.arg[2]);
    return NNINIT_OK;
}

/* Transformer (torch 1.13): TransformerEncoderLayer, its LayerNorm, the
 * encoder of clones, the same for the decoder, then _reset_parameters
 * draws xavier_uniform_ for every parameter with dim > 1 in parameters()
 * order; the construction draws of those stay in the stream (phantoms) and
 * the clones' 1-d parameters (biases) keep the prototype's values. */
static const char *const P_TFULL[] = {"d_model", "nhead", "num_encoder_layers", "num_decoder_layers",
                                      "dim_feedforward", "dropout", "activation", "custom_encoder", "custom_decoder",
                                      "layer_norm_eps", "batch_first", "norm_first", "device", "dtype", NULL};

static nninit_status b_transformer_full(builder *bd, const value *v)
{
    bound_args b;
    int64_t d = 0, heads = 0, ne = 0, nd = 0, ff = 0;
    nninit_status s;
    if ((s = bind(v, P_TFULL, &b, bd->err)) || (s = get_int(v, &b, P_TFULL, 0, 0, 512, 1, &d, bd->err)) ||
        (s = get_int(v, &b, P_TFULL, 1, 0, 8, 1, &heads, bd->err)) ||
        (s = get_int(v, &b, P_TFULL, 2, 0, 6, 0, &ne, bd->err)) ||
        (s = get_int(v, &b, P_TFULL, 3, 0, 6, 0, &nd, bd->err)) ||
        (s = get_int(v, &b, P_TFULL, 4, 0, 2048, 1, &ff, bd->err)))
        return s;
    if (ne > NNINIT__MODEL_MAX_STACK || nd > NNINIT__MODEL_MAX_STACK)
        return nninit__model_cap_err(bd->err, "Transformer()", ne > nd ? "num_encoder_layers" : "num_decoder_layers",
                                     (uint64_t)(ne > nd ? ne : nd), NNINIT__MODEL_MAX_STACK);
    for (int slot = 7; slot <= 8; slot++)
        if (b.arg[slot] && b.arg[slot]->kind != NNINIT__PY_NONE)
            return nninit__err(bd->err, NNINIT_EINVAL, "Transformer(): %s is not supported in a recipe (it is "
                               "constructed before the Transformer, which changes the draw order); write the "
                               "encoder and decoder as Net(encoder=..., decoder=...)", P_TFULL[slot]);
    if (b.arg[6] && b.arg[6]->kind != NNINIT__PY_STR)
        return nninit__err(bd->err, NNINIT_EINVAL, "Transformer(): activation must be 'relu' or 'gelu' in a recipe");
    nninit_model *m = bd->m;
    size_t start = m->n;
    char t[256];
    snprintf(t, sizeof t, "TransformerEncoder(TransformerEncoderLayer(%lld, %lld, %lld), %lld, LayerNorm(%lld))",
             (long long)d, (long long)heads, (long long)ff, (long long)ne, (long long)d);
    if ((s = build_sub(bd, "encoder", t)))
        return s;
    snprintf(t, sizeof t, "TransformerDecoder(TransformerDecoderLayer(%lld, %lld, %lld), %lld, LayerNorm(%lld))",
             (long long)d, (long long)heads, (long long)ff, (long long)nd, (long long)d);
    if ((s = build_sub(bd, "decoder", t)))
        return s;
    size_t end = m->n;
    nninit_init xu = nninit_init_default(NNINIT_TORCH_XAVIER_UNIFORM);
    for (size_t i = start; i < end; i++) { /* the construction draws stay in the stream */
        if (!m->t[i].name || m->t[i].is_int64 || m->t[i].shape.ndim <= 1 || m->t[i].copy_of >= 0)
            continue;
        nninit__mtensor o = m->t[i];
        nninit__mtensor *ph;
        if ((s = add(bd, NULL, o.shape.ndim, o.shape.dim, &o.init, o.spec, &ph)))
            return s;
        ph->draw = o.draw;
    }
    for (size_t i = start; i < end; i++) { /* then xavier_uniform_, after every construction draw */
        if (!m->t[i].name || m->t[i].is_int64 || m->t[i].shape.ndim <= 1)
            continue;
        nninit__mtensor *e = &m->t[i];
        char *spec = nninit__strdup("xavier_uniform_ (Transformer._reset_parameters)");
        if (!spec)
            return nninit__err(bd->err, NNINIT_ENOMEM, "out of memory");
        free(e->spec);
        e->spec = spec;
        e->init = xu;
        e->copy_of = -1;
        e->draw = m->next_draw++;
    }
    return NNINIT_OK;
}

static const char *const parameterless[] = {
    "ReLU", "ReLU6", "LeakyReLU", "Tanh", "Sigmoid", "GELU", "SiLU", "Mish", "ELU", "SELU", "CELU",
    "Softplus", "Softsign", "Hardtanh", "Hardswish", "Hardsigmoid", "Tanhshrink", "Softmax", "LogSoftmax",
    "Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "Flatten", "Unflatten", "Identity",
    "MaxPool1d", "MaxPool2d", "MaxPool3d", "AvgPool1d", "AvgPool2d", "AvgPool3d", "AdaptiveAvgPool1d",
    "AdaptiveAvgPool2d", "AdaptiveAvgPool3d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "AdaptiveMaxPool3d",
    "Upsample", "ZeroPad2d", "ConstantPad1d", "ConstantPad2d", "ReflectionPad2d", "PixelShuffle",
    /* the other parameter- and buffer-free modules of torch.nn 1.13 (losses aside) */
    "ChannelShuffle", "ConstantPad3d", "CosineSimilarity", "CrossMapLRN2d", "FeatureAlphaDropout", "Fold", "GLU",
    "Hardshrink", "LPPool1d", "LPPool2d", "LocalResponseNorm", "LogSigmoid", "MaxUnpool1d", "MaxUnpool2d",
    "MaxUnpool3d", "PairwiseDistance", "PixelUnshuffle", "RReLU", "ReflectionPad1d", "ReflectionPad3d",
    "ReplicationPad1d", "ReplicationPad2d", "ReplicationPad3d", "Softmax2d", "Softmin", "Softshrink", "Threshold",
    "Unfold", "UpsamplingBilinear2d", "UpsamplingNearest2d", NULL};

/* Builds `child` under prefix + name + ".", as add_module registers it. */
static nninit_status build_named(builder *bd, const char *name, const value *child)
{
    if (!name[0] || strchr(name, '.'))
        return nninit__err(bd->err, NNINIT_EINVAL, "recipe: module name '%s' %s (PyTorch's add_module refuses it)",
                           name, name[0] ? "contains '.'" : "is empty");
    return build_under(bd, name, child);
}

/* Builds `child` under prefix + path + "." (path may hold dots: "layers.0"). */
static nninit_status build_under(builder *bd, const char *name, const value *child)
{
    if (strlen(bd->prefix) + strlen(name) + 2 > sizeof bd->prefix)
        return nninit__err(bd->err, NNINIT_EINVAL, "recipe: module names nest deeper than %zu characters",
                           sizeof bd->prefix - 2);
    size_t lp = strlen(bd->prefix), ln = strlen(name);
    memcpy(bd->prefix + lp, name, ln);
    bd->prefix[lp + ln] = '.';
    bd->prefix[lp + ln + 1] = '\0';
    size_t first = bd->m->n;
    nninit_status s = build(bd, child);
    bd->prefix[lp + ln] = '\0'; /* the module's path: layer metadata for nninit advise */
    if (!s)
        s = nninit__meta_tag_torch(bd->m, first, bd->prefix, child->text, bd->err);
    bd->prefix[lp] = '\0';
    return s;
}

/* The activation text of a torch activation module value ("leaky_relu(0.01)"); NULL: not one. */
static const char *act_of_module(const value *v, char *buf, size_t cap)
{
    const char *a = v->kind == NNINIT__PY_CALL ? nninit__torch_act_name(v->text) : NULL;
    if (!a || (strcmp(a, "leaky_relu") && strcmp(a, "elu")))
        return a;
    double p = !strcmp(a, "elu") ? 1.0 : 0.01; /* LeakyReLU(negative_slope=0.01), ELU(alpha=1.0) */
    for (size_t i = 0; i < v->n; i++)
        if (i == 0 || !strcmp(v->keys[i], "negative_slope") || !strcmp(v->keys[i], "alpha")) {
            if (v->keys[i][0] == 0 && i > 0)
                continue;
            if (v->items[i]->kind == NNINIT__PY_FLOAT)
                p = v->items[i]->f;
            else if (v->items[i]->kind == NNINIT__PY_INT)
                p = (double)v->items[i]->i;
        }
    snprintf(buf, cap, "%s(%.15g)", a, p);
    return buf;
}

static int is_dropout_like(const value *v)
{
    return v->kind == NNINIT__PY_CALL && (strstr(v->text, "Dropout") || !strcmp(v->text, "Identity"));
}

/* Layer metadata: the activation module and normalization that follow the
 * module mods[i] of a Sequential (dropout skipped), set on its tensors
 * [from, m->n) ("linear" when none follows a layer with a kernel). */
static nninit_status follow_acts(builder *bd, size_t from, const char *name, value *const *mods, size_t i, size_t n)
{
    char path[600];
    snprintf(path, sizeof path, "%s%s", bd->prefix, name);
    const char *act = NULL;
    char buf[64];
    int norm = 0;
    for (size_t j = i + 1; j < n; j++) {
        const value *f = mods[j];
        const char *a;
        if (f->kind == NNINIT__PY_CALL && nninit__is_norm_class(f->text))
            norm = 1;
        else if ((a = act_of_module(f, buf, sizeof buf)) != NULL && !act)
            act = a;
        else if (!is_dropout_like(f))
            break;
        if (act && norm)
            break;
    }
    int kernel = 0;
    for (size_t k = from; k < bd->m->n; k++) /* the module's own tensors, not those of modules inside it */
        kernel |= bd->m->t[k].layer && !strcmp(bd->m->t[k].layer, path) && bd->m->t[k].role == NNINIT_ROLE_KERNEL;
    for (size_t k = from; k < bd->m->n; k++) {
        const nninit__mtensor *e = &bd->m->t[k];
        nninit_status s;
        const char *a = act ? act : kernel && !e->act ? "linear" : NULL; /* an RNN keeps its cell's tanh */
        if (e->layer && !strcmp(e->layer, path) && (s = nninit__meta_set_act(bd->m, k, k + 1, a, norm, bd->err)))
            return s;
    }
    return NNINIT_OK;
}

/* Names used so far in one container: a repeated name is refused (PyTorch
 * would keep the last module in the first one's place, which a recipe
 * almost never means). */
static int name_repeated(const char *const *names, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(names[i], name))
            return 1;
    return 0;
}

/* The (name, module) pairs of an OrderedDict([("a", M), ...]),
 * OrderedDict(a=M, ...), {"a": M, ...} or [("a", M), ...], built in order. */
static nninit_status named_children(builder *bd, const value *arg, const char *owner)
{
    const char *names[256];
    const value *mods[256];
    size_t k = 0;
    const value *pairs = NULL;
    if (arg->kind == NNINIT__PY_DICT) {
        for (size_t i = 0; i < arg->n && k < 256; i++, k++) {
            names[k] = arg->keys[i];
            mods[k] = arg->items[i];
        }
        if (arg->n > 256)
            k = 257;
    } else if (arg->kind == NNINIT__PY_CALL && !strcmp(arg->text, "OrderedDict")) {
        for (size_t i = 0; i < arg->n; i++) {
            if (!arg->keys[i][0] && (i > 0 || !is_seq(arg->items[i])))
                return nninit__err(bd->err, NNINIT_EINVAL, "OrderedDict(): takes a list of (name, module) pairs "
                                   "and/or name=module keywords");
            if (!arg->keys[i][0])
                pairs = arg->items[i];
        }
    } else if (is_seq(arg)) {
        pairs = arg;
    } else {
        return nninit__err(bd->err, NNINIT_EINVAL, "%s(): expected OrderedDict([('name', Module(...)), ...]) or "
                           "{'name': Module(...)}, got %s", owner, nninit__py_kind_name(arg->kind));
    }
    for (size_t i = 0; pairs && i < pairs->n; i++, k++) {
        const value *pr = pairs->items[i];
        if (!is_seq(pr) || pr->n != 2 || pr->items[0]->kind != NNINIT__PY_STR)
            return nninit__err(bd->err, NNINIT_EINVAL, "%s(): item %zu is not a ('name', Module(...)) pair", owner,
                               i);
        if (k < 256) {
            names[k] = pr->items[0]->text;
            mods[k] = pr->items[1];
        }
    }
    for (size_t i = 0; arg->kind == NNINIT__PY_CALL && i < arg->n; i++) /* OrderedDict(a=M): after the pairs */
        if (arg->keys[i][0]) {
            if (k < 256) {
                names[k] = arg->keys[i];
                mods[k] = arg->items[i];
            }
            k++;
        }
    if (k > 256)
        return nninit__err(bd->err, NNINIT_EINVAL, "%s(): more than 256 named modules", owner);
    for (size_t i = 0; i < k; i++) {
        if (name_repeated(names, i, names[i]))
            return nninit__err(bd->err, NNINIT_EINVAL, "%s(): module name '%s' given twice", owner, names[i]);
        size_t first = bd->m->n;
        nninit_status s = build_named(bd, names[i], mods[i]);
        if (!s)
            s = follow_acts(bd, first, names[i], (value *const *)mods, i, k);
        if (s)
            return s;
    }
    return NNINIT_OK;
}

/* Sequential(m0, m1, ...), Sequential(OrderedDict(...)), ModuleList([m0, ...]). */
static nninit_status b_sequence(builder *bd, const value *v)
{
    int list = !strcmp(v->text, "ModuleList");
    for (size_t i = 0; i < v->n; i++)
        if (v->keys[i][0] && !(list && !strcmp(v->keys[i], "modules")))
            return nninit__err(bd->err, NNINIT_EINVAL, "%s(): takes modules, not keyword '%s'", v->text, v->keys[i]);
    value *const *mods = v->items;
    size_t n = v->n;
    if (list) {
        if (n > 1 || (n == 1 && !is_seq(v->items[0])))
            return nninit__err(bd->err, NNINIT_EINVAL, "ModuleList(): takes one list of modules: ModuleList([...])");
        mods = n ? v->items[0]->items : NULL;
        n = n ? v->items[0]->n : 0;
    } else if (n == 1 && v->items[0]->kind == NNINIT__PY_CALL && !strcmp(v->items[0]->text, "OrderedDict")) {
        return named_children(bd, v->items[0], "Sequential");
    }
    if (n > NNINIT__MODEL_MAX_LAYERS)
        return nninit__model_cap_err(bd->err, list ? "ModuleList()" : "Sequential()", "the number of modules", n,
                                     NNINIT__MODEL_MAX_LAYERS);
    for (size_t i = 0; i < n; i++) {
        char idx[24];
        snprintf(idx, sizeof idx, "%zu", i);
        size_t first = bd->m->n;
        nninit_status s = build_named(bd, idx, mods[i]);
        if (!s)
            s = follow_acts(bd, first, idx, mods, i, n);
        if (s)
            return s;
    }
    return NNINIT_OK;
}

/* A user's own nn.Module written as Net(conv1=Conv2d(1, 32, 3), fc=Linear(...)):
 * each keyword is an attribute holding a submodule, constructed (and drawn)
 * in the order written, named as the attribute. */
static int is_custom_module(const value *v)
{
    if (v->n == 0)
        return 0;
    for (size_t i = 0; i < v->n; i++)
        if (!v->keys[i][0] || v->items[i]->kind != NNINIT__PY_CALL)
            return 0;
    return 1;
}

static nninit_status build(builder *bd, const value *v)
{
    if (v->kind != NNINIT__PY_CALL)
        return nninit__err(bd->err, NNINIT_EINVAL, "recipe at offset %zu: expected a module such as Linear(3, 4)",
                           v->pos);
    const char *n = v->text;
    if (!strcmp(n, "Sequential") || !strcmp(n, "ModuleList"))
        return b_sequence(bd, v);
    if (!strcmp(n, "ModuleDict")) {
        if (v->n > 1 || (v->n == 1 && v->keys[0][0] && strcmp(v->keys[0], "modules")))
            return nninit__err(bd->err, NNINIT_EINVAL, "ModuleDict(): takes one mapping of names to modules");
        return v->n ? named_children(bd, v->items[0], "ModuleDict") : NNINIT_OK;
    }
    if (!strcmp(n, "Linear"))
        return b_linear(bd, v);
    static const struct { const char *name; int nd, transposed; } convs[] = {
        {"Conv1d", 1, 0}, {"Conv2d", 2, 0}, {"Conv3d", 3, 0},
        {"ConvTranspose1d", 1, 1}, {"ConvTranspose2d", 2, 1}, {"ConvTranspose3d", 3, 1}};
    for (size_t i = 0; i < sizeof convs / sizeof *convs; i++)
        if (!strcmp(n, convs[i].name))
            return b_conv(bd, v, convs[i].nd, convs[i].transposed);
    if (!strcmp(n, "Embedding") || !strcmp(n, "EmbeddingBag"))
        return b_embedding(bd, v);
    if (!strcmp(n, "RNNCell"))
        return b_cell(bd, v, 1);
    if (!strcmp(n, "LSTMCell"))
        return b_cell(bd, v, 4);
    if (!strcmp(n, "GRUCell"))
        return b_cell(bd, v, 3);
    if (!strcmp(n, "BatchNorm1d") || !strcmp(n, "BatchNorm2d") || !strcmp(n, "BatchNorm3d"))
        return b_batchnorm(bd, v, 1);
    if (!strcmp(n, "InstanceNorm1d") || !strcmp(n, "InstanceNorm2d") || !strcmp(n, "InstanceNorm3d"))
        return b_batchnorm(bd, v, 0);
    if (!strcmp(n, "GroupNorm"))
        return b_groupnorm(bd, v);
    if (!strcmp(n, "Bilinear"))
        return b_bilinear(bd, v);
    if (!strcmp(n, "PReLU"))
        return b_prelu(bd, v);
    if (!strcmp(n, "TransformerEncoderLayer") || !strcmp(n, "TransformerDecoderLayer"))
        return b_transformer(bd, v, n[11] == 'D');
    if (!strcmp(n, "TransformerEncoder") || !strcmp(n, "TransformerDecoder"))
        return b_stack(bd, v, n[11] == 'D');
    if (!strcmp(n, "Transformer"))
        return b_transformer_full(bd, v);
    if (!strcmp(n, "LayerNorm"))
        return b_layernorm(bd, v);
    if (!strcmp(n, "LSTM"))
        return b_rnn(bd, v, 4);
    if (!strcmp(n, "GRU"))
        return b_rnn(bd, v, 3);
    if (!strcmp(n, "RNN"))
        return b_rnn(bd, v, 1);
    if (!strcmp(n, "MultiheadAttention"))
        return b_mha(bd, v);
    for (size_t i = 0; parameterless[i]; i++)
        if (!strcmp(n, parameterless[i]))
            return NNINIT_OK; /* no parameters, no draws */
    if (is_custom_module(v)) {
        for (size_t i = 0; i < v->n; i++) {
            nninit_status s = build_named(bd, v->keys[i], v->items[i]);
            if (s)
                return s;
        }
        return NNINIT_OK;
    }
    static const char *const with_params[] = {
        "Sequential", "ModuleList", "ModuleDict", "OrderedDict", "Linear", "Bilinear", "Conv1d", "Conv2d", "Conv3d",
        "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d", "Embedding", "EmbeddingBag", "RNN", "LSTM", "GRU",
        "RNNCell", "LSTMCell", "GRUCell", "BatchNorm1d",
        "BatchNorm2d", "BatchNorm3d", "InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d", "GroupNorm",
        "LayerNorm", "PReLU", "MultiheadAttention", "TransformerEncoderLayer", "TransformerDecoderLayer",
        "TransformerEncoder", "TransformerDecoder", "Transformer"};
    const char *near = nninit_suggest(n, with_params, sizeof with_params / sizeof *with_params);
    size_t n_free = 0;
    while (parameterless[n_free])
        n_free++;
    if (!near)
        near = nninit_suggest(n, parameterless, n_free);
    if (near)
        return nninit__err(bd->err, NNINIT_EINVAL, "recipe: unknown module '%s'; did you mean '%s'?", n, near);
    return nninit__err(bd->err, NNINIT_EINVAL, "recipe: unknown module '%s'; supported: Sequential, ModuleList, "
                       "ModuleDict (OrderedDict), Linear, Bilinear, Conv1d/2d/3d, ConvTranspose1d/2d/3d, Embedding, "
                       "EmbeddingBag, RNN, LSTM, GRU, RNNCell, LSTMCell, GRUCell, BatchNorm1d/2d/3d, InstanceNorm1d/2d/3d, GroupNorm, LayerNorm, PReLU, "
                       "MultiheadAttention, TransformerEncoderLayer/DecoderLayer, TransformerEncoder/Decoder, Transformer, "
                       "the parameter-free modules of "
                       "docs/models.md, and a module of your own as Name(attr=Module(...), ...)", n);
}

nninit_status nninit_model_from_torch(const char *recipe, nninit_model **out, nninit_err *err)
{
    if (!recipe || !out)
        return nninit__err(err, NNINIT_EMISUSE, "nninit_model_from_torch: recipe and out must not be NULL");
    *out = NULL;
    value *v;
    nninit_status s = nninit__py_parse(recipe, &v, err);
    if (s) {
        if (err) {
            char msg[sizeof err->msg];
            snprintf(msg, sizeof msg, "%s", err->msg);
            nninit__err(err, s, "recipe %.2000s", msg);
        }
        return s;
    }
    nninit_model *m = nninit__model_new("torch", recipe);
    if (!m) {
        nninit__py_free(v);
        return nninit__err(err, NNINIT_ENOMEM, "out of memory");
    }
    builder bd;
    memset(&bd, 0, sizeof bd);
    bd.m = m;
    bd.err = err;
    s = build(&bd, v);
    if (!s) /* a bare module: its tensors belong to the unnamed root */
        s = nninit__meta_tag_torch(m, 0, "", v->text, err);
    if (!s && v->kind == NNINIT__PY_CALL && !strcmp(v->text, "Linear"))
        s = nninit__meta_set_act(m, 0, m->n, "linear", 0, err);
    nninit__py_free(v);
    if (s != NNINIT_OK) {
        nninit_model_free(m);
        return s;
    }
    *out = m;
    return NNINIT_OK;
}
