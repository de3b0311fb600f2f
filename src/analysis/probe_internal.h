/*
 * Private declarations of the probe (probe.c runs the net and measures,
 * probe_analysis.c predicts and decomposes the Jacobian). Never installed.
 */
#ifndef NNINIT_PROBE_INTERNAL_H
#define NNINIT_PROBE_INTERNAL_H

#include "nn/internal.h"
#include "analysis/theory_internal.h"

/* One dense layer of the probe: dense (n_in -> n_out), optional batch norm,
 * activation. */
typedef struct nninit__probe_layer {
    int64_t n_out;
    nninit_act act;
    double alpha;
    const char *kernel_init, *bias_init; /* borrowed from the options or the layer descriptions */
    int use_bias, bn;
    double bn_epsilon;
} nninit__probe_layer;

/* Everything one probe run holds. Layer l (0-based) maps n_in(l) -> n_out(l). */
typedef struct nninit__probe {
    const nninit_probe_opts *o;
    int depth;
    nninit__probe_layer *L;
    int64_t batch, n0, wmax;    /* wmax: the largest of n0 and every n_out */
    float **w, **b, **dw, **db; /* (n_in, n_out), (n_out) */
    float **pre, **act;         /* (batch, n_out): act's input (xhat with bn), act's output */
    float **invstd;             /* bn: (n_out) */
    float *x;                   /* (batch, n0) */
    float *hw, *hb, *hdw, *hdb; /* head (n_out of the last layer, n_classes) with labels */
    float *logits;              /* (batch, n_classes) */
    float *g, *g2, *tmp, *tmp2; /* (batch, wmax) gradient buffers */
    float *ones, *scratch;      /* (wmax) of 1; (3 wmax) */
} nninit__probe;

static inline int64_t n_in_of(const nninit__probe *p, int l) { return l == 0 ? p->n0 : p->L[l - 1].n_out; }
static inline int64_t n_out_of(const nninit__probe *p, int l) { return p->L[l].n_out; }
static inline int has_skip(const nninit__probe *p, int l) { return p->o->residual && n_in_of(p, l) == n_out_of(p, l); }

/* Mean-field predictions into r->layers[].pred_* and r->pred_sv_*, from the
 * measured input and output gradient (r->input_m2, grad_out_var). */
void nninit__probe_predict(const nninit__probe *p, nninit_probe_result *r);
/* Singular values of d a_L / d x for opts->jacobian_samples rows into r->sv. */
nninit_status nninit__probe_jacobian(const nninit__probe *p, nninit_probe_result *r, nninit_err *err);

#endif /* NNINIT_PROBE_INTERNAL_H */
