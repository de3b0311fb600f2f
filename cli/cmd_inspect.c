/* nninit inspect: per-tensor statistics of a safetensors / sharded index /
 * npz / npy file or folder, and the std each common initializer would give
 * for the tensor's shape, with the closest match flagged (measured by the
 * library's nninit_fit_tensor; this file parses options and prints). */
#include "cli.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void inspect_usage(FILE *f)
{
    fprintf(f,
            "usage: nninit inspect FILE [--layout keras|torch] [--json] [--brief] [--tensor NAME]...\n"
            "\n"
            "FILE is a .safetensors file, a model.safetensors.index.json (sharded), an .npz, an .npy,\n"
            "a folder of .npy files, or a Keras .weights.h5. For every tensor: dtype, shape, mean,\n"
            "std, min, max, excess kurtosis, fan_in/fan_out, and the std that each common\n"
            "initializer gives for that shape; the closest one whose distribution shape (uniform /\n"
            "truncated normal / normal) matches is flagged.\n"
            "\n"
            "  --layout keras|torch  fan rule; default: the file's nninit.layout, else what the names\n"
            "                        say (PyTorch 'fc.weight', 'rnn.weight_ih_l0' / Keras 'dense/kernel'),\n"
            "                        else torch for safetensors (PyTorch checkpoints), keras otherwise\n"
            "  --json                one JSON object per tensor per line\n"
            "  --brief               one line per tensor, no initializer table\n"
            "  --tensor NAME         only this tensor (repeatable)\n"
            "\n" CLI_EXIT_STATUS_HELP);
}

/* Prints what nninit_fit_tensor measured: one JSON line, one brief line,
 * or the statistics and the initializer table. */
