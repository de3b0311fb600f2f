/* nninit_advise: the tutorial's three pitfalls (tests/fixtures/advise,
 * made by make_advise_fixtures.py) flagged with the tutorial's correction
 * and the corrections clean; a deep tanh stack at the critical point clean;
 * the ReLU/Glorot gain 1/2 against the theory; the other finding kinds on
 * torch recipes; --fix round trips; recommendations. */
#include "util.h"

static nninit_model *keras(const char *fixture)
{
    char path[512];
    nninit_model *m = NULL;
    nninit_err err = {0};
    assert_ok(nninit_model_from_keras_file(test_fixture(fixture, path, sizeof path), &m, &err), &err);
    return m;
}

static nninit_model *torch(const char *recipe)
{
    nninit_model *m = NULL;
    nninit_err err = {0};
    assert_ok(nninit_model_from_torch(recipe, &m, &err), &err);
    return m;
}

static nninit_advice *advise(const nninit_model *m)
{
    nninit_advice *a = NULL;
    nninit_err err = {0};
    assert_ok(nninit_advise(m, &a, &err), &err);
    return a;
}

/* Findings (not notes) of `kind`, each fixing `fix` (NULL: any). */
static int count(const nninit_advice *a, nninit_advice_kind kind, const char *fix, int softened)
{
    int n = 0;
    for (int i = 0; i < a->n_findings; i++)
        if (a->findings[i].kind == kind && a->findings[i].softened == softened &&
            (!fix || !strcmp(a->findings[i].fix, fix)))
            n++;
    return n;
}

static void test_pitfalls(void **state)
{
    (void)state;
    static const struct {
        const char *bad, *good;
        nninit_advice_kind kind;
        const char *fix; /* the tutorial's correction */
        int flagged;     /* hidden layers */
    } cases[] = {
        {"advise/pitfall1_zeros.json", "advise/pitfall1_fixed.json", NNINIT_ADVICE_CONSTANT_KERNEL, "he_normal", 4},
        {"advise/pitfall2_random_normal.json", "advise/pitfall2_fixed.json", NNINIT_ADVICE_UNSCALED,
         "glorot_uniform", 8},
        {"advise/pitfall3_glorot_relu.json", "advise/pitfall3_fixed.json", NNINIT_ADVICE_ACT_MISMATCH, "he_normal",
         8},
    };
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        nninit_model *m = keras(cases[c].bad);
        nninit_advice *a = advise(m);
        assert_int_equal(count(a, cases[c].kind, cases[c].fix, 0), cases[c].flagged);
        assert_int_equal(a->n_counted, cases[c].flagged); /* nothing else, the softmax head included */
        nninit_advice_free(a);
        nninit_model_free(m);
        m = keras(cases[c].good);
        a = advise(m);
        assert_int_equal(a->n_findings, 0);
        nninit_advice_free(a);
        nninit_model_free(m);
    }
}

/* Square Glorot/ReLU: sigma_w^2 = 1, and each layer after the first halves q and the gradient: the theory's
 * chi_1 of relu at sw2 = 1 (E[relu'^2] = 1/2) and the length map q -> sw2 q / 2. */
static void test_relu_glorot_gain(void **state)
{
    (void)state;
    nninit_model *m = keras("advise/relu_glorot_square.json");
    nninit_advice *a = advise(m);
    nninit_err err = {0};
    nninit_theory_net net = {NNINIT_THEORY_RELU, 0, 1.0, 0.0};
    nninit_theory_point p;
    assert_ok(nninit_theory_analyze(&net, 1.0, &p, &err), &err);
    assert_close(p.chi1, 0.5, 1e-12);
    assert_int_equal(a->n_layers, 12);
    for (int i = 0; i < a->n_layers; i++) {
        const nninit_advice_layer *l = &a->layers[i];
        assert_close(l->sw2, 1.0, 1e-12); /* glorot_uniform (256, 256): Var = 1/256 */
        assert_int_equal(l->chain, 0);
        if (i == 0) {
            assert_close(l->fwd_gain, 1.0, 1e-12); /* the input is not passed through relu */
            continue;
        }
        assert_close(l->fwd_gain, 0.5, 1e-12);
        assert_close(l->bwd_gain, 0.5, 1e-12);
        assert_close(l->chi1, p.chi1, 1e-12);
        assert_close(l->fwd_total, ldexp(1.0, -i), 1e-12);
        assert_int_equal(l->phase, NNINIT_PHASE_ORDERED);
    }
    assert_int_equal(count(a, NNINIT_ADVICE_ACT_MISMATCH, "he_normal", 0), 12);
    nninit_advice_free(a);
    nninit_model_free(m);
}

