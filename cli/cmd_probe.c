/* nninit probe: pushes one batch through a deep dense net and reports, per
 * layer, the variance of activations and gradients, dead/saturated units,
 * gains, distinct units, optionally the mean-field prediction and the
 * input-output Jacobian's singular values (src/probe.c does the work). */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_INITS 16
#define MAX_SPEC 512

typedef struct probe_args {
    nninit_probe_opts o;
    char specs[MAX_INITS][MAX_SPEC];
    int n_specs;
    const char *act_text, *input, *data_dir, *grad, *svg, *model;
    int has_net_flags;
    int theory, json, csv, bins, threads;
} probe_args;

static void usage(FILE *f)
{
    fprintf(f,
            "usage: nninit probe [options]\n"
            "Builds a deep dense net, pushes one batch through it, back-propagates, and prints per\n"
            "layer: pre-activation and activation mean/variance, dead (relu) or saturated (tanh\n"
            "|a| > 0.99, sigmoid a < 0.01 or > 0.99) fraction, gradient variance w.r.t. the\n"
            "layer's input and weight, forward and backward gain, and distinct units.\n\n"
            "network:\n"
            "  --depth L          dense layers (default 10)\n"
            "  --width W          units per layer (default 256)\n"
            "  --act NAME         tanh (default), relu, leaky_relu[(a)], elu[(a)], selu, gelu,\n"
            "                     swish|silu, sigmoid, linear\n"
            "  --init A[,B,...]   kernel initializer SPEC(s) (default glorot_uniform); several:\n"
            "                     one run each, same seed and inputs, one line each in --svg\n"
            "  --bias-init SPEC   (default zeros)\n"
            "  --bn               batch normalization (no affine) before each activation\n"
            "  --residual         a_l = a_{l-1} + act(h_l) where the widths agree\n"
            "  --model FILE.json  the layers of a model description (as for 'nninit train --model':\n"
            "                     dense, activation, batch normalization, dropout = identity)\n"
            "                     instead of --depth/--width/--act/--init/--bias-init/--bn\n"
            "  --inputs N         input features with --model and --input normal (default: the\n"
            "                     first layer's units)\n"
            "  --seed N           Philox seed of weights, inputs and gradient (default %u)\n"
            "input and gradient:\n"
            "  --input normal|data  standard normal rows (default) or a Fashion-MNIST batch\n"
            "                     (standardized with the training set's mean and std)\n"
            "  --input-scale S    multiply the input by S (E[x^2] = S^2 for normal rows; e.g.\n"
            "                     sqrt(q*) to start at the length map's fixed point)\n"
            "  --data DIR         folder of the IDX files (default $NNINIT_DATA or Debian's)\n"
            "  --batch N          rows (default 256)\n"
            "  --grad random|xent dL/da_L standard normal (default), or softmax cross-entropy\n"
            "                     on the labels through a linear head (needs --input data)\n"
            "  --train-steps K    K SGD steps (MSE to a fixed random target, or xent) and count\n"
            "                     distinct units again   --lr X (default 0.01)\n"
            "analysis:\n"
            "  --theory           mean-field prediction next to each measured variance\n"
            "  --jacobian         singular values of d a_L / d x for --jacobian-samples rows\n"
            "                     (default 4): mean square, max, min, histogram (--bins, 20)\n"
            "output:\n"
            "  --json | --csv     machine-readable output on stdout instead of the table\n"
            "  --svg FILE         variance of activations and gradients against depth\n"
            "  --threads N        BLAS threads, 0..%d (default 0: as OpenBLAS starts)\n\n"
            "Verdict: the variance ratio between the last and the first layer (forward) or the\n"
            "first and the last layer's input gradient (backward) below 1/10 is vanishing,\n"
            "above 10 exploding, else stable; the gain is that ratio's geometric mean per layer.\n"
            "\n" CLI_EXIT_STATUS_HELP,
            NNINIT_DEFAULT_SEED, CLI_MAX_THREADS);
}

