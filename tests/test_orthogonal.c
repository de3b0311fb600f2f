/*
 * orthogonal.c and qr.c: every QR the library has (the built-in Householder
 * QR, and with LAPACK its Householder and CholeskyQR2 paths) gives the
 * factor Q sign(diag R) (the Keras / PyTorch definition) of tall and wide
 * (torch) Gaussian matrices, float32 and float64, within the allowance
 * c sqrt(m n) u kappa_2(A) that tests/linalg.h derives, against a long double
 * Gram-Schmidt reference and against each other; the built-in QR's bits
 * do not depend on the thread count (and are pinned by a hash), while
 * OpenBLAS's do (test_openblas_threads, full build).
 */
#include "util.h"

#include "init/orthogonal.h"
#include "linalg.h"
#include "rng/simd_internal.h"

#ifdef NNINIT_HAVE_LAPACK
#include <cblas.h> /* OpenBLAS's openblas_set_num_threads */
#endif

/* Reference: Q with a positive diag R of the row-major tall (m, n) a, by
 * Gram-Schmidt with one re-orthogonalization (CGS2, stable for these
 * condition numbers) in long double: a different algorithm from every path
 * tested, accurate far beyond float64 where long double is wider. */
static void reference_q(const double *a, int m, int n, double *q)
{
    long double *w = malloc(sizeof(long double) * (size_t)m * (size_t)n);
    assert_non_null(w);
    for (int j = 0; j < n; j++) {
        long double *c = w + (size_t)j * (size_t)m;
        for (int i = 0; i < m; i++)
            c[i] = a[(size_t)i * (size_t)n + (size_t)j];
        for (int pass = 0; pass < 2; pass++)
            for (int p = 0; p < j; p++) {
                const long double *b = w + (size_t)p * (size_t)m;
                long double s = 0;
                for (int i = 0; i < m; i++)
                    s += b[i] * c[i];
                for (int i = 0; i < m; i++)
                    c[i] -= s * b[i];
            }
        long double s = 0;
        for (int i = 0; i < m; i++)
            s += c[i] * c[i];
        s = sqrtl(s);
        for (int i = 0; i < m; i++)
            c[i] /= s;
    }
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++)
            q[(size_t)i * (size_t)n + (size_t)j] = (double)w[(size_t)j * (size_t)m + (size_t)i];
    free(w);
}

static void gaussian(double *a, size_t n, uint64_t seed)
{
    uint32_t key[2];
    nninit__philox_key(seed, key);
    nninit__philox_normal(key, 0, NNINIT_F64, 0, n, 0.0, 1.0, a);
}

/* The tall (m, k) factor through `how`: stored row-major (tall input) or
 * as the column-major (k, m) = row-major wide buffer, as torch's wide case
 * does. Returns the factor row-major in double. */
static void factor(nninit__qr_method how, const double *tall, int m, int k, int row_major, nninit_dtype dt,
                   double *q)
{
    size_t n = (size_t)m * (size_t)k;
    void *buf = malloc(n * sizeof(double));
    assert_non_null(buf);
    for (int i = 0; i < m; i++)
        for (int j = 0; j < k; j++) {
            size_t at = row_major ? (size_t)i * (size_t)k + (size_t)j : (size_t)j * (size_t)m + (size_t)i;
            double v = tall[(size_t)i * (size_t)k + (size_t)j];
            if (dt == NNINIT_F32)
                ((float *)buf)[at] = (float)v;
            else
                ((double *)buf)[at] = v;
        }
    nninit_err err;
    assert_ok(nninit__orthonormalize_with(how, dt, buf, m, k, row_major, &err), &err);
    for (int i = 0; i < m; i++)
        for (int j = 0; j < k; j++) {
            size_t at = row_major ? (size_t)i * (size_t)k + (size_t)j : (size_t)j * (size_t)m + (size_t)i;
            q[(size_t)i * (size_t)k + (size_t)j] = dt == NNINIT_F32 ? (double)((float *)buf)[at] : ((double *)buf)[at];
        }
    free(buf);
}

