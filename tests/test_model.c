/* Whole models: PyTorch recipes against state_dicts made by PyTorch 1.13
 * (tests/fixtures/make_torch_model_fixtures.py), bit for bit with the torch
 * generator; names, shapes and order; Philox per-name streams; dtypes;
 * recipe errors. Keras and spec models: see test_model_keras.c. */
#include "util.h"
#include "model/internal.h" /* nninit__keras_snake_case */

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmpdir[256];

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/nninit_test_model_XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    test_clear_dir(tmpdir);
    rmdir(tmpdir);
    return 0;
}

/* Compares every tensor of `got` with `want` (same names, order, dtype,
 * shape, bytes). */
static void assert_same_tensors(nninit_tensor_file *want, nninit_tensor_file *got, const char *label, int ordered)
{
    nninit_err err;
    assert_int_equal(nninit_tensor_file_count(got), nninit_tensor_file_count(want));
    for (size_t i = 0; i < nninit_tensor_file_count(want); i++) {
        const nninit_tensor_info *w = nninit_tensor_file_info(want, i);
        size_t k;
        if (nninit_tensor_file_find(got, w->name, &k, &err) != NNINIT_OK)
            fail_msg("%s: tensor '%s' missing", label, w->name);
        if (ordered)
            assert_int_equal(k, i);
        const nninit_tensor_info *g = nninit_tensor_file_info(got, k);
        if (g->dtype != w->dtype || g->shape.ndim != w->shape.ndim || g->nbytes != w->nbytes)
            fail_msg("%s: tensor '%s' dtype/shape differ", label, w->name);
        for (int d = 0; d < w->shape.ndim; d++)
            assert_int_equal(g->shape.dim[d], w->shape.dim[d]);
        unsigned char *a = malloc(w->nbytes + 1), *b = malloc(w->nbytes + 1);
        assert_ok(nninit_tensor_file_read(want, i, a, &err), &err);
        assert_ok(nninit_tensor_file_read(got, k, b, &err), &err);
        if (memcmp(a, b, w->nbytes)) {
            size_t j = 0;
            while (j < w->nbytes && a[j] == b[j])
                j++;
            fail_msg("%s: tensor '%s' differs from PyTorch at byte %zu of %llu", label, w->name, j,
                     (unsigned long long)w->nbytes);
        }
        free(a);
        free(b);
    }
}

static void test_torch_recipes_bit_exact(void **state)
{
    (void)state;
    char path[512], line[1024];
    FILE *f = fopen(test_fixture("torch_models/recipes.txt", path, sizeof path), "r");
    assert_non_null(f);
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        char *name = strtok(line, "\t"), *seed = strtok(NULL, "\t"), *recipe = strtok(NULL, "\n");
        assert_non_null(recipe);
        nninit_err err;
        nninit_model *m;
        assert_ok(nninit_model_from_torch(recipe, &m, &err), &err);
        nninit_model_opts o = nninit_model_opts_default();
        o.rng = NNINIT_RNG_TORCH;
        o.seed = (uint64_t)strtoll(seed, NULL, 10);
        char out[600], fx[256];
        snprintf(out, sizeof out, "%s/%s.safetensors", tmpdir, name);
        assert_ok(nninit_model_write(m, out, &o, &err), &err);
        snprintf(fx, sizeof fx, "torch_models/%s.npz", name);
        nninit_tensor_file *want, *got;
        assert_ok(nninit_tensor_file_open(test_fixture(fx, path, sizeof path), &want, &err), &err);
        assert_ok(nninit_tensor_file_open(out, &got, &err), &err);
        /* state_dict order is the model's order */
        assert_int_equal(nninit_model_count(m), nninit_tensor_file_count(want));
        for (size_t i = 0; i < nninit_model_count(m); i++) {
            nninit_model_tensor t;
            assert_non_null(nninit_model_tensor_at(m, i, &t));
            assert_string_equal(t.name, nninit_tensor_file_info(want, i)->name);
        }
        assert_same_tensors(want, got, name, 0);
        assert_string_equal(nninit_tensor_file_metadata(got, "format"), "pt");
        assert_string_equal(nninit_tensor_file_metadata(got, "nninit.seed"), seed);
        nninit_tensor_file_free(want);
        nninit_tensor_file_free(got);
        nninit_model_free(m);
        unlink(out);
        n++;
    }
    fclose(f);
    assert_true(n >= 7);
}

/* Philox: tensor "2.weight" is nninit_fill with stream
 * nninit_stream_from_name("2.weight"), whatever else is in the model. */
static void test_philox_streams_by_name(void **state)
{
    (void)state;
    nninit_err err;
    nninit_model *a, *b;
    assert_ok(nninit_model_from_torch("Sequential(Linear(20, 16), ReLU(), Linear(16, 4))", &a, &err), &err);
    assert_ok(nninit_model_from_torch("Sequential(Linear(3, 5), Tanh(), Linear(16, 4))", &b, &err), &err);
    nninit_model_opts o = nninit_model_opts_default();
    o.seed = 99;
    o.write.format = NNINIT_FORMAT_NPZ;
    char pa[600], pb[600];
    snprintf(pa, sizeof pa, "%s/a.npz", tmpdir);
    snprintf(pb, sizeof pb, "%s/b.npz", tmpdir);
    assert_ok(nninit_model_write(a, pa, &o, &err), &err);
    assert_ok(nninit_model_write(b, pb, &o, &err), &err);
    nninit_tensor_file *ta, *tb;
    assert_ok(nninit_tensor_file_open(pa, &ta, &err), &err);
    assert_ok(nninit_tensor_file_open(pb, &tb, &err), &err);
    size_t ka, kb;
    assert_ok(nninit_tensor_file_find(ta, "2.weight", &ka, &err), &err);
    assert_ok(nninit_tensor_file_find(tb, "2.weight", &kb, &err), &err);
    float wa[64], wb[64], want[64];
    assert_ok(nninit_tensor_file_read(ta, ka, wa, &err), &err);
    assert_ok(nninit_tensor_file_read(tb, kb, wb, &err), &err);
    assert_memory_equal(wa, wb, sizeof wa); /* same name, same values, other layers irrelevant */
    nninit_rng *rng;
    assert_ok(nninit_rng_new(NNINIT_RNG_PHILOX, 99, &rng, &err), &err);
    nninit_init init = nninit_init_default(NNINIT_TORCH_KAIMING_UNIFORM);
    init.neg_slope = sqrt(5.0);
    nninit_fill_opts fo = nninit_fill_opts_default();
    fo.layout = NNINIT_LAYOUT_TORCH;
    fo.stream = nninit_stream_from_name("2.weight");
    nninit_shape sh = {2, {4, 16}};
    assert_ok(nninit_fill(&init, &sh, &fo, rng, want, &err), &err);
    assert_memory_equal(wa, want, sizeof want);
    nninit_rng_free(rng);
    nninit_tensor_file_free(ta);
    nninit_tensor_file_free(tb);
    nninit_model_free(a);
    nninit_model_free(b);
}

/* Reads tensor `name` of a fixture file into a new buffer. */
static void *fixture_tensor(nninit_tensor_file *tf, const char *name)
{
    nninit_err err;
    size_t k;
    assert_ok(nninit_tensor_file_find(tf, name, &k, &err), &err);
    void *buf = malloc(nninit_tensor_file_info(tf, k)->nbytes + 1);
    assert_ok(nninit_tensor_file_read(tf, k, buf, &err), &err);
    return buf;
}

