/* Batch normalization over the batch axis of (batch, n) inputs, with Keras'
 * conventions (keras/src/layers/normalization/batch_normalization.py):
 * biased batch variance, running statistics updated as
 * run = run * momentum + batch_stat * (1 - momentum), epsilon inside the sqrt. */
#include "nn/internal.h"

#include <math.h>

void nninit__bn_forward(const float *x, int64_t batch, int64_t n, const float *gamma, const float *beta,
                        double momentum, double epsilon, int training, float *run_mean, float *run_var,
                        float *xhat, float *invstd, float *y)
{
    for (int64_t j = 0; j < n; j++) {
        double mean, var;
        if (training) {
            /* two passes in double: mean, then the centred sum of squares */
            double s = 0.0;
            for (int64_t r = 0; r < batch; r++)
                s += (double)x[r * n + j];
            mean = s / (double)batch;
            double ss = 0.0;
            for (int64_t r = 0; r < batch; r++) {
                double d = (double)x[r * n + j] - mean;
                ss += d * d;
            }
            var = ss / (double)batch;
            run_mean[j] = (float)((double)run_mean[j] * momentum + mean * (1.0 - momentum));
            run_var[j] = (float)((double)run_var[j] * momentum + var * (1.0 - momentum));
        } else {
            mean = (double)run_mean[j];
            var = (double)run_var[j];
        }
        float is = (float)(1.0 / sqrt(var + epsilon));
        float m = (float)mean, g = gamma[j], b = beta[j];
        if (invstd)
            invstd[j] = is;
        for (int64_t r = 0; r < batch; r++) {
            float h = (x[r * n + j] - m) * is;
            if (xhat)
                xhat[r * n + j] = h;
            y[r * n + j] = g * h + b;
        }
    }
}

void nninit__bn_backward(const float *xhat, const float *invstd, const float *gamma, const float *dy,
                         int64_t batch, int64_t n, float *dgamma, float *dbeta, float *dx)
{
    /* dx = gamma invstd / B * (B dy - sum(dy) - xhat sum(dy xhat)), per feature */
    for (int64_t j = 0; j < n; j++) {
        double sdy = 0.0, sdyh = 0.0;
        for (int64_t r = 0; r < batch; r++) {
            sdy += (double)dy[r * n + j];
            sdyh += (double)dy[r * n + j] * (double)xhat[r * n + j];
        }
        dgamma[j] = (float)sdyh;
        dbeta[j] = (float)sdy;
        if (!dx)
            continue;
        double k = (double)gamma[j] * (double)invstd[j] / (double)batch;
        double mean_dy = sdy, mean_dyh = sdyh;
        for (int64_t r = 0; r < batch; r++)
            dx[r * n + j] = (float)(k * ((double)batch * (double)dy[r * n + j] - mean_dy -
                                         (double)xhat[r * n + j] * mean_dyh));
    }
}
