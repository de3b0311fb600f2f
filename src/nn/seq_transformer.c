/* Pre-LN transformer block (GPT-2's order, Xiong et al. 2020):
 *   a = x + MHA(LN1(x));  y = a + W2 gelu(W1 LN2(a) + b1) + b2
 * composed from the layer-norm, attention, dense and GELU kernels. */
#include "nn/internal.h"

#include <string.h>

typedef struct block_cache {
    float *xhat1, *mean1, *inv1, *h1; /* LN1: (R, d), (R), (R), (R, d) */
    float *a;                         /* (R, d) after the attention residual */
    float *xhat2, *mean2, *inv2, *h2; /* LN2 */
    float *u, *gu, *phi;              /* (R, d_ff) W1 h2 + b1, gelu of it, Phi(u) or tanh (GELU's keep) */
    float *da, *dh, *du;              /* (R, d), (R, d), (R, d_ff) */
    float *mha;                       /* attention cache */
} block_cache;

static size_t layout(const nninit__block_spec *s, int64_t N, int64_t T, float *base, block_cache *c)
{
    int64_t R = N * T, d = s->mha.d_model, f = s->d_ff;
    int64_t sizes[16] = {R * d, R, R, R * d, R * d, R * d, R, R, R * d, R * f, R * f, R * f, R * d, R * d, R * f,
                         (int64_t)nninit__mha_cache_floats(&s->mha, N, T)};
    float **const slot[16] = {&c->xhat1, &c->mean1, &c->inv1, &c->h1, &c->a,  &c->xhat2, &c->mean2, &c->inv2,
                              &c->h2,    &c->u,     &c->gu,   &c->phi, &c->da, &c->dh,    &c->du,    &c->mha};
    size_t off = nninit__carve(base, 16, sizes, slot);
    return off;
}

size_t nninit__block_cache_floats(const nninit__block_spec *spec, int64_t batch, int64_t steps)
{
    block_cache c;
    return layout(spec, batch, steps, NULL, &c);
}

void nninit__block_forward(const nninit__block_spec *s, const nninit__block_weights *w, const float *x, int64_t N,
                           int64_t T, float *cache, float *y)
{
    block_cache c;
    layout(s, N, T, cache, &c);
    int64_t R = N * T, d = s->mha.d_model, f = s->d_ff;
    int tl = s->mha.torch_layout;
    nninit__norm_forward(NNINIT__NORM_LAYER, x, R, d, w->ln1_gamma, w->ln1_beta, s->ln_epsilon, c.xhat1, c.mean1,
                         c.inv1, c.h1);
    nninit__mha_forward(&s->mha, &w->mha, c.h1, N, T, c.mha, c.a);
    nninit__vadd(c.a, c.a, x, R * d);
    nninit__norm_forward(NNINIT__NORM_LAYER, c.a, R, d, w->ln2_gamma, w->ln2_beta, s->ln_epsilon, c.xhat2, c.mean2,
                         c.inv2, c.h2);
    nninit__linear_forward(tl, c.h2, w->w1, w->b1, R, d, f, c.u);
    nninit__gelu_forward(s->gelu_approximate, c.u, R * f, c.gu, c.phi);
    nninit__linear_forward(tl, c.gu, w->w2, w->b2, R, f, d, y);
    nninit__vadd(y, y, c.a, R * d);
}

void nninit__block_backward(const nninit__block_spec *s, const nninit__block_weights *w, const float *x, int64_t N,
                            int64_t T, float *cache, const float *dy, const nninit__block_grads *g, float *dx)
{
    block_cache c;
    layout(s, N, T, cache, &c);
    int64_t R = N * T, d = s->mha.d_model, f = s->d_ff;
    int tl = s->mha.torch_layout;
    /* MLP branch: dgu = dy W2^T; du = gelu'(u) dgu; dh2 = du W1^T */
    nninit__linear_backward(tl, c.gu, w->w2, dy, R, f, d, g->w2, g->b2, c.du, 0);
    nninit__gelu_backward_bias(s->gelu_approximate, c.u, c.phi, c.du, R, f, c.du, g->b1); /* b1's gradient too */
    nninit__linear_backward(tl, c.h2, w->w1, c.du, R, d, f, g->w1, NULL, c.dh, 0);
    /* da = dy (residual) + LN2's input gradient */
    nninit__norm_backward_add(NNINIT__NORM_LAYER, c.xhat2, c.mean2, c.inv2, w->ln2_gamma, c.dh, R, d, g->ln2_gamma,
                              g->ln2_beta, dy, c.da);
    /* attention branch: dh1 = MHA's input gradient; dx = da + LN1's input gradient */
    nninit__mha_backward(&s->mha, &w->mha, c.h1, N, T, c.mha, c.da, &g->mha, c.dh, 0);
    nninit__norm_backward_add(NNINIT__NORM_LAYER, c.xhat1, c.mean1, c.inv1, w->ln1_gamma, c.dh, R, d, g->ln1_gamma,
                              g->ln1_beta, c.da, dx);
}
