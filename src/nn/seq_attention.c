/* Multi-head self-attention, forward and backward, in Keras'
 * (MultiHeadAttention) and PyTorch's (nn.MultiheadAttention) weight layouts.
 *
 * Q, K, V of all heads live in one (N T, 3 Hh) array (Hh = heads head_dim),
 * so one head of one sequence is a (T, head_dim) slice with row stride 3 Hh
 * and every per-head product is an sgemm on slices (nninit__sgemm_ld).
 * The scale 1/sqrt(head_dim) is applied to the scores (Keras scales Q
 * first, PyTorch 1.13 scales q too: equal up to rounding). */
#include "nn/internal.h"

#include <string.h>

typedef struct mha_cache {
    float *qkv;  /* (N T, 3 Hh) */
    float *prob; /* (N, heads, T, T) attention weights, 0 above the diagonal when causal */
    float *ctx;  /* (N T, Hh) heads' outputs, concatenated */
    float *dctx; /* (N T, Hh) */
    float *dqkv; /* (N T, 3 Hh) */
    float *dp;   /* (T, T) */
} mha_cache;

static size_t layout(const nninit__mha_spec *s, int64_t N, int64_t T, float *base, mha_cache *c)
{
    int64_t Hh = s->heads * s->head_dim;
    int64_t sizes[6] = {N * T * 3 * Hh, N * s->heads * T * T, N * T * Hh, N * T * Hh, N * T * 3 * Hh, T * T};
    float **const slot[6] = {&c->qkv, &c->prob, &c->ctx, &c->dctx, &c->dqkv, &c->dp};
    size_t off = nninit__carve(base, 6, sizes, slot);
    return off;
}

size_t nninit__mha_cache_floats(const nninit__mha_spec *spec, int64_t batch, int64_t steps)
{
    mha_cache c;
    return layout(spec, batch, steps, NULL, &c);
}

/* One projection into columns col0.. of qkv (row stride 3 Hh): Keras W is
 * (d, Hh), PyTorch's block (Hh, d). */
static void project(const nninit__mha_spec *s, const float *x, const float *w, const float *b, int64_t rows,
                    float *out)
{
    int64_t d = s->d_model, Hh = s->heads * s->head_dim;
    if (b)
        for (int64_t r = 0; r < rows; r++)
            memcpy(out + r * 3 * Hh, b, (size_t)Hh * sizeof *out);
    nninit__sgemm_ld(0, s->torch_layout, rows, Hh, d, 1.0f, x, d, w, s->torch_layout ? d : Hh, b ? 1.0f : 0.0f,
                     out, 3 * Hh);
}

/* Double sums of four rows side by side: out[k] = sum over j < len[k] of
 * a[k][j] (b NULL) or of a[k][j] b[k][j], each row in index order as it
 * would be alone (four independent chains of adds instead of one). */
static void sums4(const float *const a[4], const float *const b[4], const int64_t len[4], double out[4])
{
    int64_t common = len[0];
    for (int k = 1; k < 4; k++)
        common = len[k] < common ? len[k] : common;
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    if (b)
        for (int64_t j = 0; j < common; j++) {
            s0 += (double)a[0][j] * (double)b[0][j];
            s1 += (double)a[1][j] * (double)b[1][j];
            s2 += (double)a[2][j] * (double)b[2][j];
            s3 += (double)a[3][j] * (double)b[3][j];
        }
    else
        for (int64_t j = 0; j < common; j++) {
            s0 += (double)a[0][j];
            s1 += (double)a[1][j];
            s2 += (double)a[2][j];
            s3 += (double)a[3][j];
        }
    out[0] = s0, out[1] = s1, out[2] = s2, out[3] = s3;
    for (int k = 0; k < 4; k++)
        for (int64_t j = common; j < len[k]; j++)
            out[k] += b ? (double)a[k][j] * (double)b[k][j] : (double)a[k][j];
}

