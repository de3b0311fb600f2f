/* Keras model JSON (model.to_json() / config.json of a .keras file; Keras 3,
 * and the Keras 2 forms): variables, shapes and initializers of each layer
 * as keras/src/layers/{core,convolutional,rnn,normalization,attention}
 * build them, named "<layer name>/<variable>" as Keras 3 paths are. */
#include "model/internal.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define UNKNOWN (-1) /* a None dimension */
/* Dimensions and sizes read from a config are capped at 2^31 (any real
 * model is far below), so products of two never overflow int64. */
#define DIM_MAX NNINIT__MODEL_MAX_DIM

/* Variable names ("<layer>/<path>") are built whole, never cut: a longer
 * one is refused (tensor files take names of up to 1024 bytes). */
#define NAME_CAP 1100
#define NAME_CAP_TEXT "1100"

typedef struct kshape {
    int ndim;
    int64_t d[NNINIT_MAX_DIMS];
} kshape;

typedef struct kctx {
    nninit_model *m;
    nninit_err *err;
    /* Keras >= 3.15 (einsum_dense.py build): a VarianceScaling kernel
     * initializer without axes gets the einsum's input/output axes */
    int einsum_axes;
    /* a nested model's layers: names "<model>/<layer>/<variable>", depth of nesting */
    char prefix[256];
    int depth;
    /* output shape of each layer seen, by name (Keras 2 functional graphs) */
    char **names;
    kshape *outs;
    size_t n, cap;
    nninit__strmap by_name; /* layer name -> its latest position in names */
} kctx;

static nninit_status kerr(kctx *c, const char *layer, const char *fmt, const char *detail)
{
    char m[NNINIT_ERR_MSG_MAX];
    snprintf(m, sizeof m, fmt, detail ? detail : "");
    return nninit__err(c->err, NNINIT_EINVAL, "keras layer '%.60s': %s", layer, m);
}

static int get_shape(json_t *j, kshape *out)
{
    if (!json_is_array(j) || json_array_size(j) > NNINIT_MAX_DIMS)
        return 0;
    out->ndim = (int)json_array_size(j);
    for (int i = 0; i < out->ndim; i++) {
        json_t *v = json_array_get(j, (size_t)i);
        if (json_is_null(v))
            out->d[i] = UNKNOWN;
        else if (json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) <= DIM_MAX)
            out->d[i] = json_integer_value(v);
        else
            return 0;
    }
    return 1;
}

/* An integer config value; out of [-DIM_MAX, DIM_MAX] reads as -1, which
 * every caller rejects as invalid. */
static int64_t cfg_int(json_t *cfg, const char *key, int64_t dflt)
{
    json_t *v = json_object_get(cfg, key);
    if (!json_is_integer(v))
        return dflt;
    int64_t x = json_integer_value(v);
    return x < -DIM_MAX || x > DIM_MAX ? -1 : x;
}

/* A size from the config (units, filters, num_heads, ...): an integer in
 * [1, DIM_MAX], else one line saying what was given (1e18 is a float in
 * JSON; 2^40 is above the cap), not "needs units >= 1". dflt > 0: the value
 * when the key is absent. */
static nninit_status cfg_size(kctx *c, const char *lname, const char *cls, json_t *cfg, const char *key,
                              int64_t dflt, int64_t *out)
{
    json_t *v = json_object_get(cfg, key);
    if ((!v || json_is_null(v)) && dflt > 0) {
        *out = dflt;
        return NNINIT_OK;
    }
    if (json_is_integer(v) && json_integer_value(v) >= 1 && json_integer_value(v) <= DIM_MAX) {
        *out = json_integer_value(v);
        return NNINIT_OK;
    }
    char *got = v ? json_dumps(v, JSON_ENCODE_ANY) : NULL;
    nninit_status s = nninit__err(c->err, NNINIT_EINVAL, "keras layer '%.60s': %s %s is %.60s; expected an integer "
                                  "from 1 to %lld (sizes are capped at 2^31 so that products of two fit 64 bits)",
                                  lname, cls, key, got ? got : "missing", (long long)DIM_MAX);
    free(got);
    return s;
}

static int cfg_bool(json_t *cfg, const char *key, int dflt)
{
    json_t *v = json_object_get(cfg, key);
    return json_is_boolean(v) ? json_is_true(v) : dflt;
}

static const char *cfg_str(json_t *cfg, const char *key, const char *dflt)
{
    const char *s = json_string_value(json_object_get(cfg, key));
    return s ? s : dflt;
}

/* kernel_size=3 or [3, 3]: n ints into out. */
static int cfg_tuple(json_t *cfg, const char *key, int n, int64_t dflt, int64_t *out)
{
    json_t *v = json_object_get(cfg, key);
    if (!v || json_is_null(v)) {
        for (int i = 0; i < n; i++)
            out[i] = dflt;
        return 1;
    }
    if (json_is_integer(v)) {
        for (int i = 0; i < n; i++)
            out[i] = json_integer_value(v);
    } else if (json_is_array(v) && json_array_size(v) == (size_t)n) {
        for (int i = 0; i < n; i++) {
            json_t *x = json_array_get(v, (size_t)i);
            if (!json_is_integer(x))
                return 0;
            out[i] = json_integer_value(x);
        }
    } else {
        return 0;
    }
    for (int i = 0; i < n; i++)
        if (out[i] < 1 || out[i] > DIM_MAX)
            return 0;
    return 1;
}

/* The fan axes an EinsumDense kernel passes to its initializer (NULL: none). */
typedef struct einsum_axes {
    int n_in, n_out;
    int in[NNINIT_MAX_AXES], out[NNINIT_MAX_AXES];
} einsum_axes;

static nninit_status add_var_axes(kctx *c, const char *layer, const char *path, json_t *cfg, const char *key,
                                  const char *dflt, int ndim, const int64_t *dims, const einsum_axes *ax,
                                  nninit__mtensor **out);

/* Adds variable "<layer>/<path>" with the initializer in cfg[key] (a
 * string or a serialized dict, read as written) or `dflt`. */
static nninit_status add_var(kctx *c, const char *layer, const char *path, json_t *cfg, const char *key,
                             const char *dflt, int ndim, const int64_t *dims, nninit__mtensor **out)
{
    return add_var_axes(c, layer, path, cfg, key, dflt, ndim, dims, NULL, out);
}

static nninit_status add_var_axes(kctx *c, const char *layer, const char *path, json_t *cfg, const char *key,
                                  const char *dflt, int ndim, const int64_t *dims, const einsum_axes *ax,
                                  nninit__mtensor **out)
{
    char name[NAME_CAP], *dumped = NULL;
    if (snprintf(name, sizeof name, "%s%s/%s", c->prefix, layer, path) >= (int)sizeof name)
        return kerr(c, layer, "its variable names would be longer than %s bytes (they were cut)", NAME_CAP_TEXT);
    nninit_shape sh;
    sh.ndim = ndim;
    for (int i = 0; i < ndim; i++) {
        if (dims[i] < 1)
            return nninit__err(c->err, NNINIT_EINVAL, "keras variable '%s': dimension %d is unknown (None) or 0; "
                               "give the model a fully defined input shape", name, i);
        sh.dim[i] = dims[i];
    }
    json_t *j = key ? json_object_get(cfg, key) : NULL;
    const char *spec = dflt;
    if (j && json_is_string(j)) {
        spec = json_string_value(j);
    } else if (j && json_is_object(j)) {
        dumped = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
        if (!dumped)
            return nninit__err(c->err, NNINIT_ENOMEM, "out of memory");
        spec = dumped;
    } else if (j && !json_is_null(j)) {
        return kerr(c, layer, "'%s' is neither an initializer name nor a serialized initializer", key);
    }
    nninit_init init;
    nninit_status s = nninit_init_parse(spec, &init, c->err);
    if (s != NNINIT_OK) {
        char why[NNINIT_ERR_MSG_MAX];
        snprintf(why, sizeof why, "%s", c->err ? c->err->msg : "");
        nninit__err(c->err, s, "keras variable '%.80s' (%s): %.1800s", name, key ? key : "default", why);
    } else {
        /* EinsumDense.build (Keras >= 3.15): isinstance(init, VarianceScaling) and (input_axes is None or
         * output_axes is None) -> a clone with the einsum's axes */
        if (ax && c->einsum_axes && init.kind >= NNINIT_VARIANCE_SCALING && init.kind <= NNINIT_LECUN_UNIFORM &&
            (init.n_input_axes == 0 || init.n_output_axes == 0)) {
            init.n_input_axes = ax->n_in;
            init.n_output_axes = ax->n_out;
            memcpy(init.input_axes, ax->in, sizeof ax->in);
            memcpy(init.output_axes, ax->out, sizeof ax->out);
        }
        s = nninit__model_add(c->m, name, &sh, NNINIT_LAYOUT_KERAS, &init, spec, out, c->err);
        nninit_init_clear(&init); /* the model keeps its own copy of a window's values */
    }
    free(dumped);
    return s;
}

/* Output length of a convolution/pooling axis (keras/src/ops/operation_utils.py). */
static int64_t conv_len(int64_t len, int64_t k, int64_t stride, int64_t dil, const char *padding)
{
    if (len < 0)
        return UNKNOWN;
    int64_t eff = (k - 1) * dil + 1;
    if (!strcmp(padding, "same") || !strcmp(padding, "causal"))
        return (len + stride - 1) / stride;
    return len >= eff ? (len - eff) / stride + 1 : 0;
}

static int64_t deconv_len(int64_t len, int64_t k, int64_t stride, int64_t dil, const char *padding, int64_t opad)
{
    if (len < 0)
        return UNKNOWN;
    int64_t eff = (k - 1) * dil + 1;
    if (opad < 0) /* output_padding None */
        return !strcmp(padding, "same") ? len * stride : len * stride + (eff > stride ? eff - stride : 0);
    int64_t pad = !strcmp(padding, "same") ? eff / 2 : 0;
    return (len - 1) * stride + eff - 2 * pad + opad;
}

/* lora_rank of Dense/EinsumDense: null or absent (0), else an integer >= 1;
 * enable_lora refuses a kernel_constraint ("Lora is incompatible with kernel
 * constraints"). */
static nninit_status lora_rank(kctx *c, const char *lname, json_t *cfg, int64_t *rank)
{
    json_t *lr = json_object_get(cfg, "lora_rank");
    *rank = 0;
    if (!lr || json_is_null(lr))
        return NNINIT_OK;
    if (!json_is_integer(lr) || json_integer_value(lr) < 1 || json_integer_value(lr) > DIM_MAX)
        return kerr(c, lname, "lora_rank must be a positive integer or null%s", NULL);
    json_t *kc = json_object_get(cfg, "kernel_constraint");
    if (kc && !json_is_null(kc))
        return kerr(c, lname, "lora_rank with a kernel_constraint: Keras refuses it (Lora is incompatible with kernel "
                    "constraints); remove one of them%s", NULL);
    *rank = json_integer_value(lr);
    return NNINIT_OK;
}

