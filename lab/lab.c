/*
 * The lab: the classic lessons of weight initialization, each reproduced by
 * a measurement and checked by a stated criterion (never assumed):
 *   1. zero / constant init never breaks symmetry          (probe, no data)
 *   2. unscaled random init makes deep signals vanish      (probe, 50 layers)
 *   3. He keeps ReLU signals stable, Glorot does not       (probe)
 *   4. tanh: Glorot sits at the edge of chaos between small init (vanishing)
 *      and He (exploding gradients)                          (probe)
 *   5. zero init cannot train; He-normal does              (Fashion-MNIST)
 *   6. deep tanh nets train with Glorot, stall with small random init
 *   7. LSUV (data-dependent rescaling) repairs a badly scaled init
 *   8. batch normalization removes most of the sensitivity to the init
 * The report is markdown, produced line by line through a callback, and
 * optionally written with SVG plots and a JSON summary to a folder.
 */
#include "lab.h"
#include "nninit_io.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

nninit_lab_opts nninit_lab_opts_default(void)
{
    nninit_lab_opts o;
    memset(&o, 0, sizeof o);
    o.epochs = 3;
    o.depth = 50;
    o.width = 256;
    o.seed = NNINIT_DEFAULT_SEED;
    return o;
}

/* ---- report output ---- */

/* The report and the JSON summary are printed into memory streams
 * (POSIX open_memstream): the lab needs no string builder of its own. */
typedef struct report {
    const nninit_lab_opts *opts;
    FILE *f;      /* NULL: out of memory */
    char *md;     /* the report, valid after fclose(f) */
    size_t len;
} report;

static void emit(report *r, const char *fmt, ...) NNINIT_PRINTF(2, 3);
static void emit(report *r, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (r->opts->on_line)
        r->opts->on_line(line, r->opts->user);
    if (r->f)
        fprintf(r->f, "%s\n", line);
}

static void blank(report *r) { emit(r, "%s", ""); }

static void lesson(nninit_lab_summary *s, report *r, const char *title, int confirmed, const char *fmt, ...)
    NNINIT_PRINTF(5, 6);
static void lesson(nninit_lab_summary *s, report *r, const char *title, int confirmed, const char *fmt, ...)
{
    nninit_lab_lesson *l = &s->lessons[s->n_lessons < NNINIT_LAB_MAX_LESSONS ? s->n_lessons++ : s->n_lessons - 1];
    snprintf(l->title, sizeof l->title, "%s", title);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(l->evidence, sizeof l->evidence, fmt, ap);
    va_end(ap);
    l->checked = 1;
    l->confirmed = confirmed;
    blank(r);
    emit(r, "**Lesson: %s: %s.** %s", title, confirmed ? "confirmed" : "NOT reproduced", l->evidence);
}

static void lesson_skipped(nninit_lab_summary *s, report *r, const char *title, const char *why)
{
    nninit_lab_lesson *l = &s->lessons[s->n_lessons < NNINIT_LAB_MAX_LESSONS ? s->n_lessons++ : s->n_lessons - 1];
    snprintf(l->title, sizeof l->title, "%s", title);
    snprintf(l->evidence, sizeof l->evidence, "%s", why);
    l->checked = 0;
    l->confirmed = 0;
    blank(r);
    emit(r, "**Lesson: %s: skipped.** %s", title, why);
}

static void path_join(char *buf, size_t cap, const char *dir, const char *name)
{
    snprintf(buf, cap, "%s/%s", dir, name);
}

/* ---- 1. symmetry ---- */

