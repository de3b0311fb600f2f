/*
 * The frameworks' own initializer tests, ported: PyTorch's
 * test/nn/test_init.py (class TestNNInit) and Keras 3's
 * keras/src/initializers/random_initializers_test.py and
 * constant_initializers_test.py. Each test names the one it comes from.
 *
 * Where those draw sizes or parameters at random (random.seed(123)), fixed
 * values from the same ranges stand in. Their Kolmogorov-Smirnov tests
 * (scipy.stats.kstest, p > 1e-4) become the KS distance against the
 * asymptotic critical value for p = 1e-4: sqrt(-ln(p/2)/2) / sqrt(n) =
 * 2.2253 / sqrt(n) (the asymptote is within 2% of the exact value from
 * n = 40 on, and slightly strict below). Seeds are fixed; every KS check on
 * n >= 500 values also shows that the same sample is rejected for a
 * distribution of 1.5 times the scale, so the check can fail. Keras'
 * assertAllClose(std, expected, atol=0.1) on 500 values is kept as written:
 * the sample std's standard error is about std/sqrt(2n) = 0.032 std there,
 * so 0.1 is about 3 standard errors.
 *
 * Where nninit deliberately differs, the test asserts nninit's documented
 * behaviour (docs/catalogue.md) and says why.
 */
#include "util.h"

#include <math.h>

static double *draw_opt(const char *spec, nninit_shape sh, nninit_layout layout, uint64_t seed, nninit_status *st,
                        nninit_err *err)
{
    nninit_init in;
    nninit_rng *rng;
    int64_t n;
    *st = nninit_init_parse(spec, &in, err);
    if (*st)
        return NULL;
    if ((*st = nninit_shape_numel(&sh, &n, err)))
        return NULL;
    double *v = malloc((size_t)n * sizeof *v + 8);
    assert_ok(nninit_rng_new(NNINIT_RNG_PHILOX, seed, &rng, err), err);
    nninit_fill_opts fo = nninit_fill_opts_default();
    fo.layout = layout;
    fo.dtype = NNINIT_F64;
    *st = nninit_fill(&in, &sh, &fo, rng, v, err);
    nninit_rng_free(rng);
    if (*st) {
        free(v);
        return NULL;
    }
    return v;
}

static double *draw(const char *spec, nninit_shape sh, nninit_layout layout, uint64_t seed)
{
    nninit_status st;
    nninit_err err;
    double *v = draw_opt(spec, sh, layout, seed, &st, &err);
    if (!v)
        fail_msg("%s: %s", spec, err.msg);
    return v;
}

static void refused(const char *spec, nninit_shape sh, nninit_layout layout, const char *needle)
{
    nninit_status st;
    nninit_err err;
    double *v = draw_opt(spec, sh, layout, 1, &st, &err);
    if (v) {
        free(v);
        fail_msg("%s on a %d-D shape was accepted", spec, sh.ndim);
    }
    if (!strstr(err.msg, needle))
        fail_msg("%s: message '%s' lacks '%s'", spec, err.msg, needle);
}

static int64_t numel(nninit_shape sh)
{
    int64_t n = 1;
    for (int d = 0; d < sh.ndim; d++)
        n *= sh.dim[d];
    return n;
}

/* ---- Kolmogorov-Smirnov ---- */

typedef enum { UNIFORM, NORMAL, TRUNC } dist;
typedef struct target {
    dist d;
    double p0, p1; /* uniform [p0, p1); normal mean p0, std p1 */
    double a, b;   /* truncation */
} target;

static double Phi(double x) { return 0.5 * erfc(-x / sqrt(2.0)); }

