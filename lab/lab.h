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

#define NNINIT_LAB_MAX_LESSONS 16

typedef struct nninit_lab_opts {
    const char *data_dir;  /* Fashion-MNIST (or any IDX set) folder; NULL: nninit_dataset_default_dir(),
                              and a missing default data set skips the training lessons instead of failing */
    const char *out_dir;   /* report.md, lab.json, signal.svg, training.svg written atomically; NULL: none */
    int epochs;            /* per training run, default 3 */
    int64_t train_limit;   /* use the first N training images (0: all) */
    int depth;             /* depth of the signal-propagation nets, default 50 */
    int64_t width;         /* their width, default 256 */
    uint64_t seed;         /* default NNINIT_DEFAULT_SEED */
    int threads;           /* BLAS threads (process-wide); 0: leave as is */
    int skip_training;     /* 1: only the lessons that need no data */
    void (*on_line)(const char *line, void *user); /* each markdown line of the report, as produced */
    void *user;
} nninit_lab_opts;

nninit_lab_opts nninit_lab_opts_default(void);

typedef struct nninit_lab_lesson {
    char title[96];
    int checked;      /* 0: skipped (no data) */
    int confirmed;    /* the stated criterion held in this run */
    char evidence[512];
} nninit_lab_lesson;

typedef struct nninit_lab_summary {
    int n_lessons;
    nninit_lab_lesson lessons[NNINIT_LAB_MAX_LESSONS];
    int data_found;
} nninit_lab_summary;

/*
 * Runs every lesson: symmetry (zeros/constant vs he_normal), signal
 * propagation through depth for tanh and relu under random_normal(0.05),
 * glorot_uniform, he_normal and orthogonal (measured and mean-field), and
 * Fashion-MNIST training comparisons (zeros vs He, deep tanh, batch norm).
 * Each lesson is confirmed or not by a criterion printed with it; a lesson
 * that is not reproduced is a result, not an error. NNINIT_EINVAL (options),
 * NNINIT_ENOTFOUND / NNINIT_EFORMAT (an explicit data_dir without a data set),
 * NNINIT_EIO (report files), NNINIT_ENOMEM.
 */
nninit_status nninit_lab_run(const nninit_lab_opts *opts, nninit_lab_summary *out, nninit_err *err);

/* The JSON summary nninit_lab_run writes as lab.json: options, then each
 * lesson's title (escaped by nninit_json_quote) and status, on one line
 * ending in a newline. *json is malloc'd (free it). NNINIT_ENOMEM. */
nninit_status nninit_lab_summary_json(const nninit_lab_opts *opts, const nninit_lab_summary *s, char **json,
                                      nninit_err *err);

#ifdef __cplusplus
}
#endif
#endif /* NNINIT_LAB_H */
