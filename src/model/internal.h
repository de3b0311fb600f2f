/*
 * Model layer: whole models (PyTorch recipes, Keras JSON, nninit specs) as
 * lists of tensors with initializers. Depends on core, rng, init, io.
 * Private to src/ (never installed); names are nninit__*, hidden from the
 * shared library by -fvisibility=hidden.
 */
#ifndef NNINIT_MODEL_INTERNAL_H
#define NNINIT_MODEL_INTERNAL_H

#include "init/internal.h"
#include "io/internal.h"
#include "nninit_model.h"

/* ---- whole models (model.c, model_torch.c, model_keras.c, model_spec.c) ---- */

typedef struct nninit__mtensor {
    char *name;           /* NULL for a phantom: drawn (advancing a torch stream) then discarded */
    nninit_shape shape;
    nninit_layout layout;
    nninit_init init;
    char *spec;           /* the initializer as written in the source (provenance) */
    int is_int64;         /* an int64 zero counter (BatchNorm num_batches_tracked) */
    int64_t zero_row;     /* >= 0: this row is zeroed after filling (Embedding padding_idx) */
    int64_t forget_units; /* > 0: Keras LSTM unit_forget_bias: init((u,)), ones((u,)), init((2u,)) */
    int64_t draw;         /* order in which PyTorch draws it (the construction order) */
    int64_t copy_of;      /* >= 0: index in t[] of the tensor whose values this one repeats (a module
                           * deep-copied after its draws, as TransformerEncoder clones its layer): no draws */
    int64_t copy_stream;  /* with copy_of: the named original whose Philox stream the copy regenerates
                           * (with the initializer it had when cloned, which the copy keeps) */
    int same_variable;    /* with copy_of: not a copy but the original variable tracked a second time (Keras
                           * SpectralNormalization's `kernel`, which save_weights stores twice): an override
                           * of the original applies to it too, and it cannot be overridden by itself */
    /* layer metadata (nninit_model_layer_info; never changes what is drawn) */
    char *layer, *cls, *act;
    nninit_model_role role;
    int norm_after, residual_out, gates;
    int64_t units;
    char *store_path;     /* Keras: where model.save_weights stores it ("layers/dense/vars/0"); else NULL */
} nninit__mtensor;

struct nninit_model {
    nninit__mtensor *t;   /* state_dict / variable order, phantoms included */
    size_t n, cap;
    int64_t next_draw;    /* the draw rank the next appended tensor gets */
    char *source;         /* "torch", "keras", "spec" */
    char *description;    /* the recipe or the file name */
    /* kept by nninit__model_add so that lookups by name or by rank are O(1)
     * (a 100k-layer Keras model loaded in minutes with scans) */
    nninit__strmap by_name; /* name -> position in t of its first tensor */
    size_t *named;          /* positions in t of the named tensors (phantoms skipped) */
    size_t n_named, named_cap;
    int has_copies;         /* some tensor repeats another (copy_of >= 0): overrides look for them */
};

/* Caps on the counts a recipe or model file may ask for, checked before the
 * work they cause: far above any real model (the largest have thousands of
 * tensors, RNN stacks of a few layers), and low enough that a mistyped or
 * hostile count fails at once with one line instead of running for minutes
 * or exhausting memory (LSTM(num_layers=1000000) did). docs/models.md lists
 * them. */
#define NNINIT__MODEL_MAX_TENSORS ((size_t)1 << 19) /* tensors in one model */
#define NNINIT__MODEL_MAX_LAYERS ((size_t)1 << 19)  /* layers of a Keras model, modules of one torch container */
#define NNINIT__MODEL_MAX_STACK 4096                /* num_layers of RNN/LSTM/GRU and Transformer stacks */
#define NNINIT__MODEL_MAX_DIM ((int64_t)1 << 31)    /* a size or dimension: products of two never overflow int64 */

/* "SUBJECT: WHAT is VALUE, above the cap of CAP (why)": the one wording of a
 * cap exceeded; returns NNINIT_EINVAL. */
nninit_status nninit__model_cap_err(nninit_err *err, const char *subject, const char *what, uint64_t value,
                                    uint64_t cap);
/* 1 and *pos (position in m->t) when a tensor is named `name` (the first
 * one), else 0. O(1). */