static double cdf(target t, double x)
{
    if (t.d == UNIFORM)
        return x <= t.p0 ? 0 : x >= t.p1 ? 1 : (x - t.p0) / (t.p1 - t.p0);
    if (t.d == NORMAL)
        return Phi((x - t.p0) / t.p1);
    double lo = Phi((t.a - t.p0) / t.p1), hi = Phi((t.b - t.p0) / t.p1);
    if (x <= t.a)
        return 0;
    if (x >= t.b)
        return 1;
    return (Phi((x - t.p0) / t.p1) - lo) / (hi - lo);
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double ks_distance(double *s, int64_t n, target t) /* sorts s */
{
    qsort(s, (size_t)n, sizeof *s, cmp_d);
    double dmax = 0;
    for (int64_t i = 0; i < n; i++) {
        double f = cdf(t, s[i]);
        dmax = fmax(dmax, fmax(fabs(f - (double)i / (double)n), fabs((double)(i + 1) / (double)n - f)));
    }
    return dmax;
}

#define KS_CRIT 2.2253 /* sqrt(-ln(1e-4 / 2) / 2) */

/* kstest(...) p > 1e-4; with n >= 500 also: rejects 1.5x the scale. */
static void expect_dist(const char *what, double *v, int64_t n, target t)
{
    double crit = KS_CRIT / sqrt((double)n);
    double d = ks_distance(v, n, t);
    if (d > crit)
        fail_msg("%s: KS distance %.4g > %.4g (p < 1e-4)", what, d, crit);
    if (n >= 500) {
        target w = t;
        if (t.d == UNIFORM) {
            double c = 0.5 * (t.p0 + t.p1), h = 0.75 * (t.p1 - t.p0);
            w.p0 = c - h;
            w.p1 = c + h;
        } else {
            w.p1 *= 1.5;
            w.a = t.p0 + 1.5 * (t.a - t.p0);
            w.b = t.p0 + 1.5 * (t.b - t.p0);
        }
        if (ks_distance(v, n, w) <= crit)
            fail_msg("%s: the KS check cannot tell 1.5x the scale", what);
    }
}

static nninit_shape shape_of(int nd, const int64_t *dims)
{
    nninit_shape s = {nd, {0}};
    for (int i = 0; i < nd; i++)
        s.dim[i] = dims[i];
    return s;
}

/* torch's fans of a tensor: size(1) * receptive field, size(0) * receptive field */
static void torch_fans(nninit_shape s, double *fan_in, double *fan_out)
{
    double rf = 1;
    for (int d = 2; d < s.ndim; d++)
        rf *= (double)s.dim[d];
    *fan_in = (double)s.dim[1] * rf;
    *fan_out = (double)s.dim[0] * rf;
}

/* ======================= PyTorch test/nn/test_init.py ======================= */

static double gain_of(const char *nl, int has, double p)
{
    double g;
    nninit_err err;
    assert_ok(nninit_calculate_gain(nl, has, p, &g, &err), &err);
    return g;
}

/* test_calculate_gain_linear, test_calculate_gain_nonlinear, test_calculate_gain_leaky_relu */
static void test_torch_calculate_gain(void **state)
{
    (void)state;
    const char *linear[] = {"linear", "conv1d", "conv2d", "conv3d", "conv_transpose2d", "conv_transpose2d",
                            "conv_transpose3d"};
    for (size_t i = 0; i < sizeof linear / sizeof *linear; i++)
        assert_true(gain_of(linear[i], 0, 0) == 1.0);
    assert_true(gain_of("sigmoid", 0, 0) == 1.0);
    assert_true(gain_of("tanh", 0, 0) == 1.6666666666666667);
    assert_true(gain_of("relu", 0, 0) == 1.4142135623730951);
    assert_true(gain_of("leaky_relu", 0, 0) == 1.4141428569978354);
    assert_true(gain_of("selu", 0, 0) == 0.75);
    /* test_calculate_gain_leaky_relu: param None (slope 0.01), 0, 0.01, 10 */
    assert_true(gain_of("leaky_relu", 0, 0) == 1.4141428569978354);
    assert_true(gain_of("leaky_relu", 1, 0) == 1.4142135623730951);
    assert_true(gain_of("leaky_relu", 1, 0.01) == 1.4141428569978354);
    assert_true(gain_of("leaky_relu", 1, 10) == 0.14071950894605836);
}

/* test_calculate_gain_leaky_relu_only_accepts_numbers (True, [1], {"a": "b"}): the C API takes a
 * double, so the check lives where a parameter can be anything, in the SPEC parser;
 * test_calculate_gain_only_accepts_valid_nonlinearities (random strings of length 2, 5, 25) */
static void test_torch_calculate_gain_errors(void **state)
{
    (void)state;
    nninit_shape s = {2, {4, 6}};
    refused("kaiming_normal_(a=True)", s, NNINIT_LAYOUT_TORCH, "must be a number");
    refused("kaiming_normal_(a=[1])", s, NNINIT_LAYOUT_TORCH, "must be a number");
    refused("kaiming_normal_(a={'a': 'b'})", s, NNINIT_LAYOUT_TORCH, "not a dict");
    const char *bad[] = {"qz", "vbnrt", "mxkqlwpzrtyuvbnsdfghjklqw"};
    for (int i = 0; i < 3; i++) {
        double g;
        nninit_err err;
        assert_int_equal(nninit_calculate_gain(bad[i], 0, 0, &g, &err), NNINIT_EINVAL);
    }
}

/* test_uniform, test_normal: dims 1, 2, 4, sizes in [30, 50] */
static void test_torch_uniform_normal(void **state)
{
    (void)state;
    const int64_t d1[] = {47}, d2[] = {33, 41}, d4[] = {31, 38, 30, 44};
    const nninit_shape shapes[] = {shape_of(1, d1), shape_of(2, d2), shape_of(4, d4)};
    const double a[] = {-2.7, 0.4, 1.9}, w[] = {1.3, 4.6, 2.2}, mean[] = {-1.1, 2.8, 0.3}, sd[] = {4.1, 1.2, 2.9};
    for (int k = 0; k < 3; k++) {
        char spec[128];
        int64_t n = numel(shapes[k]);
        snprintf(spec, sizeof spec, "uniform_(a=%.17g, b=%.17g)", a[k], a[k] + w[k]);
        double *v = draw(spec, shapes[k], NNINIT_LAYOUT_TORCH, 100 + (uint64_t)k);
        expect_dist(spec, v, n, (target){UNIFORM, a[k], a[k] + w[k], 0, 0});
        free(v);
        snprintf(spec, sizeof spec, "normal_(mean=%.17g, std=%.17g)", mean[k], sd[k]);
        v = draw(spec, shapes[k], NNINIT_LAYOUT_TORCH, 200 + (uint64_t)k);
        expect_dist(spec, v, n, (target){NORMAL, mean[k], sd[k], 0, 0});
        free(v);
    }
}

/* TestNNInitDeviceType.test_trunc_normal_all_dtypes (dims 1, 2, 4; a in [mean - 2std, mean], b in
 * [mean, mean + 2std]), test_trunc_normal_narrow_interval (a=2, b=3 with std 1), and
 * test_trunc_normal_no_boundary_values_small_std (std 0.1 in [-2, 2]: no value on a bound) */
static void test_torch_trunc_normal(void **state)
{
    (void)state;
    const int64_t d1[] = {42}, d2[] = {36, 49}, d4[] = {30, 33, 35, 41};
    const nninit_shape shapes[] = {shape_of(1, d1), shape_of(2, d2), shape_of(4, d4)};
    const double mean[] = {1.7, -2.4, 0.2}, sd[] = {0.35, 0.8, 0.05}, a_off[] = {0.5, 1.9, 0.1},
                 b_off[] = {1.2, 0.3, 0.07};
    for (int k = 0; k < 3; k++) {
        char spec[160];
        double a = mean[k] - a_off[k] * sd[k], b = mean[k] + b_off[k] * sd[k];
        snprintf(spec, sizeof spec, "trunc_normal_(mean=%.17g, std=%.17g, a=%.17g, b=%.17g)", mean[k], sd[k], a, b);
        double *v = draw(spec, shapes[k], NNINIT_LAYOUT_TORCH, 300 + (uint64_t)k);
        int64_t n = numel(shapes[k]);
        for (int64_t i = 0; i < n; i++)
            if (v[i] < a || v[i] > b)
                fail_msg("%s: value %.17g outside [a, b]", spec, v[i]);
        expect_dist(spec, v, n, (target){TRUNC, mean[k], sd[k], a, b});
        free(v);
    }
    nninit_shape s = {1, {10000}};
    double *v = draw("trunc_normal_(mean=0, std=1, a=2, b=3)", s, NNINIT_LAYOUT_TORCH, 7);
    expect_dist("narrow interval [2, 3]", v, 10000, (target){TRUNC, 0, 1, 2, 3});
    free(v);
    v = draw("trunc_normal_(mean=0, std=0.1, a=-2, b=2)", s, NNINIT_LAYOUT_TORCH, 8);
    for (int i = 0; i < 10000; i++)
        assert_true(v[i] != -2.0 && v[i] != 2.0);
    free(v);
}

/* test_constant, test_ones_and_zeros (dims 1, 2, 4, sizes in [1, 5]) */
static void test_torch_constant_ones_zeros(void **state)
{
    (void)state;
    const int64_t d1[] = {3}, d2[] = {5, 2}, d4[] = {1, 4, 3, 2};
    const nninit_shape shapes[] = {shape_of(1, d1), shape_of(2, d2), shape_of(4, d4)};
    const char *specs[] = {"constant_(val=7.318)", "ones_", "zeros_"};
    const double want[] = {7.318, 1, 0};
    for (int k = 0; k < 3; k++)
        for (int j = 0; j < 3; j++) {
            double *v = draw(specs[j], shapes[k], NNINIT_LAYOUT_TORCH, 1);
            for (int64_t i = 0; i < numel(shapes[k]); i++)
                assert_true(v[i] == want[j]);
            free(v);
        }
}

/* test_eye, test_eye_only_works_on_2d_inputs */
static void test_torch_eye(void **state)
{
    (void)state;
    nninit_shape s = {2, {4, 3}};
    double *v = draw("eye_", s, NNINIT_LAYOUT_TORCH, 1);
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 3; j++)
            assert_true(v[i * 3 + j] == (i == j ? 1.0 : 0.0));
    free(v);
    refused("eye_", (nninit_shape){1, {3}}, NNINIT_LAYOUT_TORCH, "2-D");
    refused("eye_", (nninit_shape){3, {2, 3, 2}}, NNINIT_LAYOUT_TORCH, "2-D");
}

