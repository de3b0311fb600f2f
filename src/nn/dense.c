/* Dense layer kernels: y = x W + b with W stored (in, out) as Keras stores
 * a Dense kernel; every product is one sgemm. */
#include "nn/internal.h"

#include <string.h>

void nninit__dense_forward(const float *x, const float *w, const float *b, int64_t batch, int64_t n_in,
                           int64_t n_out, float *y)
{
    /* y (batch, n_out) starts as the bias rows, then y += x (batch, n_in) W (n_in, n_out). */
    if (b) {
        for (int64_t r = 0; r < batch; r++)
            memcpy(y + r * n_out, b, (size_t)n_out * sizeof *y);
    }
    nninit__sgemm(0, 0, batch, n_out, n_in, 1.0f, x, w, b ? 1.0f : 0.0f, y);
}

void nninit__dense_backward(const float *x, const float *w, const float *dy, int64_t batch, int64_t n_in,
                            int64_t n_out, float *dw, float *db, float *dx)
{
    /* dW (n_in, n_out) = x^T (n_in, batch) dy (batch, n_out) */
    nninit__sgemm(1, 0, n_in, n_out, batch, 1.0f, x, dy, 0.0f, dw);
    if (db) {
        /* column sums in row order: a fixed order, whatever the threads; the
         * vector lanes are distinct columns, so they add in the same order */
        memcpy(db, dy, (size_t)n_out * sizeof *db);
        for (int64_t r = 1; r < batch; r++) {
            const float *row = dy + r * n_out;
            int64_t j = 0;
#if defined(__GNUC__)
            typedef float v4sf __attribute__((vector_size(16)));
            for (; j + 4 <= n_out; j += 4) {
                v4sf acc, add;
                memcpy(&acc, db + j, sizeof acc);
                memcpy(&add, row + j, sizeof add);
                acc += add;
                memcpy(db + j, &acc, sizeof acc);
            }
#endif
            for (; j < n_out; j++)
                db[j] += row[j];
        }
    }
    /* dx (batch, n_in) = dy (batch, n_out) W^T (n_out, n_in) */
    if (dx)
        nninit__sgemm(0, 1, batch, n_in, n_out, 1.0f, dy, w, 0.0f, dx);
}
