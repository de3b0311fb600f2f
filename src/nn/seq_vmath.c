/* exp, sigmoid and tanh over float arrays, four lanes at a time with GCC
 * vector extensions (SSE2 on baseline x86-64): the recurrent gates and
 * the attention softmax spend most of their non-BLAS time here, and glibc's
 * scalar tanhf (through expm1f) cost more than the LSTM's products.
 *
 * exp: Cephes' expf (Moshier): n = round(x log2 e), r = x - n ln 2 in two
 * parts, a degree-6 polynomial, times 2^n through the exponent bits; within
 * 2 ulp of the exact value for x in [-87.3, 88], 0 below (flushed, as a
 * sigmoid or softmax term that small is) and e^88 above (2^n must stay a
 * normal float).
 * tanh: Cephes' tanhf: an odd polynomial for |x| < 0.625, else
 * 1 - 2 / (e^{2|x|} + 1) with the sign of x. sigmoid: 1 / (1 + e^{-x}).
 * The normal CDF (for the exact GELU): through erfc, see vnormcdf.
 * The same bits on every x86-64 (no FMA, no dispatch): tests/test_nn_seq_grad.c
 * checks the error bounds against libm's double functions. */
#include "nn/internal.h"

#include <string.h>

typedef float v4f __attribute__((vector_size(16)));
typedef int32_t v4i __attribute__((vector_size(16)));

#define LANES 4

static inline v4f splat(float v) { return (v4f){v, v, v, v}; }

/* mask lanes (-1) take a, the others b (C has no vector ?:) */
static inline v4f sel(v4i mask, v4f a, v4f b)
{
    v4i ia, ib;
    memcpy(&ia, &a, sizeof ia);
    memcpy(&ib, &b, sizeof ib);
    v4i r = (ia & mask) | (ib & ~mask);
    v4f out;
    memcpy(&out, &r, sizeof out);
    return out;
}

static inline v4f vexp(v4f x)
{
    const v4f hi = splat(88.0f), lo = splat(-87.3365447505531f);
    v4i too_low = x < lo;
    x = sel(x > hi, hi, x);
    x = sel(x < lo, lo, x);
    /* n = floor(x log2 e + 0.5): truncate, then step down where that rounded up */
    v4f fx = x * splat(1.44269504088896341f) + splat(0.5f);
    v4i n = __builtin_convertvector(fx, v4i);
    v4f fn = __builtin_convertvector(n, v4f);
    v4i up = fn > fx;
    n += up;   /* up lanes are -1 */
    fn = __builtin_convertvector(n, v4f);
    x = x - fn * splat(0.693359375f) - fn * splat(-2.12194440e-4f);
    v4f z = x * x;
    v4f y = splat(1.9875691500E-4f);
    y = y * x + splat(1.3981999507E-3f);
    y = y * x + splat(8.3334519073E-3f);
    y = y * x + splat(4.1665795894E-2f);
    y = y * x + splat(1.6666665459E-1f);
    y = y * x + splat(5.0000001201E-1f);
    y = y * z + x + splat(1.0f);
    /* times 2^n: n + 127 into the exponent field (n in [-126, 127] here) */
    v4i bits = (n + 127) << 23;
    v4f scale;
    memcpy(&scale, &bits, sizeof scale);
    y = y * scale;
    return sel(too_low, splat(0.0f), y);
}

static inline v4f vtanh(v4f x)
{
    v4i neg = x < splat(0.0f);
    v4f ax = sel(neg, -x, x);
    /* small: x + x z P(z), z = x^2 */
    v4f z = x * x;
    v4f p = splat(-5.70498872745E-3f);
    p = p * z + splat(2.06390887954E-2f);
    p = p * z + splat(-5.37397155531E-2f);
    p = p * z + splat(1.33314422036E-1f);
    p = p * z + splat(-3.33332819422E-1f);
    v4f small = p * z * x + x;
    /* large: 1 - 2 / (e^{2|x|} + 1), e^{2|x|} capped (tanh is 1 in float there) */
    v4f e = vexp(sel(ax + ax > splat(80.0f), splat(80.0f), ax + ax));
    v4f big = splat(1.0f) - splat(2.0f) / (e + splat(1.0f));
    big = sel(neg, -big, big);
    return sel(ax < splat(0.625f), small, big);
}

static inline v4f vsigmoid(v4f x) { return splat(1.0f) / (splat(1.0f) + vexp(-x)); }

/* Phi(x) = erfc(-x / sqrt 2) / 2 with erfc from Numerical Recipes' erfcc
 * (Chebyshev fit, relative error < 1.2e-7 for every argument, so the lower
 * tail does not cancel as 1 + erf would; what remains there is the float
 * rounding of x / sqrt 2 and its square, see internal.h). */
static inline v4f vnormcdf(v4f x)
{
    v4f u = x * splat(-0.70710678118654752f);
    v4i neg = u < splat(0.0f);
    v4f z = sel(neg, -u, u);
    v4f t = splat(1.0f) / (splat(1.0f) + splat(0.5f) * z);
    v4f p = splat(0.17087277f);
    p = p * t + splat(-0.82215223f);
    p = p * t + splat(1.48851587f);
    p = p * t + splat(-1.13520398f);
    p = p * t + splat(0.27886807f);
    p = p * t + splat(-0.18628806f);
    p = p * t + splat(0.09678418f);
    p = p * t + splat(0.37409196f);
    p = p * t + splat(1.00002368f);
    p = p * t + splat(-1.26551223f);
    v4f erfc = t * vexp(p - z * z);
    erfc = sel(neg, splat(2.0f) - erfc, erfc);
    return splat(0.5f) * erfc;
}

/* Applies f to n values of x into y (y may be x), the tail through a padded vector. */
#define VMAP(name, f)                                                  \
    void name(const float *x, float *y, int64_t n)                     \
    {                                                                  \
        int64_t i = 0;                                                 \
        for (; i + LANES <= n; i += LANES) {                           \
            v4f v;                                                     \
            memcpy(&v, x + i, sizeof v);                               \
            v = f(v);                                                  \
            memcpy(y + i, &v, sizeof v);                               \
        }                                                              \
        if (i < n) {                                                   \
            float buf[LANES] = {0};                                    \
            memcpy(buf, x + i, (size_t)(n - i) * sizeof *buf);         \
            v4f v;                                                     \
            memcpy(&v, buf, sizeof v);                                 \
            v = f(v);                                                  \
            memcpy(buf, &v, sizeof v);                                 \
            memcpy(y + i, buf, (size_t)(n - i) * sizeof *buf);         \
        }                                                              \
    }

VMAP(nninit__vexpf, vexp)
VMAP(nninit__vtanhf, vtanh)
VMAP(nninit__vsigmoidf, vsigmoid)
VMAP(nninit__vnormcdff, vnormcdf)
