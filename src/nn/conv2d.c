/* Conv2D on NHWC batches by im2col + sgemm: the patches of a chunk of
 * samples become the rows of a matrix (kh, kw, c per row, the order of an
 * HWIO kernel's rows), so one product per group gives the output columns of
 * that group. Chunks keep the patch matrix near 8 MB whatever the batch;
 * 1x1 convolutions with stride 1 and no padding skip the copy. */
#include "nn/internal.h"

#include <string.h>

#define CHUNK_FLOATS ((int64_t)1 << 21) /* 8 MB of patches per product */

nninit_status nninit__conv_geom_init(nninit__conv_geom *g, nninit_padding pad, const char *what, nninit_err *err)
{
    if (g->kh < 1 || g->kw < 1 || g->sh < 1 || g->sw < 1 || g->dh < 1 || g->dw < 1 || g->kh > 4096 ||
        g->kw > 4096 || g->sh > 4096 || g->sw > 4096 || g->dh > 4096 || g->dw > 4096)
        return nninit__err(err, NNINIT_EINVAL, "%s: window %lldx%lld, strides %lldx%lld, dilation %lldx%lld; "
                           "expected each in 1 .. 4096", what, (long long)g->kh, (long long)g->kw,
                           (long long)g->sh, (long long)g->sw, (long long)g->dh, (long long)g->dw);
    int64_t eh = g->dh * (g->kh - 1) + 1, ew = g->dw * (g->kw - 1) + 1; /* extent of the dilated window */
    if (pad == NNINIT_PAD_SAME) {
        g->ho = (g->h + g->sh - 1) / g->sh;
        g->wo = (g->w + g->sw - 1) / g->sw;
        int64_t th = (g->ho - 1) * g->sh + eh - g->h, tw = (g->wo - 1) * g->sw + ew - g->w;
        g->pt = th > 0 ? th / 2 : 0;
        g->pl = tw > 0 ? tw / 2 : 0;
    } else {
        if (eh > g->h || ew > g->w)
            return nninit__err(err, NNINIT_EINVAL, "%s: a %lldx%lld window (dilated) does not fit a %lldx%lld input "
                               "with padding 'valid'; use 'same' padding or a smaller window", what, (long long)eh,
                               (long long)ew, (long long)g->h, (long long)g->w);
        g->ho = (g->h - eh) / g->sh + 1;
        g->wo = (g->w - ew) / g->sw + 1;
        g->pt = g->pl = 0;
    }
    return NNINIT_OK;
}

static int is_pointwise(const nninit__conv_geom *g)
{
    return g->kh == 1 && g->kw == 1 && g->sh == 1 && g->sw == 1 && g->groups == 1;
}

/* Samples per chunk. */
static int64_t chunk_samples(const nninit__conv_geom *g, int64_t batch)
{
    int64_t per = g->ho * g->wo * g->kh * g->kw * (g->c / g->groups);
    int64_t nb = per > 0 ? CHUNK_FLOATS / per : batch;
    return nb < 1 ? 1 : nb > batch ? batch : nb;
}

size_t nninit__conv2d_work(const nninit__conv_geom *g, int64_t batch)
{
    if (is_pointwise(g))
        return 0;
    return (size_t)(chunk_samples(g, batch) * g->ho * g->wo * g->kh * g->kw * (g->c / g->groups));
}

/* Window columns [lo, hi) of output column ow inside the image (as pool.c's
 * span: contiguous, since the position grows with j). */
static inline void col_span(const nninit__conv_geom *g, int64_t ow, int64_t *lo, int64_t *hi)
{
    int64_t l = 0, h = g->kw, iw0 = ow * g->sw - g->pl;
    if (iw0 >= 0 && iw0 + (h - 1) * g->dw < g->w) { /* the whole window inside: most columns */
        *lo = l;
        *hi = h;
        return;
    }
    while (l < h && iw0 + l * g->dw < 0)
        l++;
    while (h > l && iw0 + (h - 1) * g->dw >= g->w)
        h--;
    *lo = l;
    *hi = h;
}

