/*
 * AVX2 instance of simd_kernels.h: 8 floats / 4 doubles a vector, masks as
 * all-ones lanes. The target is "avx2" without "fma", so no multiply-add
 * can appear. Only run after nninit__isa_available(NNINIT__ISA_AVX2).
 */
#include "rng/simd_internal.h"

#ifdef NNINIT__HAVE_X86_SIMD
#include <immintrin.h>

#define T __attribute__((target("avx2")))
#define KERNEL_RUN nninit__avx2_run
#define KERNEL_PHILOX_XOR nninit__avx2_philox_xor
#define KERNEL_WORDS_F32 nninit__avx2_words_f32
#define VF_N 8
#define VD_N 4

typedef __m256 vf;
typedef __m256i vi;
typedef __m256d vd;
typedef __m256 mf;
typedef __m256d md;

/* float32 lanes */
T static inline vf f_set(float x) { return _mm256_set1_ps(x); }
T static inline vf f_add(vf a, vf b) { return _mm256_add_ps(a, b); }
T static inline vf f_sub(vf a, vf b) { return _mm256_sub_ps(a, b); }
T static inline vf f_mul(vf a, vf b) { return _mm256_mul_ps(a, b); }
T static inline vf f_div(vf a, vf b) { return _mm256_div_ps(a, b); }
T static inline vf f_sqrt(vf a) { return _mm256_sqrt_ps(a); }
T static inline vf f_from_i32(vi a) { return _mm256_cvtepi32_ps(a); }
T static inline vi f_to_i32_trunc(vf a) { return _mm256_cvttps_epi32(a); }
T static inline vi f_bits(vf a) { return _mm256_castps_si256(a); }
T static inline vf f_from_bits(vi a) { return _mm256_castsi256_ps(a); }
T static inline mf f_ge(vf a, vf b) { return _mm256_cmp_ps(a, b, _CMP_GE_OQ); }
T static inline vf f_sel(mf m, vf t, vf f) { return _mm256_blendv_ps(f, t, m); }
T static inline vf f_neg_if(mf m, vf x) { return _mm256_xor_ps(x, _mm256_and_ps(m, _mm256_set1_ps(-0.0f))); }
T static inline vf f_neg(vf x) { return _mm256_xor_ps(x, _mm256_set1_ps(-0.0f)); }
T static inline int mf_any(mf m) { return _mm256_movemask_ps(m) != 0; }
T static inline mf mf_and(mf a, mf b) { return _mm256_and_ps(a, b); }
T static inline int mf_all(mf m) { return _mm256_movemask_ps(m) == 0xff; }
/* x86 min/max: a < b ? a : b and a > b ? a : b (b when equal or unordered),
 * the scalar reference's "if (b > a) b = a" clamps with the constant first */
T static inline vf f_min(vf a, vf b) { return _mm256_min_ps(a, b); }
T static inline vf f_max(vf a, vf b) { return _mm256_max_ps(a, b); }
T static inline vf f_abs(vf x) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), x); }
/* A 32-entry float table, looked up by the low 5 bits of each index: each
 * eighth of it permuted by the low 3 bits (vpermps, the table a memory
 * operand: 16 registers cannot hold 32 entries per coefficient), then
 * blends by bits 3 and 4 (moved to the sign bit, which vblendvps reads).
 * 4 permutes and 3 blends: the AVX2 format-3 fill ran 1.8x longer with a
 * gather (vgatherdps) on Zen 4. */
typedef const float *ftab;
T static inline ftab f_tab(const float *t) { return t; }
T static inline vf f_lookup(ftab t, vi idx)
{
    vf q0 = _mm256_permutevar8x32_ps(_mm256_loadu_ps(t), idx);
    vf q1 = _mm256_permutevar8x32_ps(_mm256_loadu_ps(t + 8), idx);
    vf q2 = _mm256_permutevar8x32_ps(_mm256_loadu_ps(t + 16), idx);
    vf q3 = _mm256_permutevar8x32_ps(_mm256_loadu_ps(t + 24), idx);
    vf b3 = _mm256_castsi256_ps(_mm256_slli_epi32(idx, 28)), b4 = _mm256_castsi256_ps(_mm256_slli_epi32(idx, 27));
    return _mm256_blendv_ps(_mm256_blendv_ps(q0, q1, b3), _mm256_blendv_ps(q2, q3, b3), b4);
}

