/* Tensor files: safetensors known answers from the reference's own tests,
 * layout order, sharding, npz (NumPy-made fixtures from
 * tests/fixtures/make_io_fixtures.py), npy folders, round trips, dtype
 * rounding against torch/NumPy, and corrupt input for every reader. */
#include "util.h"
#include "io/internal.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmpdir[256];

static void rm_rf(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *e;
        char p[1024];
        while (d && (e = readdir(d)))
            if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
                snprintf(p, sizeof p, "%s/%s", path, e->d_name);
                rm_rf(p);
            }
        if (d)
            closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/nninit_test_tf_XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    rm_rf(tmpdir);
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
    if (fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return b;
}

static void spit(const char *path, const void *buf, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(buf, 1, len, f), len);
    fclose(f);
}

static const char *tmp(const char *name)
{
    static char p[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(p[k], sizeof p[k], "%s/%s", tmpdir, name);
    return p[k];
}

/* A source that serves caller buffers. */
typedef struct bufs {
    const void *const *data;
    const nninit_tensor_desc *t;
} bufs;

static nninit_status from_bufs(void *user, size_t i, void *out, nninit_err *err)
{
    (void)err;
    bufs *b = user;
    uint64_t numel, nb;
    nninit__tensor_bytes("t", &b->t[i].shape, b->t[i].dtype, &numel, &nb, NULL);
    memcpy(out, b->data[i], (size_t)nb);
    return NNINIT_OK;
}

static const float f6[6] = {0, 1, 2, 3, 4, 5};

/* huggingface/safetensors tensor.rs test_serialization_forced_alignement:
 * 72-byte header ({"attn0":...} plus 7 spaces), data from byte 80. */
static void test_safetensors_known_answer(void **state)
{
    (void)state;
    nninit_tensor_desc t = {"attn0", NNINIT_FD_F32, {4, {1, 1, 2, 3}}};
    const void *d[1] = {f6};
    bufs b = {d, &t};
    nninit_write_opts o = nninit_write_opts_default();
    const char *none[1] = {NULL};
    o.metadata = none; /* the reference test passes no metadata */
    nninit_err err;
    assert_ok(nninit_tensors_write(tmp("a.safetensors"), &t, 1, &o, from_bufs, &b, &err), &err);
    size_t len;
    unsigned char *got = slurp(tmp("a.safetensors"), &len);
    const char *json = "{\"attn0\":{\"dtype\":\"F32\",\"shape\":[1,1,2,3],\"data_offsets\":[0,24]}}       ";
    assert_int_equal(len, 8 + 72 + 24);
    assert_int_equal(got[0], 72);
    for (int i = 1; i < 8; i++)
        assert_int_equal(got[i], 0);
    assert_memory_equal(got + 8, json, 72);
    assert_memory_equal(got + 80, f6, 24);
    free(got);

    /* test_empty: no tensors, no metadata -> "{}" + 6 spaces; with
     * {"framework": "pt"} -> 40 bytes. */
    assert_ok(nninit_tensors_write(tmp("e.safetensors"), NULL, 0, &o, from_bufs, &b, &err), &err);
    got = slurp(tmp("e.safetensors"), &len);
    assert_int_equal(len, 16);
    assert_memory_equal(got, "\x08\0\0\0\0\0\0\0{}      ", 16);
    free(got);
    const char *fw[3] = {"framework", "pt", NULL};
    o.metadata = fw;
    assert_ok(nninit_tensors_write(tmp("e.safetensors"), NULL, 0, &o, from_bufs, &b, &err), &err);
    got = slurp(tmp("e.safetensors"), &len);
    assert_int_equal(len, 48);
    assert_memory_equal(got, "\x28\0\0\0\0\0\0\0{\"__metadata__\":{\"framework\":\"pt\"}}     ", 48);
    free(got);
}

/* Mixed dtypes: descending alignment (F64, F32, BF16, F16), then name;
 * default metadata {"format":"pt"}; each tensor aligned to its size. */
static void test_safetensors_order(void **state)
{
    (void)state;
    double d2[2] = {1, 2};
    uint16_t h3[3] = {1, 2, 3};
    int64_t i1 = 7;
    nninit_tensor_desc t[] = {
        {"z.f16", NNINIT_FD_F16, {1, {3}}}, {"b.f32", NNINIT_FD_F32, {2, {2, 3}}},
        {"a.bf16", NNINIT_FD_BF16, {1, {3}}}, {"a.f32", NNINIT_FD_F32, {1, {1}}},
        {"c.f64", NNINIT_FD_F64, {1, {2}}}, {"n", NNINIT_FD_I64, {0, {0}}},
    };
    const void *d[] = {h3, f6, h3, f6, d2, &i1};
    bufs b = {d, t};
    nninit_err err;
    assert_ok(nninit_tensors_write(tmp("o.safetensors"), t, 6, NULL, from_bufs, &b, &err), &err);
    size_t len;
    unsigned char *got = slurp(tmp("o.safetensors"), &len);
    const char *want = "{\"__metadata__\":{\"format\":\"pt\"},"
                       "\"n\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[0,8]},"
                       "\"c.f64\":{\"dtype\":\"F64\",\"shape\":[2],\"data_offsets\":[8,24]},"
                       "\"a.f32\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[24,28]},"
                       "\"b.f32\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[28,52]},"
                       "\"a.bf16\":{\"dtype\":\"BF16\",\"shape\":[3],\"data_offsets\":[52,58]},"
                       "\"z.f16\":{\"dtype\":\"F16\",\"shape\":[3],\"data_offsets\":[58,64]}}";
    size_t wl = strlen(want), hl = (wl + 7) / 8 * 8;
    assert_int_equal(got[0] | got[1] << 8, hl);
    assert_memory_equal(got + 8, want, wl);
    assert_int_equal(len, 8 + hl + 64);
    free(got);

    nninit_tensor_file *tf;
    assert_ok(nninit_tensor_file_open(tmp("o.safetensors"), &tf, &err), &err);
    assert_int_equal(nninit_tensor_file_count(tf), 6);
    assert_string_equal(nninit_tensor_file_info(tf, 0)->name, "n"); /* file order */
    assert_string_equal(nninit_tensor_file_metadata(tf, "format"), "pt");
    size_t k;
    assert_ok(nninit_tensor_file_find(tf, "c.f64", &k, &err), &err);
    double back[2];
    assert_ok(nninit_tensor_file_read(tf, k, back, &err), &err);
    assert_memory_equal(back, d2, sizeof d2);
    assert_int_equal(nninit_tensor_file_find(tf, "nope", &k, &err), NNINIT_ENOTFOUND);
    nninit_tensor_file_free(tf);
}

static void test_write_rejects_bad_names(void **state)
{
    (void)state;
    nninit_tensor_desc t[2] = {{"w", NNINIT_FD_F32, {1, {1}}}, {"w", NNINIT_FD_F32, {1, {1}}}};
    const void *d[2] = {f6, f6};
    bufs b = {d, t};
    nninit_err err;
    assert_int_equal(nninit_tensors_write(tmp("x.safetensors"), t, 2, NULL, from_bufs, &b, &err), NNINIT_EINVAL);
    assert_non_null(strstr(err.msg, "appears twice"));
    t[1].name = "__metadata__";
    assert_int_equal(nninit_tensors_write(tmp("x.safetensors"), t, 2, NULL, from_bufs, &b, &err), NNINIT_EINVAL);
    t[1].name = "";
    assert_int_equal(nninit_tensors_write(tmp("x.safetensors"), t, 2, NULL, from_bufs, &b, &err), NNINIT_EINVAL);
    t[1].name = "bad\xff";
    assert_int_equal(nninit_tensors_write(tmp("x.safetensors"), t, 2, NULL, from_bufs, &b, &err), NNINIT_EINVAL);
    nninit_write_opts o = nninit_write_opts_default();
    o.format = NNINIT_FORMAT_NPY_DIR;
    t[1].name = "../escape";
    assert_int_equal(nninit_tensors_write(tmp("dir"), t, 2, &o, from_bufs, &b, &err), NNINIT_EINVAL);
    assert_int_equal(access(tmp("x.safetensors"), F_OK), -1);
}

/* Sharding as huggingface_hub: in tensor order, a new shard when the next
 * tensor would pass the limit, an oversized tensor alone. */
static void test_sharding(void **state)
{
    (void)state;
    static float big[64];
    nninit_tensor_desc t[] = {
        {"l0.w", NNINIT_FD_F32, {1, {10}}}, /* 40 bytes */
        {"l0.b", NNINIT_FD_F32, {1, {5}}},  /* 20 -> 60 <= 64 */
        {"l1.w", NNINIT_FD_F32, {1, {40}}}, /* 160 > 64: own shard */
        {"l1.b", NNINIT_FD_F32, {1, {2}}},  /* 8 -> 68 > 64: new shard */
    };
    const void *d[] = {big, big, big, big};
    bufs b = {d, t};
    nninit_write_opts o = nninit_write_opts_default();
    o.max_shard_size = 64;
    nninit_err err;
    mkdir(tmp("shards"), 0777);
    assert_ok(nninit_tensors_write(tmp("shards/model.safetensors"), t, 4, &o, from_bufs, &b, &err), &err);
    size_t len;
    unsigned char *idx = slurp(tmp("shards/model.safetensors.index.json"), &len);
    assert_non_null(idx);
    const char *want = "{\n  \"metadata\": {\n    \"total_size\": 228\n  },\n  \"weight_map\": {\n"
                       "    \"l0.b\": \"model-00001-of-00003.safetensors\",\n"
                       "    \"l0.w\": \"model-00001-of-00003.safetensors\",\n"
                       "    \"l1.b\": \"model-00003-of-00003.safetensors\",\n"
                       "    \"l1.w\": \"model-00002-of-00003.safetensors\"\n  }\n}\n";
    assert_int_equal(len, strlen(want));
    assert_memory_equal(idx, want, len);
    free(idx);
    assert_int_equal(access(tmp("shards/model.safetensors"), F_OK), -1); /* no unsharded file */
    nninit_tensor_file *tf;
    assert_ok(nninit_tensor_file_open(tmp("shards/model.safetensors.index.json"), &tf, &err), &err);
    assert_int_equal(nninit_tensor_file_format(tf), NNINIT_FORMAT_SAFETENSORS_INDEX);
    assert_int_equal(nninit_tensor_file_count(tf), 4);
    nninit_tensor_file_free(tf);
    /* A shard that holds a tensor the index does not map to it. */
    nninit_tensor_desc extra[] = {{"l1.b", NNINIT_FD_F32, {1, {2}}}, {"rogue", NNINIT_FD_F32, {1, {1}}}};
    bufs b2 = {d, extra};
    assert_ok(nninit_tensors_write(tmp("shards/model-00003-of-00003.safetensors"), extra, 2, NULL, from_bufs, &b2,
                                   &err), &err);
    assert_int_equal(nninit_tensor_file_open(tmp("shards/model.safetensors.index.json"), &tf, &err),
                     NNINIT_EFORMAT);
    assert_non_null(strstr(err.msg, "rogue"));
}

static void round_trip(nninit_file_format fmt, const char *name)
{
    uint16_t bf[4] = {0x3f80, 0xbf80, 0x7fc0, 0x0001};
    int64_t nbt = 0;
    double d3[3] = {0.5, -0.25, 1e300};
    float e[1];
    nninit_tensor_desc t[] = {
        {"dense/kernel", NNINIT_FD_F32, {2, {2, 3}}}, {"dense/bias", NNINIT_FD_BF16, {1, {4}}},
        {"bn.num_batches_tracked", NNINIT_FD_I64, {0, {0}}}, {"x", NNINIT_FD_F64, {1, {3}}},
        {"empty", NNINIT_FD_F32, {2, {0, 4}}},
    };
    const void *d[] = {f6, bf, &nbt, d3, e};
    bufs b = {d, t};
    nninit_write_opts o = nninit_write_opts_default();
    o.format = fmt;
    nninit_err err;
    assert_ok(nninit_tensors_write(tmp(name), t, 5, &o, from_bufs, &b, &err), &err);
    nninit_tensor_file *tf;
    assert_ok(nninit_tensor_file_open(tmp(name), &tf, &err), &err);
    assert_int_equal(nninit_tensor_file_count(tf), 5);
    for (size_t i = 0; i < 5; i++) {
        size_t k;
        assert_ok(nninit_tensor_file_find(tf, t[i].name, &k, &err), &err);
        const nninit_tensor_info *inf = nninit_tensor_file_info(tf, k);
        assert_int_equal(inf->dtype, t[i].dtype);
        assert_int_equal(inf->shape.ndim, t[i].shape.ndim);
        for (int j = 0; j < inf->shape.ndim; j++)
            assert_int_equal(inf->shape.dim[j], t[i].shape.dim[j]);
        unsigned char buf[64];
        assert_ok(nninit_tensor_file_read(tf, k, buf, &err), &err);
        assert_memory_equal(buf, d[i], (size_t)inf->nbytes);
    }
    nninit_tensor_file_free(tf);
}

static void test_round_trips(void **state)
{
    (void)state;
    round_trip(NNINIT_FORMAT_SAFETENSORS, "rt.safetensors");
    round_trip(NNINIT_FORMAT_NPZ, "rt.npz");
    round_trip(NNINIT_FORMAT_NPZ_DEFLATED, "rtz.npz");
    round_trip(NNINIT_FORMAT_NPY_DIR, "rtdir");
    struct stat st;
    assert_int_equal(stat(tmp("rtdir/dense/kernel.npy"), &st), 0); /* '/' in a name makes a folder */
}

/* 70000 members need the zip64 end records (count > 65535); NumPy reads
 * such a file (checked by hand with np.load when this was written). */
static nninit_status index_value(void *user, size_t i, void *out, nninit_err *err)
{
    (void)user;
    (void)err;
    float v = (float)i;
    memcpy(out, &v, 4);
    return NNINIT_OK;
}

static void test_npz_zip64_count(void **state)
{
    (void)state;
    enum { N = 70000 };
    nninit_tensor_desc *t = calloc(N, sizeof *t);
    char(*names)[16] = calloc(N, 16);
    for (size_t i = 0; i < N; i++) {
        snprintf(names[i], 16, "t%zu", i);
        t[i].name = names[i];
        t[i].dtype = NNINIT_FD_F32;
        t[i].shape.ndim = 1;
        t[i].shape.dim[0] = 1;
    }
    nninit_write_opts o = nninit_write_opts_default();
    o.format = NNINIT_FORMAT_NPZ;
    nninit_err err;
    assert_ok(nninit_tensors_write(tmp("many.npz"), t, N, &o, index_value, NULL, &err), &err);
    nninit_tensor_file *tf;
    assert_ok(nninit_tensor_file_open(tmp("many.npz"), &tf, &err), &err);
    assert_int_equal(nninit_tensor_file_count(tf), N);
    float v;
    assert_ok(nninit_tensor_file_read(tf, N - 1, &v, &err), &err);
    assert_true(v == (float)(N - 1));
    nninit_tensor_file_free(tf);
    unlink(tmp("many.npz"));
    free(t);
    free(names);
}

/* NumPy's own npz files (stored with zip64 local extras; deflated). */
static void test_read_numpy_npz(void **state)
{
    (void)state;
    const char *files[] = {"io/numpy_savez.npz", "io/numpy_savez_compressed.npz"};
    for (int f = 0; f < 2; f++) {
        char path[512];
        nninit_err err;
        nninit_tensor_file *tf;
        assert_ok(nninit_tensor_file_open(test_fixture(files[f], path, sizeof path), &tf, &err), &err);
        assert_int_equal(nninit_tensor_file_format(tf), f ? NNINIT_FORMAT_NPZ_DEFLATED : NNINIT_FORMAT_NPZ);
        assert_int_equal(nninit_tensor_file_count(tf), 2);
        const nninit_tensor_info *a = nninit_tensor_file_info(tf, 0), *b = nninit_tensor_file_info(tf, 1);
        assert_string_equal(a->name, "a");
        assert_int_equal(a->dtype, NNINIT_FD_F32);
        assert_int_equal(a->shape.dim[1], 4);
        assert_string_equal(b->name, "b");
        float av[12];
        double bv[7];
        assert_ok(nninit_tensor_file_read(tf, 0, av, &err), &err);
        assert_ok(nninit_tensor_file_read(tf, 1, bv, &err), &err);
        for (int i = 0; i < 12; i++)
            assert_true(av[i] == (float)i * 0.25f - 1.5f);
        for (int i = 0; i < 7; i++)
            assert_true(bv[i] == (double)i * 0.1);
        nninit_tensor_file_free(tf);
    }
}

/* ---- corrupt safetensors: each check of the reference reader ---- */

static void st_file(const char *json, size_t data_bytes, const char *name)
{
    size_t jl = strlen(json);
    unsigned char *b = calloc(8 + jl + data_bytes + 1, 1);
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)((uint64_t)jl >> (8 * i));
    memcpy(b + 8, json, jl);
    spit(tmp(name), b, 8 + jl + data_bytes);
    free(b);
}

