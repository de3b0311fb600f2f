/*
 * PyTorch's CPU transforms of the MT19937 stream, per kernel variant.
 * Sources (1.13.1): aten/src/ATen/core/TransformationHelper.h (uniform_real,
 * normal), core/DistributionsHelper.h (normal_distribution with the cached
 * value), native/cpu/DistributionTemplates.h (normal_fill, normal_fill_AVX2,
 * uniform_kernel), native/cpu/avx_mathfun.h (log256_ps, sincos256_ps),
 * native/Math.h (calc_erfinv).
 *
 * ATen compiles these once per CPU capability. The DEFAULT build is plain
 * C++ with separately rounded operations and libm calls; the AVX2 build is
 * compiled with -mavx2 -mfma and GCC contracts a*b+c into fused
 * multiply-adds. This file is compiled with -ffp-contract=off, so each
 * variant's fusion is written out with fma()/fmaf() where GCC fused it and
 * nowhere else; the AVX2 polynomials are plain C, so the AVX2 variant gives
 * the same bits on any machine (the DEFAULT variant calls libm, as PyTorch
 * does, and so matches PyTorch built against the same libm).
 */
#include "rng/torch_internal.h"

#include <math.h>
#include <string.h>

/* 2.0f * c10::pi<double>: a double; the DEFAULT kernel multiplies the float
 * u2 by it in double, the AVX2 kernel first rounds it to float. */
#define TORCH_TWO_PI 6.283185307179586
#define TORCH_TWO_PI_F ((float)TORCH_TWO_PI)

nninit__torch_arith nninit__torch_arith_of(const nninit_rng *rng)
{
    nninit__torch_arith ar = {0, 0};
    switch (rng->resolved) {
    case NNINIT_RNG_TORCH_AVX2: ar.avx2 = 1; break;
    case NNINIT_RNG_TORCH2_AVX2: ar.avx2 = 1; ar.v2 = 1; break;
    case NNINIT_RNG_TORCH2_DEFAULT: ar.v2 = 1; break;
    case NNINIT_RNG_TORCH: ar.avx2 = nninit__torch_cpu_has_avx2(); break;
    case NNINIT_RNG_TORCH2: ar.avx2 = nninit__torch_cpu_has_avx2(); ar.v2 = 1; break;
    default: break;
    }
    return ar;
}

/* ---- uniform_real: float takes the low 24 bits of one 32-bit draw, double
 * the low 53 bits of one 64-bit draw; then x * (to - from) + from ---- */

static float unit_f32(nninit_rng *rng)
{
    return (float)(nninit__torch_next32(rng) & 0xffffffu) * 0x1p-24f;
}

static double unit_f64(nninit_rng *rng)
{
    return (double)(nninit__torch_next64(rng) & 0x1fffffffffffffull) * 0x1p-53;
}

/* The reference: one draw per element (two for float64) through next32. */
static void uniform_ref(nninit_rng *rng, nninit__torch_arith ar, nninit_dtype dtype, double from, double to,
                        void *out, int64_t n)
{
    if (dtype == NNINIT_F64) {
        double *o = out;
        double range = to - from;
        for (int64_t i = 0; i < n; i++) {
            double x = unit_f64(rng);
            o[i] = ar.avx2 ? fma(x, range, from) : x * range + from;
            if (ar.v2 && o[i] == to) /* 2.x uniform_kernel: a value rounded up to `to` becomes `from` */
                o[i] = from;
        }
    } else {
        float *o = out;
        float f = (float)from, t = (float)to;
        float range = t - f;
        for (int64_t i = 0; i < n; i++) {
            float x = unit_f32(rng);
            o[i] = ar.avx2 ? fmaf(x, range, f) : x * range + f;
            if (ar.v2 && o[i] == t)
                o[i] = f;
        }
    }
}

#ifdef NNINIT__HAVE_X86_SIMD
#define RUN 4096 /* words drawn at a time (16 KiB, stays in L1) */

/* The fast path: runs of words from nninit__torch_words, transformed eight
 * (four) elements at a time by torch_avx2.c, the last few by the reference
 * arithmetic on the same words. */
