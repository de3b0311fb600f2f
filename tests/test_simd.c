/*
 * Bit identity of every vector path with the scalar reference: each path
 * this CPU can run (AVX2, AVX-512), forced through nninit__dist_run, against
 * NNINIT__ISA_SCALAR, for every size 0..1000 at several start indices
 * (group-aligned, ragged, across the 2^32-block counter carry), misaligned
 * output pointers, float32 and float64, uniform / normal / truncated normal,
 * with parameters that reach every branch (the uniform clamp below hi, the
 * mirrored truncation interval, the inverse CDF's far tail). Paths the CPU
 * lacks are reported and skipped: CI runs what it has.
 */
#include "util.h"

#include "rng/simd_internal.h"

#define MAXN 1000

typedef struct dcase {
    const char *what;
    nninit__dist_kind kind;
    double p0, p1, a, b;
    int version; /* stream format of the truncated normal */
} dcase;

static const dcase CASES[] = {
    {"uniform(-1, 2)", NNINIT__DIST_UNIFORM, -1.0, 2.0, 0, 0, 0},
    /* width of one ulp at 1: u * width + 1 rounds up to hi for half the
     * draws, so the "v >= hi -> below hi" clamp runs (float32 and float64) */
    {"uniform(1, 1+ulp)", NNINIT__DIST_UNIFORM, 1.0, 1.0000001192092896, 0, 0, 0},
    {"uniform(1, 1+2^-52)", NNINIT__DIST_UNIFORM, 1.0, 1.0 + 0x1p-52, 0, 0, 0},
    {"uniform(3, 3)", NNINIT__DIST_UNIFORM, 3.0, 3.0, 0, 0, 0},
    /* the vector float32 uniform folds 2^-24 into the width (one multiply)
     * while width 2^-24 stays normal: at the edge, and below it (unfolded,
     * subnormal products), and a negative width */
    {"uniform(0, 2^-102) folded edge", NNINIT__DIST_UNIFORM, 0.0, 0x1p-102, 0, 0, 0},
    {"uniform(0, 2^-103) unfolded", NNINIT__DIST_UNIFORM, 0.0, 0x1p-103, 0, 0, 0},
    {"uniform(-1e-38, 3e-38) subnormal", NNINIT__DIST_UNIFORM, -1e-38, 3e-38, 0, 0, 0},
    {"uniform(2, -3) negative width", NNINIT__DIST_UNIFORM, 2.0, -3.0, 0, 0, 0},
    {"normal(0.5, 2)", NNINIT__DIST_NORMAL, 0.5, 2.0, 0, 0, 0},
    {"normal(0, 1)", NNINIT__DIST_NORMAL, 0.0, 1.0, 0, 0, 0},
    {"trunc(0, 1, -2, 2)", NNINIT__DIST_TRUNC_NORMAL, 0.0, 1.0, -2.0, 2.0, 1},
    {"trunc(0.5, 2, -1, 4) mirrored", NNINIT__DIST_TRUNC_NORMAL, 0.5, 2.0, -1.0, 4.0, 1},
    {"trunc(0, 1, -9, -8) far tail", NNINIT__DIST_TRUNC_NORMAL, 0.0, 1.0, -9.0, -8.0, 1},
    {"trunc(0, 1, -40, 40) wide", NNINIT__DIST_TRUNC_NORMAL, 0.0, 1.0, -40.0, 40.0, 1},
    /* stream v2: float32 by the single-precision erfinv (float64 as v1) */
    {"v2 trunc(0, 1, -2, 2)", NNINIT__DIST_TRUNC_NORMAL, 0.0, 1.0, -2.0, 2.0, 2},
    {"v2 trunc(0.5, 2, -1, 4) mirrored", NNINIT__DIST_TRUNC_NORMAL, 0.5, 2.0, -1.0, 4.0, 2},
    /* y over all of (-1, 1): erfinv's tail polynomial and the +-(1 - 2^-23) clamp */
    {"v2 trunc(0, 1, -40, 40) wide", NNINIT__DIST_TRUNC_NORMAL, 0.0, 1.0, -40.0, 40.0, 2},
    /* the clamp to [a, b] bites: a and b inside the interval erfinv maps to */
    {"v2 trunc(0, 0.02, -0.04, 0.04)", NNINIT__DIST_TRUNC_NORMAL, 0.0, 0.02, -0.04, 0.04, 2},
    /* under 1/16 of the mass: v1's double-precision path */
    {"v2 trunc(0, 1, 2, 40) narrow", NNINIT__DIST_TRUNC_NORMAL, 0.0, 1.0, 2.0, 40.0, 2},
    {"v2 trunc(0, 1, -9, -8) far tail", NNINIT__DIST_TRUNC_NORMAL, 0.0, 1.0, -9.0, -8.0, 2},
    /* stream v3: float32 by the segment table for |y| <= 1 - 2^-8, v2's erfinv
     * beyond (vectors mixing both lanes: the wide cases) */
    {"v3 trunc(0, 1, -2, 2)", NNINIT__DIST_TRUNC_NORMAL, 0.0, 1.0, -2.0, 2.0, 3},
    {"v3 trunc(0.5, 2, -1, 4) mirrored", NNINIT__DIST_TRUNC_NORMAL, 0.5, 2.0, -1.0, 4.0, 3},
    {"v3 trunc(0, 1, -40, 40) wide", NNINIT__DIST_TRUNC_NORMAL, 0.0, 1.0, -40.0, 40.0, 3},
    {"v3 trunc(0, 1, -3, 2.9) both sides of 2.88", NNINIT__DIST_TRUNC_NORMAL, 0.0, 1.0, -3.0, 2.9, 3},
    {"v3 trunc(0, 0.02, -0.04, 0.04)", NNINIT__DIST_TRUNC_NORMAL, 0.0, 0.02, -0.04, 0.04, 3},
    {"v3 trunc(0, 1, 2, 40) narrow", NNINIT__DIST_TRUNC_NORMAL, 0.0, 1.0, 2.0, 40.0, 3},
};

