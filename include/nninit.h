/*
 * nninit: neural-network weight initialization, reproducible and exact.
 *
 * Example, a whole program (tests/cli/header_examples.sh extracts, compiles
 * and runs it, and compares its output with the lines after "Prints:"):
 *
 *     #include <stdio.h>
 *     #include <stdlib.h>
 *     #include "nninit.h"
 *
 *     int main(void)
 *     {
 *         // a 3x3x64x128 Keras (HWIO) conv kernel, He-normal: std sqrt(2 / 576)
 *         enum { N = 3 * 3 * 64 * 128 };
 *         nninit_init init;
 *         nninit_shape shape = {4, {3, 3, 64, 128}};
 *         nninit_fill_opts opts = nninit_fill_opts_default(); // Keras layout, float32
 *         nninit_rng *rng = NULL;
 *         nninit_stats st;
 *         nninit_err err = {0};
 *         float *w = malloc(N * sizeof *w);
 *         int ok = w && nninit_init_parse("he_normal", &init, &err) == NNINIT_OK &&
 *                  nninit_rng_new(NNINIT_RNG_PHILOX, 42, &rng, &err) == NNINIT_OK &&
 *                  nninit_fill(&init, &shape, &opts, rng, w, &err) == NNINIT_OK &&
 *                  nninit_stats_compute(NNINIT_F32, w, N, &st, &err) == NNINIT_OK;
 *         if (ok)
 *             printf("he_normal std %.4f, expected %.4f\n", st.std, 0.058926);
 *         else
 *             fprintf(stderr, "%s\n", w ? err.msg : "out of memory");
 *         nninit_rng_free(rng);
 *         free(w);
 *         return ok ? 0 : 1;
 *     }
 *
 * Prints:
 *
 *     he_normal std 0.0588, expected 0.0589
 *
 * Element i of a tensor depends only on (seed, stream, i, initializer, shape,
 * dtype): the same bits whatever the thread count or the sub-range generated.
 * One exception: orthogonal matrices with rows * cols^2 > 2^24 (in the
 * tall orientation) are factored by OpenBLAS when the library links it, and
 * their last bits depend on OpenBLAS's own thread count (OPENBLAS_NUM_THREADS,
 * by default the number of cores; nninit's threads option plays no part);
 * smaller ones, and all in a build without LAPACK, use the built-in QR and
 * keep the promise.
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

/* printf-style argument checking where the compiler has it. */
#if defined(__GNUC__)
#define NNINIT_PRINTF(fmt_index, first_arg) __attribute__((format(printf, fmt_index, first_arg)))
#else
#define NNINIT_PRINTF(fmt_index, first_arg)
#endif

#define NNINIT_VERSION_MAJOR 0
#define NNINIT_VERSION_MINOR 1
#define NNINIT_VERSION_PATCH 0
#define NNINIT_VERSION_STRING "0.1.0"

/* Version of the Philox stream format: bumped on any change to the bits a
 * (seed, stream, index) produces for any initializer. New generators use
 * it; nninit_rng_set_stream_version selects an older one (docs/stream.md:
 * versions 2 and 3 changed only the float32 truncated normal). */
#define NNINIT_STREAM_VERSION 3
#define NNINIT_STREAM_VERSION_MIN 1

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
 * trailing newline, in the form "subject: what is wrong; what would be right".
 * NNINIT_ERR_MSG_MAX holds the longest message the library writes (lists of
 * supported names included) with room to spare, so none is ever cut. */
#define NNINIT_ERR_MSG_MAX 2048
typedef struct nninit_err {
    nninit_status code;
    int sys_errno; /* errno for NNINIT_EIO and for a missing input file (ENOENT), else 0 */
    char msg[NNINIT_ERR_MSG_MAX];
} nninit_err;

/* Fills err (if not NULL) with code and a printf-formatted one-line message
 * and returns code, so that code built on this library (the CLI, the lab,
 * a caller's own layer) reports errors the same way. */
NNINIT_API nninit_status nninit_err_set(nninit_err *err, nninit_status code, const char *fmt, ...)
    NNINIT_PRINTF(3, 4);

/* Frees memory that a function of this library documented as "free with
 * nninit_free" (strings, arrays). NULL is a no-op. */
NNINIT_API void nninit_free(void *p);

/* Writes s as a quoted JSON string, as Python's json.dumps(ensure_ascii=
 * False) and serde_json write it: '"' and '\\' escaped, \b \f \n \r \t, other
 * control bytes as \u00xx, all else verbatim. Like snprintf: writes at most
 * cap bytes into dst, NUL included (dst may be NULL when cap is 0), and
 * returns the length of the whole quoted string. NULL s is "". */
NNINIT_API size_t nninit_json_quote(const char *s, char *dst, size_t cap);

/* "Did you mean": the candidate closest to `word` by edit distance (case
 * counts), or NULL when none is close (more than 3 edits, or as many edits as
 * `word` has characters). For suggestions in messages, e.g. mistyped option,
 * command, initializer, module or layer names. */
NNINIT_API const char *nninit_suggest(const char *word, const char *const *candidates, size_t n);

/* ------------------------------------------------------------------------ */
/* Shapes, dtypes, layouts, fans                                             */
/* ------------------------------------------------------------------------ */

#define NNINIT_MAX_DIMS 8

typedef struct nninit_shape {
    int ndim;                     /* 0 (scalar) .. NNINIT_MAX_DIMS */
    int64_t dim[NNINIT_MAX_DIMS]; /* outermost first, as NumPy prints it */
} nninit_shape;