/* Patches of samples [n0, n0 + nb), channels [c0, c0 + cg), into cols
 * (nb ho wo, kh kw cg); outside the image: zeros. With one group and no
 * column dilation the window columns of one row are adjacent pixels, so
 * each window row is one run of (columns inside) x c floats. */
static void im2col(const nninit__conv_geom *g, const float *x, int64_t n0, int64_t nb, int64_t c0, int64_t cg,
                   float *cols)
{
    int64_t K = g->kh * g->kw * cg;
    int runs = cg == g->c && g->dw == 1;
    for (int64_t n = 0; n < nb; n++) {
        const float *xs = x + (n0 + n) * g->h * g->w * g->c;
        for (int64_t oh = 0; oh < g->ho; oh++)
            for (int64_t ow = 0; ow < g->wo; ow++) {
                float *row = cols + ((n * g->ho + oh) * g->wo + ow) * K;
                int64_t jlo, jhi, iw0 = ow * g->sw - g->pl;
                col_span(g, ow, &jlo, &jhi);
                for (int64_t i = 0; i < g->kh; i++, row += g->kw * cg) {
                    int64_t ih = oh * g->sh - g->pt + i * g->dh;
                    if (ih < 0 || ih >= g->h || jlo >= jhi) {
                        memset(row, 0, (size_t)(g->kw * cg) * sizeof *row);
                        continue;
                    }
                    for (int64_t c = 0; c < jlo * cg; c++)
                        row[c] = 0.0f;
                    int64_t at = ih * g->w + iw0; /* pixel of window column 0 (may be outside) */
                    if (runs) {
                        nninit__copy_floats(row + jlo * cg, xs + (at + jlo) * g->c + c0, (jhi - jlo) * cg);
                    } else {
                        for (int64_t j = jlo; j < jhi; j++)
                            nninit__copy_floats(row + j * cg, xs + (at + j * g->dw) * g->c + c0, cg);
                    }
                    for (int64_t c = jhi * cg; c < g->kw * cg; c++)
                        row[c] = 0.0f;
                }
            }
    }
}

/* The adjoint of im2col: dx += the patches' gradients at their places, in
 * the same order (each dx element gets its additions in patch order). */
static void col2im(const nninit__conv_geom *g, const float *cols, int64_t n0, int64_t nb, int64_t c0, int64_t cg,
                   float *dx)
{
    int64_t K = g->kh * g->kw * cg;
    int runs = cg == g->c && g->dw == 1;
    for (int64_t n = 0; n < nb; n++) {
        float *xs = dx + (n0 + n) * g->h * g->w * g->c;
        for (int64_t oh = 0; oh < g->ho; oh++)
            for (int64_t ow = 0; ow < g->wo; ow++) {
                const float *row = cols + ((n * g->ho + oh) * g->wo + ow) * K;
                int64_t jlo, jhi, iw0 = ow * g->sw - g->pl;
                col_span(g, ow, &jlo, &jhi);
                for (int64_t i = 0; i < g->kh; i++, row += g->kw * cg) {
                    int64_t ih = oh * g->sh - g->pt + i * g->dh;
                    if (ih < 0 || ih >= g->h)
                        continue;
                    int64_t at = ih * g->w + iw0;
                    if (runs) {
                        float *d = xs + (at + jlo) * g->c + c0;
                        const float *r = row + jlo * cg;
                        for (int64_t c = 0; c < (jhi - jlo) * cg; c++)
                            d[c] += r[c];
                    } else {
                        for (int64_t j = jlo; j < jhi; j++) {
                            float *d = xs + (at + j * g->dw) * g->c + c0;
                            for (int64_t c = 0; c < cg; c++)
                                d[c] += row[j * cg + c];
                        }
                    }
                }
            }
    }
}

