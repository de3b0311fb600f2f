/* Shared body of the model-description fuzz targets: any input is either a
 * model or an error, never a crash; accepted models are listed tensor by
 * tensor with their layer information, linted (nninit_advise) and fixed
 * (nninit_advice_fix, which parses the text again). */
#ifndef NNINIT_MODEL_FUZZ_H
#define NNINIT_MODEL_FUZZ_H

#include "nninit.h"
#include "nninit_analysis.h"
#include "nninit_model.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef nninit_status (*model_parser)(const char *text, nninit_model **out, nninit_err *err);

static int fuzz_model_parser(model_parser parse, const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    nninit_model *m = NULL;
    nninit_err err;
    if (parse(text, &m, &err) == NNINIT_OK) {
        nninit_model_tensor t;
        for (size_t i = 0; i < nninit_model_count(m); i++) {
            nninit_model_layer_info li;
            if (!nninit_model_tensor_at(m, i, &t) || !t.name || nninit_model_layer_info_at(m, i, &li, &err) ||
                !li.layer || !li.cls)
                abort();
        }
        nninit_advice *a = NULL;
        if (nninit_advise(m, &a, &err) == NNINIT_OK) {
            char *fixed = NULL;
            if (nninit_advice_fix(m, text, a, &fixed, &err) == NNINIT_OK && !fixed)
                abort();
            nninit_free(fixed);
            nninit_advice_free(a);
        }
        nninit_model_free(m);
    }
    free(text);
    return 0;
}

#endif
