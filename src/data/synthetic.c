/* Synthetic long-memory tasks from the Philox stream: the adding problem and
 * copy memory (see nninit_data.h for their definitions and sources). */
#include "data/internal.h"

#include <stdlib.h>
#include <string.h>

#define COPY_SYMBOLS 8  /* symbols 1..8 */
#define COPY_LENGTH 10  /* symbols to remember */
#define COPY_DELIM 9    /* the "start recalling" token */

static nninit_status alloc_set(nninit_seqset *s, int64_t n, int64_t steps, int64_t dim, nninit_err *err)
{
    if (dim > 0)
        s->x = nninit__malloc_array((size_t)n, (size_t)(steps * dim) * sizeof *s->x);
    else
        s->tokens = nninit__malloc_array((size_t)n, (size_t)steps * sizeof *s->tokens);
    if (s->n_classes > 0)
        s->y = nninit__malloc_array((size_t)n, (size_t)s->y_steps * sizeof *s->y);
    else
        s->yf = nninit__malloc_array((size_t)n, (size_t)s->y_steps * sizeof *s->yf);
    if ((dim > 0 ? !s->x : !s->tokens) || (s->n_classes > 0 ? !s->y : !s->yf)) {
        nninit_seqset_free(s);
        return nninit__err(err, NNINIT_ENOMEM, "synthetic task: out of memory for %lld sequences of %lld steps",
                           (long long)n, (long long)steps);
    }
    s->n = n;
    s->steps = steps;
    s->dim = dim;
    return NNINIT_OK;
}

nninit_status nninit_adding_problem(int64_t n, int64_t steps, uint64_t seed, nninit_seqset *out, nninit_err *err)
{
    if (!out)
        return nninit__err(err, NNINIT_EMISUSE, "nninit_adding_problem: NULL out");
    memset(out, 0, sizeof *out);
    if (n < 1 || steps < 2 || steps > (INT64_C(1) << 30))
        return nninit__err(err, NNINIT_EINVAL,
                           "adding problem of %lld sequences of %lld steps; expected n >= 1 and 2 <= steps <= 2^30",
                           (long long)n, (long long)steps);
    out->y_steps = 1;
    nninit_status st = alloc_set(out, n, steps, 2, err);
    if (st != NNINIT_OK)
        return st;
    nninit__words w;
    nninit__words_init(&w, seed, nninit_stream_from_name("adding_problem"));
    int64_t half = steps / 2;
    for (int64_t i = 0; i < n; i++) {
        float *x = out->x + i * steps * 2;
        for (int64_t t = 0; t < steps; t++) {
            x[2 * t] = nninit__words_unit(&w);
            x[2 * t + 1] = 0.0f;
        }
        int64_t a = (int64_t)nninit__words_bounded(&w, (uint64_t)half);
        int64_t b = half + (int64_t)nninit__words_bounded(&w, (uint64_t)(steps - half));
        x[2 * a + 1] = 1.0f;
        x[2 * b + 1] = 1.0f;
        out->yf[i] = x[2 * a] + x[2 * b];
    }
    return NNINIT_OK;
}

nninit_status nninit_copy_memory(int64_t n, int64_t delay, uint64_t seed, nninit_seqset *out, nninit_err *err)
{
    if (!out)
        return nninit__err(err, NNINIT_EMISUSE, "nninit_copy_memory: NULL out");
    memset(out, 0, sizeof *out);
    if (n < 1 || delay < 1 || delay > (INT64_C(1) << 30))
        return nninit__err(err, NNINIT_EINVAL,
                           "copy memory of %lld sequences with delay %lld; expected n >= 1 and 1 <= delay <= 2^30",
                           (long long)n, (long long)delay);
    int64_t steps = delay + 2 * COPY_LENGTH;
    out->vocab = COPY_DELIM + 1;
    out->n_classes = COPY_SYMBOLS + 1;
    out->y_steps = steps;
    nninit_status st = alloc_set(out, n, steps, 0, err);
    if (st != NNINIT_OK)
        return st;
    nninit__words w;
    nninit__words_init(&w, seed, nninit_stream_from_name("copy_memory"));
    for (int64_t i = 0; i < n; i++) {
        int32_t *x = out->tokens + i * steps, *y = out->y + i * steps;
        memset(x, 0, (size_t)steps * sizeof *x);
        memset(y, 0, (size_t)steps * sizeof *y);
        for (int j = 0; j < COPY_LENGTH; j++) {
            int32_t sym = 1 + (int32_t)nninit__words_bounded(&w, COPY_SYMBOLS);
            x[j] = sym;
            y[steps - COPY_LENGTH + j] = sym;
        }
        x[COPY_LENGTH + delay - 1] = COPY_DELIM;
    }
    return NNINIT_OK;
}
