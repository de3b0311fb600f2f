/* Gradient checks of the sequence kernels (src/nn/seq_*.c): for every kernel
 * and option, the float32 forward against an independent double forward
 * written here from the formulas, and the float32 backward against central
 * differences of that double forward (tolerances: gradcheck.h). The double
 * forward reads weights through its own index functions for each layout,
 * so a transposed layout or a swapped gate fails here. */
#include "gradcheck.h"

#include "nn/internal.h"

#define MAXT 24

static uint64_t rng_state = 20240611;
static double urand(void) { return grad_urand(&rng_state); }

typedef struct gcase gcase;
struct gcase {
    int n_t;
    const char *tname[MAXT];
    double *t[MAXT];
    int64_t tn[MAXT];
    int zero[MAXT]; /* the exact gradient is 0 (a key bias: softmax ignores a constant per row) */
    int64_t n_out;
    double *wout; /* L = sum wout * y */
    const void *cfg;
    void (*ref)(const gcase *, double *y);
    /* float forward into y and backward of dy = wout into grad[k] for every tensor k */
    void (*analytic)(const gcase *, float *const *ft, const float *dy, float *y, float *const *grad);
};

/* Adds a tensor of n values uniform in [-scale, scale); returns its index. */
static int add(gcase *c, const char *name, int64_t n, double scale)
{
    int k = c->n_t++;
    assert_true(k < MAXT);
    c->tname[k] = name;
    c->tn[k] = n;
    c->zero[k] = 0;
    c->t[k] = malloc((size_t)n * sizeof(double));
    for (int64_t i = 0; i < n; i++)
        c->t[k][i] = scale * urand();
    return k;
}

static double loss_of(const gcase *c, double *y)
{
    c->ref(c, y);
    double s = 0;
    for (int64_t i = 0; i < c->n_out; i++)
        s += c->wout[i] * y[i];
    return s;
}

static void run_case(gcase *c, const char *label)
{
    float *ft[MAXT], *fg[MAXT];
    for (int k = 0; k < c->n_t; k++) {
        ft[k] = malloc((size_t)c->tn[k] * sizeof(float));
        fg[k] = malloc((size_t)c->tn[k] * sizeof(float));
        for (int64_t i = 0; i < c->tn[k]; i++) {
            ft[k][i] = (float)c->t[k][i];
            c->t[k][i] = ft[k][i]; /* both sides see the same values */
        }
    }
    c->wout = malloc((size_t)c->n_out * sizeof(double));
    float *dy = malloc((size_t)c->n_out * sizeof(float)), *y = malloc((size_t)c->n_out * sizeof(float));
    double *yr = malloc((size_t)c->n_out * sizeof(double));
    for (int64_t i = 0; i < c->n_out; i++) {
        dy[i] = (float)urand();
        c->wout[i] = dy[i];
    }
    c->analytic(c, ft, dy, y, fg);
    c->ref(c, yr);
    /* forward: float32 against double, a few ulps of the largest output per
     * step of depth; 1e-5 of the scale is >= 10x that and far below an error */
    double scale = 1e-30;
    for (int64_t i = 0; i < c->n_out; i++)
        scale = fmax(scale, fabs(yr[i]));
    for (int64_t i = 0; i < c->n_out; i++)
        if (!(fabs((double)y[i] - yr[i]) <= 1e-5 * scale + 1e-7)) {
            print_error("%s: y[%ld] float %.9g, double %.9g\n", label, (long)i, (double)y[i], yr[i]);
            fail();
        }
    for (int k = 0; k < c->n_t; k++) {
        double *an = malloc((size_t)c->tn[k] * sizeof(double)), *num = malloc((size_t)c->tn[k] * sizeof(double));
        for (int64_t i = 0; i < c->tn[k]; i++) {
            double v = c->t[k][i];
            c->t[k][i] = v + GRAD_H;
            double lp = loss_of(c, yr);
            c->t[k][i] = v - GRAD_H;
            double lm = loss_of(c, yr);
            c->t[k][i] = v;
            num[i] = (lp - lm) / (2 * GRAD_H);
            an[i] = fg[k][i];
        }
        char what[128];
        snprintf(what, sizeof what, "%s: d%s", label, c->tname[k]);
        if (c->zero[k]) {
            /* both sides ~0: float rounding of O(1) terms that cancel */
            for (int64_t i = 0; i < c->tn[k]; i++)
                if (!(fabs(an[i]) <= 1e-5 && fabs(num[i]) <= 1e-8)) {
                    print_error("%s[%ld]: analytic %.3g, numeric %.3g, both should be 0\n", what, (long)i, an[i],
                                num[i]);
                    fail();
                }
        } else {
            grad_check(what, an, num, c->tn[k]);
        }
        free(an);
        free(num);
    }
    for (int k = 0; k < c->n_t; k++) {
        free(ft[k]);
        free(fg[k]);
        free(c->t[k]);
    }
    free(c->wout);
    free(dy);
    free(y);
    free(yr);
    c->n_t = 0;
}

static double sigm(double z) { return 1 / (1 + exp(-z)); }

/* ---- vectorised exp, tanh, sigmoid, normal CDF (seq_vmath.c) ---- */