/* nninit_model_fill into memory: the whole "rnn" and "attention" fixtures
 * (padding row, construction-time draws), and the MLP built as two
 * separate Linear models that continue one torch generator, the way
 * constructing them one after the other does; a NULL destination skips a
 * tensor without changing the others. */
static void test_model_fill_torch(void **state)
{
    (void)state;
    nninit_err err;
    char path[512];
    const char *names[] = {"rnn", "attention"};
    const uint64_t seeds[] = {7, 1};
    const char *recipes[] = {"Sequential(Embedding(10, 6, padding_idx=0), LSTM(6, 5, num_layers=2, bidirectional=True), "
                             "GRU(10, 3), RNN(3, 2, nonlinearity='relu'))",
                             "Sequential(MultiheadAttention(8, 2), LayerNorm(8), MultiheadAttention(6, 3, kdim=4, "
                             "vdim=5, add_bias_kv=True), LayerNorm((2, 3)))"};
    for (int r = 0; r < 2; r++) {
        char fx[64];
        snprintf(fx, sizeof fx, "torch_models/%s.npz", names[r]);
        nninit_tensor_file *want;
        assert_ok(nninit_tensor_file_open(test_fixture(fx, path, sizeof path), &want, &err), &err);
        nninit_model *m;
        assert_ok(nninit_model_from_torch(recipes[r], &m, &err), &err);
        size_t n = nninit_model_count(m);
        void **out = calloc(n, sizeof *out);
        for (size_t i = 0; i < n; i++)
            out[i] = malloc(nninit_tensor_file_info(want, i)->nbytes + 1);
        nninit_rng *rng;
        assert_ok(nninit_rng_new(NNINIT_RNG_TORCH, seeds[r], &rng, &err), &err);
        assert_ok(nninit_model_fill(m, rng, NULL, NNINIT_F32, 1, out, &err), &err);
        for (size_t i = 0; i < n; i++) {
            void *w = fixture_tensor(want, nninit_tensor_file_info(want, i)->name);
            if (memcmp(w, out[i], nninit_tensor_file_info(want, i)->nbytes))
                fail_msg("%s: tensor %s differs from PyTorch", names[r], nninit_tensor_file_info(want, i)->name);
            free(w);
            free(out[i]);
        }
        free(out);
        nninit_rng_free(rng);
        nninit_model_free(m);
        nninit_tensor_file_free(want);
    }

    nninit_tensor_file *mlp;
    assert_ok(nninit_tensor_file_open(test_fixture("torch_models/mlp.npz", path, sizeof path), &mlp, &err), &err);
    nninit_model *l0, *l2;
    assert_ok(nninit_model_from_torch("Linear(20, 16)", &l0, &err), &err);
    assert_ok(nninit_model_from_torch("Linear(16, 4)", &l2, &err), &err);
    float w0[16 * 20], b0[16], w2[4 * 16], b2[4];
    void *o0[2] = {w0, b0}, *o2[2] = {w2, b2};
    nninit_rng *rng;
    assert_ok(nninit_rng_new(NNINIT_RNG_TORCH, 0, &rng, &err), &err);
    assert_ok(nninit_model_fill(l0, rng, "0.", NNINIT_F32, 0, o0, &err), &err);
    assert_ok(nninit_model_fill(l2, rng, "2.", NNINIT_F32, 0, o2, &err), &err);
    const char *mlp_names[] = {"0.weight", "0.bias", "2.weight", "2.bias"};
    void *got[] = {w0, b0, w2, b2};
    size_t sizes[] = {sizeof w0, sizeof b0, sizeof w2, sizeof b2};
    for (int i = 0; i < 4; i++) {
        void *w = fixture_tensor(mlp, mlp_names[i]);
        if (memcmp(w, got[i], sizes[i]))
            fail_msg("mlp in two calls: %s differs from PyTorch", mlp_names[i]);
        free(w);
    }
    nninit_rng_free(rng);
    /* skip 0.weight: 0.bias keeps its value (the draws still happen) */
    memset(b0, 0, sizeof b0);
    void *skip[2] = {NULL, b0};
    assert_ok(nninit_rng_new(NNINIT_RNG_TORCH, 0, &rng, &err), &err);
    assert_ok(nninit_model_fill(l0, rng, "", NNINIT_F32, 0, skip, &err), &err);
    void *w = fixture_tensor(mlp, "0.bias");
    assert_memory_equal(w, b0, sizeof b0);
    free(w);
    /* errors */
    assert_int_equal(nninit_model_fill(l0, rng, "", NNINIT_BF16, 0, o0, &err), NNINIT_EINVAL);
    assert_non_null(strstr(err.msg, "expected float32 or float64"));
    assert_int_equal(nninit_model_fill(l0, NULL, "", NNINIT_F32, 0, o0, &err), NNINIT_EMISUSE);
    nninit_rng_free(rng);
    nninit_model_free(l0);
    nninit_model_free(l2);
    nninit_tensor_file_free(mlp);
}

/* TransformerEncoder deep-copies its layer (torch 1.13 _get_clones): every
 * layers.K tensor repeats layers.0's values, with Philox streams too (the
 * copy regenerates its original's stream), and through nninit_model_fill
 * with the torch generator when layers.0 itself is skipped (NULL).
 * Overrides are per tensor: an overridden copy gets its own values, an
 * overridden original leaves its copies the constructed values, and every
 * other tensor keeps its values (both generators). */
#define CLONE_RECIPE "TransformerEncoder(TransformerEncoderLayer(4, 2, 6), 3, LayerNorm(4))"
enum { CLONE_N = 3 * 12 + 2 };

static void fill_clones(nninit_model *m, int torch, float **v, int skip)
{
    nninit_err err;
    nninit_rng *rng;
    assert_ok(nninit_rng_new(torch ? NNINIT_RNG_TORCH : NNINIT_RNG_PHILOX, 3, &rng, &err), &err);
    void *out[CLONE_N];
    for (size_t i = 0; i < CLONE_N; i++)
        out[i] = v[i];
    if (skip >= 0)
        out[skip] = NULL;
    assert_ok(nninit_model_fill(m, rng, "", NNINIT_F32, 1, out, &err), &err);
    nninit_rng_free(rng);
}

static size_t clone_numel(nninit_model *m, size_t i)
{
    nninit_model_tensor t;
    assert_non_null(nninit_model_tensor_at(m, i, &t));
    int64_t numel = 1;
    for (int d = 0; d < t.shape.ndim; d++)
        numel *= t.shape.dim[d];
    return (size_t)numel;
}

