/*
 * Private declarations of the network engine (src/nn):
 * the layer and network structs and the per-layer kernels. Never installed;
 * tests include it to check the kernels one by one.
 */
#ifndef NNINIT_NN_INTERNAL_H
#define NNINIT_NN_INTERNAL_H

#include "init/internal.h"
#include "nninit_nn.h"

#include <math.h>
#include <string.h>

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

#define NNINIT__MAX_PARAMS 16 /* a Keras-layout transformer block's tensors */

typedef struct nninit__param {
    char name[64];   /* "dense_0/kernel" (also the Philox stream name) */
    nninit_shape shape;
    int64_t n;
    float *value, *grad;
    float *m1, *m2;  /* optimizer state (momentum / Adam moments), NULL until first step */
} nninit__param;

/* Geometry of a 2-D window operation (conv2d, pooling) on NHWC images. */
typedef struct nninit__conv_geom {
    int64_t h, w, c;        /* input */
    int64_t kh, kw;         /* window */
    int64_t sh, sw;         /* strides */
    int64_t dh, dw;         /* dilation */
    int64_t pt, pl;         /* padding on the top and the left (the rest goes bottom/right) */
    int64_t ho, wo;         /* output */
    int64_t groups, cout;   /* conv2d: groups, output channels */
} nninit__conv_geom;

typedef struct nninit__layer {
    nninit_layer_kind kind;
    char name[32];
    int64_t n_in, n_out;       /* numel per sample */
    nninit_shape in_shape, out_shape;
    int src[2];                /* producers: -1 the network input, else a layer index; src[1] add only */
    int n_consumers;           /* layers that read this output (the last layer: 0, read by the loss) */
    nninit_act act;  /* dense, conv2d (fused) and activation layers */
    double alpha;
    int n_params;    /* dense, conv2d: 1 or 2, batchnorm: 2, scale: 1 or 2, recurrent: 2 or 3, attention 4 or 8,
                        transformer 12 or 16, layer_norm 0 .. 2, embeddings 1, others 0 */
    struct nninit__rnn_spec *rnn; /* recurrent layers */
    struct nninit__block_spec *block; /* attention (block->mha) and transformer layers */
    int norm_kind, norm_gamma, norm_beta; /* layer_norm: nninit__norm_kind, which of gamma/beta it has */
    float *cache;    /* recurrent, attention, transformer, layer_norm: the forward's cache (its *_cache_floats) */
    int32_t *ids;    /* embedding: the token ids of the last forward */
    int64_t padding_idx; /* embedding: the row kept at zero (no gradient), -1 none */
    nninit__param param[NNINIT__MAX_PARAMS];
    nninit__conv_geom geom;    /* conv2d, pooling */
    int flatten_chw;           /* flatten: C, H, W order (torch layout) */
    /* batch norm */
    double momentum, epsilon;
    float *run_mean, *run_var;  /* (n features) */
    float *bn_invstd;           /* (n features) 1/sqrt(var + eps) of the last training batch */
    /* dropout */
    double rate;
    uint64_t stream;            /* Philox stream of the mask */
    uint64_t drawn;             /* mask words used so far: the next draw starts here */
    /* per-batch buffers, (batch, n) row-major, sized for net->cap rows */
    const float *in;  /* borrowed: the input of the last forward */
    const float *in2; /* add: the second input */
    float *z;         /* dense, conv2d: pre-activation; batchnorm: xhat; dropout: mask scale */
    float *out;       /* output; == z for a linear dense layer */
    float *dz;        /* gradient w.r.t. z (dense, conv2d with an activation) */
    float *dx;        /* gradient w.r.t. the input */
    float *dx2;       /* add: gradient w.r.t. the second input */
    float *gsum;      /* gradient w.r.t. the output when several layers read it (their sum) */
    float *work;      /* conv2d: im2col patches of the last forward (nninit__conv2d_work floats) */
    const float *gy;  /* gradient w.r.t. the output in the last backward */
    int has_dx;       /* dx was computed by the last backward */
} nninit__layer;

