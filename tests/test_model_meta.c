/* Layer metadata of model tensors (nninit_model_layer_info_at): layer path
 * and class, role, the activation and normalization that follow, gates,
 * for torch recipes and Keras JSON (Sequential and Functional). */
#include "util.h"

typedef struct want {
    const char *name, *layer, *cls, *role, *act; /* act NULL: not known */
    int norm_after, residual_out, gates;
    int64_t units, forget_ones;
} want;

static void check(const nninit_model *m, const want *w, size_t n)
{
    nninit_err err = {0};
    assert_int_equal(nninit_model_count(m), n);
    for (size_t i = 0; i < n; i++) {
        nninit_model_tensor buf;
        nninit_model_layer_info li;
        const nninit_model_tensor *t = nninit_model_tensor_at(m, i, &buf);
        assert_ok(nninit_model_layer_info_at(m, i, &li, &err), &err);
        assert_string_equal(t->name, w[i].name);
        assert_string_equal(li.layer, w[i].layer);
        assert_string_equal(li.cls, w[i].cls);
        assert_string_equal(nninit_model_role_name(li.role), w[i].role);
        if (w[i].act)
            assert_string_equal(li.activation ? li.activation : "(null)", w[i].act);
        else
            assert_null(li.activation);
        assert_int_equal(li.norm_after, w[i].norm_after);
        assert_int_equal(li.residual_out, w[i].residual_out);
        assert_int_equal(li.gates, w[i].gates);
        assert_int_equal(li.units, w[i].units);
        assert_int_equal(li.forget_ones, w[i].forget_ones);
    }
    nninit_model_layer_info li;
    assert_int_equal(nninit_model_layer_info_at(m, n, &li, &err), NNINIT_EINVAL);
}

static void test_torch_sequential(void **state)
{
    (void)state;
    nninit_model *m = NULL;
    nninit_err err = {0};
    assert_ok(nninit_model_from_torch("Sequential(Linear(8, 6), BatchNorm1d(6), Dropout(0.1), LeakyReLU(0.1), "
                                      "Linear(6, 4), Tanh(), LSTM(4, 3), Embedding(5, 2), Linear(2, 2), "
                                      "Net(fc=Linear(2, 2), act=ReLU()))",
                                      &m, &err),
              &err);
    const want w[] = {
        {"0.weight", "0", "Linear", "kernel", "leaky_relu(0.1)", 1, 0, 0, 0, 0},
        {"0.bias", "0", "Linear", "bias", "leaky_relu(0.1)", 1, 0, 0, 0, 0},
        {"1.weight", "1", "BatchNorm1d", "gamma", "leaky_relu(0.1)", 0, 0, 0, 0, 0},
        {"1.bias", "1", "BatchNorm1d", "beta", "leaky_relu(0.1)", 0, 0, 0, 0, 0},
        {"1.running_mean", "1", "BatchNorm1d", "moving_mean", "leaky_relu(0.1)", 0, 0, 0, 0, 0},
        {"1.running_var", "1", "BatchNorm1d", "moving_variance", "leaky_relu(0.1)", 0, 0, 0, 0, 0},
        {"1.num_batches_tracked", "1", "BatchNorm1d", "counter", "leaky_relu(0.1)", 0, 0, 0, 0, 0},
        {"4.weight", "4", "Linear", "kernel", "tanh", 0, 0, 0, 0, 0},
        {"4.bias", "4", "Linear", "bias", "tanh", 0, 0, 0, 0, 0},
        {"6.weight_ih_l0", "6", "LSTM", "kernel", "tanh", 0, 0, 4, 3, 0},
        {"6.weight_hh_l0", "6", "LSTM", "recurrent_kernel", "tanh", 0, 0, 4, 3, 0},
        {"6.bias_ih_l0", "6", "LSTM", "bias", "tanh", 0, 0, 4, 3, 0},
        {"6.bias_hh_l0", "6", "LSTM", "recurrent_bias", "tanh", 0, 0, 4, 3, 0},
        {"7.weight", "7", "Embedding", "embeddings", NULL, 0, 0, 0, 0, 0},
        {"8.weight", "8", "Linear", "kernel", "linear", 0, 0, 0, 0, 0},
        {"8.bias", "8", "Linear", "bias", "linear", 0, 0, 0, 0, 0},
        /* a module of one's own: its forward is unknown, so is what follows fc */
        {"9.fc.weight", "9.fc", "Linear", "kernel", NULL, 0, 0, 0, 0, 0},
        {"9.fc.bias", "9.fc", "Linear", "bias", NULL, 0, 0, 0, 0, 0},
    };
    check(m, w, sizeof w / sizeof *w);
    nninit_model_free(m);
}