static int split_specs(const char *text, probe_args *a)
{
    int rc = cli_split_specs(text, &a->specs[0][0], MAX_SPEC, MAX_INITS, &a->n_specs);
    if (rc == CLI_SPLIT_TOO_LONG)
        cli_error("--init: a spec is longer than %d characters", MAX_SPEC - 1);
    else if (rc != CLI_SPLIT_OK)
        cli_error("--init '%.200s': expected 1 to %d comma-separated initializer specs, none empty", text, MAX_INITS);
    return rc == CLI_SPLIT_OK;
}

/* CLI_CONTINUE, or the exit status (help printed, or a usage error). */
static int parse_args(int argc, char **argv, probe_args *a)
{
    memset(a, 0, sizeof *a);
    a->o = nninit_probe_opts_default();
    a->act_text = "tanh";
    a->input = "normal";
    a->grad = "random";
    a->bins = 20;
    const char *init = "glorot_uniform";
    int jac = 0, jac_samples = 4;
    enum { O_MODEL = 1, O_INPUTS, O_DEPTH, O_WIDTH, O_BATCH, O_ACT, O_INIT, O_BIAS_INIT, O_BN, O_RESIDUAL, O_SEED,
           O_INPUT, O_INPUT_SCALE, O_DATA, O_GRAD, O_TRAIN_STEPS, O_LR, O_THEORY, O_JACOBIAN, O_JAC_SAMPLES, O_BINS,
           O_JSON, O_CSV, O_SVG, O_THREADS };
    static const cli_opt options[] = {
        {"--model", NULL, 1, O_MODEL},         {"--inputs", NULL, 1, O_INPUTS},
        {"--depth", NULL, 1, O_DEPTH},         {"--width", NULL, 1, O_WIDTH},
        {"--batch", NULL, 1, O_BATCH},         {"--act", NULL, 1, O_ACT},
        {"--init", NULL, 1, O_INIT},           {"--bias-init", NULL, 1, O_BIAS_INIT},
        {"--bn", NULL, 0, O_BN},               {"--residual", NULL, 0, O_RESIDUAL},
        {"--seed", NULL, 1, O_SEED},           {"--input", NULL, 1, O_INPUT},
        {"--input-scale", NULL, 1, O_INPUT_SCALE}, {"--data", NULL, 1, O_DATA},
        {"--grad", NULL, 1, O_GRAD},           {"--train-steps", NULL, 1, O_TRAIN_STEPS},
        {"--lr", NULL, 1, O_LR},               {"--theory", NULL, 0, O_THEORY},
        {"--jacobian", NULL, 0, O_JACOBIAN},   {"--jacobian-samples", NULL, 1, O_JAC_SAMPLES},
        {"--bins", NULL, 1, O_BINS},           {"--json", NULL, 0, O_JSON},
        {"--csv", NULL, 0, O_CSV},             {"--svg", NULL, 1, O_SVG},
        {"--threads", NULL, 1, O_THREADS},     {0}};
    cli_args args;
    cli_args_init(&args, "probe", argc, argv, options, usage);
    for (int id; (id = cli_next(&args)) != CLI_END;) {
        const char *v = args.val;
        int iv, ok = 1;
        switch (id) {
        case CLI_STOP:
            return args.rc;
        case CLI_ARG:
            return cli_unexpected(&args, v, NULL);
        case O_MODEL:
            a->model = v;
            break;
        case O_INPUTS:
            if ((ok = cli_parse_int("--inputs", v, 1, 1 << 20, &iv)))
                a->o.n_inputs = iv;
            break;
        case O_DEPTH:
            a->has_net_flags = 1;
            ok = cli_parse_int("--depth", v, 1, 100000, &a->o.depth);
            break;
        case O_WIDTH:
            a->has_net_flags = 1;
            if ((ok = cli_parse_int("--width", v, 1, 1 << 20, &iv)))
                a->o.width = iv;
            break;
        case O_BATCH:
            if ((ok = cli_parse_int("--batch", v, 1, 1 << 20, &iv)))
                a->o.batch = iv;
            break;
        case O_ACT:
            a->has_net_flags = 1;
            a->act_text = v;
            break;
        case O_INIT:
            a->has_net_flags = 1;
            init = v;
            break;
        case O_BIAS_INIT:
            a->has_net_flags = 1;
            a->o.bias_init = v;
            break;
        case O_BN:
            a->o.bn = 1;
            a->has_net_flags = 1;
            break;
        case O_RESIDUAL:
            a->o.residual = 1;
            break;
        case O_SEED:
            ok = cli_parse_u64("--seed", v, &a->o.seed);
            break;
        case O_INPUT:
            if (strcmp(v, "normal") && strcmp(v, "data"))
                ok = cli_bad_value("--input", v, "normal or data");
            a->input = v;
            break;
        case O_INPUT_SCALE:
            if ((ok = cli_parse_double("--input-scale", v, &a->o.input_scale)) && a->o.input_scale < 0)
                ok = cli_bad_value("--input-scale", v, "a number >= 0");
            break;
        case O_DATA:
            a->data_dir = v;
            break;
        case O_GRAD:
            if (strcmp(v, "random") && strcmp(v, "xent"))
                ok = cli_bad_value("--grad", v, "random or xent");
            a->grad = v;
            break;
        case O_TRAIN_STEPS:
            ok = cli_parse_int("--train-steps", v, 0, 1000000, &a->o.train_steps);
            break;
        case O_LR:
            if ((ok = cli_parse_double("--lr", v, &a->o.lr)) && !(a->o.lr >= 0))
                ok = cli_bad_value("--lr", v, "a number >= 0");
            break;
        case O_THEORY:
            a->theory = 1;
            break;
        case O_JACOBIAN:
            jac = 1;
            break;
        case O_JAC_SAMPLES:
            ok = cli_parse_int("--jacobian-samples", v, 1, 1 << 20, &jac_samples);
            jac = 1;
            break;
        case O_BINS:
            ok = cli_parse_int("--bins", v, 1, 1000, &a->bins);
            break;
        case O_JSON:
            a->json = 1;
            break;
        case O_CSV:
            a->csv = 1;
            break;
        case O_SVG:
            a->svg = v;
            break;
        case O_THREADS:
            ok = cli_parse_threads(v, &a->threads);
            break;
        }
        if (!ok)
            return CLI_EXIT_USAGE;
    }
    nninit_err err = {0};
    nninit_status s = nninit_act_parse(a->act_text, &a->o.act, &a->o.alpha, &err);
    if (s != NNINIT_OK) {
        cli_report(s, &err);
        return CLI_EXIT_USAGE;
    }
    if (a->o.act == NNINIT_ACT_SOFTMAX) {
        cli_error("--act softmax: the probe needs an elementwise activation");
        return CLI_EXIT_USAGE;
    }
    if (a->model && a->has_net_flags) {
        cli_error("--model describes the layers; drop --depth/--width/--act/--init/--bias-init/--bn");
        return CLI_EXIT_USAGE;
    }
    if (a->model) {
        snprintf(a->specs[0], MAX_SPEC, "%s", a->model);
        a->n_specs = 1;
    } else if (!split_specs(init, a)) {
        return CLI_EXIT_USAGE;
    }
    if (a->json && a->csv) {
        cli_error("--json and --csv both choose the output; give one");
        return CLI_EXIT_USAGE;
    }
    if (!strcmp(a->grad, "xent") && strcmp(a->input, "data")) {
        cli_error("--grad xent needs labels; add --input data");
        return CLI_EXIT_USAGE;
    }
    a->o.jacobian_samples = jac ? jac_samples : 0;
    return CLI_CONTINUE;
}

