/* Weight-norm data-dependent init (nninit_wn_init): after it, every unit's
 * pre-activation on the batch has mean 0 and variance 1 up to float32
 * rounding (dense and conv2d layers); a wrong formula (the column divided by
 * the variance instead of the std) fails the same check; dead units, refused
 * layers and bad options are errors that leave the net unchanged. */
#include "util.h"

static nninit_net *dense_net(const char *const *inits, int depth, int64_t width, nninit_act act)
{
    nninit_layer_desc layers[8];
    for (int l = 0; l < depth; l++) {
        layers[l] = nninit_layer_desc_default(NNINIT_LAYER_DENSE);
        layers[l].units = width;
        layers[l].act = act;
        snprintf(layers[l].kernel_init, sizeof layers[l].kernel_init, "%s", inits[l]);
    }
    nninit_net *net = NULL;
    nninit_err err;
    nninit_net_opts o = nninit_net_opts_default();
    assert_ok(nninit_net_new(width, layers, depth, &o, &net, &err), &err);
    return net;
}

static nninit_net *conv_net(void)
{
    nninit_layer_desc L[4];
    L[0] = nninit_layer_desc_default(NNINIT_LAYER_CONV2D);
    L[0].units = 6;
    L[0].act = NNINIT_ACT_RELU;
    snprintf(L[0].kernel_init, sizeof L[0].kernel_init, "RandomNormal(stddev=0.05)");
    L[1] = nninit_layer_desc_default(NNINIT_LAYER_CONV2D);
    L[1].units = 5;
    L[1].act = NNINIT_ACT_RELU;
    L[1].padding = NNINIT_PAD_SAME;
    snprintf(L[1].kernel_init, sizeof L[1].kernel_init, "RandomNormal(stddev=0.05)");
    L[2] = nninit_layer_desc_default(NNINIT_LAYER_FLATTEN);
    L[3] = nninit_layer_desc_default(NNINIT_LAYER_DENSE);
    L[3].units = 4;
    nninit_shape in = {3, {9, 9, 2}};
    nninit_net *net = NULL;
    nninit_err err;
    assert_ok(nninit_net_new_shaped(&in, L, 4, NULL, &net, &err), &err);
    return net;
}

/*
 * Checks every unit of every dense/conv2d layer on a fresh forward pass;
 * returns the number of units outside tolerance.
 *
 * The tolerance is float32 rounding, not statistics: the init is computed
 * on this very batch, so in exact arithmetic each unit's pre-activation has
 * mean 0 and variance 1 exactly. In floating point, a dot product of n terms
 * plus a bias is off by at most gamma_{n+1} (sum |x_k w_k| + |b|), gamma_m =
 * m u / (1 - m u), u = 2^-24 (Higham, Accuracy and Stability, 3.1; any
 * summation order, so whatever sgemm's blocking; +1 more for rounding the
 * new w and b to float). Bound sum |x_k w_k| <= max|x| sum_k |w_kj| (zero
 * padding only lowers it): B_j = gamma_{n+2} (max|x| |w_j|_1 + |b_j|) for the
 * new weights. The statistics the init used came from the old
 * pre-activation, off by the same bound in the new scale (the old bias is
 * zero here, so old error / sigma <= B_j), so every standardized value is
 * within e = 2 B_j of the exact one: |mean| <= e, and |std - 1| <= e so
 * |var - 1| <= 2 e + e^2. Typical e here: ~1e-5.
 */
static int count_bad_units(nninit_net *net, const float *x, int64_t batch, double *worst_mean, double *worst_var)
{
    nninit_err err;
    assert_ok(nninit_net_forward(net, x, batch, 0, NULL, &err), &err);
    const double u = ldexp(1.0, -24);
    int bad = 0;
    *worst_mean = *worst_var = 0;
    for (int l = 0; l < nninit_net_n_layers(net); l++) {
        nninit_layer_info info;
        assert_ok(nninit_net_layer_info(net, l, &info, &err), &err);
        if (info.kind != NNINIT_LAYER_DENSE && info.kind != NNINIT_LAYER_CONV2D)
            continue;
        int64_t rows, cols, xr, xc;
        const float *z = nninit_net_tensor(net, l, NNINIT_T_PREACT, &rows, &cols);
        const float *xin = nninit_net_tensor(net, l, NNINIT_T_INPUT, &xr, &xc);
        assert_non_null(z);
        assert_non_null(xin);
        float *w, *b;
        nninit_shape ws;
        assert_ok(nninit_net_param(net, l, 0, &w, NULL, &ws, NULL, &err), &err);
        assert_ok(nninit_net_param(net, l, 1, &b, NULL, NULL, NULL, &err), &err);
        int64_t units = ws.dim[ws.ndim - 1], wn;
        nninit_shape_numel(&ws, &wn, NULL);
        int64_t fan = wn / units, per = rows * (cols / units);
        double xmax = 0;
        for (int64_t i = 0; i < xr * xc; i++)
            xmax = fmax(xmax, fabs((double)xin[i]));
        double m = (double)(fan + 2) * u, gamma = m / (1 - m);
        for (int64_t j = 0; j < units; j++) {
            double w1 = 0, s = 0, ss = 0;
            for (int64_t k = j; k < wn; k += units)
                w1 += fabs((double)w[k]);
            double e = 2 * gamma * (xmax * w1 + fabs((double)b[j]));
            for (int64_t i = 0; i < rows; i++)
                for (int64_t c = j; c < cols; c += units)
                    s += (double)z[i * cols + c];
            double mean = s / (double)per;
            for (int64_t i = 0; i < rows; i++)
                for (int64_t c = j; c < cols; c += units)
                    ss += ((double)z[i * cols + c] - mean) * ((double)z[i * cols + c] - mean);
            double var = ss / (double)per;
            *worst_mean = fmax(*worst_mean, fabs(mean));
            *worst_var = fmax(*worst_var, fabs(var - 1));
            if (fabs(mean) > e || fabs(var - 1) > 2 * e + e * e)
                bad++;
        }
    }
    return bad;
}