/* enable_lora (dense.py, einsum_dense.py; a_initializer="he_uniform",
 * b_initializer="zeros"): lora_kernel_a of the kernel's shape with its last
 * axis replaced by the rank, lora_kernel_b (rank, kernel.shape[-1]), both
 * created after the kernel and the bias. */
static nninit_status lora_vars(kctx *c, const char *lname, int kndim, const int64_t *kdims, int64_t rank)
{
    int64_t la[NNINIT_MAX_DIMS], lb[2] = {rank, kdims[kndim - 1]};
    for (int i = 0; i + 1 < kndim; i++)
        la[i] = kdims[i];
    la[kndim - 1] = rank;
    nninit_status s = add_var(c, lname, "lora_kernel_a", NULL, NULL, "he_uniform", kndim, la, NULL);
    return s ? s : add_var(c, lname, "lora_kernel_b", NULL, NULL, "zeros", 2, lb, NULL);
}

/* EinsumDense (keras/src/layers/core/einsum_dense.py build and
 * _analyze_einsum_string / _analyze_split_string): "..." becomes one mark,
 * then the equation is "X,W->Z", "...X,W->...Z" (left elided) or
 * "X...,W->Z..." (right elided); the output shape is the batch dimension,
 * the elided input dimensions and the config's output_shape; each kernel
 * axis takes the output dimension of its letter if the output has it, else
 * the input's (the first are the einsum's output axes, the others its input
 * axes, which a VarianceScaling kernel initializer without axes takes from
 * Keras 3.15 on); the bias covers the output from its first bias letter on,
 * 1 where a letter is not a bias axis (and 1 for each right-elided axis). */
static int spec_letters(const char *p, int min, char *out, size_t cap)
{
    size_t n = 0;
    while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')) {
        if (n + 1 >= cap)
            return -1;
        out[n++] = *p++;
    }
    out[n] = '\0';
    return (int)n >= min ? (int)n : -1;
}

static nninit_status einsum_vars(kctx *c, const char *lname, json_t *cfg, const kshape *in, kshape *out)
{
    const char *eq = cfg_str(cfg, "equation", NULL);
    if (!eq)
        return kerr(c, lname, "EinsumDense needs an equation%s", NULL);
    char d[128], x[16], w[16], z[16];
    size_t n = 0;
    for (const char *p = eq; *p && n + 1 < sizeof d; p++) {
        if (!strncmp(p, "...", 3)) {
            d[n++] = '0';
            p += 2;
        } else {
            d[n++] = *p;
        }
    }
    d[n] = '\0';
    int left = 0, lx, lw, lz;
    const char *p = d;
    /* "X,W->Z"; "0X,W->0Z" (left elided); "X0,W->Z0" with at least two letters in X (right elided) */
    if (*p == '0') {
        left = 1;
        p++;
    }
    if ((lx = spec_letters(p, 1, x, sizeof x)) < 0)
        return kerr(c, lname, "equation '%s' is not X,W->Z, ...X,W->...Z or X...,W->Z...", eq);
    p += lx;
    int right = !left && *p == '0';
    if (right && lx < 2)
        return kerr(c, lname, "equation '%s' is not X,W->Z, ...X,W->...Z or X...,W->Z...", eq);
    if (right)
        p++;
    if (*p++ != ',' || (lw = spec_letters(p, 1, w, sizeof w)) < 0)
        return kerr(c, lname, "equation '%s' is not X,W->Z, ...X,W->...Z or X...,W->Z...", eq);
    p += lw;
    if (strncmp(p, "->", 2))
        return kerr(c, lname, "equation '%s' is not X,W->Z, ...X,W->...Z or X...,W->Z...", eq);
    p += 2;
    if (left && *p++ != '0')
        return kerr(c, lname, "equation '%s' is not X,W->Z, ...X,W->...Z or X...,W->Z...", eq);
    if ((lz = spec_letters(p, 1, z, sizeof z)) < 0 || (right && p[lz] != '0'))
        return kerr(c, lname, "equation '%s' is not X,W->Z, ...X,W->...Z or X...,W->Z...", eq);
    int elided = in->ndim - lx;
    if (elided < 0)
        return kerr(c, lname, "the input has fewer dimensions than the equation's input%s", NULL);
    /* output_shape: the batch dimension, then (left elided) the elided ones, the config's, (right) the rest */
    int64_t os[NNINIT_MAX_DIMS];
    int no = 0;
    os[no++] = in->d[0];
    if (elided > 0 && left)
        for (int i = 1; i < elided; i++)
            os[no++] = in->d[i];
    json_t *oj = json_object_get(cfg, "output_shape");
    if (json_is_integer(oj)) {
        os[no++] = json_integer_value(oj);
    } else if (json_is_array(oj)) {
        for (size_t i = 0; i < json_array_size(oj); i++) {
            if (no >= NNINIT_MAX_DIMS)
                return kerr(c, lname, "output rank too large%s", NULL);
            json_t *v = json_array_get(oj, i);
            int64_t val = json_is_integer(v) ? json_integer_value(v) : UNKNOWN;
            if (json_is_integer(v) && (val < 1 || val > DIM_MAX))
                return kerr(c, lname, "output_shape entries must be positive integers or null%s", NULL);
            os[no++] = val;
        }
    } else {
        return kerr(c, lname, "EinsumDense needs output_shape (an integer or a list)%s", NULL);
    }
    if (elided > 0 && !left)
        for (int i = in->ndim - elided; i < in->ndim && no < NNINIT_MAX_DIMS; i++)
            os[no++] = in->d[i];
    /* the dimension of a letter: input_dim_map / output_dim_map */
    int64_t kd[NNINIT_MAX_DIMS];
    einsum_axes ax = {0, 0, {0}, {0}};
    if (lw > NNINIT_MAX_DIMS)
        return kerr(c, lname, "kernel rank too large%s", NULL);
    for (int i = 0; i < lx; i++) { /* shared input/output letters must agree */
        const char *o = strchr(z, x[i]);
        int ii = left ? i + elided : i;
        if (o) {
            int oi = (int)(o - z) + (left ? elided : 0);
            if (oi < no && os[oi] != UNKNOWN && in->d[ii] != UNKNOWN && os[oi] != in->d[ii])
                return kerr(c, lname, "input and output shapes differ at a shared letter of '%s'", eq);
        }
    }
    for (int i = 0; i < lw; i++) {
        const char *o = strchr(z, w[i]), *q = strchr(x, w[i]);
        if (o) {
            int oi = (int)(o - z) + (left ? elided : 0);
            kd[i] = oi < no ? os[oi] : UNKNOWN;
            if (ax.n_out < NNINIT_MAX_AXES)
                ax.out[ax.n_out++] = i;
        } else if (q) {
            int ii = (int)(q - x) + (left ? elided : 0);
            kd[i] = in->d[ii];
            if (ax.n_in < NNINIT_MAX_AXES)
                ax.in[ax.n_in++] = i;
        } else {
            return kerr(c, lname, "a kernel letter of '%s' is in neither the input nor the output", eq);
        }
    }
    int64_t rank;
    nninit_status s = lora_rank(c, lname, cfg, &rank);
    if (s)
        return s;
    if ((s = add_var_axes(c, lname, "kernel", cfg, "kernel_initializer", "glorot_uniform", lw, kd, &ax, NULL)))
        return s;
    const char *bias_axes = cfg_str(cfg, "bias_axes", NULL);
    if (bias_axes && bias_axes[0]) {
        int first = lz;
        for (const char *b = bias_axes; *b; b++) {
            const char *o = strchr(z, *b);
            if (!o)
                return kerr(c, lname, "a bias letter is not in the output spec of '%s'", eq);
            if ((int)(o - z) < first)
                first = (int)(o - z);
        }
        int64_t bd[NNINIT_MAX_DIMS];
        int nb = 0;
        for (int i = first; i < lz && nb < NNINIT_MAX_DIMS; i++) {
            int oi = i + (left ? elided : 0);
            bd[nb++] = strchr(bias_axes, z[i]) ? (oi < no ? os[oi] : UNKNOWN) : 1;
        }
        for (int i = 0; !left && i < elided && nb < NNINIT_MAX_DIMS; i++)
            bd[nb++] = 1;
        if ((s = add_var(c, lname, "bias", cfg, "bias_initializer", "zeros", nb, bd, NULL)))
            return s;
    }
    /* einsum_dense.py enable_lora: lora_kernel_a kernel.shape[:-1] + (rank,), lora_kernel_b (rank,
     * kernel.shape[-1]) */
    if (rank > 0 && (s = lora_vars(c, lname, lw, kd, rank)))
        return s;
    out->ndim = no;
    for (int i = 0; i < no; i++)
        out->d[i] = os[i];
    return NNINIT_OK;
}

/* ConvLSTM1D/2D/3D (keras/src/layers/rnn/conv_lstm.py ConvLSTMCell.build):
 * input (batch, time, spatial..., channels) (channels_last), cell
 * "conv_lstm_cell" with kernel k + (in, 4f), recurrent_kernel k + (f, 4f),
 * bias (4f) (unit_forget_bias: init((f,)), ones((f,)), init((2f,))). */
static nninit_status conv_lstm_vars(kctx *c, const char *cls, const char *lname, json_t *cfg, const kshape *in,
                                    kshape *out)
{
    int nd = cls[8] >= '1' && cls[8] <= '3' && !strcmp(cls + 9, "D") ? cls[8] - '0' : 0;
    if (!nd)
        return kerr(c, lname, "unknown ConvLSTM layer (expected ConvLSTM1D, ConvLSTM2D or ConvLSTM3D)%s", NULL);
    if (in->ndim != nd + 3)
        return kerr(c, lname, "expects a (batch, time, spatial..., channels) input of rank %s",
                    nd == 1 ? "4" : nd == 2 ? "5" : "6");
    int chlast = strcmp(cfg_str(cfg, "data_format", "channels_last"), "channels_first") != 0;
    int sp0 = chlast ? 2 : 3, chax = chlast ? nd + 2 : 2;
    int64_t k[3], st[3], dil[3], in_ch = in->d[chax], f;
    nninit_status s = cfg_size(c, lname, cls, cfg, "filters", 0, &f);
    if (s)
        return s;
    if (!cfg_tuple(cfg, "kernel_size", nd, 1, k) || !cfg_tuple(cfg, "strides", nd, 1, st) ||
        !cfg_tuple(cfg, "dilation_rate", nd, 1, dil))
        return kerr(c, lname, "bad kernel_size, strides or dilation_rate%s", NULL);
    if (in_ch < 1)
        return kerr(c, lname, "the channel dimension of the input is unknown%s", NULL);
    int64_t kd[5], rd[5], b4 = 4 * f;
    for (int i = 0; i < nd; i++)
        kd[i] = rd[i] = k[i];
    kd[nd] = in_ch;
    rd[nd] = f;
    kd[nd + 1] = rd[nd + 1] = 4 * f;
    if ((s = add_var(c, lname, "conv_lstm_cell/kernel", cfg, "kernel_initializer", "glorot_uniform", nd + 2, kd,
                     NULL)) ||
        (s = add_var(c, lname, "conv_lstm_cell/recurrent_kernel", cfg, "recurrent_initializer", "orthogonal", nd + 2,
                     rd, NULL)))
        return s;
    if (cfg_bool(cfg, "use_bias", 1)) {
        nninit__mtensor *e;
        if ((s = add_var(c, lname, "conv_lstm_cell/bias", cfg, "bias_initializer", "zeros", 1, &b4, &e)))
            return s;
        if (cfg_bool(cfg, "unit_forget_bias", 1))
            e->forget_units = f;
    }
    const char *padding = cfg_str(cfg, "padding", "valid");
    int seq = cfg_bool(cfg, "return_sequences", 0);
    kshape o = {0, {0}};
    o.d[o.ndim++] = in->d[0];
    if (seq)
        o.d[o.ndim++] = in->d[1];
    for (int i = 0; i < nd + 1; i++) { /* spatial and channel axes of one step */
        int ax = 2 + i;
        int64_t v = in->d[ax];
        if (ax == chax)
            v = f;
        else if (ax >= sp0 && ax < sp0 + nd)
            v = conv_len(v, k[ax - sp0], st[ax - sp0], dil[ax - sp0], padding);
        o.d[o.ndim++] = v;
    }
    *out = o;
    return NNINIT_OK;
}