/* test_dirac_properties: dims 3, 4, 5 x groups 1, 2, 3; the nonzeros are min(out/groups, in) per group,
 * all ones; test_dirac_identity (1-D): conv1d with the filter passes the first in_c channels of each
 * group through (cropped by the kernel) and leaves the others 0; test_dirac_only_works_on_3_4_5d_inputs */
static void test_torch_dirac(void **state)
{
    (void)state;
    const int64_t a = 2, b[] = {3, 7, 1}, c = 4, d = 3, e = 2;
    for (int dims = 3; dims <= 5; dims++)
        for (int groups = 1; groups <= 3; groups++) {
            int64_t dd[5] = {a * groups, b[groups - 1], c, d, e};
            nninit_shape s = shape_of(dims, dd);
            char spec[64];
            snprintf(spec, sizeof spec, "dirac_(groups=%d)", groups);
            double *v = draw(spec, s, NNINIT_LAYOUT_TORCH, 1);
            int64_t nz = 0;
            double sum = 0;
            for (int64_t i = 0; i < numel(s); i++) {
                nz += v[i] != 0;
                sum += v[i];
            }
            int64_t min_d = a < b[groups - 1] ? a : b[groups - 1];
            assert_int_equal(nz, min_d * groups);
            assert_true(sum == (double)(min_d * groups));
            free(v);
        }
    for (int groups = 1; groups <= 3; groups += 2) { /* test_dirac_identity, 1-D part */
        const int batch = 8, in_c = 3, out_c = 9, size = 5, k = 3, eff = out_c / groups;
        nninit_shape s = {3, {out_c, in_c, k}};
        char spec[64];
        snprintf(spec, sizeof spec, "dirac_(groups=%d)", groups);
        double *f = draw(spec, s, NNINIT_LAYOUT_TORCH, 1);
        double *x = draw("normal_", (nninit_shape){3, {batch, in_c, size}}, NNINIT_LAYOUT_TORCH, 2);
        for (int bi = 0; bi < batch; bi++)
            for (int o = 0; o < out_c; o++)
                for (int t = 0; t < size - k + 1; t++) {
                    double y = 0;
                    for (int ci = 0; ci < in_c; ci++)
                        for (int q = 0; q < k; q++)
                            y += f[(o * in_c + ci) * k + q] * x[(bi * in_c + ci) * size + t + q];
                    int g = o / eff, r = o - g * eff;
                    double want = r < in_c ? x[(bi * in_c + r) * size + t + 1] : 0.0;
                    if (y != want)
                        fail_msg("groups %d: output %d at %d is %.17g, expected %.17g", groups, o, t, y, want);
                }
        free(f);
        free(x);
    }
    refused("dirac_", (nninit_shape){1, {3}}, NNINIT_LAYOUT_TORCH, "3-D to 5-D");
    refused("dirac_", (nninit_shape){2, {3, 3}}, NNINIT_LAYOUT_TORCH, "3-D to 5-D");
    refused("dirac_", (nninit_shape){6, {1, 1, 1, 1, 1, 1}}, NNINIT_LAYOUT_TORCH, "3-D to 5-D");
}

