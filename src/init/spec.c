/*
 * Initializer SPEC parsing (names, keyword calls, Keras serialized JSON,
 * @file) and serialization back to Keras 3 JSON. Keyword names, positional
 * order and config keys follow each reference class's constructor and
 * get_config (keras/src/initializers/, torch/nn/init.py).
 */
#include "init/internal.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef NNINIT_HAVE_JANSSON
#include <jansson.h>
#endif

typedef enum ptype {
    P_NUM, P_MODE, P_DIST, P_NL, P_INT, P_SEED, P_AXES_IN, P_AXES_OUT, P_NONE_ONLY,
    P_SIDE, P_WINDOW, P_SCALING, P_BOOL /* STFT's */, P_SLOPE /* kaiming's a: a number or None */
} ptype;

typedef struct param {
    const char *name;
    ptype type;
    size_t offset; /* of the double / enum / int64 field (unused for seed/axes) */
    int flag;      /* 1: sets has_value, 2: sets has_sparsity */
} param;

#define F(field) offsetof(nninit_init, field)
#define END {NULL, P_NUM, 0, 0}

static const param P_RANDOM_NORMAL[] = {{"mean", P_NUM, F(mean), 0}, {"stddev", P_NUM, F(stddev), 0}, {"seed", P_SEED, 0, 0}, END};
static const param P_RANDOM_UNIFORM[] = {{"minval", P_NUM, F(minval), 0}, {"maxval", P_NUM, F(maxval), 0}, {"seed", P_SEED, 0, 0}, END};
static const param P_CONSTANT[] = {{"value", P_NUM, F(value), 1}, END};
static const param P_NONE[] = {END};
static const param P_VS[] = {{"scale", P_NUM, F(scale), 0},        {"mode", P_MODE, F(mode), 0},
                             {"distribution", P_DIST, F(distribution), 0}, {"seed", P_SEED, 0, 0},
                             {"input_axes", P_AXES_IN, 0, 0},      {"output_axes", P_AXES_OUT, 0, 0}, END};
static const param P_FIXED_VS[] = {{"seed", P_SEED, 0, 0}, {"input_axes", P_AXES_IN, 0, 0}, {"output_axes", P_AXES_OUT, 0, 0}, END};
static const param P_ORTHOGONAL[] = {{"gain", P_NUM, F(gain), 0}, {"seed", P_SEED, 0, 0}, END};
static const param P_IDENTITY[] = {{"gain", P_NUM, F(gain), 0}, END};
/* torch.nn.init: the tensor argument is implicit; generator=None accepted (2.x) */
static const param P_T_UNIFORM[] = {{"a", P_NUM, F(minval), 0}, {"b", P_NUM, F(maxval), 0}, {"generator", P_NONE_ONLY, 0, 0}, END};
static const param P_T_NORMAL[] = {{"mean", P_NUM, F(mean), 0}, {"std", P_NUM, F(stddev), 0}, {"generator", P_NONE_ONLY, 0, 0}, END};
static const param P_T_TRUNC[] = {{"mean", P_NUM, F(mean), 0}, {"std", P_NUM, F(stddev), 0}, {"a", P_NUM, F(a), 0},
                                  {"b", P_NUM, F(b), 0}, {"generator", P_NONE_ONLY, 0, 0}, END};
static const param P_T_CONSTANT[] = {{"val", P_NUM, F(value), 1}, END};
static const param P_T_DIRAC[] = {{"groups", P_INT, F(groups), 0}, END};
static const param P_T_XAVIER[] = {{"gain", P_NUM, F(gain), 0}, {"generator", P_NONE_ONLY, 0, 0}, END};
static const param P_T_KAIMING[] = {{"a", P_SLOPE, F(neg_slope), 0}, {"mode", P_MODE, F(mode), 0},
                                    {"nonlinearity", P_NL, F(nonlinearity), 0}, {"generator", P_NONE_ONLY, 0, 0}, END};
static const param P_T_ORTHOGONAL[] = {{"gain", P_NUM, F(gain), 0}, {"generator", P_NONE_ONLY, 0, 0}, END};
static const param P_DELTA[] = {{"gain", P_NUM, F(gain), 0}, END};
static const param P_SCALED_RES[] = {{"stddev", P_NUM, F(stddev), 0}, {"num_layers", P_INT, F(num_layers), 0},
                                     {"branches", P_INT, F(branches), 0}, END};
static const param P_FIXUP[] = {{"num_layers", P_INT, F(num_layers), 0}, {"m", P_INT, F(fixup_m), 0}, END};
static const param P_STFT[] = {{"side", P_SIDE, 0, 0}, {"window", P_WINDOW, 0, 0}, {"scaling", P_SCALING, 0, 0},
                               {"periodic", P_BOOL, 0, 0}, END};
static const param P_T_SPARSE[] = {{"sparsity", P_NUM, F(sparsity), 2}, {"std", P_NUM, F(stddev), 0}, {"generator", P_NONE_ONLY, 0, 0}, END};

