/* Which initializer fits a stored tensor (nninit inspect): its moments and
 * distribution shape, the std each common initializer gives for its shape
 * under a layout, orthogonality, PyTorch's default bias, and the verdict. */
#include "analysis/theory_internal.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const dist_names[] = {"uniform", "truncated normal", "normal", "any"};

const char *nninit_fit_dist_name(nninit_fit_dist s)
{
    return (unsigned)s <= NNINIT_FIT_ANY ? dist_names[s] : "unknown";
}

/* Two passes in double over the converted values (chunked to bound memory). */
static int compute_moments(const nninit_tensor_info *info, const void *raw, nninit_fit *m)
{
    int bits = nninit_file_dtype_bits(info->dtype);
    int64_t n = (int64_t)(info->nbytes * 8 / (uint64_t)(bits ? bits : 8));
    enum { CH = 65536 };
    double *buf = malloc(CH * sizeof *buf);
    if (!buf)
        return 0;
    m->min = (double)INFINITY;
    m->max = -(double)INFINITY;
    double sum = 0;
    int64_t finite = 0;
    const unsigned char *p = raw;
    size_t width = (size_t)bits / 8;
    for (int pass = 0; pass < 2; pass++) {
        double s2 = 0, s4 = 0;
        for (int64_t i = 0; i < n; i += CH) {
            size_t k = (size_t)(n - i < CH ? n - i : CH);
            if (nninit_convert(info->dtype, p + (size_t)i * width, NNINIT_FD_F64, buf, k, NULL) != NNINIT_OK) {
                free(buf);
                return 0;
            }
            for (size_t j = 0; j < k; j++) {
                double v = buf[j];
                if (!isfinite(v)) {
                    if (pass == 0)
                        m->n_nonfinite++;
                    continue;
                }
                if (pass == 0) {
                    sum += v;
                    finite++;
                    if (v < m->min)
                        m->min = v;
                    if (v > m->max)
                        m->max = v;
                } else {
                    double d = v - m->mean;
                    s2 += d * d;
                    s4 += d * d * d * d;
                }
            }
        }
        if (pass == 0) {
            m->n = finite;
            m->mean = finite ? sum / (double)finite : (double)NAN;
        } else if (finite) {
            double var = s2 / (double)finite;
            m->std = sqrt(var);
            m->excess_kurtosis = var > 0 ? s4 / (double)finite / (var * var) - 3.0 : (double)NAN;
        }
    }
    if (!finite)
        m->min = m->max = m->std = m->excess_kurtosis = (double)NAN;
    free(buf);
    return 1;
}

/* Distribution shapes told apart by excess kurtosis: uniform -1.2,
 * normal truncated at +-2 sigma (Keras) -0.64, normal 0. */
static nninit_fit_dist classify(const nninit_fit *m)
{
    if (m->n < 100 || !isfinite(m->excess_kurtosis))
        return NNINIT_FIT_ANY;
    const double k[3] = {-1.2, -0.6376, 0.0};
    nninit_fit_dist best = NNINIT_FIT_UNIFORM;
    for (int i = 1; i < 3; i++)
        if (fabs(m->excess_kurtosis - k[i]) < fabs(m->excess_kurtosis - k[best]))
            best = (nninit_fit_dist)i;
    return best;
}

static const struct {
    const char *label, *spec;
    nninit_fit_dist shape;
} candidates[] = {
    {"glorot_uniform / xavier_uniform_", "glorot_uniform", NNINIT_FIT_UNIFORM},
    {"glorot_normal (Keras)", "glorot_normal", NNINIT_FIT_TRUNCATED_NORMAL},
    {"xavier_normal_ (torch)", "xavier_normal_", NNINIT_FIT_NORMAL},
    {"he_uniform / kaiming_uniform_(a=0)", "he_uniform", NNINIT_FIT_UNIFORM},
    {"he_normal (Keras)", "he_normal", NNINIT_FIT_TRUNCATED_NORMAL},
    {"kaiming_normal_(a=0) (torch)", "kaiming_normal_", NNINIT_FIT_NORMAL},
    {"lecun_uniform", "lecun_uniform", NNINIT_FIT_UNIFORM},
    {"lecun_normal (Keras)", "lecun_normal", NNINIT_FIT_TRUNCATED_NORMAL},
    {"torch default: kaiming_uniform_(a=sqrt(5))", "kaiming_uniform_(a=2.23606797749979)", NNINIT_FIT_UNIFORM},
    {"orthogonal", "orthogonal", NNINIT_FIT_NORMAL},
    {"random_normal(stddev=0.05)", "random_normal", NNINIT_FIT_NORMAL},
    {"truncated_normal(stddev=0.05)", "truncated_normal", NNINIT_FIT_TRUNCATED_NORMAL},
    {"random_uniform(-0.05, 0.05)", "random_uniform", NNINIT_FIT_UNIFORM},
    {"normal_(0, 1) (torch Embedding)", "normal_", NNINIT_FIT_NORMAL},
};
#define N_CAND (int)(sizeof candidates / sizeof candidates[0])
_Static_assert(sizeof candidates / sizeof candidates[0] <= NNINIT_FIT_MAX_CANDIDATES, "candidate table too long");

