/*
 * nninit: neural-network weight initialization, reproducible and exact.
 *
 * Usage (fill a 3x3x64x128 Keras HWIO conv kernel with He-normal values):
 *
 *     nninit_init init;
 *     nninit_shape shape = { 4, { 3, 3, 64, 128 } };
 *     nninit_rng *rng = NULL;
 *     nninit_err err;
 *     if (nninit_init_parse("he_normal", &init, &err) != NNINIT_OK ||
 *         nninit_rng_new(NNINIT_RNG_PHILOX, 42, &rng, &err) != NNINIT_OK)
 *         fprintf(stderr, "%s\n", err.msg);
 *     nninit_fill_opts opts = nninit_fill_opts_default();   // Keras layout, float32
 *     float *w = malloc(3 * 3 * 64 * 128 * sizeof *w);
 *     if (nninit_fill(&init, &shape, &opts, rng, w, &err) != NNINIT_OK)
 *         fprintf(stderr, "%s\n", err.msg);
 *     nninit_rng_free(rng);
 *
 * Element i of a tensor depends only on (seed, stream, i, initializer, shape,
 * dtype): the same bits whatever the thread count or the sub-range generated.
 * The stream format is versioned (NNINIT_STREAM_VERSION); docs/stream.md
 * defines it completely.
 *
 * Conventions: every fallible function returns nninit_status and takes an
 * optional `nninit_err *err` last (may be NULL). Shapes are outermost-first.
 * No function keeps a caller pointer past the call unless its doc says so.
 * Nothing here has global mutable state; distinct objects may be used from
 * distinct threads.
 */
#ifndef NNINIT_H
#define NNINIT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32) && defined(NNINIT_BUILD_SHARED)
#define NNINIT_API __declspec(dllexport)
#elif defined(__GNUC__)
#define NNINIT_API __attribute__((visibility("default")))
#else
#define NNINIT_API
#endif

#define NNINIT_VERSION_MAJOR 0
#define NNINIT_VERSION_MINOR 1
#define NNINIT_VERSION_PATCH 0
#define NNINIT_VERSION_STRING "0.1.0"

/* Version of the Philox stream format: bumped on any change to the bits a
 * (seed, stream, index) produces for any initializer. */
#define NNINIT_STREAM_VERSION 1

/* Seed used when the caller gives none (the CLI's default). */
#define NNINIT_DEFAULT_SEED 20240229u

NNINIT_API const char *nninit_version(void);

/* ------------------------------------------------------------------------ */
/* Status and errors                                                         */
/* ------------------------------------------------------------------------ */

typedef enum nninit_status {
    NNINIT_OK = 0,
    NNINIT_EINVAL,       /* an argument is outside its documented range */
    NNINIT_ENOMEM,       /* an allocation failed */
    NNINIT_EOVERFLOW,    /* a size computation would overflow */
    NNINIT_EIO,          /* open/read/write/fsync/rename/close failed */
    NNINIT_EFORMAT,      /* input file is corrupt or not the named format */
    NNINIT_EUNSUPPORTED, /* valid request this build cannot serve */
    NNINIT_EMISUSE,      /* the caller broke an API rule (NULL handle, ...) */
    NNINIT_ENOTFOUND,    /* a named thing (initializer, file, dataset) does not exist */
    NNINIT_ENUMERIC      /* a computation diverged or produced NaN/inf */
} nninit_status;

/* Static text for a status, never NULL. */
NNINIT_API const char *nninit_status_str(nninit_status s);

/* Optional error detail, owned by the caller. `msg` is one line, no
 * trailing newline, in the form "subject: what is wrong; what would be right". */
typedef struct nninit_err {
    nninit_status code;
    int sys_errno; /* errno for NNINIT_EIO, else 0 */
    char msg[256];
} nninit_err;

/* Frees memory that a function of this library documented as "free with
 * nninit_free" (strings, arrays). NULL is a no-op. */
NNINIT_API void nninit_free(void *p);

/* ------------------------------------------------------------------------ */
/* Shapes, dtypes, layouts, fans                                             */
/* ------------------------------------------------------------------------ */

#define NNINIT_MAX_DIMS 8

typedef struct nninit_shape {
    int ndim;                     /* 0 (scalar) .. NNINIT_MAX_DIMS */
    int64_t dim[NNINIT_MAX_DIMS]; /* outermost first, as NumPy prints it */
} nninit_shape;

typedef enum nninit_dtype {
    NNINIT_F32 = 0,
    NNINIT_F64,
    NNINIT_BF16, /* storage only (files); generation is in F32 then rounded */
    NNINIT_F16   /* storage only (files); generation is in F32 then rounded */
} nninit_dtype;

NNINIT_API const char *nninit_dtype_name(nninit_dtype d); /* "float32", ... */
NNINIT_API nninit_status nninit_dtype_parse(const char *name, nninit_dtype *out, nninit_err *err);
NNINIT_API size_t nninit_dtype_size(nninit_dtype d);

typedef enum nninit_layout {
    NNINIT_LAYOUT_KERAS = 0, /* (*kernel, in, out), e.g. HWIO; Dense (in, out) */
    NNINIT_LAYOUT_TORCH      /* (out, in, *kernel), e.g. OIHW; Linear (out, in) */
} nninit_layout;

NNINIT_API const char *nninit_layout_name(nninit_layout l); /* "keras" | "torch" */
NNINIT_API nninit_status nninit_layout_parse(const char *name, nninit_layout *out, nninit_err *err);

/* Number of elements; checks every dim >= 1 (0-D has 1 element) and that
 * numel * 8 bytes fits in size_t and int64_t. NNINIT_EINVAL / NNINIT_EOVERFLOW. */
NNINIT_API nninit_status nninit_shape_numel(const nninit_shape *shape, int64_t *numel, nninit_err *err);

/* Parses "3,3,64,128" (also "3x3x64x128", "[3, 3]", "" or "()" for 0-D). */
NNINIT_API nninit_status nninit_shape_parse(const char *text, nninit_shape *out, nninit_err *err);

/* Writes "[3, 3, 64, 128]" into buf (always NUL-terminated); returns buf. */
NNINIT_API char *nninit_shape_format(const nninit_shape *shape, char *buf, size_t cap);

/*
 * Fan-in and fan-out of a weight of `shape` under `layout`.
 *   keras (keras/src/initializers/random_initializers.py compute_fans):
 *     0-D (1, 1); 1-D (n, n); 2-D (d0, d1); N-D rf = prod(d[:-2]),
 *     (d[-2]*rf, d[-1]*rf).
 *   torch (torch/nn/init.py _calculate_fan_in_and_fan_out):
 *     < 2 dims NNINIT_EINVAL as PyTorch raises; rf = prod(d[2:]),
 *     (d1*rf, d0*rf).
 */
NNINIT_API nninit_status nninit_fans(const nninit_shape *shape, nninit_layout layout,
                                     int64_t *fan_in, int64_t *fan_out, nninit_err *err);

/* ------------------------------------------------------------------------ */
/* Initializers (the catalogue)                                              */
/* ------------------------------------------------------------------------ */

/* Every initializer of keras.initializers (Keras 3) and torch.nn.init.
 * Values are only appended. Names: nninit_init_kind_name(). */