static const param *params_of(nninit_init_kind k)
{
    switch (k) {
    case NNINIT_RANDOM_NORMAL: case NNINIT_TRUNCATED_NORMAL: return P_RANDOM_NORMAL;
    case NNINIT_RANDOM_UNIFORM: return P_RANDOM_UNIFORM;
    case NNINIT_CONSTANT: return P_CONSTANT;
    case NNINIT_VARIANCE_SCALING: return P_VS;
    case NNINIT_GLOROT_NORMAL: case NNINIT_GLOROT_UNIFORM: case NNINIT_HE_NORMAL: case NNINIT_HE_UNIFORM:
    case NNINIT_LECUN_NORMAL: case NNINIT_LECUN_UNIFORM: return P_FIXED_VS;
    case NNINIT_ORTHOGONAL: return P_ORTHOGONAL;
    case NNINIT_IDENTITY: return P_IDENTITY;
    case NNINIT_TORCH_UNIFORM: return P_T_UNIFORM;
    case NNINIT_TORCH_NORMAL: return P_T_NORMAL;
    case NNINIT_TORCH_TRUNC_NORMAL: return P_T_TRUNC;
    case NNINIT_TORCH_CONSTANT: return P_T_CONSTANT;
    case NNINIT_TORCH_DIRAC: return P_T_DIRAC;
    case NNINIT_TORCH_XAVIER_UNIFORM: case NNINIT_TORCH_XAVIER_NORMAL: return P_T_XAVIER;
    case NNINIT_TORCH_KAIMING_UNIFORM: case NNINIT_TORCH_KAIMING_NORMAL: return P_T_KAIMING;
    case NNINIT_TORCH_ORTHOGONAL: return P_T_ORTHOGONAL;
    case NNINIT_TORCH_SPARSE: return P_T_SPARSE;
    case NNINIT_DELTA_ORTHOGONAL: case NNINIT_IDENTITY_RECURRENT: return P_DELTA;
    case NNINIT_SCALED_RESIDUAL: return P_SCALED_RES;
    case NNINIT_FIXUP: return P_FIXUP;
    case NNINIT_STFT: return P_STFT;
    default: return P_NONE;
    }
}

/* ---- parameter values, from either syntax ---- */

/* V_WINDOW: a scipy window with parameters, ("kaiser", 8.0): str, then n_list
 * parameters in wparam (wnone[i]: the parameter was None) */
typedef enum vkind { V_NUM, V_STR, V_NONE, V_BOOL, V_LIST, V_WINDOW, V_NUMLIST } vkind;
typedef struct value {
    vkind kind;
    int boolean;
    double num;
    int is_int;
    int64_t i64;
    char str[64];
    int n_list;
    int64_t list[NNINIT_MAX_AXES];
    double wparam[2];
    int wnone[2];
    double *vals;   /* a list of numbers as written (a window's values); the parser frees it */
    int64_t n_vals;
} value;

/* A list of numbers kept whole (a window of values) besides its first
 * NNINIT_MAX_AXES integers (axes); vals freed by free_value. */
static nninit_status keep_values(value *v, size_t n, nninit_err *err)
{
    if (n > NNINIT_STFT_MAX_WINDOW_VALUES)
        return nninit__err(err, NNINIT_EINVAL, "a list of %zu numbers; at most %d are taken (a window's values)", n,
                           NNINIT_STFT_MAX_WINDOW_VALUES);
    v->vals = nninit__malloc_array(n + 1, sizeof *v->vals);
    if (!v->vals)
        return nninit__err(err, NNINIT_ENOMEM, "out of memory for a list of %zu numbers", n);
    v->n_vals = 0;
    return NNINIT_OK;
}

static void free_value(value *v)
{
    free(v->vals);
    v->vals = NULL;
}

