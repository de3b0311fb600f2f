/* SimpleRNN, LSTM and GRU over a whole sequence, with backpropagation
 * through time, in Keras' and PyTorch's weight layouts (see internal.h).
 *
 * Work is time-major inside: the input is copied to (steps, batch, n_in) so
 * that each step's rows are contiguous, the input products of all steps are
 * one sgemm before the recurrence, and the weight gradients are one sgemm
 * each after it. Per step there is one sgemm for the recurrent product
 * (two for a GRU without reset_after) forward and one backward; a SimpleRNN's
 * and an LSTM's forward one adds h U straight onto the step's input
 * pre-activations (beta 1), whose bias is then b_in + b_rec (PyTorch's two
 * biases summed once per call). The LSTM's elementwise work per step is one
 * pass over each row's gates (seq_lstm_cell.c), the bias gradient summed
 * inside its backward pass (rows in the order the recurrence visits them:
 * steps from last to first, samples in order).
 *
 * Notation: N batch, T steps, H units, G gates, GH = G H. Gate blocks are
 * H columns each, at the positions the layout gives them. */
#include "nn/internal.h"

#include <string.h>

int nninit__rnn_gates(nninit__rnn_cell cell)
{
    return cell == NNINIT__CELL_LSTM ? 4 : cell == NNINIT__CELL_GRU ? 3 : 1;
}

/* The cache, in floats, as offsets from its start. */
typedef struct rnn_cache {
    float *xt;   /* (T, N, n_in) input, time-major */
    float *pre;  /* (T, N, GH) activated gates (SimpleRNN: the new state) */
    float *hs;   /* (T + 1, N, H) states, hs[0] = 0 */
    float *cs;   /* LSTM (T + 1, N, H) cell states; GRU (T, N, H): reset_after: h U_h + b_hn; else r * h_prev */
    float *tc;   /* LSTM (T, N, H) tanh of the new cell state */
    float *rec;  /* GRU (N, GH) recurrent product of one step */
    float *bsum; /* SimpleRNN, LSTM (GH) b_in + b_rec */
    float *dg;   /* (T, N, GH) gradient of the gates' input pre-activations;
                  * SimpleRNN, LSTM: over pre, step by step as backward
                  * leaves it (a step's gates are not read again) */
    float *dgr;  /* GRU (T, N, GH) gradient of the recurrent pre-activations; else == dg */
    float *dh, *dc; /* (N, H) */
    float *dxt;  /* (T, N, n_in) */
} rnn_cache;

static size_t layout(const nninit__rnn_spec *s, int64_t N, int64_t T, float *base, rnn_cache *c)
{
    int64_t H = s->units, GH = nninit__rnn_gates(s->cell) * H;
    int gru = s->cell == NNINIT__CELL_GRU;
    int64_t sizes[12] = {
        T * N * s->n_in,
        T * N * GH,
        (T + 1) * N * H,
        s->cell == NNINIT__CELL_LSTM ? (T + 1) * N * H : s->cell == NNINIT__CELL_GRU ? T * N * H : 0,
        s->cell == NNINIT__CELL_LSTM ? T * N * H : 0,
        gru ? N * GH : 0,
        gru ? 0 : GH,
        gru ? T * N * GH : 0,
        gru ? T * N * GH : 0,
        N * H,
        N * H,
        T * N * s->n_in,
    };
    float **const slot[12] = {&c->xt, &c->pre, &c->hs, &c->cs, &c->tc,  &c->rec,
                              &c->bsum, &c->dg, &c->dgr, &c->dh, &c->dc, &c->dxt};
    size_t off = nninit__carve(base, 12, sizes, slot);
    if (base && !gru)
        c->dg = c->dgr = c->pre;
    return off;
}

size_t nninit__rnn_cache_floats(const nninit__rnn_spec *spec, int64_t batch, int64_t steps)
{
    rnn_cache c;
    return layout(spec, batch, steps, NULL, &c);
}

/* out (N, ncols) (row stride ldo) = h (N, H) U[:, col0 : col0 + ncols]
 * (+ beta out). U is (H, GH) in Keras' layout, (GH, H) in PyTorch's. */
static void rec_product(const nninit__rnn_spec *s, const float *u, const float *h, int64_t N, int64_t col0,
                        int64_t ncols, float beta, float *out, int64_t ldo)
{
    int64_t H = s->units, GH = nninit__rnn_gates(s->cell) * H;
    if (s->torch_layout)
        nninit__sgemm_ld(0, 1, N, ncols, H, 1.0f, h, H, u + col0 * H, H, beta, out, ldo);
    else
        nninit__sgemm_ld(0, 0, N, ncols, H, 1.0f, h, H, u + col0, GH, beta, out, ldo);
}

