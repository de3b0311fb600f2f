/*
 * The PyTorch-exact generator against fixtures written by
 * tools/make_torch_fixtures.py with Debian's torch 1.13.1 (both the DEFAULT
 * and the AVX2 kernel variant), bit for bit; orthogonal_ within a tolerance
 * because the QR comes from whichever LAPACK each side links.
 */
#include "util.h"

#include <inttypes.h>

#include "linalg.h"
#include "rng/internal.h"
#include "rng/torch_internal.h"

static nninit_rng *new_rng(nninit_rng_kind kind, uint64_t seed)
{
    nninit_rng *rng = NULL;
    nninit_err err;
    assert_ok(nninit_rng_new(kind, seed, &rng, &err), &err);
    return rng;
}

/* MT19937 as torch.manual_seed seeds it; values printed by torch 1.13
 * (torch.randint(0, 2**32, ...) is not used: these are the raw engine words
 * the reference notes list, identical to std::mt19937). */
static void test_engine_known_values(void **state)
{
    (void)state;
    static const uint32_t s0[] = {2357136044u, 2546248239u, 3071714933u, 3626093760u};
    static const uint32_t s42[] = {1608637542u, 3421126067u, 4083286876u, 787846414u};
    static const uint32_t s137[] = {4053805790u, 2173880614u, 380293709u, 1237255315u};
    nninit_rng *a = new_rng(NNINIT_RNG_TORCH_DEFAULT, 0), *b = new_rng(NNINIT_RNG_TORCH_DEFAULT, 42),
               *c = new_rng(NNINIT_RNG_TORCH_DEFAULT, 137);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(nninit__torch_next32(a), s0[i]);
        assert_int_equal(nninit__torch_next32(b), s42[i]);
        assert_int_equal(nninit__torch_next32(c), s137[i]);
    }
    /* Only seed mod 2^32 reaches the engine; the 10000th word crosses many
     * twists (std::mt19937's published 10000th output for seed 5489). */
    nninit__torch_seed(a, 5489 + (UINT64_C(1) << 32));
    uint32_t w = 0;
    for (int i = 0; i < 10000; i++)
        w = nninit__torch_next32(a);
    assert_int_equal(w, 4123659995u);
    /* next64: the first 32-bit draw is the high word. */
    nninit__torch_seed(b, 42);
    assert_true(nninit__torch_next64(b) == (((uint64_t)1608637542u << 32) | 3421126067u));
    nninit_rng_free(a);
    nninit_rng_free(b);
    nninit_rng_free(c);
}

typedef struct fixture_stats {
    int calls, exact, qr, approx;
    double worst_qr; /* largest observed / allowed difference over orthogonal_ calls */
    int wrong_tried, wrong_caught; /* deliberately wrong factors, and how many the tolerance rejects */
} fixture_stats;

/* Which libm results a call's bits depend on (PyTorch calls libm in the same
 * places): float functions (logf, sinf, cosf, erff, expf) and/or double ones
 * (log, sin, cos, exp, erf). */
enum { DEP_F32 = 1, DEP_F64 = 2 };

static int starts(const char *spec, const char *name)
{
    size_t n = strlen(name);
    return !strncmp(spec, name, n) && spec[n] == '(';
}

static int libm_dependence(const char *spec, const char *dt, int64_t numel, nninit_rng_kind kind)
{
    int f64 = !strcmp(dt, "float64");
    int avx2 = kind == NNINIT_RNG_TORCH_AVX2 || kind == NNINIT_RNG_TORCH2_AVX2;
    if (starts(spec, "trunc_normal_")) /* Phi via erf in double, then erfinv in the dtype */
        return DEP_F64 | (f64 ? 0 : DEP_F32);
    if (starts(spec, "normal_") || starts(spec, "kaiming_normal_") || starts(spec, "xavier_normal_") ||
        starts(spec, "orthogonal_") || starts(spec, "sparse_")) {
        if (numel < 16 || f64) /* scalar path (double) or the float64 block */
            return DEP_F64;
        return avx2 ? 0 : DEP_F32; /* the AVX2 float block is libm-free */
    }
    return 0; /* uniform family and fills */
}

/* The fingerprints tools/make_torch_fixtures.py stores (see there). */
static void libm_fingerprints(uint64_t *f32, uint64_t *f64)
{
    unsigned char *b32 = malloc(65536 * 5 * 4), *b64 = malloc(65536 * 5 * 8);
    assert_non_null(b32);
    assert_non_null(b64);
    const float tpf = (float)6.283185307179586;
    for (int k = 0; k < 65536; k++) {
        double x = (k + 0.5) / 65536;
        float xf = (float)x;
        float rf[5] = {logf(xf), sinf(tpf * xf), cosf(tpf * xf), expf(-16.0f * xf), erff(12.0f * xf - 6.0f)};
        double rd[5] = {log(x), sin(6.283185307179586 * x), cos(6.283185307179586 * x), exp(-16 * x),
                        erf(12 * x - 6)};
        memcpy(b32 + (size_t)k * 20, rf, 20);
        memcpy(b64 + (size_t)k * 40, rd, 40);
    }
    *f32 = test_fnv1a64(b32, 65536 * 5 * 4);
    *f64 = test_fnv1a64(b64, 65536 * 5 * 8);
    free(b32);
    free(b64);
}

