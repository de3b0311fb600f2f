/* Classification data sets: IDX image/label pairs (Fashion-MNIST, MNIST),
 * scaling, standardisation, seeded permutations and validation splits.
 * Every random choice comes from Philox words, so it depends only on
 * (seed, stream), never on the platform's rand(). */
#include "data/internal.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_DATA_DIR "/usr/share/datasets/fashion-mnist"

const char *nninit_dataset_default_dir(void)
{
    const char *env = getenv("NNINIT_DATA");
    return env && env[0] ? env : DEFAULT_DATA_DIR;
}

void nninit_dataset_free(nninit_dataset *d)
{
    if (!d)
        return;
    free(d->x);
    free(d->y);
    free(d->yf);
    memset(d, 0, sizeof *d);
}

nninit_status nninit_dataset_from_seqset(const nninit_seqset *s, nninit_dataset *out, nninit_err *err)
{
    if (!s || !out || (!s->x && !s->tokens) || (!s->y && !s->yf))
        return nninit__err(err, NNINIT_EMISUSE, "nninit_dataset_from_seqset: NULL argument or empty set");
    memset(out, 0, sizeof *out);
    int64_t dim = s->tokens ? s->steps : s->steps * s->dim, ny = s->n * s->y_steps;
    out->x = nninit__malloc_array((size_t)(s->n * dim), sizeof *out->x);
    if (s->y)
        out->y = nninit__malloc_array((size_t)ny, sizeof *out->y);
    else
        out->yf = nninit__malloc_array((size_t)ny, sizeof *out->yf);
    if (!out->x || (!out->y && !out->yf)) {
        nninit_dataset_free(out);
        return nninit__err(err, NNINIT_ENOMEM, "sequence set: out of memory for %lld rows", (long long)s->n);
    }
    if (s->tokens)
        for (int64_t i = 0; i < s->n * dim; i++)
            out->x[i] = (float)s->tokens[i]; /* ids < 2^24: exact */
    else
        memcpy(out->x, s->x, (size_t)(s->n * dim) * sizeof *out->x);
    if (s->y)
        memcpy(out->y, s->y, (size_t)ny * sizeof *out->y);
    else
        memcpy(out->yf, s->yf, (size_t)ny * sizeof *out->yf);
    out->n = s->n;
    out->dim = dim;
    out->n_classes = s->n_classes;
    out->y_steps = s->y_steps;
    return NNINIT_OK;
}

/* Reads dir/name.gz, or dir/name when there is no .gz. */
static nninit_status read_pair_file(const char *dir, const char *name, nninit_idx *out, nninit_err *err)
{
    char path[4096];
    int n = snprintf(path, sizeof path, "%s/%s.gz", dir, name);
    if (n < 0 || (size_t)n >= sizeof path)
        return nninit__err(err, NNINIT_EINVAL, "data folder '%.200s': path too long", dir);
    nninit_status s = nninit_idx_read(path, out, err);
    if (s != NNINIT_ENOTFOUND)
        return s;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    s = nninit_idx_read(path, out, err);
    if (s == NNINIT_ENOTFOUND) {
        nninit__err(err, NNINIT_ENOTFOUND,
                    "data folder '%.200s': no %s(.gz); install Fashion-MNIST with 'apt-get install "
                    "dataset-fashion-mnist', or point --data or NNINIT_DATA at a folder of IDX files",
                    dir, name);
        if (err)
            err->sys_errno = ENOENT; /* a missing input file: a runtime failure, not a usage error */
    }
    return s;
}

