/*
 * Out-of-memory paths (Lua's test-allocator idea): this binary interposes
 * malloc/calloc/realloc/free, and while armed fails the Nth allocation.
 * For N = 0, 1, 2, ... each API call must return NNINIT_OK or NNINIT_ENOMEM
 * (never crash or report something else) and must not leak: every block it
 * allocated while armed is freed when it returns with an error.
 * glibc only (__libc_malloc and friends).
 */
#include "util.h"

#if defined(__GLIBC__)

#include <errno.h>
#include <unistd.h>
#ifdef NNINIT_HAVE_JANSSON
#include <jansson.h>
#endif

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);

/* armed state; the tests are single-threaded while armed (threads = 1) */
static int armed;
static long countdown; /* allocations left before the failing one */
static int failed_once;

#define TRACK 4096
static void *live[TRACK];
static int n_live;

static void track_add(void *p)
{
    if (p && n_live < TRACK)
        live[n_live++] = p;
}
static void track_del(void *p)
{
    for (int i = 0; i < n_live; i++)
        if (live[i] == p) {
            live[i] = live[--n_live];
            return;
        }
}
static int should_fail(void)
{
    if (!armed)
        return 0;
    if (countdown-- == 0) {
        failed_once = 1;
        errno = ENOMEM; /* as malloc does */
        return 1;
    }
    return 0;
}

void *malloc(size_t n)
{
    if (should_fail())
        return NULL;
    void *p = __libc_malloc(n);
    if (armed)
        track_add(p);
    return p;
}
void *calloc(size_t a, size_t b)
{
    if (should_fail())
        return NULL;
    void *p = __libc_calloc(a, b);
    if (armed)
        track_add(p);
    return p;
}
void *realloc(void *old, size_t n)
{
    if (should_fail())
        return NULL;
    void *p = __libc_realloc(old, n);
    if (armed && p) {
        track_del(old);
        track_add(p);
    }
    return p;
}
void free(void *p)
{
    if (armed)
        track_del(p);
    __libc_free(p);
}

/* Runs call() with the Nth allocation failing, for every N until it succeeds. */
typedef nninit_status (*api_call)(void *ctx, nninit_err *err);

/* Returns how many allocations the call makes (the N that first succeeded). */
static int allow_einval; /* jansson misreports some allocation failures as syntax errors */

static long exhaust(const char *what, api_call call, void *ctx)
{
    for (long n = 0; n < 100000; n++) {
        nninit_err err = {0};
        n_live = 0;
        failed_once = 0;
        countdown = n;
        armed = 1;
        nninit_status st = call(ctx, &err);
        armed = 0;
        if (st == NNINIT_OK && !failed_once)
            return n; /* every allocation succeeded: done */
        if (st != NNINIT_OK && st != NNINIT_ENOMEM && !(allow_einval && st == NNINIT_EINVAL))
            fail_msg("%s: allocation %ld failing gave %s (%s); expected NNINIT_ENOMEM", what, n,
                     nninit_status_str(st), err.msg);
        if (st != NNINIT_OK && n_live != 0)
            fail_msg("%s: allocation %ld failing leaked %d block(s)", what, n, n_live);
        if (st == NNINIT_OK)
            continue; /* the failure was absorbed (e.g. an optional buffer) */
    }
    fail_msg("%s: never succeeded", what);
    return -1;
}

/* ---- the calls ---- */

static nninit_status call_parse(void *ctx, nninit_err *err)
{
    nninit_init in;
    return nninit_init_parse(ctx, &in, err);
}

static nninit_status call_to_json(void *ctx, nninit_err *err)
{
    nninit_init in;
    nninit_status st;
    armed = 0;
    st = nninit_init_parse(ctx, &in, err);
    armed = 1;
    if (st != NNINIT_OK)
        return NNINIT_EINVAL;
    char *json = NULL;
    st = nninit_init_to_json(&in, &json, err);
    if (st == NNINIT_OK)
        nninit_free(json);
    return st;
}

static nninit_status call_rng(void *ctx, nninit_err *err)
{
    (void)ctx;
    nninit_rng *rng = NULL;
    nninit_status st = nninit_rng_new(NNINIT_RNG_PHILOX, 1, &rng, err);
    nninit_rng_free(rng);
    return st;
}

typedef struct fill_case {
    const char *spec;
    nninit_shape shape;
    nninit_layout layout;
    nninit_dtype dtype;
    int64_t begin, end; /* end 0: the whole tensor through nninit_fill */
} fill_case;

static nninit_status call_fill(void *ctx, nninit_err *err)
{
    const fill_case *c = ctx;
    nninit_init in;
    nninit_rng *rng = NULL;
    armed = 0;
    assert_ok(nninit_init_parse(c->spec, &in, err), err);
    assert_ok(nninit_rng_new(NNINIT_RNG_PHILOX, 7, &rng, err), err);
    static double out[4096];
    armed = 1;
    nninit_fill_opts o = nninit_fill_opts_default();
    o.layout = c->layout;
    o.dtype = c->dtype;
    o.threads = 1;
    nninit_status st = c->end ? nninit_fill_range(&in, &c->shape, &o, rng, c->begin, c->end, out, err)
                              : nninit_fill(&in, &c->shape, &o, rng, out, err);
    armed = 0;
    nninit_rng_free(rng);
    armed = 1;
    return st;
}