/*
 * orthogonal_ against the fixtures: torch and nninit factor the same
 * Gaussian matrix with different QR codes (torch: its LAPACK; nninit: its
 * built-in QR or the linked LAPACK), so the factors agree to
 * c sqrt(m n) u kappa_2(A) (tests/linalg.h derives it, c = 2 (1 + sqrt(2))), kappa
 * that of the very matrix drawn (gaussian_kappa; ~5 for the 64x32 shapes,
 * 100-2000 for the 50x50 ones). Measured with the built-in QR: at most
 * 0.24 of the allowance (float64 3x5), 0.12 in float32; NNINIT_QR_DEBUG=1
 * prints each call. wrong_factors checks on every fixture call that a sign
 * or transposition error is rejected.
 */
static double qr_difference(const void *got, const void *want, size_t es, int64_t rows, int64_t cols, double kappa)
{
    int64_t count = rows * cols;
    double *a = malloc(sizeof(double) * (size_t)count), *b = malloc(sizeof(double) * (size_t)count);
    assert_non_null(a);
    assert_non_null(b);
    for (int64_t i = 0; i < count; i++) {
        if (es == 4) {
            float t;
            memcpy(&t, (const char *)want + i * 4, 4);
            b[i] = t;
            a[i] = ((const float *)got)[i];
        } else {
            memcpy(&b[i], (const char *)want + i * 8, 8);
            a[i] = ((const double *)got)[i];
        }
    }
    double r = test_qr_ratio(a, b, count, rows < cols ? rows : cols, es == 4 ? 0x1p-24 : 0x1p-53, kappa);
    free(a);
    free(b);
    return r;
}

/* The allowance must reject wrong answers: the factor with its first
 * column's sign flipped (a missing or misplaced sign fix) and, for square
 * shapes, the transposed factor. */
static void wrong_factors(const void *got, const void *want, size_t es, int64_t rows, int64_t cols, double kappa,
                          fixture_stats *fs)
{
    size_t n = (size_t)(rows * cols);
    unsigned char *bad = malloc(n * es);
    assert_non_null(bad);
    memcpy(bad, got, n * es);
    /* column 0 of the tall factor: column 0 of a tall result, row 0 of a wide one */
    for (int64_t i = 0; i < (rows >= cols ? rows : cols); i++) {
        size_t k = rows >= cols ? (size_t)(i * cols) : (size_t)i;
        if (es == 4)
            ((float *)bad)[k] = -((float *)bad)[k];
        else
            ((double *)bad)[k] = -((double *)bad)[k];
    }
    fs->wrong_tried++;
    fs->wrong_caught += qr_difference(bad, want, es, rows, cols, kappa) > 1;
    if (rows == cols) {
        for (int64_t i = 0; i < rows; i++)
            for (int64_t j = 0; j < cols; j++)
                memcpy(bad + (size_t)(j * cols + i) * es, (const char *)got + (size_t)(i * cols + j) * es, es);
        fs->wrong_tried++;
        fs->wrong_caught += qr_difference(bad, want, es, rows, cols, kappa) > 1;
    }
    free(bad);
}

/* kappa_2 of the Gaussian that orthogonal_ is about to draw from rng (the
 * normal_(0, 1) of a (rows, cols) tensor, rows = shape[0]): regenerated on
 * a copy of the generator state, so rng itself does not move. */
static double gaussian_kappa(const nninit_rng *rng, const nninit_shape *shape, nninit_dtype dtype)
{
    unsigned char st[NNINIT_TORCH_STATE_SIZE];
    nninit_err err;
    nninit_rng *copy = NULL;
    nninit_init init;
    assert_ok(nninit_rng_torch_state_get(rng, st, &err), &err);
    assert_ok(nninit_rng_new(nninit_rng_get_kind(rng), 0, &copy, &err), &err);
    assert_ok(nninit_rng_torch_state_set(copy, st, sizeof st, &err), &err);
    int64_t numel;
    assert_ok(nninit_shape_numel(shape, &numel, &err), &err);
    nninit_shape flat = {2, {shape->dim[0], numel / shape->dim[0]}};
    nninit_fill_opts opts = nninit_fill_opts_default();
    opts.layout = NNINIT_LAYOUT_TORCH;
    opts.dtype = dtype;
    assert_ok(nninit_init_parse("normal_(mean=0, std=1)", &init, &err), &err);
    size_t es = nninit_dtype_size(dtype);
    void *g = malloc((size_t)numel * es);
    double *a = malloc((size_t)numel * sizeof *a);
    assert_non_null(g);
    assert_non_null(a);
    assert_ok(nninit_fill(&init, &flat, &opts, copy, g, &err), &err);
    for (int64_t i = 0; i < numel; i++)
        a[i] = es == 4 ? (double)((float *)g)[i] : ((double *)g)[i];
    double kappa = test_cond2(a, flat.dim[0], flat.dim[1]);
    free(g);
    free(a);
    nninit_rng_free(copy);
    return kappa;
}

