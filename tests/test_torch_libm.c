/*
 * src/rng/torch_libm.c (glibc's log, sin and cos four lanes at a time)
 * against this process's libm, bit for bit, on NNINIT_LIBM_INPUTS inputs
 * per function (default 10^6; `make torch-libm-check` runs 3 * 10^7):
 * normal_'s own arguments (log of 1 - m 2^-53, sin and cos of 2 pi m
 * 2^-53) and inputs crowded where the branches of e_log.c and s_sin.c
 * change: log near 1 (its polynomial), at tiny u, over all exponents; sin
 * and cos near 2^-27, 2^-26, 0.126, 0.855469, 2.426265, at and around every
 * n pi/2 (tiny reduced arguments: the Taylor path of each quadrant) and
 * n pi/2 +- pi/4 (the end of the table). The test counts how many inputs
 * reach each branch and table entry (classified here from the thresholds
 * of the C source) and requires all of them to be reached.
 *
 * Where nninit__torch_libm_exact() is 0 (no AVX2+FMA, or a libm other than
 * glibc 2.36's FMA variants) the vector functions are never used; the test
 * then only checks that the self-check said no for a reason it can see.
 */
#include "util.h"

#include "rng/torch_internal.h"

#include <math.h>
#ifdef __GLIBC__
#include <gnu/libc-version.h>
#endif

static uint64_t next_u64(uint64_t *s)
{
    /* splitmix64: a fixed, platform-independent input stream */
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static size_t inputs_per_function(void)
{
    const char *e = getenv("NNINIT_LIBM_INPUTS");
    long long n = e ? atoll(e) : 0;
    return n > 0 ? (size_t)n : 1000000;
}

/* inputs compared a chunk at a time (bounded memory for long runs) */
#define CHUNK ((size_t)1 << 20)

static double u53(uint64_t r)
{
    return (double)(r >> 11) * 0x1p-53;
}

/* libm through pointers, so that no call is folded at compile time
 * (GCC folds with correctly rounded values, not this libm's). */
static double (*volatile libm_log)(double) = log;
static double (*volatile libm_sin)(double) = sin;
static double (*volatile libm_cos)(double) = cos;

/* Whether the self-check must say yes: glibc 2.36 (Debian 12, the
 * library torch_libm.c follows) on a CPU with AVX2 and FMA, where its ifunc
 * picks the FMA variants (unless GLIBC_TUNABLES masks CPU features: with
 * glibc.cpu.hwcaps=-AVX2,-FMA the check must say no, and does). Elsewhere
 * a no is expected and fine. */
static int expect_exact(void)
{
#if defined(NNINIT__HAVE_X86_SIMD) && defined(__GLIBC__)
    const char *tunables = getenv("GLIBC_TUNABLES");
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
           strcmp(gnu_get_libc_version(), "2.36") == 0 && !(tunables && strstr(tunables, "hwcaps"));
#else
    return 0;
#endif
}

static int usable(void)
{
#ifdef NNINIT__HAVE_X86_SIMD
    if (nninit__torch_libm_exact())
        return 1;
    if (expect_exact())
        fail_msg("glibc 2.36 with AVX2+FMA, but torch_libm's self-check found other bits than libm's");
    print_message("torch_libm is not used here (no AVX2+FMA, or a libm other than glibc 2.36): nothing to "
                  "compare\n");
    return 0;
#else
    print_message("not x86-64: torch_libm is not built\n");
    assert_int_equal(nninit__torch_libm_exact(), 0);
    return 0;
#endif
}

#ifdef NNINIT__HAVE_X86_SIMD
static void compare(const char *fn, const double *x, const double *got, size_t n, double (*ref)(double))
{
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        double want = ref(x[i]);
        if (memcmp(&want, &got[i], sizeof want) != 0) {
            if (bad < 5)
                print_message("%s(%a): libm %a, torch_libm %a\n", fn, x[i], want, got[i]);
            bad++;
        }
    }
    if (bad)
        fail_msg("%s: %zu of %zu differ", fn, bad, n);
}

/* log: a quarter normal_'s u1 = 1 - m 2^-53, a quarter within 2^-4 of 1
 * (u1 = 1 - m 2^-53 with m < 2^49, some exactly 1), a quarter tiny (m close
 * to 2^53: u1 = k 2^-53, k < 2^20), a quarter spread over all binades of
 * (0, 2) with random mantissas. */
