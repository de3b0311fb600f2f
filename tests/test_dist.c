/*
 * Generated values: moments and Kolmogorov-Smirnov shape tests for every
 * random initializer (each with a check that a factor-2 variance error or
 * swapped fans would fail), structure of the deterministic ones,
 * orthogonality, and determinism across threads and sub-ranges.
 *
 * Tolerances. For n i.i.d. draws with variance s2 and kurtosis k <= 3
 * (uniform 1.8, normal 3, truncated normal < 3):
 *   sd(mean) = sqrt(s2/n),  sd(sample variance) ~ s2 sqrt((k-1)/n) <= s2 sqrt(2/n).
 * We allow 6 standard deviations (two-sided p ~ 2e-9 per check, fixed seeds),
 * e.g. n = 2^20: mean within 0.0059 s, variance within 0.83 %.
 * KS: the 0.999 quantile of sqrt(n) D is 1.95, so D < 1.95/sqrt(n).
 */
#include "util.h"

#define N_STAT (1 << 20)

typedef struct gen_case {
    const char *spec;
    nninit_shape shape;
    nninit_layout layout;
} gen_case;

static void *gen(const char *spec, nninit_shape shape, nninit_layout layout, nninit_dtype dtype, uint64_t seed,
                 uint64_t stream, int threads, int64_t *n_out)
{
    nninit_init in;
    nninit_err err;
    nninit_rng *rng;
    int64_t n;
    assert_ok(nninit_init_parse(spec, &in, &err), &err);
    assert_ok(nninit_shape_numel(&shape, &n, &err), &err);
    assert_ok(nninit_rng_new(NNINIT_RNG_PHILOX, seed, &rng, &err), &err);
    void *buf = malloc((size_t)n * nninit_dtype_size(dtype));
    assert_non_null(buf);
    nninit_fill_opts o = nninit_fill_opts_default();
    o.layout = layout;
    o.dtype = dtype;
    o.stream = stream;
    o.threads = threads;
    assert_ok(nninit_fill(&in, &shape, &o, rng, buf, &err), &err);
    nninit_rng_free(rng);
    if (n_out)
        *n_out = n;
    return buf;
}

static double val(nninit_dtype dt, const void *b, int64_t i)
{
    return dt == NNINIT_F32 ? (double)((const float *)b)[i] : ((const double *)b)[i];
}

/* Normal CDF and truncated-normal moments for the reference distribution. */
static double Phi(double x) { return 0.5 * erfc(-x / sqrt(2.0)); }
static double phi(double x) { return exp(-0.5 * x * x) / sqrt(2.0 * 3.14159265358979323846); }

typedef enum { D_UNIFORM, D_NORMAL, D_TRUNC } dist_t;
typedef struct target {
    dist_t d;
    double p0, p1;    /* uniform lo, hi | normal mean, std */
    double a, b;      /* trunc bounds */
} target;

