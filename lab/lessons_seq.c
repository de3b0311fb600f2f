/*
 * Recurrent memory (issue 12): two long-memory tasks at lengths where
 * memory matters,
 *   the adding problem (Hochreiter & Schmidhuber 1997, in Le et al. 2015's
 *   form: a real target, mean squared error) and
 *   copy memory (Arjovsky et al. 2016's form: a class per step,
 *   cross-entropy),
 * with
 *   SimpleRNN: IRNN (relu, identity recurrent kernel, N(0, 0.001) input
 *              kernel; Le et al. 2015), orthogonal and glorot_uniform
 *              recurrent kernels (tanh)
 *   LSTM:      forget-gate bias 0, 1 (Keras unit_forget_bias) and chrono
 *              init (Tallec & Ollivier 2018: b_f = log U(1, T - 1), b_i = -b_f)
 * Measured: the gradient reaching each time step's input at init; the
 * training loss; the test loss after a fixed budget, trained by the
 * engine's loop (lab_seq_train). The SimpleRNN runs on the adding problem
 * are repeated over seeds (their spread is large); Le et al.'s optimizer
 * (plain SGD with gradient-norm clipping) is run beside Adam.
 */
#include "lab_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_T 128
#define N_SEEDS 3 /* per SimpleRNN init on the adding problem */

typedef struct seq_variant {
    const char *label;
    nninit_layer_kind kind;
    nninit_act act;
    const char *kernel_init, *recurrent_init;
    int unit_forget_bias;
    int chrono;
} seq_variant;

enum { V_IRNN, V_ORTH, V_GLOROT, V_BIAS0, V_BIAS1, V_CHRONO, N_VARIANTS };
static const seq_variant VARIANTS[N_VARIANTS] = {
    {"IRNN (relu, identity)", NNINIT_LAYER_SIMPLE_RNN, NNINIT_ACT_RELU, "RandomNormal(stddev=0.001)", "identity", 0, 0},
    {"tanh, orthogonal", NNINIT_LAYER_SIMPLE_RNN, NNINIT_ACT_TANH, "glorot_uniform", "orthogonal", 0, 0},
    {"tanh, glorot_uniform", NNINIT_LAYER_SIMPLE_RNN, NNINIT_ACT_TANH, "glorot_uniform", "glorot_uniform", 0, 0},
    {"LSTM, forget bias 0", NNINIT_LAYER_LSTM, NNINIT_ACT_TANH, "glorot_uniform", "orthogonal", 0, 0},
    {"LSTM, forget bias 1", NNINIT_LAYER_LSTM, NNINIT_ACT_TANH, "glorot_uniform", "orthogonal", 1, 0},
    {"LSTM, chrono", NNINIT_LAYER_LSTM, NNINIT_ACT_TANH, "glorot_uniform", "orthogonal", 0, 1},
};

/* One task: its data sets (the engine's) and the net around the recurrent layer. */
typedef struct seq_task {
    int64_t steps, feat; /* feat: features per step (adding), 0 for token inputs (copy) */
    int copy;
    nninit_dataset train, test;
    nninit_loss_kind loss;
} seq_task;

/* Chrono init: forget-gate bias log(u), u ~ U(1, T - 1), input-gate bias
 * its negative (Keras gate order i, f, c, o in blocks of units). */
