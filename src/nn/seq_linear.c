/* Cache carving, column sums and a dense product in either weight layout (Keras (in, out)
 * kernels, PyTorch (out, in) Linear weights), shared by the sequence layers. */
#include "nn/internal.h"

#include <string.h>

void nninit__col_sums(const float *x, int64_t rows, int64_t n, int64_t ld, float *sums)
{
    /* Rows added in order: a fixed order whatever the threads; the vector
     * lanes are distinct columns, so they add in the same order too. */
    memcpy(sums, x, (size_t)n * sizeof *sums);
    for (int64_t r = 1; r < rows; r++) {
        const float *row = x + r * ld;
        int64_t j = 0;
#if defined(__GNUC__)
        typedef float v4sf __attribute__((vector_size(16)));
        for (; j + 4 <= n; j += 4) {
            v4sf acc, add;
            memcpy(&acc, sums + j, sizeof acc);
            memcpy(&add, row + j, sizeof add);
            acc += add;
            memcpy(sums + j, &acc, sizeof acc);
        }
#endif
        for (; j < n; j++)
            sums[j] += row[j];
    }
}

size_t nninit__carve(float *base, int n, const int64_t *sizes, float **const *slots)
{
    size_t off = 0;
    for (int i = 0; i < n; i++) {
        *slots[i] = base ? base + off : NULL;
        off += (size_t)sizes[i];
    }
    return off;
}

void nninit__linear_forward(int out_in, const float *x, const float *w, const float *b, int64_t rows, int64_t n_in,
                            int64_t n_out, float *y)
{
    if (b)
        for (int64_t r = 0; r < rows; r++)
            memcpy(y + r * n_out, b, (size_t)n_out * sizeof *y);
    /* y (rows, n_out) += x (rows, n_in) W (n_in, n_out), or x W^T for (n_out, n_in) */
    nninit__sgemm(0, out_in, rows, n_out, n_in, 1.0f, x, w, b ? 1.0f : 0.0f, y);
}

void nninit__linear_backward(int out_in, const float *x, const float *w, const float *dy, int64_t rows,
                             int64_t n_in, int64_t n_out, float *dw, float *db, float *dx, int accumulate_dx)
{
    if (out_in) /* dW (n_out, n_in) = dy^T x */
        nninit__sgemm(1, 0, n_out, n_in, rows, 1.0f, dy, x, 0.0f, dw);
    else /* dW (n_in, n_out) = x^T dy */
        nninit__sgemm(1, 0, n_in, n_out, rows, 1.0f, x, dy, 0.0f, dw);
    if (db)
        nninit__col_sums(dy, rows, n_out, n_out, db);
    /* dx (rows, n_in) = dy W^T, or dy W for (n_out, n_in) */
    if (dx)
        nninit__sgemm(0, !out_in, rows, n_in, n_out, 1.0f, dy, w, accumulate_dx ? 1.0f : 0.0f, dx);
}
