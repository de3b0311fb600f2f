/* libFuzzer target: initializer SPEC parsing (names, calls, Keras JSON),
 * then serialization and re-parsing of whatever was accepted. */
#include "nninit.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    if (text[0] == '@') /* never read files named by fuzz input */
        text[0] = ' ';
    nninit_init in;
    nninit_err err;
    if (nninit_init_parse(text, &in, &err) == NNINIT_OK) {
        char *json = NULL;
        if (nninit_init_to_json(&in, &json, &err) == NNINIT_OK) {
            nninit_init back;
            if (nninit_init_parse(json, &back, &err) != NNINIT_OK || memcmp(&in, &back, sizeof in) != 0)
                abort(); /* what we print must parse back to the same initializer */
            nninit_free(json);
        }
        nninit_shape shape = {2, {3, 5}};
        nninit_prim prim;
        nninit_resolve(&in, &shape, NNINIT_LAYOUT_KERAS, &prim, &err);
    }
    nninit_shape s;
    nninit_shape_parse(text, &s, &err);
    free(text);
    return 0;
}