/* test_xavier_{uniform,normal}_errors_on_inputs_smaller_than_2d and the kaiming ones (dims 0, 1) */
static void test_torch_fan_errors(void **state)
{
    (void)state;
    const char *specs[] = {"xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_"};
    for (int i = 0; i < 4; i++) {
        refused(specs[i], (nninit_shape){0, {0}}, NNINIT_LAYOUT_TORCH, "dimension");
        refused(specs[i], (nninit_shape){1, {1}}, NNINIT_LAYOUT_TORCH, "at least 2");
    }
}

/* test_kaiming_{uniform,normal}_warning_on_0element_tensor: PyTorch warns "Initializing zero-element
 * tensors is a no-op" and returns. nninit deliberately refuses the shape (docs/catalogue.md,
 * "Zero-element tensors": shapes, files and fans are defined for at least one element). */
static void test_torch_zero_element(void **state)
{
    (void)state;
    refused("kaiming_uniform_", (nninit_shape){2, {0, 1}}, NNINIT_LAYOUT_TORCH, "every dimension must be >= 1");
    refused("kaiming_normal_", (nninit_shape){2, {0, 1}}, NNINIT_LAYOUT_TORCH, "every dimension must be >= 1");
}

/* test_xavier_uniform, test_xavier_normal (gain in [0.1, 2] or none; dims 2, 4; sizes in [20, 25]) */
static void test_torch_xavier(void **state)
{
    (void)state;
    const int64_t d2[] = {23, 21}, d4[] = {20, 25, 22, 24};
    const nninit_shape shapes[] = {shape_of(2, d2), shape_of(4, d4)};
    for (int use_gain = 0; use_gain < 2; use_gain++)
        for (int k = 0; k < 2; k++) {
            double gain = use_gain ? 1.37 : 1.0, fi, fo;
            torch_fans(shapes[k], &fi, &fo);
            double std = gain * sqrt(2.0 / (fi + fo)), bound = std * sqrt(3.0);
            char spec[96];
            snprintf(spec, sizeof spec, use_gain ? "xavier_uniform_(gain=%.17g)" : "xavier_uniform_", gain);
            double *v = draw(spec, shapes[k], NNINIT_LAYOUT_TORCH, 400 + (uint64_t)k);
            expect_dist(spec, v, numel(shapes[k]), (target){UNIFORM, -bound, bound, 0, 0});
            free(v);
            snprintf(spec, sizeof spec, use_gain ? "xavier_normal_(gain=%.17g)" : "xavier_normal_", gain);
            v = draw(spec, shapes[k], NNINIT_LAYOUT_TORCH, 500 + (uint64_t)k);
            expect_dist(spec, v, numel(shapes[k]), (target){NORMAL, 0, std, 0, 0});
            free(v);
        }
}

