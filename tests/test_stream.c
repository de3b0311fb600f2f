/*
 * Pins the stream formats: the exact bits that (seed 42, stream 7) gives at
 * element 0 and at element 1000000007 for each transform and dtype, in
 * version 1 and in versions 2 and 3 (which differ only in the float32
 * truncated normal), and every value of version 3's erfinv table function. A change here is a change of NNINIT_STREAM_VERSION (and of
 * docs/stream.md), never a test update alone.
 */
#include "util.h"

#include "rng/simd_internal.h"

static const struct golden {
    int dtype, transform;
    unsigned long long begin;
    unsigned long long bits[3];
} GOLDEN[] = {
    {0, 0, 0ull, {0x3e5f2d30ull, 0x3fd7fe18ull, 0x3e8af8bcull}}, /* float32 uniform */
    {0, 0, 1000000007ull, {0x3f46f888ull, 0x3fe0e59aull, 0x3f020ee8ull}}, /* float32 uniform */
    {0, 1, 0ull, {0x402856daull, 0xbf914952ull, 0xbf51205cull}}, /* float32 normal */
    {0, 1, 1000000007ull, {0xbf67a7daull, 0xbea4d1caull, 0x3ef8e9c5ull}}, /* float32 normal */
    {0, 2, 0ull, {0x3fab2654ull, 0xbf080b30ull, 0x3fa20f02ull}}, /* float32 trunc */
    {0, 2, 1000000007ull, {0x3f20c5daull, 0xbf214ca1ull, 0x3f763d9aull}}, /* float32 trunc */
    {1, 0, 0ull, {0x3fcbe5a6c357fe18ull, 0x3fd15f17a80016b0ull, 0x3ffb199bbc1202e2ull}}, /* float64 uniform */
    {1, 0, 1000000007ull, {0x3ff77cb51cfb4b52ull, 0x3fff0efb36f41374ull, 0xbfe43abadfd5da8full}}, /* float64 uniform */
    {1, 1, 0ull, {0xbffe230c7f5fc244ull, 0x3ffbcad9f70ecbceull, 0xbfd6fca5d3c333c2ull}}, /* float64 normal */
    {1, 1, 1000000007ull, {0xbff9ec8d12eda30aull, 0x3fe92452dbafe69aull, 0x3fe8df13e840769aull}}, /* float64 normal */
    {1, 2, 0ull, {0x3ff564ca78f2bedeull, 0x3ff441e03dc75b0dull, 0xbfe149d5e58b973cull}}, /* float64 trunc */
    {1, 2, 1000000007ull, {0xbfce0a37bf6b8840ull, 0xbfecfedb3f1a902aull, 0x40060642d8242131ull}}, /* float64 trunc */
};

/* Version 2's float32 truncated normal, same parameters (N(0.5, 2) on
 * [-1, 4]: mirrored, 0.69 of the mass, the single-precision erfinv). */
static const struct golden GOLDEN_V2[] = {
    {0, 2, 0ull, {0x3fab2655ull, 0xbf080b32ull, 0x3fa20f01ull}},
    {0, 2, 1000000007ull, {0x3f20c5d9ull, 0xbf214ca2ull, 0x3f763d9cull}},
};

/* Version 3's, same parameters (the segment-table erfinv). */
static const struct golden GOLDEN_V3[] = {
    {0, 2, 0ull, {0x3fab2654ull, 0xbf080b32ull, 0x3fa20f00ull}},
    {0, 2, 1000000007ull, {0x3f20c5d9ull, 0xbf214ca2ull, 0x3f763d9cull}},
};

static void check_goldens(const struct golden *gold, size_t count, int version)
{
    uint32_t key[2];
    nninit__philox_key(42, key);
    for (size_t g = 0; g < count; g++) {
        const struct golden *e = &gold[g];
        unsigned char buf[24];
        nninit_dtype dt = (nninit_dtype)e->dtype;
        if (e->transform == 0)
            nninit__philox_uniform(key, 7, dt, e->begin, 3, -1.0, 2.0, buf);
        else if (e->transform == 1)
            nninit__philox_normal(key, 7, dt, e->begin, 3, 0.5, 2.0, buf);
        else
            nninit__philox_trunc_normal(key, 7, dt, e->begin, 3, 0.5, 2.0, -1.0, 4.0, version, buf);
        for (int i = 0; i < 3; i++) {
            unsigned long long got;
            if (dt == NNINIT_F32) {
                uint32_t u;
                memcpy(&u, buf + 4 * i, 4);
                got = u;
            } else {
                uint64_t u;
                memcpy(&u, buf + 8 * i, 8);
                got = u;
            }
            if (got != e->bits[i])
                fail_msg("dtype %d transform %d element %llu: bits 0x%llx, stream v%d says 0x%llx", e->dtype,
                         e->transform, e->begin + (unsigned long long)i, got, version, e->bits[i]);
        }
    }
}

