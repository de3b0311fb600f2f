/* libFuzzer target for the engine's description parsers: the input is read
 * as nninit's layer-list / Keras JSON (nninit_net_desc_parse_json_shaped)
 * and as a PyTorch recipe (nninit_net_desc_parse_torch); whatever parses is
 * built into a network on small inputs (shape inference, every refusal
 * path) and freed. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nninit_nn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void build(const nninit_layer_desc *L, int n, const nninit_shape *declared, nninit_layout layout)
{
    static const nninit_shape shapes[3] = {{1, {6}}, {2, {5, 4}}, {3, {6, 6, 2}}};
    nninit_net_opts o = nninit_net_opts_default();
    o.layout = layout;
    for (int k = 0; k < 3; k++) {
        nninit_net *net = NULL;
        nninit_err err;
        const nninit_shape *in = declared && declared->ndim ? declared : &shapes[k];
        int64_t numel = 1;
        for (int d = 0; d < in->ndim; d++)
            numel *= in->dim[d];
        if (numel <= 4096 &&
            nninit_net_new_shaped(in, L, n, &o, &net, &err) == NNINIT_OK && nninit_net_n_params(net) < 100000) {
            float *x = calloc((size_t)(2 * numel), sizeof *x); /* zeros: valid token ids too */
            const float *y;
            if (x && nninit_net_forward(net, x, 2, 1, &y, &err) == NNINIT_OK) {
                float *dy = calloc((size_t)(2 * nninit_net_n_outputs(net)), sizeof *dy);
                if (dy)
                    nninit_net_backward(net, dy, 1, &err);
                free(dy);
            }
            free(x);
        }
        nninit_net_free(net);
        if (declared && declared->ndim)
            break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    nninit_layer_desc *L = NULL;
    int n = 0;
    nninit_shape declared;
    nninit_err err;
    if (nninit_net_desc_parse_json_shaped(text, &L, &n, &declared, NULL, &err) == NNINIT_OK && n <= 64)
        build(L, n, &declared, NNINIT_LAYOUT_KERAS);
    nninit_free(L);
    L = NULL;
    if (nninit_net_desc_parse_torch(text, &L, &n, &err) == NNINIT_OK && n <= 64)
        build(L, n, NULL, NNINIT_LAYOUT_TORCH);
    nninit_free(L);
    free(text);
    return 0;
}