/* Replays every call of one manifest on `kind`; returns the number of calls
 * whose bits differ (orthogonal_: beyond tolerance). With `quiet` the first
 * mismatch is not printed (used to show that the other variant fails). */
/* In 2.x only some calls keep 1.13's bits: uniform_ and the fills
 * everywhere, and the float32 vectorised normal of the AVX2 variant (the
 * 2.x DEFAULT variant fuses its last step; the scalar path uses log1p). */
static int same_in_torch2(const char *spec, const char *dt, int64_t numel, nninit_rng_kind kind)
{
    static const char *const same[] = {"uniform_", "kaiming_uniform_", "xavier_uniform_", "constant_",
                                       "zeros_",   "ones_",            "eye_",            "dirac_"};
    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++)
        if (!strncmp(spec, same[i], strlen(same[i])) && spec[strlen(same[i])] == '(')
            return 1;
    int normal = !strncmp(spec, "normal_(", 8) || !strncmp(spec, "kaiming_normal_(", 16) ||
                 !strncmp(spec, "xavier_normal_(", 15);
    return normal && kind == NNINIT_RNG_TORCH2_AVX2 && !strcmp(dt, "float32") && numel >= 16;
}

static int replay(const char *variant, nninit_rng_kind kind, int quiet, fixture_stats *fs)
{
    int torch2 = kind == NNINIT_RNG_TORCH2_AVX2 || kind == NNINIT_RNG_TORCH2_DEFAULT;
    int skip_case = 0;
    char path[512], line[1024];
    snprintf(path, sizeof path, "%s/torch/%s.txt", getenv("NNINIT_FIXTURES") ? getenv("NNINIT_FIXTURES") : "tests/fixtures",
             variant);
    FILE *f = fopen(path, "r");
    if (!f) {
        print_error("cannot open %s (run from the repository root)\n", path);
        fail();
    }
    snprintf(path + strlen(path) - 3, 4, "bin");
    FILE *fb = fopen(path, "rb");
    assert_non_null(fb);
    fseek(fb, 0, SEEK_END);
    long blen = ftell(fb);
    fseek(fb, 0, SEEK_SET);
    unsigned char *blob = malloc((size_t)blen);
    assert_non_null(blob);
    assert_int_equal(fread(blob, 1, (size_t)blen, fb), (size_t)blen);
    fclose(fb);

    char prev_case[64] = "";
    nninit_rng *rng = NULL;
    int bad = 0;
    int libm_same = DEP_F32 | DEP_F64; /* libm parts that agree with the fixtures' */
    memset(fs, 0, sizeof *fs);
    while (fgets(line, sizeof line, f)) {
        uint64_t want32, want64;
        if (sscanf(line, "# libm %" SCNx64 " %" SCNx64, &want32, &want64) == 2) {
            uint64_t have32, have64;
            libm_fingerprints(&have32, &have64);
            libm_same = (have32 == want32 ? DEP_F32 : 0) | (have64 == want64 ? DEP_F64 : 0);
            if (libm_same != (DEP_F32 | DEP_F64) && !quiet)
                print_message("note: this libm differs from the fixtures' (float %s, double %s); calls that "
                              "depend on it are compared to a tolerance, the others bit for bit\n",
                              have32 == want32 ? "same" : "differs", have64 == want64 ? "same" : "differs");
            continue;
        }
        if (line[0] == '#' || line[0] == '\n')
            continue;
        char cid[64], dt[16], spec[256], shp[64], check[8];
        uint64_t seed, hash;
        size_t off, stored;
        int got = sscanf(line, "%63s %15s %" SCNu64 " %255s %63s %" SCNx64 " %zu %zu %7s", cid, dt, &seed, spec, shp,
                         &hash, &off, &stored, check);
        assert_int_equal(got, 9);
        if (strcmp(cid, prev_case) != 0) {
            nninit_rng_free(rng);
            rng = new_rng(kind, seed);
            snprintf(prev_case, sizeof prev_case, "%s", cid);
            skip_case = 0;
        }
        /* 2.x trunc_normal_ is refused, which ends that case's stream. */
        if (torch2 && (skip_case || !strncmp(spec, "trunc_normal_(", 14))) {
            skip_case = 1;
            continue;
        }
        nninit_err err;
        nninit_init init;
        nninit_shape shape;
        int64_t numel;
        assert_ok(nninit_init_parse(spec, &init, &err), &err);
        assert_ok(nninit_shape_parse(shp, &shape, &err), &err);
        assert_ok(nninit_shape_numel(&shape, &numel, &err), &err);
        nninit_fill_opts opts = nninit_fill_opts_default();
        opts.layout = NNINIT_LAYOUT_TORCH;
        assert_ok(nninit_dtype_parse(dt, &opts.dtype, &err), &err);
        size_t es = nninit_dtype_size(opts.dtype);
        void *out = malloc((size_t)numel * es);
        assert_non_null(out);
        double kappa = 0;
        if (!strcmp(check, "qr"))
            kappa = gaussian_kappa(rng, &shape, opts.dtype);
        assert_ok(nninit_fill(&init, &shape, &opts, rng, out, &err), &err);
        assert_true(off + stored * es <= (size_t)blen);
        const unsigned char *want = blob + off;
        if (torch2 && !same_in_torch2(spec, dt, numel, kind)) {
            free(out);
            continue;
        }
        fs->calls++;
        int dep = libm_dependence(spec, dt, numel, kind);
        if (strcmp(check, "qr") != 0 && (dep & ~libm_same)) {
            /* Another libm: last-bit differences in log/sin/cos/exp/erf
             * move a value by a few ulps (erfinv's Newton steps and the
             * Box-Muller products do not amplify them beyond ~8 ulps);
             * 64 ulps of tolerance still catches any algorithmic error. */
            fs->approx++;
            double rtol = es == 4 ? 64 * 0x1p-24 : 64 * 0x1p-53;
            for (size_t i = 0; i < stored; i++) {
                double a, b;
                if (es == 4) {
                    float t;
                    memcpy(&t, want + i * 4, 4);
                    b = t;
                    a = ((float *)out)[i];
                } else {
                    memcpy(&b, want + i * 8, 8);
                    a = ((double *)out)[i];
                }
                if (!(fabs(a - b) <= rtol * fmax(fabs(b), 1e-3))) {
                    bad++;
                    if (!quiet)
                        print_error("%s %s %s %s %s: element %zu is %.17g, torch %.17g (beyond libm tolerance)\n",
                                    variant, cid, dt, spec, shp, i, a, b);
                    break;
                }
            }
            free(out);
            continue;
        }
        if (!strcmp(check, "qr")) {
            double ratio = qr_difference(out, want, es, shape.dim[0], numel / shape.dim[0], kappa);
            fs->worst_qr = fmax(fs->worst_qr, ratio);
            fs->qr++;
            wrong_factors(out, want, es, shape.dim[0], numel / shape.dim[0], kappa, fs);
            if (getenv("NNINIT_QR_DEBUG"))
                print_message("%s %s %s kappa %.3g ratio %.3g\n", dt, spec, shp, kappa, ratio);
            if (!(ratio <= 1)) {
                bad++;
                if (!quiet)
                    print_error("%s %s %s %s seed %" PRIu64 ": orthogonal_ differs by %.3g of the allowed "
                                "c sqrt(m n) u kappa (kappa %.3g)\n",
                                variant, cid, spec, shp, seed, ratio, kappa);
            }
        } else {
            fs->exact++;
            uint64_t h = test_fnv1a64(out, (size_t)numel * es);
            if (h != hash || memcmp(out, want, stored * es) != 0) {
                bad++;
                if (!quiet) {
                    size_t i = 0;
                    while (i < stored && !memcmp((char *)out + i * es, want + i * es, es))
                        i++;
                    if (es == 4) {
                        float a = i < stored ? ((float *)out)[i] : 0.0f, b = 0.0f;
                        if (i < stored)
                            memcpy(&b, want + i * 4, 4);
                        print_error("%s %s %s %s %s seed %" PRIu64 ": first difference at %zu: %.9g vs torch %.9g\n",
                                    variant, cid, dt, spec, shp, seed, i, (double)a, (double)b);
                    } else {
                        double a = i < stored ? ((double *)out)[i] : 0, b = 0;
                        if (i < stored)
                            memcpy(&b, want + i * 8, 8);
                        print_error("%s %s %s %s %s seed %" PRIu64 ": first difference at %zu: %.17g vs torch %.17g\n",
                                    variant, cid, dt, spec, shp, seed, i, a, b);
                    }
                }
            }
        }
        free(out);
    }
    nninit_rng_free(rng);
    fclose(f);
    free(blob);
    return bad;
}

