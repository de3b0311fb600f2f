/* The sequence kernels against PyTorch 1.13 on identical weights and inputs
 * (tests/fixtures/nn/torch_seq.txt, made by tests/fixtures/make_seq_fixtures.py):
 * outputs and every gradient of RNN (tanh, relu), LSTM, GRU (sequences and
 * last state), causal and full MultiheadAttention, LayerNorm, GELU (both
 * forms), Embedding(padding_idx) and a pre-LN TransformerEncoderLayer.
 * The Keras layouts are checked on the same fixtures by rearranging
 * PyTorch's weights as Keras stores them (transposed kernels; GRU gates
 * z, r, h instead of r, z, n; one LSTM bias = b_ih + b_hh; the GRU bias
 * rows = b_ih, b_hh): the same function, so the same values.
 *
 * Tolerance: max |nninit - torch| <= 1e-5 max |torch| per tensor (relative to
 * the tensor's scale, so values near 0 are not judged on their own). Both
 * compute in float32 in other orders; the largest differences measured were
 * ~1e-6 of the scale (the text fixtures carry 9 digits). */
#include "fixture_txt.h"

#include "nn/internal.h"

#define RTOL 1e-5

static fx_file FX;

static int setup(void **state)
{
    (void)state;
    return fx_load(&FX, "nn/torch_seq.txt");
}

static int teardown(void **state)
{
    (void)state;
    fx_free(&FX);
    return 0;
}

static const fx_tensor *get(const char *prefix, const char *what)
{
    char name[96];
    snprintf(name, sizeof name, "%s_%s", prefix, what);
    return fx_get(&FX, name);
}

static double worst = 0; /* largest relative difference seen, printed at the end */
/* the same per layer (the first word of `what`), for the table of the closing note */
static struct {
    char layer[32];
    double worst;
} per_layer[64];

static void note_layer(const char *what, double rel)
{
    char name[32];
    size_t n = strcspn(what, " ");
    snprintf(name, sizeof name, "%.*s", (int)(n < 31 ? n : 31), what);
    int k = 0;
    while (k < 64 && per_layer[k].layer[0] && strcmp(per_layer[k].layer, name))
        k++;
    if (k == 64)
        return;
    if (!per_layer[k].layer[0])
        memcpy(per_layer[k].layer, name, sizeof name);
    per_layer[k].worst = fmax(per_layer[k].worst, rel);
}

/* got (n floats, as laid out by `map`: got[i] compared to want[map[i]], or
 * in order when map is NULL) against a torch tensor */
static void expect(const char *what, const float *got, const fx_tensor *want, const int64_t *map)
{
    double scale = 0, diff = 0;
    for (int64_t i = 0; i < want->n; i++)
        scale = fmax(scale, fabs(want->v[i]));
    for (int64_t i = 0; i < want->n; i++) {
        double w = want->v[map ? map[i] : i];
        diff = fmax(diff, fabs((double)got[i] - w));
        if (!(fabs((double)got[i] - w) <= RTOL * scale)) {
            print_error("%s[%ld]: nninit %.9g, torch %.9g, tol %.3g\n", what, (long)i, (double)got[i], w,
                        RTOL * scale);
            fail();
        }
    }
    assert_true(scale > 0);
    worst = fmax(worst, diff / scale);
    note_layer(what, diff / scale);
}

/* ---- recurrent ---- */

/* Keras index of a torch (G H, cols) weight transposed to (cols, G H), with
 * gate blocks reordered: keras block kb holds torch block perm[kb]. map[i]
 * = torch index of Keras element i. */
static int64_t *keras_map(int64_t G, int64_t H, int64_t cols, const int *perm)
{
    int64_t *m = malloc((size_t)(G * H * cols) * sizeof(int64_t));
    for (int64_t c = 0; c < cols; c++)
        for (int64_t kb = 0; kb < G; kb++)
            for (int64_t j = 0; j < H; j++)
                m[c * G * H + kb * H + j] = (perm[kb] * H + j) * cols + c;
    return m;
}

