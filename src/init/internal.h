/*
 * Initializer layer: catalogue, spec parsing, fills, orthogonalization,
 * STFT. Depends on core and rng.
 * Private to src/ (never installed); names are nninit__*, hidden from the
 * shared library by -fvisibility=hidden.
 */
#ifndef NNINIT_INIT_INTERNAL_H
#define NNINIT_INIT_INTERNAL_H

#include "rng/internal.h"

/* ---- orthogonalization (orthogonal.c: built-in QR or LAPACK) ----
 * m: (rows, cols) row-major, rows >= cols, replaced in place by Q * sign(diag R)
 * (orthonormal columns). dtype F32 or F64. */
nninit_status nninit__orthonormalize(nninit_dtype dtype, void *m, int64_t rows, int64_t cols, nninit_err *err);

/* ---- keras.initializers.STFT (stft.c) ---- */

const char *nninit__stft_window_name(int window);
int nninit__stft_window_parse(const char *name); /* -1 if unknown */
int nninit__stft_window_min_params(int window);   /* 1 for ("kaiser", beta), 0 for "hann" */
/* The window's parameter count and values (called by nninit_init_validate). */
nninit_status nninit__stft_window_check(const nninit_init *in, nninit_err *err);
/* Elements [begin, end) of the STFT kernel of a (T, C, F) shape. */
nninit_status nninit__stft_fill(const nninit_init *in, const nninit_shape *shape, nninit_dtype dtype, int64_t begin,
                                int64_t end, void *out, nninit_err *err);

/* ---- Python call syntax (pycall.c), for specs and model recipes ---- */

typedef enum nninit__pykind {
    NNINIT__PY_INT, NNINIT__PY_FLOAT, NNINIT__PY_BOOL, NNINIT__PY_NONE, NNINIT__PY_STR,
    NNINIT__PY_NAME,  /* a bare (possibly signed) name: fan_out, nan, -inf */
    NNINIT__PY_TUPLE, NNINIT__PY_LIST,
    NNINIT__PY_DICT,  /* keys[i]: the string key of items[i] */
    NNINIT__PY_CALL   /* text: the callee's last dotted component; keys[i]: keyword or "" */
} nninit__pykind;

typedef struct nninit__pyval {
    nninit__pykind kind;
    int64_t i;                     /* INT, BOOL (0/1) */
    double f;                      /* FLOAT (may be +-inf when the literal overflows) */
    char *text;                    /* STR, NAME, CALL */
    struct nninit__pyval **items;  /* TUPLE, LIST, DICT values, CALL arguments */
    char **keys;                   /* one per item: keyword / dict key, "" when positional */
    size_t n;
    size_t pos;                    /* offset in the text, for messages */
} nninit__pyval;

/* Parses the whole text as one value (# comments allowed). On failure the
 * message is "at offset N (near '...'): what"; callers prefix their subject. */
nninit_status nninit__py_parse(const char *text, nninit__pyval **out, nninit_err *err);
void nninit__py_free(nninit__pyval *v);
const char *nninit__py_kind_name(nninit__pykind kind); /* "an integer", "a string", ... */

/* ---- PyTorch-exact fills (torch_fill.c) ---- */

/* Executes a resolved primitive the way the matching torch.nn.init call
 * consumes and transforms the stream. */
nninit_status nninit__torch_fill(nninit_rng *rng, const nninit_init *init, const nninit_prim *prim,
                                 const nninit_shape *shape, nninit_dtype dtype, void *out, nninit_err *err);

/*
 * One tensor from a torch generator delivered in pieces, in C order: the
 * bytes nninit_fill gives, for any split, in bounded memory. The stream is
 * consumed as the one-call fill consumes it (normal_'s last 16 values, redrawn
 * after the whole tensor's uniforms when numel % 16 != 0, come out of the
 * final piece). Orthogonal and sparse need the whole matrix: drawn whole by
 * _begin and held; every other primitive holds at most two 16-element blocks.
 *
 *     nninit__draw d;
 *     if (!nninit__draw_begin(&d, &init, &shape, &opts, rng, NULL, &err))
 *         while (d.pos < d.numel && !st) st = nninit__draw_next(&d, buf, min(chunk, d.numel - d.pos), &err);
 *     nninit__draw_end(&d);
 *
 * _begin makes nninit_fill's checks (its errors); whole_into, when not NULL,
 * is numel elements where a whole-drawn tensor goes (no second copy).
 * Philox generators are addressed with nninit_fill_range instead
 * (NNINIT_EMISUSE here). _end may be called after a failed _begin.
 */
typedef struct nninit__draw {
    nninit_rng *rng;
    const nninit_init *init;
    nninit_prim prim;
    nninit_shape shape;
    nninit_dtype dtype;
    int64_t numel, pos;   /* elements in the tensor, delivered so far */
    int nodraw;           /* STFT, block-eye: computed by position, the generator untouched */
    /* normal_ on >= 16 elements */
    int64_t drawn;        /* uniforms drawn for the tensor's positions */
    int64_t blk_index;    /* the 16-block held in blk, -1 none */
    double blk[16], tail[16]; /* 16 values of the dtype (float or double) */
    int tail_ready;
    /* trunc_normal_: uniform_(lo, hi) then erfinv and the affine map */
    double lo, hi, scale;
    void *whole;          /* orthogonal, sparse: the tensor, drawn at _begin */
    int whole_owned;
} nninit__draw;

nninit_status nninit__draw_begin(nninit__draw *d, const nninit_init *init, const nninit_shape *shape,
                                 const nninit_fill_opts *opts, nninit_rng *rng, void *whole_into, nninit_err *err);
nninit_status nninit__draw_next(nninit__draw *d, void *out, int64_t m, nninit_err *err);
void nninit__draw_end(nninit__draw *d);

/* torch_fill.c's part of the above, for primitives that use the generator. */
nninit_status nninit__torch_draw_start(nninit__draw *d, void *whole_into, nninit_err *err);
void nninit__torch_draw_piece(nninit__draw *d, void *out, int64_t m);

/* ---- tensor-parallel slices (slice.c) ----
 * Elements [b, e) of slice (start, len) along dim of a C-order tensor of
 * `shape` are runs of the whole tensor's elements: fn gets each run's
 * [full_begin, full_end) and its position `at` counted from b. */
typedef nninit_status (*nninit__run_fn)(void *ctx, int64_t full_begin, int64_t full_end, int64_t at, nninit_err *err);
nninit_status nninit__slice_runs(const nninit_shape *shape, int dim, int64_t start, int64_t len, int64_t b, int64_t e,
                                 nninit__run_fn fn, void *ctx, nninit_err *err);

#endif /* NNINIT_INIT_INTERNAL_H */
