/*
 * Recurrent memory (issue 12, step 3): the adding problem (Hochreiter &
 * Schmidhuber 1997, in Le et al. 2015's form) at a length where memory
 * matters, with
 *   SimpleRNN: IRNN (relu, identity recurrent kernel, N(0, 0.001) input
 *              kernel; Le et al. 2015), orthogonal and glorot_uniform
 *              recurrent kernels (tanh)
 *   LSTM:      forget-gate bias 0, 1 (Keras unit_forget_bias) and chrono
 *              init (Tallec & Ollivier 2018: b_f = log U(1, T - 1), b_i = -b_f)
 * Measured: the gradient reaching each time step's input at init, and the
 * test mean squared error after a fixed budget of Adam steps. The engine's
 * nninit_train takes classification sets, so the loop (forward, MSE,
 * backward, step) is written here on the public net API.
 */
#include "lab_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_T 256
#define MAX_CURVE 64

typedef struct seq_result {
    double grad_t[MAX_T];   /* rms of dL/dx_t over the batch, t = 1..T */
    double ratio;           /* grad_t[first] / grad_t[last] */
    double curve[MAX_CURVE]; /* training loss, mean over each stretch of steps */
    int n_curve;
    double test_mse;
    int diverged;
} seq_result;

typedef struct seq_variant {
    const char *label;
    nninit_layer_kind kind;
    nninit_act act;
    const char *kernel_init, *recurrent_init;
    int unit_forget_bias;
    int chrono;
} seq_variant;

/* Chrono init: forget-gate bias log(u), u ~ U(1, T - 1), input-gate bias
 * its negative (Keras gate order i, f, c, o in blocks of units). */
static nninit_status chrono_init(nninit_net *net, int64_t units, int64_t steps, uint64_t seed, nninit_err *err)
{
    float *bias = NULL;
    nninit_status st = nninit_net_param(net, 0, 2, &bias, NULL, NULL, NULL, err);
    if (st != NNINIT_OK)
        return st;
    nninit_rng *rng = NULL;
    nninit_init init;
    char spec[96];
    snprintf(spec, sizeof spec, "RandomUniform(minval=1, maxval=%lld)", (long long)(steps - 1));
    nninit_shape shape = {1, {units}};
    nninit_fill_opts fo = nninit_fill_opts_default();
    fo.stream = nninit_stream_from_name("lab/chrono");
    float *u = malloc((size_t)units * sizeof *u);
    if (!u)
        return nninit_err_set(err, NNINIT_ENOMEM, "lab: out of memory for chrono init");
    st = nninit_rng_new(NNINIT_RNG_PHILOX, seed, &rng, err);
    if (st == NNINIT_OK)
        st = nninit_init_parse(spec, &init, err);
    if (st == NNINIT_OK)
        st = nninit_fill(&init, &shape, &fo, rng, u, err);
    nninit_rng_free(rng);
    for (int64_t j = 0; st == NNINIT_OK && j < units; j++) {
        bias[units + j] = (float)log((double)u[j]); /* forget */
        bias[j] = -bias[units + j];                 /* input */
    }
    free(u);
    return st;
}

