/* The training loop: seeded shuffling, mini-batch forward/backward/step,
 * divergence detection, per-epoch evaluation and history. */
#include "nn/internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

nninit_train_opts nninit_train_opts_default(void)
{
    nninit_train_opts o;
    memset(&o, 0, sizeof o);
    o.optim = nninit_optim_opts_default();
    o.loss = NNINIT_LOSS_SOFTMAX_CE;
    o.schedule = NNINIT_SCHED_CONSTANT;
    o.step_gamma = 0.1;
    o.batch = 128;
    o.epochs = 10;
    o.seed = NNINIT_DEFAULT_SEED;
    o.eval_batch = 1000;
    return o;
}

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double now_s(void) { return clock_s(CLOCK_MONOTONIC); }

/* Rows of out (rows, n) whose largest entry (first on ties) is the label. */
static int64_t count_correct(const float *out, int64_t rows, int64_t n, const int32_t *labels)
{
    int64_t c = 0;
    for (int64_t r = 0; r < rows; r++) {
        const float *o = out + r * n;
        int64_t best = 0;
        for (int64_t j = 1; j < n; j++)
            if (o[j] > o[best])
                best = j;
        c += best == labels[r];
    }
    return c;
}

/* Targets per row (a language model: one per step). */
static int64_t y_steps(const nninit_dataset *d) { return d->y_steps > 1 ? d->y_steps : 1; }

static nninit_status check_data(const nninit_net *net, const nninit_dataset *d, nninit_loss_kind loss,
                                const char *what, nninit_err *err)
{
    if (!d->x || (!d->y && !d->yf) || d->n < 1)
        return nninit__err(err, NNINIT_EINVAL, "%s set is empty; expected at least one row", what);
    if (d->dim != net->n_inputs)
        return nninit__err(err, NNINIT_EINVAL, "%s set has %lld features, the network takes %lld; they must agree", what,
                           (long long)d->dim, (long long)net->n_inputs);
    int64_t ys = y_steps(d), n_out = nninit_net_n_outputs(net);
    if (n_out % ys || (d->yf && n_out != ys))
        return nninit__err(err, NNINIT_EINVAL, "%s set has %lld %s targets a row, the network %lld outputs; expected "
                           "%s", what, (long long)ys, d->yf ? "real" : "class", (long long)n_out,
                           d->yf ? "one output per target" : "a multiple (one set of class scores per target)");
    if (d->yf && loss != NNINIT_LOSS_MSE)
        return nninit__err(err, NNINIT_EINVAL, "%s set has real targets; train them with the mse loss", what);
    int64_t per = n_out / ys;
    for (int64_t i = 0; d->y && i < d->n * ys; i++)
        if (d->y[i] < 0 || d->y[i] >= per)
            return nninit__err(err, NNINIT_EINVAL, "%s set: label %d of row %lld needs at least %d outputs, the network "
                               "has %lld", what, (int)d->y[i], (long long)(i / ys), (int)d->y[i] + 1, (long long)per);
    return NNINIT_OK;
}

nninit_status nninit_evaluate(nninit_net *net, const nninit_dataset *d, nninit_loss_kind loss, int64_t batch,
                              double *mean_loss, double *accuracy, nninit_err *err)
{
    if (!net || !d)
        return nninit__err(err, NNINIT_EMISUSE, "nninit_evaluate: NULL argument");
    nninit_status s = check_data(net, d, loss, "evaluation", err);
    if (s != NNINIT_OK)
        return s;
    if (batch < 1)
        batch = 1000;
    int64_t ys = y_steps(d), n_out = nninit_net_n_outputs(net) / ys, correct = 0;
    double total = 0.0;
    for (int64_t r0 = 0; r0 < d->n; r0 += batch) {
        int64_t rows = d->n - r0 < batch ? d->n - r0 : batch;
        const float *out;
        s = nninit_net_forward(net, d->x + r0 * d->dim, rows, 0, &out, err);
        double l = 0.0;
        if (s == NNINIT_OK)
            s = nninit_loss(loss, out, rows * ys, n_out, d->y ? d->y + r0 * ys : NULL, d->yf ? d->yf + r0 * ys : NULL,
                            &l, NULL, err);
        if (s != NNINIT_OK)
            return s;
        total += l * (double)rows;
        if (d->y)
            correct += count_correct(out, rows * ys, n_out, d->y + r0 * ys);
    }
    if (mean_loss)
        *mean_loss = total / (double)d->n;
    if (accuracy) /* per target; NaN for real targets */
        *accuracy = d->y ? (double)correct / (double)(d->n * ys) : (double)NAN;
    return NNINIT_OK;
}