/* The preprocessing layers with state (keras/src/layers/preprocessing):
 * none creates a Keras variable. StringLookup/IntegerLookup (index_lookup.py)
 * keep the vocabulary in the config or as the asset vocabulary.txt of a
 * .keras archive (save_assets), never in .weights.h5; their
 * save_own_variables stores only "idf_weights" with output_mode "tf_idf"
 * (computed by adapt() or from the vocabulary: refused here).
 * TextVectorization delegates to its StringLookup. Hashing has no state;
 * Discretization keeps bin_boundaries in its config (no variable; only its
 * load_own_variables reads a legacy "0"). Output shapes: compute_output_shape
 * of each (depth: max_tokens with pad_to_max_tokens, else the config's
 * vocabulary_size; num_bins; len(bin_boundaries) + 1). */
static nninit_status lookup_layer(kctx *c, const char *cls, const char *lname, json_t *cfg, const kshape *in,
                                  kshape *out)
{
    const char *mode = cfg_str(cfg, "output_mode", "int");
    int tv = !strcmp(cls, "TextVectorization"), disc = !strcmp(cls, "Discretization");
    if (!strcmp(mode, "tf_idf"))
        return kerr(c, lname, "output_mode \"tf_idf\" stores idf_weights that adapt() computes from data (Keras "
                    "saves them as its only variable), which nninit cannot produce; use \"int\", \"one_hot\", "
                    "\"multi_hot\" or \"count\"%s", NULL);
    if (strcmp(mode, "int") && strcmp(mode, "one_hot") && strcmp(mode, "multi_hot") && strcmp(mode, "count"))
        return kerr(c, lname, "output_mode must be \"int\", \"one_hot\", \"multi_hot\" or \"count\"%s", NULL);
    if (tv && !strcmp(mode, "one_hot"))
        return kerr(c, lname, "TextVectorization has no output_mode \"one_hot\"; use \"int\", \"multi_hot\" or "
                    "\"count\"%s", NULL);
    int64_t depth = UNKNOWN;
    if (!strcmp(cls, "Hashing") && (depth = cfg_int(cfg, "num_bins", 0)) < 1) /* hashing.py __init__ */
        return kerr(c, lname, "Hashing needs num_bins >= 1%s", NULL);
    *out = *in;
    if (tv && !strcmp(mode, "int")) { /* (batch, output_sequence_length) */
        json_t *len = json_object_get(cfg, "output_sequence_length");
        out->ndim = 2;
        out->d[0] = in->ndim ? in->d[0] : UNKNOWN;
        out->d[1] = json_is_integer(len) && json_integer_value(len) >= 1 && json_integer_value(len) <= DIM_MAX ?
                    json_integer_value(len) : UNKNOWN;
        return NNINIT_OK;
    }
    if (!strcmp(mode, "int"))
        return NNINIT_OK;
    if (disc) {
        json_t *bb = json_object_get(cfg, "bin_boundaries");
        depth = json_is_array(bb) ? (int64_t)json_array_size(bb) + 1 : cfg_int(cfg, "num_bins", UNKNOWN);
        if (depth == 0 || depth < UNKNOWN)
            depth = UNKNOWN;
    } else if (strcmp(cls, "Hashing")) { /* the lookups (Hashing's depth is num_bins, read above) */
        json_t *vs = json_object_get(cfg, "vocabulary_size");
        int64_t mt = cfg_int(cfg, "max_tokens", 0);
        if (cfg_bool(cfg, "pad_to_max_tokens", 0) && mt >= 1)
            depth = mt;
        else if (json_is_integer(vs) && json_integer_value(vs) >= 1 && json_integer_value(vs) <= DIM_MAX)
            depth = json_integer_value(vs);
    }
    kshape sh = *in;
    if (tv && sh.ndim < NNINIT_MAX_DIMS) { /* split (the default "whitespace") adds a token axis; None keeps (b, 1) */
        json_t *split = json_object_get(cfg, "split");
        if (!(split && json_is_null(split)))
            sh.d[sh.ndim++] = UNKNOWN;
        else if (sh.ndim <= 1)
            sh.d[sh.ndim++] = 1;
    }
    if (!strcmp(mode, "one_hot")) { /* each element encoded: a trailing 1 is replaced, else an axis appended */
        if (sh.ndim > 1 && sh.d[sh.ndim - 1] == 1)
            sh.ndim--;
        if (sh.ndim >= NNINIT_MAX_DIMS)
            return kerr(c, lname, "input rank too large%s", NULL);
        sh.d[sh.ndim++] = depth;
    } else if (disc) { /* discretization.py: (batch,) + input_shape[2:] + (depth,), or (depth,) */
        if (sh.ndim >= 2) {
            for (int i = 1; i + 1 < sh.ndim; i++)
                sh.d[i] = sh.d[i + 1];
            sh.d[sh.ndim - 1] = depth;
        } else {
            sh.ndim = 1;
            sh.d[0] = depth;
        }
    } else if (sh.ndim == 0) { /* hashing.py: (num_bins,) */
        sh.ndim = 1;
        sh.d[0] = depth;
    } else { /* multi_hot, count: the last (sample) axis becomes the depth */
        sh.d[sh.ndim - 1] = depth;
    }
    *out = sh;
    return NNINIT_OK;
}

/* Every layer class nninit builds (do_layer, layer_vars, wrapper_vars,
 * spectral_vars, lookup_layer, mha_vars, nested_model): the one list the
 * "not supported" message prints whole and "did you mean" searches;
 * tests/test_model.c checks that each one reaches its builder. */
static const char *const KERAS_LAYERS[] = {
    "InputLayer", "Sequential", "Functional", "Model",
    /* with variables */
    "Dense", "EinsumDense", "Conv1D", "Conv2D", "Conv3D", "Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose",
    "DepthwiseConv1D", "DepthwiseConv2D", "SeparableConv1D", "SeparableConv2D", "SimpleRNN", "LSTM", "GRU",
    "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D", "Embedding", "PositionEmbedding", "BatchNormalization",
    "LayerNormalization", "GroupNormalization", "RMSNormalization", "Normalization", "PReLU", "Attention",
    "MultiHeadAttention", "Bidirectional", "TimeDistributed", "SpectralNormalization",
    /* parameter-free, or state that is no variable */
    "MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "AveragePooling1D", "AveragePooling2D", "AveragePooling3D",
    "GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalMaxPooling3D", "GlobalAveragePooling1D",
    "GlobalAveragePooling2D", "GlobalAveragePooling3D", "Flatten", "Reshape", "Permute", "RepeatVector",
    "UpSampling1D", "UpSampling2D", "UpSampling3D", "ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D",
    "Cropping1D", "Cropping2D", "Cropping3D", "Resizing", "CategoryEncoding", "StringLookup", "IntegerLookup",
    "TextVectorization", "Hashing", "Discretization", "Add", "Subtract", "Multiply", "Average", "Maximum",
    "Minimum", "Concatenate", "Activation", "ReLU", "LeakyReLU", "ELU", "Softmax", "Dropout", "SpatialDropout1D",
    "SpatialDropout2D", "SpatialDropout3D", "GaussianNoise", "GaussianDropout", "AlphaDropout", "Identity",
    "Rescaling", "ActivityRegularization", "Masking", "RandomFlip", "RandomRotation", "RandomZoom",
    "RandomTranslation", "RandomContrast", "RandomBrightness", "UnitNormalization"};
#define N_KERAS_LAYERS (sizeof KERAS_LAYERS / sizeof *KERAS_LAYERS)

static nninit_status unsupported(kctx *c, const char *lname, const char *cls)
{
    const char *near = nninit_suggest(cls, KERAS_LAYERS, N_KERAS_LAYERS);
    if (near)
        return nninit__err(c->err, NNINIT_EUNSUPPORTED, "keras layer '%.60s': unknown class '%.60s'; did you mean "
                           "'%s'?", lname, cls, near);
    char list[NNINIT_ERR_MSG_MAX];
    size_t n = 0;
    for (size_t i = 0; i < N_KERAS_LAYERS && n < sizeof list; i++)
        n += (size_t)snprintf(list + n, sizeof list - n, "%s%s", i ? ", " : "", KERAS_LAYERS[i]);
    return nninit__err(c->err, NNINIT_EUNSUPPORTED, "keras layer '%.60s': class '%.60s' is not supported; "
                       "supported: %s", lname, cls, list);
}

/* Builds the variables of one layer from its input shape and computes its
 * output shape. */
