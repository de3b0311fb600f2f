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
    nninit_shape in;
    if (nninit_net_desc_parse_json_shaped(text, &layers, &n, &in, NULL, &err) == NNINIT_OK) {
        /* a declared input of at most 256 values, else 8 features; keep the network small to build quickly */
        int64_t numel = 1, params = 0, width = 8;
        for (int d = 0; d < in.ndim; d++)
            numel *= in.dim[d];
        if (in.ndim == 0 || numel > 256) {
            in.ndim = 1;
            in.dim[0] = 8;
        }
        for (int i = 0; i < n; i++) {
            const nninit_layer_desc *d = &layers[i];
            if (d->kind == NNINIT_LAYER_DENSE) {
                params += width * d->units;
                width = d->units;
            } else if (d->kind == NNINIT_LAYER_CONV2D) {
                params += d->kernel[0] * d->kernel[1] * 64 * (d->units + d->depth_multiplier * 64);
                params += d->dilation[0] * d->dilation[1] > 64 ? 1000000 : 0;
            }
        }
        if (params <= 100000) {
            nninit_net *net = NULL;
            if (nninit_net_new_shaped(&in, layers, n, NULL, &net, &err) == NNINIT_OK) {
                float *x = calloc((size_t)(2 * nninit_net_n_inputs(net)), sizeof *x);
                if (x)
                    nninit_net_forward(net, x, 2, 1, NULL, &err);
                free(x);
            }
            nninit_net_free(net);
        }
    }
    nninit_free(layers);
    free(text);
    return 0;
}
