/*
 * lab_internal.h: what the lab's files share. The report is one document
 * (doc.c) built while the experiments run: markdown lines are streamed as
 * they are produced, and at the end the same document is written as
 * lab.json (every number it shows), report.md and a self-contained
 * report.html (inline SVG). Each experiment (lessons_*.c) adds a section
 * with its setup, tables, figures and lessons; the registry in lab.c names
 * them for --only and --list.
 */
#ifndef NNINIT_LAB_INTERNAL_H
#define NNINIT_LAB_INTERNAL_H

#include "lab.h"

#include <jansson.h>

/* ---- the document (doc.c) ---- */

typedef struct lab_doc lab_doc;

nninit_status doc_new(const nninit_lab_opts *o, lab_doc **out, nninit_err *err);
void doc_free(lab_doc *d);
/* 0 once an allocation failed (the document is then incomplete; the run
 * reports NNINIT_ENOMEM at the end). */
int doc_ok(const lab_doc *d);

void doc_title(lab_doc *d, const char *fmt, ...) NNINIT_PRINTF(2, 3);
/* A section per experiment: name (for --only), title (a heading). */
void doc_section(lab_doc *d, const char *name, const char *title);
void doc_subheading(lab_doc *d, const char *fmt, ...) NNINIT_PRINTF(2, 3);
/* One paragraph; `code` and **bold** are kept in markdown and converted in HTML. */
void doc_text(lab_doc *d, const char *fmt, ...) NNINIT_PRINTF(2, 3);

/* A table: header cells, then rows of cells, each row ended by doc_row_end
 * (which streams its markdown line). Numbers are stored in lab.json as
 * numbers (NaN and infinities as null) with the text the report shows. */
void doc_table(lab_doc *d, int n_cols, const char *const *header);
void doc_cell_text(lab_doc *d, const char *fmt, ...) NNINIT_PRINTF(2, 3);
void doc_cell_num(lab_doc *d, const char *fmt, double v);
void doc_row_end(lab_doc *d);

/* A figure of panels side by side: written to <out>/<id>.svg for the
 * markdown, inlined in the HTML, and its data (every series' x and y) kept
 * in lab.json. */
nninit_status doc_figure(lab_doc *d, const char *id, const char *caption, const nninit_plot *plots, int n_plots,
                         nninit_err *err);

/* A lesson's named measurements, kept in lab.json next to the verdict. */
typedef struct lab_value {
    const char *name;
    double value;
} lab_value;

/* A lesson of the current section: its verdict (criterion held or not) and
 * the evidence sentence (the criterion with the measured numbers). */
void doc_lesson(lab_doc *d, nninit_lab_summary *s, const char *title, int confirmed, const lab_value *values,
                int n_values, const char *fmt, ...) NNINIT_PRINTF(7, 8);
void doc_lesson_skipped(lab_doc *d, nninit_lab_summary *s, const char *title, const char *why);

/* The closing summary (markdown and HTML), then the files: report.md,
 * report.html, lab.json (and the figures, already written) into out_dir. */
void doc_summary(lab_doc *d, const nninit_lab_summary *s);
nninit_status doc_write(lab_doc *d, const nninit_lab_summary *s, const char *out_dir, nninit_err *err);
/* The documents in memory (for tests): malloc'd, free them. */
nninit_status doc_json(lab_doc *d, const nninit_lab_summary *s, char **json, nninit_err *err);
nninit_status doc_html(lab_doc *d, const nninit_lab_summary *s, char **html, nninit_err *err);

/* ---- the run (lab.c) ---- */

/* The effective settings of this run: the options with the defaults of the
 * mode (full or --quick) filled in. */
typedef struct lab_cfg {
    int quick;
    int epochs;
    int depth;
    int64_t width;
    int64_t train_limit; /* 0: all */
    uint64_t seed;
    int threads;
} lab_cfg;

typedef struct lab_ctx {
    const nninit_lab_opts *o;
    lab_cfg cfg;
    lab_doc *doc;
    nninit_lab_summary *s;
    /* Fashion-MNIST, loaded once on first use; have_data < 0: not tried */
    int have_data;
    char data_why[256];   /* why not, when missing */
    nninit_dataset train, test;
    /* progress of the running experiment */
    int index, count;
    const char *name;
    double run_base, run_share; /* the share of the experiment before and in the current training run */
} lab_ctx;

/* Loads Fashion-MNIST once. 1: loaded, 0: missing (the default folder
 * only; ctx->data_why says why), or an error for an explicit folder. */
nninit_status lab_data(lab_ctx *c, int *have, nninit_err *err);
/* Reports the running experiment's progress (fraction in [0, 1]). */
void lab_progress(lab_ctx *c, double fraction);
/* Training run k of n of the experiment begins: lab_train reports its
 * steps as that share of the experiment. */
void lab_run_begin(lab_ctx *c, int k, int n);

/* One training run of a dense net on Fashion-MNIST. */
typedef struct lab_run {
    double test_acc[64], test_loss[64], train_loss[64];
    double final_acc, final_loss;
    int epochs_done;
    int diverged;
} lab_run;

