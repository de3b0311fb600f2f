/*
 * The fast PyTorch stream (runs of MT19937 words, twist and tempering in
 * AVX2, the AVX2 uniform_ and normal_ arithmetic of src/rng/torch_avx2.c,
 * float64 normal_ on the vector log, sin and cos of src/rng/torch_libm.c,
 * trunc_normal_'s erfinv_ with FMA instructions)
 * against the scalar reference (NNINIT_SIMD=scalar: one next32 per word,
 * the lane-by-lane ports of the kernels): the same values and the same
 * generator state afterwards, over sizes around the 8-lane vectors, the
 * 16-element blocks of normal_ and the 624-word twists, from generators
 * already advanced by offsets that put the start anywhere in a twist.
 * On a CPU without AVX2 and FMA both sides are the reference (the test then
 * says so and still checks the run-of-words path against next32).
 */
#include "util.h"

#include "rng/internal.h"
#include "rng/torch_internal.h"

static nninit_rng *new_rng(nninit_rng_kind kind, uint64_t seed)
{
    nninit_rng *rng = NULL;
    nninit_err err;
    assert_ok(nninit_rng_new(kind, seed, &rng, &err), &err);
    return rng;
}

static void advance(nninit_rng *rng, int words)
{
    for (int i = 0; i < words; i++)
        (void)nninit__torch_next32(rng);
}

static void assert_same_state(const nninit_rng *a, const nninit_rng *b)
{
    unsigned char sa[NNINIT_TORCH_STATE_SIZE], sb[NNINIT_TORCH_STATE_SIZE];
    nninit_err err;
    assert_ok(nninit_rng_torch_state_get(a, sa, &err), &err);
    assert_ok(nninit_rng_torch_state_get(b, sb, &err), &err);
    assert_memory_equal(sa, sb, sizeof sa);
}

static const uint64_t SEEDS[] = {0, 42, 0xffffffffu};
static const int OFFSETS[] = {0, 1, 5, 227, 396, 620, 623, 624, 625, 1000};

/* nninit__torch_words == n calls of next32, across twists. */
static void test_words_equal_next32(void **state)
{
    (void)state;
    if (!nninit__torch_simd())
        print_message("no AVX2+FMA (or NNINIT_SIMD=scalar): the scalar run-of-words path is checked\n");
    static const size_t SIZES[] = {0, 1, 7, 8, 9, 623, 624, 625, 1247, 1248, 1249, 3000};
    uint32_t *got = malloc(3000 * sizeof *got);
    for (size_t s = 0; s < sizeof SEEDS / sizeof SEEDS[0]; s++)
        for (size_t o = 0; o < sizeof OFFSETS / sizeof OFFSETS[0]; o++)
            for (size_t z = 0; z < sizeof SIZES / sizeof SIZES[0]; z++) {
                nninit_rng *a = new_rng(NNINIT_RNG_TORCH_AVX2, SEEDS[s]), *b = new_rng(NNINIT_RNG_TORCH_AVX2, SEEDS[s]);
                advance(a, OFFSETS[o]);
                advance(b, OFFSETS[o]);
                nninit__torch_words(a, got, SIZES[z]);
                for (size_t i = 0; i < SIZES[z]; i++)
                    assert_int_equal(got[i], nninit__torch_next32(b));
                assert_same_state(a, b);
                /* and both continue alike */
                assert_int_equal(nninit__torch_next32(a), nninit__torch_next32(b));
                nninit_rng_free(a);
                nninit_rng_free(b);
            }
    free(got);
}

enum { OP_UNIFORM, OP_NORMAL, OP_TRUNC };
static const char *const OP_NAMES[] = {"uniform_", "normal_", "trunc_normal_"};

/* trunc_normal_'s sequence: uniform_ over most of (-1, 1), erfinv_ (both
 * of its branches), the affine map and a clamp that bites. */
static void draw_op(int op, nninit_rng *rng, nninit__torch_arith ar, nninit_dtype dtype, void *out, int64_t n)
{
    if (op == OP_UNIFORM) {
        nninit__torch_uniform(rng, ar, dtype, -0.3, 0.7, out, n);
    } else if (op == OP_NORMAL) {
        nninit__torch_normal(rng, ar, dtype, 0.25, 1.5, out, n);
    } else {
        nninit__torch_uniform(rng, ar, dtype, -0.95, 0.97, out, n);
        if (dtype == NNINIT_F64)
            nninit__torch_erfinv_affine_f64(out, n, ar.avx2, 0.3, 0.1, -0.5, 0.6);
        else
            nninit__torch_erfinv_affine_f32(out, n, ar.avx2, 0.3f, 0.1f, -0.5f, 0.6f);
    }
}

