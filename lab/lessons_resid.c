/*
 * Residual nets without normalization (issue 12, step 3): a stack of
 * residual blocks x + F(x), F = Dense(relu) then Dense(linear), on
 * Fashion-MNIST, initialized
 *   he_normal   both branch layers He: each block adds the variance of its
 *               input, so the signal grows about 2x a block
 *   Fixup       (Zhang et al. 2019) first branch layer He scaled by
 *               L^(-1/(2m-2)) = L^(-1/2) for m = 2 layers a branch, the
 *               second zero, a scalar multiplier (1) after it, the output
 *               layer zero
 *   SkipInit    (De & Smith 2020) He branches times a scalar alpha = 0
 *   batch norm  He branches with batch normalization after each dense (the
 *               reference normalized net)
 */
#include "lab_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { R_MAX_LAYERS = 256 };

typedef enum resid_kind { RES_HE = 0, RES_FIXUP, RES_SKIPINIT, RES_BN, RES_N } resid_kind;

static const char *RES_LABELS[RES_N] = {"he_normal, no normalization", "Fixup", "SkipInit (alpha = 0)",
                                        "he_normal + batch norm"};

static void dense(nninit_layer_desc *d, int64_t units, nninit_act act, const char *init)
{
    *d = nninit_layer_desc_default(NNINIT_LAYER_DENSE);
    d->units = units;
    d->act = act;
    snprintf(d->kernel_init, sizeof d->kernel_init, "%s", init);
}

/* The layer list; *adds gets the index of each block's add layer. */
static int resid_layers(resid_kind kind, int blocks, int64_t width, nninit_layer_desc *L, int *adds)
{
    int n = 0;
    char fix[128];
    /* Fixup's first branch layer: He normal (untruncated, fan_in) times L^(-1/2) */
    snprintf(fix, sizeof fix, "VarianceScaling(scale=%.17g, mode='fan_in', distribution='untruncated_normal')",
             2.0 / blocks);
    dense(&L[n++], width, NNINIT_ACT_RELU, "he_normal"); /* the stem */
    for (int b = 0; b < blocks; b++) {
        int in = n - 1;
        if (kind == RES_BN) {
            dense(&L[n++], width, NNINIT_ACT_LINEAR, "he_normal");
            L[n++] = nninit_layer_desc_default(NNINIT_LAYER_BATCHNORM);
            L[n] = nninit_layer_desc_default(NNINIT_LAYER_ACTIVATION);
            L[n++].act = NNINIT_ACT_RELU;
            dense(&L[n++], width, NNINIT_ACT_LINEAR, "he_normal");
            L[n++] = nninit_layer_desc_default(NNINIT_LAYER_BATCHNORM);
        } else {
            dense(&L[n++], width, NNINIT_ACT_RELU, kind == RES_FIXUP ? fix : "he_normal");
            dense(&L[n++], width, NNINIT_ACT_LINEAR, kind == RES_FIXUP ? "zeros" : "he_normal");
            if (kind == RES_FIXUP || kind == RES_SKIPINIT) {
                L[n] = nninit_layer_desc_default(NNINIT_LAYER_SCALE);
                snprintf(L[n].kernel_init, sizeof L[n].kernel_init, "%s", kind == RES_FIXUP ? "ones" : "zeros");
                n++;
            }
        }
        L[n] = nninit_layer_desc_default(NNINIT_LAYER_ADD);
        L[n].input[0] = in;
        L[n].input[1] = n - 1;
        adds[b] = n++;
    }
    dense(&L[n++], 10, NNINIT_ACT_LINEAR, kind == RES_FIXUP ? "zeros" : "glorot_uniform");
    return n;
}

typedef struct resid_result {
    double growth;   /* E[x^2] after the last block / after the stem, at init */
    lab_run run;
} resid_result;

static nninit_status resid_run(lab_ctx *c, resid_kind kind, int blocks, int64_t width, resid_result *res,
                               nninit_err *err)
{
    nninit_layer_desc *L = calloc(R_MAX_LAYERS, sizeof *L);
    int adds[64];
    if (!L)
        return nninit_err_set(err, NNINIT_ENOMEM, "lab: out of memory for a residual net");
    int n = resid_layers(kind, blocks, width, L, adds);
    nninit_net_opts no = nninit_net_opts_default();
    no.seed = c->cfg.seed;
    nninit_net *net = NULL;
    nninit_status st = nninit_net_new(c->train.dim, L, n, &no, &net, err);
    free(L);
    int64_t rows = c->test.n < 256 ? c->test.n : 256;
    if (st == NNINIT_OK)
        st = nninit_net_forward(net, c->test.x, rows, 1, NULL, err); /* training mode: batch norm on batch statistics */
    if (st == NNINIT_OK) {
        int64_t r, cols;
        double m[2] = {0, 0};
        for (int k = 0; k < 2; k++) {
            const float *a = nninit_net_tensor(net, k ? adds[blocks - 1] : 0, NNINIT_T_OUTPUT, &r, &cols);
            for (int64_t i = 0; a && i < r * cols; i++)
                m[k] += (double)a[i] * (double)a[i];
            m[k] /= (double)(r * cols);
        }
        res->growth = m[1] / m[0];
    }
    nninit_net_free(net);
    if (st != NNINIT_OK)
        return st;
    /* the same net (the same seed gives the same weights) trained */
    L = calloc(R_MAX_LAYERS, sizeof *L);
    if (!L)
        return nninit_err_set(err, NNINIT_ENOMEM, "lab: out of memory for a residual net");
    n = resid_layers(kind, blocks, width, L, adds);
    lab_train_spec sp = {.layers = L, .n_layers = n, .limit = c->cfg.quick ? 0 : 20000};
    st = lab_train(c, &sp, &res->run, err);
    free(L);
    return st;
}

