/* Embedding lookup (token ids to rows of a table) and learned position
 * embeddings added to a sequence. */
#include "nn/internal.h"

#include <string.h>

nninit_status nninit__embedding_forward(const int32_t *ids, int64_t count, const float *table, int64_t vocab,
                                        int64_t dim, float *y, nninit_err *err)
{
    for (int64_t i = 0; i < count; i++) {
        if (ids[i] < 0 || ids[i] >= vocab)
            return nninit__err(err, NNINIT_EINVAL, "embedding: token id %ld at position %ld is outside the vocabulary; "
                               "expected 0 .. %ld", (long)ids[i], (long)i, (long)(vocab - 1));
        memcpy(y + i * dim, table + (int64_t)ids[i] * dim, (size_t)dim * sizeof *y);
    }
    return NNINIT_OK;
}

void nninit__embedding_backward(const int32_t *ids, int64_t count, const float *dy, int64_t vocab, int64_t dim,
                                int64_t padding_idx, float *dtable)
{
    memset(dtable, 0, (size_t)(vocab * dim) * sizeof *dtable);
    for (int64_t i = 0; i < count; i++) {
        if (ids[i] == padding_idx)
            continue;
        float *row = dtable + (int64_t)ids[i] * dim;
        nninit__vadd(row, row, dy + i * dim, dim);
    }
}

void nninit__posemb_forward(const float *x, const float *pos, int64_t batch, int64_t steps, int64_t dim, float *y)
{
    for (int64_t b = 0; b < batch; b++)
        nninit__vadd(y + b * steps * dim, x + b * steps * dim, pos, steps * dim); /* all steps of sequence b */
}

void nninit__posemb_backward(const float *dy, int64_t batch, int64_t steps, int64_t dim, float *dpos)
{
    /* dpos[t] = sum over b of dy[b, t]: column sums of (batch, steps * dim) */
    nninit__col_sums(dy, batch, steps * dim, steps * dim, dpos);
}