static nninit_status set_param(nninit_init *in, const param *p, const value *v, nninit_err *err)
{
    const char *iname = nninit_init_kind_name(in->kind);
    char *base = (char *)in;
    switch (p->type) {
    case P_NUM:
        if (v->kind == V_LIST && (in->kind == NNINIT_CONSTANT || in->kind == NNINIT_TORCH_CONSTANT))
            return nninit__err(err, NNINIT_EINVAL,
                               "%s: argument '%s' is a list; nninit takes a scalar here (Keras would broadcast an "
                               "array against the shape, which nninit does not do)",
                               iname, p->name);
        if (v->kind != V_NUM)
            return nninit__err(err, NNINIT_EINVAL, "%s: argument '%s' must be a number", iname, p->name);
        if (!isfinite(v->num))
            return nninit__err(err, NNINIT_EINVAL, "%s: argument '%s' is %g; it must be finite", iname, p->name,
                               v->num);
        memcpy(base + p->offset, &v->num, sizeof(double));
        if (p->flag == 1)
            in->has_value = 1;
        if (p->flag == 2)
            in->has_sparsity = 1;
        return NNINIT_OK;
    case P_SLOPE: /* torch: a=None reaches calculate_gain as param=None, slope 0.01 */
        if (v->kind == V_NONE) {
            in->neg_slope = 0.0;
            in->neg_slope_none = 1;
            return NNINIT_OK;
        }
        in->neg_slope_none = 0;
        return set_param(in, &(param){p->name, P_NUM, p->offset, p->flag}, v, err);
    case P_INT: {
        if (v->kind != V_NUM || !v->is_int)
            return nninit__err(err, NNINIT_EINVAL, "%s: argument '%s' must be an integer", iname, p->name);
        memcpy(base + p->offset, &v->i64, sizeof(int64_t));
        return NNINIT_OK;
    }
    case P_MODE: {
        if (v->kind != V_STR)
            return nninit__err(err, NNINIT_EINVAL, "%s: argument 'mode' must be a string such as \"fan_in\"", iname);
        char low[64];
        size_t i = 0;
        int is_torch = in->kind >= NNINIT_TORCH_UNIFORM;
        for (; v->str[i] && i < sizeof low - 1; i++) /* torch lower-cases mode; Keras does not */
            low[i] = is_torch ? (char)tolower((unsigned char)v->str[i]) : v->str[i];
        low[i] = '\0';
        for (int m = 0; m <= NNINIT_FAN_AVG; m++)
            if (!strcmp(low, nninit_fan_mode_name((nninit_fan_mode)m)) && !(is_torch && m == NNINIT_FAN_AVG)) {
                in->mode = (nninit_fan_mode)m;
                return NNINIT_OK;
            }
        return nninit__err(err, NNINIT_EINVAL, "%s: invalid mode '%s'; use one of %s", iname, v->str,
                           is_torch ? "'fan_in', 'fan_out'" : "'fan_in', 'fan_out', 'fan_avg'");
    }
    case P_DIST: {
        if (v->kind != V_STR)
            return nninit__err(err, NNINIT_EINVAL, "%s: argument 'distribution' must be a string", iname);
        char low[64];
        size_t i = 0;
        for (; v->str[i] && i < sizeof low - 1; i++) /* Keras lower-cases distribution */
            low[i] = (char)tolower((unsigned char)v->str[i]);
        low[i] = '\0';
        if (!strcmp(low, "normal"))
            strcpy(low, "truncated_normal");
        for (int d = 0; d <= NNINIT_DIST_UNIFORM; d++)
            if (!strcmp(low, nninit_distribution_name((nninit_distribution)d))) {
                in->distribution = (nninit_distribution)d;
                return NNINIT_OK;
            }
        return nninit__err(err, NNINIT_EINVAL,
                           "%s: invalid distribution '%s'; use one of 'truncated_normal', 'untruncated_normal', "
                           "'uniform' (or 'normal')",
                           iname, v->str);
    }
    case P_NL:
        if (v->kind != V_STR)
            return nninit__err(err, NNINIT_EINVAL, "%s: argument 'nonlinearity' must be a string", iname);
        return nninit_nonlinearity_parse(v->str, &in->nonlinearity, err);
    case P_SEED:
        if (v->kind == V_NONE) {
            in->has_seed = 0;
            return NNINIT_OK;
        }
        if (v->kind != V_NUM || !v->is_int)
            return nninit__err(err, NNINIT_EINVAL, "%s: seed must be an integer or null", iname);
        in->has_seed = 1;
        in->seed = (uint64_t)v->i64;
        return NNINIT_OK;
    case P_AXES_IN:
    case P_AXES_OUT: {
        int *n = p->type == P_AXES_IN ? &in->n_input_axes : &in->n_output_axes;
        int *ax = p->type == P_AXES_IN ? in->input_axes : in->output_axes;
        if (v->kind == V_NONE) {
            *n = 0;
            return NNINIT_OK;
        }
        value one = *v;
        if (v->kind == V_NUM && v->is_int) { /* a single axis: same as a one-element list */
            one.kind = V_LIST;
            one.n_list = 1;
            one.list[0] = v->i64;
            v = &one;
        }
        if (v->kind != V_LIST || v->n_list == 0)
            return nninit__err(err, NNINIT_EINVAL, "%s: %s must be a list of axis indices or null", iname, p->name);
        for (int i = 0; i < v->n_list; i++) {
            if (v->list[i] < -NNINIT_MAX_DIMS || v->list[i] >= NNINIT_MAX_DIMS)
                return nninit__err(err, NNINIT_EINVAL, "%s: axis %" PRId64 " in %s is out of range", iname,
                                   v->list[i], p->name);
            ax[i] = (int)v->list[i];
        }
        *n = v->n_list;
        return NNINIT_OK;
    }
    case P_SIDE:
        if (v->kind != V_STR || (strcmp(v->str, "real") && strcmp(v->str, "imag")))
            return nninit__err(err, NNINIT_EINVAL, "%s: side should be 'real' or 'imag'", iname);
        in->stft_imag = !strcmp(v->str, "imag");
        return NNINIT_OK;
    case P_WINDOW: { /* what scipy.signal.get_window takes: a name, (name, params...), or a number (kaiser beta) */
        in->stft_n_window_params = 0;
        if (v->kind == V_NONE) {
            in->stft_window = NNINIT_WINDOW_NONE;
            return NNINIT_OK;
        }
        if (v->kind == V_NUM) {
            in->stft_window = NNINIT_WINDOW_KAISER;
            in->stft_n_window_params = 1;
            in->stft_window_params[0] = v->num;
            return NNINIT_OK;
        }
        if (v->kind == V_LIST || v->kind == V_NUMLIST) { /* Keras' array_like window: its values */
            if (!v->vals || v->n_vals < 1)
                return nninit__err(err, NNINIT_EINVAL, "%s: a window of values needs at least one value", iname);
            nninit_init_clear(in);
            nninit_init view = *in;
            view.stft_window_values = v->vals;
            view.stft_window_len = v->n_vals;
            view.stft_window = NNINIT_WINDOW_VALUES;
            nninit_status st = nninit__stft_window_check(&view, err);
            if (st == NNINIT_OK && (st = nninit_init_copy(in, &view, err)) == NNINIT_OK)
                in->stft_window_owned = 1;
            return st;
        }
        int w = v->kind == V_STR || v->kind == V_WINDOW ? nninit__stft_window_parse(v->str) : -1;
        if (w < 0)
            return nninit__err(err, NNINIT_EINVAL,
                               "%s: window '%s' is not supported; use None, a scipy.signal.get_window name (hann, "
                               "hamming, blackman, blackmanharris, nuttall, flattop, bartlett, triang, boxcar, cosine, "
                               "barthann, bohman, parzen, lanczos, tukey, exponential, taylor) or a tuple "
                               "(gaussian, std), (general_gaussian, p, sig), (kaiser, beta), (general_hamming, alpha)",
                               iname, v->kind == V_STR || v->kind == V_WINDOW ? v->str : "?");
        if (v->kind == V_STR && nninit__stft_window_min_params(w) > 0)
            return nninit__err(err, NNINIT_EINVAL,
                               "%s: window '%s' needs one or more parameters, as scipy says; pass a tuple such as "
                               "('%s', %s)",
                               iname, v->str, v->str, w == NNINIT_WINDOW_GENERAL_GAUSSIAN ? "1.5, 7.0" : "8.0");
        in->stft_window = w;
        if (v->kind == V_WINDOW) {
            for (int i = 0; i < v->n_list; i++) {
                if (v->wnone[i] && !(w == NNINIT_WINDOW_EXPONENTIAL && i == 0))
                    return nninit__err(err, NNINIT_EINVAL, "%s: window '%s' parameter %d is None", iname, v->str,
                                       i + 1);
                if (w == NNINIT_WINDOW_EXPONENTIAL && i == 0 && !v->wnone[0])
                    return nninit__err(err, NNINIT_EINVAL,
                                       "%s: window 'exponential': nninit supports center=None only (the centred "
                                       "window); write ('exponential', None, tau)",
                                       iname);
                in->stft_window_params[i] = v->wparam[i];
            }
            in->stft_n_window_params = v->n_list;
        }
        return nninit__stft_window_check(in, err);
    }
    case P_SCALING:
        if (v->kind == V_NONE)
            in->stft_scaling = 0;
        else if (v->kind == V_STR && !strcmp(v->str, "density"))
            in->stft_scaling = 1;
        else if (v->kind == V_STR && !strcmp(v->str, "spectrum"))
            in->stft_scaling = 2;
        else
            return nninit__err(err, NNINIT_EINVAL, "%s: scaling must be None, 'density' or 'spectrum'", iname);
        return NNINIT_OK;
    case P_BOOL:
        if (v->kind != V_BOOL)
            return nninit__err(err, NNINIT_EINVAL, "%s: argument '%s' must be True or False", iname, p->name);
        in->stft_periodic = v->boolean;
        return NNINIT_OK;
    case P_NONE_ONLY:
        if (v->kind != V_NONE)
            return nninit__err(err, NNINIT_EINVAL,
                               "%s: argument '%s' can only be None here; nninit draws from its own generator", iname,
                               p->name);
        return NNINIT_OK;
    }
    return NNINIT_EINVAL;
}

