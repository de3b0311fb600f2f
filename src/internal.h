/*
 * Private declarations shared across src/ (never installed). Names are
 * nninit__*, hidden from the shared library by -fvisibility=hidden.
 */
#ifndef NNINIT_INTERNAL_H
#define NNINIT_INTERNAL_H

#include "nninit.h"

#include <float.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>

/* The stream format assumes IEEE binary32/binary64 evaluated at their own
 * precision (no x87 excess precision). */
#if !defined(FLT_EVAL_METHOD) || FLT_EVAL_METHOD != 0
#error "nninit needs FLT_EVAL_METHOD == 0 (SSE2 or equivalent floating point)"
#endif

#if defined(__GNUC__)
#define NNINIT__PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define NNINIT__PRINTF(f, a)
#endif

/* ---- bit casts (memcpy: no aliasing questions, compiled to moves) ---- */

static inline uint32_t nninit__f2u(float x)
{
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}
static inline float nninit__u2f(uint32_t u)
{
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
}
static inline uint64_t nninit__d2u(double x)
{
    uint64_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}
static inline double nninit__u2d(uint64_t u)
{
    double x;
    memcpy(&x, &u, sizeof x);
    return x;
}

/* ---- errors (status.c) ---- */

/* Fills err (if not NULL) with code and a printf-formatted one-line message;
 * returns code so callers can `return nninit__err(...)`. */
nninit_status nninit__err(nninit_err *err, nninit_status code, const char *fmt, ...) NNINIT__PRINTF(3, 4);
/* Same, recording errno for NNINIT_EIO. */
nninit_status nninit__err_sys(nninit_err *err, int sys_errno, const char *fmt, ...) NNINIT__PRINTF(3, 4);

/* ---- allocation (alloc.c): the one allocation path, overflow-checked ---- */

/* malloc(count * size) or NULL on overflow/failure. */
void *nninit__malloc_array(size_t count, size_t size);
void *nninit__calloc_array(size_t count, size_t size);
/* malloc for a string copy; NULL on failure. */
char *nninit__strdup(const char *s);

/* ---- Philox4x32-10 (rng_philox.c) ---- */

/* Key of a 64-bit seed: (low 32 bits, high 32 bits). */
void nninit__philox_key(uint64_t seed, uint32_t key[2]);

/* Words [first, first + n) of the word sequence of (key, stream): word w is
 * lane (w % 4) of block (w / 4), counter = (block lo, block hi, stream lo,
 * stream hi). */
void nninit__philox_words(const uint32_t key[2], uint64_t stream, uint64_t first, size_t n, uint32_t *out);

/* ---- fixed-arithmetic transforms (fmath.c) ----
 * Defined with separately rounded IEEE operations in a fixed order (no
 * libm), so every platform and every SIMD path gives the same bits. */
float nninit__logf(float x);                    /* x > 0, normal */
double nninit__log(double x);                   /* x > 0, normal */
void nninit__sincos2pif(float u, float *s, float *c); /* sin, cos of 2*pi*u, u in [0, 1) */
void nninit__sincos2pi(double u, double *s, double *c);
double nninit__ndtri(double p);
double nninit__ndtr(double x);                  /* normal CDF Phi(x) */

/* ---- Philox distributions (dist_philox.c) ----
 * Element i of the (key, stream) sequence for each dtype; see docs/stream.md.
 * `begin` is the first element index, n the count, out gets n elements. */
void nninit__philox_uniform(const uint32_t key[2], uint64_t stream, nninit_dtype dtype, uint64_t begin,
                            size_t n, double lo, double hi, void *out);
void nninit__philox_normal(const uint32_t key[2], uint64_t stream, nninit_dtype dtype, uint64_t begin,
                           size_t n, double mean, double std, void *out);
void nninit__philox_trunc_normal(const uint32_t key[2], uint64_t stream, nninit_dtype dtype, uint64_t begin,
                                 size_t n, double mean, double std, double a, double b, void *out);

/* ---- orthogonalization (orthogonal.c, LAPACK geqrf + orgqr) ----
 * m: (rows, cols) row-major, rows >= cols, replaced in place by Q * sign(diag R)
 * (orthonormal columns). dtype F32 or F64. */
nninit_status nninit__orthonormalize(nninit_dtype dtype, void *m, int64_t rows, int64_t cols, nninit_err *err);

/* ---- the generator object (rng.c) ---- */

typedef struct nninit__mt19937 {
    uint32_t state[624];
    int left; /* words left before the next twist (PyTorch's convention) */
    int next;
} nninit__mt19937;

