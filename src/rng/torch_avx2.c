/*
 * The PyTorch stream with AVX2 and FMA instructions: MT19937's twist eight
 * words at a time, the tempering of whole runs of words, and the kernel
 * arithmetic of uniform_ and of normal_'s AVX2 16-block (the avx_mathfun
 * log256_ps / sincos256_ps of 1.13, written with the very instructions
 * ATen's AVX2 build executes). The scalar code of rng_torch.c and
 * torch_kernels.c is the reference and the fallback: every function here
 * gives its bits exactly (tests/test_torch.c compares them on many sizes,
 * offsets and seeds). An explicit _mm256_fmadd_ps stands wherever the
 * reference writes fmaf(); every other operation is separately rounded
 * (this file, like the others, is compiled with -ffp-contract=off).
 * Only called after nninit__torch_simd() said yes.
 */
#include "rng/simd_internal.h"
#include "rng/torch_internal.h"

#ifdef NNINIT__HAVE_X86_SIMD
#include <immintrin.h>

#define T __attribute__((target("avx2,fma")))

#define MT_N 624
#define MT_M 397

T static inline __m256i twist8(__m256i u, __m256i v)
{
    /* (((u & UMASK) | (v & LMASK)) >> 1) ^ ((v & 1) ? MATRIX_A : 0) */
    __m256i y = _mm256_or_si256(_mm256_and_si256(u, _mm256_set1_epi32((int)0x80000000u)),
                                _mm256_and_si256(v, _mm256_set1_epi32(0x7fffffff)));
    __m256i odd = _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_and_si256(v, _mm256_set1_epi32(1)));
    return _mm256_xor_si256(_mm256_srli_epi32(y, 1), _mm256_and_si256(odd, _mm256_set1_epi32((int)0x9908b0dfu)));
}

static uint32_t twist1(uint32_t u, uint32_t v)
{
    return (((u & 0x80000000u) | (v & 0x7fffffffu)) >> 1) ^ ((v & 1u) ? 0x9908b0dfu : 0u);
}

/* mt_next_state of rng_torch.c. Eight consecutive words j..j+7 read words
 * j+1..j+8, which this pass has not yet rewritten, and words j+397 (first
 * part, untouched) or j-227 (second part, already rewritten, as the serial
 * loop reads them: 227 > 8). */
T void nninit__torch_avx2_twist(uint32_t *st)
{
    int j = 0;
    for (; j + 8 <= MT_N - MT_M; j += 8) {
        __m256i u = _mm256_loadu_si256((const __m256i *)(st + j));
        __m256i v = _mm256_loadu_si256((const __m256i *)(st + j + 1));
        __m256i m = _mm256_loadu_si256((const __m256i *)(st + j + MT_M));
        _mm256_storeu_si256((__m256i *)(st + j), _mm256_xor_si256(m, twist8(u, v)));
    }
    for (; j < MT_N - MT_M; j++)
        st[j] = st[j + MT_M] ^ twist1(st[j], st[j + 1]);
    for (; j + 8 <= MT_N - 1; j += 8) {
        __m256i u = _mm256_loadu_si256((const __m256i *)(st + j));
        __m256i v = _mm256_loadu_si256((const __m256i *)(st + j + 1));
        __m256i m = _mm256_loadu_si256((const __m256i *)(st + j + MT_M - MT_N));
        _mm256_storeu_si256((__m256i *)(st + j), _mm256_xor_si256(m, twist8(u, v)));
    }
    for (; j < MT_N - 1; j++)
        st[j] = st[j + MT_M - MT_N] ^ twist1(st[j], st[j + 1]);
    st[MT_N - 1] = st[MT_M - 1] ^ twist1(st[MT_N - 1], st[0]);
}

static uint32_t temper1(uint32_t y)
{
    y ^= y >> 11;
    y ^= (y << 7) & 0x9d2c5680u;
    y ^= (y << 15) & 0xefc60000u;
    return y ^ (y >> 18);
}

T void nninit__torch_avx2_temper(const uint32_t *st, size_t n, uint32_t *out)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256i y = _mm256_loadu_si256((const __m256i *)(st + i));
        y = _mm256_xor_si256(y, _mm256_srli_epi32(y, 11));
        y = _mm256_xor_si256(y, _mm256_and_si256(_mm256_slli_epi32(y, 7), _mm256_set1_epi32((int)0x9d2c5680u)));
        y = _mm256_xor_si256(y, _mm256_and_si256(_mm256_slli_epi32(y, 15), _mm256_set1_epi32((int)0xefc60000u)));
        y = _mm256_xor_si256(y, _mm256_srli_epi32(y, 18));
        _mm256_storeu_si256((__m256i *)(out + i), y);
    }
    for (; i < n; i++)
        out[i] = temper1(st[i]);
}

/* ---- uniform_: o = x * range + from (fused in the AVX2 variant), x the
 * low 24 bits of a word times 2^-24; 2.x maps a result equal to `to` to
 * `from`. Whole vectors only: the caller finishes the last n % 8 (or
 * n % 4) elements with the reference. ---- */

