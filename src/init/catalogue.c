/*
 * The initializer catalogue: names, reference defaults, parameter checks,
 * calculate_gain, and resolution of (initializer, shape, layout) to a
 * primitive distribution. Formulas follow, operation for operation:
 *   keras/src/initializers/random_initializers.py, constant_initializers.py
 *   torch/nn/init.py (PyTorch 1.13)
 */
#include "init/internal.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

typedef struct kind_info {
    const char *name;       /* canonical id */
    const char *class_name; /* Keras class, or NULL */
} kind_info;

static const kind_info KINDS[NNINIT_INIT_KIND_COUNT] = {
    [NNINIT_ZEROS] = {"zeros", "Zeros"},
    [NNINIT_ONES] = {"ones", "Ones"},
    [NNINIT_CONSTANT] = {"constant", "Constant"},
    [NNINIT_RANDOM_NORMAL] = {"random_normal", "RandomNormal"},
    [NNINIT_RANDOM_UNIFORM] = {"random_uniform", "RandomUniform"},
    [NNINIT_TRUNCATED_NORMAL] = {"truncated_normal", "TruncatedNormal"},
    [NNINIT_VARIANCE_SCALING] = {"variance_scaling", "VarianceScaling"},
    [NNINIT_GLOROT_NORMAL] = {"glorot_normal", "GlorotNormal"},
    [NNINIT_GLOROT_UNIFORM] = {"glorot_uniform", "GlorotUniform"},
    [NNINIT_HE_NORMAL] = {"he_normal", "HeNormal"},
    [NNINIT_HE_UNIFORM] = {"he_uniform", "HeUniform"},
    [NNINIT_LECUN_NORMAL] = {"lecun_normal", "LecunNormal"},
    [NNINIT_LECUN_UNIFORM] = {"lecun_uniform", "LecunUniform"},
    [NNINIT_ORTHOGONAL] = {"orthogonal", "Orthogonal"},
    [NNINIT_IDENTITY] = {"identity", "Identity"},
    [NNINIT_TORCH_UNIFORM] = {"uniform_", NULL},
    [NNINIT_TORCH_NORMAL] = {"normal_", NULL},
    [NNINIT_TORCH_TRUNC_NORMAL] = {"trunc_normal_", NULL},
    [NNINIT_TORCH_CONSTANT] = {"constant_", NULL},
    [NNINIT_TORCH_ONES] = {"ones_", NULL},
    [NNINIT_TORCH_ZEROS] = {"zeros_", NULL},
    [NNINIT_TORCH_EYE] = {"eye_", NULL},
    [NNINIT_TORCH_DIRAC] = {"dirac_", NULL},
    [NNINIT_TORCH_XAVIER_UNIFORM] = {"xavier_uniform_", NULL},
    [NNINIT_TORCH_XAVIER_NORMAL] = {"xavier_normal_", NULL},
    [NNINIT_TORCH_KAIMING_UNIFORM] = {"kaiming_uniform_", NULL},
    [NNINIT_TORCH_KAIMING_NORMAL] = {"kaiming_normal_", NULL},
    [NNINIT_TORCH_ORTHOGONAL] = {"orthogonal_", NULL},
    [NNINIT_TORCH_SPARSE] = {"sparse_", NULL},
    [NNINIT_DELTA_ORTHOGONAL] = {"delta_orthogonal", "DeltaOrthogonal"},
    [NNINIT_IDENTITY_RECURRENT] = {"identity_recurrent", "IdentityRecurrent"},
    [NNINIT_SCALED_RESIDUAL] = {"scaled_residual", "ScaledResidual"},
    [NNINIT_FIXUP] = {"fixup", "Fixup"},
    [NNINIT_STFT] = {"stft", "STFT"},
};

/* Every other accepted spelling. Bare names shared by both frameworks
 * resolve to Keras (the default layout); the underscore selects PyTorch. */
