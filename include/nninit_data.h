/*
 * nninit_data.h: data sets (the data layer): IDX files (gzip or plain),
 * Fashion-MNIST, standardization, splits, permutations; sequence sets: a
 * character-level corpus from Debian's fortunes and the synthetic
 * long-memory tasks (adding problem, copy memory).
 *
 * Example, a whole program (tests/cli/header_examples.sh extracts, compiles
 * and runs it, and compares its output with the lines after "Prints:"):
 *
 *     #include <stdio.h>
 *     #include "nninit_data.h"
 *
 *     int main(void)
 *     {
 *         // 4 sequences of the adding problem, 10 steps each, and a seeded shuffle
 *         nninit_seqset s;
 *         int64_t perm[5];
 *         nninit_err err = {0};
 *         if (nninit_adding_problem(4, 10, 7, &s, &err) != NNINIT_OK) {
 *             fprintf(stderr, "%s\n", err.msg);
 *             return 1;
 *         }
 *         printf("adding problem: %lld x %lld steps x %lld features, first target %.4f\n", (long long)s.n,
 *                (long long)s.steps, (long long)s.dim, s.yf[0]);
 *         nninit_seqset_free(&s);
 *         if (nninit_permutation(perm, 5, 7, 0, &err) != NNINIT_OK) {
 *             fprintf(stderr, "%s\n", err.msg);
 *             return 1;
 *         }
 *         printf("permutation of 5: %lld %lld %lld %lld %lld\n", (long long)perm[0], (long long)perm[1],
 *                (long long)perm[2], (long long)perm[3], (long long)perm[4]);
 *         return 0;
 *     }
 *
 * Prints:
 *
 *     adding problem: 4 x 10 steps x 2 features, first target 0.9509
 *     permutation of 5: 1 4 3 0 2
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

/* A data set: x (n, dim) float32 and per row y_steps targets: class ids
 * y (n, y_steps) in [0, n_classes), or real targets yf (n, y_steps) (then y
 * is NULL and n_classes 0). y_steps 0 means 1 (an image's label); a
 * language model has one per step. Zero-initialize before filling. */
typedef struct nninit_dataset {
    int64_t n, dim;
    int32_t n_classes;
    float *x;
    int32_t *y;
    int64_t y_steps; /* targets per row; 0 or 1: one */
    float *yf;       /* real targets, or NULL */
} nninit_dataset;


/* How a network sees each row of d (the data do not move; a network built
 * for *shape takes d's rows as they are): "flat" (dim) features, "images"
 * (side, side, 1) NHWC grey images, "rows" (side, side): side steps of side
 * features (an image read row by row, as a sequence; Fashion-MNIST gives 28
 * steps of 28). images and rows need dim = side^2. NNINIT_EINVAL for another
 * view name or a non-square dim. */
NNINIT_API nninit_status nninit_dataset_view(const nninit_dataset *d, const char *view, nninit_shape *shape,
                                             nninit_err *err);

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
 * in their order), each row with its targets (y_steps of them for a
 * sequence set, classes or reals). fraction in (0, 1), at least one row
 * each side. */
NNINIT_API nninit_status nninit_dataset_split(nninit_dataset *train, double fraction, uint64_t seed,
                                              nninit_dataset *val, nninit_err *err);

/* perm = a uniformly random permutation of 0..n-1 (Fisher-Yates, bounded
 * integers by rejection from the Philox words of (seed, stream)). */
NNINIT_API nninit_status nninit_permutation(int64_t *perm, int64_t n, uint64_t seed, uint64_t stream,
                                            nninit_err *err);

/* ---- sequence data sets ----
 * Fashion-MNIST needs no conversion for recurrent layers: a row of
 * nninit_dataset.x (784 values) is already 28 steps of 28 features,
 * row-major (batch, steps, features). */

/* n sequences of `steps` steps, with float features or token inputs, and
 * class or real targets, one per step or one per sequence. */
typedef struct nninit_seqset {
    int64_t n, steps;
    int64_t dim;       /* features per step of x; 0 when the inputs are tokens */
    float *x;          /* (n, steps, dim) or NULL */
    int32_t *tokens;   /* (n, steps) input ids in [0, vocab), or NULL */
    int32_t vocab;     /* input alphabet of tokens, else 0 */
    int64_t y_steps;   /* targets per sequence: steps (one per step) or 1 */
    int32_t n_classes; /* > 0: y holds class ids in [0, n_classes); 0: yf holds real targets */
    int32_t *y;        /* (n, y_steps) or NULL */
    float *yf;         /* (n, y_steps) or NULL */
} nninit_seqset;
NNINIT_API void nninit_seqset_free(nninit_seqset *s);
/* A sequence set as a data set the engine trains on: token ids become
 * floats (an Embedding layer reads them back), so x is (n, steps) for
 * tokens or (n, steps * dim) for features; the targets are copied. Free
 * with nninit_dataset_free. NNINIT_ENOMEM. */
