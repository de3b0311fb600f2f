/*
 * The lab: the lessons of weight initialization, each reproduced by a
 * measurement and checked by a criterion stated before the run (never
 * assumed). This file holds the registry of experiments (what --only and
 * --list name), the settings of a full and a --quick run, the shared
 * Fashion-MNIST training helper, progress reporting and the run itself;
 * the experiments are in lessons_*.c and the report in doc.c.
 */
#include "lab_internal.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const lab_experiment EXPERIMENTS[] = {
    {"symmetry", "Does zero or constant init break symmetry?", 0, 0, lab_symmetry},
    {"signal", "How do signals cross 50 layers under each init?", 0, 0, lab_signal},
    {"training", "Which inits train on Fashion-MNIST, deep and with batch norm?", 1, 1, lab_training},
    {"pitfall-zeros", "Pitfall 1: Dense(64, relu, zeros)", 1, 1, lab_pitfall_zeros},
    {"pitfall-random-normal", "Pitfall 2: Dense(128, tanh, random_normal)", 1, 1, lab_pitfall_random_normal},
    {"pitfall-glorot-relu", "Pitfall 3: Dense(256, relu, glorot_uniform)", 1, 1, lab_pitfall_glorot_relu},
    {"data-dependent", "Can data repair a badly scaled deep net (LSUV, weight-norm init)?", 1, 1, lab_data_dependent},
    {"real-data", "Do real inputs propagate as the independent-input theory says?", 1, 0, lab_real_data},
    {"monitoring", "Does the per-layer monitor reveal a bad init in the first steps?", 1, 1, lab_monitoring},
    {"deep-cnn", "Does a plain deep tanh CNN train better from delta-orthogonal kernels?", 1, 1, lab_deep_cnn},
    {"residual", "Can a deep residual net train without normalization (Fixup, SkipInit)?", 1, 1, lab_residual},
    {"recurrent", "Which recurrent inits remember across long gaps (adding problem, copy memory)?", 0, 1, lab_recurrent},
    {"transformer", "Does GPT-2's init help a small char transformer (fortunes)?", 0, 1, lab_transformer},
};
#define N_EXPERIMENTS ((int)(sizeof EXPERIMENTS / sizeof EXPERIMENTS[0]))

const char *nninit_lab_experiment_name(int i) { return i >= 0 && i < N_EXPERIMENTS ? EXPERIMENTS[i].name : NULL; }
const char *nninit_lab_experiment_title(int i)
{
    return i >= 0 && i < N_EXPERIMENTS ? EXPERIMENTS[i].title : NULL;
}

nninit_lab_opts nninit_lab_opts_default(void)
{
    nninit_lab_opts o;
    memset(&o, 0, sizeof o);
    o.seed = NNINIT_DEFAULT_SEED;
    return o;
}

static lab_cfg make_cfg(const nninit_lab_opts *o)
{
    lab_cfg c;
    c.quick = o->quick;
    /* quick: the probes are cheap and keep their size (the tanh edge-of-chaos
     * verdicts need the depth); training runs see a quarter of the images
     * for 2 epochs */
    c.epochs = o->epochs ? o->epochs : (o->quick ? 2 : 3);
    c.depth = o->depth ? o->depth : 50;
    c.width = o->width ? o->width : 256;
    c.train_limit = o->train_limit ? o->train_limit : (o->quick ? 15000 : 0);
    c.seed = o->seed;
    c.threads = o->threads > 0 ? o->threads : nninit_blas_get_threads();
    return c;
}

/* Is name one of only's comma-separated names? (only NULL: every name) */
static int selected(const char *only, const char *name)
{
    if (!only)
        return 1;
    size_t n = strlen(name);
    for (const char *p = only; *p;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && !strncmp(p, name, n))
            return 1;
        p += len + (e ? 1 : 0);
    }
    return 0;
}

static nninit_status check_only(const char *only, nninit_err *err)
{
    if (!only)
        return NNINIT_OK;
    if (!*only)
        return nninit_err_set(err, NNINIT_EINVAL, "lab: --only is empty; give experiment names (nninit lab --list)");
    for (const char *p = only; *p;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        int found = 0;
        for (int i = 0; i < N_EXPERIMENTS && !found; i++)
            found = strlen(EXPERIMENTS[i].name) == len && !strncmp(p, EXPERIMENTS[i].name, len);
        if (!found)
            return nninit_err_set(err, NNINIT_EINVAL, "lab: --only: no experiment '%.*s'; the names are listed by "
                                  "nninit lab --list", (int)(len > 64 ? 64 : len), p);
        p += len + (e ? 1 : 0);
    }
    return NNINIT_OK;
}

