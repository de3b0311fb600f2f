/* Gradient checks of the image and graph layers (conv2d with every option,
 * pooling, global average pooling, flatten in both orders, batch norm over
 * channels, add and scale in a residual block), and the build-time shape
 * errors. Each network's float32 forward and backward are compared with an
 * independent double-precision forward written here from the definitions
 * (direct loops, no im2col), differentiated by central differences.
 *
 * Tolerance (as in test_nn_grad.c): the analytic gradients are float32
 * sums of up to a few hundred products, a relative error ~1e-6; the central
 * difference in double with h = 1e-5 has truncation ~h^2 and rounding
 * ~1e-11. |analytic - numeric| <= 1e-4 * scale + 1e-6 (scale: the tensor's
 * largest |gradient|) is 10x above the float noise and far below a wrong
 * index or a dropped term (errors ~100%). Forward: 1e-5 of the output scale. */
#include "util.h"

#include "nn/internal.h"

#define H 1e-5
#define MAXL 8

static uint64_t lcg_state = 777;
static double urand(void)
{
    lcg_state = lcg_state * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(lcg_state >> 11) * 0x1.0p-53 * 2.0 - 1.0;
}

/* ---- the double reference: one network evaluated from its description ---- */

typedef struct ref_net {
    const nninit_layer_desc *d;
    int n;
    nninit_shape in;
    int64_t batch;
    int torch;              /* flatten in C, H, W order */
    double *p[MAXL][2];     /* parameters in the engine's layouts */
    int64_t pn[MAXL][2];
    double *dout;           /* weights of the loss sum(dout * y) */
} ref_net;

typedef struct rbuf {
    nninit_shape s;
    double *v; /* (batch, numel) */
} rbuf;

static int64_t numel(const nninit_shape *s)
{
    int64_t n = 1;
    for (int d = 0; d < s->ndim; d++)
        n *= s->dim[d];
    return n;
}

/* output size and leading padding of one spatial axis */
static void axis(int64_t in, int64_t k, int64_t s, int64_t dil, int same, int64_t *out, int64_t *pad)
{
    int64_t ext = dil * (k - 1) + 1;
    if (same) {
        *out = (in + s - 1) / s;
        int64_t tot = (*out - 1) * s + ext - in;
        *pad = tot > 0 ? tot / 2 : 0;
    } else {
        *out = (in - ext) / s + 1;
        *pad = 0;
    }
}

static double ref_act(nninit_act a, double z)
{
    return a == NNINIT_ACT_TANH ? tanh(z) : a == NNINIT_ACT_RELU ? (z > 0 ? z : 0) : z;
}

