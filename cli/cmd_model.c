/* nninit model: initial weights of a whole model (Keras model JSON, PyTorch
 * recipe, or nninit spec) written as safetensors (sharded or not), npz, or
 * a folder of .npy files. */
#include "cli.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void model_usage(FILE *f)
{
    fprintf(f,
            "usage: nninit model (--keras FILE | --torch RECIPE | --spec FILE) -o OUT [options]\n"
            "\n"
            "Write the initial weights of a whole model, each tensor with the initializer its\n"
            "framework (or the spec) gives it, in the framework's names, shapes and layouts.\n"
            "\n"
            "  --keras FILE           Keras model JSON (model.to_json(), config.json) or a .keras archive\n"
            "  --keras-version V      follow Keras V's build rules (default: the version the file records,\n"
            "                         else 3.16; before 3.15 EinsumDense/MultiHeadAttention kernels\n"
            "                         took fans from the rank rule, not from the einsum axes)\n"
            "  --torch RECIPE         PyTorch module recipe, e.g.\n"
            "                         'Sequential(Linear(784, 256), ReLU(), Linear(256, 10))', or @FILE;\n"
            "                         name submodules as your module does: Net(conv1=Conv2d(1, 8, 3), ...),\n"
            "                         Sequential(OrderedDict([('fc', Linear(4, 2))])), ModuleList, ModuleDict\n"
            "  --spec FILE            nninit model spec: {\"layout\": \"keras\", \"tensors\": [{\"name\": \"w\",\n"
            "                         \"shape\": [784, 256], \"init\": \"he_normal\"}], \"overrides\": {...}}\n"
            "  --spec FAMILY:SIZES    a synthetic layout: gpt:layers=L,d_model=D,heads=H[,vocab=V][,ctx=C][,ffn=F]\n"
            "                         (GPT-2's names and init rules; layers=32,d_model=4096,heads=32,ctx=2048\n"
            "                         is 6.7 B parameters)\n"
            "  -o, --output OUT       file or folder; all files replaced only on success, as docs/files.md\n"
            "                         says; its ending names the format: .safetensors, .npz, .weights.h5\n"
            "                         (Keras 3 model.load_weights), a folder (one NAME.npy per tensor)\n"
            "  --format F             safetensors (default), npz, npz-deflated, npy-dir, weights.h5 (a\n"
            "                         Keras model; needs libhdf5); must agree with -o's ending\n"
            "  --dtype D              float32 (default), float64, bfloat16, float16 (rounded once)\n"
            "  --seed N               64-bit seed (default %u)\n"
            "  --rng KIND             philox (default: stream per tensor name) or torch (PyTorch's CPU\n"
            "                         generator: with --torch the file equals the state_dict after\n"
            "                         torch.manual_seed(N), bit for bit); a tensor PyTorch cannot draw\n"
            "                         (kaiming_normal_ on 1-D) or nninit cannot replay (delta_orthogonal)\n"
            "                         is refused, as every bad tensor is, before any output is made\n"
            "  --max-shard-size SIZE  safetensors shards as Hugging Face names them (e.g. 5GB, 500MB)\n"
            "  --override NAME=SPEC   another initializer for one tensor (repeatable)\n"
            "  --threads N            worker threads, 0..%d (default 0: all CPUs; values never depend on it)\n"
            "  --shard-dim D --shard K/N  tensor-parallel slice: every tensor with more than D dimensions\n"
            "                         is written as its slice K of N (0 <= K < N) along dimension D, as\n"
            "                         torch.tensor_split cuts it, bit-equal to that slice of the whole\n"
            "                         tensor (Philox only); tensors with fewer dimensions are whole\n"
            "  --memory-limit SIZE    refuse (before writing) a tensor that must be generated whole\n"
            "                         (orthogonal, sparse) and needs more memory; the others stream\n"
            "                         in 16 MiB chunks whatever the model size, --rng torch too\n"
            "  --list                 print the tensors and their initializers; write nothing\n"
            "\n" CLI_EXIT_STATUS_HELP,
            (unsigned)NNINIT_DEFAULT_SEED, CLI_MAX_THREADS);
}

