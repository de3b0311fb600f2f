/* LSUV: every dense layer ends at unit output variance on the batch (within
 * tol), deep signals that would vanish are restored, zero kernels are an
 * error, options are checked. */
#include "util.h"

static nninit_net *deep_net(const char *init, int depth, int64_t width, nninit_act act)
{
    nninit_layer_desc *layers = malloc((size_t)depth * sizeof *layers);
    for (int l = 0; l < depth; l++) {
        layers[l] = nninit_layer_desc_default(NNINIT_LAYER_DENSE);
        layers[l].units = width;
        layers[l].act = act;
        snprintf(layers[l].kernel_init, sizeof layers[l].kernel_init, "%s", init);
    }
    nninit_net *net = NULL;
    nninit_err err;
    nninit_net_opts o = nninit_net_opts_default();
    assert_ok(nninit_net_new(width, layers, depth, &o, &net, &err), &err);
    free(layers);
    return net;
}

static void test_unit_variance(void **state)
{
    (void)state;
    const int depth = 20;
    const int64_t width = 64, batch = 256;
    /* small random init: without LSUV the last pre-activation variance collapses */
    nninit_net *net = deep_net("RandomNormal(stddev=0.05)", depth, width, NNINIT_ACT_TANH);
    float *x = test_normal_batch(batch, width, 3, 99);
    nninit_err err;
    nninit_lsuv_layer rep[20];
    nninit_lsuv_opts o = nninit_lsuv_opts_default();
    int64_t r0, c0;
    assert_ok(nninit_net_forward(net, x, batch, 0, NULL, &err), &err);
    const float *last = nninit_net_tensor(net, depth - 1, NNINIT_T_PREACT, &r0, &c0);
    double before = 0;
    for (int64_t i = 0; i < r0 * c0; i++)
        before += (double)last[i] * (double)last[i];
    assert_true(before / (double)(r0 * c0) < 1e-3); /* sw2 = 0.16: it has vanished */
    assert_ok(nninit_lsuv(net, x, batch, &o, rep, &err), &err);
    assert_true(rep[0].var_before < 0.5 && rep[0].iters >= 1);
    for (int l = 0; l < depth; l++) {
        assert_true(rep[l].is_dense);
        if (fabs(rep[l].var_after - 1.0) >= o.tol)
            fail_msg("layer %d: variance %.4f after %d iterations", l, rep[l].var_after, rep[l].iters);
    }
    /* measured independently: a fresh forward pass */
    assert_ok(nninit_net_forward(net, x, batch, 0, NULL, &err), &err);
    int64_t rows, cols;
    const float *pre = nninit_net_tensor(net, depth - 1, NNINIT_T_PREACT, &rows, &cols);
    double s = 0, ss = 0;
    for (int64_t i = 0; i < rows * cols; i++)
        s += (double)pre[i];
    for (int64_t i = 0; i < rows * cols; i++)
        ss += ((double)pre[i] - s / (double)(rows * cols)) * ((double)pre[i] - s / (double)(rows * cols));
    assert_close(ss / (double)(rows * cols), 1.0, o.tol);
    nninit_net_free(net);
    free(x);
}

static void test_errors(void **state)
{
    (void)state;
    nninit_net *net = deep_net("zeros", 3, 16, NNINIT_ACT_RELU);
    float *x = test_normal_batch(32, 16, 3, 99);
    nninit_err err;
    nninit_lsuv_opts o = nninit_lsuv_opts_default();
    assert_int_equal(nninit_lsuv(net, x, 32, &o, NULL, &err), NNINIT_ENUMERIC);
    assert_non_null(strstr(err.msg, "variance is 0"));
    o.tol = 0;
    assert_int_equal(nninit_lsuv(net, x, 32, &o, NULL, &err), NNINIT_EINVAL);
    o = nninit_lsuv_opts_default();
    assert_int_equal(nninit_lsuv(net, x, 1, &o, NULL, &err), NNINIT_EINVAL);
    assert_int_equal(nninit_lsuv(NULL, x, 32, &o, NULL, &err), NNINIT_EMISUSE);
    nninit_net_free(net);
    free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_unit_variance), cmocka_unit_test(test_errors)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