static double target_mean(target t)
{
    if (t.d == D_UNIFORM)
        return 0.5 * (t.p0 + t.p1);
    if (t.d == D_NORMAL)
        return t.p0;
    double al = (t.a - t.p0) / t.p1, be = (t.b - t.p0) / t.p1, z = Phi(be) - Phi(al);
    return t.p0 + t.p1 * (phi(al) - phi(be)) / z;
}
static double target_var(target t)
{
    if (t.d == D_UNIFORM)
        return (t.p1 - t.p0) * (t.p1 - t.p0) / 12.0;
    if (t.d == D_NORMAL)
        return t.p1 * t.p1;
    double al = (t.a - t.p0) / t.p1, be = (t.b - t.p0) / t.p1, z = Phi(be) - Phi(al);
    double m = (phi(al) - phi(be)) / z;
    return t.p1 * t.p1 * (1 + (al * phi(al) - be * phi(be)) / z - m * m);
}
static double target_cdf(target t, double x)
{
    if (t.d == D_UNIFORM)
        return x <= t.p0 ? 0 : x >= t.p1 ? 1 : (x - t.p0) / (t.p1 - t.p0);
    if (t.d == D_NORMAL)
        return Phi((x - t.p0) / t.p1);
    double al = (t.a - t.p0) / t.p1, be = (t.b - t.p0) / t.p1;
    if (x <= t.a)
        return 0;
    if (x >= t.b)
        return 1;
    return (Phi((x - t.p0) / t.p1) - Phi(al)) / (Phi(be) - Phi(al));
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Checks mean, variance, bounds and the KS distance of `data` against t,
 * and that a doubled variance (or an alternative target `wrong`, e.g. the
 * swapped-fan variance) would have been rejected. Returns nothing; fails. */
static void check_sample(const char *what, nninit_dtype dt, const void *data, int64_t n, target t, double wrong_var)
{
    double sum = 0, lo = INFINITY, hi = -INFINITY;
    for (int64_t i = 0; i < n; i++) {
        double v = val(dt, data, i);
        sum += v;
        lo = fmin(lo, v);
        hi = fmax(hi, v);
    }
    double mean = sum / (double)n, ss = 0;
    for (int64_t i = 0; i < n; i++) {
        double d = val(dt, data, i) - mean;
        ss += d * d;
    }
    double var = ss / (double)n;
    double s2 = target_var(t), mu = target_mean(t);
    double tol_mean = 6 * sqrt(s2 / (double)n), tol_var = 6 * s2 * sqrt(2.0 / (double)n);
    if (fabs(mean - mu) > tol_mean)
        fail_msg("%s: mean %.6g, expected %.6g +- %.3g", what, mean, mu, tol_mean);
    if (fabs(var - s2) > tol_var)
        fail_msg("%s: variance %.6g, expected %.6g +- %.3g", what, var, s2, tol_var);
    /* the same check would catch twice the variance and the alternative formula */
    if (fabs(var - 2 * s2) <= 6 * 2 * s2 * sqrt(2.0 / (double)n))
        fail_msg("%s: test cannot tell variance %.6g from twice it", what, s2);
    if (wrong_var > 0 && fabs(var - wrong_var) <= 6 * wrong_var * sqrt(2.0 / (double)n))
        fail_msg("%s: test cannot tell the right variance from the wrong formula's %.6g", what, wrong_var);
    if (t.d == D_UNIFORM && (lo < t.p0 || hi >= t.p1))
        fail_msg("%s: values [%.9g, %.9g] outside [%.9g, %.9g)", what, lo, hi, t.p0, t.p1);
    if (t.d == D_TRUNC && (lo < t.a || hi > t.b))
        fail_msg("%s: values [%.9g, %.9g] outside [%.9g, %.9g]", what, lo, hi, t.a, t.b);
    /* Kolmogorov-Smirnov on the first 2^18 values */
    int64_t m = n < (1 << 18) ? n : (1 << 18);
    double *s = malloc((size_t)m * sizeof *s);
    for (int64_t i = 0; i < m; i++)
        s[i] = val(dt, data, i);
    qsort(s, (size_t)m, sizeof *s, cmp_d);
    double dmax = 0;
    for (int64_t i = 0; i < m; i++) {
        double f = target_cdf(t, s[i]);
        dmax = fmax(dmax, fmax(fabs(f - (double)i / (double)m), fabs((double)(i + 1) / (double)m - f)));
    }
    free(s);
    if (dmax > 1.95 / sqrt((double)m))
        fail_msg("%s: KS distance %.4g > %.4g", what, dmax, 1.95 / sqrt((double)m));
}

static nninit_shape S2(int64_t a, int64_t b) { return (nninit_shape){2, {a, b}}; }
static nninit_shape S4(int64_t a, int64_t b, int64_t c, int64_t d) { return (nninit_shape){4, {a, b, c, d}}; }

static void run_stat(const char *spec, nninit_shape shape, nninit_layout layout, nninit_dtype dt, target t,
                     double wrong_var)
{
    int64_t n;
    void *buf = gen(spec, shape, layout, dt, 1234, 0, 0, &n);
    char what[160];
    snprintf(what, sizeof what, "%s %s", spec, nninit_dtype_name(dt));
    check_sample(what, dt, buf, n, t, wrong_var);
    free(buf);
}

static void test_keras_statistics(void **state)
{
    (void)state;
    const nninit_layout K = NNINIT_LAYOUT_KERAS;
    const double T = 0.87962566103423978;
    /* (2048, 512): fan_in 2048, fan_out 512, avg 1280 */
    nninit_shape s = S2(2048, 512);
    double l;
    l = sqrt(3.0 / 1280);
    run_stat("glorot_uniform", s, K, NNINIT_F32, (target){D_UNIFORM, -l, l, 0, 0}, 1.0 / 2048);
    l = sqrt(3.0 * 2 / 2048);
    run_stat("he_uniform", s, K, NNINIT_F32, (target){D_UNIFORM, -l, l, 0, 0}, 2.0 / 512);
    l = sqrt(3.0 / 2048);
    run_stat("lecun_uniform", s, K, NNINIT_F64, (target){D_UNIFORM, -l, l, 0, 0}, 1.0 / 512);
    double sd = sqrt(1.0 / 1280) / T;
    run_stat("glorot_normal", s, K, NNINIT_F32, (target){D_TRUNC, 0, sd, -2 * sd, 2 * sd}, 1.0 / 2048);
    sd = sqrt(2.0 / 2048) / T;
    run_stat("he_normal", s, K, NNINIT_F64, (target){D_TRUNC, 0, sd, -2 * sd, 2 * sd}, 2.0 / 512);
    sd = sqrt(1.0 / 2048) / T;
    run_stat("lecun_normal", s, K, NNINIT_F32, (target){D_TRUNC, 0, sd, -2 * sd, 2 * sd}, 1.0 / 512);
    sd = sqrt(2.0 / 512);
    run_stat("VarianceScaling(scale=2.0, mode='fan_out', distribution='untruncated_normal')", s, K, NNINIT_F32,
             (target){D_NORMAL, 0, sd, 0, 0}, 2.0 / 2048);
    /* conv kernel HWIO (3, 3, 128, 256): fan_in 1152, fan_out 2304 */
    sd = sqrt(2.0 / 1152) / T;
    run_stat("he_normal", S4(3, 3, 128, 256), K, NNINIT_F32, (target){D_TRUNC, 0, sd, -2 * sd, 2 * sd}, 2.0 / 2304);
    run_stat("random_normal", s, K, NNINIT_F32, (target){D_NORMAL, 0, 0.05, 0, 0}, 0);
    run_stat("RandomNormal(mean=3, stddev=2)", s, K, NNINIT_F64, (target){D_NORMAL, 3, 2, 0, 0}, 0);
    run_stat("random_uniform", s, K, NNINIT_F32, (target){D_UNIFORM, -0.05, 0.05, 0, 0}, 0);
    run_stat("RandomUniform(minval=2, maxval=5)", s, K, NNINIT_F64, (target){D_UNIFORM, 2, 5, 0, 0}, 0);
    run_stat("TruncatedNormal(mean=1, stddev=0.5)", s, K, NNINIT_F32, (target){D_TRUNC, 1, 0.5, 0, 2}, 0.25);
}

static void test_torch_statistics(void **state)
{
    (void)state;
    const nninit_layout P = NNINIT_LAYOUT_TORCH;
    /* torch (out, in) = (512, 2048): fan_in 2048, fan_out 512 */
    nninit_shape s = S2(512, 2048);
    double b = sqrt(3.0) * sqrt(2.0) / sqrt(2048.0);
    run_stat("kaiming_uniform_", s, P, NNINIT_F32, (target){D_UNIFORM, -b, b, 0, 0}, 2.0 / 512);
    b = 1 / sqrt(2048.0);
    run_stat("kaiming_uniform_(a=math.sqrt(5))", s, P, NNINIT_F32, (target){D_UNIFORM, -b, b, 0, 0}, 1.0 / (3 * 512));
    double sd = sqrt(2.0) / sqrt(512.0);
    run_stat("kaiming_normal_(mode='fan_out', nonlinearity='relu')", s, P, NNINIT_F64,
             (target){D_NORMAL, 0, sd, 0, 0}, 2.0 / 2048);
    b = sqrt(3.0) * sqrt(2.0 / 2560);
    run_stat("xavier_uniform_", s, P, NNINIT_F32, (target){D_UNIFORM, -b, b, 0, 0}, 0);
    sd = 5.0 / 3 * sqrt(2.0 / 2560);
    run_stat("xavier_normal_(gain=1.6666666666666667)", s, P, NNINIT_F32, (target){D_NORMAL, 0, sd, 0, 0}, 0);
    run_stat("normal_(mean=-1, std=0.02)", s, P, NNINIT_F32, (target){D_NORMAL, -1, 0.02, 0, 0}, 0);
    run_stat("uniform_", s, P, NNINIT_F64, (target){D_UNIFORM, 0, 1, 0, 0}, 0);
    /* asymmetric and one-sided absolute bounds */
    run_stat("trunc_normal_(mean=0, std=1, a=-1, b=3)", s, P, NNINIT_F32, (target){D_TRUNC, 0, 1, -1, 3}, 0);
    run_stat("trunc_normal_(mean=0.5, std=2, a=1.5, b=9)", s, P, NNINIT_F64, (target){D_TRUNC, 0.5, 2, 1.5, 9}, 0);
    run_stat("trunc_normal_(std=0.02)", s, P, NNINIT_F32, (target){D_TRUNC, 0, 0.02, -2, 2}, 0);
    /* far in a tail (probability 7.6e-24): Phi(10) rounds to 1 in double, the mirrored side does not */
    int64_t n;
    double *tail = gen("trunc_normal_(mean=0, std=1, a=10, b=12)", S2(64, 64), P, NNINIT_F64, 1234, 0, 0, &n);
    double tmean = 0;
    for (int64_t i = 0; i < n; i++) {
        assert_true(tail[i] >= 10 && tail[i] <= 12);
        tmean += tail[i] / (double)n;
    }
    /* E[X | 10 < X < 12] = (phi(10) - phi(12)) / (Q(10) - Q(12)), Q the upper tail (erfc keeps
     * its precision there) ~ 10.098; sd ~ 0.097, so 6 sd / sqrt(4096) = 0.009 */
    double q10 = 0.5 * erfc(10 / sqrt(2.0)), q12 = 0.5 * erfc(12 / sqrt(2.0));
    assert_close(tmean, (phi(10) - phi(12)) / (q10 - q12), 0.01);
    free(tail);
}

static void test_structured(void **state)
{
    (void)state;
    int64_t n;
    /* identity / eye_ */
    float *e = gen("Identity(gain=2)", S2(3, 5), NNINIT_LAYOUT_KERAS, NNINIT_F32, 1, 0, 1, &n);
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 5; j++)
            assert_true(e[i * 5 + j] == (i == j ? 2.0f : 0.0f));
    free(e);
    /* dirac_ with groups: (4, 2, 3), groups = 2: w[g*2 + d, d, 1] = 1 for d < min(2, 2) */
    nninit_shape ds = {3, {4, 2, 3}};
    float *d = gen("dirac_(groups=2)", ds, NNINIT_LAYOUT_TORCH, NNINIT_F32, 1, 0, 1, &n);
    for (int o = 0; o < 4; o++)
        for (int i = 0; i < 2; i++)
            for (int k = 0; k < 3; k++) {
                float want = (k == 1 && i == o % 2) ? 1.0f : 0.0f;
                assert_true(d[(o * 2 + i) * 3 + k] == want);
            }
    free(d);
    /* groups = 1 with more outputs than inputs: only d < min(out, in) */
    nninit_shape ds2 = {4, {3, 2, 2, 2}};
    d = gen("dirac_", ds2, NNINIT_LAYOUT_TORCH, NNINIT_F32, 1, 0, 1, &n);
    int ones = 0;
    for (int64_t i = 0; i < n; i++)
        ones += d[i] == 1.0f;
    assert_int_equal(ones, 2);
    assert_true(d[((0 * 2 + 0) * 2 + 1) * 2 + 1] == 1.0f && d[((1 * 2 + 1) * 2 + 1) * 2 + 1] == 1.0f);
    free(d);
    float *c = gen("constant_(val=0.7)", S2(2, 3), NNINIT_LAYOUT_TORCH, NNINIT_F32, 1, 0, 1, &n);
    for (int64_t i = 0; i < n; i++)
        assert_true(c[i] == 0.7f);
    free(c);
    /* sparse_: exactly ceil(0.3 * 100) = 30 zeros per column, others N(0, 0.5) */
    double *sp = gen("sparse_(sparsity=0.3, std=0.5)", S2(100, 2000), NNINIT_LAYOUT_TORCH, NNINIT_F64, 1, 0, 1, &n);
    double ss = 0;
    int64_t nz = 0;
    for (int col = 0; col < 2000; col++) {
        int zeros = 0;
        for (int r = 0; r < 100; r++)
            zeros += sp[r * 2000 + col] == 0.0;
        assert_int_equal(zeros, 30);
    }
    for (int64_t i = 0; i < n; i++)
        if (sp[i] != 0.0) {
            ss += sp[i] * sp[i];
            nz++;
        }
    assert_close(ss / (double)nz, 0.25, 6 * 0.25 * sqrt(2.0 / (double)nz));
    free(sp);
}

