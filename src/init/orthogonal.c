/*
 * Orthonormal factors of Gaussian matrices, with the sign fix
 * Q * sign(diag R) that makes the result Haar-distributed (Mezzadri 2007),
 * as Keras and PyTorch do. Which QR (nninit__orthonormalize_with, AUTO):
 *   - the built-in Householder QR (qr.c) when LAPACK is not linked (the
 *     core library, the single file) or m n^2 <= NNINIT__QR_BUILTIN_MAX_WORK:
 *     bits independent of every thread count;
 *   - otherwise OpenBLAS/LAPACK (NNINIT_HAVE_LAPACK), whose results move in
 *     the last bits with OpenBLAS's thread count (OPENBLAS_NUM_THREADS):
 *     tall-skinny (m >= 4 n, n >= 16): CholeskyQR2 (Fukaya et al. 2014):
 *       R = chol(A^T A), Q = A R^-1, twice; BLAS-3 only (syrk, potrf, trsm)
 *       and about 3x faster than Householder. A Gaussian m x n matrix with
 *       m >= 4n has condition number about (1 + sqrt(n/m)) / (1 - sqrt(n/m))
 *       <= 3, far inside CholeskyQR2's float32 range (~1e3); a pass whose
 *       Gram diagonal strays from 1 is repeated, a failed Cholesky falls
 *       back to Householder on the untouched input.
 *     otherwise: Householder QR (geqrf + orgqr), column-major in place.
 * All are equal up to rounding because the QR factorization with a
 * positive diagonal is unique and Q sign(diag R) is that one.
 *
 * Layout: a row-major (r, c) buffer is the column-major (c, r) matrix, so
 * no LAPACKE row-major wrapper (which transposes in and out) is needed.
 */
#include "init/internal.h"
#include "init/orthogonal.h"

#include <stdlib.h>

#ifdef NNINIT_HAVE_LAPACK
#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <string.h>

#define CHOLQR_RATIO 4
#define CHOLQR_MIN_COLS 16

/* dst[j * rows + i] = src[i * cols + j]: dst is the transpose of the
 * row-major (rows, cols) src, cache-blocked. */
static void transpose(size_t es, const void *src, void *dst, int64_t rows, int64_t cols)
{
    const int64_t B = 32;
    for (int64_t i0 = 0; i0 < rows; i0 += B)
        for (int64_t j0 = 0; j0 < cols; j0 += B) {
            int64_t i1 = i0 + B < rows ? i0 + B : rows, j1 = j0 + B < cols ? j0 + B : cols;
            if (es == sizeof(float)) {
                const float *s = src;
                float *d = dst;
                for (int64_t i = i0; i < i1; i++)
                    for (int64_t j = j0; j < j1; j++)
                        d[j * rows + i] = s[i * cols + j];
            } else {
                const double *s = src;
                double *d = dst;
                for (int64_t i = i0; i < i1; i++)
                    for (int64_t j = j0; j < j1; j++)
                        d[j * rows + i] = s[i * cols + j];
            }
        }
}

/* The float and double LAPACK/BLAS calls under one name each (F32 or F64
 * by dtype), so that Householder and CholeskyQR below are written once. */
static lapack_int geqrf(nninit_dtype t, lapack_int m, lapack_int n, void *a, void *tau)
{
    return t == NNINIT_F32 ? LAPACKE_sgeqrf(LAPACK_COL_MAJOR, m, n, a, m, tau)
                           : LAPACKE_dgeqrf(LAPACK_COL_MAJOR, m, n, a, m, tau);
}
static lapack_int orgqr(nninit_dtype t, lapack_int m, lapack_int n, void *a, const void *tau)
{
    return t == NNINIT_F32 ? LAPACKE_sorgqr(LAPACK_COL_MAJOR, m, n, n, a, m, tau)
                           : LAPACKE_dorgqr(LAPACK_COL_MAJOR, m, n, n, a, m, tau);
}
/* g (n, n), upper triangle = A^T A of A (m, n) column-major, or of the
 * (n, m) A^T given column-major when trans. */
