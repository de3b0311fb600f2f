/*
 * The tutorial's expert lessons that dense nets can show (the lab's second
 * step), each a question, a setup, measurements and a verdict from a
 * criterion stated before the run:
 *   pitfall-zeros          Dense(64, relu, zeros) vs he_normal
 *   pitfall-random-normal  Dense(128, tanh, random_normal) vs glorot_uniform, deep
 *   pitfall-glorot-relu    Dense(256, relu, glorot_uniform) vs he_normal, deep
 *   data-dependent         LSUV and weight-norm data-dependent init (Salimans &
 *                          Kingma 2016) repairing a badly scaled deep net
 *   real-data              measured propagation of Fashion-MNIST batches vs
 *                          the independent-input theory
 *   monitoring             the per-layer monitor of a bad and a good init
 *                          over the first optimizer steps
 */
#include "lab_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DENSE 64

/* Training images for these shorter experiments: 20000 in a full run, the
 * quick run's set otherwise. */
static int64_t short_limit(const lab_ctx *c) { return c->cfg.quick ? 0 : 20000; }

/* ---- the net at init: one forward and backward on a batch ---- */

typedef struct snapshot {
    int n;                       /* dense layers */
    double pre_m2[MAX_DENSE];    /* E[h^2] of x W + b over the batch */
    double act_m2[MAX_DENSE];    /* E[a^2] of the layer's output */
    double grad_norm[MAX_DENSE]; /* ||dL/dW|| of the kernel */
    double delta_rms[MAX_DENSE]; /* sqrt(E[(dL/dh)^2]): the gradient back-propagated to the pre-activation */
} snapshot;

static double m2(const float *v, int64_t n)
{
    double s = 0;
    for (int64_t i = 0; i < n; i++)
        s += (double)v[i] * (double)v[i];
    return n ? s / (double)n : (double)NAN;
}

/* Cross-entropy on the first `rows` images of d, backward, then per dense
 * layer the second moments and the kernel gradient's norm. */
static nninit_status take_snapshot(nninit_net *net, const nninit_dataset *d, int64_t rows, snapshot *sn,
                                   nninit_err *err)
{
    memset(sn, 0, sizeof *sn);
    rows = rows < d->n ? rows : d->n;
    const float *out = NULL;
    int64_t n_out = nninit_net_n_outputs(net);
    float *dout = malloc((size_t)(rows * n_out) * sizeof *dout);
    if (!dout)
        return nninit_err_set(err, NNINIT_ENOMEM, "lab: out of memory for a snapshot");
    double loss;
    nninit_status st = nninit_net_forward(net, d->x, rows, 0, &out, err);
    if (st == NNINIT_OK)
        st = nninit_loss(NNINIT_LOSS_SOFTMAX_CE, out, rows, n_out, d->y, NULL, &loss, dout, err);
    if (st == NNINIT_OK)
        st = nninit_net_backward(net, dout, 0, err);
    /* dout stays allocated while the layers are read: the last layer's
     * output gradient (its NNINIT_T_GRAD_PREACT when linear) is this buffer. */
    for (int l = 0; st == NNINIT_OK && l < nninit_net_n_layers(net) && sn->n < MAX_DENSE; l++) {
        nninit_layer_info info;
        st = nninit_net_layer_info(net, l, &info, err);
        if (st != NNINIT_OK || info.kind != NNINIT_LAYER_DENSE)
            continue;
        int64_t r, cols;
        const float *h = nninit_net_tensor(net, l, NNINIT_T_PREACT, &r, &cols);
        const float *a = nninit_net_tensor(net, l, NNINIT_T_OUTPUT, &r, &cols);
        const float *dh = nninit_net_tensor(net, l, NNINIT_T_GRAD_PREACT, &r, &cols);
        float *grad = NULL;
        nninit_shape shape;
        st = nninit_net_param(net, l, 0, NULL, &grad, &shape, NULL, err);
        if (st != NNINIT_OK)
            break;
        int64_t numel = 1;
        for (int k = 0; k < shape.ndim; k++)
            numel *= shape.dim[k];
        sn->pre_m2[sn->n] = h ? m2(h, r * cols) : (double)NAN;
        sn->act_m2[sn->n] = a ? m2(a, r * cols) : (double)NAN;
        sn->grad_norm[sn->n] = sqrt(m2(grad, numel) * (double)numel);
        sn->delta_rms[sn->n] = dh ? sqrt(m2(dh, r * cols)) : (double)NAN;
        sn->n++;
    }
    free(dout);
    return st;
}

typedef nninit_status (*prepare_fn)(nninit_net *net, const nninit_dataset *train, void *user, nninit_err *err);

typedef struct snap_user {
    const nninit_dataset *data; /* the batch: its first 256 rows */
    snapshot *snap;
    prepare_fn then;
    /* after training */
    double max_abs_hidden;      /* largest |w| over the hidden kernels */
    int64_t distinct_first;     /* distinct units of the first hidden layer */
} snap_user;

static nninit_status snap_prepare(nninit_net *net, const nninit_dataset *train, void *user, nninit_err *err)
{
    snap_user *u = user;
    nninit_status st = NNINIT_OK;
    if (u->then) /* a data-dependent init first: the snapshot shows its result */
        st = u->then(net, train, NULL, err);
    if (st == NNINIT_OK)
        st = take_snapshot(net, u->data, 256, u->snap, err);
    return st;
}

