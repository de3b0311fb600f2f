/* nninit inspect: per-tensor statistics of a safetensors / sharded index /
 * npz / npy file or folder, and the std each common initializer would give
 * for the tensor's shape, with the closest match flagged. */
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
            "or a folder of .npy files. For every tensor: dtype, shape, mean, std, min, max, excess\n"
            "kurtosis, fan_in/fan_out, and the std that each common initializer gives for that\n"
            "shape; the closest one whose distribution shape (uniform / truncated normal / normal)\n"
            "matches is flagged.\n"
            "\n"
            "  --layout keras|torch  fan rule; default torch for safetensors (PyTorch checkpoints),\n"
            "                        keras otherwise, unless the file's metadata names one\n"
            "  --json                one JSON object per tensor per line\n"
            "  --brief               one line per tensor, no initializer table\n"
            "  --tensor NAME         only this tensor (repeatable)\n"
            "\n" CLI_EXIT_STATUS_HELP);
}

typedef struct moments {
    int64_t n, n_nan;
    double mean, std, min, max, kurt; /* population std; excess kurtosis */
} moments;

/* Two passes in double over the converted values (chunked to bound memory). */
static int compute_moments(const nninit_tensor_info *info, const void *raw, moments *m)
{
    int bits = nninit_file_dtype_bits(info->dtype);
    int64_t n = (int64_t)(info->nbytes * 8 / (uint64_t)(bits ? bits : 8));
    enum { CH = 65536 };
    double *buf = malloc(CH * sizeof *buf);
    if (!buf)
        return 0;
    memset(m, 0, sizeof *m);
    m->min = (double)INFINITY;
    m->max = -(double)INFINITY;
    double sum = 0;
    int64_t finite = 0;
    const unsigned char *p = raw;
    size_t width = (size_t)bits / 8;
    for (int pass = 0; pass < 2; pass++) {
        double s2 = 0, s4 = 0;
        for (int64_t i = 0; i < n; i += CH) {
            size_t k = (size_t)(n - i < CH ? n - i : CH);
            if (nninit_convert(info->dtype, p + (size_t)i * width, NNINIT_FD_F64, buf, k, NULL) != NNINIT_OK) {
                free(buf);
                return 0;
            }
            for (size_t j = 0; j < k; j++) {
                double v = buf[j];
                if (!isfinite(v)) {
                    if (pass == 0)
                        m->n_nan++;
                    continue;
                }
                if (pass == 0) {
                    sum += v;
                    finite++;
                    if (v < m->min)
                        m->min = v;
                    if (v > m->max)
                        m->max = v;
                } else {
                    double d = v - m->mean;
                    s2 += d * d;
                    s4 += d * d * d * d;
                }
            }
        }
        if (pass == 0) {
            m->n = finite;
            m->mean = finite ? sum / (double)finite : (double)NAN;
        } else if (finite) {
            double var = s2 / (double)finite;
            m->std = sqrt(var);
            m->kurt = var > 0 ? s4 / (double)finite / (var * var) - 3.0 : (double)NAN;
        }
    }
    if (!finite)
        m->min = m->max = m->std = m->kurt = (double)NAN;
    free(buf);
    return 1;
}

/* Distribution shapes told apart by excess kurtosis: uniform -1.2,
 * normal truncated at +-2 sigma (Keras) -0.64, normal 0. */
typedef enum shape_kind { SK_UNIFORM = 0, SK_TRUNC, SK_NORMAL, SK_ANY } shape_kind;
static const char *const shape_names[] = {"uniform", "truncated normal", "normal", "any"};

static shape_kind classify(const moments *m)
{
    if (m->n < 100 || !isfinite(m->kurt))
        return SK_ANY;
    const double k[3] = {-1.2, -0.6376, 0.0};
    shape_kind best = SK_UNIFORM;
    for (int i = 1; i < 3; i++)
        if (fabs(m->kurt - k[i]) < fabs(m->kurt - k[best]))
            best = (shape_kind)i;
    return best;
}

typedef struct candidate {
    const char *label;
    const char *spec;
    shape_kind shape;
} candidate;

