/*
 * nninit_model.h: whole models (the model layer): PyTorch module recipes,
 * Keras model JSON and nninit specs as lists of tensors with initializers,
 * generated and written to tensor files.
 *
 * Example, a whole program (tests/cli/header_examples.sh extracts, compiles
 * and runs it, and compares its output with the lines after "Prints:"):
 *
 *     #include <stdio.h>
 *     #include <stdlib.h>
 *     #include "nninit_model.h"
 *
 *     int main(void)
 *     {
 *         // the tensors of a PyTorch recipe, drawn as torch.manual_seed(0) would
 *         nninit_model *m = NULL;
 *         nninit_rng *rng = NULL;
 *         void *out[4] = {NULL};
 *         nninit_err err = {0};
 *         int ok = nninit_model_from_torch("Sequential(Linear(3, 2), ReLU(), Linear(2, 1))", &m, &err) == NNINIT_OK &&
 *                  nninit_rng_new(NNINIT_RNG_TORCH, 0, &rng, &err) == NNINIT_OK && nninit_model_count(m) == 4;
 *         for (size_t i = 0; ok && i < 4; i++) {
 *             nninit_model_tensor buf;
 *             const nninit_model_tensor *t = nninit_model_tensor_at(m, i, &buf);
 *             int64_t numel = 0;
 *             ok = nninit_shape_numel(&t->shape, &numel, &err) == NNINIT_OK &&
 *                  (out[i] = malloc((size_t)numel * sizeof(float))) != NULL;
 *             if (ok)
 *                 printf("%s %s\n", t->name, t->spec);
 *         }
 *         ok = ok && nninit_model_fill(m, rng, NULL, NNINIT_F32, 1, out, &err) == NNINIT_OK;
 *         if (ok)
 *             printf("0.weight[0] = %.4f\n", ((float *)out[0])[0]);
 *         else
 *             fprintf(stderr, "%s\n", err.msg[0] ? err.msg : "out of memory");
 *         for (size_t i = 0; i < 4; i++)
 *             free(out[i]);
 *         nninit_rng_free(rng);
 *         nninit_model_free(m);
 *         return ok ? 0 : 1;
 *     }
 *
 * Prints:
 *
 *     0.weight kaiming_uniform_(a=math.sqrt(5))
 *     0.bias uniform_(a=-1/sqrt(3), b=1/sqrt(3))
 *     2.weight kaiming_uniform_(a=math.sqrt(5))
 *     2.bias uniform_(a=-1/sqrt(2), b=1/sqrt(2))
 *     0.weight[0] = -0.0043
 */
#ifndef NNINIT_MODEL_H
#define NNINIT_MODEL_H

#include "nninit.h"
#include "nninit_io.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Whole models: Keras model JSON, PyTorch module recipes, nninit specs      */
/* ------------------------------------------------------------------------ */

/* The tensors of a model, each with its initializer, in the order the
 * framework lists them (PyTorch state_dict order; Keras variable order). */
typedef struct nninit_model nninit_model;

typedef struct nninit_model_tensor {
    const char *name;        /* "0.weight", "dense/kernel"; lives until nninit_model_free */
    nninit_shape shape;
    nninit_layout layout;
    nninit_init init;
    const char *spec;        /* the initializer as written in the source */
    int is_int64;            /* an int64 counter of zeros (BatchNorm num_batches_tracked) */
} nninit_model_tensor;

/*
 * A PyTorch module recipe such as
 *   Sequential(Linear(784, 256), ReLU(), Linear(256, 10))
 * with Linear, Bilinear, Conv1d/2d/3d, ConvTranspose1d/2d/3d, Embedding,
 * EmbeddingBag, RNN, LSTM (proj_size), GRU, RNNCell, LSTMCell, GRUCell, BatchNorm1d/2d/3d, InstanceNorm1d/2d/3d, GroupNorm,
 * LayerNorm, PReLU, MultiheadAttention, TransformerEncoderLayer,
 * TransformerDecoderLayer, TransformerEncoder/Decoder (one layer deep-copied:
 * every layer starts equal, as in torch 1.13), Transformer (xavier_uniform_
 * over every weight after construction), nested Sequential (also of an OrderedDict),
 * ModuleList, ModuleDict, a user's module as Net(attr=Module(...), ...),
 * and parameter-free modules (ReLU, Dropout, Flatten, ...); # comments.
 * Arguments are positional or keyword, as in PyTorch 1.13; each module's
 * reset_parameters defaults and state_dict names apply.
 * NNINIT_EINVAL with the position of the first problem.
 */