nninit_status lab_data(lab_ctx *c, int *have, nninit_err *err)
{
    if (c->have_data < 0) {
        nninit_err derr = {0};
        nninit_status st = nninit_dataset_load(c->o->data_dir, "train", &c->train, &derr);
        if (st == NNINIT_OK)
            st = nninit_dataset_load(c->o->data_dir, "t10k", &c->test, &derr);
        if (st != NNINIT_OK) {
            nninit_dataset_free(&c->train);
            memset(&c->train, 0, sizeof c->train);
            if (c->o->data_dir) { /* asked for explicitly: an error */
                if (err)
                    *err = derr;
                return st;
            }
            snprintf(c->data_why, sizeof c->data_why, "%.255s", derr.msg);
            c->have_data = 0;
        } else {
            c->have_data = 1;
            c->s->data_found = 1;
            if (c->cfg.train_limit > 0 && c->cfg.train_limit < c->train.n)
                c->train.n = c->cfg.train_limit;
        }
    }
    *have = c->have_data;
    return NNINIT_OK;
}

void lab_progress(lab_ctx *c, double fraction)
{
    if (c->o->on_progress)
        c->o->on_progress(c->index, c->count, c->name, fraction < 0 ? 0 : fraction > 1 ? 1 : fraction, NULL,
                          c->o->user);
}

void lab_run_begin(lab_ctx *c, int k, int n)
{
    c->run_base = n > 0 ? (double)k / n : 0;
    c->run_share = n > 0 ? 1.0 / n : 0;
    lab_progress(c, c->run_base);
}

/* Progress of one training run inside its experiment: the experiment
 * passes the share of its work done before the run and the run's share. */
typedef struct train_progress {
    lab_ctx *c;
    double base, share;
} train_progress;

static void on_step(int epoch, int64_t step, int64_t n_steps, void *user)
{
    (void)epoch;
    train_progress *p = user;
    if (n_steps > 0 && (step % 16 == 0 || step == n_steps))
        lab_progress(p->c, p->base + p->share * (double)step / (double)n_steps);
}


