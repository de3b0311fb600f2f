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
} nninit__mtensor;

struct nninit_model {
    nninit__mtensor *t;   /* state_dict / variable order, phantoms included */
    size_t n, cap;
    int64_t next_draw;    /* the draw rank the next appended tensor gets */
    char *source;         /* "torch", "keras", "spec" */
    char *description;    /* the recipe or the file name */
};

/* Appends a tensor (name and spec copied; name NULL makes a phantom);
 * draw order = order of appending (next_draw) unless changed. */
nninit_status nninit__model_add(nninit_model *m, const char *name, const nninit_shape *shape, nninit_layout layout,
                                const nninit_init *init, const char *spec, nninit__mtensor **out, nninit_err *err);
nninit_model *nninit__model_new(const char *source, const char *description);


#endif /* NNINIT_MODEL_INTERNAL_H */