static void ref_layer(const ref_net *r, int li, const rbuf *in, const rbuf *in2, rbuf *out)
{
    const nninit_layer_desc *d = &r->d[li];
    int64_t B = r->batch, ni = numel(&in->s);
    const double *x = in->v;
    out->s = in->s;
    if (d->kind == NNINIT_LAYER_CONV2D || d->kind == NNINIT_LAYER_MAXPOOL2D || d->kind == NNINIT_LAYER_AVGPOOL2D) {
        int conv = d->kind == NNINIT_LAYER_CONV2D;
        int64_t h = in->s.dim[0], w = in->s.dim[1], c = in->s.dim[2], kh = d->kernel[0], kw = d->kernel[1];
        int64_t sh = d->strides[0] ? d->strides[0] : kh, sw = d->strides[1] ? d->strides[1] : kw;
        int64_t dh = d->dilation[0], dw = d->dilation[1], ho, wo, pt, pl;
        axis(h, kh, sh, dh, d->padding == NNINIT_PAD_SAME, &ho, &pt);
        axis(w, kw, sw, dw, d->padding == NNINIT_PAD_SAME, &wo, &pl);
        int64_t co = conv ? d->units : c, G = conv ? d->groups : 1, cg = c / G, og = co / G;
        out->s.dim[0] = ho;
        out->s.dim[1] = wo;
        out->s.dim[2] = co;
        out->v = calloc((size_t)(B * ho * wo * co), sizeof(double));
        for (int64_t n = 0; n < B; n++)
            for (int64_t a = 0; a < ho; a++)
                for (int64_t b = 0; b < wo; b++)
                    for (int64_t o = 0; o < co; o++) {
                        double acc = conv && d->use_bias ? r->p[li][1][o] : 0.0, mx = -INFINITY;
                        int cnt = 0;
                        for (int64_t i = 0; i < kh; i++)
                            for (int64_t j = 0; j < kw; j++) {
                                int64_t ih = a * sh - pt + i * dh, iw = b * sw - pl + j * dw;
                                if (ih < 0 || ih >= h || iw < 0 || iw >= w)
                                    continue;
                                cnt++;
                                const double *px = x + ((n * h + ih) * w + iw) * c;
                                if (!conv) {
                                    acc += px[o];
                                    mx = px[o] > mx ? px[o] : mx;
                                    continue;
                                }
                                int64_t g = o / og;
                                for (int64_t k = 0; k < cg; k++)
                                    acc += px[g * cg + k] * r->p[li][0][((i * kw + j) * cg + k) * co + o];
                            }
                        double v = d->kind == NNINIT_LAYER_MAXPOOL2D ? mx
                                   : d->kind == NNINIT_LAYER_AVGPOOL2D ? acc / cnt
                                                                       : ref_act(d->act, acc);
                        out->v[((n * ho + a) * wo + b) * co + o] = v;
                    }
        return;
    }
    int64_t f = in->s.dim[in->s.ndim - 1], rows = B * ni / f;
    switch (d->kind) {
    case NNINIT_LAYER_DENSE:
        out->s.dim[out->s.ndim - 1] = d->units;
        out->v = calloc((size_t)(rows * d->units), sizeof(double));
        for (int64_t q = 0; q < rows; q++)
            for (int64_t o = 0; o < d->units; o++) {
                double acc = d->use_bias ? r->p[li][1][o] : 0.0;
                for (int64_t k = 0; k < f; k++)
                    acc += x[q * f + k] * r->p[li][0][k * d->units + o];
                out->v[q * d->units + o] = ref_act(d->act, acc);
            }
        return;
    case NNINIT_LAYER_GLOBAL_AVGPOOL2D: {
        int64_t hw = in->s.dim[0] * in->s.dim[1];
        out->s.ndim = 1;
        out->s.dim[0] = f;
        out->v = calloc((size_t)(B * f), sizeof(double));
        for (int64_t n = 0; n < B; n++)
            for (int64_t p = 0; p < hw; p++)
                for (int64_t k = 0; k < f; k++)
                    out->v[n * f + k] += x[(n * hw + p) * f + k] / (double)hw;
        return;
    }
    default:
        break;
    }
    out->v = calloc((size_t)(B * ni), sizeof(double));
    double *y = out->v;
    switch (d->kind) {
    case NNINIT_LAYER_FLATTEN: {
        out->s.ndim = 1;
        out->s.dim[0] = ni;
        int64_t hw = ni / f;
        for (int64_t n = 0; n < B; n++)
            for (int64_t p = 0; p < hw; p++)
                for (int64_t k = 0; k < f; k++)
                    y[n * ni + (r->torch && in->s.ndim == 3 ? k * hw + p : p * f + k)] = x[(n * hw + p) * f + k];
        return;
    }
    case NNINIT_LAYER_ACTIVATION:
        for (int64_t e = 0; e < B * ni; e++)
            y[e] = ref_act(d->act, x[e]);
        return;
    case NNINIT_LAYER_ADD:
        for (int64_t e = 0; e < B * ni; e++)
            y[e] = x[e] + in2->v[e];
        return;
    case NNINIT_LAYER_SCALE:
        for (int64_t e = 0; e < B * ni; e++)
            y[e] = r->p[li][0][0] * x[e] + (d->use_bias ? r->p[li][1][0] : 0.0);
        return;
    case NNINIT_LAYER_BATCHNORM:
        for (int64_t k = 0; k < f; k++) {
            double m = 0, v = 0;
            for (int64_t q = 0; q < rows; q++)
                m += x[q * f + k] / (double)rows;
            for (int64_t q = 0; q < rows; q++)
                v += (x[q * f + k] - m) * (x[q * f + k] - m) / (double)rows;
            for (int64_t q = 0; q < rows; q++)
                y[q * f + k] = r->p[li][0][k] * (x[q * f + k] - m) / sqrt(v + d->epsilon) + r->p[li][1][k];
        }
        return;
    default:
        fail_msg("no reference for layer kind %d", (int)d->kind);
    }
}

