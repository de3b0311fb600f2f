/* The probe's analysis: the mean-field prediction next to each measured
 * layer (theory.c) and the input-output Jacobian's singular values (the
 * engine's backward, one output per copy of the row; LAPACK dgesdd). */
#include "analysis/probe_internal.h"

#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- mean-field predictions ---- */

/* The mean-field recursion layer by layer. A plain layer: q_l = sw2 E[a^2]
 * + sb2, then a = phi(h). A residual layer a_l = a_{l-1} + phi(h_l): at
 * infinite width a_{l-1,i} and h_{l,i} are independent (h mixes every unit
 * through independent weights), so E[a_l^2] = E[a_{l-1}^2] + E[phi^2] +
 * 2 E[a_{l-1}] E[phi], E[a_l] = E[a_{l-1}] + E[phi], and the gradient
 * variance going back is multiplied by 1 + chi_l instead of chi_l. */
void nninit__probe_predict(const nninit__probe *p, nninit_probe_result *r)
{
    int ok = 1;
    double a2 = r->input_m2, mu = 0, pred_js = 1, spread = 0;
    for (int64_t i = 0; i < p->batch * p->n0; i++)
        mu += (double)p->x[i];
    mu /= (double)(p->batch * p->n0);
    double *chi = calloc((size_t)p->depth, sizeof *chi);
    ok = ok && chi;
    for (int l = 0; l < p->depth; l++) {
        const nninit__probe_layer *y = &p->L[l];
        nninit_probe_layer *o = &r->layers[l];
        int64_t n_in = n_in_of(p, l), W = y->n_out;
        o->pred_pre_var = o->pred_act_var = o->pred_grad_in_var = (double)NAN;
        nninit_theory_act tact;
        nninit_init kinit, binit;
        double sw2 = 0, wmean = 0, sb2 = 0, bmean = 0;
        if (nninit_init_parse(y->kernel_init, &kinit, NULL) == NNINIT_OK &&
            nninit_theory_from_init(&kinit, n_in, W, &sw2, &wmean, NULL) == NNINIT_OK)
            o->sw2 = sw2;
        else
            o->sw2 = (double)NAN;
        if (!y->use_bias)
            o->sb2 = 0;
        else if (nninit_init_parse(y->bias_init, &binit, NULL) == NNINIT_OK &&
                 nninit_theory_from_init(&binit, 0, W, &sb2, &bmean, NULL) == NNINIT_OK)
            o->sb2 = sb2;
        else
            o->sb2 = (double)NAN;
        /* the theory covers zero-mean weights and no batch norm */
        if (!ok || y->bn || !isfinite(o->sw2) || !isfinite(o->sb2) || wmean != 0 ||
            nninit_theory_act_from_act(y->act, &tact, NULL) != NNINIT_OK) {
            ok = 0;
            continue;
        }
        double q = sw2 * a2 + o->sb2;
        nninit_theory_moments m;
        if (nninit_theory_moments_at(tact, y->alpha, q, &m, NULL) != NNINIT_OK) {
            ok = 0;
            continue;
        }
        o->pred_pre_var = q;
        /* backward factor: fan_out Var(W) E[act'^2] = sw2 (n_out / n_in) d2 */
        chi[l] = sw2 * ((double)W / (double)n_in) * m.d2;
        if (has_skip(p, l)) {
            a2 = a2 + m.m2 + 2 * mu * m.mean;
            mu = mu + m.mean;
            chi[l] += 1;
            spread = (double)NAN; /* I + W D is not a product of free factors */
        } else {
            a2 = m.m2;
            mu = m.mean;
        }
        o->pred_act_var = fmax(0.0, a2 - mu * mu);
        pred_js *= chi[l];
        /* normalised variances of the free factors D_l^2 and W_l^T W_l */
        nninit_prim prim;
        nninit_shape ws = {2, {n_in, W}};
        double wv = (double)NAN;
        if (n_in == W && nninit_resolve(&kinit, &ws, NNINIT_LAYOUT_KERAS, &prim, NULL) == NNINIT_OK) {
            if (prim.kind == NNINIT_PRIM_ORTHOGONAL)
                wv = 0;
            else if (prim.kind == NNINIT_PRIM_NORMAL || prim.kind == NNINIT_PRIM_TRUNC_NORMAL ||
                     prim.kind == NNINIT_PRIM_UNIFORM)
                wv = 1; /* square Wishart (Marchenko-Pastur, ratio 1) */
        }
        spread += m.d4 / (m.d2 * m.d2) - 1 + wv;
    }
    r->sw2 = r->layers[p->depth - 1].sw2;
    r->sb2 = r->layers[p->depth - 1].sb2;
    if (ok) {
        double g = r->layers[p->depth - 1].grad_out_var;
        for (int l = p->depth - 1; l >= 0; l--) {
            g *= chi[l];
            r->layers[l].pred_grad_in_var = g;
        }
        int64_t wl = n_out_of(p, p->depth - 1), k = p->n0 < wl ? p->n0 : wl;
        r->pred_sv_mean_sq = pred_js * (double)p->n0 / (double)k;
        r->pred_sv_var_sq = r->pred_sv_mean_sq * r->pred_sv_mean_sq * spread;
    } else {
        r->pred_sv_mean_sq = r->pred_sv_var_sq = (double)NAN;
    }
    free(chi);
}