/* Run k of n: train a dense net of the given kernel init with a snapshot of
 * the test batch taken at init (after `then`, a data-dependent init, when
 * given); the three lessons that compare inits by their signal at init. */
static nninit_status snap_train(lab_ctx *c, int k, int n, const lab_train_spec *net, const char *kernel_init,
                                prepare_fn then, snap_user *u, snapshot *sn, lab_run *rr, nninit_err *err)
{
    memset(u, 0, sizeof *u);
    u->data = &c->test;
    u->snap = sn;
    u->then = then;
    lab_train_spec sp = *net;
    sp.kernel_init = kernel_init;
    sp.prepare = snap_prepare;
    sp.prepare_user = u;
    sp.limit = short_limit(c);
    lab_run_begin(c, k, n);
    return lab_train(c, &sp, rr, err);
}

/* After training: the hidden kernels' largest |w| and the first hidden
 * layer's distinct units (columns of W and b that differ from every other
 * column by more than 1e-6 of the largest |w|, as the probe counts). */
static void after_hidden(nninit_net *net, void *user)
{
    snap_user *u = user;
    u->max_abs_hidden = 0;
    u->distinct_first = -1;
    int n = nninit_net_n_layers(net), dense_seen = 0;
    for (int l = 0; l < n - 1; l++) { /* the last layer is the output */
        float *w = NULL, *b = NULL;
        nninit_shape sh, shb;
        if (nninit_net_param(net, l, 0, &w, NULL, &sh, NULL, NULL) != NNINIT_OK || sh.ndim != 2)
            continue;
        int64_t in = sh.dim[0], out = sh.dim[1];
        for (int64_t i = 0; i < in * out; i++)
            u->max_abs_hidden = fmax(u->max_abs_hidden, fabs((double)w[i]));
        if (dense_seen++ == 0) {
            if (nninit_net_param(net, l, 1, &b, NULL, &shb, NULL, NULL) != NNINIT_OK)
                b = NULL;
            double scale = 0;
            for (int64_t i = 0; i < in * out; i++)
                scale = fmax(scale, fabs((double)w[i]));
            double tol = 1e-6 * (scale > 0 ? scale : 1);
            int64_t distinct = 0;
            for (int64_t j = 0; j < out; j++) {
                int unique = 1;
                for (int64_t k = 0; k < j && unique; k++) {
                    int same = !b || fabs((double)b[j] - (double)b[k]) <= tol;
                    for (int64_t i = 0; i < in && same; i++)
                        same = fabs((double)w[i * out + j] - (double)w[i * out + k]) <= tol;
                    unique = !same;
                }
                distinct += unique;
            }
            u->distinct_first = distinct;
        }
    }
}

static double acc_threshold(const lab_ctx *c) { return c->cfg.quick ? 0.70 : 0.80; }

/* ---- pitfall 1: Dense(64, relu, zeros) ---- */

nninit_status lab_pitfall_zeros(lab_ctx *c, nninit_err *err)
{
    static const char *inits[2] = {"zeros", "he_normal"};
    const int64_t hidden[2] = {64, 64};
    doc_text(c->doc, "The tutorial's pitfall 1 as written: `model.add(Dense(64, activation='relu', "
             "kernel_initializer='zeros'))`, corrected with `kernel_initializer='he_normal'`. Two such hidden layers "
             "and a Dense(10) output with Keras' default glorot_uniform; %lld training images, %d epochs, SGD "
             "momentum 0.9, lr 0.01. Criterion (stated before the run): with zeros every hidden weight is still "
             "exactly 0 after training (one distinct unit: relu'(0) = 0 passes no gradient) and test accuracy stays "
             "below 0.20; he_normal exceeds %.2f.",
             (long long)(short_limit(c) && short_limit(c) < c->train.n ? short_limit(c) : c->train.n), c->cfg.epochs,
             acc_threshold(c));
    static const char *head[] = {"kernel init", "distinct units, layer 1", "max |w| hidden", "test acc",
                                 "test loss"};
    doc_table(c->doc, 5, head);
    lab_run rr[2];
    snap_user u[2];
    snapshot sn[2];
    for (int k = 0; k < 2; k++) {
        memset(&u[k], 0, sizeof u[k]);
        u[k].data = &c->test;
        u[k].snap = &sn[k];
        lab_train_spec sp = {.n_hidden = 2, .hidden = hidden, .act = NNINIT_ACT_RELU, .kernel_init = inits[k],
                             .out_init = "glorot_uniform", .prepare = snap_prepare, .prepare_user = &u[k],
                             .limit = short_limit(c), .after = after_hidden};
        lab_run_begin(c, k, 2);
        nninit_status st = lab_train(c, &sp, &rr[k], err);
        if (st != NNINIT_OK)
            return st;
        doc_cell_text(c->doc, "%s", inits[k]);
        doc_cell_num(c->doc, "%.0f", (double)u[k].distinct_first);
        doc_cell_num(c->doc, "%.3g", u[k].max_abs_hidden);
        doc_cell_num(c->doc, "%.4f", rr[k].final_acc);
        doc_cell_num(c->doc, "%.4f", rr[k].final_loss);
        doc_row_end(c->doc);
    }
    int ok = u[0].max_abs_hidden == 0 && u[0].distinct_first == 1 && rr[0].final_acc < 0.20 &&
             rr[1].final_acc > acc_threshold(c);
    lab_value v[] = {{"zeros_max_abs_hidden", u[0].max_abs_hidden}, {"zeros_distinct_units", (double)u[0].distinct_first},
                     {"zeros_acc", rr[0].final_acc}, {"he_normal_acc", rr[1].final_acc},
                     {"he_normal_distinct_units", (double)u[1].distinct_first}};
    doc_lesson(c->doc, c->s, "pitfall 1: zero kernels leave every ReLU unit identical and untrained", ok, v, 5,
               "Measured: zeros keeps max |w| = %.3g with %lld distinct unit(s) and reaches %.4f test accuracy; "
               "he_normal has %lld distinct units and reaches %.4f (threshold %.2f).",
               u[0].max_abs_hidden, (long long)u[0].distinct_first, rr[0].final_acc,
               (long long)u[1].distinct_first, rr[1].final_acc, acc_threshold(c));
    const lab_run *runs[2] = {&rr[0], &rr[1]};
    double xs[64], ys[2 * 64];
    nninit_plot_series ser[2];
    nninit_plot p;
    lab_acc_panel(&c->cfg, "Dense(64, relu) x 2: zeros vs he_normal", runs, inits, 2, xs, ys, ser, &p);
    return doc_figure(c->doc, "pitfall-zeros", "test accuracy per epoch", &p, 1, err);
}

