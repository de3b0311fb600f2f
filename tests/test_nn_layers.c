/* Layers, optimizers and schedules against hand-computed values; the
 * initialisation streams of a network against nninit_fill; error paths. */
#include "util.h"

#include "nn/internal.h"

static nninit_layer_desc dense(int64_t units, nninit_act act, const char *kinit, const char *binit)
{
    nninit_layer_desc d = nninit_layer_desc_default(NNINIT_LAYER_DENSE);
    d.units = units;
    d.act = act;
    if (kinit)
        strcpy(d.kernel_init, kinit);
    if (binit)
        strcpy(d.bias_init, binit);
    return d;
}

/* Each tensor is nninit_fill of its own named stream: bit for bit. */
static void test_init_streams(void **state)
{
    (void)state;
    nninit_layer_desc L[3] = {dense(3, NNINIT_ACT_RELU, "he_normal", "RandomNormal(stddev=0.5)"),
                              nninit_layer_desc_default(NNINIT_LAYER_BATCHNORM),
                              dense(2, NNINIT_ACT_LINEAR, "glorot_uniform", NULL)};
    strcpy(L[1].gamma_init, "RandomUniform()");
    nninit_err err;
    for (int lay = 0; lay < 2; lay++) {
        nninit_net_opts no = nninit_net_opts_default();
        no.seed = 99;
        no.layout = lay ? NNINIT_LAYOUT_TORCH : NNINIT_LAYOUT_KERAS;
        nninit_net *net;
        assert_ok(nninit_net_new(4, L, 3, &no, &net, &err), &err);
        nninit_rng *rng;
        assert_ok(nninit_rng_new(NNINIT_RNG_PHILOX, 99, &rng, &err), &err);
        struct {
            int layer, which;
            const char *name, *spec;
            int ndim;
            int64_t d0, d1;
        } cases[] = {
            {0, 0, "dense_0/kernel", "he_normal", 2, 4, 3},
            {0, 1, "dense_0/bias", "RandomNormal(stddev=0.5)", 1, 3, 0},
            {1, 0, "batch_normalization_0/gamma", "RandomUniform()", 1, 3, 0},
            {1, 1, "batch_normalization_0/beta", "zeros", 1, 3, 0},
            {2, 0, "dense_1/kernel", "glorot_uniform", 2, 3, 2},
        };
        for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
            float *v;
            const char *name;
            nninit_shape shape;
            assert_ok(nninit_net_param(net, cases[c].layer, cases[c].which, &v, NULL, &shape, &name, &err), &err);
            assert_string_equal(name, cases[c].name);
            assert_int_equal(shape.ndim, cases[c].ndim);
            assert_int_equal(shape.dim[0], cases[c].d0); /* always (in, out) in the engine */
            nninit_init init;
            assert_ok(nninit_init_parse(cases[c].spec, &init, &err), &err);
            nninit_fill_opts fo = nninit_fill_opts_default();
            fo.stream = nninit_stream_from_name(cases[c].name);
            fo.layout = no.layout;
            nninit_shape fs = shape;
            int transposed = shape.ndim == 2 && no.layout == NNINIT_LAYOUT_TORCH;
            if (transposed) { /* torch fills (out, in) */
                fs.dim[0] = shape.dim[1];
                fs.dim[1] = shape.dim[0];
            }
            float ref[12];
            assert_ok(nninit_fill(&init, &fs, &fo, rng, ref, &err), &err);
            int64_t n = shape.ndim == 2 ? shape.dim[0] * shape.dim[1] : shape.dim[0];
            for (int64_t i = 0; i < n; i++) {
                int64_t j = i;
                if (transposed) /* engine (in, out) element (r, c) is torch's (c, r) */
                    j = (i % shape.dim[1]) * shape.dim[0] + i / shape.dim[1];
                assert_memory_equal(&v[i], &ref[j], sizeof(float));
            }
        }
        nninit_rng_free(rng);
        nninit_net_free(net);
    }
}