static void test_stream_v1(void **state)
{
    (void)state;
    check_goldens(GOLDEN, sizeof GOLDEN / sizeof GOLDEN[0], 1);
}

/* Versions 2 and 3 = version 1 except the float32 truncated normal. */
static void test_stream_v2_v3(void **state)
{
    (void)state;
    assert_int_equal(NNINIT_STREAM_VERSION, 3);
    struct golden same[sizeof GOLDEN / sizeof GOLDEN[0]];
    size_t n = 0;
    for (size_t g = 0; g < sizeof GOLDEN / sizeof GOLDEN[0]; g++)
        if (!(GOLDEN[g].dtype == 0 && GOLDEN[g].transform == 2))
            same[n++] = GOLDEN[g];
    check_goldens(same, n, 2);
    check_goldens(GOLDEN_V2, sizeof GOLDEN_V2 / sizeof GOLDEN_V2[0], 2);
    check_goldens(same, n, 3);
    check_goldens(GOLDEN_V3, sizeof GOLDEN_V3 / sizeof GOLDEN_V3[0], 3);
}

/* Generators start at NNINIT_STREAM_VERSION; version 1 is selectable and
 * gives v1's float32 truncated normal through nninit_fill; float64 and the
 * other transforms do not depend on it; bad versions and torch generators
 * are refused, leaving the version as it was. */
static void test_stream_version_choice(void **state)
{
    (void)state;
    nninit_rng *rng, *torch;
    nninit_err err;
    nninit_init in;
    nninit_shape s = {2, {300, 7}};
    float v3[2100], v1[2100], want[2100];
    double d2[2100], d1[2100];
    assert_ok(nninit_rng_new(NNINIT_RNG_PHILOX, 42, &rng, &err), &err);
    assert_int_equal(nninit_rng_stream_version(rng), NNINIT_STREAM_VERSION);
    assert_ok(nninit_init_parse("truncated_normal(mean=0.5, stddev=2.0)", &in, &err), &err);
    nninit_fill_opts o = nninit_fill_opts_default();
    o.stream = 7;
    assert_ok(nninit_fill(&in, &s, &o, rng, v3, &err), &err);
    o.dtype = NNINIT_F64;
    assert_ok(nninit_fill(&in, &s, &o, rng, d2, &err), &err);
    assert_ok(nninit_rng_set_stream_version(rng, 1, &err), &err);
    assert_int_equal(nninit_rng_stream_version(rng), 1);
    assert_ok(nninit_fill(&in, &s, &o, rng, d1, &err), &err);
    o.dtype = NNINIT_F32;
    assert_ok(nninit_fill(&in, &s, &o, rng, v1, &err), &err);
    /* Keras' truncated normal: [mean - 2 sd, mean + 2 sd] */
    uint32_t key[2];
    nninit__philox_key(42, key);
    nninit__philox_trunc_normal(key, 7, NNINIT_F32, 0, 2100, 0.5, 2.0, -3.5, 4.5, 1, want);
    assert_memory_equal(v1, want, sizeof want);
    nninit__philox_trunc_normal(key, 7, NNINIT_F32, 0, 2100, 0.5, 2.0, -3.5, 4.5, 3, want);
    assert_memory_equal(v3, want, sizeof want);
    assert_memory_not_equal(v1, v3, sizeof v1);
    nninit__philox_trunc_normal(key, 7, NNINIT_F32, 0, 2100, 0.5, 2.0, -3.5, 4.5, 2, want);
    assert_memory_not_equal(v3, want, sizeof want);
    assert_ok(nninit_rng_set_stream_version(rng, 2, &err), &err);
    assert_ok(nninit_fill(&in, &s, &o, rng, v1, &err), &err);
    assert_memory_equal(v1, want, sizeof want);
    assert_memory_equal(d1, d2, sizeof d1);
    assert_int_equal(nninit_rng_set_stream_version(rng, 0, &err), NNINIT_EINVAL);
    assert_int_equal(nninit_rng_set_stream_version(rng, NNINIT_STREAM_VERSION + 1, &err), NNINIT_EINVAL);
    assert_int_equal(nninit_rng_stream_version(rng), 2);
    assert_ok(nninit_rng_new(NNINIT_RNG_TORCH, 42, &torch, &err), &err);
    assert_int_equal(nninit_rng_set_stream_version(torch, 1, &err), NNINIT_EUNSUPPORTED);
    nninit_rng_free(torch);
    nninit_rng_free(rng);
}

/* Version 2's single-precision erfinv against the double-precision inverse
 * CDF (erfinv(y) = ndtri((1 + y) / 2) / sqrt 2, 7.4e-16 relative): on every
 * 2^-23 step of (-1, 1) the worst relative error measured 2.6e-7 (about two
 * float ulps, at y = -0.99955); allow 1e-6, which a coefficient off in its
 * fourth digit exceeds. */