static char *read_file(const char *path, nninit_err *err)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin; /* "-": standard input */
    if (!f) {
        snprintf(err->msg, sizeof err->msg, "%s: cannot open (%s)", path, strerror(errno));
        err->code = errno == ENOENT ? NNINIT_ENOTFOUND : NNINIT_EIO;
        return NULL;
    }
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t got = fread(buf + len, 1, cap - len - 1, f);
        len += got;
        if (len + 1 < cap)
            break;
        if (cap > ((size_t)1 << 30)) { /* a model description is never this large */
            free(buf);
            buf = NULL;
            break;
        }
        char *nb = realloc(buf, cap * 2);
        if (!nb) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = nb;
        cap *= 2;
    }
    int bad = ferror(f);
    if (f != stdin)
        fclose(f);
    if (!buf || bad) {
        free(buf);
        snprintf(err->msg, sizeof err->msg, "%s: cannot read (too large or I/O error)", path);
        err->code = NNINIT_EIO;
        return NULL;
    }
    buf[len] = '\0';
    return buf;
}

int cmd_model(int argc, char **argv) { return cli_model_main(argc, argv, NULL, NULL); }

int cli_model_main(int argc, char **argv, cli_model_writer writer, void *writer_ctx)
{
    const char *keras = NULL, *torch = NULL, *spec = NULL, *output = NULL, *keras_version = NULL;
    const char **overrides = calloc((size_t)argc + 1, sizeof *overrides);
    int n_over = 0, list = 0, has_slice_dim = 0, format_given = 0;
    nninit_model_opts o = nninit_model_opts_default();
    nninit_err err = {0};
    nninit_status st;
    int rc = CLI_EXIT_USAGE;
    nninit_model *m = NULL;
    char *text = NULL, *spooled = NULL;
    if (!overrides)
        return CLI_EXIT_FAIL;
    enum { O_LIST = 1, O_KERAS, O_TORCH, O_SPEC, O_OUTPUT, O_OVERRIDE, O_SEED, O_THREADS, O_RNG, O_DTYPE, O_FORMAT,
           O_SHARD, O_KERAS_VERSION, O_SLICE_DIM, O_SLICE, O_MEMORY_LIMIT };
    static const cli_opt options[] = {
        {"--list", NULL, 0, O_LIST},         {"--keras", NULL, 1, O_KERAS},   {"--torch", NULL, 1, O_TORCH},
        {"--spec", NULL, 1, O_SPEC},         {"--output", "-o", 1, O_OUTPUT}, {"--override", NULL, 1, O_OVERRIDE},
        {"--seed", NULL, 1, O_SEED},         {"--threads", NULL, 1, O_THREADS}, {"--rng", NULL, 1, O_RNG},
        {"--dtype", NULL, 1, O_DTYPE},       {"--format", NULL, 1, O_FORMAT}, {"--max-shard-size", NULL, 1, O_SHARD},
        {"--keras-version", NULL, 1, O_KERAS_VERSION}, {"--shard-dim", NULL, 1, O_SLICE_DIM},
        {"--shard", NULL, 1, O_SLICE}, {"--memory-limit", NULL, 1, O_MEMORY_LIMIT}, {0}};
    cli_args args;
    cli_args_init(&args, "model", argc, argv, options, model_usage);
    for (int id; (id = cli_next(&args)) != CLI_END;) {
        const char *v = args.val;
        nninit_dtype d;
        switch (id) {
        case CLI_STOP:
            rc = args.rc;
            goto out;
        case CLI_ARG:
            rc = cli_unexpected(&args, v, NULL);
            goto out;
        case O_LIST:
            list = 1;
            break;
        case O_KERAS:
            keras = v;
            break;
        case O_KERAS_VERSION:
            keras_version = v;
            break;
        case O_TORCH:
            torch = v;
            break;
        case O_SPEC:
            spec = v;
            break;
        case O_OUTPUT:
            output = v;
            break;
        case O_OVERRIDE:
            if (!strchr(v, '=')) {
                cli_bad_value("--override", v, "NAME=SPEC, e.g. fc1.weight=orthogonal");
                goto out;
            }
            overrides[n_over++] = v;
            break;
        case O_SEED:
            if (!cli_parse_u64("--seed", v, &o.seed))
                goto out;
            break;
        case O_THREADS:
            if (!cli_parse_threads(v, &o.threads))
                goto out;
            break;
        case O_RNG:
            if ((st = nninit_rng_kind_parse(v, &o.rng, &err)) != NNINIT_OK) {
                rc = cli_report(st, &err);
                goto out;
            }
            break;
        case O_DTYPE:
            if ((st = nninit_dtype_parse(v, &d, &err)) != NNINIT_OK) {
                rc = cli_report(st, &err);
                goto out;
            }
            o.dtype = nninit_file_dtype_of(d);
            break;
        case O_FORMAT:
            if ((st = nninit_file_format_parse(v, &o.write.format, &err)) != NNINIT_OK) {
                rc = cli_report(st, &err);
                goto out;
            }
            format_given = 1;
            break;
        case O_SLICE_DIM:
            if (!cli_parse_int("--shard-dim", v, 0, NNINIT_MAX_DIMS - 1, &o.slice_dim))
                goto out;
            has_slice_dim = 1;
            break;
        case O_SLICE:
            if (!cli_parse_slice(v, &o.slice_index, &o.slice_count))
                goto out;
            break;
        case O_MEMORY_LIMIT:
            if (!cli_parse_size(v, &o.memory_limit)) {
                cli_bad_value("--memory-limit", v, "a size such as 512MiB, 4GB or a byte count");
                goto out;
            }
            break;
        case O_SHARD:
            if (!cli_parse_size(v, &o.write.max_shard_size)) {
                cli_bad_value("--max-shard-size", v, "a size such as 5GB, 500MB, 2GiB or a byte count");
                goto out;
            }
            break;
        }
    }
    if (!!keras + !!torch + !!spec != 1) {
        cli_error("give exactly one of --keras FILE, --torch RECIPE, --spec FILE");
        goto out;
    }
    if (keras_version && !keras) {
        cli_error("--keras-version applies to --keras only");
        goto out;
    }
    if (has_slice_dim != (o.slice_count > 0)) {
        cli_error("--shard-dim D and --shard K/N go together (slice K of N along dimension D)");
        goto out;
    }
    if (o.slice_count > 1 && o.rng != NNINIT_RNG_PHILOX) {
        cli_error("--shard: slices need --rng philox; a torch generator draws the whole model as one sequential "
                  "stream, so a slice would cost the whole model");
        goto out;
    }
    if (!output && !list) {
        cli_error("-o OUT is required (or --list to only show the tensors)");
        goto out;
    }
    if (output && !list) { /* the format -o's ending names, which --format must agree with */
        nninit_file_format named;
        nninit_err ferr;
        st = nninit_file_format_from_path(output, &named, &ferr);
        if (st == NNINIT_EINVAL) {
            cli_report(st, &ferr);
            rc = CLI_EXIT_USAGE;
            goto out;
        }
        if (st == NNINIT_OK && named == NNINIT_FORMAT_NPY) {
            cli_error("-o %s: a model has several tensors and .npy holds one; end the name in .npz or .safetensors, "
                      "or give a folder (one NAME.npy per tensor)", output);
            goto out;
        }
        nninit_file_format given = o.write.format == NNINIT_FORMAT_NPZ_DEFLATED ? NNINIT_FORMAT_NPZ : o.write.format;
        if (st == NNINIT_OK && format_given && named != given) {
            cli_error("--format %s, but -o %s names %s; make them agree (or leave --format out)",
                      nninit_file_format_name(o.write.format), output, nninit_file_format_name(named));
            goto out;
        }
        if (st == NNINIT_OK && !format_given)
            o.write.format = named;
    }
    if (o.write.max_shard_size && o.write.format != NNINIT_FORMAT_SAFETENSORS) {
        cli_error("--max-shard-size applies to --format safetensors only");
        goto out;
    }
    if (output && !list && !strcmp(output, "-") &&
        (o.write.max_shard_size || o.write.format == NNINIT_FORMAT_NPY_DIR)) { /* made files named "-..." */
        cli_error("-o -: standard output takes one file; %s writes several; give a %s name",
                  o.write.max_shard_size ? "--max-shard-size" : "--format npy-dir",
                  o.write.max_shard_size ? "file" : "folder");
        goto out;
    }
    if (output && !list) { /* before the work: a folder for npy-dir, else a file */
        if (o.write.format == NNINIT_FORMAT_NPY_DIR) {
            cli_watch_dir(output);
        } else if (!cli_output_dir_ok("-o", output)) {
            rc = CLI_EXIT_FAIL;
            goto out;
        }
    }
    if (torch && torch[0] == '@') { /* a recipe file: several lines, # comments */
        text = read_file(torch + 1, &err);
        if (!text) {
            cli_error("%s", err.msg);
            rc = CLI_EXIT_FAIL; /* a missing or unreadable file is a runtime failure */
            goto out;
        }
        st = nninit_model_from_torch(text, &m, &err);
    } else if (torch) {
        st = nninit_model_from_torch(torch, &m, &err);
    } else if (keras) {
        const char *kpath = cli_input_path(keras, &spooled); /* "-": standard input */
        if (!kpath) {
            rc = CLI_EXIT_FAIL;
            goto out;
        }
        st = nninit_model_from_keras_file_as(kpath, keras_version, &m, &err); /* JSON or a .keras archive */
        if (st == NNINIT_OK && spooled) /* the metadata names the input as given, not the private copy */
            st = nninit_model_set_description(m, "-", &err);
    } else if (!strncmp(spec, "gpt:", 4)) { /* a model family with its sizes */
        st = nninit_model_from_family(spec, &m, &err);
    } else {
        text = read_file(spec, &err);
        if (!text) {
            cli_error("%s", err.msg);
            rc = CLI_EXIT_FAIL; /* a missing or unreadable file is a runtime failure */
            goto out;
        }
        st = nninit_model_from_spec(text, &m, &err);
    }
    if (st != NNINIT_OK) {
        cli_input_name(&err, spooled);
        rc = cli_report(st, &err);
        if (st == NNINIT_EUNSUPPORTED) /* a layer or module nninit cannot build: the input's fault */
            rc = CLI_EXIT_USAGE;
        goto out;
    }
    for (int k = 0; k < n_over; k++) {
        char name[512];
        const char *eq = strchr(overrides[k], '=');
        snprintf(name, sizeof name, "%.*s", (int)(eq - overrides[k]), overrides[k]);
        if ((st = nninit_model_override(m, name, eq + 1, &err)) != NNINIT_OK) {
            rc = cli_report(st, &err);
            goto out;
        }
    }
    if (list) {
        for (size_t i = 0; i < nninit_model_count(m); i++) {
            nninit_model_tensor t;
            char sh[160];
            nninit_model_tensor_at(m, i, &t);
            cli_put_escaped(stdout, t.name);
            printf("\t%s\t%s\t%s\n", nninit_shape_format(&t.shape, sh, sizeof sh),
                   nninit_layout_name(t.layout), t.is_int64 ? "int64 zeros" : t.spec);
        }
        rc = fflush(stdout) == 0 && !ferror(stdout) ? CLI_EXIT_OK : CLI_EXIT_FAIL;
        goto out;
    }
    /* every tensor drawable as asked (its shape, --rng, --dtype), before any output exists: a mistake in the
     * model or the options, so a usage error */
    if ((st = nninit_model_check(m, &o, &err)) != NNINIT_OK) {
        rc = cli_report(st, &err);
        if (st == NNINIT_EINVAL || st == NNINIT_EUNSUPPORTED)
            rc = CLI_EXIT_USAGE;
        goto out;
    }
    { /* total bytes against free space, before the work */
        double bytes = 0;
        for (size_t i = 0; i < nninit_model_count(m); i++) {
            nninit_model_tensor t;
            nninit_model_tensor_at(m, i, &t);
            double numel = 1;
            for (int d = 0; d < t.shape.ndim; d++)
                numel *= (double)t.shape.dim[d];
            bytes += numel * (t.is_int64 ? 8.0 : nninit_file_dtype_bits(o.dtype) / 8.0) + 256; /* + headers */
        }
        if (!cli_space_ok("-o", output, bytes)) {
            rc = CLI_EXIT_FAIL;
            goto out;
        }
    }
    cli_progress progress;
    cli_progress_init(&progress, "model");
    o.progress = cli_progress_update;
    o.progress_user = &progress;
    if (o.write.format == NNINIT_FORMAT_NPY_DIR)
        cli_watch_npy_dir(output, m); /* a signal removes the folders the write made */
    st = writer ? writer(m, output, &o, writer_ctx, &err) : nninit_model_write(m, output, &o, &err);
    cli_progress_end(&progress);
    if (st != NNINIT_OK) {
        rc = cli_report(st, &err);
        goto out;
    }
    rc = CLI_EXIT_OK;
out:
    nninit_model_free(m);
    cli_input_done(spooled);
    free(text);
    free(overrides);
    return rc;
}
