/* libFuzzer target for the IDX reader (plain and gzip images in memory):
 *   make fuzz   (or clang -fsanitize=fuzzer,address -Iinclude -Isrc tests/fuzz/fuzz_idx.c src/... ) */
#include "nninit.h"
#include "nninit_data.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    nninit_idx idx;
    nninit_err err;
    if (nninit_idx_parse(data, size, "fuzz", &idx, &err) == NNINIT_OK) {
        /* the reader's promise: nbytes readable bytes, matching the shape */
        volatile uint8_t sink = 0;
        for (size_t i = 0; i < idx.nbytes; i++)
            sink ^= ((const uint8_t *)idx.data)[i];
        (void)sink;
        nninit_idx_free(&idx);
    }
    return 0;
}