static void check_orthonormal(const char *spec, nninit_shape s, nninit_layout layout, nninit_dtype dt, int64_t rows,
                              int64_t cols, double gain)
{
    int64_t n;
    void *w = gen(spec, s, layout, dt, 99, 0, 0, &n);
    assert_int_equal(n, rows * cols);
    /* rows >= cols: W^T W = gain^2 I; else W W^T = gain^2 I */
    int64_t k = rows >= cols ? cols : rows, len = rows >= cols ? rows : cols;
    double worst = 0;
    for (int64_t i = 0; i < k; i++)
        for (int64_t j = 0; j < k; j++) {
            double dot = 0;
            for (int64_t t = 0; t < len; t++) {
                int64_t ai = rows >= cols ? t * cols + i : i * cols + t;
                int64_t aj = rows >= cols ? t * cols + j : j * cols + t;
                dot += val(dt, w, ai) * val(dt, w, aj);
            }
            worst = fmax(worst, fabs(dot - (i == j ? gain * gain : 0.0)));
        }
    double tol = dt == NNINIT_F32 ? 2e-5 * (double)len / 64 : 1e-12;
    if (worst > tol)
        fail_msg("%s: max |W^T W - g^2 I| = %.3g > %.3g", spec, worst, tol);
    free(w);
}