nninit_status nninit_dataset_load(const char *dir, const char *split, nninit_dataset *out, nninit_err *err)
{
    if (!split || !out)
        return nninit__err(err, NNINIT_EMISUSE, "nninit_dataset_load: NULL argument");
    memset(out, 0, sizeof *out);
    if (!dir)
        dir = nninit_dataset_default_dir();
    if (strcmp(split, "train") && strcmp(split, "t10k"))
        return nninit__err(err, NNINIT_EINVAL, "data split '%s'; expected train or t10k", split);
    char iname[64], lname[64];
    snprintf(iname, sizeof iname, "%s-images-idx3-ubyte", split);
    snprintf(lname, sizeof lname, "%s-labels-idx1-ubyte", split);
    nninit_idx im, lb;
    memset(&lb, 0, sizeof lb);
    nninit_status s = read_pair_file(dir, iname, &im, err);
    if (s != NNINIT_OK)
        return s;
    s = read_pair_file(dir, lname, &lb, err);
    if (s == NNINIT_OK && (im.type != 0x08 || im.shape.ndim < 2))
        s = nninit__err(err, NNINIT_EFORMAT, "%s/%s: images are type 0x%02x with %d dims; expected unsigned bytes (0x08), "
                        "(n, rows, cols)", dir, iname, (unsigned)im.type, im.shape.ndim);
    if (s == NNINIT_OK && (lb.type != 0x08 || lb.shape.ndim != 1))
        s = nninit__err(err, NNINIT_EFORMAT, "%s/%s: labels are type 0x%02x with %d dims; expected unsigned bytes, 1 dim",
                        dir, lname, (unsigned)lb.type, lb.shape.ndim);
    if (s == NNINIT_OK && lb.shape.dim[0] != im.shape.dim[0])
        s = nninit__err(err, NNINIT_EFORMAT, "%s: %lld images but %lld labels; expected one label per image", dir,
                        (long long)im.shape.dim[0], (long long)lb.shape.dim[0]);
    if (s == NNINIT_OK) {
        int64_t n = im.shape.dim[0], dim = (int64_t)(im.nbytes / (size_t)n);
        out->x = nninit__malloc_array(im.nbytes, sizeof *out->x);
        out->y = nninit__malloc_array((size_t)n, sizeof *out->y);
        if (!out->x || !out->y) {
            s = nninit__err(err, NNINIT_ENOMEM, "%s: out of memory for %lld images", dir, (long long)n);
        } else {
            const unsigned char *px = im.data, *py = lb.data;
            for (size_t i = 0; i < im.nbytes; i++)
                out->x[i] = (float)px[i] / 255.0f; /* [0, 1], as ToTensor() and x / 255 */
            int32_t mx = 0;
            for (int64_t i = 0; i < n; i++) {
                out->y[i] = py[i];
                mx = py[i] > mx ? py[i] : mx;
            }
            out->n = n;
            out->dim = dim;
            out->n_classes = mx + 1;
        }
    }
    nninit_idx_free(&im);
    nninit_idx_free(&lb);
    if (s != NNINIT_OK)
        nninit_dataset_free(out);
    return s;
}

nninit_status nninit_dataset_standardize(nninit_dataset *train, nninit_dataset *other, double *mean, double *std,
                                         nninit_err *err)
{
    if (!train || !train->x || train->n < 1)
        return nninit__err(err, NNINIT_EMISUSE, "nninit_dataset_standardize: empty training set");
    if (other && other->dim != train->dim)
        return nninit__err(err, NNINIT_EINVAL, "standardize: sets have %lld and %lld features; expected the same",
                           (long long)train->dim, (long long)other->dim);
    int64_t total = train->n * train->dim;
    double s = 0.0;
    for (int64_t i = 0; i < total; i++)
        s += (double)train->x[i];
    double m = s / (double)total, ss = 0.0;
    for (int64_t i = 0; i < total; i++) {
        double d = (double)train->x[i] - m;
        ss += d * d;
    }
    double sd = sqrt(ss / (double)total);
    if (!(sd > 0.0))
        return nninit__err(err, NNINIT_EINVAL, "standardize: the training data are constant (std 0); nothing to scale");
    float fm = (float)m, inv = (float)(1.0 / sd);
    for (int64_t i = 0; i < total; i++)
        train->x[i] = (train->x[i] - fm) * inv;
    if (other)
        for (int64_t i = 0; i < other->n * other->dim; i++)
            other->x[i] = (other->x[i] - fm) * inv;
    if (mean)
        *mean = m;
    if (std)
        *std = sd;
    return NNINIT_OK;
}