/* Largest relative error of f over a grid of [lo, hi] against ref in double,
 * counting only where |ref| >= floor_ (below it the values are flushed);
 * floor_ < 0: the largest absolute error. */
static double vmath_error(void (*f)(const float *, float *, int64_t), double (*ref)(double), double lo, double hi,
                          double floor_)
{
    enum { N = 200003 }; /* odd: the grid does not step over 0 in pairs */
    float *x = malloc(N * sizeof(float)), *y = malloc(N * sizeof(float));
    for (int i = 0; i < N; i++)
        x[i] = (float)(lo + (hi - lo) * i / (N - 1));
    f(x, y, N);
    double worst = 0;
    for (int i = 0; i < N; i++) {
        double r = ref((double)x[i]);
        if (floor_ < 0)
            worst = fmax(worst, fabs((double)y[i] - r));
        else if (fabs(r) >= floor_)
            worst = fmax(worst, fabs((double)y[i] - r) / fabs(r));
    }
    free(x);
    free(y);
    return worst;
}

static double ref_sigmoid(double x) { return 1 / (1 + exp(-x)); }
static double ref_cdf(double x) { return 0.5 * erfc(-x / sqrt(2.0)); }

static void test_vmath(void **state)
{
    (void)state;
    /* Float ulps are 2^-24 .. 2^-23 relative; the Cephes forms stay within
     * 2 ulp (measured: exp 7.7e-8, tanh 1.3e-7, sigmoid 1.4e-7). The normal
     * CDF is within 2 ulp of 1 absolutely; relatively, its lower tail carries
     * the float rounding of x / sqrt 2 and of its square (~z^2 2^-23: 1.6e-5
     * at x = -12, as any float erf(x / sqrt 2) does), so it is held to 2e-6
     * on [-4, 9] and 3e-5 on [-12, 9]. A dropped polynomial term or a wrong
     * range reduction is off by > 1e-4. */
    double e_exp = vmath_error(nninit__vexpf, exp, -87, 88, 0);
    double e_tanh = vmath_error(nninit__vtanhf, tanh, -20, 20, 1e-30);
    double e_sig = vmath_error(nninit__vsigmoidf, ref_sigmoid, -80, 80, 0);
    double e_cdf = vmath_error(nninit__vnormcdff, ref_cdf, -12, 9, 1e-30);
    double e_cdf4 = vmath_error(nninit__vnormcdff, ref_cdf, -4, 9, 1e-30);
    double a_cdf = vmath_error(nninit__vnormcdff, ref_cdf, -12, 9, -1);
    printf("relative errors: exp %.3g, tanh %.3g, sigmoid %.3g, normal cdf %.3g (%.3g on [-4, 9]; absolute %.3g)\n",
           e_exp, e_tanh, e_sig, e_cdf, e_cdf4, a_cdf);
    assert_true(e_exp <= 2.4e-7 && e_tanh <= 2.4e-7 && e_sig <= 2.4e-7);
    assert_true(a_cdf <= 2.4e-7 && e_cdf4 <= 2e-6 && e_cdf <= 3e-5);
    /* tiny arguments keep their relative accuracy; out of range saturates */
    float x[6] = {1e-6f, -3e-5f, 0.0f, -100.0f, 100.0f, 1e30f}, y[6];
    nninit__vtanhf(x, y, 6);
    assert_true(y[0] == 1e-6f && y[1] == -3e-5f && y[2] == 0.0f && y[3] == -1.0f && y[4] == 1.0f && y[5] == 1.0f);
    nninit__vexpf(x, y, 6);
    assert_true(y[3] == 0.0f && isfinite(y[4]) && isfinite(y[5]));
    nninit__vsigmoidf(x, y, 6);
    assert_true(y[3] >= 0.0f && y[3] < 1e-30f && y[4] == 1.0f);
    /* the 4- and 8-lane forms agree bit for bit (every length 0 .. 40, so every
     * tail), on arguments across each function's range, saturation included */
    enum { M = 4000 };
    float *in = malloc(M * sizeof *in), *y4 = malloc(M * sizeof *y4), *y8 = malloc(M * sizeof *y8);
    for (int i = 0; i < M; i++)
        in[i] = (float)(-120.0 + 240.0 * i / (M - 1)) * (i % 3 ? 1.0f : 0.01f);
    for (int fn = 0; fn < 4; fn++)
        for (int lanes = 8; lanes <= 16; lanes *= 2) { /* 16: AVX-512 where the CPU has it, else 4 */
            nninit__vmath_lanes(fn, 4, in, y4, M);
            nninit__vmath_lanes(fn, lanes, in, y8, M);
            assert_memory_equal(y4, y8, M * sizeof *y4);
            for (int64_t n = 0; n <= 40; n++) {
                nninit__vmath_lanes(fn, 4, in + 7, y4, n);
                nninit__vmath_lanes(fn, lanes, in + 7, y8, n);
                assert_memory_equal(y4, y8, (size_t)n * sizeof *y4);
            }
        }
    free(in), free(y4), free(y8);
}

/* ---- layer norm, RMS norm ---- */

typedef struct norm_cfg {
    nninit__norm_kind kind;
    int64_t rows, n;
    int gamma, beta; /* tensor indices or -1 */
} norm_cfg;