NNINIT_API nninit_status nninit_dataset_from_seqset(const nninit_seqset *s, nninit_dataset *out, nninit_err *err);


/* A character-level text: one id per byte. Id 0 stands for a byte the
 * training text lacks; ids 1 .. vocab-1 are the training text's distinct
 * bytes in increasing byte order (byte_of[id]). */
typedef struct nninit_text {
    int64_t n;                  /* characters */
    int32_t *ids;               /* n ids in [0, vocab) */
    int32_t vocab;              /* 1 + distinct bytes of the training text */
    unsigned char byte_of[256]; /* the byte of each id >= 1 */
    int64_t n_docs;             /* fortunes in this split */
    int64_t n_unknown;          /* characters mapped to id 0 */
} nninit_text;
NNINIT_API void nninit_text_free(nninit_text *t);

/* The folder nninit_fortunes_load uses when given NULL: $NNINIT_FORTUNES if
 * set and not empty, else /usr/share/games/fortunes (Debian's fortunes). */
NNINIT_API const char *nninit_fortunes_default_dir(void);

/*
 * The fortunes corpus, split for language modelling. Reads every fortune
 * file of dir (a file NAME with a strfile index NAME.dat beside it), in
 * byte order of the names; a file is fortunes separated by lines "%".
 * Each fortune with any text becomes its lines followed by "%\n". Fortune
 * k (counted from 0 over all files in that order) goes to the test split
 * when k % 10 == 9, else to train, so the split depends on the files alone.
 * The vocabulary comes from the training split; both texts use it.
 * NNINIT_ENOTFOUND (the message says how to install it) when dir has no
 * fortune file. Free both with nninit_text_free.
 *
 *     nninit_text train, test;
 *     nninit_fortunes_load(NULL, &train, &test, &err);
 *     nninit_seqset s;
 *     nninit_text_windows(&train, 64, 64, &s, &err);  // x: 64 chars, y: the next 64
 */
NNINIT_API nninit_status nninit_fortunes_load(const char *dir, nninit_text *train, nninit_text *test,
                                              nninit_err *err);

/* Next-character prediction windows: sequence i is ids[i stride ..] for
 * `steps` steps as tokens, the same shifted by one as y (y_steps = steps,
 * n_classes = vocab = t->vocab); n = (t->n - steps - 1) / stride + 1. */
NNINIT_API nninit_status nninit_text_windows(const nninit_text *t, int64_t steps, int64_t stride,
                                             nninit_seqset *out, nninit_err *err);

/*
 * The adding problem (Hochreiter & Schmidhuber 1997, in the form of Le et
 * al. 2015): steps x 2 features per sequence, feature 0 uniform in [0, 1),
 * feature 1 a marker that is 1 at exactly two steps, one uniform in
 * [0, steps/2) and one in [steps/2, steps); the target (y_steps 1, yf) is
 * the sum of the two marked values. Predicting 1 always gives a mean squared
 * error of 1/6. steps >= 2.
 *
 * Drawn from the Philox words of (seed, stream "adding_problem"), sequence
 * after sequence (steps values, then the two positions), so the first k
 * sequences do not depend on n.
 */
NNINIT_API nninit_status nninit_adding_problem(int64_t n, int64_t steps, uint64_t seed, nninit_seqset *out,
                                               nninit_err *err);

/*
 * Copy memory (Hochreiter & Schmidhuber 1997, in the form of Arjovsky et al.
 * 2016): tokens 0 blank, 1..8 symbols, 9 delimiter (vocab 10); a sequence is
 * 10 symbols uniform in 1..8, delay - 1 blanks, the delimiter and 10 blanks
 * (steps = delay + 20); the target at every step (n_classes 9) is blank
 * except the last 10 steps, which repeat the 10 symbols. Always predicting
 * blank then uniform symbols gives a cross-entropy of 10 ln 8 / (delay + 20)
 * per step. delay >= 1. Philox stream "copy_memory", sequence after sequence.
 */
NNINIT_API nninit_status nninit_copy_memory(int64_t n, int64_t delay, uint64_t seed, nninit_seqset *out,
                                            nninit_err *err);

#ifdef __cplusplus
}
#endif
#endif /* NNINIT_DATA_H */
