/* Conv2D on NHWC batches by im2col + sgemm: the patches of the samples
 * become the rows of a matrix (kh, kw, c per row, the order of an HWIO
 * kernel's rows), so one product per group gives the output columns of that
 * group. With one group the whole batch's patches are kept (up to 32 MB) from
 * the forward for the backward's kernel gradient; otherwise chunks of about
 * 8 MB are copied in each pass. The kernel gradient sums over chunks of
 * CHUNK_FLOATS patches whatever is kept (the chunking fixes its rounding).
 * The patch gradient is made and scattered back a tile of rows at a time,
 * in a buffer of its own that stays in cache. 1x1 convolutions with stride
 * 1 and no padding skip the copy. */
#include "nn/internal.h"

#include <string.h>

#define CHUNK_FLOATS ((int64_t)1 << 21) /* 8 MB of patches per kernel-gradient product */
#define KEEP_FLOATS ((int64_t)1 << 23)  /* keep up to 32 MB of one batch's patches */
#define TILE_FLOATS ((int64_t)1 << 16)  /* 256 KB of patch gradient per scatter */

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

static int64_t patch_width(const nninit__conv_geom *g)
{
    return g->kh * g->kw * (g->c / g->groups);
}

/* Samples per chunk of the kernel gradient's sum. */
static int64_t chunk_samples(const nninit__conv_geom *g, int64_t batch)
{
    int64_t per = g->ho * g->wo * patch_width(g);
    int64_t nb = per > 0 ? CHUNK_FLOATS / per : batch;
    return nb < 1 ? 1 : nb > batch ? batch : nb;
}

static int keeps_patches(const nninit__conv_geom *g, int64_t batch)
{
    return !is_pointwise(g) && g->groups == 1 && batch * g->ho * g->wo * patch_width(g) <= KEEP_FLOATS;
}

/* Floats of patches the work buffer holds: the whole batch's, or a chunk's. */
static int64_t patch_floats(const nninit__conv_geom *g, int64_t batch)
{
    int64_t nb = keeps_patches(g, batch) ? batch : chunk_samples(g, batch);
    return nb * g->ho * g->wo * patch_width(g);
}

/* Most rows per tile: the forward's patches, outputs and activations of a
 * tile, and the backward's patch gradient tile, stay in cache (at least one
 * row). Tiles are near-equal (tile_span), so none is a sliver. */
static int64_t tile_rows(const nninit__conv_geom *g)
{
    int64_t wide = patch_width(g) > g->cout ? patch_width(g) : g->cout;
    int64_t t = TILE_FLOATS / wide;
    return t < 1 ? 1 : t;
}

/* Tile i of n over rows [0, rows): n near-equal parts of at most tile_rows. */
static int64_t n_tiles(const nninit__conv_geom *g, int64_t rows)
{
    int64_t tr = tile_rows(g);
    return (rows + tr - 1) / tr;
}

static void tile_span(int64_t rows, int64_t n, int64_t i, int64_t *r0, int64_t *r1)
{
    *r0 = rows * i / n;
    *r1 = rows * (i + 1) / n;
}

/* Work for any batch up to `batch` (a net allocates for its largest batch
 * and runs smaller ones in it): a smaller batch may keep its patches where
 * the largest is chunked. */
