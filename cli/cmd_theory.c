/* nninit theory: mean-field predictions for a deep dense net (length map,
 * fixed points, chi_1, depth scales, phase, the order-to-chaos line and a
 * phase diagram). The formulas live in src/theory.c. */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 100000
#define N_XI_CURVES 4

typedef struct theory_args {
    const char *act_text, *init, *bias_init, *svg;
    nninit_theory_act act;
    double alpha, sw2, sb2, q0, c0, sb2_max, sw2_lo, sw2_hi;
    int has_sw2, has_sb2, has_width, has_sw2_range, critical, phase, json, depth, grid;
    int64_t width;
} theory_args;

static void usage(FILE *f)
{
    fprintf(f,
            "usage: nninit theory [options]\n"
            "Mean-field signal propagation through a deep dense net with weights of variance\n"
            "sigma_w^2 / fan_in and biases of second moment sigma_b^2 (Poole et al. 2016,\n"
            "Schoenholz et al. 2017): the fixed point q* of the length map reached from q0,\n"
            "chi_1 (the gradient gain per layer), the correlation fixed point c*, the depth\n"
            "scales xi_q and xi_c, and the phase (ordered / critical / chaotic / unbounded).\n\n"
            "  --act NAME        tanh (default), relu, leaky_relu[(a)], elu[(a)], selu, gelu,\n"
            "                    swish|silu, sigmoid, erf, linear\n"
            "  --sw2 X           sigma_w^2 = fan_in Var(W)\n"
            "  --sb2 X           sigma_b^2 = E[b^2] (default 0)\n"
            "  --init SPEC       take sigma_w^2 from an initializer at --width (instead of --sw2)\n"
            "  --bias-init SPEC  take sigma_b^2 from a bias initializer (instead of --sb2)\n"
            "  --width W         layer width for --init (default 512)\n"
            "  --q0 X            second moment of the input, ||x||^2 / n_in (default 1)\n"
            "  --c0 X            correlation of two inputs for the per-layer table (default 0.5)\n"
            "  --depth L         also print the recursion layer by layer for L layers\n"
            "  --critical        solve sigma_w^2 on the order-to-chaos line (chi_1 = 1) at --sb2\n"
            "  --phase-diagram   the order-to-chaos line over sigma_b^2 in [0, --sb2-max] and\n"
            "                    xi_c against sigma_w^2 at 4 values of sigma_b^2\n"
            "  --sb2-max X       (default 0.3)   --grid N  points of the line (default 31)\n"
            "  --sw2-range LO:HI sigma_w^2 axis of the xi_c curves (default 0.05 : 2 x the\n"
            "                    largest critical sigma_w^2)\n"
            "  --svg FILE        with --phase-diagram: draw it (written atomically)\n"
            "  --json            one JSON object on stdout\n\n"
            "Expectations use closed forms (linear, relu, leaky_relu, erf) or composite\n"
            "Gauss-Legendre quadrature (about 1e-13 in 1-D, 1e-10 in 2-D).\n"
            "\n" CLI_EXIT_STATUS_HELP);
}