struct nninit_net {
    int64_t n_inputs;
    nninit_shape in_shape;
    int n_layers;
    nninit__layer *layers;
    uint64_t seed;
    uint32_t key[2];    /* Philox key of the seed (dropout masks) */
    int64_t cap;        /* rows the buffers hold */
    int64_t batch;      /* rows of the last forward */
    int training;       /* mode of the last forward */
    int forward_done, backward_done;
    const float *grad_out; /* borrowed: dout of the last backward */
    const float *dx_in; /* dLoss/dInput of the last backward with want_input_grad, else NULL */
    float *dx_in_sum;   /* (cap, n_inputs) when several layers read the input: their gradients' sum */
    int64_t t;          /* optimizer steps taken (Adam bias correction) */
};

/* net.c: frees every per-batch buffer (net->cap becomes 0). */
void nninit__net_free_buffers(nninit_net *net);
/* A kernel in torch's layout ((out, in) or OIHW) into the engine's shape
 * engine_shape ((in, out) or HWIO); other ranks are copied. */
void nninit__from_torch_layout(const float *src, const nninit_shape *engine_shape, float *dst);

/* ---- kernels (nn_dense.c, nn_batchnorm.c, nn_dropout.c) ----
 * All arrays are row-major (batch, features). */

/* y = x W + b; x (batch, n_in), W (n_in, n_out), b (n_out) or NULL. */
void nninit__dense_forward(const float *x, const float *w, const float *b, int64_t batch, int64_t n_in,
                           int64_t n_out, float *y);
/* dW = x^T dy, db = column sums of dy (both overwritten), dx = dy W^T
 * (skipped when dx is NULL). */
/* ReLU's derivative and the bias gradient in one pass (dense.c): dz = z > 0
 * ? dy : 0 and db = column sums of dz, bit for bit the two passes. */
void nninit__dense_relu_backward(const float *z, const float *dy, int64_t rows, int64_t n, float *dz, float *db);
void nninit__dense_backward(const float *x, const float *w, const float *dy, int64_t batch, int64_t n_in,
                            int64_t n_out, float *dw, float *db, float *dx);
/* The same with the weight gradient folded into a momentum buffer:
 * v = mu v + x^T dy (one sgemm with beta = mu); dw (may be NULL) also gets
 * x^T dy alone, by a product of its own. */
void nninit__dense_backward_momentum(const float *x, const float *w, const float *dy, int64_t batch, int64_t n_in,
                                     int64_t n_out, float mu, float *v, float *dw, float *db, float *dx);

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

/* ---- window kernels (conv2d.c, pool.c) on NHWC batches ---- */

/* Fills g's output size and padding from the input, window, strides,
 * dilation and padding mode; NNINIT_EINVAL (message naming `what`) when the
 * window does not fit. */
nninit_status nninit__conv_geom_init(nninit__conv_geom *g, nninit_padding pad, const char *what, nninit_err *err);
/* [lo, hi): the outputs o < n_out of one axis (stride s, leading padding p,
 * dilation d, window k) whose windows lie inside [0, size). */
void nninit__window_inside(int64_t s, int64_t p, int64_t d, int64_t k, int64_t size, int64_t n_out, int64_t *lo,
                           int64_t *hi);
/* Floats of scratch the conv2d kernels need for up to `batch` samples. */
size_t nninit__conv2d_work(const nninit__conv_geom *g, int64_t batch);
/* y (batch, ho, wo, cout) = conv(x, K) + b; K HWIO (kh, kw, c/groups, cout),
 * b (cout) or NULL; a = act(y) unless act is linear (a unused then).
 * work: nninit__conv2d_work floats. pool (or NULL): a max pooling of the
 * output (a, or y when linear) done tile by tile while the tile is in
 * cache, into pooled (nninit__maxpool_forward's result). */
void nninit__conv2d_forward(const nninit__conv_geom *g, const float *x, const float *k, const float *b,
                            nninit_act act, double alpha, int64_t batch, float *y, float *a, float *work,
                            const nninit__conv_geom *pool, float *pooled);
/* dK, db (overwritten; db may be NULL) and dx (skipped when NULL); work is
 * the forward's (with one group its patches are reused, and left intact). */
void nninit__conv2d_backward(const nninit__conv_geom *g, const float *x, const float *k, const float *dy,
                             int64_t batch, float *dk, float *db, float *dx, float *work);
/* The direct kernels of a one-channel conv2d (groups 1, at most 64 window
 * positions, not 1x1), which nninit__conv2d_forward/backward take for such
 * a layer: z rows [r0, r1) (row r at y + (r - r0) cout, bias added), and
 * the kernel gradient over `rows` rows (sum: kh kw cout doubles of
 * scratch). lanes: the widest vectors to use (4, 8; more: the widest the
 * CPU has); every width gives the same bits (the test compares them). */