/* start indices: aligned, ragged, large, and straddling block 2^32 (the
 * counter's high word) for float32 (4 words a block) and float64 (2 a block) */
static const uint64_t STARTS[] = {0, 1, 3, 31, 33, 63, 100, 1000003, (UINT64_C(1) << 34) - 517,
                                  (UINT64_C(1) << 33) - 301};

static void make(nninit__dist *d, const dcase *c, nninit_dtype dt, uint64_t seed, uint64_t stream)
{
    uint32_t key[2];
    nninit__philox_key(seed, key);
    if (c->kind == NNINIT__DIST_UNIFORM)
        nninit__dist_uniform(d, key, stream, dt, c->p0, c->p1);
    else if (c->kind == NNINIT__DIST_NORMAL)
        nninit__dist_normal(d, key, stream, dt, c->p0, c->p1);
    else
        nninit__dist_trunc_normal(d, key, stream, dt, c->p0, c->p1, c->a, c->b, c->version);
}

static int paths_tested;

static void check_path(nninit__isa isa)
{
    if (!nninit__isa_available(isa)) {
        print_message("[   SKIP   ] %s: not available on this CPU/build\n", nninit__isa_name(isa));
        return;
    }
    paths_tested++;
    /* room for MAXN elements at any of 8 misalignments, float64 */
    double *ref = malloc((MAXN + 8) * sizeof(double));
    double *buf = malloc((MAXN + 16) * sizeof(double));
    assert_non_null(ref);
    assert_non_null(buf);
    for (size_t ci = 0; ci < sizeof CASES / sizeof CASES[0]; ci++) {
        for (int dt = 0; dt < 2; dt++) {
            const nninit_dtype dtype = (nninit_dtype)dt;
            const size_t es = nninit_dtype_size(dtype);
            for (size_t si = 0; si < sizeof STARTS / sizeof STARTS[0]; si++) {
                nninit__dist d;
                /* a stream with both halves nonzero, so c2 and c3 matter */
                make(&d, &CASES[ci], dtype, 0x9e3779b97f4a7c15ull + si, 0x0123456789abcdefull + ci);
                uint64_t start = STARTS[si];
                nninit__dist_run(&d, NNINIT__ISA_SCALAR, start, MAXN, ref);
                for (size_t n = 0; n <= MAXN; n++) {
                    /* output misaligned by 0..7 elements, guard bytes around it */
                    size_t mis = n % 8;
                    unsigned char *o = (unsigned char *)buf + mis * es;
                    memset(buf, 0xA5, (MAXN + 16) * sizeof(double));
                    nninit__dist_run(&d, isa, start, n, o);
                    if (memcmp(o, ref, n * es) != 0) {
                        size_t i = 0;
                        while (memcmp(o + i * es, (unsigned char *)ref + i * es, es) == 0)
                            i++;
                        fail_msg("%s %s %s start %llu n %zu: element %zu differs from scalar", nninit__isa_name(isa),
                                 CASES[ci].what, nninit_dtype_name(dtype), (unsigned long long)start, n, i);
                    }
                    for (size_t g = 0; g < mis * es; g++)
                        assert_int_equal(((unsigned char *)buf)[g], 0xA5);
                    for (size_t g = (mis + n) * es; g < (MAXN + 16) * sizeof(double); g++)
                        if (((unsigned char *)buf)[g] != 0xA5)
                            fail_msg("%s %s n %zu: wrote past the end", nninit__isa_name(isa), CASES[ci].what, n);
                }
            }
        }
    }
    free(ref);
    free(buf);
}