static void ref_norm_rows(nninit__norm_kind kind, const double *x, int64_t rows, int64_t n, const double *gamma,
                          const double *beta, double eps, double *y)
{
    for (int64_t r = 0; r < rows; r++) {
        const double *xr = x + r * n;
        double mu = 0, v = 0, ms = 0;
        for (int64_t j = 0; j < n; j++)
            mu += xr[j] / (double)n;
        for (int64_t j = 0; j < n; j++) {
            v += (xr[j] - mu) * (xr[j] - mu) / (double)n;
            ms += xr[j] * xr[j] / (double)n;
        }
        for (int64_t j = 0; j < n; j++) {
            double h = kind == NNINIT__NORM_LAYER ? (xr[j] - mu) / sqrt(v + eps)
                       : kind == NNINIT__NORM_RMS ? xr[j] / sqrt(ms + eps)
                                                  : xr[j] / sqrt(v + eps);
            double o = gamma ? h * gamma[j] : h;
            y[r * n + j] = (beta && kind == NNINIT__NORM_LAYER) ? o + beta[j] : o;
        }
    }
}

#define NORM_EPS 1e-3

static void norm_ref(const gcase *c, double *y)
{
    const norm_cfg *g = c->cfg;
    ref_norm_rows(g->kind, c->t[0], g->rows, g->n, g->gamma >= 0 ? c->t[g->gamma] : NULL,
                  g->beta >= 0 ? c->t[g->beta] : NULL, NORM_EPS, y);
}

static void norm_an(const gcase *c, float *const *ft, const float *dy, float *y, float *const *grad)
{
    const norm_cfg *g = c->cfg;
    int64_t R = g->rows, n = g->n;
    float *xhat = malloc((size_t)(R * n) * sizeof(float)), *mean = malloc((size_t)R * sizeof(float)),
          *inv = malloc((size_t)R * sizeof(float));
    const float *gamma = g->gamma >= 0 ? ft[g->gamma] : NULL, *beta = g->beta >= 0 ? ft[g->beta] : NULL;
    nninit__norm_forward(g->kind, ft[0], R, n, gamma, beta, NORM_EPS, xhat, mean, inv, y);
    nninit__norm_backward(g->kind, xhat, mean, inv, gamma, dy, R, n, g->gamma >= 0 ? grad[g->gamma] : NULL,
                          g->beta >= 0 ? grad[g->beta] : NULL, grad[0]);
    free(xhat);
    free(mean);
    free(inv);
}

static void test_norm(void **state)
{
    (void)state;
    const char *names[3] = {"layer", "rms", "rms_keras"};
    for (int kind = 0; kind < 3; kind++)
        for (int affine = 0; affine < 2; affine++) {
            gcase c = {0};
            norm_cfg g = {(nninit__norm_kind)kind, 3, 7, -1, -1};
            add(&c, "x", g.rows * g.n, 1.0);
            for (int64_t i = 0; i < g.rows * g.n; i++)
                c.t[0][i] += 0.3; /* a non-zero mean, so centring matters */
            if (affine) {
                g.gamma = add(&c, "gamma", g.n, 1.0);
                if (kind == NNINIT__NORM_LAYER)
                    g.beta = add(&c, "beta", g.n, 1.0);
            }
            c.n_out = g.rows * g.n;
            c.cfg = &g;
            c.ref = norm_ref;
            c.analytic = norm_an;
            char label[64];
            snprintf(label, sizeof label, "norm %s affine=%d", names[kind], affine);
            run_case(&c, label);
        }
}

/* The fused passes give the bits of the separate ones they replace: layer
 * norm's backward plus a residual's gradient = nninit__norm_backward then
 * nninit__vadd; GELU's backward with its bias gradient = nninit__gelu_backward
 * then nninit__col_sums (rows of 300: more than one 256-value chunk). */
static void test_fused_passes(void **state)
{
    (void)state;
    enum { R = 5, N = 300 };
    float *x = malloc(R * N * sizeof(float)), *dy = malloc(R * N * sizeof(float));
    float *add_ = malloc(R * N * sizeof(float)), *gamma = malloc(N * sizeof(float));
    float *a1 = malloc(R * N * sizeof(float)), *a2 = malloc(R * N * sizeof(float));
    float *xhat = malloc(R * N * sizeof(float)), *keep = malloc(R * N * sizeof(float));
    float g1[N], g2[N], b1[N], b2[N], mean[R], inv[R];
    assert_non_null(x), assert_non_null(dy), assert_non_null(add_), assert_non_null(gamma);
    assert_non_null(a1), assert_non_null(a2), assert_non_null(xhat), assert_non_null(keep);
    for (int i = 0; i < R * N; i++) {
        x[i] = (float)(3.0 * urand() + 0.2);
        dy[i] = (float)urand();
        add_[i] = (float)urand();
    }
    for (int j = 0; j < N; j++)
        gamma[j] = (float)(1.0 + 0.5 * urand());
    for (int kind = 0; kind < 3; kind++)
        for (int n = 7; n <= N; n += N - 7) {
            nninit__norm_forward((nninit__norm_kind)kind, x, R, n, gamma, NULL, 1e-5, xhat, mean, inv, a1);
            nninit__norm_backward((nninit__norm_kind)kind, xhat, mean, inv, gamma, dy, R, n, g1, b1, a1);
            nninit__vadd(a1, a1, add_, R * n);
            nninit__norm_backward_add((nninit__norm_kind)kind, xhat, mean, inv, gamma, dy, R, n, g2, b2, add_, a2);
            assert_memory_equal(a1, a2, (size_t)(R * n) * sizeof(float));
            assert_memory_equal(g1, g2, (size_t)n * sizeof(float));
            assert_memory_equal(b1, b2, (size_t)n * sizeof(float));
        }
    for (int approx = 0; approx < 2; approx++)
        for (int n = 7; n <= N; n += N - 7) {
            nninit__gelu_forward(approx, x, R * n, a1, keep);
            nninit__gelu_backward(approx, x, keep, dy, R * n, a1);
            nninit__col_sums(a1, R, n, n, b1);
            nninit__gelu_backward_bias(approx, x, keep, dy, R, n, a2, b2);
            assert_memory_equal(a1, a2, (size_t)(R * n) * sizeof(float));
            assert_memory_equal(b1, b2, (size_t)n * sizeof(float));
        }
    free(x), free(dy), free(add_), free(gamma), free(a1), free(a2), free(xhat), free(keep);
}

