/*
 * Fixed-arithmetic transcendental functions that define the stream format.
 *
 * libm results differ between libc versions and vector libraries, so the
 * transforms the Philox stream relies on are spelled out here as sequences
 * of separately rounded IEEE-754 operations (+ - * / sqrt, exact scaling by
 * powers of two, exact integer/bit manipulation). Compiled with
 * -ffp-contract=off, every platform and every SIMD port that performs the
 * same operations in the same order gives the same bits. Coefficients are
 * Taylor coefficients written as quotients that the compiler folds with
 * correct rounding, or published constants (Wichura's AS 241).
 *
 * Measured accuracy (tests/test_fmath.c against long double libm over
 * 10^6 arguments each; the test prints the figures): logf 1.62 ulp,
 * log 1.96 ulp, sincos2pif 1.64 ulp and sincos2pi 1.60 ulp of
 * max(|sin|, |cos|) (absolute 9.8e-8 and 1.8e-16), ndtr absolute 5.0e-16
 * on [-40, 40], ndtri relative 7.4e-16 for p in (2^-1053, 1).
 */
#include "core/internal.h"

#include <math.h>
#include <string.h>

/*
 * log(x) = e*ln2 + log(m), m in [sqrt(1/2), sqrt(2)), and
 * log(m) = 2 atanh(s) = 2 (s + s^3/3 + s^5/5 + ...), s = (m-1)/(m+1),
 * |s| <= 0.1716, s^2 <= 0.0295. ln2 is split so e*LN2_HI is exact.
 */
float nninit__logf(float x)
{
    uint32_t bits = nninit__f2u(x);
    int e = (int)(bits >> 23) - 127;
    float m = nninit__u2f((bits & 0x007fffffu) | 0x3f800000u); /* [1, 2) */
    if (nninit__f2u(m) > 0x3fb504f3u) {                         /* m > sqrt(2) */
        m = m * 0.5f;
        e += 1;
    }
    const float LN2_HI = 0.693359375f;        /* 9 significant bits: e*LN2_HI exact */
    const float LN2_LO = -2.12194440e-4f;     /* ln2 - LN2_HI */
    float s = (m - 1.0f) / (m + 1.0f);
    float z = s * s;
    /* truncation error of the series after z^5/11: z^5/13 < 2e-9 relative */
    float p = 1.0f / 11.0f;
    p = p * z + 1.0f / 9.0f;
    p = p * z + 1.0f / 7.0f;
    p = p * z + 1.0f / 5.0f;
    p = p * z + 1.0f / 3.0f;
    float r = s * z;
    r = r * p;
    r = r + s;
    r = r * 2.0f;
    float ef = (float)e;
    return (ef * LN2_LO + r) + ef * LN2_HI;
}

double nninit__log(double x)
{
    uint64_t bits = nninit__d2u(x);
    int e = (int)(bits >> 52) - 1023;
    double m = nninit__u2d((bits & 0x000fffffffffffffull) | 0x3ff0000000000000ull);
    if (nninit__d2u(m) > 0x3ff6a09e667f3bcdull) { /* m > sqrt(2) */
        m = m * 0.5;
        e += 1;
    }
    const double LN2_HI = 6.93147180369123816490e-01; /* low 32 bits zero: e*LN2_HI exact */
    const double LN2_LO = 1.90821492927058770002e-10;
    double s = (m - 1.0) / (m + 1.0);
    double z = s * s;
    /* truncation after z^10/21: z^11/23 < 6e-19 relative */
    double p = 1.0 / 21.0;
    p = p * z + 1.0 / 19.0;
    p = p * z + 1.0 / 17.0;
    p = p * z + 1.0 / 15.0;
    p = p * z + 1.0 / 13.0;
    p = p * z + 1.0 / 11.0;
    p = p * z + 1.0 / 9.0;
    p = p * z + 1.0 / 7.0;
    p = p * z + 1.0 / 5.0;
    p = p * z + 1.0 / 3.0;
    double r = s * z;
    r = r * p;
    r = r + s;
    r = r * 2.0;
    double ed = (double)e;
    return (ed * LN2_LO + r) + ed * LN2_HI;
}

/*
 * sin and cos of 2*pi*u for u in [0, 1): t = 8u splits the circle into
 * octants k = floor(t) with fraction f (both exact); odd octants use 1 - f
 * (exact for u a multiple of 2^-24 / 2^-53). y = g * pi/4 in [0, pi/4],
 * Taylor series for sin y and cos y, then the octant's symmetry.
 */
