/* The one wrapper over OpenBLAS (cblas_sgemm, thread count): every matrix
 * product of the engine goes through here, row-major float32. */
#include "nn/internal.h"

#include <cblas.h>

void nninit__sgemm(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float *a,
                   const float *b, float beta, float *c)
{
    /* Leading dimensions of row-major storage are the stored row lengths. */
    blasint lda = (blasint)(trans_a ? m : k);
    blasint ldb = (blasint)(trans_b ? k : n);
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans,
                (blasint)m, (blasint)n, (blasint)k, alpha, a, lda, b, ldb, beta, c, (blasint)n);
}

void nninit__sgemm_ld(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float *a,
                      int64_t lda, const float *b, int64_t ldb, float beta, float *c, int64_t ldc)
{
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans,
                (blasint)m, (blasint)n, (blasint)k, alpha, a, (blasint)lda, b, (blasint)ldb, beta, c, (blasint)ldc);
}

void nninit_blas_set_threads(int n)
{
    if (n < 1)
        n = nninit__cpu_count();
    openblas_set_num_threads(n);
}

int nninit_blas_get_threads(void) { return openblas_get_num_threads(); }
