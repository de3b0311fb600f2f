/* LSUV: every dense layer ends at unit output variance on the batch (within
 * tol), deep signals that would vanish are restored, zero kernels and a
 * layer that does not converge within max_iters are errors that leave every
 * weight as it was, options are checked. */
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

/* Every kernel and bias of the net, copied (free it). */
static float *all_weights(nninit_net *net, int64_t *n_out)
{
    int64_t n = 0;
    float *all = NULL;
    for (int pass = 0; pass < 2; pass++) {
        int64_t at = 0;
        for (int l = 0; l < nninit_net_n_layers(net); l++)
            for (int k = 0; k < 2; k++) {
                float *v;
                nninit_shape sh;
                int64_t m;
                assert_int_equal(nninit_net_param(net, l, k, &v, NULL, &sh, NULL, NULL), NNINIT_OK);
                nninit_shape_numel(&sh, &m, NULL);
                if (pass)
                    memcpy(all + at, v, (size_t)m * sizeof *v);
                at += m;
            }
        n = at;
        if (!pass)
            all = malloc((size_t)n * sizeof *all);
    }
    *n_out = n;
    return all;
}

/* Layer 0 (glorot_uniform at 16 x 16 on N(0, 1) inputs: variance about 1) has its kernel
 * tripled, so it needs a rescaling, and converges. Layer 1's biases alternate +-2, a spread
 * of variance 4 across units that no kernel scale removes: its pre-activation's variance
 * stays near 4, above 1 + tol, for all 10 rescalings. An error, and layer 0's rescaling
 * is undone. */
static void test_no_convergence_changes_nothing(void **state)
{
    (void)state;
    nninit_net *net = deep_net("glorot_uniform", 2, 16, NNINIT_ACT_RELU);
    float *x = test_normal_batch(64, 16, 3, 99);
    float *w0, *b1;
    nninit_shape sh;
    assert_int_equal(nninit_net_param(net, 0, 0, &w0, NULL, &sh, NULL, NULL), NNINIT_OK);
    for (int i = 0; i < 16 * 16; i++)
        w0[i] *= 3.0f;
    assert_int_equal(nninit_net_param(net, 1, 1, &b1, NULL, &sh, NULL, NULL), NNINIT_OK);
    for (int i = 0; i < 16; i++)
        b1[i] = i % 2 ? 2.0f : -2.0f;
    int64_t n;
    float *before = all_weights(net, &n);
    nninit_err err;
    nninit_lsuv_layer rep[2];
    nninit_lsuv_opts o = nninit_lsuv_opts_default();
    assert_int_equal(nninit_lsuv(net, x, 64, &o, rep, &err), NNINIT_ENUMERIC);
    assert_non_null(strstr(err.msg, "lsuv: layer 1 (dense_1): output variance "));
    assert_non_null(strstr(err.msg, "after 10 rescalings, not within 0.01 of 1"));
    assert_non_null(strstr(err.msg, "the weights are unchanged"));
    assert_true(rep[0].is_dense && rep[0].iters == 1 && fabs(rep[0].var_after - 1.0) < o.tol); /* it did run */
    assert_true(rep[1].iters == o.max_iters && rep[1].var_after > 1.0 + o.tol);
    int64_t n2;
    float *after = all_weights(net, &n2);
    assert_int_equal(n, n2);
    assert_memory_equal(before, after, (size_t)n * sizeof *before);
    free(before);
    free(after);
    nninit_net_free(net);
    free(x);
}

/* A zero kernel at layer 2 fails after layers 0 and 1 were rescaled: they are put back. */
static void test_zero_variance_changes_nothing(void **state)
{
    (void)state;
    nninit_net *net = deep_net("RandomNormal(stddev=0.05)", 3, 16, NNINIT_ACT_TANH);
    float *x = test_normal_batch(32, 16, 3, 99);
    float *w2;
    nninit_shape sh;
    assert_int_equal(nninit_net_param(net, 2, 0, &w2, NULL, &sh, NULL, NULL), NNINIT_OK);
    memset(w2, 0, 16 * 16 * sizeof *w2);
    int64_t n, n2;
    float *before = all_weights(net, &n);
    nninit_err err;
    nninit_lsuv_opts o = nninit_lsuv_opts_default();
    assert_int_equal(nninit_lsuv(net, x, 32, &o, NULL, &err), NNINIT_ENUMERIC);
    assert_non_null(strstr(err.msg, "lsuv: layer 2 (dense_2): output variance is 0"));
    float *after = all_weights(net, &n2);
    assert_memory_equal(before, after, (size_t)n * sizeof *before);
    free(before);
    free(after);
    nninit_net_free(net);
    free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_unit_variance), cmocka_unit_test(test_errors),
                                       cmocka_unit_test(test_no_convergence_changes_nothing),
                                       cmocka_unit_test(test_zero_variance_changes_nothing)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