/* ---- GELU ---- */

static double ref_gelu(int approximate, double x)
{
    if (!approximate)
        return 0.5 * x * (1 + erf(x / sqrt(2.0)));
    return 0.5 * x * (1 + tanh(sqrt(2 / 3.14159265358979323846) * (x + 0.044715 * x * x * x)));
}

static void gelu_ref(const gcase *c, double *y)
{
    const int *approx = c->cfg;
    for (int64_t i = 0; i < c->tn[0]; i++)
        y[i] = ref_gelu(*approx, c->t[0][i]);
}

static void gelu_an(const gcase *c, float *const *ft, const float *dy, float *y, float *const *grad)
{
    const int *approx = c->cfg;
    int64_t n = c->tn[0];
    float *keep = malloc((size_t)n * sizeof *keep), *again = malloc((size_t)n * sizeof *again);
    assert_non_null(keep);
    assert_non_null(again);
    nninit__gelu_forward(*approx, ft[0], n, y, keep);
    nninit__gelu_backward(*approx, ft[0], keep, dy, n, grad[0]);
    /* without the kept Phi / tanh the backward recomputes them: the same bits */
    nninit__gelu_backward(*approx, ft[0], NULL, dy, n, again);
    assert_memory_equal(again, grad[0], (size_t)n * sizeof *again);
    nninit__gelu_forward(*approx, ft[0], n, again, NULL);
    assert_memory_equal(again, y, (size_t)n * sizeof *again);
    free(keep);
    free(again);
}

static void test_gelu(void **state)
{
    (void)state;
    for (int approx = 0; approx < 2; approx++) {
        gcase c = {0};
        add(&c, "x", 40, 4.0);
        c.n_out = 40;
        c.cfg = &approx;
        c.ref = gelu_ref;
        c.analytic = gelu_an;
        run_case(&c, approx ? "gelu tanh" : "gelu exact");
    }
    /* the two forms differ by up to 4.7e-4 (at x = 2.7): a check that would
     * catch the approximation used where the exact form was asked for */
    float x = 2.7f, e, t;
    nninit__gelu_forward(0, &x, 1, &e, NULL);
    nninit__gelu_forward(1, &x, 1, &t, NULL);
    assert_true(fabs((double)e - (double)t) > 4e-4);
}

/* ---- embeddings ---- */

typedef struct pos_cfg {
    int64_t batch, steps, dim;
} pos_cfg;

static void pos_ref(const gcase *c, double *y)
{
    const pos_cfg *g = c->cfg;
    for (int64_t b = 0; b < g->batch; b++)
        for (int64_t t = 0; t < g->steps; t++)
            for (int64_t j = 0; j < g->dim; j++)
                y[(b * g->steps + t) * g->dim + j] = c->t[0][(b * g->steps + t) * g->dim + j] + c->t[1][t * g->dim + j];
}

static void pos_an(const gcase *c, float *const *ft, const float *dy, float *y, float *const *grad)
{
    const pos_cfg *g = c->cfg;
    nninit__posemb_forward(ft[0], ft[1], g->batch, g->steps, g->dim, y);
    nninit__posemb_backward(dy, g->batch, g->steps, g->dim, grad[1]);
    memcpy(grad[0], dy, (size_t)c->n_out * sizeof(float));
}