static void test_torch_transformer(void **state)
{
    (void)state;
    nninit_model *m = NULL;
    nninit_err err = {0};
    assert_ok(nninit_model_from_torch("Sequential(TransformerEncoderLayer(4, 2, 8, activation='gelu', "
                                      "norm_first=True))",
                                      &m, &err),
              &err);
    const want w[] = {
        {"0.self_attn.in_proj_weight", "0.self_attn", "MultiheadAttention", "in_proj", NULL, 0, 0, 0, 0, 0},
        {"0.self_attn.in_proj_bias", "0.self_attn", "MultiheadAttention", "in_proj_bias", NULL, 0, 0, 0, 0, 0},
        {"0.self_attn.out_proj.weight", "0.self_attn", "MultiheadAttention", "out_proj", "linear", 0, 1, 0, 0, 0},
        {"0.self_attn.out_proj.bias", "0.self_attn", "MultiheadAttention", "out_proj_bias", "linear", 0, 0, 0, 0, 0},
        {"0.linear1.weight", "0.linear1", "Linear", "kernel", "gelu", 0, 0, 0, 0, 0},
        {"0.linear1.bias", "0.linear1", "Linear", "bias", "gelu", 0, 0, 0, 0, 0},
        {"0.linear2.weight", "0.linear2", "Linear", "kernel", "linear", 0, 1, 0, 0, 0},
        {"0.linear2.bias", "0.linear2", "Linear", "bias", "linear", 0, 0, 0, 0, 0},
        {"0.norm1.weight", "0.norm1", "LayerNorm", "gamma", NULL, 0, 0, 0, 0, 0},
        {"0.norm1.bias", "0.norm1", "LayerNorm", "beta", NULL, 0, 0, 0, 0, 0},
        {"0.norm2.weight", "0.norm2", "LayerNorm", "gamma", NULL, 0, 0, 0, 0, 0},
        {"0.norm2.bias", "0.norm2", "LayerNorm", "beta", NULL, 0, 0, 0, 0, 0},
    };
    check(m, w, sizeof w / sizeof *w);
    nninit_model_free(m);
    /* post-norm (the default): a LayerNorm follows each residual branch */
    assert_ok(nninit_model_from_torch("TransformerEncoderLayer(4, 2, 8)", &m, &err), &err);
    nninit_model_layer_info li;
    assert_ok(nninit_model_layer_info_at(m, 6, &li, &err), &err); /* linear2.weight */
    assert_int_equal(li.norm_after, 1);
    assert_int_equal(li.residual_out, 1);
    assert_ok(nninit_model_layer_info_at(m, 4, &li, &err), &err); /* linear1.weight */
    assert_string_equal(li.activation, "relu");
    nninit_model_free(m);
    /* TransformerEncoder's deep copies keep the metadata under their own paths */
    assert_ok(nninit_model_from_torch("TransformerEncoder(TransformerEncoderLayer(4, 2, 8, norm_first=True), 3)", &m,
                                      &err),
              &err);
    assert_int_equal(nninit_model_count(m), 36);
    assert_ok(nninit_model_layer_info_at(m, 2 * 12 + 6, &li, &err), &err);
    nninit_model_tensor buf;
    assert_string_equal(nninit_model_tensor_at(m, 2 * 12 + 6, &buf)->name, "layers.2.linear2.weight");
    assert_string_equal(li.layer, "layers.2.linear2");
    assert_string_equal(li.cls, "Linear");
    assert_int_equal(li.residual_out, 1);
    assert_int_equal(li.norm_after, 0);
    nninit_model_free(m);
}