static nninit_status lab_symmetry(const nninit_lab_opts *o, nninit_lab_summary *s, report *r, nninit_err *err)
{
    static const char *inits[] = {"zeros", "Constant(value=0.05)", "he_normal"};
    const int depth = 3;
    const int64_t width = 64;
    int64_t distinct[3][2][3]; /* init, before/after, layer */
    emit(r, "## 1. Symmetry: identical units stay identical");
    blank(r);
    emit(r, "A %d-layer tanh net of width %lld, 50 SGD steps (lr 0.1) on a random output gradient. Distinct hidden", depth,
         (long long)width);
    emit(r, "units per layer (columns of W and b that differ from every other column), before -> after training:");
    blank(r);
    emit(r, "| kernel init | layer 1 | layer 2 | layer 3 |");
    emit(r, "|---|---|---|---|");
    for (int k = 0; k < 3; k++) {
        nninit_probe_opts po = nninit_probe_opts_default();
        po.depth = depth;
        po.width = width;
        po.batch = 128;
        po.act = NNINIT_ACT_TANH;
        po.kernel_init = inits[k];
        po.seed = o->seed;
        po.train_steps = 50;
        po.lr = 0.1;
        nninit_probe_result *pr = NULL;
        nninit_status st = nninit_probe_run(&po, &pr, err);
        if (st != NNINIT_OK)
            return st;
        char row[256];
        int len = snprintf(row, sizeof row, "| %s |", inits[k]);
        for (int l = 0; l < depth; l++) {
            distinct[k][0][l] = pr->layers[l].distinct_before;
            distinct[k][1][l] = pr->layers[l].distinct_after;
            len += snprintf(row + len, sizeof row - (size_t)len, " %lld -> %lld |", (long long)distinct[k][0][l],
                            (long long)distinct[k][1][l]);
        }
        emit(r, "%s", row);
        nninit_probe_result_free(pr);
    }
    int ok = 1;
    for (int k = 0; k < 2; k++)
        for (int l = 0; l < depth - 1; l++) /* hidden layers; the last is the output layer */
            ok &= distinct[k][1][l] == 1;
    for (int l = 0; l < depth - 1; l++)
        ok &= distinct[2][1][l] == width;
    lesson(s, r, "zero or constant init never breaks symmetry", ok,
           "Criterion: after training, every hidden layer of the zeros and constant nets has 1 distinct unit and "
           "the he_normal net has %lld.",
           (long long)width);
    return NNINIT_OK;
}

/* ---- 2-4. signal propagation through depth ---- */

#define N_SIG_INITS 4
static const char *SIG_INITS[N_SIG_INITS] = {"RandomNormal(stddev=0.05)", "glorot_uniform", "he_normal",
                                             "orthogonal"};
static const char *SIG_LABELS[N_SIG_INITS] = {"random_normal(0.05)", "glorot_uniform", "he_normal", "orthogonal"};

