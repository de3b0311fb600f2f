/* IDX reader: good plain and gzip files, and every way a file can be
 * wrong (truncated, wrong magic, oversized header, trailing bytes, zero
 * dimension, corrupt gzip); data set loading from a folder. Files are made
 * here, in a temporary folder. */
#include "util.h"

#include <unistd.h>
#include <zlib.h>

static char dir[256];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/nninit_test_idx_XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static const char *path_of(const char *name)
{
    static char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return p;
}

static void write_file(const char *name, const void *buf, size_t n)
{
    FILE *f = fopen(path_of(name), "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(buf, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

/* gzip-compresses buf into name; returns the compressed size. */
static size_t write_gz(const char *name, const void *buf, size_t n)
{
    gzFile g = gzopen(path_of(name), "wb");
    assert_non_null(g);
    assert_int_equal(gzwrite(g, buf, (unsigned)n), (int)n);
    assert_int_equal(gzclose(g), Z_OK);
    FILE *f = fopen(path_of(name), "rb");
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fclose(f);
    return (size_t)size;
}

static unsigned char *read_file(const char *name, size_t *n)
{
    FILE *f = fopen(path_of(name), "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    *n = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc(*n + 16);
    assert_int_equal(fread(b, 1, *n, f), *n);
    fclose(f);
    return b;
}

/* An IDX image: magic (type, rank), big-endian dims, then `data` bytes. */
static size_t make_idx(unsigned char *out, int type, int rank, const uint32_t *dims, const void *data, size_t nbytes)
{
    size_t k = 0;
    out[k++] = 0;
    out[k++] = 0;
    out[k++] = (unsigned char)type;
    out[k++] = (unsigned char)rank;
    for (int d = 0; d < rank; d++) {
        out[k++] = (unsigned char)(dims[d] >> 24);
        out[k++] = (unsigned char)(dims[d] >> 16);
        out[k++] = (unsigned char)(dims[d] >> 8);
        out[k++] = (unsigned char)dims[d];
    }
    memcpy(out + k, data, nbytes);
    return k + nbytes;
}

static void test_good_u8(void **state)
{
    (void)state;
    unsigned char data[2 * 3 * 4], img[64];
    for (int i = 0; i < 24; i++)
        data[i] = (unsigned char)(i * 10);
    uint32_t dims[3] = {2, 3, 4};
    size_t n = make_idx(img, 0x08, 3, dims, data, 24);
    write_file("u8.idx", img, n);
    write_gz("u8.idx.gz", img, n);
    nninit_idx idx;
    nninit_err err;
    for (int gz = 0; gz < 2; gz++) {
        assert_ok(nninit_idx_read(path_of(gz ? "u8.idx.gz" : "u8.idx"), &idx, &err), &err);
        assert_int_equal(idx.type, 0x08);
        assert_int_equal(idx.shape.ndim, 3);
        assert_int_equal(idx.shape.dim[0], 2);
        assert_int_equal(idx.shape.dim[2], 4);
        assert_int_equal(idx.nbytes, 24);
        assert_memory_equal(idx.data, data, 24);
        nninit_idx_free(&idx);
    }
}

static void test_good_big_endian_types(void **state)
{
    (void)state;
    /* i16 -2, 258 and f32 1.5, -0.25 and f64 3.0, stored big-endian */
    unsigned char img[64];
    unsigned char i16[4] = {0xFF, 0xFE, 0x01, 0x02};
    unsigned char f32[8] = {0x3F, 0xC0, 0, 0, 0xBE, 0x80, 0, 0};
    unsigned char f64[8] = {0x40, 0x08, 0, 0, 0, 0, 0, 0};
    uint32_t two = 2, one = 1;
    nninit_idx idx;
    nninit_err err;
    size_t n = make_idx(img, 0x0B, 1, &two, i16, 4);
    assert_ok(nninit_idx_parse(img, n, "i16", &idx, &err), &err);
    int16_t *s = idx.data;
    assert_int_equal(s[0], -2);
    assert_int_equal(s[1], 258);
    nninit_idx_free(&idx);
    n = make_idx(img, 0x0D, 1, &two, f32, 8);
    assert_ok(nninit_idx_parse(img, n, "f32", &idx, &err), &err);
    float *f = idx.data;
    assert_true(f[0] == 1.5f && f[1] == -0.25f);
    nninit_idx_free(&idx);
    n = make_idx(img, 0x0E, 1, &one, f64, 8);
    assert_ok(nninit_idx_parse(img, n, "f64", &idx, &err), &err);
    assert_true(*(double *)idx.data == 3.0);
    nninit_idx_free(&idx);
}

static void expect_format_error(const char *name, const char *needle)
{
    nninit_idx idx;
    nninit_err err;
    nninit_status s = nninit_idx_read(path_of(name), &idx, &err);
    if (s != NNINIT_EFORMAT || !strstr(err.msg, needle)) {
        print_error("%s: status %s, message '%s'; expected EFORMAT with '%s'\n", name, nninit_status_str(s), err.msg,
                    needle);
        fail();
    }
    assert_null(idx.data);
}

static void test_bad_files(void **state)
{
    (void)state;
    unsigned char data[100], img[200];
    memset(data, 7, sizeof data);
    uint32_t dims[2] = {10, 10};
    size_t n = make_idx(img, 0x08, 2, dims, data, 100);

    write_file("trunc.idx", img, n - 1); /* one data byte short */
    expect_format_error("trunc.idx", "header promises 100 bytes of data, file has 99");
    write_file("trunc_head.idx", img, 6); /* inside the dimensions */
    expect_format_error("trunc_head.idx", "header is cut short");
    write_file("tiny.idx", img, 2);
    expect_format_error("tiny.idx", "4-byte magic");

    img[n] = 0xAB; /* one trailing byte */
    write_file("trail.idx", img, n + 1);
    expect_format_error("trail.idx", "trailing data");

    unsigned char bad[200];
    memcpy(bad, img, n);
    bad[2] = 0x07; /* no such type */
    write_file("magic_type.idx", bad, n);
    expect_format_error("magic_type.idx", "bad magic 0x00000702");
    memcpy(bad, img, n);
    bad[0] = 0x01;
    write_file("magic0.idx", bad, n);
    expect_format_error("magic0.idx", "bad magic");
    memcpy(bad, img, n);
    bad[3] = 9; /* rank 9 > NNINIT_MAX_DIMS */
    write_file("rank.idx", bad, n);
    expect_format_error("rank.idx", "bad magic");
    bad[3] = 0;
    write_file("rank0.idx", bad, n);
    expect_format_error("rank0.idx", "bad magic");

    /* oversized header: 60000 x 60000 x 60000 bytes promised by a tiny file */
    uint32_t huge[3] = {60000, 60000, 60000};
    n = make_idx(bad, 0x08, 3, huge, data, 10);
    write_file("huge.idx", bad, n);
    expect_format_error("huge.idx", "header promises 216000000000000 bytes of data, file has 10");
    write_gz("huge.idx.gz", bad, n);
    expect_format_error("huge.idx.gz", "cannot hold that");
    /* dims whose product overflows 64 bits */
    uint32_t over[3] = {0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF};
    n = make_idx(bad, 0x0E, 3, over, data, 10);
    write_file("over.idx", bad, n);
    expect_format_error("over.idx", "overflow");
    /* a zero dimension */
    uint32_t zero[2] = {3, 0};
    n = make_idx(bad, 0x08, 2, zero, data, 0);
    write_file("zero.idx", bad, n);
    expect_format_error("zero.idx", "dimension 1 is 0");
}

static void test_bad_gzip(void **state)
{
    (void)state;
    unsigned char data[1000], img[1100];
    for (int i = 0; i < 1000; i++)
        data[i] = (unsigned char)(i * 31 + i / 7); /* not too compressible */
    uint32_t dims[2] = {10, 100};
    size_t n = make_idx(img, 0x08, 2, dims, data, 1000);
    size_t gn = write_gz("good.gz", img, n);
    size_t len;
    unsigned char *gz = read_file("good.gz", &len);
    assert_int_equal(len, gn);
    /* truncated inside the deflate data, and just before the 8-byte trailer */
    write_file("cut.gz", gz, len / 2);
    expect_format_error("cut.gz", "truncated");
    write_file("cut_trailer.gz", gz, len - 4);
    expect_format_error("cut_trailer.gz", "truncated");
    /* trailing garbage after the gzip member (gzread would ignore it) */
    unsigned char *g2 = malloc(len + 3);
    memcpy(g2, gz, len);
    memcpy(g2 + len, "xyz", 3);
    write_file("garbage.gz", g2, len + 3);
    expect_format_error("garbage.gz", "trailing bytes after the gzip data");
    /* a second member whose data overflows what the header promises */
    size_t gn2 = write_gz("more.gz", "extra", 5);
    unsigned char *m2 = read_file("more.gz", &gn2);
    unsigned char *cat = malloc(len + gn2);
    memcpy(cat, gz, len);
    memcpy(cat + len, m2, gn2);
    write_file("cat.gz", cat, len + gn2);
    expect_format_error("cat.gz", "trailing data");
    /* corrupt deflate data: flip bytes in the middle */
    memcpy(g2, gz, len);
    for (size_t i = len / 3; i < len / 3 + 8; i++)
        g2[i] ^= 0x5A;
    write_file("corrupt.gz", g2, len);
    nninit_idx idx;
    nninit_err err;
    assert_int_equal(nninit_idx_read(path_of("corrupt.gz"), &idx, &err), NNINIT_EFORMAT);
    /* header cut short inside a gzip stream */
    size_t hn = write_gz("head.gz", img, 6);
    (void)hn;
    expect_format_error("head.gz", "header is cut short");
    free(gz);
    free(g2);
    free(m2);
    free(cat);
}

static void test_missing(void **state)
{
    (void)state;
    nninit_idx idx;
    nninit_err err;
    assert_int_equal(nninit_idx_read(path_of("nope.idx"), &idx, &err), NNINIT_ENOTFOUND);
    nninit_dataset d;
    assert_int_equal(nninit_dataset_load(path_of("no_such_folder"), "train", &d, &err), NNINIT_ENOTFOUND);
    assert_non_null(strstr(err.msg, "apt-get install dataset-fashion-mnist"));
    assert_int_equal(nninit_dataset_load(dir, "valid", &d, &err), NNINIT_EINVAL);
}

/* A 5-image 2x3 data set, labels 0..3, the images gzip'd and the labels plain. */
static void test_dataset_load(void **state)
{
    (void)state;
    unsigned char px[5 * 6], lb[5] = {3, 0, 1, 2, 1}, img[128];
    for (int i = 0; i < 30; i++)
        px[i] = (unsigned char)(i * 8);
    uint32_t idims[3] = {5, 2, 3}, ldims[1] = {5};
    size_t n = make_idx(img, 0x08, 3, idims, px, 30);
    write_gz("train-images-idx3-ubyte.gz", img, n);
    n = make_idx(img, 0x08, 1, ldims, lb, 5);
    write_file("train-labels-idx1-ubyte", img, n);
    nninit_dataset d;
    nninit_err err;
    assert_ok(nninit_dataset_load(dir, "train", &d, &err), &err);
    assert_int_equal(d.n, 5);
    assert_int_equal(d.dim, 6);
    assert_int_equal(d.n_classes, 4);
    for (int i = 0; i < 30; i++)
        assert_true(d.x[i] == (float)px[i] / 255.0f);
    assert_int_equal(d.y[0], 3);
    /* standardisation: mean 0, std 1 over the whole set */
    double mean, sd;
    assert_ok(nninit_dataset_standardize(&d, NULL, &mean, &sd, &err), &err);
    /* mean of 0, 8, ..., 232 is 116; the pixels are float32 (each within 2^-24 relative) */
    assert_close(mean, 116.0 / 255.0, 1e-7);
    double s = 0, ss = 0;
    for (int i = 0; i < 30; i++) {
        s += (double)d.x[i];
        ss += (double)d.x[i] * (double)d.x[i];
    }
    assert_close(s / 30, 0.0, 1e-6);
    assert_close(ss / 30, 1.0, 1e-5);
    nninit_dataset_free(&d);
    /* a label count that disagrees with the image count */
    uint32_t l4[1] = {4};
    n = make_idx(img, 0x08, 1, l4, lb, 4);
    write_file("t10k-labels-idx1-ubyte", img, n);
    n = make_idx(img, 0x08, 3, idims, px, 30);
    write_file("t10k-images-idx3-ubyte", img, n);
    assert_int_equal(nninit_dataset_load(dir, "t10k", &d, &err), NNINIT_EFORMAT);
    assert_non_null(strstr(err.msg, "5 images but 4 labels"));
    /* NNINIT_DATA is the default folder */
    setenv("NNINIT_DATA", dir, 1);
    assert_string_equal(nninit_dataset_default_dir(), dir);
    assert_ok(nninit_dataset_load(NULL, "train", &d, &err), &err);
    nninit_dataset_free(&d);
    unsetenv("NNINIT_DATA");
    assert_string_equal(nninit_dataset_default_dir(), "/usr/share/datasets/fashion-mnist");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_u8),   cmocka_unit_test(test_good_big_endian_types),
        cmocka_unit_test(test_bad_files), cmocka_unit_test(test_bad_gzip),
        cmocka_unit_test(test_missing),   cmocka_unit_test(test_dataset_load),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
