/*
 * Philox stream formats 1, 2 and 3 (docs/stream.md is the prose version; 2
 * and 3 differ from 1 only in the float32 truncated normal, trunc2_f32 below,
 * and 3 from 2 only in how it computes erfinv for |y| <= 1 - 2^-8).
 *
 * A (seed, stream) pair names an endless sequence of 32-bit words:
 * word w = lane w%4 of philox4x32_10(ctr = (w/4 lo, w/4 hi, stream lo,
 * stream hi), key = (seed lo, seed hi)). Element i of a tensor uses:
 *
 *   float32 uniform       word i:  u = (w >> 8) * 2^-24 in [0, 1)
 *   float32 normal        pair j = i/2 uses words 2j (radius) and 2j+1
 *                         (angle): u1 = ((w >> 8) + 1) * 2^-24 in (0, 1],
 *                         u2 = (w >> 8) * 2^-24; r = sqrt(-2 log u1);
 *                         element 2j = r cos(2 pi u2), 2j+1 = r sin(2 pi u2)
 *   float64 uniform       words 2i, 2i+1 as x = hi:lo, u = (x >> 11) * 2^-53
 *   float64 normal        pair j uses words 4j..4j+3 (x1 = 4j:4j+1 radius,
 *                         x2 = 4j+2:4j+3 angle), 53-bit u1 in (0, 1], u2 in [0, 1)
 *   truncated normal      inverse CDF of u = (w + 1/2) 2^-32 (float32) or
 *                         ((x >> 11) + 1/2) 2^-53 (float64) mapped into
 *                         [Phi(alpha), Phi(beta)], always in double, then
 *                         rounded once; intervals with alpha + beta > 0 are
 *                         sampled mirrored for accuracy in the upper tail.
 *
 * Arithmetic is float for float32 uniform/normal and double otherwise, using
 * only the fixed functions of fmath.c, IEEE sqrt, and separately rounded
 * operations in the order written here.
 *
 * The scalar code below is the reference. simd_kernels.h (compiled for AVX2
 * and AVX-512) repeats the same operations lane by lane; nninit__dist_run
 * sends whole 16-block groups to the best vector path and the ragged head
 * and tail to the reference, so every path and every split gives the same
 * bits (tests/test_simd.c compares them on every size and offset).
 */
#include "rng/simd_internal.h"

#include <math.h>
#include <string.h>

#define CHUNK 1024 /* words per Philox batch (multiple of 4) */

void nninit__dist_uniform(nninit__dist *d, const uint32_t key[2], uint64_t stream, nninit_dtype dtype, double lo,
                          double hi)
{
    memset(d, 0, sizeof *d);
    d->kind = NNINIT__DIST_UNIFORM;
    d->dtype = dtype;
    d->key[0] = key[0];
    d->key[1] = key[1];
    d->stream = stream;
    d->lo_f = (float)lo;
    d->hi_f = (float)hi;
    d->width_f = (float)(hi - lo);
    d->below_hi_f = nextafterf(d->hi_f, d->lo_f);
    d->clamp_f = d->hi_f > d->lo_f;
    /* u = k 2^-24 is exact, so u * width_f rounds the real k width_f 2^-24;
     * k * (width_f 2^-24) rounds the same real when width_f 2^-24 is exact
     * (not subnormal) and no product is subnormal: |width_f| >= 2^-102, or 0,
     * inf, NaN. The vector kernels then skip one multiply (same bits). */
    d->width24_f = d->width_f * 0x1p-24f;
    d->fold_f = !(fabsf(d->width_f) < 0x1p-102f && d->width_f != 0.0f);
    d->lo = lo;
    d->hi = hi;
    d->width = hi - lo;
    d->below_hi = nextafter(hi, lo);
    d->clamp = hi > lo;
}

void nninit__dist_normal(nninit__dist *d, const uint32_t key[2], uint64_t stream, nninit_dtype dtype, double mean,
                         double std)
{
    memset(d, 0, sizeof *d);
    d->kind = NNINIT__DIST_NORMAL;
    d->dtype = dtype;
    d->key[0] = key[0];
    d->key[1] = key[1];
    d->stream = stream;
    d->mean_f = (float)mean;
    d->std_f = (float)std;
    d->mean = mean;
    d->std = std;
}