/* y[j] = a (x[j] - c) for j < n (y may be x), four lanes at a time. */
static void scale_shift(float *y, const float *x, int64_t n, float c, float a, int scale_first)
{
    int64_t j = 0;
#if NNINIT__V4
    for (; j + 4 <= n; j += 4) {
        nninit__v4f v = nninit__v4_load(x + j);
        nninit__v4_store(y + j, scale_first ? a * v : v - c);
    }
#endif
    for (; j < n; j++)
        y[j] = scale_first ? a * x[j] : x[j] - c;
}

/* Row-wise softmax of a (T, T) score block, keys j <= i only when causal.
 * Rows go four at a time through sums4 (the same bits as one by one). */
static void softmax_rows(float *p, int64_t T, int causal)
{
    for (int64_t i0 = 0; i0 < T; i0 += 4) {
        const float *rows[4];
        int64_t len[4];
        for (int k = 0; k < 4; k++) {
            int64_t i = i0 + k < T ? i0 + k : T - 1; /* past the end: the last row again, unused */
            float *row = p + i * T;
            int64_t n = causal ? i + 1 : T;
            rows[k] = row;
            len[k] = n;
            if (i0 + k >= T)
                continue;
            float mx = row[0];
            for (int64_t j = 1; j < n; j++)
                mx = row[j] > mx ? row[j] : mx;
            scale_shift(row, row, n, mx, 0.0f, 0);
            nninit__vexpf(row, row, n);
        }
        double sum[4];
        sums4(rows, NULL, len, sum);
        for (int k = 0; k < 4 && i0 + k < T; k++) {
            float *row = p + (i0 + k) * T;
            scale_shift(row, row, len[k], 0.0f, (float)(1.0 / sum[k]), 1);
            for (int64_t j = len[k]; j < T; j++)
                row[j] = 0.0f;
        }
    }
}

/* Through the softmax, for one (T, T) block: dS = scale P (dP - sum_j P dP)
 * row by row, in place in dp. Masked entries (j > i when causal) have P = 0
 * and get dS = 0 without being read. */
static void softmax_backward(const float *p, float *dp, int64_t T, int causal, float scale)
{
    for (int64_t i0 = 0; i0 < T; i0 += 4) {
        const float *pr[4], *dr[4];
        int64_t len[4];
        for (int k = 0; k < 4; k++) {
            int64_t i = i0 + k < T ? i0 + k : T - 1;
            pr[k] = p + i * T;
            dr[k] = dp + i * T;
            len[k] = causal ? i + 1 : T;
        }
        double dot[4];
        sums4(pr, dr, len, dot);
        for (int k = 0; k < 4 && i0 + k < T; k++) {
            const float *pk = pr[k];
            float *dk = dp + (i0 + k) * T, fd = (float)dot[k];
            int64_t j = 0, n = len[k];
#if NNINIT__V4
            for (; j + 4 <= n; j += 4)
                nninit__v4_store(dk + j, scale * nninit__v4_load(pk + j) * (nninit__v4_load(dk + j) - fd));
#endif
            for (; j < n; j++)
                dk[j] = scale * pk[j] * (dk[j] - fd);
            for (; j < T; j++)
                dk[j] = 0.0f;
        }
    }
}

