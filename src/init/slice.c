/* Tensor-parallel slices: slice `index` of `count` along one dimension, as
 * torch.tensor_split(t, count, dim) cuts it, generated without the rest of
 * the tensor. A slice of a C-order tensor is a run of len * inner elements
 * in each of the outer blocks, so each run is one nninit_fill_range call;
 * structured initializers (a QR, sparse columns) are drawn whole once. */
#include "init/internal.h"

#include <stdlib.h>
#include <string.h>

nninit_status nninit_slice_bounds(int64_t size, int index, int count, int64_t *start, int64_t *len, nninit_err *err)
{
    if (count < 1 || index < 0 || index >= count || size < 0)
        return nninit__err(err, NNINIT_EINVAL, "slice %d of %d: expected a count >= 1 and an index from 0 to "
                           "count - 1", index, count);
    /* torch.tensor_split (and numpy.array_split): the first size % count
     * slices get one element more */
    int64_t q = size / count, r = size % count;
    *len = q + (index < r);
    *start = (int64_t)index * q + (index < r ? index : r);
    return NNINIT_OK;
}

nninit_status nninit__slice_runs(const nninit_shape *shape, int dim, int64_t start, int64_t len, int64_t b, int64_t e,
                                 nninit__run_fn fn, void *ctx, nninit_err *err)
{
    int64_t inner = 1;
    for (int d = dim + 1; d < shape->ndim; d++)
        inner *= shape->dim[d];
    int64_t run = len * inner, full_row = shape->dim[dim] * inner;
    nninit_status s = NNINIT_OK;
    for (int64_t f = b; f < e && !s;) {
        int64_t outer = f / run, r = f % run, n = run - r < e - f ? run - r : e - f;
        int64_t fb = outer * full_row + start * inner + r;
        s = fn(ctx, fb, fb + n, f - b, err);
        f += n;
    }
    return s;
}

typedef struct slice_ctx {
    const nninit_init *init;
    const nninit_shape *shape;
    const nninit_fill_opts *opts;
    const nninit_rng *rng;
    const unsigned char *whole; /* structured: the tensor drawn whole */
    unsigned char *out;
    size_t es;
} slice_ctx;

static nninit_status slice_run(void *user, int64_t fb, int64_t fe, int64_t at, nninit_err *err)
{
    slice_ctx *c = user;
    if (c->whole) {
        memcpy(c->out + (size_t)at * c->es, c->whole + (size_t)fb * c->es, (size_t)(fe - fb) * c->es);
        return NNINIT_OK;
    }
    return nninit_fill_range(c->init, c->shape, c->opts, c->rng, fb, fe, c->out + (size_t)at * c->es, err);
}

nninit_status nninit_fill_slice(const nninit_init *init, const nninit_shape *shape, const nninit_fill_opts *opts,
                                const nninit_rng *rng, int dim, int index, int count, void *out, nninit_err *err)
{
    if (!init || !shape || !opts || !rng || !out)
        return nninit__err(err, NNINIT_EMISUSE, "nninit_fill_slice: NULL argument");
    if (nninit_rng_get_kind(rng) != NNINIT_RNG_PHILOX)
        return nninit__err(err, NNINIT_EUNSUPPORTED, "slices need the Philox generator: a torch generator's stream "
                           "is sequential, so a slice would draw the whole tensor; use --rng philox");
    if (dim < 0 || dim >= shape->ndim)
        return nninit__err(err, NNINIT_EINVAL, "slice dimension %d: the shape has %d dimensions (0 to %d)", dim,
                           shape->ndim, shape->ndim - 1);
    int64_t start, len, numel;
    nninit_status s = nninit_slice_bounds(shape->dim[dim], index, count, &start, &len, err);
    if (s || (s = nninit_shape_numel(shape, &numel, err)))
        return s;
    nninit_prim p;
    if ((s = nninit_resolve(init, shape, opts->layout, &p, err)))
        return s;
    slice_ctx c = {init, shape, opts, rng, NULL, out, nninit_dtype_size(opts->dtype)};
    void *whole = NULL;
    if (p.kind == NNINIT_PRIM_ORTHOGONAL || p.kind == NNINIT_PRIM_SPARSE || p.kind == NNINIT_PRIM_DELTA_ORTHOGONAL) {
        if (!(whole = nninit__malloc_array((size_t)numel, c.es)))
            return nninit__err(err, NNINIT_ENOMEM, "out of memory for the whole %lld-element tensor the slice is cut "
                               "from", (long long)numel);
        if ((s = nninit_fill_range(init, shape, opts, rng, 0, numel, whole, err))) {
            free(whole);
            return s;
        }
        c.whole = whole;
    }
    s = nninit__slice_runs(shape, dim, start, len, 0, numel / (shape->dim[dim] ? shape->dim[dim] : 1) * len,
                           slice_run, &c, err);
    free(whole);
    return s;
}
