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

nninit_status nninit_model_mlp(const nninit_mlp_desc *mlp, nninit_layer_desc **layers, int *n_layers, nninit_err *err)
{
    if (!mlp || !layers || !n_layers)
        return nninit__err(err, NNINIT_EMISUSE, "nninit_model_mlp: NULL argument");
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

static nninit_status parse_layer(json_t *obj, int idx, nninit_layer_desc *d, int *skip, nninit_err *err)
{
    char what[64];
    snprintf(what, sizeof what, "model layer %d", idx);
    *skip = 0;
    if (!json_is_object(obj))
        return nninit__err(err, NNINIT_EINVAL, "%s: expected an object with class_name", what);
    json_t *cls = json_object_get(obj, "class_name");
    if (!cls)
        cls = json_object_get(obj, "type");
    if (!json_is_string(cls))
        return nninit__err(err, NNINIT_EINVAL, "%s: missing \"class_name\"; expected Dense, Activation, "
                           "BatchNormalization or Dropout", what);
    const char *c = json_string_value(cls);
    json_t *cfg = json_object_get(obj, "config");
    int flat = !json_is_object(cfg);
    if (flat)
        cfg = obj;
    if (name_is(c, "InputLayer", "input", NULL)) {
        *skip = 1;
        return NNINIT_OK;
    }
    if (name_is(c, "Dense", NULL, NULL))
        *d = nninit_layer_desc_default(NNINIT_LAYER_DENSE);
    else if (name_is(c, "Activation", NULL, NULL))
        *d = nninit_layer_desc_default(NNINIT_LAYER_ACTIVATION);
    else if (name_is(c, "BatchNormalization", "batch_normalization", "batchnorm"))
        *d = nninit_layer_desc_default(NNINIT_LAYER_BATCHNORM);
    else if (name_is(c, "Dropout", NULL, NULL))
        *d = nninit_layer_desc_default(NNINIT_LAYER_DROPOUT);
    else
        return nninit__err(err, NNINIT_EUNSUPPORTED, "%s: layer class '%.64s' is not supported; expected Dense, "
                           "Activation, BatchNormalization or Dropout", what, c);
    snprintf(what, sizeof what, "model layer %d (%.24s)", idx, c);
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
        if (!strcmp(key, "activation") && (d->kind == NNINIT_LAYER_DENSE || d->kind == NNINIT_LAYER_ACTIVATION)) {
            if (json_is_null(v))
                d->act = NNINIT_ACT_LINEAR;
            else if (!json_is_string(v))
                s = nninit__err(err, NNINIT_EINVAL, "%s: activation must be a name such as \"relu\"", what);
            else
                s = nninit_act_parse(json_string_value(v), &d->act, &d->alpha, err);
        } else if (d->kind == NNINIT_LAYER_DENSE && !strcmp(key, "units")) {
            double u = 0.0;
            s = get_num(v, &u, what, err);
            if (s == NNINIT_OK && !(u >= 1.0 && u <= 16777216.0 && u == floor(u)))
                s = nninit__err(err, NNINIT_EINVAL, "%s: units %g; expected an integer in 1 .. 16777216", what, u);
            d->units = (int64_t)u;
            has_units = 1;
        } else if (d->kind == NNINIT_LAYER_DENSE && !strcmp(key, "use_bias")) {
            if (!json_is_boolean(v))
                s = nninit__err(err, NNINIT_EINVAL, "%s: use_bias must be true or false", what);
            d->use_bias = json_is_true(v);
        } else if (d->kind == NNINIT_LAYER_DENSE && !strcmp(key, "kernel_initializer")) {
            s = get_init(v, d->kernel_init, what, err);
        } else if (d->kind == NNINIT_LAYER_DENSE && !strcmp(key, "bias_initializer")) {
            s = get_init(v, d->bias_init, what, err);
        } else if (d->kind == NNINIT_LAYER_BATCHNORM && !strcmp(key, "gamma_initializer")) {
            s = get_init(v, d->gamma_init, what, err);
        } else if (d->kind == NNINIT_LAYER_BATCHNORM && !strcmp(key, "beta_initializer")) {
            s = get_init(v, d->beta_init, what, err);
        } else if (d->kind == NNINIT_LAYER_BATCHNORM && !strcmp(key, "momentum")) {
            s = get_num(v, &d->momentum, what, err);
        } else if (d->kind == NNINIT_LAYER_BATCHNORM && !strcmp(key, "epsilon")) {
            s = get_num(v, &d->epsilon, what, err);
        } else if (d->kind == NNINIT_LAYER_BATCHNORM && (!strcmp(key, "center") || !strcmp(key, "scale"))) {
            if (!json_is_true(v))
                s = nninit__err(err, NNINIT_EUNSUPPORTED, "%s: %s=false is not supported; gamma and beta are always "
                                "trained", what, key);
        } else if (d->kind == NNINIT_LAYER_BATCHNORM && !strcmp(key, "axis")) {
            if (!json_is_integer(v) || (json_integer_value(v) != -1 && json_integer_value(v) != 1))
                s = nninit__err(err, NNINIT_EUNSUPPORTED, "%s: axis must be -1 (the feature axis)", what);
        } else if (d->kind == NNINIT_LAYER_BATCHNORM && (!strcmp(key, "moving_mean_initializer") ||
                                                         !strcmp(key, "moving_variance_initializer"))) {
            /* the running statistics start at Keras' defaults; other values are refused, not ignored */
            const char *want = key[7] == 'm' ? "zeros" : "ones";
            const char *got = json_is_string(v) ? json_string_value(v)
                              : json_is_object(v) && json_is_string(json_object_get(v, "class_name"))
                                  ? json_string_value(json_object_get(v, "class_name"))
                                  : "";
            if (strcasecmp_ascii(got, want))
                s = nninit__err(err, NNINIT_EUNSUPPORTED, "%s: %s must be \"%s\"", what, key, want);
        } else if (d->kind == NNINIT_LAYER_DROPOUT && !strcmp(key, "rate")) {
            s = get_num(v, &d->rate, what, err);
        } else if (!ignorable(key, v)) {
            s = nninit__err(err, NNINIT_EINVAL, "%s: unknown key '%.64s'", what, key);
        }
        if (s != NNINIT_OK)
            return s;
    }
    if (d->kind == NNINIT_LAYER_DENSE && !has_units)
        return nninit__err(err, NNINIT_EINVAL, "%s: missing \"units\"", what);
    return NNINIT_OK;
}