NNINIT_API nninit_status nninit_model_from_torch(const char *recipe, nninit_model **out, nninit_err *err);

/* A Keras 3 model JSON (model.to_json(), or config.json of a .keras file):
 * Sequential or Functional. Every *_initializer is taken as written. */
NNINIT_API nninit_status nninit_model_from_keras(const char *json, nninit_model **out, nninit_err *err);
/* The same from a file: model JSON, or a .keras archive (its config.json). */
NNINIT_API nninit_status nninit_model_from_keras_file(const char *path, nninit_model **out, nninit_err *err);
/* Build rules follow the newest Keras (3.16) unless the model records an older one: "keras_version" in
 * the JSON (Keras 2) or in a .keras archive's metadata.json. Where they changed: before 3.15, EinsumDense
 * (MultiHeadAttention's query/key/value/attention_output) kernels got fans from the generic rank rule;
 * from 3.15 a VarianceScaling-family initializer gets the einsum's input/output axes. keras_version
 * ("3.14", NULL = as recorded) overrides the recorded version. */
NNINIT_API nninit_status nninit_model_from_keras_file_as(const char *path, const char *keras_version,
                                                         nninit_model **out, nninit_err *err);

/* nninit's own model spec:
 *   {"layout": "keras", "tensors": [{"name": "w", "shape": [784, 256],
 *    "init": "he_normal", "layout": "torch"}, ...],
 *    "overrides": {"w": "zeros"}}
 * "init" is any nninit_init_parse SPEC (string or Keras JSON object).
 * Or a PyTorch recipe with overrides (what nninit advise --fix writes):
 *   {"torch": "Sequential(Linear(4, 2), ReLU())", "overrides": {"0.weight": "kaiming_normal_"}}
 * which is the recipe's model (names, draws, layer metadata) with those
 * tensors' initializers replaced. */
NNINIT_API nninit_status nninit_model_from_spec(const char *json, nninit_model **out, nninit_err *err);

/* A synthetic layout from a model family and its sizes, for tests and
 * benchmarks (no framework needed):
 *   "gpt:layers=L,d_model=D,heads=H[,vocab=50257][,ctx=1024][,ffn=4D]"
 * GPT-2 as Hugging Face's GPT2Model names it (wte, wpe, h.I.ln_1, attn.c_attn,
 * attn.c_proj, ln_2, mlp.c_fc, mlp.c_proj, ln_f; Conv1D weights (in, out);
 * the LM head tied to wte) with GPT-2's init: weights N(0, 0.02), residual
 * projections (c_proj) N(0, 0.02/sqrt(2L)), biases zeros, layer norms ones
 * and zeros. "gpt:layers=32,d_model=4096,heads=32,ctx=2048" has 6.7 B
 * parameters. NNINIT_EINVAL naming an unknown family or parameter. */
NNINIT_API nninit_status nninit_model_from_family(const char *text, nninit_model **out, nninit_err *err);

NNINIT_API void nninit_model_free(nninit_model *m);
NNINIT_API size_t nninit_model_count(const nninit_model *m);
/* Tensor i (0 <= i < count) or NULL. */
NNINIT_API const nninit_model_tensor *nninit_model_tensor_at(const nninit_model *m, size_t i, nninit_model_tensor *buf);

/* What a tensor is to its layer (what nninit advise reads; nninit model
 * output does not depend on it). */
