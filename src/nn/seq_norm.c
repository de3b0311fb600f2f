/* Normalization over the last axis: layer norm (Ba et al. 2016), RMS norm
 * (Zhang & Sennrich 2019) and Keras 3's LayerNormalization(rms_scaling=True).
 * Row statistics are accumulated in double (n may be thousands) and stored
 * in float.
 *
 * Speed without changing a bit: each row's sums run in index order, one
 * serial chain of double adds, so four rows are summed side by side (four
 * independent chains instead of one at the add latency); the elementwise
 * passes run four lanes at a time (nninit__v4f) with the scalar operations.
 * A row count that is not a multiple of four sums its last rows alone. */
#include "nn/internal.h"

#define NR 4 /* rows summed side by side */

/* Row sums of NR rows (xr[k]; a repeated row where fewer are left): s = sum
 * x, then ss = sum (x - c)^2 with c = the mean (layer norm and Keras' RMS
 * scaling) or 0 (RMS norm), each in index order as one row alone would. */
static void row_stats(const float *const xr[NR], int64_t n, int centre, double s[NR], double ss[NR])
{
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (int64_t j = 0; j < n; j++) {
        s0 += (double)xr[0][j];
        s1 += (double)xr[1][j];
        s2 += (double)xr[2][j];
        s3 += (double)xr[3][j];
    }
    s[0] = s0, s[1] = s1, s[2] = s2, s[3] = s3;
    double m0 = centre ? s0 / (double)n : 0, m1 = centre ? s1 / (double)n : 0;
    double m2 = centre ? s2 / (double)n : 0, m3 = centre ? s3 / (double)n : 0;
    double q0 = 0, q1 = 0, q2 = 0, q3 = 0;
    for (int64_t j = 0; j < n; j++) {
        double d0 = (double)xr[0][j] - m0, d1 = (double)xr[1][j] - m1;
        double d2 = (double)xr[2][j] - m2, d3 = (double)xr[3][j] - m3;
        q0 += d0 * d0;
        q1 += d1 * d1;
        q2 += d2 * d2;
        q3 += d3 * d3;
    }
    ss[0] = q0, ss[1] = q1, ss[2] = q2, ss[3] = q3;
}

/* The NR rows from r0 (the last row repeated past rows); returns how many are real. */
static int rows_from(const float *base, int64_t r0, int64_t rows, int64_t n, const float *xr[NR])
{
    int nr = rows - r0 < NR ? (int)(rows - r0) : NR;
    for (int k = 0; k < NR; k++)
        xr[k] = base + (r0 + (k < nr ? k : nr - 1)) * n;
    return nr;
}

/* y (and xhat) of one row from its statistics, four lanes at a time. */
static void normalize_row(const float *xr, int64_t n, float shift, float is, const float *gamma, const float *b,
                          float *hr, float *yr)
{
    int64_t j = 0;
#if NNINIT__V4
    for (; j + 4 <= n; j += 4) {
        nninit__v4f h = (nninit__v4_load(xr + j) - shift) * is, v = h;
        nninit__v4_store(hr + j, h);
        if (gamma)
            v = h * nninit__v4_load(gamma + j);
        if (b)
            v = v + nninit__v4_load(b + j);
        nninit__v4_store(yr + j, v);
    }
#endif
    for (; j < n; j++) {
        float h = (xr[j] - shift) * is;
        hr[j] = h;
        float v = gamma ? h * gamma[j] : h;
        yr[j] = b ? v + b[j] : v;
    }
}

void nninit__norm_forward(nninit__norm_kind kind, const float *x, int64_t rows, int64_t n, const float *gamma,
                          const float *beta, double epsilon, float *xhat, float *mean, float *invstd, float *y)
{
    /* RMS norm sums x^2 (x - 0); the other two the centred squares */
    int centre = kind != NNINIT__NORM_RMS;
    const float *b = kind == NNINIT__NORM_LAYER ? beta : NULL; /* only layer norm shifts */
    /* One pass over x: NR rows' statistics, then those rows normalized
     * while they are still in L1. */
    for (int64_t r0 = 0; r0 < rows; r0 += NR) {
        const float *xr[NR];
        int nr = rows_from(x, r0, rows, n, xr);
        double s[NR], ss[NR];
        row_stats(xr, n, centre, s, ss);
        for (int k = 0; k < nr; k++) {
            int64_t r = r0 + k;
            double mu = s[k] / (double)n;
            mean[r] = (float)mu;
            invstd[r] = (float)(1.0 / sqrt(ss[k] / (double)n + epsilon));
            float shift = kind == NNINIT__NORM_LAYER ? mean[r] : 0.0f; /* only layer norm centres x */
            normalize_row(xr[k], n, shift, invstd[r], gamma, b, xhat + r * n, y + r * n);
        }
    }
}

/* sg = sum of g, sgh = sum of g xhat over NR rows side by side, g = dy
 * gamma (or dy), each row in index order. */