typedef struct lab_train_spec {
    const nninit_layer_desc *layers; /* a whole layer list (then n_hidden .. bn are ignored); NULL: an MLP */
    int n_layers;
    int n_hidden;
    const int64_t *hidden;
    nninit_act act;
    const char *kernel_init; /* SPEC */
    const char *out_init;    /* the output layer's kernel SPEC; NULL: kernel_init */
    int bn;
    /* applied after building, before training (NULL: none): data-dependent inits */
    nninit_status (*prepare)(nninit_net *net, const nninit_dataset *train, void *user, nninit_err *err);
    void *prepare_user;
    int epochs;              /* 0: the run's */
    int64_t limit;           /* training images (0: the run's) */
    nninit_shape input_shape; /* per sample, e.g. {3, {28, 28, 1}} for a conv net; ndim 0: (dim) features */
    int64_t test_limit;      /* the first N test images evaluated (0: all) */
    const nninit_optim_opts *optim; /* NULL: the lab's SGD, momentum 0.9, lr 0.01 */
    int monitor_every;       /* see nninit_train_opts */
    void (*on_monitor)(int epoch, int64_t step, double loss, const nninit_layer_stats *stats, int n_layers,
                       void *user);
    void *monitor_user;
    /* called with the trained net before it is freed (NULL: none); gets prepare_user */
    void (*after)(nninit_net *net, void *user);
} lab_train_spec;

nninit_status lab_train(lab_ctx *c, const lab_train_spec *spec, lab_run *rr, nninit_err *err);
/* A table row "label | acc | loss" (or "diverged") after `lead` text cells. */
void lab_acc_row(lab_ctx *c, const char *label, const char *second, const lab_run *rr);
/* Test accuracy per epoch of n runs as one panel (xs: epochs values,
 * ys: n * epochs, ser: n; all owned by the caller, alive until drawn). */
void lab_acc_panel(const lab_cfg *cfg, const char *title, const lab_run *const *runs, const char *const *labels,
                   int n, double *xs, double *ys, nninit_plot_series *ser, nninit_plot *plot);
/* LSUV on the first 512 training images (a lab_train_spec.prepare). */
nninit_status lab_lsuv_prepare(nninit_net *net, const nninit_dataset *train, void *user, nninit_err *err);

/* ---- sequence training (seq_train.c): the recurrent and transformer
 * lessons' runs, through nninit_train ---- */

#define LAB_SEQ_CURVE 64

typedef struct lab_seq_spec {
    nninit_optim_opts optim; /* default Adam, lr 0.001 */
    nninit_loss_kind loss;   /* default mse */
    int64_t batch;           /* default 16 */
    int epochs;              /* default 1 */
    uint64_t seed;           /* the data order (nninit_train_opts.seed) */
    int64_t n_early;         /* steps averaged into lab_seq_run.early (default 50) */
} lab_seq_spec;
lab_seq_spec lab_seq_spec_default(void);

typedef struct lab_seq_run {
    double curve[LAB_SEQ_CURVE], curve_x[LAB_SEQ_CURVE]; /* mean training loss over stretches of steps, and
                                                            the last step of each */
    int n_curve;
    double first_loss;   /* the first batch's loss (before any step) */
    double early;        /* mean training loss over the first n_early steps */
    int64_t steps_done;
    int diverged;        /* a non-finite batch loss stopped the run */
    double test_loss;    /* mean test loss (nninit_evaluate); NaN when diverged */
} lab_seq_run;

/* Trains net on train with nninit_train (spec's optimizer, batch, epochs,
 * data order), reporting progress as [base, base + share] of the
 * experiment, then evaluates test (nninit_evaluate). */
nninit_status lab_seq_train(lab_ctx *c, nninit_net *net, const nninit_dataset *train, const nninit_dataset *test,
                            const lab_seq_spec *spec, double base, double share, lab_seq_run *r, nninit_err *err);
/* n rows of d drawn without replacement (nninit_permutation(seed, stream 0)'s first n). */
nninit_status lab_dataset_sample(const nninit_dataset *d, int64_t n, uint64_t seed, nninit_dataset *out,
                                 nninit_err *err);

/* ---- the experiments ---- */

typedef struct lab_experiment {
    const char *name;    /* for --only */
    const char *title;   /* the question it answers */
    int needs_data;      /* Fashion-MNIST */
    int trains;          /* trains a net (skipped by skip_training even without a data set) */
    nninit_status (*run)(lab_ctx *c, nninit_err *err);
} lab_experiment;

/* lessons_classic.c */
nninit_status lab_symmetry(lab_ctx *c, nninit_err *err);
nninit_status lab_signal(lab_ctx *c, nninit_err *err);
nninit_status lab_training(lab_ctx *c, nninit_err *err);
/* lessons_dense.c */
nninit_status lab_pitfall_zeros(lab_ctx *c, nninit_err *err);
nninit_status lab_pitfall_random_normal(lab_ctx *c, nninit_err *err);
nninit_status lab_pitfall_glorot_relu(lab_ctx *c, nninit_err *err);
nninit_status lab_data_dependent(lab_ctx *c, nninit_err *err);
nninit_status lab_real_data(lab_ctx *c, nninit_err *err);
nninit_status lab_monitoring(lab_ctx *c, nninit_err *err);
/* lessons_resid.c */
nninit_status lab_residual(lab_ctx *c, nninit_err *err);
/* lessons_transformer.c */
nninit_status lab_transformer(lab_ctx *c, nninit_err *err);
/* lessons_cnn.c */
nninit_status lab_deep_cnn(lab_ctx *c, nninit_err *err);
/* Every singular value of the input-output Jacobian of net at the input x
 * (one sample, nninit_net_n_inputs floats), min(n_in, n_out) of them into
 * sv in descending order. Exact: one unit output gradient per backward row
 * (evaluation mode), then LAPACK dgesdd in double. NNINIT_ENUMERIC if LAPACK
 * fails, NNINIT_ENOMEM. */
nninit_status lab_jacobian_sv(nninit_net *net, const float *x, double *sv, nninit_err *err);
/* lessons_seq.c */
nninit_status lab_recurrent(lab_ctx *c, nninit_err *err);

#endif /* NNINIT_LAB_INTERNAL_H */