static nninit_status set_named(nninit_init *in, const char *key, const value *v, unsigned *seen, nninit_err *err)
{
    const param *ps = params_of(in->kind);
    for (int i = 0; ps[i].name; i++)
        if (!strcmp(ps[i].name, key)) {
            if (*seen & (1u << i))
                return nninit__err(err, NNINIT_EINVAL, "%s: argument '%s' given twice", nninit_init_kind_name(in->kind),
                                   key);
            *seen |= 1u << i;
            return set_param(in, &ps[i], v, err);
        }
    char list[200] = "";
    size_t len = 0;
    for (int i = 0; ps[i].name; i++)
        len += (size_t)snprintf(list + len, len < sizeof list ? sizeof list - len : 0, "%s%s", i ? ", " : "",
                                ps[i].name);
    const char *best = NULL;
    int bd = 1000;
    for (int i = 0; ps[i].name; i++) {
        int d = nninit__edit_distance(key, ps[i].name);
        if (d < bd) {
            bd = d;
            best = ps[i].name;
        }
    }
    if (best && bd <= 2)
        return nninit__err(err, NNINIT_EINVAL, "%s: unknown argument '%s'; did you mean '%s'?",
                           nninit_init_kind_name(in->kind), key, best);
    return nninit__err(err, NNINIT_EINVAL, "%s: unknown argument '%s'; it takes %s", nninit_init_kind_name(in->kind),
                       key, ps[0].name ? list : "no arguments");
}

/* ---- the call syntax: Name(arg, key=value, ...), parsed by pycall.c ---- */

/* One argument's parsed value as a parameter value. Bare names are strings
 * (mode=fan_out), except None/null, True/true/False/false, nan and inf;
 * sqrt(x) / math.sqrt(x) is a number (kaiming_uniform_(a=math.sqrt(5))). */
