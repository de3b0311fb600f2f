/* The recurrent kernels (src/nn/seq_rnn.c, checked against finite
 * differences and PyTorch in test_nn_seq_grad / test_nn_seq_torch) wired into
 * the network as layers: a net of one SimpleRNN / LSTM / GRU layer must give
 * exactly (bit for bit) the kernel's own output and gradients on the same
 * weights, and a recurrent layer must refuse images. */
#include "util.h"

#include "nn/internal.h"

static uint64_t lcg = 99;
static float urandf(void)
{
    lcg = lcg * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((double)(lcg >> 11) * 0x1.0p-53 * 2.0 - 1.0);
}

static void check_kind(nninit_layer_kind kind, int return_sequences, int reset_after, nninit_act act)
{
    const int64_t B = 3, T = 5, F = 4, U = 6;
    nninit_layer_desc d = nninit_layer_desc_default(kind);
    d.units = U;
    d.return_sequences = return_sequences;
    d.reset_after = reset_after;
    d.act = act;
    nninit_shape in = {2, {T, F}};
    nninit_net *net = NULL;
    nninit_err err = {0};
    assert_ok(nninit_net_new_shaped(&in, &d, 1, NULL, &net, &err), &err);
    nninit__layer *L = &net->layers[0];
    assert_int_equal(L->n_params, 3);
    for (int p = 0; p < 3; p++)
        for (int64_t e = 0; e < L->param[p].n; e++)
            L->param[p].value[e] = 0.5f * urandf();
    int64_t nx = B * T * F, ny = B * nninit_net_n_outputs(net);
    float *x = malloc((size_t)nx * sizeof *x), *dy = malloc((size_t)ny * sizeof *dy);
    for (int64_t e = 0; e < nx; e++)
        x[e] = urandf();
    for (int64_t e = 0; e < ny; e++)
        dy[e] = urandf();
    const float *y;
    assert_ok(nninit_net_forward(net, x, B, 1, &y, &err), &err);
    assert_ok(nninit_net_backward(net, dy, 1, &err), &err);
    /* the kernel by hand */
    nninit__rnn_spec sp = {kind == NNINIT_LAYER_LSTM  ? NNINIT__CELL_LSTM
                           : kind == NNINIT_LAYER_GRU ? NNINIT__CELL_GRU
                                                      : NNINIT__CELL_SIMPLE,
                           0, reset_after, act == NNINIT_ACT_RELU, return_sequences, F, U};
    int split = sp.cell == NNINIT__CELL_GRU && reset_after;
    const float *b = L->param[2].value;
    nninit__rnn_weights w = {L->param[0].value, L->param[1].value, b, split ? b + 3 * U : NULL};
    float *cache = malloc(nninit__rnn_cache_floats(&sp, B, T) * sizeof *cache);
    float *yr = malloc((size_t)ny * sizeof *yr), *dxr = malloc((size_t)nx * sizeof *dxr);
    float *gk = malloc((size_t)L->param[0].n * sizeof *gk), *gr = malloc((size_t)L->param[1].n * sizeof *gr);
    float *gb = malloc((size_t)L->param[2].n * sizeof *gb);
    nninit__rnn_forward(&sp, &w, x, B, T, cache, yr);
    nninit__rnn_grads g = {gk, gr, gb, split ? gb + 3 * U : NULL};
    nninit__rnn_backward(&sp, &w, B, T, cache, dy, &g, dxr);
    assert_memory_equal(y, yr, (size_t)ny * sizeof *y);
    int64_t rows, cols;
    assert_memory_equal(nninit_net_tensor(net, 0, NNINIT_T_GRAD_INPUT, &rows, &cols), dxr, (size_t)nx * sizeof *dxr);
    assert_memory_equal(L->param[0].grad, gk, (size_t)L->param[0].n * sizeof *gk);
    assert_memory_equal(L->param[1].grad, gr, (size_t)L->param[1].n * sizeof *gr);
    assert_memory_equal(L->param[2].grad, gb, (size_t)L->param[2].n * sizeof *gb);
    /* and the gradient is not trivially zero */
    double s = 0;
    for (int64_t e = 0; e < L->param[1].n; e++)
        s += fabs(gr[e]);
    assert_true(s > 1e-3);
    free(cache), free(yr), free(dxr), free(gk), free(gr), free(gb), free(x), free(dy);
    nninit_net_free(net);
}

static void test_layers_equal_kernels(void **state)
{
    (void)state;
    check_kind(NNINIT_LAYER_SIMPLE_RNN, 1, 1, NNINIT_ACT_TANH);
    check_kind(NNINIT_LAYER_SIMPLE_RNN, 0, 1, NNINIT_ACT_RELU);
    check_kind(NNINIT_LAYER_LSTM, 1, 1, NNINIT_ACT_TANH);
    check_kind(NNINIT_LAYER_LSTM, 0, 1, NNINIT_ACT_TANH);
    check_kind(NNINIT_LAYER_GRU, 0, 1, NNINIT_ACT_TANH);
    check_kind(NNINIT_LAYER_GRU, 1, 0, NNINIT_ACT_TANH);
}

static void test_shapes(void **state)
{
    (void)state;
    nninit_layer_desc d[2];
    d[0] = nninit_layer_desc_default(NNINIT_LAYER_LSTM);
    d[0].units = 8;
    d[1] = nninit_layer_desc_default(NNINIT_LAYER_DENSE);
    d[1].units = 3;
    nninit_shape seq = {2, {28, 28}}, img = {3, {28, 28, 1}};
    nninit_net *net = NULL;
    nninit_err err = {0};
    assert_ok(nninit_net_new_shaped(&seq, d, 2, NULL, &net, &err), &err);
    nninit_layer_info li;
    assert_ok(nninit_net_layer_info(net, 0, &li, &err), &err);
    assert_int_equal(li.out_shape.ndim, 1);
    assert_int_equal(li.out_shape.dim[0], 8);
    /* Keras' forget-gate bias: ones in the second block, zeros elsewhere */
    float *b;
    assert_ok(nninit_net_param(net, 0, 2, &b, NULL, NULL, NULL, &err), &err);
    assert_true(b[0] == 0.0f && b[8] == 1.0f && b[15] == 1.0f && b[16] == 0.0f);
    nninit_net_free(net);
    assert_int_equal(nninit_net_new_shaped(&img, d, 2, NULL, &net, &err), NNINIT_EINVAL);
    assert_non_null(strstr(err.msg, "lstm_0: cannot take the (28, 28, 1) network input"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_layers_equal_kernels), cmocka_unit_test(test_shapes)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
