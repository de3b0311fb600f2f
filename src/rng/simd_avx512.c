/*
 * AVX-512 (F, DQ, BW, VL) instance of simd_kernels.h: 16 floats / 8 doubles
 * a vector, k-masks for selects. Compiled for any x86-64 target; only run
 * after nninit__isa_available(NNINIT__ISA_AVX512) said yes.
 */
#include "rng/simd_internal.h"

#ifdef NNINIT__HAVE_X86_SIMD
#include <immintrin.h>

#define T __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl")))
#define KERNEL_RUN nninit__avx512_run
#define KERNEL_PHILOX_XOR nninit__avx512_philox_xor
#define KERNEL_WORDS_F32 nninit__avx512_words_f32
#define VF_N 16
#define VD_N 8
#define PG 2 /* groups whose Philox rounds interleave (simd_kernels.h) */

typedef __m512 vf;
typedef __m512i vi;
typedef __m512d vd;
typedef __mmask16 mf;
typedef __mmask8 md;

/* float32 lanes */
T static inline vf f_set(float x) { return _mm512_set1_ps(x); }
T static inline vf f_add(vf a, vf b) { return _mm512_add_ps(a, b); }
T static inline vf f_sub(vf a, vf b) { return _mm512_sub_ps(a, b); }
T static inline vf f_mul(vf a, vf b) { return _mm512_mul_ps(a, b); }
T static inline vf f_div(vf a, vf b) { return _mm512_div_ps(a, b); }
T static inline vf f_sqrt(vf a) { return _mm512_sqrt_ps(a); }
T static inline vf f_from_i32(vi a) { return _mm512_cvtepi32_ps(a); }
T static inline vi f_to_i32_trunc(vf a) { return _mm512_cvttps_epi32(a); }
T static inline vi f_bits(vf a) { return _mm512_castps_si512(a); }
T static inline vf f_from_bits(vi a) { return _mm512_castsi512_ps(a); }
T static inline mf f_ge(vf a, vf b) { return _mm512_cmp_ps_mask(a, b, _CMP_GE_OQ); }
T static inline vf f_sel(mf m, vf t, vf f) { return _mm512_mask_blend_ps(m, f, t); }
T static inline vf f_neg(vf x)
{
    return _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(x), _mm512_set1_epi32((int)0x80000000u)));
}
T static inline int mf_any(mf m) { return m != 0; }
T static inline mf mf_and(mf a, mf b) { return a & b; }
T static inline int mf_all(mf m) { return m == 0xffff; }
/* x86 min/max: a < b ? a : b and a > b ? a : b (b when equal or unordered),
 * the scalar reference's "if (b > a) b = a" clamps with the constant first */
T static inline vf f_min(vf a, vf b) { return _mm512_min_ps(a, b); }
T static inline vf f_max(vf a, vf b) { return _mm512_max_ps(a, b); }
T static inline vf f_abs(vf x) { return _mm512_abs_ps(x); }
/* A 32-entry float table, looked up by the low 5 bits of each index: two
 * registers and one two-source permute (vpermt2ps) a lookup. */
typedef struct ftab {
    vf lo, hi;
} ftab;
T static inline ftab f_tab(const float *t)
{
    ftab r = {_mm512_loadu_ps(t), _mm512_loadu_ps(t + 16)};
    return r;
}
T static inline vf f_lookup(ftab t, vi idx) { return _mm512_permutex2var_ps(t.lo, idx, t.hi); }
T static inline vf f_neg_if(mf m, vf x)
{
    vi b = _mm512_castps_si512(x);
    return _mm512_castsi512_ps(_mm512_mask_xor_epi32(b, m, b, _mm512_set1_epi32((int)0x80000000u)));
}

/* 32-bit integer lanes */
T static inline vi i32_set(int x) { return _mm512_set1_epi32(x); }
T static inline vi i32_add(vi a, vi b) { return _mm512_add_epi32(a, b); }
T static inline vi i32_sub(vi a, vi b) { return _mm512_sub_epi32(a, b); }
#define i32_srli(a, n) _mm512_srli_epi32((a), (n))
T static inline vi i_and(vi a, vi b) { return _mm512_and_si512(a, b); }
T static inline vi i_or(vi a, vi b) { return _mm512_or_si512(a, b); }
/* (a & m) | o in one vpternlogd (truth table of A & B | C) */
T static inline vi i_andor(vi a, vi m, vi o) { return _mm512_ternarylogic_epi32(a, m, o, 0xEA); }
T static inline mf i32_gt(vi a, vi b) { return _mm512_cmpgt_epi32_mask(a, b); }
T static inline mf i_test32(vi a, vi b) { return _mm512_test_epi32_mask(a, b); }
T static inline vi i32_sel(mf m, vi t, vi f) { return _mm512_mask_blend_epi32(m, f, t); }