static const candidate candidates[] = {
    {"glorot_uniform / xavier_uniform_", "glorot_uniform", SK_UNIFORM},
    {"glorot_normal (Keras)", "glorot_normal", SK_TRUNC},
    {"xavier_normal_ (torch)", "xavier_normal_", SK_NORMAL},
    {"he_uniform / kaiming_uniform_(a=0)", "he_uniform", SK_UNIFORM},
    {"he_normal (Keras)", "he_normal", SK_TRUNC},
    {"kaiming_normal_(a=0) (torch)", "kaiming_normal_", SK_NORMAL},
    {"lecun_uniform", "lecun_uniform", SK_UNIFORM},
    {"lecun_normal (Keras)", "lecun_normal", SK_TRUNC},
    {"torch default: kaiming_uniform_(a=sqrt(5))", "kaiming_uniform_(a=2.23606797749979)", SK_UNIFORM},
    {"orthogonal", "orthogonal", SK_NORMAL},
    {"random_normal(stddev=0.05)", "random_normal", SK_NORMAL},
    {"truncated_normal(stddev=0.05)", "truncated_normal", SK_TRUNC},
    {"random_uniform(-0.05, 0.05)", "random_uniform", SK_UNIFORM},
    {"normal_(0, 1) (torch Embedding)", "normal_", SK_NORMAL},
};
#define N_CAND (sizeof candidates / sizeof candidates[0])

/* Orthogonality of a weight flattened as its initializer would (Keras:
 * (prod(shape[:-1]), shape[-1]); torch: (shape[0], prod(shape[1:]))):
 * G = the Gram matrix of the smaller side, gain^2 = mean(diag G),
 * *dev = max |G_ij / gain^2 - delta_ij|. Only for sizes where the
 * O(rows cols min(rows, cols)) product is cheap; returns 0 when skipped. */
static int orthogonality(const nninit_tensor_info *info, const void *raw, nninit_layout layout, double *gain,
                         double *dev)
{
    const nninit_shape *sh = &info->shape;
    if (sh->ndim < 2)
        return 0;
    int64_t rows = 1, cols = 1;
    if (layout == NNINIT_LAYOUT_KERAS) {
        for (int d = 0; d < sh->ndim - 1; d++)
            rows *= sh->dim[d];
        cols = sh->dim[sh->ndim - 1];
    } else {
        rows = sh->dim[0];
        for (int d = 1; d < sh->ndim; d++)
            cols *= sh->dim[d];
    }
    int64_t small = rows < cols ? rows : cols, big = rows < cols ? cols : rows;
    if (small < 2 || small > 512 || big > ((int64_t)1 << 20) || small * small * big > ((int64_t)1 << 28))
        return 0;
    double *a = malloc((size_t)(rows * cols) * sizeof *a), *g = calloc((size_t)(small * small), sizeof *g);
    if (!a || !g || nninit_convert(info->dtype, raw, NNINIT_FD_F64, a, (size_t)(rows * cols), NULL) != NNINIT_OK) {
        free(a);
        free(g);
        return 0;
    }
    /* G = A^T A (orthonormal columns) when rows >= cols, else A A^T. */
    for (int64_t k = 0; k < big; k++)
        for (int64_t i = 0; i < small; i++) {
            double x = rows >= cols ? a[k * cols + i] : a[i * cols + k];
            for (int64_t j = 0; j <= i; j++)
                g[i * small + j] += x * (rows >= cols ? a[k * cols + j] : a[j * cols + k]);
        }
    double g2 = 0;
    for (int64_t i = 0; i < small; i++)
        g2 += g[i * small + i];
    g2 /= (double)small;
    double worst = 0;
    for (int64_t i = 0; i < small && g2 > 0; i++)
        for (int64_t j = 0; j <= i; j++)
            worst = fmax(worst, fabs(g[i * small + j] / g2 - (i == j ? 1.0 : 0.0)));
    free(a);
    free(g);
    if (!(g2 > 0))
        return 0;
    *gain = sqrt(g2);
    *dev = worst;
    return 1;
}

