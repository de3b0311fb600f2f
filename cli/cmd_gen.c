/* nninit gen: fill one or more tensors with an initializer, write .npy. */
#include "cli.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void gen_usage(FILE *f)
{
    fprintf(f,
            "usage: nninit gen SPEC --shape D0,D1,... [options] [--repeat SPEC --shape ... [options]]...\n"
            "\n"
            "Fill a tensor with the initializer SPEC and write it as NumPy .npy (or print it).\n"
            "SPEC is a name (he_normal, GlorotUniform, kaiming_uniform_), a call with keywords\n"
            "(VarianceScaling(scale=2.0, mode=\"fan_out\"), kaiming_normal_(a=0.1, mode=\"fan_out\")),\n"
            "Keras serialized JSON ({\"class_name\": \"HeNormal\", \"config\": {...}}), or @FILE.\n"
            "\n"
            "per tensor:\n"
            "  --shape D0,D1,...      dimensions, outermost first (required)\n"
            "  --layout keras|torch   fan rule: keras (..., in, out) or torch (out, in, ...); default keras\n"
            "  -o, --output FILE.npy  write the tensor atomically; without it values are printed\n"
            "  --stats                print {\"fan_in\",\"fan_out\",\"mean\",\"std\",\"min\",\"max\",\"n\"} as one JSON line\n"
            "                         (the fans the initializer used, input_axes/output_axes included)\n"
            "  --stream N             Philox stream of this tensor (default: its position 0, 1, 2, ...)\n"
            "global:\n"
            "  --seed N               64-bit seed (negative values as torch.manual_seed takes them);\n"
            "                         default %u\n"
            "  --rng KIND             philox (default), torch, torch:default, torch:avx2, torch2,\n"
            "                         torch2:default, torch2:avx2 (PyTorch's CPU stream, see docs/torch.md)\n"
            "  --dtype float32|float64|float16|bfloat16  default float32; the half types are generated\n"
            "                         in float32 and rounded once to nearest-even (Philox only); .npy\n"
            "                         stores bfloat16 as '<u2' bits\n"
            "  --stream-version N     Philox stream format, 1 to %d (default %d); 1 and 2 reproduce tensors\n"
            "                         of nninit before formats 2 and 3 (each changed only the float32\n"
            "                         truncated normal)\n"
            "  --print-config         print the Keras JSON of SPEC and exit\n"
            "  --torch-state FILE     with a torch generator: start from the bytes of torch.get_rng_state()\n"
            "                         (e.g. torch.get_rng_state().numpy().tofile(FILE)) instead of --seed\n"
            "  --save-torch-state FILE  with a torch generator: write its state afterwards, in the same\n"
            "                         layout (torch.set_rng_state(torch.from_numpy(np.fromfile(FILE, np.uint8))))\n"
            "  --repeat SPEC          draw another tensor after this one from the same generator\n"
            "                         (e.g. a Linear's weight then its bias with --rng torch); the -o\n"
            "                         files are written once every tensor is drawn (one that cannot be\n"
            "                         drawn leaves none written; the tensors are held in memory together)\n"
            "  --threads N            worker threads, 0..%d (default 0: all CPUs); never changes the values\n"
            "  --shard-dim D --shard K/N  write slice K of N (0 <= K < N) along dimension D of every tensor,\n"
            "                         as torch.tensor_split cuts it, bit-equal to that slice of the whole\n"
            "                         tensor, without generating the rest (Philox only)\n"
            "\n" CLI_EXIT_STATUS_HELP,
            (unsigned)NNINIT_DEFAULT_SEED, NNINIT_STREAM_VERSION, NNINIT_STREAM_VERSION, CLI_MAX_THREADS);
}

typedef struct tensor_job {
    const char *spec_text;
    nninit_init init;
    nninit_shape shape;
    int has_shape;
    nninit_layout layout;
    const char *output;
    int stats;
    int has_stream;
    uint64_t stream;
    int64_t numel;          /* of what is written: the slice with --shard */
    nninit_shape out_shape; /* the shape written: the slice's with --shard */
} tensor_job;

#define MAX_TENSORS 64

static int print_values(const tensor_job *t, nninit_dtype dtype, const void *data)
{
    for (int64_t i = 0; i < t->numel; i++) {
        if (dtype == NNINIT_F32)
            printf("%.9g\n", (double)((const float *)data)[i]);
        else
            printf("%.17g\n", ((const double *)data)[i]);
    }
    return fflush(stdout) == 0 && !ferror(stdout);
}