static void test_tanh_critical(void **state)
{
    (void)state;
    nninit_model *m = keras("advise/tanh_critical.json");
    nninit_advice *a = advise(m);
    assert_int_equal(a->n_findings, 0);
    for (int i = 1; i < a->n_layers; i++) {
        assert_int_equal(a->layers[i].phase, NNINIT_PHASE_CRITICAL);
        assert_close(a->layers[i].chi1, 1.0, 1e-6);
        assert_close(a->layers[i].sb2, 0.05, 1e-12);
    }
    nninit_advice_free(a);
    nninit_model_free(m);
    /* the same depth with He: chaotic, chi_1 1.10 per block compounds past 10 */
    m = keras("advise/tanh_he_deep.json");
    a = advise(m);
    assert_int_equal(count(a, NNINIT_ADVICE_ACT_MISMATCH, "glorot_uniform", 0), 32);
    assert_int_equal(a->layers[5].phase, NNINIT_PHASE_CHAOTIC);
    assert_true(a->layers[5].chi1 > 1.09 && a->layers[5].chi1 < 1.12);
    nninit_advice_free(a);
    nninit_model_free(m);
}

/* PyTorch's default Linear init, kaiming_uniform_(a=sqrt(5)), gives sigma_w^2 = 1/3: a deep ReLU MLP vanishes. */
static void test_torch_kinds(void **state)
{
    (void)state;
    nninit_model *m = torch("Sequential(Linear(64, 64), ReLU(), Linear(64, 64), ReLU(), Linear(64, 64), ReLU(), "
                            "Linear(64, 10))");
    nninit_advice *a = advise(m);
    assert_close(a->layers[1].sw2, 1.0 / 3.0, 1e-12);
    assert_int_equal(count(a, NNINIT_ADVICE_ACT_MISMATCH, "kaiming_normal_(nonlinearity='relu')", 0), 3);
    assert_int_equal(count(a, NNINIT_ADVICE_ACT_MISMATCH, "xavier_uniform_", 0), 1);
    nninit_advice_free(a);
    nninit_model_free(m);
    /* with a BatchNorm after each layer the chain never compounds: notes, not findings */
    m = torch("Sequential(Linear(64, 64), BatchNorm1d(64), ReLU(), Linear(64, 64), BatchNorm1d(64), ReLU(), "
              "Linear(64, 64), BatchNorm1d(64), ReLU(), Linear(64, 10))");
    a = advise(m);
    assert_int_equal(a->n_counted, 0);
    assert_int_equal(count(a, NNINIT_ADVICE_ACT_MISMATCH, NULL, 1), 4);
    nninit_advice_free(a);
    nninit_model_free(m);
    /* LSTM: torch's uniform recurrent kernel and zero-mean forget bias; SELU; embedding feeding attention */
    m = torch("Net(emb=Embedding(100, 32), rnn=LSTM(32, 16), fc=Sequential(Linear(16, 16), SELU()), "
              "attn=MultiheadAttention(32, 4))");
    a = advise(m);
    assert_int_equal(count(a, NNINIT_ADVICE_RECURRENT, "orthogonal_", 0), 1);
    assert_int_equal(count(a, NNINIT_ADVICE_FORGET_BIAS, "", 0), 1);
    assert_int_equal(count(a, NNINIT_ADVICE_SELU, "kaiming_normal_(nonlinearity='linear')", 0), 1);
    assert_int_equal(count(a, NNINIT_ADVICE_EMBEDDING_SCALE, "normal_(std=0.02)", 0), 1);
    assert_int_equal(a->n_counted, 4);
    nninit_advice_free(a);
    nninit_model_free(m);
    /* a deep pre-norm transformer: 12 unscaled residual projections; post-norm: notes */
    m = torch("TransformerEncoder(TransformerEncoderLayer(64, 4, 128, norm_first=True), 6)");
    a = advise(m);
    char fix[64];
    snprintf(fix, sizeof fix, "normal_(std=%.4g)", 0.02 / sqrt(12.0));
    assert_int_equal(count(a, NNINIT_ADVICE_RESIDUAL_SCALE, fix, 0), 12);
    nninit_advice_free(a);
    nninit_model_free(m);
    m = torch("TransformerEncoder(TransformerEncoderLayer(64, 4, 128), 6)");
    a = advise(m);
    assert_int_equal(count(a, NNINIT_ADVICE_RESIDUAL_SCALE, NULL, 1), 12);
    assert_int_equal(a->n_counted, 0);
    nninit_advice_free(a);
    nninit_model_free(m);
}

