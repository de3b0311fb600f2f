/* The sequence kernels (src/nn/seq_*.c, checked against finite differences
 * and PyTorch in test_nn_seq_grad / test_nn_seq_torch) wired into the
 * network as layers: a net of one embedding, position embedding, layer norm
 * (three kinds), attention or transformer layer, in the Keras and the torch
 * layout, must give exactly (bit for bit) the kernel's own output, input
 * gradient and parameter gradients on the same weights, with the
 * parameters in the order nninit_net_param documents. Then: shapes that do
 * not chain are refused naming both layers, token ids are checked, and a
 * small causal transformer learns to copy the token before. */
#include "util.h"

#include "nn/internal.h"

static uint64_t lcg = 7;
static float urandf(void)
{
    lcg = lcg * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((double)(lcg >> 11) * 0x1.0p-53 * 2.0 - 1.0);
}

enum { B = 3, T = 5, D = 8, HEADS = 2, FF = 12, VOCAB = 7 };

typedef struct run {
    nninit_net *net;
    nninit__layer *L;
    float *x, *dy;
    const float *y, *dx;
    int64_t nx, ny;
} run;

/* One layer on (T, D) sequences (or (T) ids), random weights, forward and
 * backward with the input gradient. */
static void run_layer(const nninit_layer_desc *d, nninit_layout layout, run *r)
{
    nninit_shape in = d->kind == NNINIT_LAYER_EMBEDDING ? (nninit_shape){1, {T}} : (nninit_shape){2, {T, D}};
    nninit_net_opts o = nninit_net_opts_default();
    o.layout = layout;
    nninit_err err = {0};
    assert_ok(nninit_net_new_shaped(&in, d, 1, &o, &r->net, &err), &err);
    r->L = &r->net->layers[0];
    for (int p = 0; p < r->L->n_params; p++)
        for (int64_t e = 0; e < r->L->param[p].n; e++)
            r->L->param[p].value[e] = 0.5f * urandf() + (strstr(r->L->param[p].name, "gamma") ? 1.0f : 0.0f);
    r->nx = B * nninit_net_n_inputs(r->net);
    r->ny = B * nninit_net_n_outputs(r->net);
    r->x = malloc((size_t)r->nx * sizeof *r->x);
    r->dy = malloc((size_t)r->ny * sizeof *r->dy);
    for (int64_t e = 0; e < r->nx; e++)
        r->x[e] = d->kind == NNINIT_LAYER_EMBEDDING ? (float)(e * 3 % VOCAB) : urandf();
    for (int64_t e = 0; e < r->ny; e++)
        r->dy[e] = urandf();
    assert_ok(nninit_net_forward(r->net, r->x, B, 1, &r->y, &err), &err);
    assert_ok(nninit_net_backward(r->net, r->dy, 1, &err), &err);
    int64_t rows, cols;
    r->dx = nninit_net_tensor(r->net, 0, NNINIT_T_GRAD_INPUT, &rows, &cols);
    assert_non_null(r->dx);
}

static void run_free(run *r)
{
    free(r->x);
    free(r->dy);
    nninit_net_free(r->net);
}

static float *zalloc(int64_t n) { return calloc((size_t)n, sizeof(float)); }

static void assert_grad_equal(const run *r, int p, const float *g)
{
    assert_memory_equal(r->L->param[p].grad, g, (size_t)r->L->param[p].n * sizeof *g);
    double s = 0;
    for (int64_t e = 0; e < r->L->param[p].n; e++)
        s += fabs(g[e]);
    if (!strstr(r->L->param[p].name, "key/bias") && !(strstr(r->L->param[p].name, "in_proj_bias")))
        assert_true(s > 1e-4); /* not trivially zero (softmax ignores the key bias: exactly 0) */
}

