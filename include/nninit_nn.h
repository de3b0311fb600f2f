/*
 * nninit_nn.h: a small float32 network engine (the nn layer): layers,
 * networks, losses, optimizers, training, LSUV, weight-norm init.
 *
 * Example, a whole program (tests/cli/header_examples.sh extracts, compiles
 * and runs it, and compares its output with the lines after "Prints:"):
 *
 *     #include <stdio.h>
 *     #include <stdlib.h>
 *     #include "nninit_nn.h"
 *
 *     int main(void)
 *     {
 *         // a 4-16-3 ReLU MLP (He-style Keras defaults), one forward pass
 *         const int64_t hidden[1] = {16};
 *         nninit_mlp_desc mlp = nninit_mlp_desc_default();
 *         mlp.n_hidden = 1;
 *         mlp.hidden = hidden;
 *         mlp.n_outputs = 3;
 *         nninit_layer_desc *layers = NULL;
 *         int n_layers = 0;
 *         nninit_net *net = NULL;
 *         const float x[2 * 4] = {1, 0, -1, 2, 0.5f, 0.5f, 0.5f, 0.5f};
 *         const float *y = NULL;
 *         nninit_err err = {0};
 *         int ok = nninit_net_desc_mlp(&mlp, &layers, &n_layers, &err) == NNINIT_OK &&
 *                  nninit_net_new(4, layers, n_layers, NULL, &net, &err) == NNINIT_OK &&
 *                  nninit_net_forward(net, x, 2, 0, &y, &err) == NNINIT_OK;
 *         if (ok)
 *             printf("%d layers, %lld parameters, y[0] = %.4f\n", nninit_net_n_layers(net),
 *                    (long long)nninit_net_n_params(net), y[0]);
 *         else
 *             fprintf(stderr, "%s\n", err.msg);
 *         nninit_net_free(net);
 *         nninit_free(layers);
 *         return ok ? 0 : 1;
 *     }
 *
 * Prints:
 *
 *     2 layers, 131 parameters, y[0] = 0.4079
 */
#ifndef NNINIT_NN_H
#define NNINIT_NN_H

#include "nninit.h"
#include "nninit_data.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Engine: a small float32 network engine, data sets and training            */
/* ------------------------------------------------------------------------ */

/*
 * Float32, row-major (batch, features). Every matrix product is an OpenBLAS
 * sgemm. A network is a stack of layers; a dense layer may carry a fused
 * activation so that a probe reads its pre-activation and activation from
 * one layer. Determinism: the same seed and the same BLAS thread count give
 * the same bits; another thread count may change sgemm's summation order and
 * so the last bits of every product (and everything after). Every reduction
 * nninit does itself (bias and batch-norm sums, losses) runs in a fixed
 * order on one thread.
 */

/* The engine's activations. The theory (nninit_analysis.h) has its own
 * enum, nninit_theory_act, on purpose: it has erf (the classic closed-form
 * mean-field example, no engine layer) and lacks softmax (taken over a row,
 * not elementwise, so outside mean-field theory). The names they share
 * mean the same function, one parser reads both (nninit_act_parse,
 * nninit_theory_act_parse) and nninit_theory_act_from_act maps this enum
 * onto the theory's. */
typedef enum nninit_act {
    NNINIT_ACT_LINEAR = 0, /* a = z */
    NNINIT_ACT_RELU,       /* max(z, 0) */
    NNINIT_ACT_LEAKY_RELU, /* z >= 0 ? z : alpha z; alpha default 0.2 (keras.activations.leaky_relu) */
    NNINIT_ACT_ELU,        /* z > 0 ? z : alpha (exp(z) - 1); alpha default 1 */
    NNINIT_ACT_SELU,       /* scale * elu(z, 1.6732632423543772), scale 1.0507009873554805 */
    NNINIT_ACT_GELU,       /* exact erf form z Phi(z) (Keras approximate=False, torch approximate='none') */
    NNINIT_ACT_SWISH,      /* z sigmoid(z), also called silu */
    NNINIT_ACT_TANH,
    NNINIT_ACT_SIGMOID,    /* 1 / (1 + exp(-z)) */
    NNINIT_ACT_SOFTMAX,    /* over each row */
    NNINIT_ACT_GELU_TANH,  /* tanh form 0.5 z (1 + tanh(sqrt(2/pi) (z + 0.044715 z^3))) (Keras gelu(approximate=True),
                              keras_hub's gelu_approximate, torch GELU(approximate='tanh')); named "gelu_tanh" */
    NNINIT_ACT_COUNT
} nninit_act;

NNINIT_API const char *nninit_act_name(nninit_act act); /* "relu", "leaky_relu", ... */
/* Parses "relu", "silu" (= swish), "leaky_relu", "leaky_relu(0.1)", "elu(0.5)"
 * ("alpha=0.1" and "negative_slope=0.1" inside the parentheses too). *alpha
 * gets the parameter or its default (0.2 leaky_relu, 1 elu, else 0). The
 * parameter may be any finite number, negative too, as torch.nn.LeakyReLU,
 * torch.nn.ELU and keras.activations accept it. nninit_theory_act_parse
 * follows the same rules (one parser). */
