/* nninit advise MODEL: an initialization linter. Per layer the kernel and
 * bias initializers, activation, fans, sigma_w^2 and sigma_b^2, predicted
 * forward and backward gains; then the findings, each with its reason and
 * fix (src/analysis/advise.c does the work). --probe measures a dense model
 * next to the prediction; --fix writes the model with the fixes. */
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Exit status when findings exist (linters' convention: distinct from 1 and 2). */
#define CLI_EXIT_FINDINGS 3

static void usage(FILE *f)
{
    fprintf(f,
            "usage: nninit advise MODEL [--json] [--probe] [--fix OUT] [options]\n"
            "\n"
            "Lint a model's initialization: per layer in order the kernel and bias initializers, the\n"
            "activation, fans, sigma_w^2 = fan_in Var(W) and sigma_b^2, the predicted forward and backward\n"
            "gain per layer and compounded along each chain of dense/conv layers (mean-field theory), and\n"
            "findings, each with its reason and the fix: constant kernels, unscaled or activation-mismatched\n"
            "kernels whose chain vanishes or explodes (chi_1 compounded over the chain outside [0.1, 10]),\n"
            "SELU without lecun_normal, recurrent kernels neither orthogonal nor identity, an LSTM forget\n"
            "bias of 0, N(0, 1) embeddings feeding attention, unscaled residual projections of a deep\n"
            "pre-norm transformer. A finding that a normalization layer removes is shown as a note.\n"
            "\n"
            "  MODEL                 a Keras model JSON or .keras archive, an nninit spec (also\n"
            "                        {\"torch\": RECIPE, \"overrides\": {...}}), a file holding a PyTorch\n"
            "                        recipe (@FILE too), or a recipe such as 'Sequential(Linear(784, 256), ...)';\n"
            "                        - reads any of these files from standard input\n"
            "  --keras-version V     build rules of Keras V (as nninit model --keras-version)\n"
            "  --json                one JSON object: layers, findings, notes\n"
            "  --probe               build the model's dense layers with the engine, push a batch of standard\n"
            "                        normal rows, and print the measured per-layer variances and gains next\n"
            "                        to the prediction (dense models only)\n"
            "  --batch N             rows for --probe (default 256)\n"
            "  --seed N              Philox seed of --probe's weights and inputs (default %u)\n"
            "  --fix OUT             write the model with the recommended initializers in the form it came\n"
            "                        in: Keras JSON -> Keras JSON (a .keras archive -> its config JSON);\n"
            "                        recipe -> {\"torch\": RECIPE, \"overrides\": {...}} (nninit model --spec\n"
            "                        reads it); spec -> spec with overrides. Written atomically.\n"
            "\n"
            "Exit status: 0 no findings; 3 findings (notes do not count); 1 runtime failure (a file\n"
            "missing or unreadable, a write that failed); 2 usage error (an unknown option, a model that\n"
            "cannot be read).\n",
            (unsigned)NNINIT_DEFAULT_SEED);
}

/* ---- reading MODEL ---- */

typedef struct loaded {
    nninit_model *m;
    char *text; /* the JSON or recipe text (NULL for a .keras archive) */
} loaded;

static int looks_like_recipe(const char *s)
{
    return strchr(s, '(') != NULL;
}

/* spooled: arg is the copy of standard input ("-" in messages). */
static int load_model(const char *arg, const char *spooled, const char *keras_version, loaded *out, nninit_err *err,
                      int *rc)
{
    memset(out, 0, sizeof *out);
    const char *path = arg[0] == '@' ? arg + 1 : arg;
    void *buf = NULL;
    size_t len = 0;
    nninit_status st;
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (arg[0] != '@' && looks_like_recipe(arg)) { /* a recipe on the command line */
            if ((st = nninit_model_from_torch(arg, &out->m, err)) != NNINIT_OK)
                goto failed;
            out->text = strdup(arg);
            return 1;
        }
        cli_error("%s: cannot open (%s); expected a Keras JSON or .keras file, an nninit spec, a recipe file, "
                  "or a recipe such as 'Sequential(Linear(4, 2))'", path, strerror(errno));
        *rc = CLI_EXIT_FAIL;
        return 0;
    }
    unsigned char head[4] = {0};
    size_t got = fread(head, 1, sizeof head, f);
    fclose(f);
    if (got == 4 && !memcmp(head, "PK\x03\x04", 4) && arg[0] != '@') { /* a .keras archive */
        if ((st = nninit_model_from_keras_file_as(path, keras_version, &out->m, err)) != NNINIT_OK)
            goto failed;
        return 1;
    }
    if (!cli_read_file(path, (size_t)1 << 28, &buf, &len)) {
        *rc = CLI_EXIT_FAIL;
        return 0;
    }
    char *text = realloc(buf, len + 1);
    if (!text) {
        free(buf);
        cli_error("out of memory");
        *rc = CLI_EXIT_FAIL;
        return 0;
    }
    text[len] = '\0';
    out->text = text;
    const char *p = text + strspn(text, " \t\r\n");
    if (arg[0] == '@' || *p != '{') {
        st = nninit_model_from_torch(text, &out->m, err);
    } else if (strstr(p, "\"class_name\"") && !strstr(p, "\"tensors\"") && !strstr(p, "\"torch\"")) {
        st = nninit_model_from_keras_file_as(path, keras_version, &out->m, err);
    } else {
        st = nninit_model_from_spec(text, &out->m, err);
    }
    if (st == NNINIT_OK)
        return 1;
failed:
    cli_input_name(err, spooled);
    *rc = cli_report(st, err);
    if (st == NNINIT_EUNSUPPORTED)
        *rc = CLI_EXIT_USAGE;
    return 0;
}