static void test_torch_clones(void **state)
{
    (void)state;
    nninit_err err;
    nninit_model *m, *o;
    assert_ok(nninit_model_from_torch(CLONE_RECIPE, &m, &err), &err);
    assert_ok(nninit_model_from_torch(CLONE_RECIPE, &o, &err), &err);
    assert_int_equal(nninit_model_count(m), CLONE_N);
    float *v[CLONE_N], *w[CLONE_N];
    for (size_t i = 0; i < CLONE_N; i++) {
        v[i] = calloc(clone_numel(m, i) + 1, sizeof(float));
        w[i] = calloc(clone_numel(m, i) + 1, sizeof(float));
    }
    /* layers.0.linear1.bias (index 5) overridden: ones draws nothing, so nothing else moves;
     * layers.2.linear2.bias (index 24 + 7) overridden: a copy drawn on its own */
    assert_ok(nninit_model_override(o, "layers.0.linear1.bias", "ones", &err), &err);
    assert_ok(nninit_model_override(o, "layers.2.linear2.bias", "zeros", &err), &err);
    for (int torch = 0; torch < 2; torch++) {
        fill_clones(m, torch, v, torch ? 4 : -1); /* torch: layers.0.linear1.weight skipped, copies still get it */
        for (size_t i = 0; i < 12; i++)
            for (size_t k = 1; k < 3; k++) {
                nninit_model_tensor t0, tk;
                nninit_model_tensor_at(m, i, &t0);
                nninit_model_tensor_at(m, 12 * k + i, &tk);
                assert_string_equal(tk.name + strlen("layers.K"), t0.name + strlen("layers.0"));
                if (!(torch && i == 4) && memcmp(v[i], v[12 * k + i], clone_numel(m, i) * sizeof(float)))
                    fail_msg("%s: %s differs from %s", torch ? "torch" : "philox", tk.name, t0.name);
            }
        assert_true(v[5][0] != 0.0f && v[5][0] != v[5][1]); /* linear1.bias is drawn, not constant */
        fill_clones(m, torch, v, -1);
        fill_clones(o, torch, w, -1);
        for (size_t i = 0; i < CLONE_N; i++) {
            if (i == 5 || i == 31)
                continue;
            if (memcmp(v[i], w[i], clone_numel(m, i) * sizeof(float)))
                fail_msg("%s: overrides changed tensor %zu", torch ? "torch" : "philox", i);
        }
        for (size_t j = 0; j < 6; j++)
            assert_true(w[5][j] == 1.0f && w[31][j / 2] == 0.0f);
    }
    for (size_t i = 0; i < CLONE_N; i++) {
        free(v[i]);
        free(w[i]);
    }
    nninit_model_free(m);
    nninit_model_free(o);
}

/* Philox: a prefix gives the streams of the full names, so filling
 * "Linear(16, 4)" under "2." equals tensor "2.weight" of the whole MLP. */
static void test_model_fill_philox_prefix(void **state)
{
    (void)state;
    nninit_err err;
    nninit_model *whole, *part;
    assert_ok(nninit_model_from_torch("Sequential(Linear(20, 16), ReLU(), Linear(16, 4))", &whole, &err), &err);
    assert_ok(nninit_model_from_torch("Linear(16, 4)", &part, &err), &err);
    nninit_rng *rng;
    assert_ok(nninit_rng_new(NNINIT_RNG_PHILOX, 5, &rng, &err), &err);
    double a[4][16 * 20], b[2][4 * 16];
    void *oa[4] = {a[0], a[1], a[2], a[3]}, *ob[2] = {b[0], b[1]};
    assert_ok(nninit_model_fill(whole, rng, NULL, NNINIT_F64, 3, oa, &err), &err);
    assert_ok(nninit_model_fill(part, rng, "2.", NNINIT_F64, 1, ob, &err), &err);
    assert_memory_equal(a[2], b[0], 4 * 16 * sizeof(double));
    assert_memory_equal(a[3], b[1], 4 * sizeof(double));
    /* a different prefix is a different stream */
    assert_ok(nninit_model_fill(part, rng, "3.", NNINIT_F64, 1, ob, &err), &err);
    assert_memory_not_equal(a[2], b[0], 4 * 16 * sizeof(double));
    nninit_rng_free(rng);
    nninit_model_free(whole);
    nninit_model_free(part);
}

/* bfloat16 and float16 files hold the float32 values rounded once. */
static void test_storage_dtypes(void **state)
{
    (void)state;
    nninit_err err;
    nninit_model *m;
    assert_ok(nninit_model_from_torch("Linear(64, 48)", &m, &err), &err);
    nninit_model_opts o = nninit_model_opts_default();
    char p32[600], p16[600];
    snprintf(p32, sizeof p32, "%s/f32.safetensors", tmpdir);
    snprintf(p16, sizeof p16, "%s/bf16.safetensors", tmpdir);
    assert_ok(nninit_model_write(m, p32, &o, &err), &err);
    const nninit_file_dtype dts[] = {NNINIT_FD_BF16, NNINIT_FD_F16};
    for (int k = 0; k < 2; k++) {
        o.dtype = dts[k];
        assert_ok(nninit_model_write(m, p16, &o, &err), &err);
        nninit_tensor_file *a, *b;
        assert_ok(nninit_tensor_file_open(p32, &a, &err), &err);
        assert_ok(nninit_tensor_file_open(p16, &b, &err), &err);
        size_t i;
        assert_ok(nninit_tensor_file_find(b, "weight", &i, &err), &err);
        assert_int_equal(nninit_tensor_file_info(b, i)->dtype, dts[k]);
        float w32[48 * 64];
        uint16_t w16[48 * 64], want[48 * 64];
        size_t j;
        assert_ok(nninit_tensor_file_find(a, "weight", &j, &err), &err);
        assert_ok(nninit_tensor_file_read(a, j, w32, &err), &err);
        assert_ok(nninit_tensor_file_read(b, i, w16, &err), &err);
        assert_ok(nninit_convert(NNINIT_FD_F32, w32, dts[k], want, 48 * 64, &err), &err);
        assert_memory_equal(w16, want, sizeof want);
        nninit_tensor_file_free(a);
        nninit_tensor_file_free(b);
    }
    nninit_model_free(m);
}

static void expect_recipe_error(const char *recipe, const char *needle)
{
    nninit_err err;
    nninit_model *m = (nninit_model *)1;
    nninit_status s = nninit_model_from_torch(recipe, &m, &err);
    if (s == NNINIT_OK)
        fail_msg("recipe '%s' accepted", recipe);
    assert_null(m);
    if (!strstr(err.msg, needle))
        fail_msg("recipe '%s': message '%s' lacks '%s'", recipe, err.msg, needle);
}

static void test_recipe_errors(void **state)
{
    (void)state;
    expect_recipe_error("Sequential(Linear(3, 4), Foo(2))", "unknown module 'Foo'");
    expect_recipe_error("Linear(3)", "missing argument 'out_features'");
    expect_recipe_error("Sequential(OrderedDict([('a', Linear(2, 2)), ('a', ReLU())]))", "name 'a' given twice");
    expect_recipe_error("ModuleDict({'a.b': Linear(2, 2)})", "contains '.'");
    expect_recipe_error("ModuleDict({1: Linear(2, 2)})", "string keys");
    expect_recipe_error("ModuleList(Linear(2, 2))", "one list of modules");
    expect_recipe_error("Sequential(OrderedDict([('a', 3)]))", "expected a module");
    expect_recipe_error("Net(a=Linear(2, 2), b=Foo(1))", "unknown module 'Foo'");
    expect_recipe_error("Linear(3, 4, bais=False)", "unexpected keyword 'bais'");
    expect_recipe_error("Linear(3, 4, out_features=5)", "given twice");
    expect_recipe_error("Linear(3, 4", "expected ',' or ')'");
    expect_recipe_error("Linear(3, 4) x", "unexpected text");
    expect_recipe_error("Conv2d(3, 8, (3, 3, 3))", "tuple of 2");
    expect_recipe_error("Conv2d(3, 8, 3, groups=2)", "divisible by groups");
    expect_recipe_error("MultiheadAttention(10, 3)", "divisible by num_heads");
    expect_recipe_error("Linear(-1, 4)", ">= 0");
    expect_recipe_error("LSTM(4, 5, proj_size=5)", "proj_size 5 has to be smaller than hidden_size 5");
    expect_recipe_error("Linear(2, 2, dtype=torch.float64)", "dtype=float64: recipes describe float32 modules");
    expect_recipe_error("Linear(2, 2, device='cuda')", "device must be None or 'cpu'");
    expect_recipe_error("Embedding(5, 2, padding_idx=5)", "padding_idx");
    expect_recipe_error("TransformerEncoder(TransformerEncoderLayer(4, 2), 5000)", "num_layers is 5000, above the cap of 4096");
    expect_recipe_error("TransformerDecoder(num_layers=2)", "missing argument 'decoder_layer'");
    expect_recipe_error("Transformer(8, 2, custom_encoder=Linear(2, 2))", "custom_encoder is not supported");
    expect_recipe_error("TransformerEncoder(TransformerEncoderLayer(4, 2), 2, enable_nested_tensor=False, x=1)",
                        "unexpected keyword 'x'");
    expect_recipe_error("", "unexpected end");
    expect_recipe_error("LSTM(4, 4611686018427387904)", "below 2^31"); /* 4 * hidden would overflow */
    expect_recipe_error("Conv3d(2, 3, (2147483648, 2147483648, 2147483648))", "overflows");
    char deep[400] = "";
    for (int i = 0; i < 70; i++)
        strcat(deep, "(");
    expect_recipe_error(deep, "nesting");
}