static void expect_st(const char *json, size_t data_bytes, nninit_status want, const char *needle)
{
    st_file(json, data_bytes, "c.safetensors");
    nninit_tensor_file *tf = (nninit_tensor_file *)1;
    nninit_err err;
    nninit_status s = nninit_tensor_file_open(tmp("c.safetensors"), &tf, &err);
    if (s != want)
        fail_msg("%s: got %s (%s), want %s", json, nninit_status_str(s), s ? err.msg : "", nninit_status_str(want));
    if (s) {
        assert_null(tf);
        if (needle && !strstr(err.msg, needle))
            fail_msg("%s: message '%s' lacks '%s'", json, err.msg, needle);
    }
    nninit_tensor_file_free(s ? NULL : tf);
}

static void test_safetensors_corrupt(void **state)
{
    (void)state;
    const char *ok = "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
    expect_st(ok, 8, NNINIT_OK, NULL);
    expect_st("  {\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],\"extra\":1}}\n\t ", 8, NNINIT_OK,
              NULL); /* whitespace and unknown fields, as the reference accepts */
    expect_st(ok, 7, NNINIT_EFORMAT, "truncated");
    expect_st(ok, 9, NNINIT_EFORMAT, "extra bytes");
    expect_st("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
              "\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}", 16, NNINIT_EFORMAT, "duplicate");
    expect_st("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
              "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, NNINIT_EFORMAT, "overlap");
    expect_st("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
              "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[12,20]}}", 20, NNINIT_EFORMAT, "holes");
    expect_st("{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8, NNINIT_EFORMAT, "exactly");
    expect_st("{\"w\":{\"dtype\":\"F33\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, NNINIT_EFORMAT, "dtype");
    expect_st("{\"w\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8, NNINIT_EFORMAT, "shape");
    expect_st("{\"w\":{\"dtype\":\"F32\",\"shape\":[2.0],\"data_offsets\":[0,8]}}", 8, NNINIT_EFORMAT, "shape");
    expect_st("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8,9]}}", 8, NNINIT_EFORMAT, "data_offsets");
    expect_st("{\"w\":{\"dtype\":\"F32\",\"shape\":[2]}}", 8, NNINIT_EFORMAT, "data_offsets");
    expect_st("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", 8, NNINIT_EFORMAT, NULL);
    expect_st("{\"w\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,4294967296],\"data_offsets\":[0,8]}}", 8,
              NNINIT_EOVERFLOW, "overflow");
    expect_st("{\"w\":{\"dtype\":\"F4\",\"shape\":[3],\"data_offsets\":[0,1]}}", 1, NNINIT_EFORMAT, "whole");
    expect_st("{\"__metadata__\":{\"format\":1}}", 0, NNINIT_EFORMAT, "not a string");
    expect_st("{\"__metadata__\":[]}", 0, NNINIT_EFORMAT, "__metadata__");
    expect_st("[1,2]", 0, NNINIT_EFORMAT, "object");
    expect_st("{\"w\":", 0, NNINIT_EFORMAT, "JSON");
    expect_st("{\"w\xff\":{}}", 0, NNINIT_EFORMAT, "JSON"); /* not UTF-8 */
    expect_st("{\"w\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,4]}}", 4,
              NNINIT_EUNSUPPORTED, "dimensions");

    /* The 8-byte length: too small a file, a length past the end, over 100 MB. */
    spit(tmp("c.safetensors"), "\x08\0\0\0", 4);
    nninit_tensor_file *tf;
    nninit_err err;
    assert_int_equal(nninit_tensor_file_open(tmp("c.safetensors"), &tf, &err), NNINIT_EFORMAT);
    assert_non_null(strstr(err.msg, "too small"));
    spit(tmp("c.safetensors"), "\x40\0\0\0\0\0\0\0{}", 10);
    assert_int_equal(nninit_tensor_file_open(tmp("c.safetensors"), &tf, &err), NNINIT_EFORMAT);
    assert_non_null(strstr(err.msg, "past the end"));
    spit(tmp("c.safetensors"), "\0\0\0\x10\0\0\0\0{}", 10);
    assert_int_equal(nninit_tensor_file_open(tmp("c.safetensors"), &tf, &err), NNINIT_EFORMAT);
    assert_non_null(strstr(err.msg, "limit"));
}

/* Every truncation and random byte changes of valid files: an error or a
 * consistent result, never a crash (ASan/UBSan in `make asan`). */
static void fuzz_file(const char *src_path, const char *name, int flips, size_t region)
{
    size_t len;
    unsigned char *good = slurp(src_path, &len);
    assert_non_null(good);
    unsigned char *b = malloc(len);
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (size_t cut = 0; cut < len; cut += (len > 400 ? 7 : 1)) {
        spit(tmp(name), good, cut);
        nninit_tensor_file *tf = NULL;
        nninit_err err;
        if (nninit_tensor_file_open(tmp(name), &tf, &err) == NNINIT_OK)
            nninit_tensor_file_free(tf);
    }
    for (int it = 0; it < flips; it++) {
        memcpy(b, good, len);
        for (int k = 0; k < 2; k++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            size_t pos = region && len > region ? len - 1 - (size_t)(x % region) : (size_t)(x % len);
            if (it & 1)
                pos = (size_t)(x % len);
            b[pos] = (unsigned char)(x >> 40);
        }
        spit(tmp(name), b, len);
        nninit_tensor_file *tf = NULL;
        nninit_err err;
        if (nninit_tensor_file_open(tmp(name), &tf, &err) == NNINIT_OK) {
            for (size_t i = 0; i < nninit_tensor_file_count(tf); i++) {
                const nninit_tensor_info *inf = nninit_tensor_file_info(tf, i);
                if (inf->nbytes > (1u << 20))
                    continue;
                void *out = malloc(inf->nbytes + 1);
                (void)nninit_tensor_file_read(tf, i, out, &err);
                free(out);
            }
            nninit_tensor_file_free(tf);
        }
    }
    free(b);
    free(good);
}

static void test_random_corruption(void **state)
{
    (void)state;
    char path[512];
    fuzz_file(tmp("rt.safetensors"), "f.safetensors", 600, 0);
    fuzz_file(test_fixture("io/numpy_savez.npz", path, sizeof path), "f.npz", 600, 150);
    fuzz_file(test_fixture("io/numpy_savez_compressed.npz", path, sizeof path), "fz.npz", 600, 150);
}

static void test_npz_crc_and_overlap(void **state)
{
    (void)state;
    char path[512];
    size_t len;
    unsigned char *b = slurp(test_fixture("io/numpy_savez.npz", path, sizeof path), &len);
    /* Flip the last data byte of member a (a float of the 3x4 array): the
     * open succeeds (headers intact), the read fails its CRC. */
    size_t pos = 0;
    for (size_t i = 0; i + 4 <= len; i++)
        if (!memcmp(b + i, "\x00\x00\x80\x3f", 4)) /* 1.0f, element 10 of a */
            pos = i;
    assert_true(pos > 0);
    b[pos + 1] ^= 1;
    spit(tmp("crc.npz"), b, len);
    nninit_tensor_file *tf;
    nninit_err err;
    assert_ok(nninit_tensor_file_open(tmp("crc.npz"), &tf, &err), &err);
    float out[12];
    assert_int_equal(nninit_tensor_file_read(tf, 0, out, &err), NNINIT_EFORMAT);
    assert_non_null(strstr(err.msg, "CRC"));
    nninit_tensor_file_free(tf);
    free(b);
    /* Two central entries pointing at the same member. */
    b = slurp(test_fixture("io/numpy_savez.npz", path, sizeof path), &len);
    size_t c1 = 0, c2 = 0;
    for (size_t i = 0; i + 4 <= len; i++)
        if (!memcmp(b + i, "PK\x01\x02", 4)) {
            if (!c1)
                c1 = i;
            else
                c2 = i;
        }
    memcpy(b + c2 + 42, b + c1 + 42, 4); /* b's local header offset := a's */
    spit(tmp("ov.npz"), b, len);
    assert_int_equal(nninit_tensor_file_open(tmp("ov.npz"), &tf, &err), NNINIT_EFORMAT);
    free(b);
}

/* ---- rounding: torch 1.13 (float32 -> bf16/f16), NumPy (float64 -> f16) ---- */

static void test_rounding_matches_torch(void **state)
{
    (void)state;
    char path[512];
    FILE *f = fopen(test_fixture("io/round_f32.txt", path, sizeof path), "r");
    assert_non_null(f);
    char line[128];
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        unsigned x, bf, hf;
        if (line[0] == '#' || sscanf(line, "%x %x %x", &x, &bf, &hf) != 3)
            continue;
        float v;
        uint32_t u = x;
        memcpy(&v, &u, 4);
        uint16_t got_bf, got_hf;
        nninit_err err;
        assert_ok(nninit_convert(NNINIT_FD_F32, &v, NNINIT_FD_BF16, &got_bf, 1, &err), &err);
        assert_ok(nninit_convert(NNINIT_FD_F32, &v, NNINIT_FD_F16, &got_hf, 1, &err), &err);
        if (got_bf != bf || got_hf != hf)
            fail_msg("f32 %08x: bf16 %04x (torch %04x), f16 %04x (torch %04x)", x, got_bf, bf, got_hf, hf);
        n++;
    }
    fclose(f);
    assert_true(n > 200);
    f = fopen(test_fixture("io/round_f64.txt", path, sizeof path), "r");
    assert_non_null(f);
    n = 0;
    while (fgets(line, sizeof line, f)) {
        unsigned long long x;
        unsigned hf;
        if (line[0] == '#' || sscanf(line, "%llx %x", &x, &hf) != 2)
            continue;
        double v;
        uint64_t u = x;
        memcpy(&v, &u, 8);
        uint16_t got;
        nninit_err err;
        assert_ok(nninit_convert(NNINIT_FD_F64, &v, NNINIT_FD_F16, &got, 1, &err), &err);
        if (got != hf)
            fail_msg("f64 %016llx: f16 %04x (numpy %04x)", x, got, hf);
        n++;
    }
    fclose(f);
    assert_true(n > 100);
    /* One rounding from float64: 1 + 2^-11 + 2^-40 lies above the f16
     * midpoint 1 + 2^-11, so it rounds up; through float32 the 2^-40 is
     * lost, leaving the exact tie, which goes to even (1.0). */
    double v = 1.0 + 0x1p-11 + 0x1p-40;
    uint16_t once;
    nninit_convert(NNINIT_FD_F64, &v, NNINIT_FD_F16, &once, 1, NULL);
    assert_int_equal(once, 0x3c01);
    float vf = (float)v;
    uint16_t twice;
    nninit_convert(NNINIT_FD_F32, &vf, NNINIT_FD_F16, &twice, 1, NULL);
    assert_int_equal(twice, 0x3c00);
    /* NaN stays NaN with its sign; ints convert exactly. */
    float nan = -NAN;
    uint16_t h;
    nninit_convert(NNINIT_FD_F32, &nan, NNINIT_FD_BF16, &h, 1, NULL);
    assert_true((h & 0x7f80) == 0x7f80 && (h & 0x7f) && (h & 0x8000));
    int64_t big = -123456789;
    double dv;
    assert_int_equal(nninit_convert(NNINIT_FD_I64, &big, NNINIT_FD_F64, &dv, 1, NULL), NNINIT_OK);
    assert_true(dv == -123456789.0);
    assert_int_equal(nninit_convert(NNINIT_FD_F32, f6, NNINIT_FD_I32, &dv, 1, NULL), NNINIT_EUNSUPPORTED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_safetensors_known_answer),
        cmocka_unit_test(test_safetensors_order),
        cmocka_unit_test(test_write_rejects_bad_names),
        cmocka_unit_test(test_sharding),
        cmocka_unit_test(test_round_trips),
        cmocka_unit_test(test_read_numpy_npz),
        cmocka_unit_test(test_npz_zip64_count),
        cmocka_unit_test(test_safetensors_corrupt),
        cmocka_unit_test(test_random_corruption),
        cmocka_unit_test(test_npz_crc_and_overlap),
        cmocka_unit_test(test_rounding_matches_torch),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
