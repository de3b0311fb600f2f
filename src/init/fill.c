/*
 * nninit_fill / nninit_fill_range: run a resolved primitive over a tensor.
 * Philox primitives are element-addressable, so any range, split over any
 * number of threads, gives the bits of the same slice of the whole tensor.
 * Structured primitives (orthogonal, sparse_) are computed whole.
 */
#include "init/internal.h"
#include "init/orthogonal.h"
#include "core/parallel.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Below this many elements a fill runs on the calling thread only. */
#define PARALLEL_MIN (1 << 18)

/* Word offset of the sparse_ mask keys inside the tensor's stream: far past
 * any word the values use (tensors are < 2^61 elements). */
#define SPARSE_KEY_BASE (UINT64_C(1) << 62)

nninit_fill_opts nninit_fill_opts_default(void)
{
    nninit_fill_opts o;
    o.layout = NNINIT_LAYOUT_KERAS;
    o.dtype = NNINIT_F32;
    o.stream = 0;
    o.threads = 0;
    return o;
}

static void put(nninit_dtype dtype, void *out, size_t i, double v)
{
    if (dtype == NNINIT_F32)
        ((float *)out)[i] = (float)v;
    else
        ((double *)out)[i] = v;
}

/* Value of element idx of eye / dirac (no randomness). */
static double eye_value(const nninit_prim *p, int64_t idx)
{
    int64_t r = idx / p->cols, c = idx % p->cols;
    return r == c ? p->gain : 0.0;
}

static double dirac_value(const nninit_prim *p, const nninit_shape *shape, int64_t idx)
{
    /* torch dirac_: out_per_group = d0 / groups; for g, d < min(out_per_group, d1):
     * w[g * out_per_group + d, d, k1 // 2, k2 // 2, ...] = 1 */
    int64_t coord[NNINIT_MAX_DIMS];
    for (int k = shape->ndim - 1; k >= 0; k--) {
        coord[k] = idx % shape->dim[k];
        idx /= shape->dim[k];
    }
    for (int k = 2; k < shape->ndim; k++)
        if (coord[k] != shape->dim[k] / 2)
            return 0.0;
    int64_t out_per_group = shape->dim[0] / p->groups;
    int64_t d = coord[0] % out_per_group;
    int64_t lim = out_per_group < shape->dim[1] ? out_per_group : shape->dim[1];
    return (coord[1] == d && d < lim) ? 1.0 : 0.0;
}

/* identity_recurrent: gain * I in each square block of a stacked-gate matrix */
static double block_eye_value(const nninit_prim *p, int64_t idx)
{
    int64_t r = idx / p->cols, c = idx % p->cols;
    return (p->rows <= p->cols ? c % p->rows == r : r % p->cols == c) ? p->gain : 0.0;
}

typedef struct job {
    const nninit_prim *prim;
    const nninit_shape *shape;
    const uint32_t *key;
    uint64_t stream;
    nninit_dtype dtype;
    int64_t begin, end; /* element range of the tensor */
    void *out;          /* receives element `begin` at index 0 */
    int version;        /* stream format */
} job;

static void run_elementwise(const job *j)
{
    const nninit_prim *p = j->prim;
    size_t n = (size_t)(j->end - j->begin);
    switch (p->kind) {
    case NNINIT_PRIM_CONSTANT:
        for (size_t i = 0; i < n; i++)
            put(j->dtype, j->out, i, p->value);
        break;
    case NNINIT_PRIM_UNIFORM:
        nninit__philox_uniform(j->key, j->stream, j->dtype, (uint64_t)j->begin, n, p->lo, p->hi, j->out);
        break;
    case NNINIT_PRIM_NORMAL:
        nninit__philox_normal(j->key, j->stream, j->dtype, (uint64_t)j->begin, n, p->mean, p->std, j->out);
        break;
    case NNINIT_PRIM_TRUNC_NORMAL:
        nninit__philox_trunc_normal(j->key, j->stream, j->dtype, (uint64_t)j->begin, n, p->mean, p->std, p->a, p->b,
                                    j->version, j->out);
        break;
    case NNINIT_PRIM_EYE:
        for (size_t i = 0; i < n; i++)
            put(j->dtype, j->out, i, eye_value(p, j->begin + (int64_t)i));
        break;
    case NNINIT_PRIM_DIRAC:
        for (size_t i = 0; i < n; i++)
            put(j->dtype, j->out, i, dirac_value(p, j->shape, j->begin + (int64_t)i));
        break;
    case NNINIT_PRIM_BLOCK_EYE:
        for (size_t i = 0; i < n; i++)
            put(j->dtype, j->out, i, block_eye_value(p, j->begin + (int64_t)i));
        break;
    default: break;
    }
}

