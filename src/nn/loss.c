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
        /* -log softmax(z)[y] = logsumexp(z) - z[y]; d/dz = (softmax(z) - onehot(y)) / batch.
         * e_j = exp(z_j - max) in float on the vector exp (seq_vmath.c, within 2 ulp; libm's
         * double exp per element was ~3% of a transformer step), summed in double in index
         * order; softmax_j = e_j / sum. The e_j go into dout's row (or a chunk buffer without
         * dout), so the loss is the same with and without dout. */
        enum { CHUNK = 256 };
        float inv_b = (float)(1.0 / (double)batch), buf[CHUNK];
        for (int64_t r = 0; r < batch; r++) {
            const float *z = out + r * n;
            float *dr = dout ? dout + r * n : NULL;
            float mx = z[0];
            for (int64_t j = 1; j < n; j++)
                mx = z[j] > mx ? z[j] : mx;
            double s = 0.0;
            for (int64_t j0 = 0; j0 < n; j0 += CHUNK) {
                int64_t m = n - j0 < CHUNK ? n - j0 : CHUNK;
                float *e = dr ? dr + j0 : buf;
                for (int64_t j = 0; j < m; j++)
                    e[j] = z[j0 + j] - mx;
                nninit__vexpf(e, e, m);
                for (int64_t j = 0; j < m; j++)
                    s += (double)e[j];
            }
            total += (double)mx + log(s) - (double)z[labels[r]];
            if (dr) {
                double inv_s = 1.0 / s;
                for (int64_t j = 0; j < n; j++)
                    dr[j] = (float)((double)dr[j] * inv_s) * inv_b;
                dr[labels[r]] -= inv_b;
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