/* 64-bit integer lanes */
T static inline vi i64_set(int64_t x) { return _mm512_set1_epi64((long long)x); }
T static inline vi i64_iota(void) { return _mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0); }
T static inline vi i64_add(vi a, vi b) { return _mm512_add_epi64(a, b); }
T static inline vi i64_sub(vi a, vi b) { return _mm512_sub_epi64(a, b); }
#define i64_srli(a, n) _mm512_srli_epi64((a), (n))
#define i64_slli(a, n) _mm512_slli_epi64((a), (n))
T static inline md i64_gt(vi a, vi b) { return _mm512_cmpgt_epi64_mask(a, b); }
T static inline md i64_test(vi a, vi b) { return _mm512_test_epi64_mask(a, b); }
T static inline vi i64_sel(md m, vi t, vi f) { return _mm512_mask_blend_epi64(m, f, t); }
T static inline vi mul_epu32(vi a, vi b) { return _mm512_mul_epu32(a, b); }
T static inline vi xor3(vi a, vi b, vi c) { return _mm512_ternarylogic_epi64(a, b, c, 0x96); }

/* float64 lanes */
T static inline vd d_set(double x) { return _mm512_set1_pd(x); }
T static inline vd d_add(vd a, vd b) { return _mm512_add_pd(a, b); }
T static inline vd d_sub(vd a, vd b) { return _mm512_sub_pd(a, b); }
T static inline vd d_mul(vd a, vd b) { return _mm512_mul_pd(a, b); }
T static inline vd d_div(vd a, vd b) { return _mm512_div_pd(a, b); }
T static inline vd d_sqrt(vd a) { return _mm512_sqrt_pd(a); }
T static inline vi d_bits(vd a) { return _mm512_castpd_si512(a); }
T static inline vd d_from_bits(vi a) { return _mm512_castsi512_pd(a); }
T static inline vd d_abs(vd a) { return _mm512_castsi512_pd(_mm512_and_si512(_mm512_castpd_si512(a), _mm512_set1_epi64(0x7fffffffffffffffll))); }
T static inline vd d_neg(vd a) { return _mm512_castsi512_pd(_mm512_xor_si512(_mm512_castpd_si512(a), _mm512_set1_epi64((long long)0x8000000000000000ull))); }
T static inline vd d_neg_if(md m, vd x)
{
    vi b = _mm512_castpd_si512(x);
    return _mm512_castsi512_pd(_mm512_mask_xor_epi64(b, m, b, _mm512_set1_epi64((long long)0x8000000000000000ull)));
}
T static inline md d_lt(vd a, vd b) { return _mm512_cmp_pd_mask(a, b, _CMP_LT_OQ); }
T static inline md d_le(vd a, vd b) { return _mm512_cmp_pd_mask(a, b, _CMP_LE_OQ); }
T static inline md d_gt(vd a, vd b) { return _mm512_cmp_pd_mask(a, b, _CMP_GT_OQ); }
T static inline md d_ge(vd a, vd b) { return _mm512_cmp_pd_mask(a, b, _CMP_GE_OQ); }
T static inline vd d_sel(md m, vd t, vd f) { return _mm512_mask_blend_pd(m, f, t); }
/* exact: integers below 2^53, below 2^32, of magnitude below 2^51 */
T static inline vd d_from_u53(vi a) { return _mm512_cvtepu64_pd(a); }
T static inline vd d_from_u32lo(vi a) { return _mm512_cvtepu64_pd(_mm512_and_si512(a, _mm512_set1_epi64(0xffffffffll))); }
T static inline vd d_from_i64small(vi a) { return _mm512_cvtepi64_pd(a); }
T static inline vi d_to_i64_trunc(vd a) { return _mm512_cvttpd_epi64(a); }
T static inline void d_store(double *p, vd a) { _mm512_storeu_pd(p, a); }
T static inline vd d_load(const double *p) { return _mm512_loadu_pd(p); }

/* masks of 64-bit lanes */
T static inline md md_not(md m) { return (md)~m; }
T static inline unsigned md_bits(md m) { return m; }

/* whole vectors of 32-bit words to and from memory (the two-phase loops) */
T static inline vi i_loadu(const uint32_t *p) { return _mm512_loadu_si512((const void *)p); }
T static inline void i_storeu(uint32_t *p, vi a) { _mm512_storeu_si512((void *)p, a); }

/* layout */
T static inline vi pack_lo32(vi a, vi b)
{
    const vi idx = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    return _mm512_permutex2var_epi32(a, idx, b);
}
T static inline vf f_from_pd2(vd lo, vd hi)
{
    __m256 l = _mm512_cvtpd_ps(lo), h = _mm512_cvtpd_ps(hi);
    return _mm512_castpd_ps(_mm512_insertf64x4(_mm512_castpd256_pd512(_mm256_castps_pd(l)), _mm256_castps_pd(h), 1));
}
/* out[4b + k] = Rk[b], b < 16: a 4x4 transposition of 32-bit lanes in two
 * levels of two-source permutes (8 vpermt2ps; unpack + shuffle took 16) */
