/* Max pooling's choice of input, which the backward finds again by
 * comparing the input with the output (no index is kept): on data full of
 * ties, NaNs and signed zeros the forward and the input gradient must equal,
 * bit for bit, a direct reference that keeps the index the way the rule
 * reads ("the first maximum in window order wins; a NaN replaces any number
 * and is never replaced", PyTorch's rule) and sums the gradients into a
 * zeroed dx in output order. Geometries: non-overlapping windows (written
 * once, with uncovered rows and columns and the gaps of a stride longer
 * than the window, which must come out zero over a dx full of garbage),
 * overlapping ones (summed), padding (border windows), dilation, channel
 * counts that are not a multiple of four (the scalar tail), and windows of
 * more than 64 positions (the per-channel path).
 * Exact equality is the right test: both sides choose one input per output
 * and add the same floats in the same order. Last, a conv2d that pools its
 * output tile by tile (nninit__conv2d_forward with a pooling) must give
 * the bits of the conv followed by the pooling, for the direct one-channel
 * path, im2col with kept patches and 1x1 convolutions, with tiles that end
 * inside a sample and pool windows that overlap tile ends. */
#include "util.h"

#include "nn/internal.h"

static uint64_t lcg_state = 4242;
static uint32_t next_u32(void)
{
    lcg_state = lcg_state * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(lcg_state >> 33);
}

/* Values from a set of six so that ties are common: small integers, both
 * zeros and (when nans) a NaN. */
static float tie_value(int nans)
{
    static const float set[6] = {1.0f, 2.0f, 2.0f, 0.0f, -0.0f, -1.0f};
    uint32_t r = next_u32() % 64;
    if (nans && r == 0)
        return NAN;
    return set[r % 6];
}

static int same_bits(float a, float b)
{
    uint32_t x, y;
    memcpy(&x, &a, sizeof x);
    memcpy(&y, &b, sizeof y);
    return x == y;
}

/* The reference: the index chosen by the rule, kept per output. */
static void ref_pool(const nninit__conv_geom *g, const float *x, const float *dy, int64_t batch, float *y,
                     float *dx)
{
    int64_t in = g->h * g->w * g->c;
    memset(dx, 0, (size_t)(batch * in) * sizeof *dx);
    for (int64_t n = 0; n < batch; n++)
        for (int64_t oh = 0; oh < g->ho; oh++)
            for (int64_t ow = 0; ow < g->wo; ow++)
                for (int64_t c = 0; c < g->c; c++) {
                    int64_t best = -1;
                    for (int64_t i = 0; i < g->kh; i++)
                        for (int64_t j = 0; j < g->kw; j++) {
                            int64_t ih = oh * g->sh - g->pt + i * g->dh, iw = ow * g->sw - g->pl + j * g->dw;
                            if (ih < 0 || ih >= g->h || iw < 0 || iw >= g->w)
                                continue;
                            int64_t at = n * in + (ih * g->w + iw) * g->c + c;
                            if (best < 0 || x[at] > x[best] || (isnan(x[at]) && !isnan(x[best])))
                                best = at;
                        }
                    int64_t o = ((n * g->ho + oh) * g->wo + ow) * g->c + c;
                    y[o] = x[best];
                    dx[best] += dy[o];
                }
}

