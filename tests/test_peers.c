/*
 * The frameworks' own initializer tests, ported: PyTorch's
 * test/nn/test_init.py (class TestNNInit), Keras 3's
 * keras/src/initializers/random_initializers_test.py and
 * constant_initializers_test.py, JAX's tests/nn_test.py (NNInitializersTest)
 * and TensorFlow.js' tfjs-layers/src/initializers_test.ts. Each test names
 * the one it comes from.
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

/* fills in dtype (F32 or F64) and returns the values as doubles */
static double *draw_opt(const char *spec, nninit_shape sh, nninit_layout layout, nninit_dtype dtype, uint64_t seed,
                        nninit_status *st, nninit_err *err)
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
    fo.dtype = dtype;
    *st = nninit_fill(&in, &sh, &fo, rng, v, err);
    nninit_rng_free(rng);
    if (*st) {
        free(v);
        return NULL;
    }
    if (dtype == NNINIT_F32) /* widen in place, from the end */
        for (int64_t i = n - 1; i >= 0; i--)
            v[i] = (double)((float *)v)[i];
    return v;
}

static double *draw(const char *spec, nninit_shape sh, nninit_layout layout, uint64_t seed)
{
    nninit_status st;
    nninit_err err;
    double *v = draw_opt(spec, sh, layout, NNINIT_F64, seed, &st, &err);
    if (!v)
        fail_msg("%s: %s", spec, err.msg);
    return v;
}

static void refused(const char *spec, nninit_shape sh, nninit_layout layout, const char *needle)
{
    nninit_status st;
    nninit_err err;
    double *v = draw_opt(spec, sh, layout, NNINIT_F64, 1, &st, &err);
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
        double *v = draw_opt(specs[j], s, NNINIT_LAYOUT_KERAS, NNINIT_F64, 1, &st, &err);
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

/* ============================ JAX tests/nn_test.py ============================ */

/* Keras' fans, which are JAX's defaults (in_axis=-2, out_axis=-1, the rest a receptive field);
 * 1-D: Keras 3 takes fan_in = fan_out = shape[0] */
static void keras_fans(nninit_shape s, double *fan_in, double *fan_out)
{
    if (s.ndim == 1) {
        *fan_in = *fan_out = (double)s.dim[0];
        return;
    }
    double rf = 1;
    for (int d = 0; d < s.ndim - 2; d++)
        rf *= (double)s.dim[d];
    *fan_in = (double)s.dim[s.ndim - 2] * rf;
    *fan_out = (double)s.dim[s.ndim - 1] * rf;
}

/* The largest |G - gain^2 I| for G the Gram matrix of a rows x cols matrix M (M[r][c] = v[r * sr + c * sc])
 * along its shorter side: rows orthonormal when rows <= cols, columns otherwise (times gain). */
static double gram_error(const double *v, int64_t sr, int64_t sc, int64_t rows, int64_t cols, double gain)
{
    int by_cols = rows > cols;
    int64_t m = by_cols ? cols : rows, len = by_cols ? rows : cols;
    double worst = 0;
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < m; j++) {
            double dot = 0;
            for (int64_t t = 0; t < len; t++)
                dot += by_cols ? v[t * sr + i * sc] * v[t * sr + j * sc] : v[i * sr + t * sc] * v[j * sr + t * sc];
            worst = fmax(worst, fabs(dot - (i == j ? gain * gain : 0.0)));
        }
    return worst;
}

static void resolved_fans(const char *spec, nninit_shape s, int64_t fan_in, int64_t fan_out)
{
    nninit_init in;
    nninit_prim p;
    nninit_err err;
    assert_ok(nninit_init_parse(spec, &in, &err), &err);
    assert_ok(nninit_resolve(&in, &s, NNINIT_LAYOUT_KERAS, &p, &err), &err);
    if (p.fan_in != fan_in || p.fan_out != fan_out)
        fail_msg("%s: fans (%lld, %lld), expected (%lld, %lld)", spec, (long long)p.fan_in, (long long)p.fan_out,
                 (long long)fan_in, (long long)fan_out);
}