typedef enum nninit_model_role {
    NNINIT_ROLE_OTHER = 0,
    NNINIT_ROLE_KERNEL,           /* Dense/Conv kernel (also depthwise, pointwise), Linear/Conv weight,
                                     an RNN's input kernel (weight_ih) */
    NNINIT_ROLE_BIAS,             /* the bias beside a kernel (RNN: Keras bias, torch bias_ih) */
    NNINIT_ROLE_RECURRENT_KERNEL, /* Keras recurrent_kernel, torch weight_hh */
    NNINIT_ROLE_RECURRENT_BIAS,   /* torch bias_hh */
    NNINIT_ROLE_PROJECTION,       /* torch LSTM(proj_size) weight_hr */
    NNINIT_ROLE_EMBEDDINGS,
    NNINIT_ROLE_GAMMA,            /* normalization scale (gamma, scale, weight) */
    NNINIT_ROLE_BETA,             /* normalization shift */
    NNINIT_ROLE_MOVING_MEAN,
    NNINIT_ROLE_MOVING_VARIANCE,
    NNINIT_ROLE_IN_PROJ,          /* attention query/key/value kernels, in_proj_weight, q/k/v_proj_weight */
    NNINIT_ROLE_IN_PROJ_BIAS,     /* their biases, bias_k, bias_v */
    NNINIT_ROLE_OUT_PROJ,         /* attention output projection kernel */
    NNINIT_ROLE_OUT_PROJ_BIAS,
    NNINIT_ROLE_SLOPE,            /* PReLU weight */
    NNINIT_ROLE_COUNTER           /* num_batches_tracked */
} nninit_model_role;

NNINIT_API const char *nninit_model_role_name(nninit_model_role r); /* "kernel", "recurrent_kernel", ... */

/* The layer a tensor belongs to, as the description says it. */
typedef struct nninit_model_layer_info {
    const char *layer;      /* layer name or module path: "dense_1", "0", "0.self_attn" ("" for a spec) */
    const char *cls;        /* its class: "Dense", "Linear", "LSTM", "MultiheadAttention" ("" unknown) */
    nninit_model_role role;
    /* the activation applied to the layer's output where the description says so, as
     * nninit_theory_act_parse reads it ("relu", "leaky_relu(0.3)", "tanh"; Keras' own name or torch's
     * module name lower-cased otherwise, e.g. "softplus"); "linear" when nothing follows; NULL when not
     * known (a spec, a graph node with several consumers) */
    const char *activation;
    int norm_after;         /* a batch/layer/group/instance/RMS normalization follows (skipping dropout
                               and activations; a post-norm transformer's residual branch too) */
    int residual_out;       /* 1: the last projection of a residual branch (attention output, a
                               transformer's linear2) */
    int gates;              /* recurrent layers: 4 LSTM, 3 GRU, 1 simple RNN; 0 otherwise */
    int64_t units;          /* recurrent layers: units per gate */
    int64_t forget_ones;    /* > 0: an LSTM bias whose forget block [u, 2u) is ones (Keras unit_forget_bias) */
} nninit_model_layer_info;

/* The layer information of tensor i (nninit_model_tensor_at order); NNINIT_EINVAL out of range. */
NNINIT_API nninit_status nninit_model_layer_info_at(const nninit_model *m, size_t i, nninit_model_layer_info *out,
                                                    nninit_err *err);
/* "torch", "keras" or "spec": where the model came from (nninit advise writes the fix in that form). */
NNINIT_API const char *nninit_model_source(const nninit_model *m);
/* The recipe (torch), the model name or file (keras), the spec's name. */
NNINIT_API const char *nninit_model_description(const nninit_model *m);
/* Sets it, e.g. to "-" for a model read from a copy of standard input (recorded in the output's metadata). */
NNINIT_API nninit_status nninit_model_set_description(nninit_model *m, const char *text, nninit_err *err);

/* Replaces the initializer of tensor `name` (NNINIT_ENOTFOUND if absent). */
NNINIT_API nninit_status nninit_model_override(nninit_model *m, const char *name, const char *spec, nninit_err *err);