static nninit_status lab_signal(const nninit_lab_opts *o, nninit_lab_summary *s, report *r, nninit_err *err)
{
    const nninit_act acts[2] = {NNINIT_ACT_TANH, NNINIT_ACT_RELU};
    const int depth = o->depth;
    nninit_probe_result *res[2][N_SIG_INITS] = {{NULL}};
    nninit_status st = NNINIT_OK;
    blank(r);
    emit(r, "## 2. Signals through depth");
    blank(r);
    emit(r, "Dense nets of depth %d and width %lld, a batch of 256 standard-normal inputs, a random unit-variance",
         depth, (long long)o->width);
    emit(r, "output gradient. Activation variance at the last layer relative to the first, geometric-mean gains");
    emit(r, "per layer (forward: pre-activation variance; backward: input-gradient variance), the verdict");
    emit(r, "(more than 10x change over the depth is vanishing/exploding) and the mean-field prediction of the");
    emit(r, "last layer's pre-activation variance:");
    blank(r);
    emit(r, "| act | kernel init | sw2 | var a_L / var a_1 | fwd gain | bwd gain | forward | backward | q_L measured | q_L theory |");
    emit(r, "|---|---|---|---|---|---|---|---|---|---|");
    for (int a = 0; a < 2 && st == NNINIT_OK; a++)
        for (int k = 0; k < N_SIG_INITS && st == NNINIT_OK; k++) {
            nninit_probe_opts po = nninit_probe_opts_default();
            po.depth = depth;
            po.width = o->width;
            po.batch = 256;
            po.act = acts[a];
            po.kernel_init = SIG_INITS[k];
            po.seed = o->seed;
            st = nninit_probe_run(&po, &res[a][k], err);
            if (st != NNINIT_OK)
                break;
            const nninit_probe_result *p = res[a][k];
            const nninit_probe_layer *first = &p->layers[0], *last = &p->layers[depth - 1];
            emit(r, "| %s | %s | %.3g | %.3g | %.3f | %.3f | %s | %s | %.3g | %.3g |", nninit_act_name(acts[a]),
                 SIG_LABELS[k], p->sw2, last->act_var / first->act_var, p->fwd_gain_geo, p->bwd_gain_geo,
                 nninit_probe_verdict_name(p->fwd_verdict), nninit_probe_verdict_name(p->bwd_verdict),
                 last->pre_var, last->pred_pre_var);
        }
    if (st == NNINIT_OK) {
        /* lesson 2: small unscaled random init vanishes in both */
        int ok2 = res[0][0]->fwd_verdict == NNINIT_VERDICT_VANISHING && res[1][0]->fwd_verdict == NNINIT_VERDICT_VANISHING;
        lesson(s, r, "unscaled random init makes deep signals vanish", ok2,
               "Criterion: random_normal(0.05) (sw2 = %.2f at width %lld) has a vanishing forward verdict for both "
               "tanh and relu over %d layers.",
               res[0][0]->sw2, (long long)o->width, depth);
        /* lesson 3: He keeps relu stable, Glorot (fan_avg, sw2 = 1) halves it per layer */
        int ok3 = res[1][2]->fwd_verdict == NNINIT_VERDICT_STABLE && res[1][2]->bwd_verdict == NNINIT_VERDICT_STABLE &&
                  res[1][1]->fwd_verdict == NNINIT_VERDICT_VANISHING;
        lesson(s, r, "He init keeps ReLU signals stable", ok3,
               "Criterion: with relu, he_normal is stable forward and backward, glorot_uniform vanishes forward "
               "(measured fwd gains %.3f and %.3f per layer; theory 1 and 1/2).",
               res[1][2]->fwd_gain_geo, res[1][1]->fwd_gain_geo);
        /* lesson 4: for tanh, sw2 = 1 (Glorot on a square layer) is the order-to-chaos edge at sb2 = 0:
         * small init is ordered (gradients vanish exponentially), He (sw2 = 2) is chaotic (they
         * explode), Glorot decays only as q^l -> 0 does, polynomially */
        const nninit_probe_result *tr = res[0][0], *tg = res[0][1], *th = res[0][2];
        int ok4 = tr->bwd_verdict == NNINIT_VERDICT_VANISHING && th->bwd_verdict == NNINIT_VERDICT_EXPLODING &&
                  tg->bwd_gain_geo > tr->bwd_gain_geo && tg->bwd_gain_geo <= 1.0 &&
                  tg->fwd_verdict != NNINIT_VERDICT_EXPLODING;
        lesson(s, r, "tanh: Glorot sits at the edge of chaos, between vanishing and exploding", ok4,
               "Criterion: with tanh, random_normal(0.05)'s gradients vanish (backward gain %.4f per layer), "
               "he_normal's explode (%.4f: the chaotic phase), and glorot_uniform's neither explode nor vanish as "
               "fast as the small init's (%.4f). At depth %d Glorot's forward variance still decays, polynomially, "
               "as the theory column predicts (q* = 0 at sw2 = 1, sb2 = 0).",
               tr->bwd_gain_geo, th->bwd_gain_geo, tg->bwd_gain_geo, depth);
        if (o->out_dir) {
            /* activation variance vs depth, one panel per activation, theory dashed */
            double *xs = calloc((size_t)depth, sizeof(double));
            double *ys = calloc((size_t)(2 * N_SIG_INITS * 2 * depth), sizeof(double));
            nninit_plot_series ser[2][2 * N_SIG_INITS];
            nninit_plot plots[2];
            char path[4096];
            if (!xs || !ys) {
                free(xs);
                free(ys);
                st = nninit_err_set(err, NNINIT_ENOMEM, "lab: out of memory for plots");
            } else {
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
                                             "layer", "variance", 0, 1, ser[a], 2 * N_SIG_INITS};
                }
                path_join(path, sizeof path, o->out_dir, "signal.svg");
                st = nninit_svg_write(path, plots, 2, err);
                free(xs);
                free(ys);
                if (st == NNINIT_OK) {
                    blank(r);
                    emit(r, "![pre-activation variance vs depth](signal.svg)");
                }
            }
        }
    }
    for (int a = 0; a < 2; a++)
        for (int k = 0; k < N_SIG_INITS; k++)
            nninit_probe_result_free(res[a][k]);
    return st;
}

/* ---- 5-7. training on Fashion-MNIST ---- */

