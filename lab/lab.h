/*
 * lab.h: the lab application (nninit lab): the classic lessons of
 * initialization, measured and checked. Built on the public headers only;
 * not part of the library.
 */
#ifndef NNINIT_LAB_H
#define NNINIT_LAB_H

#include "nninit_analysis.h"
#include "nninit_data.h"
#include "nninit_nn.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* The lab: the classic lessons of initialization, measured and checked      */
/* ------------------------------------------------------------------------ */

#define NNINIT_LAB_MAX_LESSONS 32

typedef struct nninit_lab_opts {
    const char *data_dir;  /* Fashion-MNIST (or any IDX set) folder; NULL: nninit_dataset_default_dir(),
                              and a missing default data set skips the training lessons instead of failing */
    const char *out_dir;   /* report.md, report.html, lab.json and the figures' SVG files, written
                              atomically; NULL: none */
    int quick;             /* 1: smaller nets, sets and budgets (the same lessons, verdicts still computed) */
    int epochs;            /* per training run; 0: 3 (quick: 2) */
    int64_t train_limit;   /* use the first N training images; 0: all (quick: 15000) */
    int depth;             /* depth of the signal-propagation nets; 0: 50 */
    int64_t width;         /* their width; 0: 256 */
    uint64_t seed;         /* default NNINIT_DEFAULT_SEED */
    int threads;           /* BLAS threads (process-wide); 0: leave as is */
    int skip_training;     /* 1: only the lessons that need no data */
    const char *only;      /* comma-separated experiment names (nninit_lab_experiment_name); NULL: all */
    void (*on_line)(const char *line, void *user); /* each markdown line of the report, as produced */
    /* progress of experiment `index` of `count` (0-based) named `name`: fraction in [0, 1] while it
     * runs, then once more with `verdict` ("2 of 2 confirmed", "skipped", ...) when it ends */
    void (*on_progress)(int index, int count, const char *name, double fraction, const char *verdict, void *user);
    void *user;
} nninit_lab_opts;

nninit_lab_opts nninit_lab_opts_default(void);

/* The experiments, in the order they run: name (what --only takes) and the
 * question it answers; NULL past the last. */
const char *nninit_lab_experiment_name(int i);
const char *nninit_lab_experiment_title(int i);

typedef struct nninit_lab_lesson {
    char experiment[32]; /* the experiment's name */
    char title[96];
    int checked;      /* 0: skipped (no data) */
    int confirmed;    /* the stated criterion held in this run */
    char evidence[768];
} nninit_lab_lesson;

typedef struct nninit_lab_summary {
    int n_lessons;
    nninit_lab_lesson lessons[NNINIT_LAB_MAX_LESSONS];
    int data_found;
    char rerun[1024]; /* the command line that reproduces this run */
} nninit_lab_summary;

/*
 * Runs the experiments (all, or opts->only): symmetry, signal propagation
 * through depth (measured next to mean-field theory), Fashion-MNIST training
 * comparisons, the tutorial's three pitfalls, data-dependent init (LSUV and
 * weight-norm init), real-data correlations, and the per-layer monitor.
 * Each lesson is confirmed or not by a criterion printed with it; a lesson
 * that is not reproduced is a result, not an error. NNINIT_EINVAL (options,
 * an unknown name in only), NNINIT_ENOTFOUND / NNINIT_EFORMAT (an explicit
 * data_dir without a data set), NNINIT_EIO (report files), NNINIT_ENOMEM.
 */
nninit_status nninit_lab_run(const nninit_lab_opts *opts, nninit_lab_summary *out, nninit_err *err);

/* The lessons as JSON (what lab.json's "lessons" holds, with the options):
 * each lesson's experiment, title, status and evidence, on one line ending
 * in a newline. *json is malloc'd (free it). NNINIT_ENOMEM. */
nninit_status nninit_lab_summary_json(const nninit_lab_opts *opts, const nninit_lab_summary *s, char **json,
                                      nninit_err *err);

#ifdef __cplusplus
}
#endif
#endif /* NNINIT_LAB_H */