NNINIT_API nninit_status nninit_act_parse(const char *text, nninit_act *act, double *alpha, nninit_err *err);
/* a = act(z) on (rows, n); softmax is taken over each row of n. a may be z. */
NNINIT_API void nninit_act_forward(nninit_act act, double alpha, const float *z, float *a, int64_t rows,
                                   int64_t n);
/* dz = da * act'(z) (softmax: the row Jacobian-vector product), given z and
 * a = act(z) of the forward. dz may be da. */
NNINIT_API void nninit_act_backward(nninit_act act, double alpha, const float *z, const float *a,
                                    const float *da, float *dz, int64_t rows, int64_t n);

/*
 * Activations are shaped per sample (the batch axis is implicit and first):
 * (F) vectors, (T, F) sequences, (H, W, C) images (NHWC, channels last, as
 * Keras). Every layer's output shape is inferred when the net is built;
 * shapes that do not chain are refused there, naming the two layers.
 */
typedef enum nninit_layer_kind {
    NNINIT_LAYER_DENSE = 0,  /* y = act(x W + b) on the last axis of (F) or (T, F); W (in, out) whatever the layout */
    NNINIT_LAYER_ACTIVATION, /* y = act(x), any shape (softmax over the last axis) */
    NNINIT_LAYER_BATCHNORM,  /* per last-axis feature (per channel of an image) over the batch (and H, W or T) */
    NNINIT_LAYER_DROPOUT,    /* inverted dropout (scaled by 1/(1-rate) in training, identity in evaluation) */
    NNINIT_LAYER_CONV2D,     /* (H, W, Cin) -> (Ho, Wo, filters): act(conv(x, K) + b); K stored HWIO
                                (kh, kw, Cin/groups, filters), output channel o in group o / (filters/groups) */
    NNINIT_LAYER_MAXPOOL2D,  /* (H, W, C) -> (Ho, Wo, C), max over each window (padding never wins) */
    NNINIT_LAYER_AVGPOOL2D,  /* mean over each window's positions inside the image (Keras/TF 'same') */
    NNINIT_LAYER_GLOBAL_AVGPOOL2D, /* (H, W, C) -> (C) */
    NNINIT_LAYER_FLATTEN,    /* any shape -> (numel); order H, W, C (keras layout) or C, H, W (torch) */
    NNINIT_LAYER_ADD,        /* y = input_a + input_b (same shapes): the join of a residual block */
    NNINIT_LAYER_SCALE,      /* y = m x + c with trainable scalars m, c (Fixup's multiplier and biases,
                                SkipInit's alpha, ReZero's alpha): kernel_init -> m, bias_init -> c */
    NNINIT_LAYER_SIMPLE_RNN, /* (T, F) -> (T, units) or (units): Keras SimpleRNN (act tanh or relu) */
    NNINIT_LAYER_LSTM,       /* Keras LSTM, gates i, f, c, o; unit_forget_bias */
    NNINIT_LAYER_GRU,        /* Keras GRU, gates z, r, h; reset_after (default) or not */
    NNINIT_LAYER_EMBEDDING,  /* (T) token ids (floats holding integers in [0, vocab)) -> (T, units): rows of the
                                table "embeddings" (vocab, units); Keras Embedding, torch nn.Embedding */
    NNINIT_LAYER_POSITION_EMBEDDING, /* (T, F) -> (T, F): x[t] + table[t], table "embeddings" (vocab, F) with
                                vocab >= T the longest sequence (keras_hub PositionEmbedding, GPT-2's wpe) */
    NNINIT_LAYER_LAYER_NORM, /* over the last axis: norm 0 LayerNormalization / nn.LayerNorm (gamma, beta),
                                1 RMSNormalization (scale), 2 Keras LayerNormalization(rms_scaling=True) */
    NNINIT_LAYER_ATTENTION,  /* (T, d) -> (T, d): multi-head self-attention (causal or not), Keras
                                MultiHeadAttention kernels, or torch's packed in_proj under the torch layout */
    NNINIT_LAYER_TRANSFORMER, /* (T, d) -> (T, d): pre-LN block h = x + MHA(LN1 x); y = h + W2 gelu(W1 LN2 h + b1)
                                 + b2 (torch TransformerEncoderLayer(norm_first=True, activation='gelu')) */
    NNINIT_LAYER_KIND_COUNT
} nninit_layer_kind;

NNINIT_API const char *nninit_layer_kind_name(nninit_layer_kind kind); /* "dense", "conv2d", ... */

#define NNINIT_SPEC_MAX 512

typedef enum nninit_padding {
    NNINIT_PAD_VALID = 0, /* no padding: out = floor((in - dilation (k - 1) - 1) / stride) + 1 */
    NNINIT_PAD_SAME       /* out = ceil(in / stride); the total padding split with the extra on the
                             bottom/right (TensorFlow, and PyTorch's padding='same') */
} nninit_padding;

/* The input of a layer: NNINIT_INPUT_PREV (the layer before it; the network
 * input for the first), NNINIT_INPUT_NET (the network input), or the index
 * of an earlier layer. */
#define NNINIT_INPUT_PREV (-2)
#define NNINIT_INPUT_NET (-1)