static void uniform_fast(nninit_rng *rng, nninit__torch_arith ar, nninit_dtype dtype, double from, double to,
                         void *out, int64_t n)
{
    uint32_t w[RUN];
    if (dtype == NNINIT_F64) {
        double *o = out;
        double range = to - from;
        for (int64_t done = 0; done < n;) {
            size_t m = (size_t)(n - done < RUN / 2 ? n - done : RUN / 2);
            nninit__torch_words(rng, w, 2 * m);
            size_t i = nninit__torch_avx2_uniform_f64(w, m, o + done, from, range, to, ar);
            for (; i < m; i++) {
                double x = (double)((((uint64_t)w[2 * i] << 32) | w[2 * i + 1]) & 0x1fffffffffffffull) * 0x1p-53;
                double v = ar.avx2 ? fma(x, range, from) : x * range + from;
                o[done + i] = ar.v2 && v == to ? from : v;
            }
            done += (int64_t)m;
        }
    } else {
        float *o = out;
        float f = (float)from, t = (float)to;
        float range = t - f;
        for (int64_t done = 0; done < n;) {
            size_t m = (size_t)(n - done < RUN ? n - done : RUN);
            nninit__torch_words(rng, w, m);
            size_t i = nninit__torch_avx2_uniform_f32(w, m, o + done, f, range, t, ar);
            for (; i < m; i++) {
                float x = (float)(w[i] & 0xffffffu) * 0x1p-24f;
                float v = ar.avx2 ? fmaf(x, range, f) : x * range + f;
                o[done + i] = ar.v2 && v == t ? f : v;
            }
            done += (int64_t)m;
        }
    }
}
#endif

void nninit__torch_uniform(nninit_rng *rng, nninit__torch_arith ar, nninit_dtype dtype, double from, double to,
                           void *out, int64_t n)
{
#ifdef NNINIT__HAVE_X86_SIMD
    if (nninit__torch_simd()) {
        uniform_fast(rng, ar, dtype, from, to, out, n);
        return;
    }
#endif
    uniform_ref(rng, ar, dtype, from, to, out, n);
}

/* ---- avx_mathfun.h lane arithmetic (Cephes single-precision log and
 * sincos, Pommier/Garberoglio), with the fusion pattern GCC 12 produced in
 * Debian's 1.13.1 AVX2 build: every Horner step fused; in log the y*z
 * product fused with the e*q1 term, then y - z*0.5 and x + y + e*q2 fused;
 * in sincos the three Cody-Waite steps fused, the cosine tail
 * fma(y*z, z, -(z*0.5)) and the sine tail fma(y*z, x, x). ---- */

float nninit__torch_avx_logf(float x)
{
    int invalid = x <= 0.0f; /* _CMP_LE_OS: false for NaN (max() below then maps NaN to min_norm) */
    if (!(x >= 0x1p-126f))
        x = 0x1p-126f; /* _mm256_max_ps(x, min_norm_pos) returns the second operand for NaN */
    uint32_t bits = nninit__f2u(x);
    int32_t imm0 = (int32_t)(bits >> 23) - 0x7f;
    x = nninit__u2f((bits & ~0x7f800000u) | nninit__f2u(0.5f));
    float e = (float)imm0 + 1.0f;
    int mask = x < 0.707106781186547524f;
    float tmp = mask ? x : 0.0f;
    x = x - 1.0f;
    e = e - (mask ? 1.0f : 0.0f);
    x = x + tmp;
    float z = x * x;
    float y = fmaf(7.0376836292E-2f, x, -1.1514610310E-1f);
    y = fmaf(y, x, 1.1676998740E-1f);
    y = fmaf(y, x, -1.2420140846E-1f);
    y = fmaf(y, x, +1.4249322787E-1f);
    y = fmaf(y, x, -1.6668057665E-1f);
    y = fmaf(y, x, +2.0000714765E-1f);
    y = fmaf(y, x, -2.4999993993E-1f);
    y = fmaf(y, x, +3.3333331174E-1f);
    y = y * x;
    y = fmaf(y, z, e * -2.12194440e-4f);
    y = fmaf(-z, 0.5f, y);
    x = fmaf(e, 0.693359375f, x + y);
    if (invalid)
        x = nninit__u2f(nninit__f2u(x) | 0xffffffffu); /* OR with an all-ones mask: a NaN */
    return x;
}