void nninit__dist_trunc_normal(nninit__dist *d, const uint32_t key[2], uint64_t stream, nninit_dtype dtype,
                               double mean, double std, double a, double b, int version)
{
    memset(d, 0, sizeof *d);
    d->kind = NNINIT__DIST_TRUNC_NORMAL;
    d->dtype = dtype;
    d->key[0] = key[0];
    d->key[1] = key[1];
    d->stream = stream;
    double alpha = (a - mean) / std, beta = (b - mean) / std;
    /* Mirror intervals lying mostly in the upper half: 1 - p loses bits there. */
    int flip = alpha + beta > 0.0;
    if (flip) {
        double t = alpha;
        alpha = -beta;
        beta = -t;
    }
    const double pa = nninit__ndtr(alpha), pb = nninit__ndtr(beta);
    d->pa = pa;
    d->pwidth = pb - pa;
    d->sgn_std = flip ? -std : std;
    d->mean = mean;
    d->a = a;
    d->b = b;
    /* Stream v2, float32: the single-precision inverse error function when
     * the interval holds at least 1/16 of the normal's mass (y then spans at
     * least 2^21 float values); v1's double-precision inverse CDF otherwise. */
    if (version >= 2 && dtype == NNINIT_F32 && pb - pa >= 0.0625) {
        d->trunc2 = 1;
        d->trunc3 = version >= 3;
        d->ya_f = (float)(2.0 * pa - 1.0);
        float yb_f = (float)(2.0 * pb - 1.0);
        d->ywidth_f = yb_f - d->ya_f;
        d->k_f = (float)(d->sgn_std * 1.4142135623730951);
        d->mean_f = (float)mean;
        d->a_f = (float)a;
        d->b_f = (float)b;
        nninit__dist_trunc3_derive(d);
    }
}

/* Giles' single-precision erfinv ("Approximating the erfinv function", GPU
 * Computing Gems, 2011), coefficients highest first: w = -log((1 - y)(1 + y));
 * w < 5: P(w - 2.5), else Q(sqrt(w) - 3); erfinv(y) = y * P or y * Q. */
const float nninit__erfinv_p[9] = {2.81022636e-08f,  3.43273939e-07f, -3.5233877e-06f,
                                   -4.39150654e-06f, 0.00021858087f,  -0.00125372503f,
                                   -0.00417768164f,  0.246640727f,    1.50140941f};
const float nninit__erfinv_q[9] = {-0.000200214257f, 0.000100950558f, 0.00134934322f,
                                   -0.00367342844f,  0.00573950773f,  -0.0076224613f,
                                   0.00943887047f,   1.00167406f,     2.83297682f};

/* Largest |y| passed to erfinv: 1 - 2^-23 (u * ywidth + ya could round to +-1). */
#define TRUNC2_YMAX 0x1.fffffcp-1f

float nninit__trunc2_erfinvf(float y)
{
    float t = (1.0f - y) * (1.0f + y);
    float w = -nninit__logf(t);
    const float *c = nninit__erfinv_p;
    float s;
    if (w < 5.0f) {
        s = w - 2.5f;
    } else {
        c = nninit__erfinv_q;
        s = sqrtf(w) - 3.0f;
    }
    float p = c[0];
    for (int k = 1; k < 9; k++) {
        p = p * s;
        p = p + c[k];
    }
    return p * y;
}

/* Stream v3's float32 erfinv: y * g(x), x = 1 - |y| (at most 1 - 2^-24),
 * g a degree-4 polynomial in x's low 21 mantissa bits on the quarter-octave
 * segment named by its exponent and two leading mantissa bits, for
 * x >= 2^-8; v2's function beyond (|y| > 1 - 2^-8, |z| > 2.88). */
#define TRUNC3_XMAX 0x1.fffffep-1f
#define TRUNC3_XMIN 0x1p-8f

float nninit__trunc3_erfinvf(float y)
{
    float x = 1.0f - fabsf(y);
    if (x > TRUNC3_XMAX)
        x = TRUNC3_XMAX;
    if (!(x >= TRUNC3_XMIN))
        return nninit__trunc2_erfinvf(y);
    uint32_t bits;
    memcpy(&bits, &x, sizeof bits);
    unsigned j = (bits >> 21) & 31u;
    float t = (float)((int32_t)(bits & 0x1fffffu) - 0x100000);
    float g = nninit__trunc3_table[0][j];
    for (int k = 1; k < 5; k++) {
        g = g * t;
        g = g + nninit__trunc3_table[k][j];
    }
    return g * y;
}

