/* Per-layer training dynamics for `nninit train --monitor`: the statistics
 * the tutorial suggests watching to judge an initialization (activation
 * mean and variance, dead and saturated units, gradient and weight norms,
 * update-to-weight ratio). Sums in double, in a fixed order. */
#include "nn/internal.h"

#include <math.h>
#include <string.h>

void nninit__params_snapshot(const nninit_net *net, float *before)
{
    for (int i = 0; i < net->n_layers; i++)
        for (int p = 0; p < net->layers[i].n_params; p++) {
            const nninit__param *q = &net->layers[i].param[p];
            memcpy(before, q->value, (size_t)q->n * sizeof *before);
            before += q->n;
        }
}

static int relu_family(nninit_act a)
{
    return a == NNINIT_ACT_RELU;
}

void nninit__monitor_collect(const nninit_net *net, const float *before, nninit_layer_stats *stats)
{
    for (int i = 0; i < net->n_layers; i++) {
        const nninit__layer *L = &net->layers[i];
        nninit_layer_stats *st = &stats[i];
        memset(st, 0, sizeof *st);
        st->layer = i;
        st->name = L->name;
        int64_t rows, cols;
        const float *y = nninit_net_tensor(net, i, NNINIT_T_OUTPUT, &rows, &cols);
        int64_t count = rows * cols;
        double s = 0.0, ss = 0.0;
        for (int64_t k = 0; k < count; k++)
            s += (double)y[k];
        double mean = count ? s / (double)count : (double)NAN;
        for (int64_t k = 0; k < count; k++)
            ss += ((double)y[k] - mean) * ((double)y[k] - mean);
        st->act_mean = mean;
        st->act_var = count ? ss / (double)count : (double)NAN;
        int has_act = L->kind == NNINIT_LAYER_DENSE || L->kind == NNINIT_LAYER_CONV2D ||
                      L->kind == NNINIT_LAYER_ACTIVATION;
        st->frac_dead = st->frac_saturated = (double)NAN;
        if (has_act && relu_family(L->act) && count) {
            int64_t f = L->out_shape.dim[L->out_shape.ndim - 1], r = count / f, dead = 0;
            for (int64_t j = 0; j < f; j++) {
                int64_t q = 0;
                while (q < r && y[q * f + j] <= 0.0f)
                    q++;
                dead += q == r;
            }
            st->frac_dead = (double)dead / (double)f;
        }
        if (has_act && (L->act == NNINIT_ACT_TANH || L->act == NNINIT_ACT_SIGMOID) && count) {
            int64_t sat = 0;
            for (int64_t k = 0; k < count; k++)
                sat += L->act == NNINIT_ACT_TANH ? fabsf(y[k]) > 0.99f : (y[k] < 0.01f || y[k] > 0.99f);
            st->frac_saturated = (double)sat / (double)count;
        }
        double g2 = 0.0, w2 = 0.0, b2 = 0.0, d2 = 0.0;
        for (int p = 0; p < L->n_params; p++) {
            const nninit__param *q = &L->param[p];
            for (int64_t k = 0; k < q->n; k++) {
                double g = (double)q->grad[k], w = (double)q->value[k], b = before ? (double)before[k] : w;
                g2 += g * g;
                w2 += w * w;
                b2 += b * b;
                d2 += (w - b) * (w - b);
            }
            if (before)
                before += q->n;
        }
        st->grad_norm = L->n_params ? sqrt(g2) : (double)NAN;
        st->weight_norm = L->n_params ? sqrt(w2) : (double)NAN;
        st->update_ratio = L->n_params && b2 > 0.0 ? sqrt(d2) / sqrt(b2) : (double)NAN;
    }
}
