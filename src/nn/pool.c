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

/* y, a = the max of (y, a) and (x, base + c) per channel: the first maximum
 * in window order wins (PyTorch's rule, as the strict >), and a NaN replaces
 * any number and is never replaced. Four lanes at a time, branch-free: the
 * same choices as the scalar tail. */
static void max_step(float *y, int32_t *a, const float *x, int32_t base, int64_t C)
{
    int64_t c = 0;
#if defined(__GNUC__)
    const v4si step = {0, 1, 2, 3};
    for (; c + 4 <= C; c += 4) {
        v4sf v, m;
        v4si ai;
        memcpy(&v, x + c, sizeof v);
        memcpy(&m, y + c, sizeof m);
        memcpy(&ai, a + c, sizeof ai);
        v4si take = (v > m) | ((v != v) & (m == m));
        v4si vi, mi, idx = (base + (int32_t)c) + step;
        memcpy(&vi, &v, sizeof vi);
        memcpy(&mi, &m, sizeof mi);
        mi = (vi & take) | (mi & ~take);
        ai = (idx & take) | (ai & ~take);
        memcpy(y + c, &mi, sizeof mi);
        memcpy(a + c, &ai, sizeof ai);
    }
#endif
    for (; c < C; c++) {
        float v = x[c];
        if (v > y[c] || (v != v && y[c] == y[c])) {
            y[c] = v;
            a[c] = base + (int32_t)c;
        }
    }
}

void nninit__maxpool_forward(const nninit__conv_geom *g, const float *x, int64_t batch, float *y, int32_t *argmax)
{
    int64_t C = g->c;
    for (int64_t n = 0; n < batch; n++) {
        const float *xs = x + n * g->h * g->w * C;
        for (int64_t oh = 0; oh < g->ho; oh++) {
            span rs = row_span(g, oh);
            for (int64_t ow = 0; ow < g->wo; ow++) {
                span cs = col_span(g, ow);
                int64_t o = ((n * g->ho + oh) * g->wo + ow) * C;
                float *yo = y + o;
                int32_t *ao = argmax + o;
                int first = 1; /* a window always has a position inside the image */
                for (int64_t i = rs.lo; i < rs.hi; i++) {
                    for (int64_t j = cs.lo; j < cs.hi; j++) {
                        int32_t base = (int32_t)tap(g, oh, ow, i, j);
                        if (first) {
                            nninit__copy_floats(yo, xs + base, C);
                            for (int64_t c = 0; c < C; c++)
                                ao[c] = base + (int32_t)c;
                            first = 0;
                        } else {
                            max_step(yo, ao, xs + base, base, C);
                        }
                    }
                }
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
