/*
 * Orthonormal columns of a tall matrix through LAPACK's Householder QR
 * (geqrf + orgqr, via LAPACKE), with the sign fix Q * sign(diag R) that
 * makes the result Haar-distributed (Mezzadri 2007), as Keras and PyTorch do.
 */
#include "internal.h"

#include <lapacke.h>
#include <stdlib.h>

nninit_status nninit__orthonormalize(nninit_dtype dtype, void *m, int64_t rows, int64_t cols, nninit_err *err)
{
    if (rows < cols || cols < 1)
        return nninit__err(err, NNINIT_EMISUSE, "orthonormalize: need rows >= cols >= 1");
    if (rows > INT32_MAX || cols > INT32_MAX)
        return nninit__err(err, NNINIT_EOVERFLOW,
                           "orthogonal: a %lld x %lld matrix exceeds LAPACK's 32-bit dimensions",
                           (long long)rows, (long long)cols);
    lapack_int mr = (lapack_int)rows, nc = (lapack_int)cols, info;
    size_t es = dtype == NNINIT_F32 ? sizeof(float) : sizeof(double);
    void *tau = nninit__malloc_array((size_t)cols, es);
    double *sign = nninit__malloc_array((size_t)cols, sizeof(double));
    if (!tau || !sign) {
        free(tau);
        free(sign);
        return nninit__err(err, NNINIT_ENOMEM, "orthogonal: out of memory");
    }
    if (dtype == NNINIT_F32) {
        float *a = m;
        info = LAPACKE_sgeqrf(LAPACK_ROW_MAJOR, mr, nc, a, nc, tau);
        for (int64_t j = 0; info == 0 && j < cols; j++) {
            float d = a[j * cols + j];
            sign[j] = d > 0 ? 1.0 : (d < 0 ? -1.0 : 0.0);
        }
        if (info == 0)
            info = LAPACKE_sorgqr(LAPACK_ROW_MAJOR, mr, nc, nc, a, nc, tau);
        for (int64_t i = 0; info == 0 && i < rows; i++)
            for (int64_t j = 0; j < cols; j++)
                a[i * cols + j] = a[i * cols + j] * (float)sign[j];
    } else {
        double *a = m;
        info = LAPACKE_dgeqrf(LAPACK_ROW_MAJOR, mr, nc, a, nc, tau);
        for (int64_t j = 0; info == 0 && j < cols; j++) {
            double d = a[j * cols + j];
            sign[j] = d > 0 ? 1.0 : (d < 0 ? -1.0 : 0.0);
        }
        if (info == 0)
            info = LAPACKE_dorgqr(LAPACK_ROW_MAJOR, mr, nc, nc, a, nc, tau);
        for (int64_t i = 0; info == 0 && i < rows; i++)
            for (int64_t j = 0; j < cols; j++)
                a[i * cols + j] = a[i * cols + j] * sign[j];
    }
    free(tau);
    free(sign);
    if (info == LAPACK_WORK_MEMORY_ERROR || info == LAPACK_TRANSPOSE_MEMORY_ERROR)
        return nninit__err(err, NNINIT_ENOMEM, "orthogonal: out of memory in LAPACK");
    if (info != 0)
        return nninit__err(err, NNINIT_ENUMERIC, "orthogonal: LAPACK QR failed (info %d)", (int)info);
    return NNINIT_OK;
}
