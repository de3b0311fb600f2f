/* GELU in both forms the frameworks name: exact (through the activation
 * table, act.c) and the tanh approximation of Hendrycks & Gimpel. */
#include "nn/internal.h"

#define SQRT_2_OVER_PI 0.79788456080286535588f /* sqrt(2 / pi) */
#define GELU_CUBIC 0.044715f

void nninit__gelu_forward(int approximate, const float *x, int64_t n, float *y)
{
    if (!approximate) {
        nninit_act_forward(NNINIT_ACT_GELU, 0.0, x, y, 1, n);
        return;
    }
    for (int64_t i = 0; i < n; i++) {
        float v = x[i];
        y[i] = 0.5f * v * (1.0f + tanhf(SQRT_2_OVER_PI * (v + GELU_CUBIC * v * v * v)));
    }
}

void nninit__gelu_backward(int approximate, const float *x, const float *dy, int64_t n, float *dx)
{
    if (!approximate) {
        nninit_act_backward(NNINIT_ACT_GELU, 0.0, x, NULL, dy, dx, 1, n);
        return;
    }
    /* d/dx 0.5 x (1 + tanh u), u = c (x + k x^3):
     * 0.5 (1 + tanh u) + 0.5 x (1 - tanh^2 u) c (1 + 3 k x^2) */
    for (int64_t i = 0; i < n; i++) {
        float v = x[i];
        float th = tanhf(SQRT_2_OVER_PI * (v + GELU_CUBIC * v * v * v));
        float du = SQRT_2_OVER_PI * (1.0f + 3.0f * GELU_CUBIC * v * v);
        dx[i] = dy[i] * (0.5f * (1.0f + th) + 0.5f * v * (1.0f - th * th) * du);
    }
}