/* Histogram of singular values over [0, max] in `bins` bins. */
static void histogram(const nninit_probe_result *r, int bins, int64_t *count, double *edge_hi)
{
    double top = r->sv_max > 0 ? r->sv_max : 1;
    for (int k = 0; k < bins; k++) {
        count[k] = 0;
        edge_hi[k] = top * (k + 1) / bins;
    }
    for (int64_t i = 0; i < r->n_sv; i++) {
        int k = (int)(r->sv[i] / top * bins);
        count[k < 0 ? 0 : k >= bins ? bins - 1 : k]++;
    }
}

static const char *dead_label(nninit_act act)
{
    return act == NNINIT_ACT_RELU ? "dead" : (act == NNINIT_ACT_TANH || act == NNINIT_ACT_SIGMOID) ? "saturated" : "-";
}

static void print_table(const probe_args *a, const char *spec, const nninit_probe_result *r)
{
    if (a->model)
        printf("== model %s: %d dense layers, batch %lld%s; Var(x) %.4g\n", spec, r->depth, (long long)a->o.batch,
               a->o.residual ? ", residual" : "", r->input_var);
    else
        printf("== init %s: depth %d, width %lld, act %s, batch %lld%s%s; sigma_w^2 %.4g, sigma_b^2 %.4g, Var(x) "
               "%.4g\n", spec, a->o.depth, (long long)a->o.width, a->act_text, (long long)a->o.batch,
               a->o.bn ? ", bn" : "", a->o.residual ? ", residual" : "", r->sw2, r->sb2, r->input_var);
    if (a->model)
        printf("%5s %6s %-10s %9s ", "layer", "units", "act", "sigma_w^2");
    else
        printf("%5s ", "layer");
    printf("%11s %11s %11s %9s %11s %11s %8s %8s %11s", "pre var", "act mean", "act var",
           a->model ? "dead/sat" : dead_label(a->o.act), "grad_in var", "grad_w var", "fwd gain", "bwd gain",
           "distinct");
    if (a->theory)
        printf(" %11s %11s %11s", "theory pre", "theory act", "theory grad");
    printf("\n");
    for (int l = 0; l < r->depth; l++) {
        const nninit_probe_layer *y = &r->layers[l];
        double frac = y->act == NNINIT_ACT_RELU ? y->frac_dead : y->frac_saturated;
        char distinct[40];
        if (y->distinct_after >= 0)
            snprintf(distinct, sizeof distinct, "%lld->%lld", (long long)y->distinct_before,
                     (long long)y->distinct_after);
        else
            snprintf(distinct, sizeof distinct, "%lld", (long long)y->distinct_before);
        if (a->model)
            printf("%5d %6lld %-10s %9.4g ", l + 1, (long long)y->units, nninit_act_name(y->act), y->sw2);
        else
            printf("%5d ", l + 1);
        printf("%11.4g %11.4g %11.4g %9.4f %11.4g %11.4g %8.4f %8.4f %11s", y->pre_var, y->act_mean, y->act_var, frac,
               y->grad_in_var, y->grad_w_var, y->fwd_gain, y->bwd_gain, distinct);
        if (a->theory)
            printf(" %11.4g %11.4g %11.4g", y->pred_pre_var, y->pred_act_var, y->pred_grad_in_var);
        printf("\n");
    }
    printf("summary: forward gain %.4f/layer (%s), backward gain %.4f/layer (%s)", r->fwd_gain_geo,
           nninit_probe_verdict_name(r->fwd_verdict), r->bwd_gain_geo, nninit_probe_verdict_name(r->bwd_verdict));
    if (isfinite(r->loss))
        printf(", cross-entropy %.4f", r->loss);
    printf("\n");
    if (a->o.train_steps > 0)
        printf("distinct units: before -> after %d SGD steps at lr %g\n", a->o.train_steps, a->o.lr);
    if (r->n_sv > 0) {
        printf("jacobian d a_L / d x (%d rows, %lld singular values): mean square %.6g (theory %.6g), variance of "
               "the squares %.6g (theory %.6g), max %.6g, min %.6g\n",
               a->o.jacobian_samples, (long long)r->n_sv, r->sv_mean_sq, r->pred_sv_mean_sq, r->sv_var_sq,
               r->pred_sv_var_sq, r->sv_max, r->sv_min);
        int64_t *cnt = calloc((size_t)a->bins, sizeof *cnt);
        double *hi = calloc((size_t)a->bins, sizeof *hi);
        if (cnt && hi) {
            histogram(r, a->bins, cnt, hi);
            int64_t most = 1;
            for (int k = 0; k < a->bins; k++)
                most = cnt[k] > most ? cnt[k] : most;
            for (int k = 0; k < a->bins; k++) {
                int bar = (int)(50 * cnt[k] / most);
                printf("  [%9.4g, %9.4g) %7lld %.*s\n", k ? hi[k - 1] : 0.0, hi[k], (long long)cnt[k], bar,
                       "##################################################");
            }
        }
        free(cnt);
        free(hi);
    }
}