/* ---- pitfall 2: Dense(128, tanh, random_normal) in a deep net ---- */

/* one panel of a per-layer quantity for two runs (log y) */
static void layer_panel(const char *title, const char *ylabel, const double *a, const double *b, int n,
                        const char *la, const char *lb, double *xs, nninit_plot_series *ser, nninit_plot *p)
{
    for (int l = 0; l < n; l++)
        xs[l] = l + 1;
    ser[0] = (nninit_plot_series){la, xs, a, n, 0, 1};
    ser[1] = (nninit_plot_series){lb, xs, b, n, 0, 0};
    *p = (nninit_plot){title, "dense layer", ylabel, 0, 1, ser, 2, 1};
}

nninit_status lab_pitfall_random_normal(lab_ctx *c, nninit_err *err)
{
    static const char *inits[2] = {"random_normal", "glorot_uniform"};
    enum { DEPTH = 10 };
    int64_t hidden[DEPTH];
    for (int i = 0; i < DEPTH; i++)
        hidden[i] = 128;
    doc_text(c->doc, "The tutorial's pitfall 2 as written: `Dense(128, activation='tanh', "
             "kernel_initializer='random_normal')` (Keras' RandomNormal: stddev 0.05, so fan_in x var = 0.32 "
             "instead of 1) in a deep net, corrected with glorot_uniform: %d such hidden layers and a Dense(10) "
             "output (glorot_uniform). At init, one batch of 256 test images: per layer the gradient "
             "back-propagated to the pre-activation, rms(dL/dh), and the kernel gradient's norm ||dL/dW||. Then %d "
             "epoch(s) of training. Criterion: with random_normal rms(dL/dh) of the first layer is below 1/10 of the "
             "last hidden layer's (gradients vanish towards the input) while with glorot_uniform it is above 1/10, "
             "and glorot_uniform ends with the higher test accuracy. (An earlier version of this lesson compared "
             "||dL/dW|| instead, which cannot show it: a kernel's gradient is its input times its back-propagated "
             "gradient, and in this net the first shrinks towards the output as the second shrinks towards the "
             "input, so ||dL/dW|| stays level while both are small; the table shows both.)",
             DEPTH, c->cfg.epochs);
    static const char *head[] = {"kernel init", "rms dL/dh layer 1", "rms dL/dh layer 10", "ratio",
                                 "||dL/dW|| layer 1", "||dL/dW|| layer 10", "test acc", "test loss"};
    doc_table(c->doc, 8, head);
    lab_run rr[2];
    snap_user u[2];
    snapshot sn[2];
    double ratio[2];
    for (int k = 0; k < 2; k++) {
        lab_train_spec net = {.n_hidden = DEPTH, .hidden = hidden, .act = NNINIT_ACT_TANH,
                              .out_init = "glorot_uniform"};
        nninit_status st = snap_train(c, k, 2, &net, inits[k], NULL, &u[k], &sn[k], &rr[k], err);
        if (st != NNINIT_OK)
            return st;
        ratio[k] = sn[k].delta_rms[0] / sn[k].delta_rms[DEPTH - 1];
        doc_cell_text(c->doc, "%s", inits[k]);
        doc_cell_num(c->doc, "%.3g", sn[k].delta_rms[0]);
        doc_cell_num(c->doc, "%.3g", sn[k].delta_rms[DEPTH - 1]);
        doc_cell_num(c->doc, "%.3g", ratio[k]);
        doc_cell_num(c->doc, "%.3g", sn[k].grad_norm[0]);
        doc_cell_num(c->doc, "%.3g", sn[k].grad_norm[DEPTH - 1]);
        doc_cell_num(c->doc, "%.4f", rr[k].final_acc);
        doc_cell_num(c->doc, "%.4f", rr[k].final_loss);
        doc_row_end(c->doc);
    }
    int ok = ratio[0] < 0.1 && ratio[1] > 0.1 && rr[1].final_acc > rr[0].final_acc;
    lab_value v[] = {{"random_normal_delta_ratio", ratio[0]}, {"glorot_uniform_delta_ratio", ratio[1]},
                     {"random_normal_acc", rr[0].final_acc}, {"glorot_uniform_acc", rr[1].final_acc}};
    doc_lesson(c->doc, c->s, "pitfall 2: unscaled random_normal makes tanh gradients vanish towards the input", ok, v,
               4,
               "Measured: first/last hidden rms(dL/dh) %.3g with random_normal, %.3g with glorot_uniform; test "
               "accuracy %.4f vs %.4f.",
               ratio[0], ratio[1], rr[0].final_acc, rr[1].final_acc);
    double xs[MAX_DENSE];
    nninit_plot_series ser[2];
    nninit_plot p;
    layer_panel("back-propagated gradient at init, 10 x Dense(128, tanh)", "rms dL/dh", sn[0].delta_rms,
                sn[1].delta_rms, sn[0].n, "random_normal", "glorot_uniform", xs, ser, &p);
    return doc_figure(c->doc, "pitfall-random-normal", "gradient back-propagated to each layer at init", &p, 1, err);
}