static nninit_status layer_vars(kctx *c, const char *cls, const char *lname, json_t *cfg, const kshape *in,
                                kshape *out)
{
    nninit_status s = NNINIT_OK;
    *out = *in;
    int chlast = strcmp(cfg_str(cfg, "data_format", "channels_last"), "channels_first") != 0;
    int64_t last = in->ndim ? in->d[in->ndim - 1] : UNKNOWN;
    if (!strcmp(cls, "InputLayer")) {
        return NNINIT_OK;
    } else if (!strcmp(cls, "Dense")) {
        int64_t units;
        if ((s = cfg_size(c, lname, cls, cfg, "units", 0, &units)))
            return s;
        if (in->ndim < 1)
            return kerr(c, lname, "Dense needs an input of rank >= 1%s", NULL);
        int64_t k[2] = {last, units};
        if ((s = add_var(c, lname, "kernel", cfg, "kernel_initializer", "glorot_uniform", 2, k, NULL)))
            return s;
        if (cfg_bool(cfg, "use_bias", 1) &&
            (s = add_var(c, lname, "bias", cfg, "bias_initializer", "zeros", 1, &units, NULL)))
            return s;
        /* dense.py build -> enable_lora(lora_rank): lora_kernel_a (in, rank), lora_kernel_b (rank, units),
         * after the kernel and bias */
        int64_t rank;
        if ((s = lora_rank(c, lname, cfg, &rank)) || (rank > 0 && (s = lora_vars(c, lname, 2, k, rank))))
            return s;
        out->d[out->ndim - 1] = units;
        return NNINIT_OK;
    }
    if (!strcmp(cls, "EinsumDense"))
        return einsum_vars(c, lname, cfg, in, out);
    if (!strncmp(cls, "ConvLSTM", 8)) /* before the Conv* prefix below, which would take it for a convolution */
        return conv_lstm_vars(c, cls, lname, cfg, in, out);
    int nd = 0, transposed = 0, depthwise = 0, separable = 0, pooling = 0;
    if (!strncmp(cls, "Conv", 4) || !strncmp(cls, "DepthwiseConv", 13) || !strncmp(cls, "SeparableConv", 13) ||
        strstr(cls, "Pooling")) {
        const char *p = cls + strcspn(cls, "0123456789");
        nd = *p >= '1' && *p <= '3' ? *p - '0' : 0;
        transposed = strstr(cls, "Transpose") != NULL;
        depthwise = !strncmp(cls, "DepthwiseConv", 13);
        separable = !strncmp(cls, "SeparableConv", 13);
        pooling = strstr(cls, "Pooling") != NULL;
        if (!strncmp(cls, "Global", 6)) {
            if (in->ndim < 3)
                return kerr(c, lname, "global pooling needs a rank >= 3 input%s", NULL);
            out->ndim = cfg_bool(cfg, "keepdims", 0) ? in->ndim : 2;
            int64_t ch = chlast ? last : in->d[1];
            if (out->ndim == 2)
                out->d[1] = ch;
            else
                for (int i = 1; i < in->ndim; i++)
                    if (i != (chlast ? in->ndim - 1 : 1))
                        out->d[i] = 1;
            return NNINIT_OK;
        }
    }
    if (nd) {
        if (in->ndim != nd + 2)
            return kerr(c, lname, "expects a rank-%s input (batch, spatial..., channels)",
                        nd == 1 ? "3" : nd == 2 ? "4" : "5");
        int64_t k[3], st[3], dil[3];
        int sp0 = chlast ? 1 : 2, chax = chlast ? nd + 1 : 1;
        int64_t in_ch = in->d[chax];
        const char *padding = cfg_str(cfg, "padding", "valid");
        if (pooling) {
            if (!cfg_tuple(cfg, "pool_size", nd, 2, k) || !cfg_tuple(cfg, "strides", nd, 0, st))
                return kerr(c, lname, "bad pool_size or strides%s", NULL);
            json_t *sj = json_object_get(cfg, "strides");
            for (int i = 0; i < nd; i++)
                if (!sj || json_is_null(sj))
                    st[i] = k[i];
            for (int i = 0; i < nd; i++)
                out->d[sp0 + i] = conv_len(in->d[sp0 + i], k[i], st[i], 1, padding);
            return NNINIT_OK;
        }
        if (!cfg_tuple(cfg, "kernel_size", nd, 1, k) || !cfg_tuple(cfg, "strides", nd, 1, st) ||
            !cfg_tuple(cfg, "dilation_rate", nd, 1, dil))
            return kerr(c, lname, "bad kernel_size, strides or dilation_rate%s", NULL);
        if (in_ch < 1)
            return kerr(c, lname, "the channel dimension of the input is unknown%s", NULL);
        int64_t filters = cfg_int(cfg, "filters", 0), groups = cfg_int(cfg, "groups", 1);
        int64_t dm = cfg_int(cfg, "depth_multiplier", 1);
        int64_t dims[5];
        for (int i = 0; i < nd; i++)
            dims[i] = k[i];
        int64_t out_ch;
        if (depthwise || separable) {
            dims[nd] = in_ch;
            dims[nd + 1] = dm;
            if ((s = add_var(c, lname, "depthwise_kernel", cfg, "depthwise_initializer", "glorot_uniform", nd + 2,
                             dims, NULL)))
                return s;
            out_ch = in_ch * dm;
            if (separable) {
                int64_t pw[5];
                for (int i = 0; i < nd; i++)
                    pw[i] = 1;
                pw[nd] = in_ch * dm;
                pw[nd + 1] = filters;
                if (filters < 1)
                    return kerr(c, lname, "filters must be >= 1%s", NULL);
                if ((s = add_var(c, lname, "pointwise_kernel", cfg, "pointwise_initializer", "glorot_uniform", nd + 2,
                                 pw, NULL)))
                    return s;
                out_ch = filters;
            }
        } else {
            if (filters < 1 || groups < 1 || in_ch % groups || filters % groups)
                return kerr(c, lname, "filters and input channels must be >= 1 and divisible by groups%s", NULL);
            /* base_conv: kernel_size + (in/groups, filters); transposed:
             * kernel_size + (filters, in). */
            dims[nd] = transposed ? filters : in_ch / groups;
            dims[nd + 1] = transposed ? in_ch : filters;
            if ((s = add_var(c, lname, "kernel", cfg, "kernel_initializer", "glorot_uniform", nd + 2, dims, NULL)))
                return s;
            out_ch = filters;
        }
        if (cfg_bool(cfg, "use_bias", 1) &&
            (s = add_var(c, lname, "bias", cfg, "bias_initializer", "zeros", 1, &out_ch, NULL)))
            return s;
        int64_t opad[3] = {-1, -1, -1};
        json_t *oj = json_object_get(cfg, "output_padding");
        if (oj && !json_is_null(oj) && !cfg_tuple(cfg, "output_padding", nd, 0, opad))
            for (int i = 0; i < nd; i++) /* zeros are legal but fail cfg_tuple's >= 1 check */
                opad[i] = json_is_integer(oj) ? json_integer_value(oj)
                                              : json_integer_value(json_array_get(oj, (size_t)i));
        for (int i = 0; i < nd; i++)
            out->d[sp0 + i] = transposed ? deconv_len(in->d[sp0 + i], k[i], st[i], dil[i], padding, opad[i])
                                         : conv_len(in->d[sp0 + i], k[i], st[i], dil[i], padding);
        out->d[chax] = out_ch;
        return NNINIT_OK;
    }
    if (!strcmp(cls, "SimpleRNN") || !strcmp(cls, "LSTM") || !strcmp(cls, "GRU")) {
        int64_t units;
        if ((s = cfg_size(c, lname, cls, cfg, "units", 0, &units)))
            return s;
        if (in->ndim != 3 || last < 1)
            return kerr(c, lname, "needs a (batch, time, features) input with known features%s", NULL);
        int gates = !strcmp(cls, "LSTM") ? 4 : !strcmp(cls, "GRU") ? 3 : 1;
        char cell[128], path[200];
        snprintf(cell, sizeof cell, "%s_cell", !strcmp(cls, "SimpleRNN") ? "simple_rnn" : !strcmp(cls, "LSTM") ?
                 "lstm" : "gru");
        int64_t kd[2] = {last, gates * units}, rd[2] = {units, gates * units};
        snprintf(path, sizeof path, "%s/kernel", cell);
        if ((s = add_var(c, lname, path, cfg, "kernel_initializer", "glorot_uniform", 2, kd, NULL)))
            return s;
        snprintf(path, sizeof path, "%s/recurrent_kernel", cell);
        if ((s = add_var(c, lname, path, cfg, "recurrent_initializer", "orthogonal", 2, rd, NULL)))
            return s;
        if (cfg_bool(cfg, "use_bias", 1)) {
            snprintf(path, sizeof path, "%s/bias", cell);
            /* GRU with reset_after (the Keras 3 default): bias (2, 3u). */
            int reset_after = gates == 3 && cfg_bool(cfg, "reset_after", 1);
            int64_t bd[2] = {2, gates * units}, b1 = gates * units;
            nninit__mtensor *e;
            if ((s = add_var(c, lname, path, cfg, "bias_initializer", "zeros", reset_after ? 2 : 1,
                             reset_after ? bd : &b1, &e)))
                return s;
            if (gates == 4 && cfg_bool(cfg, "unit_forget_bias", 1)) {
                /* lstm.py: concatenate(init((u,)), ones((u,)), init((2u,))):
                 * the forget gate's slice [u, 2u) is ones. */
                e->forget_units = units;
            }
        }
        out->ndim = cfg_bool(cfg, "return_sequences", 0) ? 3 : 2;
        out->d[out->ndim - 1] = units;
        return NNINIT_OK;
    }
    if (!strcmp(cls, "PositionEmbedding")) {
        /* keras_hub.layers.PositionEmbedding (position_embedding.py): build()
         * adds "embeddings" of shape (sequence_length, the input's last
         * axis) with `initializer` (default glorot_uniform); the output is
         * the input's shape (the rows broadcast to it). */
        int64_t seq = cfg_int(cfg, "sequence_length", 0);
        if (seq < 1)
            return kerr(c, lname, "PositionEmbedding needs sequence_length >= 1%s", NULL);
        if (in->ndim < 3) /* the batch axis is d[0] */
            return kerr(c, lname, "PositionEmbedding needs an input of (batch, sequence, features)%s", NULL);
        int64_t dims[2] = {seq, last};
        return add_var(c, lname, "embeddings", cfg, "initializer", "glorot_uniform", 2, dims, NULL);
    }
    if (!strcmp(cls, "Embedding")) {
        int64_t idim = cfg_int(cfg, "input_dim", 0), odim = cfg_int(cfg, "output_dim", 0);
        int64_t dims[2] = {idim, odim};
        if ((s = add_var(c, lname, "embeddings", cfg, "embeddings_initializer", "uniform", 2, dims, NULL)))
            return s;
        if (in->ndim >= NNINIT_MAX_DIMS)
            return kerr(c, lname, "input rank too large%s", NULL);
        out->d[out->ndim++] = odim;
        return NNINIT_OK;
    }
    if (!strcmp(cls, "BatchNormalization") || !strcmp(cls, "LayerNormalization") || !strcmp(cls, "RMSNormalization") ||
        !strcmp(cls, "GroupNormalization")) {
        json_t *ax = json_object_get(cfg, "axis");
        int64_t dims[NNINIT_MAX_DIMS];
        int n_ax = 0;
        if (!ax || json_is_integer(ax)) {
            int64_t a = ax ? json_integer_value(ax) : -1;
            if (a < -in->ndim || a >= in->ndim)
                return kerr(c, lname, "axis out of range%s", NULL);
            dims[n_ax++] = in->d[a < 0 ? in->ndim + a : a];
        } else if (json_is_array(ax)) {
            int64_t axes[NNINIT_MAX_DIMS];
            for (size_t i = 0; i < json_array_size(ax) && n_ax < NNINIT_MAX_DIMS; i++) {
                int64_t a = json_integer_value(json_array_get(ax, i));
                if (a < -in->ndim || a >= in->ndim)
                    return kerr(c, lname, "axis out of range%s", NULL);
                axes[n_ax++] = a;
            }
            if (cls[0] == 'R') /* RMSNormalization sorts a list of axes as written (sorted(self.axis)) */
                for (int i = 1; i < n_ax; i++)
                    for (int j = i; j > 0 && axes[j - 1] > axes[j]; j--) {
                        int64_t t = axes[j];
                        axes[j] = axes[j - 1];
                        axes[j - 1] = t;
                    }
            for (int i = 0; i < n_ax; i++)
                dims[i] = in->d[axes[i] < 0 ? in->ndim + axes[i] : axes[i]];
        }
        /* LayerNormalization over several axes keeps them as the shape of
         * gamma/beta; BatchNormalization takes one axis. */
        int bn = cls[0] == 'B';
        if (cls[0] == 'R') /* rms_normalization.py: one "scale" of ones over the axes (sorted) */
            return add_var(c, lname, "scale", NULL, NULL, "ones", n_ax, dims, NULL);
        /* group_normalization.py: gamma/beta (channels,) on the axis, like LayerNormalization's;
         * layer_normalization.py: rms_scaling (deprecated) keeps gamma and drops beta */
        int rms = cls[0] == 'L' && cfg_bool(cfg, "rms_scaling", 0);
        if ((cfg_bool(cfg, "scale", 1) || rms) &&
            (s = add_var(c, lname, "gamma", cfg, "gamma_initializer", "ones", n_ax, dims, NULL)))
            return s;
        if (cfg_bool(cfg, "center", 1) && !rms &&
            (s = add_var(c, lname, "beta", cfg, "beta_initializer", "zeros", n_ax, dims, NULL)))
            return s;
        if (bn && ((s = add_var(c, lname, "moving_mean", cfg, "moving_mean_initializer", "zeros", n_ax, dims, NULL)) ||
                   (s = add_var(c, lname, "moving_variance", cfg, "moving_variance_initializer", "ones", n_ax, dims,
                                NULL))))
            return s;
        return NNINIT_OK;
    }
    if (!strcmp(cls, "Flatten")) {
        int64_t p = 1;
        for (int i = 1; i < in->ndim; i++)
            p = (p < 0 || in->d[i] < 0 || (in->d[i] && p > INT64_MAX / in->d[i])) ? UNKNOWN : p * in->d[i];
        out->ndim = 2;
        out->d[1] = p;
        return NNINIT_OK;
    }
    if (!strcmp(cls, "Reshape")) {
        kshape t;
        if (!get_shape(json_object_get(cfg, "target_shape"), &t) || t.ndim + 1 > NNINIT_MAX_DIMS)
            return kerr(c, lname, "bad target_shape%s", NULL);
        out->ndim = t.ndim + 1;
        for (int i = 0; i < t.ndim; i++)
            out->d[i + 1] = t.d[i];
        return NNINIT_OK;
    }
    if (!strcmp(cls, "Permute")) { /* dims: 1-based axes of the input without the batch */
        json_t *dj = json_object_get(cfg, "dims");
        if (!json_is_array(dj) || (int)json_array_size(dj) != in->ndim - 1)
            return kerr(c, lname, "dims must list every non-batch axis%s", NULL);
        for (int i = 0; i < in->ndim - 1; i++) {
            json_t *x = json_array_get(dj, (size_t)i);
            int64_t a = json_is_integer(x) ? json_integer_value(x) : 0;
            if (a < 1 || a >= in->ndim)
                return kerr(c, lname, "dims must be a permutation of 1..rank-1%s", NULL);
            out->d[i + 1] = in->d[a];
        }
        return NNINIT_OK;
    }
    if (!strcmp(cls, "RepeatVector")) { /* (batch, features) -> (batch, n, features) */
        int64_t n;
        if ((s = cfg_size(c, lname, cls, cfg, "n", 0, &n)))
            return s;
        if (in->ndim != 2)
            return kerr(c, lname, "needs a (batch, features) input%s", NULL);
        out->ndim = 3;
        out->d[1] = n;
        out->d[2] = in->d[1];
        return NNINIT_OK;
    }
    if (!strncmp(cls, "UpSampling", 10) && cls[10] >= '1' && cls[10] <= '3' && !strcmp(cls + 11, "D")) {
        int sd = cls[10] - '0';
        int64_t f[3];
        int sp0 = strcmp(cfg_str(cfg, "data_format", "channels_last"), "channels_first") ? 1 : 2;
        if (in->ndim != sd + 2 || !cfg_tuple(cfg, "size", sd, 2, f))
            return kerr(c, lname, "needs a (batch, spatial..., channels) input and integer sizes%s", NULL);
        for (int i = 0; i < sd; i++)
            out->d[sp0 + i] = in->d[sp0 + i] < 0 ? UNKNOWN : in->d[sp0 + i] * f[i];
        return NNINIT_OK;
    }
    if (!strcmp(cls, "Resizing")) {
        int64_t h = cfg_int(cfg, "height", 0), w = cfg_int(cfg, "width", 0);
        int sp0 = strcmp(cfg_str(cfg, "data_format", "channels_last"), "channels_first") ? 1 : 2;
        if (in->ndim != 4 || h < 1 || w < 1)
            return kerr(c, lname, "needs height, width >= 1 and a rank-4 input%s", NULL);
        out->d[sp0] = h;
        out->d[sp0 + 1] = w;
        return NNINIT_OK;
    }
    if (!strcmp(cls, "PReLU")) { /* prelu.py: alpha of input_shape[1:], 1 on shared_axes (1-based) */
        json_t *sh = json_object_get(cfg, "shared_axes");
        int64_t dims[NNINIT_MAX_DIMS];
        if (in->ndim < 2)
            return kerr(c, lname, "PReLU needs an input of rank >= 2%s", NULL);
        for (int i = 1; i < in->ndim; i++)
            dims[i - 1] = in->d[i];
        for (size_t i = 0; json_is_array(sh) && i < json_array_size(sh); i++) {
            int64_t a = json_integer_value(json_array_get(sh, i));
            if (a < 1 || a >= in->ndim)
                return kerr(c, lname, "shared_axes must be axes 1..rank-1%s", NULL);
            dims[a - 1] = 1;
        }
        if (json_is_integer(sh)) {
            int64_t a = json_integer_value(sh);
            if (a < 1 || a >= in->ndim)
                return kerr(c, lname, "shared_axes must be axes 1..rank-1%s", NULL);
            dims[a - 1] = 1;
        }
        return add_var(c, lname, "alpha", cfg, "alpha_initializer", "zeros", in->ndim - 1, dims, NULL);
    }
    if (!strcmp(cls, "Attention")) { /* attention.py: scalar "scale" (use_scale), "concat_score_weight" (concat) */
        if (cfg_bool(cfg, "use_scale", 0) && (s = add_var(c, lname, "scale", NULL, NULL, "ones", 0, NULL, NULL)))
            return s;
        if (!strcmp(cfg_str(cfg, "score_mode", "dot"), "concat") &&
            (s = add_var(c, lname, "concat_score_weight", NULL, NULL, "ones", 0, NULL, NULL)))
            return s;
        return NNINIT_OK; /* the output has the query's shape */
    }
    if (!strcmp(cls, "Normalization")) {
        /* normalization.py: without mean/variance in the config, non-trainable "mean" (zeros) and "variance"
         * (ones) over the kept axes (sorted) and an int "count" scalar (zeros), for adapt() to fill */
        json_t *mj = json_object_get(cfg, "mean");
        if (mj && !json_is_null(mj))
            return NNINIT_OK;
        json_t *ax = json_object_get(cfg, "axis");
        int keep[NNINIT_MAX_DIMS] = {0};
        if (!ax || json_is_integer(ax)) {
            int64_t a = ax ? json_integer_value(ax) : -1;
            if (a < -in->ndim || a >= in->ndim)
                return kerr(c, lname, "axis out of range%s", NULL);
            keep[a < 0 ? in->ndim + a : a] = 1;
        } else if (json_is_array(ax)) {
            for (size_t i = 0; i < json_array_size(ax); i++) {
                int64_t a = json_integer_value(json_array_get(ax, i));
                if (a < -in->ndim || a >= in->ndim)
                    return kerr(c, lname, "axis out of range%s", NULL);
                keep[a < 0 ? in->ndim + a : a] = 1;
            }
        } else if (!json_is_null(ax)) {
            return kerr(c, lname, "axis must be an integer, a list or null%s", NULL);
        }
        int64_t dims[NNINIT_MAX_DIMS];
        int nk = 0;
        for (int d = 0; d < in->ndim; d++)
            if (keep[d])
                dims[nk++] = in->d[d];
        nninit__mtensor *cnt;
        if ((s = add_var(c, lname, "mean", NULL, NULL, "zeros", nk, dims, NULL)) ||
            (s = add_var(c, lname, "variance", NULL, NULL, "ones", nk, dims, NULL)) ||
            (s = add_var(c, lname, "count", NULL, NULL, "zeros", 0, NULL, &cnt)))
            return s;
        cnt->is_int64 = 1;
        return NNINIT_OK;
    }
    if ((!strncmp(cls, "ZeroPadding", 11) || !strncmp(cls, "Cropping", 8))) {
        /* zero_padding{1,2,3}d.py / cropping{1,2,3}d.py: an int, a tuple per axis, or (before, after) pairs */
        int crop = cls[0] == 'C';
        const char *p = cls + (crop ? 8 : 11);
        int sd = p[0] >= '1' && p[0] <= '3' && !strcmp(p + 1, "D") ? p[0] - '0' : 0;
        json_t *pj = json_object_get(cfg, crop ? "cropping" : "padding");
        int sp0 = sd > 1 && !strcmp(cfg_str(cfg, "data_format", "channels_last"), "channels_first") ? 2 : 1;
        if (!sd || in->ndim != sd + 2)
            return kerr(c, lname, "needs a (batch, spatial..., channels) input of its rank%s", NULL);
        for (int i = 0; i < sd; i++) {
            json_t *e = json_is_array(pj) ? json_array_get(pj, sd == 1 && json_array_size(pj) == 2 ? 0 : (size_t)i)
                                          : pj;
            int64_t before, after;
            if (sd == 1 && json_is_array(pj) && json_array_size(pj) == 2) {
                before = json_integer_value(json_array_get(pj, 0));
                after = json_integer_value(json_array_get(pj, 1));
            } else if (json_is_array(e) && json_array_size(e) == 2) {
                before = json_integer_value(json_array_get(e, 0));
                after = json_integer_value(json_array_get(e, 1));
            } else if (json_is_integer(e)) {
                before = after = json_integer_value(e);
            } else if (!pj) {
                before = after = 1; /* ZeroPadding's default 1; Cropping's default is 0 per side */
                if (crop)
                    before = after = 0;
            } else {
                return kerr(c, lname, "padding/cropping must be integers or (before, after) pairs%s", NULL);
            }
            if (before < 0 || after < 0 || before > DIM_MAX || after > DIM_MAX)
                return kerr(c, lname, "padding/cropping must be >= 0%s", NULL);
            int64_t len = in->d[sp0 + i];
            if (len >= 0)
                len = crop ? len - before - after : len + before + after;
            if (crop && in->d[sp0 + i] >= 0 && len < 1)
                return kerr(c, lname, "crops away the whole axis%s", NULL);
            out->d[sp0 + i] = len;
        }
        return NNINIT_OK;
    }
    if (!strcmp(cls, "CategoryEncoding")) { /* category_encoding.py compute_output_shape */
        int64_t nt = cfg_int(cfg, "num_tokens", 0);
        if (nt < 1 || in->ndim < 1 || in->ndim + 1 > NNINIT_MAX_DIMS)
            return kerr(c, lname, "needs num_tokens >= 1 and an input of rank >= 1%s", NULL);
        int one_hot = !strcmp(cfg_str(cfg, "output_mode", "multi_hot"), "one_hot");
        if (one_hot && (in->d[in->ndim - 1] != 1 || in->ndim == 1))
            out->ndim = in->ndim + 1;
        out->d[out->ndim - 1] = nt;
        return NNINIT_OK;
    }
    if (!strcmp(cls, "StringLookup") || !strcmp(cls, "IntegerLookup") || !strcmp(cls, "TextVectorization") ||
        !strcmp(cls, "Hashing") || !strcmp(cls, "Discretization"))
        return lookup_layer(c, cls, lname, cfg, in, out);
    static const char *const same_shape[] = {"Activation", "ReLU", "LeakyReLU", "ELU", "Softmax", "Dropout",
                                             "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D",
                                             "GaussianNoise", "GaussianDropout", "AlphaDropout", "Identity",
                                             "Rescaling", "ActivityRegularization", "Masking",
                                             /* parameter-free preprocessing that keeps the shape */
                                             "RandomFlip", "RandomRotation", "RandomZoom", "RandomTranslation",
                                             "RandomContrast", "RandomBrightness", "UnitNormalization",
                                             NULL};
    for (int i = 0; same_shape[i]; i++)
        if (!strcmp(cls, same_shape[i]))
            return NNINIT_OK;
    return unsupported(c, lname, cls);
}