static int inspect_tensor(nninit_tensor_file *tf, size_t i, nninit_layout layout, int json, int brief)
{
    const nninit_tensor_info *info = nninit_tensor_file_info(tf, i);
    nninit_err err = {0};
    nninit_fit m;
    nninit_status st = nninit_fit_tensor(tf, i, layout, &m, &err);
    if (st != NNINIT_OK) {
        cli_report(st, &err);
        return CLI_EXIT_FAIL; /* the file is bad (or memory short), not the command line */
    }
    char shape_txt[160];
    nninit_shape_format(&info->shape, shape_txt, sizeof shape_txt);
    const char *dist = m.constant ? "constant" : nninit_fit_dist_name(m.shape);

    if (json) {
        printf("{\"name\":");
        cli_json_str(stdout, info->name);
        printf(",\"dtype\":\"%s\",\"shape\":[", nninit_file_dtype_name(info->dtype));
        for (int d = 0; d < info->shape.ndim; d++)
            printf(d ? ",%" PRId64 : "%" PRId64, info->shape.dim[d]);
        printf("],\"file\":");
        cli_json_str(stdout, info->file ? info->file : "");
        if (m.numeric) {
            printf(",\"n\":%" PRId64 ",\"non_finite\":%" PRId64 ",\"mean\":", m.n, m.n_nonfinite);
            cli_json_num(stdout, 9, m.mean);
            printf(",\"std\":");
            cli_json_num(stdout, 9, m.std);
            printf(",\"min\":");
            cli_json_num(stdout, 9, m.min);
            printf(",\"max\":");
            cli_json_num(stdout, 9, m.max);
            printf(",\"excess_kurtosis\":");
            cli_json_num(stdout, 9, m.excess_kurtosis);
            printf(",\"distribution\":\"%s\"", dist);
        }
        printf(",\"layout\":\"%s\"", nninit_layout_name(layout));
        if (m.has_fans)
            printf(",\"fan_in\":%" PRId64 ",\"fan_out\":%" PRId64, m.fan_in, m.fan_out);
        printf(",\"initializers\":{");
        int first = 1;
        for (int c = 0; c < m.n_candidates; c++)
            if (isfinite(m.candidates[c].std)) {
                printf(first ? "" : ",");
                cli_json_str(stdout, m.candidates[c].spec);
                printf(":");
                cli_json_num(stdout, 9, m.candidates[c].std);
                first = 0;
            }
        if (isfinite(m.torch_bias_std)) {
            printf(first ? "" : ",");
            printf("\"torch_default_bias\":");
            cli_json_num(stdout, 9, m.torch_bias_std);
        }
        printf("}");
        if (m.orthogonality_error < 1)
            printf(",\"orthogonality_error\":%.3g", m.orthogonality_error);
        printf(",\"closest\":");
        switch (m.closest) {
        case NNINIT_FIT_ORTHOGONAL: printf("\"orthogonal(gain=%.6g)\"", m.orthogonal_gain); break;
        case NNINIT_FIT_TORCH_BIAS: printf("\"torch_default_bias\""); break;
        case NNINIT_FIT_CONSTANT: printf("\"constant(%.9g)\"", m.mean); break;
        case NNINIT_FIT_CANDIDATE: cli_json_str(stdout, m.candidates[m.best].spec); break;
        default: printf("null");
        }
        printf("}\n");
        return CLI_EXIT_OK;
    }
    cli_put_escaped(stdout, info->name);
    printf("  %s %s", nninit_file_dtype_name(info->dtype), shape_txt);
    if (!m.numeric) {
        printf("  (no statistics for this dtype)\n");
        return CLI_EXIT_OK;
    }
    printf("  mean %.6g  std %.6g  min %.6g  max %.6g", m.mean, m.std, m.min, m.max);
    if (m.n_nonfinite)
        printf("  non-finite %" PRId64, m.n_nonfinite);
    if (brief) {
        switch (m.closest) {
        case NNINIT_FIT_CONSTANT: printf("  ~ constant %.6g", m.mean); break;
        case NNINIT_FIT_ORTHOGONAL: printf("  ~ orthogonal(gain=%.6g)", m.orthogonal_gain); break;
        case NNINIT_FIT_TORCH_BIAS: printf("  ~ torch default bias"); break;
        case NNINIT_FIT_CANDIDATE: printf("  ~ %s", m.candidates[m.best].spec); break;
        default: break;
        }
        printf("\n");
        return CLI_EXIT_OK;
    }
    printf("\n");
    if (m.has_fans)
        printf("  fans (%s): fan_in %" PRId64 ", fan_out %" PRId64 "\n", nninit_layout_name(layout), m.fan_in,
               m.fan_out);
    else
        printf("  fans (%s): undefined for %d-D tensors\n", nninit_layout_name(layout), info->shape.ndim);
    if (isfinite(m.torch_bias_std))
        printf("    %-44s std %.6g%s\n", "torch default bias: U(+-1/sqrt(fan_in))", m.torch_bias_std,
               m.torch_bias_match ? " <- closest" : "");
    if (m.constant) {
        printf("  every element is %.9g (constant initializer)\n", m.mean);
        return CLI_EXIT_OK;
    }
    printf("  excess kurtosis %.3f: %s-shaped (uniform -1.2, truncated normal -0.64, normal 0)\n",
           m.excess_kurtosis, dist);
    if (m.orthogonal)
        printf("  orthogonal: |W^T W / gain^2 - I| <= %.2g with gain %.6g <- closest\n", m.orthogonality_error,
               m.orthogonal_gain);
    else if (m.orthogonality_error < 1)
        printf("  not orthogonal: |W^T W / gain^2 - I| reaches %.2g\n", m.orthogonality_error);
    if (!m.has_fans)
        return CLI_EXIT_OK;
    int best = m.orthogonal ? -1 : m.best; /* the structure decides, not the std */
    for (int c = 0; c < m.n_candidates; c++)
        if (isfinite(m.candidates[c].std))
            printf(c == best ? "    %-44s std %-11.6g <- closest\n" : "    %-44s std %.6g\n", m.candidates[c].label,
                   m.candidates[c].std);
    if (best < 0)
        printf("    (no common initializer of this distribution shape within %.0f%% of std %.6g)\n", 100 * m.tol,
               m.std);
    return CLI_EXIT_OK;
}