static nninit_status py_value(const nninit__pyval *pv, value *v, const char *text, nninit_err *err)
{
    memset(v, 0, sizeof *v);
    switch (pv->kind) {
    case NNINIT__PY_INT:
        v->kind = V_NUM;
        v->is_int = 1;
        v->i64 = pv->i;
        v->num = (double)pv->i;
        return NNINIT_OK;
    case NNINIT__PY_FLOAT:
        v->kind = V_NUM;
        v->num = pv->f;
        return NNINIT_OK;
    case NNINIT__PY_BOOL:
        v->kind = V_BOOL; /* only STFT's periodic takes one; set_param rejects it elsewhere */
        v->boolean = (int)pv->i;
        return NNINIT_OK;
    case NNINIT__PY_NONE:
        v->kind = V_NONE;
        return NNINIT_OK;
    case NNINIT__PY_STR:
    case NNINIT__PY_NAME: {
        const char *id = pv->text;
        if (pv->kind == NNINIT__PY_NAME) {
            const char *u = id + (*id == '-' || *id == '+');
            if (!strcmp(id, "null")) {
                v->kind = V_NONE;
                return NNINIT_OK;
            }
            if (!strcmp(id, "true") || !strcmp(id, "false")) {
                v->kind = V_BOOL;
                v->boolean = id[0] == 't';
                return NNINIT_OK;
            }
            if (!strcmp(u, "nan") || !strcmp(u, "NaN") || !strcmp(u, "inf") || !strcmp(u, "Infinity")) {
                v->kind = V_NUM; /* caught as non-finite by set_param */
                v->num = u[0] == 'n' || u[0] == 'N' ? (double)NAN : *id == '-' ? -(double)INFINITY : (double)INFINITY;
                return NNINIT_OK;
            }
            if (u != id)
                return nninit__err(err, NNINIT_EINVAL, "spec '%s': '%s' is not a number", text, id);
        }
        if (strlen(id) >= sizeof v->str)
            return nninit__err(err, NNINIT_EINVAL, "spec '%s': string argument too long", text);
        strcpy(v->str, id);
        v->kind = V_STR;
        return NNINIT_OK;
    }
    case NNINIT__PY_TUPLE:
    case NNINIT__PY_LIST:
        if (pv->n >= 1 && pv->items[0]->kind == NNINIT__PY_STR) { /* ("tukey", 0.25) */
            if (pv->n > 3 || strlen(pv->items[0]->text) >= sizeof v->str)
                return nninit__err(err, NNINIT_EINVAL, "spec '%s': a window tuple is (name, up to 2 parameters)",
                                   text);
            v->kind = V_WINDOW;
            strcpy(v->str, pv->items[0]->text);
            for (size_t i = 1; i < pv->n; i++) {
                const nninit__pyval *x = pv->items[i];
                if (x->kind != NNINIT__PY_INT && x->kind != NNINIT__PY_FLOAT && x->kind != NNINIT__PY_NONE)
                    return nninit__err(err, NNINIT_EINVAL, "spec '%s': window parameters must be numbers", text);
                v->wnone[i - 1] = x->kind == NNINIT__PY_NONE;
                v->wparam[i - 1] = x->kind == NNINIT__PY_INT ? (double)x->i : x->f;
                v->n_list++;
            }
            return NNINIT_OK;
        }
        { /* numbers: axes (up to NNINIT_MAX_AXES integers) or a window's values (any numbers) */
            nninit_status st = keep_values(v, pv->n, err);
            if (st)
                return st;
            v->kind = V_LIST;
            for (size_t i = 0; i < pv->n; i++) {
                const nninit__pyval *x = pv->items[i];
                if (x->kind != NNINIT__PY_INT && x->kind != NNINIT__PY_FLOAT)
                    return nninit__err(err, NNINIT_EINVAL, "spec '%s': a list holds numbers (axes or window "
                                       "values)", text);
                v->vals[v->n_vals++] = x->kind == NNINIT__PY_INT ? (double)x->i : x->f;
                if (x->kind == NNINIT__PY_FLOAT || v->n_list == NNINIT_MAX_AXES)
                    v->kind = V_NUMLIST; /* window values only */
                else
                    v->list[v->n_list++] = x->i;
            }
            return NNINIT_OK;
        }
    case NNINIT__PY_CALL:
        if (!strcmp(pv->text, "sqrt")) {
            const nninit__pyval *x = pv->n == 1 && !pv->keys[0][0] ? pv->items[0] : NULL;
            double d = !x ? -1 : x->kind == NNINIT__PY_INT ? (double)x->i : x->kind == NNINIT__PY_FLOAT ? x->f : -1;
            if (!(d >= 0))
                return nninit__err(err, NNINIT_EINVAL, "spec '%s': write sqrt(x) with x >= 0", text);
            v->kind = V_NUM;
            v->num = sqrt(d);
            return NNINIT_OK;
        }
        return nninit__err(err, NNINIT_EINVAL, "spec '%s': expected a value, not the call %s(...)", text, pv->text);
    case NNINIT__PY_DICT:
        break;
    }
    return nninit__err(err, NNINIT_EINVAL, "spec '%s': expected a value, not %s", text, nninit__py_kind_name(pv->kind));
}

static nninit_status parse_call(const char *text, nninit_init *out, nninit_err *err)
{
    nninit__pyval *call;
    nninit_status st = nninit__py_parse(text, &call, err);
    if (st != NNINIT_OK) {
        if (err) {
            char msg[sizeof err->msg];
            snprintf(msg, sizeof msg, "%s", err->msg);
            nninit__err(err, st, "spec '%.80s': %.1900s", text, msg);
        }
        return st;
    }
    if (call->kind != NNINIT__PY_NAME && call->kind != NNINIT__PY_CALL) {
        nninit__py_free(call);
        return nninit__err(err, NNINIT_EINVAL, "spec '%s': expected an initializer name", text);
    }
    /* module prefixes as written in Python (keras.initializers.X, torch.nn.init.x_) are already dropped */
    nninit_init_kind kind;
    if ((st = nninit_init_kind_parse(call->text, &kind, err)) != NNINIT_OK) {
        nninit__py_free(call);
        return st;
    }
    nninit_init in = nninit_init_default(kind);
    const param *ps = params_of(kind);
    int count = 0, positional = 0, seen_keyword = 0;
    unsigned seen = 0;
    while (ps[count].name)
        count++;
    for (size_t i = 0; call->kind == NNINIT__PY_CALL && i < call->n && st == NNINIT_OK; i++) {
        value v;
        st = py_value(call->items[i], &v, text, err);
        if (st != NNINIT_OK) {
            free_value(&v);
            break;
        }
        if (call->keys[i][0]) {
            st = set_named(&in, call->keys[i], &v, &seen, err);
            seen_keyword = 1;
        } else if (seen_keyword) {
            st = nninit__err(err, NNINIT_EINVAL, "spec '%s': positional argument follows keyword argument", text);
        } else if (positional >= count) {
            st = nninit__err(err, NNINIT_EINVAL, "%s: takes %d argument%s but more were given",
                             nninit_init_kind_name(kind), count, count == 1 ? "" : "s");
        } else {
            st = set_named(&in, ps[positional++].name, &v, &seen, err);
        }
        free_value(&v);
    }
    nninit__py_free(call);
    if (st == NNINIT_OK)
        st = nninit_init_validate(&in, err);
    if (st != NNINIT_OK) {
        nninit_init_clear(&in);
        return st;
    }
    *out = in;
    return NNINIT_OK;
}

/* ---- Keras serialized JSON ---- */

#ifdef NNINIT_HAVE_JANSSON