static void gram(nninit_dtype t, const void *a, blasint m, blasint n, int trans, void *g)
{
    if (t == NNINIT_F32)
        cblas_ssyrk(CblasColMajor, CblasUpper, trans ? CblasNoTrans : CblasTrans, n, m, 1.0f, a, trans ? n : m, 0.0f,
                    g, n);
    else
        cblas_dsyrk(CblasColMajor, CblasUpper, trans ? CblasNoTrans : CblasTrans, n, m, 1.0, a, trans ? n : m, 0.0,
                    g, n);
}
static lapack_int potrf(nninit_dtype t, blasint n, void *r)
{
    return t == NNINIT_F32 ? LAPACKE_spotrf(LAPACK_COL_MAJOR, 'U', n, r, n)
                           : LAPACKE_dpotrf(LAPACK_COL_MAJOR, 'U', n, r, n);
}
/* A <- A R^-1 (trans 0), or A^T <- R^-T A^T (trans 1). */
static void solve_r(nninit_dtype t, const void *r, void *a, blasint m, blasint n, int trans)
{
    if (t == NNINIT_F32 && trans)
        cblas_strsm(CblasColMajor, CblasLeft, CblasUpper, CblasTrans, CblasNonUnit, n, m, 1.0f, r, n, a, n);
    else if (t == NNINIT_F32)
        cblas_strsm(CblasColMajor, CblasRight, CblasUpper, CblasNoTrans, CblasNonUnit, m, n, 1.0f, r, n, a, m);
    else if (trans)
        cblas_dtrsm(CblasColMajor, CblasLeft, CblasUpper, CblasTrans, CblasNonUnit, n, m, 1.0, r, n, a, n);
    else
        cblas_dtrsm(CblasColMajor, CblasRight, CblasUpper, CblasNoTrans, CblasNonUnit, m, n, 1.0, r, n, a, m);
}
/* Element (i, j) of a column-major matrix with leading dimension ld. */
static double at(nninit_dtype t, const void *a, size_t ld, size_t i, size_t j)
{
    return t == NNINIT_F32 ? (double)((const float *)a)[j * ld + i] : ((const double *)a)[j * ld + i];
}
/* Column j (m values, column-major) times s = +-1 or 0. */
static void scale_col(nninit_dtype t, void *a, size_t m, size_t j, signed char s)
{
    if (t == NNINIT_F32) {
        float *x = (float *)a + j * m;
        for (size_t i = 0; i < m; i++)
            x[i] *= (float)s;
    } else {
        double *x = (double *)a + j * m;
        for (size_t i = 0; i < m; i++)
            x[i] *= (double)s;
    }
}

/* Householder on a column-major tall a (m, n), lda = m, in place. */
static lapack_int householder_cm(nninit_dtype dtype, void *a, lapack_int m, lapack_int n)
{
    size_t es = nninit_dtype_size(dtype);
    void *tau = nninit__malloc_array((size_t)n, es);
    signed char *sign = nninit__malloc_array((size_t)n, 1);
    if (!tau || !sign) {
        free(tau);
        free(sign);
        return LAPACK_WORK_MEMORY_ERROR;
    }
    lapack_int info = geqrf(dtype, m, n, a, tau);
    for (lapack_int j = 0; info == 0 && j < n; j++) {
        double d = at(dtype, a, (size_t)m, (size_t)j, (size_t)j);
        sign[j] = (signed char)(d > 0 ? 1 : (d < 0 ? -1 : 0));
    }
    if (info == 0)
        info = orgqr(dtype, m, n, a, tau);
    for (lapack_int j = 0; info == 0 && j < n; j++)
        scale_col(dtype, a, (size_t)m, (size_t)j, sign[j]);
    free(tau);
    free(sign);
    return info;
}

/*
 * CholeskyQR on a tall A (m, n) held either column-major (trans = 0,
 * lda = m) or as its transpose column-major (trans = 1: the (n, m) matrix
 * A^T, lda = n, i.e. A row-major). Returns 0 when A was replaced by Q,
 * 1 when the first Cholesky failed (A untouched), -1 on a later failure
 * (A destroyed), -2 out of memory (A untouched).
 */
static int cholesky_qr(nninit_dtype dtype, void *a, blasint m, blasint n, int trans)
{
    size_t es = nninit_dtype_size(dtype);
    void *g = nninit__malloc_array((size_t)n * (size_t)n, es);
    if (!g)
        return -2;
    int rc = 0;
    for (int pass = 0; pass < 4; pass++) {
        double worst = 0; /* largest |R_jj - 1| of this pass */
        gram(dtype, a, m, n, trans, g);
        lapack_int info = potrf(dtype, n, g);
        if (info == 0) {
            for (blasint j = 0; j < n; j++)
                worst = fmax(worst, fabs(at(dtype, g, (size_t)n, (size_t)j, (size_t)j) - 1.0));
            solve_r(dtype, g, a, m, n, trans);
        }
        if (info != 0) {
            rc = pass == 0 ? 1 : -1;
            break;
        }
        /* from the second pass on, the Gram matrix of an orthonormal Q has a unit
         * diagonal; a larger deviation means the previous pass lost accuracy */
        if (pass >= 1 && worst < 1e-3)
            break;
        if (pass == 3)
            rc = -1;
    }
    free(g);
    return rc;
}