/* A wrapper's (Bidirectional, TimeDistributed, SpectralNormalization) inner
 * "layer": its class, config and name, each required. */
static nninit_status wrapped_layer(kctx *c, const char *lname, json_t *cfg, const char **icls, json_t **icfg,
                                   const char **iname)
{
    json_t *inner = json_object_get(cfg, "layer");
    *icls = json_string_value(json_object_get(inner, "class_name"));
    *icfg = json_object_get(inner, "config");
    *iname = json_string_value(json_object_get(*icfg, "name"));
    if (!*icls || !json_is_object(*icfg) || !*iname)
        return kerr(c, lname, "the wrapped \"layer\" needs class_name and config.name%s", NULL);
    return NNINIT_OK;
}

/* Bidirectional(RNN) and TimeDistributed(layer) (keras/src/layers/rnn/
 * bidirectional.py, layers/core/wrapper.py + time_distributed.py): the inner
 * layers are built inside the wrapper's name scope, so their variables are
 * "<wrapper>/forward_<rnn>/<cell>/kernel" and "<wrapper>/<inner>/kernel". */
static nninit_status wrapper_vars(kctx *c, const char *cls, const char *lname, json_t *cfg, const kshape *in,
                                  kshape *out)
{
    const char *icls, *iname;
    json_t *icfg;
    nninit_status ws = wrapped_layer(c, lname, cfg, &icls, &icfg, &iname);
    if (ws != NNINIT_OK)
        return ws;
    if (!strcmp(icls, "Bidirectional") || !strcmp(icls, "TimeDistributed"))
        return kerr(c, lname, "nested wrappers are not supported%s", NULL);
    char path[NAME_CAP];
    nninit_status s;
    if (cls[0] == 'T') {
        if (in->ndim < 3)
            return kerr(c, lname, "TimeDistributed needs a (batch, time, ...) input%s", NULL);
        kshape sub = *in, sub_out;
        sub.ndim--;
        for (int i = 1; i < sub.ndim; i++)
            sub.d[i] = in->d[i + 1];
        if (snprintf(path, sizeof path, "%s/%s", lname, iname) >= (int)sizeof path)
            return kerr(c, lname, "its variable names would be longer than %s bytes", NAME_CAP_TEXT);
        if ((s = layer_vars(c, icls, path, icfg, &sub, &sub_out)))
            return s;
        if (sub_out.ndim + 1 > NNINIT_MAX_DIMS)
            return kerr(c, lname, "output rank too large%s", NULL);
        out->ndim = sub_out.ndim + 1;
        out->d[0] = sub_out.d[0];
        out->d[1] = in->d[1];
        for (int i = 1; i < sub_out.ndim; i++)
            out->d[i + 1] = sub_out.d[i];
        return NNINIT_OK;
    }
    if (strcmp(icls, "LSTM") && strcmp(icls, "GRU") && strcmp(icls, "SimpleRNN"))
        return kerr(c, lname, "Bidirectional wraps LSTM, GRU or SimpleRNN%s", NULL);
    /* forward_<name> from the layer; backward_<name> from backward_layer
     * when given (its own config), else the same config. */
    const char *base = !strncmp(iname, "forward_", 8) ? iname + 8 : iname;
    if (snprintf(path, sizeof path, "%s/forward_%s", lname, base) >= (int)sizeof path)
        return kerr(c, lname, "its variable names would be longer than %s bytes", NAME_CAP_TEXT);
    kshape fo, bo;
    if ((s = layer_vars(c, icls, path, icfg, in, &fo)))
        return s;
    json_t *bl = json_object_get(cfg, "backward_layer");
    const char *bcls = icls;
    json_t *bcfg = icfg;
    if (json_is_object(bl)) {
        bcls = json_string_value(json_object_get(bl, "class_name"));
        bcfg = json_object_get(bl, "config");
        const char *bname = json_string_value(json_object_get(bcfg, "name"));
        if (!bcls || !json_is_object(bcfg) || !bname)
            return kerr(c, lname, "backward_layer needs class_name and config.name%s", NULL);
        if (snprintf(path, sizeof path, "%s/%s", lname, bname) >= (int)sizeof path)
            return kerr(c, lname, "its variable names would be longer than %s bytes", NAME_CAP_TEXT);
    } else {
        if (snprintf(path, sizeof path, "%s/backward_%s", lname, base) >= (int)sizeof path)
            return kerr(c, lname, "its variable names would be longer than %s bytes", NAME_CAP_TEXT);
    }
    if ((s = layer_vars(c, bcls, path, bcfg, in, &bo)))
        return s;
    *out = fo;
    const char *merge = json_string_value(json_object_get(cfg, "merge_mode"));
    if (!merge)
        merge = json_is_null(json_object_get(cfg, "merge_mode")) ? "none" : "concat";
    if (!strcmp(merge, "concat"))
        out->d[out->ndim - 1] = fo.d[fo.ndim - 1] + bo.d[bo.ndim - 1];
    return NNINIT_OK;
}