#define TN_CORR 0.87962566103423978 /* std of N(0, 1) truncated to [-2, 2] (Keras, JAX) */

typedef enum { J_UNIFORM01, J_NORMAL, J_TRUNC, J_VS_TRUNC, J_VS_UNIFORM, J_ORTHO, J_DELTA } jax_kind;
typedef struct jax_rec {
    const char *jax, *spec; /* JAX's initializer and the nninit SPEC that is the same */
    int min_dims, max_dims;
    jax_kind kind;
    double scale; /* variance scaling: scale, and the fan: 0 in, 1 out, 2 avg */
    int mode;
} jax_rec;

/* NNInitializersTest.testInitializer and testInitializerProvider: every INITIALIZER_RECS entry on
 * every ALL_SHAPES shape of its ranks, in float32 and float64 (jtu.dtypes.floating). JAX checks shape
 * and dtype; in C the caller owns both, so the port checks what the values must satisfy: within JAX's
 * bounds for the Keras fans (uniform: [0, scale) for jax uniform(1e-2), sqrt(3 scale/n) for the
 * variance-scaling uniforms; truncated: 2 std, std corrected by 0.8796 as JAX and Keras do; normal(1e-2):
 * within 6 std, P(|z| > 6) = 2e-9 a value), orthogonal rows/columns, and delta_orthogonal zero outside
 * the kernel centre, whose (in, out) slice has orthonormal rows (JAX needs in <= out there).
 * variance_scaling(1, "fan_geo_avg", "normal") has no nninit counterpart: the mode is refused. */