/* max |Q^T Q - I| over the k columns of the row-major (m, k) q. */
static double orthonormality(const double *q, int m, int k)
{
    double worst = 0;
    for (int p = 0; p < k; p++)
        for (int r = p; r < k; r++) {
            double s = 0;
            for (int i = 0; i < m; i++)
                s += q[(size_t)i * (size_t)k + (size_t)p] * q[(size_t)i * (size_t)k + (size_t)r];
            worst = fmax(worst, fabs(s - (p == r)));
        }
    return worst;
}

static const nninit__qr_method METHODS[] = {NNINIT__QR_AUTO, NNINIT__QR_BUILTIN,
#ifdef NNINIT_HAVE_LAPACK
                                            NNINIT__QR_LAPACK
#endif
};
static const char *const METHOD_NAMES[] = {"auto", "builtin", "lapack"};

/* Every method on one tall (m, k) shape, both storages, against the
 * reference; with LAPACK also the built-in against LAPACK. */
static void check_shape(int m, int k, nninit_dtype dt, double *worst_ratio)
{
    size_t n = (size_t)m * (size_t)k;
    double *a = malloc(n * sizeof *a), *ref = malloc(n * sizeof *ref), *q = malloc(n * sizeof *q);
    double *builtin = malloc(n * sizeof *builtin);
    assert_non_null(a);
    assert_non_null(ref);
    assert_non_null(q);
    assert_non_null(builtin);
    gaussian(a, n, (uint64_t)m * 1000 + (uint64_t)k);
    if (dt == NNINIT_F32) /* the reference factors exactly what the float32 paths see */
        for (size_t i = 0; i < n; i++)
            a[i] = (double)(float)a[i];
    reference_q(a, m, k, ref);
    double kappa = test_cond2(a, m, k), u = dt == NNINIT_F32 ? 0x1p-24 : 0x1p-53;
    for (int row_major = 0; row_major < 2; row_major++)
        for (size_t h = 0; h < sizeof METHODS / sizeof METHODS[0]; h++) {
            factor(METHODS[h], a, m, k, row_major, dt, q);
            double ratio = test_qr_ratio(q, ref, (int64_t)n, k, u, kappa);
            *worst_ratio = fmax(*worst_ratio, ratio);
            if (getenv("NNINIT_QR_DEBUG"))
                print_message("%dx%d %s %s %d: %.3g (kappa %.3g)\n", m, k, nninit_dtype_name(dt), METHOD_NAMES[METHODS[h]], row_major, ratio, kappa);
            if (!(ratio <= 1))
                fail_msg("%dx%d %s %s %s: ||Q - Q_ref||_F is %.3g of c sqrt(m n) u kappa (kappa %.3g)", m, k,
                         nninit_dtype_name(dt), METHOD_NAMES[METHODS[h]], row_major ? "row-major" : "column-major",
                         ratio, kappa);
            double orth = orthonormality(q, m, k);
            double orth_max = TEST_QR_C * sqrt((double)n) * u; /* the allowance with kappa(Q) = 1 */
            if (!(orth <= orth_max))
                fail_msg("%dx%d %s %s: max |Q^T Q - I| = %.3g > c sqrt(m n) u = %.3g", m, k, nninit_dtype_name(dt),
                         METHOD_NAMES[METHODS[h]], orth, orth_max);
            if (METHODS[h] == NNINIT__QR_BUILTIN && row_major)
                memcpy(builtin, q, n * sizeof *q);
#ifdef NNINIT_HAVE_LAPACK
            /* the tolerance the built-in QR keeps against the LAPACK path */
            if (METHODS[h] == NNINIT__QR_LAPACK && row_major) {
                ratio = test_qr_ratio(builtin, q, (int64_t)n, k, u, kappa);
                if (!(ratio <= 1))
                    fail_msg("%dx%d %s: built-in vs LAPACK ||dQ||_F is %.3g of c sqrt(m n) u kappa", m, k,
                             nninit_dtype_name(dt), ratio);
            }
#endif
        }
    /* the allowance rejects a missing sign fix on one column */
    for (int i = 0; i < m; i++)
        builtin[(size_t)i * (size_t)k] = -builtin[(size_t)i * (size_t)k];
    assert_true(test_qr_ratio(builtin, ref, (int64_t)n, k, u, kappa) > 1);
    free(a);
    free(ref);
    free(q);
    free(builtin);
}