typedef enum nninit_init_kind {
    /* keras.initializers */
    NNINIT_ZEROS = 0,
    NNINIT_ONES,
    NNINIT_CONSTANT,
    NNINIT_RANDOM_NORMAL,
    NNINIT_RANDOM_UNIFORM,
    NNINIT_TRUNCATED_NORMAL,
    NNINIT_VARIANCE_SCALING,
    NNINIT_GLOROT_NORMAL,
    NNINIT_GLOROT_UNIFORM,
    NNINIT_HE_NORMAL,
    NNINIT_HE_UNIFORM,
    NNINIT_LECUN_NORMAL,
    NNINIT_LECUN_UNIFORM,
    NNINIT_ORTHOGONAL,
    NNINIT_IDENTITY,
    /* torch.nn.init */
    NNINIT_TORCH_UNIFORM,
    NNINIT_TORCH_NORMAL,
    NNINIT_TORCH_TRUNC_NORMAL,
    NNINIT_TORCH_CONSTANT,
    NNINIT_TORCH_ONES,
    NNINIT_TORCH_ZEROS,
    NNINIT_TORCH_EYE,
    NNINIT_TORCH_DIRAC,
    NNINIT_TORCH_XAVIER_UNIFORM,
    NNINIT_TORCH_XAVIER_NORMAL,
    NNINIT_TORCH_KAIMING_UNIFORM,
    NNINIT_TORCH_KAIMING_NORMAL,
    NNINIT_TORCH_ORTHOGONAL,
    NNINIT_TORCH_SPARSE,
    /* nninit extensions (what neither framework has) */
    NNINIT_DELTA_ORTHOGONAL,   /* Xiao et al. 2018: orthogonal (in, out) at the kernel centre, any rank >= 2 */
    NNINIT_IDENTITY_RECURRENT, /* Le et al. 2015 (IRNN): gain * I in every gate block of a fused recurrent kernel */
    NNINIT_SCALED_RESIDUAL,    /* GPT-2: N(0, std / sqrt(branches * num_layers)) for residual projections */
    NNINIT_FIXUP,              /* Zhang et al. 2019: He normal times num_layers^(-1/(2m-2)) */
    NNINIT_STFT,               /* keras.initializers.STFT: windowed DFT kernels (frame, channels, bins) */
    NNINIT_INIT_KIND_COUNT
} nninit_init_kind;

typedef enum nninit_fan_mode { NNINIT_FAN_IN = 0, NNINIT_FAN_OUT, NNINIT_FAN_AVG } nninit_fan_mode;

typedef enum nninit_distribution {
    NNINIT_DIST_TRUNCATED_NORMAL = 0, /* Keras "truncated_normal" (alias "normal") */
    NNINIT_DIST_UNTRUNCATED_NORMAL,
    NNINIT_DIST_UNIFORM
} nninit_distribution;

/* torch.nn.init.calculate_gain's nonlinearities. */
typedef enum nninit_nonlinearity {
    NNINIT_NL_LINEAR = 0,
    NNINIT_NL_CONV1D,
    NNINIT_NL_CONV2D,
    NNINIT_NL_CONV3D,
    NNINIT_NL_CONV_TRANSPOSE1D,
    NNINIT_NL_CONV_TRANSPOSE2D,
    NNINIT_NL_CONV_TRANSPOSE3D,
    NNINIT_NL_SIGMOID,
    NNINIT_NL_TANH,
    NNINIT_NL_RELU,
    NNINIT_NL_LEAKY_RELU,
    NNINIT_NL_SELU
} nninit_nonlinearity;

#define NNINIT_MAX_AXES NNINIT_MAX_DIMS

/* Windows of keras.initializers.STFT (scipy.signal.get_window names). */
typedef enum nninit_stft_window {
    NNINIT_WINDOW_NONE = 0,
    NNINIT_WINDOW_HANN,
    NNINIT_WINDOW_HAMMING,
    NNINIT_WINDOW_BLACKMAN,
    NNINIT_WINDOW_BLACKMANHARRIS,
    NNINIT_WINDOW_NUTTALL,
    NNINIT_WINDOW_FLATTOP,
    NNINIT_WINDOW_BARTLETT,
    NNINIT_WINDOW_TRIANG,
    NNINIT_WINDOW_BOXCAR,
    NNINIT_WINDOW_COSINE
} nninit_stft_window;

/*
 * An initializer and its parameters. Start from nninit_init_default(kind)
 * (or nninit_init_parse) so that every field has the reference default;
 * each kind reads only the fields listed in nninit_list / docs/catalogue.md.
 */
typedef struct nninit_init {
    nninit_init_kind kind;
    double mean, stddev;        /* random_normal, truncated_normal, normal_, trunc_normal_ (std) */
    double minval, maxval;      /* random_uniform; uniform_ (a, b) */
    double a, b;                /* trunc_normal_ absolute bounds */
    double value;               /* constant, constant_ (val) */
    double scale;               /* variance_scaling */
    nninit_fan_mode mode;       /* variance_scaling, kaiming_* */
    nninit_distribution distribution; /* variance_scaling */
    double gain;                /* orthogonal, identity, xavier_*, orthogonal_ */
    double neg_slope;           /* kaiming_* "a" */
    nninit_nonlinearity nonlinearity; /* kaiming_* */
    double sparsity;            /* sparse_ */
    int64_t groups;             /* dirac_ */
    int has_value;              /* constant_: val was given (it has no default) */
    int has_sparsity;           /* sparse_: sparsity was given (no default) */
    int has_seed;               /* a Keras config "seed" was given */
    uint64_t seed;
    int64_t num_layers;         /* scaled_residual, fixup: residual branches in the network (L) */
    int64_t branches;           /* scaled_residual: residual additions per layer (2 in GPT-2) */
    int64_t fixup_m;            /* fixup: layers per residual branch (m >= 2) */
    int stft_imag;              /* stft: side "imag" (1) or "real" (0, default) */
    int stft_window;            /* stft: nninit_stft_window, default hann */
    int stft_scaling;           /* stft: 0 none, 1 "density" (default, L2), 2 "spectrum" (L1) */
    int stft_periodic;          /* stft: periodic window (scipy fftbins=True); default 0 */
    int n_input_axes, n_output_axes; /* Keras >= 3.15 VarianceScaling axes; 0 = rank rule */
    int input_axes[NNINIT_MAX_AXES], output_axes[NNINIT_MAX_AXES];
} nninit_init;

/* The initializer `kind` with every parameter at its reference default. */
NNINIT_API nninit_init nninit_init_default(nninit_init_kind kind);

/* Canonical name: Keras snake_case id ("glorot_uniform") or the torch
 * function name with underscore ("kaiming_uniform_"). */
NNINIT_API const char *nninit_init_kind_name(nninit_init_kind kind);

/* Class name for serialization: Keras' ("GlorotUniform"), nninit's for the
 * extensions ("DeltaOrthogonal", module "nninit"), NULL for torch kinds. */
NNINIT_API const char *nninit_init_kind_class(nninit_init_kind kind);

/* Resolves any accepted name: snake_case ids, CamelCase class names, every
 * Keras alias ("normal", "uniform", "zero", "one", "IdentityInitializer",
 * "OrthogonalInitializer") and torch names with or without the trailing
 * underscore. Bare names that both frameworks use ("uniform", "normal",
 * "constant", "orthogonal", "zeros", "ones") mean the Keras initializer;
 * the trailing underscore selects PyTorch's. Case-sensitive, as Keras is.
 * NNINIT_ENOTFOUND with a "did you mean" suggestion in err. */
NNINIT_API nninit_status nninit_init_kind_parse(const char *name, nninit_init_kind *out, nninit_err *err);

/*
 * Parses an initializer SPEC:
 *   a name                  he_normal | HeNormal | kaiming_uniform_
 *   a call with keywords    VarianceScaling(scale=2.0, mode="fan_out", distribution="uniform")
 *                           kaiming_normal(a=0.1, mode="fan_out", nonlinearity="leaky_relu")
 *   Keras serialized JSON   {"module": "keras.initializers", "class_name": "GlorotUniform",
 *                            "config": {"seed": null}, "registered_name": null}
 *                           (Keras 2 form without "module" too; a bare JSON string id)
 *   @path                   the JSON (or a name/call) read from a file
 * Unknown names or keywords, mistyped values, NaN/inf, and values outside
 * the reference's accepted range are NNINIT_EINVAL / NNINIT_ENOTFOUND.
 * On failure *out is set to nninit_init_default(NNINIT_ZEROS).
 */
NNINIT_API nninit_status nninit_init_parse(const char *spec, nninit_init *out, nninit_err *err);

/* Checks parameter ranges (stddev >= 0, scale > 0, minval <= maxval, ...). */
NNINIT_API nninit_status nninit_init_validate(const nninit_init *init, nninit_err *err);

/* The Keras 3 serialized JSON of `init` (what keras.initializers.serialize
 * prints); torch-only kinds use module "nninit.torch" and the torch
 * function name as class_name. *json is NUL-terminated, free with nninit_free. */
NNINIT_API nninit_status nninit_init_to_json(const nninit_init *init, char **json, nninit_err *err);

/* torch.nn.init.calculate_gain(nonlinearity, param): has_param = 0 means
 * param=None. Names as PyTorch spells them. */
NNINIT_API nninit_status nninit_calculate_gain(const char *nonlinearity, int has_param, double param,
                                               double *gain, nninit_err *err);