void nninit__torch_avx_sincosf(float x, float *s, float *c)
{
    uint32_t sign_sin = nninit__f2u(x) & 0x80000000u;
    x = nninit__u2f(nninit__f2u(x) & 0x7fffffffu);
    float y = x * 1.27323954473516f; /* 4/pi */
    /* _mm256_cvttps_epi32: truncation (INT_MIN for out-of-range; never
     * reached for the angles in [0, 2*pi) the normal kernel passes) */
    int32_t j = (y < 2147483648.0f) ? (int32_t)y : INT32_MIN;
    j = (int32_t)(((uint32_t)j + 1u) & ~1u);
    y = (float)j;
    uint32_t swap_sin = ((uint32_t)j & 4u) << 29;
    int poly_mask = ((uint32_t)j & 2u) == 0;
    x = fmaf(y, -0.78515625f, x);
    x = fmaf(y, -2.4187564849853515625e-4f, x);
    x = fmaf(y, -3.77489497744594108e-8f, x);
    uint32_t sign_cos = (~((uint32_t)j - 2u) & 4u) << 29;
    sign_sin ^= swap_sin;

    float z = x * x;
    float yc = fmaf(2.443315711809948E-005f, z, -1.388731625493765E-003f);
    yc = fmaf(yc, z, 4.166664568298827E-002f);
    yc = yc * z;
    yc = fmaf(yc, z, -(z * 0.5f));
    yc = yc + 1.0f;

    float ys = fmaf(-1.9515295891E-4f, z, 8.3321608736E-3f);
    ys = fmaf(ys, z, -1.6666654611E-1f);
    ys = ys * z;
    ys = fmaf(ys, x, x);

    /* The kernel's branch-free selection, kept literally because its
     * additions of +0 decide the sign of zero results. */
    float ysin2 = poly_mask ? ys : 0.0f;
    float ysin1 = poly_mask ? 0.0f : yc;
    ys = ys - ysin2;
    yc = yc - ysin1;
    float sv = ysin1 + ysin2;
    float cv = yc + ys;
    *s = nninit__u2f(nninit__f2u(sv) ^ sign_sin);
    *c = nninit__u2f(nninit__f2u(cv) ^ sign_cos);
}

/* ---- normal_: the vectorised path (n >= 16, contiguous) ---- */

/* normal_fill_16 on one block of 16 uniforms in place. */
static void block16_f32(float *d, nninit__torch_arith ar, float mean, float std)
{
    for (int j = 0; j < 8; j++) {
        float u1 = 1.0f - d[j]; /* [0, 1) -> (0, 1] for the log */
        float u2 = d[j + 8];
        float c, s;
        if (ar.avx2) {
            float radius = sqrtf(-2.0f * nninit__torch_avx_logf(u1));
            nninit__torch_avx_sincosf(TORCH_TWO_PI_F * u2, &s, &c);
            d[j] = fmaf(radius * c, std, mean); /* explicit _mm256_fmadd_ps */
            d[j + 8] = fmaf(radius * s, std, mean);
        } else {
            float radius = sqrtf(-2.0f * logf(u1));
            float theta = (float)(TORCH_TWO_PI * (double)u2);
            c = cosf(theta);
            s = sinf(theta);
            if (ar.v2) { /* 2.x DEFAULT: the final step is an explicit fma */
                d[j] = fmaf(radius * c, std, mean);
                d[j + 8] = fmaf(radius * s, std, mean);
            } else {
                d[j] = radius * c * std + mean;
                d[j + 8] = radius * s * std + mean;
            }
        }
    }
}

/* normal_fill_16 in double on `blocks` 16-blocks; log, cos and sin are
 * libm's, as PyTorch calls them. */
#define NORMAL16_F64(d, blocks, ar, mean, std)                                                                         \
    for (int64_t blk = 0; blk < (blocks); blk++) {                                                                     \
        double *q = (d) + 16 * blk;                                                                                    \
        for (int j = 0; j < 8; j++) {                                                                                  \
            double u1 = 1.0 - q[j];                                                                                    \
            double u2 = q[j + 8];                                                                                      \
            double radius = sqrt(-2.0 * log(u1));                                                                      \
            double theta = TORCH_TWO_PI * u2;                                                                          \
            double c = cos(theta), s = sin(theta);                                                                     \
            if ((ar).avx2 || (ar).v2) { /* AVX2: contracted by GCC; 2.x: explicit fma */                               \
                q[j] = fma(radius * c, (std), (mean));                                                                 \
                q[j + 8] = fma(radius * s, (std), (mean));                                                             \
            } else {                                                                                                   \
                q[j] = radius * c * (std) + (mean);                                                                    \
                q[j + 8] = radius * s * (std) + (mean);                                                                \
            }                                                                                                          \
        }                                                                                                              \
    }