static nninit_status seq_run(lab_ctx *c, const seq_variant *v, int64_t units, const nninit_seqset *train,
                             const nninit_seqset *test, int n_steps, double base, double share, seq_result *res,
                             nninit_err *err)
{
    const int64_t T = train->steps, F = train->dim, batch = 64;
    memset(res, 0, sizeof *res);
    nninit_layer_desc L[2];
    L[0] = nninit_layer_desc_default(v->kind);
    L[0].units = units;
    L[0].act = v->act;
    snprintf(L[0].kernel_init, sizeof L[0].kernel_init, "%s", v->kernel_init);
    snprintf(L[0].recurrent_init, sizeof L[0].recurrent_init, "%s", v->recurrent_init);
    L[0].unit_forget_bias = v->unit_forget_bias;
    L[1] = nninit_layer_desc_default(NNINIT_LAYER_DENSE);
    L[1].units = 1;
    L[1].act = NNINIT_ACT_LINEAR;
    nninit_shape in = {2, {T, F}};
    nninit_net_opts no = nninit_net_opts_default();
    no.seed = c->cfg.seed;
    nninit_net *net = NULL;
    nninit_status st = nninit_net_new_shaped(&in, L, 2, &no, &net, err);
    if (st == NNINIT_OK && v->chrono)
        st = chrono_init(net, units, T, c->cfg.seed, err);
    float dout[256];
    const float *out = NULL;
    double loss = 0;
    /* the gradient reaching each step's input at init, on 128 sequences */
    int64_t rows = train->n < 128 ? train->n : 128;
    if (st == NNINIT_OK)
        st = nninit_net_forward(net, train->x, rows, 1, &out, err);
    if (st == NNINIT_OK)
        st = nninit_loss(NNINIT_LOSS_MSE, out, rows, 1, NULL, train->yf, &loss, dout, err);
    if (st == NNINIT_OK)
        st = nninit_net_backward(net, dout, 1, err);
    if (st == NNINIT_OK) {
        int64_t r, cols;
        const float *g = nninit_net_tensor(net, 0, NNINIT_T_GRAD_INPUT, &r, &cols);
        for (int64_t t = 0; t < T && t < MAX_T; t++) {
            double s = 0;
            for (int64_t i = 0; g && i < r; i++)
                for (int64_t f = 0; f < F; f++)
                    s += (double)g[i * cols + t * F + f] * (double)g[i * cols + t * F + f];
            res->grad_t[t] = g ? sqrt(s / (double)r) : (double)NAN;
        }
        res->ratio = res->grad_t[0] / res->grad_t[T - 1];
    }
    /* training: Adam (torch defaults), lr 1e-3, batches in order, cycling */
    nninit_optim_opts oo = nninit_optim_opts_default();
    oo.kind = NNINIT_OPT_ADAM;
    oo.lr = 1e-3;
    int per_point = n_steps / MAX_CURVE > 0 ? n_steps / MAX_CURVE : 1;
    if (per_point < n_steps / 32)
        per_point = n_steps / 32;
    double acc = 0;
    int in_acc = 0;
    for (int k = 0; st == NNINIT_OK && k < n_steps && !res->diverged; k++) {
        int64_t b0 = ((int64_t)k * batch) % (train->n - batch + 1);
        st = nninit_net_forward(net, train->x + b0 * T * F, batch, 1, &out, err);
        if (st == NNINIT_OK)
            st = nninit_loss(NNINIT_LOSS_MSE, out, batch, 1, NULL, train->yf + b0, &loss, dout, err);
        if (st != NNINIT_OK)
            break;
        if (!isfinite(loss)) {
            res->diverged = 1;
            break;
        }
        acc += loss;
        if (++in_acc == per_point && res->n_curve < MAX_CURVE) {
            res->curve[res->n_curve++] = acc / in_acc;
            acc = 0;
            in_acc = 0;
        }
        st = nninit_net_backward(net, dout, 0, err);
        if (st == NNINIT_OK)
            st = nninit_net_step(net, &oo, oo.lr, err);
        if (k % 16 == 0)
            lab_progress(c, base + share * k / n_steps);
    }
    /* test MSE, evaluation mode */
    double sum = 0;
    for (int64_t b0 = 0; st == NNINIT_OK && !res->diverged && b0 < test->n; b0 += 256) {
        int64_t nb = test->n - b0 < 256 ? test->n - b0 : 256;
        st = nninit_net_forward(net, test->x + b0 * T * F, nb, 0, &out, err);
        for (int64_t i = 0; st == NNINIT_OK && i < nb; i++) {
            double d = (double)out[i] - (double)test->yf[b0 + i];
            sum += d * d;
        }
    }
    res->test_mse = res->diverged ? (double)NAN : sum / (double)test->n;
    nninit_net_free(net);
    return st;
}

