/*
 * Depth without shortcuts (issue 12): a plain deep tanh CNN, no
 * normalization and no residual connection, as in Xiao et al. 2018
 * ("Dynamical isometry and a mean field theory of CNNs: how to train
 * 10,000-layer vanilla convolutional neural networks"). Its conv kernels are
 *   delta_orthogonal  at the tanh critical point: gain^2 = the sigma_w^2 on
 *                     the order-to-chaos line (chi_1 = 1) for sigma_b^2 =
 *                     1e-5, biases N(0, sigma_b^2). q* is small there, so
 *                     tanh is nearly linear and the orthogonal centre taps
 *                     make the stack close to an isometry.
 *   glorot_normal     Gaussian, sigma_w^2 = 1 (equal fans): tanh's critical
 *                     point with zero biases (q* = 0), the Gaussian next to
 *                     the orthogonal one at (almost) the same point.
 *   he_normal         Gaussian, sigma_w^2 = 2: tanh's chaotic phase.
 * Measured: (a) every singular value of the input-output Jacobian of the
 * conv stack at init, at one test image (exact, from the engine's backward
 * and LAPACK); (b) the test accuracy after the same training budget.
 */
#include "lab_internal.h"

#include <lapacke.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { CNN_DELTA = 0, CNN_GLOROT, CNN_HE, CNN_N };

static const char *CNN_LABELS[CNN_N] = {"delta_orthogonal (critical)", "glorot_normal", "he_normal"};

/* The critical point's bias variance: small, so that q* is small (theory.md
 * 2.1: tanh reaches dynamical isometry on the critical line as q* -> 0). */
#define CNN_SB2 1e-5
#define CNN_CHANNELS 16

/* ---- the Jacobian spectrum ---- */

/* Rows of the Jacobian computed per forward/backward pass. */
enum { JAC_CHUNK = 128 };

static int cmp_desc(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x < y) - (x > y);
}

nninit_status lab_jacobian_sv(nninit_net *net, const float *x, double *sv, nninit_err *err)
{
    int64_t n_in = nninit_net_n_inputs(net), n_out = nninit_net_n_outputs(net);
    int64_t k = n_in < n_out ? n_in : n_out, chunk = n_out < JAC_CHUNK ? n_out : JAC_CHUNK;
    float *xr = malloc((size_t)(chunk * n_in) * sizeof *xr);
    float *dout = malloc((size_t)(chunk * n_out) * sizeof *dout);
    double *a = malloc((size_t)(n_in * n_out) * sizeof *a);
    nninit_status st = NNINIT_OK;
    if (!xr || !dout || !a) {
        st = nninit_err_set(err, NNINIT_ENOMEM, "lab: out of memory for a %lld x %lld Jacobian", (long long)n_out,
                            (long long)n_in);
        goto done;
    }
    /* Backward row i with the unit gradient e_(o0 + i) gives row o0 + i of
     * J (dy_o / dx): stored column-major as the n_in x n_out matrix J^T,
     * whose singular values are J's. */
    for (int64_t o0 = 0; o0 < n_out; o0 += chunk) {
        int64_t m = n_out - o0 < chunk ? n_out - o0 : chunk;
        for (int64_t i = 0; i < m; i++)
            memcpy(xr + i * n_in, x, (size_t)n_in * sizeof *xr);
        memset(dout, 0, (size_t)(m * n_out) * sizeof *dout);
        for (int64_t i = 0; i < m; i++)
            dout[i * n_out + o0 + i] = 1.0f;
        if ((st = nninit_net_forward(net, xr, m, 0, NULL, err)) != NNINIT_OK ||
            (st = nninit_net_backward(net, dout, 1, err)) != NNINIT_OK)
            goto done;
        const float *gx = nninit_net_input_grad(net, NULL, NULL);
        for (int64_t i = 0; i < m * n_in; i++)
            a[o0 * n_in + i] = (double)gx[i];
    }
    lapack_int info = LAPACKE_dgesdd(LAPACK_COL_MAJOR, 'N', (lapack_int)n_in, (lapack_int)n_out, a,
                                     (lapack_int)n_in, sv, NULL, 1, NULL, 1);
    if (info != 0) {
        st = nninit_err_set(err, NNINIT_ENUMERIC, "lab: LAPACK dgesdd failed (info %d) on a %lld x %lld Jacobian",
                            (int)info, (long long)n_out, (long long)n_in);
        goto done;
    }
    qsort(sv, (size_t)k, sizeof *sv, cmp_desc); /* dgesdd sorts them already; this states it */
done:
    free(xr), free(dout), free(a);
    return st;
}