/* y of the odd 24-bit k = (w >> 8) | 1, before the clamp */
static float trunc2_y(const nninit__dist *d, uint32_t k)
{
    float u = (float)k * 0x1p-24f; /* odd multiples of 2^-24: symmetric about 1/2 */
    float y = u * d->ywidth_f;
    return y + d->ya_f;
}

/* y(k) never decreases with k (each step is a rounded monotone operation),
 * and format 3's x = 1 - |y| (rounded) never increases with |y|: so every y
 * is in the table iff both ends are, and the y nearest 0 is at the sign
 * change, found by bisection over the odd k. */
void nninit__dist_trunc3_derive(nninit__dist *d)
{
    const uint32_t kmax = (1u << 24) - 1;
    int in = 1 - fabsf(trunc2_y(d, 1)) >= TRUNC3_XMIN && 1 - fabsf(trunc2_y(d, kmax)) >= TRUNC3_XMIN;
    /* smallest odd k with y(k) >= 0 (kmax + 2 if none) */
    uint32_t lo = 0, hi = (kmax + 1) / 2 + 1; /* indices i of k = 2i + 1 */
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (mid <= kmax / 2 && trunc2_y(d, 2 * mid + 1) < 0.0f)
            lo = mid + 1;
        else
            hi = mid;
    }
    float nearest = INFINITY;
    if (lo <= kmax / 2)
        nearest = fabsf(trunc2_y(d, 2 * lo + 1));
    if (lo > 0)
        nearest = fminf(nearest, fabsf(trunc2_y(d, 2 * lo - 1)));
    d->trunc3_plain = in && 1.0f - nearest < 1.0f; /* NaN parameters: not plain */
}

static float trunc2_f32(const nninit__dist *d, uint32_t w)
{
    float y = trunc2_y(d, (w >> 8) | 1u);
    if (y > TRUNC2_YMAX)
        y = TRUNC2_YMAX;
    if (y < -TRUNC2_YMAX)
        y = -TRUNC2_YMAX;
    float v = (d->trunc3 ? nninit__trunc3_erfinvf(y) : nninit__trunc2_erfinvf(y)) * d->k_f;
    v = v + d->mean_f;
    if (v < d->a_f)
        v = d->a_f;
    if (v > d->b_f)
        v = d->b_f;
    return v;
}

static float uniform_f32(const nninit__dist *d, uint32_t w)
{
    float u = (float)(w >> 8) * 0x1p-24f;
    float v = u * d->width_f;
    v = v + d->lo_f;
    return (v >= d->hi_f && d->clamp_f) ? d->below_hi_f : v;
}

/* the pair from words wr (radius) and wa (angle) */
static void normal_f32(const nninit__dist *d, uint32_t wr, uint32_t wa, float *z0, float *z1)
{
    float u1 = (float)((wr >> 8) + 1u) * 0x1p-24f;
    float u2 = (float)(wa >> 8) * 0x1p-24f;
    float r = sqrtf(-2.0f * nninit__logf(u1));
    float s, c;
    nninit__sincos2pif(u2, &s, &c);
    float a = r * c, b = r * s;
    a = a * d->std_f;
    b = b * d->std_f;
    *z0 = a + d->mean_f;
    *z1 = b + d->mean_f;
}

static void scalar_uniform(const nninit__dist *d, uint64_t begin, size_t n, void *out)
{
    uint32_t w[CHUNK];
    if (d->dtype == NNINIT_F32) {
        float *o = out;
        size_t done = 0;
        while (done < n) {
            size_t m = n - done < CHUNK ? n - done : CHUNK;
            nninit__philox_words(d->key, d->stream, begin + done, m, w);
            for (size_t k = 0; k < m; k++)
                o[done + k] = uniform_f32(d, w[k]);
            done += m;
        }
    } else {
        double *o = out;
        const double lo = d->lo, hi = d->hi, width = d->width, below_hi = d->below_hi;
        size_t done = 0;
        while (done < n) {
            size_t m = n - done < CHUNK / 2 ? n - done : CHUNK / 2;
            nninit__philox_words(d->key, d->stream, 2 * (begin + done), 2 * m, w);
            for (size_t k = 0; k < m; k++) {
                uint64_t x = ((uint64_t)w[2 * k] << 32) | w[2 * k + 1];
                double u = (double)(x >> 11) * 0x1p-53;
                double v = u * width;
                v = v + lo;
                o[done + k] = (v >= hi && d->clamp) ? below_hi : v;
            }
            done += m;
        }
    }
}