static nninit_status chrono_init(nninit_net *net, int layer, int64_t units, int64_t steps, uint64_t seed,
                                 nninit_err *err)
{
    float *bias = NULL;
    nninit_status st = nninit_net_param(net, layer, 2, &bias, NULL, NULL, NULL, err);
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

/* adding: RNN -> Dense(1); copy: Embedding(10, 10) with an identity table
 * (one-hot inputs at init) -> RNN (every step) -> Dense(9). */
static nninit_status build(const seq_task *t, const seq_variant *v, int64_t units, uint64_t seed, nninit_net **net,
                           int *rnn_layer, nninit_err *err)
{
    nninit_layer_desc L[3];
    int n = 0;
    if (t->copy) {
        L[n] = nninit_layer_desc_default(NNINIT_LAYER_EMBEDDING);
        L[n].vocab = 10;
        L[n].units = 10;
        snprintf(L[n].kernel_init, sizeof L[n].kernel_init, "identity");
        n++;
    }
    *rnn_layer = n;
    L[n] = nninit_layer_desc_default(v->kind);
    L[n].units = units;
    L[n].act = v->act;
    L[n].return_sequences = t->copy;
    snprintf(L[n].kernel_init, sizeof L[n].kernel_init, "%s", v->kernel_init);
    snprintf(L[n].recurrent_init, sizeof L[n].recurrent_init, "%s", v->recurrent_init);
    L[n].unit_forget_bias = v->unit_forget_bias;
    n++;
    L[n] = nninit_layer_desc_default(NNINIT_LAYER_DENSE);
    L[n].units = t->copy ? 9 : 1;
    L[n].act = NNINIT_ACT_LINEAR;
    n++;
    nninit_shape in = t->copy ? (nninit_shape){1, {t->steps}} : (nninit_shape){2, {t->steps, t->feat}};
    nninit_net_opts no = nninit_net_opts_default();
    no.seed = seed;
    nninit_status st = nninit_net_new_shaped(&in, L, n, &no, net, err);
    if (st == NNINIT_OK && v->chrono)
        st = chrono_init(*net, *rnn_layer, units, t->steps, seed, err);
    return st;
}

/* rms over 128 training sequences of the gradient reaching the recurrent
 * layer's input at each step, at init. */
static nninit_status grad_through_time(nninit_net *net, int layer, const seq_task *t, double *grad_t, nninit_err *err)
{
    const nninit_dataset *d = &t->train;
    int64_t rows = d->n < 128 ? d->n : 128, ys = d->y_steps > 1 ? d->y_steps : 1;
    int64_t n_out = nninit_net_n_outputs(net);
    float *dout = malloc((size_t)(rows * n_out) * sizeof *dout);
    if (!dout)
        return nninit_err_set(err, NNINIT_ENOMEM, "lab: out of memory for the gradient at init");
    const float *out = NULL;
    double loss = 0;
    nninit_status st = nninit_net_forward(net, d->x, rows, 1, &out, err);
    if (st == NNINIT_OK)
        st = nninit_loss(t->loss, out, rows * ys, n_out / ys, d->y, d->yf, &loss, dout, err);
    if (st == NNINIT_OK)
        st = nninit_net_backward(net, dout, 1, err);
    if (st == NNINIT_OK) {
        int64_t r, cols;
        const float *g = nninit_net_tensor(net, layer, NNINIT_T_GRAD_INPUT, &r, &cols);
        int64_t F = cols / t->steps;
        for (int64_t s = 0; s < t->steps && s < MAX_T; s++) {
            double acc = 0;
            for (int64_t i = 0; g && i < r; i++)
                for (int64_t f = 0; f < F; f++)
                    acc += (double)g[i * cols + s * F + f] * (double)g[i * cols + s * F + f];
            grad_t[s] = g ? sqrt(acc / (double)r) : (double)NAN;
        }
    }
    free(dout);
    return st;
}

typedef struct seq_cell {
    double grad_t[MAX_T]; /* at init (the first seed) */
    double ratio;         /* grad_t[first] / grad_t[last] */
    lab_seq_run run[N_SEEDS];
    int n_runs;
} seq_cell;

/* Trains variant v on task t once per seed (cfg.seed + k: the init and the data order). */
static nninit_status seq_cell_run(lab_ctx *c, const seq_task *t, const seq_variant *v, int64_t units,
                                  const lab_seq_spec *spec, int n_seeds, double base, double share, seq_cell *cell,
                                  nninit_err *err)
{
    memset(cell, 0, sizeof *cell);
    nninit_status st = NNINIT_OK;
    for (int k = 0; st == NNINIT_OK && k < n_seeds; k++) {
        nninit_net *net = NULL;
        int layer = 0;
        uint64_t seed = c->cfg.seed + (uint64_t)k;
        st = build(t, v, units, seed, &net, &layer, err);
        if (st == NNINIT_OK && k == 0) {
            st = grad_through_time(net, layer, t, cell->grad_t, err);
            cell->ratio = cell->grad_t[0] / cell->grad_t[t->steps - 1];
        }
        lab_seq_spec sp = *spec;
        sp.seed = seed;
        if (st == NNINIT_OK)
            st = lab_seq_train(c, net, &t->train, &t->test, &sp, base + share * k / n_seeds, share / n_seeds,
                               &cell->run[k], err);
        cell->n_runs = k + 1;
        nninit_net_free(net);
    }
    return st;
}

static double run_loss(const lab_seq_run *r) { return r->diverged ? (double)INFINITY : r->test_loss; }

static double cell_max(const seq_cell *c)
{
    double m = -INFINITY;
    for (int k = 0; k < c->n_runs; k++)
        m = fmax(m, run_loss(&c->run[k]));
    return m;
}

static double cell_min(const seq_cell *c)
{
    double m = INFINITY;
    for (int k = 0; k < c->n_runs; k++)
        m = fmin(m, run_loss(&c->run[k]));
    return m;
}

static double cell_median(const seq_cell *c)
{
    double v[N_SEEDS];
    int n = c->n_runs;
    for (int k = 0; k < n; k++)
        v[k] = run_loss(&c->run[k]);
    for (int i = 1; i < n; i++) /* insertion sort of at most N_SEEDS values */
        for (int j = i; j > 0 && v[j] < v[j - 1]; j--) {
            double tmp = v[j];
            v[j] = v[j - 1];
            v[j - 1] = tmp;
        }
    return n ? (n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2])) : (double)NAN;
}