static void test_override(void **state)
{
    (void)state;
    nninit_err err;
    nninit_model *m;
    assert_ok(nninit_model_from_torch("Sequential(Linear(4, 3), Linear(3, 2))", &m, &err), &err);
    assert_ok(nninit_model_override(m, "1.bias", "ones", &err), &err);
    assert_int_equal(nninit_model_override(m, "9.bias", "ones", &err), NNINIT_ENOTFOUND);
    assert_int_equal(nninit_model_override(m, "1.bias", "no_such_init", &err), NNINIT_ENOTFOUND);
    nninit_model_tensor t;
    assert_non_null(nninit_model_tensor_at(m, 3, &t));
    assert_string_equal(t.name, "1.bias");
    assert_int_equal(t.init.kind, NNINIT_ONES);
    assert_null(nninit_model_tensor_at(m, 4, &t));
    nninit_model_free(m);
}


/* ---- Keras model JSON (hand-written from the Keras 3 source; see
 * tests/fixtures/keras/NAME.expected for the variables Keras builds) ---- */

static char *slurp_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    if (fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    } else {
        b[n] = '\0';
    }
    fclose(f);
    return b;
}

static nninit_model *load_keras(const char *base)
{
    char path[512], rel[128];
    snprintf(rel, sizeof rel, "keras/%s.json", base);
    char *json = slurp_text(test_fixture(rel, path, sizeof path));
    assert_non_null(json);
    nninit_err err;
    nninit_model *m;
    assert_ok(nninit_model_from_keras(json, &m, &err), &err);
    free(json);
    return m;
}

static void check_keras_expected(const char *base)
{
    nninit_model *m = load_keras(base);
    char path[512], rel[128], line[256];
    snprintf(rel, sizeof rel, "keras/%s.expected", base);
    FILE *f = fopen(test_fixture(rel, path, sizeof path), "r");
    assert_non_null(f);
    size_t i = 0;
    while (fgets(line, sizeof line, f)) {
        char name[128], dims[64], kind[64];
        if (sscanf(line, "%127s %63s %63s", name, dims, kind) != 3)
            continue;
        nninit_model_tensor t;
        if (!nninit_model_tensor_at(m, i, &t))
            fail_msg("%s: tensor %zu (%s) missing", base, i, name);
        if (strcmp(t.name, name))
            fail_msg("%s: tensor %zu is '%s', expected '%s'", base, i, t.name, name);
        nninit_shape want = {0, {0}};
        nninit_err err;
        if (strcmp(dims, "()")) /* "()": a scalar variable */
            assert_ok(nninit_shape_parse(dims, &want, &err), &err);
        assert_int_equal(t.shape.ndim, want.ndim);
        for (int d = 0; d < want.ndim; d++)
            if (t.shape.dim[d] != want.dim[d])
                fail_msg("%s: '%s' dim %d is %lld, expected %lld", base, name, d, (long long)t.shape.dim[d],
                         (long long)want.dim[d]);
        nninit_init_kind k;
        assert_ok(nninit_init_kind_parse(kind, &k, &err), &err);
        if (t.init.kind != k)
            fail_msg("%s: '%s' has initializer %s, expected %s", base, name, nninit_init_kind_name(t.init.kind), kind);
        assert_int_equal(t.layout, NNINIT_LAYOUT_KERAS);
        i++;
    }
    fclose(f);
    assert_int_equal(nninit_model_count(m), i);
    nninit_model_free(m);
}

static void test_keras_models(void **state)
{
    (void)state;
    check_keras_expected("cnn_keras3");
    check_keras_expected("rnn_keras3");
    check_keras_expected("attention_functional");
    check_keras_expected("conv3d_keras2");
    check_keras_expected("wrappers_keras3");
    check_keras_expected("convlstm_keras3"); /* ConvLSTM2D: was taken for a Conv2D prefix and refused */
    check_keras_expected("preprocess_keras3"); /* parameter-free layers that change the shape */
    check_keras_expected("norms_keras3"); /* GroupNormalization, RMSNormalization, LayerNormalization(rms_scaling) */
    /* ZeroPadding2D/Cropping2D shapes, PReLU(shared_axes), Normalization (mean, variance, int count),
     * Attention(use_scale, concat), Dense(lora_rank) */
    check_keras_expected("layers_keras3");
    check_keras_expected("tokens_keras3"); /* CategoryEncoding, ZeroPadding1D, Cropping1D shapes */
    /* keras_hub's PositionEmbedding: "embeddings" (sequence_length, features), initializer default or given */
    check_keras_expected("posemb_keras3");
    check_keras_expected("nested_keras3"); /* a Sequential and a Functional model as layers of a Functional one */
    check_keras_expected("einsum_keras3"); /* EinsumDense: plain, left- and right-elided equations, bias_axes */
    /* SpectralNormalization of Conv2D/Dense/Embedding (inner variables, the wrapper's kernel, vector_u) and
     * EinsumDense lora_rank (lora_kernel_a kernel.shape[:-1] + (rank,), lora_kernel_b (rank, kernel.shape[-1])) */
    check_keras_expected("spectral_keras3");
    /* StringLookup, IntegerLookup, TextVectorization, Discretization, Hashing: no variables; their output
     * shapes (one_hot, multi_hot, count, int with output_sequence_length) give the next layers' */
    check_keras_expected("lookups_keras3");
}

/* The values of tensor `name` (float32, Philox or torch rng, seed 7). */
static float *keras_values(nninit_model *m, const char *name, int torch_rng)
{
    nninit_err err;
    size_t n = nninit_model_count(m);
    void **out = calloc(n, sizeof *out);
    float *want = NULL;
    assert_non_null(out);
    nninit_rng *rng = NULL;
    assert_ok(nninit_rng_new(torch_rng ? NNINIT_RNG_TORCH : NNINIT_RNG_PHILOX, 7, &rng, &err), &err);
    for (size_t i = 0; i < n; i++) {
        nninit_model_tensor t;
        nninit_model_tensor_at(m, i, &t);
        size_t numel = 1;
        for (int d = 0; d < t.shape.ndim; d++)
            numel *= (size_t)t.shape.dim[d];
        out[i] = malloc(numel * 8 + 8);
        assert_non_null(out[i]);
        if (!strcmp(t.name, name))
            want = out[i];
    }
    assert_non_null(want);
    assert_ok(nninit_model_fill(m, rng, NULL, NNINIT_F32, 1, out, &err), &err);
    for (size_t i = 0; i < n; i++)
        if (out[i] != want)
            free(out[i]);
    free(out);
    nninit_rng_free(rng);
    return want;
}