static void test_embeddings(void **state)
{
    (void)state;
    pos_cfg g = {3, 4, 5};
    gcase c = {0};
    add(&c, "x", g.batch * g.steps * g.dim, 1.0);
    add(&c, "pos", g.steps * g.dim, 1.0);
    c.n_out = g.batch * g.steps * g.dim;
    c.cfg = &g;
    c.ref = pos_ref;
    c.analytic = pos_an;
    run_case(&c, "position embedding");

    /* token embedding: rows copied; gradient rows summed over repeats, zero
     * for ids never seen and for padding_idx (PyTorch) though it is seen */
    enum { V = 6, D = 3, NT = 8 };
    int32_t ids[NT] = {1, 4, 1, 0, 5, 4, 4, 2};
    float table[V * D], y[NT * D], dy[NT * D], dt[V * D];
    for (int i = 0; i < V * D; i++)
        table[i] = (float)urand();
    for (int i = 0; i < NT * D; i++)
        dy[i] = (float)urand();
    nninit_err err;
    assert_ok(nninit__embedding_forward(ids, NT, table, V, D, y, &err), &err);
    for (int i = 0; i < NT; i++)
        for (int j = 0; j < D; j++)
            assert_true(y[i * D + j] == table[ids[i] * D + j]);
    for (int pad = -1; pad <= 4; pad += 5) {
        nninit__embedding_backward(ids, NT, dy, V, D, pad, dt);
        for (int v = 0; v < V; v++)
            for (int j = 0; j < D; j++) {
                double want = 0;
                for (int i = 0; i < NT; i++)
                    if (ids[i] == v && v != pad)
                        want += dy[i * D + j];
                assert_close(dt[v * D + j], want, 1e-6);
            }
    }
    assert_true(dt[4 * D] == 0.0f && dt[1 * D] != 0.0f);
    ids[5] = V;
    assert_int_equal(nninit__embedding_forward(ids, NT, table, V, D, y, &err), NNINIT_EINVAL);
    assert_non_null(strstr(err.msg, "token id 6 at position 5"));
    ids[5] = -1;
    assert_int_equal(nninit__embedding_forward(ids, NT, table, V, D, y, &err), NNINIT_EINVAL);
}

/* ---- recurrent layers ---- */

typedef struct rnn_cfg {
    nninit__rnn_spec s;
    int64_t batch, steps;
    int k_x, k_w, k_u, k_bi, k_br; /* tensor indices, -1 when absent */
} rnn_cfg;

/* W[i, gate block g, unit j] in either layout; ld = rows of W's input side */
static double wget(const double *w, int torch, int64_t n_rows, int64_t GH, int64_t H, int64_t i, int g, int64_t j)
{
    return torch ? w[(g * H + j) * n_rows + i] : w[i * GH + g * H + j];
}

static void rnn_ref(const gcase *c, double *y)
{
    const rnn_cfg *g = c->cfg;
    const nninit__rnn_spec *s = &g->s;
    int64_t H = s->units, n_in = s->n_in, G = nninit__rnn_gates(s->cell), GH = G * H, T = g->steps;
    const double *W = c->t[g->k_w], *U = c->t[g->k_u];
    const double *bi = g->k_bi >= 0 ? c->t[g->k_bi] : NULL, *br = g->k_br >= 0 ? c->t[g->k_br] : NULL;
    int tl = s->torch_layout;
    int zp = tl ? 1 : 0, rp = tl ? 0 : 1; /* GRU: Keras z, r, h; PyTorch r, z, n */
    for (int64_t b = 0; b < g->batch; b++) {
        double h[16] = {0}, cst[16] = {0}, hn[16];
        for (int64_t t = 0; t < T; t++) {
            const double *x = c->t[g->k_x] + (b * T + t) * n_in;
            double px[4][16], ph[4][16]; /* input and recurrent parts of each gate block */
            for (int gg = 0; gg < G; gg++)
                for (int64_t j = 0; j < H; j++) {
                    double a = bi ? bi[gg * H + j] : 0, r = br ? br[gg * H + j] : 0;
                    for (int64_t i = 0; i < n_in; i++)
                        a += x[i] * wget(W, tl, n_in, GH, H, i, gg, j);
                    for (int64_t i = 0; i < H; i++)
                        r += h[i] * wget(U, tl, H, GH, H, i, gg, j);
                    px[gg][j] = a;
                    ph[gg][j] = r;
                }
            for (int64_t j = 0; j < H; j++) {
                if (s->cell == NNINIT__CELL_SIMPLE) {
                    double v = px[0][j] + ph[0][j];
                    hn[j] = s->relu ? (v > 0 ? v : 0) : tanh(v);
                } else if (s->cell == NNINIT__CELL_LSTM) {
                    double i_ = sigm(px[0][j] + ph[0][j]), f_ = sigm(px[1][j] + ph[1][j]);
                    double g_ = tanh(px[2][j] + ph[2][j]), o_ = sigm(px[3][j] + ph[3][j]);
                    cst[j] = f_ * cst[j] + i_ * g_;
                    hn[j] = o_ * tanh(cst[j]);
                } else {
                    double z = sigm(px[zp][j] + ph[zp][j]), r = sigm(px[rp][j] + ph[rp][j]), n;
                    if (s->reset_after) {
                        n = tanh(px[2][j] + r * ph[2][j]);
                    } else { /* (r * h) U_h, no recurrent bias */
                        double a = px[2][j];
                        for (int64_t i = 0; i < H; i++) {
                            double ri = sigm(px[rp][i] + ph[rp][i]);
                            a += ri * h[i] * wget(U, tl, H, GH, H, i, 2, j);
                        }
                        n = tanh(a);
                    }
                    hn[j] = z * h[j] + (1 - z) * n;
                }
            }
            memcpy(h, hn, sizeof h);
            if (s->return_sequences)
                memcpy(y + (b * T + t) * H, h, (size_t)H * sizeof(double));
        }
        if (!s->return_sequences)
            memcpy(y + b * H, h, (size_t)H * sizeof(double));
    }
}