static void test_dense_hand(void **state)
{
    (void)state;
    nninit_layer_desc L = dense(2, NNINIT_ACT_RELU, "zeros", "zeros");
    nninit_net *net;
    nninit_err err;
    assert_ok(nninit_net_new(3, &L, 1, NULL, &net, &err), &err);
    float *w, *b;
    assert_ok(nninit_net_param(net, 0, 0, &w, NULL, NULL, NULL, &err), &err);
    assert_ok(nninit_net_param(net, 0, 1, &b, NULL, NULL, NULL, &err), &err);
    /* W (3, 2) = [[1, -1], [2, 0], [0, 3]], b = [0.5, -4] */
    float wv[6] = {1, -1, 2, 0, 0, 3}, bv[2] = {0.5f, -4};
    memcpy(w, wv, sizeof wv);
    memcpy(b, bv, sizeof bv);
    float x[6] = {1, 1, 1, 2, 0, 1}; /* rows (1,1,1), (2,0,1) */
    const float *out;
    assert_ok(nninit_net_forward(net, x, 2, 0, &out, &err), &err);
    /* pre: row0 (1+2+0+0.5, -1+0+3-4) = (3.5, -2); row1 (2+0+0+0.5, -2+0+3-4) = (2.5, -3) */
    const float *pre = nninit_net_tensor(net, 0, NNINIT_T_PREACT, NULL, NULL);
    float want_pre[4] = {3.5f, -2, 2.5f, -3}, want_out[4] = {3.5f, 0, 2.5f, 0};
    assert_memory_equal(pre, want_pre, sizeof want_pre);
    assert_memory_equal(out, want_out, sizeof want_out);
    assert_ptr_equal(nninit_net_tensor(net, 0, NNINIT_T_OUTPUT, NULL, NULL), out);
    assert_ptr_equal(nninit_net_tensor(net, 0, NNINIT_T_INPUT, NULL, NULL), x);
    /* backward with dout = 1: dz = (1, 0) per row; dW = x^T dz; db = (2, 0); dx = dz W^T */
    float dout[4] = {1, 1, 1, 1};
    assert_null(nninit_net_tensor(net, 0, NNINIT_T_GRAD_INPUT, NULL, NULL)); /* nothing before backward */
    assert_ok(nninit_net_backward(net, dout, 1, &err), &err);
    float *gw, *gb;
    assert_ok(nninit_net_param(net, 0, 0, NULL, &gw, NULL, NULL, &err), &err);
    assert_ok(nninit_net_param(net, 0, 1, NULL, &gb, NULL, NULL, &err), &err);
    float want_gw[6] = {3, 0, 1, 0, 2, 0}, want_gb[2] = {2, 0}, want_dx[6] = {1, 2, 0, 1, 2, 0};
    assert_memory_equal(gw, want_gw, sizeof want_gw);
    assert_memory_equal(gb, want_gb, sizeof want_gb);
    assert_memory_equal(nninit_net_tensor(net, 0, NNINIT_T_GRAD_INPUT, NULL, NULL), want_dx, sizeof want_dx);
    float want_dz[4] = {1, 0, 1, 0};
    assert_memory_equal(nninit_net_tensor(net, 0, NNINIT_T_GRAD_PREACT, NULL, NULL), want_dz, sizeof want_dz);
    assert_ptr_equal(nninit_net_tensor(net, 0, NNINIT_T_GRAD_OUTPUT, NULL, NULL), dout);
    /* without want_input_grad the first layer's input gradient is not computed */
    assert_ok(nninit_net_backward(net, dout, 0, &err), &err);
    assert_null(nninit_net_tensor(net, 0, NNINIT_T_GRAD_INPUT, NULL, NULL));
    nninit_net_free(net);
}

