/*
 * The classic lessons (the lab's first step):
 *   symmetry  zero / constant init never breaks symmetry        (probe, no data)
 *   signal    unscaled random init makes deep signals vanish; He keeps ReLU
 *             stable, Glorot does not; tanh: Glorot sits at the edge of chaos
 *             between small init and He                         (probe, depth 50)
 *   training  zero init cannot train; deep tanh nets need Glorot; LSUV
 *             repairs a badly scaled init; batch norm removes most of the
 *             sensitivity to the init                           (Fashion-MNIST)
 */
#include "lab_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- symmetry ---- */

nninit_status lab_symmetry(lab_ctx *c, nninit_err *err)
{
    static const char *inits[] = {"zeros", "Constant(value=0.05)", "he_normal"};
    const int depth = 3;
    const int64_t width = 64;
    int64_t distinct[3][2][3]; /* init, before/after, layer */
    doc_text(c->doc, "A %d-layer tanh net of width %lld, 50 SGD steps (lr 0.1) on a random output gradient. "
             "Distinct hidden units per layer (columns of W and b that differ from every other column), before -> "
             "after training:", depth, (long long)width);
    static const char *head[] = {"kernel init", "layer 1 before", "layer 1 after", "layer 2 before",
                                 "layer 2 after", "layer 3 before", "layer 3 after"};
    doc_table(c->doc, 7, head);
    for (int k = 0; k < 3; k++) {
        nninit_probe_opts po = nninit_probe_opts_default();
        po.depth = depth;
        po.width = width;
        po.batch = 128;
        po.act = NNINIT_ACT_TANH;
        po.kernel_init = inits[k];
        po.seed = c->cfg.seed;
        po.train_steps = 50;
        po.lr = 0.1;
        nninit_probe_result *pr = NULL;
        nninit_status st = nninit_probe_run(&po, &pr, err);
        if (st != NNINIT_OK)
            return st;
        doc_cell_text(c->doc, "%s", inits[k]);
        for (int l = 0; l < depth; l++) {
            distinct[k][0][l] = pr->layers[l].distinct_before;
            distinct[k][1][l] = pr->layers[l].distinct_after;
            doc_cell_num(c->doc, "%.0f", (double)distinct[k][0][l]);
            doc_cell_num(c->doc, "%.0f", (double)distinct[k][1][l]);
        }
        doc_row_end(c->doc);
        nninit_probe_result_free(pr);
        lab_progress(c, (k + 1) / 3.0);
    }
    int ok = 1;
    for (int k = 0; k < 2; k++)
        for (int l = 0; l < depth - 1; l++) /* hidden layers; the last is the output layer */
            ok &= distinct[k][1][l] == 1;
    for (int l = 0; l < depth - 1; l++)
        ok &= distinct[2][1][l] == width;
    lab_value v[] = {{"zeros_layer1_after", (double)distinct[0][1][0]},
                     {"constant_layer1_after", (double)distinct[1][1][0]},
                     {"he_normal_layer1_after", (double)distinct[2][1][0]}};
    doc_lesson(c->doc, c->s, "zero or constant init never breaks symmetry", ok, v, 3,
               "Criterion: after training, every hidden layer of the zeros and constant nets has 1 distinct unit "
               "and the he_normal net has %lld.",
               (long long)width);
    return NNINIT_OK;
}

/* ---- signal propagation through depth ---- */

#define N_SIG_INITS 4
static const char *SIG_INITS[N_SIG_INITS] = {"RandomNormal(stddev=0.05)", "glorot_uniform", "he_normal",
                                             "orthogonal"};
static const char *SIG_LABELS[N_SIG_INITS] = {"random_normal(0.05)", "glorot_uniform", "he_normal", "orthogonal"};