static void test_shapes(void **state)
{
    (void)state;
    /* With LAPACK: CholeskyQR2 (ratio >= 4, >= 16 columns) and Householder
     * (square, mildly tall, narrow); the built-in on all; degenerate ones */
    static const int SHAPES[][2] = {{256, 32}, {200, 50}, {1000, 16}, {100, 60}, {64, 64}, {300, 15},
                                    {1, 1},    {5, 1},    {7, 1},     {5, 3},    {50, 50}};
    double worst = 0;
    for (size_t s = 0; s < sizeof SHAPES / sizeof SHAPES[0]; s++)
        for (int dt = 0; dt < 2; dt++)
            check_shape(SHAPES[s][0], SHAPES[s][1], (nninit_dtype)dt, &worst);
    print_message("worst ||Q - Q_ref||_F: %.3g of c sqrt(m n) u kappa\n", worst);
}

/* torch's layouts through nninit__orthogonal_torch: a wide (rows, cols)
 * buffer gets the transpose of the factor of its transpose. */
static void test_torch_layouts(void **state)
{
    (void)state;
    static const int SHAPES[][2] = {{32, 256}, {50, 200}, {60, 100}, {1, 7}, {3, 5}, {64, 32}};
    for (size_t s = 0; s < sizeof SHAPES / sizeof SHAPES[0]; s++) {
        int rows = SHAPES[s][0], cols = SHAPES[s][1], m = rows >= cols ? rows : cols, k = rows >= cols ? cols : rows;
        size_t n = (size_t)rows * (size_t)cols;
        double *a = malloc(n * sizeof *a), *tall = malloc(n * sizeof *tall), *ref = malloc(n * sizeof *ref);
        double *got = malloc(n * sizeof *got), *got_tall = malloc(n * sizeof *got_tall);
        assert_non_null(a);
        assert_non_null(tall);
        assert_non_null(ref);
        assert_non_null(got);
        assert_non_null(got_tall);
        gaussian(a, n, (uint64_t)rows * 7 + (uint64_t)cols);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < k; j++)
                tall[(size_t)i * (size_t)k + (size_t)j] = rows >= cols ? a[(size_t)i * (size_t)k + (size_t)j]
                                                                        : a[(size_t)j * (size_t)m + (size_t)i];
        reference_q(tall, m, k, ref);
        memcpy(got, a, n * sizeof *a);
        nninit_err err;
        assert_ok(nninit__orthogonal_torch(NNINIT_F64, got, rows, cols, &err), &err);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < k; j++)
                got_tall[(size_t)i * (size_t)k + (size_t)j] = rows >= cols ? got[(size_t)i * (size_t)k + (size_t)j]
                                                                            : got[(size_t)j * (size_t)m + (size_t)i];
        double ratio = test_qr_ratio(got_tall, ref, (int64_t)n, k, 0x1p-53, test_cond2(tall, m, k));
        if (!(ratio <= 1))
            fail_msg("%dx%d: orthogonal_torch is %.3g of the allowance", rows, cols, ratio);
        free(a);
        free(tall);
        free(ref);
        free(got);
        free(got_tall);
    }
}

/* Philox orthogonal below NNINIT__QR_BUILTIN_MAX_WORK uses the built-in QR
 * in every build: the same bits for 1 and 4 threads, and the same as
 * recorded (x86-64, this commit; IEEE double +-x/ and sqrt only, so any
 * IEEE machine and build, core, full or the single file, gives them). */