static void test_batchnorm_train_eval(void **state)
{
    (void)state;
    nninit_layer_desc L[2] = {nninit_layer_desc_default(NNINIT_LAYER_BATCHNORM),
                              nninit_layer_desc_default(NNINIT_LAYER_BATCHNORM)};
    L[1].momentum = 0.0; /* running statistics = the last batch's */
    nninit_net *net;
    nninit_err err;
    assert_ok(nninit_net_new(1, L, 1, NULL, &net, &err), &err);
    float x[4] = {1, 2, 3, 4}; /* mean 2.5, biased variance 1.25 */
    const float *out;
    assert_ok(nninit_net_forward(net, x, 4, 1, &out, &err), &err);
    for (int i = 0; i < 4; i++)
        assert_close(out[i], ((double)x[i] - 2.5) / sqrt(1.25 + 1e-3), 1e-6);
    /* Keras: moving = moving * 0.99 + batch * 0.01, from (0, 1) */
    assert_close(net->layers[0].run_mean[0], 0.025, 1e-7);
    assert_close(net->layers[0].run_var[0], 0.99 + 0.0125, 1e-7);
    assert_ok(nninit_net_forward(net, x, 4, 0, &out, &err), &err);
    for (int i = 0; i < 4; i++)
        assert_close(out[i], ((double)x[i] - 0.025) / sqrt(1.0025 + 1e-3), 1e-6);
    /* evaluation mode leaves the running statistics alone */
    assert_close(net->layers[0].run_mean[0], 0.025, 1e-7);
    nninit_net_free(net);

    assert_ok(nninit_net_new(1, L + 1, 1, NULL, &net, &err), &err);
    float train_out[4];
    assert_ok(nninit_net_forward(net, x, 4, 1, &out, &err), &err);
    memcpy(train_out, out, sizeof train_out);
    assert_ok(nninit_net_forward(net, x, 4, 0, &out, &err), &err);
    for (int i = 0; i < 4; i++)
        assert_close(out[i], train_out[i], 1e-6);
    nninit_net_free(net);
}

static void test_dropout(void **state)
{
    (void)state;
    enum { N = 100000 };
    nninit_layer_desc L = nninit_layer_desc_default(NNINIT_LAYER_DROPOUT);
    L.rate = 0.25;
    nninit_net *net, *net2;
    nninit_err err;
    assert_ok(nninit_net_new(N, &L, 1, NULL, &net, &err), &err);
    assert_ok(nninit_net_new(N, &L, 1, NULL, &net2, &err), &err);
    float *x = malloc(N * sizeof *x), *first = malloc(N * sizeof *first);
    for (int i = 0; i < N; i++)
        x[i] = 1.0f + (float)(i % 7);
    const float *out;
    assert_ok(nninit_net_forward(net, x, 1, 1, &out, &err), &err);
    int dropped = 0;
    for (int i = 0; i < N; i++) {
        if (out[i] == 0.0f)
            dropped++;
        else
            assert_close(out[i], (double)x[i] / 0.75, 1e-6 * (double)x[i]); /* inverted dropout keeps the mean */
    }
    /* dropped ~ Binomial(N, 0.25): sd = sqrt(0.25 * 0.75 / N) = 0.00137; 5 sd = 0.0068.
     * Keeping with probability `rate` instead (a swapped rule) gives 0.75. */
    assert_close((double)dropped / N, 0.25, 0.0068);
    memcpy(first, out, N * sizeof *first);
    /* same seed, same draw -> same mask; the next training forward draws a new one */
    assert_ok(nninit_net_forward(net2, x, 1, 1, &out, &err), &err);
    assert_memory_equal(out, first, N * sizeof *first);
    assert_ok(nninit_net_forward(net, x, 1, 1, &out, &err), &err);
    assert_true(memcmp(out, first, N * sizeof *first) != 0);
    /* evaluation mode: identity */
    assert_ok(nninit_net_forward(net, x, 1, 0, &out, &err), &err);
    assert_memory_equal(out, x, N * sizeof *x);
    free(x);
    free(first);
    nninit_net_free(net);
    nninit_net_free(net2);
}

/* A single linear unit y = w . x with x = (1, 1): dL/dw = dout * (1, 1). */
static nninit_net *unit_net(void)
{
    nninit_layer_desc L = dense(1, NNINIT_ACT_LINEAR, "zeros", NULL);
    L.use_bias = 0;
    nninit_net *net;
    nninit_err err;
    assert_ok(nninit_net_new(2, &L, 1, NULL, &net, &err), &err);
    float *w;
    nninit_net_param(net, 0, 0, &w, NULL, NULL, NULL, NULL);
    w[0] = 1.0f;
    w[1] = 2.0f;
    return net;
}