/* One layer of a model description. Start from nninit_layer_desc_default. */
typedef struct nninit_layer_desc {
    nninit_layer_kind kind;
    int64_t units;                     /* dense: output width; conv2d: filters; embedding: width;
                                          transformer: d_ff (the MLP's hidden width) */
    int use_bias;                      /* dense, conv2d, scale (the scalar c): default 1 (scale: 0) */
    nninit_act act;                    /* dense, conv2d (applied after the bias) and activation layers */
    double alpha;                      /* act's parameter (see nninit_act_parse) */
    char kernel_init[NNINIT_SPEC_MAX]; /* dense, conv2d, attention, transformer: default "glorot_uniform"
                                          (Keras); scale: m, "ones"; embedding: "uniform" (Keras); the
                                          position embedding's table: "glorot_uniform" (keras_hub) */
    char bias_init[NNINIT_SPEC_MAX];   /* dense, conv2d, scale: default "zeros" */
    char gamma_init[NNINIT_SPEC_MAX];  /* batchnorm, layer_norm, transformer: default "ones" */
    char beta_init[NNINIT_SPEC_MAX];   /* batchnorm, layer_norm, transformer: default "zeros" */
    double momentum, epsilon;          /* batchnorm: default 0.99, 0.001 (Keras); epsilon also layer_norm,
                                          transformer (default 0.001, Keras; torch's LayerNorm 1e-5) */
    double rate;                       /* dropout: fraction dropped in [0, 1) */
    int64_t kernel[2];                 /* conv2d kernel, pooling window (rows, cols); default 3x3 / 2x2 */
    int64_t strides[2];                /* conv2d default 1x1; pooling: 0 = the window (Keras) */
    int64_t dilation[2];               /* conv2d, default 1x1 */
    nninit_padding padding;            /* conv2d, pooling; default valid */
    int64_t groups;                    /* conv2d: default 1; = input channels for depthwise */
    char recurrent_init[NNINIT_SPEC_MAX]; /* recurrent layers: default "orthogonal" (Keras) */
    int return_sequences;              /* recurrent layers: 1 = every step's state, 0 (default) = the last */
    int unit_forget_bias;              /* lstm: default 1 (forget-gate bias block set to ones, as Keras) */
    int reset_after;                   /* gru: default 1 (Keras 3) */
    int64_t depth_multiplier;          /* conv2d: > 0 makes it depthwise (Keras DepthwiseConv2D): groups =
                                          input channels, filters = channels * depth_multiplier, at build */
    int input[2];                      /* NNINIT_INPUT_PREV (default), NNINIT_INPUT_NET or a layer index;
                                          input[1]: the second addend of an add layer */
    int64_t vocab;                     /* embedding: input_dim (ids 0 .. vocab-1); position_embedding: the
                                          table's rows (the longest sequence) */
    int64_t heads, key_dim;            /* attention, transformer: heads (default 1), per-head width (0: d / heads) */
    int causal;                        /* attention, transformer: step t sees steps <= t (default 0) */
    int norm;                          /* layer_norm: 0 layer (default), 1 RMS, 2 Keras rms_scaling */
    int scale;                         /* layer_norm: learn gamma (default 1); use_bias: learn beta (center) */
    int64_t padding_idx;               /* embedding: this row is zero at init and gets no gradient (torch
                                          nn.Embedding(padding_idx=...)); -1 (default): none */
} nninit_layer_desc;

NNINIT_API nninit_layer_desc nninit_layer_desc_default(nninit_layer_kind kind);

/* Net descriptions (nninit_net_desc_*): a network's layer list, what
 * nninit_net_new builds. Not a "model" in nninit_model.h's sense (a list of
 * tensors with initializers, written to files).
 * A multilayer perceptron recipe, expanded by nninit_net_desc_mlp into layers:
 * for each hidden width: dense (act fused, or linear then batchnorm then
 * an activation layer when bn), then dropout when dropout > 0; then a dense
 * output layer of n_outputs units with out_act. */
typedef struct nninit_mlp_desc {
    int n_hidden;
    const int64_t *hidden;  /* borrowed widths */
    int64_t n_outputs;      /* default 10 */
    nninit_act act;         /* default relu */
    double alpha;
    nninit_act out_act;     /* default linear (the loss takes logits) */
    const char *kernel_init, *bias_init; /* NULL: the layer defaults */
    int bn;
    double dropout;
} nninit_mlp_desc;

NNINIT_API nninit_mlp_desc nninit_mlp_desc_default(void);
/* *layers is malloc'd (free with nninit_free), *n_layers its length. */
NNINIT_API nninit_status nninit_net_desc_mlp(const nninit_mlp_desc *mlp, nninit_layer_desc **layers,
                                             int *n_layers, nninit_err *err);