/* The command; jobs[] come zeroed, and cmd_gen releases what parsing them allocated on every path. */
static int gen_run(int argc, char **argv, tensor_job *jobs)
{
    int n_jobs = 0;
    uint64_t seed = NNINIT_DEFAULT_SEED;
    nninit_rng_kind rng_kind = NNINIT_RNG_PHILOX;
    nninit_dtype dtype = NNINIT_F32;
    int threads = 0, print_config = 0, stream_version = 0, slice_dim = -1, slice_index = 0, slice_count = 0;
    const char *state_in = NULL, *state_out = NULL;
    nninit_err err = {0};
    nninit_status st;

    tensor_job *cur = NULL;
    enum { O_REPEAT = 1, O_SHAPE, O_LAYOUT, O_OUTPUT, O_STATS, O_STREAM, O_SEED, O_RNG, O_DTYPE, O_THREADS,
           O_TSTATE, O_SAVE_TSTATE, O_PRINT_CONFIG, O_STREAM_VERSION, O_SLICE_DIM, O_SLICE };
    static const cli_opt options[] = {
        {"--repeat", NULL, 1, O_REPEAT}, {"--shape", NULL, 1, O_SHAPE}, {"--layout", NULL, 1, O_LAYOUT},
        {"--output", "-o", 1, O_OUTPUT}, {"--stats", NULL, 0, O_STATS}, {"--stream", NULL, 1, O_STREAM},
        {"--seed", NULL, 1, O_SEED}, {"--rng", NULL, 1, O_RNG}, {"--dtype", NULL, 1, O_DTYPE},
        {"--threads", NULL, 1, O_THREADS}, {"--torch-state", NULL, 1, O_TSTATE},
        {"--save-torch-state", NULL, 1, O_SAVE_TSTATE}, {"--print-config", NULL, 0, O_PRINT_CONFIG},
        {"--stream-version", NULL, 1, O_STREAM_VERSION}, {"--shard-dim", NULL, 1, O_SLICE_DIM},
        {"--shard", NULL, 1, O_SLICE}, {0}};
    cli_args args;
    cli_args_init(&args, "gen", argc, argv, options, gen_usage);
    for (int id; (id = cli_next(&args)) != CLI_END;) {
        const char *val = args.val;
        /* per-tensor options follow their SPEC */
        if ((id == O_SHAPE || id == O_LAYOUT || id == O_OUTPUT || id == O_STATS || id == O_STREAM ||
             id == O_REPEAT) && !cur) {
            cli_error("%s comes after a first SPEC; e.g. 'nninit gen he_normal %s ...'", args.opt, args.opt);
            return CLI_EXIT_USAGE;
        }
        switch (id) {
        case CLI_STOP:
            return args.rc;
        case CLI_ARG:
            if (cur)
                return cli_unexpected(&args, val, "give one SPEC (use --repeat for more tensors)");
            cur = &jobs[n_jobs++];
            cur->spec_text = val;
            break;
        case O_REPEAT:
            if (n_jobs == MAX_TENSORS) {
                cli_error("--repeat: at most %d tensors per command; run nninit again for more", MAX_TENSORS);
                return CLI_EXIT_USAGE;
            }
            cur = &jobs[n_jobs++];
            cur->spec_text = val;
            break;
        case O_SHAPE:
            if ((st = nninit_shape_parse(val, &cur->shape, &err)) != NNINIT_OK)
                return cli_report(st, &err);
            cur->has_shape = 1;
            break;
        case O_LAYOUT:
            if ((st = nninit_layout_parse(val, &cur->layout, &err)) != NNINIT_OK)
                return cli_report(st, &err);
            break;
        case O_OUTPUT:
            cur->output = val;
            break;
        case O_STATS:
            cur->stats = 1;
            break;
        case O_STREAM:
            if (!cli_parse_u64("--stream", val, &cur->stream))
                return CLI_EXIT_USAGE;
            cur->has_stream = 1;
            break;
        case O_SEED:
            if (!cli_parse_u64("--seed", val, &seed))
                return CLI_EXIT_USAGE;
            break;
        case O_RNG:
            if ((st = nninit_rng_kind_parse(val, &rng_kind, &err)) != NNINIT_OK)
                return cli_report(st, &err);
            break;
        case O_DTYPE:
            if ((st = nninit_dtype_parse(val, &dtype, &err)) != NNINIT_OK)
                return cli_report(st, &err);
            break;
        case O_THREADS:
            if (!cli_parse_threads(val, &threads))
                return CLI_EXIT_USAGE;
            break;
        case O_SLICE_DIM:
            if (!cli_parse_int("--shard-dim", val, 0, NNINIT_MAX_DIMS - 1, &slice_dim))
                return CLI_EXIT_USAGE;
            break;
        case O_SLICE:
            if (!cli_parse_slice(val, &slice_index, &slice_count))
                return CLI_EXIT_USAGE;
            break;
        case O_STREAM_VERSION:
            if (!cli_parse_int("--stream-version", val, NNINIT_STREAM_VERSION_MIN, NNINIT_STREAM_VERSION,
                               &stream_version))
                return CLI_EXIT_USAGE;
            break;
        case O_TSTATE:
            state_in = val;
            break;
        case O_SAVE_TSTATE:
            state_out = val;
            break;
        case O_PRINT_CONFIG:
            print_config = 1;
            break;
        }
    }
    if (n_jobs == 0) {
        gen_usage(stderr);
        return CLI_EXIT_USAGE;
    }

    if ((slice_dim >= 0) != (slice_count > 0)) {
        cli_error("--shard-dim D and --shard K/N go together (slice K of N along dimension D)");
        return CLI_EXIT_USAGE;
    }
    if (slice_count && rng_kind != NNINIT_RNG_PHILOX) {
        cli_error("--shard: slices need --rng philox; a torch generator's stream is sequential, so a slice would "
                  "draw the whole tensor");
        return CLI_EXIT_USAGE;
    }
    /* Validate every tensor before drawing anything, so nothing is written on bad input. */
    for (int k = 0; k < n_jobs; k++) {
        tensor_job *t = &jobs[k];
        if ((st = nninit_init_parse(t->spec_text, &t->init, &err)) != NNINIT_OK)
            return cli_report(st, &err);
        if (print_config)
            continue;
        if (!t->has_shape) {
            cli_error("%s: missing --shape; e.g. --shape 784,256", t->spec_text);
            return CLI_EXIT_USAGE;
        }
        nninit_prim prim;
        if ((st = nninit_resolve(&t->init, &t->shape, t->layout, &prim, &err)) != NNINIT_OK)
            return cli_report(st, &err);
        t->out_shape = t->shape;
        if (slice_count) {
            int64_t start, len;
            if (slice_dim >= t->shape.ndim) {
                cli_error("--shard-dim %d: %s has %d dimensions (0 to %d)", slice_dim, t->spec_text, t->shape.ndim,
                          t->shape.ndim - 1);
                return CLI_EXIT_USAGE;
            }
            nninit_slice_bounds(t->shape.dim[slice_dim], slice_index, slice_count, &start, &len, NULL);
            t->out_shape.dim[slice_dim] = len;
        }
        if ((st = nninit_shape_numel(&t->shape, &t->numel, &err)) != NNINIT_OK)
            return cli_report(st, &err);
        if (slice_count) /* the slice's elements (a slice may be empty when N > the dimension) */
            t->numel = t->numel / t->shape.dim[slice_dim] * t->out_shape.dim[slice_dim];
        if (!t->has_stream)
            t->stream = (uint64_t)k;
        nninit_file_format named;
        nninit_err ferr;
        nninit_status fs = t->output ? nninit_file_format_from_path(t->output, &named, &ferr) : NNINIT_ENOTFOUND;
        if (fs == NNINIT_OK && named != NNINIT_FORMAT_NPY && named != NNINIT_FORMAT_NPY_DIR) {
            /* a .safetensors name would get .npy bytes (a folder is refused below, as a runtime failure) */
            cli_error("-o %s names %s, but gen writes one .npy; end the name in .npy (for named tensors in one "
                      "file: nninit model --spec)", t->output, nninit_file_format_name(named));
            return CLI_EXIT_USAGE;
        }
        if (t->output && (!cli_output_dir_ok("-o", t->output) || /* before the work, not after it */
                          !cli_space_ok("-o", t->output, (double)t->numel * (double)nninit_dtype_size(dtype) + 128)))
            return CLI_EXIT_FAIL;
    }
    if (!print_config && state_out && !cli_output_dir_ok("--save-torch-state", state_out))
        return CLI_EXIT_FAIL;
    if (print_config) {
        for (int k = 0; k < n_jobs; k++) {
            char *json = NULL;
            if ((st = nninit_init_to_json(&jobs[k].init, &json, &err)) != NNINIT_OK)
                return cli_report(st, &err);
            printf("%s\n", json);
            nninit_free(json);
        }
        return fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
    }

    if ((state_in || state_out) && rng_kind == NNINIT_RNG_PHILOX) {
        cli_error("--torch-state and --save-torch-state need a torch generator (--rng torch...)");
        return CLI_EXIT_USAGE;
    }
    /* half types: generate float32, round once when storing */
    const int half = dtype == NNINIT_F16 || dtype == NNINIT_BF16;
    const nninit_dtype gen_dtype = half ? NNINIT_F32 : dtype;
    if (half && rng_kind != NNINIT_RNG_PHILOX) {
        cli_error("--dtype %s: the torch generators reproduce float32 and float64 only (PyTorch's half-precision "
                  "kernels are not replayed); use float32 or --rng philox",
                  nninit_dtype_name(dtype));
        return CLI_EXIT_USAGE;
    }
    if (stream_version && rng_kind != NNINIT_RNG_PHILOX) {
        cli_error("--stream-version: applies to --rng philox only; the torch generators follow PyTorch's stream");
        return CLI_EXIT_USAGE;
    }
    nninit_rng *rng = NULL;
    if ((st = nninit_rng_new(rng_kind, seed, &rng, &err)) != NNINIT_OK)
        return cli_report(st, &err);
    if (stream_version && (st = nninit_rng_set_stream_version(rng, stream_version, &err)) != NNINIT_OK) {
        nninit_rng_free(rng);
        return cli_report(st, &err);
    }
    if (state_in) {
        void *buf = NULL;
        size_t len = 0;
        if (!cli_read_file(state_in, 1 << 20, &buf, &len)) {
            nninit_rng_free(rng);
            return CLI_EXIT_FAIL;
        }
        st = nninit_rng_torch_state_set(rng, buf, len, &err);
        free(buf);
        if (st != NNINIT_OK) {
            nninit_rng_free(rng);
            cli_report(st, &err);
            return CLI_EXIT_FAIL;
        }
    }
    int rc = CLI_EXIT_OK;
    /* With --repeat, the files are written once every tensor is drawn: a tensor that cannot be
     * drawn (its SPEC, the generator) leaves none written. */
    void *pending[MAX_TENSORS] = {0};
    for (int k = 0; k < n_jobs && rc == CLI_EXIT_OK; k++) {
        tensor_job *t = &jobs[k];
        size_t es = nninit_dtype_size(gen_dtype);
        void *data = (uint64_t)t->numel <= SIZE_MAX / es ? malloc((size_t)t->numel * es + 1) : NULL; /* + 1: an empty slice */
        void *stored = half && data ? malloc((size_t)t->numel * 2 + 1) : data;
        if (!data || !stored) {
            if (stored != data)
                free(stored);
            char buf[200];
            cli_error("shape %s: cannot allocate %.3g GB for the tensor",
                      nninit_shape_format(&t->shape, buf, sizeof buf), (double)t->numel * (double)es / 1e9);
            rc = CLI_EXIT_FAIL;
            break;
        }
        nninit_fill_opts opts = nninit_fill_opts_default();
        opts.layout = t->layout;
        opts.dtype = gen_dtype;
        opts.stream = t->stream;
        opts.threads = threads;
        st = slice_count ? nninit_fill_slice(&t->init, &t->shape, &opts, rng, slice_dim, slice_index, slice_count,
                                             data, &err)
                         : nninit_fill(&t->init, &t->shape, &opts, rng, data, &err);
        if (st == NNINIT_OK && half) { /* round once; stats and printing see the stored values */
            nninit_file_dtype f32 = nninit_file_dtype_of(NNINIT_F32), fd = nninit_file_dtype_of(dtype);
            st = nninit_convert_finite(f32, data, fd, stored, (size_t)t->numel, &err);
            if (st == NNINIT_OK)
                st = nninit_convert(fd, stored, f32, data, (size_t)t->numel, &err);
        }
        if (st != NNINIT_OK && n_jobs > 1) { /* which of the tensors */
            char what[sizeof err.msg];
            snprintf(what, sizeof what, "%s", err.msg);
            snprintf(err.msg, sizeof err.msg, "tensor %d (%.100s%s%.100s): %.700s", k + 1, t->spec_text,
                     t->output ? ", -o " : "", t->output ? t->output : "", what);
        }
        int keep = st == NNINIT_OK && t->output && n_jobs > 1; /* written after the last tensor */
        if (st != NNINIT_OK) {
            rc = cli_report(st, &err);
        } else if (t->output && !keep &&
                   (st = nninit_npy_write(t->output, dtype, &t->out_shape, stored, &err)) != NNINIT_OK) {
            cli_report(st, &err); /* a failed write is a runtime failure */
            rc = CLI_EXIT_FAIL;
        } else if (t->stats) {
            nninit_stats s;
            int64_t fan_in = 0, fan_out = 0;
            char fi[32] = "null", fo[32] = "null";
            nninit_stats_compute(gen_dtype, data, t->numel, &s, NULL);
            nninit_prim prim;
            /* the fans the initializer used (input_axes/output_axes included); the layout's otherwise */
            if (nninit_resolve(&t->init, &t->shape, t->layout, &prim, NULL) == NNINIT_OK &&
                (prim.fan_in > 0 || prim.fan_out > 0)) {
                fan_in = prim.fan_in;
                fan_out = prim.fan_out;
                snprintf(fi, sizeof fi, "%" PRId64, fan_in);
                snprintf(fo, sizeof fo, "%" PRId64, fan_out);
            } else if (nninit_fans(&t->shape, t->layout, &fan_in, &fan_out, NULL) == NNINIT_OK) {
                snprintf(fi, sizeof fi, "%" PRId64, fan_in);
                snprintf(fo, sizeof fo, "%" PRId64, fan_out);
            }
            /* always valid JSON: a statistic that overflowed (std of values near the dtype's
             * limit) is null, as JSON has no inf or NaN */
            printf("{\"fan_in\": %s, \"fan_out\": %s, \"mean\": ", fi, fo);
            cli_json_num(stdout, 17, s.mean);
            printf(", \"std\": ");
            cli_json_num(stdout, 17, s.std);
            printf(", \"min\": ");
            cli_json_num(stdout, 17, s.min);
            printf(", \"max\": ");
            cli_json_num(stdout, 17, s.max);
            printf(", \"n\": %" PRId64 "}\n", s.n);
        } else if (!t->output && !print_values(t, gen_dtype, data)) {
            cli_error("writing to standard output failed");
            rc = CLI_EXIT_FAIL;
        }
        if (keep)
            pending[k] = stored;
        if (stored != data && !keep)
            free(stored);
        if (!keep || stored != data)
            free(data);
    }
    for (int k = 0; k < n_jobs; k++) {
        if (rc == CLI_EXIT_OK && pending[k] &&
            (st = nninit_npy_write(jobs[k].output, dtype, &jobs[k].out_shape, pending[k], &err)) != NNINIT_OK) {
            cli_report(st, &err); /* a failed write is a runtime failure */
            rc = CLI_EXIT_FAIL;
        }
        free(pending[k]);
    }
    if (rc == CLI_EXIT_OK && state_out) {
        unsigned char state[NNINIT_TORCH_STATE_SIZE];
        if ((st = nninit_rng_torch_state_get(rng, state, &err)) != NNINIT_OK)
            rc = cli_report(st, &err);
        else if ((st = nninit_file_write(state_out, state, sizeof state, &err)) != NNINIT_OK) {
            cli_report(st, &err);
            rc = CLI_EXIT_FAIL; /* a failed write is a runtime failure */
        }
    }
    nninit_rng_free(rng);
    if (fflush(stdout) != 0) {
        cli_error("writing to standard output failed");
        rc = CLI_EXIT_FAIL;
    }
    return rc;
}

int cmd_gen(int argc, char **argv)
{
    tensor_job jobs[MAX_TENSORS];
    memset(jobs, 0, sizeof jobs);
    int rc = gen_run(argc, argv, jobs);
    for (int k = 0; k < MAX_TENSORS; k++)
        nninit_init_clear(&jobs[k].init); /* a list window's values (STFT(window=[...])) */
    return rc;
}