/* dh (N, H) (+)= dg (N, ncols) (row stride ldg) U[:, col0 : col0 + ncols]^T */
static void rec_product_t(const nninit__rnn_spec *s, const float *u, const float *dg, int64_t ldg, int64_t N,
                          int64_t col0, int64_t ncols, float beta, float *dh)
{
    int64_t H = s->units, GH = nninit__rnn_gates(s->cell) * H;
    if (s->torch_layout)
        nninit__sgemm_ld(0, 0, N, H, ncols, 1.0f, dg, ldg, u + col0 * H, H, beta, dh, H);
    else
        nninit__sgemm_ld(0, 1, N, H, ncols, 1.0f, dg, ldg, u + col0, GH, beta, dh, H);
}

/* dU[:, col0 : col0 + ncols] = hprev (R, H)^T dg (R, ncols) (row stride ldg), in U's layout */
static void rec_weight_grad(const nninit__rnn_spec *s, const float *hprev, const float *dg, int64_t ldg, int64_t R,
                            int64_t col0, int64_t ncols, float *du)
{
    int64_t H = s->units, GH = nninit__rnn_gates(s->cell) * H;
    if (s->torch_layout)
        nninit__sgemm_ld(1, 0, ncols, H, R, 1.0f, dg, ldg, hprev, H, 0.0f, du + col0 * H, H);
    else
        nninit__sgemm_ld(1, 0, H, ncols, R, 1.0f, hprev, H, dg, ldg, 0.0f, du + col0, GH);
}

/* GRU gate block positions: z, r at 0..2H in either order, the candidate at 2H. */
static void gru_blocks(const nninit__rnn_spec *s, int64_t *z, int64_t *r)
{
    *z = s->torch_layout ? s->units : 0;
    *r = s->torch_layout ? 0 : s->units;
}

