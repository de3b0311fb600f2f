/*
 * A fork-join loop over disjoint chunks of an index range (pthreads, one
 * atomic counter). Threads are created per call: no global pool, no state
 * between calls; fills small enough for creation costs to matter stay on
 * the calling thread (fill.c decides).
 */
#include "core/parallel.h"

#include <pthread.h>
#include <stdatomic.h>

#define MAX_THREADS 256

typedef struct pfor {
    int64_t begin, end, chunk, first; /* first: index of the chunk holding begin */
    atomic_llong next;                /* next chunk to claim, relative to first */
    void (*fn)(void *arg, int64_t b, int64_t e);
    void *arg;
} pfor;

static void *worker(void *p)
{
    pfor *w = p;
    for (;;) {
        int64_t c = w->first + (int64_t)atomic_fetch_add(&w->next, 1);
        int64_t b = c * w->chunk, e = b + w->chunk;
        if (b < w->begin)
            b = w->begin;
        if (e > w->end)
            e = w->end;
        if (b >= w->end)
            return NULL;
        w->fn(w->arg, b, e);
    }
}

void nninit__parallel_for(int64_t begin, int64_t end, int64_t chunk, int threads,
                          void (*fn)(void *arg, int64_t b, int64_t e), void *arg)
{
    if (end <= begin)
        return;
    if (chunk < 1)
        chunk = 1;
    int64_t n_chunks = (end - 1) / chunk - begin / chunk + 1;
    if (threads > n_chunks)
        threads = (int)n_chunks;
    if (threads > MAX_THREADS)
        threads = MAX_THREADS;
    if (threads <= 1) {
        fn(arg, begin, end);
        return;
    }
    pfor w;
    w.begin = begin;
    w.end = end;
    w.chunk = chunk;
    w.first = begin / chunk;
    atomic_init(&w.next, 0);
    w.fn = fn;
    w.arg = arg;
    pthread_t tid[MAX_THREADS];
    int started = 0;
    for (int t = 1; t < threads; t++) {
        if (pthread_create(&tid[started], NULL, worker, &w) != 0)
            break;
        started++;
    }
    worker(&w);
    for (int t = 0; t < started; t++)
        pthread_join(tid[t], NULL);
}
