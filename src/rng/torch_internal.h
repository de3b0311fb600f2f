/*
 * Private interface between the PyTorch-stream files (rng_torch.c,
 * torch_kernels.c, torch_fill.c). Kept out of internal.h because nothing
 * else in the library needs it.
 */
#ifndef NNINIT_TORCH_INTERNAL_H
#define NNINIT_TORCH_INTERNAL_H

#include "rng/internal.h"

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

/* ATen's calc_erfinv (rational approximation + two Newton steps), in the
 * arithmetic of the variant (AVX2: Horner steps contracted to FMAs). */
float nninit__torch_erfinvf(float y, int avx2);
double nninit__torch_erfinv(double y, int avx2);

/* torch.randperm(n) on the CPU generator into perm[0..n). */
void nninit__torch_randperm(nninit_rng *rng, int v2, int64_t n, int64_t *perm);

/* The AVX2 kernel's log256_ps and sincos256_ps lane arithmetic, exposed for
 * tests. */
float nninit__torch_avx_logf(float x);
void nninit__torch_avx_sincosf(float x, float *s, float *c);

#endif