/*
 * Parses a model description in JSON: a Keras Sequential or Functional
 * model (model.to_json(), or a .keras archive's config.json), or nninit's
 * layer list: an array of layers or an object {"layers": [...]}. A layer is
 *   {"class_name": "Dense", "config": {"units": 256, "activation": "relu",
 *    "kernel_initializer": "he_normal", "bias_initializer": "zeros", "use_bias": true}}
 * or the same keys flat. Classes (case-insensitive, snake_case too): Dense,
 * Activation, BatchNormalization, Dropout, Conv2D, DepthwiseConv2D,
 * MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D, Flatten, Add,
 * Scale (nninit's: y = m x + c, "multiplier_initializer" default "ones",
 * "bias_initializer" with "use_bias": true), SimpleRNN, LSTM, GRU, Embedding,
 * PositionEmbedding, LayerNormalization, RMSNormalization, MultiHeadAttention
 * (self-attention; causal from the call's use_causal_mask or "causal"),
 * TransformerBlock (nninit's pre-LN block), InputLayer (its batch_shape
 * gives the input shape). Graphs: a Keras Functional model's inbound_nodes,
 * or in the layer list a "name" on a layer and "inputs": ["name", ...] on a
 * later one ("input" is the network input; the default is the layer
 * before), e.g. a residual block
 *   [{"class_name": "Conv2D", "name": "c1", "filters": 16, "kernel_size": 3,
 *     "padding": "same", "activation": "relu"},
 *    {"class_name": "Conv2D", "name": "c2", "filters": 16, "kernel_size": 3, "padding": "same"},
 *    {"class_name": "Add", "inputs": ["c1", "c2"]}]
 * Initializers are SPEC strings or Keras serialized objects. Unknown keys are
 * an error (a typo must not silently change the model); Keras bookkeeping
 * keys (name, trainable, dtype, ...) are ignored; an unsupported class is
 * refused naming it and the supported set. *layers: free with nninit_free.
 */
NNINIT_API nninit_status nninit_net_desc_parse_json(const char *text, nninit_layer_desc **layers,
                                                    int *n_layers, nninit_err *err);

/* Reads a PyTorch module recipe, the syntax of `nninit model --torch`
 * ("Sequential(Conv2d(1, 16, 3, padding=1), ReLU(), ...)"), as a forward
 * pass: Sequential in order; Linear, Conv2d (padding 0, 'same', or for
 * stride 1 dilation (k - 1) / 2), MaxPool2d, AvgPool2d, AdaptiveAvgPool2d(1),
 * Flatten, Dropout, Identity, BatchNorm1d/2d, LayerNorm, Embedding, RNN,
 * LSTM, GRU (batch_first=True; num_layers stacked; their output is the
 * whole sequence), MultiheadAttention (batch_first=True; self-attention),
 * TransformerEncoderLayer (dropout=0.0, activation='gelu', batch_first=True,
 * norm_first=True) and the activation modules; and nninit's wrappers,
 * written as a module of your own with one attribute so that
 * `nninit model --torch` names and draws their tensors as PyTorch does for
 * such a class:
 *   Residual(body=M)                x + M(x)
 *   LastStep(rnn=LSTM(...))         the last step of the recurrent output
 *   Positions(wpe=Embedding(T, d))  x + wpe.weight[t], learned positions
 *   Causal(block=M)                 M (MultiheadAttention or
 *                                   TransformerEncoderLayer) with the causal mask
 * Build it with nninit_net_opts.layout = NNINIT_LAYOUT_TORCH: the tensors then
 * come in the recipe's state_dict order and PyTorch's layouts (gates
 * i, f, g, o and r, z, n, bias_ih and bias_hh). The input shape comes from
 * the data. Embedding's padding_idx sets nninit_layer_desc.padding_idx. An
 * argument training would ignore (dropout inside a module, bidirectional,
 * max_norm, ...) is refused naming it. *layers: free with nninit_free. */
NNINIT_API nninit_status nninit_net_desc_parse_torch(const char *recipe, nninit_layer_desc **layers,
                                                     int *n_layers, nninit_err *err);

/* The same, also giving the declared input shape per sample (*input ndim 0
 * when the description declares none) and whether it is a Keras model
 * (Sequential/Functional: *keras = 1; its variables then come in Keras'
 * order: per layer with weights kernel, bias; gamma, beta, moving_mean,
 * moving_variance). input and keras may be NULL. */
NNINIT_API nninit_status nninit_net_desc_parse_json_shaped(const char *text, nninit_layer_desc **layers,
                                                           int *n_layers, nninit_shape *input, int *keras,
                                                           nninit_err *err);

typedef struct nninit_net nninit_net;

typedef struct nninit_net_opts {
    uint64_t seed;        /* initializers and dropout masks; default NNINIT_DEFAULT_SEED */
    nninit_layout layout; /* fans and element order of the kernel fill; default keras */
} nninit_net_opts;

NNINIT_API nninit_net_opts nninit_net_opts_default(void);

/*
 * Builds a network for inputs of n_inputs features. Each tensor is filled by
 * nninit_fill with a Philox generator of opts->seed and the stream
 * nninit_stream_from_name("<layer>/<tensor>"), e.g. "dense_0/kernel",
 * "dense_0/bias", "batch_normalization_0/gamma" (layer names count per kind
 * from 0). Under the torch layout a dense kernel is filled as (out, in) and a
 * conv2d kernel as (out, in/groups, kh, kw), then transposed into the
 * engine's (in, out) and HWIO. Free with nninit_net_free.
 * NNINIT_EINVAL (bad description or initializer, shapes that do not chain:
 * the message names both layers), NNINIT_ENOTFOUND, NNINIT_ENOMEM.
 */
NNINIT_API nninit_status nninit_net_new(int64_t n_inputs, const nninit_layer_desc *layers, int n_layers,
                                        const nninit_net_opts *opts, nninit_net **out, nninit_err *err);