/* A deep sigmoid stack with the recommended Glorot kernels still vanishes (chi_1 ~ 0.06 per block at
 * sigma_w^2 = 1): a depth finding, which no initializer fixes. */
static void test_depth(void **state)
{
    (void)state;
    nninit_model *m = NULL;
    nninit_err err = {0};
    assert_ok(nninit_model_from_spec("{\"torch\": \"Sequential(Linear(64, 64), Sigmoid(), Linear(64, 64), Sigmoid(), "
                                     "Linear(64, 64), Sigmoid(), Linear(64, 64), Sigmoid(), Linear(64, 10))\", "
                                     "\"overrides\": {\"0.weight\": \"xavier_uniform_\", \"2.weight\": \"xavier_uniform_\", "
                                     "\"4.weight\": \"xavier_uniform_\", \"6.weight\": \"xavier_uniform_\", "
                                     "\"8.weight\": \"xavier_uniform_\"}}",
                                     &m, &err),
              &err);
    nninit_advice *a = advise(m);
    assert_int_equal(a->n_findings, 1);
    assert_int_equal(count(a, NNINIT_ADVICE_DEPTH, "", 0), 1);
    assert_int_equal(a->findings[0].layer, 0);
    assert_true(a->layers[2].chi1 < 0.1);
    nninit_advice_free(a);
    nninit_model_free(m);
}

/* --fix: the fixed model reports none of the fixed kinds (recipe -> spec with overrides) */
static void test_fix_round_trip(void **state)
{
    (void)state;
    const char *recipe = "Sequential(Linear(32, 32), Tanh(), Linear(32, 32), Tanh(), Linear(32, 32), Tanh(), "
                         "Linear(32, 32), Tanh(), Linear(32, 32), Tanh(), Linear(32, 32), Tanh(), Linear(32, 2))";
    nninit_model *m = torch(recipe);
    nninit_advice *a = advise(m);
    assert_true(a->n_counted > 0);
    char *json = NULL;
    nninit_err err = {0};
    assert_ok(nninit_advice_fix(m, recipe, a, &json, &err), &err);
    nninit_model *fixed = NULL;
    assert_ok(nninit_model_from_spec(json, &fixed, &err), &err);
    nninit_advice *b = advise(fixed);
    assert_int_equal(b->n_findings, 0);
    nninit_free(json);
    nninit_advice_free(a);
    nninit_advice_free(b);
    nninit_model_free(m);
    nninit_model_free(fixed);
}

static void test_recommend(void **state)
{
    (void)state;
    char spec[160];
    nninit_err err = {0};
    static const struct { const char *act; nninit_layout layout; const char *want; } cases[] = {
        {"relu", NNINIT_LAYOUT_KERAS, "he_normal"},
        {"relu", NNINIT_LAYOUT_TORCH, "kaiming_normal_(nonlinearity='relu')"},
        {"tanh", NNINIT_LAYOUT_KERAS, "glorot_uniform"},
        {"sigmoid", NNINIT_LAYOUT_TORCH, "xavier_uniform_"},
        {"selu", NNINIT_LAYOUT_KERAS, "lecun_normal"},
        {"softmax", NNINIT_LAYOUT_KERAS, "glorot_uniform"},
        {NULL, NNINIT_LAYOUT_KERAS, "glorot_uniform"},
        {"leaky_relu(0.1)", NNINIT_LAYOUT_TORCH, "kaiming_normal_(a=0.1, nonlinearity='leaky_relu')"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        assert_ok(nninit_advice_recommend(cases[i].act, cases[i].layout, 0.0, spec, sizeof spec, &err), &err);
        assert_string_equal(spec, cases[i].want);
    }
    /* gelu: VarianceScaling at the critical sigma_w^2 of the theory (chi_1 = 1 there) */
    assert_ok(nninit_advice_recommend("gelu", NNINIT_LAYOUT_KERAS, 0.0, spec, sizeof spec, &err), &err);
    double crit = 0;
    assert_ok(nninit_theory_critical(NNINIT_THEORY_GELU, 0, 0, 1.0, &crit, &err), &err);
    char want[160];
    snprintf(want, sizeof want, "VarianceScaling(scale=%.4f, mode='fan_in', distribution='truncated_normal')", crit);
    assert_string_equal(spec, want);
    assert_int_equal(nninit_advice_kind_name(NNINIT_ADVICE_KIND_COUNT)[0], '?');
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pitfalls),     cmocka_unit_test(test_relu_glorot_gain),
        cmocka_unit_test(test_tanh_critical), cmocka_unit_test(test_torch_kinds),
        cmocka_unit_test(test_fix_round_trip), cmocka_unit_test(test_recommend),
        cmocka_unit_test(test_depth),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