static float *gather(const fx_tensor *t, const int64_t *map, int64_t n)
{
    float *o = malloc((size_t)n * sizeof(float));
    for (int64_t i = 0; i < n; i++)
        o[i] = (float)t->v[map[i]];
    return o;
}

static void rnn_case(const char *prefix, nninit__rnn_cell cell, int relu, int retseq, int keras)
{
    const int64_t N = 3, T = 6, n_in = 5, H = 7;
    int G = nninit__rnn_gates(cell);
    int64_t GH = G * H;
    nninit__rnn_spec s = {cell, !keras, 1, relu, retseq, n_in, H};
    const fx_tensor *wih = get(prefix, "weight_ih_l0"), *whh = get(prefix, "weight_hh_l0");
    const fx_tensor *bih = get(prefix, "bias_ih_l0"), *bhh = get(prefix, "bias_hh_l0");
    int ident[4] = {0, 1, 2, 3}, gru_perm[3] = {1, 0, 2}; /* Keras z, r, h = torch blocks 1, 0, 2 */
    const int *perm = cell == NNINIT__CELL_GRU ? gru_perm : ident;
    int64_t *mk = keras_map(G, H, n_in, perm), *mu = keras_map(G, H, H, perm), *mb = keras_map(G, H, 1, perm);
    float *w, *u, *bi, *br = NULL;
    if (keras) {
        w = gather(wih, mk, n_in * GH);
        u = gather(whh, mu, H * GH);
        bi = gather(bih, mb, GH);
        if (cell == NNINIT__CELL_GRU) {
            br = gather(bhh, mb, GH); /* bias row 1 */
        } else {
            for (int64_t i = 0; i < GH; i++) /* one bias: b_ih + b_hh */
                bi[i] += (float)bhh->v[mb[i]];
        }
    } else {
        w = fx_floats(wih);
        u = fx_floats(whh);
        bi = fx_floats(bih);
        br = fx_floats(bhh);
    }
    float *x = fx_floats(get(prefix, "x")), *dy = fx_floats(get(prefix, "dy"));
    int64_t ny = get(prefix, "y")->n;
    float *y = malloc((size_t)ny * sizeof(float)), *dx = malloc((size_t)(N * T * n_in) * sizeof(float));
    float *dw = malloc((size_t)(n_in * GH) * sizeof(float)), *du = malloc((size_t)(H * GH) * sizeof(float));
    float *dbi = malloc((size_t)GH * sizeof(float)), *dbr = malloc((size_t)GH * sizeof(float));
    float *cache = malloc(nninit__rnn_cache_floats(&s, N, T) * sizeof(float));
    nninit__rnn_weights wt = {w, u, bi, br};
    nninit__rnn_grads gr = {dw, du, dbi, br ? dbr : NULL};
    nninit__rnn_forward(&s, &wt, x, N, T, cache, y);
    nninit__rnn_backward(&s, &wt, N, T, cache, dy, &gr, dx);
    char what[96];
    snprintf(what, sizeof what, "%s %s y", prefix, keras ? "keras" : "torch");
    expect(what, y, get(prefix, "y"), NULL);
    snprintf(what, sizeof what, "%s %s dx", prefix, keras ? "keras" : "torch");
    expect(what, dx, get(prefix, "dx"), NULL);
    snprintf(what, sizeof what, "%s %s dkernel", prefix, keras ? "keras" : "torch");
    expect(what, dw, get(prefix, "dweight_ih_l0"), keras ? mk : NULL);
    snprintf(what, sizeof what, "%s %s drecurrent", prefix, keras ? "keras" : "torch");
    expect(what, du, get(prefix, "dweight_hh_l0"), keras ? mu : NULL);
    snprintf(what, sizeof what, "%s %s dbias_in", prefix, keras ? "keras" : "torch");
    expect(what, dbi, get(prefix, "dbias_ih_l0"), keras ? mb : NULL);
    if (br) {
        snprintf(what, sizeof what, "%s %s dbias_rec", prefix, keras ? "keras" : "torch");
        expect(what, dbr, get(prefix, "dbias_hh_l0"), keras ? mb : NULL);
    }
    free(mk), free(mu), free(mb), free(w), free(u), free(bi), free(br), free(x), free(dy), free(y), free(dx);
    free(dw), free(du), free(dbi), free(dbr), free(cache);
}