/* The wrong formula: each column divided by the variance, not the std. */
static void wrong_init(nninit_net *net, const float *x, int64_t batch)
{
    nninit_err err;
    for (int l = 0; l < nninit_net_n_layers(net); l++) {
        nninit_layer_info info;
        assert_ok(nninit_net_layer_info(net, l, &info, &err), &err);
        if (info.kind != NNINIT_LAYER_DENSE)
            continue;
        assert_ok(nninit_net_forward(net, x, batch, 0, NULL, &err), &err);
        int64_t rows, cols;
        const float *z = nninit_net_tensor(net, l, NNINIT_T_PREACT, &rows, &cols);
        float *w, *b;
        nninit_shape ws;
        assert_ok(nninit_net_param(net, l, 0, &w, NULL, &ws, NULL, &err), &err);
        assert_ok(nninit_net_param(net, l, 1, &b, NULL, NULL, NULL, &err), &err);
        for (int64_t j = 0; j < cols; j++) {
            double s = 0, ss = 0;
            for (int64_t i = 0; i < rows; i++)
                s += (double)z[i * cols + j] - (double)b[j];
            double mu = s / (double)rows;
            for (int64_t i = 0; i < rows; i++)
                ss += ((double)z[i * cols + j] - (double)b[j] - mu) * ((double)z[i * cols + j] - (double)b[j] - mu);
            double var = ss / (double)rows;
            for (int64_t i = 0; i < ws.dim[0]; i++)
                w[i * cols + j] = (float)((double)w[i * cols + j] / var);
            b[j] = (float)(-mu / var);
        }
    }
}

static void test_dense_standardized(void **state)
{
    (void)state;
    const int depth = 6;
    const int64_t width = 48, batch = 200;
    const char *inits[6] = {"RandomNormal(stddev=0.05)", "RandomNormal(stddev=0.05)", "RandomNormal(stddev=0.05)",
                            "RandomNormal(stddev=0.05)", "RandomNormal(stddev=0.05)", "RandomNormal(stddev=0.05)"};
    float *x = test_normal_batch(batch, width, 5, 12);
    nninit_err err;
    double wm, wv;

    nninit_net *net = dense_net(inits, depth, width, NNINIT_ACT_RELU);
    assert_true(count_bad_units(net, x, batch, &wm, &wv) > 0); /* as built: badly scaled */
    nninit_wn_init_opts o = nninit_wn_init_opts_default();
    nninit_wn_init_layer rep[6];
    assert_ok(nninit_wn_init(net, x, batch, &o, rep, &err), &err);
    int bad = count_bad_units(net, x, batch, &wm, &wv);
    if (bad)
        fail_msg("%d units off: worst |mean| %.3g, |var - 1| %.3g", bad, wm, wv);
    for (int l = 0; l < depth; l++) {
        assert_int_equal(rep[l].applied, 1);
        assert_int_equal(rep[l].units, width);
        assert_true(rep[l].std_after_min > 1 - 1e-4 && rep[l].std_after_max < 1 + 1e-4);
    }
    /* the first layer's std before, unit j: |w_j|_2 for N(0, 1) inputs, about sqrt(48) 0.05 = 0.35 with
     * |w_j|^2 / (48 0.05^2) a chi-square(48) / 48: its 0.1% and 99.9% quantiles are 0.49 and 1.75, so
     * [0.4, 1.9] also holds the batch's own noise (200 rows: ~5% on a std) */
    assert_true(rep[0].std_before_min > 0.35 * sqrt(0.4) && rep[0].std_before_max < 0.35 * sqrt(1.9));
    nninit_net_free(net);

    /* the same check catches dividing by the variance instead of the std */
    net = dense_net(inits, depth, width, NNINIT_ACT_RELU);
    wrong_init(net, x, batch);
    assert_true(count_bad_units(net, x, batch, &wm, &wv) > 0);
    assert_true(wv > 0.5);
    nninit_net_free(net);

    /* scale: every unit ends at std scale */
    net = dense_net(inits, 2, width, NNINIT_ACT_TANH);
    o.scale = 0.5;
    assert_ok(nninit_wn_init(net, x, batch, &o, rep, &err), &err);
    assert_close(rep[1].std_after_min, 0.5, 1e-5);
    assert_close(rep[1].std_after_max, 0.5, 1e-5);
    nninit_net_free(net);
    free(x);
}

