/*
 * Private declarations of the network engine (src/nn):
 * the layer and network structs and the per-layer kernels. Never installed;
 * tests include it to check the kernels one by one.
 */
#ifndef NNINIT_NN_INTERNAL_H
#define NNINIT_NN_INTERNAL_H

#include "init/internal.h"
#include "nninit_nn.h"

/* ---- BLAS (blas.c): the one wrapper over OpenBLAS ---- */

/* C (m, n) = alpha * op(A) op(B) + beta * C, all row-major float32.
 * op(A) is (m, k): A is (m, k), or (k, m) when trans_a. op(B) is (k, n):
 * B is (k, n), or (n, k) when trans_b. */
void nninit__sgemm(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float *a,
                   const float *b, float beta, float *c);

/* ---- activations (act.c) ---- */

/* The one activation-text parser, over a caller's name table names[0..n)
 * (the engine's nninit_act names, or the theory's): "name", "silu" (=
 * "swish"), and for leaky_relu and elu "name(x)", "name(alpha=x)" or
 * "name(negative_slope=x)" with x any finite number. *index gets the name's
 * position; *alpha (may be NULL) the parameter or its default (0.2
 * leaky_relu, 1 elu, else 0). */
nninit_status nninit__act_parse_table(const char *text, const char *const *names, int n_names, int *index,
                                      double *alpha, nninit_err *err);

/* ---- parameters and layers (nn_net.c) ---- */

typedef struct nninit__param {
    char name[48];   /* "dense_0/kernel" (also the Philox stream name) */
    nninit_shape shape;
    int64_t n;
    float *value, *grad;
    float *m1, *m2;  /* optimizer state (momentum / Adam moments), NULL until first step */
} nninit__param;

typedef struct nninit__layer {
    nninit_layer_kind kind;
    char name[32];
    int64_t n_in, n_out;
    nninit_act act;  /* dense (fused) and activation layers */
    double alpha;
    int n_params;    /* dense: 1 or 2, batchnorm: 2, others 0 */
    nninit__param param[2];
    /* batch norm */
    double momentum, epsilon;
    float *run_mean, *run_var;  /* (n_out) */
    float *bn_invstd;           /* (n_out) 1/sqrt(var + eps) of the last training batch */
    /* dropout */
    double rate;
    uint64_t stream;            /* Philox stream of the mask */
    uint64_t drawn;             /* mask words used so far: the next draw starts here */
    /* per-batch buffers, (batch, n) row-major, sized for net->cap rows */
    const float *in;  /* borrowed: the input of the last forward */
    float *z;         /* dense: pre-activation; batchnorm: xhat; dropout: mask scale */
    float *out;       /* output; == z for a linear dense layer */
    float *dz;        /* gradient w.r.t. z (dense, batchnorm) */
    float *dx;        /* gradient w.r.t. the input */
    int has_dx;       /* dx was computed by the last backward */
} nninit__layer;

struct nninit_net {
    int64_t n_inputs;
    int n_layers;
    nninit__layer *layers;
    uint64_t seed;
    uint32_t key[2];    /* Philox key of the seed (dropout masks) */
    int64_t cap;        /* rows the buffers hold */
    int64_t batch;      /* rows of the last forward */
    int training;       /* mode of the last forward */
    int forward_done, backward_done;
    const float *grad_out; /* borrowed: dout of the last backward */
    int64_t t;          /* optimizer steps taken (Adam bias correction) */
};

/* ---- kernels (nn_dense.c, nn_batchnorm.c, nn_dropout.c) ----
 * All arrays are row-major (batch, features). */

/* y = x W + b; x (batch, n_in), W (n_in, n_out), b (n_out) or NULL. */
void nninit__dense_forward(const float *x, const float *w, const float *b, int64_t batch, int64_t n_in,
                           int64_t n_out, float *y);
/* dW = x^T dy, db = column sums of dy (both overwritten), dx = dy W^T
 * (skipped when dx is NULL). */
void nninit__dense_backward(const float *x, const float *w, const float *dy, int64_t batch, int64_t n_in,
                            int64_t n_out, float *dw, float *db, float *dx);

/* Training mode: normalises with the batch statistics (biased variance, as
 * Keras' moments), writes xhat and invstd, and updates the running
 * statistics run = run * momentum + batch * (1 - momentum) (Keras' rule).
 * Evaluation mode (xhat, invstd may be NULL): uses the running statistics. */
void nninit__bn_forward(const float *x, int64_t batch, int64_t n, const float *gamma, const float *beta,
                        double momentum, double epsilon, int training, float *run_mean, float *run_var,
                        float *xhat, float *invstd, float *y);
/* Backward of the training-mode forward. dgamma, dbeta overwritten. */
void nninit__bn_backward(const float *xhat, const float *invstd, const float *gamma, const float *dy,
                         int64_t batch, int64_t n, float *dgamma, float *dbeta, float *dx);

/* Inverted dropout mask: scale[i] = 0 with probability rate, else
 * 1 / (1 - rate). Word i of the mask is Philox word (first + i) of
 * (key, stream); it drops when word < rate * 2^32. */
void nninit__dropout_mask(const uint32_t key[2], uint64_t stream, uint64_t first, int64_t count, double rate,
                          float *scale);

/* ---- optimizer pieces (nn_optim.c) ---- */

/* Checks opts and lr, allocates the optimizer state, counts the step (Adam's t). */
nninit_status nninit__optim_prepare(nninit_net *net, const nninit_optim_opts *opts, double lr, nninit_err *err);
/* Applies the update to one layer's parameters with their current gradients. */
void nninit__layer_step(nninit__layer *layer, const nninit_optim_opts *opts, double lr, int64_t t);

/* Backward fused with the optimizer step (nn_net.c): each layer's parameters
 * are updated right after its gradients are computed (and after its input
 * gradient, which still needs the old weights), while they are in cache.
 * The result is bit-identical to nninit_net_backward then nninit_net_step. */
nninit_status nninit__net_backward_step(nninit_net *net, const float *dout, const nninit_optim_opts *opts, double lr,
                                        nninit_err *err);

#endif /* NNINIT_NN_INTERNAL_H */