NNINIT_API const char *nninit_nonlinearity_name(nninit_nonlinearity nl);
NNINIT_API nninit_status nninit_nonlinearity_parse(const char *name, nninit_nonlinearity *out, nninit_err *err);
NNINIT_API const char *nninit_fan_mode_name(nninit_fan_mode m);
NNINIT_API const char *nninit_distribution_name(nninit_distribution d);

/* ------------------------------------------------------------------------ */
/* Resolution: initializer + shape -> a primitive distribution               */
/* ------------------------------------------------------------------------ */

typedef enum nninit_prim_kind {
    NNINIT_PRIM_CONSTANT = 0, /* every element = value */
    NNINIT_PRIM_UNIFORM,      /* U[lo, hi) */
    NNINIT_PRIM_NORMAL,       /* N(mean, std) */
    NNINIT_PRIM_TRUNC_NORMAL, /* N(mean, std) restricted to [a, b] (absolute) */
    NNINIT_PRIM_ORTHOGONAL,   /* gain * Q of a (rows, cols) flattening */
    NNINIT_PRIM_EYE,          /* gain * eye(rows, cols) */
    NNINIT_PRIM_DIRAC,        /* torch dirac_(groups) */
    NNINIT_PRIM_SPARSE,       /* N(0, std) with ceil(sparsity*rows) zeros per column */
    NNINIT_PRIM_BLOCK_EYE,    /* gain * I in each (min, min) block of a (rows, cols) matrix */
    NNINIT_PRIM_DELTA_ORTHOGONAL, /* gain * orthogonal (rows=in, cols=out) at the kernel centre */
    NNINIT_PRIM_STFT              /* Keras STFT kernel, parameters in the initializer */
} nninit_prim_kind;

/* The primitive an initializer reduces to for one shape, with parameters
 * computed in double in the reference's own order of operations. */
typedef struct nninit_prim {
    nninit_prim_kind kind;
    int64_t fan_in, fan_out;    /* under the layout used (0 if not needed) */
    double value;               /* CONSTANT */
    double lo, hi;              /* UNIFORM */
    double mean, std;           /* NORMAL, TRUNC_NORMAL, SPARSE (std) */
    double a, b;                /* TRUNC_NORMAL bounds */
    double gain;                /* ORTHOGONAL, EYE */
    int64_t rows, cols;         /* ORTHOGONAL (flattened), EYE, SPARSE */
    int torch_flatten;          /* ORTHOGONAL: 1 = rows = dim0 (torch), 0 = cols = last dim (Keras);
                                   DELTA_ORTHOGONAL: 1 = torch layout (out, in, *k), 0 = Keras (*k, in, out) */
    int64_t groups;             /* DIRAC */
    double sparsity;            /* SPARSE */
    double expected_std;        /* std of the values this primitive produces */
} nninit_prim;

NNINIT_API nninit_status nninit_resolve(const nninit_init *init, const nninit_shape *shape,
                                        nninit_layout layout, nninit_prim *out, nninit_err *err);

/* ------------------------------------------------------------------------ */
/* Random number generators                                                  */
/* ------------------------------------------------------------------------ */

typedef enum nninit_rng_kind {
    NNINIT_RNG_PHILOX = 0,      /* counter-based Philox4x32-10 (default) */
    NNINIT_RNG_TORCH,           /* PyTorch 1.13 CPU generator, variant PyTorch would pick on this CPU */
    NNINIT_RNG_TORCH_DEFAULT,   /* PyTorch 1.13, ATEN_CPU_CAPABILITY=default arithmetic */
    NNINIT_RNG_TORCH_AVX2,      /* PyTorch 1.13, AVX2 kernel arithmetic (portable C, fma()) */
    NNINIT_RNG_TORCH2,          /* PyTorch 2.x main, auto variant */
    NNINIT_RNG_TORCH2_DEFAULT,
    NNINIT_RNG_TORCH2_AVX2
} nninit_rng_kind;

typedef struct nninit_rng nninit_rng;

/* "philox", "torch", "torch:default", "torch:avx2", "torch2", "torch2:default", "torch2:avx2". */
NNINIT_API nninit_status nninit_rng_kind_parse(const char *name, nninit_rng_kind *out, nninit_err *err);
NNINIT_API const char *nninit_rng_kind_name(nninit_rng_kind kind);

/* A generator seeded with `seed` (any 64-bit value; for the torch kinds the
 * value torch.manual_seed receives, negative seeds passed as their two's
 * complement, as torch maps them). Free with nninit_rng_free. */
NNINIT_API nninit_status nninit_rng_new(nninit_rng_kind kind, uint64_t seed, nninit_rng **out, nninit_err *err);
NNINIT_API void nninit_rng_free(nninit_rng *rng);
NNINIT_API nninit_rng_kind nninit_rng_get_kind(const nninit_rng *rng);
/* The torch kinds after auto-detection (NNINIT_RNG_TORCH_DEFAULT or _AVX2 ...). */
NNINIT_API nninit_rng_kind nninit_rng_resolved_kind(const nninit_rng *rng);
NNINIT_API uint64_t nninit_rng_seed(const nninit_rng *rng);

/* One Philox4x32-10 block: out = philox(ctr, key). Known-answer tested
 * against Random123. */
NNINIT_API void nninit_philox4x32_10(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]);

/* A stream id derived from a tensor name (64-bit FNV-1a), so that a model's
 * tensors get independent streams that do not depend on their order. */
NNINIT_API uint64_t nninit_stream_from_name(const char *name);

/* ------------------------------------------------------------------------ */
/* Filling tensors                                                           */
/* ------------------------------------------------------------------------ */

typedef struct nninit_fill_opts {
    nninit_layout layout; /* decides fans and nothing else */
    nninit_dtype dtype;   /* NNINIT_F32 or NNINIT_F64 */
    uint64_t stream;      /* Philox stream (ignored by the torch generators) */
    int threads;          /* 0 = all online CPUs; bits never depend on it */
} nninit_fill_opts;

/* layout keras, float32, stream 0, threads 0. */
NNINIT_API nninit_fill_opts nninit_fill_opts_default(void);

/*
 * Fills `out` (caller-owned, numel(shape) elements of opts->dtype) with
 * `init` for a weight of `shape`.
 *   rng   Philox: read only, may be shared between threads.
 *         torch: advanced exactly as the same init_ call advances PyTorch's
 *         CPU generator; not thread-safe.
 * Returns NNINIT_OK, NNINIT_EINVAL (bad parameter for this shape, zero fan
 * for torch), NNINIT_EOVERFLOW, NNINIT_ENOMEM, NNINIT_EUNSUPPORTED (dtype).
 * On failure `out` may be partly written for torch generators only if the
 * error arose after drawing began (never for parameter errors).
 */
NNINIT_API nninit_status nninit_fill(const nninit_init *init, const nninit_shape *shape,
                                     const nninit_fill_opts *opts, nninit_rng *rng, void *out,
                                     nninit_err *err);

/*
 * Elements [begin, end) of the tensor nninit_fill would produce, written to
 * out[0 .. end-begin). Bit-identical to the slice of the whole tensor for
 * every initializer; structured ones (orthogonal, sparse_) compute the whole
 * tensor internally. Philox generators only (NNINIT_EUNSUPPORTED otherwise).
 */
NNINIT_API nninit_status nninit_fill_range(const nninit_init *init, const nninit_shape *shape,
                                           const nninit_fill_opts *opts, const nninit_rng *rng,
                                           int64_t begin, int64_t end, void *out, nninit_err *err);

/* ------------------------------------------------------------------------ */
/* Statistics                                                                */
/* ------------------------------------------------------------------------ */

typedef struct nninit_stats {
    int64_t n;
    double mean, std; /* population std */
    double min, max;
} nninit_stats;

/* Mean/std/min/max accumulated in double, in fixed-size chunks added in
 * order, so the result does not depend on threads. */
NNINIT_API nninit_status nninit_stats_compute(nninit_dtype dtype, const void *data, int64_t n,
                                              nninit_stats *out, nninit_err *err);

/* ------------------------------------------------------------------------ */
/* Files: NumPy .npy                                                         */
/* ------------------------------------------------------------------------ */

/* Writes a .npy v1.0 file (little-endian, C order) atomically: a temporary
 * file in the same folder, fsync, then rename; nothing is left on failure. */