/* ---- pitfall 3: Dense(256, relu, glorot_uniform) in a deep net ---- */

nninit_status lab_pitfall_glorot_relu(lab_ctx *c, nninit_err *err)
{
    static const char *inits[2] = {"glorot_uniform", "he_normal"};
    const int depth = c->cfg.quick ? 8 : 12;
    int64_t hidden[16];
    for (int i = 0; i < depth; i++)
        hidden[i] = 256;
    doc_text(c->doc, "The tutorial's pitfall 3 as written: `Dense(256, activation='relu', "
             "kernel_initializer='glorot_uniform')`, corrected with he_normal: %d such hidden layers and a Dense(10) "
             "output (glorot_uniform). At init, one batch of 256 test images: E[a^2] of each hidden layer's output. "
             "Then %d epoch(s) of training. Criteria (stated before the run): (a) with glorot_uniform the last hidden "
             "layer's E[a^2] is below 1/10 of the first's (Glorot's var = 1/fan_avg halves a ReLU signal per "
             "layer) while with he_normal the ratio stays within [1/10, 10]; (b) he_normal ends with a test accuracy "
             "more than 0.01 above glorot_uniform's.",
             depth, c->cfg.epochs);
    static const char *head[] = {"kernel init", "E[a^2] layer 1", "E[a^2] last hidden", "ratio", "test acc",
                                 "test loss"};
    doc_table(c->doc, 6, head);
    lab_run rr[2];
    snap_user u[2];
    snapshot sn[2];
    double ratio[2];
    for (int k = 0; k < 2; k++) {
        lab_train_spec net = {.n_hidden = depth, .hidden = hidden, .act = NNINIT_ACT_RELU,
                              .out_init = "glorot_uniform"};
        nninit_status st = snap_train(c, k, 2, &net, inits[k], NULL, &u[k], &sn[k], &rr[k], err);
        if (st != NNINIT_OK)
            return st;
        ratio[k] = sn[k].act_m2[depth - 1] / sn[k].act_m2[0];
        doc_cell_text(c->doc, "%s", inits[k]);
        doc_cell_num(c->doc, "%.3g", sn[k].act_m2[0]);
        doc_cell_num(c->doc, "%.3g", sn[k].act_m2[depth - 1]);
        doc_cell_num(c->doc, "%.3g", ratio[k]);
        doc_cell_num(c->doc, "%.4f", rr[k].final_acc);
        doc_cell_num(c->doc, "%.4f", rr[k].final_loss);
        doc_row_end(c->doc);
    }
    int ok_a = ratio[0] < 0.1 && ratio[1] >= 0.1 && ratio[1] <= 10;
    int ok_b = rr[1].final_acc > rr[0].final_acc + 0.01;
    lab_value va[] = {{"glorot_uniform_ratio", ratio[0]}, {"he_normal_ratio", ratio[1]}};
    doc_lesson(c->doc, c->s, "pitfall 3a: Glorot shrinks a deep ReLU signal, He keeps it", ok_a, va, 2,
               "Measured: last/first hidden E[a^2] %.3g with glorot_uniform (theory 2^-%d = %.3g), %.3g with "
               "he_normal (theory 1).",
               ratio[0], depth - 1, pow(0.5, depth - 1), ratio[1]);
    lab_value vb[] = {{"glorot_uniform_acc", rr[0].final_acc}, {"he_normal_acc", rr[1].final_acc}};
    doc_lesson(c->doc, c->s, "pitfall 3b: He trains a deep ReLU net better than Glorot", ok_b, vb, 2,
               "Measured: test accuracy %.4f with he_normal vs %.4f with glorot_uniform after %d epoch(s) (criterion: "
               "a margin above 0.01).",
               rr[1].final_acc, rr[0].final_acc, c->cfg.epochs);
    double xs[MAX_DENSE];
    nninit_plot_series ser[2];
    nninit_plot p;
    layer_panel("E[a^2] at init, Dense(256, relu) stack", "E[a^2]", sn[0].act_m2, sn[1].act_m2, depth,
                "glorot_uniform", "he_normal", xs, ser, &p);
    return doc_figure(c->doc, "pitfall-glorot-relu", "second moment of each hidden layer's output at init", &p, 1, err);
}

/* ---- data-dependent init ---- */

/* Weight normalization's data-dependent init (Salimans & Kingma 2016, sec.
 * 3; nninit_wn_init) from the first 512 training images: every unit's
 * pre-activation standardized on them, layer after layer. The lab then
 * trains the plain weights: the init is compared, not the reparameterization. */
static nninit_status wn_prepare(nninit_net *net, const nninit_dataset *train, void *user, nninit_err *err)
{
    (void)user;
    nninit_wn_init_opts o = nninit_wn_init_opts_default();
    return nninit_wn_init(net, train->x, train->n < 512 ? train->n : 512, &o, NULL, err);
}

