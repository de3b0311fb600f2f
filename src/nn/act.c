/* Activations: forward and backward on (rows, n) float32 arrays, formulas
 * as keras.activations defines them (gelu: the exact form, seq_gelu.c). */
#include "nn/internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* SELU constants (Klambauer et al. 2017; keras.activations.selu). */
#define SELU_ALPHA 1.6732632423543772848170429916717
#define SELU_SCALE 1.0507009873554804934193349852946

static const char *const act_names[NNINIT_ACT_COUNT] = {
    "linear", "relu", "leaky_relu", "elu", "selu", "gelu", "swish", "tanh", "sigmoid", "softmax", "gelu_tanh",
};

const char *nninit_act_name(nninit_act act)
{
    return (unsigned)act < NNINIT_ACT_COUNT ? act_names[act] : "unknown";
}

/* The one activation-text parser (the theory's nninit_theory_act_parse uses
 * it with its own name table). The parameter of leaky_relu and elu may be any
 * finite number, negative included: torch.nn.LeakyReLU(negative_slope),
 * torch.nn.ELU(alpha), keras.activations.leaky_relu and keras.activations.elu
 * all accept one (only the keras.layers.LeakyReLU constructor refuses a
 * negative slope), and the forward/backward formulas hold for any sign. */
nninit_status nninit__act_parse_table(const char *text, const char *const *names, int n_names, int *index,
                                      double *alpha, nninit_err *err)
{
    if (!text || !index)
        return nninit__err(err, NNINIT_EMISUSE, "activation parser: NULL argument");
    for (const char *c = text; *c; c++)
        if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f) /* keep the message one printable line */
            return nninit__err(err, NNINIT_EINVAL, "activation name: byte 0x%02x at offset %d is not printable "
                               "ASCII; expected e.g. relu or leaky_relu(0.1)", (unsigned char)*c, (int)(c - text));
    char name[32];
    size_t len = strcspn(text, "(");
    if (len == 0 || len >= sizeof name) {
        char list[256] = "";
        size_t used = 0;
        for (int i = 0; i < n_names && used < sizeof list; i++)
            used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", names[i]);
        return nninit__err(err, NNINIT_EINVAL, "activation '%.64s': not a name; expected one of %s", text, list);
    }
    memcpy(name, text, len);
    name[len] = '\0';
    if (!strcmp(name, "silu"))
        memcpy(name, "swish", sizeof "swish");
    int found = -1;
    for (int i = 0; i < n_names; i++)
        if (!strcmp(name, names[i]))
            found = i;
    if (found < 0) {
        int best = 0, best_d = 1 << 30;
        for (int i = 0; i < n_names; i++) {
            int d = nninit__edit_distance(name, names[i]);
            if (d < best_d)
                best_d = d, best = i;
        }
        return nninit__err(err, NNINIT_ENOTFOUND, "unknown activation '%s'; did you mean '%s'?", name, names[best]);
    }
    int leaky = !strcmp(name, "leaky_relu"), elu = !strcmp(name, "elu");
    double a = leaky ? 0.2 : elu ? 1.0 : 0.0; /* keras.activations' defaults */
    if (text[len] == '(') {
        if (!leaky && !elu)
            return nninit__err(err, NNINIT_EINVAL, "activation '%.64s': %s takes no parameter; only leaky_relu "
                               "and elu do", text, name);
        const char *p = text + len + 1;
        if (!strncmp(p, "alpha=", 6))
            p += 6;
        else if (!strncmp(p, "negative_slope=", 15))
            p += 15;
        char *end = NULL;
        a = strtod(p, &end);
        if (end == p || strcmp(end, ")") || !isfinite(a))
            return nninit__err(err, NNINIT_EINVAL, "activation '%.64s': bad parameter; expected a finite number "
                               "as in %s(0.1)", text, name);
    }
    *index = found;
    if (alpha)
        *alpha = a;
    return NNINIT_OK;
}

nninit_status nninit_act_parse(const char *text, nninit_act *act, double *alpha, nninit_err *err)
{
    if (!text || !act)
        return nninit__err(err, NNINIT_EMISUSE, "nninit_act_parse: NULL argument");
    int i = 0;
    nninit_status s = nninit__act_parse_table(text, act_names, NNINIT_ACT_COUNT, &i, alpha, err);
    if (s == NNINIT_OK)
        *act = (nninit_act)i;
    return s;
}

