/* Layer metadata of a Keras model (model_meta.c's Keras half): which layer
 * and class each variable belongs to, and the activation and normalization
 * that follow each layer, read from the layer configs: a layer's own
 * "activation", then (Sequential) the layers after it or (Functional) its
 * single consumer, skipping dropout and noise layers. */
#include "model/internal.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

static const char *layer_name(json_t *layer)
{
    const char *n = json_string_value(json_object_get(json_object_get(layer, "config"), "name"));
    return n ? n : json_string_value(json_object_get(layer, "name"));
}

static const char *layer_class(json_t *layer)
{
    const char *cls = json_string_value(json_object_get(layer, "class_name"));
    if (cls && (!strcmp(cls, "Bidirectional") || !strcmp(cls, "TimeDistributed"))) {
        const char *inner = json_string_value(
            json_object_get(json_object_get(json_object_get(layer, "config"), "layer"), "class_name"));
        if (inner)
            return inner;
    }
    return cls;
}

nninit_status nninit__keras_tag_layer(nninit_model *m, size_t from, json_t *layer, nninit_err *err)
{
    const char *name = layer_name(layer), *cls = layer_class(layer);
    return nninit__meta_tag_keras(m, from, name ? name : "", cls ? cls : "", err);
}

/* A Keras activation config value: "relu", or a serialized function
 * {"class_name": "function", "config": "relu", ...}. NULL: none given. */
static const char *act_value(json_t *v)
{
    if (json_is_string(v))
        return json_string_value(v);
    if (json_is_object(v)) {
        const char *c = json_string_value(json_object_get(v, "config"));
        return c ? c : json_string_value(json_object_get(v, "class_name"));
    }
    return NULL;
}

static double cfg_num(json_t *cfg, const char *key, const char *key2, double dflt)
{
    json_t *v = json_object_get(cfg, key);
    if (!json_is_number(v) && key2)
        v = json_object_get(cfg, key2);
    return json_is_number(v) ? json_number_value(v) : dflt;
}

/* The activation an activation layer applies (buf holds parameterised
 * names); NULL: not an activation layer. */
static const char *act_layer(const char *cls, json_t *cfg, char *buf, size_t cap)
{
    if (!strcmp(cls, "Activation"))
        return act_value(json_object_get(cfg, "activation"));
    if (!strcmp(cls, "ReLU")) { /* layers/activations/relu.py: negative_slope 0 unless given */
        double ns = cfg_num(cfg, "negative_slope", NULL, 0.0);
        if (ns == 0.0)
            return "relu";
        snprintf(buf, cap, "leaky_relu(%.15g)", ns);
        return buf;
    }
    if (!strcmp(cls, "LeakyReLU")) { /* Keras 3 negative_slope, Keras 2 alpha; default 0.3 */
        snprintf(buf, cap, "leaky_relu(%.15g)", cfg_num(cfg, "negative_slope", "alpha", 0.3));
        return buf;
    }
    if (!strcmp(cls, "ELU")) {
        snprintf(buf, cap, "elu(%.15g)", cfg_num(cfg, "alpha", NULL, 1.0));
        return buf;
    }
    if (!strcmp(cls, "PReLU"))
        return "prelu";
    if (!strcmp(cls, "Softmax"))
        return "softmax";
    return NULL;
}

/* Layers that pass the signal on unchanged in scale at initialization. */
static int passes_through(const char *cls)
{
    static const char *const pass[] = {"Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D",
                                       "GaussianNoise", "GaussianDropout", "AlphaDropout",
                                       "ActivityRegularization", "Identity", "Masking", NULL};
    for (int i = 0; pass[i]; i++)
        if (!strcmp(cls, pass[i]))
            return 1;
    return 0;
}

/* Names of the layers a functional layer's inbound_nodes mention: Keras 3
 * {"keras_history": [name, node, index]}, Keras 2 [name, node, index, {}]. */