/* The "not supported" message lists every accepted class, whole (its last entry ends the message), and
 * each listed class reaches a builder: with an empty config it may be refused for what the config lacks,
 * never as unsupported. */
static void test_keras_supported_list(void **state)
{
    (void)state;
    nninit_model *m = NULL;
    nninit_err err;
    assert_int_equal(nninit_model_from_keras("{\"class_name\": \"Sequential\", \"config\": {\"layers\": [{\"class_name\": "
                                             "\"Xyzzyq\", \"config\": {\"name\": \"q\", \"batch_input_shape\": "
                                             "[null, 4]}}]}}", &m, &err), NNINIT_EUNSUPPORTED);
    const char *list = strstr(err.msg, "supported: ");
    assert_non_null(list);
    size_t len = strlen(err.msg);
    assert_true(len > 17 && !strcmp(err.msg + len - 17, "UnitNormalization")); /* not cut off */
    char names[NNINIT_ERR_MSG_MAX];
    snprintf(names, sizeof names, "%s", list + 11);
    int count = 0;
    for (char *save = NULL, *cls = strtok_r(names, ", ", &save); cls; cls = strtok_r(NULL, ", ", &save)) {
        char json[512];
        snprintf(json, sizeof json, "{\"class_name\": \"Sequential\", \"config\": {\"layers\": [{\"class_name\": "
                 "\"InputLayer\", \"config\": {\"name\": \"x\", \"batch_shape\": [null, 4, 4, 3]}}, {\"class_name\": "
                 "\"%s\", \"config\": {\"name\": \"q\"}}]}}", cls);
        nninit_status s = nninit_model_from_keras(json, &m, &err);
        if (s == NNINIT_EUNSUPPORTED)
            fail_msg("%s is listed as supported but refused: %s", cls, err.msg);
        if (s == NNINIT_OK)
            nninit_model_free(m);
        count++;
    }
    assert_int_equal(count, 97); /* every entry of KERAS_LAYERS */
}

/* A Keras STFT kernel initializer with a window of values (the array Keras' get_config keeps): the model
 * keeps its own copy of the values (the parsed one is released), an override brings its own, and a window
 * whose length is not the frame length is refused when filled. */
static void test_keras_stft_window_values(void **state)
{
    (void)state;
    const char *json = "{\"class_name\": \"Sequential\", \"config\": {\"layers\": [{\"class_name\": \"InputLayer\", "
                       "\"config\": {\"name\": \"x\", \"batch_shape\": [null, 16, 1]}}, {\"class_name\": \"Conv1D\", "
                       "\"config\": {\"name\": \"c\", \"filters\": 3, \"kernel_size\": 4, \"use_bias\": false, "
                       "\"kernel_initializer\": {\"class_name\": \"STFT\", \"config\": {\"side\": \"real\", "
                       "\"window\": [0.5, 1.0, 1.0, 0.5], \"scaling\": null, \"periodic\": false}}}}]}}";
    nninit_model *m;
    nninit_err err;
    assert_ok(nninit_model_from_keras(json, &m, &err), &err);
    nninit_model_tensor t;
    nninit_model_tensor_at(m, 0, &t);
    assert_true(t.init.stft_window == NNINIT_WINDOW_VALUES && t.init.stft_window_len == 4);
    float *k = keras_values(m, "c/kernel", 0); /* (4, 1, 3): frequency 0 is cos(0) * w[t] */
    assert_true(k[0] == 0.5f && k[3] == 1.0f && k[6] == 1.0f && k[9] == 0.5f);
    free(k);
    assert_ok(nninit_model_override(m, "c/kernel", "STFT(window=[2, 2, 2, 2], scaling=None)", &err), &err);
    k = keras_values(m, "c/kernel", 0);
    assert_true(k[0] == 2.0f && k[9] == 2.0f);
    free(k);
    assert_ok(nninit_model_override(m, "c/kernel", "STFT(window=[1.0, 1.0])", &err), &err);
    size_t n = nninit_model_count(m);
    void **out = calloc(n, sizeof *out);
    out[0] = malloc(64 * sizeof(float));
    nninit_rng *rng;
    assert_ok(nninit_rng_new(NNINIT_RNG_PHILOX, 7, &rng, &err), &err);
    assert_int_equal(nninit_model_fill(m, rng, NULL, NNINIT_F32, 1, out, &err), NNINIT_EINVAL);
    assert_non_null(strstr(err.msg, "the window has 2 values but the frame length"));
    nninit_rng_free(rng);
    free(out[0]);
    free(out);
    nninit_model_free(m);
}

/* SpectralNormalization: "<sn>/kernel" is the inner kernel tracked a second time, so it holds the same
 * values under either generator, follows an override of the kernel, and cannot be overridden itself. */
static void test_keras_spectral_norm(void **state)
{
    (void)state;
    nninit_model *m = load_keras("spectral_keras3");
    nninit_err err;
    for (int pass = 0; pass < 3; pass++) {
        if (pass == 2)
            assert_ok(nninit_model_override(m, "sn_fc/fc/kernel", "ones", &err), &err);
        float *k = keras_values(m, "sn_fc/fc/kernel", pass == 1), *a = keras_values(m, "sn_fc/kernel", pass == 1);
        assert_memory_equal(k, a, 64 * 7 * sizeof(float));
        if (pass == 2)
            assert_true(a[0] == 1.0f && a[64 * 7 - 1] == 1.0f);
        else
            assert_true(a[0] != a[1]); /* drawn, not a constant */
        free(k);
        free(a);
    }
    assert_int_equal(nninit_model_override(m, "sn_fc/kernel", "zeros", &err), NNINIT_EINVAL);
    assert_non_null(strstr(err.msg, "override 'sn_fc/fc/kernel'"));
    /* vector_u: TruncatedNormal(stddev=0.02), values within 2 std */
    float *u = keras_values(m, "sn_fc/vector_u", 0);
    for (int i = 0; i < 7; i++)
        assert_true(u[i] >= -0.04f && u[i] <= 0.04f);
    free(u);
    /* lora_kernel_a gets he_uniform with the rank rule's fans (enable_lora passes no axes), while the kernel
     * beside it gets the einsum axes of the Keras 3.15 rule */
    for (size_t i = 0; i < nninit_model_count(m); i++) {
        nninit_model_tensor t;
        nninit_model_tensor_at(m, i, &t);
        if (!strcmp(t.name, "ed/lora_kernel_a")) {
            assert_int_equal(t.init.n_input_axes, 0);
            int64_t fi, fo;
            assert_ok(nninit_fans(&t.shape, NNINIT_LAYOUT_KERAS, &fi, &fo, &err), &err);
            assert_true(fi == 21 && fo == 14); /* (7, 3, 2): receptive field 7, fan_in 3*7, fan_out 2*7 */
        }
        if (!strcmp(t.name, "ed/kernel"))
            assert_true(t.init.n_input_axes == 1 && t.init.n_output_axes == 2);
    }
    nninit_model_free(m);
}

