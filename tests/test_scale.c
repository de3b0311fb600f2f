/* Scale: tensor-parallel slices equal the whole tensor's slices (every dim,
 * even and uneven splits, structured initializers); a model write split
 * into parts (what each MPI rank runs) gives the bytes of the one-process
 * write for any number of parts and threads, in safetensors (single and
 * sharded) and npz; a failed part leaves nothing under the final name.
 * A torch generator's tensor drawn in pieces of any size gives the bytes of
 * the one-call fill and leaves the generator where the one-call fill does;
 * a model written under it in small chunks gives the default write's bytes. */
#include "util.h"

#include "init/internal.h"

#include <dirent.h>
#include <pthread.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

static char tmpdir[256];

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/nninit_test_scale_XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    test_clear_dir(tmpdir);
    rmdir(tmpdir);
    return 0;
}

static size_t count_files(void)
{
    size_t n = 0;
    DIR *d = opendir(tmpdir);
    struct dirent *e;
    while (d && (e = readdir(d)))
        n += e->d_name[0] != '.' || (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."));
    if (d)
        closedir(d);
    return n;
}

static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc(*len ? *len : 1);
    assert_int_equal(fread(b, 1, *len, f), *len);
    fclose(f);
    return b;
}

/* Copies slice [start, start+len) along dim of a C-order tensor (es-byte elements). */
static void cut(const unsigned char *full, const nninit_shape *sh, int dim, int64_t start, int64_t len, size_t es,
                unsigned char *out)
{
    int64_t outer = 1, inner = 1;
    for (int d = 0; d < dim; d++)
        outer *= sh->dim[d];
    for (int d = dim + 1; d < sh->ndim; d++)
        inner *= sh->dim[d];
    for (int64_t o = 0; o < outer; o++)
        memcpy(out + (size_t)(o * len * inner) * es, full + (size_t)((o * sh->dim[dim] + start) * inner) * es,
               (size_t)(len * inner) * es);
}

static void test_slice_bounds(void **state)
{
    (void)state;
    int64_t start, len;
    /* torch.tensor_split(torch.arange(10), 4): sizes 3, 3, 2, 2 */
    const int64_t want_start[4] = {0, 3, 6, 8}, want_len[4] = {3, 3, 2, 2};
    for (int k = 0; k < 4; k++) {
        assert_int_equal(nninit_slice_bounds(10, k, 4, &start, &len, NULL), NNINIT_OK);
        assert_int_equal(start, want_start[k]);
        assert_int_equal(len, want_len[k]);
    }
    /* more slices than elements: the last ones are empty */
    assert_int_equal(nninit_slice_bounds(2, 3, 4, &start, &len, NULL), NNINIT_OK);
    assert_int_equal(len, 0);
    assert_int_equal(start, 2);
    assert_int_equal(nninit_slice_bounds(10, 4, 4, &start, &len, NULL), NNINIT_EINVAL);
    assert_int_equal(nninit_slice_bounds(10, 0, 0, &start, &len, NULL), NNINIT_EINVAL);
}

static void test_fill_slice_equals_slice(void **state)
{
    (void)state;
    const char *specs[] = {"he_normal", "truncated_normal", "glorot_uniform", "orthogonal", "sparse_(sparsity=0.3)",
                           "identity"};
    const nninit_shape shapes[] = {{1, {7}}, {2, {5, 3}}, {2, {64, 33}}, {3, {4, 6, 5}}, {4, {2, 3, 4, 5}},
                                   {2, {3, 1}}};
    const int counts[] = {1, 2, 3, 4, 7};
    nninit_rng *rng = NULL;
    nninit_err err = {0};
    assert_ok(nninit_rng_new(NNINIT_RNG_PHILOX, 42, &rng, &err), &err);
    int checked = 0;
    for (size_t si = 0; si < sizeof specs / sizeof *specs; si++)
        for (size_t hi = 0; hi < sizeof shapes / sizeof *shapes; hi++) {
            const nninit_shape *sh = &shapes[hi];
            nninit_init init;
            assert_ok(nninit_init_parse(specs[si], &init, &err), &err);
            for (int dt = 0; dt < 2; dt++) {
                nninit_fill_opts fo = nninit_fill_opts_default();
                fo.dtype = dt ? NNINIT_F64 : NNINIT_F32;
                fo.stream = 7;
                fo.threads = 1 + (int)(hi % 3);
                size_t es = nninit_dtype_size(fo.dtype);
                int64_t numel;
                nninit_shape_numel(sh, &numel, NULL);
                unsigned char *full = malloc((size_t)numel * es), *want = malloc((size_t)numel * es + 1),
                              *got = malloc((size_t)numel * es + 1);
                nninit_status s = nninit_fill(&init, sh, &fo, rng, full, &err);
                if (s != NNINIT_OK) { /* e.g. sparse_ or identity of a shape they do not take: the slice refuses too */
                    assert_int_not_equal(nninit_fill_slice(&init, sh, &fo, rng, 0, 0, 1, got, NULL), NNINIT_OK);
                    free(full), free(want), free(got);
                    continue;
                }
                for (int dim = 0; dim < sh->ndim; dim++)
                    for (size_t ci = 0; ci < sizeof counts / sizeof *counts; ci++)
                        for (int k = 0; k < counts[ci]; k++) {
                            int64_t start, len;
                            assert_ok(nninit_slice_bounds(sh->dim[dim], k, counts[ci], &start, &len, &err), &err);
                            cut(full, sh, dim, start, len, es, want);
                            memset(got, 0xa5, (size_t)numel * es + 1);
                            assert_ok(nninit_fill_slice(&init, sh, &fo, rng, dim, k, counts[ci], got, &err), &err);
                            size_t nb = (size_t)(numel / sh->dim[dim] * len) * es;
                            if (memcmp(got, want, nb))
                                fail_msg("%s dim %d slice %d/%d differs from the whole tensor's", specs[si], dim, k,
                                         counts[ci]);
                            assert_int_equal(got[nb], 0xa5); /* nothing written past the slice */
                            checked++;
                        }
                free(full), free(want), free(got);
            }
        }
    assert_true(checked > 1000);
    nninit_rng_free(rng);
    /* a torch generator refuses, with the reason */
    nninit_rng *torch = NULL;
    assert_ok(nninit_rng_new(NNINIT_RNG_TORCH, 0, &torch, &err), &err);
    nninit_init init;
    nninit_init_parse("he_normal", &init, NULL);
    nninit_shape sh = {2, {4, 4}};
    nninit_fill_opts fo = nninit_fill_opts_default();
    float out[16];
    assert_int_equal(nninit_fill_slice(&init, &sh, &fo, torch, 0, 0, 2, out, &err), NNINIT_EUNSUPPORTED);
    assert_non_null(strstr(err.msg, "sequential"));
    assert_int_equal(nninit_fill_slice(&init, &sh, &fo, torch, 2, 0, 2, out, &err), NNINIT_EUNSUPPORTED);
    nninit_rng_free(torch);
}