/* SpectralNormalization(layer) (keras/src/layers/normalization/
 * spectral_normalization.py build): Wrapper.build builds the inner layer in
 * the wrapper's name scope ("<sn>/<inner>/kernel", "<sn>/<inner>/bias"),
 * then `self.kernel = self.layer.kernel` (or `.embeddings`) makes the
 * tracker count that same variable among the wrapper's own trainable ones,
 * and `vector_u` (1, kernel.shape[-1]) TruncatedNormal(stddev=0.02),
 * trainable=False, follows. save_own_variables stores the wrapper's own
 * list, so a .weights.h5 holds the kernel twice (vars/0 of the wrapper,
 * vars/0 of its `layer`): nninit lists it as "<sn>/kernel", the same
 * variable (same values, overridden with it). */
static nninit_status spectral_vars(kctx *c, const char *lname, json_t *cfg, const kshape *in, kshape *out)
{
    const char *icls, *iname;
    json_t *icfg;
    nninit_status ws = wrapped_layer(c, lname, cfg, &icls, &icfg, &iname);
    if (ws != NNINIT_OK)
        return ws;
    json_t *pi = json_object_get(cfg, "power_iterations");
    if (pi && !(json_is_integer(pi) && json_integer_value(pi) >= 1))
        return kerr(c, lname, "power_iterations must be an integer >= 1 (Keras: should be greater than zero)%s",
                    NULL);
    /* the layers with a `kernel` or `embeddings` variable nninit builds (Keras raises for the others:
     * "object has no attribute 'kernel' nor 'embeddings'") */
    static const char *const with_kernel[] = {"Dense", "EinsumDense", "Conv1D", "Conv2D", "Conv3D",
                                              "Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose", "Embedding",
                                              NULL};
    int ok = 0;
    for (int i = 0; with_kernel[i]; i++)
        ok |= !strcmp(icls, with_kernel[i]);
    if (!ok)
        return kerr(c, lname, "SpectralNormalization needs a layer with a kernel or embeddings variable (Dense, "
                    "EinsumDense, Conv1D/2D/3D, Conv1D/2D/3DTranspose, Embedding)%s", NULL);
    json_t *lr = json_object_get(icfg, "lora_rank");
    if (lr && !json_is_null(lr))
        return kerr(c, lname, "SpectralNormalization of a layer with lora_rank: its kernel is then the LoRA sum, "
                    "not a variable, and Keras cannot normalize it; drop lora_rank%s", NULL);
    char path[NAME_CAP], kname[NAME_CAP];
    if (snprintf(path, sizeof path, "%s/%s", lname, iname) >= (int)sizeof path ||
        snprintf(kname, sizeof kname, "%s%s/%s", c->prefix, path, strcmp(icls, "Embedding") ? "kernel" :
                 "embeddings") >= (int)sizeof kname)
        return kerr(c, lname, "its variable names would be longer than %s bytes", NAME_CAP_TEXT);
    nninit_status s = layer_vars(c, icls, path, icfg, in, out);
    if (s)
        return s;
    size_t k;
    if (!nninit__model_find(c->m, kname, &k))
        return kerr(c, lname, "the wrapped layer made no kernel%s", NULL);
    nninit__mtensor *alias;
    nninit__mtensor kern = c->m->t[k]; /* by value: adding may move the table */
    if (snprintf(kname, sizeof kname, "%s%s/kernel", c->prefix, lname) >= (int)sizeof kname)
        return kerr(c, lname, "its variable names would be longer than %s bytes", NAME_CAP_TEXT);
    if ((s = nninit__model_add(c->m, kname, &kern.shape, kern.layout, &kern.init, kern.spec, &alias, c->err)))
        return s;
    alias->copy_of = alias->copy_stream = (int64_t)k;
    alias->same_variable = 1;
    c->m->has_copies = 1;
    int64_t u[2] = {1, kern.shape.dim[kern.shape.ndim - 1]};
    return add_var(c, lname, "vector_u", NULL, NULL, "TruncatedNormal(stddev=0.02)", 2, u, NULL);
}

