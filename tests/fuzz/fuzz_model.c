/* libFuzzer target for the JSON model description parser, followed by
 * building the network it describes (small inputs only). */
#include "nninit.h"
#include "nninit_model.h"
#include "nninit_nn.h"

#include <stddef.h>
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
    nninit_layer_desc *layers = NULL;
    int n = 0;
    nninit_err err;
    if (nninit_model_parse_json(text, &layers, &n, &err) == NNINIT_OK) {
        int64_t params = 0, width = 8;
        for (int i = 0; i < n; i++) /* keep the network small enough to build quickly */
            if (layers[i].kind == NNINIT_LAYER_DENSE) {
                params += width * layers[i].units;
                width = layers[i].units;
            }
        if (params <= 100000) {
            nninit_net *net = NULL;
            if (nninit_net_new(8, layers, n, NULL, &net, &err) == NNINIT_OK) {
                float x[16] = {0};
                nninit_net_forward(net, x, 2, 1, NULL, &err);
            }
            nninit_net_free(net);
        }
    }
    nninit_free(layers);
    free(text);
    return 0;
}
