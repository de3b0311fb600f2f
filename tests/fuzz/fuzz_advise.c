/* libFuzzer target for nninit advise's input path: the input is read as a
 * Keras model JSON, a spec and a PyTorch recipe; every model that parses is
 * analysed (nninit_advise) and its fix written (nninit_advice_fix), and the
 * fixed model must parse again in the form advise_fix promises (Keras JSON
 * stays Keras JSON; a spec or a recipe becomes a spec). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nninit.h"
#include "nninit_analysis.h"
#include "nninit_model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef nninit_status (*model_parser)(const char *text, nninit_model **out, nninit_err *err);

static void advise(model_parser parse, model_parser reparse, const char *text)
{
    nninit_model *m = NULL;
    nninit_err err;
    if (parse(text, &m, &err) != NNINIT_OK)
        return;
    nninit_advice *a = NULL;
    if (nninit_advise(m, &a, &err) == NNINIT_OK) {
        char *json = NULL;
        if (nninit_advice_fix(m, text, a, &json, &err) == NNINIT_OK) {
            nninit_model *fixed = NULL;
            if (reparse(json, &fixed, &err) != NNINIT_OK)
                abort(); /* the fix of a model that parsed must parse too */
            nninit_model_free(fixed);
        }
        nninit_free(json);
        nninit_advice_free(a);
    }
    nninit_model_free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    advise(nninit_model_from_keras, nninit_model_from_keras, text);
    advise(nninit_model_from_spec, nninit_model_from_spec, text);
    advise(nninit_model_from_torch, nninit_model_from_spec, text);
    free(text);
    return 0;
}
