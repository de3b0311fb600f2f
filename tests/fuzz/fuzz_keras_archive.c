/* libFuzzer target for nninit_model_from_keras_file: the input is written
 * to a temporary file and read as a .keras zip or as model JSON. */
#define _POSIX_C_SOURCE 200809L
#include "nninit.h"
#include "nninit_model.h"

#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64];
    snprintf(path, sizeof path, "/tmp/fuzz_keras_archive.%ld", (long)getpid());
    FILE *f = fopen(path, "wb");
    if (!f)
        return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    nninit_model *m = NULL;
    nninit_err err;
    if (nninit_model_from_keras_file(path, &m, &err) == NNINIT_OK)
        nninit_model_free(m);
    unlink(path);
    return 0;
}