/* ReLU is on the hot path of every training step: these loops are written
 * without branches (a random sign pattern defeats branch prediction) and,
 * with GCC/Clang vector extensions, four lanes at a time (SSE2 baseline). The
 * lanes compute exactly what the scalar tail computes. */
#if defined(__GNUC__)
typedef float v4sf __attribute__((vector_size(16)));
typedef int32_t v4si __attribute__((vector_size(16)));
#define HAVE_V4 1
#else
#define HAVE_V4 0
#endif

static float mask_f(float v, int keep)
{
    uint32_t bits;
    memcpy(&bits, &v, sizeof bits);
    bits &= (uint32_t)0 - (uint32_t)keep;
    memcpy(&v, &bits, sizeof v);
    return v;
}

#if defined(__x86_64__) && defined(__GNUC__)
typedef float v8sf __attribute__((vector_size(32)));
typedef int32_t v8si __attribute__((vector_size(32)));

/* relu_fwd eight lanes at a time (AVX2), the same masking; returns the
 * elements done. */
__attribute__((target("avx2"))) static int64_t relu_fwd_avx2(const float *z, float *a, int64_t n)
{
    const v8sf zero = {0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        v8sf v;
        v8si bits;
        memcpy(&v, z + i, sizeof v);
        memcpy(&bits, &v, sizeof bits);
        bits &= (v8si)(v > zero);
        memcpy(a + i, &bits, sizeof bits);
    }
    return i;
}
#define HAVE_AVX2_RELU 1
#else
#define HAVE_AVX2_RELU 0
#endif

/* a = z > 0 ? z : 0 (NaN gives 0) */
static void relu_fwd(const float *z, float *a, int64_t n)
{
    int64_t i = 0;
#if HAVE_AVX2_RELU
    if (__builtin_cpu_supports("avx2"))
        i = relu_fwd_avx2(z, a, n);
#endif
#if HAVE_V4
    const v4sf zero = {0.0f, 0.0f, 0.0f, 0.0f};
    for (; i + 4 <= n; i += 4) {
        v4sf v;
        v4si bits;
        memcpy(&v, z + i, sizeof v);
        v4si m = v > zero;
        memcpy(&bits, &v, sizeof bits);
        bits &= m;
        memcpy(a + i, &bits, sizeof bits);
    }
#endif
    for (; i < n; i++)
        a[i] = mask_f(z[i], z[i] > 0.0f);
}

/* dz = z > 0 ? da : 0 */
static void relu_bwd(const float *z, const float *da, float *dz, int64_t n)
{
    int64_t i = 0;
#if HAVE_V4
    const v4sf zero = {0.0f, 0.0f, 0.0f, 0.0f};
    for (; i + 4 <= n; i += 4) {
        v4sf v, g;
        v4si bits;
        memcpy(&v, z + i, sizeof v);
        memcpy(&g, da + i, sizeof g);
        v4si m = v > zero;
        memcpy(&bits, &g, sizeof bits);
        bits &= m;
        memcpy(dz + i, &bits, sizeof bits);
    }
#endif
    for (; i < n; i++)
        dz[i] = mask_f(da[i], z[i] > 0.0f);
}

#define sigmoidf_ nninit__sigmoidf

static void softmax_rows(const float *z, float *a, int64_t rows, int64_t n)
{
    for (int64_t r = 0; r < rows; r++) {
        const float *zr = z + r * n;
        float *ar = a + r * n;
        float mx = zr[0];
        for (int64_t j = 1; j < n; j++)
            mx = zr[j] > mx ? zr[j] : mx;
        double sum = 0.0;
        for (int64_t j = 0; j < n; j++) {
            ar[j] = expf(zr[j] - mx); /* shifted by the row max: no overflow */
            sum += (double)ar[j];
        }
        float inv = (float)(1.0 / sum);
        for (int64_t j = 0; j < n; j++)
            ar[j] *= inv;
    }
}