/* Threading. Work is cut at multiples of CHUNK elements of the tensor
 * (a multiple of every SIMD group, 256 KiB of float32): each chunk is
 * generated, and its pages first touched, by whichever thread claims it.
 * A fill runs on the calling thread alone when it would take less than
 * roughly 100 us, the price of starting threads. Element i gets the same
 * value whoever computes it. */
#define CHUNK (INT64_C(1) << 16)

static void job_range(void *arg, int64_t b, int64_t e)
{
    const job *base = arg;
    job j = *base;
    j.begin = b;
    j.end = e;
    j.out = (char *)base->out + (size_t)(b - base->begin) * nninit_dtype_size(base->dtype);
    run_elementwise(&j);
}

/* Elements per fill worth a second thread, by the transform's cost. */
static int64_t parallel_min(const nninit_prim *p, nninit_dtype dtype)
{
    int64_t m = PARALLEL_MIN;
    if (p->kind == NNINIT_PRIM_NORMAL)
        m /= 2;
    else if (p->kind == NNINIT_PRIM_TRUNC_NORMAL)
        m /= 4;
    return dtype == NNINIT_F64 ? m / 2 : m;
}

static int thread_count(int requested, const nninit_prim *p, nninit_dtype dtype, int64_t n)
{
    int t = requested > 0 ? requested : nninit__cpu_count();
    int64_t min = parallel_min(p, dtype);
    if (n < min)
        return 1;
    /* each thread gets at least half the single-thread minimum */
    int64_t max_useful = n / (min / 2);
    if (t > max_useful)
        t = (int)max_useful;
    return t < 1 ? 1 : (t > 256 ? 256 : t);
}

/* The output is the caller's memory, used as it comes: no madvise. Advising
 * fresh outputs onto transparent huge pages made one tensor of up to 256 MiB
 * fill 2x faster, but a model's worth of fresh tensors 2-4x slower (huge
 * pages taken from memory the VM had handed back to its host; measured by
 * bench/bench_huge.c, docs/performance.md "Fresh buffers"). A caller that
 * wants huge pages advises its own buffer. */
static nninit_status run_parallel(job base, int threads, nninit_err *err)
{
    nninit__parallel_for(base.begin, base.end, CHUNK, threads, job_range, &base);
    (void)err;
    return NNINIT_OK;
}

static nninit_status fill_orthogonal(const nninit_prim *p, const uint32_t key[2], uint64_t stream, nninit_dtype dtype,
                                     void *out, nninit_err *err)
{
    int64_t big = p->rows > p->cols ? p->rows : p->cols, small = p->rows > p->cols ? p->cols : p->rows;
    size_t es = nninit_dtype_size(dtype);
    size_t n = (size_t)(big * small);
    void *m = nninit__malloc_array(n, es);
    if (!m)
        return nninit__err(err, NNINIT_ENOMEM, "orthogonal: out of memory for a %lld x %lld matrix",
                           (long long)big, (long long)small);
    /* Keras draws the (max, min) matrix and transposes its Q when rows <
     * cols; torch draws (rows, cols) and factors it or its transpose, which
     * nninit__orthogonal_torch does in place (no copies: orthogonal.c) */
    nninit__philox_normal(key, stream, dtype, 0, n, 0.0, 1.0, m);
    int transpose_q = !p->torch_flatten && p->rows < p->cols;
    nninit_status st = p->torch_flatten ? nninit__orthogonal_torch(dtype, m, p->rows, p->cols, err)
                                        : nninit__orthonormalize(dtype, m, big, small, err);
    if (st == NNINIT_OK) {
        /* out = gain * (m or its transpose), cache-blocked */
        const int64_t B = 32;
        int64_t src_cols = transpose_q ? p->rows : p->cols;
        for (int64_t r0 = 0; r0 < p->rows; r0 += B)
            for (int64_t c0 = 0; c0 < p->cols; c0 += B)
                for (int64_t r = r0; r < r0 + B && r < p->rows; r++)
                    for (int64_t c = c0; c < c0 + B && c < p->cols; c++) {
                        size_t src = transpose_q ? (size_t)(c * src_cols + r) : (size_t)(r * p->cols + c);
                        if (dtype == NNINIT_F32)
                            ((float *)out)[r * p->cols + c] = ((float *)m)[src] * (float)p->gain;
                        else
                            ((double *)out)[r * p->cols + c] = ((double *)m)[src] * p->gain;
                    }
    }
    free(m);
    return st;
}