/* ---- the net ---- */

typedef struct cnn_setup {
    int depth;        /* conv layers, the stem included */
    int64_t side;     /* the image side after the average pooling */
    int64_t pool;     /* the pooling window (1: none) */
    int steps;        /* optimizer steps of batch 128 */
    int64_t test_limit;
    double sw2_crit;  /* delta_orthogonal's gain^2 */
} cnn_setup;

/* The layer list: [avg pool], the stem conv (1 -> C channels), depth - 1
 * convs C -> C, all 3x3 'same' with tanh; global average pooling; a
 * Dense(n_classes) head (glorot_uniform, the Keras default, in every net).
 * *first_body gets the index of the first C -> C conv. Returns the count. */
static int cnn_layers(int kind, const cnn_setup *su, int32_t n_classes, nninit_layer_desc *L, int *first_body)
{
    int n = 0;
    char kern[128], bias[128];
    if (kind == CNN_DELTA) {
        snprintf(kern, sizeof kern, "DeltaOrthogonal(gain=%.17g)", sqrt(su->sw2_crit));
        snprintf(bias, sizeof bias, "RandomNormal(stddev=%.17g)", sqrt(CNN_SB2));
    } else {
        snprintf(kern, sizeof kern, "%s", kind == CNN_GLOROT ? "glorot_normal" : "he_normal");
        snprintf(bias, sizeof bias, "zeros");
    }
    if (su->pool > 1) {
        L[n] = nninit_layer_desc_default(NNINIT_LAYER_AVGPOOL2D);
        L[n].kernel[0] = L[n].kernel[1] = su->pool;
        n++;
    }
    for (int l = 0; l < su->depth; l++) {
        if (l == 1)
            *first_body = n;
        L[n] = nninit_layer_desc_default(NNINIT_LAYER_CONV2D);
        L[n].units = CNN_CHANNELS;
        L[n].act = NNINIT_ACT_TANH;
        L[n].padding = NNINIT_PAD_SAME;
        snprintf(L[n].kernel_init, sizeof L[n].kernel_init, "%s", kern);
        snprintf(L[n].bias_init, sizeof L[n].bias_init, "%s", bias);
        n++;
    }
    L[n++] = nninit_layer_desc_default(NNINIT_LAYER_GLOBAL_AVGPOOL2D);
    L[n] = nninit_layer_desc_default(NNINIT_LAYER_DENSE);
    L[n++].units = n_classes;
    return n;
}

typedef struct cnn_spectrum {
    double *sv; /* n, descending */
    int64_t n;
    double mean_sq, max_over_min, p90_over_p10, frac_band;
} cnn_spectrum;

/* The Jacobian of the C -> C conv stack (the stem's output to the last
 * conv's output) at init, at the first test image: the same weights as the
 * net that is then trained (the same seed and layer names), copied into a
 * net of the stack alone. */
