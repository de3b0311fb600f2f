/* libFuzzer target for the .npy reader:
 *   clang -fsanitize=fuzzer,address -Iinclude -Isrc tests/fuzz/fuzz_npy.c build/libnninit.a ... */
#include "nninit.h"
#include "nninit_io.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    nninit_dtype dtype;
    nninit_shape shape;
    void *out = NULL;
    nninit_err err;
    if (nninit_npy_parse(data, size, &dtype, &shape, &out, &err) == NNINIT_OK) {
        /* Touch every byte the reader claims to have produced. */
        size_t n = nninit_dtype_size(dtype);
        for (int i = 0; i < shape.ndim; i++)
            n *= (size_t)shape.dim[i];
        volatile uint8_t sink = 0;
        for (size_t i = 0; i < n; i++)
            sink ^= ((const uint8_t *)out)[i];
        (void)sink;
    }
    nninit_free(out);
    return 0;
}