/* The same for inputs of a per-sample shape: {1, {F}}, {2, {T, F}} or
 * {3, {H, W, C}}. Inputs are still passed as (batch, numel) rows, each the
 * row-major sample (an NHWC image's pixels row by row, channels innermost).
 * Example, a small CNN for 28x28 grey images:
 *   nninit_layer_desc L[4];
 *   L[0] = nninit_layer_desc_default(NNINIT_LAYER_CONV2D);    L[0].units = 16; L[0].act = NNINIT_ACT_RELU;
 *   L[1] = nninit_layer_desc_default(NNINIT_LAYER_MAXPOOL2D);
 *   L[2] = nninit_layer_desc_default(NNINIT_LAYER_FLATTEN);
 *   L[3] = nninit_layer_desc_default(NNINIT_LAYER_DENSE);     L[3].units = 10;
 *   nninit_shape in = {3, {28, 28, 1}};
 *   nninit_net_new_shaped(&in, L, 4, NULL, &net, &err);
 * A residual block is an add layer whose input[0] and input[1] name the
 * block's input (an earlier layer) and its last layer. */
NNINIT_API nninit_status nninit_net_new_shaped(const nninit_shape *input, const nninit_layer_desc *layers,
                                               int n_layers, const nninit_net_opts *opts, nninit_net **out,
                                               nninit_err *err);
NNINIT_API void nninit_net_free(nninit_net *net);

NNINIT_API int nninit_net_n_layers(const nninit_net *net);
NNINIT_API int64_t nninit_net_n_inputs(const nninit_net *net);  /* numel of one sample */
NNINIT_API int64_t nninit_net_n_outputs(const nninit_net *net);
NNINIT_API int64_t nninit_net_n_params(const nninit_net *net); /* trainable scalars */
NNINIT_API nninit_shape nninit_net_input_shape(const nninit_net *net);

typedef struct nninit_layer_info {
    nninit_layer_kind kind;
    const char *name;     /* "dense_0"; lives as long as the net */
    int64_t n_in, n_out;  /* numel of one sample's input and output */
    nninit_act act;
    double alpha;
    int n_params;         /* 0 .. 16 (dense 1 or 2, attention 4 or 8, transformer 12 or 16) */
    nninit_shape in_shape, out_shape; /* per sample */
    int input[2];         /* resolved: NNINIT_INPUT_NET or a layer index; input[1] -1 unless add */
} nninit_layer_info;

NNINIT_API nninit_status nninit_net_layer_info(const nninit_net *net, int layer, nninit_layer_info *info,
                                               nninit_err *err);

/*
 * Runs the network on x (batch, n_inputs), borrowed until the next forward.
 * training = 1 uses batch statistics and dropout (drawing a fresh mask),
 * 0 running statistics and no dropout. *out (may be NULL) gets the output
 * (batch, n_outputs), valid until the next forward or free. NNINIT_EINVAL
 * (batch < 1), NNINIT_ENOMEM.
 */
NNINIT_API nninit_status nninit_net_forward(nninit_net *net, const float *x, int64_t batch, int training,
                                            const float **out, nninit_err *err);
/*
 * Back-propagates dout (batch, n_outputs) = dLoss/dOutput through the last
 * forward: overwrites every parameter gradient and every layer's input
 * gradient; the first layer's input gradient only when want_input_grad
 * (it costs one more product). NNINIT_EMISUSE without a forward.
 */
NNINIT_API nninit_status nninit_net_backward(nninit_net *net, const float *dout, int want_input_grad,
                                             nninit_err *err);

/* Views of one layer's tensors in the last forward/backward. */
typedef enum nninit_tensor_role {
    NNINIT_T_INPUT = 0,   /* the layer's input (batch, n_in) */
    NNINIT_T_PREACT,      /* dense: x W + b; batchnorm: xhat; others: the output */
    NNINIT_T_OUTPUT,      /* (batch, n_out): the activation for a dense layer */
    NNINIT_T_GRAD_INPUT,  /* dLoss/dInput (batch, n_in) */
    NNINIT_T_GRAD_PREACT, /* dense: dLoss/dPreact (the output gradient when linear); others: NULL */
    NNINIT_T_GRAD_OUTPUT  /* dLoss/dOutput (batch, n_out) */
} nninit_tensor_role;

/* The tensor (row-major, *rows = batch, *cols), valid until the next forward,
 * backward or free; NULL (and 0 rows) if not computed yet or not available. */
NNINIT_API const float *nninit_net_tensor(const nninit_net *net, int layer, nninit_tensor_role role, int64_t *rows,
                                          int64_t *cols);
/* dLoss/dx (batch, n_inputs) of the last backward run with want_input_grad:
 * the sum over every layer that reads the network input (a residual block
 * at the input has two readers). NULL otherwise; valid as nninit_net_tensor. */
NNINIT_API const float *nninit_net_input_grad(const nninit_net *net, int64_t *rows, int64_t *cols);