/* A table row: label, optimizer, gradient ratio, the seeds' test losses, median. */
static void cell_row(lab_ctx *c, const char *label, const char *optim, const seq_cell *cell, int n_seeds)
{
    doc_cell_text(c->doc, "%s", label);
    doc_cell_text(c->doc, "%s", optim);
    doc_cell_num(c->doc, "%.3g", cell->ratio);
    for (int k = 0; k < n_seeds; k++) {
        if (k >= cell->n_runs)
            doc_cell_text(c->doc, "-"); /* a single-seed row */
        else if (cell->run[k].diverged)
            doc_cell_text(c->doc, "diverged");
        else
            doc_cell_num(c->doc, "%.4f", cell->run[k].test_loss);
    }
    if (cell->n_runs > 1)
        doc_cell_num(c->doc, "%.4f", cell_median(cell));
    else
        doc_cell_text(c->doc, "-");
    doc_row_end(c->doc);
}

static nninit_status make_task(seq_task *t, int copy, int64_t steps, int64_t n_train, uint64_t seed,
                               nninit_err *err)
{
    memset(t, 0, sizeof *t);
    t->copy = copy;
    t->steps = steps;
    t->feat = copy ? 0 : 2;
    t->loss = copy ? NNINIT_LOSS_SOFTMAX_CE : NNINIT_LOSS_MSE;
    nninit_seqset s[2];
    memset(s, 0, sizeof s);
    nninit_status st = copy ? nninit_copy_memory(n_train, steps - 20, seed, &s[0], err)
                            : nninit_adding_problem(n_train, steps, seed, &s[0], err);
    if (st == NNINIT_OK)
        st = copy ? nninit_copy_memory(1000, steps - 20, seed + 1, &s[1], err)
                  : nninit_adding_problem(1000, steps, seed + 1, &s[1], err);
    if (st == NNINIT_OK)
        st = nninit_dataset_from_seqset(&s[0], &t->train, err);
    if (st == NNINIT_OK)
        st = nninit_dataset_from_seqset(&s[1], &t->test, err);
    nninit_seqset_free(&s[0]);
    nninit_seqset_free(&s[1]);
    return st;
}