nninit_status lab_train(lab_ctx *c, const lab_train_spec *spec, lab_run *rr, nninit_err *err)
{
    const nninit_dataset *train = &c->train;
    nninit_dataset test_sub = c->test, *test = &test_sub;
    if (spec->test_limit > 0 && spec->test_limit < test_sub.n)
        test_sub.n = spec->test_limit;
    int epochs = spec->epochs ? spec->epochs : c->cfg.epochs;
    if (epochs > 64)
        epochs = 64;
    nninit_dataset sub = *train;
    if (spec->limit > 0 && spec->limit < sub.n)
        sub.n = spec->limit;
    nninit_mlp_desc md = nninit_mlp_desc_default();
    md.n_hidden = spec->n_hidden;
    md.hidden = spec->hidden;
    md.n_outputs = train->n_classes;
    md.act = spec->act;
    md.kernel_init = spec->kernel_init;
    md.bn = spec->bn;
    nninit_layer_desc *layers = NULL;
    int n_layers = 0;
    nninit_net *net = NULL;
    nninit_status st = spec->layers ? NNINIT_OK : nninit_net_desc_mlp(&md, &layers, &n_layers, err);
    if (st == NNINIT_OK && spec->out_init && !spec->layers) /* the output layer is the last */
        snprintf(layers[n_layers - 1].kernel_init, sizeof layers[n_layers - 1].kernel_init, "%s", spec->out_init);
    nninit_net_opts no = nninit_net_opts_default();
    no.seed = c->cfg.seed;
    if (st == NNINIT_OK && spec->input_shape.ndim)
        st = nninit_net_new_shaped(&spec->input_shape, spec->layers ? spec->layers : layers,
                                   spec->layers ? spec->n_layers : n_layers, &no, &net, err);
    else if (st == NNINIT_OK)
        st = nninit_net_new(train->dim, spec->layers ? spec->layers : layers, spec->layers ? spec->n_layers : n_layers,
                            &no, &net, err);
    nninit_free(layers);
    if (st == NNINIT_OK && spec->prepare)
        st = spec->prepare(net, &sub, spec->prepare_user, err);
    if (st != NNINIT_OK) {
        nninit_net_free(net);
        return st;
    }
    nninit_train_opts to = nninit_train_opts_default();
    to.optim.kind = NNINIT_OPT_SGD;
    to.optim.lr = 0.01;
    to.optim.momentum = 0.9;
    if (spec->optim)
        to.optim = *spec->optim;
    to.batch = 128;
    to.epochs = epochs;
    to.seed = c->cfg.seed;
    to.threads = c->o->threads;
    to.monitor_every = spec->monitor_every;
    to.on_monitor = spec->on_monitor;
    to.user = spec->monitor_user;
    train_progress tp = {c, c->run_base, c->run_share};
    if (!spec->on_monitor && c->o->on_progress) { /* one user pointer: the monitor's takes precedence */
        to.on_step = on_step;
        to.user = &tp;
    }
    nninit_epoch_stats hist[64];
    memset(hist, 0, sizeof hist);
    memset(rr, 0, sizeof *rr);
    st = nninit_train(net, &sub, NULL, test, &to, hist, err);
    int done = epochs;
    if (st == NNINIT_ENUMERIC) { /* divergence is a result here, not a failure of the lab */
        rr->diverged = 1;
        done = 0;
        while (done < epochs && hist[done].epoch == done + 1)
            done++;
        st = NNINIT_OK;
    }
    if (st == NNINIT_OK && spec->after)
        spec->after(net, spec->prepare_user);
    nninit_net_free(net);
    if (st != NNINIT_OK)
        return st;
    rr->epochs_done = done;
    for (int e = 0; e < done; e++) {
        rr->test_acc[e] = hist[e].test_acc;
        rr->test_loss[e] = hist[e].test_loss;
        rr->train_loss[e] = hist[e].train_loss;
    }
    for (int e = done; e < 64; e++)
        rr->test_acc[e] = rr->test_loss[e] = rr->train_loss[e] = (double)NAN;
    /* a run that diverged at once is scored as chance */
    rr->final_acc = done ? hist[done - 1].test_acc : 1.0 / (train->n_classes > 0 ? train->n_classes : 10);
    rr->final_loss = done ? hist[done - 1].test_loss : (double)NAN;
    return NNINIT_OK;
}

void lab_acc_row(lab_ctx *c, const char *label, const char *second, const lab_run *rr)
{
    doc_cell_text(c->doc, "%s", label);
    if (second)
        doc_cell_text(c->doc, "%s", second);
    if (rr->diverged) {
        doc_cell_text(c->doc, "diverged after %d epochs", rr->epochs_done);
        doc_cell_num(c->doc, "%.4f", (double)NAN);
    } else {
        doc_cell_num(c->doc, "%.4f", rr->final_acc);
        doc_cell_num(c->doc, "%.4f", rr->final_loss);
    }
    doc_row_end(c->doc);
}

/* The command line that reproduces the run: every setting, defaults made
 * explicit (the thread count too: it can change sgemm's last bits). */
static void rerun_line(const nninit_lab_opts *o, const lab_cfg *cfg, char *buf, size_t cap)
{
    size_t n = 0;
#define ADD(...)                                                                                                   \
    do {                                                                                                           \
        if (n < cap)                                                                                               \
            n += (size_t)snprintf(buf + n, cap - n, __VA_ARGS__);                                                  \
    } while (0)
    ADD("nninit lab%s --seed %llu --epochs %d --depth %d --width %lld", cfg->quick ? " --quick" : "",
        (unsigned long long)cfg->seed, cfg->epochs, cfg->depth, (long long)cfg->width);
    if (o->train_limit > 0)
        ADD(" --limit %lld", (long long)o->train_limit);
    ADD(" --threads %d", cfg->threads);
    if (o->skip_training)
        ADD(" --no-training");
    if (o->only)
        ADD(" --only %s", o->only);
    if (o->data_dir)
        ADD(" --data '%s'", o->data_dir);
#undef ADD
}