/* 32-bit integer lanes */
T static inline vi i32_set(int x) { return _mm256_set1_epi32(x); }
T static inline vi i32_add(vi a, vi b) { return _mm256_add_epi32(a, b); }
T static inline vi i32_sub(vi a, vi b) { return _mm256_sub_epi32(a, b); }
#define i32_srli(a, n) _mm256_srli_epi32((a), (n))
T static inline vi i_and(vi a, vi b) { return _mm256_and_si256(a, b); }
T static inline vi i_or(vi a, vi b) { return _mm256_or_si256(a, b); }
/* (a & m) | o */
T static inline vi i_andor(vi a, vi m, vi o) { return _mm256_or_si256(_mm256_and_si256(a, m), o); }
T static inline mf i32_gt(vi a, vi b) { return _mm256_castsi256_ps(_mm256_cmpgt_epi32(a, b)); }
T static inline mf i_test32(vi a, vi b)
{
    vi z = _mm256_cmpeq_epi32(_mm256_and_si256(a, b), _mm256_setzero_si256());
    return _mm256_castsi256_ps(_mm256_xor_si256(z, _mm256_set1_epi32(-1)));
}
T static inline vi i32_sel(mf m, vi t, vi f)
{
    return _mm256_castps_si256(_mm256_blendv_ps(_mm256_castsi256_ps(f), _mm256_castsi256_ps(t), m));
}

/* 64-bit integer lanes */
T static inline vi i64_set(int64_t x) { return _mm256_set1_epi64x((long long)x); }
T static inline vi i64_iota(void) { return _mm256_set_epi64x(3, 2, 1, 0); }
T static inline vi i64_add(vi a, vi b) { return _mm256_add_epi64(a, b); }
T static inline vi i64_sub(vi a, vi b) { return _mm256_sub_epi64(a, b); }
#define i64_srli(a, n) _mm256_srli_epi64((a), (n))
#define i64_slli(a, n) _mm256_slli_epi64((a), (n))
T static inline md i64_gt(vi a, vi b) { return _mm256_castsi256_pd(_mm256_cmpgt_epi64(a, b)); }
T static inline md i64_test(vi a, vi b)
{
    vi z = _mm256_cmpeq_epi64(_mm256_and_si256(a, b), _mm256_setzero_si256());
    return _mm256_castsi256_pd(_mm256_xor_si256(z, _mm256_set1_epi32(-1)));
}
T static inline vi i64_sel(md m, vi t, vi f)
{
    return _mm256_castpd_si256(_mm256_blendv_pd(_mm256_castsi256_pd(f), _mm256_castsi256_pd(t), m));
}
T static inline vi mul_epu32(vi a, vi b) { return _mm256_mul_epu32(a, b); }
T static inline vi xor3(vi a, vi b, vi c) { return _mm256_xor_si256(_mm256_xor_si256(a, b), c); }