void nninit__conv2d_direct_forward(const nninit__conv_geom *g, const float *x, const float *k, const float *b,
                                   int64_t r0, int64_t r1, float *y, int lanes);
void nninit__conv2d_direct_kgrad(const nninit__conv_geom *g, const float *x, const float *dy, int64_t rows,
                                 float *dk, double *sum, int lanes);
/* Max pooling (windows entirely in the padding cannot happen). The
 * backward finds each output's input again in x (the first in window order
 * equal to y, the first NaN for a NaN y: the forward's choice) instead of
 * keeping an index per output; x and y are the forward's. */
void nninit__maxpool_forward(const nninit__conv_geom *g, const float *x, int64_t batch, float *y);
void nninit__maxpool_backward(const nninit__conv_geom *g, const float *x, const float *y, const float *dy,
                              int64_t batch, float *dx);
/* Output rows q in [q0, q1) (q = sample * ho + output row) of the forward,
 * and how many input rows (sample * h + row, counted from the first) row q
 * reads up to: a conv2d pools its output while a tile of it is in cache. */
void nninit__maxpool_forward_rows(const nninit__conv_geom *g, const float *x, int64_t q0, int64_t q1, float *y);
int64_t nninit__maxpool_row_needs(const nninit__conv_geom *g, int64_t q);
/* Average pooling over the positions of each window inside the image. */
void nninit__avgpool_forward(const nninit__conv_geom *g, const float *x, int64_t batch, float *y);
void nninit__avgpool_backward(const nninit__conv_geom *g, const float *dy, int64_t batch, float *dx);

/* ---- monitoring (monitor.c) ---- */

/* Copies every parameter into before (nninit_net_n_params floats). */
void nninit__params_snapshot(const nninit_net *net, float *before);
/* Per-layer statistics of the last forward/backward/step (stats: n_layers entries). */
void nninit__monitor_collect(const nninit_net *net, const float *before, nninit_layer_stats *stats);

/* ---- optimizer pieces (nn_optim.c) ---- */

/* Checks opts and lr, allocates the optimizer state, counts the step (Adam's t). */
nninit_status nninit__optim_prepare(nninit_net *net, const nninit_optim_opts *opts, double lr, nninit_err *err);
/* Applies the update to one layer's parameters with their current gradients. */
void nninit__layer_step(nninit__layer *layer, const nninit_optim_opts *opts, double lr, int64_t t);
/* The same; folded: parameter 0's momentum buffer already holds mu v + g (the
 * weight-gradient product wrote it with beta = mu), so it only gets
 * nninit__sgd_apply_folded. */
void nninit__layer_step_folded(nninit__layer *layer, const nninit_optim_opts *opts, double lr, int64_t t, int folded);
/* 1 when opts' SGD step can take its momentum from the weight-gradient
 * product (momentum > 0, no Nesterov, no clipping: the step needs neither the
 * gradient apart nor every gradient first). */
int nninit__sgd_folds_momentum(const nninit_optim_opts *o);
/* The rest of that step: v += wd w (when wd != 0), w -= lr v. */
void nninit__sgd_apply_folded(nninit__param *p, const nninit_optim_opts *o, float lr);
/* Gradient-norm clipping (opts->clip_norm > 0) then every layer's step: what
 * a step does once all gradients of the backward exist. */
void nninit__net_step_all(nninit_net *net, const nninit_optim_opts *opts, double lr);

/* Backward fused with the optimizer step (net_run.c): each layer's parameters
 * are updated right after its gradients are computed (and after its input
 * gradient, which still needs the old weights), while they are in cache.
 * With clip_norm > 0 the steps wait for the whole backward (the norm is
 * over every gradient). With plain momentum SGD (nninit__sgd_folds_momentum)
 * a dense kernel's gradient goes straight into its momentum buffer (sgemm
 * with beta = momentum) and its grad buffer is written only when want_grads
 * (one more product, for a monitor); otherwise the result is bit-identical to
 * nninit_net_backward then nninit_net_step. */
nninit_status nninit__net_backward_step(nninit_net *net, const float *dout, const nninit_optim_opts *opts, double lr,
                                        int want_grads, nninit_err *err);