/* ---- printing ---- */

static void put_num(double v)
{
    if (isfinite(v))
        printf(" %9.4g", v);
    else
        printf(" %9s", "-");
}

static const char *phase_of(const nninit_advice *a, int i)
{
    const nninit_advice_layer *l = &a->layers[i];
    if (l->chain < 0)
        return "";
    if (i == 0 || a->layers[i - 1].chain != l->chain)
        return "chain start";
    if (!l->theory)
        return "no theory";
    return nninit_theory_phase_name(l->phase);
}

static void print_text(const char *model, const nninit_model *m, const nninit_advice *a)
{
    printf("nninit advise: ");
    cli_put_escaped(stdout, model);
    printf(" (%s, %d layers with tensors)\n\n", nninit_model_source(m), a->n_layers);
    printf("%-22s %-14s %-12s %-22s %-14s %11s %9s %9s %9s %9s %9s %9s %9s %9s  %s\n", "layer", "class",
           "activation", "kernel init", "bias init", "fans", "sw2", "sb2", "q", "fwd", "bwd", "fwd_tot", "bwd_tot",
           "chi_1", "phase");
    for (int i = 0; i < a->n_layers; i++) {
        const nninit_advice_layer *l = &a->layers[i];
        char fans[40] = "";
        if (l->kernel)
            snprintf(fans, sizeof fans, "%lld>%lld", (long long)l->fan_in, (long long)l->fan_out);
        printf("%-22.22s %-14.14s %-12.12s %-22.22s %-14.14s %11s", l->name, l->cls,
               l->activation ? l->activation : "?", l->kernel_init, l->bias_init, fans);
        put_num(l->kernel ? l->sw2 : (double)NAN);
        put_num(l->kernel ? l->sb2 : (double)NAN);
        put_num(l->q);
        put_num(l->fwd_gain);
        put_num(l->bwd_gain);
        put_num(l->fwd_total);
        put_num(l->bwd_total);
        put_num(l->chi1);
        printf("  %s%s\n", phase_of(a, i), l->norm_after ? (l->chain >= 0 ? ", norm after" : "norm after") : "");
    }
    for (int pass = 0; pass < 2; pass++) {
        int n = 0;
        for (int i = 0; i < a->n_findings; i++)
            n += a->findings[i].softened == pass;
        if (!n)
            continue;
        printf("\n%s (%d):\n", pass ? "Notes (softened by normalization; not counted)" : "Findings", n);
        for (int i = 0; i < a->n_findings; i++) {
            const nninit_advice_finding *f = &a->findings[i];
            if (f->softened != pass)
                continue;
            printf("  %s ", nninit_advice_kind_name(f->kind));
            cli_put_escaped(stdout, f->tensor ? f->tensor : f->layer >= 0 ? a->layers[f->layer].name : "model");
            printf(": ");
            cli_put_escaped(stdout, f->reason);
            printf("\n    fix: ");
            cli_put_escaped(stdout, f->advice);
            printf("\n");
        }
    }
    if (a->n_findings == 0)
        printf("\nNo findings.\n");
}