static nninit_status signal_figure(lab_ctx *c, nninit_probe_result *res[2][N_SIG_INITS], nninit_err *err)
{
    const int depth = c->cfg.depth;
    double *xs = calloc((size_t)depth, sizeof(double));
    double *ys = calloc((size_t)(2 * N_SIG_INITS * 2 * depth), sizeof(double));
    if (!xs || !ys) {
        free(xs);
        free(ys);
        return nninit_err_set(err, NNINIT_ENOMEM, "lab: out of memory for plots");
    }
    nninit_plot_series ser[2][2 * N_SIG_INITS];
    nninit_plot plots[2];
    for (int l = 0; l < depth; l++)
        xs[l] = l + 1;
    for (int a = 0; a < 2; a++) {
        for (int k = 0; k < N_SIG_INITS; k++) {
            double *meas = ys + ((size_t)(a * N_SIG_INITS + k) * 2) * (size_t)depth, *pred = meas + depth;
            for (int l = 0; l < depth; l++) {
                meas[l] = res[a][k]->layers[l].pre_var;
                pred[l] = res[a][k]->layers[l].pred_pre_var;
            }
            ser[a][2 * k] = (nninit_plot_series){SIG_LABELS[k], xs, meas, depth, 0, k};
            ser[a][2 * k + 1] = (nninit_plot_series){NULL, xs, pred, depth, 1, k};
        }
        plots[a] = (nninit_plot){a == 0 ? "tanh: pre-activation variance (dashed: theory)"
                                        : "relu: pre-activation variance (dashed: theory)",
                                 "layer", "variance", 0, 1, ser[a], 2 * N_SIG_INITS, 1};
    }
    nninit_status st = doc_figure(c->doc, "signal", "pre-activation variance vs depth, measured and mean-field theory",
                                  plots, 2, err);
    free(xs);
    free(ys);
    return st;
}