/* A model with chunked, structured, padded and empty tensors. */
static nninit_model *test_model(void)
{
    const char *recipe = "Net(emb=Embedding(3001, 20, padding_idx=7), fc=Linear(150, 401), "
                         "conv=Conv2d(3, 5, 3), rnn=GRU(6, 5), norm=LayerNorm(9), empty=Linear(0, 3))";
    nninit_model *m = NULL;
    nninit_err err = {0};
    assert_ok(nninit_model_from_torch(recipe, &m, &err), &err);
    assert_ok(nninit_model_override(m, "conv.weight", "orthogonal", &err), &err);
    assert_ok(nninit_model_override(m, "rnn.weight_hh_l0", "sparse_(sparsity=0.5)", &err), &err);
    return m;
}

static void test_model_slices(void **state)
{
    (void)state;
    nninit_model *m = test_model();
    nninit_err err = {0};
    char full_path[400], part_path[400];
    snprintf(full_path, sizeof full_path, "%s/full.npz", tmpdir);
    snprintf(part_path, sizeof part_path, "%s/part.safetensors", tmpdir);
    nninit_model_opts o = nninit_model_opts_default();
    o.write.format = NNINIT_FORMAT_NPZ;
    o.dtype = NNINIT_FD_BF16;
    o.memory_limit = 1 << 16; /* small chunks: many per tensor */
    assert_ok(nninit_model_write(m, full_path, &o, &err), &err);
    nninit_tensor_file *full = NULL;
    assert_ok(nninit_tensor_file_open(full_path, &full, &err), &err);
    const int counts[] = {2, 3, 4};
    for (int dim = 0; dim < 3; dim++)
        for (size_t ci = 0; ci < 3; ci++)
            for (int k = 0; k < counts[ci]; k++) {
                nninit_model_opts so = o;
                so.write.format = NNINIT_FORMAT_SAFETENSORS;
                so.write.max_shard_size = k == 1 ? 40000 : 0;
                so.slice_dim = dim;
                so.slice_index = k;
                so.slice_count = counts[ci];
                so.threads = 1 + k % 2;
                assert_ok(nninit_model_write(m, part_path, &so, &err), &err);
                nninit_tensor_file *part = NULL;
                char open_path[420];
                snprintf(open_path, sizeof open_path, "%s%s", part_path, k == 1 ? ".index.json" : "");
                assert_ok(nninit_tensor_file_open(open_path, &part, &err), &err);
                char want_meta[64];
                snprintf(want_meta, sizeof want_meta, "%d:%d/%d", dim, k, counts[ci]);
                assert_string_equal(nninit_tensor_file_metadata(part, "nninit.slice"), want_meta);
                assert_int_equal(nninit_tensor_file_count(part), nninit_tensor_file_count(full));
                for (size_t i = 0; i < nninit_tensor_file_count(full); i++) {
                    const nninit_tensor_info *fi = nninit_tensor_file_info(full, i);
                    size_t j;
                    assert_ok(nninit_tensor_file_find(part, fi->name, &j, &err), &err);
                    const nninit_tensor_info *pi = nninit_tensor_file_info(part, j);
                    unsigned char *fb = malloc(fi->nbytes + 1), *pb = malloc(pi->nbytes + 1), *want = malloc(fi->nbytes + 1);
                    assert_ok(nninit_tensor_file_read(full, i, fb, &err), &err);
                    assert_ok(nninit_tensor_file_read(part, j, pb, &err), &err);
                    size_t es = (size_t)nninit_file_dtype_bits(fi->dtype) / 8;
                    if (fi->shape.ndim > dim) {
                        int64_t start, len;
                        nninit_slice_bounds(fi->shape.dim[dim], k, counts[ci], &start, &len, NULL);
                        assert_int_equal(pi->shape.dim[dim], len);
                        cut(fb, &fi->shape, dim, start, len, es, want);
                    } else { /* fewer dimensions: whole */
                        memcpy(want, fb, fi->nbytes);
                        assert_int_equal(pi->nbytes, fi->nbytes);
                    }
                    if (memcmp(pb, want, pi->nbytes))
                        fail_msg("%s: slice %d/%d along %d differs from the whole tensor's", fi->name, k, counts[ci],
                                 dim);
                    free(fb), free(pb), free(want);
                }
                nninit_tensor_file_free(part);
                test_clear_dir(tmpdir);
                assert_ok(nninit_model_write(m, full_path, &o, &err), &err);
            }
    nninit_tensor_file_free(full);
    /* the torch generator refuses slices, saying why */
    nninit_model_opts to = o;
    to.rng = NNINIT_RNG_TORCH;
    to.slice_count = 2;
    assert_int_equal(nninit_model_write(m, part_path, &to, &err), NNINIT_EUNSUPPORTED);
    assert_non_null(strstr(err.msg, "sequential"));
    nninit_model_free(m);
    test_clear_dir(tmpdir);
}