/* ---- sequence kernels (seq_*.c) ----
 * Sequences are batch-major (batch, steps, features), row-major, as Keras and
 * PyTorch's batch_first=True hold them. Every product is an sgemm; caches and
 * scratch are float arrays the caller allocates with the sizes given by the
 * *_cache_floats functions, so a layer allocates once per batch size. */

/* C = alpha op(A) op(B) + beta C with explicit leading dimensions (row
 * lengths of the stored matrices), for column slices of packed matrices such
 * as one head of a fused Q|K|V array. */
void nninit__sgemm_ld(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float *a,
                      int64_t lda, const float *b, int64_t ldb, float beta, float *c, int64_t ldc);

/* sums[j] = sum over rows r of x[r * ld + j], j < n, added in row order (a
 * fixed order whatever the threads). Overwrites sums. */
void nninit__col_sums(const float *x, int64_t rows, int64_t n, int64_t ld, float *sums);

/* y[i] = a[i] + b[i], i < n, four lanes at a time; y may be a or b (the
 * residual adds of the sequence layers). */
void nninit__vadd(float *y, const float *a, const float *b, int64_t n);

/* Points slots[i] at consecutive runs of sizes[i] floats from base (NULL
 * base: every slot NULL) and returns the total, so a kernel's cache layout
 * and its size come from one table. */
size_t nninit__carve(float *base, int n, const int64_t *sizes, float **const *slots);

/* dst[0 .. n) = src[0 .. n), not overlapping, inline: the window kernels
 * (im2col, pooling) copy runs of a few channels millions of times an epoch,
 * where a memcpy call costs more than the copy. Four floats a step. */
static inline void nninit__copy_floats(float *dst, const float *src, int64_t n)
{
    int64_t i = 0;
#if defined(__GNUC__)
    typedef float v4sf_copy __attribute__((vector_size(16)));
    for (; i + 4 <= n; i += 4) {
        v4sf_copy v;
        memcpy(&v, src + i, sizeof v);
        memcpy(dst + i, &v, sizeof v);
    }
#endif
    for (; i < n; i++)
        dst[i] = src[i];
}

/* Four floats as one value (GCC/clang vector extensions; SSE2 on baseline
 * x86-64) for the sequence kernels' elementwise passes: lane i runs the same
 * IEEE operations as the scalar tail, so vector and scalar give the same
 * bits. NNINIT__V4 is 0 where the extensions are missing (scalar only). */
#if defined(__GNUC__)
#define NNINIT__V4 1
typedef float nninit__v4f __attribute__((vector_size(16)));
static inline nninit__v4f nninit__v4_load(const float *p)
{
    nninit__v4f v;
    memcpy(&v, p, sizeof v);
    return v;
}
static inline void nninit__v4_store(float *p, nninit__v4f v) { memcpy(p, &v, sizeof v); }
#else
#define NNINIT__V4 0
#endif

/* Logistic sigmoid that never overflows exp (e^z / (1 + e^z) for z < 0). */
static inline float nninit__sigmoidf(float z)
{
    if (z >= 0.0f)
        return 1.0f / (1.0f + expf(-z));
    float e = expf(z);
    return e / (1.0f + e);
}

/* exp, tanh and the logistic sigmoid of n floats, y may be x (seq_vmath.c:
 * vectorised Cephes forms, within 2 ulp for exp, the same bits on any
 * x86-64). The sequence kernels use these instead of libm's scalar calls. */
void nninit__vexpf(const float *x, float *y, int64_t n);
void nninit__vtanhf(const float *x, float *y, int64_t n);
void nninit__vsigmoidf(const float *x, float *y, int64_t n);
/* The standard normal CDF Phi: within 2.4e-7 absolutely; the lower tail's
 * relative error grows as x^2 2^-24 (the rounding of x / sqrt 2, as in any
 * float erf), 1.6e-5 at x = -12. */
void nninit__vnormcdff(const float *x, float *y, int64_t n);
/* The same maps at a chosen width (fn 0 exp, 1 tanh, 2 sigmoid, 3 normal
 * CDF; lanes 4, 8 where the CPU has AVX2, 16 where it has AVX-512 F and DQ,
 * else the widest below): the functions above take 16; tests check that the
 * widths give the same bits. */
void nninit__vmath_lanes(int fn, int lanes, const float *x, float *y, int64_t n);
/* The width nninit__vmath_lanes(fn, lanes, ...) runs at on this CPU (16, 8
 * or 4), for other kernels built on seq_vmath_impl.h (seq_lstm_cell.c). */