void nninit_act_forward(nninit_act act, double alpha, const float *z, float *a, int64_t rows, int64_t n)
{
    int64_t total = rows * n;
    float al = (float)alpha;
    switch (act) {
    case NNINIT_ACT_LINEAR:
        if (a != z)
            memcpy(a, z, (size_t)total * sizeof *a);
        break;
    case NNINIT_ACT_RELU:
        relu_fwd(z, a, total);
        break;
    case NNINIT_ACT_LEAKY_RELU:
        for (int64_t i = 0; i < total; i++)
            a[i] = z[i] >= 0.0f ? z[i] : al * z[i];
        break;
    case NNINIT_ACT_ELU: /* expm1 keeps precision near 0 */
        for (int64_t i = 0; i < total; i++)
            a[i] = z[i] > 0.0f ? z[i] : al * expm1f(z[i]);
        break;
    case NNINIT_ACT_SELU:
        for (int64_t i = 0; i < total; i++)
            a[i] = (float)SELU_SCALE * (z[i] > 0.0f ? z[i] : (float)SELU_ALPHA * expm1f(z[i]));
        break;
    case NNINIT_ACT_GELU: /* z * Phi(z), vectorised (seq_gelu.c) */
    case NNINIT_ACT_GELU_TANH: /* its tanh form, same file */
        nninit__gelu_forward(act == NNINIT_ACT_GELU_TANH, z, total, a, NULL);
        break;
    case NNINIT_ACT_SWISH:
        for (int64_t i = 0; i < total; i++)
            a[i] = z[i] * sigmoidf_(z[i]);
        break;
    case NNINIT_ACT_TANH:
        for (int64_t i = 0; i < total; i++)
            a[i] = tanhf(z[i]);
        break;
    case NNINIT_ACT_SIGMOID:
        for (int64_t i = 0; i < total; i++)
            a[i] = sigmoidf_(z[i]);
        break;
    case NNINIT_ACT_SOFTMAX:
        softmax_rows(z, a, rows, n);
        break;
    default:
        break;
    }
}

void nninit_act_backward(nninit_act act, double alpha, const float *z, const float *a, const float *da, float *dz,
                         int64_t rows, int64_t n)
{
    int64_t total = rows * n;
    float al = (float)alpha;
    switch (act) {
    case NNINIT_ACT_LINEAR:
        if (dz != da)
            memcpy(dz, da, (size_t)total * sizeof *dz);
        break;
    case NNINIT_ACT_RELU: /* derivative 0 at z = 0, as every framework takes it */
        relu_bwd(z, da, dz, total);
        break;
    case NNINIT_ACT_LEAKY_RELU:
        for (int64_t i = 0; i < total; i++)
            dz[i] = z[i] >= 0.0f ? da[i] : al * da[i];
        break;
    case NNINIT_ACT_ELU: /* d/dz alpha (e^z - 1) = a + alpha for z <= 0 */
        for (int64_t i = 0; i < total; i++)
            dz[i] = z[i] > 0.0f ? da[i] : da[i] * (a[i] + al);
        break;
    case NNINIT_ACT_SELU: /* scale alpha e^z = a + scale alpha for z <= 0 */
        for (int64_t i = 0; i < total; i++)
            dz[i] = z[i] > 0.0f ? da[i] * (float)SELU_SCALE : da[i] * (a[i] + (float)(SELU_SCALE * SELU_ALPHA));
        break;
    case NNINIT_ACT_GELU: /* Phi(z) + z phi(z) (seq_gelu.c) */
    case NNINIT_ACT_GELU_TANH:
        nninit__gelu_backward(act == NNINIT_ACT_GELU_TANH, z, NULL, da, total, dz);
        break;
    case NNINIT_ACT_SWISH: /* s + z s (1 - s) = s (1 + z (1 - s)) */
        for (int64_t i = 0; i < total; i++) {
            float s = sigmoidf_(z[i]);
            dz[i] = da[i] * s * (1.0f + z[i] * (1.0f - s));
        }
        break;
    case NNINIT_ACT_TANH:
        for (int64_t i = 0; i < total; i++)
            dz[i] = da[i] * (1.0f - a[i] * a[i]);
        break;
    case NNINIT_ACT_SIGMOID:
        for (int64_t i = 0; i < total; i++)
            dz[i] = da[i] * a[i] * (1.0f - a[i]);
        break;
    case NNINIT_ACT_SOFTMAX: /* dz_j = a_j (da_j - sum_k da_k a_k) */
        for (int64_t r = 0; r < rows; r++) {
            const float *ar = a + r * n, *dar = da + r * n;
            float *dzr = dz + r * n;
            double dot = 0.0;
            for (int64_t j = 0; j < n; j++)
                dot += (double)dar[j] * (double)ar[j];
            for (int64_t j = 0; j < n; j++)
                dzr[j] = ar[j] * (dar[j] - (float)dot);
        }
        break;
    default:
        break;
    }
}
