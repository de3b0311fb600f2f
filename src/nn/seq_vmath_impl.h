/* The vector forms of seq_vmath.c, written once for a lane count: the
 * includer defines LANES, VM_F / VM_I (float and int32 vectors of LANES),
 * VM_ATTR (a target attribute or nothing) and VM_NAME(f) (a per-width name).
 * Every lane runs the same IEEE operations in the same order (no FMA), so
 * every width gives the same bits. Not a public header. */
VM_ATTR static inline VM_F VM_NAME(splat)(float v) { return (VM_F){0} + v; }

/* mask lanes (-1) take a, the others b (C has no vector ?:) */
VM_ATTR static inline VM_F VM_NAME(sel)(VM_I mask, VM_F a, VM_F b)
{
    VM_I ia, ib;
    memcpy(&ia, &a, sizeof ia);
    memcpy(&ib, &b, sizeof ib);
    VM_I r = (ia & mask) | (ib & ~mask);
    VM_F out;
    memcpy(&out, &r, sizeof out);
    return out;
}

VM_ATTR static inline VM_F VM_NAME(vexp)(VM_F x)
{
    const VM_F hi = VM_NAME(splat)(88.0f), lo = VM_NAME(splat)(-87.3365447505531f);
    VM_I too_low = x < lo;
    x = VM_NAME(sel)(x > hi, hi, x);
    x = VM_NAME(sel)(x < lo, lo, x);
    /* n = floor(x log2 e + 0.5): truncate, then step down where that rounded up */
    VM_F fx = x * VM_NAME(splat)(1.44269504088896341f) + VM_NAME(splat)(0.5f);
    VM_I n = __builtin_convertvector(fx, VM_I);
    VM_F fn = __builtin_convertvector(n, VM_F);
    VM_I up = fn > fx;
    n += up;   /* up lanes are -1 */
    fn = __builtin_convertvector(n, VM_F);
    x = x - fn * VM_NAME(splat)(0.693359375f) - fn * VM_NAME(splat)(-2.12194440e-4f);
    VM_F z = x * x;
    VM_F y = VM_NAME(splat)(1.9875691500E-4f);
    y = y * x + VM_NAME(splat)(1.3981999507E-3f);
    y = y * x + VM_NAME(splat)(8.3334519073E-3f);
    y = y * x + VM_NAME(splat)(4.1665795894E-2f);
    y = y * x + VM_NAME(splat)(1.6666665459E-1f);
    y = y * x + VM_NAME(splat)(5.0000001201E-1f);
    y = y * z + x + VM_NAME(splat)(1.0f);
    /* times 2^n: n + 127 into the exponent field (n in [-126, 127] here) */
    VM_I bits = (n + 127) << 23;
    VM_F scale;
    memcpy(&scale, &bits, sizeof scale);
    y = y * scale;
    return VM_NAME(sel)(too_low, VM_NAME(splat)(0.0f), y);
}

VM_ATTR static inline VM_F VM_NAME(vtanh)(VM_F x)
{
    VM_I neg = x < VM_NAME(splat)(0.0f);
    VM_F ax = VM_NAME(sel)(neg, -x, x);
    /* small: x + x z P(z), z = x^2 */
    VM_F z = x * x;
    VM_F p = VM_NAME(splat)(-5.70498872745E-3f);
    p = p * z + VM_NAME(splat)(2.06390887954E-2f);
    p = p * z + VM_NAME(splat)(-5.37397155531E-2f);
    p = p * z + VM_NAME(splat)(1.33314422036E-1f);
    p = p * z + VM_NAME(splat)(-3.33332819422E-1f);
    VM_F small = p * z * x + x;
    /* large: 1 - 2 / (e^{2|x|} + 1), e^{2|x|} capped (tanh is 1 in float there) */
    VM_F e = VM_NAME(vexp)(VM_NAME(sel)(ax + ax > VM_NAME(splat)(80.0f), VM_NAME(splat)(80.0f), ax + ax));
    VM_F big = VM_NAME(splat)(1.0f) - VM_NAME(splat)(2.0f) / (e + VM_NAME(splat)(1.0f));
    big = VM_NAME(sel)(neg, -big, big);
    return VM_NAME(sel)(ax < VM_NAME(splat)(0.625f), small, big);
}

VM_ATTR static inline VM_F VM_NAME(vsigmoid)(VM_F x) { return VM_NAME(splat)(1.0f) / (VM_NAME(splat)(1.0f) + VM_NAME(vexp)(-x)); }

/* Phi(x) = erfc(-x / sqrt 2) / 2 with erfc from Numerical Recipes' erfcc
 * (Chebyshev fit, relative error < 1.2e-7 for every argument, so the lower
 * tail does not cancel as 1 + erf would; what remains there is the float
 * rounding of x / sqrt 2 and its square, see internal.h). */
VM_ATTR static inline VM_F VM_NAME(vnormcdf)(VM_F x)
{
    VM_F u = x * VM_NAME(splat)(-0.70710678118654752f);
    VM_I neg = u < VM_NAME(splat)(0.0f);
    VM_F z = VM_NAME(sel)(neg, -u, u);
    VM_F t = VM_NAME(splat)(1.0f) / (VM_NAME(splat)(1.0f) + VM_NAME(splat)(0.5f) * z);
    VM_F p = VM_NAME(splat)(0.17087277f);
    p = p * t + VM_NAME(splat)(-0.82215223f);
    p = p * t + VM_NAME(splat)(1.48851587f);
    p = p * t + VM_NAME(splat)(-1.13520398f);
    p = p * t + VM_NAME(splat)(0.27886807f);
    p = p * t + VM_NAME(splat)(-0.18628806f);
    p = p * t + VM_NAME(splat)(0.09678418f);
    p = p * t + VM_NAME(splat)(0.37409196f);
    p = p * t + VM_NAME(splat)(1.00002368f);
    p = p * t + VM_NAME(splat)(-1.26551223f);
    VM_F erfc = t * VM_NAME(vexp)(p - z * z);
    erfc = VM_NAME(sel)(neg, VM_NAME(splat)(2.0f) - erfc, erfc);
    return VM_NAME(splat)(0.5f) * erfc;
}

/* Applies f to n values of x into y (y may be x), the tail through a padded vector. */
#define VMAP(name, f)                                                  \
    VM_ATTR static void VM_NAME(name)(const float *x, float *y, int64_t n) \
    {                                                                  \
        int64_t i = 0;                                                 \
        for (; i + LANES <= n; i += LANES) {                           \
            VM_F v;                                                    \
            memcpy(&v, x + i, sizeof v);                               \
            v = VM_NAME(f)(v);                                         \
            memcpy(y + i, &v, sizeof v);                               \
        }                                                              \
        if (i < n) {                                                   \
            float buf[LANES] = {0};                                    \
            memcpy(buf, x + i, (size_t)(n - i) * sizeof *buf);         \
            VM_F v;                                                    \
            memcpy(&v, buf, sizeof v);                                 \
            v = VM_NAME(f)(v);                                         \
            memcpy(buf, &v, sizeof v);                                 \
            memcpy(y + i, buf, (size_t)(n - i) * sizeof *buf);         \
        }                                                              \
    }

VMAP(map_exp, vexp)
VMAP(map_tanh, vtanh)
VMAP(map_sigmoid, vsigmoid)
VMAP(map_normcdf, vnormcdf)
#undef VMAP
