/*
 * Keras fan rules and formulas against a second, independent implementation:
 * samples drawn by TensorFlow.js layers 4.22 (tools/make_tfjs_fixtures.js).
 * For each (initializer, shape) the sample's extremes must sit just inside
 * the bounds nninit resolves, which pins fan_in/fan_out for ranks 2 to 5.
 * tfjs differs from Keras in one documented way used here: its truncated
 * normals are not variance-corrected, so its bounds are +-2 sqrt(scale/n)
 * where Keras' (and nninit's) are +-2 sqrt(scale/n) / 0.87962566103423978.
 */
#include "util.h"

static void test_against_tfjs(void **state)
{
    (void)state;
    char path[512], line[1024];
    FILE *f = fopen(test_fixture("tfjs/samples.txt", path, sizeof path), "r");
    assert_non_null(f);
    int cases = 0;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#')
            continue;
        char name[64], shape_text[64];
        double mn, mx, sd;
        assert_int_equal(sscanf(line, "%63s %63s %lf %lf %lf", name, shape_text, &mn, &mx, &sd), 5);
        nninit_init in;
        nninit_shape shape;
        nninit_prim p;
        nninit_err err;
        int64_t n;
        assert_ok(nninit_init_parse(name, &in, &err), &err);
        assert_ok(nninit_shape_parse(shape_text, &shape, &err), &err);
        assert_ok(nninit_shape_numel(&shape, &n, &err), &err);
        assert_ok(nninit_resolve(&in, &shape, NNINIT_LAYOUT_KERAS, &p, &err), &err);
        double lo, hi, want_sd;
        if (p.kind == NNINIT_PRIM_UNIFORM) {
            lo = p.lo;
            hi = p.hi;
            want_sd = (hi - lo) / sqrt(12.0);
            /* the extremes of n uniforms are within 20 (hi - lo) / n of the ends (p < e^-20) */
            double gap = 20 * (hi - lo) / (double)n;
            if (mx > hi * (1 + 1e-6) || mx < hi - gap || mn < lo * (1 + 1e-6) || mn > lo + gap)
                fail_msg("%s %s: tfjs range [%.9g, %.9g], nninit bounds [%.9g, %.9g)", name, shape_text, mn, mx, lo, hi);
        } else if (p.kind == NNINIT_PRIM_TRUNC_NORMAL) {
            /* Keras-corrected kinds: tfjs bound = nninit bound * 0.8796; TruncatedNormal: the same */
            double k = in.kind == NNINIT_TRUNCATED_NORMAL ? 1.0 : 0.87962566103423978;
            hi = p.b * k;
            lo = p.a * k;
            want_sd = p.expected_std * k;
            if (mx > hi * (1 + 1e-6) || mx < 0.99 * hi || mn < lo * (1 + 1e-6) || mn > 0.99 * lo)
                fail_msg("%s %s: tfjs range [%.9g, %.9g], expected bounds +-%.9g", name, shape_text, mn, mx, hi);
        } else {
            assert_int_equal(p.kind, NNINIT_PRIM_NORMAL);
            want_sd = p.std;
        }
        /* sample std within 6 sd of the target (kurtosis <= 3: sd(s) <= s sqrt(1/(2n)) * sqrt(2)) */
        assert_close(sd, want_sd, 6 * want_sd * sqrt(1.0 / (double)n));
        cases++;
    }
    fclose(f);
    assert_int_equal(cases, 13);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_against_tfjs)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