static void test_conv_standardized(void **state)
{
    (void)state;
    const int64_t batch = 40;
    nninit_net *net = conv_net();
    float *x = test_normal_batch(batch, 9 * 9 * 2, 5, 12);
    nninit_err err;
    double wm, wv;
    nninit_wn_init_opts o = nninit_wn_init_opts_default();
    nninit_wn_init_layer rep[4];
    assert_true(count_bad_units(net, x, batch, &wm, &wv) > 0);
    assert_ok(nninit_wn_init(net, x, batch, &o, rep, &err), &err);
    int bad = count_bad_units(net, x, batch, &wm, &wv);
    if (bad)
        fail_msg("%d units off: worst |mean| %.3g, |var - 1| %.3g", bad, wm, wv);
    assert_int_equal(rep[0].applied, 1);
    assert_int_equal(rep[0].units, 6); /* per filter, over the batch and every position */
    assert_int_equal(rep[1].applied, 1);
    assert_int_equal(rep[2].applied, 0); /* flatten */
    assert_int_equal(rep[3].applied, 1);
    nninit_net_free(net);
    free(x);
}

static void test_errors(void **state)
{
    (void)state;
    const int64_t width = 16, batch = 32;
    float *x = test_normal_batch(batch, width, 5, 12);
    nninit_err err;
    nninit_wn_init_opts o = nninit_wn_init_opts_default();

    /* layer 1 is zeros: dense_0 is fine, dense_1's unit 0 has no variance;
     * the net is left as it was (dense_0 included) */
    const char *inits[3] = {"he_normal", "zeros", "he_normal"};
    nninit_net *net = dense_net(inits, 3, width, NNINIT_ACT_RELU);
    float *w0;
    assert_ok(nninit_net_param(net, 0, 0, &w0, NULL, NULL, NULL, &err), &err);
    float keep[16 * 16];
    memcpy(keep, w0, sizeof keep);
    assert_int_equal(nninit_wn_init(net, x, batch, &o, NULL, &err), NNINIT_ENUMERIC);
    assert_non_null(strstr(err.msg, "layer 1 (dense_1), unit 0: no variance on the batch"));
    assert_memory_equal(keep, w0, sizeof keep);

    /* options, batch, NULL */
    o.scale = 0;
    assert_int_equal(nninit_wn_init(net, x, batch, &o, NULL, &err), NNINIT_EINVAL);
    o = nninit_wn_init_opts_default();
    o.min_std_ratio = 1;
    assert_int_equal(nninit_wn_init(net, x, batch, &o, NULL, &err), NNINIT_EINVAL);
    o = nninit_wn_init_opts_default();
    assert_int_equal(nninit_wn_init(net, x, 1, &o, NULL, &err), NNINIT_EINVAL);
    assert_int_equal(nninit_wn_init(NULL, x, batch, &o, NULL, &err), NNINIT_EMISUSE);
    nninit_net_free(net);

    /* a dense layer without a bias cannot be shifted */
    nninit_layer_desc L = nninit_layer_desc_default(NNINIT_LAYER_DENSE);
    L.units = 4;
    L.use_bias = 0;
    assert_ok(nninit_net_new(width, &L, 1, NULL, &net, &err), &err);
    assert_int_equal(nninit_wn_init(net, x, batch, &o, NULL, &err), NNINIT_EINVAL);
    assert_non_null(strstr(err.msg, "(dense_0) has no bias"));
    nninit_net_free(net);

    /* a recurrent layer is refused by name */
    nninit_layer_desc R[2];
    R[0] = nninit_layer_desc_default(NNINIT_LAYER_SIMPLE_RNN);
    R[0].units = 4;
    R[1] = nninit_layer_desc_default(NNINIT_LAYER_DENSE);
    R[1].units = 2;
    nninit_shape in = {2, {4, 4}};
    assert_ok(nninit_net_new_shaped(&in, R, 2, NULL, &net, &err), &err);
    assert_int_equal(nninit_wn_init(net, x, batch, &o, NULL, &err), NNINIT_EINVAL);
    assert_non_null(strstr(err.msg, "layer 0 ("));
    assert_non_null(strstr(err.msg, "defined for dense and conv2d"));
    nninit_net_free(net);
    free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_dense_standardized),
                                       cmocka_unit_test(test_conv_standardized), cmocka_unit_test(test_errors)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