typedef struct run_result {
    double test_acc[64];
    double final_acc, final_loss;
    int epochs_done;
    int diverged;
} run_result;

static nninit_status train_one(const nninit_lab_opts *o, const nninit_dataset *train, const nninit_dataset *test,
                               int n_hidden, const int64_t *hidden, nninit_act act, const char *init, int bn,
                               int lsuv, run_result *rr, nninit_err *err)
{
    nninit_mlp_desc md = nninit_mlp_desc_default();
    md.n_hidden = n_hidden;
    md.hidden = hidden;
    md.n_outputs = 10;
    md.act = act;
    md.kernel_init = init;
    md.bn = bn;
    nninit_layer_desc *layers = NULL;
    int n_layers = 0;
    nninit_net *net = NULL;
    nninit_status st = nninit_net_desc_mlp(&md, &layers, &n_layers, err);
    nninit_net_opts no = nninit_net_opts_default();
    no.seed = o->seed;
    if (st == NNINIT_OK)
        st = nninit_net_new(train->dim, layers, n_layers, &no, &net, err);
    nninit_free(layers);
    if (st == NNINIT_OK && lsuv) { /* rescale on the first 512 training images */
        nninit_lsuv_opts lo = nninit_lsuv_opts_default();
        st = nninit_lsuv(net, train->x, train->n < 512 ? train->n : 512, &lo, NULL, err);
        if (st != NNINIT_OK)
            nninit_net_free(net);
    }
    if (st != NNINIT_OK)
        return st;
    nninit_train_opts to = nninit_train_opts_default();
    to.optim.kind = NNINIT_OPT_SGD;
    to.optim.lr = 0.01;
    to.optim.momentum = 0.9;
    to.batch = 128;
    to.epochs = o->epochs;
    to.seed = o->seed;
    to.threads = o->threads;
    nninit_epoch_stats hist[64];
    memset(hist, 0, sizeof hist);
    memset(rr, 0, sizeof *rr);
    st = nninit_train(net, train, NULL, test, &to, hist, err);
    int done = o->epochs;
    if (st == NNINIT_ENUMERIC) { /* divergence is a result here, not a failure of the lab */
        rr->diverged = 1;
        done = 0;
        while (done < o->epochs && hist[done].epoch == done + 1 && done < 64)
            done++;
        st = NNINIT_OK;
    }
    nninit_net_free(net);
    if (st != NNINIT_OK)
        return st;
    rr->epochs_done = done;
    for (int e = 0; e < done; e++)
        rr->test_acc[e] = hist[e].test_acc;
    rr->final_acc = done ? hist[done - 1].test_acc : 0.1;
    rr->final_loss = done ? hist[done - 1].test_loss : (double)NAN;
    return NNINIT_OK;
}

/* One table row; b (a second factor column) may be NULL. */
static void acc_row(report *r, const char *a, const char *b, const run_result *rr)
{
    char first[160];
    snprintf(first, sizeof first, b ? "%s | %s" : "%s", a, b);
    if (rr->diverged)
        emit(r, "| %s | diverged after %d epochs | |", first, rr->epochs_done);
    else
        emit(r, "| %s | %.4f | %.4f |", first, rr->final_acc, rr->final_loss);
}