static nninit_status injected(nninit_err *err)
{
    if (err) {
        err->code = NNINIT_EIO;
        snprintf(err->msg, sizeof err->msg, "part failed (injected)");
    }
    return NNINIT_EIO;
}

/* The write split into n_parts jobs in this process, as MPI ranks run it. */
static nninit_status write_in_parts(const nninit_model *m, const char *path, const nninit_model_opts *o, int n_parts,
                                    int failing_part, nninit_err *err)
{
    nninit_model_job *jobs[8] = {NULL};
    char *handle = NULL;
    nninit_status s = NNINIT_OK;
    for (int p = 0; p < n_parts && !s; p++) {
        nninit_model_opts po = *o;
        po.threads = 1 + p % 2; /* parts with different thread counts */
        s = nninit_model_job_new(m, path, &po, &jobs[p], err);
    }
    if (!s)
        s = nninit_model_job_create(jobs[0], &handle, err);
    for (int p = 1; p < n_parts && !s; p++)
        s = nninit_model_job_attach(jobs[p], handle, err);
    size_t units = s ? 0 : nninit_model_job_units(jobs[0]);
    uint32_t *merged = calloc(units ? units : 1, sizeof *merged);
    size_t covered = 0;
    for (int p = n_parts - 1; p >= 0 && !s; p--) { /* any order */
        size_t b, e;
        nninit_model_job_share(jobs[p], p, n_parts, &b, &e);
        covered += e - b;
        if (p == failing_part) {
            s = injected(err);
            break;
        }
        s = nninit_model_job_run(jobs[p], b, e, err);
        const uint32_t *c = nninit_model_job_checksums(jobs[p]);
        for (size_t u = 0; u < units; u++)
            merged[u] |= c[u];
    }
    if (!s)
        assert_int_equal(covered, units);
    for (int p = 1; p < n_parts && !s; p++)
        s = nninit_model_job_finish(jobs[p], NULL, err);
    if (!s)
        s = nninit_model_job_finish(jobs[0], merged, err);
    for (int p = 0; p < n_parts; p++)
        nninit_model_job_free(jobs[p]);
    nninit_free(handle);
    free(merged);
    return s;
}

/* Every file in tmpdir as "name\0bytes..." concatenated in name order. */
static unsigned char *snapshot(size_t *len)
{
    struct dirent **names = NULL;
    int n = scandir(tmpdir, &names, NULL, alphasort);
    assert_true(n >= 0);
    unsigned char *all = NULL;
    *len = 0;
    for (int i = 0; i < n; i++) {
        if (names[i]->d_name[0] != '.') {
            char p[600];
            size_t fl, nl = strlen(names[i]->d_name) + 1;
            snprintf(p, sizeof p, "%s/%s", tmpdir, names[i]->d_name);
            unsigned char *b = slurp(p, &fl);
            all = realloc(all, *len + nl + fl);
            memcpy(all + *len, names[i]->d_name, nl);
            memcpy(all + *len + nl, b, fl);
            *len += nl + fl;
            free(b);
        } else if (strcmp(names[i]->d_name, ".") && strcmp(names[i]->d_name, "..")) {
            fail_msg("a hidden file (temporary) was left: %s", names[i]->d_name);
        }
        free(names[i]);
    }
    free(names);
    return all;
}

