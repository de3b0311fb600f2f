/* Conv2D kernels on batches large enough for their bookkeeping to matter:
 * the kernel gradient summed over several 8 MB chunks of patches, the
 * forward's patches kept for the backward (and copied again when the batch
 * is too large to keep), the forward and the patch gradient made a tile of
 * rows at a time. test_nn_conv.c checks every option on small images, where
 * none of this happens. Here one 3x3 convolution (16 -> 8 channels on
 * 30x30 images, 144 floats a patch row, 784 rows a sample) is compared with
 * direct double loops at batch 40 (patches kept, 3 kernel-gradient chunks,
 * 69 tiles) and 76 (not kept: re-copied per chunk), batch 40 again in the
 * work sized for batch 300 (which does not keep: guard floats after the work
 * must stay untouched), and a second backward
 * after one forward must give the same bits as the first (the patches the
 * forward kept must survive the first backward).
 *
 * Tolerance: float32 sums of n products with random signs have an error of
 * about sqrt(n) eps of their scale; the kernel gradient sums n = 76 x 784
 * = 59584 products (sqrt(n) eps = 1.5e-5), the forward and the input
 * gradient at most 144. |engine - reference| <= 1e-4 x the tensor's largest
 * |value| for every tensor; a chunk counted twice or left out, a tile
 * shifted by a row, or a stale patch gives errors ~0.1 to 1 of the scale. */
#include "util.h"

#include "nn/internal.h"

static uint64_t lcg_state = 12345;
static float urandf(void)
{
    lcg_state = lcg_state * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((double)(lcg_state >> 11) * 0x1.0p-53 * 2.0 - 1.0);
}

static void close_to(const char *what, const float *got, const double *ref, int64_t n)
{
    double scale = 0.0, worst = 0.0;
    for (int64_t i = 0; i < n; i++)
        scale = fmax(scale, fabs(ref[i]));
    for (int64_t i = 0; i < n; i++)
        worst = fmax(worst, fabs((double)got[i] - ref[i]));
    if (!(worst <= 1e-4 * scale))
        fail_msg("%s: max error %.3g of the scale %.3g", what, worst, scale);
}

/* The kernels at `batch` in the work a net allocates for `cap` >= batch
 * samples (its largest batch so far), with guard floats after it. */
static void check_batch(int64_t batch, int64_t cap)
{
    nninit__conv_geom g = {.h = 30, .w = 30, .c = 16, .kh = 3, .kw = 3, .sh = 1, .sw = 1, .dh = 1, .dw = 1,
                           .groups = 1, .cout = 8};
    nninit_err err = {0};
    assert_ok(nninit__conv_geom_init(&g, NNINIT_PAD_VALID, "test conv", &err), &err);
    int64_t nx = batch * g.h * g.w * g.c, ny = batch * g.ho * g.wo * g.cout, nk = 9 * g.c * g.cout;
    float *x = malloc((size_t)nx * sizeof *x), *k = malloc((size_t)nk * sizeof *k), b[8];
    float *y = malloc((size_t)ny * sizeof *y), *dy = malloc((size_t)ny * sizeof *dy);
    float *dk = malloc((size_t)nk * sizeof *dk), *dx = malloc((size_t)nx * sizeof *dx), db[8];
    float *dk2 = malloc((size_t)nk * sizeof *dk2), *dx2 = malloc((size_t)nx * sizeof *dx2), db2[8];
    size_t nw = nninit__conv2d_work(&g, cap);
    float *work = malloc((nw + 64) * sizeof *work);
    double *ry = calloc((size_t)ny, sizeof *ry), *rdk = calloc((size_t)nk, sizeof *rdk);
    double *rdx = calloc((size_t)nx, sizeof *rdx), rdb[8] = {0};
    assert_non_null(work);
    for (int i = 0; i < 64; i++)
        work[nw + i] = -7.0f;
    for (int64_t i = 0; i < nx; i++)
        x[i] = urandf();
    for (int64_t i = 0; i < nk; i++)
        k[i] = urandf();
    for (int i = 0; i < 8; i++)
        b[i] = urandf();
    for (int64_t i = 0; i < ny; i++)
        dy[i] = urandf();
    /* direct loops in double: y = b + sum x K; dK = sum x dy; dx = sum K dy */
    for (int64_t n = 0; n < batch; n++)
        for (int64_t oh = 0; oh < g.ho; oh++)
            for (int64_t ow = 0; ow < g.wo; ow++) {
                int64_t o = ((n * g.ho + oh) * g.wo + ow) * g.cout;
                for (int64_t f = 0; f < g.cout; f++) {
                    ry[o + f] += b[f];
                    rdb[f] += dy[o + f];
                }
                for (int64_t i = 0; i < 3; i++)
                    for (int64_t j = 0; j < 3; j++)
                        for (int64_t c = 0; c < g.c; c++) {
                            int64_t xi = ((n * g.h + oh + i) * g.w + ow + j) * g.c + c;
                            const float *kr = k + ((i * 3 + j) * g.c + c) * g.cout;
                            double *kd = rdk + ((i * 3 + j) * g.c + c) * g.cout;
                            for (int64_t f = 0; f < g.cout; f++) {
                                ry[o + f] += (double)x[xi] * kr[f];
                                kd[f] += (double)x[xi] * dy[o + f];
                                rdx[xi] += (double)kr[f] * dy[o + f];
                            }
                        }
            }
    nninit__conv2d_forward(&g, x, k, b, NNINIT_ACT_LINEAR, 0.0, batch, y, NULL, work, NULL, NULL);
    nninit__conv2d_backward(&g, x, k, dy, batch, dk, db, dx, work);
    nninit__conv2d_backward(&g, x, k, dy, batch, dk2, db2, dx2, work);
    char what[64];
    snprintf(what, sizeof what, "batch %lld: output", (long long)batch);
    close_to(what, y, ry, ny);
    snprintf(what, sizeof what, "batch %lld: kernel gradient", (long long)batch);
    close_to(what, dk, rdk, nk);
    snprintf(what, sizeof what, "batch %lld: bias gradient", (long long)batch);
    close_to(what, db, rdb, 8);
    snprintf(what, sizeof what, "batch %lld: input gradient", (long long)batch);
    close_to(what, dx, rdx, nx);
    for (int i = 0; i < 64; i++)
        if (work[nw + i] != -7.0f)
            fail_msg("batch %lld in the work of %lld: written past the end", (long long)batch, (long long)cap);
    if (memcmp(dk, dk2, (size_t)nk * sizeof *dk) || memcmp(dx, dx2, (size_t)nx * sizeof *dx) ||
        memcmp(db, db2, sizeof db))
        fail_msg("batch %lld: a second backward after one forward gave other numbers", (long long)batch);
    free(x);
    free(k);
    free(y);
    free(dy);
    free(dk);
    free(dx);
    free(dk2);
    free(dx2);
    free(work);
    free(ry);
    free(rdk);
    free(rdx);
}

static void test_patches_kept(void **state)
{
    (void)state;
    check_batch(40, 40);
}

/* a net that ran a batch too large to keep, then a smaller one that keeps */
static void test_patches_kept_in_larger_work(void **state)
{
    (void)state;
    check_batch(40, 300);
}

static void test_patches_recopied(void **state)
{
    (void)state;
    check_batch(76, 76);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_patches_kept),
        cmocka_unit_test(test_patches_recopied),
        cmocka_unit_test(test_patches_kept_in_larger_work),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
