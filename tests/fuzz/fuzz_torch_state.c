/* libFuzzer target for nninit_rng_torch_state_set (bytes of
 * torch.get_rng_state()): any input is refused or loaded, a loaded state
 * draws without reading out of bounds, and get(set(x)) is a fixed point:
 *   make fuzz   (or clang -fsanitize=fuzzer,address -Iinclude -Isrc tests/fuzz/fuzz_torch_state.c src/... ) */
#include "nninit.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    nninit_rng *rng = NULL;
    if (nninit_rng_new(NNINIT_RNG_TORCH_AVX2, 0, &rng, NULL) != NNINIT_OK)
        return 0;
    unsigned char a[NNINIT_TORCH_STATE_SIZE], b[NNINIT_TORCH_STATE_SIZE];
    if (nninit_rng_torch_state_set(rng, data, size, NULL) == NNINIT_OK) {
        nninit_init init = nninit_init_default(NNINIT_TORCH_NORMAL);
        nninit_shape shape = {1, {40}};
        nninit_fill_opts opts = nninit_fill_opts_default();
        opts.layout = NNINIT_LAYOUT_TORCH;
        float out[40];
        if (nninit_rng_torch_state_get(rng, a, NULL) != NNINIT_OK ||
            nninit_rng_torch_state_set(rng, a, sizeof a, NULL) != NNINIT_OK ||
            nninit_rng_torch_state_get(rng, b, NULL) != NNINIT_OK || memcmp(a, b, sizeof a) != 0)
            abort();
        nninit_fill(&init, &shape, &opts, rng, out, NULL); /* at least one twist's worth of reads */
        shape.dim[0] = 3;
        nninit_fill(&init, &shape, &opts, rng, out, NULL);
    }
    nninit_rng_free(rng);
    return 0;
}