int nninit__vmath_usable_lanes(int lanes);

/* A dense product in either weight layout: y (rows, n_out) = x W + b with W
 * stored (n_in, n_out) (Keras kernel) or, when out_in, (n_out, n_in) (a
 * PyTorch Linear weight). b may be NULL. */
void nninit__linear_forward(int out_in, const float *x, const float *w, const float *b, int64_t rows, int64_t n_in,
                            int64_t n_out, float *y);
/* dW (same layout as W) and db (may be NULL) overwritten; dx (may be NULL)
 * overwritten, or accumulated into when accumulate_dx. */
void nninit__linear_backward(int out_in, const float *x, const float *w, const float *dy, int64_t rows,
                             int64_t n_in, int64_t n_out, float *dw, float *db, float *dx, int accumulate_dx);

/* Embedding (seq_embedding.c): y[i] = table[ids[i]], i < count, rows of dim.
 * An id outside [0, vocab) is NNINIT_EINVAL naming it and its position. */
nninit_status nninit__embedding_forward(const int32_t *ids, int64_t count, const float *table, int64_t vocab,
                                        int64_t dim, float *y, nninit_err *err);
/* dtable (vocab, dim) overwritten: row v = sum of dy rows whose id is v, in
 * position order. padding_idx (-1: none) keeps a zero gradient, as PyTorch's
 * nn.Embedding(padding_idx=...) does (Keras has no such index: mask_zero
 * masks later layers but the row still learns). */
void nninit__embedding_backward(const int32_t *ids, int64_t count, const float *dy, int64_t vocab, int64_t dim,
                                int64_t padding_idx, float *dtable);
/* Learned position embedding (keras_hub PositionEmbedding, GPT-2's wpe):
 * y[b, t] = x[b, t] + pos[t]; pos is (steps, dim) (the first steps rows of the
 * table). y may be x. The input gradient is dy itself. */
void nninit__posemb_forward(const float *x, const float *pos, int64_t batch, int64_t steps, int64_t dim, float *y);
/* dpos (steps, dim) overwritten with the sum of dy over the batch. */
void nninit__posemb_backward(const float *dy, int64_t batch, int64_t steps, int64_t dim, float *dpos);

/* Normalization over the last axis of (rows, n) (seq_norm.c). */
typedef enum nninit__norm_kind {
    NNINIT__NORM_LAYER,     /* (x - mean) / sqrt(var + eps) * gamma + beta: Keras LayerNormalization, torch LayerNorm */
    NNINIT__NORM_RMS,       /* x / sqrt(mean(x^2) + eps) * gamma: Keras RMSNormalization, torch RMSNorm (2.4) */
    NNINIT__NORM_RMS_KERAS  /* x / sqrt(var + eps) * gamma: Keras 3 LayerNormalization(rms_scaling=True), which
                             * divides by the centred variance but does not centre x */
} nninit__norm_kind;
/* gamma and beta may be NULL (scale=False, center=False; beta is ignored for
 * the RMS kinds). Writes xhat (the normalized x before gamma and beta),
 * invstd and mean (rows) for the backward, and y. Statistics in float, biased
 * variance (as both frameworks). */
void nninit__norm_forward(nninit__norm_kind kind, const float *x, int64_t rows, int64_t n, const float *gamma,
                          const float *beta, double epsilon, float *xhat, float *mean, float *invstd, float *y);
/* dgamma, dbeta (may be NULL) overwritten; dx overwritten. */
void nninit__norm_backward(nninit__norm_kind kind, const float *xhat, const float *mean, const float *invstd,
                           const float *gamma, const float *dy, int64_t rows, int64_t n, float *dgamma, float *dbeta,
                           float *dx);

/* The same, plus a residual's gradient: dx = the norm's input gradient + add
 * (add may be dx: read before dx is written, row by row; NULL adds nothing). */
void nninit__norm_backward_add(nninit__norm_kind kind, const float *xhat, const float *mean, const float *invstd,
                               const float *gamma, const float *dy, int64_t rows, int64_t n, float *dgamma,
                               float *dbeta, const float *add, float *dx);

/* GELU (seq_gelu.c): approximate = 0 is the exact x Phi(x) (Keras
 * approximate=False, torch approximate='none'); 1 is the tanh form
 * 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) (Keras approximate=True,
 * torch approximate='tanh'). dx may be dy. keep (n floats, may be NULL)
 * receives Phi(x) (exact) or tanh u (tanh form) from the forward; passed
 * back to the backward it saves recomputing them (the same bits: the
 * transformer block keeps it, the engine's activation recomputes). */