/* CLI_CONTINUE, or the exit status (help printed, or a usage error). */
static int parse_args(int argc, char **argv, theory_args *a)
{
    memset(a, 0, sizeof *a);
    a->act_text = "tanh";
    a->q0 = 1.0, a->c0 = 0.5, a->sb2_max = 0.3, a->grid = 31, a->width = 512;
    enum { O_ACT = 1, O_SW2, O_SB2, O_INIT, O_BIAS_INIT, O_WIDTH, O_Q0, O_C0, O_DEPTH, O_CRITICAL, O_PHASE,
           O_SB2_MAX, O_GRID, O_SW2_RANGE, O_SVG, O_JSON };
    static const cli_opt options[] = {
        {"--act", NULL, 1, O_ACT},         {"--sw2", NULL, 1, O_SW2},
        {"--sb2", NULL, 1, O_SB2},         {"--init", NULL, 1, O_INIT},
        {"--bias-init", NULL, 1, O_BIAS_INIT}, {"--width", NULL, 1, O_WIDTH},
        {"--q0", NULL, 1, O_Q0},           {"--c0", NULL, 1, O_C0},
        {"--depth", NULL, 1, O_DEPTH},     {"--critical", NULL, 0, O_CRITICAL},
        {"--phase-diagram", NULL, 0, O_PHASE}, {"--sb2-max", NULL, 1, O_SB2_MAX},
        {"--grid", NULL, 1, O_GRID},       {"--sw2-range", NULL, 1, O_SW2_RANGE},
        {"--svg", NULL, 1, O_SVG},         {"--json", NULL, 0, O_JSON},
        {0}};
    cli_args args;
    cli_args_init(&args, "theory", argc, argv, options, usage);
    for (int id; (id = cli_next(&args)) != CLI_END;) {
        const char *v = args.val;
        int ok = 1, w;
        char *end = NULL;
        switch (id) {
        case CLI_STOP:
            return args.rc;
        case CLI_ARG:
            return cli_unexpected(&args, v, NULL);
        case O_ACT:
            a->act_text = v;
            break;
        case O_SW2:
            ok = cli_parse_double("--sw2", v, &a->sw2);
            a->has_sw2 = 1;
            break;
        case O_SB2:
            ok = cli_parse_double("--sb2", v, &a->sb2);
            a->has_sb2 = 1;
            break;
        case O_INIT:
            a->init = v;
            break;
        case O_BIAS_INIT:
            a->bias_init = v;
            break;
        case O_WIDTH:
            if ((ok = cli_parse_int("--width", v, 1, 1 << 30, &w)))
                a->width = w, a->has_width = 1;
            break;
        case O_Q0:
            ok = cli_parse_double("--q0", v, &a->q0);
            break;
        case O_C0:
            ok = cli_parse_double("--c0", v, &a->c0);
            break;
        case O_DEPTH:
            ok = cli_parse_int("--depth", v, 1, MAX_DEPTH, &a->depth);
            break;
        case O_CRITICAL:
            a->critical = 1;
            break;
        case O_PHASE:
            a->phase = 1;
            break;
        case O_SB2_MAX:
            ok = cli_parse_double("--sb2-max", v, &a->sb2_max);
            break;
        case O_GRID:
            ok = cli_parse_int("--grid", v, 2, 1000, &a->grid);
            break;
        case O_SW2_RANGE: {
            a->sw2_lo = strtod(v, &end);
            const char *h = end + 1;
            if (end == v || *end != ':' || !isfinite(a->sw2_lo)) {
                ok = cli_bad_value("--sw2-range", v, "LO:HI, e.g. 0.5:4");
                break;
            }
            a->sw2_hi = strtod(h, &end);
            if (end == h || *end || !isfinite(a->sw2_hi) || !(a->sw2_lo >= 0) || !(a->sw2_hi > a->sw2_lo))
                ok = cli_bad_value("--sw2-range", v, "LO:HI with 0 <= LO < HI, e.g. 0.5:4");
            a->has_sw2_range = 1;
            break;
        }
        case O_SVG:
            a->svg = v;
            break;
        case O_JSON:
            a->json = 1;
            break;
        }
        if (!ok)
            return CLI_EXIT_USAGE;
    }
    nninit_err err = {0};
    nninit_status s = nninit_theory_act_parse(a->act_text, &a->act, &a->alpha, &err);
    if (s != NNINIT_OK) {
        cli_report(s, &err);
        return CLI_EXIT_USAGE;
    }
    if (a->has_sw2 && a->init) {
        cli_error("--sw2 and --init both set sigma_w^2; give one");
        return CLI_EXIT_USAGE;
    }
    if (a->has_sb2 && a->bias_init) {
        cli_error("--sb2 and --bias-init both set sigma_b^2; give one");
        return CLI_EXIT_USAGE;
    }
    if (!a->has_sw2 && !a->init && !a->critical && !a->phase) {
        cli_error("no sigma_w^2; give --sw2 X, --init SPEC, --critical or --phase-diagram");
        return CLI_EXIT_USAGE;
    }
    if (a->svg && !a->phase) {
        cli_error("--svg draws the phase diagram; add --phase-diagram");
        return CLI_EXIT_USAGE;
    }
    if (a->sw2 < 0 || a->sb2 < 0 || a->sb2_max < 0) {
        cli_error("--sw2, --sb2 and --sb2-max must be >= 0");
        return CLI_EXIT_USAGE;
    }
    if (!(a->q0 > 0)) {
        cli_error("--q0 %g: the input's second moment must be > 0", a->q0);
        return CLI_EXIT_USAGE;
    }
    if (!(a->c0 >= -1 && a->c0 <= 1)) {
        cli_error("--c0 %g: a correlation must be in [-1, 1]", a->c0);
        return CLI_EXIT_USAGE;
    }
    return CLI_CONTINUE;
}

