/*
 * Private declarations of the probe (probe.c builds the net on the engine
 * and measures, probe_analysis.c predicts and decomposes the Jacobian).
 * Never installed.
 */
#ifndef NNINIT_PROBE_INTERNAL_H
#define NNINIT_PROBE_INTERNAL_H

#include "nn/internal.h"
#include "analysis/theory_internal.h"

/* One block of the probe, as described: dense (n_in -> n_out), optional
 * batch norm, activation, and the skip when residual and the widths agree.
 * The arithmetic is the engine's (nninit_net); this is only what the
 * mean-field prediction and the reports need to know about the block. */
typedef struct nninit__probe_layer {
    int64_t n_out;
    nninit_act act;
    double alpha;
    const char *kernel_init, *bias_init; /* borrowed from the options or the layer descriptions */
    int use_bias, bn;
    double bn_epsilon;
} nninit__probe_layer;

/* Where a block lives in the engine's net: the indices of its dense layer,
 * the layer whose output is the activation (the dense layer itself when the
 * activation is fused, else the activation layer after the batch norm), and
 * the add layer of the skip (-1 without). */
typedef struct nninit__probe_block {
    int dense, act, add;
} nninit__probe_block;

/* Everything one probe run holds. Block l (0-based) maps n_in(l) -> n_out(l). */
typedef struct nninit__probe {
    const nninit_probe_opts *o;
    int depth;
    nninit__probe_layer *L;
    int64_t batch, n0, wmax; /* wmax: the largest of n0 and every n_out */
    nninit_layer_desc *desc; /* the engine's layers: the blocks, then the head with labels */
    int n_desc, n_body;      /* n_body: the layers of the blocks (the head excluded) */
    nninit__probe_block *blk;
    nninit_net *net;         /* built from desc */
    float *x;                /* (batch, n0) */
    float *g;                /* (batch, n_out of the net's last layer): dLoss/dOutput */
} nninit__probe;

static inline int64_t n_in_of(const nninit__probe *p, int l) { return l == 0 ? p->n0 : p->L[l - 1].n_out; }
static inline int64_t n_out_of(const nninit__probe *p, int l) { return p->L[l].n_out; }
static inline int has_skip(const nninit__probe *p, int l) { return p->o->residual && n_in_of(p, l) == n_out_of(p, l); }

/* The engine layer whose output is block l's output a_l. */
static inline int block_out(const nninit__probe *p, int l) { return p->blk[l].add >= 0 ? p->blk[l].add : p->blk[l].act; }

/* Mean-field predictions into r->layers[].pred_* and r->pred_sv_*, from the
 * measured input and output gradient (r->input_m2, grad_out_var). */
void nninit__probe_predict(const nninit__probe *p, nninit_probe_result *r);
/* Singular values of d a_L / d x for opts->jacobian_samples rows into r->sv. */
nninit_status nninit__probe_jacobian(const nninit__probe *p, nninit_probe_result *r, nninit_err *err);

#endif /* NNINIT_PROBE_INTERNAL_H */
