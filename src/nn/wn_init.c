/*
 * Weight normalization's data-dependent init (Salimans & Kingma, "Weight
 * Normalization", NIPS 2016, sec. 3). With w = g v / ||v|| and
 * t = x v / ||v||, the paper sets g = 1 / sigma[t] and b = -mu[t] / sigma[t]
 * on a data batch, layer after layer, so that every unit's pre-activation
 * g t + b has mean 0 and variance 1 there (OpenAI's code multiplies g and b
 * by init_scale: opts->scale here). The engine trains plain weights, so the
 * init is written into them: w = g v / ||v|| = v scale / sigma[x v] and
 * b = -mu[x v] scale / sigma[x v], the same function at init. Built on the
 * public engine API, like LSUV beside it (lsuv.c).
 */
#include "nn/internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

nninit_wn_init_opts nninit_wn_init_opts_default(void)
{
    nninit_wn_init_opts o;
    o.scale = 1.0;
    o.min_std_ratio = 1e-4;
    return o;
}

/* Layers without a kernel pass through. Every other kind but dense and
 * conv2d (recurrent, embedding, attention, transformer, and any kind added
 * later) is refused rather than silently left alone: its pre-activations are
 * not one x v + b per unit. */
static int passes_through(nninit_layer_kind k)
{
    return k == NNINIT_LAYER_ACTIVATION || k == NNINIT_LAYER_BATCHNORM || k == NNINIT_LAYER_DROPOUT ||
           k == NNINIT_LAYER_MAXPOOL2D || k == NNINIT_LAYER_AVGPOOL2D || k == NNINIT_LAYER_GLOBAL_AVGPOOL2D ||
           k == NNINIT_LAYER_FLATTEN || k == NNINIT_LAYER_ADD || k == NNINIT_LAYER_SCALE ||
           k == NNINIT_LAYER_LAYER_NORM;
}

static int standardized_kind(nninit_layer_kind k)
{
    return k == NNINIT_LAYER_DENSE || k == NNINIT_LAYER_CONV2D;
}

/* One dense or conv2d layer's kernel (fan rows x units, the units last in
 * both (in, out) and HWIO) and bias, and where their values were saved. */
typedef struct wn_layer {
    int layer;
    float *w, *b;
    int64_t wn, units;
    float *saved; /* wn + units floats in the backup */
} wn_layer;

/* Mean and std over the batch (and every position: the unit is the last
 * axis of the layer's output) of t = z - b, z the pre-activation (rows, cols),
 * b NULL for t = z. Two passes in double: the variance is not a difference
 * of large sums. */
static void unit_moments(const float *z, int64_t rows, int64_t cols, const float *b, int64_t units, double *mu,
                         double *sd, double *rms)
{
    int64_t n = rows * (cols / units);
    for (int64_t j = 0; j < units; j++)
        mu[j] = sd[j] = rms[j] = 0;
    for (int64_t i = 0; i < rows; i++)
        for (int64_t c = 0; c < cols; c++)
            mu[c % units] += (double)z[i * cols + c] - (b ? (double)b[c % units] : 0.0);
    for (int64_t j = 0; j < units; j++)
        mu[j] /= (double)n;
    for (int64_t i = 0; i < rows; i++)
        for (int64_t c = 0; c < cols; c++) {
            double d = (double)z[i * cols + c] - (b ? (double)b[c % units] : 0.0) - mu[c % units];
            sd[c % units] += d * d;
        }
    for (int64_t j = 0; j < units; j++) {
        double var = sd[j] / (double)n;
        sd[j] = sqrt(var);
        rms[j] = sqrt(var + mu[j] * mu[j]);
    }
}

static nninit_status forward_preact(nninit_net *net, const float *x, int64_t batch, int layer, const float **z,
                                    int64_t *rows, int64_t *cols, nninit_err *err)
{
    nninit_status st = nninit_net_forward(net, x, batch, 0, NULL, err);
    if (st != NNINIT_OK)
        return st;
    *z = nninit_net_tensor(net, layer, NNINIT_T_PREACT, rows, cols);
    if (!*z)
        return nninit__err(err, NNINIT_EMISUSE, "wn_init: layer %d has no pre-activation", layer);
    return NNINIT_OK;
}

/* Collects the layers to standardize, refusing the ones this init does not
 * define; *out and *backup are allocated (free both). */