/* Keras .weights.h5: the datasets h5py found in nninit's output (paths as
 * Keras 3 model.save_weights writes them, values those of the variables;
 * tools/make_keras_h5_fixtures.py checked both and wrote the listing),
 * compared here through nninit's own HDF5 reader without Python: same
 * paths, shapes, dtype and float64 sum of the values. */
static void test_keras_weights_h5(void **state)
{
    (void)state;
    char path[512], line[512], model[64] = "", out[600];
    FILE *f = fopen(test_fixture("keras/weights_h5.txt", path, sizeof path), "r");
    assert_non_null(f);
    nninit_tensor_file *tf = NULL;
    size_t seen = 0, models = 0;
    nninit_err err;
    for (;;) {
        char *ok = fgets(line, sizeof line, f);
        char name[64] = "", dpath[256] = "", dims[64] = "", dtype[16] = "", sum[64] = "";
        if (ok && (line[0] == '#' || sscanf(line, "%63[^\t]\t%255[^\t]\t%63[^\t]\t%15[^\t]\t%63s", name, dpath, dims,
                                            dtype, sum) != 5))
            continue;
        if (!ok || strcmp(name, model)) { /* the previous model's file holds exactly its listed datasets */
            if (tf) {
                if (nninit_tensor_file_count(tf) != seen)
                    fail_msg("%s: %zu datasets, listing has %zu", model, nninit_tensor_file_count(tf), seen);
                nninit_tensor_file_free(tf);
                tf = NULL;
            }
            if (!ok)
                break;
            snprintf(model, sizeof model, "%s", name);
            nninit_model *m = load_keras(model);
            nninit_model_opts o = nninit_model_opts_default();
            o.seed = 7;
            o.write.format = NNINIT_FORMAT_WEIGHTS_H5;
            snprintf(out, sizeof out, "%s/%s.weights.h5", tmpdir, model);
            nninit_status st = nninit_model_write(m, out, &o, &err);
            nninit_model_free(m);
#ifndef NNINIT_HAVE_HDF5
            assert_int_equal(st, NNINIT_EUNSUPPORTED);
            assert_non_null(strstr(err.msg, "apt-get install libhdf5-dev"));
            fclose(f);
            return;
#endif
            assert_ok(st, &err);
            assert_ok(nninit_tensor_file_open(out, &tf, &err), &err);
            assert_int_equal(nninit_tensor_file_format(tf), NNINIT_FORMAT_WEIGHTS_H5);
            seen = 0;
            models++;
        }
        size_t k;
        if (nninit_tensor_file_find(tf, dpath, &k, &err) != NNINIT_OK)
            fail_msg("%s: dataset '%s' missing", model, dpath);
        const nninit_tensor_info *ti = nninit_tensor_file_info(tf, k);
        nninit_shape want = {0, {0}};
        if (dims[0] != '-') /* "-": a scalar */
            assert_ok(nninit_shape_parse(dims, &want, &err), &err);
        assert_int_equal(ti->shape.ndim, want.ndim);
        for (int d = 0; d < want.ndim; d++)
            assert_int_equal(ti->shape.dim[d], want.dim[d]);
        int i64 = !strcmp(dtype, "int64"); /* Normalization's count */
        if (!i64)
            assert_string_equal(dtype, "float32");
        assert_int_equal(ti->dtype, i64 ? NNINIT_FD_I64 : NNINIT_FD_F32);
        unsigned char *v = malloc(ti->nbytes + 8);
        assert_ok(nninit_tensor_file_read(tf, k, v, &err), &err);
        double total = 0;
        for (uint64_t i = 0; i < ti->nbytes / (i64 ? 8 : 4); i++) {
            if (i64) {
                int64_t x;
                memcpy(&x, v + 8 * i, 8);
                total += (double)x;
            } else {
                float x;
                memcpy(&x, v + 4 * i, 4);
                total += (double)x;
            }
        }
        free(v);
        if (total != strtod(sum, NULL))
            fail_msg("%s: '%s' sums to %.17g, h5py read %s", model, dpath, total, sum);
        seen++;
    }
    fclose(f);
    assert_true(models >= 12);
    unlink(out);
}

/* .weights.h5 refusals: a torch recipe (no Keras layout), bfloat16. */
static void test_weights_h5_errors(void **state)
{
    (void)state;
    nninit_err err;
    nninit_model *m;
    char out[600];
    snprintf(out, sizeof out, "%s/x.weights.h5", tmpdir);
    nninit_model_opts o = nninit_model_opts_default();
    o.write.format = NNINIT_FORMAT_WEIGHTS_H5;
    assert_ok(nninit_model_from_torch("Linear(3, 2)", &m, &err), &err);
    assert_int_equal(nninit_model_write(m, out, &o, &err), NNINIT_EINVAL);
    assert_non_null(strstr(err.msg, "not a Keras model"));
    nninit_model_free(m);
    m = load_keras("norms_keras3");
    o.dtype = NNINIT_FD_BF16;
    nninit_status st = nninit_model_write(m, out, &o, &err);
#ifdef NNINIT_HAVE_HDF5
    assert_int_equal(st, NNINIT_EINVAL);
    assert_non_null(strstr(err.msg, "use --dtype float32"));
#else
    assert_int_equal(st, NNINIT_EUNSUPPORTED);
#endif
    assert_int_equal(access(out, F_OK), -1); /* nothing written */
    nninit_model_free(m);
    /* container names: Python's re.sub rules of naming.to_snake_case, worked out by hand */
    const char *cls[][2] = {{"Conv2DTranspose", "conv2d_transpose"}, {"PReLU", "p_re_lu"}, {"SimpleRNN", "simple_rnn"},
                            {"ConvLSTM2D", "conv_lstm2d"}, {"MultiHeadAttention", "multi_head_attention"},
                            {"DepthwiseConv2D", "depthwise_conv2d"}, {"LSTM", "lstm"}, {"EinsumDense", "einsum_dense"},
                            {"GlobalAveragePooling1D", "global_average_pooling1d"}, {"ReLU", "re_lu"},
                            {"UpSampling2D", "up_sampling2d"}, {"Conv1D", "conv1d"}};
    for (size_t i = 0; i < sizeof cls / sizeof *cls; i++) {
        char snake[64];
        nninit__keras_snake_case(cls[i][0], snake, sizeof snake);
        assert_string_equal(snake, cls[i][1]);
    }
}

/* The fans a model tensor's initializer uses (nninit_resolve, as filling does). */
static void expect_fans(nninit_model *m, size_t i, const char *name, int64_t fan_in, int64_t fan_out)
{
    nninit_model_tensor t;
    nninit_prim p;
    nninit_err err;
    assert_non_null(nninit_model_tensor_at(m, i, &t));
    assert_string_equal(t.name, name);
    assert_ok(nninit_resolve(&t.init, &t.shape, t.layout, &p, &err), &err);
    if (p.fan_in != fan_in || p.fan_out != fan_out)
        fail_msg("%s: fans (%lld, %lld), expected (%lld, %lld)", name, (long long)p.fan_in, (long long)p.fan_out,
                 (long long)fan_in, (long long)fan_out);
}

/* Keras >= 3.15 (einsum_dense.py build, #22789): a VarianceScaling kernel
 * initializer of an EinsumDense gets the einsum's axes. MultiHeadAttention
 * query (16, 4, 8) "abc,cde->abde": fan_in 16, fan_out 4*8; the output
 * (4, 6, 16) "abcd,cde->abe": fan_in 4*6, fan_out 16. Before 3.15 the rank
 * rule: rf = 16, (4*16, 8*16); output rf = 4, (6*4, 16*4). */