static void test_orthogonal(void **state)
{
    (void)state;
    const nninit_layout K = NNINIT_LAYOUT_KERAS, P = NNINIT_LAYOUT_TORCH;
    check_orthonormal("orthogonal", S2(64, 32), K, NNINIT_F64, 64, 32, 1);
    check_orthonormal("orthogonal", S2(32, 64), K, NNINIT_F64, 32, 64, 1);
    check_orthonormal("Orthogonal(gain=2)", S2(50, 50), K, NNINIT_F32, 50, 50, 2);
    check_orthonormal("orthogonal", S4(3, 3, 16, 32), K, NNINIT_F32, 144, 32, 1); /* (prod(d[:-1]), d[-1]) */
    check_orthonormal("orthogonal_", S4(32, 16, 3, 3), P, NNINIT_F64, 32, 144, 1); /* (d0, prod(rest)) */
    check_orthonormal("orthogonal_(gain=0.5)", S2(72, 16), P, NNINIT_F32, 72, 16, 0.5);
    /* Haar check: entries of a 200x200 orthogonal matrix have variance 1/200 and mean 0 */
    int64_t n;
    double *w = gen("orthogonal", S2(200, 200), K, NNINIT_F64, 5, 0, 0, &n);
    double sum = 0, ss = 0;
    for (int64_t i = 0; i < n; i++) {
        sum += w[i];
        ss += w[i] * w[i];
    }
    assert_close(ss / (double)n, 1.0 / 200, 1e-12); /* exact: trace(W^T W)/n */
    assert_close(sum / (double)n, 0.0, 6 * sqrt(1.0 / 200 / (double)n) * 3);
    free(w);
}