static void test_fixtures_default(void **state)
{
    (void)state;
    fixture_stats fs;
    int bad = replay("default", NNINIT_RNG_TORCH_DEFAULT, 0, &fs);
    print_message("default: %d calls (%d bit-exact, %d within libm tolerance, %d orthogonal_ worst %.3g of the allowance, %d of %d wrong factors rejected), %d differ\n",
                  fs.calls, fs.exact, fs.approx, fs.qr, fs.worst_qr, fs.wrong_caught, fs.wrong_tried, bad);
    assert_true(fs.calls > 300);
    assert_int_equal(bad, 0);
    assert_true(fs.wrong_tried >= 20);
    assert_int_equal(fs.wrong_caught, fs.wrong_tried);
}

static void test_fixtures_avx2(void **state)
{
    (void)state;
    fixture_stats fs;
    int bad = replay("avx2", NNINIT_RNG_TORCH_AVX2, 0, &fs);
    print_message("avx2: %d calls (%d bit-exact, %d within libm tolerance, %d orthogonal_ worst %.3g of the allowance, %d of %d wrong factors rejected), %d differ\n",
                  fs.calls, fs.exact, fs.approx, fs.qr, fs.worst_qr, fs.wrong_caught, fs.wrong_tried, bad);
    assert_true(fs.calls > 300);
    assert_int_equal(bad, 0);
    assert_true(fs.wrong_tried >= 20);
    assert_int_equal(fs.wrong_caught, fs.wrong_tried);
}

