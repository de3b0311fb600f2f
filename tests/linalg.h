/* Test helpers for the QR tolerances (test_orthogonal, test_torch): the
 * 2-norm condition number of a small matrix, computed without LAPACK so that
 * the core build's tests can state their tolerances too. */
#ifndef NNINIT_TEST_LINALG_H
#define NNINIT_TEST_LINALG_H

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

/*
 * kappa_2 = sigma_max / sigma_min of the row-major (rows, cols) a, by
 * one-sided Jacobi (Hestenes 1958) in double on the tall orientation: pairs
 * of columns are rotated until every pair is orthogonal to 1e-15 relative;
 * the column norms are then the singular values. Accurate to a few double
 * ulps times kappa, far below what the callers need (the order of
 * magnitude). Returns INFINITY for a rank-deficient or failed input.
 */
static inline double test_cond2(const double *a, int64_t rows, int64_t cols)
{
    int64_t m = rows >= cols ? rows : cols, n = rows >= cols ? cols : rows;
    double *w = malloc(sizeof(double) * (size_t)(m * n)); /* column-major (m, n) */
    if (!w)
        return INFINITY;
    for (int64_t i = 0; i < rows; i++)
        for (int64_t j = 0; j < cols; j++) {
            double v = a[i * cols + j];
            if (rows >= cols)
                w[j * m + i] = v;
            else
                w[i * m + j] = v;
        }
    for (int sweep = 0; sweep < 60; sweep++) {
        int rotated = 0;
        for (int64_t p = 0; p < n - 1; p++)
            for (int64_t q = p + 1; q < n; q++) {
                double *x = w + p * m, *y = w + q * m, alpha = 0, beta = 0, gamma = 0;
                for (int64_t i = 0; i < m; i++) {
                    alpha += x[i] * x[i];
                    beta += y[i] * y[i];
                    gamma += x[i] * y[i];
                }
                if (fabs(gamma) <= 1e-15 * sqrt(alpha * beta))
                    continue;
                rotated = 1;
                double zeta = (beta - alpha) / (2 * gamma);
                double t = (zeta >= 0 ? 1.0 : -1.0) / (fabs(zeta) + sqrt(1 + zeta * zeta));
                double c = 1 / sqrt(1 + t * t), s = c * t;
                for (int64_t i = 0; i < m; i++) {
                    double xi = x[i], yi = y[i];
                    x[i] = c * xi - s * yi;
                    y[i] = s * xi + c * yi;
                }
            }
        if (!rotated)
            break;
    }
    double smax = 0, smin = INFINITY;
    for (int64_t j = 0; j < n; j++) {
        double s = 0;
        for (int64_t i = 0; i < m; i++)
            s += w[j * m + i] * w[j * m + i];
        s = sqrt(s);
        smax = fmax(smax, s);
        smin = fmin(smin, s);
    }
    free(w);
    return smin > 0 ? smax / smin : INFINITY;
}

/*
 * Two QR codes factoring the same m x n (m >= n) matrix A agree only to
 * rounding. Householder QR (and CholeskyQR2 at these condition numbers) is
 * backward stable (Higham, Accuracy and Stability, 2nd ed., Thm 19.4): the
 * computed factor is Q(A + dA) + E with ||dA||_F <= gamma ||A||_F and
 * ||E||_F <= gamma, where gamma is c' m n u in the worst case and
 * sqrt(m n) u in practice (rounding errors add like a random walk, Higham
 * sec. 2.8), u the unit roundoff (2^-24 float32, 2^-53 float64); the Q
 * factor moves by ||dQ||_F <= sqrt(2) kappa_2(A) ||dA||_F / ||A||_F to
 * first order (Sun 1991). One code is thus within
 * (1 + sqrt(2) kappa) gamma <= (1 + sqrt(2)) gamma kappa of the exact
 * factor, and two codes within twice that of each other:
 *     ||Q_1 - Q_2||_F / g  <=  c sqrt(m n) u kappa_2(A),  c = 2 (1 + sqrt(2)),
 * g the gain both were multiplied by (for a square n x n matrix, c n u kappa).
 * test_qr_ratio returns the left side over the right side (<= 1: within the
 * allowance). A wrong factor is far outside: a column with the wrong sign
 * adds 2 to ||dQ||_F / g, while the allowance is ~3e-7 sqrt(m n) kappa in
 * float32 (the tests check both directions).
 */
#define TEST_QR_C (2 * (1 + 1.4142135623730951))

static inline double test_qr_ratio(const double *got, const double *want, int64_t count, int64_t n, double u,
                                   double kappa)
{
    double d2 = 0, w2 = 0;
    for (int64_t i = 0; i < count; i++) {
        d2 += (got[i] - want[i]) * (got[i] - want[i]);
        w2 += want[i] * want[i];
    }
    double gain = sqrt(w2 / (double)n); /* ||g Q||_F = g sqrt(n) for n orthonormal columns */
    return sqrt(d2) / gain / (TEST_QR_C * sqrt((double)count) * u * kappa); /* count = m n */
}

#endif