/* delta_orthogonal: zeros except the kernel centre ((k-1)//2 on every
 * spatial axis, as JAX's delta_orthogonal), which holds gain * H for H the
 * Keras-flattened orthogonal (in, out) matrix drawn from the stream. */
static nninit_status fill_delta_orthogonal(const nninit_prim *p, const nninit_shape *shape, const uint32_t key[2],
                                           uint64_t stream, nninit_dtype dtype, void *out, nninit_err *err)
{
    size_t es = nninit_dtype_size(dtype);
    int64_t numel = 1;
    for (int k = 0; k < shape->ndim; k++)
        numel *= shape->dim[k];
    nninit_prim h = *p;
    h.kind = NNINIT_PRIM_ORTHOGONAL;
    h.torch_flatten = 0;
    void *m = nninit__malloc_array((size_t)(p->rows * p->cols), es);
    if (!m)
        return nninit__err(err, NNINIT_ENOMEM, "delta_orthogonal: out of memory");
    nninit_status st = fill_orthogonal(&h, key, stream, dtype, m, err);
    if (st == NNINIT_OK) {
        memset(out, 0, (size_t)numel * es);
        /* offset of the centre tap and strides of (in, out) in the tensor */
        int torch = p->torch_flatten, nd = shape->ndim;
        int first_sp = torch ? 2 : 0, last_sp = torch ? nd - 1 : nd - 3;
        int64_t stride[NNINIT_MAX_DIMS], centre = 0;
        stride[nd - 1] = 1;
        for (int k = nd - 2; k >= 0; k--)
            stride[k] = stride[k + 1] * shape->dim[k + 1];
        for (int k = first_sp; k <= last_sp; k++)
            centre += (shape->dim[k] - 1) / 2 * stride[k];
        int64_t s_in = torch ? stride[1] : stride[nd - 2], s_out = torch ? stride[0] : stride[nd - 1];
        for (int64_t i = 0; i < p->rows; i++)
            for (int64_t o = 0; o < p->cols; o++)
                memcpy((char *)out + (size_t)(centre + i * s_in + o * s_out) * es,
                       (char *)m + (size_t)(i * p->cols + o) * es, es);
    }
    free(m);
    return st;
}

typedef struct keyed {
    uint64_t key;
    int64_t row;
} keyed;

static int keyed_cmp(const void *a, const void *b)
{
    const keyed *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return x->row < y->row ? -1 : (x->row > y->row);
}

/* sparse_: N(0, std) values, then in each column the ceil(sparsity * rows)
 * rows with the smallest 64-bit keys (words SPARSE_KEY_BASE + 2 (c rows + r)
 * and +1 of the same stream; ties by row) are zeroed. */
static nninit_status fill_sparse(const nninit_prim *p, const uint32_t key[2], uint64_t stream, nninit_dtype dtype,
                                 void *out, nninit_err *err)
{
    size_t n = (size_t)(p->rows * p->cols);
    nninit__philox_normal(key, stream, dtype, 0, n, 0.0, p->std, out);
    int64_t zeros = (int64_t)ceil(p->sparsity * (double)p->rows);
    if (zeros <= 0)
        return NNINIT_OK;
    keyed *k = nninit__malloc_array((size_t)p->rows, sizeof *k);
    uint32_t *w = nninit__malloc_array((size_t)p->rows * 2, sizeof *w);
    if (!k || !w) {
        free(k);
        free(w);
        return nninit__err(err, NNINIT_ENOMEM, "sparse_: out of memory");
    }
    for (int64_t c = 0; c < p->cols; c++) {
        nninit__philox_words(key, stream, SPARSE_KEY_BASE + 2 * (uint64_t)(c * p->rows), (size_t)p->rows * 2, w);
        for (int64_t r = 0; r < p->rows; r++) {
            k[r].key = ((uint64_t)w[2 * r] << 32) | w[2 * r + 1];
            k[r].row = r;
        }
        qsort(k, (size_t)p->rows, sizeof *k, keyed_cmp);
        for (int64_t z = 0; z < zeros && z < p->rows; z++)
            put(dtype, out, (size_t)(k[z].row * p->cols + c), 0.0);
    }
    free(k);
    free(w);
    return NNINIT_OK;
}