void nninit__rnn_forward(const nninit__rnn_spec *s, const nninit__rnn_weights *w, const float *x, int64_t N,
                         int64_t T, float *cache, float *y)
{
    rnn_cache c;
    layout(s, N, T, cache, &c);
    int64_t H = s->units, n_in = s->n_in, GH = nninit__rnn_gates(s->cell) * H;
    for (int64_t t = 0; t < T; t++)
        for (int64_t b = 0; b < N; b++)
            memcpy(c.xt + (t * N + b) * n_in, x + (b * T + t) * n_in, (size_t)n_in * sizeof *x);
    /* every step's input pre-activation at once: pre = xt W + b_in (a
     * SimpleRNN's or an LSTM's b_rec joins b_in here, see the top) */
    const float *bias = w->bias_in;
    if (s->cell != NNINIT__CELL_GRU && w->bias_rec) {
        bias = w->bias_rec;
        if (w->bias_in) {
            nninit__vadd(c.bsum, w->bias_in, w->bias_rec, GH);
            bias = c.bsum;
        }
    }
    nninit__linear_forward(s->torch_layout, c.xt, w->kernel, bias, T * N, n_in, GH, c.pre);
    memset(c.hs, 0, (size_t)(N * H) * sizeof *c.hs);
    if (s->cell == NNINIT__CELL_LSTM)
        memset(c.cs, 0, (size_t)(N * H) * sizeof *c.cs);
    int64_t zo = 0, ro = 0;
    gru_blocks(s, &zo, &ro);
    for (int64_t t = 0; t < T; t++) {
        float *p = c.pre + t * N * GH;
        const float *hp = c.hs + t * N * H;
        float *hn = c.hs + (t + 1) * N * H;
        if (s->cell != NNINIT__CELL_GRU) {
            /* gate pre-activations += h U */
            rec_product(s, w->recurrent, hp, N, 0, GH, 1.0f, p, GH);
        } else {
            if (s->reset_after) {
                if (w->bias_rec)
                    for (int64_t b = 0; b < N; b++)
                        memcpy(c.rec + b * GH, w->bias_rec, (size_t)GH * sizeof *c.rec);
                rec_product(s, w->recurrent, hp, N, 0, GH, w->bias_rec ? 1.0f : 0.0f, c.rec, GH);
            } else {
                rec_product(s, w->recurrent, hp, N, 0, 2 * H, 0.0f, c.rec, GH); /* z, r blocks only */
            }
            /* z, r pre-activations = input part + recurrent part (the
             * candidate's recurrent part is added below) */
            for (int64_t b = 0; b < N; b++)
                nninit__vadd(p + b * GH, p + b * GH, c.rec + b * GH, 2 * H);
        }
        switch (s->cell) {
        case NNINIT__CELL_SIMPLE:
            if (s->relu)
                for (int64_t i = 0; i < N * H; i++)
                    p[i] = p[i] > 0.0f ? p[i] : 0.0f;
            else
                nninit__vtanhf(p, p, N * H);
            memcpy(hn, p, (size_t)(N * H) * sizeof *hn);
            break;
        case NNINIT__CELL_LSTM: {
            const float *cp = c.cs + t * N * H;
            float *cn = c.cs + (t + 1) * N * H, *tc = c.tc + t * N * H;
            nninit__lstm_cell_forward(p, cp, N, H, cn, tc, hn);
            break;
        }
        case NNINIT__CELL_GRU: {
            float *aux = c.cs + t * N * H;
            for (int64_t b = 0; b < N; b++)
                nninit__vsigmoidf(p + b * GH, p + b * GH, 2 * H); /* z and r, in either order */
            if (s->reset_after) {
                /* aux = h U_h + b_hn, inside the reset product */
                for (int64_t b = 0; b < N; b++)
                    memcpy(aux + b * H, c.rec + b * GH + 2 * H, (size_t)H * sizeof *aux);
            } else {
                /* aux = r * h_prev, then rec_h = aux U_h */
                for (int64_t b = 0; b < N; b++)
                    for (int64_t j = 0; j < H; j++)
                        aux[b * H + j] = p[b * GH + ro + j] * hp[b * H + j];
                rec_product(s, w->recurrent, aux, N, 2 * H, H, 0.0f, c.rec + 2 * H, GH);
            }
            for (int64_t b = 0; b < N; b++) {
                float *pb = p + b * GH;
                const float *rb = c.rec + b * GH;
                for (int64_t j = 0; j < H; j++)
                    pb[2 * H + j] += s->reset_after ? pb[ro + j] * rb[2 * H + j] : rb[2 * H + j];
                nninit__vtanhf(pb + 2 * H, pb + 2 * H, H);
                for (int64_t j = 0; j < H; j++) {
                    float zg = pb[zo + j];
                    hn[b * H + j] = zg * hp[b * H + j] + (1.0f - zg) * pb[2 * H + j];
                }
            }
            break;
        }
        }
    }
    if (s->return_sequences) {
        for (int64_t b = 0; b < N; b++)
            for (int64_t t = 0; t < T; t++)
                memcpy(y + (b * T + t) * H, c.hs + ((t + 1) * N + b) * H, (size_t)H * sizeof *y);
    } else {
        memcpy(y, c.hs + T * N * H, (size_t)(N * H) * sizeof *y);
    }
}

