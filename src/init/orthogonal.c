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

/* Householder on a column-major tall a (m, n), lda = m, in place. */
static lapack_int householder_cm(nninit_dtype dtype, void *a, lapack_int m, lapack_int n)
{
    lapack_int info;
    size_t es = nninit_dtype_size(dtype);
    void *tau = nninit__malloc_array((size_t)n, es);
    signed char *sign = nninit__malloc_array((size_t)n, 1);
    if (!tau || !sign) {
        free(tau);
        free(sign);
        return LAPACK_WORK_MEMORY_ERROR;
    }
    if (dtype == NNINIT_F32) {
        float *x = a;
        info = LAPACKE_sgeqrf(LAPACK_COL_MAJOR, m, n, x, m, tau);
        for (lapack_int j = 0; info == 0 && j < n; j++) {
            float d = x[(size_t)j * (size_t)m + (size_t)j];
            sign[j] = (signed char)(d > 0 ? 1 : (d < 0 ? -1 : 0));
        }
        if (info == 0)
            info = LAPACKE_sorgqr(LAPACK_COL_MAJOR, m, n, n, x, m, tau);
        for (lapack_int j = 0; info == 0 && j < n; j++)
            for (lapack_int i = 0; i < m; i++)
                x[(size_t)j * (size_t)m + (size_t)i] *= (float)sign[j];
    } else {
        double *x = a;
        info = LAPACKE_dgeqrf(LAPACK_COL_MAJOR, m, n, x, m, tau);
        for (lapack_int j = 0; info == 0 && j < n; j++) {
            double d = x[(size_t)j * (size_t)m + (size_t)j];
            sign[j] = (signed char)(d > 0 ? 1 : (d < 0 ? -1 : 0));
        }
        if (info == 0)
            info = LAPACKE_dorgqr(LAPACK_COL_MAJOR, m, n, n, x, m, tau);
        for (lapack_int j = 0; info == 0 && j < n; j++)
            for (lapack_int i = 0; i < m; i++)
                x[(size_t)j * (size_t)m + (size_t)i] *= (double)sign[j];
    }
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
        lapack_int info;
        double worst = 0; /* largest |R_jj - 1| of this pass */
        if (dtype == NNINIT_F32) {
            float *x = a, *r = g;
            /* G = A^T A, upper triangle */
            cblas_ssyrk(CblasColMajor, CblasUpper, trans ? CblasNoTrans : CblasTrans, n, m, 1.0f, x,
                        trans ? n : m, 0.0f, r, n);
            info = LAPACKE_spotrf(LAPACK_COL_MAJOR, 'U', n, r, n);
            if (info == 0) {
                for (blasint j = 0; j < n; j++)
                    worst = fmax(worst, fabs((double)r[(size_t)j * (size_t)n + (size_t)j] - 1.0));
                if (trans) /* A^T <- R^-T A^T */
                    cblas_strsm(CblasColMajor, CblasLeft, CblasUpper, CblasTrans, CblasNonUnit, n, m, 1.0f, r, n, x,
                                n);
                else /* A <- A R^-1 */
                    cblas_strsm(CblasColMajor, CblasRight, CblasUpper, CblasNoTrans, CblasNonUnit, m, n, 1.0f, r, n,
                                x, m);
            }
        } else {
            double *x = a, *r = g;
            cblas_dsyrk(CblasColMajor, CblasUpper, trans ? CblasNoTrans : CblasTrans, n, m, 1.0, x, trans ? n : m,
                        0.0, r, n);
            info = LAPACKE_dpotrf(LAPACK_COL_MAJOR, 'U', n, r, n);
            if (info == 0) {
                for (blasint j = 0; j < n; j++)
                    worst = fmax(worst, fabs(r[(size_t)j * (size_t)n + (size_t)j] - 1.0));
                if (trans)
                    cblas_dtrsm(CblasColMajor, CblasLeft, CblasUpper, CblasTrans, CblasNonUnit, n, m, 1.0, r, n, x, n);
                else
                    cblas_dtrsm(CblasColMajor, CblasRight, CblasUpper, CblasNoTrans, CblasNonUnit, m, n, 1.0, r, n, x,
                                m);
            }
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