/* test_kaiming_uniform, test_kaiming_normal (a in [0.1, 2] or 0; dims 2, 4; fan_in, fan_out) */
static void test_torch_kaiming(void **state)
{
    (void)state;
    const int64_t d2[] = {24, 20}, d4[] = {21, 23, 20, 25};
    const nninit_shape shapes[] = {shape_of(2, d2), shape_of(4, d4)};
    const char *modes[] = {"fan_in", "fan_out"};
    for (int use_a = 0; use_a < 2; use_a++)
        for (int k = 0; k < 2; k++)
            for (int m = 0; m < 2; m++) {
                double a = use_a ? 0.83 : 0, fi, fo;
                torch_fans(shapes[k], &fi, &fo);
                double std = sqrt(2.0 / ((1 + a * a) * (m ? fo : fi))), bound = std * sqrt(3.0);
                char spec[96];
                snprintf(spec, sizeof spec, "kaiming_uniform_(a=%.17g, mode='%s')", a, modes[m]);
                double *v = draw(spec, shapes[k], NNINIT_LAYOUT_TORCH, 600 + (uint64_t)(4 * k + m));
                expect_dist(spec, v, numel(shapes[k]), (target){UNIFORM, -bound, bound, 0, 0});
                free(v);
                snprintf(spec, sizeof spec, "kaiming_normal_(a=%.17g, mode='%s')", a, modes[m]);
                v = draw(spec, shapes[k], NNINIT_LAYOUT_TORCH, 700 + (uint64_t)(4 * k + m));
                expect_dist(spec, v, numel(shapes[k]), (target){NORMAL, 0, std, 0, 0});
                free(v);
            }
}