void nninit__mha_forward(const nninit__mha_spec *s, const nninit__mha_weights *w, const float *x, int64_t N,
                         int64_t T, float *cache, float *y)
{
    mha_cache c;
    layout(s, N, T, cache, &c);
    int64_t d = s->d_model, hd = s->head_dim, Hh = s->heads * hd, R = N * T, ld = 3 * Hh;
    float scale = (float)(1.0 / sqrt((double)hd));
    project(s, x, w->wq, w->bq, R, c.qkv);
    project(s, x, w->wk, w->bk, R, c.qkv + Hh);
    project(s, x, w->wv, w->bv, R, c.qkv + 2 * Hh);
    for (int64_t b = 0; b < N; b++)
        for (int64_t h = 0; h < s->heads; h++) {
            const float *q = c.qkv + b * T * ld + h * hd, *k = q + Hh, *v = q + 2 * Hh;
            float *p = c.prob + (b * s->heads + h) * T * T;
            /* scores (T, T) = scale Q K^T */
            nninit__sgemm_ld(0, 1, T, T, hd, scale, q, ld, k, ld, 0.0f, p, T);
            softmax_rows(p, T, s->causal);
            /* ctx (T, hd) = P V */
            nninit__sgemm_ld(0, 0, T, hd, T, 1.0f, p, T, v, ld, 0.0f, c.ctx + b * T * Hh + h * hd, Hh);
        }
    nninit__linear_forward(s->torch_layout, c.ctx, w->wo, w->bo, R, Hh, d, y);
}

void nninit__mha_backward(const nninit__mha_spec *s, const nninit__mha_weights *w, const float *x, int64_t N,
                          int64_t T, float *cache, const float *dy, const nninit__mha_grads *g, float *dx,
                          int accumulate_dx)
{
    mha_cache c;
    layout(s, N, T, cache, &c);
    int64_t d = s->d_model, hd = s->head_dim, Hh = s->heads * hd, R = N * T, ld = 3 * Hh;
    float scale = (float)(1.0 / sqrt((double)hd));
    nninit__linear_backward(s->torch_layout, c.ctx, w->wo, dy, R, Hh, d, g->wo, g->bo, c.dctx, 0);
    for (int64_t b = 0; b < N; b++)
        for (int64_t h = 0; h < s->heads; h++) {
            const float *q = c.qkv + b * T * ld + h * hd, *k = q + Hh, *v = q + 2 * Hh;
            float *dq = c.dqkv + b * T * ld + h * hd, *dk = dq + Hh, *dv = dq + 2 * Hh;
            const float *p = c.prob + (b * s->heads + h) * T * T;
            const float *dctx = c.dctx + b * T * Hh + h * hd;
            /* dP = dctx V^T, dV = P^T dctx */
            nninit__sgemm_ld(0, 1, T, T, hd, 1.0f, dctx, Hh, v, ld, 0.0f, c.dp, T);
            nninit__sgemm_ld(1, 0, T, hd, T, 1.0f, p, T, dctx, Hh, 0.0f, dv, ld);
            /* through the softmax: dS = P (dP - sum_j P dP), times the scale */
            softmax_backward(p, c.dp, T, s->causal, scale);
            /* dQ = dS K, dK = dS^T Q */
            nninit__sgemm_ld(0, 0, T, hd, T, 1.0f, c.dp, T, k, ld, 0.0f, dq, ld);
            nninit__sgemm_ld(1, 0, T, hd, T, 1.0f, c.dp, T, q, ld, 0.0f, dk, ld);
        }
    const float *wp[3] = {w->wq, w->wk, w->wv};
    float *gw[3] = {g->wq, g->wk, g->wv}, *gb[3] = {g->bq, g->bk, g->bv};
    for (int i = 0; i < 3; i++) {
        const float *dp = c.dqkv + i * Hh;
        if (s->torch_layout) /* dW (Hh, d) = dP^T x; dx += dP W */
            nninit__sgemm_ld(1, 0, Hh, d, R, 1.0f, dp, ld, x, d, 0.0f, gw[i], d);
        else /* dW (d, Hh) = x^T dP; dx += dP W^T */
            nninit__sgemm_ld(1, 0, d, Hh, R, 1.0f, x, d, dp, ld, 0.0f, gw[i], Hh);
        if (gb[i])
            nninit__col_sums(dp, R, Hh, ld, gb[i]);
        if (dx)
            nninit__sgemm_ld(0, !s->torch_layout, R, d, Hh, 1.0f, dp, ld, wp[i], s->torch_layout ? d : Hh,
                             (i > 0 || accumulate_dx) ? 1.0f : 0.0f, dx, d);
    }
}