static void test_spec_paths(void **state)
{
    (void)state;
    const char *specs[] = {
        "he_normal",
        "VarianceScaling(scale=2.0, mode='fan_out', distribution='uniform')",
        ("{\"module\": \"keras.initializers\", \"class_name\": \"GlorotUniform\", \"config\": {\"seed\": 42, "
         "\"input_axes\": null, \"output_axes\": null}, \"registered_name\": null}"),
        "{\"class_name\": \"RandomNormal\", \"config\": {\"mean\": 1, \"stddev\": 2, \"seed\": null}}",
        "kaiming_uniform_(a=math.sqrt(5))",
    };
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
#ifndef NNINIT_HAVE_JANSSON
        if (specs[i][0] == '{') {
            print_message("skipped (no jansson in this build): %.40s\n", specs[i]);
            continue;
        }
#endif
        /* jansson 2.14 turns a failed token copy into "string or '}' expected": for JSON input an
         * allocation failure may surface as NNINIT_EINVAL; it must still leak nothing */
        allow_einval = specs[i][0] == '{';
        long a = exhaust(specs[i], call_parse, (void *)specs[i]);
        allow_einval = 0;
        long b = exhaust(specs[i], call_to_json, (void *)specs[i]);
        print_message("%-40.40s parse: %ld allocations, to_json: %ld\n", specs[i], a, b);
        assert_true(b >= 1); /* the JSON text is allocated: the loop did exercise a failure */
        if (specs[i][0] == '{')
            assert_true(a >= 1); /* jansson's tree */
    }
    /* @file: the file reader's buffer */
#ifdef NNINIT_HAVE_JANSSON
    char path[] = "/tmp/nninit-oom-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *text = "{\"class_name\": \"Orthogonal\", \"config\": {\"gain\": 2.0, \"seed\": null}}";
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    char spec[64];
    snprintf(spec, sizeof spec, "@%s", path);
    allow_einval = 1;
    assert_true(exhaust("@file", call_parse, spec) >= 2); /* the file buffer and jansson's */
    allow_einval = 0;
    unlink(path);
#else
    print_message("skipped (no jansson in this build): @file with a JSON spec\n");
#endif
    assert_true(exhaust("rng_new", call_rng, NULL) == 1);
}

static void test_fill_paths(void **state)
{
    (void)state;
    /* OpenBLAS sets up its buffers on first use; do that unarmed */
    fill_case warm = {"orthogonal", {2, {8, 4}}, NNINIT_LAYOUT_KERAS, NNINIT_F64, 0, 0};
    nninit_err err;
    countdown = 1L << 40; /* never fails */
    assert_ok(call_fill(&warm, &err), &err);
    armed = 0;
    const fill_case cases[] = {
        {"orthogonal", {2, {12, 5}}, NNINIT_LAYOUT_KERAS, NNINIT_F64, 0, 0},
        {"orthogonal", {2, {5, 12}}, NNINIT_LAYOUT_KERAS, NNINIT_F32, 0, 0},
        {"orthogonal_", {3, {4, 3, 5}}, NNINIT_LAYOUT_TORCH, NNINIT_F64, 0, 0},
        {"orthogonal", {2, {12, 5}}, NNINIT_LAYOUT_KERAS, NNINIT_F64, 3, 17}, /* a slice: the whole is made */
        {"sparse_(sparsity=0.5)", {2, {10, 6}}, NNINIT_LAYOUT_TORCH, NNINIT_F64, 0, 0},
        {"delta_orthogonal", {4, {3, 3, 4, 6}}, NNINIT_LAYOUT_KERAS, NNINIT_F64, 0, 0},
        {"STFT", {3, {8, 1, 5}}, NNINIT_LAYOUT_KERAS, NNINIT_F64, 0, 0},
        {"he_normal", {2, {30, 20}}, NNINIT_LAYOUT_KERAS, NNINIT_F32, 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        long a = exhaust(cases[i].spec, call_fill, (void *)&cases[i]);
        print_message("fill %-24s %ld allocations\n", cases[i].spec, a);
        if (i < 7)
            assert_true(a >= 1);
    }
}

int main(void)
{
#ifdef NNINIT_HAVE_JANSSON
    /* jansson keeps pointers to the allocator it was linked with; route it through ours */
    json_set_alloc_funcs(malloc, free);
#endif
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_spec_paths), cmocka_unit_test(test_fill_paths)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}

#else

int main(void)
{
    printf("[==========] 0 test(s) run.\n[  PASSED  ] 0 test(s).\n"); /* needs glibc's __libc_malloc */
    return 0;
}

#endif
