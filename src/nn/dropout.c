/* Dropout masks from Philox words: counter-based, so a mask depends only on
 * (seed, layer stream, position in the run), never on threads. */
#include "nn/internal.h"

#include <math.h>

void nninit__dropout_mask(const uint32_t key[2], uint64_t stream, uint64_t first, int64_t count, double rate,
                          float *scale)
{
    /* keep when word >= rate * 2^32, so P(drop) = ceil(rate 2^32) / 2^32, within 2^-32 of rate */
    uint64_t threshold = (uint64_t)ceil(rate * 4294967296.0);
    float keep = (float)(1.0 / (1.0 - rate));
    uint32_t words[256];
    for (int64_t done = 0; done < count;) {
        size_t n = (size_t)(count - done < 256 ? count - done : 256);
        nninit__philox_words(key, stream, first + (uint64_t)done, n, words);
        for (size_t i = 0; i < n; i++)
            scale[done + (int64_t)i] = (uint64_t)words[i] < threshold ? 0.0f : keep;
        done += (int64_t)n;
    }
}