int cmd_inspect(int argc, char **argv)
{
    const char *path = NULL;
    int json = 0, brief = 0, layout_given = 0;
    nninit_layout layout = NNINIT_LAYOUT_KERAS;
    const char **only = calloc((size_t)argc + 1, sizeof *only);
    int n_only = 0;
    nninit_err err = {0};
    if (!only)
        return CLI_EXIT_FAIL;
    enum { O_JSON = 1, O_BRIEF, O_LAYOUT, O_TENSOR };
    static const cli_opt options[] = {{"--json", NULL, 0, O_JSON}, {"--brief", NULL, 0, O_BRIEF},
                                      {"--layout", NULL, 1, O_LAYOUT}, {"--tensor", NULL, 1, O_TENSOR}, {0}};
    cli_args args;
    cli_args_init(&args, "inspect", argc, argv, options, inspect_usage);
    for (int id; (id = cli_next(&args)) != CLI_END;) {
        nninit_status st = NNINIT_OK;
        int rc = -1;
        switch (id) {
        case CLI_STOP:
            rc = args.rc;
            break;
        case CLI_ARG:
            if (path)
                rc = cli_unexpected(&args, args.val, "inspect reads one FILE");
            path = args.val;
            break;
        case O_JSON:
            json = 1;
            break;
        case O_BRIEF:
            brief = 1;
            break;
        case O_TENSOR:
            only[n_only++] = args.val;
            break;
        case O_LAYOUT:
            if ((st = nninit_layout_parse(args.val, &layout, &err)) != NNINIT_OK)
                rc = cli_report(st, &err);
            layout_given = 1;
            break;
        }
        if (rc >= 0) {
            free(only);
            return rc;
        }
    }
    if (!path) {
        inspect_usage(stderr);
        free(only);
        return CLI_EXIT_USAGE;
    }
    nninit_tensor_file *tf = NULL;
    char *spooled = NULL; /* "-": standard input, copied to a temporary file */
    const char *open_path = cli_input_path(path, &spooled);
    if (!open_path) {
        free(only);
        return CLI_EXIT_FAIL;
    }
    nninit_status st = nninit_tensor_file_open(open_path, &tf, &err);
    if (st != NNINIT_OK) {
        free(only);
        cli_input_name(&err, spooled);
        cli_input_done(spooled);
        cli_report(st, &err);
        return CLI_EXIT_FAIL; /* missing, unreadable or corrupt: a runtime failure */
    }
    nninit_file_format fmt = nninit_tensor_file_format(tf);
    char why[160] = "--layout";
    if (!layout_given)
        layout = nninit_fit_layout(tf, why, sizeof why);
    if (!json)
        printf("%s: %s, %zu tensors, layout %s (%s)\n", path, nninit_file_format_name(fmt),
               nninit_tensor_file_count(tf), nninit_layout_name(layout), why);
    int rc = CLI_EXIT_OK;
    for (int k = 0; k < n_only; k++) {
        size_t idx;
        if (nninit_tensor_file_find(tf, only[k], &idx, NULL) != NNINIT_OK) {
            cli_error("%s: no tensor named '%s'", path, only[k]);
            rc = CLI_EXIT_USAGE;
        }
    }
    for (size_t i = 0; rc == CLI_EXIT_OK && i < nninit_tensor_file_count(tf); i++) {
        const char *name = nninit_tensor_file_info(tf, i)->name;
        int wanted = n_only == 0;
        for (int k = 0; k < n_only && !wanted; k++)
            wanted = !strcmp(only[k], name);
        if (wanted)
            rc = inspect_tensor(tf, i, layout, json, brief);
    }
    nninit_tensor_file_free(tf);
    cli_input_done(spooled);
    free(only);
    if (rc == CLI_EXIT_OK && (fflush(stdout) != 0 || ferror(stdout))) {
        cli_error("write to standard output failed");
        return CLI_EXIT_FAIL;
    }
    return rc;
}