/* float64 lanes */
T static inline vd d_set(double x) { return _mm256_set1_pd(x); }
T static inline vd d_add(vd a, vd b) { return _mm256_add_pd(a, b); }
T static inline vd d_sub(vd a, vd b) { return _mm256_sub_pd(a, b); }
T static inline vd d_mul(vd a, vd b) { return _mm256_mul_pd(a, b); }
T static inline vd d_div(vd a, vd b) { return _mm256_div_pd(a, b); }
T static inline vd d_sqrt(vd a) { return _mm256_sqrt_pd(a); }
T static inline vi d_bits(vd a) { return _mm256_castpd_si256(a); }
T static inline vd d_from_bits(vi a) { return _mm256_castsi256_pd(a); }
T static inline vd d_abs(vd a) { return _mm256_andnot_pd(_mm256_set1_pd(-0.0), a); }
T static inline vd d_neg(vd a) { return _mm256_xor_pd(a, _mm256_set1_pd(-0.0)); }
T static inline vd d_neg_if(md m, vd x) { return _mm256_xor_pd(x, _mm256_and_pd(m, _mm256_set1_pd(-0.0))); }
T static inline md d_lt(vd a, vd b) { return _mm256_cmp_pd(a, b, _CMP_LT_OQ); }
T static inline md d_le(vd a, vd b) { return _mm256_cmp_pd(a, b, _CMP_LE_OQ); }
T static inline md d_gt(vd a, vd b) { return _mm256_cmp_pd(a, b, _CMP_GT_OQ); }
T static inline md d_ge(vd a, vd b) { return _mm256_cmp_pd(a, b, _CMP_GE_OQ); }
T static inline vd d_sel(md m, vd t, vd f) { return _mm256_blendv_pd(f, t, m); }
/* Exact integer conversions without AVX-512DQ. Below 2^53: 2^84 + hi 2^32
 * and 2^52 + lo are exact doubles, (2^84 + hi 2^32) - (2^84 + 2^52) is
 * exact, and the final sum is the representable hi 2^32 + lo. */
T static inline vd d_from_u53(vi a)
{
    vi hi = _mm256_or_si256(_mm256_srli_epi64(a, 32), _mm256_set1_epi64x(0x4530000000000000ll));
    vi lo = _mm256_blend_epi32(a, _mm256_set1_epi64x(0x4330000000000000ll), 0xAA);
    vd h = _mm256_sub_pd(_mm256_castsi256_pd(hi), _mm256_set1_pd(0x1.00000001p84));
    return _mm256_add_pd(h, _mm256_castsi256_pd(lo));
}
T static inline vd d_from_u32lo(vi a)
{
    vi lo = _mm256_blend_epi32(a, _mm256_set1_epi64x(0x4330000000000000ll), 0xAA);
    return _mm256_sub_pd(_mm256_castsi256_pd(lo), _mm256_set1_pd(0x1p52));
}
/* |a| < 2^51: 1.5 2^52 + a is an exact double whose bits are those of the integer sum */
T static inline vd d_from_i64small(vi a)
{
    vi b = _mm256_add_epi64(a, _mm256_castpd_si256(_mm256_set1_pd(0x1.8p52)));
    return _mm256_sub_pd(_mm256_castsi256_pd(b), _mm256_set1_pd(0x1.8p52));
}
T static inline vi d_to_i64_trunc(vd a) { return _mm256_cvtepi32_epi64(_mm256_cvttpd_epi32(a)); }
T static inline void d_store(double *p, vd a) { _mm256_storeu_pd(p, a); }
T static inline vd d_load(const double *p) { return _mm256_loadu_pd(p); }

/* masks of 64-bit lanes */
T static inline md md_not(md m) { return _mm256_xor_pd(m, _mm256_castsi256_pd(_mm256_set1_epi32(-1))); }
T static inline unsigned md_bits(md m) { return (unsigned)_mm256_movemask_pd(m); }

/* whole vectors of 32-bit words to and from memory (the two-phase loops) */
T static inline vi i_loadu(const uint32_t *p) { return _mm256_loadu_si256((const __m256i *)p); }
T static inline void i_storeu(uint32_t *p, vi a) { _mm256_storeu_si256((__m256i *)p, a); }