/* The two variants really differ: each fails the other's fixtures on many
 * calls (so the tests above could fail if the variant were ignored). */
static void test_variants_are_distinguished(void **state)
{
    (void)state;
    fixture_stats fs;
    int bad_a = replay("avx2", NNINIT_RNG_TORCH_DEFAULT, 1, &fs);
    int bad_d = replay("default", NNINIT_RNG_TORCH_AVX2, 1, &fs);
    print_message("DEFAULT arithmetic on AVX2 fixtures: %d calls differ; AVX2 on DEFAULT: %d\n", bad_a, bad_d);
    assert_true(bad_a > 50);
    assert_true(bad_d > 50);
}

/* PyTorch 2.x: verified only where its code is the same as 1.13's. */
static void test_torch2_where_unchanged(void **state)
{
    (void)state;
    fixture_stats fs;
    int bad = replay("avx2", NNINIT_RNG_TORCH2_AVX2, 0, &fs);
    print_message("torch2:avx2 on unchanged calls: %d compared, %d differ\n", fs.calls, bad);
    assert_true(fs.calls > 150);
    assert_int_equal(bad, 0);
    bad = replay("default", NNINIT_RNG_TORCH2_DEFAULT, 0, &fs);
    print_message("torch2:default on unchanged calls: %d compared, %d differ\n", fs.calls, bad);
    assert_true(fs.calls > 100);
    assert_int_equal(bad, 0);
}

/* What 2.x changed does change bits: the DEFAULT float normal's fused last
 * step (mean != 0 so that the fusion matters) and log1p in the scalar path. */
static void test_torch2_differences(void **state)
{
    (void)state;
    nninit_err err;
    nninit_init init;
    nninit_shape shape = {1, {1000}};
    assert_ok(nninit_init_parse("normal_(mean=0.1,std=0.3)", &init, &err), &err);
    nninit_fill_opts opts = nninit_fill_opts_default();
    opts.layout = NNINIT_LAYOUT_TORCH;
    float a[1000], b[1000];
    nninit_rng *r1 = new_rng(NNINIT_RNG_TORCH_DEFAULT, 7), *r2 = new_rng(NNINIT_RNG_TORCH2_DEFAULT, 7);
    assert_ok(nninit_fill(&init, &shape, &opts, r1, a, &err), &err);
    assert_ok(nninit_fill(&init, &shape, &opts, r2, b, &err), &err);
    int differ = 0;
    for (int i = 0; i < 1000; i++)
        differ += a[i] != b[i];
    /* fma vs separate rounding of r*cos*std + mean changes the last bit of
     * a large fraction of values (~1/3 measured); 50 is far below that. */
    print_message("1.13 vs 2.x DEFAULT float normal_: %d of 1000 differ\n", differ);
    assert_true(differ > 50);
    for (int i = 0; i < 1000; i++)
        assert_true(fabsf(a[i] - b[i]) <= 4e-7f * (fabsf(a[i]) + 1.0f));
    nninit_rng_free(r1);
    nninit_rng_free(r2);

    /* Scalar path: log1p(-u) vs log(1 - u), 1 - u being exact, differ by at
     * most ~1 ulp of the log; over 4000 doubles some differ, all within 1e-15. */
    double x[8], y[8];
    shape.dim[0] = 8;
    opts.dtype = NNINIT_F64;
    assert_ok(nninit_init_parse("normal_()", &init, &err), &err);
    int dd = 0;
    r1 = new_rng(NNINIT_RNG_TORCH_AVX2, 11);
    r2 = new_rng(NNINIT_RNG_TORCH2_AVX2, 11);
    for (int k = 0; k < 500; k++) {
        assert_ok(nninit_fill(&init, &shape, &opts, r1, x, &err), &err);
        assert_ok(nninit_fill(&init, &shape, &opts, r2, y, &err), &err);
        for (int i = 0; i < 8; i++) {
            dd += x[i] != y[i];
            assert_true(fabs(x[i] - y[i]) <= 1e-15 * (fabs(x[i]) + 1.0));
        }
    }
    print_message("1.13 vs 2.x scalar-path doubles: %d of 4000 differ\n", dd);
    assert_true(dd > 0);
    nninit_rng_free(r1);
    nninit_rng_free(r2);

    /* uniform_(1, 1 + 2^-23): x * 2^-23 + 1 rounds up to `to` for x > 1/2.
     * 1.13 returns `to` there; 2.x replaces it by `from`. */
    float u13[64], u2x[64];
    shape.dim[0] = 64;
    opts.dtype = NNINIT_F32;
    assert_ok(nninit_init_parse("uniform_(a=1.0,b=1.00000011920928955078125)", &init, &err), &err);
    r1 = new_rng(NNINIT_RNG_TORCH_AVX2, 3);
    r2 = new_rng(NNINIT_RNG_TORCH2_AVX2, 3);
    assert_ok(nninit_fill(&init, &shape, &opts, r1, u13, &err), &err);
    assert_ok(nninit_fill(&init, &shape, &opts, r2, u2x, &err), &err);
    int at_to = 0;
    for (int i = 0; i < 64; i++) {
        int top = u13[i] == 1.00000011920928955078125f;
        at_to += top;
        assert_true(u2x[i] == (top ? 1.0f : u13[i]));
    }
    assert_true(at_to > 10); /* about half of 64 */
    nninit_rng_free(r1);
    nninit_rng_free(r2);
}

