/*
 * Initializer layer: catalogue, spec parsing, fills, orthogonalization,
 * STFT. Depends on core and rng.
 * Private to src/ (never installed); names are nninit__*, hidden from the
 * shared library by -fvisibility=hidden.
 */
#ifndef NNINIT_INIT_INTERNAL_H
#define NNINIT_INIT_INTERNAL_H

#include "rng/internal.h"

/* ---- orthogonalization (orthogonal.c: built-in QR or LAPACK) ----
 * m: (rows, cols) row-major, rows >= cols, replaced in place by Q * sign(diag R)
 * (orthonormal columns). dtype F32 or F64. */
nninit_status nninit__orthonormalize(nninit_dtype dtype, void *m, int64_t rows, int64_t cols, nninit_err *err);

/* ---- keras.initializers.STFT (stft.c) ---- */

const char *nninit__stft_window_name(int window);
int nninit__stft_window_parse(const char *name); /* -1 if unknown */
/* Elements [begin, end) of the STFT kernel of a (T, C, F) shape. */
nninit_status nninit__stft_fill(const nninit_init *in, const nninit_shape *shape, nninit_dtype dtype, int64_t begin,
                                int64_t end, void *out, nninit_err *err);

/* ---- PyTorch-exact fills (torch_fill.c) ---- */

/* Executes a resolved primitive the way the matching torch.nn.init call
 * consumes and transforms the stream. */
nninit_status nninit__torch_fill(nninit_rng *rng, const nninit_init *init, const nninit_prim *prim,
                                 const nninit_shape *shape, nninit_dtype dtype, void *out, nninit_err *err);

#endif /* NNINIT_INIT_INTERNAL_H */
