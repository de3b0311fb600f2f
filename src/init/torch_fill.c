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
 * which is exact. Element-wise after the bounds: nninit__torch_draw_piece.
 */

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

/* eye_(gain) over elements [b, e) of a (rows, cols) matrix: zeros but
 * for the diagonal. */
static void eye_piece(nninit_dtype dtype, const nninit_prim *p, int64_t b, int64_t e, void *out)
{
    fill_const(dtype, out, e - b, 0.0);
    int64_t step = p->cols + 1, diag = p->rows < p->cols ? p->rows : p->cols;
    for (int64_t d = (b + step - 1) / step; d < diag && d * step < e; d++)
        put(dtype, out, d * step - b, p->gain);
}

/* dirac_(groups) over elements [b, e): zero_(), then
 * w[g*opg + d, d, k1//2, ...] = 1 for d < min(opg, dim1), opg = dim0 / groups. */
static void dirac_piece(nninit_dtype dtype, const nninit_shape *shape, int64_t groups, int64_t b, int64_t e,
                        void *out)
{
    fill_const(dtype, out, e - b, 0.0);
    int64_t opg = shape->dim[0] / groups;
    int64_t min_dim = opg < shape->dim[1] ? opg : shape->dim[1];
    /* offset of the spatial centre inside one (out, in) slice */
    int64_t centre = 0, slice = 1;
    for (int k = 2; k < shape->ndim; k++) {
        centre = centre * shape->dim[k] + shape->dim[k] / 2;
        slice *= shape->dim[k];
    }
    for (int64_t g = 0; g < groups; g++)
        for (int64_t d = 0; d < min_dim; d++) {
            int64_t at = ((g * opg + d) * shape->dim[1] + d) * slice + centre;
            if (at >= b && at < e)
                put(dtype, out, at - b, 1.0);
        }
}

nninit_status nninit__torch_draw_start(nninit__draw *d, void *whole_into, nninit_err *err)
{
    const nninit_prim *prim = &d->prim;
    nninit_dtype dtype = d->dtype;
    if (dtype != NNINIT_F32 && dtype != NNINIT_F64)
        return nninit__err(err, NNINIT_EUNSUPPORTED,
                           "dtype '%s': the torch generator reproduces float32 and float64 only; use one of them",
                           nninit_dtype_name(dtype));
    nninit__torch_arith ar = nninit__torch_arith_of(d->rng);
    const char *name = d->init ? nninit_init_kind_name(d->init->kind) : "initializer";
    nninit_status st;
    d->blk_index = -1;
    switch (prim->kind) {
    case NNINIT_PRIM_CONSTANT:
    case NNINIT_PRIM_EYE:
        return NNINIT_OK;
    case NNINIT_PRIM_UNIFORM:
        return check_uniform_bounds(dtype, prim->lo, prim->hi, err);
    case NNINIT_PRIM_NORMAL:
        if (!(prim->std >= 0))
            return nninit__err(err, NNINIT_EINVAL, "%s: std is %g; it must be >= 0", name, prim->std);
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
        /* _no_grad_trunc_normal_'s bounds, in Python double (trunc_normal above) */
        d->lo = 2 * ((1.0 + erf((prim->a - prim->mean) / prim->std / sqrt(2.0))) / 2.0) - 1;
        d->hi = 2 * ((1.0 + erf((prim->b - prim->mean) / prim->std / sqrt(2.0))) / 2.0) - 1;
        d->scale = prim->std * sqrt(2.0);
        return NNINIT_OK;
    case NNINIT_PRIM_DIRAC:
        if (d->shape.ndim < 3 || prim->groups < 1 || d->shape.dim[0] % prim->groups != 0)
            return nninit__err(err, NNINIT_EINVAL, "dirac_: shape or groups invalid; need 3-5 dims and dim 0 "
                                                   "divisible by groups");
        return NNINIT_OK;
    case NNINIT_PRIM_ORTHOGONAL:
    case NNINIT_PRIM_SPARSE:
        d->whole = whole_into;
        if (!d->whole) {
            char sz[32];
            if (!(d->whole = nninit__malloc_array((size_t)d->numel, nninit_dtype_size(dtype))))
                return nninit__err(err, NNINIT_ENOMEM, "%s: out of memory for the %s it draws whole", name,
                                   nninit__format_bytes((uint64_t)d->numel * nninit_dtype_size(dtype), sz,
                                                        sizeof sz));
            d->whole_owned = 1;
        }
        if (prim->kind == NNINIT_PRIM_ORTHOGONAL)
            st = orthogonal(d->rng, ar, dtype, prim->rows, prim->cols, prim->gain, d->whole, err);
        else
            st = sparse(d->rng, ar, dtype, prim->rows, prim->cols, prim->sparsity, prim->std, d->whole, err);
        return st;
    case NNINIT_PRIM_BLOCK_EYE:        /* filled by fill.c without the generator */
    case NNINIT_PRIM_STFT:
    case NNINIT_PRIM_DELTA_ORTHOGONAL: /* no PyTorch counterpart to replay */
        return nninit__err(err, NNINIT_EUNSUPPORTED, "%s: has no PyTorch counterpart; use --rng philox", name);
    }
    return nninit__err(err, NNINIT_EINVAL, "%s: primitive %d unknown to the torch generator", name, (int)prim->kind);
}

/* normal_ on elements [pos, pos + m) of an n >= 16 tensor. Element p below
 * n - 16 (n % 16 != 0; else below n) comes from 16-block p / 16 of the
 * tensor's uniforms, drawn in order; the last 16 from the 16 uniforms drawn
 * after all n. Whole blocks inside the piece are drawn and transformed in
 * place; a block the piece cuts is drawn into blk and kept for the next
 * piece. */