static void fill_both(const char *spec_a, const char *spec_b, const nninit_shape *shape, nninit_layout layout,
                      uint64_t seed, nninit_dtype dtype)
{
    nninit_err err;
    nninit_init ia, ib;
    assert_ok(nninit_init_parse(spec_a, &ia, &err), &err);
    assert_ok(nninit_init_parse(spec_b, &ib, &err), &err);
    nninit_fill_opts opts = nninit_fill_opts_default();
    opts.layout = layout;
    opts.dtype = dtype;
    int64_t n;
    assert_ok(nninit_shape_numel(shape, &n, &err), &err);
    size_t es = nninit_dtype_size(dtype);
    void *a = malloc((size_t)n * es), *b = malloc((size_t)n * es);
    nninit_rng *ra = new_rng(NNINIT_RNG_TORCH_AVX2, seed), *rb = new_rng(NNINIT_RNG_TORCH_AVX2, seed);
    assert_ok(nninit_fill(&ia, shape, &opts, ra, a, &err), &err);
    assert_ok(nninit_fill(&ib, shape, &opts, rb, b, &err), &err);
    if (memcmp(a, b, (size_t)n * es) != 0) {
        print_error("%s and %s differ under the torch generator\n", spec_a, spec_b);
        fail();
    }
    nninit_rng_free(ra);
    nninit_rng_free(rb);
    free(a);
    free(b);
}

/* Keras initializers under a torch generator are the torch primitive with
 * Keras' parameters. */
static void test_keras_kinds_map_to_torch_primitives(void **state)
{
    (void)state;
    nninit_shape s = {2, {784, 256}};
    /* he_normal = VarianceScaling(2, fan_in, truncated_normal): std =
     * sqrt(2/784) / 0.87962566103423978, truncated at +-2 std (absolute). */
    char spec[256];
    double sd = sqrt(2.0 / 784) / .87962566103423978;
    snprintf(spec, sizeof spec, "trunc_normal_(mean=0.0,std=%.17g,a=%.17g,b=%.17g)", sd, -2 * sd, 2 * sd);
    fill_both("he_normal", spec, &s, NNINIT_LAYOUT_KERAS, 5, NNINIT_F32);
    double lim = sqrt(6.0 / (784 + 256));
    snprintf(spec, sizeof spec, "uniform_(a=%.17g,b=%.17g)", -lim, lim);
    fill_both("glorot_uniform", spec, &s, NNINIT_LAYOUT_KERAS, 5, NNINIT_F64);
    fill_both("RandomNormal(mean=0.5,stddev=0.2)", "normal_(mean=0.5,std=0.2)", &s, NNINIT_LAYOUT_KERAS, 9,
              NNINIT_F32);
    /* 2-D orthogonal: Keras and torch flatten alike. */
    nninit_shape q = {2, {6, 10}};
    fill_both("Orthogonal(gain=1.5)", "orthogonal_(gain=1.5)", &q, NNINIT_LAYOUT_KERAS, 3, NNINIT_F64);

    /* N-D Keras orthogonal flattens to (prod(shape[:-1]), shape[-1]):
     * columns of that (12, 4) matrix are orthonormal. */
    nninit_err err;
    nninit_init init;
    nninit_shape s3 = {3, {3, 4, 4}};
    double w[48];
    assert_ok(nninit_init_parse("orthogonal", &init, &err), &err);
    nninit_fill_opts opts = nninit_fill_opts_default();
    opts.dtype = NNINIT_F64;
    nninit_rng *r = new_rng(NNINIT_RNG_TORCH_DEFAULT, 1);
    assert_ok(nninit_fill(&init, &s3, &opts, r, w, &err), &err);
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) {
            double dot = 0;
            for (int k = 0; k < 12; k++)
                dot += w[k * 4 + i] * w[k * 4 + j];
            assert_close(dot, i == j ? 1.0 : 0.0, 1e-12);
        }
    nninit_rng_free(r);
}