static void grad_step(nninit_net *net, float dout, const nninit_optim_opts *o, double lr)
{
    float x[2] = {1, 1};
    nninit_err err;
    assert_ok(nninit_net_forward(net, x, 1, 1, NULL, &err), &err);
    assert_ok(nninit_net_backward(net, &dout, 0, &err), &err);
    assert_ok(nninit_net_step(net, o, lr, &err), &err);
}

static void test_optimizers(void **state)
{
    (void)state;
    nninit_optim_opts o = nninit_optim_opts_default();
    float *w;
    /* plain SGD: w -= lr g */
    nninit_net *net = unit_net();
    nninit_net_param(net, 0, 0, &w, NULL, NULL, NULL, NULL);
    grad_step(net, 1.0f, &o, 0.1);
    assert_close(w[0], 0.9, 1e-7);
    assert_close(w[1], 1.9, 1e-7);
    nninit_net_free(net);
    /* momentum 0.9: v1 = 1, w = 0.9; v2 = 0.9 + 1 = 1.9, w = 0.9 - 0.19 = 0.71 */
    o.momentum = 0.9;
    net = unit_net();
    nninit_net_param(net, 0, 0, &w, NULL, NULL, NULL, NULL);
    grad_step(net, 1.0f, &o, 0.1);
    grad_step(net, 1.0f, &o, 0.1);
    assert_close(w[0], 0.71, 1e-6);
    nninit_net_free(net);
    /* Nesterov: v1 = 1, step g + 0.9 v = 1.9: w = 1 - 0.19 = 0.81 */
    o.nesterov = 1;
    net = unit_net();
    nninit_net_param(net, 0, 0, &w, NULL, NULL, NULL, NULL);
    grad_step(net, 1.0f, &o, 0.1);
    assert_close(w[0], 0.81, 1e-6);
    nninit_net_free(net);
    /* coupled weight decay 0.1: g = 1 + 0.1 w: w0 = 1 - 0.1 * 1.1, w1 = 2 - 0.1 * 1.2 */
    o = nninit_optim_opts_default();
    o.weight_decay = 0.1;
    net = unit_net();
    nninit_net_param(net, 0, 0, &w, NULL, NULL, NULL, NULL);
    grad_step(net, 1.0f, &o, 0.1);
    assert_close(w[0], 0.89, 1e-6);
    assert_close(w[1], 1.88, 1e-6);
    nninit_net_free(net);
    /* Adam, gradients 1 then -2 (betas 0.9, 0.999, eps 1e-8, lr 0.1), in double here */
    o = nninit_optim_opts_default();
    o.kind = NNINIT_OPT_ADAM;
    net = unit_net();
    nninit_net_param(net, 0, 0, &w, NULL, NULL, NULL, NULL);
    grad_step(net, 1.0f, &o, 0.1);
    double m = 0.1, v = 0.001, wexp = 1.0 - 0.1 * (m / 0.1) / (sqrt(v / 0.001) + 1e-8);
    assert_close(w[0], wexp, 1e-6); /* first Adam step is lr * sign(g) */
    grad_step(net, -2.0f, &o, 0.1);
    m = 0.9 * m + 0.1 * -2.0;
    v = 0.999 * v + 0.001 * 4.0;
    double bc1 = 1 - 0.81, bc2 = 1 - 0.999 * 0.999;
    wexp -= 0.1 * (m / bc1) / (sqrt(v) / sqrt(bc2) + 1e-8);
    assert_close(w[0], wexp, 2e-6);
    assert_true((double)w[0] > 0.9 + 0.03); /* the step really went the other way */
    nninit_net_free(net);
}