static const struct { const char *alias; nninit_init_kind kind; } ALIASES[] = {
    {"zero", NNINIT_ZEROS},
    {"one", NNINIT_ONES},
    {"normal", NNINIT_RANDOM_NORMAL},
    {"uniform", NNINIT_RANDOM_UNIFORM},
    {"IdentityInitializer", NNINIT_IDENTITY},
    {"OrthogonalInitializer", NNINIT_ORTHOGONAL},
    {"trunc_normal", NNINIT_TORCH_TRUNC_NORMAL},
    {"eye", NNINIT_TORCH_EYE},
    {"dirac", NNINIT_TORCH_DIRAC},
    {"xavier_uniform", NNINIT_TORCH_XAVIER_UNIFORM},
    {"xavier_normal", NNINIT_TORCH_XAVIER_NORMAL},
    {"kaiming_uniform", NNINIT_TORCH_KAIMING_UNIFORM},
    {"kaiming_normal", NNINIT_TORCH_KAIMING_NORMAL},
    {"sparse", NNINIT_TORCH_SPARSE},
    {"irnn", NNINIT_IDENTITY_RECURRENT},
    {"STFTInitializer", NNINIT_STFT},
};

const char *nninit_init_kind_name(nninit_init_kind kind)
{
    return (unsigned)kind < NNINIT_INIT_KIND_COUNT ? KINDS[kind].name : "unknown";
}

const char *nninit_init_kind_class(nninit_init_kind kind)
{
    return (unsigned)kind < NNINIT_INIT_KIND_COUNT ? KINDS[kind].class_name : NULL;
}

nninit_status nninit_init_kind_parse(const char *name, nninit_init_kind *out, nninit_err *err)
{
    for (int k = 0; k < NNINIT_INIT_KIND_COUNT; k++)
        if (!strcmp(name, KINDS[k].name) || (KINDS[k].class_name && !strcmp(name, KINDS[k].class_name))) {
            *out = (nninit_init_kind)k;
            return NNINIT_OK;
        }
    for (size_t i = 0; i < sizeof ALIASES / sizeof ALIASES[0]; i++)
        if (!strcmp(name, ALIASES[i].alias)) {
            *out = ALIASES[i].kind;
            return NNINIT_OK;
        }
    /* suggest the closest canonical name or class */
    const char *best = NULL;
    int best_d = 1000;
    for (int k = 0; k < NNINIT_INIT_KIND_COUNT; k++) {
        int d = nninit__edit_distance(name, KINDS[k].name);
        if (d < best_d) {
            best_d = d;
            best = KINDS[k].name;
        }
        if (KINDS[k].class_name && (d = nninit__edit_distance(name, KINDS[k].class_name)) < best_d) {
            best_d = d;
            best = KINDS[k].class_name;
        }
    }
    if (best && best_d <= 3)
        return nninit__err(err, NNINIT_ENOTFOUND, "unknown initializer '%s'; did you mean '%s'?", name, best);
    return nninit__err(err, NNINIT_ENOTFOUND, "unknown initializer '%s'; run 'nninit list' for the catalogue", name);
}

nninit_init nninit_init_default(nninit_init_kind kind)
{
    nninit_init in;
    memset(&in, 0, sizeof in);
    in.kind = kind;
    in.gain = 1.0;
    in.scale = 1.0;
    in.groups = 1;
    in.mode = NNINIT_FAN_IN;
    in.distribution = NNINIT_DIST_TRUNCATED_NORMAL;
    in.nonlinearity = NNINIT_NL_LEAKY_RELU;
    switch (kind) {
    case NNINIT_CONSTANT: /* Keras' value defaults to 0.0, so it is always "given" */
        in.has_value = 1;
        break;
    case NNINIT_RANDOM_NORMAL:
    case NNINIT_TRUNCATED_NORMAL:
        in.stddev = 0.05;
        break;
    case NNINIT_RANDOM_UNIFORM:
        in.minval = -0.05;
        in.maxval = 0.05;
        break;
    case NNINIT_GLOROT_NORMAL: in.mode = NNINIT_FAN_AVG; break;
    case NNINIT_GLOROT_UNIFORM:
        in.mode = NNINIT_FAN_AVG;
        in.distribution = NNINIT_DIST_UNIFORM;
        break;
    case NNINIT_HE_NORMAL: in.scale = 2.0; break;
    case NNINIT_HE_UNIFORM:
        in.scale = 2.0;
        in.distribution = NNINIT_DIST_UNIFORM;
        break;
    case NNINIT_LECUN_UNIFORM: in.distribution = NNINIT_DIST_UNIFORM; break;
    case NNINIT_TORCH_UNIFORM:
        in.minval = 0.0;
        in.maxval = 1.0;
        break;
    case NNINIT_TORCH_NORMAL: in.stddev = 1.0; break;
    case NNINIT_TORCH_TRUNC_NORMAL:
        in.stddev = 1.0;
        in.a = -2.0;
        in.b = 2.0;
        break;
    case NNINIT_TORCH_SPARSE: in.stddev = 0.01; break;
    case NNINIT_SCALED_RESIDUAL:
        in.stddev = 0.02; /* GPT-2's base std */
        in.num_layers = 12;
        in.branches = 2; /* attention and MLP each add to the residual stream */
        break;
    case NNINIT_FIXUP:
        in.num_layers = 1;
        in.fixup_m = 2;
        break;
    case NNINIT_STFT: /* STFT(side="real", window="hann", scaling="density", periodic=False) */
        in.stft_window = NNINIT_WINDOW_HANN;
        in.stft_scaling = 1;
        break;
    default: break;
    }
    return in;
}

