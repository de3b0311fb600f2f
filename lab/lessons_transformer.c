/*
 * Transformers (issue 12, step 3): a small pre-LN character-level model on
 * the fortunes text (token and position embeddings, 2 pre-LN blocks of
 * width 64 with 4 causal heads, a final layer norm, a dense head), with
 *   GPT-2 init   every kernel and embedding N(0, 0.02), the residual
 *                projections (attention output, MLP W2) N(0, 0.02 / sqrt(2 L))
 *   unscaled     projections N(0, 0.02) like every kernel, and PyTorch's
 *                default nn.Embedding init N(0, 1) for both embeddings
 *   N(0, 1) only the embeddings N(0, 1), projections scaled as GPT-2
 * Measured: at init the attention-logit scale of block 1 and how much the
 * blocks add to the residual stream; the training loss over the first
 * steps; the test loss reached after a fixed budget of Adam steps,
 * trained by the engine's loop (lab_seq_train: nninit_train on a seeded
 * sample of the training windows, one epoch).
 */
#include "lab_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { TF_D = 64, TF_HEADS = 4, TF_FF = 256, TF_BLOCKS = 2, TF_T = 64, TF_BATCH = 16, TF_V = 3, TF_TEST = 64 };

typedef struct tf_variant {
    const char *label;
    double emb_std;
    int scaled;
} tf_variant;

typedef struct tf_result {
    double logit_std;   /* block 1's attention logits q.k / sqrt(d_k) at init */
    double stream_gain; /* ||x_L - x_0|| / ||x_0||: what the blocks add to the embeddings at init */
    lab_seq_run run;    /* first loss, mean over the first 50 steps, curve, test loss (nats per character) */
} tf_result;

static void tf_layers(const tf_variant *v, int32_t vocab, nninit_layer_desc *d)
{
    char emb[64];
    snprintf(emb, sizeof emb, "RandomNormal(stddev=%g)", v->emb_std);
    d[0] = nninit_layer_desc_default(NNINIT_LAYER_EMBEDDING);
    d[0].vocab = vocab;
    d[0].units = TF_D;
    snprintf(d[0].kernel_init, sizeof d[0].kernel_init, "%s", emb);
    d[1] = nninit_layer_desc_default(NNINIT_LAYER_POSITION_EMBEDDING);
    d[1].vocab = TF_T;
    snprintf(d[1].kernel_init, sizeof d[1].kernel_init, "%s", emb);
    for (int b = 0; b < TF_BLOCKS; b++) {
        nninit_layer_desc *t = &d[2 + b];
        *t = nninit_layer_desc_default(NNINIT_LAYER_TRANSFORMER);
        t->heads = TF_HEADS;
        t->units = TF_FF;
        t->causal = 1;
        snprintf(t->kernel_init, sizeof t->kernel_init, "RandomNormal(stddev=0.02)");
    }
    d[2 + TF_BLOCKS] = nninit_layer_desc_default(NNINIT_LAYER_LAYER_NORM);
    d[3 + TF_BLOCKS] = nninit_layer_desc_default(NNINIT_LAYER_DENSE);
    d[3 + TF_BLOCKS].units = vocab;
    snprintf(d[3 + TF_BLOCKS].kernel_init, sizeof d[3 + TF_BLOCKS].kernel_init, "RandomNormal(stddev=0.02)");
}

/* GPT-2's scaled residual projections: the attention output kernel and
 * the MLP's W2 of every block divided by sqrt(2 L) (Keras-layout
 * parameters 8 and 14 of a transformer layer). */
static nninit_status scale_projections(nninit_net *net, nninit_err *err)
{
    static const int which[2] = {8, 14};
    for (int b = 0; b < TF_BLOCKS; b++)
        for (int k = 0; k < 2; k++) {
            float *w = NULL;
            nninit_shape sh;
            nninit_status st = nninit_net_param(net, 2 + b, which[k], &w, NULL, &sh, NULL, err);
            if (st != NNINIT_OK)
                return st;
            int64_t n = 1;
            for (int i = 0; i < sh.ndim; i++)
                n *= sh.dim[i];
            for (int64_t i = 0; i < n; i++)
                w[i] = (float)((double)w[i] / sqrt(2.0 * TF_BLOCKS));
        }
    return NNINIT_OK;
}