nninit_status nninit_lab_run(const nninit_lab_opts *opts, nninit_lab_summary *out, nninit_err *err)
{
    if (!opts || !out)
        return nninit_err_set(err, NNINIT_EMISUSE, "nninit_lab_run: NULL argument");
    if (opts->epochs < 0 || opts->epochs > 64)
        return nninit_err_set(err, NNINIT_EINVAL, "lab: epochs is %d; use 1 to 64", opts->epochs);
    if (opts->depth != 0 && (opts->depth < 2 || opts->depth > 1000))
        return nninit_err_set(err, NNINIT_EINVAL, "lab: depth is %d; use 2 to 1000", opts->depth);
    if (opts->width != 0 && (opts->width < 2 || opts->width > 8192))
        return nninit_err_set(err, NNINIT_EINVAL, "lab: width is %lld; use 2 to 8192", (long long)opts->width);
    if (opts->train_limit < 0)
        return nninit_err_set(err, NNINIT_EINVAL, "lab: train_limit is negative");
    nninit_status st = check_only(opts->only, err);
    if (st != NNINIT_OK)
        return st;
    memset(out, 0, sizeof *out);
    if (opts->out_dir && mkdir(opts->out_dir, 0777) != 0 && errno != EEXIST)
        return nninit_err_set(err, NNINIT_EIO, "%s: cannot create the report folder (%s); give a folder whose "
                              "parent exists and is writable", opts->out_dir, strerror(errno));
    struct stat sb; /* EEXIST: a file of that name would fail only at the end, after the work */
    if (opts->out_dir && (stat(opts->out_dir, &sb) != 0 || !S_ISDIR(sb.st_mode)))
        return nninit_err_set(err, NNINIT_EINVAL, "%s: exists and is not a folder; give a folder for the report",
                              opts->out_dir);
    if (opts->threads > 0)
        nninit_blas_set_threads(opts->threads);
    lab_ctx c;
    memset(&c, 0, sizeof c);
    c.o = opts;
    c.cfg = make_cfg(opts);
    c.s = out;
    c.have_data = -1;
    rerun_line(opts, &c.cfg, out->rerun, sizeof out->rerun);
    st = doc_new(opts, &c.doc, err);
    if (st != NNINIT_OK)
        return st;
    doc_title(c.doc, "nninit lab: why initialization matters");
    doc_text(c.doc, "nninit %s, seed %llu%s. Every number below is measured in this run; each lesson states the "
             "criterion it was checked against, and a lesson whose criterion fails is reported as not reproduced. "
             "Rerun: `%s`.",
             nninit_version(), (unsigned long long)c.cfg.seed, c.cfg.quick ? ", quick run (smaller sets)" : "",
             out->rerun);
    for (int i = 0; i < N_EXPERIMENTS; i++)
        c.count += selected(opts->only, EXPERIMENTS[i].name);
    for (int i = 0; i < N_EXPERIMENTS && st == NNINIT_OK; i++) {
        const lab_experiment *e = &EXPERIMENTS[i];
        if (!selected(opts->only, e->name))
            continue;
        int first = out->n_lessons;
        c.name = e->name;
        lab_progress(&c, 0);
        doc_section(c.doc, e->name, e->title);
        int have = 1;
        if ((e->needs_data || e->trains) && opts->skip_training) {
            have = 0;
            snprintf(c.data_why, sizeof c.data_why, "--no-training");
        } else if (e->needs_data) {
            st = lab_data(&c, &have, err);
        }
        if (st == NNINIT_OK && !have) {
            doc_text(c.doc, "Skipped: %s", c.data_why);
            doc_lesson_skipped(c.doc, out, e->title, "no data set");
        } else if (st == NNINIT_OK) {
            st = e->run(&c, err);
        }
        if (opts->on_progress && st == NNINIT_OK) {
            int n = 0, ok = 0, checked = 0;
            for (int k = first; k < out->n_lessons; k++, n++) {
                checked += out->lessons[k].checked;
                ok += out->lessons[k].confirmed;
            }
            char verdict[96];
            if (!checked)
                snprintf(verdict, sizeof verdict, "skipped");
            else
                snprintf(verdict, sizeof verdict, "%d of %d confirmed", ok, checked);
            (void)n;
            opts->on_progress(c.index, c.count, e->name, 1, verdict, opts->user);
        }
        c.index++;
    }
    if (st == NNINIT_OK) {
        doc_summary(c.doc, out);
        st = doc_write(c.doc, out, opts->out_dir, err);
    }
    doc_free(c.doc);
    nninit_dataset_free(&c.train);
    nninit_dataset_free(&c.test);
    return st;
}
