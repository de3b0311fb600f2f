/*
 * nninit__torch_fill: each torch.nn.init function (torch/nn/init.py, 1.13.1)
 * replayed on the PyTorch CPU generator, consuming the stream exactly as the
 * Python function does. The parameters arrive resolved in double (fill.c ->
 * nninit_resolve), in PyTorch's order of operations; the tensor-dtype
 * arithmetic that follows is done here.
 *
 * Keras initializers under a torch generator use the closest torch
 * primitive: uniform_ for uniform, normal_ for untruncated normal, the 1.13
 * trunc_normal_ algorithm with absolute bounds mean +- 2 std for Keras'
 * truncated normal, and orthogonal_'s procedure with Keras' flattening
 * (rows = prod(shape[:-1]), cols = shape[-1]).
 */
#include "init/internal.h"
#include "rng/torch_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void put(nninit_dtype dtype, void *out, int64_t i, double v)
{
    if (dtype == NNINIT_F64)
        ((double *)out)[i] = v;
    else
        ((float *)out)[i] = (float)v;
}

/* fill_(value): the value cast to the dtype. */
static void fill_const(nninit_dtype dtype, void *out, int64_t n, double v)
{
    for (int64_t i = 0; i < n; i++)
        put(dtype, out, i, v);
}

static nninit_status check_uniform_bounds(nninit_dtype dtype, double from, double to, nninit_err *err)
{
    /* uniform_impl_: both bounds inside the dtype's finite range, from <= to
     * and to - from finite in the dtype. */
    double mx = dtype == NNINIT_F64 ? DBL_MAX : (double)FLT_MAX;
    if (!(from >= -mx && from <= mx && to >= -mx && to <= mx))
        return nninit__err(err, NNINIT_EINVAL, "uniform_: bounds [%g, %g) are outside the %s range; use finite bounds",
                           from, to, nninit_dtype_name(dtype));
    if (!(from <= to))
        return nninit__err(err, NNINIT_EINVAL, "uniform_: from %g > to %g; from must be <= to", from, to);
    if (!(to - from <= mx))
        return nninit__err(err, NNINIT_EINVAL, "uniform_: to - from = %g overflows %s; use a narrower range",
                           to - from, nninit_dtype_name(dtype));
    return NNINIT_OK;
}

/*
 * _no_grad_trunc_normal_ of 1.13 (also 2.0 - 2.11): in Python double
 * l = Phi((a - mean) / std), u = Phi((b - mean) / std), Phi(x) =
 * (1 + erf(x / sqrt(2))) / 2; then in the tensor's dtype uniform_(2l - 1,
 * 2u - 1), erfinv_(), mul_(std * sqrt(2)), add_(mean), clamp_(a, b). The
 * scalar operands of mul_/add_/clamp_ are cast to the dtype first (the
 * wrapped-number rule of TensorIterator); add_ computes self + 1 * other,
 * which is exact.
 */
static void trunc_normal(nninit_rng *rng, nninit__torch_arith ar, nninit_dtype dtype, double mean, double std,
                         double a, double b, void *out, int64_t n)
{
    double l = (1.0 + erf((a - mean) / std / sqrt(2.0))) / 2.0;
    double u = (1.0 + erf((b - mean) / std / sqrt(2.0))) / 2.0;
    nninit__torch_uniform(rng, ar, dtype, 2 * l - 1, 2 * u - 1, out, n);
    double scale = std * sqrt(2.0);
    if (dtype == NNINIT_F64)
        nninit__torch_erfinv_affine_f64(out, n, ar.avx2, scale, mean, a, b);
    else
        nninit__torch_erfinv_affine_f32(out, n, ar.avx2, (float)scale, (float)mean, (float)a, (float)b);
}

/*
 * orthogonal_: normal_(0, 1) on a fresh contiguous (rows, cols) tensor (so
 * below 16 elements the scalar path and its cache), transposed to
 * (cols, rows) when rows < cols, QR with Q * sign(diag R), transposed back,
 * then mul_(gain) in the dtype.
 */
