/*
 * LSUV, layer-sequential unit-variance initialization (Mishkin & Matas,
 * "All you need is a good init", ICLR 2016): starting from the kernels the
 * net was built with (the paper pre-initializes them orthogonal), each dense
 * layer in turn is rescaled until the variance of its output x W + b on a
 * data batch is within tol of the target. Built on the public engine API.
 * Converged means the paper's loop ended by |Var - target| < tol, not by
 * T_max: a layer still outside after max_iters rescalings (a bias the
 * kernel does not scale can hold the variance away) is an error, as a zero
 * or non-finite variance is, and any error leaves every kernel as it was
 * (they are saved first and put back), as nninit_wn_init does.
 */
#include "nn/internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

nninit_lsuv_opts nninit_lsuv_opts_default(void)
{
    nninit_lsuv_opts o;
    o.target_var = 1.0;
    o.tol = 0.01;
    o.max_iters = 10;
    return o;
}

static double tensor_var(const float *t, int64_t n)
{
    double s = 0, ss = 0;
    for (int64_t i = 0; i < n; i++)
        s += (double)t[i];
    double mean = s / (double)n;
    for (int64_t i = 0; i < n; i++)
        ss += ((double)t[i] - mean) * ((double)t[i] - mean);
    return ss / (double)n;
}

/* The kernels LSUV rescales (dense and conv2d, in order), saved in one
 * buffer so that a failure can put them back. */
typedef struct lsuv_saved {
    float **w;
    int64_t *wn;
    int n;
    float *values;
} lsuv_saved;

static void saved_free(lsuv_saved *sv)
{
    free(sv->w);
    free(sv->wn);
    free(sv->values);
}

static nninit_status save_kernels(nninit_net *net, lsuv_saved *sv, nninit_err *err)
{
    int n_layers = nninit_net_n_layers(net);
    memset(sv, 0, sizeof *sv);
    sv->w = calloc((size_t)(n_layers > 0 ? n_layers : 1), sizeof *sv->w);
    sv->wn = calloc((size_t)(n_layers > 0 ? n_layers : 1), sizeof *sv->wn);
    if (!sv->w || !sv->wn)
        return nninit__err(err, NNINIT_ENOMEM, "lsuv: out of memory");
    int64_t total = 0;
    for (int l = 0; l < n_layers; l++) {
        nninit_layer_info info;
        nninit_shape ws;
        nninit_status st = nninit_net_layer_info(net, l, &info, err);
        if (st != NNINIT_OK)
            return st;
        if (info.kind != NNINIT_LAYER_DENSE && info.kind != NNINIT_LAYER_CONV2D)
            continue;
        if ((st = nninit_net_param(net, l, 0, &sv->w[sv->n], NULL, &ws, NULL, err)) != NNINIT_OK)
            return st;
        nninit_shape_numel(&ws, &sv->wn[sv->n], NULL);
        total += sv->wn[sv->n++];
    }
    if (!(sv->values = malloc((size_t)(total > 0 ? total : 1) * sizeof *sv->values)))
        return nninit__err(err, NNINIT_ENOMEM, "lsuv: out of memory for a copy of the kernels");
    int64_t off = 0;
    for (int k = 0; k < sv->n; k++) {
        memcpy(sv->values + off, sv->w[k], (size_t)sv->wn[k] * sizeof *sv->values);
        off += sv->wn[k];
    }
    return NNINIT_OK;
}

static void restore_kernels(const lsuv_saved *sv)
{
    int64_t off = 0;
    for (int k = 0; k < sv->n; k++) {
        memcpy(sv->w[k], sv->values + off, (size_t)sv->wn[k] * sizeof *sv->values);
        off += sv->wn[k];
    }
}

/* The rescaling itself, layer after layer; on failure some kernels have
 * changed (nninit_lsuv puts them back). */
