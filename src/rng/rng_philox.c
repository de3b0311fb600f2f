/*
 * Philox4x32-10 (Salmon, Moraes, Dror, Shaw: "Parallel random numbers: as
 * easy as 1, 2, 3", SC'11), the counter-based generator behind every
 * default nninit stream. Known-answer tested against Random123.
 */
#include "rng/internal.h"

#include <string.h>

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u /* golden ratio */
#define PHILOX_W1 0xBB67AE85u /* sqrt(3) - 1 */

void nninit_philox4x32_10(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4])
{
    uint32_t c0 = ctr[0], c1 = ctr[1], c2 = ctr[2], c3 = ctr[3];
    uint32_t k0 = key[0], k1 = key[1];
    for (int round = 0; round < 10; round++) {
        uint64_t p0 = (uint64_t)PHILOX_M0 * c0;
        uint64_t p1 = (uint64_t)PHILOX_M1 * c2;
        uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1 ^ k0;
        uint32_t n1 = (uint32_t)p1;
        uint32_t n2 = (uint32_t)(p0 >> 32) ^ c3 ^ k1;
        uint32_t n3 = (uint32_t)p0;
        c0 = n0;
        c1 = n1;
        c2 = n2;
        c3 = n3;
        k0 += PHILOX_W0;
        k1 += PHILOX_W1;
    }
    out[0] = c0;
    out[1] = c1;
    out[2] = c2;
    out[3] = c3;
}

void nninit__philox_key(uint64_t seed, uint32_t key[2])
{
    key[0] = (uint32_t)seed;
    key[1] = (uint32_t)(seed >> 32);
}

void nninit__philox_words(const uint32_t key[2], uint64_t stream, uint64_t first, size_t n, uint32_t *out)
{
    uint32_t ctr[4] = {0, 0, (uint32_t)stream, (uint32_t)(stream >> 32)};
    uint32_t block[4];
    uint64_t w = first;
    size_t done = 0;
    while (done < n) {
        uint64_t b = w >> 2;
        unsigned lane = (unsigned)(w & 3u);
        ctr[0] = (uint32_t)b;
        ctr[1] = (uint32_t)(b >> 32);
        nninit_philox4x32_10(ctr, key, block);
        while (lane < 4 && done < n) {
            out[done++] = block[lane++];
            w++;
        }
    }
}

uint64_t nninit_stream_from_name(const char *name)
{
    uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a 64 */
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        h ^= *p;
        h *= 0x100000001b3ull;
    }
    return h;
}