static void test_extensions(void **state)
{
    (void)state;
    int64_t n;
    /* identity_recurrent on a Keras LSTM recurrent kernel (u, 4u): I in every gate block */
    float *e = gen("irnn(gain=0.5)", S2(3, 12), NNINIT_LAYOUT_KERAS, NNINIT_F32, 1, 0, 1, &n);
    for (int r = 0; r < 3; r++)
        for (int c = 0; c < 12; c++)
            assert_true(e[r * 12 + c] == (c % 3 == r ? 0.5f : 0.0f));
    free(e);
    /* delta_orthogonal (Keras (3, 3, in 4, out 8)): zero off-centre, centre (1, 1) orthonormal rows */
    double *d = gen("delta_orthogonal(gain=2)", S4(3, 3, 4, 8), NNINIT_LAYOUT_KERAS, NNINIT_F64, 3, 0, 1, &n);
    for (int kh = 0; kh < 3; kh++)
        for (int kw = 0; kw < 3; kw++)
            for (int i = 0; i < 32; i++)
                if (kh != 1 || kw != 1)
                    assert_true(d[(kh * 3 + kw) * 32 + i] == 0.0);
    const double *h = d + (1 * 3 + 1) * 32; /* (in 4, out 8) */
    for (int a = 0; a < 4; a++)
        for (int b = 0; b < 4; b++) {
            double dot = 0;
            for (int o = 0; o < 8; o++)
                dot += h[a * 8 + o] * h[b * 8 + o];
            assert_close(dot, a == b ? 4.0 : 0.0, 1e-12);
        }
    /* torch layout (out 8, in 4, 3, 3) carries the same centre matrix, transposed into (out, in) */
    double *t = gen("delta_orthogonal(gain=2)", S4(8, 4, 3, 3), NNINIT_LAYOUT_TORCH, NNINIT_F64, 3, 0, 1, &n);
    for (int o = 0; o < 8; o++)
        for (int i = 0; i < 4; i++)
            assert_true(t[((o * 4 + i) * 3 + 1) * 3 + 1] == h[i * 8 + o]);
    free(d);
    free(t);
    /* even kernels: centre (k-1)//2 as JAX's delta_orthogonal */
    float *ev = gen("delta_orthogonal", S4(2, 2, 2, 2), NNINIT_LAYOUT_KERAS, NNINIT_F32, 3, 0, 1, &n);
    for (int i = 4; i < 16; i++)
        assert_true(ev[i] == 0.0f);
    free(ev);
    /* scaled residual and fixup are normals with the documented std */
    target tr = {D_NORMAL, 0, 0.02 / sqrt(24.0), 0, 0};
    run_stat("scaled_residual(num_layers=12)", S2(1024, 1024), NNINIT_LAYOUT_KERAS, NNINIT_F32, tr, 0.0004 / 12);
    target tf = {D_NORMAL, 0, sqrt(2.0 / 1024) / sqrt(16.0), 0, 0};
    run_stat("fixup(num_layers=16)", S2(1024, 1024), NNINIT_LAYOUT_KERAS, NNINIT_F32, tf, 2.0 / 1024 / 4);
}