static void print_json_run(const probe_args *a, const char *spec, const nninit_probe_result *r)
{
    printf("{\"init\": ");
    cli_json_str(stdout, spec);
    printf(", \"sw2\": ");
    cli_json_num(stdout, 9, r->sw2);
    printf(", \"sb2\": ");
    cli_json_num(stdout, 9, r->sb2);
    printf(", \"input_var\": ");
    cli_json_num(stdout, 9, r->input_var);
    printf(", \"layers\": [");
    for (int l = 0; l < r->depth; l++) {
        const nninit_probe_layer *y = &r->layers[l];
        const char *names[] = {"pre_mean", "pre_var", "act_mean", "act_var", "frac_dead", "frac_saturated",
                               "grad_in_var", "grad_out_var", "grad_w_var", "fwd_gain", "bwd_gain",
                               "theory_pre_var", "theory_act_var", "theory_grad_in_var"};
        double vals[] = {y->pre_mean, y->pre_var, y->act_mean, y->act_var, y->frac_dead, y->frac_saturated,
                         y->grad_in_var, y->grad_out_var, y->grad_w_var, y->fwd_gain, y->bwd_gain,
                         y->pred_pre_var, y->pred_act_var, y->pred_grad_in_var};
        printf("%s{\"layer\": %d, \"units\": %lld, \"act\": \"%s\", \"sw2\": ", l ? ", " : "", l + 1,
               (long long)y->units, nninit_act_name(y->act));
        cli_json_num(stdout, 9, y->sw2);
        printf(", \"sb2\": ");
        cli_json_num(stdout, 9, y->sb2);
        for (size_t k = 0; k < sizeof vals / sizeof vals[0]; k++) {
            printf(", \"%s\": ", names[k]);
            cli_json_num(stdout, 9, vals[k]);
        }
        printf(", \"distinct_before\": %lld", (long long)y->distinct_before);
        if (y->distinct_after >= 0)
            printf(", \"distinct_after\": %lld", (long long)y->distinct_after);
        printf("}");
    }
    printf("], \"fwd_gain\": ");
    cli_json_num(stdout, 9, r->fwd_gain_geo);
    printf(", \"fwd_verdict\": \"%s\", \"bwd_gain\": ", nninit_probe_verdict_name(r->fwd_verdict));
    cli_json_num(stdout, 9, r->bwd_gain_geo);
    printf(", \"bwd_verdict\": \"%s\", \"loss\": ", nninit_probe_verdict_name(r->bwd_verdict));
    cli_json_num(stdout, 9, r->loss);
    if (r->n_sv > 0) {
        printf(", \"jacobian\": {\"samples\": %d, \"mean_sq\": ", a->o.jacobian_samples);
        cli_json_num(stdout, 9, r->sv_mean_sq);
        printf(", \"theory_mean_sq\": ");
        cli_json_num(stdout, 9, r->pred_sv_mean_sq);
        printf(", \"var_sq\": ");
        cli_json_num(stdout, 9, r->sv_var_sq);
        printf(", \"theory_var_sq\": ");
        cli_json_num(stdout, 9, r->pred_sv_var_sq);
        printf(", \"max\": ");
        cli_json_num(stdout, 9, r->sv_max);
        printf(", \"min\": ");
        cli_json_num(stdout, 9, r->sv_min);
        int64_t *cnt = calloc((size_t)a->bins, sizeof *cnt);
        double *hi = calloc((size_t)a->bins, sizeof *hi);
        if (cnt && hi) {
            histogram(r, a->bins, cnt, hi);
            printf(", \"hist_edges_hi\": [");
            for (int k = 0; k < a->bins; k++) {
                printf(k ? ", " : "");
                cli_json_num(stdout, 9, hi[k]);
            }
            printf("], \"hist_counts\": [");
            for (int k = 0; k < a->bins; k++)
                printf("%s%lld", k ? ", " : "", (long long)cnt[k]);
            printf("]");
        }
        free(cnt);
        free(hi);
        printf("}");
    }
    printf("}");
}