void nninit__rnn_backward(const nninit__rnn_spec *s, const nninit__rnn_weights *w, int64_t N, int64_t T,
                          float *cache, const float *dy, const nninit__rnn_grads *g, float *dx)
{
    rnn_cache c;
    layout(s, N, T, cache, &c);
    int64_t H = s->units, n_in = s->n_in, GH = nninit__rnn_gates(s->cell) * H;
    int64_t zo = 0, ro = 0;
    gru_blocks(s, &zo, &ro);
    memset(c.dh, 0, (size_t)(N * H) * sizeof *c.dh);
    memset(c.dc, 0, (size_t)(N * H) * sizeof *c.dc);
    /* the LSTM's bias gradient, summed during the recurrence (see the top) */
    float *lstm_db = NULL;
    if (s->cell == NNINIT__CELL_LSTM && (g->bias_in || g->bias_rec)) {
        lstm_db = g->bias_in ? g->bias_in : g->bias_rec;
        memset(lstm_db, 0, (size_t)GH * sizeof *lstm_db);
    }
    for (int64_t t = T - 1; t >= 0; t--) {
        /* dh += the output gradient of step t */
        if (s->return_sequences) {
            for (int64_t b = 0; b < N; b++)
                nninit__vadd(c.dh + b * H, c.dh + b * H, dy + (b * T + t) * H, H);
        } else if (t == T - 1) {
            memcpy(c.dh, dy, (size_t)(N * H) * sizeof *c.dh);
        }
        const float *p = c.pre + t * N * GH, *hp = c.hs + t * N * H;
        float *dg = c.dg + t * N * GH, *dgr = c.dgr + t * N * GH;
        switch (s->cell) {
        case NNINIT__CELL_SIMPLE:
            for (int64_t i = 0; i < N * H; i++)
                dg[i] = s->relu ? (p[i] > 0.0f ? c.dh[i] : 0.0f) : c.dh[i] * (1.0f - p[i] * p[i]);
            rec_product_t(s, w->recurrent, dg, GH, N, 0, GH, 0.0f, c.dh);
            break;
        case NNINIT__CELL_LSTM: {
            const float *cp = c.cs + t * N * H, *tc = c.tc + t * N * H;
            nninit__lstm_cell_backward(p, cp, tc, c.dh, N, H, c.dc, dg, lstm_db);
            rec_product_t(s, w->recurrent, dg, GH, N, 0, GH, 0.0f, c.dh);
            break;
        }
        case NNINIT__CELL_GRU: {
            const float *aux = c.cs + t * N * H;
            for (int64_t b = 0; b < N; b++) {
                const float *pb = p + b * GH;
                float *db = dg + b * GH, *dbr = dgr + b * GH;
                for (int64_t j = 0; j < H; j++) {
                    float zg = pb[zo + j], ng = pb[2 * H + j], dhv = c.dh[b * H + j];
                    float dn = dhv * (1.0f - zg) * (1.0f - ng * ng); /* through tanh */
                    db[zo + j] = dbr[zo + j] = dhv * (hp[b * H + j] - ng) * zg * (1.0f - zg);
                    db[2 * H + j] = dn;
                    if (s->reset_after) {
                        float rg = pb[ro + j];
                        dbr[2 * H + j] = dn * rg;
                        db[ro + j] = dbr[ro + j] = dn * aux[b * H + j] * rg * (1.0f - rg);
                    } else {
                        dbr[2 * H + j] = dn;
                    }
                    c.dh[b * H + j] = dhv * zg; /* the direct path z h_prev */
                }
            }
            if (s->reset_after) {
                rec_product_t(s, w->recurrent, dgr, GH, N, 0, GH, 1.0f, c.dh);
            } else {
                /* d aux = dn U_h^T (in rec, as scratch); aux = r h_prev */
                rec_product_t(s, w->recurrent, dgr + 2 * H, GH, N, 2 * H, H, 0.0f, c.rec);
                for (int64_t b = 0; b < N; b++)
                    for (int64_t j = 0; j < H; j++) {
                        float rg = p[b * GH + ro + j], da = c.rec[b * H + j];
                        dg[b * GH + ro + j] = dgr[b * GH + ro + j] = da * hp[b * H + j] * rg * (1.0f - rg);
                        c.dh[b * H + j] += da * rg;
                    }
                rec_product_t(s, w->recurrent, dgr, GH, N, 0, 2 * H, 1.0f, c.dh);
            }
            break;
        }
        }
    }
    /* weight gradients over all steps, one product each */
    int64_t R = T * N;
    if (s->torch_layout)
        nninit__sgemm(1, 0, GH, n_in, R, 1.0f, c.dg, c.xt, 0.0f, g->kernel);
    else
        nninit__sgemm(1, 0, n_in, GH, R, 1.0f, c.xt, c.dg, 0.0f, g->kernel);
    if (s->cell == NNINIT__CELL_GRU && !s->reset_after) {
        rec_weight_grad(s, c.hs, c.dgr, GH, R, 0, 2 * H, g->recurrent);
        rec_weight_grad(s, c.cs, c.dgr + 2 * H, GH, R, 2 * H, H, g->recurrent);
    } else {
        rec_weight_grad(s, c.hs, c.dgr, GH, R, 0, GH, g->recurrent);
    }
    if (lstm_db) {
        if (g->bias_in && g->bias_rec) /* the same sums: dgr is dg */
            memcpy(g->bias_rec, g->bias_in, (size_t)GH * sizeof *g->bias_rec);
    } else {
        if (g->bias_in)
            nninit__col_sums(c.dg, R, GH, GH, g->bias_in);
        if (g->bias_rec)
            nninit__col_sums(c.dgr, R, GH, GH, g->bias_rec);
    }
    if (dx) {
        nninit__sgemm(0, !s->torch_layout, R, n_in, GH, 1.0f, c.dg, w->kernel, 0.0f, c.dxt);
        for (int64_t b = 0; b < N; b++)
            for (int64_t t = 0; t < T; t++)
                memcpy(dx + (b * T + t) * n_in, c.dxt + (t * N + b) * n_in, (size_t)n_in * sizeof *dx);
    }
}