/* Orthogonality of a weight flattened as its initializer would (Keras:
 * (prod(shape[:-1]), shape[-1]); torch: (shape[0], prod(shape[1:]))):
 * G = the Gram matrix of the smaller side, gain^2 = mean(diag G),
 * *dev = max |G_ij / gain^2 - delta_ij|. Only for sizes where the
 * O(rows cols min(rows, cols)) product is cheap; returns 0 when skipped. */
static int orthogonality(const nninit_tensor_info *info, const void *raw, nninit_layout layout, double *gain,
                         double *dev)
{
    const nninit_shape *sh = &info->shape;
    if (sh->ndim < 2)
        return 0;
    int64_t rows = 1, cols = 1;
    if (layout == NNINIT_LAYOUT_KERAS) {
        for (int d = 0; d < sh->ndim - 1; d++)
            rows *= sh->dim[d];
        cols = sh->dim[sh->ndim - 1];
    } else {
        rows = sh->dim[0];
        for (int d = 1; d < sh->ndim; d++)
            cols *= sh->dim[d];
    }
    int64_t small = rows < cols ? rows : cols, big = rows < cols ? cols : rows;
    if (small < 2 || small > 512 || big > ((int64_t)1 << 20) || small * small * big > ((int64_t)1 << 28))
        return 0;
    double *a = malloc((size_t)(rows * cols) * sizeof *a), *g = calloc((size_t)(small * small), sizeof *g);
    if (!a || !g || nninit_convert(info->dtype, raw, NNINIT_FD_F64, a, (size_t)(rows * cols), NULL) != NNINIT_OK) {
        free(a);
        free(g);
        return 0;
    }
    /* G = A^T A (orthonormal columns) when rows >= cols, else A A^T. */
    for (int64_t k = 0; k < big; k++)
        for (int64_t i = 0; i < small; i++) {
            double x = rows >= cols ? a[k * cols + i] : a[i * cols + k];
            for (int64_t j = 0; j <= i; j++)
                g[i * small + j] += x * (rows >= cols ? a[k * cols + j] : a[j * cols + k]);
        }
    double g2 = 0;
    for (int64_t i = 0; i < small; i++)
        g2 += g[i * small + i];
    g2 /= (double)small;
    double worst = 0;
    for (int64_t i = 0; i < small && g2 > 0; i++)
        for (int64_t j = 0; j <= i; j++)
            worst = fmax(worst, fabs(g[i * small + j] / g2 - (i == j ? 1.0 : 0.0)));
    free(a);
    free(g);
    if (!(g2 > 0))
        return 0;
    *gain = sqrt(g2);
    *dev = worst;
    return 1;
}

