/* .npy writer and reader: byte identity with numpy.save (fixtures made by
 * tests/fixtures/make_npy_fixtures.py), round trips, corrupt input, and
 * the atomic-write guarantees of io_atomic.c. */
#include "util.h"
#include "io/internal.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmpdir[256];

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/nninit_test_npy_XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    test_clear_dir(tmpdir);
    rmdir(tmpdir);
    return 0;
}

static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)n + 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return b;
}

static unsigned char *fixture(const char *name, size_t *len)
{
    char path[512];
    unsigned char *b = slurp(test_fixture(name, path, sizeof path), len);
    if (!b)
        fail_msg("missing fixture %s (run tests/fixtures/make_npy_fixtures.py)", path);
    return b;
}

/* Writes with nninit_npy_write and compares with numpy's file byte for byte. */
static void assert_same_as_numpy(const char *fixture_name, nninit_dtype dtype, const nninit_shape *shape,
                                 const void *data)
{
    char out[512], fx[512];
    nninit_err err;
    snprintf(out, sizeof out, "%s/%s", tmpdir, "out.npy");
    assert_ok(nninit_npy_write(out, dtype, shape, data, &err), &err);
    size_t la, lb;
    unsigned char *a = slurp(out, &la);
    unsigned char *b = slurp(test_fixture(fixture_name, fx, sizeof fx), &lb);
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(la, lb);
    assert_memory_equal(a, b, la);
    free(a);
    free(b);
}

static void a12(float *v)
{
    for (int i = 0; i < 12; i++)
        v[i] = (float)i * 0.25f - 1.5f; /* exact, as in the fixture script */
}

static void test_write_matches_numpy(void **state)
{
    (void)state;
    float f[16];
    double d[7];
    a12(f);
    nninit_shape s34 = {2, {3, 4}};
    assert_same_as_numpy("npy/f4_3x4.npy", NNINIT_F32, &s34, f);
    for (int i = 0; i < 7; i++)
        d[i] = (double)i * 0.1;
    nninit_shape s7 = {1, {7}};
    assert_same_as_numpy("npy/f8_7.npy", NNINIT_F64, &s7, d);
    uint16_t h[6] = {0x0000, 0x3800, 0x3c00, 0x3e00, 0x4000, 0x4100}; /* 0, .5, ..., 2.5 in binary16 */
    nninit_shape s23 = {2, {2, 3}};
    assert_same_as_numpy("npy/f2_2x3.npy", NNINIT_F16, &s23, h);
    float x = 3.5f;
    nninit_shape s0 = {0, {0}};
    assert_same_as_numpy("npy/scalar_f4.npy", NNINIT_F32, &s0, &x);
    for (int i = 0; i < 16; i++)
        f[i] = (float)i;
    nninit_shape s8 = {8, {1, 2, 1, 2, 1, 2, 1, 2}};
    assert_same_as_numpy("npy/dims8_f4.npy", NNINIT_F32, &s8, f);
    nninit_shape se = {2, {0, 3}};
    assert_same_as_numpy("npy/empty_f4.npy", NNINIT_F32, &se, NULL);
    uint16_t bf[12];
    a12(f);
    for (int i = 0; i < 12; i++) {
        uint32_t u;
        memcpy(&u, &f[i], 4);
        bf[i] = (uint16_t)(u >> 16); /* exact: these values have 8-bit mantissas */
    }
    assert_same_as_numpy("npy/bf16_as_u2_3x4.npy", NNINIT_BF16, &s34, bf);
}

/* Headers alone for shapes whose padding differs (the 21-digit growth room
 * after shape[0]), compared with the bytes NumPy wrote. */