static void octant_map(int k, float sy, float cy, float *s, float *c)
{
    switch (k) {
    case 0: *s = sy; *c = cy; break;
    case 1: *s = cy; *c = sy; break;
    case 2: *s = cy; *c = -sy; break;
    case 3: *s = sy; *c = -cy; break;
    case 4: *s = -sy; *c = -cy; break;
    case 5: *s = -cy; *c = -sy; break;
    case 6: *s = -cy; *c = sy; break;
    default: *s = -sy; *c = cy; break;
    }
}

void nninit__sincos2pif(float u, float *s, float *c)
{
    float t = u * 8.0f;
    int k = (int)t;
    float f = t - (float)k;
    float g = (k & 1) ? 1.0f - f : f;
    const float PI_4 = 0.785398163397448309616f;
    float y = g * PI_4;
    float z = y * y;
    /* sin: y + y z (-1/3! + z (1/5! - z (1/7! - z/9!))); next term y^11/11! < 2e-9 */
    float ps = 1.0f / 362880.0f;
    ps = ps * z - 1.0f / 5040.0f;
    ps = ps * z + 1.0f / 120.0f;
    ps = ps * z - 1.0f / 6.0f;
    float sy = y * z;
    sy = sy * ps;
    sy = sy + y;
    /* cos: 1 + z (-1/2 + z (1/4! + z (-1/6! + z (1/8! - z/10!)))); next z^6/12! < 5e-10 */
    float pc = -1.0f / 3628800.0f;
    pc = pc * z + 1.0f / 40320.0f;
    pc = pc * z - 1.0f / 720.0f;
    pc = pc * z + 1.0f / 24.0f;
    pc = pc * z - 0.5f;
    float cy = z * pc;
    cy = cy + 1.0f;
    octant_map(k, sy, cy, s, c);
}

void nninit__sincos2pi(double u, double *s, double *c)
{
    double t = u * 8.0;
    int k = (int)t;
    double f = t - (double)k;
    double g = (k & 1) ? 1.0 - f : f;
    const double PI_4 = 0.785398163397448309616;
    double y = g * PI_4;
    double z = y * y;
    /* sin through y^17/17!; next term y^19/19! < 2e-19 */
    double ps = 1.0 / 355687428096000.0;     /* 1/17! */
    ps = ps * z - 1.0 / 1307674368000.0;     /* 1/15! */
    ps = ps * z + 1.0 / 6227020800.0;        /* 1/13! */
    ps = ps * z - 1.0 / 39916800.0;          /* 1/11! */
    ps = ps * z + 1.0 / 362880.0;
    ps = ps * z - 1.0 / 5040.0;
    ps = ps * z + 1.0 / 120.0;
    ps = ps * z - 1.0 / 6.0;
    double sy = y * z;
    sy = sy * ps;
    sy = sy + y;
    /* cos through y^18/18!; next term y^20/20! < 4e-21 */
    double pc = -1.0 / 6402373705728000.0;   /* 1/18! */
    pc = pc * z + 1.0 / 20922789888000.0;    /* 1/16! */
    pc = pc * z - 1.0 / 87178291200.0;       /* 1/14! */
    pc = pc * z + 1.0 / 479001600.0;         /* 1/12! */
    pc = pc * z - 1.0 / 3628800.0;
    pc = pc * z + 1.0 / 40320.0;
    pc = pc * z - 1.0 / 720.0;
    pc = pc * z + 1.0 / 24.0;
    pc = pc * z - 0.5;
    double cy = z * pc;
    cy = cy + 1.0;
    switch (k) {
    case 0: *s = sy; *c = cy; break;
    case 1: *s = cy; *c = sy; break;
    case 2: *s = cy; *c = -sy; break;
    case 3: *s = sy; *c = -cy; break;
    case 4: *s = -sy; *c = -cy; break;
    case 5: *s = -cy; *c = -sy; break;
    case 6: *s = -cy; *c = sy; break;
    default: *s = -sy; *c = cy; break;
    }
}

/* Horner evaluation, highest coefficient first, separately rounded. */
static double horner8(const double c[8], double x)
{
    double v = c[0];
    for (int i = 1; i < 8; i++)
        v = v * x + c[i];
    return v;
}

/*
 * Inverse of the standard normal CDF: Wichura's AS 241 (PPND16, relative
 * accuracy about 1e-16), with this file's log and IEEE sqrt.
 */