static nninit_status collect(nninit_net *net, wn_layer **out, int *n_out, float **backup, nninit_err *err)
{
    int n = nninit_net_n_layers(net), k = 0;
    int64_t total = 0;
    wn_layer *ls = calloc((size_t)(n > 0 ? n : 1), sizeof *ls);
    if (!ls)
        return nninit__err(err, NNINIT_ENOMEM, "wn_init: out of memory");
    nninit_status st = NNINIT_OK;
    for (int l = 0; l < n && st == NNINIT_OK; l++) {
        nninit_layer_info info;
        if ((st = nninit_net_layer_info(net, l, &info, err)) != NNINIT_OK)
            break;
        if (passes_through(info.kind))
            continue;
        if (!standardized_kind(info.kind)) {
            st = nninit__err(err, NNINIT_EINVAL,
                             "wn_init: layer %d (%s): weight-norm init is defined for dense and conv2d layers; "
                             "initialize this one otherwise, or use LSUV",
                             l, info.name);
            break;
        }
        if (info.n_params < 2) {
            st = nninit__err(err, NNINIT_EINVAL,
                             "wn_init: layer %d (%s) has no bias; the shift -mu/sigma needs one (build it with "
                             "use_bias on)",
                             l, info.name);
            break;
        }
        wn_layer *w = &ls[k];
        nninit_shape ws, bs;
        w->layer = l;
        if ((st = nninit_net_param(net, l, 0, &w->w, NULL, &ws, NULL, err)) != NNINIT_OK ||
            (st = nninit_net_param(net, l, 1, &w->b, NULL, &bs, NULL, err)) != NNINIT_OK)
            break;
        nninit_shape_numel(&ws, &w->wn, NULL);
        w->units = ws.dim[ws.ndim - 1];
        int64_t bn;
        nninit_shape_numel(&bs, &bn, NULL);
        if (bn != w->units || info.out_shape.dim[info.out_shape.ndim - 1] != w->units) {
            st = nninit__err(err, NNINIT_EMISUSE, "wn_init: layer %d (%s): kernel, bias and output disagree on units",
                             l, info.name);
            break;
        }
        total += w->wn + w->units;
        k++;
    }
    float *saved = NULL;
    if (st == NNINIT_OK && !(saved = malloc((size_t)(total > 0 ? total : 1) * sizeof *saved)))
        st = nninit__err(err, NNINIT_ENOMEM, "wn_init: out of memory");
    if (st != NNINIT_OK) {
        free(ls);
        return st;
    }
    int64_t at = 0;
    for (int i = 0; i < k; i++) {
        ls[i].saved = saved + at;
        memcpy(ls[i].saved, ls[i].w, (size_t)ls[i].wn * sizeof(float));
        memcpy(ls[i].saved + ls[i].wn, ls[i].b, (size_t)ls[i].units * sizeof(float));
        at += ls[i].wn + ls[i].units;
    }
    *out = ls;
    *n_out = k;
    *backup = saved;
    return NNINIT_OK;
}

static void restore(wn_layer *ls, int n)
{
    for (int i = 0; i < n; i++) {
        memcpy(ls[i].w, ls[i].saved, (size_t)ls[i].wn * sizeof(float));
        memcpy(ls[i].b, ls[i].saved + ls[i].wn, (size_t)ls[i].units * sizeof(float));
    }
}

/* Standardizes one layer from the current forward pass; checks every unit
 * before writing any. */
static nninit_status standardize(nninit_net *net, const float *x, int64_t batch, const wn_layer *L,
                                 const nninit_wn_init_opts *opts, double *mu, double *sd, double *rms,
                                 nninit_wn_init_layer *rep, nninit_err *err)
{
    const float *z;
    int64_t rows, cols;
    nninit_status st = forward_preact(net, x, batch, L->layer, &z, &rows, &cols, err);
    if (st != NNINIT_OK)
        return st;
    unit_moments(z, rows, cols, L->b, L->units, mu, sd, rms);
    nninit_layer_info info;
    if ((st = nninit_net_layer_info(net, L->layer, &info, err)) != NNINIT_OK)
        return st;
    for (int64_t j = 0; j < L->units; j++) {
        if (!isfinite(mu[j]) || !isfinite(sd[j]))
            return nninit__err(err, NNINIT_ENUMERIC,
                               "wn_init: layer %d (%s), unit %lld: pre-activation is not finite on the batch "
                               "(mean %g, std %g); fix the layers or inputs before it",
                               L->layer, info.name, (long long)j, mu[j], sd[j]);
        if (sd[j] <= opts->min_std_ratio * rms[j])
            return nninit__err(err, NNINIT_ENUMERIC,
                               "wn_init: layer %d (%s), unit %lld: no variance on the batch (std %g, root mean "
                               "square %g); a dead or constant unit cannot be standardized: start from a random "
                               "kernel, or a batch whose inputs to it vary",
                               L->layer, info.name, (long long)j, sd[j], rms[j]);
    }
    if (rep) {
        rep->applied = 1;
        rep->units = L->units;
        rep->std_before_min = INFINITY;
        rep->std_before_max = 0;
        for (int64_t j = 0; j < L->units; j++) {
            double m = fabs(mu[j] + (double)L->b[j]);
            rep->mean_before_max_abs = m > rep->mean_before_max_abs ? m : rep->mean_before_max_abs;
            rep->std_before_min = sd[j] < rep->std_before_min ? sd[j] : rep->std_before_min;
            rep->std_before_max = sd[j] > rep->std_before_max ? sd[j] : rep->std_before_max;
        }
    }
    for (int64_t j = 0; j < L->units; j++) {
        double g = opts->scale / sd[j];
        for (int64_t i = j; i < L->wn; i += L->units)
            L->w[i] = (float)((double)L->w[i] * g);
        L->b[j] = (float)(-mu[j] * g);
    }
    return NNINIT_OK;
}