size_t nninit__conv2d_work(const nninit__conv_geom *g, int64_t batch)
{
    if (is_pointwise(g))
        return 0;
    int64_t per = g->ho * g->wo * patch_width(g), patches = patch_floats(g, batch);
    int64_t keepable = g->groups == 1 ? (per > 0 ? KEEP_FLOATS / per : batch) : 0;
    if (keepable > batch)
        keepable = batch;
    if (keepable * per > patches)
        patches = keepable * per;
    return (size_t)(patches + tile_rows(g) * patch_width(g));
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

/* The position (sample, output row, output column) of patch row r, and a
 * step to the next row. */
typedef struct rowpos {
    int64_t n, oh, ow;
} rowpos;

static rowpos row_at(const nninit__conv_geom *g, int64_t r)
{
    int64_t per = g->ho * g->wo;
    rowpos p = {r / per, r % per / g->wo, r % g->wo};
    return p;
}

static void row_next(const nninit__conv_geom *g, rowpos *p)
{
    if (++p->ow == g->wo) {
        p->ow = 0;
        if (++p->oh == g->ho) {
            p->oh = 0;
            p->n++;
        }
    }
}

/* Patch rows [r0, r1) (row r: sample r / (ho wo), then output row and
 * column), channels [c0, c0 + cg), into cols (r1 - r0, kh kw cg); outside
 * the image: zeros. With one group and no column dilation the window
 * columns of one row are adjacent pixels, so each window row is one run of
 * (columns inside) x c floats. */
static void im2col(const nninit__conv_geom *g, const float *x, int64_t r0, int64_t r1, int64_t c0, int64_t cg,
                   float *cols)
{
    int64_t K = g->kh * g->kw * cg, img = g->h * g->w * g->c;
    int runs = cg == g->c && g->dw == 1;
    rowpos p = row_at(g, r0);
    int64_t L = g->kw * cg, down = g->dh * g->w * g->c; /* a window row; the step to the next */
    for (int64_t r = r0; r < r1; r++, row_next(g, &p)) {
        const float *xs = x + p.n * img;
        float *row = cols + (r - r0) * K;
        int64_t jlo, jhi, iw0 = p.ow * g->sw - g->pl, ih0 = p.oh * g->sh - g->pt;
        col_span(g, p.ow, &jlo, &jhi);
        if (runs && jlo == 0 && jhi == g->kw && ih0 >= 0 && ih0 + (g->kh - 1) * g->dh < g->h) {
            /* the whole window inside (most rows): kh runs of L floats; three
             * (one channel, 3 columns) copied as such, not through the loop */
            const float *src = xs + (ih0 * g->w + iw0) * g->c + c0;
            if (L == 3) {
                for (int64_t i = 0; i < g->kh; i++, row += 3, src += down) {
                    row[0] = src[0];
                    row[1] = src[1];
                    row[2] = src[2];
                }
            } else {
                for (int64_t i = 0; i < g->kh; i++, row += L, src += down)
                    nninit__copy_floats(row, src, L);
            }
            continue;
        }
        for (int64_t i = 0; i < g->kh; i++, row += g->kw * cg) {
            int64_t ih = p.oh * g->sh - g->pt + i * g->dh;
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

/* The adjoint of im2col for rows [r0, r1): dx += the patches' gradients at
 * their places, in row order (each dx element gets its additions in patch
 * order, however the rows are split into calls). */
static void col2im(const nninit__conv_geom *g, const float *cols, int64_t r0, int64_t r1, int64_t c0, int64_t cg,
                   float *dx)
{
    int64_t K = g->kh * g->kw * cg, img = g->h * g->w * g->c;
    int runs = cg == g->c && g->dw == 1;
    rowpos p = row_at(g, r0);
    for (int64_t r = r0; r < r1; r++, row_next(g, &p)) {
        float *xs = dx + p.n * img;
        const float *row = cols + (r - r0) * K;
        int64_t jlo, jhi, iw0 = p.ow * g->sw - g->pl;
        col_span(g, p.ow, &jlo, &jhi);
        for (int64_t i = 0; i < g->kh; i++, row += g->kw * cg) {
            int64_t ih = p.oh * g->sh - g->pt + i * g->dh;
            if (ih < 0 || ih >= g->h)
                continue;
            int64_t at = ih * g->w + iw0;
            if (runs) {
                float *d = xs + (at + jlo) * g->c + c0;
                const float *rr = row + jlo * cg;
                for (int64_t c = 0; c < (jhi - jlo) * cg; c++)
                    d[c] += rr[c];
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


void nninit__conv2d_forward(const nninit__conv_geom *g, const float *x, const float *k, const float *b,
                            nninit_act act, double alpha, int64_t batch, float *y, float *a, float *work)
{
    int64_t rows = batch * g->ho * g->wo, cout = g->cout;
    float beta = b ? 1.0f : 0.0f;
    if (is_pointwise(g)) {
        if (b)
            fill_rows(y, b, rows, cout);
        nninit__sgemm(0, 0, rows, cout, g->c, 1.0f, x, k, beta, y);
        if (act != NNINIT_ACT_LINEAR)
            nninit_act_forward(act, alpha, y, a, rows, cout);
        return;
    }
    /* A tile of rows at a time: its patches are copied, multiplied, biased and
     * activated while in cache. An output row is its patch row times K, but
     * not always to the same bits: OpenBLAS multiplies small products
     * (M N K <= 100^3 in 0.3.21) with a kernel of its own summation order,
     * so a tile may round otherwise than one product over all rows (within
     * float rounding; the bench CNN's numbers are the same bits). */
    int64_t cg = g->c / g->groups, og = cout / g->groups, K = g->kh * g->kw * cg, nt = n_tiles(g, rows);
    int kept = keeps_patches(g, batch);
    float *tile = work + patch_floats(g, batch);
    for (int64_t i = 0; i < nt; i++) {
        int64_t r0, r1;
        tile_span(rows, nt, i, &r0, &r1);
        int64_t t = r1 - r0;
        float *yt = y + r0 * cout;
        if (b)
            fill_rows(yt, b, t, cout);
        for (int64_t gi = 0; gi < g->groups; gi++) {
            float *cols = kept ? work + r0 * K : tile;
            im2col(g, x, r0, r0 + t, gi * cg, cg, cols);
            nninit__sgemm_ld(0, 0, t, og, K, 1.0f, cols, K, k + gi * og, cout, beta, yt + gi * og, cout);
        }
        if (act != NNINIT_ACT_LINEAR)
            nninit_act_forward(act, alpha, yt, a + r0 * cout, t, cout);
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
    int kept = keeps_patches(g, batch);
    float *tile = work + patch_floats(g, batch);
    if (dx)
        memset(dx, 0, (size_t)(batch * g->h * g->w * g->c) * sizeof *dx);
    for (int64_t n0 = 0; n0 < batch; n0 += nb) {
        int64_t m = (batch - n0 < nb ? batch - n0 : nb) * per, r0 = n0 * per;
        const float *dyc = dy + r0 * cout;
        for (int64_t gi = 0; gi < g->groups; gi++) {
            /* dK_g (K, og) += cols^T dy_g, over the forward's patches when kept */
            const float *cols = kept ? work + r0 * K : work;
            if (!kept)
                im2col(g, x, r0, r0 + m, gi * cg, cg, work);
            nninit__sgemm_ld(1, 0, K, og, m, 1.0f, cols, K, dyc + gi * og, cout, n0 ? 1.0f : 0.0f, dk + gi * og,
                             cout);
            if (!dx)
                continue;
            /* dcols (rows, K) = dy_g K_g^T a tile at a time, scattered back while in cache */
            for (int64_t i = 0, nt = n_tiles(g, m); i < nt; i++) {
                int64_t t0, t1;
                tile_span(m, nt, i, &t0, &t1);
                int64_t t = t1 - t0;
                nninit__sgemm_ld(0, 1, t, K, og, 1.0f, dyc + t0 * cout + gi * og, cout, k + gi * og, cout, 0.0f,
                                 tile, K);
                col2im(g, tile, r0 + t0, r0 + t0 + t, gi * cg, cg, dx);
            }
        }
    }
}