/* open: leave the object open for --probe's "probe" member. */
static void print_json(const char *model, const nninit_model *m, const nninit_advice *a, int open)
{
    printf("{\"model\": ");
    cli_json_str(stdout, model);
    printf(", \"source\": ");
    cli_json_str(stdout, nninit_model_source(m));
    printf(", \"layers\": [");
    for (int i = 0; i < a->n_layers; i++) {
        const nninit_advice_layer *l = &a->layers[i];
        printf("%s\n  {\"name\": ", i ? "," : "");
        cli_json_str(stdout, l->name);
        printf(", \"class\": ");
        cli_json_str(stdout, l->cls);
        printf(", \"activation\": ");
        if (l->activation)
            cli_json_str(stdout, l->activation);
        else
            printf("null");
        printf(", \"kernel\": ");
        if (l->kernel) {
            cli_json_str(stdout, l->kernel);
            printf(", \"kernel_init\": ");
            cli_json_str(stdout, l->kernel_init);
            printf(", \"fan_in\": %lld, \"fan_out\": %lld, \"sw2\": ", (long long)l->fan_in, (long long)l->fan_out);
            cli_json_num(stdout, 10, l->sw2);
            printf(", \"sb2\": ");
            cli_json_num(stdout, 10, l->sb2);
        } else {
            printf("null");
        }
        printf(", \"bias_init\": ");
        if (l->bias_spec)
            cli_json_str(stdout, l->bias_init);
        else
            printf("null");
        printf(", \"chain\": %d, \"norm_after\": %s", l->chain, l->norm_after ? "true" : "false");
        if (l->chain >= 0) {
            const char *keys[] = {"q", "fwd_gain", "bwd_gain", "fwd_total", "bwd_total", "chi1"};
            double vals[] = {l->q, l->fwd_gain, l->bwd_gain, l->fwd_total, l->bwd_total, l->chi1};
            for (int k = 0; k < 6; k++) {
                printf(", \"%s\": ", keys[k]);
                cli_json_num(stdout, 10, vals[k]);
            }
            printf(", \"theory\": %s, \"phase\": ", l->theory ? "true" : "false");
            cli_json_str(stdout, l->theory ? nninit_theory_phase_name(l->phase) : "");
        }
        printf("}");
    }
    for (int pass = 0; pass < 2; pass++) {
        printf("],\n\"%s\": [", pass ? "notes" : "findings");
        int first = 1;
        for (int i = 0; i < a->n_findings; i++) {
            const nninit_advice_finding *f = &a->findings[i];
            if (f->softened != pass)
                continue;
            printf("%s\n  {\"kind\": ", first ? "" : ",");
            first = 0;
            cli_json_str(stdout, nninit_advice_kind_name(f->kind));
            printf(", \"layer\": ");
            if (f->layer >= 0)
                cli_json_str(stdout, a->layers[f->layer].name);
            else
                printf("null");
            printf(", \"tensor\": ");
            if (f->tensor)
                cli_json_str(stdout, f->tensor);
            else
                printf("null");
            printf(", \"reason\": ");
            cli_json_str(stdout, f->reason);
            printf(", \"fix\": ");
            if (f->fix[0])
                cli_json_str(stdout, f->fix);
            else
                printf("null");
            printf(", \"advice\": ");
            cli_json_str(stdout, f->advice);
            printf("}");
        }
    }
    printf(open ? "]" : "]}\n");
}

/* ---- --probe ---- */