/* Parameter `which` of a layer: dense 0 kernel (in, out), 1 bias (out);
 * recurrent layers 0 kernel (in, G units), 1 recurrent kernel (units,
 * G units), 2 bias (G units; GRU with reset_after (2, 3 units)), Keras
 * layouts; built under the torch layout: 0 weight_ih (G units, in), 1
 * weight_hh (G units, units), 2 bias_ih, 3 bias_hh (torch's gate order);
 * embedding, position_embedding 0 the table; layer_norm gamma, beta (those present);
 * attention (Keras layout) query, key, value kernels (d, heads key_dim) and biases, output kernel
 * (heads key_dim, d) and bias, interleaved kernel, bias; (torch layout) in_proj_weight (3 d, d),
 * in_proj_bias, out_proj.weight (d, d), out_proj.bias; transformer (Keras layout) ln1 gamma, beta,
 * the 8 attention tensors, ln2 gamma, beta, W1 (d, d_ff), b1, W2 (d_ff, d), b2; (torch layout)
 * TransformerEncoderLayer's state_dict order (self_attn's 4, linear1, linear2, norm1, norm2);
 * conv2d 0 kernel (kh, kw, in/groups, filters), 1 bias; batchnorm 0 gamma,
 * 1 beta; scale 0 the multiplier m, 1 the bias c (both shape (1)). *value may be written (for example by a
 * data-dependent init); *grad holds the gradient of the last nninit_net_backward.
 * nninit_train with plain momentum SGD (momentum > 0, no Nesterov, no
 * clip_norm) adds a dense kernel's gradient straight into its momentum buffer
 * (one product, no separate gradient pass) and writes that kernel's *grad only
 * on the steps its monitor reads (monitor_every); other tensors' *grad hold
 * the last step's gradient. Pointers live as long as the net; any output
 * pointer may be NULL.
 * NNINIT_EINVAL if the layer has no such parameter. */
NNINIT_API nninit_status nninit_net_param(nninit_net *net, int layer, int which, float **value, float **grad,
                                          nninit_shape *shape, const char **name, nninit_err *err);

/* Sets parameter `which` of a layer from src given in a framework's layout:
 * keras = the engine's ((in, out), HWIO); torch = (out, in) for a dense
 * kernel, (out, in/groups, kh, kw) for a conv2d kernel, transposed here;
 * every other tensor is taken as stored (its layout is the same in both, or
 * the layer was built under the torch layout and holds PyTorch's).
 * NNINIT_EINVAL if the layer has no such parameter. */
NNINIT_API nninit_status nninit_net_set_param(nninit_net *net, int layer, int which, const float *src,
                                              nninit_layout layout, nninit_err *err);
/* The inverse: copies parameter `which` into dst in a framework's layout. */
NNINIT_API nninit_status nninit_net_get_param(nninit_net *net, int layer, int which, float *dst,
                                              nninit_layout layout, nninit_err *err);

/* Non-trained state of a layer: batchnorm 0 the running mean, 1 the running
 * variance (one value per feature/channel). For loading a model's values. */
NNINIT_API nninit_status nninit_net_state(nninit_net *net, int layer, int which, float **value, int64_t *n,
                                          nninit_err *err);

typedef enum nninit_loss_kind {
    NNINIT_LOSS_SOFTMAX_CE = 0, /* mean over rows of -log softmax(out)[label] (out are logits) */
    NNINIT_LOSS_MSE             /* mean over all elements of (out - target)^2 (Keras) */
} nninit_loss_kind;

NNINIT_API const char *nninit_loss_name(nninit_loss_kind kind); /* "softmax_cross_entropy", "mse" */
NNINIT_API nninit_status nninit_loss_parse(const char *name, nninit_loss_kind *out, nninit_err *err);

/*
 * Loss of out (batch, n) against labels (batch) in [0, n) or, for MSE,
 * targets (batch, n) (when targets is NULL, one-hot rows of labels).
 * dout (may be NULL) gets dLoss/dout (batch, n). The sum is in double,
 * in row order. NNINIT_EINVAL for a label outside [0, n).
 */
NNINIT_API nninit_status nninit_loss(nninit_loss_kind kind, const float *out, int64_t batch, int64_t n,
                                     const int32_t *labels, const float *targets, double *loss, float *dout,
                                     nninit_err *err);

typedef enum nninit_optimizer { NNINIT_OPT_SGD = 0, NNINIT_OPT_ADAM } nninit_optimizer;
typedef enum nninit_schedule {
    NNINIT_SCHED_CONSTANT = 0,
    NNINIT_SCHED_STEP,  /* lr * gamma^floor(epoch / step_epochs) */
    NNINIT_SCHED_COSINE /* lr_min + (lr - lr_min) (1 + cos(pi step / total_steps)) / 2, per step */
} nninit_schedule;

NNINIT_API const char *nninit_optimizer_name(nninit_optimizer o); /* "sgd", "adam" */
NNINIT_API nninit_status nninit_optimizer_parse(const char *name, nninit_optimizer *out, nninit_err *err);
NNINIT_API const char *nninit_schedule_name(nninit_schedule s); /* "constant", "step", "cosine" */
NNINIT_API nninit_status nninit_schedule_parse(const char *name, nninit_schedule *out, nninit_err *err);

/*
 * Optimizer rules, those of torch.optim (so a PyTorch run of the same recipe
 * is comparable step for step), with weight decay coupled (g += wd * w, on
 * every parameter, as torch.optim.SGD/Adam's weight_decay):
 *   sgd   v = momentum v + g; w -= lr (nesterov ? g + momentum v : v)
 *   adam  m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
 *         w -= lr (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps)
 * Gradient-norm clipping (clip_norm) comes first, on the gradients of the
 * backward, as torch.nn.utils.clip_grad_norm_ called before optimizer.step();
 * weight decay is added after it (torch adds it inside step()).
 */