/* loss = sum(dout * y); *y_out (may be NULL) gets the output (caller frees) */
static double ref_loss(const ref_net *r, const double *x, double **y_out)
{
    rbuf b[MAXL + 1];
    b[0].s = r->in;
    b[0].v = (double *)x;
    for (int i = 0; i < r->n; i++) {
        int s0 = r->d[i].input[0] == NNINIT_INPUT_PREV ? i - 1 : r->d[i].input[0];
        int s1 = r->d[i].input[1] == NNINIT_INPUT_PREV ? i - 1 : r->d[i].input[1];
        ref_layer(r, i, &b[s0 + 1], &b[s1 + 1], &b[i + 1]);
    }
    rbuf *o = &b[r->n];
    double loss = 0;
    for (int64_t e = 0; e < r->batch * numel(&o->s); e++)
        loss += r->dout[e] * o->v[e];
    for (int i = 1; i < r->n; i++)
        free(b[i].v);
    if (y_out)
        *y_out = o->v;
    else
        free(o->v);
    return loss;
}

static void check_grad(const char *what, const float *analytic, const double *numeric, int64_t n)
{
    double scale = 0;
    for (int64_t i = 0; i < n; i++)
        scale = fmax(scale, fabs(numeric[i]));
    if (!(scale > 1e-3))
        fail_msg("%s: the reference gradient is ~0 (max %.3g); the check would be vacuous", what, scale);
    double tol = 1e-4 * scale + 1e-6;
    for (int64_t i = 0; i < n; i++)
        if (!(fabs(analytic[i] - numeric[i]) <= tol))
            fail_msg("%s[%lld]: analytic %.9g, numeric %.9g, tol %.3g", what, (long long)i, (double)analytic[i],
                     numeric[i], tol);
}

/* Builds the net, sets every parameter to random values (so biases and
 * multipliers are not trivially 0 or 1), and checks output, input gradient
 * and every parameter gradient against the reference. */
