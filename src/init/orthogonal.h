/*
 * Private: orthogonal factors (orthogonal.c, qr.c) beyond internal.h's
 * nninit__orthonormalize. Never installed.
 */
#ifndef NNINIT_ORTHOGONAL_H
#define NNINIT_ORTHOGONAL_H

#include "init/internal.h"

/* m: a row-major (rows, cols) Gaussian draw, any shape, replaced in place by
 * torch.nn.init.orthogonal_'s factor before the gain: Q sign(diag R) of
 * m = QR when rows >= cols, else the transpose of that factor of m^T. */
nninit_status nninit__orthogonal_torch(nninit_dtype dtype, void *m, int64_t rows, int64_t cols, nninit_err *err);

/* Which QR computes a factor. AUTO is what the library uses: the built-in
 * one when LAPACK is not linked or the matrix is small enough
 * (NNINIT__QR_BUILTIN_MAX_WORK), else LAPACK (Householder, or CholeskyQR2
 * for tall-skinny shapes). The others exist for the tests. */
typedef enum nninit__qr_method { NNINIT__QR_AUTO, NNINIT__QR_BUILTIN, NNINIT__QR_LAPACK } nninit__qr_method;

/* m * n^2 up to which AUTO uses the built-in QR in the full library (a
 * 1024 x 1024 matrix, or 4096 x 512): there it is within a small factor
 * of OpenBLAS's time and its bits do not depend on any thread count. */
#define NNINIT__QR_BUILTIN_MAX_WORK ((int64_t)1 << 24)

/* A tall (m, n), m >= n >= 1, row-major (row_major 1) or column-major
 * (0, lda m), replaced by Q sign(diag R). NNINIT__QR_LAPACK in a build
 * without LAPACK: NNINIT_EUNSUPPORTED. */
nninit_status nninit__orthonormalize_with(nninit__qr_method how, nninit_dtype dtype, void *a, int64_t m, int64_t n,
                                          int row_major, nninit_err *err);

/* The built-in QR (qr.c): Householder in double, fixed summation order. */
nninit_status nninit__qr_builtin(nninit_dtype dtype, void *a, int64_t m, int64_t n, int row_major, nninit_err *err);

#endif