static void test_rnn(void **state)
{
    (void)state;
    for (int keras = 0; keras < 2; keras++) {
        rnn_case("rnn_tanh", NNINIT__CELL_SIMPLE, 0, 1, keras);
        rnn_case("rnn_relu", NNINIT__CELL_SIMPLE, 1, 1, keras);
    }
}

static void test_lstm(void **state)
{
    (void)state;
    for (int keras = 0; keras < 2; keras++) {
        rnn_case("lstm", NNINIT__CELL_LSTM, 0, 1, keras);
        rnn_case("lstm_last", NNINIT__CELL_LSTM, 0, 0, keras);
    }
}

static void test_gru(void **state)
{
    (void)state;
    for (int keras = 0; keras < 2; keras++) {
        rnn_case("gru", NNINIT__CELL_GRU, 0, 1, keras);
        rnn_case("gru_last", NNINIT__CELL_GRU, 0, 0, keras);
    }
}

/* ---- attention, block ---- */

enum { N_ = 3, T_ = 6, D_ = 8, HEADS_ = 2, FF_ = 16 };

/* A (rows, cols) torch weight starting at row r0, as a Keras (cols, rows) kernel. */
static float *transposed(const fx_tensor *t, int64_t r0, int64_t rows, int64_t cols, int64_t **map_out)
{
    int64_t *m = malloc((size_t)(rows * cols) * sizeof(int64_t));
    for (int64_t c = 0; c < cols; c++)
        for (int64_t r = 0; r < rows; r++)
            m[c * rows + r] = (r0 + r) * cols + c;
    float *o = gather(t, m, rows * cols);
    if (map_out)
        *map_out = m;
    else
        free(m);
    return o;
}

/* The attention weights of a torch MultiheadAttention (prefix + "in_proj_weight", ...)
 * in the chosen layout, with maps from each Keras gradient to torch's. */
typedef struct mha_set {
    float *p[8];
    int64_t *map[8]; /* NULL: torch order */
} mha_set;

static void mha_set_make(mha_set *m, const char *prefix, const char *sub, int keras)
{
    char n1[64], n2[64], n3[64], n4[64];
    snprintf(n1, sizeof n1, "%sin_proj_weight", sub);
    snprintf(n2, sizeof n2, "%sin_proj_bias", sub);
    snprintf(n3, sizeof n3, "%sout_proj.weight", sub);
    snprintf(n4, sizeof n4, "%sout_proj.bias", sub);
    const fx_tensor *w = get(prefix, n1), *b = get(prefix, n2), *wo = get(prefix, n3), *bo = get(prefix, n4);
    memset(m, 0, sizeof *m);
    for (int i = 0; i < 3; i++) {
        m->p[3 + i] = malloc(D_ * sizeof(float));
        for (int j = 0; j < D_; j++)
            m->p[3 + i][j] = (float)b->v[i * D_ + j];
        if (keras) {
            m->p[i] = transposed(w, i * D_, D_, D_, &m->map[i]);
            for (int j = 0; j < D_ * D_; j++) /* the gradient is compared with block i alone */
                m->map[i][j] -= i * D_ * D_;
        } else {
            m->p[i] = malloc(D_ * D_ * sizeof(float));
            for (int j = 0; j < D_ * D_; j++)
                m->p[i][j] = (float)w->v[i * D_ * D_ + j];
        }
    }
    m->p[6] = keras ? transposed(wo, 0, D_, D_, &m->map[6]) : fx_floats(wo);
    m->p[7] = fx_floats(bo);
}

static void mha_set_free(mha_set *m)
{
    for (int i = 0; i < 8; i++) {
        free(m->p[i]);
        free(m->map[i]);
    }
}

/* the block i of 3 of a torch in_proj tensor (its gradient) as its own tensor */
static fx_tensor third(const fx_tensor *t, int i)
{
    fx_tensor o = *t;
    o.n = t->n / 3;
    o.v = t->v + i * o.n;
    return o;
}