typedef struct nninit_model_opts {
    nninit_rng_kind rng;        /* philox: stream = nninit_stream_from_name(name);
                                   torch kinds: one generator drawn in construction order */
    uint64_t seed;
    nninit_file_dtype dtype;    /* F32 (default), F64, BF16, F16 (generated in F32, rounded once) */
    nninit_write_opts write;    /* format, shards; metadata NULL = nninit provenance */
    int threads;                /* 0 = all CPUs */
    /* Tensor-parallel slices: with slice_count > 1, every tensor with more
     * than slice_dim dimensions is written as its slice slice_index of
     * slice_count along slice_dim, split as torch.tensor_split(t, count, dim)
     * splits (the first dim % count slices are one longer), bit-equal to that
     * slice of the whole tensor; tensors with fewer dimensions are written
     * whole. Philox only (NNINIT_EUNSUPPORTED for a torch generator, whose
     * sequential stream has no random access). */
    int slice_dim, slice_index, slice_count;
    /* Bytes a tensor generated whole (orthogonal, sparse, delta_orthogonal)
     * may take; 0 = no limit. A tensor needing more is refused, naming it and
     * the memory it needs, before any file is created. Element-wise tensors
     * stream in chunks whatever this is, under a torch generator too. */
    uint64_t memory_limit;
    /* Called after each chunk written (main thread), e.g. for a progress
     * line: bytes done and bytes this writer has to do. NULL = none. */
    void (*progress)(void *user, uint64_t done, uint64_t total);
    void *progress_user;
    /* Elements generated and written at a time; 0 = 4 Mi (16 MiB of
     * float32), halved under a small memory_limit. Any value gives the same
     * bytes (tests set it small to cross chunk boundaries cheaply). */
    int64_t chunk_elems;
} nninit_model_opts;

/* philox, seed NNINIT_DEFAULT_SEED, F32, safetensors. */
NNINIT_API nninit_model_opts nninit_model_opts_default(void);

/* Generates every tensor and writes the file(s). safetensors __metadata__
 * (when opts->write.metadata is NULL): format "pt", nninit.version,
 * nninit.stream_version, nninit.rng, nninit.seed, nninit.source,
 * nninit.layout (when all tensors share one), nninit.specs (JSON: name ->
 * initializer), and with slices nninit.slice ("DIM:INDEX/COUNT").
 * Memory: safetensors and npz files are laid out first, their space reserved
 * (posix_fallocate: a full disk fails before any drawing), then tensors are
 * generated in chunks of at most 16 MiB and written at their offsets, so
 * memory stays bounded for any model size (a torch generator too: it draws
 * in PyTorch's construction order, carrying its state from chunk to chunk);
 * a tensor that must be generated whole (orthogonal, sparse,
 * delta_orthogonal) takes its own size once. npz-deflated, npy-dir and
 * streams ("-", FIFOs) are written in file order, in the same chunks (a
 * torch generator runs ahead through its construction order saving its
 * state before each tensor, and draws a tensor the file wants later again
 * from that state); npz to a stream carries data descriptors. */
NNINIT_API nninit_status nninit_model_write(const nninit_model *m, const char *path, const nninit_model_opts *opts,
                                            nninit_err *err);

/*
 * Whether every tensor can be drawn as opts asks, without drawing or
 * writing anything: each initializer fits its tensor's shape and layout,
 * its values stay finite in the generation dtype, and with a torch
 * generator PyTorch draws it and nninit can replay it (e.g. PyTorch has no
 * delta_orthogonal, and kaiming_normal_ on a 1-D tensor raises "Fan in and
 * fan out can not be computed for tensor with fewer than 2 dimensions").
 * The error names the tensor: "tensor 'NAME': ...". nninit_model_write and
 * nninit_model_job_new make the same check before they create any file;
 * call it first to tell a model/option mistake (NNINIT_EINVAL,
 * NNINIT_EUNSUPPORTED) from a failed write.
 *   if (nninit_model_check(m, &opts, &err) == NNINIT_OK)
 *       nninit_model_write(m, "model.safetensors", &opts, &err);
 */
NNINIT_API nninit_status nninit_model_check(const nninit_model *m, const nninit_model_opts *opts, nninit_err *err);