static void task_free(seq_task *t)
{
    nninit_dataset_free(&t->train);
    nninit_dataset_free(&t->test);
}

/* The verdict of "a beats b" (stated before the run): every seed of a ends
 * with a lower test loss than every seed of b -- with 3 seeds each, chance
 * 1/20 when the two inits do not differ (the margin comes from the
 * run-to-run spread itself) -- and a's median is below 90% of the
 * no-memory baseline (a learned something). A diverged run counts as an
 * infinite loss. */
static int beats(const seq_cell *a, const seq_cell *b, double baseline)
{
    return cell_max(a) < cell_min(b) && cell_median(a) < 0.9 * baseline;
}

/* A lesson "a and a2 (a2 may be NULL) beat b": the verdict and the numbers. */
static void lesson(lab_ctx *c, const char *title, const char *task, double baseline, const seq_cell *a,
                   const char *na, const seq_cell *a2, const char *na2, const seq_cell *b, const char *nb)
{
    int ok = beats(a, b, baseline) && (!a2 || beats(a2, b, baseline));
    char k[9][48];
    snprintf(k[0], sizeof k[0], "%s_worst", na);
    snprintf(k[1], sizeof k[1], "%s_median", na);
    snprintf(k[2], sizeof k[2], "%s_worst", a2 ? na2 : "none");
    snprintf(k[3], sizeof k[3], "%s_median", a2 ? na2 : "none");
    snprintf(k[4], sizeof k[4], "%s_best", nb);
    snprintf(k[5], sizeof k[5], "%s_median", nb);
    snprintf(k[6], sizeof k[6], "%s_grad_ratio", na);
    snprintf(k[7], sizeof k[7], "%s_grad_ratio", nb);
    snprintf(k[8], sizeof k[8], "%s_grad_ratio", a2 ? na2 : "none");
    lab_value v[] = {{k[0], cell_max(a)},       {k[1], cell_median(a)}, {k[4], cell_min(b)},
                     {k[5], cell_median(b)},    {k[6], a->ratio},       {k[7], b->ratio},
                     {"baseline", baseline},    {k[2], a2 ? cell_max(a2) : (double)NAN},
                     {k[3], a2 ? cell_median(a2) : (double)NAN}, {k[8], a2 ? a2->ratio : (double)NAN}};
    if (a2)
        doc_lesson(c->doc, c->s, title, ok, v, 10,
                   "Measured (%s, %d seeds): %s worst %.4f, median %.4f; %s worst %.4f, median %.4f; %s best %.4f, "
                   "median %.4f; no-memory baseline %.4f. Gradient first/last step at init %.3g %s, %.3g %s, %.3g "
                   "%s.",
                   task, N_SEEDS, na, cell_max(a), cell_median(a), na2, cell_max(a2), cell_median(a2), nb, cell_min(b),
                   cell_median(b), baseline, a->ratio, na, a2->ratio, na2, b->ratio, nb);
    else
        doc_lesson(c->doc, c->s, title, ok, v, 7,
                   "Measured (%s, %d seeds): %s worst %.4f, median %.4f; %s best %.4f, median %.4f; no-memory "
                   "baseline %.4f. Gradient first/last step at init %.3g %s, %.3g %s.",
                   task, N_SEEDS, na, cell_max(a), cell_median(a), nb, cell_min(b), cell_median(b), baseline, a->ratio,
                   na, b->ratio, nb);
}