static void test_avx2(void **state)
{
    (void)state;
    check_path(NNINIT__ISA_AVX2);
}

static void test_avx512(void **state)
{
    (void)state;
    check_path(NNINIT__ISA_AVX512);
}

/* Long runs agree with the scalar path on every available vector path,
 * including a body of many groups (the two-phase float32 loops work in
 * batches of 16 groups: many whole batches and a partial one). */
static void test_best_long(void **state)
{
    (void)state;
    const size_t n = 100003;
    float *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
    assert_non_null(a);
    assert_non_null(b);
    uint32_t key[2];
    nninit__philox_key(7, key);
    for (int kind = 0; kind < 5; kind++) {
        nninit__dist d;
        if (kind == 0)
            nninit__dist_uniform(&d, key, 5, NNINIT_F32, -0.25, 0.25);
        else if (kind == 1)
            nninit__dist_normal(&d, key, 5, NNINIT_F32, 0.0, 0.02);
        else
            nninit__dist_trunc_normal(&d, key, 5, NNINIT_F32, 0.0, 0.02, -0.04, 0.04, kind - 1); /* v1, v2, v3 */
        nninit__dist_run(&d, NNINIT__ISA_SCALAR, 12345, n, a);
        for (int isa = NNINIT__ISA_AVX2; isa < NNINIT__ISA_COUNT; isa++) {
            if (!nninit__isa_available((nninit__isa)isa))
                continue;
            memset(b, 0, n * sizeof *b);
            nninit__dist_run(&d, (nninit__isa)isa, 12345, n, b);
            assert_memory_equal(a, b, n * sizeof *a);
        }
    }
    free(a);
    free(b);
}

/* The threaded fill (64 Ki-element chunks claimed by any thread) gives the
 * scalar single-thread bits for a range that starts and ends mid-chunk and
 * mid-group, for 1, 2, 3 and 7 threads. */
static void test_threads(void **state)
{
    (void)state;
    const char *specs[] = {"random_uniform", "random_normal", "truncated_normal"};
    nninit_shape shape = {2, {1000, 700}};
    const int64_t b0 = 65536 - 333, b1 = 4 * 65536 + 71; /* straddles 4 chunk cuts */
    nninit_rng *rng;
    nninit_err err;
    assert_ok(nninit_rng_new(NNINIT_RNG_PHILOX, 99, &rng, &err), &err);
    for (size_t k = 0; k < sizeof specs / sizeof specs[0]; k++) {
        for (int dt = 0; dt < 2; dt++) {
            nninit_init in;
            assert_ok(nninit_init_parse(specs[k], &in, &err), &err);
            nninit_fill_opts o = nninit_fill_opts_default();
            o.dtype = (nninit_dtype)dt;
            o.stream = 11;
            size_t bytes = (size_t)(b1 - b0) * nninit_dtype_size(o.dtype);
            char *ref = malloc(bytes), *got = malloc(bytes);
            assert_non_null(ref);
            assert_non_null(got);
            setenv("NNINIT_SIMD", "scalar", 1);
            o.threads = 1;
            assert_ok(nninit_fill_range(&in, &shape, &o, rng, b0, b1, ref, &err), &err);
            unsetenv("NNINIT_SIMD");
            const int threads[] = {1, 2, 3, 7};
            for (size_t t = 0; t < 4; t++) {
                o.threads = threads[t];
                memset(got, 0, bytes);
                assert_ok(nninit_fill_range(&in, &shape, &o, rng, b0, b1, got, &err), &err);
                if (memcmp(got, ref, bytes) != 0)
                    fail_msg("%s %s, %d threads: differs from scalar on 1 thread", specs[k],
                             nninit_dtype_name(o.dtype), threads[t]);
            }
            free(ref);
            free(got);
        }
    }
    nninit_rng_free(rng);
}