static void test_jax_initializers(void **state)
{
    (void)state;
    static const int64_t all_shapes[7][4] = {{2}, {2, 2}, {2, 3}, {3, 2}, {2, 3, 4}, {4, 3, 2}, {2, 3, 4, 5}};
    static const int all_nd[7] = {1, 2, 2, 2, 3, 3, 4};
    static const jax_rec recs[] = {
        {"uniform", "RandomUniform(minval=0.0, maxval=0.01)", 1, 4, J_UNIFORM01, 0.01, 0},
        {"normal", "RandomNormal(mean=0.0, stddev=0.01)", 1, 4, J_NORMAL, 0.01, 0},
        {"he_normal", "he_normal", 2, 4, J_VS_TRUNC, 2, 0},
        {"he_uniform", "he_uniform", 2, 4, J_VS_UNIFORM, 2, 0},
        {"glorot_normal", "glorot_normal", 2, 4, J_VS_TRUNC, 1, 2},
        {"glorot_uniform", "glorot_uniform", 2, 4, J_VS_UNIFORM, 1, 2},
        {"lecun_normal", "lecun_normal", 2, 4, J_VS_TRUNC, 1, 0},
        {"lecun_uniform", "lecun_uniform", 2, 4, J_VS_UNIFORM, 1, 0},
        {"orthogonal", "orthogonal", 2, 2, J_ORTHO, 1, 0}, /* column_axis=-1: Keras' flattening */
        {"truncated_normal", "TruncatedNormal(mean=0.0, stddev=0.01)", 1, 4, J_TRUNC, 0.01, 0},
        {"delta_orthogonal", "delta_orthogonal", 4, 4, J_DELTA, 1, 0},
    };
    int checked = 0;
    for (size_t r = 0; r < sizeof recs / sizeof *recs; r++)
        for (int k = 0; k < 7; k++) {
            if (all_nd[k] < recs[r].min_dims || all_nd[k] > recs[r].max_dims)
                continue;
            nninit_shape s = shape_of(all_nd[k], all_shapes[k]);
            int64_t n = numel(s);
            for (int f32 = 0; f32 < 2; f32++) {
                nninit_status st;
                nninit_err err;
                double *v = draw_opt(recs[r].spec, s, NNINIT_LAYOUT_KERAS, f32 ? NNINIT_F32 : NNINIT_F64,
                                     1000 + (uint64_t)(10 * r + (size_t)k), &st, &err);
                if (!v)
                    fail_msg("jax %s (%s): %s", recs[r].jax, recs[r].spec, err.msg);
                double fi, fo, lo = -INFINITY, hi = INFINITY, sc = recs[r].scale;
                keras_fans(s, &fi, &fo);
                double fan = recs[r].mode == 0 ? fi : recs[r].mode == 1 ? fo : 0.5 * (fi + fo);
                /* float32 rounding may land a value on a bound */
                double slack = f32 ? 1e-7 : 0;
                switch (recs[r].kind) {
                case J_UNIFORM01: lo = 0, hi = sc; break;
                case J_NORMAL: lo = -6 * sc, hi = 6 * sc; break;
                case J_TRUNC: lo = -2 * sc, hi = 2 * sc; break;
                case J_VS_TRUNC: hi = 2 * sqrt(sc / fan) / TN_CORR, lo = -hi; break;
                case J_VS_UNIFORM: hi = sqrt(3 * sc / fan), lo = -hi; break;
                case J_ORTHO: {
                    double e = gram_error(v, s.dim[1], 1, s.dim[0], s.dim[1], 1.0);
                    if (e > (f32 ? 1e-6 : 1e-12))
                        fail_msg("jax orthogonal on %lld x %lld: Gram error %.3g", (long long)s.dim[0],
                                 (long long)s.dim[1], e);
                    break;
                }
                case J_DELTA: { /* (k1, k2, in, out); centre ((k1 - 1) // 2, (k2 - 1) // 2) */
                    int64_t ci = s.dim[2], co = s.dim[3];
                    int64_t centre = (((s.dim[0] - 1) / 2) * s.dim[1] + (s.dim[1] - 1) / 2) * ci * co;
                    for (int64_t i = 0; i < n; i++)
                        if ((i < centre || i >= centre + ci * co) && v[i] != 0)
                            fail_msg("jax delta_orthogonal: value %.17g at %lld, outside the centre", v[i],
                                     (long long)i);
                    double e = gram_error(v + centre, co, 1, ci, co, 1.0);
                    if (e > (f32 ? 1e-6 : 1e-12))
                        fail_msg("jax delta_orthogonal: centre Gram error %.3g", e);
                    break;
                }
                }
                for (int64_t i = 0; i < n; i++)
                    if (!isfinite(v[i]) || v[i] < lo - slack || v[i] > hi + slack)
                        fail_msg("jax %s (%s) on a %d-D shape: value %.17g outside [%.17g, %.17g]", recs[r].jax,
                                 recs[r].spec, s.ndim, v[i], lo, hi);
                free(v);
                checked++;
            }
        }
    assert_int_equal(checked, 2 * (3 * 7 + 6 * 6 + 3 + 1)); /* the record x shape x dtype count of nn_test.py */
    refused("VarianceScaling(scale=1.0, mode='fan_geo_avg', distribution='untruncated_normal')",
            (nninit_shape){2, {2, 3}}, NNINIT_LAYOUT_KERAS, "invalid mode 'fan_geo_avg'");
}

/* testVarianceScalingMultiAxis: (2, 3, 4, 5), fan_avg, truncated_normal, in_axis=(0, 1),
 * out_axis=(-2, -1): JAX's axes are nninit's input_axes/output_axes. JAX checks the shape; the port
 * checks the fans (6, 20), the bound, and the std on (20, 30, 8, 10) (fans 600 and 80): sqrt(1/340)
 * within 6 standard errors of the std (6 std / sqrt(2n), n = 48000), which the default fans (4800,
 * 6000) would miss by 40 of them. */