static void test_determinism(void **state)
{
    (void)state;
    const char *specs[] = {"glorot_uniform", "he_normal", "normal_", "random_uniform", "orthogonal", "sparse_(sparsity=0.5)"};
    for (size_t k = 0; k < sizeof specs / sizeof specs[0]; k++) {
        nninit_shape s = k >= 4 ? S2(300, 200) : S2(1024, 1100);
        nninit_layout L = k == 2 || k == 5 ? NNINIT_LAYOUT_TORCH : NNINIT_LAYOUT_KERAS;
        for (int dt = 0; dt < 2; dt++) {
            int64_t n;
            void *a = gen(specs[k], s, L, (nninit_dtype)dt, 77, 3, 1, &n);
            void *b = gen(specs[k], s, L, (nninit_dtype)dt, 77, 3, 2, NULL);
            void *c = gen(specs[k], s, L, (nninit_dtype)dt, 77, 3, 7, NULL);
            void *d = gen(specs[k], s, L, (nninit_dtype)dt, 78, 3, 1, NULL);
            void *e = gen(specs[k], s, L, (nninit_dtype)dt, 77, 4, 1, NULL);
            size_t bytes = (size_t)n * nninit_dtype_size((nninit_dtype)dt);
            assert_memory_equal(a, b, bytes);
            assert_memory_equal(a, c, bytes);
            assert_memory_not_equal(a, d, bytes); /* another seed */
            assert_memory_not_equal(a, e, bytes); /* another stream */
            free(a), free(b), free(c), free(d), free(e);
        }
    }
}

