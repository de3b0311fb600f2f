/* keras.initializers.STFT against kernels computed as Keras 3 computes them
 * (tools/make_stft_fixtures.py: scipy windows, NumPy for keras.ops), every
 * window, side, scaling and periodic flag; plus its errors. float32 values
 * may differ from NumPy's float32 sin/cos by an ulp, hence 4e-7 absolute
 * (kernel values are at most 1); float64 within 1e-13. */
#include "util.h"

static void test_against_keras_formula(void **state)
{
    (void)state;
    char path[512], head[1024];
    FILE *f = fopen(test_fixture("stft/kernels.txt", path, sizeof path), "r");
    assert_non_null(f);
    int cases = 0;
    while (fgets(head, sizeof head, f)) {
        char side[16], window[512], scaling[16], dtype[16];
        int periodic;
        long T, C, F;
        assert_int_equal(sscanf(head, "%15s %511s %d %15s %15s %ld %ld %ld", side, window, &periodic, scaling, dtype,
                                &T, &C, &F), 8);
        char spec[1024], win[600];
        char *comma = strchr(window, ','); /* tukey,0.25 is the tuple ('tukey', 0.25) */
        if (window[0] == '[') { /* a window of values, in the spec's list syntax */
            snprintf(win, sizeof win, "%s", window);
        } else if (comma) {
            *comma = '\0';
            snprintf(win, sizeof win, "('%s', %s)", window, comma + 1);
        } else {
            snprintf(win, sizeof win, strcmp(window, "None") ? "'%s'" : "%s", window);
        }
        snprintf(spec, sizeof spec, "STFT(side='%s', window=%s, periodic=%s, scaling=%s%s%s)", side, win,
                 periodic ? "True" : "False", strcmp(scaling, "None") ? "'" : "", scaling,
                 strcmp(scaling, "None") ? "'" : "");
        nninit_init in;
        nninit_err err;
        nninit_rng *rng;
        assert_ok(nninit_init_parse(spec, &in, &err), &err);
        assert_ok(nninit_rng_new(NNINIT_RNG_PHILOX, 1, &rng, &err), &err);
        nninit_shape s = {3, {T, C, F}};
        nninit_fill_opts o = nninit_fill_opts_default();
        o.dtype = strcmp(dtype, "float32") ? NNINIT_F64 : NNINIT_F32;
        int64_t n = T * C * F;
        double *got = malloc((size_t)n * sizeof *got);
        assert_ok(nninit_fill(&in, &s, &o, rng, got, &err), &err);
        double tol = o.dtype == NNINIT_F32 ? 4e-7 : 1e-13;
        for (int64_t i = 0; i < n; i++) {
            double want;
            assert_int_equal(fscanf(f, "%lf", &want), 1);
            double g = o.dtype == NNINIT_F32 ? (double)((float *)got)[i] : got[i];
            if (fabs(g - want) > tol)
                fail_msg("%s on (%ld, %ld, %ld) %s: element %lld is %.9g, Keras %.9g", spec, T, C, F, dtype,
                         (long long)i, g, want);
        }
        int c;
        while ((c = fgetc(f)) != '\n' && c != EOF)
            ;
        free(got);
        nninit_rng_free(rng);
        nninit_init_clear(&in);
        cases++;
    }
    fclose(f);
    assert_int_equal(cases, 36);
}

