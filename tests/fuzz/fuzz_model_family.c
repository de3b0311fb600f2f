/* libFuzzer target for nninit_model_from_family (body in model_fuzz.h). */
#include "model_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_model_parser(nninit_model_from_family, data, size);
}