static void test_v2_erfinv_accuracy(void **state)
{
    (void)state;
    double worst = 0;
    for (int32_t k = -(1 << 23) + 1; k < (1 << 23); k += (k > -(1 << 23) + 64 && k < (1 << 23) - 64) ? 7 : 1) {
        float y = (float)k * 0x1p-23f;
        double ref = nninit__ndtri((1.0 + (double)y) / 2.0) / 1.4142135623730951;
        double got = nninit__trunc2_erfinvf(y);
        if (ref != 0)
            worst = fmax(worst, fabs(got - ref) / fabs(ref));
        else
            assert_true(got == 0);
    }
    print_message("v2 erfinv: worst relative error %.3g\n", worst);
    assert_true(worst < 1e-6);
}

/* Version 3's erfinv against the same reference on every 2^-23 step of
 * (-1, 1), and at 0 and tiny |y| (x = 1 - |y| rounds to 1 and is clamped):
 * worst relative error measured 1.7e-7 where the table applies (1.2 float
 * ulps; 2.4e-7 overall, from v2's function beyond 1 - 2^-8; the table is
 * Chebyshev interpolation rounded to float); allow 5e-7, which a
 * coefficient off in its 5th digit, a segment shifted by one or a wrong
 * variable exceeds. The FNV-1a hash of the 2^24 results pins the table
 * itself: any change of a coefficient's bits changes some value. */
static void test_v3_erfinv(void **state)
{
    (void)state;
    double worst = 0;
    uint64_t h = 0xcbf29ce484222325ull;
    for (int32_t k = -(1 << 23) + 1; k < (1 << 23); k++) {
        float y = (float)k * 0x1p-23f;
        float got = nninit__trunc3_erfinvf(y);
        uint32_t b;
        memcpy(&b, &got, 4);
        h = (h ^ b) * 0x100000001b3ull;
        if (k % 5 && k > -(1 << 23) + 64 && k < (1 << 23) - 64)
            continue; /* the reference is slow: every 5th step, and both ends densely */
        double ref = nninit__ndtri((1.0 + (double)y) / 2.0) / 1.4142135623730951;
        if (ref != 0)
            worst = fmax(worst, fabs(got - ref) / fabs(ref));
        else
            assert_true(got == 0);
    }
    static const float tiny[] = {0x1p-24f, 0x1p-25f, 0x1p-26f, 0x1p-40f, 1e-30f, 0x1p-8f, 0.99609375f, 0.996093809f};
    for (size_t i = 0; i < sizeof tiny / sizeof tiny[0]; i++)
        for (int sg = -1; sg <= 1; sg += 2) {
            float y = (float)sg * tiny[i];
            double ref = nninit__ndtri((1.0 + (double)y) / 2.0) / 1.4142135623730951;
            if (fabs((double)y) < 1e-12) /* ndtri's 1/2 + y/2 loses y: the series */
                ref = 0.886226925452758 * (double)y;
            worst = fmax(worst, fabs(nninit__trunc3_erfinvf(y) - ref) / fabs(ref));
        }
    assert_true(nninit__trunc3_erfinvf(0.0f) == 0.0f);
    print_message("v3 erfinv: worst relative error %.3g, hash %016llx\n", worst, (unsigned long long)h);
    assert_true(worst < 5e-7);
    assert_true(h == 0xd8fa5a4a7c418397ull);
}

/* The public path gives the same bits: he_uniform on (1000, 3) keras is
 * U(-sqrt(6/1000), sqrt(6/1000)) from stream 0. */
static void test_fill_uses_stream(void **state)
{
    (void)state;
    nninit_init in;
    nninit_rng *rng;
    nninit_err err;
    nninit_shape s = {2, {1000, 3}};
    float got[3000], want[3000];
    assert_ok(nninit_init_parse("he_uniform", &in, &err), &err);
    assert_ok(nninit_rng_new(NNINIT_RNG_PHILOX, 42, &rng, &err), &err);
    nninit_fill_opts o = nninit_fill_opts_default();
    assert_ok(nninit_fill(&in, &s, &o, rng, got, &err), &err);
    uint32_t key[2];
    nninit__philox_key(42, key);
    double l = sqrt(3.0 * (2.0 / 1000.0));
    nninit__philox_uniform(key, 0, NNINIT_F32, 0, 3000, -l, l, want);
    assert_memory_equal(got, want, sizeof got);
    nninit_rng_free(rng);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stream_v1),
        cmocka_unit_test(test_stream_v2_v3),
        cmocka_unit_test(test_stream_version_choice),
        cmocka_unit_test(test_v2_erfinv_accuracy),
        cmocka_unit_test(test_v3_erfinv),
        cmocka_unit_test(test_fill_uses_stream),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