/* test_sparse_only_works_on_2d_inputs, test_sparse_default_std (sizes in [30, 35], sparsity in
 * [0.1, 0.2], std 0.01 or in [0.01, 0.2]): at least ceil(sparsity * rows) zeros per column, the
 * nonzeros N(0, std) */
static void test_torch_sparse(void **state)
{
    (void)state;
    refused("sparse_(sparsity=0.5)", (nninit_shape){1, {3}}, NNINIT_LAYOUT_TORCH, "2-D");
    refused("sparse_(sparsity=0.5)", (nninit_shape){3, {2, 3, 2}}, NNINIT_LAYOUT_TORCH, "2-D");
    for (int use_std = 0; use_std < 2; use_std++) {
        const int64_t rows = 34, cols = 31;
        double sparsity = 0.137, std = use_std ? 0.083 : 0.01;
        char spec[96];
        snprintf(spec, sizeof spec, use_std ? "sparse_(sparsity=%.17g, std=%.17g)" : "sparse_(sparsity=%.17g)",
                 sparsity, std);
        double *v = draw(spec, (nninit_shape){2, {rows, cols}}, NNINIT_LAYOUT_TORCH, 800 + (uint64_t)use_std);
        for (int64_t c = 0; c < cols; c++) {
            int64_t z = 0;
            for (int64_t r = 0; r < rows; r++)
                z += v[r * cols + c] == 0;
            assert_true(z >= (int64_t)ceil(sparsity * (double)rows));
        }
        double *nzv = malloc((size_t)(rows * cols) * sizeof *nzv);
        int64_t m = 0;
        for (int64_t i = 0; i < rows * cols; i++)
            if (v[i] != 0)
                nzv[m++] = v[i];
        expect_dist(spec, nzv, m, (target){NORMAL, 0, std, 0, 0});
        free(nzv);
        free(v);
    }
}

/* test_orthogonal: sizes [3, 4], [4, 3], [20, 2, 3, 4], [2, 3, 4, 5], gain in [0.1, 2] or 1; the
 * flattened (rows, numel / rows) matrix has orthonormal rows or columns times gain (atol 1e-6 in
 * float32 there; float64 here, same tolerance) */
static void test_torch_orthogonal(void **state)
{
    (void)state;
    const int64_t s0[] = {3, 4}, s1[] = {4, 3}, s2[] = {20, 2, 3, 4}, s3[] = {2, 3, 4, 5};
    const nninit_shape shapes[] = {shape_of(2, s0), shape_of(2, s1), shape_of(4, s2), shape_of(4, s3)};
    for (int use_gain = 0; use_gain < 2; use_gain++)
        for (int k = 0; k < 4; k++) {
            double gain = use_gain ? 0.61 : 1.0;
            char spec[64];
            snprintf(spec, sizeof spec, "orthogonal_(gain=%.17g)", gain);
            double *v = draw(spec, shapes[k], NNINIT_LAYOUT_TORCH, 900 + (uint64_t)k);
            int64_t rows = shapes[k].dim[0], cols = numel(shapes[k]) / rows;
            int by_cols = rows > cols;
            int64_t m = by_cols ? cols : rows, len = by_cols ? rows : cols;
            for (int64_t i = 0; i < m; i++)
                for (int64_t j = 0; j < m; j++) {
                    double dot = 0;
                    for (int64_t t = 0; t < len; t++)
                        dot += by_cols ? v[t * cols + i] * v[t * cols + j] : v[i * cols + t] * v[j * cols + t];
                    double want = i == j ? gain * gain : 0.0;
                    if (fabs(dot - want) > 1e-6)
                        fail_msg("%s %lld x %lld: Gram[%lld][%lld] = %.9g", spec, (long long)rows, (long long)cols,
                                 (long long)i, (long long)j, dot);
                }
            free(v);
        }
}

/* ===== Keras 3 keras/src/initializers/{random,constant}_initializers_test.py ===== */

static double std_of(const double *v, int64_t n)
{
    double m = 0, ss = 0;
    for (int64_t i = 0; i < n; i++)
        m += v[i];
    m /= (double)n;
    for (int64_t i = 0; i < n; i++)
        ss += (v[i] - m) * (v[i] - m);
    return sqrt(ss / (double)n); /* np.std: population */
}

/* RandomInitializersTest.test_random_normal (std within 0.1 of 1 on (25, 20); the same seed gives the
 * same values), test_random_uniform (values in [minval, maxval)) */