static void test_embeddings(void **state)
{
    (void)state;
    nninit_layer_desc d = nninit_layer_desc_default(NNINIT_LAYER_EMBEDDING);
    d.vocab = VOCAB;
    d.units = D;
    run r;
    run_layer(&d, NNINIT_LAYOUT_KERAS, &r);
    int32_t ids[B * T];
    for (int e = 0; e < B * T; e++)
        ids[e] = (int32_t)r.x[e];
    float *y = zalloc(r.ny), *g = zalloc(VOCAB * D);
    nninit_err err;
    assert_ok(nninit__embedding_forward(ids, B * T, r.L->param[0].value, VOCAB, D, y, &err), &err);
    nninit__embedding_backward(ids, B * T, r.dy, VOCAB, D, -1, g);
    assert_memory_equal(r.y, y, (size_t)r.ny * sizeof *y);
    assert_grad_equal(&r, 0, g);
    for (int64_t e = 0; e < r.nx; e++)
        assert_true(r.dx[e] == 0.0f);
    /* ids are checked: a fraction or an id past the vocabulary is refused */
    r.x[4] = 2.5f;
    assert_int_equal(nninit_net_forward(r.net, r.x, B, 1, NULL, &err), NNINIT_EINVAL);
    assert_non_null(strstr(err.msg, "embedding_0: input 2.5 at position 4 of the batch is not a token id"));
    r.x[4] = (float)VOCAB;
    assert_int_equal(nninit_net_forward(r.net, r.x, B, 1, NULL, &err), NNINIT_EINVAL);
    assert_int_equal(nninit_net_backward(r.net, r.dy, 0, &err), NNINIT_EMISUSE); /* no complete forward */
    free(y), free(g);
    run_free(&r);

    d = nninit_layer_desc_default(NNINIT_LAYER_POSITION_EMBEDDING);
    d.vocab = T + 2;
    run_layer(&d, NNINIT_LAYOUT_KERAS, &r);
    y = zalloc(r.ny);
    g = zalloc((T + 2) * D);
    nninit__posemb_forward(r.x, r.L->param[0].value, B, T, D, y);
    nninit__posemb_backward(r.dy, B, T, D, g);
    assert_memory_equal(r.y, y, (size_t)r.ny * sizeof *y);
    assert_memory_equal(r.L->param[0].grad, g, (size_t)(T * D) * sizeof *g);
    assert_memory_equal(r.dx, r.dy, (size_t)r.nx * sizeof *g);
    free(y), free(g);
    run_free(&r);
}

static void test_norms(void **state)
{
    (void)state;
    static const nninit__norm_kind kinds[3] = {NNINIT__NORM_LAYER, NNINIT__NORM_RMS, NNINIT__NORM_RMS_KERAS};
    for (int k = 0; k < 3; k++)
        for (int affine = 0; affine < 2; affine++) {
            nninit_layer_desc d = nninit_layer_desc_default(NNINIT_LAYER_LAYER_NORM);
            d.norm = k;
            d.scale = affine;
            d.use_bias = affine;
            run r;
            run_layer(&d, NNINIT_LAYOUT_KERAS, &r);
            int has_g = affine || k == 2, has_b = affine && k == 0;
            assert_int_equal(r.L->n_params, has_g + has_b);
            const int64_t R = B * T;
            float *xhat = zalloc(R * D), *mean = zalloc(R), *inv = zalloc(R), *y = zalloc(R * D), *dx = zalloc(R * D);
            float *dg = zalloc(D), *db = zalloc(D);
            const float *gamma = has_g ? r.L->param[0].value : NULL, *beta = has_b ? r.L->param[1].value : NULL;
            nninit__norm_forward(kinds[k], r.x, R, D, gamma, beta, d.epsilon, xhat, mean, inv, y);
            nninit__norm_backward(kinds[k], xhat, mean, inv, gamma, r.dy, R, D, has_g ? dg : NULL, has_b ? db : NULL,
                                  dx);
            assert_memory_equal(r.y, y, (size_t)(R * D) * sizeof *y);
            assert_memory_equal(r.dx, dx, (size_t)(R * D) * sizeof *y);
            if (has_g)
                assert_grad_equal(&r, 0, dg);
            if (has_b)
                assert_grad_equal(&r, 1, db);
            free(xhat), free(mean), free(inv), free(y), free(dx), free(dg), free(db);
            run_free(&r);
        }
}