typedef struct nninit_optim_opts {
    nninit_optimizer kind;  /* default sgd */
    double lr;              /* default 0.01 */
    double momentum;        /* sgd, default 0 */
    int nesterov;
    double weight_decay;    /* default 0 */
    double beta1, beta2, eps; /* adam: 0.9, 0.999, 1e-8 (torch) */
    double clip_norm;       /* > 0: before the step, every gradient is multiplied by
                               min(1, clip_norm / (||g|| + 1e-6)), ||g|| the L2 norm over all
                               parameters' gradients together (torch.nn.utils.clip_grad_norm_);
                               default 0: off */
} nninit_optim_opts;

NNINIT_API nninit_optim_opts nninit_optim_opts_default(void);

/* One optimizer step on every parameter with the gradients of the last
 * backward, at learning rate lr (opts->lr is ignored here; the schedule
 * decides). The optimizer state lives in the net. NNINIT_EMISUSE without a
 * backward, NNINIT_EINVAL for bad options, NNINIT_ENOMEM. */
NNINIT_API nninit_status nninit_net_step(nninit_net *net, const nninit_optim_opts *opts, double lr,
                                         nninit_err *err);

/* Learning rate at optimizer step `step` (0-based) of total_steps, with
 * steps_per_epoch steps an epoch. */
NNINIT_API double nninit_schedule_lr(nninit_schedule s, double lr, double lr_min, int step_epochs, double gamma,
                                     int64_t step, int64_t steps_per_epoch, int64_t total_steps);

/* ---- training ---- */

typedef struct nninit_epoch_stats {
    int epoch;               /* 1-based */
    double train_loss, train_acc; /* running means over the epoch's training batches */
    double val_loss, val_acc;     /* NaN without a validation set */
    double test_loss, test_acc;   /* NaN without a test set */
    double seconds;          /* wall time of the training pass (shuffle, forward, backward, step) */
    double cpu_seconds;      /* CPU time of the process over the same pass (all threads) */
    double eval_seconds;     /* evaluation of val and test */
    double lr;               /* at the epoch's last step */
} nninit_epoch_stats;

/* One layer's training dynamics at one step (nninit_train_opts.monitor_every). */
typedef struct nninit_layer_stats {
    int layer;
    const char *name;        /* lives as long as the net */
    double act_mean, act_var; /* of the layer's output over the batch (training mode) */
    double frac_dead;        /* relu-family activations: fraction of output features (channels of an image)
                                that are <= 0 on every row of the batch; NaN for other layers */
    double frac_saturated;   /* tanh: |a| > 0.99, sigmoid: a < 0.01 or > 0.99, fraction of values; else NaN */
    double grad_norm;        /* L2 norm of the layer's parameter gradients; NaN without parameters */
    double weight_norm;      /* L2 norm of its parameters after the step */
    double update_ratio;     /* ||w_after - w_before|| / ||w_before|| of this step (NaN if w_before = 0) */
} nninit_layer_stats;

typedef struct nninit_train_opts {
    nninit_optim_opts optim;
    nninit_loss_kind loss;     /* default softmax cross-entropy */
    nninit_schedule schedule;  /* default constant */
    int step_epochs;           /* step schedule: default 1/3 of epochs (>= 1) when 0 */
    double step_gamma;         /* step schedule: default 0.1 */
    double lr_min;             /* cosine: default 0 */
    int64_t batch;             /* default 128; the last short batch of an epoch is used */
    int epochs;                /* default 10 */
    uint64_t seed;             /* data order; default NNINIT_DEFAULT_SEED */
    int threads;               /* BLAS threads (process-wide setting); 0 = leave as is */
    int64_t eval_batch;        /* default 1000 */
    /* Every monitor_every optimizer steps (0 = never), after the step:
     * on_monitor gets one entry per layer and the batch's loss. */
    int monitor_every;
    void (*on_monitor)(int epoch, int64_t step, double loss, const nninit_layer_stats *stats, int n_layers,
                       void *user);
    /* Called after every epoch and every step; NULL = silent. */
    void (*on_epoch)(const nninit_epoch_stats *stats, void *user);
    void (*on_step)(int epoch, int64_t step, int64_t n_steps, void *user);
    void *user;
} nninit_train_opts;

NNINIT_API nninit_train_opts nninit_train_opts_default(void);

/*
 * Trains net on train for opts->epochs epochs (reshuffled each epoch with
 * nninit_permutation(seed, stream epoch)), evaluating val and test (each may
 * be NULL) after every epoch. history (may be NULL) gets opts->epochs
 * entries. A non-finite batch loss stops with NNINIT_ENUMERIC and the message
 * "diverged at epoch E, step S: loss is nan; ..." (history holds the
 * finished epochs). NNINIT_EINVAL for bad options or data that do not fit.
 */
NNINIT_API nninit_status nninit_train(nninit_net *net, const nninit_dataset *train, const nninit_dataset *val,
                                      const nninit_dataset *test, const nninit_train_opts *opts,
                                      nninit_epoch_stats *history, nninit_err *err);