static void print_csv(const char *spec, const nninit_probe_result *r, int header)
{
    if (header)
        printf("init,layer,units,act,sw2,sb2,pre_mean,pre_var,act_mean,act_var,frac_dead,frac_saturated,grad_in_var,grad_out_var,"
               "grad_w_var,fwd_gain,bwd_gain,distinct_before,distinct_after,theory_pre_var,theory_act_var,"
               "theory_grad_in_var\n");
    for (int l = 0; l < r->depth; l++) {
        const nninit_probe_layer *y = &r->layers[l];
        putchar('"');
        for (const char *p = spec; *p; p++) {
            if (*p == '"')
                putchar('"');
            putchar(*p);
        }
        printf("\",%d,%lld,%s,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,%lld,%lld,%.9g,%.9g,"
               "%.9g\n", l + 1, (long long)y->units, nninit_act_name(y->act), y->sw2, y->sb2, y->pre_mean, y->pre_var, y->act_mean, y->act_var, y->frac_dead, y->frac_saturated, y->grad_in_var,
               y->grad_out_var, y->grad_w_var, y->fwd_gain, y->bwd_gain, (long long)y->distinct_before,
               (long long)y->distinct_after, y->pred_pre_var, y->pred_act_var, y->pred_grad_in_var);
    }
}