/* The attention tensors of a layer from index first, in the documented
 * order, as values or gradients. */
static void mha_from(const nninit__layer *L, int first, int torch, int bias, int grad, float *p[8])
{
    const nninit__param *P = L->param + first;
    memset(p, 0, 8 * sizeof *p);
#define V(i) (grad ? P[i].grad : P[i].value)
    if (torch) { /* in_proj_weight (3D, D): rows q, k, v */
        for (int k = 0; k < 3; k++) {
            p[k] = V(0) + k * D * D;
            p[3 + k] = bias ? V(1) + k * D : NULL;
        }
        p[6] = V(bias ? 2 : 1);
        p[7] = bias ? V(3) : NULL;
    } else { /* query kernel, bias, key ..., value ..., attention_output ... */
        for (int k = 0; k < 4; k++) {
            p[k < 3 ? k : 6] = V(k * (1 + bias));
            if (bias)
                p[k < 3 ? 3 + k : 7] = V(k * 2 + 1);
        }
    }
#undef V
}

/* Fresh zeroed gradient arrays shaped as the layer's parameters, and the
 * pointers into them that mha_from gives for grad = 1. */
static float **grad_copies(const nninit__layer *L)
{
    float **g = calloc(NNINIT__MAX_PARAMS, sizeof *g);
    for (int p = 0; p < L->n_params; p++)
        g[p] = zalloc(L->param[p].n);
    return g;
}

static void mha_from_copies(float **g, int first, int torch, int bias, float *p[8])
{
    memset(p, 0, 8 * sizeof *p);
    if (torch) {
        for (int k = 0; k < 3; k++) {
            p[k] = g[first] + k * D * D;
            p[3 + k] = bias ? g[first + 1] + k * D : NULL;
        }
        p[6] = g[first + (bias ? 2 : 1)];
        p[7] = bias ? g[first + 3] : NULL;
    } else {
        for (int k = 0; k < 4; k++) {
            p[k < 3 ? k : 6] = g[first + k * (1 + bias)];
            if (bias)
                p[k < 3 ? 3 + k : 7] = g[first + k * 2 + 1];
        }
    }
}

static void check_attention(int torch, int bias, int causal, int64_t key_dim)
{
    nninit_layer_desc d = nninit_layer_desc_default(NNINIT_LAYER_ATTENTION);
    d.heads = HEADS;
    d.key_dim = key_dim;
    d.causal = causal;
    d.use_bias = bias;
    run r;
    run_layer(&d, torch ? NNINIT_LAYOUT_TORCH : NNINIT_LAYOUT_KERAS, &r);
    assert_int_equal(r.L->n_params, (torch ? 2 : 4) * (bias ? 2 : 1));
    int64_t hd = key_dim ? key_dim : D / HEADS;
    if (!torch) {
        assert_int_equal(r.L->param[0].shape.dim[1], HEADS * hd);
        assert_string_equal(r.L->param[0].name, "multi_head_attention_0/attention/query/kernel");
    } else {
        assert_int_equal(r.L->param[0].shape.dim[0], 3 * D);
    }
    nninit__mha_spec sp = {D, HEADS, hd, torch, causal};
    float *w[8], *gw[8];
    mha_from(r.L, 0, torch, bias, 0, w);
    float **g = grad_copies(r.L);
    mha_from_copies(g, 0, torch, bias, gw);
    nninit__mha_weights mw = {w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]};
    nninit__mha_grads mg = {gw[0], gw[1], gw[2], gw[3], gw[4], gw[5], gw[6], gw[7]};
    float *cache = zalloc((int64_t)nninit__mha_cache_floats(&sp, B, T)), *y = zalloc(r.ny), *dx = zalloc(r.nx);
    nninit__mha_forward(&sp, &mw, r.x, B, T, cache, y);
    nninit__mha_backward(&sp, &mw, r.x, B, T, cache, r.dy, &mg, dx, 0);
    assert_memory_equal(r.y, y, (size_t)r.ny * sizeof *y);
    assert_memory_equal(r.dx, dx, (size_t)r.nx * sizeof *y);
    for (int p = 0; p < r.L->n_params; p++)
        assert_grad_equal(&r, p, g[p]);
    for (int p = 0; p < NNINIT__MAX_PARAMS; p++)
        free(g[p]);
    free(g), free(cache), free(y), free(dx);
    run_free(&r);
}