static void test_parts_equal_one_process(void **state)
{
    (void)state;
    nninit_model *m = test_model();
    nninit_err err = {0};
    char path[400];
    struct { nninit_file_format format; uint64_t max_shard; nninit_file_dtype dtype; } cases[] = {
        {NNINIT_FORMAT_SAFETENSORS, 0, NNINIT_FD_F32},
        {NNINIT_FORMAT_SAFETENSORS, 30000, NNINIT_FD_F16},
        {NNINIT_FORMAT_NPZ, 0, NNINIT_FD_F64},
    };
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++)
        for (int n_parts = 1; n_parts <= 4; n_parts++) {
            snprintf(path, sizeof path, "%s/m.%s", tmpdir,
                     cases[c].format == NNINIT_FORMAT_NPZ ? "npz" : "safetensors");
            nninit_model_opts o = nninit_model_opts_default();
            o.write.format = cases[c].format;
            o.write.max_shard_size = cases[c].max_shard;
            o.dtype = cases[c].dtype;
            o.memory_limit = 1 << 16; /* chunks of 4096 elements: tensors split across parts */
            o.threads = 3;
            assert_ok(nninit_model_write(m, path, &o, &err), &err);
            size_t l1, l2;
            unsigned char *one = snapshot(&l1);
            if (cases[c].max_shard)
                assert_true(count_files() > 2); /* shards and the index */
            test_clear_dir(tmpdir);
            assert_ok(write_in_parts(m, path, &o, n_parts, -1, &err), &err);
            unsigned char *parts = snapshot(&l2);
            if (l1 != l2 || memcmp(one, parts, l1))
                fail_msg("%s in %d parts differs from the one-process write", path, n_parts);
            free(one);
            free(parts);
            /* a failing part: nothing under the final name, no temporary */
            test_clear_dir(tmpdir);
            assert_int_equal(write_in_parts(m, path, &o, n_parts, n_parts - 1, &err), NNINIT_EIO);
            assert_int_equal(count_files(), 0);
        }
    /* the first write leaves nothing behind when it fails, and a second one over an existing file keeps it */
    nninit_model_opts o = nninit_model_opts_default();
    snprintf(path, sizeof path, "%s/keep.safetensors", tmpdir);
    assert_ok(nninit_model_write(m, path, &o, &err), &err);
    size_t l1, l2;
    unsigned char *before = snapshot(&l1);
    o.seed = 5;
    assert_int_equal(write_in_parts(m, path, &o, 3, 1, &err), NNINIT_EIO);
    unsigned char *after = snapshot(&l2);
    assert_true(l1 == l2 && !memcmp(before, after, l1));
    free(before);
    free(after);
    test_clear_dir(tmpdir);
    nninit_model_free(m);
}

static void test_memory_limit(void **state)
{
    (void)state;
    nninit_model *m = test_model();
    nninit_err err = {0};
    char path[400];
    snprintf(path, sizeof path, "%s/lim.safetensors", tmpdir);
    nninit_model_opts o = nninit_model_opts_default();
    o.memory_limit = 1000; /* the orthogonal conv kernel (5, 3, 3, 3) needs more */
    assert_int_equal(nninit_model_write(m, path, &o, &err), NNINIT_ENOMEM);
    assert_non_null(strstr(err.msg, "conv.weight"));
    assert_non_null(strstr(err.msg, "orthogonal"));
    assert_int_equal(count_files(), 0); /* refused before any file was created */
    o.memory_limit = 1 << 20;
    assert_ok(nninit_model_write(m, path, &o, &err), &err);
    nninit_model_free(m);
    test_clear_dir(tmpdir);
}

/* std of n float32 values */
static double std_of(const float *x, size_t n)
{
    double mean = 0, ss = 0;
    for (size_t i = 0; i < n; i++)
        mean += x[i];
    mean /= (double)n;
    for (size_t i = 0; i < n; i++)
        ss += (x[i] - mean) * (x[i] - mean);
    return sqrt(ss / (double)n);
}

