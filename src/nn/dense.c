/* Dense layer kernels: y = x W + b with W stored (in, out) as Keras stores
 * a Dense kernel; every product is one sgemm (seq_linear.c holds both
 * weight layouts). */
#include "nn/internal.h"

#include <string.h>

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

void nninit__dense_backward_momentum(const float *x, const float *w, const float *dy, int64_t batch, int64_t n_in,
                                     int64_t n_out, float mu, float *v, float *dw, float *db, float *dx)
{
    /* dx first: it reads W, and nothing here writes W, but the caller's step does */
    if (dx) /* dx (rows, n_in) = dy W^T */
        nninit__sgemm(0, 1, batch, n_in, n_out, 1.0f, dy, w, 0.0f, dx);
    if (dw)
        nninit__sgemm(1, 0, n_in, n_out, batch, 1.0f, x, dy, 0.0f, dw);
    /* v (n_in, n_out) = mu v + x^T dy: OpenBLAS scales C by beta, then adds the product */
    nninit__sgemm(1, 0, n_in, n_out, batch, 1.0f, x, dy, mu, v);
    if (db)
        nninit__col_sums(dy, batch, n_out, n_out, db);
}

#if defined(__GNUC__)
typedef float v4sf __attribute__((vector_size(16)));
typedef int32_t v4si __attribute__((vector_size(16)));
#endif

#if defined(__x86_64__) && defined(__GNUC__)
typedef float v8sf __attribute__((vector_size(32)));
typedef int32_t v8si __attribute__((vector_size(32)));

/* The columns 0 .. n - n % 8 of nninit__dense_relu_backward eight lanes at a
 * time (AVX2): per lane the same mask and the same row-ordered sum. Returns
 * the first column left to the caller. */
__attribute__((target("avx2"))) static int64_t relu_backward_avx2(const float *z, const float *dy, int64_t rows,
                                                                  int64_t n, float *dz, float *db)
{
    const v8sf zero = {0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f};
    int64_t n8 = n - n % 8;
    for (int64_t r = 0; r < rows; r++) {
        const float *zr = z + r * n, *gr = dy + r * n;
        float *dzr = dz + r * n;
        for (int64_t j = 0; j < n8; j += 8) {
            v8sf zv, gv, acc;
            v8si bits;
            memcpy(&zv, zr + j, sizeof zv);
            memcpy(&bits, gr + j, sizeof bits);
            bits &= (v8si)(zv > zero);
            memcpy(dzr + j, &bits, sizeof bits);
            memcpy(&gv, &bits, sizeof gv);
            if (r) {
                memcpy(&acc, db + j, sizeof acc);
                gv = acc + gv;
            }
            memcpy(db + j, &gv, sizeof gv);
        }
    }
    return n8;
}
#define HAVE_AVX2_RELU 1
#else
#define HAVE_AVX2_RELU 0
#endif

/* ReLU's derivative and the bias gradient in one pass, each row's gradient
 * summed into db while it is in L1: dz = z > 0 ? dy : +0 (the bits of dy
 * masked, as nninit_act_backward's ReLU), db = the column sums of dz with
 * the rows added in order from row 0 (nninit__col_sums' order). The same
 * bits as the two passes it replaces. */
void nninit__dense_relu_backward(const float *z, const float *dy, int64_t rows, int64_t n, float *dz, float *db)
{
    int64_t j0 = 0;
#if HAVE_AVX2_RELU
    if (n >= 8 && __builtin_cpu_supports("avx2"))
        j0 = relu_backward_avx2(z, dy, rows, n, dz, db);
#endif
    for (int64_t r = 0; j0 < n && r < rows; r++) {
        const float *zr = z + r * n, *gr = dy + r * n;
        float *dzr = dz + r * n;
        int64_t j = j0;
#if defined(__GNUC__)
        const v4sf zero = {0.0f, 0.0f, 0.0f, 0.0f};
        for (; j + 4 <= n; j += 4) {
            v4sf zv, gv, acc;
            v4si bits;
            memcpy(&zv, zr + j, sizeof zv);
            memcpy(&bits, gr + j, sizeof bits);
            bits &= (v4si)(zv > zero);
            memcpy(dzr + j, &bits, sizeof bits);
            memcpy(&gv, &bits, sizeof gv);
            if (r) {
                memcpy(&acc, db + j, sizeof acc);
                gv = acc + gv;
            }
            memcpy(db + j, &gv, sizeof gv);
        }
#endif
        for (; j < n; j++) {
            uint32_t bits;
            memcpy(&bits, gr + j, sizeof bits);
            bits &= (uint32_t)0 - (uint32_t)(zr[j] > 0.0f);
            memcpy(dzr + j, &bits, sizeof bits);
            db[j] = r ? db[j] + dzr[j] : dzr[j];
        }
    }
}