static nninit_status json_to_value(json_t *j, value *v, const char *key, nninit_err *err)
{
    memset(v, 0, sizeof *v);
    if (json_is_null(j)) {
        v->kind = V_NONE;
    } else if (json_is_integer(j)) {
        v->kind = V_NUM;
        v->is_int = 1;
        v->i64 = json_integer_value(j);
        v->num = (double)v->i64;
    } else if (json_is_real(j)) {
        v->kind = V_NUM;
        v->num = json_real_value(j);
    } else if (json_is_string(j)) {
        const char *s = json_string_value(j);
        if (strlen(s) >= sizeof v->str)
            return nninit__err(err, NNINIT_EINVAL, "config '%s': string too long", key);
        strcpy(v->str, s);
        v->kind = V_STR;
    } else if (json_is_array(j) && json_is_string(json_array_get(j, 0))) { /* a window tuple, ["tukey", 0.25] */
        size_t n = json_array_size(j);
        const char *name = json_string_value(json_array_get(j, 0));
        if (n > 3 || strlen(name) >= sizeof v->str)
            return nninit__err(err, NNINIT_EINVAL, "config '%s': a window list is [name, up to 2 parameters]", key);
        v->kind = V_WINDOW;
        strcpy(v->str, name);
        for (size_t i = 1; i < n; i++) {
            json_t *e = json_array_get(j, i);
            if (!json_is_number(e) && !json_is_null(e))
                return nninit__err(err, NNINIT_EINVAL, "config '%s': window parameters must be numbers", key);
            v->wnone[i - 1] = json_is_null(e);
            v->wparam[i - 1] = json_is_number(e) ? json_number_value(e) : 0.0;
            v->n_list++;
        }
    } else if (json_is_array(j)) {
        v->kind = V_LIST;
        size_t n = json_array_size(j);
        int window = !strcmp(key, "window"); /* a window's values: any numbers, any count */
        if (n > NNINIT_MAX_AXES && !window)
            return nninit__err(err, NNINIT_EINVAL, "config '%s': list too long", key);
        nninit_status st = keep_values(v, n, err);
        if (st)
            return st;
        for (size_t i = 0; i < n; i++) {
            json_t *e = json_array_get(j, i);
            if (!json_is_integer(e) && !(window && json_is_real(e)))
                return nninit__err(err, NNINIT_EINVAL, "config '%s': list items must be %s", key,
                                   window ? "numbers" : "integers");
            v->vals[v->n_vals++] = json_number_value(e);
            if (json_is_real(e) || v->n_list == NNINIT_MAX_AXES)
                v->kind = V_NUMLIST;
            else
                v->list[v->n_list++] = json_integer_value(e);
        }
    } else if (json_is_boolean(j)) {
        v->kind = V_BOOL;
        v->boolean = json_is_true(j);
    } else if (json_is_object(j) && !strcmp(key, "seed")) {
        /* a serialized SeedGenerator: {"class_name": "SeedGenerator", "config": {"seed": N, ...}} */
        json_t *cfg = json_object_get(j, "config");
        json_t *s = cfg ? json_object_get(cfg, "seed") : NULL;
        if (!s || !json_is_integer(s))
            return nninit__err(err, NNINIT_EINVAL, "config 'seed': a SeedGenerator needs an integer config.seed");
        v->kind = V_NUM;
        v->is_int = 1;
        v->i64 = json_integer_value(s);
    } else {
        return nninit__err(err, NNINIT_EINVAL, "config '%s': unsupported JSON value type", key);
    }
    return NNINIT_OK;
}