/*
 * One model write shared by several processes (MPI ranks, machines on a
 * shared file system), byte-identical to nninit_model_write's for any split.
 * The work is a list of units (chunks of tensors, fixed by the model and
 * options only); every process makes the same job, one creates the files
 * and hands their handle to the others, each runs its share of the units,
 * the checksums are merged (bitwise OR: a unit not run has 0), the others
 * finish, then the creator finishes and renames the files in:
 *
 *     nninit_model_job_new(m, "model.safetensors", &opts, &job, &err);
 *     if (rank == 0) nninit_model_job_create(job, &handle, &err);   // then broadcast handle
 *     else           nninit_model_job_attach(job, handle, &err);
 *     size_t b, e;  nninit_model_job_share(job, rank, n_ranks, &b, &e);
 *     nninit_model_job_run(job, b, e, &err);
 *     // OR-reduce nninit_model_job_checksums(job) (nninit_model_job_units(job) values) to rank 0
 *     if (rank != 0) nninit_model_job_finish(job, NULL, &err);      // then a barrier
 *     if (rank == 0) nninit_model_job_finish(job, merged, &err);
 *     nninit_model_job_free(job);   // before a successful finish: removes the temporaries
 *
 * safetensors (single or sharded) and npz only (NNINIT_EUNSUPPORTED for
 * other formats and for streams). A torch generator is sequential: its job
 * runs whole in one process (run(0, units)); a part is NNINIT_EUNSUPPORTED.
 */
typedef struct nninit_model_job nninit_model_job;
NNINIT_API nninit_status nninit_model_job_new(const nninit_model *m, const char *path, const nninit_model_opts *opts,
                                              nninit_model_job **out, nninit_err *err);
NNINIT_API size_t nninit_model_job_units(const nninit_model_job *job);
/* Bytes of all the files together. */
NNINIT_API uint64_t nninit_model_job_bytes(const nninit_model_job *job);
/* Units [*begin, *end) of process `part` of n_parts, split by bytes. */
NNINIT_API void nninit_model_job_share(const nninit_model_job *job, int part, int n_parts, size_t *begin,
                                       size_t *end);
/* Creates the temporaries (space reserved, headers written); *handle
 * (free with nninit_free) names them for nninit_model_job_attach. */
NNINIT_API nninit_status nninit_model_job_create(nninit_model_job *job, char **handle, nninit_err *err);
NNINIT_API nninit_status nninit_model_job_attach(nninit_model_job *job, const char *handle, nninit_err *err);
NNINIT_API nninit_status nninit_model_job_run(nninit_model_job *job, size_t begin, size_t end, nninit_err *err);
/* One CRC-32 per unit, 0 for units this process did not run; writable. */
NNINIT_API uint32_t *nninit_model_job_checksums(nninit_model_job *job);
/* Attached: fsync and close. Creator: checksums = every unit's (merged;
 * NULL = its own), then the files are completed and renamed in. */
NNINIT_API nninit_status nninit_model_job_finish(nninit_model_job *job, const uint32_t *checksums, nninit_err *err);
NNINIT_API void nninit_model_job_free(nninit_model_job *job);

/*
 * Generates the model's tensors into caller memory instead of a file (what
 * the Python package uses to initialize a torch module in place). out[i]
 * receives tensor i (nninit_model_tensor_at order) in C order: numel
 * elements of `dtype` (NNINIT_F32 or NNINIT_F64), or int64 zeros for an
 * int64 counter. out[i] == NULL skips tensor i; a torch generator still
 * draws it, so the tensors after it keep their values.
 *   Philox rng (read only): tensor i gets the stream
 *     nninit_stream_from_name(prefix + name); with prefix "" these are the
 *     bits nninit_model_write stores. threads as in nninit_fill_opts.
 *   torch kinds: drawn in PyTorch's construction order (construction-time
 *     draws that the module later overwrites included), continuing rng, so
 *     successive calls for successive sub-modules continue one
 *     torch.manual_seed stream as constructing them in that order does.
 * prefix may be NULL (""). NNINIT_EMISUSE (NULL model, rng or out),
 * NNINIT_EINVAL (dtype, name too long), NNINIT_ENOMEM, or a fill's status
 * (tensors before the failing one are already written).
 */
NNINIT_API nninit_status nninit_model_fill(const nninit_model *m, nninit_rng *rng, const char *prefix,
                                           nninit_dtype dtype, int threads, void *const *out, nninit_err *err);

#ifdef __cplusplus
}
#endif
#endif /* NNINIT_MODEL_H */
