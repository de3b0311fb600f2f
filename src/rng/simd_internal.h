/*
 * Private interface of the vectorized Philox generation (dist_philox.c,
 * cpu.c, simd_avx2.c, simd_avx512.c, simd_kernels.h). Never installed.
 *
 * The scalar code in dist_philox.c is the reference: every vector path
 * performs the same separately rounded IEEE operations in the same order
 * (no FMA, no vector libm), so all paths give identical bits.
 */
#ifndef NNINIT_SIMD_INTERNAL_H
#define NNINIT_SIMD_INTERNAL_H

#include "rng/internal.h"

/* Instruction sets a fill can run on, in increasing order of preference. */
typedef enum nninit__isa {
    NNINIT__ISA_SCALAR = 0, /* portable C, the reference */
    NNINIT__ISA_AVX2,       /* x86-64 AVX2 (256-bit) */
    NNINIT__ISA_AVX512,     /* x86-64 AVX-512 F+DQ+BW+VL (512-bit) */
    NNINIT__ISA_COUNT
} nninit__isa;

/* "scalar", "avx2", "avx512". */
const char *nninit__isa_name(nninit__isa isa);
/* 1 if this build has the path and this CPU (and OS) can run it. */
int nninit__isa_available(nninit__isa isa);
/* The best available path, capped by the environment variable NNINIT_SIMD
 * ("scalar", "avx2", "avx512") when set: the one knob to compare paths from
 * the command line; bits never depend on it. */
nninit__isa nninit__isa_best(void);

typedef enum nninit__dist_kind {
    NNINIT__DIST_UNIFORM = 0,
    NNINIT__DIST_NORMAL,
    NNINIT__DIST_TRUNC_NORMAL
} nninit__dist_kind;

/* A transform with its parameters derived once, exactly as the reference
 * derives them (dist_philox.c). Plain data; read only by the kernels. */
typedef struct nninit__dist {
    nninit__dist_kind kind;
    nninit_dtype dtype; /* NNINIT_F32 or NNINIT_F64 */
    uint32_t key[2];
    uint64_t stream;
    /* uniform: v = u * width + lo; v >= hi (when clamp) -> below_hi */
    float lo_f, width_f, hi_f, below_hi_f;
    /* float32 uniform with one multiply: u * width_f == k * width24_f for
     * u = k 2^-24 whenever width24_f = width_f 2^-24 is exact (fold_f) */
    float width24_f;
    int fold_f;
    double lo, width, hi, below_hi;
    int clamp_f, clamp;
    /* normal: z * std + mean */
    float mean_f, std_f;
    double mean, std;
    /* truncated normal: p = u * pwidth + pa; v = ndtri(p) * sgn_std + mean, clamped to [a, b] */
    double pa, pwidth, sgn_std, a, b;
    /* truncated normal of stream v2 in float32 (trunc2): y = u * ywidth_f + ya_f
     * clamped to +-(1 - 2^-23), v = erfinv(y) * k_f + mean_f clamped to [a_f, b_f] */
    int trunc2;
    int trunc3; /* stream v3: erfinv by nninit__trunc3_erfinvf (trunc2 is then set too) */
    float ya_f, ywidth_f, k_f, a_f, b_f;
    /* stream v3: every y this (ya_f, ywidth_f) can give lies in the table
     * (|y| <= 1 - 2^-8) and none within 2^-25 of 0 (where 1 - |y| rounds
     * to 1 and is clamped below): the kernels then skip both checks (the
     * same bits). Set by nninit__dist_trunc3_derive. */
    int trunc3_plain;
} nninit__dist;

void nninit__dist_uniform(nninit__dist *d, const uint32_t key[2], uint64_t stream, nninit_dtype dtype, double lo,
                          double hi);
void nninit__dist_normal(nninit__dist *d, const uint32_t key[2], uint64_t stream, nninit_dtype dtype, double mean,
                         double std);
/* version: the stream format (1, 2 or 3; docs/stream.md), which decides the
 * float32 transform. */
void nninit__dist_trunc_normal(nninit__dist *d, const uint32_t key[2], uint64_t stream, nninit_dtype dtype,
                               double mean, double std, double a, double b, int version);

/* d->trunc3_plain from d->ya_f and d->ywidth_f (nninit__dist_trunc_normal
 * calls it; so must whoever changes those two). */
void nninit__dist_trunc3_derive(nninit__dist *d);

/* Elements [begin, begin + n) of d into out (n elements of d->dtype) on the
 * given path (NNINIT__ISA_SCALAR if that path is unavailable): the scalar
 * reference for a head and tail, the vector kernel for whole groups. */
void nninit__dist_run(const nninit__dist *d, nninit__isa isa, uint64_t begin, size_t n, void *out);

/* Stream v2's float32 inverse error function (the scalar reference; the
 * coefficient tables are shared with the vector kernels). */
extern const float nninit__erfinv_p[9], nninit__erfinv_q[9];
float nninit__trunc2_erfinvf(float y);
/* Stream v3's (table: src/rng/trunc3_table.h, [k][j] = coefficient k of
 * segment j, highest power first). */
extern const float nninit__trunc3_table[5][32];
float nninit__trunc3_erfinvf(float y);

/* The xor of the 32-bit words [64 g0, 64 (g0 + groups)) of d's (key,
 * stream) on the given path: the Philox rounds of the fills with nothing
 * stored, to time them alone (bench_kernels); every path gives the same. */
uint32_t nninit__philox_xor(const nninit__dist *d, nninit__isa isa, uint64_t g0, size_t groups);
/* d's float32 transform (d->dtype NNINIT_F32) applied to given words on the
 * given path: element i from word i, exactly as the fill of words [0, n)
 * computes it (so out[i] does not depend on the path), n a multiple of
 * NNINIT__GROUP_F32. Not for the stream-1 truncated normal (!d->trunc2).
 * The transform alone (bench_kernels) and on chosen words (test_simd). */
void nninit__dist_words_f32(const nninit__dist *d, nninit__isa isa, const uint32_t *w, size_t n, float *out);

/* Elements per kernel group: a group is 16 Philox blocks (64 words). */
#define NNINIT__GROUP_F32 64
#define NNINIT__GROUP_F64 32
static inline size_t nninit__dist_group(const nninit__dist *d)
{
    return d->dtype == NNINIT_F32 ? NNINIT__GROUP_F32 : NNINIT__GROUP_F64;
}

/* Vector kernels: begin and n are multiples of nninit__dist_group(d).
 * Present only where the compiler targets x86-64. */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define NNINIT__HAVE_X86_SIMD 1
void nninit__avx2_run(const nninit__dist *d, uint64_t begin, size_t n, void *out);
void nninit__avx512_run(const nninit__dist *d, uint64_t begin, size_t n, void *out);
uint32_t nninit__avx2_philox_xor(const nninit__dist *d, uint64_t g0, size_t groups);
uint32_t nninit__avx512_philox_xor(const nninit__dist *d, uint64_t g0, size_t groups);
void nninit__avx2_words_f32(const nninit__dist *d, const uint32_t *w, size_t n, float *out);
void nninit__avx512_words_f32(const nninit__dist *d, const uint32_t *w, size_t n, float *out);
#endif

#endif /* NNINIT_SIMD_INTERNAL_H */