static void test_log(void **state)
{
    (void)state;
    if (!usable())
        return;
    size_t n = inputs_per_function(), cap = n < CHUNK ? n : CHUNK;
    double *x = malloc(cap * sizeof *x), *y = malloc(cap * sizeof *y);
    assert_non_null(x);
    assert_non_null(y);
    uint64_t s = 17;
    size_t near1 = 0, at1 = 0, tiny = 0, idx[128] = {0};
    for (size_t i0 = 0; i0 < n; i0 += cap) {
        size_t m = n - i0 < cap ? n - i0 : cap;
        for (size_t j = 0; j < m; j++) {
            size_t i = i0 + j;
            uint64_t r = next_u64(&s);
            switch (i % 4) {
            case 0: x[j] = 1.0 - u53(r); break;
            case 1: x[j] = i % 4000 == 1 ? 1.0 : 1.0 - (double)((r >> 15) >> (r & 31)) * 0x1p-53; break;
            case 2: x[j] = (double)(1 + ((r >> 44) >> (r & 15))) * 0x1p-53; break;
            default: {
                uint64_t bits = ((uint64_t)(1023 - (int)(r % 1024) / 19) << 52) | (r >> 12);
                memcpy(&x[j], &bits, sizeof bits);
            }
            }
        }
        nninit__torch_libm_log(x, y, m);
        compare("log", x, y, m, libm_log);
        /* the branches e_log.c takes, and every table interval */
        for (size_t j = 0; j < m; j++) {
            if (x[j] >= 0x1.ep-1 && x[j] < 0x1.109p+0) {
                near1++;
                at1 += x[j] == 1.0;
                continue;
            }
            uint64_t bits;
            memcpy(&bits, &x[j], sizeof bits);
            idx[((bits - 0x3fe6000000000000ull) >> 45) % 128]++;
            tiny += x[j] < 0x1p-32;
        }
    }
    print_message("log: %zu inputs, %zu near 1 (%zu at 1), %zu below 2^-32\n", n, near1, at1, tiny);
    assert_true(near1 > n / 8 && at1 > 0 && tiny > n / 8);
    for (int i = 0; i < 128; i++)
        if (idx[i] < n / 4096)
            fail_msg("log: table interval %d reached %zu times only", i, idx[i]);
    free(x);
    free(y);
}

/* The branch of s_sin.c each of sin(x) and cos(x) takes for 0 <= x < 2 pi,
 * classified from the thresholds (the quadrant and the reduced size from
 * x - n pi/2 in double: exact enough to count). */
enum { B_TINY, B_TAYLOR, B_TABLE, B_MID, B_MID_TAYLOR, B_RED_TAYLOR, B_RED_TABLE, B_COUNT };
static const char *const BRANCH_NAMES[B_COUNT] = {"tiny",           "do_sin Taylor",   "table",
                                                  "0.855..2.426",   "same, Taylor",    "reduced, Taylor",
                                                  "reduced, table"};

static void classify(double x, size_t sin_hits[B_COUNT][4], size_t cos_hits[B_COUNT][4], size_t tab[110])
{
    if (x < 0x1p-26) {
        sin_hits[B_TINY][0]++;
        if (x < 0x1p-27)
            cos_hits[B_TINY][0]++;
        return;
    }
    if (x < 0x1.b6p-1) {
        sin_hits[x < 0.126 ? B_TAYLOR : B_TABLE][0]++;
            cos_hits[B_TABLE][0]++;
        tab[(int)nearbyint(x * 128)]++;
        return;
    }
    if (x < 0x1.368fdp+1) {
        /* sin: do_cos(hp0 - x, hp1); cos: do_sin of the same, Taylor near pi/2 */
        sin_hits[B_MID][0]++;
        cos_hits[fabs(1.5707963267948966 - x) < 0.126 ? B_MID_TAYLOR : B_MID][0]++;
        tab[(int)nearbyint(fabs(1.5707963267948966 - x) * 128)]++;
        return;
    }
    double q = nearbyint(x * 0.6366197723675814);
    double a = fabs(x - q * 1.5707963267948966);
    int n = (int)q & 3;
    int b = a < 0.126 ? B_RED_TAYLOR : B_RED_TABLE;
    /* sin uses do_sin in even quadrants, cos in odd ones; the other one
     * uses do_cos (the table) */
    sin_hits[n % 2 ? B_RED_TABLE : b][n]++;
    cos_hits[n % 2 ? b : B_RED_TABLE][n]++;
    tab[(int)nearbyint(a * 128)]++;
}

/* sin and cos: 5/8 normal_'s angles 2 pi m 2^-53 (m uniform; every
 * 64th m tiny), 1/8 within 2^-20 of a branch point, 1/8 within 2^-12 of
 * n pi/2 (some within 2^-40), 1/8 within 0.02 of n pi/2 +- 0.126 and
 * n pi/2 +- pi/4. */