static nninit_status cnn_jacobian(lab_ctx *c, const cnn_setup *su, const nninit_layer_desc *L, int n_layers,
                                  int first_body, cnn_spectrum *sp, nninit_err *err)
{
    nninit_net_opts no = nninit_net_opts_default();
    no.seed = c->cfg.seed;
    nninit_shape img = {3, {su->side * su->pool, su->side * su->pool, 1}};
    nninit_shape body_in = {3, {su->side, su->side, CNN_CHANNELS}};
    int n_body = su->depth - 1;
    nninit_net *net = NULL, *body = NULL;
    float *buf = NULL;
    nninit_status st = nninit_net_new_shaped(&img, L, n_layers, &no, &net, err);
    if (st == NNINIT_OK)
        st = nninit_net_new_shaped(&body_in, L + first_body, n_body, &no, &body, err);
    if (st == NNINIT_OK && !(buf = malloc((size_t)(9 * CNN_CHANNELS * CNN_CHANNELS) * sizeof *buf)))
        st = nninit_err_set(err, NNINIT_ENOMEM, "lab: out of memory for a kernel");
    for (int l = 0; st == NNINIT_OK && l < n_body; l++)
        for (int w = 0; st == NNINIT_OK && w < 2; w++) {
            st = nninit_net_get_param(net, first_body + l, w, buf, NNINIT_LAYOUT_KERAS, err);
            if (st == NNINIT_OK)
                st = nninit_net_set_param(body, l, w, buf, NNINIT_LAYOUT_KERAS, err);
        }
    if (st == NNINIT_OK)
        st = nninit_net_forward(net, c->test.x, 1, 0, NULL, err);
    sp->n = su->side * su->side * CNN_CHANNELS;
    if (st == NNINIT_OK && !(sp->sv = malloc((size_t)sp->n * sizeof *sp->sv)))
        st = nninit_err_set(err, NNINIT_ENOMEM, "lab: out of memory for singular values");
    if (st == NNINIT_OK) {
        const float *x = nninit_net_tensor(net, first_body - 1, NNINIT_T_OUTPUT, NULL, NULL);
        st = lab_jacobian_sv(body, x, sp->sv, err);
    }
    if (st == NNINIT_OK) {
        double s2 = 0;
        int64_t band = 0;
        for (int64_t i = 0; i < sp->n; i++) {
            s2 += sp->sv[i] * sp->sv[i];
            band += sp->sv[i] >= 0.5 && sp->sv[i] <= 2;
        }
        sp->mean_sq = s2 / (double)sp->n;
        sp->frac_band = (double)band / (double)sp->n;
        sp->max_over_min = sp->sv[0] / sp->sv[sp->n - 1];
        /* the 90th and 10th percentiles (sv is descending) */
        sp->p90_over_p10 = sp->sv[sp->n / 10] / sp->sv[sp->n - 1 - sp->n / 10];
    }
    free(buf);
    nninit_net_free(body);
    nninit_net_free(net);
    return st;
}

/* ---- training ---- */

typedef struct cnn_monitor {
    lab_ctx *c;
    double *loss; /* per optimizer step */
    int steps;
} cnn_monitor;

static void on_monitor(int epoch, int64_t step, double loss, const nninit_layer_stats *stats, int n_layers,
                       void *user)
{
    (void)epoch, (void)stats, (void)n_layers;
    cnn_monitor *m = user;
    if (step >= 1 && step <= m->steps)
        m->loss[step - 1] = loss;
    if (step % 8 == 0)
        lab_progress(m->c, m->c->run_base + m->c->run_share * (double)step / (double)m->steps);
}

typedef struct cnn_result {
    cnn_spectrum sp;
    lab_run run;
    double *loss; /* steps */
} cnn_result;