nninit_status lab_data_dependent(lab_ctx *c, nninit_err *err)
{
    enum { DEPTH = 10, N = 4 };
    int64_t hidden[DEPTH];
    for (int i = 0; i < DEPTH; i++)
        hidden[i] = 128;
    static const char *labels[N] = {"random_normal(0.05)", "random_normal(0.05) + LSUV",
                                    "random_normal(0.05) + weight-norm init", "he_normal"};
    static const char *inits[N] = {"RandomNormal(stddev=0.05)", "RandomNormal(stddev=0.05)",
                                   "RandomNormal(stddev=0.05)", "he_normal"};
    nninit_status (*prep[N])(nninit_net *, const nninit_dataset *, void *, nninit_err *) = {NULL, lab_lsuv_prepare,
                                                                                             wn_prepare, NULL};
    doc_text(c->doc, "A badly scaled deep net: %d hidden Dense(128, relu) layers with RandomNormal(stddev=0.05) "
             "kernels (fan_in x var = 0.32 where ReLU needs 2: the signal shrinks about 6x per layer). Two "
             "data-dependent repairs from 512 training images: LSUV (Mishkin & Matas 2016: rescale each kernel until "
             "its pre-activation variance is 1) and weight normalization's data-dependent init (Salimans & Kingma "
             "2016: each unit's pre-activation standardized to mean 0, variance 1 through g and b); he_normal as the "
             "reference. At init: E[h^2] of the last hidden layer on 256 test images. Then %d epoch(s). Criterion "
             "(stated before the run): both repairs end within 0.03 test accuracy of he_normal, and the unrepaired "
             "net ends more than 0.10 below it.",
             DEPTH, c->cfg.epochs);
    static const char *head[] = {"init", "E[h^2] last hidden at init", "test acc", "test loss"};
    doc_table(c->doc, 4, head);
    lab_run rr[N];
    snap_user u[N];
    snapshot sn[N];
    for (int k = 0; k < N; k++) {
        lab_train_spec net = {.n_hidden = DEPTH, .hidden = hidden, .act = NNINIT_ACT_RELU};
        nninit_status st = snap_train(c, k, N, &net, inits[k], prep[k], &u[k], &sn[k], &rr[k], err);
        if (st != NNINIT_OK)
            return st;
        doc_cell_text(c->doc, "%s", labels[k]);
        doc_cell_num(c->doc, "%.3g", sn[k].pre_m2[DEPTH - 1]);
        doc_cell_num(c->doc, "%.4f", rr[k].final_acc);
        doc_cell_num(c->doc, "%.4f", rr[k].final_loss);
        doc_row_end(c->doc);
    }
    double ref = rr[3].final_acc;
    int ok = fabs(rr[1].final_acc - ref) < 0.03 && fabs(rr[2].final_acc - ref) < 0.03 && rr[0].final_acc < ref - 0.10;
    lab_value v[] = {{"bad_acc", rr[0].final_acc}, {"lsuv_acc", rr[1].final_acc}, {"weight_norm_acc", rr[2].final_acc},
                     {"he_normal_acc", ref}, {"bad_last_pre_m2", sn[0].pre_m2[DEPTH - 1]},
                     {"lsuv_last_pre_m2", sn[1].pre_m2[DEPTH - 1]}, {"weight_norm_last_pre_m2", sn[2].pre_m2[DEPTH - 1]}};
    doc_lesson(c->doc, c->s, "data-dependent init (LSUV, weight-norm init) repairs a badly scaled deep net", ok, v, 7,
               "Measured: test accuracy %.4f unrepaired, %.4f with LSUV, %.4f with weight-norm init, %.4f with "
               "he_normal; last hidden E[h^2] at init %.3g, %.3g, %.3g.",
               rr[0].final_acc, rr[1].final_acc, rr[2].final_acc, ref, sn[0].pre_m2[DEPTH - 1], sn[1].pre_m2[DEPTH - 1],
               sn[2].pre_m2[DEPTH - 1]);
    const lab_run *runs[N] = {&rr[0], &rr[1], &rr[2], &rr[3]};
    double xs[64], ys[N * 64];
    nninit_plot_series ser[N];
    nninit_plot p;
    lab_acc_panel(&c->cfg, "10 x Dense(128, relu), badly scaled, repaired from data", runs, labels, N, xs, ys, ser,
                  &p);
    return doc_figure(c->doc, "data-dependent", "test accuracy per epoch", &p, 1, err);
}

/* ---- real data vs the independent-input theory ---- */

/* Mean over rows of E[h^2] and the mean pairwise correlation
 * q_ij / sqrt(q_ii q_jj) (q_ij = mean over units of h_i h_j), as mean-field
 * theory defines the length and correlation of a pair of inputs. */
static void length_corr(const float *h, int64_t rows, int64_t cols, double *q, double *corr)
{
    double *qi = malloc((size_t)rows * sizeof *qi);
    if (!qi) {
        *q = *corr = (double)NAN;
        return;
    }
    double qs = 0;
    for (int64_t i = 0; i < rows; i++) {
        double s = 0;
        for (int64_t k = 0; k < cols; k++)
            s += (double)h[i * cols + k] * (double)h[i * cols + k];
        qi[i] = s / (double)cols;
        qs += qi[i];
    }
    double cs = 0;
    int64_t pairs = 0;
    for (int64_t i = 0; i < rows; i++)
        for (int64_t j = i + 1; j < rows; j++) {
            double s = 0;
            for (int64_t k = 0; k < cols; k++)
                s += (double)h[i * cols + k] * (double)h[j * cols + k];
            double den = sqrt(qi[i] * qi[j]);
            if (den > 0) {
                cs += s / (double)cols / den;
                pairs++;
            }
        }
    *q = qs / (double)rows;
    *corr = pairs ? cs / (double)pairs : (double)NAN;
    free(qi);
}