static void test_gpt_family(void **state)
{
    (void)state;
    nninit_model *m = NULL;
    nninit_err err = {0};
    assert_ok(nninit_model_from_family("gpt:layers=2,d_model=64,heads=4,vocab=1000,ctx=128", &m, &err), &err);
    /* wte, wpe, 12 per layer, ln_f */
    assert_int_equal(nninit_model_count(m), 2 + 12 * 2 + 2);
    int64_t params = 0, d = 64;
    void *out[64] = {NULL};
    for (size_t i = 0; i < nninit_model_count(m); i++) {
        nninit_model_tensor t;
        nninit_model_tensor_at(m, i, &t);
        int64_t n;
        nninit_shape_numel(&t.shape, &n, NULL);
        params += n;
        out[i] = malloc((size_t)n * sizeof(float));
    }
    /* vocab*d + ctx*d + L*(12 d^2 + 13 d) + 2d */
    assert_int_equal(params, 1000 * d + 128 * d + 2 * (12 * d * d + 13 * d) + 2 * d);
    nninit_rng *rng = NULL;
    assert_ok(nninit_rng_new(NNINIT_RNG_PHILOX, 1, &rng, &err), &err);
    assert_ok(nninit_model_fill(m, rng, NULL, NNINIT_F32, 0, out, &err), &err);
    /* GPT-2's rules: weights std 0.02, residual projections 0.02/sqrt(2L) =
     * 0.01, biases 0, layer norms 1. A sample std of n normals has relative
     * standard error 1/sqrt(2n) (0.0055 for the 16384-element c_proj); 5 of
     * them (2.8%) separate 0.01 from 0.02 and from 0.02/sqrt(L) = 0.0141. */
    struct { const char *name; double std; int64_t n; } want[] = {
        {"wte.weight", 0.02, 1000 * 64}, {"h.1.attn.c_attn.weight", 0.02, 64 * 192},
        {"h.0.attn.c_proj.weight", 0.01, 64 * 64}, {"h.1.mlp.c_proj.weight", 0.01, 256 * 64},
    };
    for (size_t w = 0; w < sizeof want / sizeof *want; w++)
        for (size_t i = 0; i < nninit_model_count(m); i++) {
            nninit_model_tensor t;
            nninit_model_tensor_at(m, i, &t);
            if (strcmp(t.name, want[w].name))
                continue;
            double tol = 5.0 / sqrt(2.0 * (double)want[w].n) * want[w].std;
            assert_close(std_of(out[i], (size_t)want[w].n), want[w].std, tol);
        }
    for (size_t i = 0; i < nninit_model_count(m); i++) {
        nninit_model_tensor t;
        nninit_model_tensor_at(m, i, &t);
        const float *v = out[i];
        if (strstr(t.name, "bias"))
            assert_true(v[0] == 0.0f && v[t.shape.dim[0] - 1] == 0.0f);
        if (strstr(t.name, "ln_") && strstr(t.name, "weight"))
            assert_true(v[0] == 1.0f && v[t.shape.dim[0] - 1] == 1.0f);
        if (!strcmp(t.name, "h.0.mlp.c_fc.weight")) /* Conv1D: (in, out) */
            assert_true(t.shape.dim[0] == 64 && t.shape.dim[1] == 256);
        free(out[i]);
    }
    nninit_rng_free(rng);
    nninit_model_free(m);
    assert_int_equal(nninit_model_from_family("gpt:layers=2,d_model=64,heads=5", &m, &err), NNINIT_EINVAL);
    assert_non_null(strstr(err.msg, "multiple of heads"));
    assert_int_equal(nninit_model_from_family("gpt:layers=2,width=64", &m, &err), NNINIT_EINVAL);
    assert_non_null(strstr(err.msg, "unknown parameter 'width'"));
    assert_int_equal(nninit_model_from_family("gpt:layers=2,heads=4", &m, &err), NNINIT_EINVAL);
    assert_non_null(strstr(err.msg, "d_model=N is required"));
    assert_int_equal(nninit_model_from_family("llama:layers=2", &m, &err), NNINIT_EINVAL);
    assert_non_null(strstr(err.msg, "unknown"));
}

/* A torch tensor in pieces of `piece` elements equals the one-call fill,
 * and the generator is left in the same state (the next draw, a 33-element
 * normal_, agrees too). */
static void check_pieces(nninit_rng_kind kind, nninit_dtype dtype, const char *spec, const nninit_shape *sh,
                         int64_t piece)
{
    nninit_err err = {0};
    nninit_init init;
    assert_ok(nninit_init_parse(spec, &init, &err), &err);
    nninit_fill_opts fo = nninit_fill_opts_default();
    fo.layout = NNINIT_LAYOUT_TORCH;
    fo.dtype = dtype;
    int64_t n;
    nninit_shape_numel(sh, &n, NULL);
    size_t es = nninit_dtype_size(dtype);
    unsigned char *whole = malloc((size_t)n * es + 1), *pieces = malloc((size_t)n * es + 1);
    nninit_rng *a = NULL, *b = NULL;
    assert_ok(nninit_rng_new(kind, 77, &a, &err), &err);
    assert_ok(nninit_rng_new(kind, 77, &b, &err), &err);
    /* start mid-twist with a cached normal, as inside a model */
    nninit_shape three = {1, {3}};
    nninit_init normal;
    assert_ok(nninit_init_parse("normal_", &normal, &err), &err);
    double pre[3];
    nninit_fill_opts f64 = fo;
    f64.dtype = NNINIT_F64;
    assert_ok(nninit_fill(&normal, &three, &f64, a, pre, &err), &err);
    assert_ok(nninit_fill(&normal, &three, &f64, b, pre, &err), &err);

    assert_ok(nninit_fill(&init, sh, &fo, a, whole, &err), &err);
    nninit__draw d;
    assert_ok(nninit__draw_begin(&d, &init, sh, &fo, b, NULL, &err), &err);
    for (int64_t at = 0; at < n;) {
        int64_t k = n - at < piece ? n - at : piece;
        assert_ok(nninit__draw_next(&d, pieces + (size_t)at * es, k, &err), &err);
        at += k;
    }
    assert_int_equal(nninit__draw_next(&d, pieces, 1, &err), NNINIT_EMISUSE); /* past the end */
    nninit__draw_end(&d);
    if (memcmp(whole, pieces, (size_t)n * es))
        fail_msg("%s, %lld elements, %s, %s: pieces of %lld differ from the one-call fill", spec, (long long)n,
                 nninit_rng_kind_name(kind), nninit_dtype_name(dtype), (long long)piece);
    nninit_shape after = {1, {33}};
    double na[33], nb[33];
    assert_ok(nninit_fill(&normal, &after, &f64, a, na, &err), &err);
    assert_ok(nninit_fill(&normal, &after, &f64, b, nb, &err), &err);
    if (memcmp(na, nb, sizeof na))
        fail_msg("%s, %lld elements, pieces of %lld: the generator is not where the one-call fill leaves it", spec,
                 (long long)n, (long long)piece);
    nninit_rng_free(a);
    nninit_rng_free(b);
    free(whole);
    free(pieces);
}