static void test_keras_einsum_fans(void **state)
{
    (void)state;
    nninit_model *m = load_keras("attention_functional");
    expect_fans(m, 0, "mha/query/kernel", 16, 32);
    expect_fans(m, 4, "mha/value/kernel", 16, 24);
    expect_fans(m, 6, "mha/attention_output/kernel", 24, 16);
    nninit_model_free(m);
    char path[512];
    nninit_err err;
    const char *file = test_fixture("keras/attention_functional.json", path, sizeof path);
    assert_ok(nninit_model_from_keras_file_as(file, "3.14.1", &m, &err), &err);
    expect_fans(m, 0, "mha/query/kernel", 64, 128);
    expect_fans(m, 6, "mha/attention_output/kernel", 24, 64);
    nninit_model_free(m);
    assert_ok(nninit_model_from_keras_file_as(file, "3.15", &m, &err), &err);
    expect_fans(m, 0, "mha/query/kernel", 16, 32);
    nninit_model_free(m);
    assert_int_equal(nninit_model_from_keras_file_as(file, "three", &m, &err), NNINIT_EINVAL);
    assert_non_null(strstr(err.msg, "not a version number"));
    /* EinsumDense as a layer: the kernel's input axes (its letters in the input spec) and output axes
     * (in the output spec) give the fans from Keras 3.15 on; before, the rank rule */
    m = load_keras("einsum_keras3");
    expect_fans(m, 0, "e1/kernel", 8, 16);
    expect_fans(m, 4, "e3/kernel", 12, 24);     /* "abc,cde->abde": c in, d e out */
    expect_fans(m, 6, "e4/kernel", 10, 7);      /* right-elided "ab...,bc->ac..." */
    expect_fans(m, 8, "e5/kernel", 24, 5);      /* "abcd,cde->abe": c d in, e out */
    nninit_model_free(m);
    file = test_fixture("keras/einsum_keras3.json", path, sizeof path);
    assert_ok(nninit_model_from_keras_file_as(file, "3.14", &m, &err), &err);
    expect_fans(m, 4, "e3/kernel", 48, 72);     /* rank rule: receptive field 12, (4, 6) */
    nninit_model_free(m);
}

/* Generated values follow the initializers: the embedding's std (uniform
 * +-0.05: 0.05/sqrt(3) = 0.028868; 16000 values, relative standard error
 * of a uniform's std = sqrt((9/5 - 1) / (4 n)) = 0.35%, tolerance 5 SE =
 * 1.8%, while +-0.1 or a normal(0.05) would be off by 100% / 73%), and the
 * LSTM bias with unit_forget_bias: zeros, ones on [32, 64), zeros. */
static void test_keras_values(void **state)
{
    (void)state;
    nninit_model *m = load_keras("rnn_keras3");
    char out[600];
    snprintf(out, sizeof out, "%s/rnn.safetensors", tmpdir);
    nninit_err err;
    nninit_model_opts o = nninit_model_opts_default();
    assert_ok(nninit_model_write(m, out, &o, &err), &err);
    nninit_tensor_file *tf;
    assert_ok(nninit_tensor_file_open(out, &tf, &err), &err);
    size_t k;
    assert_ok(nninit_tensor_file_find(tf, "embedding/embeddings", &k, &err), &err);
    float *e = malloc(16000 * sizeof *e);
    assert_ok(nninit_tensor_file_read(tf, k, e, &err), &err);
    nninit_stats st;
    assert_ok(nninit_stats_compute(NNINIT_F32, e, 16000, &st, &err), &err);
    assert_rel_close(st.std, 0.05 / sqrt(3.0), 0.018);
    assert_true(st.min >= -0.05 && st.max <= 0.05);
    free(e);
    float b[128];
    assert_ok(nninit_tensor_file_find(tf, "lstm/lstm_cell/bias", &k, &err), &err);
    assert_ok(nninit_tensor_file_read(tf, k, b, &err), &err);
    for (int i = 0; i < 128; i++)
        assert_true(b[i] == (i >= 32 && i < 64 ? 1.0f : 0.0f));
    assert_string_equal(nninit_tensor_file_metadata(tf, "nninit.source"), "keras");
    assert_string_equal(nninit_tensor_file_metadata(tf, "nninit.layout"), "keras");
    nninit_tensor_file_free(tf);
    nninit_model_free(m);
}

static void expect_keras_error(const char *json, nninit_status want, const char *needle)
{
    nninit_err err;
    nninit_model *m = (nninit_model *)1;
    nninit_status s = nninit_model_from_keras(json, &m, &err);
    if (s != want)
        fail_msg("%s: got %s (%s)", json, nninit_status_str(s), s ? err.msg : "");
    assert_null(m);
    if (!strstr(err.msg, needle))
        fail_msg("message '%s' lacks '%s'", err.msg, needle);
}