static nninit_status rescale_layers(nninit_net *net, const float *x, int64_t batch, const nninit_lsuv_opts *opts,
                                    nninit_lsuv_layer *report, nninit_err *err)
{
    int n_layers = nninit_net_n_layers(net);
    for (int l = 0; l < n_layers; l++) {
        nninit_layer_info info;
        nninit_status st = nninit_net_layer_info(net, l, &info, err);
        if (st != NNINIT_OK)
            return st;
        if (report) {
            memset(&report[l], 0, sizeof report[l]);
            report[l].layer = l;
            report[l].var_before = report[l].var_after = (double)NAN;
        }
        if (info.kind != NNINIT_LAYER_DENSE && info.kind != NNINIT_LAYER_CONV2D)
            continue;
        float *w = NULL;
        nninit_shape wshape;
        if ((st = nninit_net_param(net, l, 0, &w, NULL, &wshape, NULL, err)) != NNINIT_OK)
            return st;
        int64_t wn;
        nninit_shape_numel(&wshape, &wn, NULL);
        double var = (double)NAN, scale_total = 1.0;
        int it = 0;
        for (;; it++) {
            if ((st = nninit_net_forward(net, x, batch, 0, NULL, err)) != NNINIT_OK)
                return st;
            int64_t rows = 0, cols = 0;
            const float *pre = nninit_net_tensor(net, l, NNINIT_T_PREACT, &rows, &cols);
            if (!pre)
                return nninit__err(err, NNINIT_EMISUSE, "lsuv: layer %d has no pre-activation", l);
            var = tensor_var(pre, rows * cols);
            if (report && it == 0)
                report[l].var_before = var;
            if (!isfinite(var))
                return nninit__err(err, NNINIT_ENUMERIC,
                                   "lsuv: layer %d (%s): output variance is %g after %d rescalings; expected a "
                                   "finite one (inputs or kernels hold inf or NaN, or they overflow float32); the "
                                   "weights are unchanged",
                                   l, info.name, var, it);
            if (var == 0)
                return nninit__err(err, NNINIT_ENUMERIC,
                                   "lsuv: layer %d (%s): output variance is 0, nothing to rescale (a zero or "
                                   "constant kernel, or dead inputs); start from a random init such as orthogonal; "
                                   "the weights are unchanged",
                                   l, info.name);
            if (fabs(var - opts->target_var) < opts->tol || it == opts->max_iters)
                break;
            double scale = sqrt(opts->target_var / var);
            for (int64_t i = 0; i < wn; i++)
                w[i] = (float)((double)w[i] * scale);
            scale_total *= scale;
        }
        if (report) {
            report[l].is_dense = 1;
            report[l].var_after = var;
            report[l].iters = it;
            report[l].scale = scale_total;
        }
        if (!(fabs(var - opts->target_var) < opts->tol))
            return nninit__err(err, NNINIT_ENUMERIC,
                               "lsuv: layer %d (%s): output variance %g after %d rescalings, not within %g of %g "
                               "(no convergence: what the kernel does not scale, such as a spread of bias values "
                               "above the target, holds it away); start from zero biases, or raise max_iters or tol; "
                               "the weights are unchanged",
                               l, info.name, var, it, opts->tol, opts->target_var);
    }
    return NNINIT_OK;
}

nninit_status nninit_lsuv(nninit_net *net, const float *x, int64_t batch, const nninit_lsuv_opts *opts,
                          nninit_lsuv_layer *report, nninit_err *err)
{
    if (!net || !x || !opts)
        return nninit__err(err, NNINIT_EMISUSE, "lsuv: NULL argument");
    if (!(opts->target_var > 0) || !isfinite(opts->target_var) || !(opts->tol > 0) || opts->max_iters < 1)
        return nninit__err(err, NNINIT_EINVAL,
                           "lsuv: target_var %g, tol %g, max_iters %d; need target_var > 0, tol > 0, max_iters >= 1",
                           opts->target_var, opts->tol, opts->max_iters);
    if (batch < 2)
        return nninit__err(err, NNINIT_EINVAL, "lsuv: batch is %lld; a variance needs at least 2 rows",
                           (long long)batch);
    lsuv_saved sv;
    nninit_status st = save_kernels(net, &sv, err);
    if (st == NNINIT_OK && (st = rescale_layers(net, x, batch, opts, report, err)) != NNINIT_OK)
        restore_kernels(&sv); /* work on the net, commit on success: a failure changes nothing */
    saved_free(&sv);
    return st;
}
