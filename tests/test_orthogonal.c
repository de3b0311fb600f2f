/*
 * orthogonal.c: both methods (CholeskyQR2 for tall-skinny, Householder
 * otherwise) give orthonormal factors, and the same factor up to rounding
 * as a plain LAPACK geqrf + orgqr with the sign fix Q sign(diag R) computed
 * here (the Keras / PyTorch definition), for tall and wide (torch) shapes,
 * float32 and float64.
 *
 * Tolerances: Householder QR is backward stable, ||Q^T Q - I|| and the
 * forward difference between two stable methods on a matrix of condition
 * number k are O(k n eps); for the Gaussian shapes used (k < 10, n <= 64)
 * n k eps is 4e-5 (float32) and 1e-13 (float64); we allow 5e-5 and 1e-12
 * on each entry. A wrong sign convention moves whole columns by 2/sqrt(m),
 * orders of magnitude above that.
 */
#include "util.h"

#include "init/orthogonal.h"
#include "rng/simd_internal.h"

#include <lapacke.h>

/* Reference: Q sign(diag R) of the row-major tall (m, n) a, in double. */
static void reference_q(const double *a, int m, int n, double *q)
{
    double *cm = malloc(sizeof(double) * (size_t)m * (size_t)n), *tau = malloc(sizeof(double) * (size_t)n);
    assert_non_null(cm);
    assert_non_null(tau);
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++)
            cm[(size_t)j * (size_t)m + (size_t)i] = a[(size_t)i * (size_t)n + (size_t)j];
    assert_int_equal(LAPACKE_dgeqrf(LAPACK_COL_MAJOR, m, n, cm, m, tau), 0);
    double *sign = malloc(sizeof(double) * (size_t)n);
    for (int j = 0; j < n; j++)
        sign[j] = cm[(size_t)j * (size_t)m + (size_t)j] < 0 ? -1.0 : 1.0;
    assert_int_equal(LAPACKE_dorgqr(LAPACK_COL_MAJOR, m, n, n, cm, m, tau), 0);
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++)
            q[(size_t)i * (size_t)n + (size_t)j] = cm[(size_t)j * (size_t)m + (size_t)i] * sign[j];
    free(cm);
    free(tau);
    free(sign);
}

static void gaussian(double *a, size_t n, uint64_t seed)
{
    uint32_t key[2];
    nninit__philox_key(seed, key);
    nninit__philox_normal(key, 0, NNINIT_F64, 0, n, 0.0, 1.0, a);
}

/* rows x cols through nninit__orthogonal_torch against the reference. */
static void check_shape(int rows, int cols, nninit_dtype dt)
{
    size_t n = (size_t)rows * (size_t)cols;
    int m = rows >= cols ? rows : cols, k = rows >= cols ? cols : rows;
    double *a = malloc(n * sizeof *a), *tall = malloc(n * sizeof *tall), *ref = malloc(n * sizeof *ref);
    void *got = malloc(n * sizeof(double));
    assert_non_null(a);
    assert_non_null(got);
    gaussian(a, n, (uint64_t)rows * 1000 + (uint64_t)cols);
    /* torch factors the draw when tall, its transpose when wide */
    for (int i = 0; i < m; i++)
        for (int j = 0; j < k; j++)
            tall[(size_t)i * (size_t)k + (size_t)j] = rows >= cols ? a[(size_t)i * (size_t)k + (size_t)j]
                                                                    : a[(size_t)j * (size_t)m + (size_t)i];
    reference_q(tall, m, k, ref);
    for (size_t i = 0; i < n; i++) {
        if (dt == NNINIT_F32)
            ((float *)got)[i] = (float)a[i];
        else
            ((double *)got)[i] = a[i];
    }
    nninit_err err;
    assert_ok(nninit__orthogonal_torch(dt, got, rows, cols, &err), &err);
    double tol = dt == NNINIT_F32 ? 5e-5 : 1e-12, worst = 0;
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < cols; c++) {
            double g = dt == NNINIT_F32 ? (double)((float *)got)[(size_t)r * (size_t)cols + (size_t)c]
                                        : ((double *)got)[(size_t)r * (size_t)cols + (size_t)c];
            double w = rows >= cols ? ref[(size_t)r * (size_t)cols + (size_t)c] : ref[(size_t)c * (size_t)rows + (size_t)r];
            worst = fmax(worst, fabs(g - w));
        }
    if (!(worst <= tol))
        fail_msg("%dx%d %s: max |Q - Q_ref| = %.3g > %.3g", rows, cols, nninit_dtype_name(dt), worst, tol);
    /* orthonormal rows or columns: the Gram matrix of the short side */
    double gworst = 0;
    for (int p = 0; p < k; p++)
        for (int q = p; q < k; q++) {
            double s = 0;
            for (int i = 0; i < m; i++) {
                size_t ip = rows >= cols ? (size_t)i * (size_t)cols + (size_t)p : (size_t)p * (size_t)cols + (size_t)i;
                size_t iq = rows >= cols ? (size_t)i * (size_t)cols + (size_t)q : (size_t)q * (size_t)cols + (size_t)i;
                double x = dt == NNINIT_F32 ? (double)((float *)got)[ip] : ((double *)got)[ip];
                double y = dt == NNINIT_F32 ? (double)((float *)got)[iq] : ((double *)got)[iq];
                s += x * y;
            }
            gworst = fmax(gworst, fabs(s - (p == q)));
        }
    if (!(gworst <= tol))
        fail_msg("%dx%d %s: max |Q^T Q - I| = %.3g > %.3g", rows, cols, nninit_dtype_name(dt), gworst, tol);
    free(a);
    free(tall);
    free(ref);
    free(got);
}

static void test_shapes(void **state)
{
    (void)state;
    /* CholeskyQR2 (ratio >= 4, >= 16 columns), Householder (square, mildly
     * tall, narrow), wide (torch factors the transpose), degenerate */
    static const int SHAPES[][2] = {{256, 32}, {200, 50}, {1000, 16}, {100, 60}, {64, 64}, {300, 15},
                                    {32, 256}, {50, 200}, {60, 100}, {1, 1},   {5, 1},   {1, 7},
                                    {3, 5}};
    for (size_t s = 0; s < sizeof SHAPES / sizeof SHAPES[0]; s++)
        for (int dt = 0; dt < 2; dt++)
            check_shape(SHAPES[s][0], SHAPES[s][1], (nninit_dtype)dt);
}

/* nninit__orthonormalize keeps its contract (rows >= cols, in place). */
static void test_orthonormalize_contract(void **state)
{
    (void)state;
    nninit_err err;
    double a[12];
    assert_int_equal(nninit__orthonormalize(NNINIT_F64, a, 3, 4, &err), NNINIT_EMISUSE);
    gaussian(a, 12, 3);
    double ref[12];
    reference_q(a, 4, 3, ref);
    assert_ok(nninit__orthonormalize(NNINIT_F64, a, 4, 3, &err), &err);
    for (int i = 0; i < 12; i++)
        assert_close(a[i], ref[i], 1e-12);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shapes),
        cmocka_unit_test(test_orthonormalize_contract),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