/* layout */
T static inline vi pack_lo32(vi a, vi b)
{
    /* per 128-bit half: a0 a1 b0 b1 | a2 a3 b2 b3, then the 64-bit pairs in order */
    __m256 s = _mm256_shuffle_ps(_mm256_castsi256_ps(a), _mm256_castsi256_ps(b), 0x88);
    return _mm256_permute4x64_epi64(_mm256_castps_si256(s), 0xD8);
}
T static inline vf f_from_pd2(vd lo, vd hi)
{
    return _mm256_insertf128_ps(_mm256_castps128_ps256(_mm256_cvtpd_ps(lo)), _mm256_cvtpd_ps(hi), 1);
}
/* out[4b + k] = Rk[b], b < 8 */
T static inline void store_f32x4(float *out, vf r0, vf r1, vf r2, vf r3)
{
    vf t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
    vf t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
    vf u0 = _mm256_castpd_ps(_mm256_unpacklo_pd(_mm256_castps_pd(t0), _mm256_castps_pd(t2)));
    vf u1 = _mm256_castpd_ps(_mm256_unpackhi_pd(_mm256_castps_pd(t0), _mm256_castps_pd(t2)));
    vf u2 = _mm256_castpd_ps(_mm256_unpacklo_pd(_mm256_castps_pd(t1), _mm256_castps_pd(t3)));
    vf u3 = _mm256_castpd_ps(_mm256_unpackhi_pd(_mm256_castps_pd(t1), _mm256_castps_pd(t3)));
    /* u0..u3 hold blocks (0|4), (1|5), (2|6), (3|7) */
    _mm256_storeu_ps(out, _mm256_permute2f128_ps(u0, u1, 0x20));
    _mm256_storeu_ps(out + 8, _mm256_permute2f128_ps(u2, u3, 0x20));
    _mm256_storeu_ps(out + 16, _mm256_permute2f128_ps(u0, u1, 0x31));
    _mm256_storeu_ps(out + 24, _mm256_permute2f128_ps(u2, u3, 0x31));
}
/* Words to element order: lo[4b + k] = low half of lane b of sk for b < 2,
 * hi the same for b = 2, 3 (the k-th words of 4 half-dense blocks): each
 * block's word pairs as 64-bit lanes, then the 128-bit halves in order. */
T static inline void words4(vi s0, vi s1, vi s2, vi s3, vi *lo, vi *hi)
{
    vi p01 = _mm256_blend_epi32(s0, _mm256_slli_epi64(s1, 32), 0xAA);
    vi p23 = _mm256_blend_epi32(s2, _mm256_slli_epi64(s3, 32), 0xAA);
    vi t0 = _mm256_unpacklo_epi64(p01, p23), t1 = _mm256_unpackhi_epi64(p01, p23); /* blocks 0|2, 1|3 */
    *lo = _mm256_permute2x128_si256(t0, t1, 0x20);
    *hi = _mm256_permute2x128_si256(t0, t1, 0x31);
}
T static inline void f_storeu(float *p, vf a) { _mm256_storeu_ps(p, a); }
/* the inverse of store_f32x4 on words: R[k][b] = in[4b + k], b < 8 (each
 * vector's two blocks to word pairs, then a 4x4 transpose of the pairs) */
T static inline void load_u32x4(const uint32_t *in, vi R[4])
{
    const vi pairs = _mm256_set_epi32(7, 3, 6, 2, 5, 1, 4, 0);
    vi t[4];
    for (int i = 0; i < 4; i++)
        t[i] = _mm256_permutevar8x32_epi32(_mm256_loadu_si256((const __m256i *)(in + 8 * i)), pairs);
    vi lo01 = _mm256_unpacklo_epi64(t[0], t[1]), hi01 = _mm256_unpackhi_epi64(t[0], t[1]);
    vi lo23 = _mm256_unpacklo_epi64(t[2], t[3]), hi23 = _mm256_unpackhi_epi64(t[2], t[3]);
    R[0] = _mm256_permute2x128_si256(lo01, lo23, 0x20);
    R[1] = _mm256_permute2x128_si256(hi01, hi23, 0x20);
    R[2] = _mm256_permute2x128_si256(lo01, lo23, 0x31);
    R[3] = _mm256_permute2x128_si256(hi01, hi23, 0x31);
}
/* out[2b] = d0[b], out[2b + 1] = d1[b], b < 4 */
T static inline void store_f64x2(double *out, vd d0, vd d1)
{
    vd lo = _mm256_unpacklo_pd(d0, d1), hi = _mm256_unpackhi_pd(d0, d1);
    _mm256_storeu_pd(out, _mm256_permute2f128_pd(lo, hi, 0x20));
    _mm256_storeu_pd(out + 4, _mm256_permute2f128_pd(lo, hi, 0x31));
}

#include "rng/simd_kernels.h"

#endif