static nninit_status lab_training(const nninit_lab_opts *o, nninit_lab_summary *s, report *r, nninit_err *err)
{
    nninit_dataset train, test;
    memset(&train, 0, sizeof train);
    memset(&test, 0, sizeof test);
    nninit_err derr;
    nninit_status st = nninit_dataset_load(o->data_dir, "train", &train, &derr);
    if (st == NNINIT_OK)
        st = nninit_dataset_load(o->data_dir, "t10k", &test, &derr);
    if (st != NNINIT_OK) {
        nninit_dataset_free(&train);
        if (o->data_dir) { /* asked for explicitly: an error */
            if (err)
                *err = derr;
            return st;
        }
        blank(r);
        emit(r, "## 3. Training on Fashion-MNIST");
        blank(r);
        emit(r, "Skipped: %s", derr.msg);
        lesson_skipped(s, r, "zero init cannot train", "no data set");
        lesson_skipped(s, r, "deep tanh nets need Glorot, not small random init", "no data set");
        lesson_skipped(s, r, "LSUV repairs a badly scaled init from data", "no data set");
        lesson_skipped(s, r, "batch normalization removes most of the sensitivity to the init", "no data set");
        return NNINIT_OK;
    }
    s->data_found = 1;
    if (o->train_limit > 0 && o->train_limit < train.n)
        train.n = o->train_limit;
    int64_t deep[10];
    for (int i = 0; i < 10; i++)
        deep[i] = 128;
    const int64_t mlp[2] = {256, 256};
    blank(r);
    emit(r, "## 3. Training on Fashion-MNIST");
    blank(r);
    emit(r, "%lld training and %lld test images scaled to [0, 1]; SGD with momentum 0.9, lr 0.01, batch 128,",
         (long long)train.n, (long long)test.n);
    emit(r, "%d epochs, biases zero, the same seed and data order for every run. Test accuracy and loss after the", o->epochs);
    emit(r, "last epoch (chance is 0.10):");

    /* 5: zeros vs random vs glorot vs he on the classic MLP */
    static const char *mlp_inits[4] = {"zeros", "RandomNormal(stddev=0.05)", "glorot_uniform", "he_normal"};
    run_result r5[4];
    blank(r);
    emit(r, "### 784-256-256-10, relu");
    blank(r);
    emit(r, "| kernel init | test acc | test loss |");
    emit(r, "|---|---|---|");
    for (int k = 0; k < 4 && st == NNINIT_OK; k++) {
        st = train_one(o, &train, &test, 2, mlp, NNINIT_ACT_RELU, mlp_inits[k], 0, 0, &r5[k], err);
        if (st == NNINIT_OK)
            acc_row(r, mlp_inits[k], NULL, &r5[k]);
    }
    if (st == NNINIT_OK) {
        int ok = r5[0].final_acc < 0.2 && r5[3].final_acc > 0.8;
        lesson(s, r, "zero init cannot train", ok,
               "Criterion: zeros stays below 0.20 test accuracy (measured %.4f) while he_normal exceeds 0.80 "
               "(measured %.4f).",
               r5[0].final_acc, r5[3].final_acc);
    }
    /* 6: deep tanh */
    static const char *tanh_inits[4] = {"RandomNormal(stddev=0.05)", "glorot_uniform", "he_normal",
                                        "RandomNormal(stddev=0.05) + LSUV"};
    run_result r6[4];
    if (st == NNINIT_OK) {
        blank(r);
        emit(r, "### 10 hidden layers of 128, tanh");
        blank(r);
        emit(r, "| kernel init | test acc | test loss |");
        emit(r, "|---|---|---|");
    }
    for (int k = 0; k < 4 && st == NNINIT_OK; k++) {
        st = train_one(o, &train, &test, 10, deep, NNINIT_ACT_TANH, k == 3 ? tanh_inits[0] : tanh_inits[k], 0, k == 3,
                       &r6[k], err);
        if (st == NNINIT_OK)
            acc_row(r, tanh_inits[k], NULL, &r6[k]);
    }
    if (st == NNINIT_OK) {
        int ok = r6[1].final_acc > r6[0].final_acc + 0.10;
        lesson(s, r, "deep tanh nets need Glorot, not small random init", ok,
               "Criterion: glorot_uniform's test accuracy (%.4f) beats random_normal(0.05)'s (%.4f) by more than "
               "0.10 after %d epochs.",
               r6[1].final_acc, r6[0].final_acc, o->epochs);
        int ok8 = fabs(r6[3].final_acc - r6[1].final_acc) < 0.03;
        lesson(s, r, "LSUV repairs a badly scaled init from data", ok8,
               "Criterion: random_normal(0.05) rescaled by LSUV (unit pre-activation variance per layer on 512 "
               "training images) ends within 0.03 of glorot_uniform (%.4f vs %.4f).",
               r6[3].final_acc, r6[1].final_acc);
    }
    /* 7: batch norm */
    static const char *bn_inits[2] = {"RandomNormal(stddev=0.05)", "he_normal"};
    run_result r7[2][2];
    if (st == NNINIT_OK) {
        blank(r);
        emit(r, "### 10 hidden layers of 128, relu, with and without batch normalization");
        blank(r);
        emit(r, "| kernel init | batch norm | test acc | test loss |");
        emit(r, "|---|---|---|---|");
    }
    for (int b = 0; b < 2 && st == NNINIT_OK; b++)
        for (int k = 0; k < 2 && st == NNINIT_OK; k++) {
            st = train_one(o, &train, &test, 10, deep, NNINIT_ACT_RELU, bn_inits[k], b, 0, &r7[b][k], err);
            if (st == NNINIT_OK)
                acc_row(r, bn_inits[k], b ? "yes" : "no", &r7[b][k]);
        }
    if (st == NNINIT_OK) {
        double gap_plain = fabs(r7[0][1].final_acc - r7[0][0].final_acc);
        double gap_bn = fabs(r7[1][1].final_acc - r7[1][0].final_acc);
        int ok = gap_bn < 0.03 && gap_plain > 0.10;
        lesson(s, r, "batch normalization removes most of the sensitivity to the init", ok,
               "Criterion: with batch norm the two inits end within 0.03 of each other (gap %.4f); without it "
               "they differ by more than 0.10 (gap %.4f).",
               gap_bn, gap_plain);
    }
    if (st == NNINIT_OK && o->out_dir) {
        /* one panel per experiment: test accuracy per epoch of every run */
        const run_result *runs[3][4] = {{&r5[0], &r5[1], &r5[2], &r5[3]},
                                        {&r6[0], &r6[1], &r6[2], &r6[3]},
                                        {&r7[0][0], &r7[0][1], &r7[1][0], &r7[1][1]}};
        static const char *labels[3][4] = {
            {"zeros", "random_normal(0.05)", "glorot_uniform", "he_normal"},
            {"random_normal(0.05)", "glorot_uniform", "he_normal", "random_normal(0.05) + LSUV"},
            {"random_normal(0.05)", "he_normal", "random_normal(0.05) + BN", "he_normal + BN"}};
        static const char *titles[3] = {"784-256-256-10 relu", "10 x 128 tanh", "10 x 128 relu, batch norm"};
        double xs[64], ys[3][4][64];
        nninit_plot_series ser[3][4];
        nninit_plot plots[3];
        for (int e = 0; e < o->epochs; e++)
            xs[e] = e + 1;
        for (int p = 0; p < 3; p++) {
            for (int k = 0; k < 4; k++) {
                for (int e = 0; e < o->epochs; e++)
                    ys[p][k][e] = e < runs[p][k]->epochs_done ? runs[p][k]->test_acc[e] : (double)NAN;
                ser[p][k] = (nninit_plot_series){labels[p][k], xs, ys[p][k], o->epochs, 0, k};
            }
            plots[p] = (nninit_plot){titles[p], "epoch", "test accuracy", 0, 0, ser[p], 4};
        }
        char path[4096];
        path_join(path, sizeof path, o->out_dir, "training.svg");
        st = nninit_svg_write(path, plots, 3, err);
        if (st == NNINIT_OK) {
            blank(r);
            emit(r, "![test accuracy per epoch, one panel per experiment](training.svg)");
        }
    }
    nninit_dataset_free(&train);
    nninit_dataset_free(&test);
    return st;
}