static void test_subrange(void **state)
{
    (void)state;
    const char *specs[] = {"random_uniform", "random_normal", "truncated_normal", "Identity", "orthogonal",
                           "dirac_", "sparse_(sparsity=0.2)"};
    for (size_t k = 0; k < sizeof specs / sizeof specs[0]; k++) {
        nninit_shape s = k == 5 ? (nninit_shape){3, {6, 6, 3}} : S2(37, 29);
        nninit_layout L = k >= 5 ? NNINIT_LAYOUT_TORCH : NNINIT_LAYOUT_KERAS;
        for (int dt = 0; dt < 2; dt++) {
            int64_t n;
            size_t es = nninit_dtype_size((nninit_dtype)dt);
            char *whole = gen(specs[k], s, L, (nninit_dtype)dt, 5, 9, 1, &n);
            nninit_init in;
            nninit_rng *rng;
            nninit_err err;
            assert_ok(nninit_init_parse(specs[k], &in, &err), &err);
            assert_ok(nninit_rng_new(NNINIT_RNG_PHILOX, 5, &rng, &err), &err);
            nninit_fill_opts o = nninit_fill_opts_default();
            o.layout = L;
            o.dtype = (nninit_dtype)dt;
            o.stream = 9;
            char *part = malloc((size_t)n * es);
            const int64_t ranges[][2] = {{0, 1}, {1, 2}, {1, 4}, {3, 100}, {0, n}, {n - 1, n}, {500, 777}, {8, 8}};
            for (size_t r = 0; r < sizeof ranges / sizeof ranges[0]; r++) {
                int64_t b1 = ranges[r][1] < n ? ranges[r][1] : n, b0 = ranges[r][0] < b1 ? ranges[r][0] : b1;
                assert_ok(nninit_fill_range(&in, &s, &o, rng, b0, b1, part, &err), &err);
                assert_memory_equal(part, whole + (size_t)b0 * es, (size_t)(b1 - b0) * es);
            }
            assert_int_equal(nninit_fill_range(&in, &s, &o, rng, 5, n + 1, part, &err), NNINIT_EINVAL);
            assert_int_equal(nninit_fill_range(&in, &s, &o, rng, 5, 4, part, &err), NNINIT_EINVAL);
            free(part);
            free(whole);
            nninit_rng_free(rng);
        }
    }
}

static void test_fill_errors(void **state)
{
    (void)state;
    nninit_init in = nninit_init_default(NNINIT_VARIANCE_SCALING);
    nninit_shape s = S2(4, 4);
    nninit_rng *rng;
    nninit_err err;
    float out[16];
    assert_ok(nninit_rng_new(NNINIT_RNG_PHILOX, 1, &rng, &err), &err);
    nninit_fill_opts o = nninit_fill_opts_default();
    o.dtype = NNINIT_BF16;
    assert_int_equal(nninit_fill(&in, &s, &o, rng, out, &err), NNINIT_EUNSUPPORTED);
    o.dtype = NNINIT_F32;
    assert_int_equal(nninit_fill(&in, &s, &o, rng, NULL, &err), NNINIT_EMISUSE);
    assert_int_equal(nninit_fill(NULL, &s, &o, rng, out, &err), NNINIT_EMISUSE);
    in.scale = -1;
    assert_int_equal(nninit_fill(&in, &s, &o, rng, out, &err), NNINIT_EINVAL);
    nninit_rng_free(rng);
    assert_int_equal(nninit_rng_new((nninit_rng_kind)99, 1, &rng, &err), NNINIT_EINVAL);
    assert_null(rng);
    nninit_rng_kind kind;
    assert_int_equal(nninit_rng_kind_parse("mersenne", &kind, &err), NNINIT_EINVAL);
    assert_ok(nninit_rng_kind_parse("torch:avx2", &kind, &err), &err);
    assert_int_equal(kind, NNINIT_RNG_TORCH_AVX2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keras_statistics), cmocka_unit_test(test_torch_statistics),
        cmocka_unit_test(test_structured),       cmocka_unit_test(test_orthogonal),
        cmocka_unit_test(test_extensions),
        cmocka_unit_test(test_determinism),      cmocka_unit_test(test_subrange),
        cmocka_unit_test(test_fill_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