static void print_point(const nninit_theory_point *p)
{
    printf("q*     %.10g   (fixed point of the length map)\n", p->q_star);
    printf("chi_1  %.10g   (gradient gain per layer at q*; 1 = edge of chaos)\n", p->chi1);
    printf("V'(q*) %.10g\n", p->dv_dq);
    printf("c*     %.10g   (slope there %.6g)\n", p->c_star, p->chi_c);
    printf("xi_q   %.6g layers\n", p->xi_q);
    printf("xi_c   %.6g layers   (trainable depth is roughly up to 6 xi_c)\n", p->xi_c);
    printf("phase  %s\n", nninit_theory_phase_name(p->phase));
}

static void json_point(const nninit_theory_point *p)
{
    printf("\"q_star\": ");
    cli_json_num(stdout, 17, p->q_star);
    printf(", \"chi1\": ");
    cli_json_num(stdout, 17, p->chi1);
    printf(", \"dv_dq\": ");
    cli_json_num(stdout, 17, p->dv_dq);
    printf(", \"c_star\": ");
    cli_json_num(stdout, 17, p->c_star);
    printf(", \"chi_c\": ");
    cli_json_num(stdout, 17, p->chi_c);
    printf(", \"xi_q\": ");
    cli_json_num(stdout, 17, p->xi_q);
    printf(", \"xi_c\": ");
    cli_json_num(stdout, 17, p->xi_c);
    printf(", \"phase\": \"%s\"", nninit_theory_phase_name(p->phase));
}