nninit_status nninit_train(nninit_net *net, const nninit_dataset *train, const nninit_dataset *val,
                           const nninit_dataset *test, const nninit_train_opts *opts, nninit_epoch_stats *history,
                           nninit_err *err)
{
    if (!net || !train || !opts)
        return nninit__err(err, NNINIT_EMISUSE, "nninit_train: NULL argument");
    nninit_status s = check_data(net, train, opts->loss, "training", err);
    if (s == NNINIT_OK && val)
        s = check_data(net, val, opts->loss, "validation", err);
    if (s == NNINIT_OK && test)
        s = check_data(net, test, opts->loss, "test", err);
    if (s != NNINIT_OK)
        return s;
    if (opts->batch < 1 || opts->batch > (INT64_C(1) << 20) || opts->epochs < 1 || opts->epochs > 1000000)
        return nninit__err(err, NNINIT_EINVAL, "training: batch %lld, epochs %d; expected batch 1 .. 1048576, epochs >= 1",
                           (long long)opts->batch, opts->epochs);
    if (opts->schedule == NNINIT_SCHED_STEP && !(opts->step_gamma > 0.0 && isfinite(opts->step_gamma)))
        return nninit__err(err, NNINIT_EINVAL, "step schedule: gamma %g; expected a finite value > 0", opts->step_gamma);
    if (opts->threads > 0)
        nninit_blas_set_threads(opts->threads);
    int64_t n = train->n, dim = train->dim, B = opts->batch < n ? opts->batch : n;
    int64_t ys = y_steps(train), n_out = nninit_net_n_outputs(net), per = n_out / ys;
    int64_t steps = (n + B - 1) / B, total_steps = steps * opts->epochs;
    int step_epochs = opts->step_epochs > 0 ? opts->step_epochs : (opts->epochs / 3 > 0 ? opts->epochs / 3 : 1);
    int64_t *perm = nninit__malloc_array((size_t)n, sizeof *perm);
    float *xb = nninit__malloc_array((size_t)(B * dim), sizeof *xb);
    float *dout = nninit__malloc_array((size_t)(B * n_out), sizeof *dout);
    int32_t *yb = nninit__malloc_array((size_t)(B * ys), sizeof *yb);
    float *yfb = train->yf ? nninit__malloc_array((size_t)(B * ys), sizeof *yfb) : NULL;
    int monitor = opts->monitor_every > 0 && opts->on_monitor;
    int64_t n_params = nninit_net_n_params(net);
    float *before = monitor ? nninit__malloc_array((size_t)(n_params > 0 ? n_params : 1), sizeof *before) : NULL;
    nninit_layer_stats *stats = monitor ? nninit__calloc_array((size_t)net->n_layers, sizeof *stats) : NULL;
    if (!perm || !xb || !dout || !yb || (train->yf && !yfb) || (monitor && (!before || !stats))) {
        s = nninit__err(err, NNINIT_ENOMEM, "training: out of memory for the batch buffers");
        goto done;
    }
    for (int e = 0; e < opts->epochs; e++) {
        nninit_epoch_stats st;
        memset(&st, 0, sizeof st);
        st.epoch = e + 1;
        double t0 = now_s(), c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID), loss_sum = 0.0, lr = opts->optim.lr;
        int64_t correct = 0;
        /* epoch e's order: the permutation of stream e + 1 (stream 0 is left unused) */
        nninit_permutation(perm, n, opts->seed, (uint64_t)e + 1, NULL);
        for (int64_t k = 0; k < steps; k++) {
            int64_t r0 = k * B, rows = n - r0 < B ? n - r0 : B;
            for (int64_t r = 0; r < rows; r++) {
                int64_t src = perm[r0 + r];
#if defined(__GNUC__)
                /* rows come from random places: ask for the one 4 ahead early */
                if (r + 4 < rows) {
                    const char *ahead = (const char *)(train->x + perm[r0 + r + 4] * dim);
                    for (size_t c = 0; c < (size_t)dim * sizeof *xb; c += 256)
                        __builtin_prefetch(ahead + c);
                }
#endif
                memcpy(xb + r * dim, train->x + src * dim, (size_t)dim * sizeof *xb);
                if (train->y)
                    memcpy(yb + r * ys, train->y + src * ys, (size_t)ys * sizeof *yb);
                else
                    memcpy(yfb + r * ys, train->yf + src * ys, (size_t)ys * sizeof *yfb);
            }
            const float *out;
            double l = 0.0;
            s = nninit_net_forward(net, xb, rows, 1, &out, err);
            if (s == NNINIT_OK)
                s = nninit_loss(opts->loss, out, rows * ys, per, train->y ? yb : NULL, yfb, &l, dout, err);
            if (s != NNINIT_OK)
                goto done;
            if (!isfinite(l)) {
                s = nninit__err(err, NNINIT_ENUMERIC,
                                "diverged at epoch %d, step %lld: loss is %s; lower the learning rate or the initial "
                                "weight scale",
                                e + 1, (long long)k + 1, isnan(l) ? "nan" : "inf");
                goto done;
            }
            loss_sum += l * (double)rows;
            if (train->y)
                correct += count_correct(out, rows * ys, per, yb);
            lr = nninit_schedule_lr(opts->schedule, opts->optim.lr, opts->lr_min, step_epochs, opts->step_gamma,
                                    (int64_t)e * steps + k, steps, total_steps);
            int64_t global = (int64_t)e * steps + k + 1;
            int watch = monitor && global % opts->monitor_every == 0;
            if (watch)
                nninit__params_snapshot(net, before);
            s = nninit__net_backward_step(net, dout, &opts->optim, lr, watch, err);
            if (s != NNINIT_OK)
                goto done;
            if (watch) {
                nninit__monitor_collect(net, before, stats);
                opts->on_monitor(e + 1, global, l, stats, net->n_layers, opts->user);
            }
            if (opts->on_step)
                opts->on_step(e + 1, k + 1, steps, opts->user);
        }
        st.seconds = now_s() - t0;
        st.cpu_seconds = clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
        st.train_loss = loss_sum / (double)n;
        st.train_acc = train->y ? (double)correct / (double)(n * ys) : (double)NAN;
        st.lr = lr;
        st.val_loss = st.val_acc = st.test_loss = st.test_acc = (double)NAN;
        double t1 = now_s();
        if (val && (s = nninit_evaluate(net, val, opts->loss, opts->eval_batch, &st.val_loss, &st.val_acc, err)) != NNINIT_OK)
            goto done;
        if (test &&
            (s = nninit_evaluate(net, test, opts->loss, opts->eval_batch, &st.test_loss, &st.test_acc, err)) != NNINIT_OK)
            goto done;
        st.eval_seconds = now_s() - t1;
        if (history)
            history[e] = st;
        if (opts->on_epoch)
            opts->on_epoch(&st, opts->user);
    }
done:
    free(before);
    free(stats);
    free(perm);
    free(xb);
    free(dout);
    free(yb);
    free(yfb);
    return s;
}
