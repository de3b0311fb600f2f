/*
 * Training runs of the sequence lessons (recurrent, transformer) through
 * the engine's loop, nninit_train, on sequence sets made data sets by
 * nninit_dataset_from_seqset: the lab has one training loop, the
 * engine's. What the lessons measure beyond its epoch history -- the loss
 * of every step (curves, the first loss, the mean over the first steps)
 * -- comes from its monitor callback, which reports each step's batch
 * loss; the test loss from nninit_evaluate.
 */
#include "lab_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

lab_seq_spec lab_seq_spec_default(void)
{
    lab_seq_spec s;
    memset(&s, 0, sizeof s);
    s.optim = nninit_optim_opts_default();
    s.optim.kind = NNINIT_OPT_ADAM;
    s.optim.lr = 1e-3;
    s.loss = NNINIT_LOSS_MSE;
    s.batch = 16;
    s.epochs = 1;
    s.n_early = 50;
    return s;
}

typedef struct seq_watch {
    lab_ctx *c;
    lab_seq_run *r;
    int64_t total, per_point, n_early;
    double acc, early;
    int64_t in_acc, seen;
    double base, share;
} seq_watch;

static void on_step_loss(int epoch, int64_t step, double loss, const nninit_layer_stats *stats, int n_layers,
                         void *user)
{
    (void)epoch;
    (void)stats;
    (void)n_layers;
    seq_watch *w = user;
    lab_seq_run *r = w->r;
    if (step == 1)
        r->first_loss = loss;
    if (step <= w->n_early) {
        w->early += loss;
        w->seen = step;
    }
    w->acc += loss;
    if (++w->in_acc == w->per_point && r->n_curve < LAB_SEQ_CURVE) {
        r->curve_x[r->n_curve] = (double)step;
        r->curve[r->n_curve++] = w->acc / (double)w->in_acc;
        w->acc = 0;
        w->in_acc = 0;
    }
    r->steps_done = step;
    if (step % 16 == 0 || step == w->total)
        lab_progress(w->c, w->base + w->share * (double)step / (double)w->total);
}

nninit_status lab_seq_train(lab_ctx *c, nninit_net *net, const nninit_dataset *train, const nninit_dataset *test,
                            const lab_seq_spec *spec, double base, double share, lab_seq_run *r, nninit_err *err)
{
    memset(r, 0, sizeof *r);
    r->test_loss = (double)NAN;
    int64_t B = spec->batch < train->n ? spec->batch : train->n;
    int64_t total = (train->n + B - 1) / B * spec->epochs;
    seq_watch w = {c, r, total, total / LAB_SEQ_CURVE > 0 ? total / LAB_SEQ_CURVE : 1, spec->n_early, 0, 0, 0, 0,
                   base, share};
    if (w.per_point * LAB_SEQ_CURVE < total) /* at most LAB_SEQ_CURVE points */
        w.per_point++;
    nninit_train_opts to = nninit_train_opts_default();
    to.optim = spec->optim;
    to.loss = spec->loss;
    to.batch = spec->batch;
    to.epochs = spec->epochs;
    to.seed = spec->seed;
    to.threads = c->o->threads;
    to.monitor_every = 1; /* the monitor is how the engine reports every step's loss */
    to.on_monitor = on_step_loss;
    to.user = &w;
    nninit_status st = nninit_train(net, train, NULL, NULL, &to, NULL, err);
    if (st == NNINIT_ENUMERIC) { /* divergence is a result of the lesson, not a failure of the lab */
        r->diverged = 1;
        st = NNINIT_OK;
    }
    r->early = w.seen > 0 ? w.early / (double)w.seen : (double)NAN;
    if (st == NNINIT_OK && !r->diverged)
        st = nninit_evaluate(net, test, spec->loss, 256, &r->test_loss, NULL, err);
    return st;
}

nninit_status lab_dataset_sample(const nninit_dataset *d, int64_t n, uint64_t seed, nninit_dataset *out,
                                 nninit_err *err)
{
    memset(out, 0, sizeof *out);
    if (n > d->n)
        n = d->n;
    int64_t ys = d->y_steps > 1 ? d->y_steps : 1;
    int64_t *perm = malloc((size_t)d->n * sizeof *perm);
    out->x = malloc((size_t)(n * d->dim) * sizeof *out->x);
    if (d->y)
        out->y = malloc((size_t)(n * ys) * sizeof *out->y);
    if (d->yf)
        out->yf = malloc((size_t)(n * ys) * sizeof *out->yf);
    nninit_status st = NNINIT_OK;
    if (!perm || !out->x || (d->y && !out->y) || (d->yf && !out->yf))
        st = nninit_err_set(err, NNINIT_ENOMEM, "lab: out of memory for a sample of the data set");
    if (st == NNINIT_OK)
        st = nninit_permutation(perm, d->n, seed, 0, err);
    for (int64_t i = 0; st == NNINIT_OK && i < n; i++) {
        memcpy(out->x + i * d->dim, d->x + perm[i] * d->dim, (size_t)d->dim * sizeof *out->x);
        if (d->y)
            memcpy(out->y + i * ys, d->y + perm[i] * ys, (size_t)ys * sizeof *out->y);
        if (d->yf)
            memcpy(out->yf + i * ys, d->yf + perm[i] * ys, (size_t)ys * sizeof *out->yf);
    }
    free(perm);
    if (st != NNINIT_OK) {
        nninit_dataset_free(out);
        memset(out, 0, sizeof *out);
        return st;
    }
    out->n = n;
    out->dim = d->dim;
    out->n_classes = d->n_classes;
    out->y_steps = d->y_steps;
    return NNINIT_OK;
}