static int write_svg(const probe_args *a, nninit_probe_result **res)
{
    int n = a->n_specs, L = res[0]->depth, rc = CLI_EXIT_OK;
    double *xs = calloc((size_t)L, sizeof *xs);
    double *ys = calloc((size_t)(4 * n * L), sizeof *ys);
    nninit_plot_series *act = calloc((size_t)(2 * n), sizeof *act), *grad = calloc((size_t)(2 * n), sizeof *grad);
    char (*labels)[MAX_SPEC + 16] = calloc((size_t)(2 * n), sizeof *labels);
    if (!xs || !ys || !act || !grad || !labels) {
        cli_error("out of memory for the plot");
        rc = CLI_EXIT_FAIL;
        goto done;
    }
    int na = 0, ng = 0;
    for (int l = 0; l < L; l++)
        xs[l] = l + 1;
    for (int k = 0; k < n; k++) {
        double *av = ys + (size_t)(4 * k) * L, *gv = av + L, *ap = gv + L, *gp = ap + L;
        for (int l = 0; l < L; l++) {
            av[l] = res[k]->layers[l].act_var;
            gv[l] = res[k]->layers[l].grad_in_var;
            ap[l] = res[k]->layers[l].pred_act_var;
            gp[l] = res[k]->layers[l].pred_grad_in_var;
        }
        snprintf(labels[2 * k], sizeof labels[0], "%s", a->specs[k]);
        snprintf(labels[2 * k + 1], sizeof labels[0], "%s (theory)", a->specs[k]);
        act[na++] = (nninit_plot_series){labels[2 * k], xs, av, L, 0, k};
        grad[ng++] = (nninit_plot_series){labels[2 * k], xs, gv, L, 0, k};
        if (a->theory) {
            act[na++] = (nninit_plot_series){labels[2 * k + 1], xs, ap, L, 1, k};
            grad[ng++] = (nninit_plot_series){labels[2 * k + 1], xs, gp, L, 1, k};
        }
    }
    char t1[160], t2[160];
    if (a->model) {
        snprintf(t1, sizeof t1, "%.100s: activation variance", a->model);
        snprintf(t2, sizeof t2, "%.100s: gradient variance dL/da_{l-1}", a->model);
    } else {
        snprintf(t1, sizeof t1, "%s, width %lld: activation variance", a->act_text, (long long)a->o.width);
        snprintf(t2, sizeof t2, "%s, width %lld: gradient variance dL/da_{l-1}", a->act_text, (long long)a->o.width);
    }
    nninit_plot plots[2] = {{t1, "layer", "Var(a_l)", 0, 1, act, na, 1}, {t2, "layer", "Var(dL/da_{l-1})", 0, 1, grad, ng, 1}};
    nninit_err err = {0};
    nninit_status s = nninit_svg_write(a->svg, plots, 2, &err);
    if (s != NNINIT_OK)
        rc = cli_report(s, &err);
done:
    free(xs), free(ys), free(act), free(grad), free(labels);
    return rc;
}