/* Mean loss and accuracy of net on d in evaluation mode, batch rows at a time. */
NNINIT_API nninit_status nninit_evaluate(nninit_net *net, const nninit_dataset *d, nninit_loss_kind loss,
                                         int64_t batch, double *mean_loss, double *accuracy, nninit_err *err);

/* OpenBLAS threads for this process (openblas_set_num_threads: process-wide
 * state of OpenBLAS, not of nninit). n < 1 means all online CPUs. */
NNINIT_API void nninit_blas_set_threads(int n);
NNINIT_API int nninit_blas_get_threads(void);


/* ------------------------------------------------------------------------ */
/* Data-dependent initialization                                             */
/* ------------------------------------------------------------------------ */

typedef struct nninit_lsuv_opts {
    double target_var; /* default 1 */
    double tol;        /* stop when |Var(x W + b) - target| < tol; default 0.01 */
    int max_iters;     /* rescalings per layer, default 10 */
} nninit_lsuv_opts;

NNINIT_API nninit_lsuv_opts nninit_lsuv_opts_default(void);

typedef struct nninit_lsuv_layer {
    int layer;
    int is_dense;      /* 1: a dense or conv2d layer, rescaled; 0: not rescaled (activation, batchnorm, ...) */
    double var_before, var_after; /* of the layer's x W + b on the batch */
    int iters;         /* rescalings applied */
    double scale;      /* product of the factors applied to the kernel */
} nninit_lsuv_layer;

/*
 * LSUV (Mishkin & Matas 2016): from the kernels the net already has (the
 * paper starts from orthogonal ones), rescale each dense or conv2d kernel in
 * order until the variance of its pre-activation x W + b on the batch x
 * (batch, n_inputs) is within tol of target_var; forward passes run in
 * evaluation mode. report (may be NULL) gets nninit_net_n_layers entries
 * (up to the failing layer on an error); layers of other kinds are left
 * alone (is_dense 0). NNINIT_EINVAL (options, batch < 2), NNINIT_ENUMERIC (a
 * zero or non-finite variance: e.g. a zero-initialized layer cannot be
 * rescaled; or a layer still not within tol after max_iters rescalings: the
 * paper's loop ends converged only by the tolerance). On any error every
 * kernel is as it was before the call.
 */
NNINIT_API nninit_status nninit_lsuv(nninit_net *net, const float *x, int64_t batch, const nninit_lsuv_opts *opts,
                                     nninit_lsuv_layer *report, nninit_err *err);

typedef struct nninit_wn_init_opts {
    double scale;         /* the std every unit ends at (OpenAI weightnorm's init_scale); default 1 */
    double min_std_ratio; /* a unit whose std on the batch is <= min_std_ratio times its root mean
                             square has no variance to standardize (dead, constant, or only float
                             rounding left): an error; default 1e-4 */
} nninit_wn_init_opts;

NNINIT_API nninit_wn_init_opts nninit_wn_init_opts_default(void);

typedef struct nninit_wn_init_layer {
    int layer;
    int applied;          /* 1: a dense or conv2d layer, standardized; 0: no kernel (activation, pooling, ...) */
    int64_t units;        /* output units (dense) or filters (conv2d) */
    double mean_before_max_abs; /* max over units of |mean| of the pre-activation on the batch, before */
    double std_before_min, std_before_max; /* min, max over units of its std, before */
    double std_after_min, std_after_max;   /* the same after, from a fresh forward pass */
} nninit_wn_init_layer;

/*
 * Weight normalization's data-dependent init (Salimans & Kingma 2016, sec.
 * 3): layer by layer in forward order, every unit's pre-activation
 * t = x v + b on the batch x (batch, n_inputs) gets mean 0 and std `scale`:
 * with mu, sigma its mean and std over the batch (and, for conv2d and for
 * dense on sequences, over every position), the kernel column becomes
 * v scale / sigma and the bias (b - mu) scale / sigma, which is the paper's
 * g = scale / sigma(x v / ||v||), b = -mu(x v) scale / sigma(x v) written
 * into the plain weights (the function at init is the same; nothing is
 * reparameterized). Forward passes run in evaluation mode. Layers without a
 * kernel (activation, dropout, pooling, flatten, add, batchnorm, layer_norm,
 * scale) pass through; recurrent, embedding, attention and transformer
 * layers are refused by name, as is a dense or conv2d layer without a bias.
 * report (may be NULL) gets nninit_net_n_layers entries.
 * NNINIT_EINVAL (options, batch < 2, a refused layer), NNINIT_ENUMERIC
 * ("wn_init: layer 3 (dense_3), unit 17: no variance on the batch ...").
 *
 *   nninit_wn_init_opts o = nninit_wn_init_opts_default();
 *   nninit_wn_init_layer rep[8];                 // nninit_net_n_layers(net) entries
 *   if (nninit_wn_init(net, x, 512, &o, rep, &err) != NNINIT_OK)
 *       fprintf(stderr, "%s\n", err.msg);
 *   // every unit of rep[l].applied layers now has mean 0, std 1 on those 512 rows
 */
NNINIT_API nninit_status nninit_wn_init(nninit_net *net, const float *x, int64_t batch,
                                        const nninit_wn_init_opts *opts, nninit_wn_init_layer *report,
                                        nninit_err *err);

#ifdef __cplusplus
}
#endif
#endif /* NNINIT_NN_H */