static void test_jax_variance_scaling_multi_axis(void **state)
{
    (void)state;
    const char *spec = "VarianceScaling(scale=1.0, mode='fan_avg', distribution='truncated_normal', "
                       "input_axes=[0, 1], output_axes=[-2, -1])";
    nninit_shape s = {4, {2, 3, 4, 5}};
    resolved_fans(spec, s, 6, 20);
    double *v = draw(spec, s, NNINIT_LAYOUT_KERAS, 41), bound = 2 * sqrt(1.0 / 13) / TN_CORR;
    for (int i = 0; i < 120; i++)
        assert_true(fabs(v[i]) <= bound);
    free(v);
    nninit_shape big = {4, {20, 30, 8, 10}};
    resolved_fans(spec, big, 600, 80);
    v = draw(spec, big, NNINIT_LAYOUT_KERAS, 42);
    double sd = std_of(v, 48000), want = sqrt(1.0 / 340), tol = 6 * want / sqrt(2.0 * 48000);
    if (fabs(sd - want) > tol)
        fail_msg("std %.6g, expected %.6g +- %.3g", sd, want, tol);
    assert_true(fabs(sd - sqrt(1.0 / 5400)) > tol);
    free(v);
}

/* testVarianceScalingBatchAxis: (2, 3, 4, 5), in_axis=0, out_axis=(2, 3), batch_axis=1: JAX's fans are
 * 2 and 20 (the batch axis is in neither, and no receptive field is left). nninit has no batch_axis
 * (Keras 3 has none): it is refused, and input_axes/output_axes give the same fans, because nninit
 * (as Keras) ignores every axis named in neither list, that is treats them all as batch axes. */
static void test_jax_variance_scaling_batch_axis(void **state)
{
    (void)state;
    nninit_shape s = {4, {2, 3, 4, 5}};
    refused("VarianceScaling(mode='fan_avg', input_axes=[0], output_axes=[2, 3], batch_axis=1)", s,
            NNINIT_LAYOUT_KERAS, "unknown argument 'batch_axis'");
    resolved_fans("VarianceScaling(mode='fan_avg', input_axes=[0], output_axes=[2, 3])", s, 2, 20);
}

/* testVarianceScalingError: JAX refuses a 1-D shape (5,) ("Must be at least 2D"). nninit follows
 * Keras 3, whose compute_fans gives a 1-D shape fan_in = fan_out = shape[0] (docs/catalogue.md). */
static void test_jax_variance_scaling_error(void **state)
{
    (void)state;
    nninit_shape s = {1, {5}};
    resolved_fans("VarianceScaling(scale=1.0, mode='fan_avg', distribution='truncated_normal')", s, 5, 5);
    double *v = draw("VarianceScaling(scale=1.0, mode='fan_avg', distribution='truncated_normal')", s,
                     NNINIT_LAYOUT_KERAS, 43);
    for (int i = 0; i < 5; i++)
        assert_true(fabs(v[i]) <= 2 * sqrt(1.0 / 5) / TN_CORR);
    free(v);
}

/* ================= TF.js tfjs-layers/src/initializers_test.ts ================= */

/* 'Zeros initializer', 'Ones initializer' (1D, 1D upper case, 2D) and 'Constant initializer' (1D and 2D
 * from a config dict, value 5). TF.js takes camelCase JS names too ('zeros', 'randomUniform',
 * 'heNormal'); nninit takes Keras 3's names, which for these are the same, and refuses camelCase
 * ones with a suggestion ('heNormal' -> 'HeNormal'). */
static void test_tfjs_zeros_ones_constant(void **state)
{
    (void)state;
    const nninit_shape shapes[] = {{1, {3}}, {2, {2, 2}}};
    const char *specs[] = {"zeros", "Zeros", "ones", "Ones", "Constant(value=5)"};
    const double want[] = {0, 0, 1, 1, 5};
    for (int k = 0; k < 2; k++)
        for (int j = 0; j < 5; j++) {
            double *v = draw(specs[j], shapes[k], NNINIT_LAYOUT_KERAS, 1);
            for (int64_t i = 0; i < numel(shapes[k]); i++)
                assert_true(v[i] == want[j]);
            free(v);
        }
    refused("heNormal", (nninit_shape){2, {7, 2}}, NNINIT_LAYOUT_KERAS, "did you mean 'HeNormal'");
}

/* 'Identity initializer': gain 5 on [4] is refused (TF.js: "2D square"); on [2, 2] it is 5 I. TF.js
 * also refuses non-square shapes; Keras 3 and nninit give eye (test_keras_constant_initializers). */
