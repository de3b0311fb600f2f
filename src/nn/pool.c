/* Max and average pooling on NHWC batches. Each output row holds the C
 * channels of one window position, so the inner loops run over channels
 * (contiguous) and vectorise. Average pooling divides by the number of
 * window positions inside the image (TensorFlow's 'same' pooling; with
 * 'valid' every window is whole). One helper, window_span, gives every
 * kernel the window rows and columns inside the image, so no kernel tests
 * bounds per position. Max pooling keeps no index per output: the backward
 * finds the forward's choice again by comparing the input with the output
 * (a pass over data the forward left in memory costs less than writing and
 * reading an int per output), and where windows do not overlap (stride >=
 * window, the usual 2x2 pooling) it writes each input gradient once
 * instead of zeroing them all and adding. */
#include "nn/internal.h"

#include <string.h>

/* Window indices [lo, hi) of output row (or column) o whose positions
 * o s - p + i d fall inside [0, size): a contiguous run, since the position
 * grows with i. */
typedef struct span {
    int64_t lo, hi;
} span;

static span window_span(int64_t o, int64_t s, int64_t p, int64_t d, int64_t k, int64_t size)
{
    span r = {0, k};
    while (r.lo < k && o * s - p + r.lo * d < 0)
        r.lo++;
    while (r.hi > r.lo && o * s - p + (r.hi - 1) * d >= size)
        r.hi--;
    return r;
}

static span row_span(const nninit__conv_geom *g, int64_t oh)
{
    return window_span(oh, g->sh, g->pt, g->dh, g->kh, g->h);
}

static span col_span(const nninit__conv_geom *g, int64_t ow)
{
    return window_span(ow, g->sw, g->pl, g->dw, g->kw, g->w);
}

/* Offset (h w c order, channel 0) of window position (i, j) of output (oh, ow). */
static int64_t tap(const nninit__conv_geom *g, int64_t oh, int64_t ow, int64_t i, int64_t j)
{
    return ((oh * g->sh - g->pt + i * g->dh) * g->w + ow * g->sw - g->pl + j * g->dw) * g->c;
}

#if defined(__SSE2__)
#include <emmintrin.h>
#define POOL_SSE 1
#else
#define POOL_SSE 0
#endif

#define TAP_BLOCK 64 /* windows of more positions take the per-channel path */

/* Interior outputs: the windows wholly inside the image, whose tap offsets
 * from their first position are the same for all (`whole`). */
typedef struct interior {
    int64_t oh_lo, oh_hi, ow_lo, ow_hi;
    int32_t whole[TAP_BLOCK];
    int n; /* positions of a window; 0 when more than TAP_BLOCK */
} interior;

static void interior_init(const nninit__conv_geom *g, interior *in)
{
    nninit__window_inside(g->sh, g->pt, g->dh, g->kh, g->h, g->ho, &in->oh_lo, &in->oh_hi);
    nninit__window_inside(g->sw, g->pl, g->dw, g->kw, g->w, g->wo, &in->ow_lo, &in->ow_hi);
    in->n = g->kh * g->kw <= TAP_BLOCK ? (int)(g->kh * g->kw) : 0;
    for (int64_t i = 0, t = 0; in->n && i < g->kh; i++)
        for (int64_t j = 0; j < g->kw; j++)
            in->whole[t++] = (int32_t)((i * g->dh * g->w + j * g->dw) * g->c);
}

/* Offsets (from the sample, channel 0) of the positions of output (oh, ow)
 * inside the image, in window order, when there are at most TAP_BLOCK. */
static int border_taps(const nninit__conv_geom *g, int64_t oh, int64_t ow, int32_t *off)
{
    span rs = row_span(g, oh), cs = col_span(g, ow);
    int T = 0;
    for (int64_t i = rs.lo; i < rs.hi; i++)
        for (int64_t j = cs.lo; j < cs.hi; j++)
            off[T++] = (int32_t)tap(g, oh, ow, i, j);
    return T;
}

/* The tap of channel c that max pooling chooses: the first maximum in
 * window order (PyTorch's rule, as the strict >); a NaN replaces any
 * number and is never replaced. */
static int first_max(const float *x, const int32_t *off, int T, int64_t c)
{
    int best = 0;
    float m = x[off[0] + c];
    for (int t = 1; t < T; t++) {
        float v = x[off[t] + c];
        if (v > m || (v != v && m == m)) {
            m = v;
            best = t;
        }
    }
    return best;
}

/* y = the max over one window's T taps (offsets from x), per channel. Four
 * channels a step with maxps (v > m ? v : m: a tie keeps the earlier tap),
 * which lets a NaN tap lose: a group that met a NaN is redone by the rule. */
