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

/* Row-wise softmax of a (T, T) score block, keys j <= i only when causal. */
static void softmax_rows(float *p, int64_t T, int causal)
{
    for (int64_t i = 0; i < T; i++) {
        float *row = p + i * T;
        int64_t n = causal ? i + 1 : T;
        float mx = row[0];
        for (int64_t j = 1; j < n; j++)
            mx = row[j] > mx ? row[j] : mx;
        for (int64_t j = 0; j < n; j++)
            row[j] -= mx;
        nninit__vexpf(row, row, n);
        double sum = 0;
        for (int64_t j = 0; j < n; j++)
            sum += (double)row[j];
        float inv = (float)(1.0 / sum);
        for (int64_t j = 0; j < n; j++)
            row[j] *= inv;
        for (int64_t j = n; j < T; j++)
            row[j] = 0.0f;
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
            /* through the softmax: dS = P (dP - sum_j P dP), times the scale;
             * masked entries have P = 0, so they get no gradient */
            for (int64_t i = 0; i < T; i++) {
                const float *pr = p + i * T;
                float *dr = c.dp + i * T;
                double dot = 0;
                for (int64_t j = 0; j < T; j++)
                    dot += (double)pr[j] * (double)dr[j];
                float fd = (float)dot;
                for (int64_t j = 0; j < T; j++)
                    dr[j] = scale * pr[j] * (dr[j] - fd);
            }
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