static nninit_status cnn_run(lab_ctx *c, int kind, const cnn_setup *su, cnn_result *res, nninit_err *err)
{
    nninit_layer_desc *L = calloc((size_t)su->depth + 4, sizeof *L); /* [pool], convs, pooling, head */
    res->loss = malloc((size_t)su->steps * sizeof *res->loss);
    if (!L || !res->loss) {
        free(L);
        return nninit_err_set(err, NNINIT_ENOMEM, "lab: out of memory for a deep CNN");
    }
    int first_body = 0;
    int n = cnn_layers(kind, su, c->train.n_classes, L, &first_body);
    nninit_status st = cnn_jacobian(c, su, L, n, first_body, &res->sp, err);
    if (st != NNINIT_OK) {
        free(L);
        return st;
    }
    for (int i = 0; i < su->steps; i++)
        res->loss[i] = (double)NAN;
    cnn_monitor mon = {c, res->loss, su->steps};
    /* Adam at its default rate for every init: the inits give very different
     * activation and gradient scales (q* 0.02 critical, 0.6 for he_normal),
     * and SGD's step would follow that scale; Adam's does not. */
    nninit_optim_opts adam = nninit_optim_opts_default();
    adam.kind = NNINIT_OPT_ADAM;
    adam.lr = 1e-3;
    lab_train_spec sp = {.layers = L,
                         .n_layers = n,
                         .epochs = 1,
                         .limit = (int64_t)su->steps * 128,
                         .input_shape = {3, {su->side * su->pool, su->side * su->pool, 1}},
                         .test_limit = su->test_limit,
                         .monitor_every = 1,
                         .on_monitor = on_monitor,
                         .monitor_user = &mon,
                         .optim = &adam};
    st = lab_train(c, &sp, &res->run, err);
    free(L);
    return st;
}

/* ---- the lesson ---- */