static void test_keras_errors(void **state)
{
    (void)state;
    expect_keras_error("{", NNINIT_EINVAL, "keras model JSON");
    expect_keras_error("{\"class_name\": \"Sequential\"}", NNINIT_EINVAL, "layers");
    expect_keras_error("{\"class_name\": \"Sequential\", \"config\": {\"layers\": [{\"class_name\": \"Dense\", "
                       "\"config\": {\"name\": \"d\", \"units\": 3}}]}}", NNINIT_EINVAL, "input shape is unknown");
    expect_keras_error("{\"class_name\": \"Sequential\", \"config\": {\"layers\": [{\"class_name\": \"Dense\", "
                       "\"config\": {\"name\": \"d\", \"units\": 3, \"batch_input_shape\": [null, 4], "
                       "\"kernel_initializer\": \"glorot_unifrom\"}}]}}", NNINIT_ENOTFOUND, "glorot_uniform");
    expect_keras_error("{\"class_name\": \"Sequential\", \"config\": {\"layers\": [{\"class_name\": \"Lambda\", "
                       "\"config\": {\"name\": \"l\", \"function\": \"x\"}}]}}", NNINIT_EINVAL, "never runs");
    expect_keras_error("{\"class_name\": \"Sequential\", \"config\": {\"layers\": [{\"class_name\": \"Frobnicate\", "
                       "\"config\": {\"name\": \"f\", \"batch_input_shape\": [null, 4]}}]}}", NNINIT_EUNSUPPORTED,
                       "'Frobnicate' is not supported");
    expect_keras_error("{\"class_name\": \"Sequential\", \"config\": {\"layers\": [{\"class_name\": \"Dense\", "
                       "\"config\": {\"name\": \"d\", \"units\": 3, \"batch_input_shape\": [null, null]}}]}}",
                       NNINIT_EINVAL, "unknown (None)");
    /* Found by fuzz_keras_json: an integer axis outside the input's rank. */
    expect_keras_error("{\"class_name\": \"Sequential\", \"config\": {\"layers\": [{\"class_name\": "
                       "\"BatchNormalization\", \"config\": {\"name\": \"bn\", \"axis\": 9, "
                       "\"batch_input_shape\": [null, 4]}}]}}", NNINIT_EINVAL, "axis out of range");
    expect_keras_error("{\"class_name\": \"Sequential\", \"config\": {\"layers\": [{\"class_name\": \"LSTM\", "
                       "\"config\": {\"name\": \"l\", \"units\": 4611686018427387904, "
                       "\"batch_input_shape\": [null, 3, 4]}}]}}", NNINIT_EINVAL, "units");
    /* SpectralNormalization, lora_rank and the stateful preprocessing layers: what Keras refuses or nninit
     * cannot produce */
#define SEQ1(layer) "{\"class_name\": \"Sequential\", \"config\": {\"layers\": [{\"class_name\": \"InputLayer\", " \
    "\"config\": {\"name\": \"x\", \"batch_shape\": [null, 4, 3]}}, " layer "]}}"
    expect_keras_error(SEQ1("{\"class_name\": \"SpectralNormalization\", \"config\": {\"name\": \"sn\", \"layer\": "
                            "{\"class_name\": \"LSTM\", \"config\": {\"name\": \"l\", \"units\": 2}}}}"),
                       NNINIT_EINVAL, "needs a layer with a kernel or embeddings variable");
    expect_keras_error(SEQ1("{\"class_name\": \"SpectralNormalization\", \"config\": {\"name\": \"sn\", "
                            "\"power_iterations\": 0, \"layer\": {\"class_name\": \"Dense\", \"config\": "
                            "{\"name\": \"d\", \"units\": 2}}}}"), NNINIT_EINVAL, "power_iterations");
    expect_keras_error(SEQ1("{\"class_name\": \"SpectralNormalization\", \"config\": {\"name\": \"sn\", \"layer\": "
                            "{\"class_name\": \"Dense\", \"config\": {\"name\": \"d\", \"units\": 2, "
                            "\"lora_rank\": 2}}}}"), NNINIT_EINVAL, "drop lora_rank");
    expect_keras_error(SEQ1("{\"class_name\": \"EinsumDense\", \"config\": {\"name\": \"e\", \"equation\": "
                            "\"abc,cd->abd\", \"output_shape\": [4, 2], \"lora_rank\": 2, \"kernel_constraint\": "
                            "\"max_norm\"}}"), NNINIT_EINVAL, "incompatible with kernel constraints");
    expect_keras_error(SEQ1("{\"class_name\": \"Dense\", \"config\": {\"name\": \"d\", \"units\": 2, "
                            "\"lora_rank\": 0}}"), NNINIT_EINVAL, "lora_rank must be a positive integer");
    expect_keras_error(SEQ1("{\"class_name\": \"StringLookup\", \"config\": {\"name\": \"s\", \"output_mode\": "
                            "\"tf_idf\", \"vocabulary_size\": 5}}"), NNINIT_EINVAL, "idf_weights");
    expect_keras_error(SEQ1("{\"class_name\": \"TextVectorization\", \"config\": {\"name\": \"t\", "
                            "\"output_mode\": \"tf_idf\"}}"), NNINIT_EINVAL, "idf_weights");
    expect_keras_error(SEQ1("{\"class_name\": \"Hashing\", \"config\": {\"name\": \"h\", \"num_bins\": 0}}"),
                       NNINIT_EINVAL, "num_bins");
#undef SEQ1
    /* Found by fuzz_advise: two layers of one name got their .weights.h5 paths twice (the first leaked under
     * `make asan`) before the duplicate variables were refused. */
    expect_keras_error("{\"class_name\": \"Sequential\", \"config\": {\"layers\": [{\"class_name\": \"Dense\", "
                       "\"config\": {\"name\": \"d\", \"units\": 3, \"batch_input_shape\": [null, 4]}}, "
                       "{\"class_name\": \"Dense\", \"config\": {\"name\": \"d\", \"units\": 3}}]}}",
                       NNINIT_EINVAL, "appears twice");
}

static void expect_spec(const char *json, nninit_status want, const char *needle)
{
    nninit_err err;
    nninit_model *m = NULL;
    nninit_status s = nninit_model_from_spec(json, &m, &err);
    if (s != want)
        fail_msg("%s: got %s (%s)", json, nninit_status_str(s), s ? err.msg : "");
    if (s) {
        assert_null(m);
        if (!strstr(err.msg, needle))
            fail_msg("message '%s' lacks '%s'", err.msg, needle);
    }
    nninit_model_free(m);
}

static void test_spec_models(void **state)
{
    (void)state;
    nninit_err err;
    nninit_model *m;
    assert_ok(nninit_model_from_spec("{\"layout\": \"torch\", \"tensors\": ["
                                     "{\"name\": \"w\", \"shape\": [8, 4], \"init\": \"kaiming_normal_\"},"
                                     "{\"name\": \"k\", \"shape\": [3, 3, 4, 8], \"init\": {\"class_name\": "
                                     "\"HeNormal\", \"config\": {\"seed\": null}}, \"layout\": \"keras\"}],"
                                     "\"overrides\": {\"w\": \"zeros\"}}", &m, &err), &err);
    nninit_model_tensor t;
    assert_non_null(nninit_model_tensor_at(m, 0, &t));
    assert_int_equal(t.layout, NNINIT_LAYOUT_TORCH);
    assert_int_equal(t.init.kind, NNINIT_ZEROS);
    assert_non_null(nninit_model_tensor_at(m, 1, &t));
    assert_int_equal(t.layout, NNINIT_LAYOUT_KERAS);
    assert_int_equal(t.init.kind, NNINIT_HE_NORMAL);
    assert_int_equal(t.shape.dim[3], 8);
    nninit_model_free(m);
    expect_spec("[]", NNINIT_EINVAL, "tensors");
    expect_spec("{\"tensors\": [], \"extra\": 1}", NNINIT_EINVAL, "unknown key 'extra'");
    expect_spec("{\"tensors\": [{\"name\": \"w\", \"shape\": [2]}]}", NNINIT_EINVAL, "needs");
    expect_spec("{\"tensors\": [{\"name\": \"w\", \"shape\": [0], \"init\": \"zeros\"}]}", NNINIT_EINVAL,
                "dimension 0 is 0; expected an integer from 1 to");
    expect_spec("{\"tensors\": [{\"name\": \"w\", \"shape\": [2], \"init\": \"zeros\"},"
                "{\"name\": \"w\", \"shape\": [2], \"init\": \"ones\"}]}", NNINIT_EINVAL, "twice");
    expect_spec("{\"layout\": \"sideways\", \"tensors\": []}", NNINIT_EINVAL, "sideways");
    expect_spec("{\"tensors\": [{\"name\": \"w\", \"shape\": [2], \"init\": 5}]}", NNINIT_EINVAL, "SPEC");
    expect_spec("{\"tensors\": [{\"name\": \"w\", \"shape\": [2], \"init\": \"zeros\"}], "
                "\"overrides\": {\"v\": \"ones\"}}", NNINIT_ENOTFOUND, "'v'");
    expect_spec("{\"tensors\": [], \"tensors\": []}", NNINIT_EINVAL, "duplicate");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_torch_recipes_bit_exact),
        cmocka_unit_test(test_philox_streams_by_name),
        cmocka_unit_test(test_model_fill_torch),
        cmocka_unit_test(test_model_fill_philox_prefix),
        cmocka_unit_test(test_torch_clones),
        cmocka_unit_test(test_storage_dtypes),
        cmocka_unit_test(test_recipe_errors),
        cmocka_unit_test(test_override),
        cmocka_unit_test(test_keras_models),
        cmocka_unit_test(test_keras_values),
        cmocka_unit_test(test_keras_einsum_fans),
        cmocka_unit_test(test_keras_spectral_norm),
        cmocka_unit_test(test_keras_stft_window_values),
        cmocka_unit_test(test_keras_supported_list),
        cmocka_unit_test(test_keras_weights_h5),
        cmocka_unit_test(test_weights_h5_errors),
        cmocka_unit_test(test_keras_errors),
        cmocka_unit_test(test_spec_models),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