/* y (rows, n) = b in every row: the first row, then doubling copies (few
 * calls however many rows). */
static void fill_rows(float *y, const float *b, int64_t rows, int64_t n)
{
    memcpy(y, b, (size_t)n * sizeof *y);
    for (int64_t done = 1; done < rows;) {
        int64_t k = done < rows - done ? done : rows - done;
        memcpy(y + done * n, y, (size_t)(k * n) * sizeof *y);
        done += k;
    }
}

int nninit__conv2d_keeps_patches(const nninit__conv_geom *g, int64_t batch)
{
    return !is_pointwise(g) && g->groups == 1 && chunk_samples(g, batch) >= batch;
}

void nninit__conv2d_forward(const nninit__conv_geom *g, const float *x, const float *k, const float *b,
                            int64_t batch, float *y, float *work)
{
    int64_t rows = batch * g->ho * g->wo, cout = g->cout;
    if (b)
        fill_rows(y, b, rows, cout);
    float beta = b ? 1.0f : 0.0f;
    if (is_pointwise(g)) {
        nninit__sgemm(0, 0, rows, cout, g->c, 1.0f, x, k, beta, y);
        return;
    }
    int64_t cg = g->c / g->groups, og = cout / g->groups, K = g->kh * g->kw * cg;
    int64_t nb = chunk_samples(g, batch), per = g->ho * g->wo;
    for (int64_t n0 = 0; n0 < batch; n0 += nb) {
        int64_t m = (batch - n0 < nb ? batch - n0 : nb) * per;
        for (int64_t gi = 0; gi < g->groups; gi++) {
            im2col(g, x, n0, m / per, gi * cg, cg, work);
            nninit__sgemm_ld(0, 0, m, og, K, 1.0f, work, K, k + gi * og, cout, beta, y + n0 * per * cout + gi * og,
                             cout);
        }
    }
}

void nninit__conv2d_backward(const nninit__conv_geom *g, const float *x, const float *k, const float *dy,
                             int64_t batch, float *dk, float *db, float *dx, float *work)
{
    int64_t rows = batch * g->ho * g->wo, cout = g->cout;
    if (db)
        nninit__col_sums(dy, rows, cout, cout, db);
    if (is_pointwise(g)) {
        nninit__sgemm(1, 0, g->c, cout, rows, 1.0f, x, dy, 0.0f, dk);
        if (dx)
            nninit__sgemm(0, 1, rows, g->c, cout, 1.0f, dy, k, 0.0f, dx);
        return;
    }
    int64_t cg = g->c / g->groups, og = cout / g->groups, K = g->kh * g->kw * cg;
    int64_t nb = chunk_samples(g, batch), per = g->ho * g->wo;
    if (dx)
        memset(dx, 0, (size_t)(batch * g->h * g->w * g->c) * sizeof *dx);
    for (int64_t n0 = 0; n0 < batch; n0 += nb) {
        int64_t m = (batch - n0 < nb ? batch - n0 : nb) * per;
        const float *dyc = dy + n0 * per * cout;
        for (int64_t gi = 0; gi < g->groups; gi++) {
            /* dK_g (K, og) += cols^T dy_g; the forward's patches are still in work when
             * the batch was one chunk of one group */
            if (!nninit__conv2d_keeps_patches(g, batch))
                im2col(g, x, n0, m / per, gi * cg, cg, work);
            nninit__sgemm_ld(1, 0, K, og, m, 1.0f, work, K, dyc + gi * og, cout, n0 ? 1.0f : 0.0f, dk + gi * og,
                             cout);
            if (!dx)
                continue;
            /* dcols (m, K) = dy_g K_g^T, then scattered back */
            nninit__sgemm_ld(0, 1, m, K, og, 1.0f, dyc + gi * og, cout, k + gi * og, cout, 0.0f, work, K);
            col2im(g, work, n0, m / per, gi * cg, cg, dx);
        }
    }
}