static void normal_piece(nninit__draw *d, nninit__torch_arith ar, unsigned char *out, int64_t m)
{
    const nninit_prim *prim = &d->prim;
    size_t es = nninit_dtype_size(d->dtype);
    int64_t n = d->numel, p = d->pos, end = d->pos + m;
    int64_t tail_from = n % 16 ? n - 16 : n;
    unsigned char *blk = (unsigned char *)d->blk, *tail = (unsigned char *)d->tail;
    while (p < end) {
        unsigned char *o = out + (size_t)(p - d->pos) * es;
        if (p >= tail_from) {
            if (!d->tail_ready) {
                /* the uniforms of the positions not drawn yet, then 16 fresh ones */
                while (d->drawn < n) {
                    int64_t k = n - d->drawn < 16 ? n - d->drawn : 16;
                    nninit__torch_uniform(d->rng, ar, d->dtype, 0.0, 1.0, blk, k);
                    d->drawn += k;
                }
                d->blk_index = -1;
                nninit__torch_uniform(d->rng, ar, d->dtype, 0.0, 1.0, tail, 16);
                nninit__torch_normal16(ar, d->dtype, prim->mean, prim->std, tail, 1);
                d->tail_ready = 1;
            }
            memcpy(o, tail + (size_t)(p - tail_from) * es, (size_t)(end - p) * es);
            p = end;
            continue;
        }
        int64_t stop = end < tail_from ? end : tail_from;
        if (p % 16 == 0 && stop - p >= 16) { /* whole blocks, drawn where they go */
            int64_t k = (stop - p) / 16;
            nninit__torch_uniform(d->rng, ar, d->dtype, 0.0, 1.0, o, 16 * k);
            nninit__torch_normal16(ar, d->dtype, prim->mean, prim->std, o, k);
            d->drawn += 16 * k;
            p += 16 * k;
            continue;
        }
        int64_t b = p / 16;
        if (d->blk_index != b) {
            nninit__torch_uniform(d->rng, ar, d->dtype, 0.0, 1.0, blk, 16);
            nninit__torch_normal16(ar, d->dtype, prim->mean, prim->std, blk, 1);
            d->drawn += 16;
            d->blk_index = b;
        }
        int64_t take = (stop < 16 * (b + 1) ? stop : 16 * (b + 1)) - p;
        memcpy(o, blk + (size_t)(p - 16 * b) * es, (size_t)take * es);
        p += take;
    }
}

void nninit__torch_draw_piece(nninit__draw *d, void *out, int64_t m)
{
    const nninit_prim *prim = &d->prim;
    nninit__torch_arith ar = nninit__torch_arith_of(d->rng);
    size_t es = nninit_dtype_size(d->dtype);
    switch (prim->kind) {
    case NNINIT_PRIM_CONSTANT:
        fill_const(d->dtype, out, m, prim->value);
        break;
    case NNINIT_PRIM_UNIFORM:
        nninit__torch_uniform(d->rng, ar, d->dtype, prim->lo, prim->hi, out, m);
        break;
    case NNINIT_PRIM_NORMAL:
        /* the whole tensor at once: normal_fill as torch_kernels.c runs it;
         * below 16 elements the scalar path, element by element with the
         * generator's cache, so any piece too */
        if (d->numel < 16 || (d->pos == 0 && m == d->numel))
            nninit__torch_normal(d->rng, ar, d->dtype, prim->mean, prim->std, out, m);
        else
            normal_piece(d, ar, out, m);
        break;
    case NNINIT_PRIM_TRUNC_NORMAL:
        nninit__torch_uniform(d->rng, ar, d->dtype, d->lo, d->hi, out, m);
        if (d->dtype == NNINIT_F64)
            nninit__torch_erfinv_affine_f64(out, m, ar.avx2, d->scale, prim->mean, prim->a, prim->b);
        else
            nninit__torch_erfinv_affine_f32(out, m, ar.avx2, (float)d->scale, (float)prim->mean, (float)prim->a,
                                            (float)prim->b);
        break;
    case NNINIT_PRIM_EYE:
        eye_piece(d->dtype, prim, d->pos, d->pos + m, out);
        break;
    case NNINIT_PRIM_DIRAC:
        dirac_piece(d->dtype, &d->shape, prim->groups, d->pos, d->pos + m, out);
        break;
    default: /* orthogonal, sparse: drawn whole at the start */
        if ((unsigned char *)d->whole + (size_t)d->pos * es != out)
            memcpy(out, (unsigned char *)d->whole + (size_t)d->pos * es, (size_t)m * es);
        break;
    }
}

nninit_status nninit__torch_fill(nninit_rng *rng, const nninit_init *init, const nninit_prim *prim,
                                 const nninit_shape *shape, nninit_dtype dtype, void *out, nninit_err *err)
{
    if (!rng || !prim || !shape || !out)
        return nninit__err(err, NNINIT_EMISUSE, "torch fill: NULL argument");
    nninit__draw d;
    memset(&d, 0, sizeof d);
    d.rng = rng;
    d.init = init;
    d.prim = *prim;
    d.shape = *shape;
    d.dtype = dtype;
    nninit_status st = nninit_shape_numel(shape, &d.numel, err);
    if (st == NNINIT_OK && (st = nninit__torch_draw_start(&d, out, err)) == NNINIT_OK)
        nninit__torch_draw_piece(&d, out, d.numel);
    return st;
}