nninit_status lab_signal(lab_ctx *c, nninit_err *err)
{
    const nninit_act acts[2] = {NNINIT_ACT_TANH, NNINIT_ACT_RELU};
    const int depth = c->cfg.depth;
    nninit_probe_result *res[2][N_SIG_INITS] = {{NULL}};
    nninit_status st = NNINIT_OK;
    doc_text(c->doc, "Dense nets of depth %d and width %lld, a batch of 256 standard-normal inputs, a random "
             "unit-variance output gradient. Activation variance at the last layer relative to the first, "
             "geometric-mean gains per layer (forward: pre-activation variance; backward: input-gradient variance), "
             "the verdict (more than 10x change over the depth is vanishing/exploding) and the mean-field "
             "prediction of the last layer's pre-activation variance:",
             depth, (long long)c->cfg.width);
    static const char *head[] = {"act", "kernel init", "sw2", "var a_L / var a_1", "fwd gain", "bwd gain",
                                 "forward", "backward", "q_L measured", "q_L theory"};
    doc_table(c->doc, 10, head);
    for (int a = 0; a < 2 && st == NNINIT_OK; a++)
        for (int k = 0; k < N_SIG_INITS && st == NNINIT_OK; k++) {
            nninit_probe_opts po = nninit_probe_opts_default();
            po.depth = depth;
            po.width = c->cfg.width;
            po.batch = 256;
            po.act = acts[a];
            po.kernel_init = SIG_INITS[k];
            po.seed = c->cfg.seed;
            st = nninit_probe_run(&po, &res[a][k], err);
            if (st != NNINIT_OK)
                break;
            const nninit_probe_result *p = res[a][k];
            const nninit_probe_layer *first = &p->layers[0], *last = &p->layers[depth - 1];
            doc_cell_text(c->doc, "%s", nninit_act_name(acts[a]));
            doc_cell_text(c->doc, "%s", SIG_LABELS[k]);
            doc_cell_num(c->doc, "%.3g", p->sw2);
            doc_cell_num(c->doc, "%.3g", last->act_var / first->act_var);
            doc_cell_num(c->doc, "%.3f", p->fwd_gain_geo);
            doc_cell_num(c->doc, "%.3f", p->bwd_gain_geo);
            doc_cell_text(c->doc, "%s", nninit_probe_verdict_name(p->fwd_verdict));
            doc_cell_text(c->doc, "%s", nninit_probe_verdict_name(p->bwd_verdict));
            doc_cell_num(c->doc, "%.3g", last->pre_var);
            doc_cell_num(c->doc, "%.3g", last->pred_pre_var);
            doc_row_end(c->doc);
            lab_progress(c, (a * N_SIG_INITS + k + 1) / (2.0 * N_SIG_INITS));
        }
    if (st == NNINIT_OK) {
        /* small unscaled random init vanishes in both */
        int ok2 = res[0][0]->fwd_verdict == NNINIT_VERDICT_VANISHING && res[1][0]->fwd_verdict == NNINIT_VERDICT_VANISHING;
        lab_value v2[] = {{"tanh_random_normal_fwd_gain", res[0][0]->fwd_gain_geo},
                          {"relu_random_normal_fwd_gain", res[1][0]->fwd_gain_geo}};
        doc_lesson(c->doc, c->s, "unscaled random init makes deep signals vanish", ok2, v2, 2,
                   "Criterion: random_normal(0.05) (sw2 = %.2f at width %lld) has a vanishing forward verdict for "
                   "both tanh and relu over %d layers.",
                   res[0][0]->sw2, (long long)c->cfg.width, depth);
        /* He keeps relu stable, Glorot (fan_avg, sw2 = 1) halves it per layer */
        int ok3 = res[1][2]->fwd_verdict == NNINIT_VERDICT_STABLE && res[1][2]->bwd_verdict == NNINIT_VERDICT_STABLE &&
                  res[1][1]->fwd_verdict == NNINIT_VERDICT_VANISHING;
        lab_value v3[] = {{"relu_he_normal_fwd_gain", res[1][2]->fwd_gain_geo},
                          {"relu_glorot_uniform_fwd_gain", res[1][1]->fwd_gain_geo}};
        doc_lesson(c->doc, c->s, "He init keeps ReLU signals stable", ok3, v3, 2,
                   "Criterion: with relu, he_normal is stable forward and backward, glorot_uniform vanishes forward "
                   "(measured fwd gains %.3f and %.3f per layer; theory 1 and 1/2).",
                   res[1][2]->fwd_gain_geo, res[1][1]->fwd_gain_geo);
        /* for tanh, sw2 = 1 (Glorot on a square layer) is the order-to-chaos edge at sb2 = 0:
         * small init is ordered (gradients vanish exponentially), He (sw2 = 2) is chaotic (they
         * explode), Glorot decays only as q^l -> 0 does, polynomially */
        const nninit_probe_result *tr = res[0][0], *tg = res[0][1], *th = res[0][2];
        int ok4 = tr->bwd_verdict == NNINIT_VERDICT_VANISHING && th->bwd_verdict == NNINIT_VERDICT_EXPLODING &&
                  tg->bwd_gain_geo > tr->bwd_gain_geo && tg->bwd_gain_geo <= 1.0 &&
                  tg->fwd_verdict != NNINIT_VERDICT_EXPLODING;
        lab_value v4[] = {{"tanh_random_normal_bwd_gain", tr->bwd_gain_geo},
                          {"tanh_he_normal_bwd_gain", th->bwd_gain_geo},
                          {"tanh_glorot_uniform_bwd_gain", tg->bwd_gain_geo}};
        doc_lesson(c->doc, c->s, "tanh: Glorot sits at the edge of chaos, between vanishing and exploding", ok4, v4, 3,
                   "Criterion: with tanh, random_normal(0.05)'s gradients vanish (backward gain %.4f per layer), "
                   "he_normal's explode (%.4f: the chaotic phase), and glorot_uniform's neither explode nor vanish "
                   "as fast as the small init's (%.4f). At depth %d Glorot's forward variance still decays, "
                   "polynomially, as the theory column predicts (q* = 0 at sw2 = 1, sb2 = 0).",
                   tr->bwd_gain_geo, th->bwd_gain_geo, tg->bwd_gain_geo, depth);
        st = signal_figure(c, res, err);
    }
    for (int a = 0; a < 2; a++)
        for (int k = 0; k < N_SIG_INITS; k++)
            nninit_probe_result_free(res[a][k]);
    return st;
}

/* ---- training on Fashion-MNIST ---- */

nninit_status lab_lsuv_prepare(nninit_net *net, const nninit_dataset *train, void *user, nninit_err *err)
{
    (void)user;
    nninit_lsuv_opts lo = nninit_lsuv_opts_default();
    return nninit_lsuv(net, train->x, train->n < 512 ? train->n : 512, &lo, NULL, err);
}