static void rnn_an(const gcase *c, float *const *ft, const float *dy, float *y, float *const *grad)
{
    const rnn_cfg *g = c->cfg;
    float *cache = malloc(nninit__rnn_cache_floats(&g->s, g->batch, g->steps) * sizeof(float));
    nninit__rnn_weights w = {ft[g->k_w], ft[g->k_u], g->k_bi >= 0 ? ft[g->k_bi] : NULL,
                             g->k_br >= 0 ? ft[g->k_br] : NULL};
    nninit__rnn_grads gr = {grad[g->k_w], grad[g->k_u], g->k_bi >= 0 ? grad[g->k_bi] : NULL,
                            g->k_br >= 0 ? grad[g->k_br] : NULL};
    nninit__rnn_forward(&g->s, &w, ft[g->k_x], g->batch, g->steps, cache, y);
    nninit__rnn_backward(&g->s, &w, g->batch, g->steps, cache, dy, &gr, grad[g->k_x]);
    free(cache);
}

static void rnn_case(nninit__rnn_cell cell, int torch, int reset_after, int relu, int retseq, int bias_in,
                     int bias_rec)
{
    rnn_cfg g = {{cell, torch, reset_after, relu, retseq, 3, 4}, 2, 5, -1, -1, -1, -1, -1};
    int64_t GH = nninit__rnn_gates(cell) * g.s.units;
    gcase c = {0};
    g.k_x = add(&c, "x", g.batch * g.steps * g.s.n_in, 1.0);
    g.k_w = add(&c, "kernel", g.s.n_in * GH, 0.6);
    g.k_u = add(&c, "recurrent", g.s.units * GH, 0.6);
    if (bias_in)
        g.k_bi = add(&c, "bias_in", GH, 0.5);
    if (bias_rec)
        g.k_br = add(&c, "bias_rec", GH, 0.5);
    c.n_out = g.batch * (retseq ? g.steps : 1) * g.s.units;
    c.cfg = &g;
    c.ref = rnn_ref;
    c.analytic = rnn_an;
    char label[128];
    snprintf(label, sizeof label, "%s %s reset_after=%d relu=%d return_sequences=%d bias=%d%d",
             cell == NNINIT__CELL_LSTM ? "LSTM" : cell == NNINIT__CELL_GRU ? "GRU" : "SimpleRNN",
             torch ? "torch" : "keras", reset_after, relu, retseq, bias_in, bias_rec);
    run_case(&c, label);
}

static void test_simple_rnn(void **state)
{
    (void)state;
    for (int torch = 0; torch < 2; torch++)
        for (int relu = 0; relu < 2; relu++)
            for (int retseq = 0; retseq < 2; retseq++)
                rnn_case(NNINIT__CELL_SIMPLE, torch, 0, relu, retseq, 1, torch);
    rnn_case(NNINIT__CELL_SIMPLE, 0, 0, 0, 1, 0, 0);
}

static void test_lstm(void **state)
{
    (void)state;
    for (int torch = 0; torch < 2; torch++)
        for (int retseq = 0; retseq < 2; retseq++)
            rnn_case(NNINIT__CELL_LSTM, torch, 0, 0, retseq, 1, torch);
    rnn_case(NNINIT__CELL_LSTM, 0, 0, 0, 1, 0, 0);
}

static void test_gru(void **state)
{
    (void)state;
    for (int retseq = 0; retseq < 2; retseq++) {
        rnn_case(NNINIT__CELL_GRU, 0, 1, 0, retseq, 1, 1); /* Keras default: bias (2, 3 units) */
        rnn_case(NNINIT__CELL_GRU, 0, 0, 0, retseq, 1, 0); /* Keras reset_after=False */
        rnn_case(NNINIT__CELL_GRU, 1, 1, 0, retseq, 1, 1); /* PyTorch */
    }
    rnn_case(NNINIT__CELL_GRU, 1, 1, 0, 1, 0, 0);
}

/* ---- attention and the transformer block ---- */

typedef struct mha_cfg {
    nninit__mha_spec s;
    int64_t batch, steps;
    int k[9]; /* x, wq, wk, wv, bq, bk, bv, wo, bo */
} mha_cfg;