static void test_sincos(void **state)
{
    (void)state;
    if (!usable())
        return;
    static const double EDGES[] = {0x1p-27, 0x1p-26, 0.126, 0x1.b6p-1, 0x1.368fdp+1};
    size_t n = inputs_per_function(), cap = n < CHUNK ? n : CHUNK;
    double *x = malloc(cap * sizeof *x), *sv = malloc(cap * sizeof *sv), *cv = malloc(cap * sizeof *cv);
    assert_non_null(x);
    assert_non_null(sv);
    assert_non_null(cv);
    uint64_t s = 23;
    size_t sin_hits[B_COUNT][4] = {{0}}, cos_hits[B_COUNT][4] = {{0}}, tab[110] = {0};
    for (size_t i0 = 0; i0 < n; i0 += cap) {
        size_t m = n - i0 < cap ? n - i0 : cap;
        for (size_t j = 0; j < m; j++) {
            size_t i = i0 + j;
            uint64_t r = next_u64(&s);
            double u = u53(r), v;
            int q = 1 + (int)(r & 3);
            switch (i % 8) {
            case 5: v = EDGES[r % 5] + (u - 0.5) * 0x1p-19; break;
            case 6: v = q * 1.5707963267948966 + (u - 0.5) * ((r >> 8) & 1 ? 0x1p-11 : 0x1p-39); break;
            case 7:
                v = q * 1.5707963267948966 + ((r >> 8) & 1 ? 1 : -1) * ((r >> 9) & 1 ? 0.126 : 0.7853981633974483) +
                    (u - 0.5) * 0.04;
                break;
            default: v = 6.283185307179586 * (i % 64 == 0 ? (double)(r >> 40) * 0x1p-53 : u);
            }
            x[j] = v < 0.0 ? -v : v >= 6.283185307179586 ? v - 6.283185307179586 : v;
        }
        nninit__torch_libm_sincos(x, sv, cv, m);
        compare("sin", x, sv, m, libm_sin);
        compare("cos", x, cv, m, libm_cos);
        for (size_t j = 0; j < m; j++)
            classify(x[j], sin_hits, cos_hits, tab);
    }
    for (int b = 0; b < B_COUNT; b++)
        for (int q = 0; q < 4; q++) {
            if (q > 0 && b < B_RED_TAYLOR)
                continue;
            print_message("%-16s quadrant %d: sin %zu, cos %zu\n", BRANCH_NAMES[b], q, sin_hits[b][q],
                          cos_hits[b][q]);
            /* every branch each function can take: cos has no Taylor path
             * below 0.855469; past 2.426265, x in [0, 2 pi) puts n mod 4 in
             * {2, 3, 0}, sin taking do_sin (Taylor or table) for even n and
             * cos for odd n */
            int reduced = b >= B_RED_TAYLOR, reachable = !reduced || q != 1;
            if (reachable && b != B_MID_TAYLOR && (b != B_RED_TAYLOR || q % 2 == 0))
                assert_true(sin_hits[b][q] > n / 100000);
            if (reachable && b != B_TAYLOR && (b != B_RED_TAYLOR || q % 2 == 1))
                assert_true(cos_hits[b][q] > n / 100000);
        }
    for (int k = 0; k < 110; k++)
        if (tab[k] < n / 100000)
            fail_msg("sincos: table entry %d reached %zu times only", k, tab[k]);
    free(x);
    free(sv);
    free(cv);
}

/* normal_fill_16 in double on the vector functions against the same
 * formula on libm, fused (AVX2 and 2.x kernels) and not (1.13 DEFAULT). */
static void test_normal16(void **state)
{
    (void)state;
    if (!usable())
        return;
    enum { BLOCKS = 4096 };
    double *d = malloc(16 * BLOCKS * sizeof *d), *ref = malloc(16 * BLOCKS * sizeof *ref);
    assert_non_null(d);
    assert_non_null(ref);
    for (int fused = 0; fused < 2; fused++) {
        uint64_t s = 5 + (uint64_t)fused;
        for (size_t i = 0; i < 16 * BLOCKS; i++) {
            uint64_t r = next_u64(&s);
            /* uniform_(0, 1)'s values, a few of them 0 (u1 = 1) */
            d[i] = i % 977 == 0 ? 0.0 : u53(r);
        }
        for (size_t b = 0; b < BLOCKS; b++)
            for (int j = 0; j < 8; j++) {
                const double *q = d + 16 * b;
                double radius = sqrt(-2.0 * libm_log(1.0 - q[j]));
                double theta = 6.283185307179586 * q[j + 8];
                double c = libm_cos(theta), sn = libm_sin(theta);
                ref[16 * b + j] = fused ? fma(radius * c, 0.3, 0.1) : radius * c * 0.3 + 0.1;
                ref[16 * b + j + 8] = fused ? fma(radius * sn, 0.3, 0.1) : radius * sn * 0.3 + 0.1;
            }
        nninit__torch_avx2_normal16_f64(d, BLOCKS, 0.1, 0.3, fused);
        assert_memory_equal(d, ref, 16 * BLOCKS * sizeof *d);
    }
    free(d);
    free(ref);
}

#else
static void test_not_built(void **state)
{
    (void)state;
    (void)usable();
}
#endif

int main(void)
{
#ifdef NNINIT__HAVE_X86_SIMD
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_log),
        cmocka_unit_test(test_sincos),
        cmocka_unit_test(test_normal16),
    };
#else
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_not_built)};
#endif
    return cmocka_run_group_tests(tests, NULL, NULL);
}