static void test_errors_and_detection(void **state)
{
    (void)state;
    nninit_err err;
    nninit_init init;
    nninit_shape s = {2, {4, 4}};
    unsigned short h[16];
    assert_ok(nninit_init_parse("normal_", &init, &err), &err);
    nninit_fill_opts opts = nninit_fill_opts_default();
    opts.dtype = NNINIT_BF16;
    nninit_rng *r = new_rng(NNINIT_RNG_TORCH, 0);
    assert_int_not_equal(nninit_fill(&init, &s, &opts, r, h, &err), NNINIT_OK);
    assert_non_null(strstr(err.msg, "bfloat16"));
    nninit_rng_free(r);

    float f[16];
    opts.dtype = NNINIT_F32;
    assert_ok(nninit_init_parse("trunc_normal_", &init, &err), &err);
    r = new_rng(NNINIT_RNG_TORCH2_DEFAULT, 0);
    assert_int_equal(nninit_fill(&init, &s, &opts, r, f, &err), NNINIT_EUNSUPPORTED);
    nninit_rng_free(r);

    /* --rng torch resolves as ATen's dispatcher would on this CPU, and
     * ATEN_CPU_CAPABILITY=default forces the DEFAULT kernels as in PyTorch. */
    r = new_rng(NNINIT_RNG_TORCH, 0);
    assert_int_equal(nninit_rng_resolved_kind(r),
                     nninit__torch_cpu_has_avx2() ? NNINIT_RNG_TORCH_AVX2 : NNINIT_RNG_TORCH_DEFAULT);
    nninit_rng_free(r);
    setenv("ATEN_CPU_CAPABILITY", "default", 1);
    r = new_rng(NNINIT_RNG_TORCH2, 0);
    assert_int_equal(nninit_rng_resolved_kind(r), NNINIT_RNG_TORCH2_DEFAULT);
    nninit_rng_free(r);
    unsetenv("ATEN_CPU_CAPABILITY");
}

/* The ported avx_mathfun polynomials stay within a few float ulps of libm
 * over their whole input range (a gross porting slip would not). */
static void test_avx_mathfun_port_accuracy(void **state)
{
    (void)state;
    double worst_log = 0, worst_sc = 0;
    for (uint32_t k = 1; k <= (1u << 24); k += 7) {
        float u = (float)k * 0x1p-24f; /* the (0, 1] the normal kernel feeds log */
        double e = fabs((double)nninit__torch_avx_logf(u) - log((double)u));
        worst_log = fmax(worst_log, e / fmax(fabs(log((double)u)), 1e-30));
        float s, c;
        float th = 6.2831855f * (float)(k - 1) * 0x1p-24f;
        nninit__torch_avx_sincosf(th, &s, &c);
        worst_sc = fmax(worst_sc, fmax(fabs((double)s - sin((double)th)), fabs((double)c - cos((double)th))));
    }
    print_message("avx log: worst relative error %.3g; sincos: worst absolute error %.3g\n", worst_log, worst_sc);
    /* Cephes single precision: log within ~2 ulp relative (2.4e-7), sincos
     * within ~2e-7 absolute on [0, 2 pi). */
    assert_true(worst_log < 5e-7);
    assert_true(worst_sc < 5e-7);
}

/* torch.get_rng_state / set_rng_state against tools/make_torch_fixtures.py's
 * STATE_SCENARIOS (same list, same order). */
static void draw(nninit_rng *rng, const char *spec, int64_t n, nninit_dtype dtype, void *out)
{
    nninit_err err;
    nninit_init init;
    nninit_shape shape = {1, {n}};
    assert_ok(nninit_init_parse(spec, &init, &err), &err);
    nninit_fill_opts opts = nninit_fill_opts_default();
    opts.layout = NNINIT_LAYOUT_TORCH;
    opts.dtype = dtype;
    assert_ok(nninit_fill(&init, &shape, &opts, rng, out, &err), &err);
}

