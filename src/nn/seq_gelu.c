/* GELU in both forms the frameworks name: exact x Phi(x) and the tanh
 * approximation of Hendrycks & Gimpel, on the vectorised exp, tanh and
 * normal CDF of seq_vmath.c (the engine's gelu activation comes here too). */
#include "nn/internal.h"

#include <string.h>

#define SQRT_2_OVER_PI 0.79788456080286535588f /* sqrt(2 / pi) */
#define INV_SQRT_2PI 0.39894228040143267794f   /* 1 / sqrt(2 pi) */
#define GELU_CUBIC 0.044715f
#define CHUNK 256 /* values per pass through the vector functions */

/* The elementwise steps, written once for a float and for four lanes (the
 * same operations in the same order, so the same bits either way):
 * the tanh form's argument, the forward from Phi or tanh u, and the
 * backward from Phi, e^{-x^2/2} or tanh u. */
#define TANH_ARG(x) (SQRT_2_OVER_PI * ((x) + GELU_CUBIC * (x) * (x) * (x)))
#define HALF_NEG_SQ(x) (-0.5f * (x) * (x))
#define FWD_EXACT(x, a) ((x) * (a))
#define FWD_TANH(x, a) (0.5f * (x) * (1.0f + (a)))
#define BWD_EXACT(g, x, a, e) ((g) * ((a) + (x) * (e) * INV_SQRT_2PI))
#define BWD_TANH(g, x, a)                                                                                       \
    ((g) * (0.5f * (1.0f + (a)) + 0.5f * (x) * (1.0f - (a) * (a)) * (SQRT_2_OVER_PI * (1.0f + 3.0f * GELU_CUBIC * (x) * (x)))))

#if NNINIT__V4
#define LD(p) nninit__v4_load(p)
#define MAP1(out, e1, in)                                                                                        \
    do {                                                                                                         \
        int64_t i_ = 0;                                                                                          \
        for (; i_ + 4 <= m; i_ += 4) {                                                                           \
            nninit__v4f x_ = LD(in + i_);                                                                        \
            nninit__v4_store(out + i_, e1(x_));                                                                  \
        }                                                                                                        \
        for (; i_ < m; i_++)                                                                                     \
            out[i_] = e1(in[i_]);                                                                                \
    } while (0)
#define MAP2(out, e2, in, b)                                                                                     \
    do {                                                                                                         \
        int64_t i_ = 0;                                                                                          \
        for (; i_ + 4 <= m; i_ += 4)                                                                             \
            nninit__v4_store(out + i_, e2(LD(in + i_), LD(b + i_)));                                             \
        for (; i_ < m; i_++)                                                                                     \
            out[i_] = e2(in[i_], b[i_]);                                                                         \
    } while (0)
#define MAP3(out, e3, g, in, b)                                                                                  \
    do {                                                                                                         \
        int64_t i_ = 0;                                                                                          \
        for (; i_ + 4 <= m; i_ += 4)                                                                             \
            nninit__v4_store(out + i_, e3(LD(g + i_), LD(in + i_), LD(b + i_)));                                 \
        for (; i_ < m; i_++)                                                                                     \
            out[i_] = e3(g[i_], in[i_], b[i_]);                                                                  \
    } while (0)
#define MAP4(out, e4, g, in, b, c)                                                                               \
    do {                                                                                                         \
        int64_t i_ = 0;                                                                                          \
        for (; i_ + 4 <= m; i_ += 4)                                                                             \
            nninit__v4_store(out + i_, e4(LD(g + i_), LD(in + i_), LD(b + i_), LD(c + i_)));                     \
        for (; i_ < m; i_++)                                                                                     \
            out[i_] = e4(g[i_], in[i_], b[i_], c[i_]);                                                           \
    } while (0)
#else
#define MAP1(out, e1, in)                                                                                        \
    for (int64_t i_ = 0; i_ < m; i_++)                                                                           \
    out[i_] = e1(in[i_])