static void test_errors(void **state)
{
    (void)state;
    nninit_init in;
    nninit_err err;
    nninit_prim p;
    assert_int_equal(nninit_init_parse("STFT(side='both')", &in, &err), NNINIT_EINVAL);
    /* scipy: "The 'kaiser' window needs one or more parameters -- pass a tuple." */
    assert_int_equal(nninit_init_parse("STFT(window='kaiser')", &in, &err), NNINIT_EINVAL);
    assert_non_null(strstr(err.msg, "window 'kaiser' needs one or more parameters"));
    assert_int_equal(nninit_init_parse("STFT(window='chebwin')", &in, &err), NNINIT_EINVAL);
    assert_non_null(strstr(err.msg, "window 'chebwin' is not supported"));
    assert_int_equal(nninit_init_parse("STFT(window=('hann', 3))", &in, &err), NNINIT_EINVAL);
    assert_non_null(strstr(err.msg, "takes no parameters"));
    assert_int_equal(nninit_init_parse("STFT(window=('gaussian', 0))", &in, &err), NNINIT_EINVAL);
    assert_int_equal(nninit_init_parse("STFT(window=('exponential', 2, 3))", &in, &err), NNINIT_EINVAL);
    assert_non_null(strstr(err.msg, "center=None only"));
    /* a window of values (Keras' array_like): one per frame sample, finite, at least one; integers too */
    assert_ok(nninit_init_parse("STFT(window=[0.5, 1, 0.5])", &in, &err), &err);
    assert_int_equal(in.stft_window, NNINIT_WINDOW_VALUES);
    assert_true(in.stft_window_len == 3 && in.stft_window_values[1] == 1.0 && in.stft_window_owned);
    {
        nninit_init cp;
        assert_ok(nninit_init_copy(&cp, &in, &err), &err);
        assert_true(cp.stft_window_values != in.stft_window_values && cp.stft_window_values[2] == 0.5);
        nninit_init_clear(&cp);
        assert_null(cp.stft_window_values);
        nninit_shape four = {3, {4, 1, 3}};
        float kv[12];
        nninit_fill_opts fo = nninit_fill_opts_default();
        nninit_rng *rng = NULL;
        assert_ok(nninit_rng_new(NNINIT_RNG_PHILOX, 1, &rng, &err), &err);
        assert_int_equal(nninit_fill(&in, &four, &fo, rng, kv, &err), NNINIT_EINVAL);
        assert_non_null(strstr(err.msg, "the window has 3 values but the frame length"));
        nninit_rng_free(rng);
        char *vj;
        assert_ok(nninit_init_to_json(&in, &vj, &err), &err);
        assert_non_null(strstr(vj, "\"window\": [0.5, 1.0, 0.5]"));
#ifdef NNINIT_HAVE_JANSSON
        nninit_init back;
        assert_ok(nninit_init_parse(vj, &back, &err), &err);
        assert_true(back.stft_window_len == 3 && !memcmp(back.stft_window_values, in.stft_window_values, 24));
        nninit_init_clear(&back);
#endif
        nninit_free(vj);
    }
    nninit_init_clear(&in);
    assert_null(in.stft_window_values);
    assert_int_equal(nninit_init_parse("STFT(window=[])", &in, &err), NNINIT_EINVAL);
    assert_non_null(strstr(err.msg, "at least one value"));
    assert_int_equal(nninit_init_parse("STFT(window=[1.0, 1e999])", &in, &err), NNINIT_EINVAL);
    assert_non_null(strstr(err.msg, "window value 1 is inf"));
    assert_int_equal(nninit_init_parse("STFT(window=[1.0, 'a'])", &in, &err), NNINIT_EINVAL);
#ifdef NNINIT_HAVE_JANSSON
    assert_int_equal(nninit_init_parse("{\"class_name\": \"STFT\", \"config\": {\"window\": [1, \"a\"]}}", &in, &err),
                     NNINIT_EINVAL);
    assert_non_null(strstr(err.msg, "list items must be numbers"));
#endif
    /* get_window(8.0, N) is a kaiser window with beta 8 */
    assert_ok(nninit_init_parse("STFT(window=8.0)", &in, &err), &err);
    assert_int_equal(in.stft_window, NNINIT_WINDOW_KAISER);
    /* a beta whose I0 overflows would give a NaN kernel (scipy's window is NaN
     * from 713 on): refused; 700 still fills finite values (found by
     * tests/fuzz/fuzz_stft_window.c: window=206206 filled NaN) */
    assert_int_equal(nninit_init_parse("STFT(window=206206)", &in, &err), NNINIT_EINVAL);
    assert_non_null(strstr(err.msg, "beta 206206"));
    assert_int_equal(nninit_init_parse("STFT(window=('kaiser', -713))", &in, &err), NNINIT_EINVAL);
    assert_ok(nninit_init_parse("STFT(window=('kaiser', 700))", &in, &err), &err);
    {
        nninit_shape ks = {3, {33, 1, 3}};
        float kv[33 * 3];
        nninit_fill_opts fo = nninit_fill_opts_default();
        nninit_rng *rng = NULL;
        assert_ok(nninit_rng_new(NNINIT_RNG_PHILOX, 1, &rng, &err), &err);
        assert_ok(nninit_fill(&in, &ks, &fo, rng, kv, &err), &err);
        for (int i = 0; i < 33 * 3; i++)
            assert_true(isfinite(kv[i]));
        /* a window of length 1 is [1], periodic or not (scipy's _len_guards;
         * the first point of hann(2) would be 0): every value is cos(0) = 1 */
        nninit_shape one = {3, {1, 1, 3}}, two = {3, {2, 1, 3}};
        assert_ok(nninit_init_parse("STFT(window='hann', periodic=True)", &in, &err), &err);
        assert_ok(nninit_fill(&in, &one, &fo, rng, kv, &err), &err);
        for (int i = 0; i < 3; i++)
            assert_true(kv[i] == 1.0f);
        /* hann of length 2 is [0, 0]: the density scaling would divide by zero
         * and Keras would give NaN; refused, nothing written */
        assert_ok(nninit_init_parse("STFT(window='hann')", &in, &err), &err);
        kv[0] = 7.0f;
        assert_int_equal(nninit_fill(&in, &two, &fo, rng, kv, &err), NNINIT_EINVAL);
        assert_non_null(strstr(err.msg, "all zeros"));
        assert_true(kv[0] == 7.0f);
        /* without scaling a window of zeros is a kernel of zeros */
        assert_ok(nninit_init_parse("STFT(window='hann', scaling=None)", &in, &err), &err);
        assert_ok(nninit_fill(&in, &two, &fo, rng, kv, &err), &err);
        assert_true(kv[0] == 0.0f);
        nninit_rng_free(rng);
    }
    /* the tuple form round-trips through the JSON list form */
    char *tj;
    assert_ok(nninit_init_parse("STFT(window=('exponential', None, 3))", &in, &err), &err);
    assert_ok(nninit_init_to_json(&in, &tj, &err), &err);
    assert_non_null(strstr(tj, "\"window\": [\"exponential\", null, 3.0]"));
#ifdef NNINIT_HAVE_JANSSON
    nninit_init back;
    assert_ok(nninit_init_parse(tj, &back, &err), &err);
    assert_memory_equal(&in, &back, sizeof in);
#endif
    nninit_free(tj);
    assert_int_equal(nninit_init_parse("STFT(scaling='l2')", &in, &err), NNINIT_EINVAL);
    assert_int_equal(nninit_init_parse("STFT(periodic=1)", &in, &err), NNINIT_EINVAL);
    assert_int_equal(nninit_init_parse("he_normal(seed=True)", &in, &err), NNINIT_EINVAL);
    assert_ok(nninit_init_parse("STFTInitializer", &in, &err), &err);
    nninit_shape two = {2, {4, 3}}, one_bin = {3, {4, 1, 1}};
    assert_int_equal(nninit_resolve(&in, &two, NNINIT_LAYOUT_KERAS, &p, &err), NNINIT_EINVAL);
    assert_int_equal(nninit_resolve(&in, &one_bin, NNINIT_LAYOUT_KERAS, &p, &err), NNINIT_EINVAL);
    /* the Keras default config */
    char *json;
    assert_ok(nninit_init_parse("stft", &in, &err), &err);
    assert_ok(nninit_init_to_json(&in, &json, &err), &err);
    assert_string_equal(json, "{\"module\": \"keras.initializers\", \"class_name\": \"STFT\", \"config\": {\"side\": "
                              "\"real\", \"window\": \"hann\", \"periodic\": false, \"scaling\": \"density\"}, "
                              "\"registered_name\": null}");
    nninit_free(json);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_against_keras_formula), cmocka_unit_test(test_errors)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