nninit_status lab_real_data(lab_ctx *c, nninit_err *err)
{
    enum { DEPTH = 20 };
    const int64_t width = c->cfg.width, dim = c->test.dim, ROWS = c->test.n < 128 ? c->test.n : 128;
    doc_text(c->doc, "The variance formulas behind Glorot and He assume independent, zero-mean inputs; mean-field "
             "theory also tracks how correlated two inputs are (c) layer by layer. Fashion-MNIST images are "
             "neither: pixels are non-negative and two images overlap strongly. A %d-layer Dense(%lld, relu, "
             "he_normal) net, evaluated on %d test images and on %d independent Gaussian inputs with the same E[x^2]; "
             "per layer the measured E[h^2] and mean pairwise correlation next to mean-field theory started from the "
             "images' own (q0, c0) and from independent inputs (c0 = 0). Criterion: averaged over the layers, the "
             "images' measured correlation is within 0.05 of the theory from their own c0 and more than 0.10 from "
             "the independent-input prediction, and the Gaussian inputs' is within 0.05 of that prediction. (All "
             "correlations approach 1 with depth in this ordered-phase net, so a comparison at the last layer alone "
             "cannot tell the predictions apart; an earlier version of this lesson made that mistake.)",
             DEPTH, (long long)width, (int)ROWS, (int)ROWS);
    int64_t hid[DEPTH];
    for (int i = 0; i < DEPTH; i++)
        hid[i] = width;
    nninit_mlp_desc md = nninit_mlp_desc_default();
    md.n_hidden = DEPTH - 1;
    md.hidden = hid;
    md.n_outputs = width; /* the last layer is the 20th of the stack, relu too */
    md.out_act = NNINIT_ACT_RELU;
    md.kernel_init = "he_normal";
    nninit_layer_desc *layers = NULL;
    int n_layers = 0;
    nninit_net *net = NULL;
    nninit_net_opts no = nninit_net_opts_default();
    no.seed = c->cfg.seed;
    nninit_status st = nninit_net_desc_mlp(&md, &layers, &n_layers, err);
    if (st == NNINIT_OK)
        st = nninit_net_new(dim, layers, n_layers, &no, &net, err);
    nninit_free(layers);
    float *gauss = malloc((size_t)(ROWS * dim) * sizeof *gauss);
    double q[2][DEPTH], cr[2][DEPTH], th_q[DEPTH], th_c[2][DEPTH];
    double q0 = 0, c0 = 0, g_c0 = 0, g_q0 = 0;
    if (st == NNINIT_OK && !gauss)
        st = nninit_err_set(err, NNINIT_ENOMEM, "lab: out of memory for the inputs");
    if (st == NNINIT_OK) {
        length_corr(c->test.x, ROWS, dim, &q0, &c0);
        /* independent inputs: N(0, q0) per feature, drawn from the lab's seed */
        nninit_rng *rng = NULL;
        nninit_init init;
        char spec[64];
        snprintf(spec, sizeof spec, "RandomNormal(stddev=%.17g)", sqrt(q0));
        nninit_shape shape = {2, {ROWS, dim}};
        nninit_fill_opts fo = nninit_fill_opts_default();
        fo.stream = nninit_stream_from_name("lab/real-data/gauss");
        st = nninit_rng_new(NNINIT_RNG_PHILOX, c->cfg.seed, &rng, err);
        if (st == NNINIT_OK)
            st = nninit_init_parse(spec, &init, err);
        if (st == NNINIT_OK)
            st = nninit_fill(&init, &shape, &fo, rng, gauss, err);
        nninit_rng_free(rng);
        if (st == NNINIT_OK)
            length_corr(gauss, ROWS, dim, &g_q0, &g_c0);
    }
    for (int s = 0; st == NNINIT_OK && s < 2; s++) {
        st = nninit_net_forward(net, s ? gauss : c->test.x, ROWS, 0, NULL, err);
        for (int l = 0; st == NNINIT_OK && l < DEPTH; l++) {
            int64_t r, cols;
            const float *h = nninit_net_tensor(net, l, NNINIT_T_PREACT, &r, &cols);
            length_corr(h, r, cols, &q[s][l], &cr[s][l]);
        }
        lab_progress(c, (s + 1) / 3.0);
    }
    if (st == NNINIT_OK) {
        nninit_theory_net tn = {NNINIT_THEORY_RELU, 0, 2.0, 0};
        nninit_theory_layer tl[DEPTH];
        st = nninit_theory_layers(&tn, q0, c0, DEPTH, tl, err);
        for (int l = 0; st == NNINIT_OK && l < DEPTH; l++) {
            th_q[l] = tl[l].q;
            th_c[0][l] = tl[l].c;
        }
        if (st == NNINIT_OK)
            st = nninit_theory_layers(&tn, q0, 0.0, DEPTH, tl, err);
        for (int l = 0; st == NNINIT_OK && l < DEPTH; l++)
            th_c[1][l] = tl[l].c;
    }
    nninit_net_free(net);
    free(gauss);
    if (st != NNINIT_OK)
        return st;
    doc_text(c->doc, "Inputs: the images have q0 = E[x^2] = %.4f and mean pairwise correlation c0 = %.4f; the "
             "Gaussian inputs q0 = %.4f, c0 = %.4f.", q0, c0, g_q0, g_c0);
    static const char *head[] = {"layer", "E[h^2] images", "E[h^2] theory", "c images", "c theory (images' c0)",
                                 "c Gaussian", "c theory (c0 = 0)"};
    doc_table(c->doc, 7, head);
    for (int l = 0; l < DEPTH; l++) {
        if (l != 0 && l != 1 && l != 4 && l != 9 && l != 14 && l != DEPTH - 1)
            continue;
        doc_cell_num(c->doc, "%.0f", (double)(l + 1));
        doc_cell_num(c->doc, "%.4g", q[0][l]);
        doc_cell_num(c->doc, "%.4g", th_q[l]);
        doc_cell_num(c->doc, "%.4f", cr[0][l]);
        doc_cell_num(c->doc, "%.4f", th_c[0][l]);
        doc_cell_num(c->doc, "%.4f", cr[1][l]);
        doc_cell_num(c->doc, "%.4f", th_c[1][l]);
        doc_row_end(c->doc);
    }
    double d_own = 0, d_ind = 0, d_gauss = 0;
    for (int l = 0; l < DEPTH; l++) {
        d_own += fabs(cr[0][l] - th_c[0][l]) / DEPTH;
        d_ind += fabs(cr[0][l] - th_c[1][l]) / DEPTH;
        d_gauss += fabs(cr[1][l] - th_c[1][l]) / DEPTH;
    }
    int ok = d_own < 0.05 && d_ind > 0.10 && d_gauss < 0.05;
    lab_value v[] = {{"q0_images", q0},   {"c0_images", c0},   {"mean_abs_dev_own_c0", d_own},
                     {"mean_abs_dev_independent", d_ind}, {"mean_abs_dev_gaussian", d_gauss}};
    doc_lesson(c->doc, c->s, "real data: theory holds from the inputs' own correlation, not from independence", ok, v,
               5,
               "Measured over the %d layers: the images' correlation is on average %.4f from the theory started at "
               "their c0 = %.3f and %.4f from the independent-input prediction; the Gaussian inputs' %.4f from it.",
               DEPTH, d_own, c0, d_ind, d_gauss);
    double xs[DEPTH];
    for (int l = 0; l < DEPTH; l++)
        xs[l] = l + 1;
    nninit_plot_series ser[4] = {{"images, measured", xs, cr[0], DEPTH, 0, 0},
                                 {"theory from images' c0", xs, th_c[0], DEPTH, 1, 0},
                                 {"Gaussian, measured", xs, cr[1], DEPTH, 0, 1},
                                 {"theory, c0 = 0", xs, th_c[1], DEPTH, 1, 1}};
    nninit_plot p = {"pairwise correlation through a he_normal relu net", "layer", "mean correlation c", 0, 0, ser, 4,
                     1};
    return doc_figure(c->doc, "real-data", "correlation between inputs per layer, measured and mean-field theory", &p,
                      1, err);
}

