/* Max and average pooling on NHWC batches. Each output row holds the C
 * channels of one window position, so the inner loops run over channels
 * (contiguous) and vectorise. Average pooling divides by the number of
 * window positions inside the image (TensorFlow's 'same' pooling; with
 * 'valid' every window is whole). One helper, window_span, gives every
 * kernel the window rows and columns inside the image, so no kernel tests
 * bounds per position. */
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

#if defined(__GNUC__)
typedef float v4sf __attribute__((vector_size(16)));
typedef int32_t v4si __attribute__((vector_size(16)));
#endif

#define TAP_BLOCK 64 /* window positions gathered per pass over the channels */

/* y, a = the max over taps t < T of (x + off[t], off[t] + c) per channel c,
 * continuing from (y, a) unless fresh (then from tap 0): the first maximum
 * in window order wins (PyTorch's rule, as the strict >), and a NaN
 * replaces any number and is never replaced. Each four channels are kept in
 * registers across the taps and stored once; branch-free, the same choices
 * as the scalar tail. */
static void max_taps(float *y, int32_t *a, const float *x, const int32_t *off, int T, int fresh, int64_t C)
{
    int64_t c = 0;
    int t0 = fresh ? 1 : 0;
#if defined(__GNUC__)
    const v4si step = {0, 1, 2, 3};
    for (; c + 4 <= C; c += 4) {
        v4sf m;
        v4si ai;
        if (fresh) {
            memcpy(&m, x + off[0] + c, sizeof m);
            ai = (off[0] + (int32_t)c) + step;
        } else {
            memcpy(&m, y + c, sizeof m);
            memcpy(&ai, a + c, sizeof ai);
        }
        for (int t = t0; t < T; t++) {
            v4sf v;
            memcpy(&v, x + off[t] + c, sizeof v);
            v4si take = (v > m) | ((v != v) & (m == m));
            v4si vi, mi;
            memcpy(&vi, &v, sizeof vi);
            memcpy(&mi, &m, sizeof mi);
            mi = (vi & take) | (mi & ~take);
            memcpy(&m, &mi, sizeof m);
            ai = ((off[t] + (int32_t)c + step) & take) | (ai & ~take);
        }
        memcpy(y + c, &m, sizeof m);
        memcpy(a + c, &ai, sizeof ai);
    }
#endif
    for (; c < C; c++) {
        float m = fresh ? x[off[0] + c] : y[c];
        int32_t ai = fresh ? off[0] + (int32_t)c : a[c];
        for (int t = t0; t < T; t++) {
            float v = x[off[t] + c];
            if (v > m || (v != v && m == m)) {
                m = v;
                ai = off[t] + (int32_t)c;
            }
        }
        y[c] = m;
        a[c] = ai;
    }
}

void nninit__maxpool_forward(const nninit__conv_geom *g, const float *x, int64_t batch, float *y, int32_t *argmax)
{
    int64_t C = g->c;
    int32_t off[TAP_BLOCK];
    for (int64_t n = 0; n < batch; n++) {
        const float *xs = x + n * g->h * g->w * C;
        for (int64_t oh = 0; oh < g->ho; oh++) {
            span rs = row_span(g, oh);
            for (int64_t ow = 0; ow < g->wo; ow++) {
                span cs = col_span(g, ow);
                int64_t o = ((n * g->ho + oh) * g->wo + ow) * C;
                int T = 0, fresh = 1; /* a window always has a position inside the image */
                for (int64_t i = rs.lo; i < rs.hi; i++)
                    for (int64_t j = cs.lo; j < cs.hi; j++) {
                        off[T++] = (int32_t)tap(g, oh, ow, i, j);
                        if (T == TAP_BLOCK) {
                            max_taps(y + o, argmax + o, xs, off, T, fresh, C);
                            T = fresh = 0;
                        }
                    }
                if (T)
                    max_taps(y + o, argmax + o, xs, off, T, fresh, C);
            }
        }
    }
}

void nninit__maxpool_backward(const nninit__conv_geom *g, const int32_t *argmax, const float *dy, int64_t batch,
                              float *dx)
{
    int64_t in = g->h * g->w * g->c, out = g->ho * g->wo * g->c;
    memset(dx, 0, (size_t)(batch * in) * sizeof *dx);
    for (int64_t n = 0; n < batch; n++)
        for (int64_t o = 0; o < out; o++)
            dx[n * in + argmax[n * out + o]] += dy[n * out + o];
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
