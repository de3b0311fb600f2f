/*
 * Pins stream format version 1: the exact bits that (seed 42, stream 7)
 * gives at element 0 and at element 1000000007 for each transform and
 * dtype. A change here is a change of NNINIT_STREAM_VERSION (and of
 * docs/stream.md), never a test update alone.
 */
#include "util.h"

#include "rng/internal.h"

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

static void test_stream_v1(void **state)
{
    (void)state;
    assert_int_equal(NNINIT_STREAM_VERSION, 1);
    uint32_t key[2];
    nninit__philox_key(42, key);
    for (size_t g = 0; g < sizeof GOLDEN / sizeof GOLDEN[0]; g++) {
        const struct golden *e = &GOLDEN[g];
        unsigned char buf[24];
        nninit_dtype dt = (nninit_dtype)e->dtype;
        if (e->transform == 0)
            nninit__philox_uniform(key, 7, dt, e->begin, 3, -1.0, 2.0, buf);
        else if (e->transform == 1)
            nninit__philox_normal(key, 7, dt, e->begin, 3, 0.5, 2.0, buf);
        else
            nninit__philox_trunc_normal(key, 7, dt, e->begin, 3, 0.5, 2.0, -1.0, 4.0, buf);
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
                fail_msg("dtype %d transform %d element %llu: bits 0x%llx, stream v1 says 0x%llx", e->dtype,
                         e->transform, e->begin + (unsigned long long)i, got, e->bits[i]);
        }
    }
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
        cmocka_unit_test(test_fill_uses_stream),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