double nninit__ndtri(double p)
{
    static const double A[8] = {2.5090809287301226727e+3, 3.3430575583588128105e+4, 6.7265770927008700853e+4,
                                4.5921953931549871457e+4, 1.3731693765509461125e+4, 1.9715909503065514427e+3,
                                1.3314166789178437745e+2, 3.3871328727963666080e+0};
    static const double B[8] = {5.2264952788528545610e+3, 2.8729085735721942674e+4, 3.9307895800092710610e+4,
                                2.1213794301586595867e+4, 5.3941960214247511077e+3, 6.8718700749205790830e+2,
                                4.2313330701600911252e+1, 1.0};
    static const double C[8] = {7.74545014278341407640e-4, 2.27238449892691845833e-2, 2.41780725177450611770e-1,
                                1.27045825245236838258e+0, 3.64784832476320460504e+0, 5.76949722146069140550e+0,
                                4.63033784615654529590e+0, 1.42343711074968357734e+0};
    static const double D[8] = {1.05075007164441684324e-9, 5.47593808499534494600e-4, 1.51986665636164571966e-2,
                                1.48103976427480074590e-1, 6.89767334985100004550e-1, 1.67638483018380384940e+0,
                                2.05319162663775882187e+0, 1.0};
    static const double E[8] = {2.01033439929228813265e-7, 2.71155556874348757815e-5, 1.24266094738807843860e-3,
                                2.65321895265761230930e-2, 2.96560571828504891230e-1, 1.78482653991729133580e+0,
                                5.46378491116411436990e+0, 6.65790464350110377720e+0};
    static const double F[8] = {2.04426310338993978564e-15, 1.42151175831644588870e-7, 1.84631831751005468180e-5,
                                7.86869131145613259100e-4, 1.48753612908506148525e-2, 1.36929880922735805310e-1,
                                5.99832206555887937690e-1, 1.0};
    double q = p - 0.5;
    if (fabs(q) <= 0.425) {
        double r = 0.180625 - q * q;
        return q * horner8(A, r) / horner8(B, r);
    }
    double r = q < 0.0 ? p : 1.0 - p;
    r = sqrt(-nninit__log(r));
    double v;
    if (r <= 5.0) {
        r = r - 1.6;
        v = horner8(C, r) / horner8(D, r);
    } else {
        r = r - 5.0;
        v = horner8(E, r) / horner8(F, r);
    }
    return q < 0.0 ? -v : v;
}

/* exp(t) = 2^k exp(r), |r| <= ln2/2, Taylor through r^13 (next < 5e-18). */
static double fixed_exp(double t)
{
    if (t < -745.0)
        return 0.0;
    const double INV_LN2 = 1.44269504088896338700;
    const double LN2_HI = 6.93147180369123816490e-01;
    const double LN2_LO = 1.90821492927058770002e-10;
    double kd = floor(t * INV_LN2 + 0.5);
    double r = (t - kd * LN2_HI) - kd * LN2_LO;
    double p = 1.0 / 6227020800.0; /* 1/13! */
    static const double inv_fact[13] = {1.0 / 479001600.0, 1.0 / 39916800.0, 1.0 / 3628800.0, 1.0 / 362880.0,
                                        1.0 / 40320.0,     1.0 / 5040.0,     1.0 / 720.0,     1.0 / 120.0,
                                        1.0 / 24.0,        1.0 / 6.0,        0.5,             1.0,
                                        1.0};
    for (int i = 0; i < 13; i++)
        p = p * r + inv_fact[i];
    return ldexp(p, (int)kd);
}

/*
 * Standard normal CDF. |x| <= 5: Marsaglia's series
 * Phi(x) = 1/2 + phi(x) (x + x^3/3 + x^5/(3*5) + ...), summed until the sum
 * stops changing; |x| > 5: the Laplace continued fraction for the tail with
 * a fixed 80 levels, evaluated from the bottom.
 */
double nninit__ndtr(double x)
{
    if (x != x)
        return x;
    if (x < -38.5)
        return 0.0;
    if (x > 38.5)
        return 1.0;
    const double INV_SQRT_2PI = 0.398942280401432677940;
    double phi = INV_SQRT_2PI * fixed_exp(-0.5 * (x * x));
    double ax = fabs(x);
    if (ax <= 5.0) {
        double term = x, sum = x, prev = 0.0;
        double z = x * x;
        for (int i = 3; sum != prev && i < 1000; i += 2) {
            prev = sum;
            term = term * z / (double)i;
            sum = sum + term;
        }
        return 0.5 + phi * sum;
    }
    double cf = ax;
    for (int k = 80; k >= 1; k--)
        cf = ax + (double)k / cf;
    double tail = phi / cf;
    return x < 0.0 ? tail : 1.0 - tail;
}