static nninit_status write_text(const char *dir, const char *name, const char *text, nninit_err *err)
{
    char path[4096];
    path_join(path, sizeof path, dir, name);
    nninit_status st = nninit_file_write(path, text, strlen(text), err);
    return st;
}

nninit_status nninit_lab_summary_json(const nninit_lab_opts *o, const nninit_lab_summary *s, char **json,
                                     nninit_err *err)
{
    if (!o || !s || !json)
        return nninit_err_set(err, NNINIT_EMISUSE, "nninit_lab_summary_json: NULL argument");
    *json = NULL;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return nninit_err_set(err, NNINIT_ENOMEM, "lab: out of memory for the summary");
    fprintf(f, "{\"version\": \"%s\", \"seed\": %llu, \"epochs\": %d, \"depth\": %d, \"width\": %lld, "
               "\"data\": %s, \"lessons\": [",
            nninit_version(), (unsigned long long)o->seed, o->epochs, o->depth, (long long)o->width,
            s->data_found ? "true" : "false");
    for (int i = 0; i < s->n_lessons && i < NNINIT_LAB_MAX_LESSONS; i++) {
        const nninit_lab_lesson *l = &s->lessons[i];
        char title[6 * sizeof l->title + 3]; /* every byte escaped as \u00xx at worst, quotes, NUL */
        nninit_json_quote(l->title, title, sizeof title);
        fprintf(f, "%s{\"title\": %s, \"status\": \"%s\"}", i ? ", " : "", title,
                !l->checked ? "skipped" : (l->confirmed ? "confirmed" : "not_reproduced"));
    }
    fputs("]}\n", f);
    int bad = ferror(f);
    if (fclose(f) != 0 || bad) {
        free(buf);
        return nninit_err_set(err, NNINIT_ENOMEM, "lab: out of memory for the summary");
    }
    *json = buf;
    return NNINIT_OK;
}

