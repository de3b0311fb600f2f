/* Model loading at scale and the caps on counts (src/model/internal.h):
 * a 100k-layer Keras model loads, lists and takes overrides in time linear
 * in its size (it took over a minute: a name scan per lookup and a pairwise
 * duplicate check), and every capped count is refused at cap + 1 with one
 * line naming the value and the cap, before the work it would cause
 * (LSTM(num_layers=1000000) ran for minutes, a fuzz input used 2 GB). */
#include "util.h"
#include "model/internal.h"

#include <time.h>

/* A Keras model of n Dense(4) layers after an InputLayer: a Sequential
 * chain, or a Keras 2 Functional graph where every layer reads the input
 * (the worst case for a backwards name scan). */
static char *keras_json(size_t n, int functional)
{
    nninit__sb b = NNINIT__SB_INIT;
    nninit__sb_printf(&b, "{\"class_name\": \"%s\", \"config\": {\"name\": \"m\", \"layers\": [{\"class_name\": "
                      "\"InputLayer\", \"name\": \"in\", \"config\": {\"name\": \"in\", \"batch_shape\": [null, 4]}, "
                      "\"inbound_nodes\": []}", functional ? "Functional" : "Sequential");
    for (size_t i = 0; i < n; i++)
        nninit__sb_printf(&b, ", {\"class_name\": \"Dense\", \"name\": \"d%zu\", \"config\": {\"name\": \"d%zu\", "
                          "\"units\": 4}%s}", i, i, functional ? ", \"inbound_nodes\": [[[\"in\", 0, 0, {}]]]" : "");
    nninit__sb_str(&b, "]}}");
    return nninit__sb_take(&b);
}

/* CPU seconds to load the model, visit every tensor by rank and override
 * every tensor by name. */
static double load_seconds(const char *json, size_t n_layers)
{
    clock_t t0 = clock();
    nninit_model *m = NULL;
    nninit_err err;
    assert_int_equal(nninit_model_from_keras(json, &m, &err), NNINIT_OK);
    size_t n = nninit_model_count(m);
    assert_int_equal(n, 2 * n_layers); /* kernel and bias */
    nninit_model_tensor t;
    for (size_t i = 0; i < n; i++) {
        assert_non_null(nninit_model_tensor_at(m, i, &t));
        char name[64];
        snprintf(name, sizeof name, "%s", t.name);
        assert_int_equal(nninit_model_override(m, name, "zeros", &err), NNINIT_OK);
    }
    assert_non_null(nninit_model_tensor_at(m, n - 1, &t));
    assert_string_equal(t.spec, "zeros");
    nninit_model_free(m);
    return (double)(clock() - t0) / CLOCKS_PER_SEC;
}

/* Ten times the layers may take about ten times as long, never the hundred
 * times of a quadratic load (the code before this test: 0.7 s for 10k
 * layers, over a minute for 100k). Measured at load 7-9: ratios 9.7-13.8
 * (the 100k tables leave the caches), so 25 leaves room for a loaded
 * machine; CPU time, the best of two runs of the small model. */
static void check_linear(int functional)
{
    char *small = keras_json(10000, functional), *large = keras_json(100000, functional);
    assert_non_null(small);
    assert_non_null(large);
    double t_small = load_seconds(small, 10000), t2 = load_seconds(small, 10000);
    if (t2 < t_small)
        t_small = t2;
    double t_large = load_seconds(large, 100000);
    print_message("%s: 10k layers %.3f s, 100k layers %.3f s (ratio %.1f)\n", functional ? "Functional" : "Sequential",
                  t_small, t_large, t_large / t_small);
    assert_true(t_large < 25 * t_small + 0.05);
    free(small);
    free(large);
}

static void test_keras_sequential_loads_in_linear_time(void **state)
{
    (void)state;
    check_linear(0);
}

static void test_keras_functional_loads_in_linear_time(void **state)
{
    (void)state;
    check_linear(1);
}

/* "... is VALUE, above the cap of CAP ..." for a capped count. */
static void assert_capped(nninit_status s, const nninit_err *err, uint64_t value, uint64_t cap)
{
    char want[96];
    snprintf(want, sizeof want, " is %llu, above the cap of %llu ", (unsigned long long)value,
             (unsigned long long)cap);
    assert_int_equal(s, NNINIT_EINVAL);
    if (!strstr(err->msg, want))
        fail_msg("expected '%s' in: %s", want, err->msg);
    assert_null(strchr(err->msg, '\n'));
}

/* A JSON list of n zeros inside `before` and `after`: the count is checked
 * before any entry is looked at. */