nninit_status lab_recurrent(lab_ctx *c, nninit_err *err)
{
    const int quick = c->cfg.quick;
    /* lengths and budgets from pilot runs (docs/lab.md): a length where at least one init learns in the budget */
    const int64_t T_rnn = quick ? 50 : 75, T_lstm = 50, T_copy = 30, units = 32;
    const int ep_rnn = quick ? 8 : 24, ep_lstm = quick ? 4 : 8, ep_copy = quick ? 2 : 12;
    doc_text(c->doc,
             "Two long-memory tasks. The adding problem (Le et al. 2015's form): steps of two features, a value in "
             "[0, 1) and a marker set at two steps (one in each half); the target is the sum of the two marked "
             "values; predicting 1 always (no memory) gives a mean squared error of 1/6 = 0.167. Copy memory "
             "(Arjovsky et al. 2016's form): 10 symbols from 8, a delay of blanks, a delimiter, then the 10 symbols "
             "must be repeated; a class per step, cross-entropy; blanks and then uniform symbols (no memory) give "
             "10 ln 8 / T nats a step. A recurrent layer of %lld units, then Dense(1) (adding), or an Embedding(10, "
             "10) with an identity table (one-hot inputs at init) before it and Dense(9) on every step (copy). "
             "SimpleRNN: IRNN (relu, identity recurrent kernel, N(0, 0.001) input kernel), orthogonal and "
             "glorot_uniform recurrent kernels with tanh. LSTM (recurrent kernel orthogonal): forget-gate bias 0, 1 "
             "(Keras unit_forget_bias) and chrono (b_f = log u, u ~ U(1, T - 1), b_i = -b_f). Training: the "
             "engine's loop (nninit_train, reshuffled every epoch), Adam (lr 0.001) with the gradients clipped to "
             "norm 1, %d seeds per init (seed s sets the init and the data order); 1000 test sequences. Adding, "
             "SimpleRNN: %lld steps, 8000 sequences, batch 16, %d steps; beside it Le et al.'s optimizer, plain SGD "
             "(lr 0.01, gradients clipped to norm 1), one seed. Adding, LSTM: %lld steps, 8000 sequences, batch 32, "
             "%d steps. Copy memory: %lld steps (delay %lld), 4000 sequences, batch 32, %d steps. At init, on 128 "
             "training sequences: rms of the gradient reaching the first step's input over the last step's. "
             "Criterion of each lesson \"A beats B\" (stated before the run): every seed of A ends with a lower test "
             "loss than every seed of B (with %d seeds each, chance 1/20 if the inits do not differ) and A's median "
             "is below 90%% of the no-memory baseline (A learned something).",
             (long long)units, N_SEEDS, (long long)T_rnn, ep_rnn * 500, (long long)T_lstm, ep_lstm * 250,
             (long long)T_copy, (long long)(T_copy - 20), ep_copy * 125, N_SEEDS);
    seq_task add_rnn, add_lstm, copy;
    memset(&add_rnn, 0, sizeof add_rnn);
    memset(&add_lstm, 0, sizeof add_lstm);
    memset(&copy, 0, sizeof copy);
    nninit_status st = make_task(&add_rnn, 0, T_rnn, 8000, c->cfg.seed, err);
    if (st == NNINIT_OK)
        st = make_task(&add_lstm, 0, T_lstm, 8000, c->cfg.seed, err);
    if (st == NNINIT_OK)
        st = make_task(&copy, 1, T_copy, 4000, c->cfg.seed, err);
    enum { N_CELLS = 3 + 3 + 3 + N_VARIANTS };
    seq_cell *cells = calloc(N_CELLS, sizeof *cells);
    if (st == NNINIT_OK && !cells)
        st = nninit_err_set(err, NNINIT_ENOMEM, "lab: out of memory for the recurrent runs");
    lab_seq_spec adam = lab_seq_spec_default();
    adam.optim.clip_norm = 1.0;
    lab_seq_spec sgd = adam;
    sgd.optim.kind = NNINIT_OPT_SGD;
    sgd.optim.lr = 0.01;
    /* the runs: SimpleRNN with Adam and with SGD on adding, LSTM on adding, all six on copy */
    typedef struct job {
        const seq_task *task;
        int variant, seeds;
        const lab_seq_spec *spec;
        int64_t batch;
        int epochs;
        double cost; /* relative, for the progress line */
    } job;
    job jobs[N_CELLS];
    int n_jobs = 0;
    for (int v = V_IRNN; v <= V_GLOROT; v++)
        jobs[n_jobs++] = (job){&add_rnn, v, N_SEEDS, &adam, 16, ep_rnn, N_SEEDS * 1.0};
    for (int v = V_IRNN; v <= V_GLOROT; v++)
        jobs[n_jobs++] = (job){&add_rnn, v, 1, &sgd, 16, ep_rnn, 1.0};
    for (int v = V_BIAS0; v <= V_CHRONO; v++)
        jobs[n_jobs++] = (job){&add_lstm, v, N_SEEDS, &adam, 32, ep_lstm, N_SEEDS * 0.7};
    for (int v = 0; v < N_VARIANTS; v++)
        jobs[n_jobs++] = (job){&copy, v, N_SEEDS, &adam, 32, ep_copy, N_SEEDS * (v >= V_BIAS0 ? 0.8 : 0.2)};
    double total = 0, done = 0;
    for (int j = 0; j < n_jobs; j++)
        total += jobs[j].cost;
    for (int j = 0; st == NNINIT_OK && j < n_jobs; j++) {
        lab_seq_spec sp = *jobs[j].spec;
        sp.batch = jobs[j].batch;
        sp.epochs = jobs[j].epochs;
        sp.loss = jobs[j].task->loss;
        st = seq_cell_run(c, jobs[j].task, &VARIANTS[jobs[j].variant], units, &sp, jobs[j].seeds, done / total,
                          jobs[j].cost / total, &cells[j], err);
        done += jobs[j].cost;
    }
    seq_cell *rnn = cells, *rnn_sgd = cells + 3, *lstm = cells + 6, *cp = cells + 9;
    static const char *head[] = {"recurrent layer", "optimizer", "grad first / last step", "test loss, seed 1",
                                 "seed 2", "seed 3", "median"};
    if (st == NNINIT_OK) {
        const double add_base = 1.0 / 6.0, copy_base = 10.0 * log(8.0) / (double)T_copy;
        char task[64];
        doc_subheading(c->doc, "The adding problem: SimpleRNN at %lld steps, LSTM at %lld (test MSE)", (long long)T_rnn,
                       (long long)T_lstm);
        doc_table(c->doc, 7, head);
        for (int v = 0; v < 3; v++)
            cell_row(c, VARIANTS[v].label, "Adam, clip 1", &rnn[v], N_SEEDS);
        for (int v = 0; v < 3; v++)
            cell_row(c, VARIANTS[v].label, "SGD 0.01, clip 1", &rnn_sgd[v], N_SEEDS);
        for (int v = 0; v < 3; v++)
            cell_row(c, VARIANTS[V_BIAS0 + v].label, "Adam, clip 1", &lstm[v], N_SEEDS);
        snprintf(task, sizeof task, "adding, %lld steps, test MSE", (long long)T_rnn);
        lesson(c, "adding problem: IRNN remembers longer than Glorot", task, add_base, &rnn[V_IRNN], "irnn", NULL, NULL,
               &rnn[V_GLOROT], "glorot");
        lesson(c, "adding problem: orthogonal recurrent kernels remember longer than Glorot", task, add_base,
               &rnn[V_ORTH], "orthogonal", NULL, NULL, &rnn[V_GLOROT], "glorot");
        snprintf(task, sizeof task, "adding, %lld steps, test MSE", (long long)T_lstm);
        lesson(c, "adding problem: LSTM forget-gate bias 1 and chrono init beat bias 0", task, add_base, &lstm[1],
               "bias1", &lstm[2], "chrono", &lstm[0], "bias0");
        doc_subheading(c->doc, "Copy memory, %lld steps (delay %lld; test cross-entropy, nats per step)",
                       (long long)T_copy, (long long)(T_copy - 20));
        doc_table(c->doc, 7, head);
        for (int v = 0; v < N_VARIANTS; v++)
            cell_row(c, VARIANTS[v].label, "Adam, clip 1", &cp[v], N_SEEDS);
        snprintf(task, sizeof task, "copy memory, delay %lld, test cross-entropy", (long long)(T_copy - 20));
        lesson(c, "copy memory: IRNN and orthogonal recurrent kernels beat Glorot", task, copy_base, &cp[V_IRNN], "irnn",
               &cp[V_ORTH], "orthogonal", &cp[V_GLOROT], "glorot");
        lesson(c, "copy memory: LSTM forget-gate bias 1 and chrono init beat bias 0", task, copy_base, &cp[V_BIAS1],
               "bias1", &cp[V_CHRONO], "chrono", &cp[V_BIAS0], "bias0");
        /* figures: gradient through time at init, and training curves (seed 1) */
        double xt[MAX_T];
        for (int s = 0; s < MAX_T; s++)
            xt[s] = s + 1;
        nninit_plot_series sg1[3], sg2[3], sl1[6], sl2[3], sc[N_VARIANTS];
        static const char *sgd_label[3] = {"IRNN, SGD", "orthogonal, SGD", "glorot_uniform, SGD"};
        for (int k = 0; k < 3; k++) {
            sg1[k] = (nninit_plot_series){VARIANTS[k].label, xt, rnn[k].grad_t, T_rnn, 0, k};
            sg2[k] = (nninit_plot_series){VARIANTS[3 + k].label, xt, lstm[k].grad_t, T_lstm, 0, 3 + k};
            sl1[k] = (nninit_plot_series){VARIANTS[k].label, rnn[k].run[0].curve_x, rnn[k].run[0].curve,
                                          rnn[k].run[0].n_curve, 0, k};
            sl1[3 + k] = (nninit_plot_series){sgd_label[k], rnn_sgd[k].run[0].curve_x, rnn_sgd[k].run[0].curve,
                                              rnn_sgd[k].run[0].n_curve, 1, k};
            sl2[k] = (nninit_plot_series){VARIANTS[3 + k].label, lstm[k].run[0].curve_x, lstm[k].run[0].curve,
                                          lstm[k].run[0].n_curve, 0, 3 + k};
        }
        for (int v = 0; v < N_VARIANTS; v++)
            sc[v] = (nninit_plot_series){VARIANTS[v].label, cp[v].run[0].curve_x, cp[v].run[0].curve,
                                         cp[v].run[0].n_curve, 0, v};
        nninit_plot p[3] = {{"SimpleRNN: gradient at init per step", "time step", "rms dL/dx_t", 0, 1, sg1, 3, 1},
                            {"SimpleRNN: training loss (seed 1)", "optimizer step", "MSE", 0, 1, sl1, 6, 1},
                            {"LSTM: gradient at init per step", "time step", "rms dL/dx_t", 0, 1, sg2, 3, 1}};
        st = doc_figure(c->doc, "recurrent", "the adding problem: gradient through time at init, and training", p, 3,
                        err);
        nninit_plot q[2] = {{"LSTM, adding: training loss (seed 1)", "optimizer step", "MSE", 0, 1, sl2, 3, 1},
                            {"copy memory: training loss (seed 1)", "optimizer step", "cross-entropy (nats/step)", 0, 0,
                             sc, N_VARIANTS, 1}};
        if (st == NNINIT_OK)
            st = doc_figure(c->doc, "recurrent-training", "training loss: LSTM on the adding problem, and copy memory",
                            q, 2, err);
    }
    free(cells);
    task_free(&add_rnn);
    task_free(&add_lstm);
    task_free(&copy);
    return st;
}