static int probe(const nninit_model *m, const nninit_advice *a, int64_t batch, uint64_t seed, int json)
{
    nninit_err err = {0};
    nninit_layer_desc *L = calloc((size_t)a->n_layers + 1, sizeof *L);
    int n = 0, *which = calloc((size_t)a->n_layers + 1, sizeof *which);
    int64_t n_in = 0;
    int rc = CLI_EXIT_USAGE;
    if (!L || !which) {
        cli_error("out of memory");
        rc = CLI_EXIT_FAIL;
        goto out;
    }
    for (int i = 0; i < a->n_layers; i++) {
        const nninit_advice_layer *l = &a->layers[i];
        if (!l->kernel || (strcmp(l->cls, "Dense") && strcmp(l->cls, "Linear")) || l->norm_after) {
            cli_error("--probe: layer '%s' (%s%s) is not a plain dense layer; the probe builds stacks of "
                      "Dense/Linear layers", l->name, l->cls, l->norm_after ? " followed by a normalization" : "");
            goto out;
        }
        if (i > 0 && a->layers[i - 1].fan_out != l->fan_in) {
            cli_error("--probe: layer '%s' takes %lld inputs but '%s' gives %lld; the probe builds a plain stack",
                      l->name, (long long)l->fan_in, a->layers[i - 1].name, (long long)a->layers[i - 1].fan_out);
            goto out;
        }
        nninit_layer_desc d = nninit_layer_desc_default(NNINIT_LAYER_DENSE);
        d.units = l->fan_out;
        /* a softmax output (not elementwise) is measured as its logits */
        const char *act = l->activation && !(i == a->n_layers - 1 && !strcmp(l->activation, "softmax"))
                              ? l->activation : "linear";
        nninit_status st = nninit_act_parse(act, &d.act, &d.alpha, &err);
        if (st) {
            cli_error("--probe: layer '%s': activation %s: %s", l->name, l->activation, err.msg);
            goto out;
        }
        /* the initializers as the model resolves them (the engine fills Keras layout; fans agree) */
        char *kj = NULL, *bj = NULL;
        for (size_t t = 0; t < nninit_model_count(m); t++) {
            nninit_model_tensor buf;
            const nninit_model_tensor *mt = nninit_model_tensor_at(m, t, &buf);
            if (!strcmp(mt->name, l->kernel))
                nninit_init_to_json(&mt->init, &kj, NULL);
            else if (l->bias_spec && mt->spec == l->bias_spec)
                nninit_init_to_json(&mt->init, &bj, NULL);
        }
        d.use_bias = l->bias_spec != NULL;
        int ok = kj && strlen(kj) < sizeof d.kernel_init && (!bj || strlen(bj) < sizeof d.bias_init);
        if (ok) {
            snprintf(d.kernel_init, sizeof d.kernel_init, "%s", kj);
            snprintf(d.bias_init, sizeof d.bias_init, "%s", bj ? bj : "zeros");
        }
        nninit_free(kj);
        nninit_free(bj);
        if (!ok) {
            cli_error("--probe: layer '%s': its initializer cannot be given to the engine", l->name);
            goto out;
        }
        if (i == 0)
            n_in = l->fan_in;
        which[n] = i;
        L[n++] = d;
    }
    if (n == 0) {
        cli_error("--probe: the model has no dense layers");
        goto out;
    }
    nninit_probe_opts o = nninit_probe_opts_default();
    o.layers = L;
    o.n_layers = n;
    o.n_inputs = n_in;
    o.batch = batch;
    o.seed = seed;
    nninit_probe_result *r = NULL;
    nninit_status st = nninit_probe_run(&o, &r, &err);
    if (st != NNINIT_OK) {
        rc = cli_report(st, &err);
        goto out;
    }
    if (json)
        printf(",\n\"probe\": [");
    else
        printf("\nProbe: %lld standard normal rows through the %d dense layers (seed %llu; a softmax output is "
               "measured as logits); measured next to predicted\n%-22s %11s %11s %11s %11s %11s %11s\n",
               (long long)batch, n, (unsigned long long)seed, "layer", "q meas", "q pred", "fwd meas", "fwd pred",
               "bwd meas", "bwd pred");
    for (int k = 0; k < n; k++) {
        const nninit_advice_layer *l = &a->layers[which[k]];
        const nninit_probe_layer *pl = &r->layers[k];
        /* the probe's backward gain pairs W_l with this layer's own activation: sw2 (fan_out / fan_in) E[phi_l'^2] */
        double pred_bwd = NAN;
        nninit_theory_act ta;
        double alpha;
        nninit_theory_moments mo;
        /* the activation the probe ran (none for softmax, which ran as logits, and gelu_tanh) */
        int has_ta = nninit_theory_act_from_act(L[k].act, &ta, NULL) == NNINIT_OK;
        alpha = L[k].alpha;
        if (isfinite(l->q) && has_ta &&
            nninit_theory_moments_at(ta, alpha, l->q, &mo, NULL) == NNINIT_OK)
            pred_bwd = l->sw2 * (double)l->fan_out / (double)l->fan_in * mo.d2;
        if (json) {
            printf("%s{\"layer\": ", k ? ", " : "");
            cli_json_str(stdout, l->name);
            const char *keys[] = {"q_measured", "q_predicted", "fwd_measured", "fwd_predicted", "bwd_measured",
                                  "bwd_predicted"};
            double vals[] = {pl->pre_var, l->q, pl->fwd_gain, l->fwd_gain, pl->bwd_gain, pred_bwd};
            for (int j = 0; j < 6; j++) {
                printf(", \"%s\": ", keys[j]);
                cli_json_num(stdout, 8, vals[j]);
            }
            printf("}");
        } else {
            printf("%-22.22s", l->name);
            double vals[] = {pl->pre_var, l->q, pl->fwd_gain, l->fwd_gain, pl->bwd_gain, pred_bwd};
            for (int j = 0; j < 6; j++) {
                if (isfinite(vals[j]))
                    printf(" %11.4g", vals[j]);
                else
                    printf(" %11s", "-");
            }
            printf("\n");
        }
    }
    if (json)
        printf("]}\n");
    nninit_probe_result_free(r);
    rc = CLI_EXIT_OK;
out:
    free(L);
    free(which);
    return rc;
}