static int finite_all(const nninit_init *in)
{
    const double v[] = {in->mean, in->stddev, in->minval, in->maxval, in->a,
                        in->b, in->value, in->scale, in->gain, in->neg_slope, in->sparsity};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        if (!isfinite(v[i]))
            return 0;
    return 1;
}

nninit_status nninit_init_validate(const nninit_init *in, nninit_err *err)
{
    if (!in)
        return nninit__err(err, NNINIT_EMISUSE, "initializer is NULL");
    if ((unsigned)in->kind >= NNINIT_INIT_KIND_COUNT)
        return nninit__err(err, NNINIT_EINVAL, "initializer kind %d is not in the catalogue", (int)in->kind);
    const char *name = KINDS[in->kind].name;
    if (!finite_all(in))
        return nninit__err(err, NNINIT_EINVAL, "%s: a parameter is NaN or infinite; every parameter must be finite",
                           name);
    switch (in->kind) {
    case NNINIT_RANDOM_NORMAL:
    case NNINIT_TRUNCATED_NORMAL:
    case NNINIT_TORCH_NORMAL:
        if (in->stddev < 0)
            return nninit__err(err, NNINIT_EINVAL, "%s: stddev is %g; it must be >= 0", name, in->stddev);
        if (in->kind == NNINIT_TRUNCATED_NORMAL && in->stddev == 0)
            return nninit__err(err, NNINIT_EINVAL, "%s: stddev is 0; a truncated normal needs stddev > 0", name);
        break;
    case NNINIT_RANDOM_UNIFORM:
    case NNINIT_TORCH_UNIFORM:
        if (in->minval > in->maxval)
            return nninit__err(err, NNINIT_EINVAL, "%s: %s %g is greater than %s %g; need %s <= %s", name,
                               in->kind == NNINIT_TORCH_UNIFORM ? "a" : "minval", in->minval,
                               in->kind == NNINIT_TORCH_UNIFORM ? "b" : "maxval", in->maxval,
                               in->kind == NNINIT_TORCH_UNIFORM ? "a" : "minval",
                               in->kind == NNINIT_TORCH_UNIFORM ? "b" : "maxval");
        break;
    case NNINIT_VARIANCE_SCALING:
        if (in->scale <= 0)
            return nninit__err(err, NNINIT_EINVAL, "%s: scale is %g; it must be a positive float", name, in->scale);
        if ((unsigned)in->mode > NNINIT_FAN_AVG || (unsigned)in->distribution > NNINIT_DIST_UNIFORM)
            return nninit__err(err, NNINIT_EINVAL, "%s: bad mode or distribution", name);
        if ((in->n_input_axes > 0) != (in->n_output_axes > 0))
            return nninit__err(err, NNINIT_EINVAL, "%s: input_axes and output_axes must be given together", name);
        break;
    case NNINIT_TORCH_TRUNC_NORMAL: {
        if (in->stddev <= 0)
            return nninit__err(err, NNINIT_EINVAL, "%s: std is %g; it must be > 0", name, in->stddev);
        if (!(in->a < in->b))
            return nninit__err(err, NNINIT_EINVAL, "%s: a = %g is not below b = %g; need a < b (absolute bounds)",
                               name, in->a, in->b);
        /* measured on the side the sampler uses (it mirrors upper-tail intervals), where
         * probabilities near 0 keep their precision */
        double al = (in->a - in->mean) / in->stddev, be = (in->b - in->mean) / in->stddev;
        double pa = al + be > 0 ? nninit__ndtr(-be) : nninit__ndtr(al);
        double pb = al + be > 0 ? nninit__ndtr(-al) : nninit__ndtr(be);
        if (!(pb > pa) || !isfinite(al) || !isfinite(be))
            return nninit__err(err, NNINIT_EINVAL,
                               "%s: the interval [%g, %g] has zero probability under N(%g, %g); put a and b within "
                               "about 37 std of the mean",
                               name, in->a, in->b, in->mean, in->stddev);
        break;
    }
    case NNINIT_TORCH_KAIMING_UNIFORM:
    case NNINIT_TORCH_KAIMING_NORMAL:
        if (in->mode != NNINIT_FAN_IN && in->mode != NNINIT_FAN_OUT)
            return nninit__err(err, NNINIT_EINVAL, "%s: mode '%s' not supported; use 'fan_in' or 'fan_out'", name,
                               nninit_fan_mode_name(in->mode));
        if ((unsigned)in->nonlinearity > NNINIT_NL_SELU)
            return nninit__err(err, NNINIT_EINVAL, "%s: bad nonlinearity", name);
        break;
    case NNINIT_TORCH_CONSTANT:
        if (!in->has_value)
            return nninit__err(err, NNINIT_EINVAL, "%s: missing required argument 'val'; e.g. constant_(val=0.1)",
                               name);
        break;
    case NNINIT_TORCH_SPARSE:
        if (!in->has_sparsity)
            return nninit__err(err, NNINIT_EINVAL,
                               "%s: missing required argument 'sparsity'; e.g. sparse_(sparsity=0.9)", name);
        if (in->sparsity < 0 || in->sparsity > 1)
            return nninit__err(err, NNINIT_EINVAL, "%s: sparsity is %g; it must be in [0, 1]", name, in->sparsity);
        if (in->stddev < 0)
            return nninit__err(err, NNINIT_EINVAL, "%s: std is %g; it must be >= 0", name, in->stddev);
        break;
    case NNINIT_TORCH_DIRAC:
        if (in->groups < 1)
            return nninit__err(err, NNINIT_EINVAL, "%s: groups is %" PRId64 "; it must be >= 1", name, in->groups);
        break;
    case NNINIT_SCALED_RESIDUAL:
        if (in->stddev < 0)
            return nninit__err(err, NNINIT_EINVAL, "%s: stddev is %g; it must be >= 0", name, in->stddev);
        if (in->num_layers < 1 || in->branches < 1)
            return nninit__err(err, NNINIT_EINVAL, "%s: num_layers and branches must be >= 1", name);
        break;
    case NNINIT_STFT:
        if (in->stft_window < NNINIT_WINDOW_NONE || in->stft_window >= NNINIT_WINDOW_COUNT || in->stft_scaling < 0 ||
            in->stft_scaling > 2)
            return nninit__err(err, NNINIT_EINVAL, "%s: bad window or scaling", name);
        return nninit__stft_window_check(in, err);
    case NNINIT_FIXUP:
        if (in->num_layers < 1)
            return nninit__err(err, NNINIT_EINVAL, "%s: num_layers is %" PRId64 "; it must be >= 1", name,
                               in->num_layers);
        if (in->fixup_m < 2)
            return nninit__err(err, NNINIT_EINVAL, "%s: m is %" PRId64 "; a residual branch needs m >= 2 layers",
                               name, in->fixup_m);
        break;
    default: break;
    }
    return NNINIT_OK;
}