static void check_net(const char *what, const nninit_layer_desc *d, int n, nninit_shape in, int64_t batch,
                      int torch)
{
    nninit_err err = {0};
    nninit_net *net = NULL;
    nninit_net_opts o = nninit_net_opts_default();
    o.layout = torch ? NNINIT_LAYOUT_TORCH : NNINIT_LAYOUT_KERAS;
    nninit_status s = nninit_net_new_shaped(&in, d, n, &o, &net, &err);
    if (s != NNINIT_OK)
        fail_msg("%s: %s", what, err.msg);
    ref_net r;
    memset(&r, 0, sizeof r);
    r.d = d;
    r.n = n;
    r.in = in;
    r.batch = batch;
    r.torch = torch;
    for (int i = 0; i < n; i++) {
        nninit_layer_info li;
        assert_ok(nninit_net_layer_info(net, i, &li, &err), &err);
        for (int k = 0; k < li.n_params; k++) {
            float *v;
            nninit_shape sh;
            assert_ok(nninit_net_param(net, i, k, &v, NULL, &sh, NULL, &err), &err);
            r.pn[i][k] = numel(&sh);
            r.p[i][k] = malloc((size_t)r.pn[i][k] * sizeof(double));
            for (int64_t e = 0; e < r.pn[i][k]; e++) {
                v[e] = (float)(d[i].kind == NNINIT_LAYER_BATCHNORM && k == 0 ? 1.0 + 0.5 * urand() : 0.5 * urand());
                r.p[i][k][e] = v[e];
            }
        }
    }
    int64_t nx = batch * numel(&in), ny = batch * nninit_net_n_outputs(net);
    float *xf = malloc((size_t)nx * sizeof *xf), *df = malloc((size_t)ny * sizeof *df);
    double *x = malloc((size_t)nx * sizeof *x), *num = malloc((size_t)(nx > 4096 ? nx : 4096) * sizeof *num);
    r.dout = malloc((size_t)ny * sizeof *r.dout);
    for (int64_t e = 0; e < nx; e++)
        x[e] = xf[e] = (float)urand();
    for (int64_t e = 0; e < ny; e++)
        r.dout[e] = df[e] = (float)urand();
    const float *y;
    assert_ok(nninit_net_forward(net, xf, batch, 1, &y, &err), &err);
    double *yr;
    ref_loss(&r, x, &yr);
    double ys = 0;
    for (int64_t e = 0; e < ny; e++)
        ys = fmax(ys, fabs(yr[e]));
    for (int64_t e = 0; e < ny; e++)
        if (!(fabs(y[e] - yr[e]) <= 1e-5 * ys + 1e-7))
            fail_msg("%s: output[%lld] %.9g, reference %.9g", what, (long long)e, (double)y[e], yr[e]);
    free(yr);
    assert_ok(nninit_net_backward(net, df, 1, &err), &err);
    for (int64_t e = 0; e < nx; e++) {
        double keep = x[e];
        x[e] = keep + H;
        double lp = ref_loss(&r, x, NULL);
        x[e] = keep - H;
        double lm = ref_loss(&r, x, NULL);
        x[e] = keep;
        num[e] = (lp - lm) / (2 * H);
    }
    int64_t rows, cols;
    const float *gx = nninit_net_tensor(net, 0, NNINIT_T_GRAD_INPUT, &rows, &cols);
    assert_non_null(gx);
    char name[160];
    snprintf(name, sizeof name, "%s: d/dx", what);
    check_grad(name, gx, num, nx);
    for (int i = 0; i < n; i++)
        for (int k = 0; k < 2 && r.p[i][k]; k++) {
            float *g;
            const char *pname;
            assert_ok(nninit_net_param(net, i, k, NULL, &g, NULL, &pname, &err), &err);
            for (int64_t e = 0; e < r.pn[i][k]; e++) {
                double keep = r.p[i][k][e];
                r.p[i][k][e] = keep + H;
                double lp = ref_loss(&r, x, NULL);
                r.p[i][k][e] = keep - H;
                double lm = ref_loss(&r, x, NULL);
                r.p[i][k][e] = keep;
                num[e] = (lp - lm) / (2 * H);
            }
            snprintf(name, sizeof name, "%s: d/d %s", what, pname);
            check_grad(name, g, num, r.pn[i][k]);
        }
    for (int i = 0; i < n; i++)
        for (int k = 0; k < 2; k++)
            free(r.p[i][k]);
    free(xf);
    free(df);
    free(x);
    free(num);
    free(r.dout);
    nninit_net_free(net);
}

static nninit_layer_desc conv(int64_t filters, int64_t k0, int64_t k1, int64_t s, nninit_padding pad, int64_t dil,
                              int64_t groups, int bias, nninit_act act)
{
    nninit_layer_desc d = nninit_layer_desc_default(NNINIT_LAYER_CONV2D);
    d.units = filters;
    d.kernel[0] = k0;
    d.kernel[1] = k1;
    d.strides[0] = d.strides[1] = s;
    d.padding = pad;
    d.dilation[0] = d.dilation[1] = dil;
    d.groups = groups;
    d.use_bias = bias;
    d.act = act;
    return d;
}