int cmd_advise(int argc, char **argv)
{
    enum { O_JSON = 1, O_PROBE, O_FIX, O_BATCH, O_SEED, O_KERAS_VERSION };
    static const cli_opt options[] = {{"--json", NULL, 0, O_JSON},    {"--probe", NULL, 0, O_PROBE},
                                      {"--fix", NULL, 1, O_FIX},      {"--batch", NULL, 1, O_BATCH},
                                      {"--seed", NULL, 1, O_SEED},    {"--keras-version", NULL, 1, O_KERAS_VERSION},
                                      {0}};
    const char *model = NULL, *fix = NULL, *keras_version = NULL;
    int json = 0, do_probe = 0, batch = 256;
    uint64_t seed = NNINIT_DEFAULT_SEED;
    cli_args args;
    cli_args_init(&args, "advise", argc, argv, options, usage);
    for (int id; (id = cli_next(&args)) != CLI_END;) {
        switch (id) {
        case CLI_STOP:
            return args.rc;
        case CLI_ARG:
            if (model)
                return cli_unexpected(&args, args.val, "give one MODEL");
            model = args.val;
            break;
        case O_JSON:
            json = 1;
            break;
        case O_PROBE:
            do_probe = 1;
            break;
        case O_FIX:
            fix = args.val;
            break;
        case O_BATCH:
            if (!cli_parse_int("--batch", args.val, 1, 1 << 20, &batch))
                return CLI_EXIT_USAGE;
            break;
        case O_SEED:
            if (!cli_parse_u64("--seed", args.val, &seed))
                return CLI_EXIT_USAGE;
            break;
        case O_KERAS_VERSION:
            keras_version = args.val;
            break;
        }
    }
    if (!model) {
        cli_error("advise: MODEL is required (a Keras JSON or .keras file, a spec, a recipe file or a recipe)");
        return CLI_EXIT_USAGE;
    }
    if (fix && !cli_output_dir_ok("--fix", fix))
        return CLI_EXIT_FAIL;
    nninit_err err = {0};
    loaded in;
    int rc = CLI_EXIT_USAGE;
    char *spooled = NULL; /* "-": standard input, copied to a temporary file */
    const char *model_path = cli_input_path(model, &spooled);
    if (!model_path)
        return CLI_EXIT_FAIL;
    int loaded_ok = load_model(model_path, spooled, keras_version, &in, &err, &rc);
    cli_input_done(spooled);
    if (!loaded_ok)
        return rc;
    nninit_advice *a = NULL;
    nninit_status st = nninit_advise(in.m, &a, &err);
    if (st != NNINIT_OK) {
        rc = cli_report(st, &err);
        goto out;
    }
    if (json)
        print_json(model, in.m, a, do_probe);
    else
        print_text(model, in.m, a);
    if (do_probe && (rc = probe(in.m, a, batch, seed, json)) != CLI_EXIT_OK) {
        if (json) /* keep stdout one JSON object */
            printf(", \"probe\": null}\n");
        goto out;
    }
    if (fix) {
        char *out_json = NULL;
        if ((st = nninit_advice_fix(in.m, in.text, a, &out_json, &err)) != NNINIT_OK ||
            (st = nninit_file_write(fix, out_json, strlen(out_json), &err)) != NNINIT_OK) {
            nninit_free(out_json);
            rc = cli_report(st, &err);
            if (rc == CLI_EXIT_USAGE) /* writing is a runtime failure */
                rc = CLI_EXIT_FAIL;
            goto out;
        }
        nninit_free(out_json);
        if (!json)
            printf("\nWrote the fixed model to %s\n", fix);
    }
    rc = a->n_counted ? CLI_EXIT_FINDINGS : CLI_EXIT_OK;
out:
    nninit_advice_free(a);
    nninit_model_free(in.m);
    free(in.text);
    return rc;
}