static void test_optimizer_errors(void **state)
{
    (void)state;
    nninit_net *net = unit_net();
    nninit_optim_opts o = nninit_optim_opts_default();
    nninit_err err;
    assert_int_equal(nninit_net_step(net, &o, 0.1, &err), NNINIT_EMISUSE); /* no backward yet */
    float x[2] = {1, 1}, dout = 1;
    assert_int_equal(nninit_net_backward(net, &dout, 0, &err), NNINIT_EMISUSE); /* no forward yet */
    assert_ok(nninit_net_forward(net, x, 1, 1, NULL, &err), &err);
    assert_ok(nninit_net_backward(net, &dout, 0, &err), &err);
    o.nesterov = 1;
    assert_int_equal(nninit_net_step(net, &o, 0.1, &err), NNINIT_EINVAL);
    o = nninit_optim_opts_default();
    assert_int_equal(nninit_net_step(net, &o, NAN, &err), NNINIT_EINVAL);
    o.momentum = 1.0;
    assert_int_equal(nninit_net_step(net, &o, 0.1, &err), NNINIT_EINVAL);
    nninit_net_free(net);
}

static void test_schedules(void **state)
{
    (void)state;
    /* step: 10 steps an epoch, x0.1 every 2 epochs */
    assert_close(nninit_schedule_lr(NNINIT_SCHED_STEP, 0.1, 0, 2, 0.1, 0, 10, 100), 0.1, 1e-15);
    assert_close(nninit_schedule_lr(NNINIT_SCHED_STEP, 0.1, 0, 2, 0.1, 19, 10, 100), 0.1, 1e-15);
    assert_close(nninit_schedule_lr(NNINIT_SCHED_STEP, 0.1, 0, 2, 0.1, 20, 10, 100), 0.01, 1e-15);
    assert_close(nninit_schedule_lr(NNINIT_SCHED_STEP, 0.1, 0, 2, 0.1, 45, 10, 100), 0.001, 1e-15);
    /* cosine from 0.1 to 0.02 over 100 steps */
    assert_close(nninit_schedule_lr(NNINIT_SCHED_COSINE, 0.1, 0.02, 0, 0, 0, 10, 100), 0.1, 1e-15);
    assert_close(nninit_schedule_lr(NNINIT_SCHED_COSINE, 0.1, 0.02, 0, 0, 50, 10, 100), 0.06, 1e-15);
    assert_close(nninit_schedule_lr(NNINIT_SCHED_COSINE, 0.1, 0.02, 0, 0, 100, 10, 100), 0.02, 1e-15);
    assert_close(nninit_schedule_lr(NNINIT_SCHED_COSINE, 0.1, 0.0, 0, 0, 25, 10, 100),
                 0.05 * (1 + cos(0.78539816339744830962)), 1e-15);
    assert_close(nninit_schedule_lr(NNINIT_SCHED_CONSTANT, 0.1, 0, 0, 0, 77, 10, 100), 0.1, 0);
    nninit_schedule s;
    nninit_err err;
    assert_ok(nninit_schedule_parse("cosine", &s, &err), &err);
    assert_int_equal(s, NNINIT_SCHED_COSINE);
    assert_int_equal(nninit_schedule_parse("linear", &s, &err), NNINIT_ENOTFOUND);
}

