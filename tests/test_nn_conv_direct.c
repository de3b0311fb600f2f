/* The direct kernels of a one-channel convolution (an image's first layer,
 * conv2d_direct_impl.h), which nninit__conv2d_forward/backward take instead
 * of im2col + sgemm: the output, the kernel gradient and the input gradient
 * (still im2col's adjoint) against direct double loops, on geometries that
 * reach every path: the 3x3 stride-1 case with its constants, 'same'
 * padding (border windows gathered with zeros), strides, dilation, a 5x5
 * and a 1x7 window, output channel counts below, at and between the vector
 * widths (the scalar tail), no bias, and output rows longer than the
 * kernel gradient's 32-row partial sums. Then the 4- and 8-lane kernels (the
 * width the CPU picks) must agree bit for bit on the output and the kernel
 * gradient.
 *
 * Tolerance: the forward sums at most 25 products and the bias, the kernel
 * gradient float partial sums of at most 32 products added in double, so
 * each is within ~1e-6 of its scale; |engine - reference| <= 1e-5 x the
 * tensor's largest |value| is 10x above that and far below a shifted
 * window, a lost tap or a dropped partial sum (errors ~0.1 to 1 of the
 * scale). The input gradient has the same bound. */
#include "util.h"

#include "nn/internal.h"

static uint64_t lcg_state = 99;
static float urandf(void)
{
    lcg_state = lcg_state * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((double)(lcg_state >> 11) * 0x1.0p-53 * 2.0 - 1.0);
}

static void close_to(const char *what, const char *part, const float *got, const double *ref, int64_t n)
{
    double scale = 0.0, worst = 0.0;
    for (int64_t i = 0; i < n; i++)
        scale = fmax(scale, fabs(ref[i]));
    for (int64_t i = 0; i < n; i++)
        worst = fmax(worst, fabs((double)got[i] - ref[i]));
    if (!(worst <= 1e-5 * scale))
        fail_msg("%s: %s: max error %.3g of the scale %.3g", what, part, worst, scale);
}

typedef struct geo {
    const char *what;
    int64_t h, w, kh, kw, s, d, cout, batch;
    nninit_padding pad;
    int bias;
} geo;