nninit_status lab_recurrent(lab_ctx *c, nninit_err *err)
{
    const int64_t T = c->cfg.quick ? 50 : 100, units = 32;
    const int n_steps = c->cfg.quick ? 1500 : 3000;
    enum { N = 6 };
    static const seq_variant V[N] = {
        {"IRNN (relu, identity)", NNINIT_LAYER_SIMPLE_RNN, NNINIT_ACT_RELU, "RandomNormal(stddev=0.001)", "identity", 0, 0},
        {"tanh, orthogonal", NNINIT_LAYER_SIMPLE_RNN, NNINIT_ACT_TANH, "glorot_uniform", "orthogonal", 0, 0},
        {"tanh, glorot_uniform", NNINIT_LAYER_SIMPLE_RNN, NNINIT_ACT_TANH, "glorot_uniform", "glorot_uniform", 0, 0},
        {"LSTM, forget bias 0", NNINIT_LAYER_LSTM, NNINIT_ACT_TANH, "glorot_uniform", "orthogonal", 0, 0},
        {"LSTM, forget bias 1", NNINIT_LAYER_LSTM, NNINIT_ACT_TANH, "glorot_uniform", "orthogonal", 1, 0},
        {"LSTM, chrono", NNINIT_LAYER_LSTM, NNINIT_ACT_TANH, "glorot_uniform", "orthogonal", 0, 1},
    };
    doc_text(c->doc, "The adding problem (Le et al. 2015's form): %lld steps of two features, a value in [0, 1) and "
             "a marker set at two steps (one in each half); the target is the sum of the two marked values. "
             "Predicting 1 always gives a mean squared error of 1/6 = 0.167. A recurrent layer of %lld units then "
             "Dense(1); 10000 training and 1000 test sequences; %d Adam steps (lr 0.001, batch 64). SimpleRNN: IRNN "
             "(relu, identity recurrent kernel, N(0, 0.001) input kernel), orthogonal and glorot_uniform recurrent "
             "kernels with tanh. LSTM (recurrent kernel orthogonal): forget-gate bias 0, 1 (Keras "
             "unit_forget_bias) and chrono (b_f = log u, u ~ U(1, %lld), b_i = -b_f). At init, on 128 sequences: "
             "rms of the gradient reaching the first step's input over the last step's. Criteria (stated before the "
             "run): (a) IRNN and orthogonal both carry more gradient to the first step than glorot_uniform, and the "
             "better of them ends with a test MSE below 0.1 and below half of glorot_uniform's; (b) forget bias 1 and "
             "chrono both carry more gradient to the first step than bias 0, and both end with a lower test MSE.",
             (long long)T, (long long)units, n_steps, (long long)(T - 1));
    nninit_seqset train, test;
    memset(&train, 0, sizeof train);
    memset(&test, 0, sizeof test);
    nninit_status st = nninit_adding_problem(10000, T, c->cfg.seed, &train, err);
    if (st == NNINIT_OK)
        st = nninit_adding_problem(1000, T, c->cfg.seed + 1, &test, err);
    seq_result *res = calloc(N, sizeof *res);
    if (st == NNINIT_OK && !res)
        st = nninit_err_set(err, NNINIT_ENOMEM, "lab: out of memory for the recurrent runs");
    static const char *head[] = {"recurrent layer", "grad first / last step", "test MSE"};
    if (st == NNINIT_OK)
        doc_table(c->doc, 3, head);
    for (int k = 0; st == NNINIT_OK && k < N; k++) {
        lab_progress(c, k / (double)N);
        st = seq_run(c, &V[k], units, &train, &test, n_steps, k / (double)N, 1.0 / N, &res[k], err);
        if (st != NNINIT_OK)
            break;
        doc_cell_text(c->doc, "%s", V[k].label);
        doc_cell_num(c->doc, "%.3g", res[k].ratio);
        if (res[k].diverged)
            doc_cell_text(c->doc, "diverged");
        else
            doc_cell_num(c->doc, "%.4f", res[k].test_mse);
        doc_row_end(c->doc);
    }
    if (st == NNINIT_OK) {
        double best = fmin(res[0].test_mse, res[1].test_mse);
        int ok_a = res[0].ratio > res[2].ratio && res[1].ratio > res[2].ratio && best < 0.1 &&
                   best < 0.5 * res[2].test_mse;
        lab_value va[] = {{"irnn_ratio", res[0].ratio},       {"orthogonal_ratio", res[1].ratio},
                          {"glorot_ratio", res[2].ratio},     {"irnn_mse", res[0].test_mse},
                          {"orthogonal_mse", res[1].test_mse}, {"glorot_mse", res[2].test_mse}};
        doc_lesson(c->doc, c->s, "recurrent kernels: identity (IRNN) and orthogonal remember longer than Glorot", ok_a,
                   va, 6,
                   "Measured: gradient first/last step %.3g IRNN, %.3g orthogonal, %.3g glorot_uniform; test MSE "
                   "%.4f, %.4f, %.4f (predicting 1: 0.167).",
                   res[0].ratio, res[1].ratio, res[2].ratio, res[0].test_mse, res[1].test_mse, res[2].test_mse);
        int ok_b = res[4].ratio > res[3].ratio && res[5].ratio > res[3].ratio && res[4].test_mse < res[3].test_mse &&
                   res[5].test_mse < res[3].test_mse;
        lab_value vb[] = {{"bias0_ratio", res[3].ratio},   {"bias1_ratio", res[4].ratio},
                          {"chrono_ratio", res[5].ratio},  {"bias0_mse", res[3].test_mse},
                          {"bias1_mse", res[4].test_mse}, {"chrono_mse", res[5].test_mse}};
        doc_lesson(c->doc, c->s, "LSTM: forget-gate bias 1 and chrono init beat bias 0", ok_b, vb, 6,
                   "Measured: gradient first/last step %.3g with bias 0, %.3g with bias 1, %.3g chrono; test MSE %.4f, "
                   "%.4f, %.4f.",
                   res[3].ratio, res[4].ratio, res[5].ratio, res[3].test_mse, res[4].test_mse, res[5].test_mse);
        double xt[MAX_T], xc[MAX_CURVE];
        for (int t = 0; t < T; t++)
            xt[t] = t + 1;
        int n_curve = res[0].n_curve;
        int per = n_steps / (n_curve > 0 ? n_curve : 1);
        for (int i = 0; i < MAX_CURVE; i++)
            xc[i] = (double)(i + 1) * per;
        nninit_plot_series sg1[3], sg2[3], sl[N];
        for (int k = 0; k < 3; k++) {
            sg1[k] = (nninit_plot_series){V[k].label, xt, res[k].grad_t, T, 0, k};
            sg2[k] = (nninit_plot_series){V[3 + k].label, xt, res[3 + k].grad_t, T, 0, 3 + k};
        }
        for (int k = 0; k < N; k++)
            sl[k] = (nninit_plot_series){V[k].label, xc, res[k].curve, res[k].n_curve, 0, k};
        nninit_plot p[3] = {{"SimpleRNN: gradient at init per step", "time step", "rms dL/dx_t", 0, 1, sg1, 3, 1},
                            {"LSTM: gradient at init per step", "time step", "rms dL/dx_t", 0, 1, sg2, 3, 1},
                            {"training loss (MSE)", "Adam step", "MSE", 0, 1, sl, N, 1}};
        st = doc_figure(c->doc, "recurrent", "the adding problem: gradient through time at init, and training", p, 3,
                        err);
    }
    free(res);
    nninit_seqset_free(&train);
    nninit_seqset_free(&test);
    return st;
}