static nninit_status check_args(const nninit_init *init, const nninit_shape *shape, const nninit_fill_opts *opts,
                                const void *rng, const void *out, nninit_err *err)
{
    if (!init || !shape || !opts || !rng || !out)
        return nninit__err(err, NNINIT_EMISUSE, "nninit_fill: NULL argument");
    if (opts->dtype != NNINIT_F32 && opts->dtype != NNINIT_F64)
        return nninit__err(err, NNINIT_EUNSUPPORTED, "cannot generate %s directly; generate float32 and convert",
                           nninit_dtype_name(opts->dtype));
    if (opts->layout != NNINIT_LAYOUT_KERAS && opts->layout != NNINIT_LAYOUT_TORCH)
        return nninit__err(err, NNINIT_EINVAL, "unknown layout %d", (int)opts->layout);
    (void)shape;
    return NNINIT_OK;
}

static nninit_status check_finite(const nninit_init *init, const nninit_prim *p, nninit_dtype dtype, nninit_err *err);

nninit_status nninit_fill_range(const nninit_init *init, const nninit_shape *shape, const nninit_fill_opts *opts,
                                const nninit_rng *rng, int64_t begin, int64_t end, void *out, nninit_err *err)
{
    nninit_status st = check_args(init, shape, opts, rng, out, err);
    if (st != NNINIT_OK)
        return st;
    if (rng->kind != NNINIT_RNG_PHILOX)
        return nninit__err(err, NNINIT_EUNSUPPORTED,
                           "sub-ranges need the Philox generator; the torch generator is sequential");
    nninit_prim p;
    if ((st = nninit_resolve(init, shape, opts->layout, &p, err)) != NNINIT_OK)
        return st;
    if ((st = check_finite(init, &p, opts->dtype, err)) != NNINIT_OK) /* sub-ranges too: no inf or NaN anywhere */
        return st;
    int64_t numel;
    nninit_shape_numel(shape, &numel, NULL);
    if (begin < 0 || end < begin || end > numel)
        return nninit__err(err, NNINIT_EINVAL, "range [%lld, %lld) is outside the tensor's %lld elements",
                           (long long)begin, (long long)end, (long long)numel);
    if (begin == end)
        return NNINIT_OK;
    if (p.kind == NNINIT_PRIM_STFT)
        return nninit__stft_fill(init, shape, opts->dtype, begin, end, out, err);
    if (p.kind == NNINIT_PRIM_ORTHOGONAL || p.kind == NNINIT_PRIM_SPARSE || p.kind == NNINIT_PRIM_DELTA_ORTHOGONAL) {
        size_t es = nninit_dtype_size(opts->dtype);
        void *whole = (begin == 0 && end == numel) ? out : nninit__malloc_array((size_t)numel, es);
        if (!whole)
            return nninit__err(err, NNINIT_ENOMEM, "out of memory for a %lld-element tensor", (long long)numel);
        if (p.kind == NNINIT_PRIM_ORTHOGONAL)
            st = fill_orthogonal(&p, rng->key, opts->stream, opts->dtype, whole, err);
        else if (p.kind == NNINIT_PRIM_SPARSE)
            st = fill_sparse(&p, rng->key, opts->stream, opts->dtype, whole, err);
        else
            st = fill_delta_orthogonal(&p, shape, rng->key, opts->stream, opts->dtype, whole, err);
        if (whole != out) {
            if (st == NNINIT_OK)
                memcpy(out, (char *)whole + (size_t)begin * es, (size_t)(end - begin) * es);
            free(whole);
        }
        return st;
    }
    job j = {&p, shape, rng->key, opts->stream, opts->dtype, begin, end, out, rng->stream_version};
    return run_parallel(j, thread_count(opts->threads, &p, opts->dtype, end - begin), err);
}

/* Refuses parameters whose values would not fit the dtype (inf or NaN in
 * the tensor): RandomNormal(stddev=1e308) in float32, or a uniform range
 * whose width overflows double. A normal draw stays within 10 std of its
 * mean far beyond any tensor's size (P < 1e-23 per element). */