static void scalar_normal(const nninit__dist *d, uint64_t begin, size_t n, void *out)
{
    uint32_t w[CHUNK];
    if (n == 0)
        return;
    /* work on whole pairs: first pair containing `begin`, last containing begin+n-1 */
    uint64_t pair0 = begin / 2, pair_end = (begin + n - 1) / 2 + 1;
    if (d->dtype == NNINIT_F32) {
        float *o = out;
        for (uint64_t p = pair0; p < pair_end;) {
            uint64_t m = pair_end - p < CHUNK / 2 ? pair_end - p : CHUNK / 2;
            nninit__philox_words(d->key, d->stream, 2 * p, (size_t)(2 * m), w);
            for (uint64_t k = 0; k < m; k++) {
                float z0, z1;
                normal_f32(d, w[2 * k], w[2 * k + 1], &z0, &z1);
                uint64_t e0 = 2 * (p + k);
                if (e0 >= begin && e0 < begin + n)
                    o[e0 - begin] = z0;
                if (e0 + 1 >= begin && e0 + 1 < begin + n)
                    o[e0 + 1 - begin] = z1;
            }
            p += m;
        }
    } else {
        double *o = out;
        const double mean = d->mean, std = d->std;
        for (uint64_t p = pair0; p < pair_end;) {
            uint64_t m = pair_end - p < CHUNK / 4 ? pair_end - p : CHUNK / 4;
            nninit__philox_words(d->key, d->stream, 4 * p, (size_t)(4 * m), w);
            for (uint64_t k = 0; k < m; k++) {
                uint64_t x1 = ((uint64_t)w[4 * k] << 32) | w[4 * k + 1];
                uint64_t x2 = ((uint64_t)w[4 * k + 2] << 32) | w[4 * k + 3];
                double u1 = (double)((x1 >> 11) + 1u) * 0x1p-53;
                double u2 = (double)(x2 >> 11) * 0x1p-53;
                double r = sqrt(-2.0 * nninit__log(u1));
                double s, c;
                nninit__sincos2pi(u2, &s, &c);
                uint64_t e0 = 2 * (p + k);
                double z0 = r * c, z1 = r * s;
                z0 = z0 * std;
                z1 = z1 * std;
                if (e0 >= begin && e0 < begin + n)
                    o[e0 - begin] = z0 + mean;
                if (e0 + 1 >= begin && e0 + 1 < begin + n)
                    o[e0 + 1 - begin] = z1 + mean;
            }
            p += m;
        }
    }
}

static void scalar_trunc_normal(const nninit__dist *d, uint64_t begin, size_t n, void *out)
{
    uint32_t w[CHUNK];
    if (d->trunc2) {
        float *o = out;
        for (size_t done = 0; done < n;) {
            size_t m = n - done < CHUNK ? n - done : CHUNK;
            nninit__philox_words(d->key, d->stream, begin + done, m, w);
            for (size_t k = 0; k < m; k++)
                o[done + k] = trunc2_f32(d, w[k]);
            done += m;
        }
        return;
    }
    const double pa = d->pa, width = d->pwidth, sgn_std = d->sgn_std, mean = d->mean, a = d->a, b = d->b;
    size_t per = d->dtype == NNINIT_F32 ? 1 : 2; /* words per element */
    size_t done = 0;
    while (done < n) {
        size_t m = n - done < CHUNK / per ? n - done : CHUNK / per;
        nninit__philox_words(d->key, d->stream, per * (begin + done), per * m, w);
        for (size_t k = 0; k < m; k++) {
            double u;
            if (per == 1) {
                u = ((double)w[k] + 0.5) * 0x1p-32;
            } else {
                uint64_t x = ((uint64_t)w[2 * k] << 32) | w[2 * k + 1];
                u = ((double)(x >> 11) + 0.5) * 0x1p-53;
            }
            double p = u * width;
            p = p + pa;
            double z = nninit__ndtri(p);
            double v = z * sgn_std;
            v = v + mean;
            if (v < a)
                v = a;
            if (v > b)
                v = b;
            if (d->dtype == NNINIT_F32)
                ((float *)out)[done + k] = (float)v;
            else
                ((double *)out)[done + k] = v;
        }
        done += m;
    }
}

static void scalar_run(const nninit__dist *d, uint64_t begin, size_t n, void *out)
{
    switch (d->kind) {
    case NNINIT__DIST_UNIFORM: scalar_uniform(d, begin, n, out); break;
    case NNINIT__DIST_NORMAL: scalar_normal(d, begin, n, out); break;
    default: scalar_trunc_normal(d, begin, n, out); break;
    }
}