/* Block 1's attention logits at init from its input x (rows, T * d): layer
 * norm (gamma 1, beta 0 at init, epsilon 1e-3), the query and key
 * projections (parameters 2-5), q.k / sqrt(d_k) over every causal pair. */
static nninit_status logit_std(nninit_net *net, const float *x, int64_t rows, double *out, nninit_err *err)
{
    float *wq, *bq, *wk, *bk;
    nninit_status st = nninit_net_param(net, 2, 2, &wq, NULL, NULL, NULL, err);
    if (st == NNINIT_OK)
        st = nninit_net_param(net, 2, 3, &bq, NULL, NULL, NULL, err);
    if (st == NNINIT_OK)
        st = nninit_net_param(net, 2, 4, &wk, NULL, NULL, NULL, err);
    if (st == NNINIT_OK)
        st = nninit_net_param(net, 2, 5, &bk, NULL, NULL, NULL, err);
    if (st != NNINIT_OK)
        return st;
    const int dk = TF_D / TF_HEADS;
    double *q = malloc(sizeof(double) * TF_T * TF_D), *k = malloc(sizeof(double) * TF_T * TF_D);
    if (!q || !k) {
        free(q);
        free(k);
        return nninit_err_set(err, NNINIT_ENOMEM, "lab: out of memory for attention logits");
    }
    double s = 0, s2 = 0;
    int64_t n = 0;
    for (int64_t r = 0; r < rows; r++) {
        for (int t = 0; t < TF_T; t++) {
            const float *v = x + (r * TF_T + t) * TF_D;
            double mu = 0, var = 0, xn[TF_D];
            for (int i = 0; i < TF_D; i++)
                mu += (double)v[i];
            mu /= TF_D;
            for (int i = 0; i < TF_D; i++)
                var += ((double)v[i] - mu) * ((double)v[i] - mu);
            var /= TF_D;
            for (int i = 0; i < TF_D; i++)
                xn[i] = ((double)v[i] - mu) / sqrt(var + 1e-3);
            for (int j = 0; j < TF_D; j++) {
                double a = (double)bq[j], b = (double)bk[j];
                for (int i = 0; i < TF_D; i++) {
                    a += xn[i] * (double)wq[i * TF_D + j];
                    b += xn[i] * (double)wk[i * TF_D + j];
                }
                q[t * TF_D + j] = a;
                k[t * TF_D + j] = b;
            }
        }
        for (int h = 0; h < TF_HEADS; h++)
            for (int t = 0; t < TF_T; t++)
                for (int u = 0; u <= t; u++) {
                    double l = 0;
                    for (int i = 0; i < dk; i++)
                        l += q[t * TF_D + h * dk + i] * k[u * TF_D + h * dk + i];
                    l /= sqrt((double)dk);
                    s += l;
                    s2 += l * l;
                    n++;
                }
    }
    free(q);
    free(k);
    double mean = s / (double)n;
    *out = sqrt(s2 / (double)n - mean * mean);
    return NNINIT_OK;
}

