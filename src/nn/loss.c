/* Losses on a network's output: softmax cross-entropy from logits and mean
 * squared error, each with its gradient w.r.t. the output. */
#include "nn/internal.h"

#include <math.h>
#include <string.h>

const char *nninit_loss_name(nninit_loss_kind kind)
{
    return kind == NNINIT_LOSS_SOFTMAX_CE ? "softmax_cross_entropy" : kind == NNINIT_LOSS_MSE ? "mse" : "unknown";
}

nninit_status nninit_loss_parse(const char *name, nninit_loss_kind *out, nninit_err *err)
{
    if (!name || !out)
        return nninit__err(err, NNINIT_EMISUSE, "nninit_loss_parse: NULL argument");
    if (!strcmp(name, "softmax_cross_entropy") || !strcmp(name, "cross_entropy") || !strcmp(name, "ce") ||
        !strcmp(name, "sparse_categorical_crossentropy"))
        *out = NNINIT_LOSS_SOFTMAX_CE;
    else if (!strcmp(name, "mse") || !strcmp(name, "mean_squared_error"))
        *out = NNINIT_LOSS_MSE;
    else
        return nninit__err(err, NNINIT_ENOTFOUND, "unknown loss '%s'; expected softmax_cross_entropy or mse", name);
    return NNINIT_OK;
}

nninit_status nninit_loss(nninit_loss_kind kind, const float *out, int64_t batch, int64_t n, const int32_t *labels,
                          const float *targets, double *loss, float *dout, nninit_err *err)
{
    if (!out || batch < 1 || n < 1 || !loss || (kind == NNINIT_LOSS_SOFTMAX_CE && !labels) ||
        (kind == NNINIT_LOSS_MSE && !labels && !targets))
        return nninit__err(err, NNINIT_EINVAL, "nninit_loss: missing output, labels or targets, or batch/n < 1");
    if (labels)
        for (int64_t r = 0; r < batch; r++)
            if (labels[r] < 0 || labels[r] >= n)
                return nninit__err(err, NNINIT_EINVAL, "loss: label %d of row %lld is outside [0, %lld)",
                                   (int)labels[r], (long long)r, (long long)n);
    double total = 0.0;
    if (kind == NNINIT_LOSS_SOFTMAX_CE) {
        /* -log softmax(z)[y] = logsumexp(z) - z[y]; d/dz = (softmax(z) - onehot(y)) / batch */
        float inv_b = (float)(1.0 / (double)batch);
        for (int64_t r = 0; r < batch; r++) {
            const float *z = out + r * n;
            float mx = z[0];
            for (int64_t j = 1; j < n; j++)
                mx = z[j] > mx ? z[j] : mx;
            double s = 0.0;
            for (int64_t j = 0; j < n; j++)
                s += exp((double)(z[j] - mx));
            double lse = (double)mx + log(s);
            total += lse - (double)z[labels[r]];
            if (dout) {
                for (int64_t j = 0; j < n; j++)
                    dout[r * n + j] = (float)(exp((double)z[j] - lse)) * inv_b;
                dout[r * n + labels[r]] -= inv_b;
            }
        }
        *loss = total / (double)batch;
    } else if (kind == NNINIT_LOSS_MSE) {
        /* mean over all batch * n elements; d/dout = 2 (out - t) / (batch n) */
        double scale = 2.0 / ((double)batch * (double)n);
        for (int64_t r = 0; r < batch; r++)
            for (int64_t j = 0; j < n; j++) {
                float t = targets ? targets[r * n + j] : (labels[r] == j ? 1.0f : 0.0f);
                double d = (double)out[r * n + j] - (double)t;
                total += d * d;
                if (dout)
                    dout[r * n + j] = (float)(d * scale);
            }
        *loss = total / ((double)batch * (double)n);
    } else {
        return nninit__err(err, NNINIT_EINVAL, "nninit_loss: unknown loss kind %d", (int)kind);
    }
    return NNINIT_OK;
}