static void test_tfjs_identity(void **state)
{
    (void)state;
    refused("Identity(gain=5)", (nninit_shape){1, {4}}, NNINIT_LAYOUT_KERAS, "2-D");
    double *v = draw("Identity(gain=5)", (nninit_shape){2, {2, 2}}, NNINIT_LAYOUT_KERAS, 1);
    assert_true(v[0] == 5 && v[1] == 0 && v[2] == 0 && v[3] == 5);
    free(v);
}

static void in_range(const char *what, const double *v, int64_t n, double lo, double hi)
{
    for (int64_t i = 0; i < n; i++)
        if (!(v[i] >= lo && v[i] <= hi))
            fail_msg("%s: value %.17g outside [%.17g, %.17g]", what, v[i], lo, hi);
}

/* 'RandomUniform initializer' (default: [-0.05, 0.05]; minval 17, maxval 47), 'RandomNormal
 * initializer' (TF.js asserts nothing on the values, a TODO there; here mean 1, stddev 0.001 lies within
 * 6 stddev: P(|z| > 6) = 2e-9 a value), 'TruncatedNormal initializer' (default within +-0.1; mean 1,
 * stddev 0.5 within [0, 2]), all on [7, 2] */
static void test_tfjs_random(void **state)
{
    (void)state;
    nninit_shape s = {2, {7, 2}};
    const struct {
        const char *spec;
        double lo, hi;
    } cases[] = {
        {"RandomUniform()", -0.05, 0.05},
        {"RandomUniform(minval=17, maxval=47)", 17, 47},
        {"RandomNormal(mean=1.0, stddev=0.001)", 1 - 0.006, 1 + 0.006},
        {"TruncatedNormal()", -0.1, 0.1},
        {"TruncatedNormal(mean=1.0, stddev=0.5)", 0, 2},
    };
    for (int j = 0; j < 5; j++) {
        double *v = draw(cases[j].spec, s, NNINIT_LAYOUT_KERAS, 50 + (uint64_t)j);
        in_range(cases[j].spec, v, 14, cases[j].lo, cases[j].hi);
        free(v);
    }
}

/* 'HeNormal initializer', 'HeUniform initializer', 'LecunNormal initializer', 'LeCunUniform
 * initializer' on [7, 2] (fan_in 7). The uniforms: within sqrt(6/7) and sqrt(3/7) as in TF.js. The
 * normals differ on purpose: TF.js truncates N(0, sqrt(scale/n)) to 2 of its stds, as Keras 2.0 did;
 * Keras >= 2.3 and nninit divide the std by 0.8796 so the variance is scale/n, so nninit's values reach
 * 2 sqrt(scale/n) / 0.8796. On 100000 values (P(|z| in (2 * 0.8796, 2] of the truncated law) = 3.4%)
 * some must lie beyond TF.js' bound, and none beyond Keras'. */
static void test_tfjs_he_lecun(void **state)
{
    (void)state;
    nninit_shape s = {2, {7, 2}};
    const struct {
        const char *spec;
        double bound;
    } uni[] = {{"HeUniform", sqrt(6.0 / 7)}, {"LecunUniform", sqrt(3.0 / 7)}};
    for (int j = 0; j < 2; j++) {
        double *v = draw(uni[j].spec, s, NNINIT_LAYOUT_KERAS, 60 + (uint64_t)j);
        in_range(uni[j].spec, v, 14, -uni[j].bound, uni[j].bound);
        free(v);
    }
    const struct {
        const char *spec;
        double scale;
    } nor[] = {{"HeNormal", 2}, {"LecunNormal", 1}};
    nninit_shape big = {2, {7, 100000 / 7 + 1}};
    int64_t n = numel(big);
    for (int j = 0; j < 2; j++) {
        double tfjs = 2 * sqrt(nor[j].scale / 7), keras = tfjs / TN_CORR;
        double *v = draw(nor[j].spec, big, NNINIT_LAYOUT_KERAS, 62 + (uint64_t)j);
        in_range(nor[j].spec, v, n, -keras, keras);
        int64_t beyond = 0;
        for (int64_t i = 0; i < n; i++)
            beyond += fabs(v[i]) > tfjs;
        if (beyond < n / 100)
            fail_msg("%s: %lld of %lld values beyond TF.js' 2 std, expected about 3.4%%", nor[j].spec,
                     (long long)beyond, (long long)n);
        free(v);
    }
}