/* MultiHeadAttention: EinsumDense sublayers query/key/value/attention_output
 * (keras/src/layers/attention/multi_head_attention.py build). */
static nninit_status mha_vars(kctx *c, const char *lname, json_t *cfg, const kshape *q, const kshape *v,
                              const kshape *k, kshape *out)
{
    int64_t heads, kdim, vdim;
    nninit_status s;
    if ((s = cfg_size(c, lname, "MultiHeadAttention", cfg, "num_heads", 0, &heads)) ||
        (s = cfg_size(c, lname, "MultiHeadAttention", cfg, "key_dim", 0, &kdim)) ||
        (s = cfg_size(c, lname, "MultiHeadAttention", cfg, "value_dim", kdim, &vdim)))
        return s;
    int bias = cfg_bool(cfg, "use_bias", 1);
    if (q->ndim < 2 || v->ndim < 2 || k->ndim < 2)
        return kerr(c, lname, "needs query/value shapes of rank >= 2%s", NULL);
    int64_t qd = q->d[q->ndim - 1], vd = v->d[v->ndim - 1], kd = k->d[k->ndim - 1];
    int64_t odim = qd;
    json_t *os = json_object_get(cfg, "output_shape");
    if (json_is_integer(os))
        odim = json_integer_value(os);
    else if (json_is_array(os) && json_array_size(os) == 1)
        odim = json_integer_value(json_array_get(os, 0));
    else if (os && !json_is_null(os))
        return kerr(c, lname, "multi-axis output_shape is not supported%s", NULL);
    struct { const char *name; int64_t in, last; } proj[3] = {{"query", qd, kdim}, {"key", kd, kdim},
                                                               {"value", vd, vdim}};
    char path[64];
    /* _build_proj_equation: query/key/value "...c,cde->...de" (kernel axis 0 bound to the input, 1-2 to the
     * output), attention_output "...cd,cde->...e" (0-1 input, 2 output); _analyze_split_string's axes */
    const einsum_axes proj_ax = {1, 2, {0}, {1, 2}}, out_ax = {2, 1, {0, 1}, {2}};
    for (int i = 0; i < 3; i++) {
        int64_t kdims[3] = {proj[i].in, heads, proj[i].last}, bdims[2] = {heads, proj[i].last};
        snprintf(path, sizeof path, "%s/kernel", proj[i].name);
        if ((s = add_var_axes(c, lname, path, cfg, "kernel_initializer", "glorot_uniform", 3, kdims, &proj_ax,
                              NULL)))
            return s;
        snprintf(path, sizeof path, "%s/bias", proj[i].name);
        if (bias && (s = add_var(c, lname, path, cfg, "bias_initializer", "zeros", 2, bdims, NULL)))
            return s;
    }
    int64_t okd[3] = {heads, vdim, odim};
    if ((s = add_var_axes(c, lname, "attention_output/kernel", cfg, "kernel_initializer", "glorot_uniform", 3, okd,
                          &out_ax, NULL)))
        return s;
    if (bias && (s = add_var(c, lname, "attention_output/bias", cfg, "bias_initializer", "zeros", 1, &odim, NULL)))
        return s;
    *out = *q;
    out->d[out->ndim - 1] = odim;
    return NNINIT_OK;
}

static nninit_status remember(kctx *c, const char *name, const kshape *out)
{
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 16;
        char **nm = realloc(c->names, cap * sizeof *nm);
        if (!nm)
            return nninit__err(c->err, NNINIT_ENOMEM, "out of memory");
        c->names = nm;
        kshape *o = realloc(c->outs, cap * sizeof *o);
        if (!o)
            return nninit__err(c->err, NNINIT_ENOMEM, "out of memory");
        c->outs = o;
        c->cap = cap;
    }
    if (!(c->names[c->n] = nninit__strdup(name)) || nninit__strmap_put(&c->by_name, c->names[c->n], c->n)) {
        free(c->names[c->n]);
        return nninit__err(c->err, NNINIT_ENOMEM, "out of memory");
    }
    c->outs[c->n++] = *out;
    return NNINIT_OK;
}

static const kshape *lookup(const kctx *c, const char *name)
{
    size_t i;
    return nninit__strmap_get(&c->by_name, name, &i) ? &c->outs[i] : NULL;
}

/* The input shapes of a functional layer from its inbound_nodes: Keras 3
 * ({"args": [{"class_name": "__keras_tensor__", "config": {"shape": ...,
 * "keras_history": [layer, node, index]}}]}) or Keras 2 ([[[layer, 0, 0, {}]]]). */
static int inbound_shapes(const kctx *c, json_t *layer, kshape *shapes, int max)
{
    json_t *nodes = json_object_get(layer, "inbound_nodes");
    if (!json_is_array(nodes) || json_array_size(nodes) == 0)
        return 0;
    json_t *node = json_array_get(nodes, 0);
    int n = 0;
    if (json_is_object(node)) {
        json_t *args = json_object_get(node, "args");
        /* args may nest lists ([[a, b]] for Add/Concatenate) */
        json_t *flat[16];
        int nf = 0;
        for (size_t i = 0; i < json_array_size(args) && nf < 16; i++) {
            json_t *a = json_array_get(args, i);
            if (json_is_array(a))
                for (size_t j = 0; j < json_array_size(a) && nf < 16; j++)
                    flat[nf++] = json_array_get(a, j);
            else
                flat[nf++] = a;
        }
        json_t *kw = json_object_get(node, "kwargs");
        json_t *kv = json_object_get(kw, "value"), *kk = json_object_get(kw, "key");
        if (kv && nf < 16)
            flat[nf++] = kv;
        if (kk && nf < 16)
            flat[nf++] = kk;
        for (int i = 0; i < nf && n < max; i++) {
            json_t *cfg = json_object_get(flat[i], "config");
            json_t *hist = json_object_get(cfg, "keras_history");
            const kshape *known = json_is_array(hist) ? lookup(c, json_string_value(json_array_get(hist, 0)) ?
                                                                      json_string_value(json_array_get(hist, 0)) : "")
                                                      : NULL;
            if (get_shape(json_object_get(cfg, "shape"), &shapes[n]))
                n++;
            else if (known)
                shapes[n++] = *known;
        }
        return n;
    }
    for (size_t i = 0; i < json_array_size(node) && n < max; i++) {
        const char *src = json_string_value(json_array_get(json_array_get(node, i), 0));
        const kshape *known = src ? lookup(c, src) : NULL;
        if (!known)
            return 0;
        shapes[n++] = *known;
    }
    return n;
}

static nninit_status do_layer(kctx *c, json_t *layer, const kshape *prev, int have_prev, kshape *out,
                              int functional);

/* The layers of one Sequential or Functional model, in config order; *out
 * gets the model's output shape (the last layer's; a Functional model's
 * first output layer's). `in`: the shape the model is called on, if known. */
static nninit_status model_layers(kctx *c, json_t *cfg, int functional, const kshape *in, kshape *out)
{
    json_t *layers = json_object_get(cfg, "layers");
    kshape prev = {0, {0}};
    int have_prev = 0;
    nninit_status s = NNINIT_OK;
    if (json_array_size(layers) > NNINIT__MODEL_MAX_LAYERS) /* a nested model's too */
        return nninit__model_cap_err(c->err, "keras model", "the number of layers", json_array_size(layers),
                                     NNINIT__MODEL_MAX_LAYERS);
    if (!functional && get_shape(json_object_get(cfg, "build_input_shape"), &prev))
        have_prev = 1;
    else if (!functional && in) {
        prev = *in;
        have_prev = 1;
    }
    for (size_t i = 0; i < json_array_size(layers) && !s; i++) {
        kshape o;
        size_t first = c->m->n;
        s = do_layer(c, json_array_get(layers, i), &prev, have_prev, &o, functional);
        if (!s) /* layer metadata for nninit advise (model_keras_meta.c); a nested model's layers first */
            s = nninit__keras_tag_layer(c->m, first, json_array_get(layers, i), c->err);
        prev = o;
        have_prev = 1;
    }
    *out = prev;
    if (!s && functional) {
        json_t *outs = json_object_get(cfg, "output_layers");
        json_t *o0 = json_is_string(json_array_get(outs, 0)) ? outs : json_array_get(outs, 0);
        const kshape *k = lookup(c, json_string_value(json_array_get(o0, 0)) ? json_string_value(json_array_get(o0, 0))
                                                                               : "");
        if (k)
            *out = *k;
    }
    return s;
}

/* A Sequential or Functional model used as a layer (keras/src/models): its
 * layers are built as they are at the top, their variables named under the
 * model's name ("block/dense/kernel"). */
static nninit_status nested_model(kctx *c, const char *cls, const char *lname, json_t *cfg, const kshape *in,
                                  kshape *out)
{
    if (c->depth >= 8)
        return kerr(c, lname, "models nest more than 8 deep%s", NULL);
    kctx sub;
    memset(&sub, 0, sizeof sub);
    sub.m = c->m;
    sub.err = c->err;
    sub.einsum_axes = c->einsum_axes;
    sub.depth = c->depth + 1;
    if ((size_t)snprintf(sub.prefix, sizeof sub.prefix, "%s%s/", c->prefix, lname) >= sizeof sub.prefix)
        return kerr(c, lname, "nested model names longer than 255 bytes%s", NULL);
    nninit_status s = model_layers(&sub, cfg, strcmp(cls, "Sequential") != 0, in, out);
    nninit__strmap_free(&sub.by_name);
    for (size_t i = 0; i < sub.n; i++)
        free(sub.names[i]);
    free(sub.names);
    free(sub.outs);
    return s;
}

