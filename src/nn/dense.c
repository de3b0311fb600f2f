/* Dense layer kernels: y = x W + b with W stored (in, out) as Keras stores
 * a Dense kernel; every product is one sgemm (seq_linear.c holds both
 * weight layouts). */
#include "nn/internal.h"

void nninit__dense_forward(const float *x, const float *w, const float *b, int64_t batch, int64_t n_in,
                           int64_t n_out, float *y)
{
    nninit__linear_forward(0, x, w, b, batch, n_in, n_out, y);
}

void nninit__dense_backward(const float *x, const float *w, const float *dy, int64_t batch, int64_t n_in,
                            int64_t n_out, float *dw, float *db, float *dx)
{
    nninit__linear_backward(0, x, w, dy, batch, n_in, n_out, dw, db, dx, 0);
}