nninit_status nninit_permutation(int64_t *perm, int64_t n, uint64_t seed, uint64_t stream, nninit_err *err)
{
    if (!perm || n < 0)
        return nninit__err(err, NNINIT_EMISUSE, "nninit_permutation: NULL perm or n < 0");
    nninit__words w;
    nninit__words_init(&w, seed, stream);
    for (int64_t i = 0; i < n; i++)
        perm[i] = i;
    /* Fisher-Yates from the top: position i swaps with a uniform j <= i */
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = (int64_t)nninit__words_bounded(&w, (uint64_t)i + 1);
        int64_t t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
    return NNINIT_OK;
}

nninit_status nninit_dataset_split(nninit_dataset *train, double fraction, uint64_t seed, nninit_dataset *val,
                                   nninit_err *err)
{
    if (!train || !val || !train->x)
        return nninit__err(err, NNINIT_EMISUSE, "nninit_dataset_split: NULL argument");
    memset(val, 0, sizeof *val);
    int64_t n_val = (int64_t)floor(fraction * (double)train->n + 0.5);
    if (!(fraction > 0.0 && fraction < 1.0) || n_val < 1 || n_val >= train->n)
        return nninit__err(err, NNINIT_EINVAL,
                           "validation fraction %g of %lld rows; expected a fraction in (0, 1) leaving at least one "
                           "row on each side",
                           fraction, (long long)train->n);
    int64_t n = train->n, dim = train->dim;
    /* targets per row: one class, or y_steps classes or reals (a sequence set) */
    int64_t ys = train->y_steps > 1 ? train->y_steps : 1;
    int64_t *perm = nninit__malloc_array((size_t)n, sizeof *perm);
    unsigned char *chosen = calloc((size_t)n, 1);
    val->x = nninit__malloc_array((size_t)(n_val * dim), sizeof *val->x);
    if (train->y)
        val->y = nninit__malloc_array((size_t)(n_val * ys), sizeof *val->y);
    if (train->yf)
        val->yf = nninit__malloc_array((size_t)(n_val * ys), sizeof *val->yf);
    if (!perm || !chosen || !val->x || (train->y && !val->y) || (train->yf && !val->yf)) {
        free(perm);
        free(chosen);
        nninit_dataset_free(val);
        return nninit__err(err, NNINIT_ENOMEM, "validation split: out of memory");
    }
    nninit_permutation(perm, n, seed, nninit_stream_from_name("validation_split"), NULL);
    for (int64_t i = 0; i < n_val; i++)
        chosen[perm[i]] = 1;
    /* both parts keep the original order of their rows */
    int64_t kv = 0, kt = 0;
    for (int64_t i = 0; i < n; i++) {
        int64_t k = chosen[i] ? kv++ : kt++;
        float *x = chosen[i] ? val->x : train->x;
        int32_t *y = chosen[i] ? val->y : train->y;
        float *yf = chosen[i] ? val->yf : train->yf;
        memmove(x + k * dim, train->x + i * dim, (size_t)dim * sizeof *x); /* train: k <= i, moves down */
        if (y)
            memmove(y + k * ys, train->y + i * ys, (size_t)ys * sizeof *y);
        if (yf)
            memmove(yf + k * ys, train->yf + i * ys, (size_t)ys * sizeof *yf);
    }
    val->n = n_val;
    val->dim = dim;
    val->n_classes = train->n_classes;
    val->y_steps = train->y_steps;
    train->n = kt;
    free(perm);
    free(chosen);
    return NNINIT_OK;
}

nninit_status nninit_dataset_view(const nninit_dataset *d, const char *view, nninit_shape *shape, nninit_err *err)
{
    if (!d || !view || !shape)
        return nninit__err(err, NNINIT_EMISUSE, "nninit_dataset_view: NULL argument");
    int64_t side = 0;
    while ((side + 1) * (side + 1) <= d->dim)
        side++;
    int flat = !strcmp(view, "flat"), images = !strcmp(view, "images"), rows = !strcmp(view, "rows");
    if (!flat && !images && !rows)
        return nninit__err(err, NNINIT_EINVAL, "data view '%.64s': expected flat, images or rows", view);
    if (!flat && side * side != d->dim)
        return nninit__err(err, NNINIT_EINVAL, "data view %s: rows of %lld values are not square images; use flat",
                           view, (long long)d->dim);
    nninit_shape s = {flat ? 1 : images ? 3 : 2, {flat ? d->dim : side, side, 1}};
    *shape = s;
    return NNINIT_OK;
}
