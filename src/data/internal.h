/*
 * Private declarations of the data layer (src/data): the Philox word reader
 * shared by the permutations and the synthetic tasks, and whole-file reads.
 * Never installed.
 */
#ifndef NNINIT_DATA_INTERNAL_H
#define NNINIT_DATA_INTERNAL_H

#include "rng/internal.h"
#include "nninit_data.h"

/* A buffered reader of the Philox word sequence of (key, stream), from word 0. */
typedef struct nninit__words {
    uint32_t key[2];
    uint64_t stream, next;
    uint32_t buf[256];
    int pos, fill;
} nninit__words;

void nninit__words_init(nninit__words *w, uint64_t seed, uint64_t stream);
uint32_t nninit__words_next(nninit__words *w);
/* Uniform integer in [0, m), m >= 1, by rejection (no modulo bias). */
uint64_t nninit__words_bounded(nninit__words *w, uint64_t m);
/* Uniform float in [0, 1): the top 24 bits of one word times 2^-24 (exact). */
float nninit__words_unit(nninit__words *w);

/* Reads a whole file (at most max_bytes) into *buf (malloc'd, one spare
 * byte, caller frees) and *len. NNINIT_ENOTFOUND when it does not exist,
 * NNINIT_EFORMAT when larger than max_bytes, NNINIT_EIO, NNINIT_ENOMEM. */
nninit_status nninit__read_file(const char *path, int64_t max_bytes, unsigned char **buf, size_t *len,
                                nninit_err *err);

#endif /* NNINIT_DATA_INTERNAL_H */