nninit_status nninit_fit_tensor(nninit_tensor_file *tf, size_t i, nninit_layout layout, nninit_fit *out,
                                nninit_err *err)
{
    if (!tf || !out)
        return nninit__err(err, NNINIT_EMISUSE, "nninit_fit_tensor: NULL argument");
    const nninit_tensor_info *info = nninit_tensor_file_info(tf, i);
    if (!info)
        return nninit__err(err, NNINIT_EINVAL, "nninit_fit_tensor: no tensor %zu in the file", i);
    nninit_fit *m = out;
    memset(m, 0, sizeof *m);
    void *raw = malloc(info->nbytes ? (size_t)info->nbytes : 1);
    if (!raw)
        return nninit__err(err, NNINIT_ENOMEM, "%s: out of memory for %" PRIu64 " bytes", info->name, info->nbytes);
    nninit_status st = nninit_tensor_file_read(tf, i, raw, err);
    if (st != NNINIT_OK) {
        free(raw);
        return st;
    }
    m->orthogonality_error = 1;
    double probe;
    m->numeric = nninit_convert(info->dtype, raw, NNINIT_FD_F64, &probe, 0, NULL) == NNINIT_OK;
    if (m->numeric && !compute_moments(info, raw, m)) {
        free(raw);
        return nninit__err(err, NNINIT_ENOMEM, "%s: out of memory", info->name);
    }
    /* float32 rounding leaves |Q^T Q - I| ~ 1e-6 sqrt(n); 1e-3 is far from
     * any random matrix (whose off-diagonal Gram entries are ~ 1/sqrt(rows)). */
    if (m->numeric && orthogonality(info, raw, layout, &m->orthogonal_gain, &m->orthogonality_error))
        m->orthogonal = m->orthogonality_error < 1e-3;
    free(raw);
    m->has_fans = nninit_fans(&info->shape, layout, &m->fan_in, &m->fan_out, NULL) == NNINIT_OK;

    /* The std each candidate gives for this shape, and the closest one of
     * a matching distribution shape. */
    m->best = -1;
    m->shape = m->numeric ? classify(m) : NNINIT_FIT_ANY;
    m->constant = m->numeric && m->n > 0 && m->std == 0.0;
    m->n_candidates = N_CAND;
    for (int c = 0; c < N_CAND; c++) {
        nninit_init init;
        nninit_prim prim;
        nninit_fit_candidate *fc = &m->candidates[c];
        fc->label = candidates[c].label;
        fc->spec = candidates[c].spec;
        fc->shape = candidates[c].shape;
        fc->std = (double)NAN;
        if (!m->has_fans || nninit_init_parse(fc->spec, &init, NULL) != NNINIT_OK ||
            nninit_resolve(&init, &info->shape, layout, &prim, NULL) != NNINIT_OK)
            continue;
        fc->std = prim.expected_std;
        if (!m->numeric || m->constant || !(m->std > 0) || !(fc->std > 0))
            continue;
        if (m->shape != NNINIT_FIT_ANY && fc->shape != m->shape)
            continue;
        if (m->best < 0 || fabs(log(m->std / fc->std)) < fabs(log(m->std / m->candidates[m->best].std)))
            m->best = c;
    }
    /* A torch bias: nn.Linear / ConvNd draw it from U(+-1/sqrt(fan_in))
     * with the fan_in of the sibling "<prefix>weight". */
    m->torch_bias_std = (double)NAN;
    size_t nl = strlen(info->name);
    if (layout == NNINIT_LAYOUT_TORCH && info->shape.ndim == 1 && nl >= 4 && !strcmp(info->name + nl - 4, "bias")) {
        char *wname = malloc(nl + 3);
        size_t wi;
        int64_t fo, fan = 0;
        if (wname) {
            snprintf(wname, nl + 3, "%.*sweight", (int)(nl - 4), info->name);
            if (nninit_tensor_file_find(tf, wname, &wi, NULL) == NNINIT_OK &&
                nninit_fans(&nninit_tensor_file_info(tf, wi)->shape, layout, &fan, &fo, NULL) == NNINIT_OK &&
                fan > 0)
                m->torch_bias_std = 1.0 / sqrt((double)fan) / sqrt(3.0);
            free(wname);
        }
    }
    /* Match window: 10%, or 3 standard errors of the sample std when the
     * tensor is small. The relative standard error of a std estimated from
     * n values is sqrt((excess kurtosis + 2) / (4 n)) (uniform: 0.8/(4n)),
     * so a 10-element bias needs about +-42%. */
    double kx = m->numeric && isfinite(m->excess_kurtosis) ? fmin(fmax(m->excess_kurtosis, -1.2), 3.0) : 0.0;
    m->tol = m->numeric && m->n > 0 ? fmax(0.10, 3.0 * sqrt((kx + 2.0) / (4.0 * (double)m->n))) : 0.10;
    m->torch_bias_match = m->numeric && !m->constant && isfinite(m->torch_bias_std) &&
                          (m->shape == NNINIT_FIT_ANY || m->shape == NNINIT_FIT_UNIFORM) &&
                          fabs(m->std / m->torch_bias_std - 1.0) <= m->tol;
    if (m->best >= 0 && fabs(m->std / m->candidates[m->best].std - 1.0) > m->tol)
        m->best = -1;
    m->closest = m->orthogonal         ? NNINIT_FIT_ORTHOGONAL
                 : m->torch_bias_match ? NNINIT_FIT_TORCH_BIAS
                 : m->constant         ? NNINIT_FIT_CONSTANT
                 : m->best >= 0        ? NNINIT_FIT_CANDIDATE
                                       : NNINIT_FIT_NONE;
    return NNINIT_OK;
}

