/* libFuzzer target for nninit_model_from_torch: any input is either a model or an error,
 * never a crash; accepted models are listed tensor by tensor. */
#include "nninit.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    nninit_model *m = NULL;
    nninit_err err;
    if (nninit_model_from_torch(text, &m, &err) == NNINIT_OK) {
        nninit_model_tensor t;
        for (size_t i = 0; i < nninit_model_count(m); i++)
            if (!nninit_model_tensor_at(m, i, &t) || !t.name)
                abort();
        nninit_model_free(m);
    }
    free(text);
    return 0;
}