static void test_keras_random_normal_uniform(void **state)
{
    (void)state;
    nninit_shape s = {2, {25, 20}};
    double *v = draw("RandomNormal(mean=0.0, stddev=1.0, seed=1337)", s, NNINIT_LAYOUT_KERAS, 1337);
    double *w = draw("RandomNormal(mean=0.0, stddev=1.0, seed=1337)", s, NNINIT_LAYOUT_KERAS, 1337);
    assert_true(fabs(std_of(v, 500) - 1.0) <= 0.1);
    assert_memory_equal(v, w, 500 * sizeof *v);
    assert_true(fabs(std_of(v, 500) - 2.0) > 0.1); /* the check would catch stddev 2 */
    free(v);
    free(w);
    nninit_shape u = {2, {5, 5}};
    v = draw("RandomUniform(minval=-1.0, maxval=1.0, seed=1234)", u, NNINIT_LAYOUT_KERAS, 1234);
    for (int i = 0; i < 25; i++)
        assert_true(v[i] >= -1.0 && v[i] < 1.0);
    free(v);
}

/* test_variance_scaling: scale 2, fan_in -> std sqrt(2/25), fan_out -> sqrt(2/20) (truncated normal,
 * whose stddev Keras corrects to the asked one), atol 0.1 on (25, 20) */
static void test_keras_variance_scaling(void **state)
{
    (void)state;
    nninit_shape s = {2, {25, 20}};
    double *v = draw("VarianceScaling(scale=2.0, mode='fan_in', seed=1234)", s, NNINIT_LAYOUT_KERAS, 1234);
    assert_true(fabs(std_of(v, 500) - sqrt(2.0 / 25)) <= 0.1);
    free(v);
    v = draw("VarianceScaling(scale=2.0, mode='fan_out', seed=1234)", s, NNINIT_LAYOUT_KERAS, 1234);
    assert_true(fabs(std_of(v, 500) - sqrt(2.0 / 20)) <= 0.1);
    free(v);
    /* their tolerance is loose for these stds: ours, 6 standard errors of the std (6 * std/sqrt(2n)),
     * also tells fan_in from fan_out */
    v = draw("VarianceScaling(scale=2.0, mode='fan_in')", (nninit_shape){2, {400, 100}}, NNINIT_LAYOUT_KERAS, 9);
    double sd = std_of(v, 40000), want = sqrt(2.0 / 400), tol = 6 * want / sqrt(2.0 * 40000);
    assert_true(fabs(sd - want) <= tol && fabs(sd - sqrt(2.0 / 100)) > tol);
    free(v);
}

/* test_orthogonal: (5, 5), gain 2: every column has norm gain, columns orthogonal (assertAlmostEqual,
 * 7 places) */
static void test_keras_orthogonal(void **state)
{
    (void)state;
    double *v = draw("Orthogonal(gain=2.0, seed=1234)", (nninit_shape){2, {5, 5}}, NNINIT_LAYOUT_KERAS, 1234);
    for (int i = 0; i < 5; i++)
        for (int j = i; j < 5; j++) {
            double dot = 0;
            for (int t = 0; t < 5; t++)
                dot += v[t * 5 + i] * v[t * 5 + j];
            if (i == j)
                assert_true(fabs(sqrt(dot) - 2.0) < 0.5e-7);
            else
                assert_true(fabs(dot) < 0.5e-7);
        }
    free(v);
}

/* test_variance_scaling_invalid_scale, _invalid_mode, _invalid_distribution */
static void test_keras_variance_scaling_errors(void **state)
{
    (void)state;
    nninit_shape s = {2, {3, 3}};
    refused("VarianceScaling(scale=-1.0)", s, NNINIT_LAYOUT_KERAS, "scale");
    refused("VarianceScaling(mode='invalid_mode')", s, NNINIT_LAYOUT_KERAS, "mode");
    refused("VarianceScaling(distribution='invalid_dist')", s, NNINIT_LAYOUT_KERAS, "distribution");
}

/* test_compute_fans_with_axes: (512, 8, 64) with input_axes [0], output_axes [1, 2] -> (512, 512);
 * [0, 1] / [2] -> (4096, 64); test_variance_scaling_with_axes: (32, 4, 16), scale 1, fan_in,
 * input_axes [0] -> std sqrt(1/32); [0, 1] -> sqrt(1/128) (atol 0.1 there; 6 standard errors here) */