static int inspect_tensor(nninit_tensor_file *tf, size_t i, nninit_layout layout, int json, int brief)
{
    const nninit_tensor_info *info = nninit_tensor_file_info(tf, i);
    nninit_err err = {0};
    void *raw = malloc(info->nbytes ? (size_t)info->nbytes : 1);
    if (!raw) {
        cli_error("%s: out of memory for %" PRIu64 " bytes", info->name, info->nbytes);
        return CLI_EXIT_FAIL;
    }
    nninit_status st = nninit_tensor_file_read(tf, i, raw, &err);
    if (st != NNINIT_OK) {
        free(raw);
        cli_report(st, &err);
        return CLI_EXIT_FAIL; /* the file is bad, not the command line */
    }
    moments m;
    double ortho_gain = 0, ortho_dev = 1;
    int ortho = 0;
    double probe;
    int numeric = nninit_convert(info->dtype, raw, NNINIT_FD_F64, &probe, 0, NULL) == NNINIT_OK;
    if (numeric && !compute_moments(info, raw, &m)) {
        free(raw);
        cli_error("%s: out of memory", info->name);
        return CLI_EXIT_FAIL;
    }
    /* float32 rounding leaves |Q^T Q - I| ~ 1e-6 sqrt(n); 1e-3 is far from
     * any random matrix (whose off-diagonal Gram entries are ~ 1/sqrt(rows)). */
    if (numeric && orthogonality(info, raw, layout, &ortho_gain, &ortho_dev))
        ortho = ortho_dev < 1e-3;
    free(raw);
    char shape_txt[160];
    nninit_shape_format(&info->shape, shape_txt, sizeof shape_txt);
    int64_t fan_in = 0, fan_out = 0;
    int has_fans = nninit_fans(&info->shape, layout, &fan_in, &fan_out, NULL) == NNINIT_OK;

    /* The std each candidate gives for this shape, and the closest one of
     * a matching distribution shape. */
    double cstd[N_CAND];
    int best = -1;
    shape_kind sk = numeric ? classify(&m) : SK_ANY;
    int constant = numeric && m.n > 0 && m.std == 0.0;
    for (size_t c = 0; c < N_CAND; c++) {
        nninit_init init;
        nninit_prim prim;
        cstd[c] = (double)NAN;
        if (!has_fans || nninit_init_parse(candidates[c].spec, &init, NULL) != NNINIT_OK ||
            nninit_resolve(&init, &info->shape, layout, &prim, NULL) != NNINIT_OK)
            continue;
        cstd[c] = prim.expected_std;
        if (!numeric || constant || !(m.std > 0) || !(cstd[c] > 0))
            continue;
        if (sk != SK_ANY && candidates[c].shape != sk)
            continue;
        if (best < 0 || fabs(log(m.std / cstd[c])) < fabs(log(m.std / cstd[best])))
            best = (int)c;
    }
    /* A torch bias: nn.Linear / ConvNd draw it from U(+-1/sqrt(fan_in))
     * with the fan_in of the sibling "<prefix>weight". */
    double bias_std = (double)NAN;
    int64_t bias_fan = 0;
    size_t nl = strlen(info->name);
    if (layout == NNINIT_LAYOUT_TORCH && info->shape.ndim == 1 && nl >= 4 && !strcmp(info->name + nl - 4, "bias")) {
        char *wname = malloc(nl + 3);
        size_t wi;
        int64_t fo;
        if (wname) {
            snprintf(wname, nl + 3, "%.*sweight", (int)(nl - 4), info->name);
            if (nninit_tensor_file_find(tf, wname, &wi, NULL) == NNINIT_OK &&
                nninit_fans(&nninit_tensor_file_info(tf, wi)->shape, layout, &bias_fan, &fo, NULL) == NNINIT_OK &&
                bias_fan > 0)
                bias_std = 1.0 / sqrt((double)bias_fan) / sqrt(3.0);
            free(wname);
        }
    }
    /* Match window: 10%, or 3 standard errors of the sample std when the
     * tensor is small. The relative standard error of a std estimated from
     * n values is sqrt((excess kurtosis + 2) / (4 n)) (uniform: 0.8/(4n)),
     * so a 10-element bias needs about +-42%. */
    double kx = numeric && isfinite(m.kurt) ? fmin(fmax(m.kurt, -1.2), 3.0) : 0.0;
    double tol = numeric && m.n > 0 ? fmax(0.10, 3.0 * sqrt((kx + 2.0) / (4.0 * (double)m.n))) : 0.10;
    int bias_match = numeric && !constant && isfinite(bias_std) && (sk == SK_ANY || sk == SK_UNIFORM) &&
                     fabs(m.std / bias_std - 1.0) <= tol;
    if (best >= 0 && fabs(m.std / cstd[best] - 1.0) > tol)
        best = -1;

    if (json) {
        printf("{\"name\":");
        cli_json_str(stdout, info->name);
        printf(",\"dtype\":\"%s\",\"shape\":[", nninit_file_dtype_name(info->dtype));
        for (int d = 0; d < info->shape.ndim; d++)
            printf(d ? ",%" PRId64 : "%" PRId64, info->shape.dim[d]);
        printf("],\"file\":");
        cli_json_str(stdout, info->file ? info->file : "");
        if (numeric) {
            printf(",\"n\":%" PRId64 ",\"non_finite\":%" PRId64 ",\"mean\":", m.n, m.n_nan);
            cli_json_num(stdout, 9, m.mean);
            printf(",\"std\":");
            cli_json_num(stdout, 9, m.std);
            printf(",\"min\":");
            cli_json_num(stdout, 9, m.min);
            printf(",\"max\":");
            cli_json_num(stdout, 9, m.max);
            printf(",\"excess_kurtosis\":");
            cli_json_num(stdout, 9, m.kurt);
            printf(",\"distribution\":\"%s\"", constant ? "constant" : shape_names[sk]);
        }
        printf(",\"layout\":\"%s\"", nninit_layout_name(layout));
        if (has_fans)
            printf(",\"fan_in\":%" PRId64 ",\"fan_out\":%" PRId64, fan_in, fan_out);
        printf(",\"initializers\":{");
        int first = 1;
        for (size_t c = 0; c < N_CAND; c++)
            if (isfinite(cstd[c])) {
                printf(first ? "" : ",");
                cli_json_str(stdout, candidates[c].spec);
                printf(":");
                cli_json_num(stdout, 9, cstd[c]);
                first = 0;
            }
        if (isfinite(bias_std)) {
            printf(first ? "" : ",");
            printf("\"torch_default_bias\":");
            cli_json_num(stdout, 9, bias_std);
        }
        printf("}");
        if (ortho_dev < 1)
            printf(",\"orthogonality_error\":%.3g", ortho_dev);
        printf(",\"closest\":");
        if (ortho) {
            printf("\"orthogonal(gain=%.6g)\"", ortho_gain);
        } else if (bias_match) {
            printf("\"torch_default_bias\"");
        } else if (constant) {
            printf("\"constant(%.9g)\"", m.mean);
        } else if (best >= 0) {
            cli_json_str(stdout, candidates[best].spec);
        } else {
            printf("null");
        }
        printf("}\n");
        return CLI_EXIT_OK;
    }
    cli_put_escaped(stdout, info->name);
    printf("  %s %s", nninit_file_dtype_name(info->dtype), shape_txt);
    if (!numeric) {
        printf("  (no statistics for this dtype)\n");
        return CLI_EXIT_OK;
    }
    printf("  mean %.6g  std %.6g  min %.6g  max %.6g", m.mean, m.std, m.min, m.max);
    if (m.n_nan)
        printf("  non-finite %" PRId64, m.n_nan);
    if (brief) {
        if (constant)
            printf("  ~ constant %.6g", m.mean);
        else if (ortho)
            printf("  ~ orthogonal(gain=%.6g)", ortho_gain);
        else if (bias_match)
            printf("  ~ torch default bias");
        else if (best >= 0)
            printf("  ~ %s", candidates[best].spec);
        printf("\n");
        return CLI_EXIT_OK;
    }
    printf("\n");
    if (has_fans)
        printf("  fans (%s): fan_in %" PRId64 ", fan_out %" PRId64 "\n", nninit_layout_name(layout), fan_in, fan_out);
    else
        printf("  fans (%s): undefined for %d-D tensors\n", nninit_layout_name(layout), info->shape.ndim);
    if (isfinite(bias_std))
        printf("    %-44s std %.6g%s\n", "torch default bias: U(+-1/sqrt(fan_in))", bias_std,
               bias_match ? " <- closest" : "");
    if (constant) {
        printf("  every element is %.9g (constant initializer)\n", m.mean);
        return CLI_EXIT_OK;
    }
    printf("  excess kurtosis %.3f: %s-shaped (uniform -1.2, truncated normal -0.64, normal 0)\n", m.kurt,
           shape_names[sk]);
    if (ortho)
        printf("  orthogonal: |W^T W / gain^2 - I| <= %.2g with gain %.6g <- closest\n", ortho_dev, ortho_gain);
    else if (ortho_dev < 1)
        printf("  not orthogonal: |W^T W / gain^2 - I| reaches %.2g\n", ortho_dev);
    if (!has_fans)
        return CLI_EXIT_OK;
    if (ortho)
        best = -1; /* the structure decides, not the std */
    for (size_t c = 0; c < N_CAND; c++)
        if (isfinite(cstd[c]))
            printf((int)c == best ? "    %-44s std %-11.6g <- closest\n" : "    %-44s std %.6g\n",
                   candidates[c].label, cstd[c]);
    if (best < 0)
        printf("    (no common initializer of this distribution shape within %.0f%% of std %.6g)\n", 100 * tol, m.std);
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
        cli_input_done(spooled);
        cli_report(st, &err);
        return CLI_EXIT_FAIL; /* missing, unreadable or corrupt: a runtime failure */
    }
    nninit_file_format fmt = nninit_tensor_file_format(tf);
    if (!layout_given) {
        const char *meta = nninit_tensor_file_metadata(tf, "nninit.layout");
        if (!meta || nninit_layout_parse(meta, &layout, NULL) != NNINIT_OK)
            layout = fmt == NNINIT_FORMAT_SAFETENSORS || fmt == NNINIT_FORMAT_SAFETENSORS_INDEX
                         ? NNINIT_LAYOUT_TORCH
                         : NNINIT_LAYOUT_KERAS;
    }
    if (!json)
        printf("%s: %s, %zu tensors, layout %s\n", path, nninit_file_format_name(fmt), nninit_tensor_file_count(tf),
               nninit_layout_name(layout));
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