static nninit_status parse_json(const char *text, nninit_init *out, nninit_err *err)
{
    json_error_t je;
    json_t *root = json_loads(text, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
    /* jansson reports most allocation failures with json_error_out_of_memory, but one at
     * the very start (its lexer buffer) leaves the error text empty */
    if (!root && (json_error_code(&je) == json_error_out_of_memory || je.text[0] == '\0'))
        return nninit__err(err, NNINIT_ENOMEM, "initializer JSON: out of memory");
    if (!root)
        return nninit__err(err, NNINIT_EINVAL, "initializer JSON: %s at line %d column %d", je.text, je.line,
                           je.column);
    nninit_status st = NNINIT_OK;
    if (json_is_string(root)) {
        st = parse_call(json_string_value(root), out, err);
        json_decref(root);
        return st;
    }
    if (!json_is_object(root)) {
        json_decref(root);
        return nninit__err(err, NNINIT_EINVAL, "initializer JSON: expected an object with class_name and config");
    }
    json_t *cls = json_object_get(root, "class_name");
    json_t *cfg = json_object_get(root, "config");
    json_t *mod = json_object_get(root, "module");
    const char *key;
    json_t *val;
    json_object_foreach(root, key, val)
    {
        if (strcmp(key, "class_name") && strcmp(key, "config") && strcmp(key, "module") &&
            strcmp(key, "registered_name")) {
            st = nninit__err(err, NNINIT_EINVAL, "initializer JSON: unexpected key '%s'; expected class_name, config, module, registered_name", key);
            json_decref(root); /* after formatting: key points into root */
            return st;
        }
    }
    if (!json_is_string(cls)) {
        json_decref(root);
        return nninit__err(err, NNINIT_EINVAL, "initializer JSON: missing string 'class_name'");
    }
    if (mod && !json_is_null(mod)) {
        const char *m = json_is_string(mod) ? json_string_value(mod) : "";
        if (strcmp(m, "keras.initializers") && strcmp(m, "keras.src.initializers") &&
            strncmp(m, "keras.src.initializers.", 23) && strcmp(m, "nninit.torch") && strcmp(m, "nninit")) {
            st = nninit__err(err, NNINIT_EINVAL,
                             "initializer JSON: module '%s' is not keras.initializers; custom initializers are not "
                             "supported",
                             m);
            json_decref(root);
            return st;
        }
    }
    nninit_init_kind kind;
    if ((st = nninit_init_kind_parse(json_string_value(cls), &kind, err)) != NNINIT_OK) {
        json_decref(root);
        return st;
    }
    nninit_init in = nninit_init_default(kind);
    if (cfg && !json_is_null(cfg)) {
        if (!json_is_object(cfg)) {
            json_decref(root);
            return nninit__err(err, NNINIT_EINVAL, "initializer JSON: 'config' must be an object");
        }
        unsigned seen = 0;
        json_object_foreach(cfg, key, val)
        {
            value v;
            if (!strcmp(key, "dtype")) /* tf.keras 2.x configs carry the variable dtype; not a parameter */
                continue;
            if ((st = json_to_value(val, &v, key, err)) == NNINIT_OK)
                st = set_named(&in, key, &v, &seen, err);
            free_value(&v);
            if (st != NNINIT_OK) {
                nninit_init_clear(&in);
                json_decref(root);
                return st;
            }
        }
    }
    json_decref(root);
    if ((st = nninit_init_validate(&in, err)) != NNINIT_OK) {
        nninit_init_clear(&in);
        return st;
    }
    *out = in;
    return NNINIT_OK;
}

#else /* a build without jansson (the core library, the single file) */
static nninit_status parse_json(const char *text, nninit_init *out, nninit_err *err)
{
    (void)text;
    (void)out;
    return nninit__err(err, NNINIT_EUNSUPPORTED,
                       "initializer spec: JSON needs jansson, which this build lacks; write it as a call such as "
                       "'Orthogonal(gain=1.0)'");
}
#endif

static nninit_status read_spec_file(const char *path, char **text, nninit_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f && errno == ENOMEM)
        return nninit__err(err, NNINIT_ENOMEM, "%s: out of memory opening it", path);
    if (!f)
        return nninit__err_open(err, errno, path);
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (!buf) {
            fclose(f);
            return nninit__err(err, NNINIT_ENOMEM, "%s: out of memory", path);
        }
        size_t got = fread(buf + len, 1, cap - len - 1, f);
        len += got;
        if (len < cap - 1)
            break;
        if (cap >= (1u << 24)) {
            free(buf);
            fclose(f);
            return nninit__err(err, NNINIT_EINVAL, "%s: initializer spec larger than 16 MiB", path);
        }
        char *nb = realloc(buf, cap * 2);
        if (!nb)
            free(buf);
        buf = nb;
        cap *= 2;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return nninit__err(err, NNINIT_EIO, "%s: read failed", path);
    }
    buf[len] = '\0';
    if (strlen(buf) != len) {
        free(buf);
        return nninit__err(err, NNINIT_EINVAL, "%s: contains a NUL byte; expected JSON or a spec", path);
    }
    *text = buf;
    return NNINIT_OK;
}

nninit_status nninit_init_parse(const char *spec, nninit_init *out, nninit_err *err)
{
    nninit_init fallback = nninit_init_default(NNINIT_ZEROS);
    if (!spec || !out) {
        if (out)
            *out = fallback;
        return nninit__err(err, NNINIT_EMISUSE, "spec or output is NULL");
    }
    *out = fallback;
    const char *p = spec;
    while (isspace((unsigned char)*p))
        p++;
    nninit_status st;
    nninit_init in;
    if (*p == '@') {
        char *text = NULL;
        if ((st = read_spec_file(p + 1, &text, err)) != NNINIT_OK)
            return st;
        const char *q = text;
        while (isspace((unsigned char)*q))
            q++;
        st = (*q == '{' || *q == '"') ? parse_json(q, &in, err) : parse_call(q, &in, err);
        free(text);
    } else if (*p == '{' || *p == '"') {
        st = parse_json(p, &in, err);
    } else if (!*p) {
        return nninit__err(err, NNINIT_EINVAL, "empty initializer spec; give a name such as 'glorot_uniform'");
    } else {
        st = parse_call(p, &in, err);
    }
    if (st == NNINIT_OK)
        *out = in;
    return st;
}

/* ---- serialization ---- */

/* Shortest representation that round-trips, with ".0" for integral
 * values, as Python's repr(float) prints them. */
static void sb_double(nninit__sb *b, double v)
{
    char buf[40];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    if (!strpbrk(buf, ".eEn"))
        strcat(buf, ".0");
    nninit__sb_printf(b, "%s", buf);
}

static void sb_seed(nninit__sb *b, const nninit_init *in)
{
    if (in->has_seed)
        nninit__sb_printf(b, "\"seed\": %" PRIu64, in->seed);
    else
        nninit__sb_printf(b, "\"seed\": null");
}

static void sb_axes(nninit__sb *b, const char *name, int n, const int *ax)
{
    nninit__sb_printf(b, ", \"%s\": ", name);
    if (n == 0) {
        nninit__sb_printf(b, "null");
        return;
    }
    nninit__sb_printf(b, "[");
    for (int i = 0; i < n; i++)
        nninit__sb_printf(b, "%s%d", i ? ", " : "", ax[i]);
    nninit__sb_printf(b, "]");
}