/* The report's "after": one more forward pass (a layer's pre-activation does
 * not depend on the layers after it, so one pass measures them all). */
static nninit_status measure_after(nninit_net *net, const float *x, int64_t batch, const wn_layer *ls, int n,
                                   double *mu, double *sd, double *rms, nninit_wn_init_layer *report,
                                   nninit_err *err)
{
    nninit_status st = nninit_net_forward(net, x, batch, 0, NULL, err);
    for (int i = 0; i < n && st == NNINIT_OK; i++) {
        int64_t rows, cols;
        const float *z = nninit_net_tensor(net, ls[i].layer, NNINIT_T_PREACT, &rows, &cols);
        if (!z)
            return nninit__err(err, NNINIT_EMISUSE, "wn_init: layer %d has no pre-activation", ls[i].layer);
        unit_moments(z, rows, cols, NULL, ls[i].units, mu, sd, rms);
        nninit_wn_init_layer *r = &report[ls[i].layer];
        r->std_after_min = INFINITY;
        r->std_after_max = 0;
        for (int64_t j = 0; j < ls[i].units; j++) {
            r->std_after_min = sd[j] < r->std_after_min ? sd[j] : r->std_after_min;
            r->std_after_max = sd[j] > r->std_after_max ? sd[j] : r->std_after_max;
        }
    }
    return st;
}

nninit_status nninit_wn_init(nninit_net *net, const float *x, int64_t batch, const nninit_wn_init_opts *opts,
                             nninit_wn_init_layer *report, nninit_err *err)
{
    if (!net || !x || !opts)
        return nninit__err(err, NNINIT_EMISUSE, "wn_init: NULL argument");
    if (!(opts->scale > 0) || !isfinite(opts->scale) || !(opts->min_std_ratio >= 0) || !(opts->min_std_ratio < 1))
        return nninit__err(err, NNINIT_EINVAL, "wn_init: scale %g, min_std_ratio %g; need scale > 0 and finite, "
                           "0 <= min_std_ratio < 1", opts->scale, opts->min_std_ratio);
    if (batch < 2)
        return nninit__err(err, NNINIT_EINVAL, "wn_init: batch is %lld; a variance needs at least 2 rows",
                           (long long)batch);
    int n_layers = nninit_net_n_layers(net);
    for (int l = 0; report && l < n_layers; l++) {
        memset(&report[l], 0, sizeof report[l]);
        report[l].layer = l;
        report[l].std_before_min = report[l].std_before_max = (double)NAN;
        report[l].std_after_min = report[l].std_after_max = (double)NAN;
        report[l].mean_before_max_abs = (double)NAN;
    }
    wn_layer *ls = NULL;
    float *backup = NULL;
    int n = 0;
    nninit_status st = collect(net, &ls, &n, &backup, err);
    if (st != NNINIT_OK)
        return st;
    int64_t max_units = 1;
    for (int i = 0; i < n; i++)
        max_units = ls[i].units > max_units ? ls[i].units : max_units;
    double *mom = malloc((size_t)(3 * max_units) * sizeof *mom);
    if (!mom)
        st = nninit__err(err, NNINIT_ENOMEM, "wn_init: out of memory");
    for (int i = 0; i < n && st == NNINIT_OK; i++) {
        nninit_wn_init_layer *rep = report ? &report[ls[i].layer] : NULL;
        if (rep)
            rep->mean_before_max_abs = 0;
        st = standardize(net, x, batch, &ls[i], opts, mom, mom + max_units, mom + 2 * max_units, rep, err);
    }
    if (st == NNINIT_OK && report)
        st = measure_after(net, x, batch, ls, n, mom, mom + max_units, mom + 2 * max_units, report, err);
    if (st != NNINIT_OK)
        restore(ls, n); /* a failure leaves every kernel and bias as it was */
    free(mom);
    free(backup);
    free(ls);
    return st;
}