NNINIT_API nninit_status nninit_npy_write(const char *path, nninit_dtype dtype, const nninit_shape *shape,
                                          const void *data, nninit_err *err);

/* Reads a .npy file (v1/v2/v3, '<f4' '<f8' '>f4' '>f8' '<f2' '<u2' bf16 is not
 * a NumPy dtype). *data is malloc'd (free with nninit_free). */
NNINIT_API nninit_status nninit_npy_read(const char *path, nninit_dtype *dtype, nninit_shape *shape,
                                         void **data, nninit_err *err);

/* Same as nninit_npy_read on a buffer already in memory. */
NNINIT_API nninit_status nninit_npy_parse(const void *buf, size_t len, nninit_dtype *dtype,
                                          nninit_shape *shape, void **data, nninit_err *err);

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
    NNINIT_ACT_COUNT
} nninit_act;

NNINIT_API const char *nninit_act_name(nninit_act act); /* "relu", "leaky_relu", ... */
/* Parses "relu", "silu" (= swish), "leaky_relu", "leaky_relu(0.1)", "elu(0.5)"
 * ("alpha=0.1" and "negative_slope=0.1" inside the parentheses too). *alpha
 * gets the parameter or its default (0.2 leaky_relu, 1 elu, else 0). */
NNINIT_API nninit_status nninit_act_parse(const char *text, nninit_act *act, double *alpha, nninit_err *err);
/* a = act(z) on (rows, n); softmax is taken over each row of n. a may be z. */
NNINIT_API void nninit_act_forward(nninit_act act, double alpha, const float *z, float *a, int64_t rows,
                                   int64_t n);
/* dz = da * act'(z) (softmax: the row Jacobian-vector product), given z and
 * a = act(z) of the forward. dz may be da. */
NNINIT_API void nninit_act_backward(nninit_act act, double alpha, const float *z, const float *a,
                                    const float *da, float *dz, int64_t rows, int64_t n);

typedef enum nninit_layer_kind {
    NNINIT_LAYER_DENSE = 0,  /* y = act(x W + b), W (in, out) whatever the init layout */
    NNINIT_LAYER_ACTIVATION, /* y = act(x) */
    NNINIT_LAYER_BATCHNORM,  /* per feature over the batch; running statistics for evaluation */
    NNINIT_LAYER_DROPOUT     /* inverted dropout (scaled by 1/(1-rate) in training, identity in evaluation) */
} nninit_layer_kind;

NNINIT_API const char *nninit_layer_kind_name(nninit_layer_kind kind); /* "dense", "activation", ... */

#define NNINIT_SPEC_MAX 512

/* One layer of a model description. Start from nninit_layer_desc_default. */
typedef struct nninit_layer_desc {
    nninit_layer_kind kind;
    int64_t units;                     /* dense: output width */
    int use_bias;                      /* dense: default 1 */
    nninit_act act;                    /* dense (applied after the bias) and activation layers */
    double alpha;                      /* act's parameter (see nninit_act_parse) */
    char kernel_init[NNINIT_SPEC_MAX]; /* dense: initializer SPEC, default "glorot_uniform" (Keras Dense) */
    char bias_init[NNINIT_SPEC_MAX];   /* dense: default "zeros" */
    char gamma_init[NNINIT_SPEC_MAX];  /* batchnorm: default "ones" */
    char beta_init[NNINIT_SPEC_MAX];   /* batchnorm: default "zeros" */
    double momentum, epsilon;          /* batchnorm: default 0.99, 0.001 (Keras) */
    double rate;                       /* dropout: fraction dropped in [0, 1) */
} nninit_layer_desc;

NNINIT_API nninit_layer_desc nninit_layer_desc_default(nninit_layer_kind kind);

/* A multilayer perceptron recipe, expanded by nninit_model_mlp into layers:
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
NNINIT_API nninit_status nninit_model_mlp(const nninit_mlp_desc *mlp, nninit_layer_desc **layers, int *n_layers,
                                          nninit_err *err);
/*
 * Parses a model description in JSON: either an array of layers or an
 * object {"layers": [...]} (a Keras Sequential config, whose "layers" has
 * this form, is accepted; InputLayer entries are skipped). A layer is
 *   {"class_name": "Dense", "config": {"units": 256, "activation": "relu",
 *    "kernel_initializer": "he_normal", "bias_initializer": "zeros", "use_bias": true}}
 * or the same keys flat, with "class_name" (Dense, Activation,
 * BatchNormalization, Dropout, case-insensitive, snake_case too).
 * Initializers are SPEC strings or Keras serialized objects. Unknown keys are
 * an error (a typo must not silently change the model); Keras bookkeeping
 * keys (name, trainable, dtype, ...) are ignored. *layers: free with nninit_free.
 */
NNINIT_API nninit_status nninit_model_parse_json(const char *text, nninit_layer_desc **layers, int *n_layers,
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
 * from 0). Under the torch layout the kernel is filled as (out, in) and
 * transposed into the engine's (in, out). Free with nninit_net_free.
 * NNINIT_EINVAL (bad description or initializer), NNINIT_ENOTFOUND, NNINIT_ENOMEM.
 */
NNINIT_API nninit_status nninit_net_new(int64_t n_inputs, const nninit_layer_desc *layers, int n_layers,
                                        const nninit_net_opts *opts, nninit_net **out, nninit_err *err);
NNINIT_API void nninit_net_free(nninit_net *net);

NNINIT_API int nninit_net_n_layers(const nninit_net *net);
NNINIT_API int64_t nninit_net_n_inputs(const nninit_net *net);
NNINIT_API int64_t nninit_net_n_outputs(const nninit_net *net);
NNINIT_API int64_t nninit_net_n_params(const nninit_net *net); /* trainable scalars */