static nninit_status write_json(const nninit_lab_opts *o, const nninit_lab_summary *s, nninit_err *err)
{
    char *json = NULL;
    nninit_status st = nninit_lab_summary_json(o, s, &json, err);
    if (st == NNINIT_OK)
        st = write_text(o->out_dir, "lab.json", json, err);
    free(json);
    return st;
}

nninit_status nninit_lab_run(const nninit_lab_opts *opts, nninit_lab_summary *out, nninit_err *err)
{
    if (!opts || !out)
        return nninit_err_set(err, NNINIT_EMISUSE, "nninit_lab_run: NULL argument");
    if (opts->epochs < 1 || opts->epochs > 64)
        return nninit_err_set(err, NNINIT_EINVAL, "lab: epochs is %d; use 1 to 64", opts->epochs);
    if (opts->depth < 2 || opts->depth > 1000)
        return nninit_err_set(err, NNINIT_EINVAL, "lab: depth is %d; use 2 to 1000", opts->depth);
    if (opts->width < 2 || opts->width > 8192)
        return nninit_err_set(err, NNINIT_EINVAL, "lab: width is %lld; use 2 to 8192", (long long)opts->width);
    if (opts->train_limit < 0)
        return nninit_err_set(err, NNINIT_EINVAL, "lab: train_limit is negative");
    memset(out, 0, sizeof *out);
    if (opts->out_dir && mkdir(opts->out_dir, 0777) != 0 && errno != EEXIST)
        return nninit_err_set(err, NNINIT_EIO, "%s: cannot create the report folder (%s)", opts->out_dir, strerror(errno));
    if (opts->threads > 0)
        nninit_blas_set_threads(opts->threads);
    report r = {opts, NULL, NULL, 0};
    r.f = open_memstream(&r.md, &r.len);
    emit(&r, "# nninit lab: why initialization matters");
    blank(&r);
    emit(&r, "nninit %s, seed %llu. Every number below is measured in this run; each lesson states the criterion",
         nninit_version(), (unsigned long long)opts->seed);
    emit(&r, "it was checked against. Rerun: `nninit lab --seed %llu --epochs %d --depth %d --width %lld`.",
         (unsigned long long)opts->seed, opts->epochs, opts->depth, (long long)opts->width);
    blank(&r);
    nninit_status st = lab_symmetry(opts, out, &r, err);
    if (st == NNINIT_OK)
        st = lab_signal(opts, out, &r, err);
    if (st == NNINIT_OK && !opts->skip_training)
        st = lab_training(opts, out, &r, err);
    if (st == NNINIT_OK) {
        int confirmed = 0, checked = 0;
        for (int i = 0; i < out->n_lessons; i++) {
            checked += out->lessons[i].checked;
            confirmed += out->lessons[i].confirmed;
        }
        blank(&r);
        emit(&r, "## Summary: %d of %d checked lessons confirmed", confirmed, checked);
        blank(&r);
        for (int i = 0; i < out->n_lessons; i++)
            emit(&r, "- %s: %s", out->lessons[i].title,
                 !out->lessons[i].checked ? "skipped" : (out->lessons[i].confirmed ? "confirmed" : "NOT reproduced"));
    }
    int report_bad = !r.f || ferror(r.f);
    if (r.f && fclose(r.f) != 0)
        report_bad = 1;
    if (st == NNINIT_OK && report_bad)
        st = nninit_err_set(err, NNINIT_ENOMEM, "lab: out of memory for the report");
    if (st == NNINIT_OK && opts->out_dir) {
        st = write_text(opts->out_dir, "report.md", r.md, err);
        if (st == NNINIT_OK)
            st = write_json(opts, out, err);
    }
    free(r.md);
    return st;
}