static void test_bits_pinned(void **state)
{
    (void)state;
    static const struct {
        const char *spec, *shape;
        nninit_dtype dtype;
        uint64_t hash;
    } CASES[] = {
        {"orthogonal", "64x32", NNINIT_F32, 0x73b5c368b7610401ull},
        {"orthogonal(gain=2)", "3x3x16x24", NNINIT_F64, 0xc9c0bfbb316a12c7ull},
    };
    for (size_t c = 0; c < sizeof CASES / sizeof CASES[0]; c++) {
        nninit_err err;
        nninit_init init;
        nninit_shape shape;
        nninit_rng *rng = NULL;
        int64_t numel;
        assert_ok(nninit_init_parse(CASES[c].spec, &init, &err), &err);
        assert_ok(nninit_shape_parse(CASES[c].shape, &shape, &err), &err);
        assert_ok(nninit_shape_numel(&shape, &numel, &err), &err);
        assert_ok(nninit_rng_new(NNINIT_RNG_PHILOX, 42, &rng, &err), &err);
        size_t bytes = (size_t)numel * nninit_dtype_size(CASES[c].dtype);
        uint64_t h[2];
        for (int t = 0; t < 2; t++) {
            nninit_fill_opts opts = nninit_fill_opts_default();
            opts.dtype = CASES[c].dtype;
            opts.threads = t ? 4 : 1;
            void *out = malloc(bytes);
            assert_non_null(out);
            assert_ok(nninit_fill(&init, &shape, &opts, rng, out, &err), &err);
            h[t] = test_fnv1a64(out, bytes);
            free(out);
        }
        print_message("%s %s: %016llx\n", CASES[c].spec, CASES[c].shape, (unsigned long long)h[0]);
        assert_true(h[0] == h[1]);
        assert_true(h[0] == CASES[c].hash);
        nninit_rng_free(rng);
    }
}

#ifdef NNINIT_HAVE_LAPACK
/* The reason the built-in QR serves small matrices in the full library:
 * OpenBLAS's bits for a 128 x 128 factor change with its thread count
 * (measured on a 2-core machine: 1 vs 2 threads differ), AUTO's do not. */
static void test_openblas_threads(void **state)
{
    (void)state;
    enum { M = 128, N = 128 };
    double *g = malloc(sizeof(double) * M * N);
    float *a = malloc(sizeof(float) * M * N);
    assert_non_null(g);
    assert_non_null(a);
    gaussian(g, M * N, 128);
    uint64_t h_auto[2], h_lapack[2];
    int saved = openblas_get_num_threads();
    nninit_err err;
    for (int t = 0; t < 2; t++) {
        openblas_set_num_threads(t ? 2 : 1);
        for (int i = 0; i < M * N; i++)
            a[i] = (float)g[i];
        assert_ok(nninit__orthonormalize_with(NNINIT__QR_AUTO, NNINIT_F32, a, M, N, 1, &err), &err);
        h_auto[t] = test_fnv1a64(a, sizeof(float) * M * N);
        for (int i = 0; i < M * N; i++)
            a[i] = (float)g[i];
        assert_ok(nninit__orthonormalize_with(NNINIT__QR_LAPACK, NNINIT_F32, a, M, N, 1, &err), &err);
        h_lapack[t] = test_fnv1a64(a, sizeof(float) * M * N);
    }
    openblas_set_num_threads(saved);
    print_message("128x128 with OpenBLAS on 1 and 2 threads: LAPACK bits %s, AUTO bits %s\n",
                  h_lapack[0] == h_lapack[1] ? "equal" : "differ", h_auto[0] == h_auto[1] ? "equal" : "differ");
    assert_true(h_auto[0] == h_auto[1]);
    free(g);
    free(a);
}
#endif

/* Contracts: rows >= cols; LAPACK refused when the build has none. */
static void test_contract(void **state)
{
    (void)state;
    nninit_err err;
    double a[12];
    gaussian(a, 12, 3);
    assert_int_equal(nninit__orthonormalize(NNINIT_F64, a, 3, 4, &err), NNINIT_EMISUSE);
    assert_int_equal(nninit__orthonormalize_with(NNINIT__QR_BUILTIN, NNINIT_F64, a, 0, 0, 1, &err), NNINIT_EMISUSE);
#ifndef NNINIT_HAVE_LAPACK
    assert_int_equal(nninit__orthonormalize_with(NNINIT__QR_LAPACK, NNINIT_F64, a, 4, 3, 1, &err), NNINIT_EUNSUPPORTED);
    print_message("no LAPACK in this build: %s\n", err.msg);
#endif
    double ref[12];
    reference_q(a, 4, 3, ref);
    assert_ok(nninit__orthonormalize(NNINIT_F64, a, 4, 3, &err), &err);
    for (int i = 0; i < 12; i++)
        assert_close(a[i], ref[i], 1e-14);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shapes),
        cmocka_unit_test(test_torch_layouts),
        cmocka_unit_test(test_bits_pinned),
        cmocka_unit_test(test_contract),
#ifdef NNINIT_HAVE_LAPACK
        cmocka_unit_test(test_openblas_threads),
#endif
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
