/* nninit_fit_tensor (what nninit inspect reports): tensors drawn by the
 * library from known initializers are recognised, a structured one by its
 * structure, a constant as constant, and PyTorch's default bias through
 * its weight sibling; a shape without fans has no candidate std. */
#include "util.h"

#include <unistd.h>

static char dir[64];

static void put(const char *name, const char *spec, int ndim, int64_t d0, int64_t d1, nninit_layout layout)
{
    nninit_shape sh = {ndim, {d0, d1}};
    nninit_init init;
    nninit_err err;
    nninit_rng *rng = NULL;
    assert_ok(nninit_init_parse(spec, &init, &err), &err);
    assert_ok(nninit_rng_new(NNINIT_RNG_PHILOX, 7, &rng, &err), &err);
    nninit_fill_opts o = nninit_fill_opts_default();
    o.layout = layout;
    o.stream = nninit_stream_from_name(name);
    int64_t n = ndim == 1 ? d0 : d0 * d1;
    float *v = malloc((size_t)n * sizeof *v);
    assert_non_null(v);
    assert_ok(nninit_fill(&init, &sh, &o, rng, v, &err), &err);
    char path[128];
    snprintf(path, sizeof path, "%s/%s.npy", dir, name);
    assert_ok(nninit_npy_write(path, NNINIT_F32, &sh, v, &err), &err);
    free(v);
    nninit_rng_free(rng);
}

static void fit_of(const char *name, nninit_layout layout, nninit_fit *f)
{
    nninit_tensor_file *tf = NULL;
    nninit_err err;
    size_t i;
    assert_ok(nninit_tensor_file_open(dir, &tf, &err), &err);
    assert_ok(nninit_tensor_file_find(tf, name, &i, &err), &err);
    assert_ok(nninit_fit_tensor(tf, i, layout, f, &err), &err);
    nninit_tensor_file_free(tf);
}

static void test_known_initializers(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/nninit-fit-XXXXXX");
    assert_non_null(mkdtemp(dir));
    /* (fan_in 256, fan_out 128) Keras kernels of 32768 values: the sample
     * std is within 1% of the true one, far inside the 10% window, and the
     * kurtosis separates the three shapes (its standard error ~0.03 here) */
    put("gu", "glorot_uniform", 2, 256, 128, NNINIT_LAYOUT_KERAS);
    put("hn", "he_normal", 2, 256, 128, NNINIT_LAYOUT_KERAS);
    put("kn", "kaiming_normal_", 2, 256, 128, NNINIT_LAYOUT_KERAS);
    put("q", "Orthogonal(gain=2)", 2, 64, 32, NNINIT_LAYOUT_KERAS);
    put("c", "Constant(value=0.5)", 2, 16, 16, NNINIT_LAYOUT_KERAS);
    /* torch Linear(300, 40): weight (40, 300), bias U(+-1/sqrt(300)) */
    put("lin.weight", "kaiming_uniform_(a=2.23606797749979)", 2, 40, 300, NNINIT_LAYOUT_TORCH);
    put("lin.bias", "RandomUniform(minval=-0.057735026918962574, maxval=0.057735026918962574)", 1, 40, 0,
        NNINIT_LAYOUT_TORCH);
    nninit_fit f;
    static const struct {
        const char *name, *spec;
        nninit_fit_dist dist;
    } want[] = {{"gu", "glorot_uniform", NNINIT_FIT_UNIFORM},
                {"hn", "he_normal", NNINIT_FIT_TRUNCATED_NORMAL},
                {"kn", "kaiming_normal_", NNINIT_FIT_NORMAL}};
    for (int k = 0; k < 3; k++) {
        fit_of(want[k].name, NNINIT_LAYOUT_KERAS, &f);
        assert_true(f.numeric);
        assert_int_equal(f.n, 256 * 128);
        assert_int_equal(f.fan_in, 256);
        assert_int_equal(f.fan_out, 128);
        assert_int_equal(f.shape, want[k].dist);
        assert_int_equal(f.closest, NNINIT_FIT_CANDIDATE);
        assert_string_equal(f.candidates[f.best].spec, want[k].spec);
        assert_rel_close(f.std, f.candidates[f.best].std, 0.02);
        assert_false(f.orthogonal);
    }
    fit_of("q", NNINIT_LAYOUT_KERAS, &f);
    assert_int_equal(f.closest, NNINIT_FIT_ORTHOGONAL);
    assert_rel_close(f.orthogonal_gain, 2.0, 1e-5);
    assert_true(f.orthogonality_error < 1e-5);
    fit_of("c", NNINIT_LAYOUT_KERAS, &f);
    assert_int_equal(f.closest, NNINIT_FIT_CONSTANT);
    assert_true(f.mean == 0.5f);
    fit_of("lin.bias", NNINIT_LAYOUT_TORCH, &f);
    assert_rel_close(f.torch_bias_std, 1.0 / sqrt(300.0) / sqrt(3.0), 1e-12);
    assert_int_equal(f.closest, NNINIT_FIT_TORCH_BIAS);
    assert_false(f.has_fans); /* 1-D under torch: no fans, no candidate std */
    for (int c = 0; c < f.n_candidates; c++)
        assert_true(isnan(f.candidates[c].std));
    fit_of("lin.weight", NNINIT_LAYOUT_TORCH, &f);
    assert_int_equal(f.closest, NNINIT_FIT_CANDIDATE);
    assert_string_equal(f.candidates[f.best].spec, "kaiming_uniform_(a=2.23606797749979)");
    /* the same bias read under the Keras layout has no weight sibling rule */
    fit_of("lin.bias", NNINIT_LAYOUT_KERAS, &f);
    assert_true(isnan(f.torch_bias_std));
    const char *names[] = {"gu", "hn", "kn", "q", "c", "lin.weight", "lin.bias"};
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        char path[128];
        snprintf(path, sizeof path, "%s/%s.npy", dir, names[k]);
        unlink(path);
    }
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_initializers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
