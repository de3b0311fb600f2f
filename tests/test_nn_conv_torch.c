/* Conv2D and pooling against PyTorch 1.13 on identical weights and inputs
 * (tests/fixtures/nn/torch_conv.txt, made by
 * tests/fixtures/make_conv_fixtures.py): output, input gradient and
 * kernel/bias gradients of one layer per case, NHWC with HWIO kernels.
 * And the benchmark CNN end to end (tests/fixtures/nn/torch_cnn_step.txt,
 * made by tests/fixtures/make_cnn_step_fixture.py): a net built under the
 * torch layout, given PyTorch's parameters, must give its logits, mean
 * cross-entropy and every parameter gradient on one batch.
 * Criterion: max |engine - torch| / max |torch| <= 1e-5 per tensor (float32
 * sums of up to a few hundred products on both sides; a wrong pad, stride
 * or group mapping gives errors ~1). The worst ratio is printed. */
#include "fixture_txt.h"

static double worst_all = 0.0;

static void compare(const char *what, const float *got, const fx_tensor *ref)
{
    double scale = 0.0, worst = 0.0;
    for (int64_t i = 0; i < ref->n; i++)
        scale = fmax(scale, fabs(ref->v[i]));
    for (int64_t i = 0; i < ref->n; i++)
        worst = fmax(worst, fabs((double)got[i] - ref->v[i]));
    double rel = scale > 0 ? worst / scale : worst;
    worst_all = fmax(worst_all, rel);
    if (!(rel <= 1e-5))
        fail_msg("%s: max error %.3g of the scale %.3g (%.3g relative) > 1e-5", what, worst, scale, rel);
}

static float *to_float(const fx_tensor *t)
{
    float *f = malloc((size_t)t->n * sizeof *f);
    for (int64_t i = 0; i < t->n; i++)
        f[i] = (float)t->v[i];
    return f;
}

static void test_against_torch(void **state)
{
    (void)state;
    fx_file fx;
    if (fx_load(&fx, "nn/torch_conv.txt") != 0)
        fail_msg("tests/fixtures/nn/torch_conv.txt is missing; run tests/fixtures/make_conv_fixtures.py");
    int cases = 0;
    for (int k = 0;; k++) {
        char name[64];
        snprintf(name, sizeof name, "c%d_cfg", k);
        const fx_tensor *cfg = NULL;
        for (int i = 0; i < fx.n; i++)
            if (!strcmp(fx.t[i].name, name))
                cfg = &fx.t[i];
        if (!cfg)
            break;
        const double *c = cfg->v;
        int kind = (int)c[11], bias = (int)c[10];
        nninit_layer_desc d = nninit_layer_desc_default(kind == 0   ? NNINIT_LAYER_CONV2D
                                                        : kind == 1 ? NNINIT_LAYER_MAXPOOL2D
                                                                    : NNINIT_LAYER_AVGPOOL2D);
        d.units = (int64_t)c[3];
        d.kernel[0] = (int64_t)c[4];
        d.kernel[1] = (int64_t)c[5];
        d.strides[0] = d.strides[1] = (int64_t)c[6];
        d.padding = c[7] != 0 ? NNINIT_PAD_SAME : NNINIT_PAD_VALID;
        d.dilation[0] = d.dilation[1] = (int64_t)c[8];
        d.groups = (int64_t)c[9];
        d.use_bias = bias;
        nninit_shape in = {3, {(int64_t)c[0], (int64_t)c[1], (int64_t)c[2]}};
        nninit_net *net = NULL;
        nninit_err err = {0};
        assert_ok(nninit_net_new_shaped(&in, &d, 1, NULL, &net, &err), &err);
        char key[64];
#define GET(s) (snprintf(key, sizeof key, "c%d_" s, k), fx_get(&fx, key))
        if (kind == 0) {
            float *w = to_float(GET("w")), *b = to_float(GET("b"));
            assert_ok(nninit_net_set_param(net, 0, 0, w, NNINIT_LAYOUT_KERAS, &err), &err);
            if (bias)
                assert_ok(nninit_net_set_param(net, 0, 1, b, NNINIT_LAYOUT_KERAS, &err), &err);
            free(w);
            free(b);
        }
        const fx_tensor *xt = GET("x");
        int64_t batch = xt->n / nninit_net_n_inputs(net);
        float *x = to_float(xt), *dout = to_float(GET("dout"));
        const float *y;
        assert_ok(nninit_net_forward(net, x, batch, 1, &y, &err), &err);
        snprintf(name, sizeof name, "case %d %s y", k, nninit_layer_kind_name(d.kind));
        assert_int_equal(batch * nninit_net_n_outputs(net), GET("y")->n);
        compare(name, y, GET("y"));
        assert_ok(nninit_net_backward(net, dout, 1, &err), &err);
        int64_t r, cc;
        snprintf(name, sizeof name, "case %d dx", k);
        compare(name, nninit_net_tensor(net, 0, NNINIT_T_GRAD_INPUT, &r, &cc), GET("dx"));
        if (kind == 0) {
            float *g;
            assert_ok(nninit_net_param(net, 0, 0, NULL, &g, NULL, NULL, &err), &err);
            snprintf(name, sizeof name, "case %d dw", k);
            compare(name, g, GET("dw"));
            if (bias) {
                assert_ok(nninit_net_param(net, 0, 1, NULL, &g, NULL, NULL, &err), &err);
                snprintf(name, sizeof name, "case %d db", k);
                compare(name, g, GET("db"));
            }
        }
#undef GET
        free(x);
        free(dout);
        nninit_net_free(net);
        cases++;
    }
    assert_true(cases >= 14);
    printf("conv/pool vs torch: %d cases, worst relative error %.3g\n", cases, worst_all);
    fx_free(&fx);
}

