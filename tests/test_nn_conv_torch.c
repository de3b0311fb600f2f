/* Conv2D and pooling against PyTorch 1.13 on identical weights and inputs
 * (tests/fixtures/nn/torch_conv.txt, made by
 * tests/fixtures/make_conv_fixtures.py): output, input gradient and
 * kernel/bias gradients of one layer per case, NHWC with HWIO kernels.
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

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_against_torch)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