static int phase_diagram(const theory_args *a)
{
    nninit_err err = {0};
    int n = a->grid;
    double *sb = calloc((size_t)n, sizeof *sb), *crit = calloc((size_t)n, sizeof *crit);
    enum { NX = 60 };
    double xs[NX], xi[N_XI_CURVES][NX], sbv[N_XI_CURVES];
    int rc = CLI_EXIT_OK;
    if (!sb || !crit) {
        cli_error("out of memory");
        rc = CLI_EXIT_FAIL;
        goto done;
    }
    double cmax = 0;
    for (int i = 0; i < n; i++) {
        sb[i] = a->sb2_max * i / (n - 1);
        nninit_status s = nninit_theory_critical(a->act, a->alpha, sb[i], a->q0, &crit[i], &err);
        if (s == NNINIT_ENOTFOUND)
            crit[i] = (double)NAN;
        else if (s != NNINIT_OK) {
            rc = cli_report(s, &err);
            goto done;
        }
        if (isfinite(crit[i]))
            cmax = fmax(cmax, crit[i]);
    }
    double lo = a->has_sw2_range ? a->sw2_lo : 0.05, hi = a->has_sw2_range ? a->sw2_hi : 2 * fmax(cmax, 1.0);
    for (int k = 0; k < N_XI_CURVES; k++) {
        sbv[k] = a->sb2_max * k / (N_XI_CURVES - 1);
        for (int j = 0; j < NX; j++) {
            xs[j] = lo + (hi - lo) * j / (NX - 1);
            nninit_theory_net net = {a->act, a->alpha, xs[j], sbv[k]};
            nninit_theory_point p;
            nninit_status s = nninit_theory_analyze(&net, a->q0, &p, &err);
            if (s != NNINIT_OK) {
                rc = cli_report(s, &err);
                goto done;
            }
            xi[k][j] = p.xi_c;
        }
    }
    if (a->json) {
        printf("{\"act\": \"%s\", \"alpha\": ", nninit_theory_act_name(a->act));
        cli_json_num(stdout, 17, a->alpha);
        printf(", \"q0\": ");
        cli_json_num(stdout, 17, a->q0);
        printf(", \"critical_line\": [");
        for (int i = 0; i < n; i++) {
            printf("%s{\"sb2\": ", i ? ", " : "");
            cli_json_num(stdout, 17, sb[i]);
            printf(", \"sw2\": ");
            cli_json_num(stdout, 17, crit[i]);
            printf("}");
        }
        printf("], \"xi_c\": [");
        for (int k = 0; k < N_XI_CURVES; k++) {
            printf("%s{\"sb2\": ", k ? ", " : "");
            cli_json_num(stdout, 17, sbv[k]);
            printf(", \"sw2\": [");
            for (int j = 0; j < NX; j++) {
                printf(j ? ", " : "");
                cli_json_num(stdout, 17, xs[j]);
            }
            printf("], \"xi_c\": [");
            for (int j = 0; j < NX; j++) {
                printf(j ? ", " : "");
                cli_json_num(stdout, 17, xi[k][j]);
            }
            printf("]}");
        }
        printf("]}\n");
    } else {
        printf("order-to-chaos line of %s (q0 = %g): sigma_w^2 where chi_1 = 1\n", nninit_theory_act_name(a->act),
               a->q0);
        printf("%10s %14s\n", "sigma_b^2", "sigma_w^2");
        for (int i = 0; i < n; i++)
            printf("%10.4g %14.10g\n", sb[i], crit[i]);
    }
    if (a->svg) {
        char labels[N_XI_CURVES][48];
        nninit_plot_series line = {"chi_1 = 1", crit, sb, n, 0, 0};
        nninit_plot_series curves[N_XI_CURVES];
        for (int k = 0; k < N_XI_CURVES; k++) {
            snprintf(labels[k], sizeof labels[k], "sigma_b^2 = %g", sbv[k]);
            curves[k] = (nninit_plot_series){labels[k], xs, xi[k], NX, 0, k};
        }
        char title[96];
        snprintf(title, sizeof title, "%s: ordered (left) / chaotic (right)", nninit_theory_act_name(a->act));
        nninit_plot plots[2] = {
            {title, "sigma_w^2", "sigma_b^2", 0, 0, &line, 1, 0},
            {"correlation depth scale xi_c", "sigma_w^2", "xi_c (layers)", 0, 1, curves, N_XI_CURVES, 0},
        };
        nninit_status s = nninit_svg_write(a->svg, plots, 2, &err);
        if (s != NNINIT_OK) {
            rc = cli_report(s, &err);
            goto done;
        }
        if (!a->json)
            printf("wrote %s\n", a->svg);
    }
done:
    free(sb);
    free(crit);
    return rc;
}