#ifdef NNINIT__HAVE_X86_SIMD
/* The same in an FMA-target copy: fma() is one instruction there instead of
 * a call into libm (fma is exact by definition, so the bits are the same;
 * nothing else fuses: -ffp-contract=off). */
__attribute__((target("fma"))) static void normal16_f64_fma(double *d, int64_t blocks, nninit__torch_arith ar,
                                                            double mean, double std)
{
    NORMAL16_F64(d, blocks, ar, mean, std)
}
#endif

static void normal16_f64(double *d, int64_t blocks, nninit__torch_arith ar, double mean, double std)
{
#ifdef NNINIT__HAVE_X86_SIMD
    if (nninit__torch_simd()) {
        /* libm's log, sin and cos four lanes at a time where they are
         * known to be libm's bits here (torch_libm.c), else libm itself */
        if (nninit__torch_libm_exact())
            nninit__torch_avx2_normal16_f64(d, (size_t)blocks, mean, std, ar.avx2 || ar.v2);
        else
            normal16_f64_fma(d, blocks, ar, mean, std);
        return;
    }
#endif
    NORMAL16_F64(d, blocks, ar, mean, std)
}

/* normal_fill_16 on `blocks` consecutive 16-blocks of uniforms in place,
 * in the variant's arithmetic (the AVX2 lanes where they may run: the same
 * bits as the reference). */
void nninit__torch_normal16(nninit__torch_arith ar, nninit_dtype dtype, double mean, double std, void *d,
                            int64_t blocks)
{
    if (dtype == NNINIT_F64) {
        normal16_f64(d, blocks, ar, mean, std);
        return;
    }
#ifdef NNINIT__HAVE_X86_SIMD
    if (ar.avx2 && nninit__torch_simd()) {
        nninit__torch_avx2_normal16_f32(d, (size_t)blocks, (float)mean, (float)std);
        return;
    }
#endif
    for (int64_t i = 0; i < blocks; i++)
        block16_f32((float *)d + 16 * i, ar, (float)mean, (float)std);
}

/* normal_fill on n >= 16 elements: n uniforms in [0, 1) (uniform_(0, 1)
 * gives exactly the unit values: x * 1 + 0 == x), normal_fill_16 on each
 * whole 16-block, then 16 more uniforms for the last 16 values when
 * n % 16 != 0, recomputed over part of the last full block. Drawn and
 * transformed a cache-sized run at a time: the same draws in the same
 * order. (init/torch_fill.c delivers the same in pieces.) */
static void normal_vec(nninit_rng *rng, nninit__torch_arith ar, nninit_dtype dtype, double mean, double std,
                       void *out, int64_t n)
{
    const int64_t run = 4096;
    size_t es = nninit_dtype_size(dtype);
    unsigned char *d = out;
    for (int64_t i = 0; i < n; i += run) {
        int64_t m = n - i < run ? n - i : run;
        nninit__torch_uniform(rng, ar, dtype, 0.0, 1.0, d + (size_t)i * es, m);
        nninit__torch_normal16(ar, dtype, mean, std, d + (size_t)i * es, m / 16);
    }
    if (n % 16 != 0) {
        unsigned char *t = d + (size_t)(n - 16) * es;
        nninit__torch_uniform(rng, ar, dtype, 0.0, 1.0, t, 16);
        nninit__torch_normal16(ar, dtype, mean, std, t, 1);
    }
}

/* ---- normal_: the scalar path, normal_distribution<double> whatever the
 * dtype, with the generator's cached second value ---- */