nninit_status nninit_model_parse_json(const char *text, nninit_layer_desc **layers, int *n_layers, nninit_err *err)
{
    if (!text || !layers || !n_layers)
        return nninit__err(err, NNINIT_EMISUSE, "nninit_model_parse_json: NULL argument");
    *layers = NULL;
    *n_layers = 0;
    json_error_t je;
    json_t *root = json_loads(text, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return nninit__err(err, NNINIT_EINVAL, "model JSON: %s at line %d, column %d", je.text, je.line, je.column);
    json_t *list = root;
    if (json_is_object(root)) {
        list = json_object_get(root, "layers");
        json_t *cfg = json_object_get(root, "config");
        if (!list && json_is_object(cfg))
            list = json_object_get(cfg, "layers");
    }
    nninit_status s = NNINIT_OK;
    size_t n = json_is_array(list) ? json_array_size(list) : 0;
    if (!json_is_array(list) || n == 0 || n > MAX_LAYERS) {
        json_decref(root);
        return nninit__err(err, NNINIT_EINVAL, "model JSON: expected a list of 1 .. %d layers, or an object with "
                           "\"layers\"", MAX_LAYERS);
    }
    nninit_layer_desc *L = nninit__malloc_array(n, sizeof *L);
    if (!L) {
        json_decref(root);
        return nninit__err(err, NNINIT_ENOMEM, "model JSON: out of memory");
    }
    int k = 0;
    for (size_t i = 0; i < n && s == NNINIT_OK; i++) {
        int skip = 0;
        s = parse_layer(json_array_get(list, i), (int)i, &L[k], &skip, err);
        if (s == NNINIT_OK && !skip)
            k++;
    }
    json_decref(root);
    if (s == NNINIT_OK && k == 0)
        s = nninit__err(err, NNINIT_EINVAL, "model JSON: no layers besides InputLayer; expected at least one");
    if (s != NNINIT_OK) {
        free(L);
        return s;
    }
    *layers = L;
    *n_layers = k;
    return NNINIT_OK;
}