static void test_torch_pieces(void **state)
{
    (void)state;
    /* numel % 16 in {0, 1, 15}, below 16, and around the 624-word twist */
    static const int64_t numels[] = {1, 7, 15, 16, 17, 31, 32, 33, 47, 48, 49, 100, 257, 640, 1249};
    static const int64_t pieces[] = {1, 5, 16, 17, 40, 1 << 20};
    static const char *const element_wise[] = {"uniform_(a=-0.5, b=2)", "normal_(mean=1, std=3)",
                                               "trunc_normal_(std=0.5, a=-0.3, b=1)", "kaiming_uniform_",
                                               "kaiming_normal_", "xavier_uniform_", "xavier_normal_",
                                               "constant_(val=0.25)", "he_normal", "glorot_uniform"};
    static const nninit_rng_kind kinds[] = {NNINIT_RNG_TORCH_AVX2, NNINIT_RNG_TORCH_DEFAULT, NNINIT_RNG_TORCH2_AVX2};
    static const nninit_dtype dtypes[] = {NNINIT_F32, NNINIT_F64};
    const char *simd = getenv("NNINIT_SIMD");
    char *saved = simd ? strdup(simd) : NULL;
    for (int path = 0; path < 2; path++) { /* the AVX2 kernels where the CPU has them, then the reference */
        if (path == 1)
            setenv("NNINIT_SIMD", "scalar", 1);
        for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++)
            for (size_t t = 0; t < sizeof dtypes / sizeof *dtypes; t++)
                for (size_t i = 0; i < sizeof element_wise / sizeof *element_wise; i++)
                    for (size_t z = 0; z < sizeof numels / sizeof *numels; z++)
                        for (size_t p = 0; p < sizeof pieces / sizeof *pieces; p++) {
                            if (kinds[k] == NNINIT_RNG_TORCH2_AVX2 &&
                                (strstr(element_wise[i], "trunc") || !strcmp(element_wise[i], "he_normal")))
                                continue; /* 2.12's truncated normal (rejection) is refused */
                            nninit_shape sh = {2, {numels[z] % 2 ? 1 : 2, numels[z] % 2 ? numels[z] : numels[z] / 2}};
                            check_pieces(kinds[k], dtypes[t], element_wise[i], &sh, pieces[p]);
                        }
        /* positional and whole-drawn primitives */
        nninit_shape mat = {2, {9, 13}}, conv = {4, {6, 4, 3, 3}};
        for (size_t t = 0; t < 2; t++)
            for (size_t p = 0; p < sizeof pieces / sizeof *pieces; p++) {
                check_pieces(NNINIT_RNG_TORCH_AVX2, dtypes[t], "eye_", &mat, pieces[p]);
                check_pieces(NNINIT_RNG_TORCH_AVX2, dtypes[t], "dirac_(groups=2)", &conv, pieces[p]);
                check_pieces(NNINIT_RNG_TORCH_DEFAULT, dtypes[t], "orthogonal_", &mat, pieces[p]);
                check_pieces(NNINIT_RNG_TORCH_DEFAULT, dtypes[t], "sparse_(sparsity=0.3)", &mat, pieces[p]);
                check_pieces(NNINIT_RNG_TORCH_AVX2, dtypes[t], "identity", &mat, pieces[p]);
            }
    }
    if (saved)
        setenv("NNINIT_SIMD", saved, 1);
    else
        unsetenv("NNINIT_SIMD");
    free(saved);
}

