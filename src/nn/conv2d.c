/* Conv2D on NHWC batches by im2col + sgemm: the patches of the samples
 * become the rows of a matrix (kh, kw, c per row, the order of an HWIO
 * kernel's rows), so one product per group gives the output columns of that
 * group. With one group the whole batch's patches are kept (up to 32 MB) from
 * the forward for the backward's kernel gradient; otherwise chunks of about
 * 8 MB are copied in each pass. The kernel gradient sums over chunks of
 * CHUNK_FLOATS patches whatever is kept (the chunking fixes its rounding).
 * The patch gradient is made and scattered back a tile of rows at a time,
 * in a buffer of its own that stays in cache. 1x1 convolutions with stride
 * 1 and no padding skip the copy. A one-channel input (an image's first
 * layer) with at most DIRECT_TAPS window positions is convolved directly
 * (conv2d_direct_impl.h): there a patch row is K floats for K products per
 * output, so the copy cost more than the product, and an sgemm with an
 * inner dimension of 9 spends most of its time packing. */
#include "nn/internal.h"

#include <string.h>

#define CHUNK_FLOATS ((int64_t)1 << 21) /* 8 MB of patches per kernel-gradient product */
#define KEEP_FLOATS ((int64_t)1 << 23)  /* keep up to 32 MB of one batch's patches */
#define TILE_FLOATS ((int64_t)1 << 16)  /* 256 KB of patch gradient per scatter */
#define DIRECT_TAPS 64                  /* most window positions of the direct one-channel kernels */
#define DIRECT_ROWS 32                  /* rows per float partial sum of the direct kernel gradient */

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

void nninit__window_inside(int64_t s, int64_t p, int64_t d, int64_t k, int64_t size, int64_t n_out, int64_t *lo,
                           int64_t *hi)
{
    int64_t last = size - 1 - (k - 1) * d + p; /* o s <= last */
    *lo = (p + s - 1) / s;
    *hi = last < 0 ? 0 : last / s + 1;
    if (*hi > n_out)
        *hi = n_out;
    if (*lo > *hi)
        *lo = *hi;
}

static int is_pointwise(const nninit__conv_geom *g)
{
    return g->kh == 1 && g->kw == 1 && g->sh == 1 && g->sw == 1 && g->groups == 1;
}

static int64_t patch_width(const nninit__conv_geom *g)
{
    return g->kh * g->kw * (g->c / g->groups);
}

static int is_direct(const nninit__conv_geom *g)
{
    return g->c == 1 && g->groups == 1 && !is_pointwise(g) && g->kh * g->kw <= DIRECT_TAPS;
}

/* Floats of work the direct kernel gradient sums in (K x cout doubles). */
static int64_t direct_sum_floats(const nninit__conv_geom *g)
{
    return is_direct(g) ? 2 * g->kh * g->kw * g->cout : 0;
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
    return !is_pointwise(g) && !is_direct(g) && g->groups == 1 &&
           batch * g->ho * g->wo * patch_width(g) <= KEEP_FLOATS;
}