/* Tall A (m, n), m >= n, column-major (trans 0) or row-major (trans 1), replaced by Q sign(diag R). */
static nninit_status orthonormalize_lapack(nninit_dtype dtype, void *a, int64_t m, int64_t n, int trans,
                                           nninit_err *err)
{
    if (m > INT32_MAX || n > INT32_MAX)
        return nninit__err(err, NNINIT_EOVERFLOW, "orthogonal: a %lld x %lld matrix exceeds LAPACK's 32-bit dimensions",
                           (long long)m, (long long)n);
    if (m >= CHOLQR_RATIO * n && n >= CHOLQR_MIN_COLS) {
        int rc = cholesky_qr(dtype, a, (blasint)m, (blasint)n, trans);
        if (rc == 0)
            return NNINIT_OK;
        if (rc == -1)
            return nninit__err(err, NNINIT_ENUMERIC, "orthogonal: Cholesky QR lost positive definiteness");
        /* rc 1 or -2: a is untouched, Householder below */
    }
    size_t es = nninit_dtype_size(dtype);
    void *cm = a;
    if (trans) {
        cm = nninit__malloc_array((size_t)(m * n), es);
        if (!cm)
            return nninit__err(err, NNINIT_ENOMEM, "orthogonal: out of memory for a %lld x %lld matrix",
                               (long long)m, (long long)n);
        transpose(es, a, cm, m, n);
    }
    lapack_int info = householder_cm(dtype, cm, (lapack_int)m, (lapack_int)n);
    if (trans) {
        if (info == 0)
            transpose(es, cm, a, n, m);
        free(cm);
    }
    if (info == LAPACK_WORK_MEMORY_ERROR || info == LAPACK_TRANSPOSE_MEMORY_ERROR)
        return nninit__err(err, NNINIT_ENOMEM, "orthogonal: out of memory in LAPACK");
    if (info != 0)
        return nninit__err(err, NNINIT_ENUMERIC, "orthogonal: LAPACK QR failed (info %d)", (int)info);
    return NNINIT_OK;
}

#endif /* NNINIT_HAVE_LAPACK */

nninit_status nninit__orthonormalize_with(nninit__qr_method how, nninit_dtype dtype, void *a, int64_t m, int64_t n,
                                          int row_major, nninit_err *err)
{
    if (m < n || n < 1)
        return nninit__err(err, NNINIT_EMISUSE, "orthonormalize: need rows >= cols >= 1");
#ifdef NNINIT_HAVE_LAPACK
    if (how == NNINIT__QR_AUTO) {
        /* m n^2 without overflow: n <= m, so n^2 <= m n */
        int small = (double)m * (double)n * (double)n <= (double)NNINIT__QR_BUILTIN_MAX_WORK;
        how = small ? NNINIT__QR_BUILTIN : NNINIT__QR_LAPACK;
    }
    if (how == NNINIT__QR_LAPACK)
        return orthonormalize_lapack(dtype, a, m, n, row_major, err);
#else
    if (how == NNINIT__QR_LAPACK)
        return nninit__err(err, NNINIT_EUNSUPPORTED,
                           "orthogonal: this build has no LAPACK; the built-in QR serves every size");
#endif
    return nninit__qr_builtin(dtype, a, m, n, row_major, err);
}

nninit_status nninit__orthonormalize(nninit_dtype dtype, void *m, int64_t rows, int64_t cols, nninit_err *err)
{
    return nninit__orthonormalize_with(NNINIT__QR_AUTO, dtype, m, rows, cols, 1, err);
}

nninit_status nninit__orthogonal_torch(nninit_dtype dtype, void *m, int64_t rows, int64_t cols, nninit_err *err)
{
    if (rows < 1 || cols < 1)
        return nninit__err(err, NNINIT_EMISUSE, "orthogonal: need rows, cols >= 1");
    if (rows >= cols)
        return nninit__orthonormalize_with(NNINIT__QR_AUTO, dtype, m, rows, cols, 1, err);
    /* the row-major (rows, cols) buffer is the column-major (cols, rows) matrix
     * that torch factors; its Q, column-major, is the (rows, cols) answer */
    return nninit__orthonormalize_with(NNINIT__QR_AUTO, dtype, m, cols, rows, 0, err);
}
