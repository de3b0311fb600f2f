/* Shared test helpers: cmocka includes and double comparisons that print
 * both values and the tolerance. */
#ifndef NNINIT_TEST_UTIL_H
#define NNINIT_TEST_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nninit.h"
#include "nninit_analysis.h"
#include "nninit_data.h"
#include "nninit_io.h"
#include "nninit_model.h"
#include "nninit_nn.h"

/* |a - b| <= tol, with both values and the tolerance printed on failure. */
#define assert_close(a, b, tol) test_assert_close((double)(a), (double)(b), (double)(tol), #a, #b, __FILE__, __LINE__)
static inline void test_assert_close(double a, double b, double tol, const char *sa, const char *sb,
                                     const char *file, int line)
{
    if (!(fabs(a - b) <= tol)) {
        print_error("%s = %.17g, %s = %.17g, |diff| = %.3g > tol %.3g\n", sa, a, sb, b, fabs(a - b), tol);
        _fail(file, line);
    }
}

/* Relative closeness: |a - b| <= rtol * max(|a|, |b|). */
#define assert_rel_close(a, b, rtol) \
    test_assert_close((double)(a), (double)(b), (double)(rtol) * fmax(fabs((double)(a)), fabs((double)(b))), #a, #b, __FILE__, __LINE__)

/* Asserts status == NNINIT_OK, printing err.msg otherwise. */
#define assert_ok(call, errp)                                                       \
    do {                                                                            \
        nninit_status st__ = (call);                                                \
        if (st__ != NNINIT_OK) {                                                    \
            print_error("%s -> %s: %s\n", #call, nninit_status_str(st__), (errp)->msg); \
            _fail(__FILE__, __LINE__);                                              \
        }                                                                           \
    } while (0)

/* Path of a fixture file under tests/fixtures, relative to the repo root
 * (make check runs from there; NNINIT_FIXTURES overrides). */
static inline const char *test_fixture(const char *name, char *buf, size_t cap)
{
    const char *dir = getenv("NNINIT_FIXTURES");
    snprintf(buf, cap, "%s/%s", dir ? dir : "tests/fixtures", name);
    return buf;
}

/* FNV-1a 64 of n bytes: fingerprints of generated bits (test_torch's
 * fixtures, test_orthogonal's pinned values). */
static inline uint64_t test_fnv1a64(const void *p, size_t n)
{
    const unsigned char *b = p;
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

/* A (rows, cols) batch of N(0, 1) floats (torch normal_) from Philox seeded
 * `seed`, stream `stream`; the caller frees it. */
static inline float *test_normal_batch(int64_t rows, int64_t cols, uint64_t seed, uint64_t stream)
{
    nninit_init in = nninit_init_default(NNINIT_TORCH_NORMAL);
    nninit_shape s = {2, {rows, cols}};
    nninit_rng *rng;
    nninit_err err;
    float *x = malloc((size_t)(rows * cols) * sizeof *x);
    assert_non_null(x);
    assert_ok(nninit_rng_new(NNINIT_RNG_PHILOX, seed, &rng, &err), &err);
    nninit_fill_opts o = nninit_fill_opts_default();
    o.stream = stream;
    assert_ok(nninit_fill(&in, &s, &o, rng, x, &err), &err);
    nninit_rng_free(rng);
    return x;
}

/* Removes the files directly in `dir` (a test's scratch folder), leaving it empty. */
#include <dirent.h>
#include <unistd.h>
static inline void test_clear_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char p[600];
    while (d && (e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
            unlink(p);
        }
    if (d)
        closedir(d);
}

#endif
