/*
 * nninit_data.h: data sets (the data layer): IDX files (gzip or plain),
 * Fashion-MNIST, standardization, splits, permutations.
 *
 * @EXAMPLE@
 */
#ifndef NNINIT_DATA_H
#define NNINIT_DATA_H

#include "nninit.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- IDX files and data sets ---- */

/* An IDX array (LeCun's MNIST format). data holds numel values of the type
 * code (0x08 u8, 0x09 i8, 0x0B i16, 0x0C i32, 0x0D f32, 0x0E f64) in host
 * byte order; free with nninit_idx_free. */
typedef struct nninit_idx {
    int type;
    nninit_shape shape;
    void *data;
    size_t nbytes;
} nninit_idx;

/* Reads an IDX file, gzip-compressed or plain. Checks the magic, the rank
 * (1..NNINIT_MAX_DIMS), every dimension, the data size against the header
 * (truncated data and trailing bytes are both NNINIT_EFORMAT) before
 * allocating. NNINIT_ENOTFOUND / NNINIT_EIO for the file itself. */
NNINIT_API nninit_status nninit_idx_read(const char *path, nninit_idx *out, nninit_err *err);
/* Same checks on an uncompressed IDX image in memory; `what` names it in messages. */
NNINIT_API nninit_status nninit_idx_parse(const void *buf, size_t len, const char *what, nninit_idx *out,
                                          nninit_err *err);
NNINIT_API void nninit_idx_free(nninit_idx *idx);

/* A classification data set: x (n, dim) float32, y (n) in [0, n_classes). */
typedef struct nninit_dataset {
    int64_t n, dim;
    int32_t n_classes;
    float *x;
    int32_t *y;
} nninit_dataset;

/* The folder nninit_dataset_load uses when given NULL: $NNINIT_DATA if set
 * and not empty, else /usr/share/datasets/fashion-mnist (Debian's
 * dataset-fashion-mnist). */
NNINIT_API const char *nninit_dataset_default_dir(void);

/*
 * Loads split "train" or "t10k" from dir (NULL: the default): the files
 * <split>-images-idx3-ubyte and <split>-labels-idx1-ubyte, each with or
 * without ".gz". Images become float32 scaled to [0, 1] (x / 255), one row
 * per image. Checks that the counts agree and every label is < 256.
 * n_classes = 1 + the largest label. Free with nninit_dataset_free.
 * NNINIT_ENOTFOUND (the message says how to install the data), NNINIT_EFORMAT.
 */
NNINIT_API nninit_status nninit_dataset_load(const char *dir, const char *split, nninit_dataset *out,
                                             nninit_err *err);
NNINIT_API void nninit_dataset_free(nninit_dataset *d);

/* Standardises with one mean and std over every value of train (computed in
 * double, in order) and applies the same to other (may be NULL). *mean and
 * *std (may be NULL) get the values used. NNINIT_EINVAL if train is constant. */
NNINIT_API nninit_status nninit_dataset_standardize(nninit_dataset *train, nninit_dataset *other, double *mean,
                                                    double *std, nninit_err *err);

/* Moves a seeded random fraction of train's rows into *val (the rest stay,
 * in their order). fraction in (0, 1), at least one row each side. */
NNINIT_API nninit_status nninit_dataset_split(nninit_dataset *train, double fraction, uint64_t seed,
                                              nninit_dataset *val, nninit_err *err);

/* perm = a uniformly random permutation of 0..n-1 (Fisher-Yates, bounded
 * integers by rejection from the Philox words of (seed, stream)). */
NNINIT_API nninit_status nninit_permutation(int64_t *perm, int64_t n, uint64_t seed, uint64_t stream,
                                            nninit_err *err);

#ifdef __cplusplus
}
#endif
#endif /* NNINIT_DATA_H */