static nninit_status tf_run(lab_ctx *c, const tf_variant *v, int32_t vocab, const nninit_dataset *train,
                            const nninit_dataset *test, double base, double share, tf_result *res, nninit_err *err)
{
    memset(res, 0, sizeof *res);
    nninit_layer_desc d[4 + TF_BLOCKS];
    tf_layers(v, vocab, d);
    nninit_shape in = {1, {TF_T}};
    nninit_net_opts no = nninit_net_opts_default();
    no.seed = c->cfg.seed;
    nninit_net *net = NULL;
    nninit_status st = nninit_net_new_shaped(&in, d, 4 + TF_BLOCKS, &no, &net, err);
    if (st == NNINIT_OK && v->scaled)
        st = scale_projections(net, err);
    /* at init, on the first test windows */
    const float *out = NULL;
    if (st == NNINIT_OK)
        st = nninit_net_forward(net, test->x, TF_BATCH, 0, &out, err);
    if (st == NNINIT_OK) {
        int64_t r, cols;
        const float *x0 = nninit_net_tensor(net, 1, NNINIT_T_OUTPUT, &r, &cols);
        const float *xl = nninit_net_tensor(net, 1 + TF_BLOCKS, NNINIT_T_OUTPUT, &r, &cols);
        double num = 0, den = 0;
        for (int64_t i = 0; x0 && xl && i < r * cols; i++) {
            num += ((double)xl[i] - (double)x0[i]) * ((double)xl[i] - (double)x0[i]);
            den += (double)x0[i] * (double)x0[i];
        }
        res->stream_gain = sqrt(num / den);
        st = x0 ? logit_std(net, x0, 2, &res->logit_std, err) : NNINIT_EMISUSE;
    }
    /* training: the engine's loop, Adam (torch defaults), lr 1e-3, one pass over the sample */
    lab_seq_spec sp = lab_seq_spec_default();
    sp.loss = NNINIT_LOSS_SOFTMAX_CE;
    sp.batch = TF_BATCH;
    sp.seed = c->cfg.seed;
    if (st == NNINIT_OK)
        st = lab_seq_train(c, net, train, test, &sp, base, share, &res->run, err);
    nninit_net_free(net);
    return st;
}