T size_t nninit__torch_avx2_uniform_f32(const uint32_t *w, size_t n, float *o, float from, float range, float to,
                                        nninit__torch_arith ar)
{
    const __m256 f = _mm256_set1_ps(from), r = _mm256_set1_ps(range), t = _mm256_set1_ps(to);
    const __m256i low24 = _mm256_set1_epi32(0xffffff);
    const __m256 scale = _mm256_set1_ps(0x1p-24f);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256i b = _mm256_and_si256(_mm256_loadu_si256((const __m256i *)(w + i)), low24);
        __m256 x = _mm256_mul_ps(_mm256_cvtepi32_ps(b), scale);
        __m256 v = ar.avx2 ? _mm256_fmadd_ps(x, r, f) : _mm256_add_ps(_mm256_mul_ps(x, r), f);
        if (ar.v2)
            v = _mm256_blendv_ps(v, f, _mm256_cmp_ps(v, t, _CMP_EQ_OQ));
        _mm256_storeu_ps(o + i, v);
    }
    return i;
}

/* 53-bit integers to double exactly (AVX2 has no 64-bit conversion): the
 * high 21 bits over 2^84 and the low 32 over 2^52, as simd_avx2.c's
 * d_from_u53. */
T static inline __m256d u53_to_pd(__m256i a)
{
    __m256i hi = _mm256_or_si256(_mm256_srli_epi64(a, 32), _mm256_set1_epi64x(0x4530000000000000ll));
    __m256i lo = _mm256_blend_epi32(a, _mm256_set1_epi64x(0x4330000000000000ll), 0xAA);
    __m256d h = _mm256_sub_pd(_mm256_castsi256_pd(hi), _mm256_set1_pd(0x1.00000001p84));
    return _mm256_add_pd(h, _mm256_castsi256_pd(lo));
}

/* Element i from words 2i (high) and 2i+1 (low). */
T size_t nninit__torch_avx2_uniform_f64(const uint32_t *w, size_t n, double *o, double from, double range,
                                        double to, nninit__torch_arith ar)
{
    const __m256d f = _mm256_set1_pd(from), r = _mm256_set1_pd(range), t = _mm256_set1_pd(to);
    const __m256i low53 = _mm256_set1_epi64x(0x1fffffffffffffll);
    const __m256d scale = _mm256_set1_pd(0x1p-53);
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        /* words (hi, lo) pairs as little-endian 64-bit lanes are lo:hi; swap the halves */
        __m256i p = _mm256_loadu_si256((const __m256i *)(w + 2 * i));
        __m256i x = _mm256_and_si256(_mm256_shuffle_epi32(p, 0xB1), low53);
        __m256d u = _mm256_mul_pd(u53_to_pd(x), scale);
        __m256d v = ar.avx2 ? _mm256_fmadd_pd(u, r, f) : _mm256_add_pd(_mm256_mul_pd(u, r), f);
        if (ar.v2)
            v = _mm256_blendv_pd(v, f, _mm256_cmp_pd(v, t, _CMP_EQ_OQ));
        _mm256_storeu_pd(o + i, v);
    }
    return i;
}

/* ---- log256_ps and sincos256_ps (avx_mathfun.h), lane for lane the
 * scalar ports nninit__torch_avx_logf / nninit__torch_avx_sincosf ---- */

T static inline __m256 log256(__m256 x)
{
    __m256 invalid = _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_LE_OS);
    x = _mm256_max_ps(x, _mm256_castsi256_ps(_mm256_set1_epi32(0x00800000))); /* min_norm_pos */
    __m256i imm0 = _mm256_srli_epi32(_mm256_castps_si256(x), 23);
    x = _mm256_and_ps(x, _mm256_castsi256_ps(_mm256_set1_epi32((int)~0x7f800000u)));
    x = _mm256_or_ps(x, _mm256_set1_ps(0.5f));
    imm0 = _mm256_sub_epi32(imm0, _mm256_set1_epi32(0x7f));
    __m256 e = _mm256_add_ps(_mm256_cvtepi32_ps(imm0), _mm256_set1_ps(1.0f));
    __m256 mask = _mm256_cmp_ps(x, _mm256_set1_ps(0.707106781186547524f), _CMP_LT_OS);
    __m256 tmp = _mm256_and_ps(x, mask);
    x = _mm256_sub_ps(x, _mm256_set1_ps(1.0f));
    e = _mm256_sub_ps(e, _mm256_and_ps(_mm256_set1_ps(1.0f), mask));
    x = _mm256_add_ps(x, tmp);
    __m256 z = _mm256_mul_ps(x, x);
    __m256 y = _mm256_fmadd_ps(_mm256_set1_ps(7.0376836292E-2f), x, _mm256_set1_ps(-1.1514610310E-1f));
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(1.1676998740E-1f));
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(-1.2420140846E-1f));
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(+1.4249322787E-1f));
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(-1.6668057665E-1f));
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(+2.0000714765E-1f));
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(-2.4999993993E-1f));
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(+3.3333331174E-1f));
    y = _mm256_mul_ps(y, x);
    y = _mm256_fmadd_ps(y, z, _mm256_mul_ps(e, _mm256_set1_ps(-2.12194440e-4f)));
    y = _mm256_fnmadd_ps(z, _mm256_set1_ps(0.5f), y); /* -(z * 0.5) + y, one rounding */
    x = _mm256_fmadd_ps(e, _mm256_set1_ps(0.693359375f), _mm256_add_ps(x, y));
    return _mm256_or_ps(x, invalid);
}