static void test_attention(void **state)
{
    (void)state;
    check_attention(0, 1, 1, 0);
    check_attention(0, 0, 0, 0);
    check_attention(0, 1, 1, 3); /* Keras key_dim != d / heads */
    check_attention(1, 1, 1, 0);
    check_attention(1, 0, 0, 0);
}

static void check_block(int torch)
{
    nninit_layer_desc d = nninit_layer_desc_default(NNINIT_LAYER_TRANSFORMER);
    d.heads = HEADS;
    d.units = FF;
    d.causal = 1;
    d.epsilon = 1e-5;
    run r;
    run_layer(&d, torch ? NNINIT_LAYOUT_TORCH : NNINIT_LAYOUT_KERAS, &r);
    assert_int_equal(r.L->n_params, torch ? 12 : 16);
    /* the documented order: Keras ln1 (0, 1), attention (2..9), ln2 (10, 11), mlp (12..15);
     * torch attention (0..3), linear1, linear2 (4..7), norm1 (8, 9), norm2 (10, 11) */
    int lnk = torch ? 8 : 0, mk = torch ? 0 : 2, fk = torch ? 4 : 12;
    assert_int_equal(r.L->param[fk].shape.dim[0], torch ? FF : D);
    nninit__block_spec sp = {{D, HEADS, D / HEADS, torch, 1}, FF, 1e-5, 0};
    float *w[8], *gw[8];
    mha_from(r.L, mk, torch, 1, 0, w);
    float **g = grad_copies(r.L);
    mha_from_copies(g, mk, torch, 1, gw);
    const nninit__param *P = r.L->param;
    nninit__block_weights bw = {P[lnk].value, P[lnk + 1].value, P[10].value, P[11].value,
                                {w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]},
                                P[fk].value, P[fk + 1].value, P[fk + 2].value, P[fk + 3].value};
    nninit__block_grads bg = {g[lnk], g[lnk + 1], g[10], g[11], {gw[0], gw[1], gw[2], gw[3], gw[4], gw[5], gw[6], gw[7]},
                              g[fk], g[fk + 1], g[fk + 2], g[fk + 3]};
    float *cache = zalloc((int64_t)nninit__block_cache_floats(&sp, B, T)), *y = zalloc(r.ny), *dx = zalloc(r.nx);
    nninit__block_forward(&sp, &bw, r.x, B, T, cache, y);
    nninit__block_backward(&sp, &bw, r.x, B, T, cache, r.dy, &bg, dx);
    assert_memory_equal(r.y, y, (size_t)r.ny * sizeof *y);
    assert_memory_equal(r.dx, dx, (size_t)r.nx * sizeof *y);
    for (int p = 0; p < r.L->n_params; p++)
        assert_grad_equal(&r, p, g[p]);
    for (int p = 0; p < NNINIT__MAX_PARAMS; p++)
        free(g[p]);
    free(g), free(cache), free(y), free(dx);
    run_free(&r);
}

static void test_transformer(void **state)
{
    (void)state;
    check_block(0);
    check_block(1);
}