void nninit__gelu_forward(int approximate, const float *x, int64_t n, float *y, float *keep);
void nninit__gelu_backward(int approximate, const float *x, const float *keep, const float *dy, int64_t n,
                           float *dx);
/* The same over (rows, n), and db (may be NULL) = the column sums of dx, in
 * the same pass (the same bits as nninit__col_sums of dx). */
void nninit__gelu_backward_bias(int approximate, const float *x, const float *keep, const float *dy, int64_t rows,
                                int64_t n, float *dx, float *db);

/* Recurrent layers (seq_rnn.c), zero initial state, full backpropagation
 * through time.
 *
 * Weights, with G gates of `units` columns each (SimpleRNN 1, LSTM 4, GRU 3):
 *   Keras layout: kernel (n_in, G units), recurrent (units, G units),
 *     LSTM gates i, f, c, o; GRU z, r, h. bias_in = bias (G units); a GRU with
 *     reset_after (the Keras default) has bias (2, 3 units): bias_in = row 0,
 *     bias_rec = row 1, and row 1's h block is inside the reset product.
 *   PyTorch layout (torch_layout): kernel = weight_ih_l0 (G units, n_in),
 *     recurrent = weight_hh_l0 (G units, units), bias_in = bias_ih_l0,
 *     bias_rec = bias_hh_l0; LSTM gates i, f, g, o; GRU r, z, n (always the
 *     reset-after form: n = tanh(W_in x + b_in + r (W_hn h + b_hn))).
 * Every bias may be NULL (use_bias=False / bias=False). */
typedef enum nninit__rnn_cell { NNINIT__CELL_SIMPLE, NNINIT__CELL_LSTM, NNINIT__CELL_GRU } nninit__rnn_cell;
typedef struct nninit__rnn_spec {
    nninit__rnn_cell cell;
    int torch_layout;
    int reset_after;      /* GRU: 1 (Keras default, and PyTorch's only form) or 0 (Keras reset_after=False) */
    int relu;             /* SimpleRNN: relu instead of tanh */
    int return_sequences; /* y (batch, steps, units); else the last state (batch, units) */
    int64_t n_in, units;
} nninit__rnn_spec;
typedef struct nninit__rnn_weights {
    const float *kernel, *recurrent, *bias_in, *bias_rec;
} nninit__rnn_weights;
typedef struct nninit__rnn_grads {
    float *kernel, *recurrent, *bias_in, *bias_rec; /* overwritten; a bias gradient may be NULL */
} nninit__rnn_grads;
/* Gates of a cell (1, 4, 3). */
int nninit__rnn_gates(nninit__rnn_cell cell);
/* Floats of the cache forward fills and backward uses as scratch (backward
 * overwrites what forward left: one backward per forward). */
size_t nninit__rnn_cache_floats(const nninit__rnn_spec *spec, int64_t batch, int64_t steps);
/* x (batch, steps, n_in). */
void nninit__rnn_forward(const nninit__rnn_spec *spec, const nninit__rnn_weights *w, const float *x, int64_t batch,
                         int64_t steps, float *cache, float *y);
/* dy shaped as y; dx (batch, steps, n_in) may be NULL. */
void nninit__rnn_backward(const nninit__rnn_spec *spec, const nninit__rnn_weights *w, int64_t batch, int64_t steps,
                          float *cache, const float *dy, const nninit__rnn_grads *g, float *dx);
/* The LSTM cell's elementwise step over `rows` rows (seq_lstm_cell.c), gates
 * i, f, g, o in blocks of H. Forward: pre (rows, 4H) the gate pre-activations,
 * activated in place; c_prev (rows, H); writes c_new, tanh_c = tanh c_new and
 * h_new (rows, H each). Backward: gates (rows, 4H) as the forward left them,
 * c_prev, tanh_c, dh (rows, H) the state gradient; dc (rows, H) in: the cell
 * gradient from the step after, out: to the step before; writes dpre (rows,
 * 4H) the gates' pre-activation gradients and, when dbias (4H) is not NULL,
 * adds them to it row by row in order. The _lanes forms take the width (4, 8
 * or 16, the widest the CPU has below it): every width gives the same bits. */