/* x (T, d) of one sequence -> y (T, d); w[0..7] as nninit__mha_weights */
static void ref_mha_seq(const nninit__mha_spec *s, const double *x, int64_t T, const double *const *w, double *y)
{
    int64_t d = s->d_model, hd = s->head_dim, Hh = s->heads * hd;
    int tl = s->torch_layout;
    double *q = calloc((size_t)(3 * T * Hh), sizeof(double)), *ctx = calloc((size_t)(T * Hh), sizeof(double));
    for (int p = 0; p < 3; p++)
        for (int64_t t = 0; t < T; t++)
            for (int64_t o = 0; o < Hh; o++) {
                double a = w[3 + p] ? w[3 + p][o] : 0;
                for (int64_t i = 0; i < d; i++)
                    a += x[t * d + i] * (tl ? w[p][o * d + i] : w[p][i * Hh + o]);
                q[(p * T + t) * Hh + o] = a;
            }
    for (int64_t h = 0; h < s->heads; h++)
        for (int64_t i = 0; i < T; i++) {
            double sc[64], mx = -1e300, sum = 0;
            int64_t n = s->causal ? i + 1 : T;
            for (int64_t j = 0; j < n; j++) {
                double a = 0;
                for (int64_t e = 0; e < hd; e++)
                    a += q[i * Hh + h * hd + e] * q[(T + j) * Hh + h * hd + e];
                sc[j] = a / sqrt((double)hd);
                mx = fmax(mx, sc[j]);
            }
            for (int64_t j = 0; j < n; j++)
                sum += exp(sc[j] - mx);
            for (int64_t e = 0; e < hd; e++) {
                double a = 0;
                for (int64_t j = 0; j < n; j++)
                    a += exp(sc[j] - mx) / sum * q[(2 * T + j) * Hh + h * hd + e];
                ctx[i * Hh + h * hd + e] = a;
            }
        }
    for (int64_t t = 0; t < T; t++)
        for (int64_t o = 0; o < d; o++) {
            double a = w[7] ? w[7][o] : 0;
            for (int64_t i = 0; i < Hh; i++)
                a += ctx[t * Hh + i] * (tl ? w[6][o * Hh + i] : w[6][i * d + o]);
            y[t * d + o] = a;
        }
    free(q);
    free(ctx);
}

static void mha_ref(const gcase *c, double *y)
{
    const mha_cfg *g = c->cfg;
    const double *w[8];
    for (int i = 0; i < 8; i++)
        w[i] = g->k[i + 1] >= 0 ? c->t[g->k[i + 1]] : NULL;
    int64_t d = g->s.d_model, T = g->steps;
    for (int64_t b = 0; b < g->batch; b++)
        ref_mha_seq(&g->s, c->t[g->k[0]] + b * T * d, T, w, y + b * T * d);
}

static void mha_an(const gcase *c, float *const *ft, const float *dy, float *y, float *const *grad)
{
    const mha_cfg *g = c->cfg;
    const float *f[8];
    float *gg[8];
    for (int i = 0; i < 8; i++) {
        f[i] = g->k[i + 1] >= 0 ? ft[g->k[i + 1]] : NULL;
        gg[i] = g->k[i + 1] >= 0 ? grad[g->k[i + 1]] : NULL;
    }
    nninit__mha_weights w = {f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7]};
    nninit__mha_grads gr = {gg[0], gg[1], gg[2], gg[3], gg[4], gg[5], gg[6], gg[7]};
    float *cache = malloc(nninit__mha_cache_floats(&g->s, g->batch, g->steps) * sizeof(float));
    nninit__mha_forward(&g->s, &w, ft[g->k[0]], g->batch, g->steps, cache, y);
    nninit__mha_backward(&g->s, &w, ft[g->k[0]], g->batch, g->steps, cache, dy, &gr, grad[g->k[0]], 0);
    free(cache);
}

static void add_mha_weights(gcase *c, const nninit__mha_spec *s, int bias, int *k)
{
    int64_t d = s->d_model, Hh = s->heads * s->head_dim;
    static const char *names[8] = {"wq", "wk", "wv", "bq", "bk", "bv", "wo", "bo"};
    for (int i = 0; i < 8; i++) {
        int is_bias = i == 3 || i == 4 || i == 5 || i == 7;
        int64_t n = i < 3 ? d * Hh : i < 6 ? Hh : i == 6 ? Hh * d : d;
        k[i] = !is_bias || bias ? add(c, names[i], n, is_bias ? 0.3 : 0.7) : -1;
        if (i == 4 && k[i] >= 0)
            c->zero[k[i]] = 1;
    }
}

static void mha_case(int torch, int causal, int bias, int64_t d, int64_t heads, int64_t head_dim)
{
    mha_cfg g = {{d, heads, head_dim, torch, causal}, 2, 5, {0}};
    gcase c = {0};
    g.k[0] = add(&c, "x", g.batch * g.steps * d, 1.0);
    add_mha_weights(&c, &g.s, bias, g.k + 1);
    c.n_out = g.batch * g.steps * d;
    c.cfg = &g;
    c.ref = mha_ref;
    c.analytic = mha_an;
    char label[96];
    snprintf(label, sizeof label, "attention %s causal=%d bias=%d d=%ld heads=%ld head_dim=%ld",
             torch ? "torch" : "keras", causal, bias, (long)d, (long)heads, (long)head_dim);
    run_case(&c, label);
}

static void test_attention(void **state)
{
    (void)state;
    for (int causal = 0; causal < 2; causal++) {
        mha_case(0, causal, 1, 5, 2, 3); /* Keras key_dim independent of d_model */
        mha_case(1, causal, 1, 6, 2, 3); /* PyTorch: head_dim = d / heads */
    }
    mha_case(0, 1, 0, 4, 1, 4);
    mha_case(1, 1, 0, 4, 4, 1);
}

typedef struct block_cfg {
    nninit__block_spec s;
    int64_t batch, steps;
    int k_x, k_ln[4], k_mha[8], k_w1, k_b1, k_w2, k_b2;
} block_cfg;