static nninit_status orthogonal(nninit_rng *rng, nninit__torch_arith ar, nninit_dtype dtype, int64_t rows,
                                int64_t cols, double gain, void *out, nninit_err *err)
{
    size_t es = nninit_dtype_size(dtype), n = (size_t)rows * (size_t)cols;
    void *m = nninit__malloc_array(n, es);
    if (!m)
        return nninit__err(err, NNINIT_ENOMEM, "orthogonal_: out of memory for a %lld x %lld matrix",
                           (long long)rows, (long long)cols);
    nninit__torch_normal(rng, ar, dtype, 0.0, 1.0, out, (int64_t)n);
    nninit_status st;
    if (rows >= cols) {
        memcpy(m, out, n * es);
        st = nninit__orthonormalize(dtype, m, rows, cols, err);
        if (st == NNINIT_OK)
            memcpy(out, m, n * es);
    } else {
        /* m = transpose of the drawn (rows, cols) matrix: (cols, rows). */
        for (int64_t r = 0; r < rows; r++)
            for (int64_t c = 0; c < cols; c++)
                memcpy((char *)m + ((size_t)c * (size_t)rows + (size_t)r) * es,
                       (char *)out + ((size_t)r * (size_t)cols + (size_t)c) * es, es);
        st = nninit__orthonormalize(dtype, m, cols, rows, err);
        if (st == NNINIT_OK)
            for (int64_t r = 0; r < rows; r++)
                for (int64_t c = 0; c < cols; c++)
                    memcpy((char *)out + ((size_t)r * (size_t)cols + (size_t)c) * es,
                           (char *)m + ((size_t)c * (size_t)rows + (size_t)r) * es, es);
    }
    free(m);
    if (st != NNINIT_OK)
        return st;
    if (dtype == NNINIT_F64) {
        for (size_t i = 0; i < n; i++)
            ((double *)out)[i] *= gain;
    } else {
        float g = (float)gain;
        for (size_t i = 0; i < n; i++)
            ((float *)out)[i] *= g;
    }
    return NNINIT_OK;
}

/*
 * sparse_: normal_(0, std) on the whole (rows, cols) tensor, then for each
 * column in order torch.randperm(rows) and zero the rows of its first
 * ceil(sparsity * rows) entries. randperm draws from the global default
 * generator, which torch.manual_seed also seeds: the same stream here.
 */
static nninit_status sparse(nninit_rng *rng, nninit__torch_arith ar, nninit_dtype dtype, int64_t rows, int64_t cols,
                            double sparsity, double std, void *out, nninit_err *err)
{
    int64_t num_zeros = (int64_t)ceil(sparsity * (double)rows);
    if (num_zeros > rows)
        num_zeros = rows;
    int64_t *perm = nninit__malloc_array((size_t)rows, sizeof *perm);
    if (!perm)
        return nninit__err(err, NNINIT_ENOMEM, "sparse_: out of memory for a %lld-row permutation", (long long)rows);
    nninit__torch_normal(rng, ar, dtype, 0.0, std, out, rows * cols);
    for (int64_t c = 0; c < cols; c++) {
        nninit__torch_randperm(rng, ar.v2, rows, perm);
        for (int64_t k = 0; k < num_zeros; k++)
            put(dtype, out, perm[k] * cols + c, 0.0);
    }
    free(perm);
    return NNINIT_OK;
}

/* dirac_(groups): zero_(), then w[g*opg + d, d, k1//2, ...] = 1 for
 * d < min(opg, dim1), opg = dim0 / groups. */
static void dirac(nninit_dtype dtype, const nninit_shape *shape, int64_t groups, void *out, int64_t numel)
{
    fill_const(dtype, out, numel, 0.0);
    int64_t opg = shape->dim[0] / groups;
    int64_t min_dim = opg < shape->dim[1] ? opg : shape->dim[1];
    /* offset of the spatial centre inside one (out, in) slice */
    int64_t centre = 0, slice = 1;
    for (int k = 2; k < shape->ndim; k++) {
        centre = centre * shape->dim[k] + shape->dim[k] / 2;
        slice *= shape->dim[k];
    }
    for (int64_t g = 0; g < groups; g++)
        for (int64_t d = 0; d < min_dim; d++)
            put(dtype, out, ((g * opg + d) * shape->dim[1] + d) * slice + centre, 1.0);
}