nninit_status lab_transformer(lab_ctx *c, nninit_err *err)
{
    static const tf_variant V[TF_V] = {
        {"GPT-2: embeddings 0.02, scaled projections", 0.02, 1},
        {"unscaled projections, embeddings N(0, 1)", 1.0, 0},
        {"scaled projections, embeddings N(0, 1)", 1.0, 1},
    };
    const int n_steps = c->cfg.quick ? 300 : 800;
    nninit_text train, test;
    memset(&train, 0, sizeof train);
    memset(&test, 0, sizeof test);
    nninit_err derr = {0};
    nninit_status st = nninit_fortunes_load(NULL, &train, &test, &derr);
    if (st != NNINIT_OK) { /* no fortunes installed: a skipped lesson, not an error */
        doc_text(c->doc, "Skipped: %s", derr.msg);
        doc_lesson_skipped(c->doc, c->s, "transformer init: GPT-2's small embeddings and scaled projections",
                           "no fortunes text");
        return NNINIT_OK;
    }
    doc_text(c->doc, "A pre-LN character-level transformer on the fortunes text (%lld training characters, vocabulary "
             "%d): token and position embeddings of width %d, %d pre-LN blocks (%d causal heads, MLP width %d, "
             "gelu), a final layer norm and a dense head; windows of %d characters, batch %d, %d Adam steps (lr "
             "0.001) by the engine's training loop, one pass over a seeded random sample of that many batches of "
             "training windows; the test loss on the first %d test windows. Three inits: GPT-2's (every kernel and embedding N(0, 0.02), the residual projections -- "
             "attention output and MLP W2 -- N(0, 0.02/sqrt(2L))), unscaled projections with PyTorch's default "
             "nn.Embedding N(0, 1), and GPT-2's projections with N(0, 1) embeddings. At init: the attention-logit "
             "std of block 1 and ||x_L - x_0|| / ||x_0|| (what the blocks add to the embeddings). Criterion (stated "
             "before the run): GPT-2's init ends with a lower test loss than the unscaled N(0, 1) init, and its mean "
             "training loss over the first 50 steps is lower too.",
             (long long)train.n, (int)train.vocab, TF_D, TF_BLOCKS, TF_HEADS, TF_FF, TF_T, TF_BATCH, n_steps, TF_TEST);
    /* the engine's data sets: every training window, a seeded sample of n_steps * batch of them (one pass,
     * n_steps steps), and the first TF_TEST test windows */
    nninit_seqset tw, sw;
    nninit_dataset all, sample, tst;
    memset(&tw, 0, sizeof tw);
    memset(&sw, 0, sizeof sw);
    memset(&all, 0, sizeof all);
    memset(&sample, 0, sizeof sample);
    memset(&tst, 0, sizeof tst);
    st = nninit_text_windows(&train, TF_T, TF_T, &tw, err);
    if (st == NNINIT_OK)
        st = nninit_text_windows(&test, TF_T, TF_T, &sw, err);
    if (st == NNINIT_OK)
        st = nninit_dataset_from_seqset(&tw, &all, err);
    if (st == NNINIT_OK)
        st = lab_dataset_sample(&all, (int64_t)n_steps * TF_BATCH, c->cfg.seed, &sample, err);
    if (st == NNINIT_OK)
        st = nninit_dataset_from_seqset(&sw, &tst, err);
    if (st == NNINIT_OK && tst.n > TF_TEST)
        tst.n = TF_TEST;
    nninit_dataset_free(&all);
    tf_result res[TF_V];
    memset(res, 0, sizeof res);
    static const char *head[] = {"init", "attention logit std", "blocks / embeddings", "first loss",
                                 "mean loss, steps 1-50", "test loss (nats/char)"};
    if (st == NNINIT_OK)
        doc_table(c->doc, 6, head);
    for (int k = 0; st == NNINIT_OK && k < TF_V; k++) {
        lab_progress(c, k / (double)TF_V);
        st = tf_run(c, &V[k], train.vocab, &sample, &tst, k / (double)TF_V, 1.0 / TF_V, &res[k], err);
        if (st != NNINIT_OK)
            break;
        doc_cell_text(c->doc, "%s", V[k].label);
        doc_cell_num(c->doc, "%.3g", res[k].logit_std);
        doc_cell_num(c->doc, "%.3g", res[k].stream_gain);
        doc_cell_num(c->doc, "%.4f", res[k].run.first_loss);
        doc_cell_num(c->doc, "%.4f", res[k].run.early);
        if (res[k].run.diverged)
            doc_cell_text(c->doc, "diverged at step %lld", (long long)res[k].run.steps_done + 1);
        else
            doc_cell_num(c->doc, "%.4f", res[k].run.test_loss);
        doc_row_end(c->doc);
    }
    if (st == NNINIT_OK) {
        const lab_seq_run *r0 = &res[0].run, *r1 = &res[1].run, *r2 = &res[2].run;
        int ok = r0->test_loss < r1->test_loss && r0->early < r1->early;
        lab_value v[] = {{"gpt2_test_loss", r0->test_loss},     {"unscaled_n01_test_loss", r1->test_loss},
                         {"scaled_n01_test_loss", r2->test_loss}, {"gpt2_early_loss", r0->early},
                         {"unscaled_n01_early_loss", r1->early},  {"gpt2_logit_std", res[0].logit_std},
                         {"unscaled_n01_logit_std", res[1].logit_std}};
        doc_lesson(c->doc, c->s, "transformer init: GPT-2's small embeddings and scaled projections", ok, v, 7,
                   "Measured: test loss %.4f (GPT-2) vs %.4f (unscaled, N(0, 1)) and %.4f (scaled, N(0, 1)) nats per "
                   "character; mean loss over the first 50 steps %.4f vs %.4f; block-1 attention logit std at init "
                   "%.3g vs %.3g.",
                   r0->test_loss, r1->test_loss, r2->test_loss, r0->early, r1->early, res[0].logit_std,
                   res[1].logit_std);
        nninit_plot_series ser[TF_V];
        for (int k = 0; k < TF_V; k++)
            ser[k] = (nninit_plot_series){V[k].label, res[k].run.curve_x, res[k].run.curve, res[k].run.n_curve, 0, k};
        nninit_plot p = {"char transformer on fortunes: training loss", "Adam step", "cross-entropy (nats/char)", 0, 0,
                         ser, TF_V, 1};
        st = doc_figure(c->doc, "transformer", "training loss of the three inits", &p, 1, err);
    }
    nninit_dataset_free(&sample);
    nninit_dataset_free(&tst);
    nninit_seqset_free(&tw);
    nninit_seqset_free(&sw);
    nninit_text_free(&train);
    nninit_text_free(&test);
    return st;
}