static void block_ref(const gcase *c, double *y)
{
    const block_cfg *g = c->cfg;
    int64_t d = g->s.mha.d_model, f = g->s.d_ff, T = g->steps, R = g->batch * T;
    int tl = g->s.mha.torch_layout;
    const double *w[8];
    for (int i = 0; i < 8; i++)
        w[i] = c->t[g->k_mha[i]];
    double *h = malloc((size_t)(R * d) * sizeof(double)), *a = malloc((size_t)(R * d) * sizeof(double));
    double *u = malloc((size_t)(R * f) * sizeof(double));
    const double *x = c->t[g->k_x], *W1 = c->t[g->k_w1], *W2 = c->t[g->k_w2];
    ref_norm_rows(NNINIT__NORM_LAYER, x, R, d, c->t[g->k_ln[0]], c->t[g->k_ln[1]], g->s.ln_epsilon, h);
    for (int64_t b = 0; b < g->batch; b++)
        ref_mha_seq(&g->s.mha, h + b * T * d, T, w, a + b * T * d);
    for (int64_t i = 0; i < R * d; i++)
        a[i] += x[i];
    ref_norm_rows(NNINIT__NORM_LAYER, a, R, d, c->t[g->k_ln[2]], c->t[g->k_ln[3]], g->s.ln_epsilon, h);
    for (int64_t r = 0; r < R; r++)
        for (int64_t o = 0; o < f; o++) {
            double s = c->t[g->k_b1][o];
            for (int64_t i = 0; i < d; i++)
                s += h[r * d + i] * (tl ? W1[o * d + i] : W1[i * f + o]);
            u[r * f + o] = ref_gelu(g->s.gelu_approximate, s);
        }
    for (int64_t r = 0; r < R; r++)
        for (int64_t o = 0; o < d; o++) {
            double s = c->t[g->k_b2][o] + a[r * d + o];
            for (int64_t i = 0; i < f; i++)
                s += u[r * f + i] * (tl ? W2[o * f + i] : W2[i * d + o]);
            y[r * d + o] = s;
        }
    free(h);
    free(a);
    free(u);
}

static void block_an(const gcase *c, float *const *ft, const float *dy, float *y, float *const *grad)
{
    const block_cfg *g = c->cfg;
    const int *m = g->k_mha;
    nninit__block_weights w = {ft[g->k_ln[0]], ft[g->k_ln[1]], ft[g->k_ln[2]], ft[g->k_ln[3]],
                               {ft[m[0]], ft[m[1]], ft[m[2]], ft[m[3]], ft[m[4]], ft[m[5]], ft[m[6]], ft[m[7]]},
                               ft[g->k_w1], ft[g->k_b1], ft[g->k_w2], ft[g->k_b2]};
    nninit__block_grads gr = {grad[g->k_ln[0]], grad[g->k_ln[1]], grad[g->k_ln[2]], grad[g->k_ln[3]],
                              {grad[m[0]], grad[m[1]], grad[m[2]], grad[m[3]], grad[m[4]], grad[m[5]], grad[m[6]],
                               grad[m[7]]},
                              grad[g->k_w1], grad[g->k_b1], grad[g->k_w2], grad[g->k_b2]};
    float *cache = malloc(nninit__block_cache_floats(&g->s, g->batch, g->steps) * sizeof(float));
    nninit__block_forward(&g->s, &w, ft[g->k_x], g->batch, g->steps, cache, y);
    nninit__block_backward(&g->s, &w, ft[g->k_x], g->batch, g->steps, cache, dy, &gr, grad[g->k_x]);
    free(cache);
}

static void test_block(void **state)
{
    (void)state;
    for (int torch = 0; torch < 2; torch++) {
        block_cfg g = {{{6, 2, 3, torch, 1}, 12, 1e-5, torch}, 2, 4, 0, {0}, {0}, 0, 0, 0, 0};
        gcase c = {0};
        int64_t d = 6, f = 12;
        g.k_x = add(&c, "x", g.batch * g.steps * d, 1.0);
        g.k_ln[0] = add(&c, "ln1_gamma", d, 1.0);
        g.k_ln[1] = add(&c, "ln1_beta", d, 0.5);
        g.k_ln[2] = add(&c, "ln2_gamma", d, 1.0);
        g.k_ln[3] = add(&c, "ln2_beta", d, 0.5);
        add_mha_weights(&c, &g.s.mha, 1, g.k_mha);
        g.k_w1 = add(&c, "w1", d * f, 0.5);
        g.k_b1 = add(&c, "b1", f, 0.3);
        g.k_w2 = add(&c, "w2", f * d, 0.5);
        g.k_b2 = add(&c, "b2", d, 0.3);
        c.n_out = g.batch * g.steps * d;
        c.cfg = &g;
        c.ref = block_ref;
        c.analytic = block_an;
        run_case(&c, torch ? "pre-LN block torch (gelu tanh)" : "pre-LN block keras (gelu exact)");
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vmath),      cmocka_unit_test(test_norm),       cmocka_unit_test(test_gelu), cmocka_unit_test(test_fused_passes), cmocka_unit_test(test_embeddings),
        cmocka_unit_test(test_simple_rnn), cmocka_unit_test(test_lstm), cmocka_unit_test(test_gru),
        cmocka_unit_test(test_attention),  cmocka_unit_test(test_block),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
