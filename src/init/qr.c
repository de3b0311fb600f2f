/*
 * The built-in QR: Householder QR (LAPACK's geqr2 + org2r, unblocked) on a
 * double copy of the matrix, then the sign fix Q * sign(diag R). No BLAS or
 * LAPACK, so the core library and the single-file distribution have
 * orthogonal too; the full library uses it below a size where OpenBLAS is
 * not yet faster, which makes those results independent of OpenBLAS's
 * thread count (orthogonal.c).
 *
 * Bits: every sum runs in a fixed order (dot: four interleaved partial
 * sums added pairwise at the end), with no threads and no BLAS, so the
 * result depends only on the input and IEEE double arithmetic (the build
 * forces -ffp-contract=off). float32 input is factored in double and
 * rounded once at the end: more accurate than sgeqrf and well inside the
 * tolerance tests/test_orthogonal.c states against LAPACK.
 *
 * Cost: (4/3) n^2 (3m - n) flops for a tall m x n matrix, memory-bound
 * once the matrix leaves the cache (one pass over the trailing columns per
 * reflector, each column updated while it is in L1).
 */
#include "init/orthogonal.h"

#include <math.h>
#include <stdlib.h>

/* x . y over n doubles in a fixed order. */
static double dot(const double *x, const double *y, int64_t n)
{
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) {
        s0 += x[i] * y[i];
        s1 += x[i + 1] * y[i + 1];
        s2 += x[i + 2] * y[i + 2];
        s3 += x[i + 3] * y[i + 3];
    }
    for (; i < n; i++)
        s0 += x[i] * y[i];
    return (s0 + s1) + (s2 + s3);
}

/* Columns [j0, n) of the column-major a (lda m), rows [k, m), times
 * H = I - tau v v^T, where v = a[k.., k] with an implicit v[0] = 1. */
static void apply_reflector(double *a, int64_t m, int64_t n, int64_t k, int64_t j0, double tau)
{
    if (tau == 0)
        return;
    const double *v = a + k * m + k;
    int64_t len = m - k;
    for (int64_t j = j0; j < n; j++) {
        double *c = a + j * m + k;
        double w = c[0] + dot(v + 1, c + 1, len - 1);
        double tw = tau * w;
        c[0] -= tw;
        for (int64_t i = 1; i < len; i++)
            c[i] -= tw * v[i];
    }
}

/* a: column-major (m, n), m >= n >= 1, replaced by Q sign(diag R), where a
 * zero R_jj zeroes column j (as the LAPACK path does). tau, sign: n each. */
static void householder(double *a, int64_t m, int64_t n, double *tau, signed char *sign)
{
    for (int64_t k = 0; k < n; k++) {
        double *x = a + k * m + k;
        int64_t len = m - k;
        double alpha = x[0], rest = dot(x + 1, x + 1, len - 1);
        double norm = sqrt(alpha * alpha + rest);
        if (norm == 0) { /* a zero column: H = I, R_kk = 0 */
            tau[k] = 0;
            sign[k] = 0;
            continue;
        }
        if (rest == 0) { /* already e_0 times alpha: H = I, R_kk = alpha */
            tau[k] = 0;
            sign[k] = (signed char)(alpha > 0 ? 1 : -1);
            continue;
        }
        double beta = alpha > 0 ? -norm : norm; /* R_kk, sign opposite to alpha (no cancellation) */
        tau[k] = (beta - alpha) / beta;
        double scale = 1 / (alpha - beta);
        for (int64_t i = 1; i < len; i++)
            x[i] *= scale;
        sign[k] = (signed char)(beta > 0 ? 1 : -1);
        apply_reflector(a, m, n, k, k + 1, tau[k]);
    }
    /* Q = H_0 ... H_{n-1} I[:, :n], accumulated backwards in place (org2r) */
    for (int64_t k = n - 1; k >= 0; k--) {
        double *col = a + k * m;
        if (k < n - 1) {
            col[k] = 1;
            apply_reflector(a, m, n, k, k + 1, tau[k]);
        }
        for (int64_t i = k + 1; i < m; i++)
            col[i] *= -tau[k];
        col[k] = 1 - tau[k];
        for (int64_t i = 0; i < k; i++)
            col[i] = 0;
    }
    for (int64_t j = 0; j < n; j++)
        for (int64_t i = 0; i < m; i++)
            a[j * m + i] *= sign[j];
}

nninit_status nninit__qr_builtin(nninit_dtype dtype, void *a, int64_t m, int64_t n, int row_major, nninit_err *err)
{
    if (m < n || n < 1 || (dtype != NNINIT_F32 && dtype != NNINIT_F64))
        return nninit__err(err, NNINIT_EMISUSE, "orthogonal: need rows >= cols >= 1 and float32 or float64");
    double *w = nninit__malloc_array((size_t)m * (size_t)n, sizeof(double));
    double *tau = nninit__malloc_array((size_t)n, sizeof(double));
    signed char *sign = nninit__malloc_array((size_t)n, 1);
    if (!w || !tau || !sign) {
        free(w);
        free(tau);
        free(sign);
        return nninit__err(err, NNINIT_ENOMEM, "orthogonal: out of memory for a %lld x %lld matrix", (long long)m,
                           (long long)n);
    }
    /* element (i, j) sits at i * n + j (row-major) or j * m + i (column-major) */
    int64_t si = row_major ? n : 1, sj = row_major ? 1 : m;
    for (int64_t j = 0; j < n; j++)
        for (int64_t i = 0; i < m; i++)
            w[j * m + i] = dtype == NNINIT_F32 ? (double)((const float *)a)[i * si + j * sj]
                                               : ((const double *)a)[i * si + j * sj];
    householder(w, m, n, tau, sign);
    for (int64_t j = 0; j < n; j++)
        for (int64_t i = 0; i < m; i++) {
            if (dtype == NNINIT_F32)
                ((float *)a)[i * si + j * sj] = (float)w[j * m + i];
            else
                ((double *)a)[i * si + j * sj] = w[j * m + i];
        }
    free(w);
    free(tau);
    free(sign);
    return NNINIT_OK;
}