static void test_keras_fans_with_axes(void **state)
{
    (void)state;
    nninit_init in;
    nninit_prim p;
    nninit_err err;
    nninit_shape s = {3, {512, 8, 64}};
    assert_ok(nninit_init_parse("VarianceScaling(input_axes=[0], output_axes=[1, 2])", &in, &err), &err);
    assert_ok(nninit_resolve(&in, &s, NNINIT_LAYOUT_KERAS, &p, &err), &err);
    assert_int_equal(p.fan_in, 512);
    assert_int_equal(p.fan_out, 512);
    assert_ok(nninit_init_parse("VarianceScaling(input_axes=[0, 1], output_axes=[2])", &in, &err), &err);
    assert_ok(nninit_resolve(&in, &s, NNINIT_LAYOUT_KERAS, &p, &err), &err);
    assert_int_equal(p.fan_in, 4096);
    assert_int_equal(p.fan_out, 64);
    nninit_shape t = {3, {32, 4, 16}};
    const char *specs[] = {"VarianceScaling(scale=1.0, mode='fan_in', input_axes=[0], output_axes=[1, 2])",
                           "VarianceScaling(scale=1.0, mode='fan_in', input_axes=[0, 1], output_axes=[2])"};
    const double fan[] = {32, 128};
    for (int k = 0; k < 2; k++) {
        double *v = draw(specs[k], t, NNINIT_LAYOUT_KERAS, 31 + (uint64_t)k);
        double want = sqrt(1.0 / fan[k]), sd = std_of(v, 2048), tol = 6 * want / sqrt(2.0 * 2048);
        assert_true(fabs(sd - want) <= 0.1);
        assert_true(fabs(sd - want) <= tol);
        free(v);
    }
}

/* ConstantInitializersTest.test_zeros_initializer, test_ones_initializer, test_constant_initializer
 * (value 3.0 and a value given as a scalar array), test_identity_initializer (scale 2 on (3, 3); a
 * non-square (5, 3) identity as Keras' eye) */
static void test_keras_constant_initializers(void **state)
{
    (void)state;
    nninit_shape s = {2, {3, 3}};
    const char *specs[] = {"Zeros()", "Ones()", "Constant(value=3.0)", "Constant(value=[3.0])"};
    const double want[] = {0, 1, 3, 3};
    for (int j = 0; j < 4; j++) {
        nninit_status st;
        nninit_err err;
        double *v = draw_opt(specs[j], s, NNINIT_LAYOUT_KERAS, 1, &st, &err);
        if (!v && j == 3) { /* nninit takes scalars only: an array value is refused (docs/catalogue.md) */
            assert_non_null(strstr(err.msg, "'value' must be a number"));
            continue;
        }
        if (!v)
            fail_msg("%s: %s", specs[j], err.msg);
        for (int i = 0; i < 9; i++)
            assert_true(v[i] == want[j]);
        free(v);
    }
    double *v = draw("Identity(gain=2.0)", s, NNINIT_LAYOUT_KERAS, 1);
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            assert_true(v[i * 3 + j] == (i == j ? 2.0 : 0.0));
    free(v);
    v = draw("Identity()", (nninit_shape){2, {5, 3}}, NNINIT_LAYOUT_KERAS, 1);
    for (int i = 0; i < 5; i++)
        for (int j = 0; j < 3; j++)
            assert_true(v[i * 3 + j] == (i == j ? 1.0 : 0.0));
    free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_torch_calculate_gain),      cmocka_unit_test(test_torch_calculate_gain_errors),
        cmocka_unit_test(test_torch_uniform_normal),      cmocka_unit_test(test_torch_trunc_normal),
        cmocka_unit_test(test_torch_constant_ones_zeros), cmocka_unit_test(test_torch_eye),
        cmocka_unit_test(test_torch_dirac),               cmocka_unit_test(test_torch_fan_errors),
        cmocka_unit_test(test_torch_zero_element),        cmocka_unit_test(test_torch_xavier),
        cmocka_unit_test(test_torch_kaiming),             cmocka_unit_test(test_torch_sparse),
        cmocka_unit_test(test_torch_orthogonal),          cmocka_unit_test(test_keras_random_normal_uniform),
        cmocka_unit_test(test_keras_variance_scaling),    cmocka_unit_test(test_keras_orthogonal),
        cmocka_unit_test(test_keras_variance_scaling_errors), cmocka_unit_test(test_keras_fans_with_axes),
        cmocka_unit_test(test_keras_constant_initializers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