void nninit__lstm_cell_forward(float *pre, const float *c_prev, int64_t rows, int64_t H, float *c_new, float *tanh_c,
                               float *h_new);
void nninit__lstm_cell_backward(const float *gates, const float *c_prev, const float *tanh_c, const float *dh,
                                int64_t rows, int64_t H, float *dc, float *dpre, float *dbias);
void nninit__lstm_cell_forward_lanes(int lanes, float *pre, const float *c_prev, int64_t rows, int64_t H,
                                     float *c_new, float *tanh_c, float *h_new);
void nninit__lstm_cell_backward_lanes(int lanes, const float *gates, const float *c_prev, const float *tanh_c,
                                      const float *dh, int64_t rows, int64_t H, float *dc, float *dpre, float *dbias);

/* Multi-head self-attention (seq_attention.c), softmax(Q K^T / sqrt(head_dim))
 * V per head, then the output projection.
 *   Keras layout (MultiHeadAttention): wq, wk, wv = query/key/value kernels
 *     (d_model, heads, head_dim), biases (heads, head_dim); wo =
 *     attention_output/kernel (heads, head_dim, d_model), bo (d_model).
 *   PyTorch layout (nn.MultiheadAttention, batch_first): wq, wk, wv = the
 *     three (d_model, d_model) blocks of in_proj_weight (3 d_model, d_model),
 *     biases the blocks of in_proj_bias; wo = out_proj.weight, bo =
 *     out_proj.bias; head_dim = d_model / heads.
 * causal: position t attends to positions <= t (Keras use_causal_mask=True,
 * torch's upper-triangular -inf attn_mask). Biases may be NULL. */
typedef struct nninit__mha_spec {
    int64_t d_model, heads, head_dim;
    int torch_layout, causal;
} nninit__mha_spec;
typedef struct nninit__mha_weights {
    const float *wq, *wk, *wv, *bq, *bk, *bv, *wo, *bo;
} nninit__mha_weights;
typedef struct nninit__mha_grads {
    float *wq, *wk, *wv, *bq, *bk, *bv, *wo, *bo; /* overwritten; biases may be NULL */
} nninit__mha_grads;
size_t nninit__mha_cache_floats(const nninit__mha_spec *spec, int64_t batch, int64_t steps);
/* x, y (batch, steps, d_model); y must not alias x. */
void nninit__mha_forward(const nninit__mha_spec *spec, const nninit__mha_weights *w, const float *x, int64_t batch,
                         int64_t steps, float *cache, float *y);
/* dx (may be NULL) overwritten, or accumulated into when accumulate_dx. */
void nninit__mha_backward(const nninit__mha_spec *spec, const nninit__mha_weights *w, const float *x, int64_t batch,
                          int64_t steps, float *cache, const float *dy, const nninit__mha_grads *g, float *dx,
                          int accumulate_dx);

/* Pre-LN transformer block (seq_transformer.c), GPT-2's order:
 *   h = x + MHA(LN1(x));  y = h + W2 gelu(W1 LN2(h) + b1) + b2
 * W1 (d_model, d_ff) and W2 (d_ff, d_model), or (out, in) in the PyTorch
 * layout (mha.torch_layout). */
typedef struct nninit__block_spec {
    nninit__mha_spec mha;
    int64_t d_ff;
    double ln_epsilon;
    int gelu_approximate;
} nninit__block_spec;
typedef struct nninit__block_weights {
    const float *ln1_gamma, *ln1_beta, *ln2_gamma, *ln2_beta;
    nninit__mha_weights mha;
    const float *w1, *b1, *w2, *b2;
} nninit__block_weights;
typedef struct nninit__block_grads {
    float *ln1_gamma, *ln1_beta, *ln2_gamma, *ln2_beta;
    nninit__mha_grads mha;
    float *w1, *b1, *w2, *b2;
} nninit__block_grads;
size_t nninit__block_cache_floats(const nninit__block_spec *spec, int64_t batch, int64_t steps);
void nninit__block_forward(const nninit__block_spec *spec, const nninit__block_weights *w, const float *x,
                           int64_t batch, int64_t steps, float *cache, float *y);
/* dx (batch, steps, d_model) overwritten. */
void nninit__block_backward(const nninit__block_spec *spec, const nninit__block_weights *w, const float *x,
                            int64_t batch, int64_t steps, float *cache, const float *dy,
                            const nninit__block_grads *g, float *dx);

#endif /* NNINIT_NN_INTERNAL_H */