/* Test accuracy per epoch of a few runs, one panel. */
void lab_acc_panel(const lab_cfg *cfg, const char *title, const lab_run *const *runs, const char *const *labels,
                   int n, double *xs, double *ys, nninit_plot_series *ser, nninit_plot *plot)
{
    for (int e = 0; e < cfg->epochs; e++)
        xs[e] = e + 1;
    for (int k = 0; k < n; k++) {
        for (int e = 0; e < cfg->epochs; e++)
            ys[k * cfg->epochs + e] = e < runs[k]->epochs_done ? runs[k]->test_acc[e] : (double)NAN;
        ser[k] = (nninit_plot_series){labels[k], xs, ys + k * cfg->epochs, cfg->epochs, 0, k};
    }
    *plot = (nninit_plot){title, "epoch", "test accuracy", 0, 0, ser, n, 1};
}

nninit_status lab_training(lab_ctx *c, nninit_err *err)
{
    int64_t deep[10];
    for (int i = 0; i < 10; i++)
        deep[i] = 128;
    const int64_t mlp[2] = {256, 256};
    const int n_runs = 12;
    int done_runs = 0;
    doc_text(c->doc, "%lld training and %lld test images scaled to [0, 1]; SGD with momentum 0.9, lr 0.01, batch "
             "128, %d epochs, biases zero, the same seed and data order for every run. Test accuracy and loss after "
             "the last epoch (chance is 0.10):",
             (long long)c->train.n, (long long)c->test.n, c->cfg.epochs);
    static const char *head3[] = {"kernel init", "test acc", "test loss"};
    static const char *head4[] = {"kernel init", "batch norm", "test acc", "test loss"};

    /* zeros vs random vs glorot vs he on the classic MLP */
    static const char *mlp_inits[4] = {"zeros", "RandomNormal(stddev=0.05)", "glorot_uniform", "he_normal"};
    lab_run r5[4];
    nninit_status st = NNINIT_OK;
    doc_subheading(c->doc, "784-256-256-10, relu");
    doc_table(c->doc, 3, head3);
    for (int k = 0; k < 4 && st == NNINIT_OK; k++) {
        lab_train_spec sp = {.n_hidden = 2, .hidden = mlp, .act = NNINIT_ACT_RELU, .kernel_init = mlp_inits[k]};
        lab_run_begin(c, done_runs++, n_runs);
        st = lab_train(c, &sp, &r5[k], err);
        if (st == NNINIT_OK)
            lab_acc_row(c, mlp_inits[k], NULL, &r5[k]);
    }
    if (st == NNINIT_OK) {
        int ok = r5[0].final_acc < 0.2 && r5[3].final_acc > 0.8;
        lab_value v[] = {{"zeros_acc", r5[0].final_acc}, {"he_normal_acc", r5[3].final_acc}};
        doc_lesson(c->doc, c->s, "zero init cannot train", ok, v, 2,
                   "Criterion: zeros stays below 0.20 test accuracy (measured %.4f) while he_normal exceeds 0.80 "
                   "(measured %.4f).",
                   r5[0].final_acc, r5[3].final_acc);
    }
    /* deep tanh */
    static const char *tanh_inits[4] = {"RandomNormal(stddev=0.05)", "glorot_uniform", "he_normal",
                                        "RandomNormal(stddev=0.05) + LSUV"};
    lab_run r6[4];
    if (st == NNINIT_OK) {
        doc_subheading(c->doc, "10 hidden layers of 128, tanh");
        doc_table(c->doc, 3, head3);
    }
    for (int k = 0; k < 4 && st == NNINIT_OK; k++) {
        lab_train_spec sp = {.n_hidden = 10, .hidden = deep, .act = NNINIT_ACT_TANH,
                             .kernel_init = k == 3 ? tanh_inits[0] : tanh_inits[k],
                             .prepare = k == 3 ? lab_lsuv_prepare : NULL};
        lab_run_begin(c, done_runs++, n_runs);
        st = lab_train(c, &sp, &r6[k], err);
        if (st == NNINIT_OK)
            lab_acc_row(c, tanh_inits[k], NULL, &r6[k]);
    }
    if (st == NNINIT_OK) {
        int ok = r6[1].final_acc > r6[0].final_acc + 0.10;
        lab_value v[] = {{"glorot_uniform_acc", r6[1].final_acc}, {"random_normal_acc", r6[0].final_acc}};
        doc_lesson(c->doc, c->s, "deep tanh nets need Glorot, not small random init", ok, v, 2,
                   "Criterion: glorot_uniform's test accuracy (%.4f) beats random_normal(0.05)'s (%.4f) by more "
                   "than 0.10 after %d epochs.",
                   r6[1].final_acc, r6[0].final_acc, c->cfg.epochs);
        int ok8 = fabs(r6[3].final_acc - r6[1].final_acc) < 0.03;
        lab_value v8[] = {{"lsuv_acc", r6[3].final_acc}, {"glorot_uniform_acc", r6[1].final_acc}};
        doc_lesson(c->doc, c->s, "LSUV repairs a badly scaled init from data", ok8, v8, 2,
                   "Criterion: random_normal(0.05) rescaled by LSUV (unit pre-activation variance per layer on 512 "
                   "training images) ends within 0.03 of glorot_uniform (%.4f vs %.4f).",
                   r6[3].final_acc, r6[1].final_acc);
    }
    /* batch norm */
    static const char *bn_inits[2] = {"RandomNormal(stddev=0.05)", "he_normal"};
    lab_run r7[2][2];
    if (st == NNINIT_OK) {
        doc_subheading(c->doc, "10 hidden layers of 128, relu, with and without batch normalization");
        doc_table(c->doc, 4, head4);
    }
    for (int b = 0; b < 2 && st == NNINIT_OK; b++)
        for (int k = 0; k < 2 && st == NNINIT_OK; k++) {
            lab_train_spec sp = {.n_hidden = 10, .hidden = deep, .act = NNINIT_ACT_RELU, .kernel_init = bn_inits[k], .bn = b};
            lab_run_begin(c, done_runs++, n_runs);
            st = lab_train(c, &sp, &r7[b][k], err);
            if (st == NNINIT_OK)
                lab_acc_row(c, bn_inits[k], b ? "yes" : "no", &r7[b][k]);
        }
    if (st == NNINIT_OK) {
        double gap_plain = fabs(r7[0][1].final_acc - r7[0][0].final_acc);
        double gap_bn = fabs(r7[1][1].final_acc - r7[1][0].final_acc);
        int ok = gap_bn < 0.03 && gap_plain > 0.10;
        lab_value v[] = {{"gap_with_bn", gap_bn}, {"gap_without_bn", gap_plain}};
        doc_lesson(c->doc, c->s, "batch normalization removes most of the sensitivity to the init", ok, v, 2,
                   "Criterion: with batch norm the two inits end within 0.03 of each other (gap %.4f); without it "
                   "they differ by more than 0.10 (gap %.4f).",
                   gap_bn, gap_plain);
    }
    if (st == NNINIT_OK) {
        const lab_run *runs[3][4] = {{&r5[0], &r5[1], &r5[2], &r5[3]},
                                     {&r6[0], &r6[1], &r6[2], &r6[3]},
                                     {&r7[0][0], &r7[0][1], &r7[1][0], &r7[1][1]}};
        static const char *labels[3][4] = {
            {"zeros", "random_normal(0.05)", "glorot_uniform", "he_normal"},
            {"random_normal(0.05)", "glorot_uniform", "he_normal", "random_normal(0.05) + LSUV"},
            {"random_normal(0.05)", "he_normal", "random_normal(0.05) + BN", "he_normal + BN"}};
        static const char *titles[3] = {"784-256-256-10 relu", "10 x 128 tanh", "10 x 128 relu, batch norm"};
        double xs[64], ys[3][4 * 64];
        nninit_plot_series ser[3][4];
        nninit_plot plots[3];
        for (int p = 0; p < 3; p++)
            lab_acc_panel(&c->cfg, titles[p], runs[p], labels[p], 4, xs, ys[p], ser[p], &plots[p]);
        st = doc_figure(c->doc, "training", "test accuracy per epoch, one panel per experiment", plots, 3, err);
    }
    return st;
}
