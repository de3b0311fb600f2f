/* Normalization over the last axis: layer norm (Ba et al. 2016), RMS norm
 * (Zhang & Sennrich 2019) and Keras 3's LayerNormalization(rms_scaling=True).
 * Row statistics are accumulated in double (n may be thousands) and stored
 * in float. */
#include "nn/internal.h"

void nninit__norm_forward(nninit__norm_kind kind, const float *x, int64_t rows, int64_t n, const float *gamma,
                          const float *beta, double epsilon, float *xhat, float *mean, float *invstd, float *y)
{
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = x + r * n;
        float *hr = xhat + r * n, *yr = y + r * n;
        double s = 0, ss = 0;
        for (int64_t j = 0; j < n; j++)
            s += (double)xr[j];
        double mu = s / (double)n;
        for (int64_t j = 0; j < n; j++) {
            double d = kind == NNINIT__NORM_RMS ? (double)xr[j] : (double)xr[j] - mu;
            ss += d * d;
        }
        float is = (float)(1.0 / sqrt(ss / (double)n + epsilon));
        float shift = kind == NNINIT__NORM_LAYER ? (float)mu : 0.0f; /* only layer norm centres x */
        mean[r] = (float)mu;
        invstd[r] = is;
        for (int64_t j = 0; j < n; j++) {
            float h = (xr[j] - shift) * is;
            hr[j] = h;
            float v = gamma ? h * gamma[j] : h;
            yr[j] = beta && kind == NNINIT__NORM_LAYER ? v + beta[j] : v;
        }
    }
}

void nninit__norm_backward(nninit__norm_kind kind, const float *xhat, const float *mean, const float *invstd,
                           const float *gamma, const float *dy, int64_t rows, int64_t n, float *dgamma, float *dbeta,
                           float *dx)
{
    /* dgamma = sum over rows of dy * xhat, dbeta = sum of dy (row order). */
    if (dgamma)
        for (int64_t j = 0; j < n; j++)
            dgamma[j] = 0.0f;
    if (dbeta && kind == NNINIT__NORM_LAYER)
        nninit__col_sums(dy, rows, n, n, dbeta);
    else if (dbeta)
        for (int64_t j = 0; j < n; j++)
            dbeta[j] = 0.0f;
    for (int64_t r = 0; r < rows; r++) {
        const float *hr = xhat + r * n, *gr = dy + r * n;
        float *dr = dx + r * n;
        float is = invstd[r];
        /* g = dy * gamma: the gradient of xhat */
        double sg = 0, sgh = 0;
        for (int64_t j = 0; j < n; j++) {
            float g = gamma ? gr[j] * gamma[j] : gr[j];
            sg += (double)g;
            sgh += (double)g * (double)hr[j];
            if (dgamma)
                dgamma[j] += gr[j] * hr[j];
        }
        float mg = (float)(sg / (double)n), mgh = (float)(sgh / (double)n);
        switch (kind) {
        case NNINIT__NORM_LAYER: /* dx = s (g - mean(g) - xhat mean(g xhat)) */
            for (int64_t j = 0; j < n; j++) {
                float g = gamma ? gr[j] * gamma[j] : gr[j];
                dr[j] = is * (g - mg - hr[j] * mgh);
            }
            break;
        case NNINIT__NORM_RMS: /* xhat = x s, s = (mean x^2 + eps)^-1/2: dx = s (g - xhat mean(g xhat)) */
            for (int64_t j = 0; j < n; j++) {
                float g = gamma ? gr[j] * gamma[j] : gr[j];
                dr[j] = is * (g - hr[j] * mgh);
            }
            break;
        case NNINIT__NORM_RMS_KERAS: {
            /* xhat = x s, s = (var x + eps)^-1/2: ds/dx_j = -s^3 (x_j - mu) / n, so
             * dx = s (g - (x - mu) s mean(g xhat)), with (x - mu) s = xhat - mu s */
            float ms = mean[r] * is;
            for (int64_t j = 0; j < n; j++) {
                float g = gamma ? gr[j] * gamma[j] : gr[j];
                dr[j] = is * (g - (hr[j] - ms) * mgh);
            }
            break;
        }
        }
    }
}