static double normal_scalar(nninit_rng *rng, nninit__torch_arith ar, double mean, double std)
{
    double z;
    if (rng->normal_cache_valid) {
        z = rng->normal_cache;
        rng->normal_cache_valid = 0;
    } else {
        double u1 = unit_f64(rng); /* drives the angle */
        double u2 = unit_f64(rng); /* drives the radius */
        double r = sqrt(-2.0 * (ar.v2 ? log1p(-u2) : log(1.0 - u2)));
        double theta = TORCH_TWO_PI * u1;
        rng->normal_cache = r * sin(theta);
        rng->normal_cache_valid = 1;
        z = r * cos(theta);
    }
    /* transformation::normal: val * std + mean, contracted in the AVX2 build */
    return ar.avx2 ? fma(z, std, mean) : z * std + mean;
}

void nninit__torch_normal(nninit_rng *rng, nninit__torch_arith ar, nninit_dtype dtype, double mean, double std,
                          void *out, int64_t n)
{
    if (n >= 16) {
        normal_vec(rng, ar, dtype, mean, std, out, n);
        return;
    }
    for (int64_t i = 0; i < n; i++) {
        double v = normal_scalar(rng, ar, mean, std);
        if (dtype == NNINIT_F64)
            ((double *)out)[i] = v;
        else
            ((float *)out)[i] = (float)v;
    }
}

/* ---- calc_erfinv (native/Math.h, after Pavlis' MATLAB erfinv) ---- */

/* Inlined into the reference and into an FMA-target copy, where the fmaf()
 * of the AVX2 variant become vfmadd instructions instead of libm calls
 * (the same correctly rounded operation). */
static inline __attribute__((always_inline)) float erfinvf_impl(float y, int avx2)
{
    /* T(0.886226899) etc.: double literals rounded to float. */
    const float a0 = (float)0.886226899, a1 = (float)-1.645349621, a2 = (float)0.914624893,
                a3 = (float)-0.140543331;
    const float b0 = (float)-2.118377725, b1 = (float)1.442710462, b2 = (float)-0.329097515,
                b3 = (float)0.012229801;
    const float c0 = (float)-1.970840454, c1 = (float)-1.624906493, c2 = (float)3.429567803,
                c3 = (float)1.641345311;
    const float d0 = (float)3.543889200, d1 = (float)1.637067800;
    /* static_cast<T>(2.0) / static_cast<T>(std::sqrt(pi<double>)), in float */
    const float k = 2.0f / (float)sqrt(3.141592653589793);
    float y_abs = fabsf(y), x, z, num, dem;
    if (y_abs > 1.0f)
        return NAN;
    if (y_abs == 1.0f)
        return copysignf(INFINITY, y);
    if (y_abs <= (float)0.7) {
        z = y * y;
        if (avx2) {
            num = fmaf(fmaf(fmaf(a3, z, a2), z, a1), z, a0);
            dem = fmaf(fmaf(fmaf(fmaf(b3, z, b2), z, b1), z, b0), z, 1.0f);
        } else {
            num = ((a3 * z + a2) * z + a1) * z + a0;
            dem = (((b3 * z + b2) * z + b1) * z + b0) * z + 1.0f;
        }
        x = y * num / dem;
    } else {
        z = sqrtf(-logf((1.0f - y_abs) / 2.0f));
        if (avx2) {
            num = fmaf(fmaf(fmaf(c3, z, c2), z, c1), z, c0);
            dem = fmaf(fmaf(d1, z, d0), z, 1.0f);
        } else {
            num = ((c3 * z + c2) * z + c1) * z + c0;
            dem = (d1 * z + d0) * z + 1.0f;
        }
        x = copysignf(num, y) / dem;
    }
    x = x - (erff(x) - y) / (k * expf(-x * x));
    x = x - (erff(x) - y) / (k * expf(-x * x));
    return x;
}