T static inline void store_f32x4(float *out, vf r0, vf r1, vf r2, vf r3)
{
    const vi lo = _mm512_set_epi32(23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
    const vi hi = _mm512_set_epi32(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8);
    /* pairs: p01 = (r0[b], r1[b]) for b < 8, q01 for b >= 8; p23, q23 likewise */
    vf p01 = _mm512_permutex2var_ps(r0, lo, r1), q01 = _mm512_permutex2var_ps(r0, hi, r1);
    vf p23 = _mm512_permutex2var_ps(r2, lo, r3), q23 = _mm512_permutex2var_ps(r2, hi, r3);
    /* the same interleave on 64-bit pairs: (p01 pair b, p23 pair b) */
    vi a = _mm512_castps_si512(p01), b = _mm512_castps_si512(p23);
    vi c = _mm512_castps_si512(q01), e = _mm512_castps_si512(q23);
    const vi lo2 = _mm512_set_epi64(11, 3, 10, 2, 9, 1, 8, 0), hi2 = _mm512_set_epi64(15, 7, 14, 6, 13, 5, 12, 4);
    _mm512_storeu_si512(out, _mm512_permutex2var_epi64(a, lo2, b));
    _mm512_storeu_si512(out + 16, _mm512_permutex2var_epi64(a, hi2, b));
    _mm512_storeu_si512(out + 32, _mm512_permutex2var_epi64(c, lo2, e));
    _mm512_storeu_si512(out + 48, _mm512_permutex2var_epi64(c, hi2, e));
}
/* Words to element order: lo[4b + k] = low half of lane b of sk for b < 4,
 * hi the same for b = 4..7 (the k-th words of 8 half-dense blocks). */
T static inline void words4(vi s0, vi s1, vi s2, vi s3, vi *lo, vi *hi)
{
    const vi pair = _mm512_set_epi32(30, 14, 28, 12, 26, 10, 24, 8, 22, 6, 20, 4, 18, 2, 16, 0);
    vi p01 = _mm512_permutex2var_epi32(s0, pair, s1), p23 = _mm512_permutex2var_epi32(s2, pair, s3);
    *lo = _mm512_permutex2var_epi64(p01, _mm512_set_epi64(11, 3, 10, 2, 9, 1, 8, 0), p23);
    *hi = _mm512_permutex2var_epi64(p01, _mm512_set_epi64(15, 7, 14, 6, 13, 5, 12, 4), p23);
}
T static inline void f_storeu(float *p, vf a) { _mm512_storeu_ps(p, a); }
/* the inverse of store_f32x4 on words: R[k][b] = in[4b + k], b < 16
 * (pairs of words by 64-bit permutes, then the words of each pair) */
T static inline void load_u32x4(const uint32_t *in, vi R[4])
{
    vi a0 = _mm512_loadu_si512((const void *)in), a1 = _mm512_loadu_si512((const void *)(in + 16));
    vi a2 = _mm512_loadu_si512((const void *)(in + 32)), a3 = _mm512_loadu_si512((const void *)(in + 48));
    const vi ev = _mm512_set_epi64(14, 12, 10, 8, 6, 4, 2, 0), od = _mm512_set_epi64(15, 13, 11, 9, 7, 5, 3, 1);
    vi p01lo = _mm512_permutex2var_epi64(a0, ev, a1), p23lo = _mm512_permutex2var_epi64(a0, od, a1);
    vi p01hi = _mm512_permutex2var_epi64(a2, ev, a3), p23hi = _mm512_permutex2var_epi64(a2, od, a3);
    const vi e32 = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    const vi o32 = _mm512_set_epi32(31, 29, 27, 25, 23, 21, 19, 17, 15, 13, 11, 9, 7, 5, 3, 1);
    R[0] = _mm512_permutex2var_epi32(p01lo, e32, p01hi);
    R[1] = _mm512_permutex2var_epi32(p01lo, o32, p01hi);
    R[2] = _mm512_permutex2var_epi32(p23lo, e32, p23hi);
    R[3] = _mm512_permutex2var_epi32(p23lo, o32, p23hi);
}
/* out[2b] = d0[b], out[2b + 1] = d1[b], b < 8 */
T static inline void store_f64x2(double *out, vd d0, vd d1)
{
    const vi lo = _mm512_set_epi64(11, 3, 10, 2, 9, 1, 8, 0), hi = _mm512_set_epi64(15, 7, 14, 6, 13, 5, 12, 4);
    _mm512_storeu_pd(out, _mm512_permutex2var_pd(d0, lo, d1));
    _mm512_storeu_pd(out + 8, _mm512_permutex2var_pd(d0, hi, d1));
}

#include "rng/simd_kernels.h"

#endif