static void test_conv2d(void **state)
{
    (void)state;
    nninit_shape img = {3, {7, 6, 4}};
    struct {
        const char *what;
        nninit_layer_desc d;
    } cases[] = {
        {"conv 3x3 valid", conv(5, 3, 3, 1, NNINIT_PAD_VALID, 1, 1, 1, NNINIT_ACT_LINEAR)},
        {"conv 3x2 same tanh", conv(3, 3, 2, 1, NNINIT_PAD_SAME, 1, 1, 1, NNINIT_ACT_TANH)},
        {"conv 3x3 stride 2 same", conv(4, 3, 3, 2, NNINIT_PAD_SAME, 1, 1, 1, NNINIT_ACT_LINEAR)},
        {"conv 4x4 stride 2 same (uneven padding)", conv(2, 4, 4, 2, NNINIT_PAD_SAME, 1, 1, 0, NNINIT_ACT_LINEAR)},
        {"conv 3x3 stride 2 valid", conv(3, 3, 3, 2, NNINIT_PAD_VALID, 1, 1, 1, NNINIT_ACT_LINEAR)},
        {"conv dilation 2 valid", conv(3, 3, 2, 1, NNINIT_PAD_VALID, 2, 1, 1, NNINIT_ACT_LINEAR)},
        {"conv dilation 2 same", conv(3, 3, 3, 1, NNINIT_PAD_SAME, 2, 1, 1, NNINIT_ACT_LINEAR)},
        {"conv groups 2", conv(6, 3, 3, 1, NNINIT_PAD_SAME, 1, 2, 1, NNINIT_ACT_LINEAR)},
        {"conv depthwise x2", conv(8, 3, 3, 1, NNINIT_PAD_SAME, 1, 4, 1, NNINIT_ACT_LINEAR)},
        {"conv 1x1", conv(3, 1, 1, 1, NNINIT_PAD_VALID, 1, 1, 1, NNINIT_ACT_LINEAR)},
        {"conv 1x1 stride 2", conv(3, 1, 1, 2, NNINIT_PAD_VALID, 1, 1, 1, NNINIT_ACT_LINEAR)},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_net(cases[i].what, &cases[i].d, 1, img, 3, 0);
    /* torch layout: the kernel is filled as OIHW, stored HWIO; the maths is the same */
    nninit_layer_desc d = conv(4, 3, 3, 1, NNINIT_PAD_SAME, 1, 2, 1, NNINIT_ACT_LINEAR);
    check_net("conv torch layout", &d, 1, img, 2, 1);
}

static void test_pooling(void **state)
{
    (void)state;
    nninit_shape img = {3, {7, 6, 3}};
    nninit_layer_kind kinds[2] = {NNINIT_LAYER_MAXPOOL2D, NNINIT_LAYER_AVGPOOL2D};
    for (int k = 0; k < 2; k++) {
        int64_t cfg[][4] = {{2, 2, 0, NNINIT_PAD_VALID}, {3, 3, 2, NNINIT_PAD_SAME}, {2, 3, 1, NNINIT_PAD_VALID},
                            {3, 2, 0, NNINIT_PAD_SAME}};
        for (int c = 0; c < 4; c++) {
            nninit_layer_desc d = nninit_layer_desc_default(kinds[k]);
            d.kernel[0] = cfg[c][0];
            d.kernel[1] = cfg[c][1];
            d.strides[0] = d.strides[1] = cfg[c][2];
            d.padding = (nninit_padding)cfg[c][3];
            char what[96];
            snprintf(what, sizeof what, "%s %lldx%lld stride %lld %s", nninit_layer_kind_name(kinds[k]),
                     (long long)cfg[c][0], (long long)cfg[c][1], (long long)cfg[c][2], cfg[c][3] ? "same" : "valid");
            check_net(what, &d, 1, img, 2, 0);
        }
    }
    nninit_layer_desc g = nninit_layer_desc_default(NNINIT_LAYER_GLOBAL_AVGPOOL2D);
    check_net("global average pooling", &g, 1, img, 3, 0);
}

/* conv -> batch norm over channels -> relu -> flatten -> dense, in both
 * flatten orders */
static void test_cnn_stack(void **state)
{
    (void)state;
    nninit_layer_desc d[5];
    d[0] = conv(3, 3, 3, 1, NNINIT_PAD_VALID, 1, 1, 0, NNINIT_ACT_LINEAR);
    d[1] = nninit_layer_desc_default(NNINIT_LAYER_BATCHNORM);
    d[2] = nninit_layer_desc_default(NNINIT_LAYER_ACTIVATION);
    d[2].act = NNINIT_ACT_TANH;
    d[3] = nninit_layer_desc_default(NNINIT_LAYER_FLATTEN);
    d[4] = nninit_layer_desc_default(NNINIT_LAYER_DENSE);
    d[4].units = 4;
    nninit_shape img = {3, {5, 5, 2}};
    check_net("cnn keras order", d, 5, img, 4, 0);
    check_net("cnn torch order", d, 5, img, 4, 1);
}

/* A residual block with SkipInit/Fixup scalars: u = m0 x + c0;
 * y = u + a * conv(tanh(conv(u))) + c; the block input u has two readers. */
static void test_residual(void **state)
{
    (void)state;
    nninit_layer_desc d[6];
    d[0] = nninit_layer_desc_default(NNINIT_LAYER_SCALE);
    d[0].use_bias = 1;
    d[1] = conv(3, 3, 3, 1, NNINIT_PAD_SAME, 1, 1, 1, NNINIT_ACT_TANH);
    d[2] = conv(3, 3, 3, 1, NNINIT_PAD_SAME, 1, 1, 0, NNINIT_ACT_LINEAR);
    d[3] = nninit_layer_desc_default(NNINIT_LAYER_SCALE);
    d[3].use_bias = 1;
    d[4] = nninit_layer_desc_default(NNINIT_LAYER_ADD);
    d[4].input[0] = 0;
    d[4].input[1] = 3;
    d[5] = nninit_layer_desc_default(NNINIT_LAYER_GLOBAL_AVGPOOL2D);
    nninit_shape img = {3, {5, 4, 3}};
    check_net("residual block", d, 6, img, 2, 0);
}

/* dense on (steps, features) acts on the last axis, as Keras' Dense */
static void test_dense_on_sequences(void **state)
{
    (void)state;
    nninit_layer_desc d[2];
    d[0] = nninit_layer_desc_default(NNINIT_LAYER_DENSE);
    d[0].units = 3;
    d[0].act = NNINIT_ACT_TANH;
    d[1] = nninit_layer_desc_default(NNINIT_LAYER_FLATTEN);
    nninit_shape seq = {2, {4, 5}};
    check_net("dense on sequences", d, 2, seq, 3, 0);
}

static void expect_build_error(const nninit_layer_desc *d, int n, nninit_shape in, const char *a, const char *b)
{
    nninit_err err = {0};
    nninit_net *net = NULL;
    nninit_status s = nninit_net_new_shaped(&in, d, n, NULL, &net, &err);
    assert_int_equal(s, NNINIT_EINVAL);
    assert_null(net);
    if (!strstr(err.msg, a) || (b && !strstr(err.msg, b)))
        fail_msg("message '%s' should name '%s' and '%s'", err.msg, a, b ? b : "");
    assert_null(strchr(err.msg, '\n'));
}

static void test_shape_errors(void **state)
{
    (void)state;
    nninit_shape img = {3, {8, 8, 1}}, vec = {1, {64}};
    nninit_layer_desc d[3];
    d[0] = conv(4, 3, 3, 1, NNINIT_PAD_VALID, 1, 1, 1, NNINIT_ACT_RELU);
    d[1] = nninit_layer_desc_default(NNINIT_LAYER_DENSE);
    d[1].units = 10;
    expect_build_error(d, 2, img, "dense_0", "conv2d_0"); /* conv into dense without flatten */
    expect_build_error(d, 1, vec, "conv2d_0", "(64) network input"); /* conv on vectors */
    d[1] = conv(4, 3, 3, 1, NNINIT_PAD_VALID, 1, 3, 1, NNINIT_ACT_RELU);
    expect_build_error(d, 2, img, "conv2d_1", "conv2d_0"); /* 4 channels in 3 groups */
    d[1] = nninit_layer_desc_default(NNINIT_LAYER_ADD);
    d[1].input[0] = NNINIT_INPUT_NET;
    d[1].input[1] = 0;
    expect_build_error(d, 2, img, "conv2d_0", "the input"); /* (6, 6, 4) + (8, 8, 1) */
    d[0] = conv(4, 9, 9, 1, NNINIT_PAD_VALID, 1, 1, 1, NNINIT_ACT_RELU);
    expect_build_error(d, 1, img, "conv2d_0", "9x9");     /* window larger than the image */
    d[0] = nninit_layer_desc_default(NNINIT_LAYER_DENSE);
    d[0].units = 3;
    d[1] = nninit_layer_desc_default(NNINIT_LAYER_DENSE);
    d[1].units = 3;
    d[1].input[0] = NNINIT_INPUT_NET;
    expect_build_error(d, 2, vec, "dense_0", "not used"); /* a dangling branch */
}

/* A Keras Functional model with a residual Add (tests/fixtures/keras/train_resnet.json):
 * the graph, the declared input and the built shapes. */
static void test_keras_functional(void **state)
{
    (void)state;
    char path[512];
    FILE *f = fopen(test_fixture("keras/train_resnet.json", path, sizeof path), "rb");
    assert_non_null(f);
    static char text[1 << 16];
    size_t len = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[len] = '\0';
    nninit_layer_desc *d = NULL;
    int n = 0, keras = 0;
    nninit_shape in;
    nninit_err err = {0};
    assert_ok(nninit_net_desc_parse_json_shaped(text, &d, &n, &in, &keras, &err), &err);
    assert_int_equal(n, 8); /* stem, conv1, conv2, bn, add, relu, gap, logits */
    assert_int_equal(keras, 1);
    assert_int_equal(in.ndim, 3);
    assert_int_equal(in.dim[0], 28);
    assert_int_equal(in.dim[2], 1);
    assert_int_equal(d[0].input[0], NNINIT_INPUT_PREV); /* the layer before the first: the input */
    assert_int_equal(d[0].strides[0], 2);
    assert_int_equal(d[0].padding, NNINIT_PAD_SAME);
    assert_int_equal(d[4].kind, NNINIT_LAYER_ADD);
    assert_int_equal(d[4].input[0], 0); /* the stem */
    assert_int_equal(d[4].input[1], 3); /* the block's batch norm */
    assert_string_equal(d[3].gamma_init, "zeros");
    nninit_net *net = NULL;
    assert_ok(nninit_net_new_shaped(&in, d, n, NULL, &net, &err), &err);
    nninit_layer_info li;
    assert_ok(nninit_net_layer_info(net, 4, &li, &err), &err);
    assert_int_equal(li.out_shape.dim[0], 14);
    assert_int_equal(li.out_shape.dim[2], 16);
    assert_int_equal(nninit_net_n_outputs(net), 10);
    /* 16*9+16 + 2*(16*16*9+16) + 2*16 + 16*10+10 */
    assert_int_equal(nninit_net_n_params(net), 160 + 2 * 2320 + 32 + 170);
    nninit_net_free(net);
    nninit_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv2d),        cmocka_unit_test(test_pooling),
        cmocka_unit_test(test_cnn_stack),     cmocka_unit_test(test_residual),
        cmocka_unit_test(test_dense_on_sequences), cmocka_unit_test(test_shape_errors),
        cmocka_unit_test(test_keras_functional),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
