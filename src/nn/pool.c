/* Max and average pooling on NHWC batches. Each output row holds the C
 * channels of one window position, so the inner loops run over channels
 * (contiguous) and vectorise. Average pooling divides by the number of
 * window positions inside the image (TensorFlow's 'same' pooling; with
 * 'valid' every window is whole). */
#include "nn/internal.h"

#include <string.h>

void nninit__maxpool_forward(const nninit__conv_geom *g, const float *x, int64_t batch, float *y, int32_t *argmax)
{
    int64_t C = g->c;
    for (int64_t n = 0; n < batch; n++) {
        const float *xs = x + n * g->h * g->w * C;
        for (int64_t oh = 0; oh < g->ho; oh++)
            for (int64_t ow = 0; ow < g->wo; ow++) {
                int64_t o = ((n * g->ho + oh) * g->wo + ow) * C;
                float *yo = y + o;
                int32_t *ao = argmax + o;
                int first = 1;
                for (int64_t i = 0; i < g->kh; i++) {
                    int64_t ih = oh * g->sh - g->pt + i * g->dh;
                    if (ih < 0 || ih >= g->h)
                        continue;
                    for (int64_t j = 0; j < g->kw; j++) {
                        int64_t iw = ow * g->sw - g->pl + j * g->dw;
                        if (iw < 0 || iw >= g->w)
                            continue;
                        int64_t base = (ih * g->w + iw) * C;
                        const float *xp = xs + base;
                        /* the first maximum in window order wins (PyTorch's rule); a NaN
                         * replaces any number and is never replaced */
                        if (first) {
                            for (int64_t c = 0; c < C; c++) {
                                yo[c] = xp[c];
                                ao[c] = (int32_t)(base + c);
                            }
                            first = 0;
                            continue;
                        }
                        for (int64_t c = 0; c < C; c++) {
                            float v = xp[c];
                            if (v > yo[c] || (v != v && yo[c] == yo[c])) {
                                yo[c] = v;
                                ao[c] = (int32_t)(base + c);
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

/* Window positions of output row (or column) o that fall inside the image. */
static int64_t inside(int64_t o, int64_t s, int64_t p, int64_t d, int64_t k, int64_t size)
{
    int64_t cnt = 0;
    for (int64_t i = 0; i < k; i++) {
        int64_t at = o * s - p + i * d;
        cnt += at >= 0 && at < size;
    }
    return cnt;
}

void nninit__avgpool_forward(const nninit__conv_geom *g, const float *x, int64_t batch, float *y)
{
    int64_t C = g->c;
    for (int64_t n = 0; n < batch; n++) {
        const float *xs = x + n * g->h * g->w * C;
        for (int64_t oh = 0; oh < g->ho; oh++)
            for (int64_t ow = 0; ow < g->wo; ow++) {
                float *yo = y + ((n * g->ho + oh) * g->wo + ow) * C;
                int64_t cnt = inside(oh, g->sh, g->pt, g->dh, g->kh, g->h) * inside(ow, g->sw, g->pl, g->dw, g->kw, g->w);
                memset(yo, 0, (size_t)C * sizeof *yo);
                for (int64_t i = 0; i < g->kh; i++) {
                    int64_t ih = oh * g->sh - g->pt + i * g->dh;
                    if (ih < 0 || ih >= g->h)
                        continue;
                    for (int64_t j = 0; j < g->kw; j++) {
                        int64_t iw = ow * g->sw - g->pl + j * g->dw;
                        if (iw < 0 || iw >= g->w)
                            continue;
                        const float *xp = xs + (ih * g->w + iw) * C;
                        for (int64_t c = 0; c < C; c++)
                            yo[c] += xp[c];
                    }
                }
                float inv = 1.0f / (float)cnt;
                for (int64_t c = 0; c < C; c++)
                    yo[c] *= inv;
            }
    }
}

void nninit__avgpool_backward(const nninit__conv_geom *g, const float *dy, int64_t batch, float *dx)
{
    int64_t C = g->c;
    memset(dx, 0, (size_t)(batch * g->h * g->w * C) * sizeof *dx);
    for (int64_t n = 0; n < batch; n++) {
        float *xs = dx + n * g->h * g->w * C;
        for (int64_t oh = 0; oh < g->ho; oh++)
            for (int64_t ow = 0; ow < g->wo; ow++) {
                const float *yo = dy + ((n * g->ho + oh) * g->wo + ow) * C;
                int64_t cnt = inside(oh, g->sh, g->pt, g->dh, g->kh, g->h) * inside(ow, g->sw, g->pl, g->dw, g->kw, g->w);
                float inv = 1.0f / (float)cnt;
                for (int64_t i = 0; i < g->kh; i++) {
                    int64_t ih = oh * g->sh - g->pt + i * g->dh;
                    if (ih < 0 || ih >= g->h)
                        continue;
                    for (int64_t j = 0; j < g->kw; j++) {
                        int64_t iw = ow * g->sw - g->pl + j * g->dw;
                        if (iw < 0 || iw >= g->w)
                            continue;
                        float *xp = xs + (ih * g->w + iw) * C;
                        for (int64_t c = 0; c < C; c++)
                            xp[c] += yo[c] * inv;
                    }
                }
            }
    }
}