static void grad_sums(const float *const gr[NR], const float *const hr[NR], const float *gamma, int64_t n,
                      double sg[NR], double sgh[NR])
{
    double a0 = 0, a1 = 0, a2 = 0, a3 = 0, b0 = 0, b1 = 0, b2 = 0, b3 = 0;
    for (int64_t j = 0; j < n; j++) {
        float gm = gamma ? gamma[j] : 1.0f;
        float g0 = gamma ? gr[0][j] * gm : gr[0][j], g1 = gamma ? gr[1][j] * gm : gr[1][j];
        float g2 = gamma ? gr[2][j] * gm : gr[2][j], g3 = gamma ? gr[3][j] * gm : gr[3][j];
        a0 += (double)g0;
        a1 += (double)g1;
        a2 += (double)g2;
        a3 += (double)g3;
        b0 += (double)g0 * (double)hr[0][j];
        b1 += (double)g1 * (double)hr[1][j];
        b2 += (double)g2 * (double)hr[2][j];
        b3 += (double)g3 * (double)hr[3][j];
    }
    sg[0] = a0, sg[1] = a1, sg[2] = a2, sg[3] = a3;
    sgh[0] = b0, sgh[1] = b1, sgh[2] = b2, sgh[3] = b3;
}

/* dgamma += dy xhat and dbeta += dy of one row (row 0 starts them: 0 + v
 * for dgamma as before, dbeta = dy as the column sums did). */
static void param_grads_row(const float *gr, const float *hr, int64_t n, int first, float *dgamma, float *dbeta)
{
    int64_t j = 0;
#if NNINIT__V4
    for (; j + 4 <= n; j += 4) {
        nninit__v4f g = nninit__v4_load(gr + j);
        if (dgamma) {
            nninit__v4f a = first ? (nninit__v4f){0} : nninit__v4_load(dgamma + j);
            nninit__v4_store(dgamma + j, a + g * nninit__v4_load(hr + j));
        }
        if (dbeta)
            nninit__v4_store(dbeta + j, first ? g : nninit__v4_load(dbeta + j) + g);
    }
#endif
    for (; j < n; j++) {
        if (dgamma)
            dgamma[j] = (first ? 0.0f : dgamma[j]) + gr[j] * hr[j];
        if (dbeta)
            dbeta[j] = first ? gr[j] : dbeta[j] + gr[j];
    }
}

void nninit__norm_backward(nninit__norm_kind kind, const float *xhat, const float *mean, const float *invstd,
                           const float *gamma, const float *dy, int64_t rows, int64_t n, float *dgamma, float *dbeta,
                           float *dx)
{
    nninit__norm_backward_add(kind, xhat, mean, invstd, gamma, dy, rows, n, dgamma, dbeta, NULL, dx);
}

void nninit__norm_backward_add(nninit__norm_kind kind, const float *xhat, const float *mean, const float *invstd,
                               const float *gamma, const float *dy, int64_t rows, int64_t n, float *dgamma,
                               float *dbeta, const float *add, float *dx)
{
    /* dgamma = sum over rows of dy * xhat, dbeta = sum of dy (both in row
     * order), the row sums and dx: one pass over NR rows at a time, each
     * array read from memory once. */
    float *db = kind == NNINIT__NORM_LAYER ? dbeta : NULL; /* only layer norm has beta */
    if (dbeta && !db)
        for (int64_t j = 0; j < n; j++)
            dbeta[j] = 0.0f;
    for (int64_t r0 = 0; r0 < rows; r0 += NR) {
        const float *gr[NR], *hr[NR];
        int nr = rows_from(dy, r0, rows, n, gr);
        rows_from(xhat, r0, rows, n, hr);
        for (int k = 0; k < nr; k++)
            param_grads_row(gr[k], hr[k], n, r0 + k == 0, dgamma, db);
        double sg[NR], sgh[NR];
        grad_sums(gr, hr, gamma, n, sg, sgh);
        for (int k = 0; k < nr; k++) {
            int64_t r = r0 + k;
            float *dr = dx + r * n;
            const float *ar = add ? add + r * n : NULL;
            float is = invstd[r];
            float mg = (float)(sg[k] / (double)n), mgh = (float)(sgh[k] / (double)n);
            /* layer norm: dx = s (g - mean(g) - xhat mean(g xhat));
             * RMS: xhat = x s, s = (mean x^2 + eps)^-1/2: dx = s (g - xhat mean(g xhat));
             * Keras' RMS scaling: xhat = x s, s = (var x + eps)^-1/2: ds/dx_j = -s^3 (x_j - mu) / n,
             * so dx = s (g - (x - mu) s mean(g xhat)), with (x - mu) s = xhat - mu s.
             * One form for the three: dx = s ((g - m) - (xhat - c) mgh) with
             * m = mean(g), c = 0 (layer); m = c = 0 (RMS); m = 0, c = mu s (Keras RMS);
             * g - 0 and xhat - 0 are exact, so each kind keeps its own rounding.
             * A residual's gradient (add) is added to the result, as a
             * separate add after it would. */
            float m = kind == NNINIT__NORM_LAYER ? mg : 0.0f;
            float c = kind == NNINIT__NORM_RMS_KERAS ? mean[r] * is : 0.0f;
            const float *g0 = gr[k], *h0 = hr[k];
            int64_t j = 0;
#if NNINIT__V4
            for (; j + 4 <= n; j += 4) {
                nninit__v4f g = nninit__v4_load(g0 + j);
                if (gamma)
                    g = g * nninit__v4_load(gamma + j);
                nninit__v4f v = is * (g - m - (nninit__v4_load(h0 + j) - c) * mgh);
                nninit__v4_store(dr + j, ar ? v + nninit__v4_load(ar + j) : v);
            }
#endif
            for (; j < n; j++) {
                float g = gamma ? g0[j] * gamma[j] : g0[j];
                float v = is * (g - m - (h0[j] - c) * mgh);
                dr[j] = ar ? v + ar[j] : v;
            }
        }
    }
}