/* The Philox rounds alone (nninit__philox_xor, bench_kernels' bound): the
 * xor of the words on every path equals the scalar words' xor, for ranges
 * that start at 0, mid-stream and straddle block 2^32 (group 2^28). */
static void test_philox_xor(void **state)
{
    (void)state;
    nninit__dist d;
    const dcase *c = &CASES[0];
    make(&d, c, NNINIT_F32, 0x9e3779b97f4a7c15ull, 0x0123456789abcdefull);
    const uint64_t g0s[] = {0, 5, (UINT64_C(1) << 28) - 3};
    const size_t counts[] = {0, 1, 7, 33};
    for (size_t a = 0; a < 3; a++)
        for (size_t b = 0; b < 4; b++) {
            uint32_t want = nninit__philox_xor(&d, NNINIT__ISA_SCALAR, g0s[a], counts[b]);
            if (counts[b])
                assert_int_not_equal(want, 0); /* not trivially zero */
            for (int isa = NNINIT__ISA_AVX2; isa < NNINIT__ISA_COUNT; isa++)
                if (nninit__isa_available((nninit__isa)isa))
                    assert_int_equal(nninit__philox_xor(&d, (nninit__isa)isa, g0s[a], counts[b]), want);
        }
}

/* d's float32 transform on every value of the 24 bits it reads (w >> 8;
 * the low 8 bits vary too), vector paths against the scalar reference. */
static void sweep_words(const nninit__dist *d, const char *what, uint32_t *w, float *ref, float *got, size_t chunk)
{
    const size_t total = (size_t)1 << 24;
    for (size_t base = 0; base < total; base += chunk) {
        for (size_t i = 0; i < chunk; i++) {
            uint32_t k = (uint32_t)(base + i); /* the 24 bits, in order */
            /* normal: even words sweep the radius, odd words the angle
             * (the sweep reversed), so every value meets both */
            if (d->kind == NNINIT__DIST_NORMAL && i % 2)
                k = (uint32_t)(total - 1 - base - i);
            w[i] = k << 8 | ((k * 0x9E3779B9u) >> 24);
        }
        nninit__dist_words_f32(d, NNINIT__ISA_SCALAR, w, chunk, ref);
        for (int isa = NNINIT__ISA_AVX2; isa < NNINIT__ISA_COUNT; isa++) {
            if (!nninit__isa_available((nninit__isa)isa))
                continue;
            nninit__dist_words_f32(d, (nninit__isa)isa, w, chunk, got);
            if (memcmp(got, ref, chunk * sizeof *ref) != 0) {
                size_t i = 0;
                while (memcmp(got + i, ref + i, sizeof *ref) == 0)
                    i++;
                fail_msg("%s %s: word %08x gives %a, scalar %a", nninit__isa_name((nninit__isa)isa), what,
                         (unsigned)w[i], (double)got[i], (double)ref[i]);
            }
        }
    }
}

/* The float32 transforms on chosen words (nninit__dist_words_f32) agree
 * with the scalar reference on every path for every input they can see:
 * each float32 uniform and normal radius/angle input, and every y of the
 * format-2 and -3 truncated normal (each table segment, the beyond-table
 * branch, and y = 0 itself, where 1 - |y| = 1 is clamped below 1); and
 * the transform of the fill's words is the fill. */