/* ---- calculate_gain (torch/nn/init.py) ---- */

static const char *NL_NAMES[] = {"linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                                 "conv_transpose3d", "sigmoid", "tanh", "relu", "leaky_relu", "selu"};

const char *nninit_nonlinearity_name(nninit_nonlinearity nl)
{
    return (unsigned)nl <= NNINIT_NL_SELU ? NL_NAMES[nl] : "unknown";
}

nninit_status nninit_nonlinearity_parse(const char *name, nninit_nonlinearity *out, nninit_err *err)
{
    for (int i = 0; i <= NNINIT_NL_SELU; i++)
        if (!strcmp(name, NL_NAMES[i])) {
            *out = (nninit_nonlinearity)i;
            return NNINIT_OK;
        }
    return nninit__err(err, NNINIT_EINVAL,
                       "unsupported nonlinearity '%s'; expected one of linear, conv1d, conv2d, conv3d, "
                       "conv_transpose1d/2d/3d, sigmoid, tanh, relu, leaky_relu, selu",
                       name);
}

/* PyTorch's expressions: 5.0 / 3, math.sqrt(2.0), math.sqrt(2.0 / (1 +
 * negative_slope ** 2)) (Python's ** is libm pow), 3.0 / 4. */
static double gain_of(nninit_nonlinearity nl, int has_param, double param)
{
    switch (nl) {
    case NNINIT_NL_TANH: return 5.0 / 3;
    case NNINIT_NL_RELU: return sqrt(2.0);
    case NNINIT_NL_LEAKY_RELU: {
        double slope = has_param ? param : 0.01;
        return sqrt(2.0 / (1 + pow(slope, 2.0)));
    }
    case NNINIT_NL_SELU: return 3.0 / 4;
    default: return 1.0;
    }
}

nninit_status nninit_calculate_gain(const char *nonlinearity, int has_param, double param, double *gain,
                                    nninit_err *err)
{
    nninit_nonlinearity nl;
    nninit_status st = nninit_nonlinearity_parse(nonlinearity, &nl, err);
    if (st != NNINIT_OK)
        return st;
    if (has_param && !isfinite(param))
        return nninit__err(err, NNINIT_EINVAL, "calculate_gain: param %g is not a finite number", param);
    *gain = gain_of(nl, has_param, param);
    return NNINIT_OK;
}

static const char *MODE_NAMES[] = {"fan_in", "fan_out", "fan_avg"};
static const char *DIST_NAMES[] = {"truncated_normal", "untruncated_normal", "uniform"};

const char *nninit_fan_mode_name(nninit_fan_mode m) { return (unsigned)m <= NNINIT_FAN_AVG ? MODE_NAMES[m] : "?"; }
const char *nninit_distribution_name(nninit_distribution d)
{
    return (unsigned)d <= NNINIT_DIST_UNIFORM ? DIST_NAMES[d] : "?";
}

/* ---- resolution ---- */

/* std of N(0, 1) truncated to (-2, 2), the constant Keras divides by. */
#define KERAS_TRUNC_STD 0.87962566103423978

static double trunc_std(double std, double alpha, double beta)
{
    /* Var = std^2 (1 + (a phi(a) - b phi(b)) / Z - ((phi(a) - phi(b)) / Z)^2) */
    const double c = 0.398942280401432677940;
    double pa = c * exp(-0.5 * alpha * alpha), pb = c * exp(-0.5 * beta * beta);
    double z = nninit__ndtr(beta) - nninit__ndtr(alpha);
    double ra = isinf(alpha) ? 0.0 : alpha * pa, rb = isinf(beta) ? 0.0 : beta * pb;
    double m = (pa - pb) / z;
    double var = 1.0 + (ra - rb) / z - m * m;
    return std * sqrt(var > 0 ? var : 0);
}

static nninit_status keras_axes_fans(const nninit_init *in, const nninit_shape *shape, int64_t *fi, int64_t *fo,
                                     nninit_err *err)
{
    int64_t prod[2] = {1, 1};
    const int *axes[2] = {in->input_axes, in->output_axes};
    const int n[2] = {in->n_input_axes, in->n_output_axes};
    for (int w = 0; w < 2; w++)
        for (int i = 0; i < n[w]; i++) {
            int ax = axes[w][i] < 0 ? axes[w][i] + shape->ndim : axes[w][i];
            if (ax < 0 || ax >= shape->ndim)
                return nninit__err(err, NNINIT_EINVAL, "variance_scaling: axis %d is out of range for a %d-D shape",
                                   axes[w][i], shape->ndim);
            prod[w] *= shape->dim[ax];
        }
    *fi = prod[0];
    *fo = prod[1];
    return NNINIT_OK;
}

static nninit_status need_rank(const nninit_init *in, const nninit_shape *shape, int lo, int hi, nninit_err *err)
{
    if (shape->ndim >= lo && shape->ndim <= hi)
        return NNINIT_OK;
    char buf[200];
    if (lo == hi)
        return nninit__err(err, NNINIT_EINVAL, "%s needs a %d-D shape; got %s", KINDS[in->kind].name, lo,
                           nninit_shape_format(shape, buf, sizeof buf));
    if (hi >= NNINIT_MAX_DIMS)
        return nninit__err(err, NNINIT_EINVAL, "%s needs at least %d dimensions; got %s", KINDS[in->kind].name, lo,
                           nninit_shape_format(shape, buf, sizeof buf));
    return nninit__err(err, NNINIT_EINVAL, "%s needs a %d-D to %d-D shape; got %s", KINDS[in->kind].name, lo, hi,
                       nninit_shape_format(shape, buf, sizeof buf));
}

nninit_status nninit_resolve(const nninit_init *in, const nninit_shape *shape, nninit_layout layout,
                             nninit_prim *out, nninit_err *err)
{
    nninit_status st = nninit_init_validate(in, err);
    if (st != NNINIT_OK)
        return st;
    int64_t numel;
    if ((st = nninit_shape_numel(shape, &numel, err)) != NNINIT_OK)
        return st;
    nninit_prim p;
    memset(&p, 0, sizeof p);
    p.gain = 1.0;
    p.groups = 1;
    const int is_torch_kind = in->kind >= NNINIT_TORCH_UNIFORM;
    /* Fans: Keras kinds never fail (compute_fans handles every rank); the
     * torch rule raises below 2-D, but only the kinds that need fans call it. */
    int64_t fi = 0, fo = 0;
    int needs_fans = 0;
    switch (in->kind) {
    case NNINIT_VARIANCE_SCALING: case NNINIT_GLOROT_NORMAL: case NNINIT_GLOROT_UNIFORM:
    case NNINIT_HE_NORMAL: case NNINIT_HE_UNIFORM: case NNINIT_LECUN_NORMAL: case NNINIT_LECUN_UNIFORM:
    case NNINIT_TORCH_XAVIER_UNIFORM: case NNINIT_TORCH_XAVIER_NORMAL:
    case NNINIT_TORCH_KAIMING_UNIFORM: case NNINIT_TORCH_KAIMING_NORMAL: case NNINIT_FIXUP:
        needs_fans = 1;
        break;
    default: break;
    }
    if (needs_fans) {
        /* Keras: the VarianceScaling family (Glorot, He, Lecun included) uses the axes when both are given */
        if (in->kind >= NNINIT_VARIANCE_SCALING && in->kind <= NNINIT_LECUN_UNIFORM && in->n_input_axes > 0 && in->n_output_axes > 0)
            st = keras_axes_fans(in, shape, &fi, &fo, err);
        else if (layout == NNINIT_LAYOUT_KERAS && shape->ndim < 2 && is_torch_kind)
            st = nninit__err(err, NNINIT_EINVAL,
                             "%s: fan in and fan out can not be computed for a tensor with fewer than 2 dimensions "
                             "(PyTorch raises here)",
                             KINDS[in->kind].name);
        else
            st = nninit_fans(shape, layout, &fi, &fo, err);
        if (st != NNINIT_OK)
            return st;
    }
    p.fan_in = fi;
    p.fan_out = fo;

    switch (in->kind) {
    case NNINIT_ZEROS:
    case NNINIT_TORCH_ZEROS:
        p.kind = NNINIT_PRIM_CONSTANT;
        p.value = 0.0;
        break;
    case NNINIT_ONES:
    case NNINIT_TORCH_ONES:
        p.kind = NNINIT_PRIM_CONSTANT;
        p.value = 1.0;
        break;
    case NNINIT_CONSTANT:
    case NNINIT_TORCH_CONSTANT:
        p.kind = NNINIT_PRIM_CONSTANT;
        p.value = in->value;
        break;
    case NNINIT_RANDOM_NORMAL:
    case NNINIT_TORCH_NORMAL:
        p.kind = NNINIT_PRIM_NORMAL;
        p.mean = in->mean;
        p.std = in->stddev;
        p.expected_std = in->stddev;
        break;
    case NNINIT_RANDOM_UNIFORM:
    case NNINIT_TORCH_UNIFORM:
        p.kind = NNINIT_PRIM_UNIFORM;
        p.lo = in->minval;
        p.hi = in->maxval;
        break;
    case NNINIT_TRUNCATED_NORMAL:
        /* Keras: values more than 2 stddev from the mean are redrawn. */
        p.kind = NNINIT_PRIM_TRUNC_NORMAL;
        p.mean = in->mean;
        p.std = in->stddev;
        p.a = in->mean - 2.0 * in->stddev;
        p.b = in->mean + 2.0 * in->stddev;
        break;
    case NNINIT_TORCH_TRUNC_NORMAL:
        p.kind = NNINIT_PRIM_TRUNC_NORMAL;
        p.mean = in->mean;
        p.std = in->stddev;
        p.a = in->a;
        p.b = in->b;
        break;
    case NNINIT_VARIANCE_SCALING: case NNINIT_GLOROT_NORMAL: case NNINIT_GLOROT_UNIFORM:
    case NNINIT_HE_NORMAL: case NNINIT_HE_UNIFORM: case NNINIT_LECUN_NORMAL: case NNINIT_LECUN_UNIFORM: {
        /* the named members fix (scale, mode, distribution) whatever the fields hold */
        nninit_init fixed = in->kind == NNINIT_VARIANCE_SCALING ? *in : nninit_init_default(in->kind);
        double scale = fixed.scale, n;
        if (fixed.mode == NNINIT_FAN_IN)
            n = fmax(1.0, (double)fi);
        else if (fixed.mode == NNINIT_FAN_OUT)
            n = fmax(1.0, (double)fo);
        else
            n = fmax(1.0, ((double)fi + (double)fo) / 2.0);
        scale /= n;
        if (fixed.distribution == NNINIT_DIST_TRUNCATED_NORMAL) {
            double stddev = sqrt(scale) / KERAS_TRUNC_STD;
            p.kind = NNINIT_PRIM_TRUNC_NORMAL;
            p.std = stddev;
            p.a = -2.0 * stddev;
            p.b = 2.0 * stddev;
        } else if (fixed.distribution == NNINIT_DIST_UNTRUNCATED_NORMAL) {
            p.kind = NNINIT_PRIM_NORMAL;
            p.std = sqrt(scale);
            p.expected_std = p.std;
        } else {
            double limit = sqrt(3.0 * scale);
            p.kind = NNINIT_PRIM_UNIFORM;
            p.lo = -limit;
            p.hi = limit;
        }
        break;
    }
    case NNINIT_TORCH_XAVIER_UNIFORM:
    case NNINIT_TORCH_XAVIER_NORMAL: {
        double std = in->gain * sqrt(2.0 / (double)(fi + fo));
        if (in->kind == NNINIT_TORCH_XAVIER_UNIFORM) {
            double a = sqrt(3.0) * std;
            p.kind = NNINIT_PRIM_UNIFORM;
            p.lo = -a;
            p.hi = a;
        } else {
            p.kind = NNINIT_PRIM_NORMAL;
            p.std = std;
            p.expected_std = std;
        }
        break;
    }
    case NNINIT_TORCH_KAIMING_UNIFORM:
    case NNINIT_TORCH_KAIMING_NORMAL: {
        int64_t fan = in->mode == NNINIT_FAN_IN ? fi : fo;
        if (fan == 0)
            return nninit__err(err, NNINIT_EINVAL, "%s: fan is 0", KINDS[in->kind].name);
        double gain = gain_of(in->nonlinearity, !in->neg_slope_none, in->neg_slope);
        double std = gain / sqrt((double)fan);
        if (in->kind == NNINIT_TORCH_KAIMING_UNIFORM) {
            double bound = sqrt(3.0) * std;
            p.kind = NNINIT_PRIM_UNIFORM;
            p.lo = -bound;
            p.hi = bound;
        } else {
            p.kind = NNINIT_PRIM_NORMAL;
            p.std = std;
            p.expected_std = std;
        }
        break;
    }
    case NNINIT_ORTHOGONAL:
    case NNINIT_TORCH_ORTHOGONAL:
        if ((st = need_rank(in, shape, 2, NNINIT_MAX_DIMS, err)) != NNINIT_OK)
            return st;
        p.kind = NNINIT_PRIM_ORTHOGONAL;
        p.gain = in->gain;
        if (in->kind == NNINIT_ORTHOGONAL) {
            p.cols = shape->dim[shape->ndim - 1];
            p.rows = numel / p.cols;
        } else {
            p.rows = shape->dim[0];
            p.cols = numel / p.rows;
            p.torch_flatten = 1;
        }
        p.expected_std = fabs(in->gain) / sqrt((double)(p.rows > p.cols ? p.rows : p.cols));
        break;
    case NNINIT_IDENTITY:
    case NNINIT_TORCH_EYE:
        if ((st = need_rank(in, shape, 2, 2, err)) != NNINIT_OK)
            return st;
        p.kind = NNINIT_PRIM_EYE;
        p.gain = in->kind == NNINIT_IDENTITY ? in->gain : 1.0;
        p.rows = shape->dim[0];
        p.cols = shape->dim[1];
        break;
    case NNINIT_TORCH_DIRAC:
        if ((st = need_rank(in, shape, 3, 5, err)) != NNINIT_OK)
            return st;
        if (shape->dim[0] % in->groups != 0)
            return nninit__err(err, NNINIT_EINVAL, "dirac_: dim 0 (%" PRId64 ") is not divisible by groups (%" PRId64 ")",
                               shape->dim[0], in->groups);
        p.kind = NNINIT_PRIM_DIRAC;
        p.groups = in->groups;
        break;
    case NNINIT_TORCH_SPARSE:
        if ((st = need_rank(in, shape, 2, 2, err)) != NNINIT_OK)
            return st;
        p.kind = NNINIT_PRIM_SPARSE;
        p.rows = shape->dim[0];
        p.cols = shape->dim[1];
        p.std = in->stddev;
        p.sparsity = in->sparsity;
        {
            int64_t zeros = (int64_t)ceil(in->sparsity * (double)p.rows);
            p.expected_std = in->stddev * sqrt((double)(p.rows - zeros) / (double)p.rows);
        }
        break;
    case NNINIT_DELTA_ORTHOGONAL: {
        if ((st = need_rank(in, shape, 2, NNINIT_MAX_DIMS, err)) != NNINIT_OK)
            return st;
        int nd = shape->ndim;
        p.kind = NNINIT_PRIM_DELTA_ORTHOGONAL;
        p.gain = in->gain;
        p.torch_flatten = layout == NNINIT_LAYOUT_TORCH;
        p.rows = layout == NNINIT_LAYOUT_TORCH ? shape->dim[1] : shape->dim[nd - 2]; /* in */
        p.cols = layout == NNINIT_LAYOUT_TORCH ? shape->dim[0] : shape->dim[nd - 1]; /* out */
        p.expected_std = fabs(in->gain) * sqrt((double)(p.rows < p.cols ? p.rows : p.cols) / (double)numel);
        break;
    }
    case NNINIT_IDENTITY_RECURRENT: {
        if ((st = need_rank(in, shape, 2, 2, err)) != NNINIT_OK)
            return st;
        int64_t r = shape->dim[0], c = shape->dim[1];
        int64_t lo = r < c ? r : c, hi = r < c ? c : r;
        if (hi % lo != 0)
            return nninit__err(err, NNINIT_EINVAL,
                               "identity_recurrent: shape [%" PRId64 ", %" PRId64 "] is not a stack of square gate "
                               "blocks; the larger dimension must be a multiple of the smaller",
                               r, c);
        p.kind = NNINIT_PRIM_BLOCK_EYE;
        p.gain = in->gain;
        p.rows = r;
        p.cols = c;
        break;
    }
    case NNINIT_SCALED_RESIDUAL:
        p.kind = NNINIT_PRIM_NORMAL;
        p.std = in->stddev / sqrt((double)in->branches * (double)in->num_layers);
        p.expected_std = p.std;
        break;
    case NNINIT_FIXUP: {
        /* He normal (untruncated, fan_in) rescaled by L^(-1/(2m-2)) */
        double he = sqrt(2.0 / fmax(1.0, (double)fi));
        p.kind = NNINIT_PRIM_NORMAL;
        p.std = he * pow((double)in->num_layers, -1.0 / (2.0 * (double)in->fixup_m - 2.0));
        p.expected_std = p.std;
        break;
    }
    case NNINIT_STFT:
        /* Keras unpacks frame_length, input_channels, fft_length = shape */
        if ((st = need_rank(in, shape, 3, 3, err)) != NNINIT_OK)
            return st;
        if (shape->dim[2] < 2)
            return nninit__err(err, NNINIT_EINVAL,
                               "stft: %lld frequency bins; the last dimension (fft_length // 2 + 1) must be >= 2",
                               (long long)shape->dim[2]);
        if (in->stft_window == NNINIT_WINDOW_VALUES && in->stft_window_len != shape->dim[0])
            return nninit__err(err, NNINIT_EINVAL, "stft: the window has %lld values but the frame length (the "
                               "kernel's first dimension) is %lld; Keras requires one value per frame sample",
                               (long long)in->stft_window_len, (long long)shape->dim[0]);
        p.kind = NNINIT_PRIM_STFT;
        p.rows = shape->dim[0];
        p.cols = shape->dim[2];
        break;
    default:
        return nninit__err(err, NNINIT_EINVAL, "initializer kind %d is not in the catalogue", (int)in->kind);
    }
    if (p.kind == NNINIT_PRIM_UNIFORM)
        p.expected_std = (p.hi - p.lo) / sqrt(12.0);
    if (p.kind == NNINIT_PRIM_TRUNC_NORMAL)
        p.expected_std = trunc_std(p.std, (p.a - p.mean) / p.std, (p.b - p.mean) / p.std);
    *out = p;
    return NNINIT_OK;
}