static void test_shapes(void **state)
{
    (void)state;
    nninit_layer_desc d[3];
    d[0] = nninit_layer_desc_default(NNINIT_LAYER_EMBEDDING);
    d[0].vocab = 10;
    d[0].units = 6;
    d[1] = nninit_layer_desc_default(NNINIT_LAYER_ATTENTION);
    d[1].heads = 4;
    d[2] = nninit_layer_desc_default(NNINIT_LAYER_DENSE);
    d[2].units = 10;
    nninit_shape ids = {1, {12}}, img = {3, {4, 4, 1}};
    nninit_net *net = NULL;
    nninit_err err = {0};
    /* 6 features, 4 heads, no key_dim */
    assert_int_equal(nninit_net_new_shaped(&ids, d, 3, NULL, &net, &err), NNINIT_EINVAL);
    assert_non_null(strstr(err.msg, "multi_head_attention_0: 6 features do not split into 4 heads"));
    d[1].heads = 2;
    assert_ok(nninit_net_new_shaped(&ids, d, 3, NULL, &net, &err), &err);
    assert_int_equal(nninit_net_n_outputs(net), 12 * 10);
    nninit_net_free(net);
    assert_int_equal(nninit_net_new_shaped(&img, d, 3, NULL, &net, &err), NNINIT_EINVAL);
    assert_non_null(strstr(err.msg, "embedding_0: cannot take the (4, 4, 1) network input; it needs (steps) token ids"));
    d[0] = nninit_layer_desc_default(NNINIT_LAYER_CONV2D);
    d[0].units = 6;
    assert_int_equal(nninit_net_new_shaped(&img, d, 2, NULL, &net, &err), NNINIT_EINVAL);
    assert_non_null(strstr(err.msg, "multi_head_attention_0: cannot take the (2, 2, 6) output of conv2d_0"));
    d[0] = nninit_layer_desc_default(NNINIT_LAYER_POSITION_EMBEDDING);
    d[0].vocab = 4;
    nninit_shape seq = {2, {5, 6}};
    assert_int_equal(nninit_net_new_shaped(&seq, d, 1, NULL, &net, &err), NNINIT_EINVAL);
    assert_non_null(strstr(err.msg, "has 5 steps, its table 4 rows"));
}

/* Embedding(padding_idx=k), as torch.nn.Embedding trains it: row k is zero
 * at init and gets no gradient, so it stays zero through optimizer steps
 * (momentum included) while the rows that are read move. From a recipe a
 * negative index counts from the end; out of range is refused. */
static void test_padding_idx(void **state)
{
    (void)state;
    nninit_layer_desc d = nninit_layer_desc_default(NNINIT_LAYER_EMBEDDING);
    assert_int_equal(d.padding_idx, -1);
    d.vocab = VOCAB;
    d.units = D;
    d.padding_idx = 3;
    nninit_shape in = {1, {T}};
    nninit_net_opts no = nninit_net_opts_default();
    no.layout = NNINIT_LAYOUT_TORCH;
    nninit_net *net = NULL;
    nninit_err err = {0};
    assert_ok(nninit_net_new_shaped(&in, &d, 1, &no, &net, &err), &err);
    const nninit__param *p = &net->layers[0].param[0];
    float before[VOCAB * D];
    memcpy(before, p->value, sizeof before);
    for (int v = 0; v < VOCAB; v++) {
        double s = 0;
        for (int j = 0; j < D; j++)
            s += fabs(before[v * D + j]);
        assert_true(v == 3 ? s == 0.0 : s > 0.0);
    }
    float x[B * T], dy[B * T * D];
    for (int e = 0; e < B * T; e++)
        x[e] = (float)(e * 3 % VOCAB); /* every id, 3 included */
    for (int e = 0; e < B * T * D; e++)
        dy[e] = urandf();
    nninit_optim_opts o = nninit_optim_opts_default();
    o.momentum = 0.9;
    for (int step = 0; step < 3; step++) {
        assert_ok(nninit_net_forward(net, x, B, 1, NULL, &err), &err);
        assert_ok(nninit_net_backward(net, dy, 0, &err), &err);
        for (int j = 0; j < D; j++)
            assert_true(p->grad[3 * D + j] == 0.0f);
        assert_ok(nninit_net_step(net, &o, 0.1, &err), &err);
    }
    for (int v = 0; v < VOCAB; v++)
        for (int j = 0; j < D; j++)
            assert_true(v == 3 ? p->value[v * D + j] == 0.0f : p->value[v * D + j] != before[v * D + j]);
    nninit_net_free(net);
    d.padding_idx = VOCAB;
    assert_int_equal(nninit_net_new_shaped(&in, &d, 1, &no, &net, &err), NNINIT_EINVAL);
    assert_non_null(strstr(err.msg, "padding_idx 7; expected -1 (none) or 0 .. 6"));

    nninit_layer_desc *ld = NULL;
    int n = 0;
    assert_ok(nninit_net_desc_parse_torch("Sequential(Embedding(7, 8, padding_idx=-1))", &ld, &n, &err), &err);
    assert_int_equal(n, 1);
    assert_int_equal(ld[0].padding_idx, 6);
    nninit_free(ld);
    assert_ok(nninit_net_desc_parse_torch("Sequential(Embedding(7, 8))", &ld, &n, &err), &err);
    assert_int_equal(ld[0].padding_idx, -1);
    nninit_free(ld);
    assert_int_equal(nninit_net_desc_parse_torch("Sequential(Embedding(7, 8, padding_idx=7))", &ld, &n, &err),
                     NNINIT_EINVAL);
    assert_non_null(strstr(err.msg, "Embedding(): padding_idx must be an integer within num_embeddings (-7 .. 6)"));
}