int cmd_theory(int argc, char **argv)
{
    theory_args a;
    int prc = parse_args(argc, argv, &a);
    if (prc != CLI_CONTINUE)
        return prc;
    if (a.svg && !cli_output_dir_ok("--svg", a.svg))
        return CLI_EXIT_FAIL;
    if (a.phase)
        return phase_diagram(&a);
    nninit_err err = {0};
    nninit_status s;
    double w_mean = 0, b_mean = 0;
    if (a.init) {
        nninit_init init;
        if ((s = nninit_init_parse(a.init, &init, &err)) != NNINIT_OK ||
            (s = nninit_theory_from_init(&init, a.width, a.width, &a.sw2, &w_mean, &err)) != NNINIT_OK)
            return cli_report(s, &err);
    }
    if (a.bias_init) {
        nninit_init init;
        if ((s = nninit_init_parse(a.bias_init, &init, &err)) != NNINIT_OK ||
            (s = nninit_theory_from_init(&init, 0, a.width, &a.sb2, &b_mean, &err)) != NNINIT_OK)
            return cli_report(s, &err);
    }
    if (a.critical && (s = nninit_theory_critical(a.act, a.alpha, a.sb2, a.q0, &a.sw2, &err)) != NNINIT_OK)
        return cli_report(s, &err);
    nninit_theory_net net = {a.act, a.alpha, a.sw2, a.sb2};
    nninit_theory_point p;
    if ((s = nninit_theory_analyze(&net, a.q0, &p, &err)) != NNINIT_OK)
        return cli_report(s, &err);
    nninit_theory_layer *layers = NULL;
    if (a.depth > 0) {
        layers = calloc((size_t)a.depth, sizeof *layers);
        if (!layers) {
            cli_error("out of memory for %d layers", a.depth);
            return CLI_EXIT_FAIL;
        }
        if ((s = nninit_theory_layers(&net, a.q0, a.c0, a.depth, layers, &err)) != NNINIT_OK) {
            free(layers);
            return cli_report(s, &err);
        }
    }
    if (a.json) {
        printf("{\"act\": \"%s\", \"alpha\": ", nninit_theory_act_name(a.act));
        cli_json_num(stdout, 17, a.alpha);
        printf(", \"sw2\": ");
        cli_json_num(stdout, 17, a.sw2);
        printf(", \"sb2\": ");
        cli_json_num(stdout, 17, a.sb2);
        printf(", \"q0\": ");
        cli_json_num(stdout, 17, a.q0);
        if (a.init) {
            printf(", \"init\": ");
            cli_json_str(stdout, a.init);
            printf(", \"width\": %lld, \"weight_mean\": ", (long long)a.width);
            cli_json_num(stdout, 17, w_mean);
        }
        if (a.bias_init) {
            printf(", \"bias_init\": ");
            cli_json_str(stdout, a.bias_init);
        }
        printf(", ");
        json_point(&p);
        if (layers) {
            printf(", \"c0\": ");
            cli_json_num(stdout, 17, a.c0);
            printf(", \"layers\": [");
            for (int l = 0; l < a.depth; l++) {
                const nninit_theory_layer *y = &layers[l];
                printf("%s{\"layer\": %d, \"q\": ", l ? ", " : "", l + 1);
                cli_json_num(stdout, 17, y->q);
                printf(", \"c\": ");
                cli_json_num(stdout, 17, y->c);
                printf(", \"act_mean\": ");
                cli_json_num(stdout, 17, y->act_mean);
                printf(", \"act_var\": ");
                cli_json_num(stdout, 17, y->act_var);
                printf(", \"chi\": ");
                cli_json_num(stdout, 17, y->chi);
                printf(", \"grad_in\": ");
                cli_json_num(stdout, 17, y->grad_in);
                printf("}");
            }
            printf("]");
        }
        printf("}\n");
    } else {
        printf("act %s", nninit_theory_act_name(a.act));
        if (a.act == NNINIT_THEORY_LEAKY_RELU || a.act == NNINIT_THEORY_ELU)
            printf("(%g)", a.alpha);
        printf("  sigma_w^2 %.10g  sigma_b^2 %.10g  q0 %g", a.sw2, a.sb2, a.q0);
        if (a.init)
            printf("  (from %s at width %lld)", a.init, (long long)a.width);
        if (a.critical)
            printf("  (on the order-to-chaos line)");
        printf("\n");
        if (w_mean != 0 || b_mean != 0)
            printf("note: the initializer has a non-zero mean (weights %g, bias %g); mean-field theory assumes "
                   "zero-mean weights, so these predictions do not describe it\n", w_mean, b_mean);
        print_point(&p);
        if (layers) {
            printf("\n%6s %14s %10s %12s %12s %10s %14s\n", "layer", "q (pre-act)", "c", "act mean", "act var",
                   "chi", "grad var in");
            for (int l = 0; l < a.depth; l++) {
                const nninit_theory_layer *y = &layers[l];
                printf("%6d %14.6g %10.6f %12.6g %12.6g %10.6f %14.6g\n", l + 1, y->q, y->c, y->act_mean,
                       y->act_var, y->chi, y->grad_in);
            }
            printf("(grad var in: E[(dL/da_{l-1})^2] relative to a unit-variance gradient at the output)\n");
        }
    }
    free(layers);
    return CLI_EXIT_OK;
}