/* One call on the reference path (NNINIT_SIMD=scalar) and one on the best. */
static void run_both(int op, nninit_rng_kind kind, uint64_t seed, int offset, nninit_dtype dtype, int64_t n)
{
    size_t es = nninit_dtype_size(dtype);
    unsigned char *ref = malloc((size_t)n * es + 1), *fast = malloc((size_t)n * es + 1);
    nninit_rng *a = new_rng(kind, seed), *b = new_rng(kind, seed);
    nninit__torch_arith ar = nninit__torch_arith_of(a);
    advance(a, offset);
    advance(b, offset);
    setenv("NNINIT_SIMD", "scalar", 1);
    draw_op(op, a, ar, dtype, ref, n);
    unsetenv("NNINIT_SIMD");
    draw_op(op, b, ar, dtype, fast, n);
    if (memcmp(ref, fast, (size_t)n * es) != 0)
        fail_msg("%s kind %d seed %llu offset %d %s n=%lld: fast path differs from the reference",
                 OP_NAMES[op], (int)kind, (unsigned long long)seed, offset,
                 nninit_dtype_name(dtype), (long long)n);
    assert_same_state(a, b);
    nninit_rng_free(a);
    nninit_rng_free(b);
    free(ref);
    free(fast);
}

static const nninit_rng_kind KINDS[] = {NNINIT_RNG_TORCH_DEFAULT, NNINIT_RNG_TORCH_AVX2, NNINIT_RNG_TORCH2_DEFAULT,
                                        NNINIT_RNG_TORCH2_AVX2};
/* around the 4/8-lane vectors, the 16-blocks (and the redrawn last 16),
 * one twist of float32 and float64 words, and a run of the fast path */
static const int64_t SIZES[] = {1,   3,   4,   5,   7,   8,   9,   15,   16,   17,   31,   32,   33,
                                47,  48,  49,  311, 312, 313, 623, 624, 625, 4095, 4096, 4097, 9001};

static void check_op(int op)
{
    for (size_t k = 0; k < sizeof KINDS / sizeof KINDS[0]; k++)
        for (size_t z = 0; z < sizeof SIZES / sizeof SIZES[0]; z++)
            for (int d = 0; d < 2; d++) {
                /* seed and offset vary with the case so that every pair meets */
                size_t c = k * 31 + z * 7 + (size_t)d;
                run_both(op, KINDS[k], SEEDS[c % 3], OFFSETS[c % 10], d ? NNINIT_F64 : NNINIT_F32, SIZES[z]);
            }
}

static void test_uniform_fast_equals_reference(void **state)
{
    (void)state;
    check_op(OP_UNIFORM);
}

static void test_normal_fast_equals_reference(void **state)
{
    (void)state;
    check_op(OP_NORMAL);
    /* a large float32 normal_: many runs of the drawing loop; and large
     * float64 ones on torch_libm.c's log, sin and cos (fused last step and
     * not) against the reference's calls of libm */
    run_both(OP_NORMAL, NNINIT_RNG_TORCH_AVX2, 7, 3, NNINIT_F32, 100003);
    run_both(OP_NORMAL, NNINIT_RNG_TORCH_AVX2, 8, 5, NNINIT_F64, 100003);
    run_both(OP_NORMAL, NNINIT_RNG_TORCH_DEFAULT, 9, 0, NNINIT_F64, 100003);
}

/* The uniform_ edge of 2.x: a value that rounds up to `to` becomes `from`.
 * With from = 1 - 2^-20 and to = 1, x * 2^-20 + from rounds to 1 whenever
 * x > 1 - 2^-5 (the float spacing below 1 is 2^-24), about 3 % of the
 * draws: 128 expected of 4099, so more than 64 shows the edge was taken. */
static void test_v2_rounding_edge(void **state)
{
    (void)state;
    enum { N = 4099 };
    float ref[N], fast[N];
    nninit_rng *a = new_rng(NNINIT_RNG_TORCH2_AVX2, 3), *b = new_rng(NNINIT_RNG_TORCH2_AVX2, 3);
    nninit__torch_arith ar = nninit__torch_arith_of(a);
    double from = 1.0 - 0x1p-20, to = 1.0;
    setenv("NNINIT_SIMD", "scalar", 1);
    nninit__torch_uniform(a, ar, NNINIT_F32, from, to, ref, N);
    unsetenv("NNINIT_SIMD");
    nninit__torch_uniform(b, ar, NNINIT_F32, from, to, fast, N);
    assert_memory_equal(ref, fast, sizeof ref);
    int at_from = 0;
    for (int i = 0; i < N; i++) {
        assert_true(fast[i] < 1.0f);
        at_from += fast[i] == (float)from;
    }
    assert_true(at_from > N / 64);
    nninit_rng_free(a);
    nninit_rng_free(b);
}

static void test_trunc_fast_equals_reference(void **state)
{
    (void)state;
    check_op(OP_TRUNC);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_words_equal_next32),
        cmocka_unit_test(test_uniform_fast_equals_reference),
        cmocka_unit_test(test_normal_fast_equals_reference),
        cmocka_unit_test(test_trunc_fast_equals_reference),
        cmocka_unit_test(test_v2_rounding_edge),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