static void test_words_f32(void **state)
{
    (void)state;
    const size_t chunk = (size_t)1 << 20;
    uint32_t *w = malloc(chunk * sizeof *w);
    float *ref = malloc(chunk * sizeof *ref), *got = malloc(chunk * sizeof *got);
    assert_non_null(w);
    assert_non_null(ref);
    assert_non_null(got);
    static const size_t picks[] = {0, 1, 8, 14, 16, 20, 21, 22, 23, 24};
    nninit__dist d;
    for (size_t pi = 0; pi < sizeof picks / sizeof picks[0]; pi++) {
        const dcase *c = &CASES[picks[pi]];
        make(&d, c, NNINIT_F32, 0x51ed270b27a5e3c1ull, 77);
        assert_true(d.kind != NNINIT__DIST_TRUNC_NORMAL || d.trunc2);
        /* +-2 sigma takes the plain format-3 loop, the wide interval (y
         * beyond the table) the checked one: the sweep covers both */
        if (picks[pi] == 20)
            assert_true(d.trunc3_plain);
        if (picks[pi] == 22)
            assert_false(d.trunc3_plain);
        sweep_words(&d, c->what, w, ref, got, chunk);
        nninit__philox_words(d.key, d.stream, 0, 4096, w);
        nninit__dist_words_f32(&d, NNINIT__ISA_SCALAR, w, 4096, ref);
        nninit__dist_run(&d, NNINIT__ISA_SCALAR, 0, 4096, got);
        assert_memory_equal(got, ref, 4096 * sizeof *ref);
    }
    /* No interval above puts a nonzero y within 2^-25 of 0 (where 1 - |y|
     * rounds to 1), so set one by hand: the narrowest y width, 1/8, and
     * y = (k - k0) 2^-27 with k0 = 2^23 + 1, which is 0 and +-2^-26 for odd
     * k next to k0 (and |y| <= 1/16 everywhere: the table alone). */
    make(&d, &CASES[20], NNINIT_F32, 1, 2);
    d.ywidth_f = 0.125f;
    d.ya_f = -(0x1p-4f + 0x1p-27f);
    nninit__dist_trunc3_derive(&d);
    assert_false(d.trunc3_plain);
    sweep_words(&d, "v3 y near 0", w, ref, got, chunk);
    float z[2];
    uint32_t w0[2] = {((1u << 23) + 3) << 8, ((1u << 23) + 1) << 8}; /* y = 2^-26, y = 0 */
    nninit__dist_words_f32(&d, NNINIT__ISA_SCALAR, w0, 2, z);
    assert_true(z[0] > d.mean_f && z[1] == d.mean_f); /* the sweep met both */
    /* y width 1 and y = (k - 2^22) 2^-24: the odd multiples of 2^-24 in
     * (-1/4, 3/4), none within 2^-25 of 0, all in the table: plain */
    d.ywidth_f = 1.0f;
    d.ya_f = -0.25f;
    nninit__dist_trunc3_derive(&d);
    assert_true(d.trunc3_plain);
    sweep_words(&d, "v3 plain, y = (k - 2^22) 2^-24", w, ref, got, chunk);
    d.ya_f = -(0.25f + 0x1p-24f); /* y = 0 at k = 2^22 + 1: not plain */
    nninit__dist_trunc3_derive(&d);
    assert_false(d.trunc3_plain);
    free(w);
    free(ref);
    free(got);
}

static void test_isa_names(void **state)
{
    (void)state;
    assert_string_equal(nninit__isa_name(NNINIT__ISA_SCALAR), "scalar");
    assert_string_equal(nninit__isa_name(NNINIT__ISA_AVX2), "avx2");
    assert_string_equal(nninit__isa_name(NNINIT__ISA_AVX512), "avx512");
    assert_true(nninit__isa_available(NNINIT__ISA_SCALAR));
    /* the environment caps the choice */
    setenv("NNINIT_SIMD", "scalar", 1);
    assert_int_equal(nninit__isa_best(), NNINIT__ISA_SCALAR);
    unsetenv("NNINIT_SIMD");
    nninit__isa best = nninit__isa_best();
    assert_true(nninit__isa_available(best));
    print_message("[   INFO   ] best path on this CPU: %s\n", nninit__isa_name(best));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_isa_names),
        cmocka_unit_test(test_avx2),
        cmocka_unit_test(test_avx512),
        cmocka_unit_test(test_best_long),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_philox_xor),
        cmocka_unit_test(test_words_f32),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    print_message("[   INFO   ] vector paths compared with scalar: %d\n", paths_tested);
    return rc;
}