static void check_direct(const geo *c)
{
    nninit__conv_geom g = {.h = c->h, .w = c->w, .c = 1, .kh = c->kh, .kw = c->kw, .sh = c->s, .sw = c->s,
                           .dh = c->d, .dw = c->d, .groups = 1, .cout = c->cout};
    nninit_err err = {0};
    assert_ok(nninit__conv_geom_init(&g, c->pad, c->what, &err), &err);
    int64_t B = c->batch, C = c->cout, K = c->kh * c->kw, rows = B * g.ho * g.wo;
    int64_t nx = B * g.h * g.w, ny = rows * C, nk = K * C;
    float *x = malloc((size_t)nx * sizeof *x), *k = malloc((size_t)nk * sizeof *k);
    float *b = malloc((size_t)C * sizeof *b), *db = malloc((size_t)C * sizeof *db);
    float *y = malloc((size_t)ny * sizeof *y), *y4 = malloc((size_t)ny * sizeof *y4);
    float *dy = malloc((size_t)ny * sizeof *dy), *dk = malloc((size_t)nk * sizeof *dk);
    float *dk4 = malloc((size_t)nk * sizeof *dk4), *dk8 = malloc((size_t)nk * sizeof *dk8);
    float *dx = malloc((size_t)nx * sizeof *dx);
    float *work = malloc(nninit__conv2d_work(&g, B) * sizeof *work);
    double *sum = malloc((size_t)nk * sizeof *sum);
    double *ry = calloc((size_t)ny, sizeof *ry), *rdk = calloc((size_t)nk, sizeof *rdk);
    double *rdx = calloc((size_t)nx, sizeof *rdx);
    assert_non_null(x && k && b && db && y && y4 && dy && dk && dk4 && dk8 && dx && work && sum && ry && rdk && rdx);
    for (int64_t i = 0; i < nx; i++)
        x[i] = urandf();
    for (int64_t i = 0; i < nk; i++)
        k[i] = urandf();
    for (int64_t i = 0; i < C; i++)
        b[i] = urandf();
    for (int64_t i = 0; i < ny; i++)
        dy[i] = urandf();
    for (int64_t n = 0; n < B; n++)
        for (int64_t oh = 0; oh < g.ho; oh++)
            for (int64_t ow = 0; ow < g.wo; ow++) {
                int64_t o = ((n * g.ho + oh) * g.wo + ow) * C;
                for (int64_t f = 0; f < C; f++)
                    ry[o + f] = c->bias ? b[f] : 0.0;
                for (int64_t i = 0; i < g.kh; i++)
                    for (int64_t j = 0; j < g.kw; j++) {
                        int64_t ih = oh * g.sh - g.pt + i * g.dh, iw = ow * g.sw - g.pl + j * g.dw;
                        if (ih < 0 || ih >= g.h || iw < 0 || iw >= g.w)
                            continue;
                        int64_t xi = (n * g.h + ih) * g.w + iw, t = i * g.kw + j;
                        for (int64_t f = 0; f < C; f++) {
                            ry[o + f] += (double)x[xi] * k[t * C + f];
                            rdk[t * C + f] += (double)x[xi] * dy[o + f];
                            rdx[xi] += (double)k[t * C + f] * dy[o + f];
                        }
                    }
            }
    const float *bp = c->bias ? b : NULL;
    nninit__conv2d_forward(&g, x, k, bp, NNINIT_ACT_LINEAR, 0.0, B, y, NULL, work, NULL, NULL);
    nninit__conv2d_backward(&g, x, k, dy, B, dk, db, dx, work);
    close_to(c->what, "output", y, ry, ny);
    close_to(c->what, "kernel gradient", dk, rdk, nk);
    close_to(c->what, "input gradient", dx, rdx, nx);
    /* the widths: 4 lanes against the widest the CPU has (8 with AVX2) */
    nninit__conv2d_direct_forward(&g, x, k, bp, 0, rows, y4, 4);
    nninit__conv2d_direct_kgrad(&g, x, dy, rows, dk4, sum, 4);
    nninit__conv2d_direct_kgrad(&g, x, dy, rows, dk8, sum, 8);
    assert_memory_equal(y4, y, (size_t)ny * sizeof *y);
    assert_memory_equal(dk4, dk8, (size_t)nk * sizeof *dk);
    assert_memory_equal(dk4, dk, (size_t)nk * sizeof *dk);
    free(x);
    free(k);
    free(b);
    free(db);
    free(y);
    free(y4);
    free(dy);
    free(dk);
    free(dk4);
    free(dk8);
    free(dx);
    free(work);
    free(sum);
    free(ry);
    free(rdk);
    free(rdx);
}

static void test_direct_geometries(void **state)
{
    (void)state;
    const geo cases[] = {
        {"3x3 valid, 16 filters (the bench CNN's first layer)", 28, 28, 3, 3, 1, 1, 16, 5, NNINIT_PAD_VALID, 1},
        {"3x3 same, 12 filters", 9, 11, 3, 3, 1, 1, 12, 3, NNINIT_PAD_SAME, 1},
        {"3x3 stride 2 same, 8 filters, no bias", 10, 9, 3, 3, 2, 1, 8, 2, NNINIT_PAD_SAME, 0},
        {"3x3 dilation 2, 5 filters", 12, 10, 3, 3, 1, 2, 5, 2, NNINIT_PAD_SAME, 1},
        {"5x5 same, 20 filters", 8, 8, 5, 5, 1, 1, 20, 2, NNINIT_PAD_SAME, 1},
        {"1x7 valid, 3 filters", 6, 13, 1, 7, 1, 1, 3, 3, NNINIT_PAD_VALID, 1},
        {"3x3 valid on 6x70 (output rows of 68: several 32-row partial sums)", 6, 70, 3, 3, 1, 1, 16, 2,
         NNINIT_PAD_VALID, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_direct(&cases[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_direct_geometries),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