/* What the generators produce and take (F32, F64; BF16 and F16 rounded
 * once from F32). A tensor file's element types are the wider
 * nninit_file_dtype of nninit_io.h (the safetensors set: integers, bool,
 * float8, ...), kept apart because the core never generates those and must
 * not depend on the io layer; nninit_file_dtype_of maps this enum onto it. */
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
    NNINIT_WINDOW_COSINE,
    /* parameter-free in scipy too */
    NNINIT_WINDOW_BARTHANN,
    NNINIT_WINDOW_BOHMAN,
    NNINIT_WINDOW_PARZEN,
    NNINIT_WINDOW_LANCZOS,
    NNINIT_WINDOW_TUKEY,            /* (alpha=0.5) */
    NNINIT_WINDOW_EXPONENTIAL,      /* (center=None, tau=1.0); only center None */
    NNINIT_WINDOW_TAYLOR,           /* (nbar=4, sll=30) */
    /* parameter required, as scipy requires it: ("kaiser", 8) */
    NNINIT_WINDOW_GAUSSIAN,         /* (std) */
    NNINIT_WINDOW_GENERAL_GAUSSIAN, /* (p, sig) */
    NNINIT_WINDOW_KAISER,           /* (beta) */
    NNINIT_WINDOW_GENERAL_HAMMING,  /* (alpha) */
    /* the window's values themselves, as Keras takes an array_like window */
    NNINIT_WINDOW_VALUES            /* stft_window_values[0 .. stft_window_len) */
} nninit_stft_window;
#define NNINIT_WINDOW_COUNT (NNINIT_WINDOW_VALUES + 1)

/*
 * An initializer and its parameters. Start from nninit_init_default(kind)
 * (or nninit_init_parse) so that every field has the reference default;
 * each kind reads only the fields listed in nninit_list / docs/catalogue.md.
 * STFT with stft_window NNINIT_WINDOW_VALUES takes the window itself, one
 * finite value per frame sample (stft_window_len must equal the kernel's
 * shape[0], as Keras requires; periodic does not apply). Set by hand, the
 * array is the caller's (stft_window_owned 0). nninit_init_parse of a list
 * window ("STFT(window=[0.5, 1.0, 0.5])") allocates it and sets
 * stft_window_owned: release it once with nninit_init_clear; copies of the
 * struct are views of that array until then (nninit_init_copy makes an
 * owning copy).
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
    int neg_slope_none;         /* kaiming_*: a=None (calculate_gain's slope 0.01 for leaky_relu) */
    int stft_n_window_params;   /* stft: parameters given after the window name, ("tukey", 0.25) */
    double stft_window_params[2];
    double *stft_window_values; /* stft, NNINIT_WINDOW_VALUES: the window's values (see above) */
    int64_t stft_window_len;    /* stft: how many (the kernel's shape[0] must equal it) */
    int stft_window_owned;      /* stft: nninit_init_parse allocated them; nninit_init_clear frees them */
} nninit_init;

/* At most this many window values (8 MiB): far above any frame length, low
 * enough that a hostile spec cannot ask for gigabytes. */
#define NNINIT_STFT_MAX_WINDOW_VALUES (1 << 20)

/* Frees what nninit_init_parse allocated for `init` (a list window's values;
 * nothing for any other initializer) and leaves no window values. NULL and
 * inits without owned values are fine; never call it on a copy. */
NNINIT_API void nninit_init_clear(nninit_init *init);

/* *dst = *src, with an owned copy of a list window's values (then
 * nninit_init_clear(dst) when done). NNINIT_ENOMEM leaves *dst without values. */
NNINIT_API nninit_status nninit_init_copy(nninit_init *dst, const nninit_init *src, nninit_err *err);

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

/* The Philox stream format a generator follows: NNINIT_STREAM_VERSION when
 * created; NNINIT_STREAM_VERSION_MIN..NNINIT_STREAM_VERSION may be chosen to
 * reproduce tensors made by an older nninit, e.g.
 *     nninit_rng_set_stream_version(rng, 1, &err);   // nninit gen --stream-version 1
 * NNINIT_EINVAL for another version, NNINIT_EUNSUPPORTED for a torch
 * generator (its stream is PyTorch's). Set it before sharing the generator
 * between threads. */
NNINIT_API nninit_status nninit_rng_set_stream_version(nninit_rng *rng, int version, nninit_err *err);
NNINIT_API int nninit_rng_stream_version(const nninit_rng *rng);

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

/*
 * Tensor-parallel slices. nninit_slice_bounds: where slice `index` (0 <=
 * index < count) of a dimension of `size` starts and how long it is, as
 * torch.tensor_split(t, count, dim) cuts it (the first size % count slices
 * are one longer). nninit_fill_slice: that slice along dimension `dim` of the
 * tensor nninit_fill would produce for `shape`, bit-equal to it, into out
 * (C order, the shape with dim's size replaced by the slice's length), e.g.
 * rank 1 of 4 of a column-parallel (out, in) torch weight:
 *     nninit_fill_slice(&init, &shape, &opts, rng, 0, 1, 4, out, &err);
 * Philox only (NNINIT_EUNSUPPORTED for torch generators: their stream is
 * sequential). Structured initializers (orthogonal, sparse_) draw the whole
 * tensor internally.
 */
NNINIT_API nninit_status nninit_slice_bounds(int64_t size, int index, int count, int64_t *start, int64_t *len,
                                             nninit_err *err);
NNINIT_API nninit_status nninit_fill_slice(const nninit_init *init, const nninit_shape *shape,
                                           const nninit_fill_opts *opts, const nninit_rng *rng, int dim, int index,
                                           int count, void *out, nninit_err *err);

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


#ifdef __cplusplus
}
#endif
#endif /* NNINIT_H */
