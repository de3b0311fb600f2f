/*
 * Private: the fork-join loop behind nninit_fill (parallel.c). Never installed.
 */
#ifndef NNINIT_PARALLEL_H
#define NNINIT_PARALLEL_H

#include <stddef.h>
#include <stdint.h>

/* fn(arg, b, e) over [begin, end) cut at the multiples of `chunk` (absolute
 * indices, so the cuts never depend on the thread count), on up to
 * `threads` threads including the caller. Chunks are claimed in increasing
 * order from a shared counter, so each one is first touched by the thread
 * that computes it. Threads that cannot be created leave their share to
 * the others; the call returns when every chunk is done. */
void nninit__parallel_for(int64_t begin, int64_t end, int64_t chunk, int threads,
                          void (*fn)(void *arg, int64_t b, int64_t e), void *arg);

#endif