T static inline void sincos256(__m256 x, __m256 *s, __m256 *c)
{
    const __m256 signbit = _mm256_castsi256_ps(_mm256_set1_epi32((int)0x80000000u));
    __m256 sign_sin = _mm256_and_ps(x, signbit);
    x = _mm256_andnot_ps(signbit, x);
    __m256 y = _mm256_mul_ps(x, _mm256_set1_ps(1.27323954473516f));
    __m256i j = _mm256_cvttps_epi32(y);
    j = _mm256_add_epi32(j, _mm256_set1_epi32(1));
    j = _mm256_and_si256(j, _mm256_set1_epi32(~1));
    y = _mm256_cvtepi32_ps(j);
    __m256i j4 = _mm256_slli_epi32(_mm256_and_si256(j, _mm256_set1_epi32(4)), 29);
    __m256 poly = _mm256_castsi256_ps(
        _mm256_cmpeq_epi32(_mm256_and_si256(j, _mm256_set1_epi32(2)), _mm256_setzero_si256()));
    x = _mm256_fmadd_ps(y, _mm256_set1_ps(-0.78515625f), x);
    x = _mm256_fmadd_ps(y, _mm256_set1_ps(-2.4187564849853515625e-4f), x);
    x = _mm256_fmadd_ps(y, _mm256_set1_ps(-3.77489497744594108e-8f), x);
    __m256i jc = _mm256_sub_epi32(j, _mm256_set1_epi32(2));
    jc = _mm256_slli_epi32(_mm256_andnot_si256(jc, _mm256_set1_epi32(4)), 29);
    sign_sin = _mm256_xor_ps(sign_sin, _mm256_castsi256_ps(j4));
    __m256 z = _mm256_mul_ps(x, x);
    __m256 yc = _mm256_fmadd_ps(_mm256_set1_ps(2.443315711809948E-005f), z, _mm256_set1_ps(-1.388731625493765E-003f));
    yc = _mm256_fmadd_ps(yc, z, _mm256_set1_ps(4.166664568298827E-002f));
    yc = _mm256_mul_ps(yc, z);
    yc = _mm256_fmadd_ps(yc, z, _mm256_xor_ps(_mm256_mul_ps(z, _mm256_set1_ps(0.5f)), signbit));
    yc = _mm256_add_ps(yc, _mm256_set1_ps(1.0f));
    __m256 ys = _mm256_fmadd_ps(_mm256_set1_ps(-1.9515295891E-4f), z, _mm256_set1_ps(8.3321608736E-3f));
    ys = _mm256_fmadd_ps(ys, z, _mm256_set1_ps(-1.6666654611E-1f));
    ys = _mm256_mul_ps(ys, z);
    ys = _mm256_fmadd_ps(ys, x, x);
    __m256 ysin2 = _mm256_and_ps(poly, ys);
    __m256 ysin1 = _mm256_andnot_ps(poly, yc);
    ys = _mm256_sub_ps(ys, ysin2);
    yc = _mm256_sub_ps(yc, ysin1);
    *s = _mm256_xor_ps(_mm256_add_ps(ysin1, ysin2), sign_sin);
    *c = _mm256_xor_ps(_mm256_add_ps(yc, ys), _mm256_castsi256_ps(jc));
}

/* normal_fill_16_AVX2 on `blocks` consecutive 16-blocks of uniforms. */
T void nninit__torch_avx2_normal16_f32(float *d, size_t blocks, float mean, float std)
{
    const __m256 one = _mm256_set1_ps(1.0f), minus_two = _mm256_set1_ps(-2.0f),
                 two_pi = _mm256_set1_ps((float)6.283185307179586), m = _mm256_set1_ps(mean),
                 sd = _mm256_set1_ps(std);
    for (size_t b = 0; b < blocks; b++, d += 16) {
        __m256 u1 = _mm256_sub_ps(one, _mm256_loadu_ps(d));
        __m256 u2 = _mm256_loadu_ps(d + 8);
        __m256 radius = _mm256_sqrt_ps(_mm256_mul_ps(minus_two, log256(u1)));
        __m256 s, c;
        sincos256(_mm256_mul_ps(two_pi, u2), &s, &c);
        _mm256_storeu_ps(d, _mm256_fmadd_ps(_mm256_mul_ps(radius, c), sd, m));
        _mm256_storeu_ps(d + 8, _mm256_fmadd_ps(_mm256_mul_ps(radius, s), sd, m));
    }
}

#endif