struct nninit_rng {
    nninit_rng_kind kind;     /* as requested */
    nninit_rng_kind resolved; /* after auto-detection of the torch variant */
    uint64_t seed;
    uint32_t key[2];          /* Philox key */
    /* torch generator state */
    nninit__mt19937 mt;
    double normal_cache;      /* PyTorch's cached second Box-Muller value */
    int normal_cache_valid;
};

/* ---- PyTorch CPU generator (rng_torch*.c) ---- */

/* torch.manual_seed(seed): MT19937 seeded with seed mod 2^32, cache cleared. */
void nninit__torch_seed(nninit_rng *rng, uint64_t seed);
uint32_t nninit__torch_next32(nninit_rng *rng);
uint64_t nninit__torch_next64(nninit_rng *rng);
/* 1 if PyTorch 1.13 would dispatch its AVX2 kernels on this CPU. */
int nninit__torch_cpu_has_avx2(void);
/* Executes a resolved primitive the way the matching torch.nn.init call
 * consumes and transforms the stream. */
nninit_status nninit__torch_fill(nninit_rng *rng, const nninit_init *init, const nninit_prim *prim,
                                 const nninit_shape *shape, nninit_dtype dtype, void *out, nninit_err *err);

/* ---- keras.initializers.STFT (stft.c) ---- */

const char *nninit__stft_window_name(int window);
int nninit__stft_window_parse(const char *name); /* -1 if unknown */
/* Elements [begin, end) of the STFT kernel of a (T, C, F) shape. */
nninit_status nninit__stft_fill(const nninit_init *in, const nninit_shape *shape, nninit_dtype dtype, int64_t begin,
                                int64_t end, void *out, nninit_err *err);

/* ---- misc ---- */

/* Levenshtein distance, for "did you mean" suggestions. */
int nninit__edit_distance(const char *a, const char *b);
/* Number of online CPUs (>= 1). */
int nninit__cpu_count(void);

/* ---- file output and tensor files (io_atomic.c, io_npy.c) ---- */

#include <stdio.h>

/* "812 bytes", "3.1 GB" (decimal units) into buf; returns buf. */
char *nninit__format_bytes(uint64_t n, char *buf, size_t cap);

/* An output file written atomically: a temporary sibling ".NAME.tmp.PID.N",
 * fsync'd and renamed over `path` by commit. Any failed write or commit
 * removes the temporary and leaves the target untouched; after a failure or
 * a commit the object holds nothing (abort is then a no-op). */
typedef struct nninit__atomic {
    FILE *f;
    int fd;
    char *path, *tmp;
    uint64_t written; /* bytes accepted so far (for error messages) */
} nninit__atomic;

nninit_status nninit__atomic_open(nninit__atomic *a, const char *path, nninit_err *err);
nninit_status nninit__atomic_write(nninit__atomic *a, const void *buf, size_t n, nninit_err *err);
nninit_status nninit__atomic_commit(nninit__atomic *a, nninit_err *err);
void nninit__atomic_abort(nninit__atomic *a); /* removes the temporary; NULL or done: no-op */

/* Element count and byte size of a stored tensor: like nninit_shape_numel
 * but dimensions of 0 are allowed (files may hold empty tensors).
 * `what` names the file in messages. NNINIT_EINVAL / NNINIT_EOVERFLOW. */
nninit_status nninit__tensor_bytes(const char *what, const nninit_shape *shape, nninit_file_dtype dtype,
                                   uint64_t *numel, uint64_t *nbytes, nninit_err *err);

/* The complete .npy v1.0 header NumPy 1.24 writes for (dtype, shape), into
 * buf (cap >= 256 is always enough for 8 dims); *len gets its length, a
 * multiple of 64. BF16 is stored as '<u2' (NumPy has no bfloat16). */
nninit_status nninit__npy_header(nninit_file_dtype dtype, const nninit_shape *shape, char *buf, size_t cap,
                                 size_t *len, nninit_err *err);
/* Parses the preamble and header of a .npy image of `len` bytes of which
 * the first `avail` are in buf (any file dtype with a NumPy descr):
 * *data_off is where the data starts; the data size is checked against len
 * exactly. *swap: stored big-endian. */
nninit_status nninit__npy_parse_header(const char *what, const void *buf, size_t avail, uint64_t len,
                                       nninit_file_dtype *dtype,
                                       nninit_shape *shape, uint64_t *data_off, uint64_t *nbytes, int *swap,
                                       nninit_err *err);
void nninit__swap_bytes(void *data, uint64_t numel, size_t width);