void nninit__dist_run(const nninit__dist *d, nninit__isa isa, uint64_t begin, size_t n, void *out)
{
    void (*kernel)(const nninit__dist *, uint64_t, size_t, void *) = NULL;
#ifdef NNINIT__HAVE_X86_SIMD
    if (isa == NNINIT__ISA_AVX512 && nninit__isa_available(isa))
        kernel = nninit__avx512_run;
    else if (isa == NNINIT__ISA_AVX2 && nninit__isa_available(isa))
        kernel = nninit__avx2_run;
#endif
    size_t g = nninit__dist_group(d), es = nninit_dtype_size(d->dtype);
    if (!kernel || n < g) {
        scalar_run(d, begin, n, out);
        return;
    }
    /* scalar head up to a group boundary, whole groups, scalar tail */
    size_t head = (size_t)((g - begin % g) % g);
    if (head > n)
        head = n;
    size_t body = (n - head) / g * g;
    char *o = out;
    if (head)
        scalar_run(d, begin, head, o);
    if (body)
        kernel(d, begin + head, body, o + head * es);
    if (n - head - body)
        scalar_run(d, begin + head + body, n - head - body, o + (head + body) * es);
}

uint32_t nninit__philox_xor(const nninit__dist *d, nninit__isa isa, uint64_t g0, size_t groups)
{
#ifdef NNINIT__HAVE_X86_SIMD
    if (isa == NNINIT__ISA_AVX512 && nninit__isa_available(isa))
        return nninit__avx512_philox_xor(d, g0, groups);
    if (isa == NNINIT__ISA_AVX2 && nninit__isa_available(isa))
        return nninit__avx2_philox_xor(d, g0, groups);
#endif
    uint32_t w[CHUNK], x = 0;
    uint64_t first = 64 * g0, end = 64 * (g0 + groups);
    for (uint64_t at = first; at < end; at += CHUNK) {
        size_t m = end - at < CHUNK ? (size_t)(end - at) : CHUNK;
        nninit__philox_words(d->key, d->stream, at, m, w);
        for (size_t k = 0; k < m; k++)
            x ^= w[k];
    }
    return x;
}

void nninit__dist_words_f32(const nninit__dist *d, nninit__isa isa, const uint32_t *w, size_t n, float *out)
{
#ifdef NNINIT__HAVE_X86_SIMD
    if (isa == NNINIT__ISA_AVX512 && nninit__isa_available(isa)) {
        nninit__avx512_words_f32(d, w, n, out);
        return;
    }
    if (isa == NNINIT__ISA_AVX2 && nninit__isa_available(isa)) {
        nninit__avx2_words_f32(d, w, n, out);
        return;
    }
#endif
    for (size_t i = 0; i < n; i++) {
        if (d->kind == NNINIT__DIST_UNIFORM) {
            out[i] = uniform_f32(d, w[i]);
        } else if (d->kind == NNINIT__DIST_NORMAL) {
            if (i % 2 == 0)
                normal_f32(d, w[i], w[i + 1], out + i, out + i + 1);
        } else {
            out[i] = trunc2_f32(d, w[i]);
        }
    }
}

void nninit__philox_uniform(const uint32_t key[2], uint64_t stream, nninit_dtype dtype, uint64_t begin, size_t n,
                            double lo, double hi, void *out)
{
    nninit__dist d;
    nninit__dist_uniform(&d, key, stream, dtype, lo, hi);
    nninit__dist_run(&d, nninit__isa_best(), begin, n, out);
}

void nninit__philox_normal(const uint32_t key[2], uint64_t stream, nninit_dtype dtype, uint64_t begin, size_t n,
                           double mean, double std, void *out)
{
    nninit__dist d;
    nninit__dist_normal(&d, key, stream, dtype, mean, std);
    nninit__dist_run(&d, nninit__isa_best(), begin, n, out);
}

void nninit__philox_trunc_normal(const uint32_t key[2], uint64_t stream, nninit_dtype dtype, uint64_t begin,
                                 size_t n, double mean, double std, double a, double b, int version, void *out)
{
    nninit__dist d;
    nninit__dist_trunc_normal(&d, key, stream, dtype, mean, std, a, b, version);
    nninit__dist_run(&d, nninit__isa_best(), begin, n, out);
}