int nninit__model_find(const nninit_model *m, const char *name, size_t *pos);
/* Rebuilds the name index after tensors lost their names (made phantoms
 * after the fact); O(n). */
nninit_status nninit__model_reindex(nninit_model *m, nninit_err *err);

/* Appends a tensor (name and spec copied; name NULL makes a phantom);
 * draw order = order of appending (next_draw) unless changed. */
nninit_status nninit__model_add(nninit_model *m, const char *name, const nninit_shape *shape, nninit_layout layout,
                                const nninit_init *init, const char *spec, nninit__mtensor **out, nninit_err *err);
nninit_model *nninit__model_new(const char *source, const char *description);
/* The i-th named tensor (phantoms skipped), or NULL. */
const nninit__mtensor *nninit__model_nth(const nninit_model *m, size_t i);

/* ---- layer metadata (model_meta.c) ---- */

/* Sets layer and class of tensors [from, m->n) that have none yet (the
 * innermost layer tags first); role from the framework's variable name. */
nninit_status nninit__meta_tag_keras(nninit_model *m, size_t from, const char *layer, const char *cls,
                                     nninit_err *err);
nninit_status nninit__meta_tag_torch(nninit_model *m, size_t from, const char *layer, const char *cls,
                                     nninit_err *err);
/* Sets the activation (copied; NULL keeps none) and norm_after of tensors [from, to). */
nninit_status nninit__meta_set_act(nninit_model *m, size_t from, size_t to, const char *act, int norm_after,
                                   nninit_err *err);
/* dst gets src's metadata (a deep-copied module's tensor) under another layer path. */
nninit_status nninit__meta_copy(nninit__mtensor *dst, const nninit__mtensor *src, const char *layer,
                                nninit_err *err);
/* Torch module name -> activation text ("ReLU" -> "relu"; NULL: not an activation module). */
const char *nninit__torch_act_name(const char *module);
/* 1 for torch/Keras normalization classes (BatchNorm*, LayerNorm, GroupNorm, InstanceNorm*,
 * BatchNormalization, LayerNormalization, GroupNormalization, RMSNormalization). */
int nninit__is_norm_class(const char *cls);

/* Keras (model_keras_meta.c): tags the tensors [from, m->n) of one layer
 * (a json_t from the config's "layers"; a wrapper gets its inner class),
 * and after the whole model the activations and normalizations that follow
 * each layer (Sequential: the next layers; Functional: a single consumer). */
struct json_t;
nninit_status nninit__keras_tag_layer(nninit_model *m, size_t from, struct json_t *layer, nninit_err *err);
nninit_status nninit__keras_acts(nninit_model *m, struct json_t *layers, int functional, nninit_err *err);

/* Tensor e drawn whole into out (numel elements of gen, F32 or F64): the
 * Philox stream of prefix + stream (e's name, or a copy's original's), or
 * the torch generator's next draws; Keras LSTM forget-bias parts and an
 * Embedding padding row applied. */
nninit_status nninit__model_fill_one(const nninit__mtensor *e, const char *stream, const char *prefix, nninit_dtype gen,
                                    int threads, nninit_rng *rng, void *out, nninit_err *err);
/* The name whose Philox stream tensor e takes: its own, or for a deep copy its original's. */
const char *nninit__model_stream_name(const nninit_model *m, const nninit__mtensor *e);
int64_t nninit__mtensor_numel(const nninit__mtensor *e);
/* qsort comparator of nninit__mtensor pointers by draw (construction) order. */
int nninit__cmp_draw(const void *a, const void *b);
/* {"tensor name": initializer JSON, ...}, malloc'd (NULL when out of memory). */
char *nninit__model_specs_json(const nninit_model *m);
/* keras_store.c: sets store_path of the variables of a Keras Sequential or
 * Functional model (and of the models nested in it) as Keras 3
 * model.save_weights names them; variables nninit cannot place keep NULL,
 * those Keras does not store get "". `cfg` is the model's "config" (a json_t). */
nninit_status nninit__keras_store_paths(nninit_model *m, struct json_t *cfg, int functional, nninit_err *err);
/* naming.to_snake_case of a class name ("MultiHeadAttention" -> "multi_head_attention"). */
void nninit__keras_snake_case(const char *cls, char *out, size_t cap);

#endif /* NNINIT_MODEL_INTERNAL_H */
