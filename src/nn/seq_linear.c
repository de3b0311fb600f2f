/* Cache carving, column sums and a dense product in either weight layout (Keras (in, out)
 * kernels, PyTorch (out, in) Linear weights), shared by the sequence layers. */
#include "nn/internal.h"

#include <string.h>

void nninit__col_sums(const float *x, int64_t rows, int64_t n, int64_t ld, float *sums)
{
    /* Rows added in order: a fixed order whatever the threads. Columns go
     * in blocks of 32 held in eight vector registers over all rows (one
     * store per column instead of one per row); each lane is one column
     * adding its rows in order, so every block size gives the same bits. */
    int64_t j = 0;
#if NNINIT__V4
    for (; j + 32 <= n; j += 32) {
        const float *row = x + j;
        nninit__v4f a0 = nninit__v4_load(row), a1 = nninit__v4_load(row + 4), a2 = nninit__v4_load(row + 8);
        nninit__v4f a3 = nninit__v4_load(row + 12), a4 = nninit__v4_load(row + 16), a5 = nninit__v4_load(row + 20);
        nninit__v4f a6 = nninit__v4_load(row + 24), a7 = nninit__v4_load(row + 28);
        for (int64_t r = 1; r < rows; r++) {
            row += ld;
            a0 += nninit__v4_load(row), a1 += nninit__v4_load(row + 4), a2 += nninit__v4_load(row + 8);
            a3 += nninit__v4_load(row + 12), a4 += nninit__v4_load(row + 16), a5 += nninit__v4_load(row + 20);
            a6 += nninit__v4_load(row + 24), a7 += nninit__v4_load(row + 28);
        }
        nninit__v4_store(sums + j, a0), nninit__v4_store(sums + j + 4, a1), nninit__v4_store(sums + j + 8, a2);
        nninit__v4_store(sums + j + 12, a3), nninit__v4_store(sums + j + 16, a4);
        nninit__v4_store(sums + j + 20, a5), nninit__v4_store(sums + j + 24, a6);
        nninit__v4_store(sums + j + 28, a7);
    }
    for (; j + 4 <= n; j += 4) {
        nninit__v4f a = nninit__v4_load(x + j);
        for (int64_t r = 1; r < rows; r++)
            a += nninit__v4_load(x + r * ld + j);
        nninit__v4_store(sums + j, a);
    }
#endif
    for (; j < n; j++) {
        float a = x[j];
        for (int64_t r = 1; r < rows; r++)
            a += x[r * ld + j];
        sums[j] = a;
    }
}

void nninit__vadd(float *y, const float *a, const float *b, int64_t n)
{
    int64_t j = 0;
#if NNINIT__V4
    for (; j + 4 <= n; j += 4)
        nninit__v4_store(y + j, nninit__v4_load(a + j) + nninit__v4_load(b + j));
#endif
    for (; j < n; j++)
        y[j] = a[j] + b[j];
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