/* ---- monitoring ---- */

enum { MON_STEPS = 20, MON_LAYERS = 11 };

typedef struct monitor_log {
    double update_ratio[MON_STEPS][MON_LAYERS];
    double grad_norm[MON_STEPS][MON_LAYERS];
    double act_var[MON_STEPS][MON_LAYERS];
    double frac_dead[MON_STEPS][MON_LAYERS];
    double loss[MON_STEPS];
    int n_layers, n_steps; /* n_steps: the steps logged (fewer on a small training set) */
} monitor_log;

static void on_monitor(int epoch, int64_t step, double loss, const nninit_layer_stats *stats, int n_layers, void *user)
{
    (void)epoch;
    monitor_log *m = user;
    if (step < 1 || step > MON_STEPS)
        return;
    m->n_layers = n_layers < MON_LAYERS ? n_layers : MON_LAYERS;
    m->loss[step - 1] = loss;
    m->n_steps = (int)step > m->n_steps ? (int)step : m->n_steps;
    for (int l = 0; l < m->n_layers; l++) {
        m->update_ratio[step - 1][l] = stats[l].update_ratio;
        m->grad_norm[step - 1][l] = stats[l].grad_norm;
        m->act_var[step - 1][l] = stats[l].act_var;
        m->frac_dead[step - 1][l] = stats[l].frac_dead;
    }
}

