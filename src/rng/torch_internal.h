/*
 * Private interface between the PyTorch-stream files (rng_torch.c,
 * torch_kernels.c, torch_avx2.c, torch_libm.c, torch_fill.c). Kept out of
 * internal.h because nothing else in the library needs it.
 */
#ifndef NNINIT_TORCH_INTERNAL_H
#define NNINIT_TORCH_INTERNAL_H

#include "rng/simd_internal.h"

/* The arithmetic a torch generator follows: which ATen kernel variant
 * (DEFAULT = plain libm, unfused; AVX2 = avx_mathfun polynomials and the
 * GCC-contracted FMAs) and which PyTorch series (1 = 1.13, 2 = 2.x). */
typedef struct nninit__torch_arith {
    int avx2;
    int v2;
} nninit__torch_arith;

nninit__torch_arith nninit__torch_arith_of(const nninit_rng *rng);

/* tensor.uniform_(from, to) on n contiguous elements of dtype F32/F64:
 * from/to are cast to the dtype first, as uniform_kernel does. */
void nninit__torch_uniform(nninit_rng *rng, nninit__torch_arith ar, nninit_dtype dtype, double from, double to,
                           void *out, int64_t n);

/* tensor.normal_(mean, std) on n contiguous elements (F32/F64): the
 * vectorised 16-block path for n >= 16, the scalar path with the
 * generator's cached normal below. */
void nninit__torch_normal(nninit_rng *rng, nninit__torch_arith ar, nninit_dtype dtype, double mean, double std,
                          void *out, int64_t n);

/* normal_fill_16 on `blocks` consecutive 16-blocks of uniforms in [0, 1)
 * in place (F32/F64): what normal_ does to each whole block. */
void nninit__torch_normal16(nninit__torch_arith ar, nninit_dtype dtype, double mean, double std, void *d,
                            int64_t blocks);

/* ATen's calc_erfinv (rational approximation + two Newton steps), in the
 * arithmetic of the variant (AVX2: Horner steps contracted to FMAs). */
float nninit__torch_erfinvf(float y, int avx2);
double nninit__torch_erfinv(double y, int avx2);

/* trunc_normal_'s tail on n values in place: erfinv_() in the variant's
 * arithmetic, then mul_(scale), add_(mean), clamp_(a, b) in the dtype. */
void nninit__torch_erfinv_affine_f32(float *o, int64_t n, int avx2, float scale, float mean, float a, float b);
void nninit__torch_erfinv_affine_f64(double *o, int64_t n, int avx2, double scale, double mean, double a, double b);

/* torch.randperm(n) on the CPU generator into perm[0..n). */
void nninit__torch_randperm(nninit_rng *rng, int v2, int64_t n, int64_t *perm);

/* n tempered MT19937 words into out: exactly what n calls of
 * nninit__torch_next32 return, leaving the same state, but generated a run
 * of state words at a time (vectorised where nninit__torch_simd()). */
void nninit__torch_words(nninit_rng *rng, uint32_t *out, size_t n);

/* 1 when the AVX2 + FMA versions of torch_avx2.c may run: the CPU has them
 * and NNINIT_SIMD does not cap the vector path at "scalar" (the bits never
 * depend on it; the knob compares the paths). */
int nninit__torch_simd(void);

#ifdef NNINIT__HAVE_X86_SIMD
/* torch_avx2.c: mt_next_state, the tempering of n state words, and the
 * uniform_ / normal_ arithmetic. The uniform functions transform whole
 * vectors and return how many elements they did (the caller finishes the
 * rest with the reference); normal16 runs normal_fill_16_AVX2 on `blocks`
 * consecutive 16-blocks of uniforms in place. */
void nninit__torch_avx2_twist(uint32_t *state);
void nninit__torch_avx2_temper(const uint32_t *state, size_t n, uint32_t *out);
size_t nninit__torch_avx2_uniform_f32(const uint32_t *w, size_t n, float *o, float from, float range, float to,
                                      nninit__torch_arith ar);
size_t nninit__torch_avx2_uniform_f64(const uint32_t *w, size_t n, double *o, double from, double range,
                                      double to, nninit__torch_arith ar);
void nninit__torch_avx2_normal16_f32(float *d, size_t blocks, float mean, float std);

/* torch_libm.c: glibc 2.36's log, sin and cos (the x86-64 FMA variants
 * __log_fma, __sin_fma, __cos_fma) four lanes at a time, the same bits
 * where nninit__torch_libm_exact() says so; lanes outside the vectorised
 * ranges are libm's own. normal16_f64 is normal_fill_16 in double on that
 * arithmetic (fused: the last step radius * c * std + mean is one fma, as
 * in the AVX2 and 2.x kernels). */
void nninit__torch_libm_log(const double *x, double *y, size_t n);
void nninit__torch_libm_sincos(const double *x, double *s, double *c, size_t n);
void nninit__torch_avx2_normal16_f64(double *d, size_t blocks, double mean, double std, int fused);
#endif

/* 1 when the CPU has AVX2 and FMA and the functions of torch_libm.c give
 * this process's libm log, sin and cos bit for bit on inputs that reach
 * every branch and table entry (checked once per process); 0 keeps normal_
 * on libm. */
int nninit__torch_libm_exact(void);

/* The AVX2 kernel's log256_ps and sincos256_ps lane arithmetic, exposed for
 * tests. */
float nninit__torch_avx_logf(float x);
void nninit__torch_avx_sincosf(float x, float *s, float *c);

#endif