/* The engine's gradient of a conv kernel (HWIO) or dense kernel (in, out)
 * in PyTorch's layout (OIHW, (out, in)); other tensors as they are. */
static float *torch_grad(const float *g, const nninit_shape *s)
{
    int64_t n = 1;
    for (int d = 0; d < s->ndim; d++)
        n *= s->dim[d];
    float *t = malloc((size_t)n * sizeof *t);
    if (s->ndim == 4) { /* (kh, kw, cin, cout) -> (cout, cin, kh, kw) */
        int64_t kh = s->dim[0], kw = s->dim[1], ci = s->dim[2], co = s->dim[3];
        for (int64_t o = 0; o < co; o++)
            for (int64_t i = 0; i < ci; i++)
                for (int64_t h = 0; h < kh; h++)
                    for (int64_t w = 0; w < kw; w++)
                        t[((o * ci + i) * kh + h) * kw + w] = g[((h * kw + w) * ci + i) * co + o];
    } else if (s->ndim == 2) { /* (in, out) -> (out, in) */
        for (int64_t i = 0; i < s->dim[0]; i++)
            for (int64_t o = 0; o < s->dim[1]; o++)
                t[o * s->dim[0] + i] = g[i * s->dim[1] + o];
    } else {
        memcpy(t, g, (size_t)n * sizeof *t);
    }
    return t;
}

static void test_cnn_step_against_torch(void **state)
{
    (void)state;
    fx_file fx;
    if (fx_load(&fx, "nn/torch_cnn_step.txt") != 0)
        fail_msg("tests/fixtures/nn/torch_cnn_step.txt is missing; run tests/fixtures/make_cnn_step_fixture.py");
    nninit_layer_desc d[6];
    for (int i = 0; i < 3; i += 2) {
        d[i] = nninit_layer_desc_default(NNINIT_LAYER_CONV2D);
        d[i].units = i ? 32 : 16;
        d[i].act = NNINIT_ACT_RELU;
        d[i + 1] = nninit_layer_desc_default(NNINIT_LAYER_MAXPOOL2D);
    }
    d[4] = nninit_layer_desc_default(NNINIT_LAYER_FLATTEN);
    d[5] = nninit_layer_desc_default(NNINIT_LAYER_DENSE);
    d[5].units = 10;
    nninit_shape in = {3, {28, 28, 1}};
    worst_all = 0.0;
    nninit_net_opts o = nninit_net_opts_default();
    o.layout = NNINIT_LAYOUT_TORCH; /* PyTorch's parameter layouts, Flatten in C, H, W order */
    nninit_net *net = NULL;
    nninit_err err = {0};
    assert_ok(nninit_net_new_shaped(&in, d, 6, &o, &net, &err), &err);
    static const int layer_of[6] = {0, 0, 2, 2, 5, 5}, which[6] = {0, 1, 0, 1, 0, 1};
    char key[16];
    for (int p = 0; p < 6; p++) {
        snprintf(key, sizeof key, "p%d", p);
        float *v = to_float(fx_get(&fx, key));
        assert_ok(nninit_net_set_param(net, layer_of[p], which[p], v, NNINIT_LAYOUT_TORCH, &err), &err);
        free(v);
    }
    const fx_tensor *xt = fx_get(&fx, "x"), *lt = fx_get(&fx, "labels");
    int64_t batch = lt->n;
    assert_int_equal(xt->n, batch * 784);
    float *x = to_float(xt), *dout = malloc((size_t)(batch * 10) * sizeof *dout);
    int32_t *labels = malloc((size_t)batch * sizeof *labels);
    for (int64_t i = 0; i < batch; i++)
        labels[i] = (int32_t)lt->v[i];
    const float *y;
    double loss;
    assert_ok(nninit_net_forward(net, x, batch, 1, &y, &err), &err);
    compare("cnn step logits", y, fx_get(&fx, "logits"));
    assert_ok(nninit_loss(NNINIT_LOSS_SOFTMAX_CE, y, batch, 10, labels, NULL, &loss, dout, &err), &err);
    float lf = (float)loss;
    compare("cnn step loss", &lf, fx_get(&fx, "loss"));
    assert_ok(nninit_net_backward(net, dout, 0, &err), &err);
    for (int p = 0; p < 6; p++) {
        float *g;
        nninit_shape sh;
        const char *pname;
        assert_ok(nninit_net_param(net, layer_of[p], which[p], NULL, &g, &sh, &pname, &err), &err);
        float *t = torch_grad(g, &sh);
        snprintf(key, sizeof key, "g%d", p);
        char what[96];
        snprintf(what, sizeof what, "cnn step gradient of %s", pname);
        int64_t n = 1;
        for (int k = 0; k < sh.ndim; k++)
            n *= sh.dim[k];
        assert_int_equal(fx_get(&fx, key)->n, n);
        compare(what, t, fx_get(&fx, key));
        free(t);
    }
    printf("cnn end to end vs torch: logits, loss, 6 gradients, worst relative error %.3g\n", worst_all);
    free(x);
    free(dout);
    free(labels);
    nninit_net_free(net);
    fx_free(&fx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_against_torch),
                                       cmocka_unit_test(test_cnn_step_against_torch)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