/* 'Glorot uniform initializer': 1D [3], [30] and 2D [2, 2], [20, 20], values strictly inside a limit.
 * TF.js computes 1-D fans as sqrt(shape[0]) (the Keras 1 rule; its test's limit is sqrt(3 /
 * sqrt(n))) and its 2-D limit in the test is sqrt(3 / sqrt(n)) as well, looser than its own code's
 * sqrt(3 / n). nninit follows Keras 3: fan_in = fan_out = n for 1-D, so the limit is sqrt(3 / n),
 * inside TF.js' test limit. The port asserts sqrt(3 / n), and that the largest |value| of 400 comes within
 * 5% of it (P(all below) = 0.95^400 = 1e-9), so a smaller scale would fail. */
static void test_tfjs_glorot_uniform(void **state)
{
    (void)state;
    const nninit_shape shapes[] = {{1, {3}}, {1, {30}}, {2, {2, 2}}, {2, {20, 20}}};
    const double fan[] = {3, 30, 2, 20};
    for (int k = 0; k < 4; k++) {
        double limit = sqrt(3.0 / fan[k]), tfjs_limit = sqrt(3.0 / sqrt(fan[k])), mx = 0;
        assert_true(limit <= tfjs_limit);
        double *v = draw("GlorotUniform", shapes[k], NNINIT_LAYOUT_KERAS, 70 + (uint64_t)k);
        for (int64_t i = 0; i < numel(shapes[k]); i++) {
            assert_true(v[i] > -limit && v[i] < limit);
            mx = fmax(mx, fabs(v[i]));
        }
        if (numel(shapes[k]) == 400 && mx < 0.95 * limit)
            fail_msg("GlorotUniform [20, 20]: largest |value| %.6g, below 0.95 x %.6g", mx, limit);
        free(v);
    }
}

static double variance_median4(const char *spec, nninit_shape s, uint64_t seed)
{
    double var[4];
    int64_t n = numel(s);
    for (int t = 0; t < 4; t++) { /* NUM_TRIALS = 4 */
        double *v = draw(spec, s, NNINIT_LAYOUT_KERAS, seed + (uint64_t)t), sd = std_of(v, n);
        var[t] = sd * sd;
        free(v);
    }
    qsort(var, 4, sizeof *var, cmp_d);
    return 0.5 * (var[1] + var[2]); /* math_utils.median of 4 */
}

/* 'Glorot normal initializer': the median variance of 4 draws on [1200] is below that on [30], and on
 * [30, 50] below that on [5, 6]. The expected variances (1/30 vs 1/1200, 1/5.5 vs 1/40) are 40 and 4.5
 * apart; a fan-free formula would make them equal and fail half the time or more. */
static void test_tfjs_glorot_normal(void **state)
{
    (void)state;
    assert_true(variance_median4("GlorotNormal", (nninit_shape){1, {1200}}, 80) <
                variance_median4("GlorotNormal", (nninit_shape){1, {30}}, 90));
    assert_true(variance_median4("GlorotNormal", (nninit_shape){2, {30, 50}}, 100) <
                variance_median4("GlorotNormal", (nninit_shape){2, {5, 6}}, 110));
}

/* 'VarianceScaling initializer': default arguments (scale 1, mode fanIn, distribution 'normal'; Keras 3
 * and nninit print 'truncated_normal', which is what TF.js' 'normal' draws) and construction with each
 * distribution; 'checkFanMode' / 'checkDistribution' invalid values: the message names the bad value
 * and the valid ones; 'initializers.get' by string: glorotNormal is VarianceScaling(1, fan_avg, normal);
 * 'Invalid intializer identifier'. TF.js' 'truncatedNormal' distribution is a JS spelling: Keras 3
 * lower-cases the name and refuses it, and so does nninit. */