nninit_status lab_residual(lab_ctx *c, nninit_err *err)
{
    const int blocks = c->cfg.quick ? 16 : 32;
    const int64_t width = 128;
    doc_text(c->doc, "A Dense(128, relu) stem, %d residual blocks x + F(x) with F = Dense(128, relu) then "
             "Dense(128), and a Dense(10) output, on Fashion-MNIST, no normalization unless stated: he_normal "
             "branches; Fixup (first branch layer He times L^(-1/2), second zero, a scalar multiplier, zero output "
             "layer); SkipInit (He branches times a scalar alpha initialized to 0); he_normal with batch norm after "
             "each branch dense (the normalized reference). At init: E[x^2] after the last block over E[x^2] after "
             "the stem, on 256 test images. Then %d epoch(s), SGD momentum 0.9, lr 0.01. Criteria (stated before the "
             "run): at init the plain He net's signal grows more than 100x over the blocks while Fixup's and "
             "SkipInit's stay within 2x; Fixup and SkipInit end within 0.03 test accuracy of the batch-norm net, "
             "and the plain He net more than 0.10 below it (a diverged run counts as chance).",
             blocks, c->cfg.epochs);
    static const char *head[] = {"init", "E[x^2] growth over the blocks", "test acc", "test loss"};
    doc_table(c->doc, 4, head);
    resid_result res[RES_N];
    for (int k = 0; k < RES_N; k++) {
        lab_run_begin(c, k, RES_N);
        nninit_status st = resid_run(c, (resid_kind)k, blocks, width, &res[k], err);
        if (st != NNINIT_OK)
            return st;
        doc_cell_text(c->doc, "%s", RES_LABELS[k]);
        doc_cell_num(c->doc, "%.3g", res[k].growth);
        if (res[k].run.diverged) {
            doc_cell_text(c->doc, "diverged after %d epochs", res[k].run.epochs_done);
            doc_cell_num(c->doc, "%.4f", (double)NAN);
        } else {
            doc_cell_num(c->doc, "%.4f", res[k].run.final_acc);
            doc_cell_num(c->doc, "%.4f", res[k].run.final_loss);
        }
        doc_row_end(c->doc);
    }
    double ref = res[RES_BN].run.final_acc;
    int ok_init = res[RES_HE].growth > 100 && res[RES_FIXUP].growth <= 2 && res[RES_FIXUP].growth >= 0.5 &&
                  res[RES_SKIPINIT].growth <= 2 && res[RES_SKIPINIT].growth >= 0.5;
    int ok_train = fabs(res[RES_FIXUP].run.final_acc - ref) < 0.03 && fabs(res[RES_SKIPINIT].run.final_acc - ref) < 0.03 &&
                   res[RES_HE].run.final_acc < ref - 0.10;
    lab_value v1[] = {{"he_growth", res[RES_HE].growth}, {"fixup_growth", res[RES_FIXUP].growth},
                      {"skipinit_growth", res[RES_SKIPINIT].growth}};
    doc_lesson(c->doc, c->s, "residual blocks at init: He grows the signal, Fixup and SkipInit keep it", ok_init, v1, 3,
               "Measured: E[x^2] grows %.3g x over %d blocks with he_normal, %.3g x with Fixup, %.3g x with SkipInit.",
               res[RES_HE].growth, blocks, res[RES_FIXUP].growth, res[RES_SKIPINIT].growth);
    lab_value v2[] = {{"he_acc", res[RES_HE].run.final_acc}, {"fixup_acc", res[RES_FIXUP].run.final_acc},
                      {"skipinit_acc", res[RES_SKIPINIT].run.final_acc}, {"bn_acc", ref}};
    doc_lesson(c->doc, c->s, "Fixup and SkipInit train a deep residual net without normalization", ok_train, v2, 4,
               "Measured: test accuracy %.4f Fixup, %.4f SkipInit, %.4f batch norm, %.4f plain he_normal%s.",
               res[RES_FIXUP].run.final_acc, res[RES_SKIPINIT].run.final_acc, ref, res[RES_HE].run.final_acc,
               res[RES_HE].run.diverged ? " (diverged)" : "");
    const lab_run *runs[RES_N] = {&res[0].run, &res[1].run, &res[2].run, &res[3].run};
    double xs[64], ys[RES_N * 64];
    nninit_plot_series ser[RES_N];
    nninit_plot p;
    char title[96];
    snprintf(title, sizeof title, "%d residual blocks, no normalization unless stated", blocks);
    lab_acc_panel(&c->cfg, title, runs, RES_LABELS, RES_N, xs, ys, ser, &p);
    return doc_figure(c->doc, "residual", "test accuracy per epoch", &p, 1, err);
}