static void max_window(float *y, const float *x, const int32_t *off, int T, int64_t C)
{
    int64_t c = 0;
#if POOL_SSE
    for (; c + 4 <= C; c += 4) {
        __m128 m = _mm_loadu_ps(x + off[0] + c), nan = _mm_cmpunord_ps(m, m);
        for (int t = 1; t < T; t++) {
            __m128 v = _mm_loadu_ps(x + off[t] + c);
            nan = _mm_or_ps(nan, _mm_cmpunord_ps(v, v));
            m = _mm_max_ps(v, m);
        }
        if (!_mm_movemask_ps(nan)) {
            _mm_storeu_ps(y + c, m);
            continue;
        }
        for (int64_t k = c; k < c + 4; k++)
            y[k] = x[off[first_max(x, off, T, k)] + k];
    }
#endif
    for (; c < C; c++)
        y[c] = x[off[first_max(x, off, T, c)] + c];
}

/* The same for a window of more than TAP_BLOCK positions, a channel at a
 * time over the spans. */
static void max_large(const nninit__conv_geom *g, float *y, const float *xs, int64_t oh, int64_t ow)
{
    span rs = row_span(g, oh), cs = col_span(g, ow);
    for (int64_t c = 0; c < g->c; c++) {
        float m = xs[tap(g, oh, ow, rs.lo, cs.lo) + c];
        for (int64_t i = rs.lo; i < rs.hi; i++)
            for (int64_t j = cs.lo; j < cs.hi; j++) {
                float v = xs[tap(g, oh, ow, i, j) + c];
                if (v > m || (v != v && m == m))
                    m = v;
            }
        y[c] = m;
    }
}

void nninit__maxpool_forward_rows(const nninit__conv_geom *g, const float *x, int64_t q0, int64_t q1, float *y)
{
    int64_t C = g->c;
    interior in;
    interior_init(g, &in);
    int32_t off[TAP_BLOCK];
    for (int64_t q = q0; q < q1; q++) {
        int64_t n = q / g->ho, oh = q % g->ho;
        const float *xs = x + n * g->h * g->w * C;
        int rows_in = in.n && oh >= in.oh_lo && oh < in.oh_hi;
        for (int64_t ow = 0; ow < g->wo; ow++) {
            float *yo = y + (q * g->wo + ow) * C;
            if (!in.n)
                max_large(g, yo, xs, oh, ow);
            else if (rows_in && ow >= in.ow_lo && ow < in.ow_hi)
                max_window(yo, xs + tap(g, oh, ow, 0, 0), in.whole, in.n, C);
            else
                max_window(yo, xs, off, border_taps(g, oh, ow, off), C);
        }
    }
}

void nninit__maxpool_forward(const nninit__conv_geom *g, const float *x, int64_t batch, float *y)
{
    nninit__maxpool_forward_rows(g, x, 0, batch * g->ho, y);
}

int64_t nninit__maxpool_row_needs(const nninit__conv_geom *g, int64_t q)
{
    int64_t n = q / g->ho, oh = q % g->ho, last = oh * g->sh - g->pt + (g->kh - 1) * g->dh;
    return n * g->h + (last < g->h ? last : g->h - 1) + 1;
}

/* Backward of one window of T taps (offsets from x and dx): dy goes to the
 * first tap whose input equals the output y (the first NaN for a NaN y),
 * which is the forward's choice: the first maximum is the first input
 * equal to the maximum. assign: every tap's dx is written (0 but the
 * chosen), else the chosen one's dx += dy; adding the others' +0 changes
 * no bits of a sum that started at +0. */
static void grad_window(float *dx, const float *x, const float *y, const float *dy, const int32_t *off, int T,
                        int assign, int64_t C)
{
    int64_t c = 0;
#if POOL_SSE
    for (; c + 4 <= C; c += 4) {
        __m128 m = _mm_loadu_ps(y + c), d = _mm_loadu_ps(dy + c), done = _mm_setzero_ps();
        if (_mm_movemask_ps(_mm_cmpunord_ps(m, m)))
            break; /* a NaN output: this and the following channels by the rule */
        for (int t = 0; t < T; t++) {
            __m128 hit = _mm_andnot_ps(done, _mm_cmpeq_ps(_mm_loadu_ps(x + off[t] + c), m));
            __m128 v = _mm_and_ps(hit, d);
            done = _mm_or_ps(done, hit);
            if (!assign)
                v = _mm_add_ps(_mm_loadu_ps(dx + off[t] + c), v);
            _mm_storeu_ps(dx + off[t] + c, v);
        }
    }
#endif
    for (; c < C; c++) {
        int k = 0;
        while (k < T - 1 && !(x[off[k] + c] == y[c] || (y[c] != y[c] && x[off[k] + c] != x[off[k] + c])))
            k++;
        if (assign)
            for (int t = 0; t < T; t++)
                dx[off[t] + c] = t == k ? dy[c] : 0.0f;
        else
            dx[off[k] + c] += dy[c];
    }
}

/* The same for a window of more than TAP_BLOCK positions (never assigned). */
static void grad_large(const nninit__conv_geom *g, float *dxs, const float *xs, const float *y, const float *dy,
                       int64_t oh, int64_t ow)
{
    span rs = row_span(g, oh), cs = col_span(g, ow);
    for (int64_t c = 0; c < g->c; c++) {
        int64_t at = -1;
        for (int64_t i = rs.lo; i < rs.hi && at < 0; i++)
            for (int64_t j = cs.lo; j < cs.hi && at < 0; j++) {
                float v = xs[tap(g, oh, ow, i, j) + c];
                if (v == y[c] || (y[c] != y[c] && v != v))
                    at = tap(g, oh, ow, i, j) + c;
            }
        if (at >= 0)
            dxs[at] += dy[c];
    }
}

