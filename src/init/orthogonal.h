/*
 * Private: orthogonal factors (orthogonal.c) beyond internal.h's
 * nninit__orthonormalize. Never installed.
 */
#ifndef NNINIT_ORTHOGONAL_H
#define NNINIT_ORTHOGONAL_H

#include "init/internal.h"

/* m: a row-major (rows, cols) Gaussian draw, any shape, replaced in place by
 * torch.nn.init.orthogonal_'s factor before the gain: Q sign(diag R) of
 * m = QR when rows >= cols, else the transpose of that factor of m^T. */
nninit_status nninit__orthogonal_torch(nninit_dtype dtype, void *m, int64_t rows, int64_t cols, nninit_err *err);

#endif