nninit_status lab_monitoring(lab_ctx *c, nninit_err *err)
{
    enum { DEPTH = 10 };
    int64_t hidden[DEPTH];
    for (int i = 0; i < DEPTH; i++)
        hidden[i] = 128;
    static const char *labels[2] = {"random_normal(0.05)", "he_normal"};
    static const char *inits[2] = {"RandomNormal(stddev=0.05)", "he_normal"};
    doc_text(c->doc, "The engine's per-layer monitor (nninit_train_opts.monitor_every = 1: after every optimizer "
             "step, each layer's activation variance, dead ReLU units, gradient norm and update ratio "
             "||dW|| / ||W||) on %d hidden Dense(128, relu) layers, a bad init (RandomNormal(stddev=0.05)) next to a "
             "good one (he_normal), over the first %d steps of batch 128. Criterion (stated before the run): at step "
             "1 the bad init's last hidden layer has less than 1/100 of the good init's activation variance and its "
             "first layer's update ratio is below 1/10 of the good init's.",
             DEPTH, MON_STEPS);
    monitor_log *m = calloc(2, sizeof *m);
    if (!m)
        return nninit_err_set(err, NNINIT_ENOMEM, "lab: out of memory for the monitor");
    lab_run rr[2];
    nninit_status st = NNINIT_OK;
    for (int k = 0; k < 2 && st == NNINIT_OK; k++) {
        lab_train_spec sp = {.n_hidden = DEPTH, .hidden = hidden, .act = NNINIT_ACT_RELU, .kernel_init = inits[k],
                             .epochs = 1, .limit = (int64_t)MON_STEPS * 128, .monitor_every = 1,
                             .on_monitor = on_monitor, .monitor_user = &m[k]};
        lab_run_begin(c, k, 2);
        st = lab_train(c, &sp, &rr[k], err);
    }
    if (st != NNINIT_OK) {
        free(m);
        return st;
    }
    static const char *head[] = {"dense layer", "act var bad", "act var good", "dead bad", "dead good",
                                 "grad norm bad", "grad norm good", "update ratio bad", "update ratio good"};
    doc_subheading(c->doc, "Step 1, per layer");
    doc_table(c->doc, 9, head);
    int nl = m[0].n_layers;
    for (int l = 0; l < nl; l++) {
        doc_cell_num(c->doc, "%.0f", (double)(l + 1));
        doc_cell_num(c->doc, "%.3g", m[0].act_var[0][l]);
        doc_cell_num(c->doc, "%.3g", m[1].act_var[0][l]);
        doc_cell_num(c->doc, "%.2f", m[0].frac_dead[0][l]);
        doc_cell_num(c->doc, "%.2f", m[1].frac_dead[0][l]);
        doc_cell_num(c->doc, "%.3g", m[0].grad_norm[0][l]);
        doc_cell_num(c->doc, "%.3g", m[1].grad_norm[0][l]);
        doc_cell_num(c->doc, "%.3g", m[0].update_ratio[0][l]);
        doc_cell_num(c->doc, "%.3g", m[1].update_ratio[0][l]);
        doc_row_end(c->doc);
    }
    int ns = m[0].n_steps < m[1].n_steps ? m[0].n_steps : m[1].n_steps;
    if (ns < 1) {
        free(m);
        return nninit_err_set(err, NNINIT_EINVAL, "lab: monitoring: the training set gave no step");
    }
    double av = m[0].act_var[0][DEPTH - 1] / m[1].act_var[0][DEPTH - 1];
    double ur = m[0].update_ratio[0][0] / m[1].update_ratio[0][0];
    int ok = av < 0.01 && ur < 0.1;
    lab_value v[] = {{"act_var_ratio_last_hidden", av}, {"update_ratio_ratio_first", ur},
                     {"loss_bad_last_step", m[0].loss[ns - 1]}, {"loss_good_last_step", m[1].loss[ns - 1]}};
    doc_lesson(c->doc, c->s, "the per-layer monitor reveals a bad init within the first step", ok, v, 4,
               "Measured at step 1: last hidden activation variance bad/good = %.3g, first-layer update ratio "
               "bad/good = %.3g; batch loss at step %d: %.4f bad, %.4f good.",
               av, ur, ns, m[0].loss[ns - 1], m[1].loss[ns - 1]);
    /* figures: per layer at step 1, and over the steps */
    double xl[MON_LAYERS], xs[MON_STEPS], ur_l[2][MON_LAYERS], ur_s[2][MON_STEPS], loss_s[2][MON_STEPS],
        av_l[2][MON_LAYERS];
    for (int l = 0; l < nl; l++) {
        xl[l] = l + 1;
        for (int k = 0; k < 2; k++) {
            ur_l[k][l] = m[k].update_ratio[0][l];
            av_l[k][l] = m[k].act_var[0][l];
        }
    }
    for (int s = 0; s < ns; s++) {
        xs[s] = s + 1;
        for (int k = 0; k < 2; k++) {
            ur_s[k][s] = m[k].update_ratio[s][0];
            loss_s[k][s] = m[k].loss[s];
        }
    }
    nninit_plot_series s1[2] = {{labels[0], xl, av_l[0], nl, 0, 1}, {labels[1], xl, av_l[1], nl, 0, 0}};
    nninit_plot_series s2[2] = {{labels[0], xl, ur_l[0], nl, 0, 1}, {labels[1], xl, ur_l[1], nl, 0, 0}};
    nninit_plot_series s3[2] = {{labels[0], xs, ur_s[0], ns, 0, 1}, {labels[1], xs, ur_s[1], ns, 0, 0}};
    nninit_plot_series s4[2] = {{labels[0], xs, loss_s[0], ns, 0, 1}, {labels[1], xs, loss_s[1], ns, 0, 0}};
    nninit_plot p[4] = {{"activation variance at step 1", "dense layer", "Var(a)", 0, 1, s1, 2, 1},
                        {"update ratio at step 1", "dense layer", "||dW|| / ||W||", 0, 1, s2, 2, 1},
                        {"first layer's update ratio", "step", "||dW|| / ||W||", 0, 1, s3, 2, 1},
                        {"batch loss", "step", "cross-entropy", 0, 0, s4, 2, 1}};
    free(m);
    return doc_figure(c->doc, "monitoring", "the per-layer monitor, bad vs good init", p, 4, err);
}