static void test_state_get_set(void **state)
{
    (void)state;
    static const struct {
        int64_t seed;
        int n;
        struct {
            const char *fn;
            int64_t numel;
        } calls[3];
    } sc[] = {
        {42, 0, {{0, 0}}},
        {42, 1, {{"normal_", 3}}},
        {-1, 2, {{"uniform_", 1000}, {"normal_", 20}}},
        {7, 3, {{"normal_", 1001}, {"normal_", 5}, {"uniform_", 700}}},
    };
    enum { REC = NNINIT_TORCH_STATE_SIZE + 5 * 8 + 3 * 4 };
    char path[512];
    FILE *f = fopen(test_fixture("torch/state.bin", path, sizeof path), "rb");
    assert_non_null(f);
    unsigned char rec[REC], got[NNINIT_TORCH_STATE_SIZE];
    float *scratch = malloc(1001 * sizeof *scratch);
    nninit_err err;
    for (size_t k = 0; k < sizeof sc / sizeof sc[0]; k++) {
        assert_int_equal(fread(rec, 1, REC, f), REC);
        nninit_rng *rng = new_rng(NNINIT_RNG_TORCH_AVX2, (uint64_t)sc[k].seed);
        for (int c = 0; c < sc[k].n; c++)
            draw(rng, sc[k].calls[c].fn, sc[k].calls[c].numel, NNINIT_F32, scratch);
        assert_ok(nninit_rng_torch_state_get(rng, got, &err), &err);
        /* byte for byte what torch.get_rng_state() returned (the cached normal
         * in it comes from libm log/sin: another libm could move its last bit) */
        assert_memory_equal(got, rec, NNINIT_TORCH_STATE_SIZE);

        /* A fresh generator loaded with those bytes continues torch's stream. */
        nninit_rng *r2 = new_rng(NNINIT_RNG_TORCH_DEFAULT, 123);
        assert_ok(nninit_rng_torch_state_set(r2, rec, NNINIT_TORCH_STATE_SIZE, &err), &err);
        assert_true(nninit_rng_seed(r2) == (uint64_t)sc[k].seed);
        double d[5];
        float u[3];
        draw(r2, "normal_", 5, NNINIT_F64, d);
        draw(r2, "uniform_", 3, NNINIT_F32, u);
        assert_memory_equal(d, rec + NNINIT_TORCH_STATE_SIZE, sizeof d);
        assert_memory_equal(u, rec + NNINIT_TORCH_STATE_SIZE + sizeof d, sizeof u);
        /* the legacy 5048-byte layout loads the same state */
        assert_ok(nninit_rng_torch_state_set(r2, rec, 5048, &err), &err);
        draw(r2, "normal_", 5, NNINIT_F64, d);
        assert_memory_equal(d, rec + NNINIT_TORCH_STATE_SIZE, sizeof d);
        nninit_rng_free(rng);
        nninit_rng_free(r2);
    }
    fclose(f);
    free(scratch);
}

/* Bad states are refused as ATen refuses them (plus the out-of-bounds case
 * ATen accepts), leaving the generator as it was. */
static void test_state_errors(void **state)
{
    (void)state;
    nninit_err err;
    unsigned char st[NNINIT_TORCH_STATE_SIZE], bad[NNINIT_TORCH_STATE_SIZE], after[NNINIT_TORCH_STATE_SIZE];
    nninit_rng *rng = new_rng(NNINIT_RNG_TORCH, 5);
    float x[17];
    draw(rng, "normal_", 17, NNINIT_F32, x);
    assert_ok(nninit_rng_torch_state_get(rng, st, &err), &err);
    assert_int_equal(nninit_rng_torch_state_set(rng, st, 5000, &err), NNINIT_EFORMAT);
    assert_non_null(strstr(err.msg, "5056"));
    static const struct {
        size_t off;
        int bytes;
        uint64_t v;
    } cases[] = {{8, 4, 0}, {8, 4, 625}, {12, 4, 0}, {16, 8, 625}, {16, 8, 624} /* next + left > 625 */};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        memcpy(bad, st, sizeof bad);
        for (int b = 0; b < cases[i].bytes; b++)
            bad[cases[i].off + (size_t)b] = (unsigned char)(cases[i].v >> (8 * b));
        assert_int_equal(nninit_rng_torch_state_set(rng, bad, sizeof bad, &err), NNINIT_EFORMAT);
        assert_ok(nninit_rng_torch_state_get(rng, after, &err), &err);
        assert_memory_equal(after, st, sizeof st);
    }
    /* ATen keeps the low 32 bits of next and of each state word. */
    memcpy(bad, st, sizeof bad);
    bad[16 + 4] = 1;
    bad[24 + 7] = 0x80;
    assert_ok(nninit_rng_torch_state_set(rng, bad, sizeof bad, &err), &err);
    assert_ok(nninit_rng_torch_state_get(rng, after, &err), &err);
    assert_memory_equal(after, st, sizeof st);
    nninit_rng_free(rng);

    nninit_rng *ph = new_rng(NNINIT_RNG_PHILOX, 5);
    assert_int_equal(nninit_rng_torch_state_get(ph, st, &err), NNINIT_EMISUSE);
    assert_int_equal(nninit_rng_torch_state_set(ph, st, sizeof st, &err), NNINIT_EMISUSE);
    nninit_rng_free(ph);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_state_get_set),
        cmocka_unit_test(test_state_errors),
        cmocka_unit_test(test_torch2_where_unchanged),
        cmocka_unit_test(test_torch2_differences),
        cmocka_unit_test(test_keras_kinds_map_to_torch_primitives),
        cmocka_unit_test(test_errors_and_detection),
        cmocka_unit_test(test_avx_mathfun_port_accuracy),
        cmocka_unit_test(test_engine_known_values),
        cmocka_unit_test(test_fixtures_default),
        cmocka_unit_test(test_fixtures_avx2),
        cmocka_unit_test(test_variants_are_distinguished),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