static void check_pool(const char *what, nninit__conv_geom g, nninit_padding pad, int nans)
{
    nninit_err err;
    assert_ok(nninit__conv_geom_init(&g, pad, what, &err), &err);
    int64_t batch = 3, in = batch * g.h * g.w * g.c, out = batch * g.ho * g.wo * g.c;
    float *x = malloc((size_t)in * sizeof *x), *dx = malloc((size_t)in * sizeof *dx);
    float *rdx = malloc((size_t)in * sizeof *rdx), *y = malloc((size_t)out * sizeof *y);
    float *ry = malloc((size_t)out * sizeof *ry), *dy = malloc((size_t)out * sizeof *dy);
    assert_non_null(x && dx && rdx && y && ry && dy);
    for (int64_t i = 0; i < in; i++) {
        x[i] = tie_value(nans);
        dx[i] = 7.0f; /* garbage the backward must overwrite or zero */
    }
    for (int64_t i = 0; i < out; i++)
        dy[i] = (float)(next_u32() % 1000) / 64.0f - 7.0f;
    ref_pool(&g, x, dy, batch, ry, rdx);
    nninit__maxpool_forward(&g, x, batch, y);
    nninit__maxpool_backward(&g, x, y, dy, batch, dx);
    for (int64_t i = 0; i < out; i++)
        if (!same_bits(y[i], ry[i]))
            fail_msg("%s: output %lld is %g, expected %g", what, (long long)i, (double)y[i], (double)ry[i]);
    for (int64_t i = 0; i < in; i++)
        if (!same_bits(dx[i], rdx[i]))
            fail_msg("%s: input gradient %lld is %g, expected %g", what, (long long)i, (double)dx[i],
                     (double)rdx[i]);
    free(x);
    free(dx);
    free(rdx);
    free(y);
    free(ry);
    free(dy);
}

static nninit__conv_geom geom(int64_t h, int64_t w, int64_t c, int64_t k, int64_t s, int64_t d)
{
    nninit__conv_geom g = {.h = h, .w = w, .c = c, .kh = k, .kw = k, .sh = s, .sw = s, .dh = d, .dw = d,
                           .groups = 1, .cout = c};
    return g;
}

static void test_windows_apart(void **state)
{
    (void)state;
    check_pool("2x2 stride 2 on 26x26x16 (the bench CNN's first pool)", geom(26, 26, 16, 2, 2, 1),
               NNINIT_PAD_VALID, 1);
    check_pool("2x2 stride 2 on 11x11x32 (last row and column uncovered)", geom(11, 11, 32, 2, 2, 1),
               NNINIT_PAD_VALID, 1);
    check_pool("2x2 stride 3 on 10x9x5 (gaps between windows)", geom(10, 9, 5, 2, 3, 1), NNINIT_PAD_VALID, 1);
    check_pool("3x3 stride 3 same on 7x8x6 (padded windows)", geom(7, 8, 6, 3, 3, 1), NNINIT_PAD_SAME, 1);
    check_pool("2x2 stride 2 on 6x6x300", geom(6, 6, 300, 2, 2, 1), NNINIT_PAD_VALID, 1);
    check_pool("9x9 stride 9 on 18x18x3 (81 positions: per channel)", geom(18, 18, 3, 9, 9, 1),
               NNINIT_PAD_VALID, 1);
}

static void test_windows_overlapping(void **state)
{
    (void)state;
    check_pool("3x3 stride 2 same on 9x9x7", geom(9, 9, 7, 3, 2, 1), NNINIT_PAD_SAME, 1);
    check_pool("3x3 stride 1 valid on 6x7x4", geom(6, 7, 4, 3, 1, 1), NNINIT_PAD_VALID, 0);
    check_pool("2x2 stride 2 dilation 2 on 9x9x5", geom(9, 9, 5, 2, 2, 2), NNINIT_PAD_VALID, 1);
    check_pool("9x9 stride 1 same on 10x10x2 (per channel, summed)", geom(10, 10, 2, 9, 1, 1), NNINIT_PAD_SAME, 1);
}

/* The rule on one window by hand, so that the reference itself is checked:
 * [1, 3, 3, 2] -> the first 3; [-0, +0] -> the -0 (neither is greater);
 * [1, NaN, 5, NaN] -> the first NaN. */
static void test_rule_by_hand(void **state)
{
    (void)state;
    nninit_err err;
    nninit__conv_geom g = geom(1, 4, 1, 1, 1, 1);
    g.kw = g.sw = 4;
    assert_ok(nninit__conv_geom_init(&g, NNINIT_PAD_VALID, "by hand", &err), &err);
    const float cases[3][4] = {{1, 3, 3, 2}, {-0.0f, 0.0f, -1, -2}, {1, NAN, 5, NAN}};
    const int winner[3] = {1, 0, 1};
    for (int k = 0; k < 3; k++) {
        float y, dy = 2.5f, dx[4];
        nninit__maxpool_forward(&g, cases[k], 1, &y);
        nninit__maxpool_backward(&g, cases[k], &y, &dy, 1, dx);
        assert_true(same_bits(y, cases[k][winner[k]]));
        for (int i = 0; i < 4; i++)
            assert_true(same_bits(dx[i], i == winner[k] ? 2.5f : 0.0f));
    }
}

