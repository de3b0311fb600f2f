/*
 * LSUV, layer-sequential unit-variance initialization (Mishkin & Matas,
 * "All you need is a good init", ICLR 2016): starting from the kernels the
 * net was built with (the paper pre-initializes them orthogonal), each dense
 * layer in turn is rescaled until the variance of its output x W + b on a
 * data batch is within tol of the target. Built on the public engine API.
 */
#include "nn/internal.h"

#include <math.h>
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
                return nninit__err(err, NNINIT_ENUMERIC, "lsuv: layer %d (%s): output variance is %g", l, info.name,
                                   var);
            if (var == 0)
                return nninit__err(err, NNINIT_ENUMERIC,
                                   "lsuv: layer %d (%s): output variance is 0, nothing to rescale (a zero or "
                                   "constant kernel, or dead inputs); start from a random init such as orthogonal",
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
    }
    return NNINIT_OK;
}