nninit_status nninit__torch_fill(nninit_rng *rng, const nninit_init *init, const nninit_prim *prim,
                                 const nninit_shape *shape, nninit_dtype dtype, void *out, nninit_err *err)
{
    if (!rng || !prim || !shape || !out)
        return nninit__err(err, NNINIT_EMISUSE, "torch fill: NULL argument");
    if (dtype != NNINIT_F32 && dtype != NNINIT_F64)
        return nninit__err(err, NNINIT_EUNSUPPORTED,
                           "dtype '%s': the torch generator reproduces float32 and float64 only; use one of them",
                           nninit_dtype_name(dtype));
    int64_t numel;
    nninit_status st = nninit_shape_numel(shape, &numel, err);
    if (st != NNINIT_OK)
        return st;
    nninit__torch_arith ar = nninit__torch_arith_of(rng);
    const char *name = init ? nninit_init_kind_name(init->kind) : "initializer";

    switch (prim->kind) {
    case NNINIT_PRIM_CONSTANT:
        fill_const(dtype, out, numel, prim->value);
        return NNINIT_OK;
    case NNINIT_PRIM_UNIFORM:
        if ((st = check_uniform_bounds(dtype, prim->lo, prim->hi, err)) != NNINIT_OK)
            return st;
        nninit__torch_uniform(rng, ar, dtype, prim->lo, prim->hi, out, numel);
        return NNINIT_OK;
    case NNINIT_PRIM_NORMAL:
        if (!(prim->std >= 0))
            return nninit__err(err, NNINIT_EINVAL, "%s: std is %g; it must be >= 0", name, prim->std);
        nninit__torch_normal(rng, ar, dtype, prim->mean, prim->std, out, numel);
        return NNINIT_OK;
    case NNINIT_PRIM_TRUNC_NORMAL:
        if (ar.v2)
            return nninit__err(err, NNINIT_EUNSUPPORTED,
                               "%s: PyTorch >= 2.12 draws trunc_normal_ by rejection, which nninit does not "
                               "reproduce; use --rng torch (the inverse-CDF algorithm of 1.13 and 2.0-2.11)",
                               name);
        if (!(prim->std > 0))
            return nninit__err(err, NNINIT_EINVAL, "%s: std is %g; it must be > 0", name, prim->std);
        if (!(prim->a <= prim->b))
            return nninit__err(err, NNINIT_EINVAL, "%s: a = %g > b = %g; a must be <= b", name, prim->a, prim->b);
        trunc_normal(rng, ar, dtype, prim->mean, prim->std, prim->a, prim->b, out, numel);
        return NNINIT_OK;
    case NNINIT_PRIM_ORTHOGONAL:
        return orthogonal(rng, ar, dtype, prim->rows, prim->cols, prim->gain, out, err);
    case NNINIT_PRIM_EYE:
        fill_const(dtype, out, numel, 0.0);
        for (int64_t d = 0; d < prim->rows && d < prim->cols; d++)
            put(dtype, out, d * prim->cols + d, prim->gain);
        return NNINIT_OK;
    case NNINIT_PRIM_DIRAC:
        if (shape->ndim < 3 || prim->groups < 1 || shape->dim[0] % prim->groups != 0)
            return nninit__err(err, NNINIT_EINVAL, "dirac_: shape or groups invalid; need 3-5 dims and dim 0 "
                                                   "divisible by groups");
        dirac(dtype, shape, prim->groups, out, numel);
        return NNINIT_OK;
    case NNINIT_PRIM_SPARSE:
        return sparse(rng, ar, dtype, prim->rows, prim->cols, prim->sparsity, prim->std, out, err);
    case NNINIT_PRIM_BLOCK_EYE:        /* filled by fill.c without the generator */
    case NNINIT_PRIM_STFT:
    case NNINIT_PRIM_DELTA_ORTHOGONAL: /* no PyTorch counterpart to replay */
        return nninit__err(err, NNINIT_EUNSUPPORTED, "%s: has no PyTorch counterpart; use --rng philox", name);
    }
    return nninit__err(err, NNINIT_EINVAL, "%s: primitive %d unknown to the torch generator", name, (int)prim->kind);
}