static void expect_mha_grads(const char *label, const char *prefix, const char *sub, const nninit__mha_grads *g,
                             const mha_set *m)
{
    char n1[64], n2[64], n3[64], n4[64], what[128];
    snprintf(n1, sizeof n1, "d%sin_proj_weight", sub);
    snprintf(n2, sizeof n2, "d%sin_proj_bias", sub);
    snprintf(n3, sizeof n3, "d%sout_proj.weight", sub);
    snprintf(n4, sizeof n4, "d%sout_proj.bias", sub);
    const float *gw[3] = {g->wq, g->wk, g->wv}, *gb[3] = {g->bq, g->bk, g->bv};
    for (int i = 0; i < 3; i++) {
        fx_tensor w = third(get(prefix, n1), i), b = third(get(prefix, n2), i);
        snprintf(what, sizeof what, "%s %s dw%c", prefix, label, "qkv"[i]);
        expect(what, gw[i], &w, m->map[i]);
        if (i != 1) { /* the key bias gradient is exactly 0 on both sides (softmax shift invariance) */
            snprintf(what, sizeof what, "%s %s db%c", prefix, label, "qkv"[i]);
            expect(what, gb[i], &b, NULL);
        } else {
            for (int j = 0; j < D_; j++)
                assert_true(fabs((double)gb[i][j]) <= 1e-6 && fabs(b.v[j]) <= 1e-6);
        }
    }
    snprintf(what, sizeof what, "%s %s dwo", prefix, label);
    expect(what, g->wo, get(prefix, n3), m->map[6]);
    snprintf(what, sizeof what, "%s %s dbo", prefix, label);
    expect(what, g->bo, get(prefix, n4), NULL);
}

static float *buf(int64_t n) { return malloc((size_t)n * sizeof(float)); }

static void mha_case(const char *prefix, int causal, int keras)
{
    nninit__mha_spec s = {D_, HEADS_, D_ / HEADS_, !keras, causal};
    mha_set m;
    mha_set_make(&m, prefix, "", keras);
    nninit__mha_weights w = {m.p[0], m.p[1], m.p[2], m.p[3], m.p[4], m.p[5], m.p[6], m.p[7]};
    float *g[8];
    for (int i = 0; i < 8; i++)
        g[i] = buf(i < 3 || i == 6 ? D_ * D_ : D_);
    nninit__mha_grads gr = {g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7]};
    float *x = fx_floats(get(prefix, "x")), *dy = fx_floats(get(prefix, "dy"));
    float *y = buf(N_ * T_ * D_), *dx = buf(N_ * T_ * D_), *cache = buf((int64_t)nninit__mha_cache_floats(&s, N_, T_));
    nninit__mha_forward(&s, &w, x, N_, T_, cache, y);
    nninit__mha_backward(&s, &w, x, N_, T_, cache, dy, &gr, dx, 0);
    const char *label = keras ? "keras" : "torch";
    char what[96];
    snprintf(what, sizeof what, "%s %s y", prefix, label);
    expect(what, y, get(prefix, "y"), NULL);
    snprintf(what, sizeof what, "%s %s dx", prefix, label);
    expect(what, dx, get(prefix, "dx"), NULL);
    expect_mha_grads(label, prefix, "", &gr, &m);
    mha_set_free(&m);
    for (int i = 0; i < 8; i++)
        free(g[i]);
    free(x), free(dy), free(y), free(dx), free(cache);
}

static void test_attention(void **state)
{
    (void)state;
    for (int keras = 0; keras < 2; keras++) {
        mha_case("mha", 1, keras);
        mha_case("mha_full", 0, keras);
    }
}