static char *zeros_json(const char *before, size_t n, const char *after)
{
    nninit__sb b = NNINIT__SB_INIT;
    nninit__sb_str(&b, before);
    for (size_t i = 0; i < n; i++)
        nninit__sb_str(&b, i ? ",0" : "0");
    nninit__sb_str(&b, after);
    return nninit__sb_take(&b);
}

static void test_keras_and_spec_counts_capped(void **state)
{
    (void)state;
    nninit_model *m = NULL;
    nninit_err err;
    char *k = zeros_json("{\"class_name\": \"Sequential\", \"config\": {\"layers\": [", NNINIT__MODEL_MAX_LAYERS + 1,
                         "]}}");
    assert_non_null(k);
    assert_capped(nninit_model_from_keras(k, &m, &err), &err, NNINIT__MODEL_MAX_LAYERS + 1, NNINIT__MODEL_MAX_LAYERS);
    assert_non_null(strstr(err.msg, "keras model: the number of layers"));
    assert_null(m);
    free(k);
    char *s = zeros_json("{\"tensors\": [", NNINIT__MODEL_MAX_TENSORS + 1, "]}");
    assert_non_null(s);
    assert_capped(nninit_model_from_spec(s, &m, &err), &err, NNINIT__MODEL_MAX_TENSORS + 1, NNINIT__MODEL_MAX_TENSORS);
    assert_non_null(strstr(err.msg, "model spec: the number of tensors"));
    free(s);
    /* sizes: the value given, the cap and why (2^40 read as -1 and said "needs units >= 1") */
    const char *big = "{\"class_name\": \"Sequential\", \"config\": {\"layers\": [{\"class_name\": \"InputLayer\", "
                      "\"config\": {\"name\": \"in\", \"batch_shape\": [null, 4]}}, {\"class_name\": \"LSTM\", "
                      "\"config\": {\"name\": \"l\", \"units\": 1099511627776}}]}}";
    assert_int_equal(nninit_model_from_keras(big, &m, &err), NNINIT_EINVAL);
    assert_non_null(strstr(err.msg, "units is 1099511627776; expected an integer from 1 to 2147483648"));
    assert_int_equal(nninit_model_from_spec("{\"tensors\": [{\"name\": \"w\", \"shape\": [2147483649], "
                                            "\"init\": \"zeros\"}]}", &m, &err), NNINIT_EINVAL);
    assert_non_null(strstr(err.msg, "dimension 0 is 2147483649; expected an integer from 1 to 2147483648"));
}

static void test_torch_counts_capped(void **state)
{
    (void)state;
    nninit_model *m = NULL;
    nninit_err err;
    char r[160];
    const char *rnns[] = {"LSTM", "GRU", "RNN"};
    for (int i = 0; i < 3; i++) {
        snprintf(r, sizeof r, "%s(1, 1, num_layers=%d)", rnns[i], NNINIT__MODEL_MAX_STACK + 1);
        clock_t t0 = clock();
        assert_capped(nninit_model_from_torch(r, &m, &err), &err, NNINIT__MODEL_MAX_STACK + 1,
                      NNINIT__MODEL_MAX_STACK);
        assert_true(clock() - t0 < CLOCKS_PER_SEC / 10); /* refused before building anything */
        assert_null(m);
    }
    snprintf(r, sizeof r, "RNN(1, 1, num_layers=%d, bias=False)", NNINIT__MODEL_MAX_STACK); /* the cap itself */
    assert_int_equal(nninit_model_from_torch(r, &m, &err), NNINIT_OK);
    assert_int_equal(nninit_model_count(m), 2 * NNINIT__MODEL_MAX_STACK);
    nninit_model_free(m);
    /* tensors: enough stacks at the cap to pass the tensor cap, refused
     * when the first tensor beyond it would be added */
    size_t per = 4 * NNINIT__MODEL_MAX_STACK, stacks = NNINIT__MODEL_MAX_TENSORS / per + 1;
    nninit__sb b = NNINIT__SB_INIT;
    nninit__sb_str(&b, "Sequential(");
    for (size_t i = 0; i < stacks; i++)
        nninit__sb_printf(&b, "RNN(1, 1, num_layers=%d), ", NNINIT__MODEL_MAX_STACK);
    nninit__sb_str(&b, ")");
    char *many = nninit__sb_take(&b);
    assert_non_null(many);
    assert_capped(nninit_model_from_torch(many, &m, &err), &err, NNINIT__MODEL_MAX_TENSORS + 1,
                  NNINIT__MODEL_MAX_TENSORS);
    assert_non_null(strstr(err.msg, "model: the number of tensors"));
    free(many);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keras_sequential_loads_in_linear_time),
        cmocka_unit_test(test_keras_functional_loads_in_linear_time),
        cmocka_unit_test(test_keras_and_spec_counts_capped),
        cmocka_unit_test(test_torch_counts_capped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
