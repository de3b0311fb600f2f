/* GELU in both forms the frameworks name: exact x Phi(x) and the tanh
 * approximation of Hendrycks & Gimpel, on the vectorised exp, tanh and
 * normal CDF of seq_vmath.c (the engine's gelu activation comes here too). */
#include "nn/internal.h"

#define SQRT_2_OVER_PI 0.79788456080286535588f /* sqrt(2 / pi) */
#define INV_SQRT_2PI 0.39894228040143267794f   /* 1 / sqrt(2 pi) */
#define GELU_CUBIC 0.044715f
#define CHUNK 256 /* values per pass through the vector functions */

void nninit__gelu_forward(int approximate, const float *x, int64_t n, float *y)
{
    for (int64_t i0 = 0; i0 < n; i0 += CHUNK) {
        int64_t m = n - i0 < CHUNK ? n - i0 : CHUNK;
        const float *xc = x + i0;
        float *yc = y + i0, u[CHUNK];
        if (!approximate) {
            nninit__vnormcdff(xc, u, m);
            for (int64_t i = 0; i < m; i++)
                yc[i] = xc[i] * u[i];
        } else {
            for (int64_t i = 0; i < m; i++)
                u[i] = SQRT_2_OVER_PI * (xc[i] + GELU_CUBIC * xc[i] * xc[i] * xc[i]);
            nninit__vtanhf(u, u, m);
            for (int64_t i = 0; i < m; i++)
                yc[i] = 0.5f * xc[i] * (1.0f + u[i]);
        }
    }
}

void nninit__gelu_backward(int approximate, const float *x, const float *dy, int64_t n, float *dx)
{
    for (int64_t i0 = 0; i0 < n; i0 += CHUNK) {
        int64_t m = n - i0 < CHUNK ? n - i0 : CHUNK;
        const float *xc = x + i0, *gc = dy + i0;
        float *dc = dx + i0, a[CHUNK], b[CHUNK];
        if (!approximate) {
            /* Phi(x) + x phi(x), phi(x) = e^{-x^2/2} / sqrt(2 pi) */
            nninit__vnormcdff(xc, a, m);
            for (int64_t i = 0; i < m; i++)
                b[i] = -0.5f * xc[i] * xc[i];
            nninit__vexpf(b, b, m);
            for (int64_t i = 0; i < m; i++)
                dc[i] = gc[i] * (a[i] + xc[i] * b[i] * INV_SQRT_2PI);
        } else {
            /* d/dx 0.5 x (1 + tanh u), u = c (x + k x^3):
             * 0.5 (1 + tanh u) + 0.5 x (1 - tanh^2 u) c (1 + 3 k x^2) */
            for (int64_t i = 0; i < m; i++)
                a[i] = SQRT_2_OVER_PI * (xc[i] + GELU_CUBIC * xc[i] * xc[i] * xc[i]);
            nninit__vtanhf(a, a, m);
            for (int64_t i = 0; i < m; i++) {
                float du = SQRT_2_OVER_PI * (1.0f + 3.0f * GELU_CUBIC * xc[i] * xc[i]);
                dc[i] = gc[i] * (0.5f * (1.0f + a[i]) + 0.5f * xc[i] * (1.0f - a[i] * a[i]) * du);
            }
        }
    }
}