/* GELU's tanh form by name: nninit's "gelu_tanh", Keras JSON's keras_hub
 * gelu_approximate (on Dense and on TransformerBlock, which then runs its MLP
 * with the tanh form), torch's GELU(approximate='tanh'); other approximate
 * values are refused. */
static void test_gelu_tanh_names(void **state)
{
    (void)state;
    nninit_act act;
    double alpha;
    nninit_err err = {0};
    assert_ok(nninit_act_parse("gelu_tanh", &act, &alpha, &err), &err);
    assert_int_equal(act, NNINIT_ACT_GELU_TANH);
    assert_string_equal(nninit_act_name(NNINIT_ACT_GELU_TANH), "gelu_tanh");
    nninit_layer_desc *ld = NULL;
    int n = 0;
    assert_ok(nninit_net_desc_parse_torch("Sequential(Linear(4, 3), GELU(approximate='tanh'), Linear(3, 2), GELU())",
                                          &ld, &n, &err), &err);
    assert_int_equal(n, 4); /* activation modules are layers of their own */
    assert_int_equal(ld[1].kind, NNINIT_LAYER_ACTIVATION);
    assert_int_equal(ld[1].act, NNINIT_ACT_GELU_TANH);
    assert_int_equal(ld[3].act, NNINIT_ACT_GELU);
    nninit_free(ld);
    assert_int_equal(nninit_net_desc_parse_torch("Sequential(Linear(4, 3), GELU(approximate='erf'))", &ld, &n, &err),
                     NNINIT_EINVAL);
    assert_non_null(strstr(err.msg, "GELU(): approximate must be 'none' or 'tanh'"));
    const char *keras = "{\"class_name\": \"Sequential\", \"config\": {\"layers\": ["
                        "{\"class_name\": \"Dense\", \"config\": {\"units\": 3, \"activation\": "
                        "\"keras_hub>gelu_approximate\"}},"
                        "{\"class_name\": \"Dense\", \"config\": {\"units\": 3, \"activation\": \"gelu\"}}]}}";
    assert_ok(nninit_net_desc_parse_json(keras, &ld, &n, &err), &err);
    assert_int_equal(ld[0].act, NNINIT_ACT_GELU_TANH);
    assert_int_equal(ld[1].act, NNINIT_ACT_GELU);
    nninit_free(ld);
    /* a transformer block with the tanh form runs its MLP through it */
    const char *tf = "{\"class_name\": \"Sequential\", \"config\": {\"layers\": ["
                     "{\"class_name\": \"TransformerBlock\", \"config\": {\"num_heads\": 2, "
                     "\"intermediate_dim\": 12, \"activation\": \"gelu_approximate\"}}]}}";
    assert_ok(nninit_net_desc_parse_json(tf, &ld, &n, &err), &err);
    assert_int_equal(ld[0].act, NNINIT_ACT_GELU_TANH);
    nninit_shape in = {2, {T, D}};
    nninit_net *net = NULL;
    assert_ok(nninit_net_new_shaped(&in, ld, 1, NULL, &net, &err), &err);
    assert_int_equal(net->layers[0].block->gelu_approximate, 1);
    nninit_net_free(net);
    ld[0].act = NNINIT_ACT_GELU;
    assert_ok(nninit_net_new_shaped(&in, ld, 1, NULL, &net, &err), &err);
    assert_int_equal(net->layers[0].block->gelu_approximate, 0);
    nninit_net_free(net);
    ld[0].act = NNINIT_ACT_RELU;
    assert_int_equal(nninit_net_new_shaped(&in, ld, 1, NULL, &net, &err), NNINIT_EINVAL);
    assert_non_null(strstr(err.msg, "the block's MLP is gelu or gelu_tanh"));
    nninit_free(ld);
}