/* Floats of patches the work buffer holds: the whole batch's, or a chunk's. */
static int64_t patch_floats(const nninit__conv_geom *g, int64_t batch)
{
    if (is_direct(g))
        return direct_sum_floats(g);
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
    int64_t keepable = g->groups == 1 && !is_direct(g) ? (per > 0 ? KEEP_FLOATS / per : batch) : 0;
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

/* Inlined with the window size a constant (the 3x3 case) the kernels keep
 * the kernel rows and sums in registers. */
#if defined(__GNUC__)
#define CD_INLINE __attribute__((always_inline))
#define CD_UNROLL _Pragma("GCC unroll 9")
#else
#define CD_INLINE
#define CD_UNROLL
#endif

/* The K = kh kw inputs of output (n, oh, ow) of a one-channel image, in
 * window order, zeros outside the image (what im2col would copy). */
CD_INLINE static inline void gather_taps(const nninit__conv_geom *g, const float *x, int64_t n, int64_t oh,
                                         int64_t ow, float *xv)
{
    const float *xs = x + n * g->h * g->w;
    int64_t ih0 = oh * g->sh - g->pt, iw0 = ow * g->sw - g->pl;
    for (int64_t i = 0; i < g->kh; i++) {
        int64_t ih = ih0 + i * g->dh;
        for (int64_t j = 0; j < g->kw; j++) {
            int64_t iw = iw0 + j * g->dw;
            xv[i * g->kw + j] = ih >= 0 && ih < g->h && iw >= 0 && iw < g->w ? xs[ih * g->w + iw] : 0.0f;
        }
    }
}

/* The rows [r, r + len) of a range of output rows that lie in one output
 * row (oh of sample n, columns ow .. ow + len), for the direct kernels. */
typedef struct direct_seg {
    int64_t r, n, oh, ow, len;
    int rows_in;          /* the windows' rows lie inside the image */
    int64_t in_lo, in_hi; /* the columns whose windows lie inside the image */
    const float *top;     /* (rows_in) x at the windows' first row, column 0 */
} direct_seg;

static void direct_seg_fill(const nninit__conv_geom *g, const float *x, int64_t r1, direct_seg *s)
{
    s->len = r1 - s->r < g->wo - s->ow ? r1 - s->r : g->wo - s->ow;
    int64_t ih0 = s->oh * g->sh - g->pt;
    s->rows_in = ih0 >= 0 && ih0 + (g->kh - 1) * g->dh < g->h;
    s->top = s->rows_in ? x + (s->n * g->h + ih0) * g->w : NULL;
}

static void direct_seg_first(const nninit__conv_geom *g, const float *x, int64_t r0, int64_t r1, direct_seg *s)
{
    rowpos p = row_at(g, r0);
    s->r = r0;
    s->n = p.n;
    s->oh = p.oh;
    s->ow = p.ow;
    nninit__window_inside(g->sw, g->pl, g->dw, g->kw, g->w, g->wo, &s->in_lo, &s->in_hi);
    s->len = 0;
    if (r0 < r1)
        direct_seg_fill(g, x, r1, s);
}

static void direct_seg_next(const nninit__conv_geom *g, const float *x, int64_t r1, direct_seg *s)
{
    s->r += s->len;
    s->ow += s->len;
    if (s->ow == g->wo) {
        s->ow = 0;
        if (++s->oh == g->ho) {
            s->oh = 0;
            s->n++;
        }
    }
    s->len = 0;
    if (s->r < r1)
        direct_seg_fill(g, x, r1, s);
}

#if defined(__GNUC__)
typedef float cd_v4f __attribute__((vector_size(16)));
#define LANES 4
#define CD_F cd_v4f
#define CD_ATTR
#define CD_NAME(f) direct_##f##_4
#include "nn/conv2d_direct_impl.h"
#undef LANES
#undef CD_F
#undef CD_ATTR
#undef CD_NAME
#if defined(__x86_64__)
#define DIRECT_WIDE 1
typedef float cd_v8f __attribute__((vector_size(32)));
#define LANES 8
#define CD_F cd_v8f
#define CD_ATTR __attribute__((target("avx2")))
#define CD_NAME(f) direct_##f##_8
#include "nn/conv2d_direct_impl.h"
#undef LANES
#undef CD_F
#undef CD_ATTR
#undef CD_NAME
#endif
#endif
#ifndef DIRECT_WIDE
#define DIRECT_WIDE 0
#endif

/* The widest kernels the CPU runs (lanes: at most that many; the test
 * compares the widths): 8 lanes with AVX2, else 4 (SSE2 on x86-64). On
 * Zen 4 16 lanes (AVX-512) run as two halves and gain nothing. */
static int direct_lanes(int lanes)
{
#if DIRECT_WIDE
    if (lanes >= 8 && __builtin_cpu_supports("avx2"))
        return 8;
#endif
    (void)lanes;
    return 4;
}

void nninit__conv2d_direct_forward(const nninit__conv_geom *g, const float *x, const float *k, const float *b,
                                   int64_t r0, int64_t r1, float *y, int lanes)
{
#if DIRECT_WIDE
    if (direct_lanes(lanes) == 8) {
        direct_fwd_8(g, x, k, b, r0, r1, y);
        return;
    }
#endif
    direct_fwd_4(g, x, k, b, r0, r1, y);
}

void nninit__conv2d_direct_kgrad(const nninit__conv_geom *g, const float *x, const float *dy, int64_t rows,
                                 float *dk, double *sum, int lanes)
{
    int64_t n = g->kh * g->kw * g->cout;
    memset(sum, 0, (size_t)n * sizeof *sum);
#if DIRECT_WIDE
    if (direct_lanes(lanes) == 8)
        direct_kgrad_8(g, x, dy, rows, sum);
    else
#endif
        direct_kgrad_4(g, x, dy, rows, sum);
    for (int64_t i = 0; i < n; i++)
        dk[i] = (float)sum[i];
}

/* Max pools the output rows of the pooling (q counts them, of `total`)
 * whose inputs the tiles so far completed (the conv's rows [0, r1)), while
 * the last tile is in cache. A pool row reads conv image rows up to
 * nninit__maxpool_row_needs, which grows with the row. */
static void pool_ready(const nninit__conv_geom *g, const nninit__conv_geom *pool, const float *out, int64_t r1,
                       int64_t total, int64_t *q, float *pooled)
{
    int64_t done = r1 / g->wo, q0 = *q;
    while (*q < total && nninit__maxpool_row_needs(pool, *q) <= done)
        ++*q;
    if (*q > q0)
        nninit__maxpool_forward_rows(pool, out, q0, *q, pooled);
}

void nninit__conv2d_forward(const nninit__conv_geom *g, const float *x, const float *k, const float *b,
                            nninit_act act, double alpha, int64_t batch, float *y, float *a, float *work,
                            const nninit__conv_geom *pool, float *pooled)
{
    const float *out = act != NNINIT_ACT_LINEAR ? a : y; /* what the pooling reads */
    int64_t q = 0;
    int64_t rows = batch * g->ho * g->wo, cout = g->cout;
    float beta = b ? 1.0f : 0.0f;
    if (is_pointwise(g)) {
        if (b)
            fill_rows(y, b, rows, cout);
        nninit__sgemm(0, 0, rows, cout, g->c, 1.0f, x, k, beta, y);
        if (act != NNINIT_ACT_LINEAR)
            nninit_act_forward(act, alpha, y, a, rows, cout);
        if (pool)
            pool_ready(g, pool, out, rows, batch * pool->ho, &q, pooled);
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
        if (is_direct(g)) {
            nninit__conv2d_direct_forward(g, x, k, b, r0, r1, yt, 16);
            if (act != NNINIT_ACT_LINEAR)
                nninit_act_forward(act, alpha, yt, a + r0 * cout, t, cout);
            if (pool)
                pool_ready(g, pool, out, r1, batch * pool->ho, &q, pooled);
            continue;
        }
        if (b)
            fill_rows(yt, b, t, cout);
        for (int64_t gi = 0; gi < g->groups; gi++) {
            float *cols = kept ? work + r0 * K : tile;
            im2col(g, x, r0, r0 + t, gi * cg, cg, cols);
            nninit__sgemm_ld(0, 0, t, og, K, 1.0f, cols, K, k + gi * og, cout, beta, yt + gi * og, cout);
        }
        if (act != NNINIT_ACT_LINEAR)
            nninit_act_forward(act, alpha, yt, a + r0 * cout, t, cout);
        if (pool)
            pool_ready(g, pool, out, r1, batch * pool->ho, &q, pooled);
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
    int kept = keeps_patches(g, batch), direct = is_direct(g);
    float *tile = work + patch_floats(g, batch);
    if (direct) /* the sum's doubles at the start of work (malloc's alignment) */
        nninit__conv2d_direct_kgrad(g, x, dy, rows, dk, (double *)(void *)work, 16);
    if (dx)
        memset(dx, 0, (size_t)(batch * g->h * g->w * g->c) * sizeof *dx);
    for (int64_t n0 = 0; n0 < batch; n0 += nb) {
        int64_t m = (batch - n0 < nb ? batch - n0 : nb) * per, r0 = n0 * per;
        const float *dyc = dy + r0 * cout;
        for (int64_t gi = 0; gi < g->groups; gi++) {
            /* dK_g (K, og) += cols^T dy_g, over the forward's patches when kept */
            const float *cols = kept ? work + r0 * K : work;
            if (!kept && !direct)
                im2col(g, x, r0, r0 + m, gi * cg, cg, work);
            if (!direct)
                nninit__sgemm_ld(1, 0, K, og, m, 1.0f, cols, K, dyc + gi * og, cout, n0 ? 1.0f : 0.0f,
                                 dk + gi * og, cout);
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