static nninit_status do_layer(kctx *c, json_t *layer, const kshape *prev, int have_prev, kshape *out,
                              int functional)
{
    const char *cls = json_string_value(json_object_get(layer, "class_name"));
    json_t *cfg = json_object_get(layer, "config");
    const char *lname = json_string_value(json_object_get(cfg, "name"));
    if (!lname)
        lname = json_string_value(json_object_get(layer, "name"));
    if (!cls || !json_is_object(cfg) || !lname)
        return nninit__err(c->err, NNINIT_EINVAL, "keras model: a layer lacks class_name, config or name");
    if (json_object_get(cfg, "function") || !strcmp(cls, "Lambda"))
        return kerr(c, lname, "Lambda layers hold code, which nninit never runs%s", NULL);
    kshape ins[8];
    int n_in = 0;
    json_t *bc = json_object_get(json_object_get(layer, "build_config"), "input_shape");
    if (!strcmp(cls, "InputLayer")) {
        json_t *bs = json_object_get(cfg, "batch_shape");
        if (!bs)
            bs = json_object_get(cfg, "batch_input_shape");
        if (!get_shape(bs, out))
            return kerr(c, lname, "InputLayer needs batch_shape%s", NULL);
        return remember(c, lname, out);
    }
    if (functional)
        n_in = inbound_shapes(c, layer, ins, 8);
    if (n_in == 0 && get_shape(bc, &ins[0]))
        n_in = 1;
    if (n_in == 0 && !functional && have_prev) {
        ins[0] = *prev;
        n_in = 1;
    }
    if (n_in == 0) {
        json_t *bis = json_object_get(cfg, "batch_input_shape");
        if (!bis)
            bis = json_object_get(cfg, "batch_shape");
        if (get_shape(bis, &ins[0]))
            n_in = 1;
    }
    if (!strcmp(cls, "Sequential") || !strcmp(cls, "Functional") || !strcmp(cls, "Model")) {
        if (!json_is_array(json_object_get(cfg, "layers")))
            return kerr(c, lname, "a model used as a layer needs its config's \"layers\" list%s", NULL);
        nninit_status s = nested_model(c, cls, lname, cfg, n_in ? &ins[0] : NULL, out);
        return s ? s : remember(c, lname, out);
    }
    if (!strcmp(cls, "MultiHeadAttention")) {
        json_t *mb = json_object_get(layer, "build_config");
        if (json_object_get(mb, "shapes_dict")) /* Keras 3 get_build_config with several shapes */
            mb = json_object_get(mb, "shapes_dict");
        kshape q, v, k;
        if (get_shape(json_object_get(mb, "query_shape"), &q) && get_shape(json_object_get(mb, "value_shape"), &v)) {
            if (!get_shape(json_object_get(mb, "key_shape"), &k))
                k = v;
        } else if (n_in >= 2) {
            q = ins[0];
            v = ins[1];
            k = n_in >= 3 ? ins[2] : v;
        } else {
            return kerr(c, lname, "cannot tell the query and value shapes (no build_config, no inbound nodes)%s",
                        NULL);
        }
        nninit_status s = mha_vars(c, lname, cfg, &q, &v, &k, out);
        return s ? s : remember(c, lname, out);
    }
    if (n_in == 0)
        return kerr(c, lname, "its input shape is unknown; add an InputLayer or build the model before saving%s",
                    NULL);
    if (!strcmp(cls, "Add") || !strcmp(cls, "Subtract") || !strcmp(cls, "Multiply") || !strcmp(cls, "Average") ||
        !strcmp(cls, "Maximum") || !strcmp(cls, "Minimum")) {
        *out = ins[0];
        return remember(c, lname, out);
    }
    if (!strcmp(cls, "Concatenate")) {
        *out = ins[0];
        int64_t ax = cfg_int(cfg, "axis", -1);
        int a = (int)(ax < 0 ? out->ndim + ax : ax);
        if (a < 0 || a >= out->ndim)
            return kerr(c, lname, "axis out of range%s", NULL);
        for (int i = 1; i < n_in; i++) {
            if (ins[i].ndim != out->ndim)
                return kerr(c, lname, "inputs of different ranks%s", NULL);
            out->d[a] = out->d[a] < 0 || ins[i].d[a] < 0 ? UNKNOWN : out->d[a] + ins[i].d[a];
        }
        return remember(c, lname, out);
    }
    if (!strcmp(cls, "Bidirectional") || !strcmp(cls, "TimeDistributed")) {
        nninit_status s = wrapper_vars(c, cls, lname, cfg, &ins[0], out);
        return s ? s : remember(c, lname, out);
    }
    if (!strcmp(cls, "SpectralNormalization")) {
        nninit_status s = spectral_vars(c, lname, cfg, &ins[0], out);
        return s ? s : remember(c, lname, out);
    }
    nninit_status s = layer_vars(c, cls, lname, cfg, &ins[0], out);
    return s ? s : remember(c, lname, out);
}

/* "3.14.0" -> 1 when the EinsumDense axes rule applies (>= 3.15); -1 when unreadable. */
static int einsum_axes_rule(const char *version)
{
    int major = 0, minor = 0;
    if (sscanf(version, "%d.%d", &major, &minor) < 1 || major < 1)
        return -1;
    return major > 3 || (major == 3 && minor >= 15);
}

static nninit_status keras_version_rule(const char *version, const char *where, int *rule, nninit_err *err)
{
    int r = einsum_axes_rule(version);
    if (r < 0)
        return nninit__err(err, NNINIT_EINVAL, "%s: keras version '%.40s' is not a version number such as 3.14",
                           where, version);
    *rule = r;
    return NNINIT_OK;
}

/* version: the caller's choice, else the JSON's "keras_version" (Keras 2 to_json writes it), else the newest. */
static nninit_status from_keras(const char *text, const char *version, nninit_model **out, nninit_err *err)
{
    if (!text || !out)
        return nninit__err(err, NNINIT_EMISUSE, "nninit_model_from_keras: json and out must not be NULL");
    *out = NULL;
    json_error_t je;
    json_t *root = json_loads(text, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return nninit__err(err, NNINIT_EINVAL, "keras model JSON: %s (line %d, column %d)", je.text, je.line,
                           je.column);
    nninit_status s = NNINIT_OK;
    kctx c;
    memset(&c, 0, sizeof c);
    c.err = err;
    c.einsum_axes = 1;
    const char *recorded = json_string_value(json_object_get(root, "keras_version"));
    if (version || recorded) {
        s = keras_version_rule(version ? version : recorded, version ? "--keras-version" : "keras model JSON",
                               &c.einsum_axes, err);
        if (s) {
            json_decref(root);
            return s;
        }
    }
    const char *cls = json_string_value(json_object_get(root, "class_name"));
    json_t *cfg = json_object_get(root, "config");
    json_t *layers = json_object_get(cfg, "layers");
    if (!cls || !json_is_array(layers)) {
        s = nninit__err(err, NNINIT_EINVAL, "keras model JSON: expected {\"class_name\": \"Sequential\" or "
                        "\"Functional\", \"config\": {\"layers\": [...]}}");
        goto done;
    }
    int functional = strcmp(cls, "Sequential") != 0;
    if (json_array_size(layers) > NNINIT__MODEL_MAX_LAYERS) {
        s = nninit__model_cap_err(err, "keras model", "the number of layers", json_array_size(layers),
                                  NNINIT__MODEL_MAX_LAYERS);
        goto done;
    }
    c.m = nninit__model_new("keras", json_string_value(json_object_get(cfg, "name")));
    if (!c.m) {
        s = nninit__err(err, NNINIT_ENOMEM, "out of memory");
        goto done;
    }
    /* Sequential: build_input_shape (or the first layer's) starts the chain. */
    kshape model_out;
    s = model_layers(&c, cfg, functional, NULL, &model_out);
    if (!s)
        s = nninit__keras_acts(c.m, layers, functional, err);
    if (!s) /* where model.save_weights puts each variable (.weights.h5) */
        s = nninit__keras_store_paths(c.m, cfg, functional, err);
    /* Names must be unique (Keras guarantees it for a valid model): each
     * variable must be the first of its name. */
    for (size_t i = 0, first; !s && i < c.m->n; i++)
        if (nninit__model_find(c.m, c.m->t[i].name, &first) && first != i)
            s = nninit__err(err, NNINIT_EINVAL, "keras model: variable '%s' appears twice (two layers share a "
                            "name)", c.m->t[i].name);
done:
    nninit__strmap_free(&c.by_name);
    for (size_t i = 0; i < c.n; i++)
        free(c.names[i]);
    free(c.names);
    free(c.outs);
    json_decref(root);
    if (s != NNINIT_OK) {
        nninit_model_free(c.m);
        return s;
    }
    *out = c.m;
    return NNINIT_OK;
}

nninit_status nninit_model_from_keras(const char *text, nninit_model **out, nninit_err *err)
{
    return from_keras(text, NULL, out, err);
}

nninit_status nninit_model_from_keras_file(const char *path, nninit_model **out, nninit_err *err)
{
    return nninit_model_from_keras_file_as(path, NULL, out, err);
}

nninit_status nninit_model_from_keras_file_as(const char *path, const char *keras_version, nninit_model **out,
                                              nninit_err *err)
{
    if (!path || !out)
        return nninit__err(err, NNINIT_EMISUSE, "nninit_model_from_keras_file: path and out must not be NULL");
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return nninit__err_open(err, errno, path);
    unsigned char head[4] = {0};
    char archive_version[32];
    size_t got = fread(head, 1, 4, f);
    char *text = NULL;
    size_t len = 0;
    nninit_status s = NNINIT_OK;
    if (got == 4 && !memcmp(head, "PK\x03\x04", 4)) {
        fclose(f);
        /* a .keras archive: config.json holds the model, metadata.json the Keras version (saving_lib.py) */
        s = nninit__zip_read_member(path, "config.json", (size_t)1 << 28, &text, &len, err);
        char *meta = NULL;
        size_t mlen = 0;
        if (s == NNINIT_OK && !keras_version &&
            nninit__zip_read_member(path, "metadata.json", (size_t)1 << 20, &meta, &mlen, NULL) == NNINIT_OK) {
            json_t *mj = json_loads(meta, 0, NULL);
            const char *v = json_string_value(json_object_get(mj, "keras_version"));
            if (v && einsum_axes_rule(v) >= 0 && snprintf(archive_version, sizeof archive_version, "%s", v) > 0)
                keras_version = archive_version;
            json_decref(mj);
        }
        free(meta);
    } else {
        /* JSON text: read it whole (model configs are small) */
        size_t cap = 1 << 16;
        text = malloc(cap);
        if (text)
            memcpy(text, head, got);
        len = got;
        while (text) {
            size_t r = fread(text + len, 1, cap - len - 1, f);
            len += r;
            if (len + 1 < cap || cap > ((size_t)1 << 28))
                break;
            char *nt = realloc(text, cap * 2);
            if (!nt) {
                free(text);
                text = NULL;
                break;
            }
            text = nt;
            cap *= 2;
        }
        int bad = ferror(f) || (text && len + 1 >= cap);
        fclose(f);
        if (!text || bad) {
            free(text);
            return nninit__err(err, text ? NNINIT_EIO : NNINIT_ENOMEM, "%s: cannot read the model JSON", path);
        }
        text[len] = '\0';
    }
    if (s == NNINIT_OK)
        s = from_keras(text, keras_version, out, err);
    char *desc = s == NNINIT_OK ? nninit__strdup(path) : NULL;
    if (desc) {
        free((*out)->description);
        (*out)->description = desc;
    }
    free(text);
    return s;
}