/* ---- Jacobian ---- */

/* Rows of one engine pass of the Jacobian: bounds its buffers to this many
 * copies of the input row (the net's activations for them). */
#define JACOBIAN_CHUNK 256

/* The net of the blocks alone (d a_L / d x stops before the head): a new net
 * of the same layers and seed, its weights copied from p->net. */
static nninit_status body_net(const nninit__probe *p, nninit_net **out, nninit_err *err)
{
    nninit_net_opts no = nninit_net_opts_default();
    no.seed = p->o->seed;
    nninit_status s = nninit_net_new(p->n0, p->desc, p->n_body, &no, out, err);
    for (int i = 0; i < p->n_body && s == NNINIT_OK; i++)
        for (int k = 0; k < p->net->layers[i].n_params; k++) {
            const nninit__param *src = &p->net->layers[i].param[k];
            memcpy((*out)->layers[i].param[k].value, src->value, (size_t)src->n * sizeof(float));
        }
    return s;
}

/* Row smp's Jacobian J = d a_L / d x by the engine's backward: in a batch of
 * copies of the row, the copy whose output gradient is the unit vector e_j
 * gets row j of J as its input gradient (rows are independent without batch
 * norm, which check_opts refuses here). j (W, n0) row-major is the
 * column-major (n0, W) matrix J^T: the same singular values. */
nninit_status nninit__probe_jacobian(const nninit__probe *p, nninit_probe_result *r, nninit_err *err)
{
    int ns = p->o->jacobian_samples;
    int64_t n0 = p->n0, W = n_out_of(p, p->depth - 1), k = n0 < W ? n0 : W, B = p->batch;
    int64_t chunk = W < JACOBIAN_CHUNK ? W : JACOBIAN_CHUNK;
    if (ns > B)
        ns = (int)B;
    nninit_net *net = p->net, *body = NULL;
    nninit_status s = NNINIT_OK;
    if (p->n_body < p->n_desc) {
        if ((s = body_net(p, &body, err)) != NNINIT_OK)
            return s;
        net = body;
    }
    float *xr = nninit__malloc_array((size_t)(chunk * n0), sizeof(float));
    float *dout = nninit__malloc_array((size_t)(chunk * W), sizeof(float));
    double *a = nninit__malloc_array((size_t)(n0 * W), sizeof(double));
    r->sv = nninit__malloc_array((size_t)ns * (size_t)k, sizeof(double));
    if (!xr || !dout || !a || !r->sv) {
        s = nninit__err(err, NNINIT_ENOMEM, "probe: out of memory for the %lld x %lld Jacobian", (long long)n0,
                        (long long)W);
        goto done;
    }
    double sum_sq = 0, mx = 0, mn = HUGE_VAL;
    for (int smp = 0; smp < ns; smp++) {
        for (int64_t c0 = 0; c0 < W; c0 += chunk) {
            int64_t m = W - c0 < chunk ? W - c0 : chunk;
            for (int64_t i = 0; i < m; i++)
                memcpy(xr + i * n0, p->x + smp * n0, (size_t)n0 * sizeof(float));
            memset(dout, 0, (size_t)(m * W) * sizeof(float));
            for (int64_t i = 0; i < m; i++)
                dout[i * W + c0 + i] = 1.0f;
            if ((s = nninit_net_forward(net, xr, m, 1, NULL, err)) != NNINIT_OK ||
                (s = nninit_net_backward(net, dout, 1, err)) != NNINIT_OK)
                goto done;
            const float *gx = nninit_net_input_grad(net, NULL, NULL);
            for (int64_t i = 0; i < m * n0; i++)
                a[c0 * n0 + i] = (double)gx[i];
        }
        double *sv = r->sv + (size_t)smp * (size_t)k;
        lapack_int info = LAPACKE_dgesdd(LAPACK_COL_MAJOR, 'N', (lapack_int)n0, (lapack_int)W, a, (lapack_int)n0, sv,
                                         NULL, 1, NULL, 1);
        if (info != 0) {
            s = nninit__err(err, NNINIT_ENUMERIC, "probe: LAPACK dgesdd failed (info %d) on the Jacobian of row %d",
                            (int)info, smp);
            goto done;
        }
        for (int64_t i = 0; i < k; i++) {
            sum_sq += sv[i] * sv[i];
            mx = fmax(mx, sv[i]);
            mn = fmin(mn, sv[i]);
        }
    }
    r->n_sv = (int64_t)ns * k;
    r->sv_mean_sq = sum_sq / (double)r->n_sv;
    double v4 = 0;
    for (int64_t i = 0; i < r->n_sv; i++) {
        double d = r->sv[i] * r->sv[i] - r->sv_mean_sq;
        v4 += d * d;
    }
    r->sv_var_sq = v4 / (double)r->n_sv;
    r->sv_max = mx;
    r->sv_min = mn;
done:
    nninit_net_free(body);
    free(xr), free(dout), free(a);
    return s;
}
