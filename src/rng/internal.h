/*
 * Random-number layer: Philox4x32-10, its distributions, the generator
 * object and PyTorch's CPU generator. Depends on core.
 * Private to src/ (never installed); names are nninit__*, hidden from the
 * shared library by -fvisibility=hidden.
 */
#ifndef NNINIT_RNG_INTERNAL_H
#define NNINIT_RNG_INTERNAL_H

#include "core/internal.h"

/* ---- Philox4x32-10 (rng_philox.c) ---- */

/* Key of a 64-bit seed: (low 32 bits, high 32 bits). */
void nninit__philox_key(uint64_t seed, uint32_t key[2]);

/* Words [first, first + n) of the word sequence of (key, stream): word w is
 * lane (w % 4) of block (w / 4), counter = (block lo, block hi, stream lo,
 * stream hi). */
void nninit__philox_words(const uint32_t key[2], uint64_t stream, uint64_t first, size_t n, uint32_t *out);

/* ---- Philox distributions (dist_philox.c) ----
 * Element i of the (key, stream) sequence for each dtype; see docs/stream.md.
 * `begin` is the first element index, n the count, out gets n elements. */
void nninit__philox_uniform(const uint32_t key[2], uint64_t stream, nninit_dtype dtype, uint64_t begin,
                            size_t n, double lo, double hi, void *out);
void nninit__philox_normal(const uint32_t key[2], uint64_t stream, nninit_dtype dtype, uint64_t begin,
                           size_t n, double mean, double std, void *out);
void nninit__philox_trunc_normal(const uint32_t key[2], uint64_t stream, nninit_dtype dtype, uint64_t begin,
                                 size_t n, double mean, double std, double a, double b, int version, void *out);

/* ---- the generator object (rng.c) ---- */

typedef struct nninit__mt19937 {
    uint32_t state[624];
    int left; /* words left before the next twist (PyTorch's convention) */
    int next;
} nninit__mt19937;

struct nninit_rng {
    nninit_rng_kind kind;     /* as requested */
    nninit_rng_kind resolved; /* after auto-detection of the torch variant */
    uint64_t seed;
    int stream_version;       /* Philox stream format (NNINIT_STREAM_VERSION unless set) */
    uint32_t key[2];          /* Philox key */
    /* torch generator state */
    nninit__mt19937 mt;
    double normal_cache;      /* PyTorch's cached second Box-Muller value */
    int normal_cache_valid;
};

/* ---- PyTorch CPU generator (rng_torch*.c) ---- */

/* torch.manual_seed(seed): MT19937 seeded with seed mod 2^32, cache cleared. */
void nninit__torch_seed(nninit_rng *rng, uint64_t seed);
uint32_t nninit__torch_next32(nninit_rng *rng);
uint64_t nninit__torch_next64(nninit_rng *rng);
/* 1 if PyTorch 1.13 would dispatch its AVX2 kernels on this CPU. */
int nninit__torch_cpu_has_avx2(void);

#endif /* NNINIT_RNG_INTERNAL_H */