static int mentions(json_t *j, const char *name)
{
    if (json_is_object(j)) {
        json_t *h = json_object_get(j, "keras_history");
        if (json_is_array(h)) {
            const char *n = json_string_value(json_array_get(h, 0));
            if (n && !strcmp(n, name))
                return 1;
        }
        const char *k;
        json_t *v;
        json_object_foreach(j, k, v) {
            if (mentions(v, name))
                return 1;
        }
        return 0;
    }
    if (json_is_array(j)) {
        const char *n = json_string_value(json_array_get(j, 0));
        if (n && json_is_integer(json_array_get(j, 1)) && !strcmp(n, name))
            return 1;
        for (size_t i = 0; i < json_array_size(j); i++)
            if (mentions(json_array_get(j, i), name))
                return 1;
    }
    return 0;
}

/* The layer after `i`: the next in a Sequential, the only consumer in a graph (-1: none or several). */
static long next_layer(json_t *layers, size_t i, int functional)
{
    if (!functional)
        return i + 1 < json_array_size(layers) ? (long)(i + 1) : -1;
    const char *name = layer_name(json_array_get(layers, i));
    long found = -1;
    for (size_t j = 0; name && j < json_array_size(layers); j++) {
        if (j == i || !mentions(json_object_get(json_array_get(layers, j), "inbound_nodes"), name))
            continue;
        if (found >= 0)
            return -1;
        found = (long)j;
    }
    return found;
}

nninit_status nninit__keras_acts(nninit_model *m, json_t *layers, int functional, nninit_err *err)
{
    for (size_t i = 0; i < json_array_size(layers); i++) {
        json_t *layer = json_array_get(layers, i);
        const char *name = layer_name(layer), *cls = layer_class(layer);
        if (!name || !cls)
            continue;
        size_t from = m->n, to = 0;
        int has_kernel = 0;
        for (size_t k = 0; k < m->n; k++)
            if (m->t[k].layer && !strcmp(m->t[k].layer, name)) {
                from = k < from ? k : from;
                to = k + 1;
                has_kernel |= m->t[k].role == NNINIT_ROLE_KERNEL;
            }
        if (to == 0)
            continue;
        json_t *cfg = json_object_get(layer, "config");
        if (json_object_get(cfg, "layer")) /* a wrapper: the inner layer's config */
            cfg = json_object_get(json_object_get(cfg, "layer"), "config");
        const char *act = act_value(json_object_get(cfg, "activation"));
        if (!act && (!strcmp(cls, "SimpleRNN") || !strcmp(cls, "LSTM") || !strcmp(cls, "GRU") ||
                     !strncmp(cls, "ConvLSTM", 8)))
            act = "tanh";
        char buf[64], chosen[64];
        int norm = 0, guard = 0, summed = 0; /* summed: past a residual Add (only a normalization counts there) */
        for (long j = next_layer(layers, i, functional); j >= 0 && guard < 64;
             j = next_layer(layers, (size_t)j, functional), guard++) {
            json_t *nl = json_array_get(layers, (size_t)j);
            const char *ncls = json_string_value(json_object_get(nl, "class_name"));
            const char *a;
            if (!ncls)
                break;
            if (nninit__is_norm_class(ncls))
                norm = 1;
            else if (!strcmp(ncls, "Add"))
                summed = 1; /* a post-norm block: layer -> Add -> LayerNormalization */
            else if (summed)
                break;
            else if ((a = act_layer(ncls, json_object_get(nl, "config"), buf, sizeof buf)) != NULL) {
                if (!act || !strcmp(act, "linear")) {
                    snprintf(chosen, sizeof chosen, "%s", a);
                    act = chosen;
                } else
                    break; /* a second activation: what follows is another layer's business */
            } else if (!passes_through(ncls))
                break;
        }
        if (!act && has_kernel)
            act = "linear";
        nninit_status s = nninit__meta_set_act(m, from, to, act, norm, err);
        if (s)
            return s;
    }
    return NNINIT_OK;
}