nninit_status nninit_init_to_json(const nninit_init *in, char **json, nninit_err *err)
{
    nninit_status st = nninit_init_validate(in, err);
    if (st != NNINIT_OK)
        return st;
    nninit__sb b = NNINIT__SB_INIT;
    const char *cls = nninit_init_kind_class(in->kind);
    int keras = cls != NULL && (in->kind < NNINIT_TORCH_UNIFORM || in->kind == NNINIT_STFT);
    nninit__sb_printf(&b, "{\"module\": \"%s\", \"class_name\": \"%s\", \"config\": {",
           keras ? "keras.initializers" : (cls ? "nninit" : "nninit.torch"), cls ? cls : nninit_init_kind_name(in->kind));
    switch (in->kind) {
    case NNINIT_CONSTANT:
        nninit__sb_printf(&b, "\"value\": ");
        sb_double(&b, in->value);
        break;
    case NNINIT_RANDOM_NORMAL:
    case NNINIT_TRUNCATED_NORMAL:
        sb_seed(&b, in);
        nninit__sb_printf(&b, ", \"mean\": ");
        sb_double(&b, in->mean);
        nninit__sb_printf(&b, ", \"stddev\": ");
        sb_double(&b, in->stddev);
        break;
    case NNINIT_RANDOM_UNIFORM:
        sb_seed(&b, in);
        nninit__sb_printf(&b, ", \"minval\": ");
        sb_double(&b, in->minval);
        nninit__sb_printf(&b, ", \"maxval\": ");
        sb_double(&b, in->maxval);
        break;
    case NNINIT_VARIANCE_SCALING:
        sb_seed(&b, in);
        nninit__sb_printf(&b, ", \"scale\": ");
        sb_double(&b, in->scale);
        nninit__sb_printf(&b, ", \"mode\": \"%s\", \"distribution\": \"%s\"", nninit_fan_mode_name(in->mode),
               nninit_distribution_name(in->distribution));
        sb_axes(&b, "input_axes", in->n_input_axes, in->input_axes);
        sb_axes(&b, "output_axes", in->n_output_axes, in->output_axes);
        break;
    case NNINIT_GLOROT_NORMAL: case NNINIT_GLOROT_UNIFORM: case NNINIT_HE_NORMAL: case NNINIT_HE_UNIFORM:
    case NNINIT_LECUN_NORMAL: case NNINIT_LECUN_UNIFORM:
        sb_seed(&b, in);
        sb_axes(&b, "input_axes", in->n_input_axes, in->input_axes);
        sb_axes(&b, "output_axes", in->n_output_axes, in->output_axes);
        break;
    case NNINIT_ORTHOGONAL:
        sb_seed(&b, in);
        nninit__sb_printf(&b, ", \"gain\": ");
        sb_double(&b, in->gain);
        break;
    case NNINIT_STFT: /* STFT.get_config order */
        nninit__sb_printf(&b, "\"side\": \"%s\", \"window\": ", in->stft_imag ? "imag" : "real");
        if (in->stft_window == NNINIT_WINDOW_NONE) {
            nninit__sb_printf(&b, "null");
        } else if (in->stft_window == NNINIT_WINDOW_VALUES) { /* the array, as Keras' get_config keeps it */
            nninit__sb_printf(&b, "[");
            for (int64_t i = 0; i < in->stft_window_len; i++) {
                if (i)
                    nninit__sb_printf(&b, ", ");
                sb_double(&b, in->stft_window_values[i]);
            }
            nninit__sb_printf(&b, "]");
        } else if (in->stft_n_window_params == 0) {
            nninit__sb_printf(&b, "\"%s\"", nninit__stft_window_name(in->stft_window));
        } else { /* scipy's tuple form as a JSON list (Keras 3 itself takes only names and value arrays) */
            nninit__sb_printf(&b, "[\"%s\"", nninit__stft_window_name(in->stft_window));
            for (int i = 0; i < in->stft_n_window_params; i++) {
                nninit__sb_printf(&b, ", ");
                if (i == 0 && in->stft_window == NNINIT_WINDOW_EXPONENTIAL)
                    nninit__sb_printf(&b, "null");
                else
                    sb_double(&b, in->stft_window_params[i]);
            }
            nninit__sb_printf(&b, "]");
        }
        nninit__sb_printf(&b, ", \"periodic\": %s, \"scaling\": ", in->stft_periodic ? "true" : "false");
        if (in->stft_scaling == 0)
            nninit__sb_printf(&b, "null");
        else
            nninit__sb_printf(&b, "\"%s\"", in->stft_scaling == 1 ? "density" : "spectrum");
        break;
    case NNINIT_IDENTITY: /* Keras itself drops gain here; nninit keeps it (Identity(gain=...) accepts it back) */
        nninit__sb_printf(&b, "\"gain\": ");
        sb_double(&b, in->gain);
        break;
    default: {
        const param *ps = params_of(in->kind);
        int first = 1;
        for (int i = 0; ps[i].name; i++) {
            const char *base = (const char *)in;
            if (ps[i].type == P_NONE_ONLY)
                continue;
            nninit__sb_printf(&b, "%s\"%s\": ", first ? "" : ", ", ps[i].name);
            first = 0;
            if (ps[i].type == P_SLOPE && in->neg_slope_none) {
                nninit__sb_printf(&b, "null");
            } else if (ps[i].type == P_NUM || ps[i].type == P_SLOPE) {
                double d;
                memcpy(&d, base + ps[i].offset, sizeof d);
                sb_double(&b, d);
            } else if (ps[i].type == P_INT) {
                int64_t v;
                memcpy(&v, base + ps[i].offset, sizeof v);
                nninit__sb_printf(&b, "%" PRId64, v);
            } else if (ps[i].type == P_MODE) {
                nninit__sb_printf(&b, "\"%s\"", nninit_fan_mode_name(in->mode));
            } else if (ps[i].type == P_NL) {
                nninit__sb_printf(&b, "\"%s\"", nninit_nonlinearity_name(in->nonlinearity));
            }
        }
        break;
    }
    }
    nninit__sb_printf(&b, "}, \"registered_name\": null}");
    char *text = nninit__sb_take(&b);
    if (!text)
        return nninit__err(err, NNINIT_ENOMEM, "out of memory serializing an initializer");
    *json = text;
    return NNINIT_OK;
}