static void test_keras(void **state)
{
    (void)state;
    /* Sequential: own activation, Activation/LeakyReLU layers, BatchNormalization and Dropout between */
    const char *seq =
        "{\"class_name\": \"Sequential\", \"config\": {\"name\": \"s\", \"layers\": ["
        "{\"class_name\": \"InputLayer\", \"config\": {\"name\": \"in\", \"batch_shape\": [null, 5, 3]}},"
        "{\"class_name\": \"LSTM\", \"config\": {\"name\": \"lstm\", \"units\": 4, \"return_sequences\": false}},"
        "{\"class_name\": \"Dense\", \"config\": {\"name\": \"d1\", \"units\": 6, \"activation\": \"relu\"}},"
        "{\"class_name\": \"BatchNormalization\", \"config\": {\"name\": \"bn\"}},"
        "{\"class_name\": \"Dense\", \"config\": {\"name\": \"d2\", \"units\": 6, \"use_bias\": false}},"
        "{\"class_name\": \"Dropout\", \"config\": {\"name\": \"drop\", \"rate\": 0.5}},"
        "{\"class_name\": \"LeakyReLU\", \"config\": {\"name\": \"lr\", \"negative_slope\": 0.25}},"
        "{\"class_name\": \"Dense\", \"config\": {\"name\": \"d3\", \"units\": 2, \"activation\": \"softmax\"}}]}}";
    nninit_model *m = NULL;
    nninit_err err = {0};
    assert_ok(nninit_model_from_keras(seq, &m, &err), &err);
    const want w[] = {
        {"lstm/lstm_cell/kernel", "lstm", "LSTM", "kernel", "tanh", 0, 0, 4, 4, 0},
        {"lstm/lstm_cell/recurrent_kernel", "lstm", "LSTM", "recurrent_kernel", "tanh", 0, 0, 4, 4, 0},
        {"lstm/lstm_cell/bias", "lstm", "LSTM", "bias", "tanh", 0, 0, 4, 4, 4},
        {"d1/kernel", "d1", "Dense", "kernel", "relu", 1, 0, 0, 0, 0},
        {"d1/bias", "d1", "Dense", "bias", "relu", 1, 0, 0, 0, 0},
        {"bn/gamma", "bn", "BatchNormalization", "gamma", NULL, 0, 0, 0, 0, 0},
        {"bn/beta", "bn", "BatchNormalization", "beta", NULL, 0, 0, 0, 0, 0},
        {"bn/moving_mean", "bn", "BatchNormalization", "moving_mean", NULL, 0, 0, 0, 0, 0},
        {"bn/moving_variance", "bn", "BatchNormalization", "moving_variance", NULL, 0, 0, 0, 0, 0},
        {"d2/kernel", "d2", "Dense", "kernel", "leaky_relu(0.25)", 0, 0, 0, 0, 0},
        {"d3/kernel", "d3", "Dense", "kernel", "softmax", 0, 0, 0, 0, 0},
        {"d3/bias", "d3", "Dense", "bias", "softmax", 0, 0, 0, 0, 0},
    };
    check(m, w, sizeof w / sizeof *w);
    nninit_model_free(m);

    /* Functional: the single consumer of a layer decides; two consumers leave it unknown */
    char path[512];
    assert_ok(nninit_model_from_keras_file(test_fixture("keras/train_resnet.json", path, sizeof path), &m, &err),
              &err);
    for (size_t i = 0; i < nninit_model_count(m); i++) {
        nninit_model_tensor buf;
        nninit_model_layer_info li;
        const nninit_model_tensor *t = nninit_model_tensor_at(m, i, &buf);
        assert_ok(nninit_model_layer_info_at(m, i, &li, &err), &err);
        if (!strcmp(t->name, "block_conv2/kernel")) { /* conv -> BatchNormalization -> Add */
            assert_string_equal(li.activation, "linear");
            assert_int_equal(li.norm_after, 1);
        }
        if (!strcmp(t->name, "block_conv1/kernel"))
            assert_string_equal(li.activation, "relu");
    }
    nninit_model_free(m);
}

/* {"torch": RECIPE, "overrides": {...}}: the recipe's model and metadata with the overrides applied */
static void test_spec_torch(void **state)
{
    (void)state;
    nninit_model *m = NULL;
    nninit_err err = {0};
    assert_ok(nninit_model_from_spec("{\"torch\": \"Sequential(Linear(4, 3), ReLU(), Linear(3, 2))\", "
                                     "\"overrides\": {\"0.weight\": \"kaiming_normal_(nonlinearity='relu')\"}}",
                                     &m, &err),
              &err);
    assert_string_equal(nninit_model_source(m), "torch");
    assert_string_equal(nninit_model_description(m), "Sequential(Linear(4, 3), ReLU(), Linear(3, 2))");
    nninit_model_tensor buf;
    nninit_model_layer_info li;
    const nninit_model_tensor *t = nninit_model_tensor_at(m, 0, &buf);
    assert_int_equal(t->init.kind, NNINIT_TORCH_KAIMING_NORMAL);
    assert_ok(nninit_model_layer_info_at(m, 0, &li, &err), &err);
    assert_string_equal(li.activation, "relu");
    t = nninit_model_tensor_at(m, 2, &buf);
    assert_int_equal(t->init.kind, NNINIT_TORCH_KAIMING_UNIFORM);
    nninit_model_free(m);
    assert_int_equal(nninit_model_from_spec("{\"torch\": 3}", &m, &err), NNINIT_EINVAL);
    assert_non_null(strstr(err.msg, "recipe string"));
    assert_int_equal(nninit_model_from_spec("{\"torch\": \"Linear(2, 2)\", \"tensors\": []}", &m, &err),
                     NNINIT_EINVAL);
    assert_non_null(strstr(err.msg, "unknown key 'tensors'"));
    assert_int_equal(nninit_model_from_spec("{\"torch\": \"Linear(2, 2)\", \"overrides\": {\"w\": \"zeros\"}}",
                                            &m, &err),
                     NNINIT_ENOTFOUND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_torch_sequential),
        cmocka_unit_test(test_torch_transformer),
        cmocka_unit_test(test_keras),
        cmocka_unit_test(test_spec_torch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