/* ---- which layout a file's names speak ---- */

/* The last part of a PyTorch state_dict name, as registered by torch.nn's modules. */
static int torch_leaf(const char *name)
{
    if (strchr(name, '/'))
        return 0;
    const char *leaf = strrchr(name, '.');
    leaf = leaf ? leaf + 1 : name;
    static const char *const whole[] = {"weight", "bias", "running_mean", "running_var", "num_batches_tracked",
                                        "in_proj_weight", "in_proj_bias", "q_proj_weight", "k_proj_weight",
                                        "v_proj_weight", "bias_k", "bias_v", "per_sample_weights"};
    static const char *const prefix[] = {"weight_ih_l", "weight_hh_l", "bias_ih_l", "bias_hh_l", "weight_hr_l"};
    for (size_t i = 0; i < sizeof whole / sizeof *whole; i++)
        if (!strcmp(leaf, whole[i]))
            return 1;
    for (size_t i = 0; i < sizeof prefix / sizeof *prefix; i++)
        if (!strncmp(leaf, prefix[i], strlen(prefix[i])))
            return 1;
    return 0;
}

/* A Keras variable path: "<layer>/.../<variable>" or a .weights.h5 "layers/<l>/vars/<i>". */
static int keras_leaf(const char *name)
{
    const char *leaf = strrchr(name, '/');
    if (!leaf)
        return 0;
    if (strstr(name, "vars/"))
        return 1;
    static const char *const vars[] = {"kernel", "bias", "gamma", "beta", "embeddings", "recurrent_kernel",
                                       "depthwise_kernel", "pointwise_kernel", "moving_mean", "moving_variance",
                                       "scale", "alpha"};
    for (size_t i = 0; i < sizeof vars / sizeof *vars; i++)
        if (!strcmp(leaf + 1, vars[i]))
            return 1;
    return 0;
}

nninit_layout nninit_fit_layout(const nninit_tensor_file *tf, char *why_buf, size_t why_cap)
{
    char none[1];
    if (!why_buf || !why_cap) {
        why_buf = none;
        why_cap = sizeof none;
    }
    const char *meta = nninit_tensor_file_metadata(tf, "nninit.layout");
    nninit_layout l;
    if (meta && nninit_layout_parse(meta, &l, NULL) == NNINIT_OK) {
        snprintf(why_buf, why_cap, "the file's nninit.layout");
        return l;
    }
    size_t torch = 0, keras = 0;
    const char *t_eg = NULL, *k_eg = NULL;
    for (size_t i = 0; i < nninit_tensor_file_count(tf); i++) {
        const char *nm = nninit_tensor_file_info(tf, i)->name;
        if (torch_leaf(nm)) {
            torch++;
            t_eg = t_eg ? t_eg : nm;
        } else if (keras_leaf(nm)) {
            keras++;
            k_eg = k_eg ? k_eg : nm;
        }
    }
    if (torch != keras) {
        snprintf(why_buf, why_cap, "%s names such as '%.80s'", torch > keras ? "PyTorch" : "Keras",
                 torch > keras ? t_eg : k_eg);
        return torch > keras ? NNINIT_LAYOUT_TORCH : NNINIT_LAYOUT_KERAS;
    }
    nninit_file_format f = nninit_tensor_file_format(tf);
    int st = f == NNINIT_FORMAT_SAFETENSORS || f == NNINIT_FORMAT_SAFETENSORS_INDEX;
    snprintf(why_buf, why_cap, "the default for %s", st ? "safetensors" : "this format");
    return st ? NNINIT_LAYOUT_TORCH : NNINIT_LAYOUT_KERAS;
}