#define MAP2(out, e2, in, b)                                                                                     \
    for (int64_t i_ = 0; i_ < m; i_++)                                                                           \
    out[i_] = e2(in[i_], b[i_])
#define MAP3(out, e3, g, in, b)                                                                                  \
    for (int64_t i_ = 0; i_ < m; i_++)                                                                           \
    out[i_] = e3(g[i_], in[i_], b[i_])
#define MAP4(out, e4, g, in, b, c)                                                                               \
    for (int64_t i_ = 0; i_ < m; i_++)                                                                           \
    out[i_] = e4(g[i_], in[i_], b[i_], c[i_])
#endif

void nninit__gelu_forward(int approximate, const float *x, int64_t n, float *y, float *keep)
{
    for (int64_t i0 = 0; i0 < n; i0 += CHUNK) {
        int64_t m = n - i0 < CHUNK ? n - i0 : CHUNK;
        const float *xc = x + i0;
        float *yc = y + i0, buf[CHUNK], *u = keep ? keep + i0 : buf;
        if (!approximate) {
            nninit__vnormcdff(xc, u, m);
            MAP2(yc, FWD_EXACT, xc, u);
        } else {
            MAP1(u, TANH_ARG, xc);
            nninit__vtanhf(u, u, m);
            MAP2(yc, FWD_TANH, xc, u);
        }
    }
}

/* dx of m <= CHUNK values. */
static void backward_chunk(int approximate, const float *xc, const float *keep, const float *gc, int64_t m,
                           float *dc)
{
    float abuf[CHUNK], b[CHUNK];
    /* Phi(x) or tanh u: what the forward kept (the same bits), else computed here */
    const float *a = keep ? keep : abuf;
    if (!approximate) {
        /* Phi(x) + x phi(x), phi(x) = e^{-x^2/2} / sqrt(2 pi) */
        if (!keep)
            nninit__vnormcdff(xc, abuf, m);
        MAP1(b, HALF_NEG_SQ, xc);
        nninit__vexpf(b, b, m);
        MAP4(dc, BWD_EXACT, gc, xc, a, b);
    } else {
        /* d/dx 0.5 x (1 + tanh u), u = c (x + k x^3):
         * 0.5 (1 + tanh u) + 0.5 x (1 - tanh^2 u) c (1 + 3 k x^2) */
        if (!keep) {
            MAP1(abuf, TANH_ARG, xc);
            nninit__vtanhf(abuf, abuf, m);
        }
        MAP3(dc, BWD_TANH, gc, xc, a);
    }
}

void nninit__gelu_backward(int approximate, const float *x, const float *keep, const float *dy, int64_t n,
                           float *dx)
{
    for (int64_t i0 = 0; i0 < n; i0 += CHUNK) {
        int64_t m = n - i0 < CHUNK ? n - i0 : CHUNK;
        backward_chunk(approximate, x + i0, keep ? keep + i0 : NULL, dy + i0, m, dx + i0);
    }
}

void nninit__gelu_backward_bias(int approximate, const float *x, const float *keep, const float *dy, int64_t rows,
                                int64_t n, float *dx, float *db)
{
    for (int64_t r = 0; r < rows; r++)
        for (int64_t i0 = 0; i0 < n; i0 += CHUNK) {
            int64_t m = n - i0 < CHUNK ? n - i0 : CHUNK, o = r * n + i0;
            backward_chunk(approximate, x + o, keep ? keep + o : NULL, dy + o, m, dx + o);
            if (!db)
                continue;
            /* the column sums of dx, rows in order as nninit__col_sums adds them */
            float *dbc = db + i0;
            const float *dc = dx + o;
            if (r == 0)
                memcpy(dbc, dc, (size_t)m * sizeof *dbc);
            else
                nninit__vadd(dbc, dbc, dc, m);
        }
}