/* A 1-layer causal transformer (embedding, position embedding, block, final
 * norm, dense head) learns the task "output the token before": with the
 * causal mask it can only do so through attention to step t - 1. Chance is
 * ln 8 = 2.08 nats; after 300 Adam steps the loss must be under 0.1. */
static void test_learns_previous_token(void **state)
{
    (void)state;
    enum { V = 8, S = 10, E = 16, N = 32 };
    nninit_layer_desc d[5];
    d[0] = nninit_layer_desc_default(NNINIT_LAYER_EMBEDDING);
    d[0].vocab = V;
    d[0].units = E;
    d[1] = nninit_layer_desc_default(NNINIT_LAYER_POSITION_EMBEDDING);
    d[1].vocab = S;
    d[2] = nninit_layer_desc_default(NNINIT_LAYER_TRANSFORMER);
    d[2].heads = 2;
    d[2].units = 32;
    d[2].causal = 1;
    d[3] = nninit_layer_desc_default(NNINIT_LAYER_LAYER_NORM);
    d[4] = nninit_layer_desc_default(NNINIT_LAYER_DENSE);
    d[4].units = V;
    nninit_shape in = {1, {S}};
    nninit_net *net = NULL;
    nninit_err err = {0};
    assert_ok(nninit_net_new_shaped(&in, d, 5, NULL, &net, &err), &err);
    float x[N * S], dout[N * S * V];
    int32_t y[N * S];
    nninit_optim_opts o = nninit_optim_opts_default();
    o.kind = NNINIT_OPT_ADAM;
    double loss = 0;
    for (int step = 0; step < 300; step++) {
        for (int i = 0; i < N * S; i++) {
            lcg = lcg * 6364136223846793005ull + 1442695040888963407ull;
            x[i] = (float)((lcg >> 33) % V);
            y[i] = i % S ? (int32_t)x[i - 1] : 0; /* step 0 has no token before: class 0 */
        }
        const float *out;
        assert_ok(nninit_net_forward(net, x, N, 1, &out, &err), &err);
        assert_ok(nninit_loss(NNINIT_LOSS_SOFTMAX_CE, out, N * S, V, y, NULL, &loss, dout, &err), &err);
        assert_ok(nninit_net_backward(net, dout, 0, &err), &err);
        assert_ok(nninit_net_step(net, &o, 0.01, &err), &err);
    }
    printf("# previous-token loss after 300 steps: %.4f\n", loss);
    assert_true(loss < 0.1);
    nninit_net_free(net);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_embeddings), cmocka_unit_test(test_norms),
                                       cmocka_unit_test(test_attention), cmocka_unit_test(test_transformer),
                                       cmocka_unit_test(test_shapes), cmocka_unit_test(test_padding_idx), cmocka_unit_test(test_gelu_tanh_names),
                                       cmocka_unit_test(test_learns_previous_token)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