static void test_header_matches_numpy(void **state)
{
    (void)state;
    const struct { const char *file; nninit_shape shape; } cases[] = {
        {"npy/hdr_123456.bin", {1, {123456}}},
        {"npy/hdr_1e12x5.bin", {2, {1000000000000, 5}}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t len, hlen;
        unsigned char *want = fixture(cases[i].file, &len);
        char got[256];
        nninit_err err;
        assert_ok(nninit__npy_header(NNINIT_FD_F32, &cases[i].shape, got, sizeof got, &hlen, &err), &err);
        assert_int_equal(hlen, len);
        assert_memory_equal(got, want, len);
        /* No data follows the header, so the reader must say so precisely. */
        void *data = NULL;
        assert_int_equal(nninit_npy_parse(want, len, NULL, NULL, &data, &err), NNINIT_EFORMAT);
        assert_non_null(strstr(err.msg, "header promises"));
        free(want);
    }
}

static void check_read(const char *name, nninit_dtype want_dtype, const nninit_shape *want_shape,
                       const void *want, size_t nbytes)
{
    char path[512];
    nninit_err err;
    nninit_dtype dt;
    nninit_shape sh;
    void *data = NULL;
    assert_ok(nninit_npy_read(test_fixture(name, path, sizeof path), &dt, &sh, &data, &err), &err);
    assert_int_equal(dt, want_dtype);
    assert_int_equal(sh.ndim, want_shape->ndim);
    for (int i = 0; i < sh.ndim; i++)
        assert_int_equal(sh.dim[i], want_shape->dim[i]);
    if (nbytes)
        assert_memory_equal(data, want, nbytes);
    nninit_free(data);
    /* The in-memory parser gives the same answer. */
    size_t len;
    unsigned char *buf = fixture(name, &len);
    assert_ok(nninit_npy_parse(buf, len, &dt, &sh, &data, &err), &err);
    if (nbytes)
        assert_memory_equal(data, want, nbytes);
    nninit_free(data);
    free(buf);
}

static void test_read_numpy_files(void **state)
{
    (void)state;
    float f[16];
    double d[7];
    a12(f);
    for (int i = 0; i < 7; i++)
        d[i] = (double)i * 0.1;
    nninit_shape s34 = {2, {3, 4}}, s7 = {1, {7}}, s0 = {0, {0}}, se = {2, {0, 3}};
    check_read("npy/f4_3x4.npy", NNINIT_F32, &s34, f, sizeof(float) * 12);
    check_read("npy/be_f4_3x4.npy", NNINIT_F32, &s34, f, sizeof(float) * 12);   /* swapped to host order */
    check_read("npy/v2_f4_3x4.npy", NNINIT_F32, &s34, f, sizeof(float) * 12);
    check_read("npy/v3_f4_3x4.npy", NNINIT_F32, &s34, f, sizeof(float) * 12);
    check_read("npy/f8_7.npy", NNINIT_F64, &s7, d, sizeof d);
    check_read("npy/be_f8_7.npy", NNINIT_F64, &s7, d, sizeof d);
    uint16_t h[6] = {0x0000, 0x3800, 0x3c00, 0x3e00, 0x4000, 0x4100};
    nninit_shape s23 = {2, {2, 3}};
    check_read("npy/f2_2x3.npy", NNINIT_F16, &s23, h, sizeof h);
    float x = 3.5f;
    check_read("npy/scalar_f4.npy", NNINIT_F32, &s0, &x, sizeof x);
    check_read("npy/empty_f4.npy", NNINIT_F32, &se, NULL, 0);
}

static void expect_read_error(const char *name, nninit_status want, const char *needle)
{
    char path[512];
    nninit_err err;
    void *data = (void *)1;
    nninit_status st = nninit_npy_read(test_fixture(name, path, sizeof path), NULL, NULL, &data, &err);
    assert_int_equal(st, want);
    assert_null(data);
    if (!strstr(err.msg, needle))
        fail_msg("message '%s' lacks '%s'", err.msg, needle);
}

static void test_unsupported_files(void **state)
{
    (void)state;
    expect_read_error("npy/fortran_f4_3x4.npy", NNINIT_EUNSUPPORTED, "Fortran order");
    expect_read_error("npy/i8_3.npy", NNINIT_EUNSUPPORTED, "dtype '<i8'");
    expect_read_error("npy/no_such_file.npy", NNINIT_ENOTFOUND, "no such file");
}

/* A v1.0 file with a hand-written header dict and `data_bytes` zero bytes. */
static unsigned char *make_npy(const char *dict, size_t data_bytes, size_t *len)
{
    size_t dl = strlen(dict);
    size_t hl = dl + 1;
    size_t pad = (64 - (10 + hl) % 64) % 64;
    *len = 10 + hl + pad + data_bytes;
    unsigned char *b = calloc(*len, 1);
    memcpy(b, "\x93NUMPY\x01\x00", 8);
    b[8] = (unsigned char)((hl + pad) & 0xff);
    b[9] = (unsigned char)((hl + pad) >> 8);
    memcpy(b + 10, dict, dl);
    memset(b + 10 + dl, ' ', pad);
    b[10 + dl + pad] = '\n';
    return b;
}

static void expect_parse(const char *dict, size_t data_bytes, nninit_status want, const char *needle)
{
    size_t len;
    unsigned char *b = make_npy(dict, data_bytes, &len);
    nninit_err err;
    nninit_shape sh;
    void *data = NULL;
    nninit_status st = nninit_npy_parse(b, len, NULL, &sh, &data, &err);
    if (st != want)
        fail_msg("header %s: got %s (%s), want %s", dict, nninit_status_str(st), err.msg, nninit_status_str(want));
    if (want != NNINIT_OK) {
        assert_null(data);
        if (needle && !strstr(err.msg, needle))
            fail_msg("header %s: message '%s' lacks '%s'", dict, err.msg, needle);
    }
    nninit_free(data);
    free(b);
}

static void test_header_grammar(void **state)
{
    (void)state;
    /* Accepted: any key order, double quotes, no trailing comma, spaces. */
    expect_parse("{'shape': (2,), 'fortran_order': False, 'descr': '<f4'}", 8, NNINIT_OK, NULL);
    expect_parse("{\"descr\":\"<f8\",\"fortran_order\":False,\"shape\":(1, 1,),}", 8, NNINIT_OK, NULL);
    expect_parse("{'descr': '=f4', 'fortran_order': False, 'shape': ()}", 4, NNINIT_OK, NULL);
    /* Rejected, each with a message naming the problem. */
    expect_parse("{'descr': '<f4', 'fortran_order': False}", 0, NNINIT_EFORMAT, "lacks 'shape'");
    expect_parse("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'extra': 1}", 8, NNINIT_EFORMAT,
                 "unknown key 'extra'");
    expect_parse("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,)}", 8, NNINIT_EFORMAT,
                 "repeats the key 'descr'");
    expect_parse("{'descr': '<f4', 'fortran_order': True, 'shape': (2,)}", 8, NNINIT_EUNSUPPORTED, "Fortran");
    expect_parse("{'descr': '<f4', 'fortran_order': false, 'shape': (2,)}", 8, NNINIT_EFORMAT, "True nor False");
    expect_parse("{'descr': '<f4', 'fortran_order': False, 'shape': (2)}", 8, NNINIT_EFORMAT, "not a tuple");
    expect_parse("{'descr': '<f4', 'fortran_order': False, 'shape': [2]}", 8, NNINIT_EFORMAT, "not a tuple");
    expect_parse("{'descr': '<f4', 'fortran_order': False, 'shape': (-2,)}", 8, NNINIT_EFORMAT, "non-negative");
    expect_parse("{'descr': '<f4', 'fortran_order': False, 'shape': (02,)}", 8, NNINIT_EFORMAT, "leading zero");
    expect_parse("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}", 8,
                 NNINIT_EOVERFLOW, "overflows");
    expect_parse("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296)}", 8,
                 NNINIT_EOVERFLOW, "overflow");
    expect_parse("{'descr': '<f4', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1,1,1)}", 4,
                 NNINIT_EUNSUPPORTED, "at most 8");
    expect_parse("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,)}", 8, NNINIT_EFORMAT,
                 "structured");
    expect_parse("{'descr': '|O', 'fortran_order': False, 'shape': (2,)}", 16, NNINIT_EUNSUPPORTED, "'|O'");
    expect_parse("{'descr': '<f4', 'fortran_order': False, 'shape': (2,)} x", 8, NNINIT_EFORMAT, "after");
    expect_parse("{'descr': '<f4', 'fortran_order': False, 'shape': (2,)}", 7, NNINIT_EFORMAT,
                 "header promises 8 bytes of data, file has 7");
    expect_parse("{'descr': '<f4', 'fortran_order': False, 'shape': (2,)}", 9, NNINIT_EFORMAT, "1 unexpected bytes");
    expect_parse("{'descr': 'f4\\x', 'fortran_order': False, 'shape': (2,)}", 8, NNINIT_EFORMAT, NULL);
}

static void test_bad_preamble(void **state)
{
    (void)state;
    size_t len;
    unsigned char *good = fixture("npy/f4_3x4.npy", &len);
    nninit_err err;
    void *data = NULL;
    /* Every truncation is an error, never a crash or a read past the end. */
    for (size_t n = 0; n < len; n++) {
        unsigned char *cut = malloc(n ? n : 1);
        memcpy(cut, good, n);
        assert_int_equal(nninit_npy_parse(cut, n, NULL, NULL, &data, &err), NNINIT_EFORMAT);
        assert_null(data);
        free(cut);
    }
    unsigned char *b = malloc(len);
    memcpy(b, good, len);
    b[0] = 'X';
    assert_int_equal(nninit_npy_parse(b, len, NULL, NULL, &data, &err), NNINIT_EFORMAT);
    assert_non_null(strstr(err.msg, "magic"));
    memcpy(b, good, len);
    b[6] = 4;
    assert_int_equal(nninit_npy_parse(b, len, NULL, NULL, &data, &err), NNINIT_EFORMAT);
    assert_non_null(strstr(err.msg, "version 4.0"));
    memcpy(b, good, len);
    b[8] = 0xff;
    b[9] = 0xff; /* header length 65535 > file */
    assert_int_equal(nninit_npy_parse(b, len, NULL, NULL, &data, &err), NNINIT_EFORMAT);
    assert_non_null(strstr(err.msg, "ends inside the .npy header"));
    free(b);
    free(good);
}

/* Random byte flips: each result is OK or an error, with no memory error
 * (run under `make asan`). Fixed seed for reproducibility. */
static void test_random_corruption(void **state)
{
    (void)state;
    size_t len;
    unsigned char *good = fixture("npy/f4_3x4.npy", &len);
    unsigned char *b = malloc(len);
    uint64_t x = 88172645463325252ull;
    for (int iter = 0; iter < 3000; iter++) {
        memcpy(b, good, len);
        for (int k = 0; k < 3; k++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17; /* xorshift64 */
            size_t pos = (size_t)(x % 128); /* the header, where the parser works */
            b[pos] = (unsigned char)(x >> 32);
        }
        void *data = NULL;
        nninit_err err;
        nninit_status st = nninit_npy_parse(b, len, NULL, NULL, &data, &err);
        assert_true(st == NNINIT_OK || data == NULL);
        nninit_free(data);
    }
    free(b);
    free(good);
}

static void test_round_trip_all_dtypes(void **state)
{
    (void)state;
    const nninit_dtype dts[] = {NNINIT_F32, NNINIT_F64, NNINIT_F16, NNINIT_BF16};
    nninit_shape shape = {3, {2, 3, 5}};
    unsigned char src[30 * 8];
    for (size_t i = 0; i < sizeof src; i++)
        src[i] = (unsigned char)(i * 37 + 11);
    char path[512];
    snprintf(path, sizeof path, "%s/rt.npy", tmpdir);
    for (size_t k = 0; k < 4; k++) {
        nninit_err err;
        assert_ok(nninit_npy_write(path, dts[k], &shape, src, &err), &err);
        nninit_dtype dt;
        nninit_shape sh;
        void *data = NULL;
        assert_ok(nninit_npy_read(path, &dt, &sh, &data, &err), &err);
        assert_int_equal(dt, dts[k]);
        assert_int_equal(sh.ndim, 3);
        assert_int_equal(sh.dim[2], 5);
        assert_memory_equal(data, src, 30 * nninit_dtype_size(dts[k]));
        nninit_free(data);
    }
}

static int count_dir_entries(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    if (d)
        closedir(d);
    return n;
}

/* A write that fails part way (file size limit -> EFBIG) must leave the old
 * target byte for byte and no temporary behind. */
static void test_atomic_failure_keeps_target(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s/keep.npy", tmpdir);
    nninit_err err;
    float f[12];
    a12(f);
    nninit_shape s34 = {2, {3, 4}};
    assert_ok(nninit_npy_write(path, NNINIT_F32, &s34, f, &err), &err);
    size_t before_len;
    unsigned char *before = slurp(path, &before_len);
    int entries = count_dir_entries(tmpdir);

    enum { N = 1 << 20 };
    float *big = calloc(N, sizeof *big);
    nninit_shape sbig = {1, {N}};
    struct rlimit old, lim;
    getrlimit(RLIMIT_FSIZE, &old);
    lim = old;
    lim.rlim_cur = 100000; /* 100 kB: the 4 MB write fails part way */
    void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    nninit_status st = nninit_npy_write(path, NNINIT_F32, &sbig, big, &err);
    setrlimit(RLIMIT_FSIZE, &old);
    signal(SIGXFSZ, prev);
    assert_int_equal(st, NNINIT_EIO);
    assert_int_equal(err.sys_errno, EFBIG);
    if (!strstr(err.msg, "nothing was replaced") || !strstr(err.msg, "keep.npy"))
        fail_msg("message: %s", err.msg);
    size_t after_len;
    unsigned char *after = slurp(path, &after_len);
    assert_int_equal(after_len, before_len);
    assert_memory_equal(after, before, before_len);
    assert_int_equal(count_dir_entries(tmpdir), entries); /* no temporary left */
    free(big);
    free(before);
    free(after);

    /* A missing folder is an I/O error naming the path. */
    snprintf(path, sizeof path, "%s/no/such/dir/x.npy", tmpdir);
    assert_int_equal(nninit_npy_write(path, NNINIT_F32, &s34, f, &err), NNINIT_EIO);
    assert_int_equal(err.sys_errno, ENOENT);
    assert_non_null(strstr(err.msg, "x.npy"));
}

static void test_write_rejects_bad_shapes(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s/bad.npy", tmpdir);
    float f = 0;
    nninit_err err;
    nninit_shape neg = {1, {-1}};
    assert_int_equal(nninit_npy_write(path, NNINIT_F32, &neg, &f, &err), NNINIT_EINVAL);
    nninit_shape nine = {9, {1}};
    assert_int_equal(nninit_npy_write(path, NNINIT_F32, &nine, &f, &err), NNINIT_EINVAL);
    nninit_shape huge = {2, {INT64_MAX, 2}};
    assert_int_equal(nninit_npy_write(path, NNINIT_F32, &huge, &f, &err), NNINIT_EOVERFLOW);
    nninit_shape one = {1, {1}};
    assert_int_equal(nninit_npy_write(path, NNINIT_F32, &one, NULL, &err), NNINIT_EMISUSE);
    assert_int_equal(access(path, F_OK), -1); /* nothing created */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_write_matches_numpy),
        cmocka_unit_test(test_header_matches_numpy),
        cmocka_unit_test(test_read_numpy_files),
        cmocka_unit_test(test_unsupported_files),
        cmocka_unit_test(test_header_grammar),
        cmocka_unit_test(test_bad_preamble),
        cmocka_unit_test(test_random_corruption),
        cmocka_unit_test(test_round_trip_all_dtypes),
        cmocka_unit_test(test_atomic_failure_keeps_target),
        cmocka_unit_test(test_write_rejects_bad_shapes),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