static void test_block(void **state)
{
    (void)state;
    const char *P = "block";
    for (int keras = 0; keras < 2; keras++) {
        nninit__block_spec s = {{D_, HEADS_, D_ / HEADS_, !keras, 1}, FF_, 1e-5, 0};
        mha_set m;
        mha_set_make(&m, P, "self_attn.", keras);
        int64_t *m1 = NULL, *m2 = NULL;
        const fx_tensor *l1 = get(P, "linear1.weight"), *l2 = get(P, "linear2.weight");
        float *w1 = keras ? transposed(l1, 0, FF_, D_, &m1) : fx_floats(l1);
        float *w2 = keras ? transposed(l2, 0, D_, FF_, &m2) : fx_floats(l2);
        float *ln[4] = {fx_floats(get(P, "norm1.weight")), fx_floats(get(P, "norm1.bias")),
                        fx_floats(get(P, "norm2.weight")), fx_floats(get(P, "norm2.bias"))};
        float *b1 = fx_floats(get(P, "linear1.bias")), *b2 = fx_floats(get(P, "linear2.bias"));
        nninit__block_weights w = {ln[0], ln[1], ln[2], ln[3],
                                   {m.p[0], m.p[1], m.p[2], m.p[3], m.p[4], m.p[5], m.p[6], m.p[7]},
                                   w1, b1, w2, b2};
        float *g[8], *gln[4], *gw1 = buf(D_ * FF_), *gb1 = buf(FF_), *gw2 = buf(D_ * FF_), *gb2 = buf(D_);
        for (int i = 0; i < 8; i++)
            g[i] = buf(i < 3 || i == 6 ? D_ * D_ : D_);
        for (int i = 0; i < 4; i++)
            gln[i] = buf(D_);
        nninit__block_grads gr = {gln[0], gln[1], gln[2], gln[3], {g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7]},
                                  gw1, gb1, gw2, gb2};
        float *x = fx_floats(get(P, "x")), *dy = fx_floats(get(P, "dy"));
        float *y = buf(N_ * T_ * D_), *dx = buf(N_ * T_ * D_);
        float *cache = buf((int64_t)nninit__block_cache_floats(&s, N_, T_));
        nninit__block_forward(&s, &w, x, N_, T_, cache, y);
        nninit__block_backward(&s, &w, x, N_, T_, cache, dy, &gr, dx);
        const char *label = keras ? "block keras" : "block torch";
        char what[96];
        snprintf(what, sizeof what, "%s y", label);
        expect(what, y, get(P, "y"), NULL);
        snprintf(what, sizeof what, "%s dx", label);
        expect(what, dx, get(P, "dx"), NULL);
        static const char *lnn[4] = {"dnorm1.weight", "dnorm1.bias", "dnorm2.weight", "dnorm2.bias"};
        for (int i = 0; i < 4; i++) {
            snprintf(what, sizeof what, "%s %s", label, lnn[i]);
            expect(what, gln[i], get(P, lnn[i]), NULL);
        }
        expect_mha_grads(label, P, "self_attn.", &gr.mha, &m);
        snprintf(what, sizeof what, "%s dlinear1.weight", label);
        expect(what, gw1, get(P, "dlinear1.weight"), m1);
        snprintf(what, sizeof what, "%s dlinear2.weight", label);
        expect(what, gw2, get(P, "dlinear2.weight"), m2);
        expect("block dlinear1.bias", gb1, get(P, "dlinear1.bias"), NULL);
        expect("block dlinear2.bias", gb2, get(P, "dlinear2.bias"), NULL);
        mha_set_free(&m);
        for (int i = 0; i < 8; i++)
            free(g[i]);
        for (int i = 0; i < 4; i++)
            free(gln[i]), free(ln[i]);
        free(m1), free(m2), free(w1), free(w2), free(b1), free(b2), free(gw1), free(gb1), free(gw2), free(gb2);
        free(x), free(dy), free(y), free(dx), free(cache);
    }
}

/* ---- layer norm, GELU, embedding ---- */