/* ---- element types (io_dtype.c) ---- */
int nninit__file_dtype_rank(nninit_file_dtype d);          /* safetensors enum order; -1 invalid */
const char *nninit__file_dtype_npy(nninit_file_dtype d);   /* "<f4", or NULL */
/* descr -> dtype; 0 if not one nninit reads. '<u2' means BF16 (nninit's convention). */
int nninit__file_dtype_from_npy(const char *descr, nninit_file_dtype *out, int *swap);
uint16_t nninit__to_f16(double x);  /* round to nearest even, once */
uint16_t nninit__to_bf16(double x);
double nninit__from_f16(uint16_t h);
double nninit__from_bf16(uint16_t h);

/* ---- tensor files (io_tensors.c, io_safetensors.c, io_npz.c) ---- */

typedef struct nninit__tentry {
    nninit_tensor_info info;
    size_t file;          /* index into tf->files */
    uint64_t offset;      /* safetensors: absolute data offset; npz: member data offset */
    int swap;             /* npy/npz: stored big-endian */
    /* npz members */
    int method;           /* 0 stored, 8 deflated */
    uint64_t csize, usize, npy_off; /* npy_off: tensor data offset inside the member */
    uint32_t crc;
} nninit__tentry;

struct nninit_tensor_file {
    nninit_file_format format;
    size_t n, cap;
    nninit__tentry *t;
    char **files;         /* paths of the files holding the data */
    size_t n_files;
    char **meta;          /* key, value pairs (safetensors __metadata__) */
    size_t n_meta;
};

/* Appends an entry (name copied); NNINIT_ENOMEM. */
nninit_status nninit__tf_add(nninit_tensor_file *tf, const char *name, nninit__tentry **out, nninit_err *err);
/* Appends a file path (copied); returns its index via *idx. */
nninit_status nninit__tf_add_file(nninit_tensor_file *tf, const char *path, size_t *idx, nninit_err *err);
/* Rejects a name already present (linear in count; used after loading). */
nninit_status nninit__tf_check_unique(const nninit_tensor_file *tf, const char *what, nninit_err *err);

/* Readers filling tf (opened by nninit_tensor_file_open). `buf`: the
 * first bytes of the file (for format detection), `size`: its size. */
nninit_status nninit__safetensors_open(nninit_tensor_file *tf, const char *path, nninit_err *err);
nninit_status nninit__safetensors_index_open(nninit_tensor_file *tf, const char *path, nninit_err *err);
nninit_status nninit__npz_open(nninit_tensor_file *tf, const char *path, nninit_err *err);
nninit_status nninit__npz_read(nninit_tensor_file *tf, const nninit__tentry *e, void *out, nninit_err *err);

/* Member `member` of the zip archive at path (stored or deflated, CRC
 * checked, at most max bytes), NUL-terminated; free with free(). */
nninit_status nninit__zip_read_member(const char *path, const char *member, size_t max, char **data, size_t *len,
                                      nninit_err *err);
/* Writers: tensors t[idx[0..k)] into one file. */
nninit_status nninit__safetensors_write(const char *path, const nninit_tensor_desc *t, const size_t *idx,
                                        size_t k, const char *const *metadata, nninit_tensor_source src,
                                        void *user, nninit_err *err);
/* model.safetensors.index.json for shards names[0..n_shards); tensor i is
 * in shard shard_of[i]. */
nninit_status nninit__safetensors_index_write(const char *path, const nninit_tensor_desc *t, size_t n,
                                              const size_t *shard_of, size_t n_shards, const char *const *names,
                                              uint64_t total_size, nninit_err *err);
nninit_status nninit__npz_write(const char *path, const nninit_tensor_desc *t, size_t n, int deflate,
                                nninit_tensor_source src, void *user, nninit_err *err);
/* Produces tensor i via src into buf (which holds its nbytes), byte-swapped
 * to little-endian on big-endian hosts. */
nninit_status nninit__produce_le(const nninit_tensor_desc *t, size_t i, uint64_t nbytes, nninit_tensor_source src,
                                 void *user, void *buf, nninit_err *err);

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
} nninit__mtensor;

struct nninit_model {
    nninit__mtensor *t;   /* state_dict / variable order, phantoms included */
    size_t n, cap;
    char *source;         /* "torch", "keras", "spec" */
    char *description;    /* the recipe or the file name */
};

/* Appends a tensor (name and spec copied; name NULL makes a phantom);
 * draw order = order of appending unless changed. */
nninit_status nninit__model_add(nninit_model *m, const char *name, const nninit_shape *shape, nninit_layout layout,
                                const nninit_init *init, const char *spec, nninit__mtensor **out, nninit_err *err);
nninit_model *nninit__model_new(const char *source, const char *description);

#endif /* NNINIT_INTERNAL_H */