static inline __attribute__((always_inline)) double erfinv_impl(double y, int avx2)
{
    const double a0 = 0.886226899, a1 = -1.645349621, a2 = 0.914624893, a3 = -0.140543331;
    const double b0 = -2.118377725, b1 = 1.442710462, b2 = -0.329097515, b3 = 0.012229801;
    const double c0 = -1.970840454, c1 = -1.624906493, c2 = 3.429567803, c3 = 1.641345311;
    const double d0 = 3.543889200, d1 = 1.637067800;
    const double k = 2.0 / sqrt(3.141592653589793);
    double y_abs = fabs(y), x, z, num, dem;
    if (y_abs > 1.0)
        return (double)NAN;
    if (y_abs == 1.0)
        return copysign((double)INFINITY, y);
    if (y_abs <= 0.7) {
        z = y * y;
        if (avx2) {
            num = fma(fma(fma(a3, z, a2), z, a1), z, a0);
            dem = fma(fma(fma(fma(b3, z, b2), z, b1), z, b0), z, 1.0);
        } else {
            num = ((a3 * z + a2) * z + a1) * z + a0;
            dem = (((b3 * z + b2) * z + b1) * z + b0) * z + 1.0;
        }
        x = y * num / dem;
    } else {
        z = sqrt(-log((1.0 - y_abs) / 2.0));
        if (avx2) {
            num = fma(fma(fma(c3, z, c2), z, c1), z, c0);
            dem = fma(fma(d1, z, d0), z, 1.0);
        } else {
            num = ((c3 * z + c2) * z + c1) * z + c0;
            dem = (d1 * z + d0) * z + 1.0;
        }
        x = copysign(num, y) / dem;
    }
    x = x - (erf(x) - y) / (k * exp(-x * x));
    x = x - (erf(x) - y) / (k * exp(-x * x));
    return x;
}

float nninit__torch_erfinvf(float y, int avx2)
{
    return erfinvf_impl(y, avx2);
}

double nninit__torch_erfinv(double y, int avx2)
{
    return erfinv_impl(y, avx2);
}

/* erfinv_(), mul_(scale), add_(mean), clamp_(a, b): std::min(std::max(x,
 * a), b), each a separate kernel in PyTorch, so nothing fuses across them. */
#define ERFINV_AFFINE(T, IMPL)                                                                                        \
    for (int64_t i = 0; i < n; i++) {                                                                                  \
        T x = IMPL(o[i], avx2) * scale + mean;                                                                         \
        x = x < a ? a : x;                                                                                             \
        o[i] = b < x ? b : x;                                                                                          \
    }

#ifdef NNINIT__HAVE_X86_SIMD
__attribute__((target("fma"))) static void erfinv_affine_f32_fma(float *o, int64_t n, int avx2, float scale,
                                                                 float mean, float a, float b)
{
    ERFINV_AFFINE(float, erfinvf_impl)
}

__attribute__((target("fma"))) static void erfinv_affine_f64_fma(double *o, int64_t n, int avx2, double scale,
                                                                 double mean, double a, double b)
{
    ERFINV_AFFINE(double, erfinv_impl)
}
#endif

void nninit__torch_erfinv_affine_f32(float *o, int64_t n, int avx2, float scale, float mean, float a, float b)
{
#ifdef NNINIT__HAVE_X86_SIMD
    if (avx2 && nninit__torch_simd()) {
        erfinv_affine_f32_fma(o, n, avx2, scale, mean, a, b);
        return;
    }
#endif
    ERFINV_AFFINE(float, erfinvf_impl)
}

void nninit__torch_erfinv_affine_f64(double *o, int64_t n, int avx2, double scale, double mean, double a, double b)
{
#ifdef NNINIT__HAVE_X86_SIMD
    if (avx2 && nninit__torch_simd()) {
        erfinv_affine_f64_fma(o, n, avx2, scale, mean, a, b);
        return;
    }
#endif
    ERFINV_AFFINE(double, erfinv_impl)
}

/* ---- randperm (native/TensorFactories.cpp randperm_cpu) ---- */

void nninit__torch_randperm(nninit_rng *rng, int v2, int64_t n, int64_t *perm)
{
    /* 1.13: for every n, a forward Fisher-Yates swap with z = random() %
     * (n - i). 2.x (pytorch/pytorch#143682, 2025) keeps that for
     * n < UINT32_MAX / 20 and switches to the inside-out variant with
     * random64() above. */
    if (!v2 || n < (int64_t)(UINT32_MAX / 20)) {
        for (int64_t i = 0; i < n; i++)
            perm[i] = i;
        for (int64_t i = 0; i < n - 1; i++) {
            int64_t z = (int64_t)(nninit__torch_next32(rng) % (uint64_t)(n - i));
            int64_t save = perm[i];
            perm[i] = perm[z + i];
            perm[z + i] = save;
        }
        return;
    }
    for (int64_t i = 0; i < n; i++) {
        int64_t z = (int64_t)(nninit__torch_next64(rng) % (uint64_t)(i + 1));
        perm[i] = i;
        perm[i] = perm[z];
        perm[z] = i;
    }
}