nninit_status lab_deep_cnn(lab_ctx *c, nninit_err *err)
{
    cnn_setup su;
    su.depth = c->cfg.quick ? 16 : 32;
    su.steps = c->cfg.quick ? 24 : 80;
    su.test_limit = c->cfg.quick ? 1000 : 2000;
    int64_t img_side = (int64_t)llround(sqrt((double)c->train.dim));
    if (img_side * img_side != c->train.dim) {
        doc_text(c->doc, "Skipped: the data set's rows (%lld values) are not square images.", (long long)c->train.dim);
        doc_lesson_skipped(c->doc, c->s, "delta-orthogonal kernels train a deep plain CNN", "images not square");
        return NNINIT_OK;
    }
    /* pool to at most 7x7, as small as the budget needs (28x28 -> 7x7) */
    su.pool = (img_side + 6) / 7;
    su.side = img_side / su.pool;
    nninit_status st = nninit_theory_critical(NNINIT_THEORY_TANH, 0.0, CNN_SB2, 1.0, &su.sw2_crit, err);
    if (st != NNINIT_OK)
        return st;
    int64_t steps_avail = (c->train.n + 127) / 128;
    if (su.steps > steps_avail)
        su.steps = (int)steps_avail;
    nninit_theory_net tn = {NNINIT_THEORY_TANH, 0.0, su.sw2_crit, CNN_SB2}, th = {NNINIT_THEORY_TANH, 0.0, 2.0, 0.0};
    nninit_theory_point tp, tph; /* the critical point; he_normal's (chaotic) */
    if ((st = nninit_theory_analyze(&tn, 1.0, &tp, err)) != NNINIT_OK ||
        (st = nninit_theory_analyze(&th, 1.0, &tph, err)) != NNINIT_OK)
        return st;
    int64_t n_sv = su.side * su.side * CNN_CHANNELS;

    doc_text(c->doc, "A plain CNN on Fashion-MNIST: %lldx%lld average pooling (%lldx%lld images), then %d conv layers "
             "3x3 'same' with tanh (a stem of %d channels, then %d layers of %d -> %d), no normalization and no "
             "shortcut; global average pooling and a Dense(%d) head (glorot_uniform). The conv kernels: "
             "delta_orthogonal at tanh's critical point (gain^2 = sigma_w^2 = %.4f, the order-to-chaos line for "
             "sigma_b^2 = %g, biases N(0, %g); q* = %.4f), glorot_normal (sigma_w^2 = 1, zero biases: the critical "
             "point with q* = 0) and he_normal (sigma_w^2 = 2, zero biases: chaotic for tanh, chi_1 = %.3f, "
             "correlation depth scale xi_c = %.1f layers). "
             "(a) At init, every singular value of the Jacobian of the %d-layer %d-channel stack (stem output to "
             "last conv output, %lld x %lld) at the first test image, from the engine's backward with unit output "
             "gradients and LAPACK (the engine runs in float32: singular values below about 1e-6 of the largest are at "
             "its resolution, so spreads past 1e6 are lower bounds). (b) One training budget for all: %d Adam steps of batch 128 at Adam's default "
             "rate 0.001 (not tuned here: the inits start at very different activation scales, which Adam's step "
             "does not follow and SGD's would), test accuracy on the first %lld test "
             "images. Criteria (stated before the run, from Xiao et al. 2018 and theory.md 2.1): (a) at least 90%% "
             "of delta_orthogonal's singular values lie in [0.5, 2], and each Gaussian init's 90th/10th percentile "
             "ratio is more than 10x delta_orthogonal's; (b) delta_orthogonal's test accuracy is at least 0.02 above "
             "the better Gaussian's (a diverged run counts as chance).",
             (long long)su.pool, (long long)su.pool, (long long)su.side, (long long)su.side, su.depth, CNN_CHANNELS,
             su.depth - 1, CNN_CHANNELS, CNN_CHANNELS, (int)c->train.n_classes, su.sw2_crit, CNN_SB2, CNN_SB2,
             tp.q_star, tph.chi1, tph.xi_c, su.depth - 1, CNN_CHANNELS, (long long)n_sv, (long long)n_sv, su.steps,
             (long long)(su.test_limit < c->test.n ? su.test_limit : c->test.n));

    cnn_result res[CNN_N];
    memset(res, 0, sizeof res);
    for (int k = 0; k < CNN_N && st == NNINIT_OK; k++) {
        lab_run_begin(c, k, CNN_N);
        st = cnn_run(c, k, &su, &res[k], err);
    }
    if (st != NNINIT_OK)
        goto done;

    static const char *head1[] = {"init", "mean sv^2", "max/min sv", "p90/p10 sv", "fraction in [0.5, 2]"};
    doc_subheading(c->doc, "Jacobian spectrum at init");
    doc_table(c->doc, 5, head1);
    for (int k = 0; k < CNN_N; k++) {
        doc_cell_text(c->doc, "%s", CNN_LABELS[k]);
        doc_cell_num(c->doc, "%.4g", res[k].sp.mean_sq);
        doc_cell_num(c->doc, "%.3g", res[k].sp.max_over_min);
        doc_cell_num(c->doc, "%.3g", res[k].sp.p90_over_p10);
        doc_cell_num(c->doc, "%.3f", res[k].sp.frac_band);
        doc_row_end(c->doc);
    }
    static const char *head2[] = {"init", "test acc", "test loss"};
    doc_subheading(c->doc, "After %d steps", su.steps);
    doc_table(c->doc, 3, head2);
    for (int k = 0; k < CNN_N; k++)
        lab_acc_row(c, CNN_LABELS[k], NULL, &res[k].run);

    double spread_d = res[CNN_DELTA].sp.p90_over_p10;
    int ok_a = res[CNN_DELTA].sp.frac_band >= 0.9 && res[CNN_GLOROT].sp.p90_over_p10 > 10 * spread_d &&
               res[CNN_HE].sp.p90_over_p10 > 10 * spread_d;
    lab_value v1[] = {{"delta_frac_band", res[CNN_DELTA].sp.frac_band},
                      {"delta_p90_p10", spread_d},
                      {"glorot_p90_p10", res[CNN_GLOROT].sp.p90_over_p10},
                      {"he_p90_p10", res[CNN_HE].sp.p90_over_p10},
                      {"delta_mean_sq", res[CNN_DELTA].sp.mean_sq},
                      {"glorot_mean_sq", res[CNN_GLOROT].sp.mean_sq},
                      {"he_mean_sq", res[CNN_HE].sp.mean_sq}};
    doc_lesson(c->doc, c->s, "deep plain CNN at init: delta-orthogonal is near-isometric, Gaussian kernels spread", ok_a,
               v1, 7,
               "Measured over %d layers: %.3f of delta_orthogonal's singular values in [0.5, 2], p90/p10 %.3g "
               "(mean sv^2 %.3g); glorot_normal p90/p10 %.3g (mean sv^2 %.3g), he_normal %.3g (mean sv^2 %.3g).",
               su.depth - 1, res[CNN_DELTA].sp.frac_band, spread_d, res[CNN_DELTA].sp.mean_sq,
               res[CNN_GLOROT].sp.p90_over_p10, res[CNN_GLOROT].sp.mean_sq, res[CNN_HE].sp.p90_over_p10,
               res[CNN_HE].sp.mean_sq);
    double best_gauss = fmax(res[CNN_GLOROT].run.final_acc, res[CNN_HE].run.final_acc);
    int ok_b = res[CNN_DELTA].run.final_acc >= best_gauss + 0.02;
    lab_value v2[] = {{"delta_acc", res[CNN_DELTA].run.final_acc},
                      {"glorot_acc", res[CNN_GLOROT].run.final_acc},
                      {"he_acc", res[CNN_HE].run.final_acc}};
    doc_lesson(c->doc, c->s, "delta-orthogonal trains a deep plain CNN faster than Gaussian kernels", ok_b, v2, 3,
               "Measured after %d steps (%d conv layers): test accuracy %.4f delta_orthogonal, %.4f glorot_normal%s, "
               "%.4f he_normal%s.",
               su.steps, su.depth, res[CNN_DELTA].run.final_acc, res[CNN_GLOROT].run.final_acc,
               res[CNN_GLOROT].run.diverged ? " (diverged)" : "", res[CNN_HE].run.final_acc,
               res[CNN_HE].run.diverged ? " (diverged)" : "");

    /* the figure: sorted singular values; the training loss, a mean over
     * windows of `win` steps */
    {
        int win = su.steps >= 40 ? 8 : su.steps >= 4 ? 4 : 1, n_win = su.steps / win;
        double *rank = malloc((size_t)n_sv * sizeof *rank), *xs = malloc((size_t)(n_win > 0 ? n_win : 1) * sizeof *xs);
        double *ys = malloc((size_t)(CNN_N * (n_win > 0 ? n_win : 1)) * sizeof *ys);
        if (!rank || !xs || !ys) {
            free(rank), free(xs), free(ys);
            st = nninit_err_set(err, NNINIT_ENOMEM, "lab: out of memory for a figure");
            goto done;
        }
        for (int64_t i = 0; i < n_sv; i++)
            rank[i] = (double)(i + 1) / (double)n_sv;
        for (int w = 0; w < n_win; w++)
            xs[w] = (w + 1) * win;
        nninit_plot_series s1[CNN_N], s2[CNN_N];
        for (int k = 0; k < CNN_N; k++) {
            s1[k] = (nninit_plot_series){CNN_LABELS[k], rank, res[k].sp.sv, n_sv, 0, k};
            for (int w = 0; w < n_win; w++) {
                double sum = 0;
                for (int i = w * win; i < (w + 1) * win; i++)
                    sum += res[k].loss[i];
                ys[k * n_win + w] = sum / win; /* NaN after a divergence: the line stops */
            }
            s2[k] = (nninit_plot_series){CNN_LABELS[k], xs, ys + k * n_win, n_win, 0, k};
        }
        char t1[96], t2[96], yl[64];
        snprintf(t1, sizeof t1, "Jacobian of %d plain tanh conv layers at init", su.depth - 1);
        snprintf(t2, sizeof t2, "training, %d conv layers", su.depth);
        snprintf(yl, sizeof yl, "training loss (mean of %d steps)", win);
        nninit_plot p[2] = {{t1, "rank / n (descending)", "singular value", 0, 1, s1, CNN_N, 0},
                            {t2, "step", yl, 0, 0, s2, CNN_N, 1}};
        st = doc_figure(c->doc, "deep-cnn", "singular values of the input-output Jacobian at init, and training loss",
                        p, 2, err);
        free(rank), free(xs), free(ys);
    }
done:
    for (int k = 0; k < CNN_N; k++) {
        free(res[k].sp.sv);
        free(res[k].loss);
    }
    return st;
}
