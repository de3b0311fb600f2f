/* Philox4x32-10 known answers (Random123's kat_vectors) and agreement with
 * the Random123 reference implementation on random inputs; the word
 * addressing of streams. */
#include "util.h"

#include <Random123/philox.h>

#include "rng/internal.h"

static void test_known_answers(void **state)
{
    (void)state;
    static const struct { uint32_t ctr[4], key[2], out[4]; } kat[] = {
        {{0, 0, 0, 0}, {0, 0}, {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
        {{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}, {0xffffffff, 0xffffffff},
         {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
        {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, {0xa4093822, 0x299f31d0},
         {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
    };
    for (size_t i = 0; i < sizeof kat / sizeof kat[0]; i++) {
        uint32_t out[4];
        nninit_philox4x32_10(kat[i].ctr, kat[i].key, out);
        for (int j = 0; j < 4; j++)
            assert_int_equal(out[j], kat[i].out[j]);
    }
}

static void test_matches_random123(void **state)
{
    (void)state;
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (int i = 0; i < 10000; i++) {
        philox4x32_ctr_t c;
        philox4x32_key_t k;
        uint32_t ctr[4], key[2], out[4];
        for (int j = 0; j < 4; j++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            ctr[j] = c.v[j] = (uint32_t)(x >> 32);
        }
        for (int j = 0; j < 2; j++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            key[j] = k.v[j] = (uint32_t)(x >> 32);
        }
        philox4x32_ctr_t r = philox4x32(c, k);
        nninit_philox4x32_10(ctr, key, out);
        for (int j = 0; j < 4; j++)
            assert_int_equal(out[j], r.v[j]);
    }
}

static void test_word_addressing(void **state)
{
    (void)state;
    uint32_t key[2];
    nninit__philox_key(0x0123456789abcdefull, key);
    assert_int_equal(key[0], 0x89abcdef);
    assert_int_equal(key[1], 0x01234567);
    const uint64_t stream = 0xfedcba9876543210ull;
    uint32_t all[64];
    nninit__philox_words(key, stream, 0, 64, all);
    /* word w = lane w%4 of block w/4, counter (block, 0, stream lo, stream hi) */
    for (uint32_t b = 0; b < 16; b++) {
        uint32_t ctr[4] = {b, 0, (uint32_t)stream, (uint32_t)(stream >> 32)}, out[4];
        nninit_philox4x32_10(ctr, key, out);
        for (int l = 0; l < 4; l++)
            assert_int_equal(all[4 * b + l], out[l]);
    }
    /* any sub-range equals the slice */
    for (uint64_t first = 0; first < 20; first++)
        for (size_t n = 0; n + first <= 64; n += 7) {
            uint32_t part[64];
            nninit__philox_words(key, stream, first, n, part);
            assert_memory_equal(part, all + first, n * sizeof(uint32_t));
        }
    /* the high half of the block index is counter word 1 */
    uint32_t far[1], ctr[4] = {5, 1, (uint32_t)stream, (uint32_t)(stream >> 32)}, out[4];
    nninit__philox_words(key, stream, ((1ull << 32) + 5) * 4 + 2, 1, far);
    nninit_philox4x32_10(ctr, key, out);
    assert_int_equal(far[0], out[2]);
}

static void test_stream_from_name(void **state)
{
    (void)state;
    /* FNV-1a 64 reference values */
    assert_true(nninit_stream_from_name("") == 0xcbf29ce484222325ull);
    assert_true(nninit_stream_from_name("a") == 0xaf63dc4c8601ec8cull);
    assert_true(nninit_stream_from_name("dense/kernel") != nninit_stream_from_name("dense/bias"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_answers),
        cmocka_unit_test(test_matches_random123),
        cmocka_unit_test(test_word_addressing),
        cmocka_unit_test(test_stream_from_name),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