typedef struct nninit_layer_info {
    nninit_layer_kind kind;
    const char *name;     /* "dense_0"; lives as long as the net */
    int64_t n_in, n_out;
    nninit_act act;
    double alpha;
    int n_params;         /* 0, 1 (dense without bias) or 2 */
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

/* Parameter `which` of a layer: dense 0 kernel (in, out), 1 bias (out);
 * batchnorm 0 gamma, 1 beta. *value may be written (for example by a
 * data-dependent init); *grad holds the last backward's gradient. Pointers
 * live as long as the net; any output pointer may be NULL.
 * NNINIT_EINVAL if the layer has no such parameter. */
NNINIT_API nninit_status nninit_net_param(nninit_net *net, int layer, int which, float **value, float **grad,
                                          nninit_shape *shape, const char **name, nninit_err *err);

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
 */
typedef struct nninit_optim_opts {
    nninit_optimizer kind;  /* default sgd */
    double lr;              /* default 0.01 */
    double momentum;        /* sgd, default 0 */
    int nesterov;
    double weight_decay;    /* default 0 */
    double beta1, beta2, eps; /* adam: 0.9, 0.999, 1e-8 (torch) */
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

/* ---- IDX files and data sets ---- */

/* An IDX array (LeCun's MNIST format). data holds numel values of the type
 * code (0x08 u8, 0x09 i8, 0x0B i16, 0x0C i32, 0x0D f32, 0x0E f64) in host
 * byte order; free with nninit_idx_free. */
typedef struct nninit_idx {
    int type;
    nninit_shape shape;
    void *data;
    size_t nbytes;
} nninit_idx;

/* Reads an IDX file, gzip-compressed or plain. Checks the magic, the rank
 * (1..NNINIT_MAX_DIMS), every dimension, the data size against the header
 * (truncated data and trailing bytes are both NNINIT_EFORMAT) before
 * allocating. NNINIT_ENOTFOUND / NNINIT_EIO for the file itself. */
NNINIT_API nninit_status nninit_idx_read(const char *path, nninit_idx *out, nninit_err *err);
/* Same checks on an uncompressed IDX image in memory; `what` names it in messages. */
NNINIT_API nninit_status nninit_idx_parse(const void *buf, size_t len, const char *what, nninit_idx *out,
                                          nninit_err *err);
NNINIT_API void nninit_idx_free(nninit_idx *idx);

/* A classification data set: x (n, dim) float32, y (n) in [0, n_classes). */
typedef struct nninit_dataset {
    int64_t n, dim;
    int32_t n_classes;
    float *x;
    int32_t *y;
} nninit_dataset;

/* The folder nninit_dataset_load uses when given NULL: $NNINIT_DATA if set
 * and not empty, else /usr/share/datasets/fashion-mnist (Debian's
 * dataset-fashion-mnist). */
NNINIT_API const char *nninit_dataset_default_dir(void);

/*
 * Loads split "train" or "t10k" from dir (NULL: the default): the files
 * <split>-images-idx3-ubyte and <split>-labels-idx1-ubyte, each with or
 * without ".gz". Images become float32 scaled to [0, 1] (x / 255), one row
 * per image. Checks that the counts agree and every label is < 256.
 * n_classes = 1 + the largest label. Free with nninit_dataset_free.
 * NNINIT_ENOTFOUND (the message says how to install the data), NNINIT_EFORMAT.
 */
NNINIT_API nninit_status nninit_dataset_load(const char *dir, const char *split, nninit_dataset *out,
                                             nninit_err *err);
NNINIT_API void nninit_dataset_free(nninit_dataset *d);

/* Standardises with one mean and std over every value of train (computed in
 * double, in order) and applies the same to other (may be NULL). *mean and
 * *std (may be NULL) get the values used. NNINIT_EINVAL if train is constant. */
NNINIT_API nninit_status nninit_dataset_standardize(nninit_dataset *train, nninit_dataset *other, double *mean,
                                                    double *std, nninit_err *err);

/* Moves a seeded random fraction of train's rows into *val (the rest stay,
 * in their order). fraction in (0, 1), at least one row each side. */
NNINIT_API nninit_status nninit_dataset_split(nninit_dataset *train, double fraction, uint64_t seed,
                                              nninit_dataset *val, nninit_err *err);

/* perm = a uniformly random permutation of 0..n-1 (Fisher-Yates, bounded
 * integers by rejection from the Philox words of (seed, stream)). */
NNINIT_API nninit_status nninit_permutation(int64_t *perm, int64_t n, uint64_t seed, uint64_t stream,
                                            nninit_err *err);

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
/* Theory: mean-field signal propagation (Poole et al. 2016, Schoenholz et   */
/* al. 2017) and SVG line plots                                              */
/* ------------------------------------------------------------------------ */

/*
 * An infinitely wide dense net h_l = a_{l-1} W_l + b_l, a_l = phi(h_l), with
 * sigma_w^2 = fan_in Var(W_ij) and sigma_b^2 = E[b_i^2]. Expectations over
 * z ~ N(0, 1) use closed forms for linear, relu, leaky_relu and erf, and
 * otherwise a composite Gauss-Legendre rule on z in [-12, 12] split at the
 * activation's kink (48 panels x 16 points per side in 1-D, 16 x 10 per side
 * and dimension in 2-D, the inner one split where phi(u2) has its kink),
 * panels graded towards the split. Measured: 1-D moments agree with closed
 * forms (erf) to 1e-13 relative for q in [1e-2, 1e4] and with SciPy's
 * adaptive quadrature to 1e-11; 2-D ones with a 4x finer rule to 1e-13 for
 * q <= 10 and with SciPy to 1e-9 (tests/test_theory.c). All functions are
 * pure and reentrant.
 */
typedef enum nninit_theory_act {
    NNINIT_THEORY_LINEAR = 0,
    NNINIT_THEORY_RELU,
    NNINIT_THEORY_LEAKY_RELU, /* alpha = negative slope */
    NNINIT_THEORY_ELU,        /* alpha */
    NNINIT_THEORY_SELU,
    NNINIT_THEORY_GELU,       /* exact: x Phi(x) */
    NNINIT_THEORY_SWISH,      /* x sigmoid(x) */
    NNINIT_THEORY_TANH,
    NNINIT_THEORY_SIGMOID,
    NNINIT_THEORY_ERF,
    NNINIT_THEORY_ACT_COUNT
} nninit_theory_act;

NNINIT_API const char *nninit_theory_act_name(nninit_theory_act act); /* "tanh", ... */
/* Accepts the names above, "silu", and "leaky_relu(0.1)" / "elu(0.5)";
 * *alpha gets the parameter or its default (0.2 leaky_relu, 1 elu, else 0). */
NNINIT_API nninit_status nninit_theory_act_parse(const char *text, nninit_theory_act *act, double *alpha,
                                                 nninit_err *err);
/* The engine's activation as a theory activation; NNINIT_EUNSUPPORTED for softmax. */
NNINIT_API nninit_status nninit_theory_act_from_act(nninit_act act, nninit_theory_act *out, nninit_err *err);

/* Gaussian moments of phi at pre-activation variance q: h = sqrt(q) z. */
typedef struct nninit_theory_moments {
    double mean;   /* E[phi(h)] */
    double m2;     /* E[phi(h)^2]: the length map is V(q) = sw2 m2 + sb2 */
    double d2;     /* E[phi'(h)^2]: chi = sw2 d2 */
    double dv;     /* E[phi'(h)^2 + phi(h) phi''(h)] = dm2/dq: V'(q) = sw2 dv */
    double d4;     /* E[phi'(h)^4]: with d2, the spread of the Jacobian's spectrum */
} nninit_theory_moments;

NNINIT_API nninit_status nninit_theory_moments_at(nninit_theory_act act, double alpha, double q,
                                                  nninit_theory_moments *out, nninit_err *err);

/* Two pre-activations with variances q11, q22 and correlation c in [-1, 1]:
 * *e_pp = E[phi(u1) phi(u2)], *e_dd = E[phi'(u1) phi'(u2)] (either may be NULL). */
NNINIT_API nninit_status nninit_theory_corr(nninit_theory_act act, double alpha, double q11, double q22, double c,
                                            double *e_pp, double *e_dd, nninit_err *err);

typedef struct nninit_theory_net {
    nninit_theory_act act;
    double alpha;  /* leaky_relu slope, elu alpha */
    double sw2;    /* sigma_w^2 >= 0 */
    double sb2;    /* sigma_b^2 >= 0 */
} nninit_theory_net;

typedef enum nninit_theory_phase {
    NNINIT_PHASE_ORDERED = 0, /* chi_1 < 1: inputs collapse together, gradients vanish */
    NNINIT_PHASE_CRITICAL,    /* |chi_1 - 1| <= 1e-6: the edge of chaos */
    NNINIT_PHASE_CHAOTIC,     /* chi_1 > 1: nearby inputs decorrelate, gradients explode */
    NNINIT_PHASE_UNBOUNDED    /* no finite q*: the length grows without bound from q0 */
} nninit_theory_phase;

NNINIT_API const char *nninit_theory_phase_name(nninit_theory_phase p); /* "ordered", ... */

typedef struct nninit_theory_point {
    double q_star;   /* fixed point of the length map reached from q0 (+inf: none) */
    double chi1;     /* sw2 E[phi'(sqrt(q*) z)^2]: slope of the correlation map at c = 1 */
    double dv_dq;    /* V'(q*): slope of the length map at q* */
    double c_star;   /* attracting fixed point of the correlation map (1 unless chaotic) */
    double chi_c;    /* sw2 E[phi'(u1) phi'(u2)] at (q*, c*): slope of the correlation map at c* */
    double xi_q;     /* -1/ln V'(q*)  (+inf when V'(q*) >= 1) */
    double xi_c;     /* -1/ln chi_c   (+inf when chi_c >= 1) */
    nninit_theory_phase phase;
} nninit_theory_point;

/*
 * Fixed points, chi_1 and depth scales of `net` for inputs of second moment
 * q0 > 0 (||x||^2 / n_in). q* is the limit of the length-map iteration from
 * q0 (the nearest fixed point in the direction V(q0) - q0 points, found by
 * bracketing and Brent's method to 1e-14 relative); with sb2 = 0 it may be 0
 * (tanh at sw2 <= 1). c* = 1 unless chaotic, then the root of C(c) = c in
 * [0, 1). NaN for quantities undefined in the unbounded phase.
 * NNINIT_EINVAL for a bad act or negative/non-finite parameter.
 */
NNINIT_API nninit_status nninit_theory_analyze(const nninit_theory_net *net, double q0, nninit_theory_point *out,
                                               nninit_err *err);

/* One layer of the mean-field recursion through `depth` equal-width layers. */
typedef struct nninit_theory_layer {
    double q;         /* E[h_l^2]: pre-activation variance (h has mean 0) */
    double c;         /* correlation of two inputs' pre-activations */
    double act_mean;  /* E[a_l] */
    double act_var;   /* Var(a_l) over units and inputs = m2 - mean^2 */
    double chi;       /* sw2 E[phi'(h_l)^2]: backward gain of layer l */
    double grad_out;  /* E[(dL/da_l)^2] relative to the output's (1 at the last layer) */
    double grad_in;   /* E[(dL/da_{l-1})^2] = chi * grad_out */
} nninit_theory_layer;

/* out[0 .. depth): layer 1 gets q^1 = sw2 q0 + sb2 and c^1 = (sw2 c0 q0 +
 * sb2) / q^1 (the input is not passed through phi); then q^l = V(q^{l-1}),
 * c^l = (sw2 E[phi phi] + sb2) / q^l. c0 in [-1, 1]. A q that overflows
 * stops the recursion with NNINIT_ENUMERIC. */
NNINIT_API nninit_status nninit_theory_layers(const nninit_theory_net *net, double q0, double c0, int depth,
                                              nninit_theory_layer *out, nninit_err *err);

/* The sw2 on the order-to-chaos line (chi_1 = 1) at sb2 for inputs of second
 * moment q0: closed form for linear (1), relu (2) and leaky_relu
 * (2 / (1 + alpha^2)); otherwise Brent's method on chi_1(sw2) - 1 over
 * [1e-3, 1e4] to 1e-12 relative. NNINIT_ENOTFOUND if chi_1 never reaches 1
 * there. */
NNINIT_API nninit_status nninit_theory_critical(nninit_theory_act act, double alpha, double sb2, double q0,
                                                double *sw2, nninit_err *err);

/*
 * What an initializer means for the theory in a dense layer of (fan_in,
 * fan_out) under Keras layout: *sw2 = fan_in * expected_std^2 of the
 * resolved primitive, *mean = the weights' mean (mean-field theory assumes
 * 0; a constant or shifted init breaks its assumptions). For a bias init
 * pass fan_in = 0 and fan_out = the width: *sw2 then gets E[b^2] =
 * std^2 + mean^2 (the sigma_b^2 the theory uses).
 */
NNINIT_API nninit_status nninit_theory_from_init(const nninit_init *init, int64_t fan_in, int64_t fan_out,
                                                 double *sw2, double *mean, nninit_err *err);

/* ---- SVG line plots (dependency-free; one or more panels side by side) ---- */

typedef struct nninit_plot_series {
    const char *label;  /* legend text (may be NULL) */
    const double *x, *y;
    int64_t n;
    int dashed;         /* 1: dashed line (e.g. a prediction next to a measurement) */
    int color;          /* palette index; -1: the series' position */
} nninit_plot_series;

typedef struct nninit_plot {
    const char *title, *xlabel, *ylabel;
    int log_x, log_y;   /* log10 axes (points <= 0 are skipped) */
    const nninit_plot_series *series;
    int n_series;
} nninit_plot;

/* The SVG document (NUL-terminated, free with nninit_free). Non-finite
 * points break a line. NNINIT_EINVAL for no panel, NNINIT_ENOMEM. */
NNINIT_API nninit_status nninit_svg_render(const nninit_plot *plots, int n_plots, char **svg, nninit_err *err);
/* The same written atomically to path. NNINIT_EIO. */
NNINIT_API nninit_status nninit_svg_write(const char *path, const nninit_plot *plots, int n_plots,
                                          nninit_err *err);

/* ------------------------------------------------------------------------ */
/* Tensor files: safetensors (single or sharded), npz, folders of .npy       */
/* ------------------------------------------------------------------------ */

/* Element types a tensor file may hold: the safetensors dtype set. Values
 * are only appended; names are the safetensors names ("F32", "BF16", ...). */
typedef enum nninit_file_dtype {
    NNINIT_FD_BOOL = 0, NNINIT_FD_F4, NNINIT_FD_F6_E2M3, NNINIT_FD_F6_E3M2, NNINIT_FD_U8, NNINIT_FD_I8,
    NNINIT_FD_F8_E5M2, NNINIT_FD_F8_E4M3, NNINIT_FD_F8_E8M0, NNINIT_FD_I16, NNINIT_FD_U16, NNINIT_FD_F16,
    NNINIT_FD_BF16, NNINIT_FD_I32, NNINIT_FD_U32, NNINIT_FD_F32, NNINIT_FD_C64, NNINIT_FD_F64, NNINIT_FD_I64,
    NNINIT_FD_U64,
    NNINIT_FD_COUNT
} nninit_file_dtype;

NNINIT_API const char *nninit_file_dtype_name(nninit_file_dtype d); /* "F32"; "?" if out of range */
NNINIT_API int nninit_file_dtype_bits(nninit_file_dtype d);         /* 4 .. 64; 0 if out of range */
NNINIT_API nninit_status nninit_file_dtype_parse(const char *name, nninit_file_dtype *out, nninit_err *err);
/* The file dtype of a generation dtype (NNINIT_F32 -> NNINIT_FD_F32, ...). */
NNINIT_API nninit_file_dtype nninit_file_dtype_of(nninit_dtype d);

/* Converts n elements from a float, integer or BOOL type to F32, F64, BF16
 * or F16, rounding once to nearest-even (as torch's .to() does); overflow
 * gives inf, NaN stays NaN. in and out may be the same buffer only when
 * the types have the same size. NNINIT_EUNSUPPORTED for other types. */
NNINIT_API nninit_status nninit_convert(nninit_file_dtype from, const void *in, nninit_file_dtype to, void *out,
                                        size_t n, nninit_err *err);

typedef enum nninit_file_format {
    NNINIT_FORMAT_SAFETENSORS = 0, /* one .safetensors, or shards + model.safetensors.index.json */
    NNINIT_FORMAT_NPZ,             /* zip of NAME.npy members, stored (numpy.savez) */
    NNINIT_FORMAT_NPZ_DEFLATED,    /* numpy.savez_compressed */
    NNINIT_FORMAT_NPY_DIR,         /* a folder with one NAME.npy per tensor */
    NNINIT_FORMAT_NPY,             /* (reading only) a single .npy */
    NNINIT_FORMAT_SAFETENSORS_INDEX /* (reading only) a sharded checkpoint's index */
} nninit_file_format;

/* "safetensors", "npz", "npz-deflated", "npy-dir", "npy", "safetensors-index". */
NNINIT_API const char *nninit_file_format_name(nninit_file_format f);
NNINIT_API nninit_status nninit_file_format_parse(const char *name, nninit_file_format *out, nninit_err *err);

/* One tensor to write. Names are UTF-8, 1..1024 bytes, unique, not
 * "__metadata__"; for npz and npy-dir they must also be usable as file
 * names (no '/', not "." or ".."). Data is C order, little-endian. */
typedef struct nninit_tensor_desc {
    const char *name;
    nninit_file_dtype dtype;
    nninit_shape shape; /* dims >= 0; 0-D allowed */
} nninit_tensor_desc;

/* Produces the bytes of tensor `index` (in the order given to the writer)
 * into `out` (numel * bits / 8 bytes). Called once per tensor, in file
 * order, so memory stays bounded by the largest tensor. */
typedef nninit_status (*nninit_tensor_source)(void *user, size_t index, void *out, nninit_err *err);

typedef struct nninit_write_opts {
    nninit_file_format format;
    /* safetensors: 0 = one file; else shards named as Hugging Face does
     * (model-00001-of-00003.safetensors next to `path`, plus `path`.index.json
     * i.e. model.safetensors.index.json), split in tensor order when adding
     * a tensor would pass this many bytes; a tensor above it gets its own. */
    uint64_t max_shard_size;
    /* safetensors __metadata__ as "key", "value", ..., NULL, written sorted
     * by key; NULL writes {"format": "pt"} (what Hugging Face loaders
     * check); an empty list ({NULL}) writes no __metadata__ at all. */
    const char *const *metadata;
} nninit_write_opts;

/* format safetensors, one file, no extra metadata. */
NNINIT_API nninit_write_opts nninit_write_opts_default(void);

/*
 * Writes tensors t[0..n) to `path` in opts->format (a folder for npy-dir,
 * created if missing). safetensors output is byte-identical to
 * safetensors.torch.save_file for the same tensors and metadata of at most
 * one key: descending dtype alignment then name, compact JSON, header
 * padded with spaces to a multiple of 8. Every file is written atomically
 * (temporary + fsync + rename); on failure no target is replaced, though a
 * sharded or npy-dir write may have completed some files.
 * NNINIT_EINVAL (bad name, duplicate, shape), NNINIT_EIO, NNINIT_ENOMEM,
 * or the source's status.
 */
NNINIT_API nninit_status nninit_tensors_write(const char *path, const nninit_tensor_desc *t, size_t n,
                                              const nninit_write_opts *opts, nninit_tensor_source src,
                                              void *user, nninit_err *err);

/* A tensor file opened for reading: the whole header/directory is
 * validated at open (safetensors: every check of the reference reader,
 * plus duplicate names and a tensor named "__metadata__"; npz: zip
 * structure, sizes, CRC when read); data is read on demand. */
typedef struct nninit_tensor_file nninit_tensor_file;

typedef struct nninit_tensor_info {
    const char *name;        /* lives until nninit_tensor_file_free */
    nninit_file_dtype dtype;
    nninit_shape shape;
    uint64_t nbytes;
    const char *file;        /* the file holding it (the shard for an index) */
} nninit_tensor_info;

/* Opens `path`, detecting the format from its content: safetensors,
 * *.safetensors.index.json, npz, npy, or a folder of .npy files.
 * NNINIT_ENOTFOUND, NNINIT_EFORMAT (with the first problem found), NNINIT_EIO. */
NNINIT_API nninit_status nninit_tensor_file_open(const char *path, nninit_tensor_file **out, nninit_err *err);
NNINIT_API void nninit_tensor_file_free(nninit_tensor_file *tf);
NNINIT_API nninit_file_format nninit_tensor_file_format(const nninit_tensor_file *tf);
/* Tensors in file order (safetensors: by offset; npz: member order). */
NNINIT_API size_t nninit_tensor_file_count(const nninit_tensor_file *tf);
NNINIT_API const nninit_tensor_info *nninit_tensor_file_info(const nninit_tensor_file *tf, size_t i);
/* Index of `name` or NNINIT_ENOTFOUND. */
NNINIT_API nninit_status nninit_tensor_file_find(const nninit_tensor_file *tf, const char *name, size_t *index,
                                                 nninit_err *err);
/* Reads tensor i into out (info->nbytes bytes, host byte order). */
NNINIT_API nninit_status nninit_tensor_file_read(nninit_tensor_file *tf, size_t i, void *out, nninit_err *err);
/* safetensors __metadata__ value for key, or NULL (first shard's for an index). */
NNINIT_API const char *nninit_tensor_file_metadata(const nninit_tensor_file *tf, const char *key);

/* ------------------------------------------------------------------------ */
/* Probe: measured signal propagation through a deep dense net               */
/* ------------------------------------------------------------------------ */

/*
 * A stack of `depth` dense layers of `width` units, h_l = a_{l-1} W_l + b_l,
 * [optional batch norm of h_l without affine parameters], a_l = act(h_l)
 * [+ a_{l-1} with residual, where the widths agree], pushed with one batch
 * and back-propagated. W_l and b_l are filled exactly as nninit_net_new
 * would fill them (Philox seed, streams "dense_<l-1>/kernel" and
 * "dense_<l-1>/bias", Keras layout). Statistics are over every (row, unit)
 * entry of the batch, accumulated in double. The output gradient dL/da_L is
 * standard normal (Philox stream "probe/grad") unless labels are given:
 * then a linear head of n_classes units (same initializer) and softmax
 * cross-entropy (mean over rows) supply it.
 */
typedef struct nninit_probe_opts {
    int depth;                 /* >= 1 */
    int64_t width;             /* >= 1 */
    int64_t n_inputs;          /* 0: width */
    int64_t batch;             /* default 256 */
    nninit_act act;            /* default tanh */
    double alpha;
    const char *kernel_init;   /* SPEC, default "glorot_uniform" */
    const char *bias_init;     /* SPEC, default "zeros" */
    int bn, residual;
    uint64_t seed;             /* default NNINIT_DEFAULT_SEED */
    const float *x;            /* borrowed (batch, n_inputs); NULL: standard normal (stream "probe/input") */
    double input_scale;        /* the input is multiplied by this (default 1): E[x^2] = scale^2 for normal rows */
    const int32_t *labels;     /* borrowed (batch) in [0, n_classes); NULL: random output gradient */
    int32_t n_classes;
    int train_steps;           /* SGD steps before recounting distinct units (0: none) */
    double lr;                 /* default 0.01 */
    int jacobian_samples;      /* rows whose input-output Jacobian is decomposed (0: none) */
    /* A model instead of depth x width (borrowed, e.g. from
     * nninit_model_parse_json): its dense layers, each with the batch norm
     * (gamma_init ones, beta_init zeros only) and activation layers that
     * follow it folded in; dropout is the identity. depth, width, act,
     * alpha, kernel_init, bias_init and bn are then ignored; n_inputs 0
     * means the first layer's units. */
    const nninit_layer_desc *layers;
    int n_layers;
} nninit_probe_opts;

NNINIT_API nninit_probe_opts nninit_probe_opts_default(void);

typedef struct nninit_probe_layer {
    int64_t units;                /* n_out */
    nninit_act act;
    double sw2, sb2;              /* nninit_theory_from_init of its initializers (NaN if not defined) */
    double pre_mean, pre_var;     /* the activation's input (after batch norm if any) */
    double act_mean, act_var;     /* a_l */
    double frac_dead;             /* relu: a == 0; NaN for other activations */
    double frac_saturated;        /* tanh: |a| > 0.99; sigmoid: a < 0.01 or > 0.99; else NaN */
    double grad_in_var;           /* Var(dL/da_{l-1}) */
    double grad_out_var;          /* Var(dL/da_l) */
    double grad_w_var;            /* Var(dL/dW_l) */
    double fwd_gain;              /* pre_var / previous pre_var (layer 1: / Var(x)) */
    double bwd_gain;              /* grad_in_var / grad_out_var */
    /* distinct units: columns of W_l with b_l that agree with no other within
     * 1e-5 of the layer's largest |value| (BLAS may round identical columns
     * differently); after: -1 without training */
    int64_t distinct_before, distinct_after;
    /* mean-field predictions (NaN from the first batch-norm layer on; residual
     * layers use E[a_l^2] = E[a_{l-1}^2] + E[phi^2] + 2 E[a_{l-1}] E[phi]
     * and a gradient factor 1 + chi) */
    double pred_pre_var, pred_act_var, pred_grad_in_var;
} nninit_probe_layer;

typedef enum nninit_probe_verdict {
    NNINIT_VERDICT_VANISHING = 0, /* the variance falls by more than 10x over the depth */
    NNINIT_VERDICT_STABLE,        /* within a factor 10 over the depth */
    NNINIT_VERDICT_EXPLODING      /* rises by more than 10x over the depth */
} nninit_probe_verdict;

NNINIT_API const char *nninit_probe_verdict_name(nninit_probe_verdict v); /* "vanishing", ... */

typedef struct nninit_probe_result {
    int depth;
    nninit_probe_layer *layers;       /* depth entries */
    double input_var, input_m2;       /* Var(x), E[x^2] */
    double fwd_gain_geo, bwd_gain_geo; /* geometric means per layer over layers 2..L */
    nninit_probe_verdict fwd_verdict, bwd_verdict;
    double sw2, sb2;                  /* of the last layer (nninit_theory_from_init) */
    double loss;                      /* cross-entropy with labels, else NaN */
    /* Jacobian of a_L with respect to x, for jacobian_samples rows: every
     * singular value of every sample (n_sv = samples * min(n_inputs, width)) */
    double *sv;
    int64_t n_sv;
    double sv_mean_sq, sv_max, sv_min;
    double sv_var_sq;                 /* variance of the squared singular values (0 = isometry) */
    double pred_sv_mean_sq;           /* prod_l sw2_l (n_out / n_in) E[act'(h_l)^2] from the predicted q^l */
    /* free probability (Pennington et al. 2017): normalised variances add
     * over the free factors W_l^T W_l and D_l^2, so Var(sv^2) = mean_sq^2
     * sum_l (E[act'^4] / E[act'^2]^2 - 1 + w_l), w_l = 1 for square iid
     * weights, 0 for orthogonal; NaN for other weights */
    double pred_sv_var_sq;
} nninit_probe_result;

/*
 * Runs the probe. *out: free with nninit_probe_result_free. Forward and
 * backward use float32 sgemm (OpenBLAS), statistics double. The Jacobian is
 * exact: forward-mode products J^T = I W_1 D_1 W_2 D_2 ... (D_l = diag
 * act'(h_l) of the sample, plus I per residual layer) in float32, then the
 * singular values by LAPACK dgesdd in double. NNINIT_EINVAL (bad options,
 * initializer, labels), NNINIT_EUNSUPPORTED (softmax, Jacobian with bn),
 * NNINIT_ENOMEM, NNINIT_ENUMERIC (non-finite values: the net overflowed).
 */
NNINIT_API nninit_status nninit_probe_run(const nninit_probe_opts *opts, nninit_probe_result **out,
                                          nninit_err *err);
NNINIT_API void nninit_probe_result_free(nninit_probe_result *r);

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
 * RNN, LSTM, GRU, BatchNorm1d/2d/3d, InstanceNorm1d/2d/3d, GroupNorm,
 * LayerNorm, PReLU, MultiheadAttention, TransformerEncoderLayer,
 * TransformerDecoderLayer, nested Sequential, and parameter-free modules
 * (ReLU, Dropout, Flatten, ...).
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

/* nninit's own model spec:
 *   {"layout": "keras", "tensors": [{"name": "w", "shape": [784, 256],
 *    "init": "he_normal", "layout": "torch"}, ...],
 *    "overrides": {"w": "zeros"}}
 * "init" is any nninit_init_parse SPEC (string or Keras JSON object). */
NNINIT_API nninit_status nninit_model_from_spec(const char *json, nninit_model **out, nninit_err *err);

NNINIT_API void nninit_model_free(nninit_model *m);
NNINIT_API size_t nninit_model_count(const nninit_model *m);
/* Tensor i (0 <= i < count) or NULL. */
NNINIT_API const nninit_model_tensor *nninit_model_tensor_at(const nninit_model *m, size_t i, nninit_model_tensor *buf);

/* Replaces the initializer of tensor `name` (NNINIT_ENOTFOUND if absent). */
NNINIT_API nninit_status nninit_model_override(nninit_model *m, const char *name, const char *spec, nninit_err *err);

typedef struct nninit_model_opts {
    nninit_rng_kind rng;        /* philox: stream = nninit_stream_from_name(name);
                                   torch kinds: one generator drawn in construction order */
    uint64_t seed;
    nninit_file_dtype dtype;    /* F32 (default), F64, BF16, F16 (generated in F32, rounded once) */
    nninit_write_opts write;    /* format, shards; metadata NULL = nninit provenance */
    int threads;                /* 0 = all CPUs */
} nninit_model_opts;

/* philox, seed NNINIT_DEFAULT_SEED, F32, safetensors. */
NNINIT_API nninit_model_opts nninit_model_opts_default(void);

/* Generates every tensor and writes the file(s). safetensors __metadata__
 * (when opts->write.metadata is NULL): format "pt", nninit.version,
 * nninit.stream_version, nninit.rng, nninit.seed, nninit.source,
 * nninit.layout (when all tensors share one), nninit.specs (JSON: name ->
 * initializer). With a torch generator every tensor is held in memory
 * before writing (the draw order is not the file order). */
NNINIT_API nninit_status nninit_model_write(const nninit_model *m, const char *path, const nninit_model_opts *opts,
                                            nninit_err *err);

/* ------------------------------------------------------------------------ */
/* PyTorch generator state (torch.get_rng_state / torch.set_rng_state)       */
/* ------------------------------------------------------------------------ */

/* Bytes of torch.get_rng_state() for the CPU generator (1.13 and 2.x). */
#define NNINIT_TORCH_STATE_SIZE 5056

/* Writes the state of a torch generator in the byte layout of
 * torch.get_rng_state(): in Python, torch.set_rng_state(torch.tensor(
 * list(buf), dtype=torch.uint8)) then continues this stream, cached normal
 * included. NNINIT_EMISUSE for a Philox generator. */
NNINIT_API nninit_status nninit_rng_torch_state_get(const nninit_rng *rng, unsigned char out[NNINIT_TORCH_STATE_SIZE],
                                                    nninit_err *err);

/* Loads bytes from torch.get_rng_state() (5056, or the legacy 5048) into a
 * torch generator, which then continues PyTorch's stream (the kernel variant
 * stays the generator's own). NNINIT_EFORMAT for a wrong size or an invalid
 * engine state, leaving rng unchanged; NNINIT_EMISUSE for a Philox one. */
NNINIT_API nninit_status nninit_rng_torch_state_set(nninit_rng *rng, const void *state, size_t len, nninit_err *err);

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
    int is_dense;      /* 0: not rescaled (activation, batchnorm, dropout) */
    double var_before, var_after; /* of the layer's x W + b on the batch */
    int iters;         /* rescalings applied */
    double scale;      /* product of the factors applied to the kernel */
} nninit_lsuv_layer;

/*
 * LSUV (Mishkin & Matas 2016): from the kernels the net already has (the
 * paper starts from orthogonal ones), rescale each dense layer's kernel in
 * order until the variance of its pre-activation x W + b on the batch x
 * (batch, n_inputs) is within tol of target_var; forward passes run in
 * evaluation mode. report (may be NULL) gets nninit_net_n_layers entries.
 * NNINIT_EINVAL (options, batch < 2), NNINIT_ENUMERIC (a zero or non-finite
 * variance: e.g. a zero-initialized layer cannot be rescaled).
 */
NNINIT_API nninit_status nninit_lsuv(nninit_net *net, const float *x, int64_t batch, const nninit_lsuv_opts *opts,
                                     nninit_lsuv_layer *report, nninit_err *err);

/* ------------------------------------------------------------------------ */
/* The lab: the classic lessons of initialization, measured and checked      */
/* ------------------------------------------------------------------------ */

#define NNINIT_LAB_MAX_LESSONS 16

typedef struct nninit_lab_opts {
    const char *data_dir;  /* Fashion-MNIST (or any IDX set) folder; NULL: nninit_dataset_default_dir(),
                              and a missing default data set skips the training lessons instead of failing */
    const char *out_dir;   /* report.md, lab.json, signal.svg, training.svg written atomically; NULL: none */
    int epochs;            /* per training run, default 3 */
    int64_t train_limit;   /* use the first N training images (0: all) */
    int depth;             /* depth of the signal-propagation nets, default 50 */
    int64_t width;         /* their width, default 256 */
    uint64_t seed;         /* default NNINIT_DEFAULT_SEED */
    int threads;           /* BLAS threads (process-wide); 0: leave as is */
    int skip_training;     /* 1: only the lessons that need no data */
    void (*on_line)(const char *line, void *user); /* each markdown line of the report, as produced */
    void *user;
} nninit_lab_opts;

NNINIT_API nninit_lab_opts nninit_lab_opts_default(void);

typedef struct nninit_lab_lesson {
    char title[96];
    int checked;      /* 0: skipped (no data) */
    int confirmed;    /* the stated criterion held in this run */
    char evidence[512];
} nninit_lab_lesson;

typedef struct nninit_lab_summary {
    int n_lessons;
    nninit_lab_lesson lessons[NNINIT_LAB_MAX_LESSONS];
    int data_found;
} nninit_lab_summary;

/*
 * Runs every lesson: symmetry (zeros/constant vs he_normal), signal
 * propagation through depth for tanh and relu under random_normal(0.05),
 * glorot_uniform, he_normal and orthogonal (measured and mean-field), and
 * Fashion-MNIST training comparisons (zeros vs He, deep tanh, batch norm).
 * Each lesson is confirmed or not by a criterion printed with it; a lesson
 * that is not reproduced is a result, not an error. NNINIT_EINVAL (options),
 * NNINIT_ENOTFOUND / NNINIT_EFORMAT (an explicit data_dir without a data set),
 * NNINIT_EIO (report files), NNINIT_ENOMEM.
 */
NNINIT_API nninit_status nninit_lab_run(const nninit_lab_opts *opts, nninit_lab_summary *out, nninit_err *err);

#ifdef __cplusplus
}
#endif
#endif /* NNINIT_H */