static uint32_t le32(const unsigned char *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static unsigned le16(const unsigned char *p) { return (unsigned)p[0] | (unsigned)p[1] << 8; }

/* Each member's local header against the central directory (a small zip,
 * no zip64, no comment): a file has the CRC and sizes in the local header;
 * a stream has general purpose bit 3, zeros there, and the data descriptor
 * after the data. */
static void check_zip_members(const unsigned char *z, size_t len, int stream)
{
    assert_true(len >= 22 && le32(z + len - 22) == 0x06054b50u);
    size_t n = le16(z + len - 22 + 10), at = le32(z + len - 22 + 16);
    assert_true(n > 0);
    for (size_t i = 0; i < n; i++) {
        const unsigned char *c = z + at;
        assert_true(le32(c) == 0x02014b50u);
        uint32_t crc = le32(c + 16), csize = le32(c + 20), usize = le32(c + 24), off = le32(c + 42);
        unsigned flags = le16(c + 8), nl = le16(c + 28), xl = le16(c + 30), cl = le16(c + 32);
        const unsigned char *l = z + off;
        assert_true(le32(l) == 0x04034b50u && le16(l + 6) == flags && flags == (stream ? 8u : 0u));
        if (stream) {
            assert_true(le32(l + 14) == 0 && le32(l + 18) == 0 && le32(l + 22) == 0);
            const unsigned char *dd = l + 30 + le16(l + 26) + le16(l + 28) + csize;
            assert_true(le32(dd) == 0x08074b50u && le32(dd + 4) == crc && le32(dd + 8) == csize &&
                        le32(dd + 12) == usize);
        } else {
            assert_true(le32(l + 14) == crc && le32(l + 18) == csize && le32(l + 22) == usize);
        }
        at += 46 + nl + xl + cl;
    }
}

/* Every tensor of a file (or npy folder) as "name\0dtype shape bytes"
 * concatenated in name order, read back through nninit's reader (npz CRCs
 * checked). */
static unsigned char *tensors_of(const char *path, size_t *len)
{
    nninit_tensor_file *tf = NULL;
    nninit_err err = {0};
    assert_ok(nninit_tensor_file_open(path, &tf, &err), &err);
    size_t n = nninit_tensor_file_count(tf), *order = malloc((n + 1) * sizeof *order);
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    for (size_t i = 1; i < n; i++) /* insertion sort by name */
        for (size_t j = i; j > 0 && strcmp(nninit_tensor_file_info(tf, order[j - 1])->name,
                                           nninit_tensor_file_info(tf, order[j])->name) > 0; j--) {
            size_t x = order[j];
            order[j] = order[j - 1];
            order[j - 1] = x;
        }
    unsigned char *all = NULL;
    *len = 0;
    for (size_t k = 0; k < n; k++) {
        const nninit_tensor_info *ti = nninit_tensor_file_info(tf, order[k]);
        size_t nl = strlen(ti->name) + 1, head = nl + sizeof ti->dtype + sizeof ti->shape;
        all = realloc(all, *len + head + ti->nbytes + 1);
        memcpy(all + *len, ti->name, nl);
        memcpy(all + *len + nl, &ti->dtype, sizeof ti->dtype);
        memcpy(all + *len + nl + sizeof ti->dtype, &ti->shape, sizeof ti->shape);
        assert_ok(nninit_tensor_file_read(tf, order[k], all + *len + head, &err), &err);
        *len += head + ti->nbytes;
    }
    free(order);
    nninit_tensor_file_free(tf);
    return all;
}

/* Models written in chunks of a few elements equal the default write
 * (chunks far larger than any tensor here), under a torch generator
 * (construction order: copies from TransformerEncoder clones, phantoms, a
 * padding row, LSTMs) and Philox (an orthogonal tensor generated whole,
 * written in pieces), through the positioned writers (safetensors, npz) and
 * the file-order ones (npz-deflated, npy-dir, which then also take the
 * tensors in pieces of a few elements), byte for byte. */
static void test_model_chunks(void **state)
{
    (void)state;
    static const char *const recipes[] = {
        "Net(emb=Embedding(50, 7, padding_idx=3), rnn=LSTM(7, 5, num_layers=2, bidirectional=True), "
        "fc=Linear(33, 17), conv=Conv2d(3, 5, 3))",
        "Sequential(Linear(5, 8), TransformerEncoder(TransformerEncoderLayer(8, 2, dim_feedforward=12), 3, "
        "norm=LayerNorm(8)), Linear(8, 2))",
        "Sequential(Transformer(d_model=8, nhead=2, num_encoder_layers=2, num_decoder_layers=2, "
        "dim_feedforward=12), Bilinear(4, 3, 5))",
    };
    static const int64_t chunks[] = {1, 7, 16, 33};
    static const struct { nninit_file_format f; const char *ext; } formats[] = {
        {NNINIT_FORMAT_SAFETENSORS, "safetensors"}, {NNINIT_FORMAT_NPZ, "npz"},
        {NNINIT_FORMAT_NPZ_DEFLATED, "npz"}, {NNINIT_FORMAT_NPY_DIR, "d"}};
    nninit_err err = {0};
    char path[400];
    for (size_t r = 0; r < sizeof recipes / sizeof *recipes; r++) {
        nninit_model *m = NULL;
        assert_ok(nninit_model_from_torch(recipes[r], &m, &err), &err);
        if (r == 0)
            assert_ok(nninit_model_override(m, "conv.weight", "orthogonal_", &err), &err);
        for (size_t fmt = 0; fmt < sizeof formats / sizeof *formats; fmt++)
            for (int g = 0; g < 4; g++) {
                nninit_model_opts o = nninit_model_opts_default();
                o.rng = g == 0 ? NNINIT_RNG_PHILOX : g == 2 ? NNINIT_RNG_TORCH_DEFAULT : NNINIT_RNG_TORCH_AVX2;
                o.seed = 3 + r;
                o.dtype = g == 2 ? NNINIT_FD_F64 : g == 3 ? NNINIT_FD_BF16 : NNINIT_FD_F32;
                o.write.format = formats[fmt].f;
                snprintf(path, sizeof path, "%s/t.%s", tmpdir, formats[fmt].ext);
                int one_file = formats[fmt].f != NNINIT_FORMAT_NPY_DIR;
                assert_ok(nninit_model_write(m, path, &o, &err), &err);
                size_t l1, l2, t1, t2;
                unsigned char *want = one_file ? slurp(path, &l1) : NULL, *want_t = tensors_of(path, &t1);
                if (formats[fmt].f == NNINIT_FORMAT_NPZ_DEFLATED)
                    check_zip_members(want, l1, 0);
                for (size_t c = 0; c < sizeof chunks / sizeof *chunks; c++) {
                    o.chunk_elems = chunks[c];
                    assert_ok(nninit_model_write(m, path, &o, &err), &err);
                    unsigned char *got = one_file ? slurp(path, &l2) : NULL, *got_t = tensors_of(path, &t2);
                    if ((one_file && (l1 != l2 || memcmp(want, got, l1))) || t1 != t2 || memcmp(want_t, got_t, t1))
                        fail_msg("recipe %zu, %s (%s), generator %d, chunks of %lld: differs from the default write",
                                 r, path, nninit_file_format_name(formats[fmt].f), g, (long long)chunks[c]);
                    free(got);
                    free(got_t);
                }
                free(want);
                free(want_t);
                test_clear_dir(tmpdir);
            }
        nninit_model_free(m);
    }
}

typedef struct drain {
    const char *fifo;
    unsigned char *data;
    size_t len;
} drain;

static void *drain_fifo(void *arg)
{
    drain *d = arg;
    FILE *f = fopen(d->fifo, "rb");
    unsigned char b[4096];
    size_t got;
    while (f && (got = fread(b, 1, sizeof b, f)) > 0) {
        d->data = realloc(d->data, d->len + got);
        memcpy(d->data + d->len, b, got);
        d->len += got;
    }
    if (f)
        fclose(f);
    return NULL;
}

/* npz (stored and deflated) written to a stream (a FIFO here, as -o - to a
 * pipe) cannot go back to complete its local headers: the members carry
 * their CRC and sizes in data descriptors. Read back (CRCs checked) they
 * hold the tensors of the regular file, and pieces of a few bytes change
 * nothing. */
static void test_npz_stream(void **state)
{
    (void)state;
    nninit_model *philox = test_model(), *torch = NULL;
    nninit_err err = {0};
    /* test_model without its empty Linear(0, 3): a torch generator refuses 0-element tensors */
    assert_ok(nninit_model_from_torch("Net(emb=Embedding(3001, 20, padding_idx=7), fc=Linear(150, 401), "
                                      "conv=Conv2d(3, 5, 3), rnn=GRU(6, 5))", &torch, &err), &err);
    assert_ok(nninit_model_override(torch, "conv.weight", "orthogonal_", &err), &err);
    char fifo[400], file[400], got[400];
    snprintf(fifo, sizeof fifo, "%s/pipe", tmpdir);
    snprintf(file, sizeof file, "%s/file.npz", tmpdir);
    snprintf(got, sizeof got, "%s/got.npz", tmpdir);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    for (int deflated = 0; deflated < 2; deflated++)
        for (int g = 0; g < 2; g++)
            for (int64_t chunk = 0; chunk <= 300; chunk += 300) {
                nninit_model_opts o = nninit_model_opts_default();
                o.write.format = deflated ? NNINIT_FORMAT_NPZ_DEFLATED : NNINIT_FORMAT_NPZ;
                o.rng = g ? NNINIT_RNG_TORCH_AVX2 : NNINIT_RNG_PHILOX;
                o.chunk_elems = chunk;
                nninit_model *m = g ? torch : philox;
                assert_ok(nninit_model_write(m, file, &o, &err), &err);
                drain d = {fifo, NULL, 0};
                pthread_t th;
                assert_int_equal(pthread_create(&th, NULL, drain_fifo, &d), 0);
                nninit_status s = nninit_model_write(m, fifo, &o, &err);
                pthread_join(th, NULL);
                assert_ok(s, &err);
                check_zip_members(d.data, d.len, 1);
                FILE *f = fopen(got, "wb");
                assert_int_equal(fwrite(d.data, 1, d.len, f), d.len);
                fclose(f);
                size_t l1, l2;
                unsigned char *a = tensors_of(file, &l1), *b = tensors_of(got, &l2);
                if (l1 != l2 || memcmp(a, b, l1))
                    fail_msg("npz%s to a stream (generator %d, chunk %lld) holds other tensors than the file",
                             deflated ? "-deflated" : "", g, (long long)chunk);
                free(a), free(b), free(d.data);
            }
    nninit_model_free(philox);
    nninit_model_free(torch);
    test_clear_dir(tmpdir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_slice_bounds),
        cmocka_unit_test(test_fill_slice_equals_slice),
        cmocka_unit_test(test_model_slices),
        cmocka_unit_test(test_parts_equal_one_process),
        cmocka_unit_test(test_memory_limit),
        cmocka_unit_test(test_gpt_family),
        cmocka_unit_test(test_torch_pieces),
        cmocka_unit_test(test_model_chunks),
        cmocka_unit_test(test_npz_stream),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