int cmd_probe(int argc, char **argv)
{
    probe_args a;
    int prc = parse_args(argc, argv, &a);
    if (prc != CLI_CONTINUE)
        return prc;
    if (a.svg && !cli_output_dir_ok("--svg", a.svg))
        return CLI_EXIT_FAIL;
    if (a.threads > 0)
        nninit_blas_set_threads(a.threads);
    nninit_err err = {0};
    nninit_status s;
    nninit_dataset data;
    memset(&data, 0, sizeof data);
    int rc = CLI_EXIT_OK;
    if (!strcmp(a.input, "data")) {
        if ((s = nninit_dataset_load(a.data_dir, "train", &data, &err)) != NNINIT_OK)
            return cli_report(s, &err);
        if ((s = nninit_dataset_standardize(&data, NULL, NULL, NULL, &err)) != NNINIT_OK) {
            nninit_dataset_free(&data);
            return cli_report(s, &err);
        }
        if (data.n < a.o.batch) {
            cli_error("--batch %lld: the data set has only %lld rows", (long long)a.o.batch, (long long)data.n);
            nninit_dataset_free(&data);
            return CLI_EXIT_USAGE;
        }
        a.o.x = data.x; /* the first `batch` rows */
        a.o.n_inputs = data.dim;
        if (!strcmp(a.grad, "xent")) {
            a.o.labels = data.y;
            a.o.n_classes = data.n_classes;
        }
    }
    nninit_layer_desc *layers = NULL;
    if (a.model) {
        void *buf = NULL;
        size_t len = 0;
        if (!cli_read_file(a.model, 1 << 24, &buf, &len)) {
            nninit_dataset_free(&data);
            return CLI_EXIT_FAIL;
        }
        char *text = malloc(len + 1);
        if (!text) {
            free(buf);
            nninit_dataset_free(&data);
            cli_error("out of memory");
            return CLI_EXIT_FAIL;
        }
        memcpy(text, buf, len);
        text[len] = '\0';
        free(buf);
        s = nninit_net_desc_parse_json(text, &layers, &a.o.n_layers, &err);
        free(text);
        if (s != NNINIT_OK) {
            nninit_dataset_free(&data);
            cli_error("%s: %s", a.model, err.msg);
            return CLI_EXIT_USAGE;
        }
        a.o.layers = layers;
    }
    nninit_probe_result *res[MAX_INITS] = {0};
    for (int k = 0; k < a.n_specs; k++) {
        a.o.kernel_init = a.specs[k];
        if ((s = nninit_probe_run(&a.o, &res[k], &err)) != NNINIT_OK) {
            char msg[sizeof err.msg + MAX_SPEC + 16];
            snprintf(msg, sizeof msg, "%s '%s': %s", a.model ? "model" : "init", a.specs[k], err.msg);
            cli_error("%s", msg);
            rc = s == NNINIT_EINVAL || s == NNINIT_ENOTFOUND ? CLI_EXIT_USAGE : CLI_EXIT_FAIL;
            goto done;
        }
    }
    if (a.json) {
        printf("{\"depth\": %d, \"width\": %lld, \"act\": ", res[0]->depth, (long long)res[0]->layers[0].units);
        cli_json_str(stdout, a.model ? "model" : a.act_text);
        if (a.model) {
            printf(", \"model\": ");
            cli_json_str(stdout, a.model);
        }
        printf(", \"batch\": %lld, \"bn\": %s, \"residual\": %s, \"input\": \"%s\", \"grad\": \"%s\", \"seed\": %llu, "
               "\"runs\": [",
               (long long)a.o.batch, a.o.bn ? "true" : "false", a.o.residual ? "true" : "false", a.input, a.grad,
               (unsigned long long)a.o.seed);
        for (int k = 0; k < a.n_specs; k++) {
            printf(k ? ", " : "");
            print_json_run(&a, a.specs[k], res[k]);
        }
        printf("]}\n");
    } else if (a.csv) {
        for (int k = 0; k < a.n_specs; k++)
            print_csv(a.specs[k], res[k], k == 0);
    } else {
        for (int k = 0; k < a.n_specs; k++) {
            print_table(&a, a.specs[k], res[k]);
            if (k + 1 < a.n_specs)
                printf("\n");
        }
    }
    if (a.svg) {
        rc = write_svg(&a, res);
        if (rc == CLI_EXIT_OK && !a.json && !a.csv)
            printf("wrote %s\n", a.svg);
    }
done:
    for (int k = 0; k < a.n_specs; k++)
        nninit_probe_result_free(res[k]);
    nninit_free(layers);
    nninit_dataset_free(&data);
    return rc;
}
