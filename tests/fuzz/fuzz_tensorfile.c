/* libFuzzer target for the tensor-file readers (safetensors, npz, npy):
 * the input is written to a temporary file, opened with format detection,
 * and every tensor of at most 1 MiB is read.
 *   clang -fsanitize=fuzzer,address -Iinclude tests/fuzz/fuzz_tensorfile.c build/libnninit.a $(LIBS) */
#define _POSIX_C_SOURCE 200809L
#include "nninit.h"
#include "nninit_io.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64];
    snprintf(path, sizeof path, "/tmp/fuzz_tensorfile.%ld", (long)getpid());
    FILE *f = fopen(path, "wb");
    if (!f)
        return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    nninit_tensor_file *tf = NULL;
    nninit_err err;
    if (nninit_tensor_file_open(path, &tf, &err) == NNINIT_OK) {
        for (size_t i = 0; i < nninit_tensor_file_count(tf); i++) {
            const nninit_tensor_info *info = nninit_tensor_file_info(tf, i);
            if (info->nbytes > (1u << 20))
                continue;
            void *out = malloc(info->nbytes + 1);
            if (out)
                (void)nninit_tensor_file_read(tf, i, out, &err);
            free(out);
        }
        nninit_tensor_file_free(tf);
    }
    unlink(path);
    return 0;
}