static void test_tfjs_variance_scaling_config(void **state)
{
    (void)state;
    nninit_init in;
    nninit_err err;
    char *json;
    assert_ok(nninit_init_parse("VarianceScaling", &in, &err), &err);
    assert_ok(nninit_init_to_json(&in, &json, &err), &err);
    assert_non_null(strstr(json, "\"scale\": 1.0"));
    assert_non_null(strstr(json, "\"mode\": \"fan_in\""));
    assert_non_null(strstr(json, "\"distribution\": \"truncated_normal\""));
    assert_non_null(strstr(json, "\"seed\": null"));
    nninit_free(json);
    nninit_shape s = {2, {7, 2}};
    const char *ok[] = {"VarianceScaling(distribution='uniform')", "VarianceScaling(distribution='normal')",
                        "VarianceScaling(distribution='truncated_normal')"};
    for (int j = 0; j < 3; j++)
        free(draw(ok[j], s, NNINIT_LAYOUT_KERAS, 1));
    refused("VarianceScaling(distribution='truncatedNormal')", s, NNINIT_LAYOUT_KERAS, "'truncatedNormal'");
    refused("VarianceScaling(mode='foo')", s, NNINIT_LAYOUT_KERAS,
            "invalid mode 'foo'; use one of 'fan_in', 'fan_out', 'fan_avg'");
    refused("VarianceScaling(distribution='foo')", s, NNINIT_LAYOUT_KERAS,
            "invalid distribution 'foo'; use one of 'truncated_normal', 'untruncated_normal', 'uniform'");
    refused("invalid_initializer_id", s, NNINIT_LAYOUT_KERAS, "unknown initializer 'invalid_initializer_id'");
    double *gn = draw("GlorotNormal", s, NNINIT_LAYOUT_KERAS, 5),
           *vs = draw("VarianceScaling(scale=1.0, mode='fan_avg', distribution='normal')", s, NNINIT_LAYOUT_KERAS, 5);
    assert_memory_equal(vs, gn, 14 * sizeof *vs);
    free(gn);
    free(vs);
}

/* 'Orthogonal Initializer': 2x2 (W^T W = I), 1x1 with gain 3 (W^T W = 9), 4x2 (columns orthonormal),
 * 2x4 (W W^T = I), 64x64; TF.js' expectTensorsClose tolerance is for float32, here float64 to 1e-12 */
static void test_tfjs_orthogonal(void **state)
{
    (void)state;
    const int64_t dims[5][2] = {{2, 2}, {1, 1}, {4, 2}, {2, 4}, {64, 64}};
    const double gain[5] = {1, 3, 1, 1, 1};
    for (int k = 0; k < 5; k++) {
        char spec[64];
        snprintf(spec, sizeof spec, "Orthogonal(gain=%g)", gain[k]);
        nninit_shape s = shape_of(2, dims[k]);
        double *v = draw(spec, s, NNINIT_LAYOUT_KERAS, 120 + (uint64_t)k);
        double e = gram_error(v, dims[k][1], 1, dims[k][0], dims[k][1], gain[k]);
        if (e > 1e-12 * gain[k] * gain[k] * (double)dims[k][0])
            fail_msg("%s on %lld x %lld: Gram error %.3g", spec, (long long)dims[k][0], (long long)dims[k][1], e);
        free(v);
    }
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
        cmocka_unit_test(test_jax_initializers),          cmocka_unit_test(test_jax_variance_scaling_multi_axis),
        cmocka_unit_test(test_jax_variance_scaling_batch_axis), cmocka_unit_test(test_jax_variance_scaling_error),
        cmocka_unit_test(test_tfjs_zeros_ones_constant),  cmocka_unit_test(test_tfjs_identity),
        cmocka_unit_test(test_tfjs_random),               cmocka_unit_test(test_tfjs_he_lecun),
        cmocka_unit_test(test_tfjs_glorot_uniform),       cmocka_unit_test(test_tfjs_glorot_normal),
        cmocka_unit_test(test_tfjs_variance_scaling_config), cmocka_unit_test(test_tfjs_orthogonal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