static void check_fused(const char *what, int64_t h, int64_t c, int64_t k, int64_t cout, int64_t batch,
                        nninit__conv_geom pool, nninit_padding pool_pad)
{
    nninit__conv_geom g = {.h = h, .w = h, .c = c, .kh = k, .kw = k, .sh = 1, .sw = 1, .dh = 1, .dw = 1,
                           .groups = 1, .cout = cout};
    nninit_err err;
    assert_ok(nninit__conv_geom_init(&g, NNINIT_PAD_SAME, what, &err), &err);
    pool.h = g.ho;
    pool.w = g.wo;
    pool.c = pool.cout = cout;
    assert_ok(nninit__conv_geom_init(&pool, pool_pad, what, &err), &err);
    int64_t nx = batch * h * h * c, nk = k * k * c * cout, ny = batch * g.ho * g.wo * cout;
    int64_t np = batch * pool.ho * pool.wo * cout;
    float *x = malloc((size_t)nx * sizeof *x), *kw = malloc((size_t)nk * sizeof *kw);
    float *b = malloc((size_t)cout * sizeof *b), *y = malloc((size_t)ny * sizeof *y);
    float *a = malloc((size_t)ny * sizeof *a), *p1 = malloc((size_t)np * sizeof *p1);
    float *p2 = malloc((size_t)np * sizeof *p2);
    float *work = malloc(nninit__conv2d_work(&g, batch) * sizeof *work);
    assert_non_null(x && kw && b && y && a && p1 && p2 && work);
    for (int64_t i = 0; i < nx; i++)
        x[i] = (float)(next_u32() % 2001) / 1000.0f - 1.0f;
    for (int64_t i = 0; i < nk; i++)
        kw[i] = (float)(next_u32() % 2001) / 1000.0f - 1.0f;
    for (int64_t i = 0; i < cout; i++)
        b[i] = (float)(next_u32() % 2001) / 1000.0f - 1.0f;
    nninit__conv2d_forward(&g, x, kw, b, NNINIT_ACT_RELU, 0.0, batch, y, a, work, &pool, p1);
    nninit__maxpool_forward(&pool, a, batch, p2);
    if (memcmp(p1, p2, (size_t)np * sizeof *p1) != 0)
        fail_msg("%s: the pooling done in the conv's tiles differs from the pooling after it", what);
    free(x);
    free(kw);
    free(b);
    free(y);
    free(a);
    free(p1);
    free(p2);
    free(work);
}

static void test_pool_fused_in_conv(void **state)
{
    (void)state;
    check_fused("direct 3x3, 1 channel, pool 2x2", 28, 1, 3, 16, 9, geom(0, 0, 0, 2, 2, 1), NNINIT_PAD_VALID);
    check_fused("direct 3x3, 1 channel, pool 3x3 stride 2 same", 27, 1, 3, 16, 9, geom(0, 0, 0, 3, 2, 1),
                NNINIT_PAD_SAME);
    check_fused("im2col 3x3, 16 channels, pool 2x2", 13, 16, 3, 32, 40, geom(0, 0, 0, 2, 2, 1), NNINIT_PAD_VALID);
    check_fused("im2col 3x3, 3 channels, pool 3x3 stride 1", 9, 3, 3, 40, 30, geom(0, 0, 0, 3, 1, 1),
                NNINIT_PAD_VALID);
    check_fused("1x1, 8 channels, pool 2x2 dilation 2", 10, 8, 1, 8, 12, geom(0, 0, 0, 2, 2, 2), NNINIT_PAD_VALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rule_by_hand),
        cmocka_unit_test(test_windows_apart),
        cmocka_unit_test(test_windows_overlapping),
        cmocka_unit_test(test_pool_fused_in_conv),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