static void test_net_errors(void **state)
{
    (void)state;
    nninit_err err;
    nninit_net *net = (nninit_net *)(uintptr_t)1;
    nninit_layer_desc L = dense(0, NNINIT_ACT_RELU, NULL, NULL);
    assert_int_equal(nninit_net_new(4, &L, 1, NULL, &net, &err), NNINIT_EINVAL);
    assert_null(net);
    L = dense(3, NNINIT_ACT_RELU, "he_normall", NULL);
    assert_int_equal(nninit_net_new(4, &L, 1, NULL, &net, &err), NNINIT_ENOTFOUND);
    assert_non_null(strstr(err.msg, "dense_0/kernel: "));
    L = nninit_layer_desc_default(NNINIT_LAYER_DROPOUT);
    L.rate = 1.0;
    assert_int_equal(nninit_net_new(4, &L, 1, NULL, &net, &err), NNINIT_EINVAL);
    L = nninit_layer_desc_default(NNINIT_LAYER_BATCHNORM);
    L.epsilon = 0.0;
    assert_int_equal(nninit_net_new(4, &L, 1, NULL, &net, &err), NNINIT_EINVAL);
    L = dense(3, NNINIT_ACT_RELU, NULL, NULL);
    assert_int_equal(nninit_net_new(0, &L, 1, NULL, &net, &err), NNINIT_EINVAL);
    assert_int_equal(nninit_net_new(4, &L, 0, NULL, &net, &err), NNINIT_EINVAL);
    assert_ok(nninit_net_new(4, &L, 1, NULL, &net, &err), &err);
    assert_int_equal(nninit_net_param(net, 0, 2, NULL, NULL, NULL, NULL, &err), NNINIT_EINVAL);
    assert_int_equal(nninit_net_param(net, 1, 0, NULL, NULL, NULL, NULL, &err), NNINIT_EINVAL);
    float x[4] = {0};
    assert_int_equal(nninit_net_forward(net, x, 0, 1, NULL, &err), NNINIT_EINVAL);
    nninit_layer_info info;
    assert_ok(nninit_net_layer_info(net, 0, &info, &err), &err);
    assert_string_equal(info.name, "dense_0");
    assert_int_equal(info.n_in, 4);
    assert_int_equal(info.n_out, 3);
    assert_int_equal(nninit_net_layer_info(net, 1, &info, &err), NNINIT_EINVAL);
    assert_null(nninit_net_tensor(net, 0, NNINIT_T_OUTPUT, NULL, NULL)); /* no forward yet */
    nninit_net_free(net);
    nninit_net_free(NULL);
}

/* The network input's gradient: with one reader it is that layer's input
 * gradient; with two (a residual block at the input: dense then add of the
 * dense output and the input) the sum of both readers' gradients, in layer
 * order, as the engine sums any layer's readers. NULL without
 * want_input_grad. */
static void test_input_grad(void **state)
{
    (void)state;
    enum { B = 3, N = 4 };
    nninit_layer_desc L[2] = {dense(N, NNINIT_ACT_TANH, "glorot_uniform", "RandomNormal(stddev=0.5)"),
                              nninit_layer_desc_default(NNINIT_LAYER_ADD)};
    L[0].input[0] = NNINIT_INPUT_NET;
    L[1].input[0] = 0;
    L[1].input[1] = NNINIT_INPUT_NET;
    float x[B * N], dout[B * N];
    for (int i = 0; i < B * N; i++) {
        x[i] = (float)sin(0.7 * i + 0.3);
        dout[i] = (float)cos(1.3 * i);
    }
    nninit_err err;
    for (int n_layers = 1; n_layers <= 2; n_layers++) {
        nninit_net *net = NULL;
        assert_ok(nninit_net_new(N, L, n_layers, NULL, &net, &err), &err);
        assert_ok(nninit_net_forward(net, x, B, 1, NULL, &err), &err);
        assert_ok(nninit_net_backward(net, dout, 0, &err), &err);
        assert_null(nninit_net_input_grad(net, NULL, NULL));
        assert_ok(nninit_net_backward(net, dout, 1, &err), &err);
        int64_t rows = 0, cols = 0;
        const float *gx = nninit_net_input_grad(net, &rows, &cols);
        assert_non_null(gx);
        assert_int_equal(rows, B);
        assert_int_equal(cols, N);
        const float *g_dense = nninit_net_tensor(net, 0, NNINIT_T_GRAD_INPUT, NULL, NULL);
        for (int i = 0; i < B * N; i++) {
            float expect = n_layers == 1 ? g_dense[i] : g_dense[i] + dout[i];
            assert_memory_equal(&gx[i], &expect, sizeof expect);
        }
        if (n_layers == 2) /* the skip's share is there: not the dense layer's gradient alone */
            assert_true(fabsf(gx[0] - g_dense[0]) > 0.1f);
        nninit_net_free(net);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_streams),     cmocka_unit_test(test_dense_hand),
        cmocka_unit_test(test_batchnorm_train_eval), cmocka_unit_test(test_dropout),
        cmocka_unit_test(test_optimizers),       cmocka_unit_test(test_optimizer_errors),
        cmocka_unit_test(test_schedules),        cmocka_unit_test(test_net_errors),
        cmocka_unit_test(test_input_grad),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