static void test_layer_norm(void **state)
{
    (void)state;
    const int64_t R = N_ * T_;
    float *x = fx_floats(get("ln", "x")), *dy = fx_floats(get("ln", "dy"));
    float *gamma = fx_floats(get("ln", "weight")), *beta = fx_floats(get("ln", "bias"));
    float *xhat = buf(R * D_), *mean = buf(R), *inv = buf(R), *y = buf(R * D_), *dx = buf(R * D_);
    float *dg = buf(D_), *db = buf(D_);
    nninit__norm_forward(NNINIT__NORM_LAYER, x, R, D_, gamma, beta, 1e-5, xhat, mean, inv, y);
    nninit__norm_backward(NNINIT__NORM_LAYER, xhat, mean, inv, gamma, dy, R, D_, dg, db, dx);
    expect("ln y", y, get("ln", "y"), NULL);
    expect("ln dx", dx, get("ln", "dx"), NULL);
    expect("ln dweight", dg, get("ln", "dweight"), NULL);
    expect("ln dbias", db, get("ln", "dbias"), NULL);
    free(x), free(dy), free(gamma), free(beta), free(xhat), free(mean), free(inv), free(y), free(dx), free(dg);
    free(db);
}

static void test_gelu(void **state)
{
    (void)state;
    for (int approx = 0; approx < 2; approx++) {
        const char *p = approx ? "gelu_tanh" : "gelu_none";
        const fx_tensor *tx = get(p, "x");
        float *x = fx_floats(tx), *dy = fx_floats(get(p, "dy")), *y = buf(tx->n), *dx = buf(tx->n);
        float *keep = buf(tx->n);
        nninit__gelu_forward(approx, x, tx->n, y, keep); /* as the transformer block runs it */
        nninit__gelu_backward(approx, x, keep, dy, tx->n, dx);
        free(keep);
        char what[64];
        snprintf(what, sizeof what, "%s y", p);
        expect(what, y, get(p, "y"), NULL);
        snprintf(what, sizeof what, "%s dx", p);
        expect(what, dx, get(p, "dx"), NULL);
        /* the engine's activations gelu and gelu_tanh (Dense, Activation,
         * torch GELU()) are these kernels: the same bits */
        nninit_act act = approx ? NNINIT_ACT_GELU_TANH : NNINIT_ACT_GELU;
        float *ya = buf(tx->n), *dxa = buf(tx->n);
        nninit_act_forward(act, 0.0, x, ya, 1, tx->n);
        nninit_act_backward(act, 0.0, x, ya, dy, dxa, 1, tx->n);
        assert_memory_equal(ya, y, (size_t)tx->n * sizeof *ya);
        assert_memory_equal(dxa, dx, (size_t)tx->n * sizeof *dxa);
        free(ya), free(dxa);
        free(x), free(dy), free(y), free(dx);
    }
}

static void test_embedding(void **state)
{
    (void)state;
    const fx_tensor *tid = get("emb", "ids"), *tw = get("emb", "weight");
    int32_t ids[64];
    assert_true(tid->n <= 64);
    for (int64_t i = 0; i < tid->n; i++)
        ids[i] = (int32_t)tid->v[i];
    const int64_t V = 11, D = 4;
    float *w = fx_floats(tw), *dy = fx_floats(get("emb", "dy")), *y = buf(tid->n * D), *dw = buf(V * D);
    nninit_err err;
    assert_ok(nninit__embedding_forward(ids, tid->n, w, V, D, y, &err), &err);
    nninit__embedding_backward(ids, tid->n, dy, V, D, 3, dw);
    expect("emb y", y, get("emb", "y"), NULL);
    expect("emb dweight", dw, get("emb", "dweight"), NULL);
    free(w), free(dy), free(y), free(dw);
}

static void test_report(void **state)
{
    (void)state;
    printf("largest |nninit - torch| / max|torch| over all tensors: %.3g\n", worst);
    for (int k = 0; k < 64 && per_layer[k].layer[0]; k++)
        printf("  %-24s %.3g\n", per_layer[k].layer, per_layer[k].worst);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rnn),       cmocka_unit_test(test_lstm),      cmocka_unit_test(test_gru),
        cmocka_unit_test(test_attention), cmocka_unit_test(test_block),     cmocka_unit_test(test_layer_norm),
        cmocka_unit_test(test_gelu),      cmocka_unit_test(test_embedding), cmocka_unit_test(test_report),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