/* Zeros the input positions of one sample that no window reads (only with
 * windows that do not overlap, where dx is assigned, not summed): rows and
 * columns past the last window, and the gaps of a stride longer than the
 * window. */
static void zero_uncovered(const nninit__conv_geom *g, float *dxs)
{
    int64_t C = g->c;
    int all_cols = g->kw == g->sw && g->wo * g->sw - g->pl >= g->w;
    for (int64_t ih = 0; ih < g->h; ih++) {
        int64_t r = ih + g->pt;
        float *row = dxs + ih * g->w * C;
        if (r / g->sh >= g->ho || r % g->sh >= g->kh) {
            memset(row, 0, (size_t)(g->w * C) * sizeof *row);
            continue;
        }
        for (int64_t iw = 0, q = g->pl; !all_cols && iw < g->w; iw++, q++)
            if (q / g->sw >= g->wo || q % g->sw >= g->kw)
                memset(row + iw * C, 0, (size_t)C * sizeof *row);
    }
}

void nninit__maxpool_backward(const nninit__conv_geom *g, const float *x, const float *y, const float *dy,
                              int64_t batch, float *dx)
{
    int64_t C = g->c, isz = g->h * g->w * C;
    interior in;
    interior_init(g, &in);
    /* windows that share no input (stride >= window, no dilation): each dx
     * is written once, by its window or as an uncovered zero; else summed */
    int assign = in.n && g->dh == 1 && g->dw == 1 && g->kh <= g->sh && g->kw <= g->sw;
    int32_t off[TAP_BLOCK];
    if (!assign)
        memset(dx, 0, (size_t)(batch * isz) * sizeof *dx);
    for (int64_t n = 0; n < batch; n++) {
        const float *xs = x + n * isz;
        float *dxs = dx + n * isz;
        if (assign)
            zero_uncovered(g, dxs);
        for (int64_t oh = 0; oh < g->ho; oh++) {
            int rows_in = in.n && oh >= in.oh_lo && oh < in.oh_hi;
            for (int64_t ow = 0; ow < g->wo; ow++) {
                int64_t o = ((n * g->ho + oh) * g->wo + ow) * C;
                if (!in.n) {
                    grad_large(g, dxs, xs, y + o, dy + o, oh, ow);
                } else if (rows_in && ow >= in.ow_lo && ow < in.ow_hi) {
                    int64_t at = tap(g, oh, ow, 0, 0);
                    grad_window(dxs + at, xs + at, y + o, dy + o, in.whole, in.n, assign, C);
                } else {
                    grad_window(dxs, xs, y + o, dy + o, off, border_taps(g, oh, ow, off), assign, C);
                }
            }
        }
    }
}

void nninit__avgpool_forward(const nninit__conv_geom *g, const float *x, int64_t batch, float *y)
{
    int64_t C = g->c;
    for (int64_t n = 0; n < batch; n++) {
        const float *xs = x + n * g->h * g->w * C;
        for (int64_t oh = 0; oh < g->ho; oh++) {
            span rs = row_span(g, oh);
            for (int64_t ow = 0; ow < g->wo; ow++) {
                span cs = col_span(g, ow);
                float *yo = y + ((n * g->ho + oh) * g->wo + ow) * C;
                memset(yo, 0, (size_t)C * sizeof *yo);
                for (int64_t i = rs.lo; i < rs.hi; i++)
                    for (int64_t j = cs.lo; j < cs.hi; j++) {
                        const float *xp = xs + tap(g, oh, ow, i, j);
                        for (int64_t c = 0; c < C; c++)
                            yo[c] += xp[c];
                    }
                float inv = 1.0f / (float)((rs.hi - rs.lo) * (cs.hi - cs.lo));
                for (int64_t c = 0; c < C; c++)
                    yo[c] *= inv;
            }
        }
    }
}

void nninit__avgpool_backward(const nninit__conv_geom *g, const float *dy, int64_t batch, float *dx)
{
    int64_t C = g->c;
    memset(dx, 0, (size_t)(batch * g->h * g->w * C) * sizeof *dx);
    for (int64_t n = 0; n < batch; n++) {
        float *xs = dx + n * g->h * g->w * C;
        for (int64_t oh = 0; oh < g->ho; oh++) {
            span rs = row_span(g, oh);
            for (int64_t ow = 0; ow < g->wo; ow++) {
                span cs = col_span(g, ow);
                const float *yo = dy + ((n * g->ho + oh) * g->wo + ow) * C;
                float inv = 1.0f / (float)((rs.hi - rs.lo) * (cs.hi - cs.lo));
                for (int64_t i = rs.lo; i < rs.hi; i++)
                    for (int64_t j = cs.lo; j < cs.hi; j++) {
                        float *xp = xs + tap(g, oh, ow, i, j);
                        for (int64_t c = 0; c < C; c++)
                            xp[c] += yo[c] * inv;
                    }
            }
        }
    }
}