static nninit_status check_finite(const nninit_init *init, const nninit_prim *p, nninit_dtype dtype, nninit_err *err)
{
    const double top = dtype == NNINIT_F64 ? 1.79e308 : 3.4e38;
    double reach = 0;
    switch (p->kind) {
    case NNINIT_PRIM_CONSTANT: reach = fabs(p->value); break;
    case NNINIT_PRIM_UNIFORM: /* lo + u (hi - lo): the width must be finite too */
        reach = isfinite(p->hi - p->lo) ? fmax(fabs(p->lo), fabs(p->hi)) : (double)INFINITY;
        break;
    case NNINIT_PRIM_NORMAL:
    case NNINIT_PRIM_TRUNC_NORMAL:
    case NNINIT_PRIM_SPARSE: reach = fabs(p->mean) + 10.0 * p->std; break;
    case NNINIT_PRIM_ORTHOGONAL:
    case NNINIT_PRIM_EYE:
    case NNINIT_PRIM_BLOCK_EYE:
    case NNINIT_PRIM_DELTA_ORTHOGONAL: reach = fabs(p->gain); break;
    default: return NNINIT_OK;
    }
    if (!(reach <= top)) /* also catches NaN */
        return nninit__err(err, NNINIT_EINVAL, "%s: its parameters give values up to about %.3g, beyond %s's "
                           "largest finite value %.3g (the tensor would hold inf or NaN); use smaller parameters%s",
                           nninit_init_kind_name(init->kind), reach, nninit_dtype_name(dtype), top,
                           dtype == NNINIT_F64 ? "" : " or float64");
    return NNINIT_OK;
}

nninit_status nninit_fill(const nninit_init *init, const nninit_shape *shape, const nninit_fill_opts *opts,
                          nninit_rng *rng, void *out, nninit_err *err)
{
    nninit_status st = check_args(init, shape, opts, rng, out, err);
    if (st != NNINIT_OK)
        return st;
    {
        nninit_prim p;
        if ((st = nninit_resolve(init, shape, opts->layout, &p, err)) != NNINIT_OK ||
            (st = check_finite(init, &p, opts->dtype, err)) != NNINIT_OK)
            return st;
    }
    if (rng->kind != NNINIT_RNG_PHILOX) { /* one piece: the whole tensor */
        nninit__draw d;
        if ((st = nninit__draw_begin(&d, init, shape, opts, rng, out, err)) == NNINIT_OK)
            st = nninit__draw_next(&d, out, d.numel, err);
        nninit__draw_end(&d);
        return st;
    }
    int64_t numel;
    if ((st = nninit_shape_numel(shape, &numel, err)) != NNINIT_OK)
        return st;
    return nninit_fill_range(init, shape, opts, rng, 0, numel, out, err);
}

nninit_status nninit__draw_begin(nninit__draw *d, const nninit_init *init, const nninit_shape *shape,
                                 const nninit_fill_opts *opts, nninit_rng *rng, void *whole_into, nninit_err *err)
{
    memset(d, 0, sizeof *d);
    nninit_status st = check_args(init, shape, opts, rng, d, err);
    if (st != NNINIT_OK)
        return st;
    if (rng->kind == NNINIT_RNG_PHILOX)
        return nninit__err(err, NNINIT_EMISUSE, "pieces in order are for the torch generator; Philox tensors are "
                           "addressed with nninit_fill_range");
    if ((st = nninit_resolve(init, shape, opts->layout, &d->prim, err)) != NNINIT_OK ||
        (st = check_finite(init, &d->prim, opts->dtype, err)) != NNINIT_OK ||
        (st = nninit_shape_numel(shape, &d->numel, err)) != NNINIT_OK)
        return st;
    d->rng = rng;
    d->init = init;
    d->shape = *shape;
    d->dtype = opts->dtype;
    /* STFT windows and block-eye draw nothing: computed by position, as eye_ */
    d->nodraw = d->prim.kind == NNINIT_PRIM_STFT || d->prim.kind == NNINIT_PRIM_BLOCK_EYE;
    return d->nodraw ? NNINIT_OK : nninit__torch_draw_start(d, whole_into, err);
}

nninit_status nninit__draw_next(nninit__draw *d, void *out, int64_t m, nninit_err *err)
{
    if (!d || !d->rng || !out || m < 0 || m > d->numel - d->pos)
        return nninit__err(err, NNINIT_EMISUSE, "nninit__draw_next: %lld elements past the tensor's end",
                           (long long)m);
    nninit_status st = NNINIT_OK;
    if (m == 0)
        return st;
    if (d->prim.kind == NNINIT_PRIM_STFT) {
        st = nninit__stft_fill(d->init, &d->shape, d->dtype, d->pos, d->pos + m, out, err);
    } else if (d->prim.kind == NNINIT_PRIM_BLOCK_EYE) {
        job j = {&d->prim, &d->shape, d->rng->key, 0, d->dtype, d->pos, d->pos + m, out, d->rng->stream_version};
        run_elementwise(&j);
    } else {
        nninit__torch_draw_piece(d, out, m);
    }
    d->pos += m;
    return st;
}

void nninit__draw_end(nninit__draw *d)
{
    if (d && d->whole_owned)
        free(d->whole);
    if (d) {
        d->whole = NULL;
        d->whole_owned = 0;
    }
}
