/* Layer metadata of a Keras model (model_meta.c's Keras half): which layer
 * and class each variable belongs to, and the activation and normalization
 * that follow each layer, read from the layer configs: a layer's own
 * "activation", then (Sequential) the layers after it or (Functional) its
 * single consumer, skipping dropout and noise layers. */
#include "model/internal.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *layer_name(json_t *layer)
{
    const char *n = json_string_value(json_object_get(json_object_get(layer, "config"), "name"));
    return n ? n : json_string_value(json_object_get(layer, "name"));
}

static const char *layer_class(json_t *layer)
{
    const char *cls = json_string_value(json_object_get(layer, "class_name"));
    if (cls && (!strcmp(cls, "Bidirectional") || !strcmp(cls, "TimeDistributed") ||
                !strcmp(cls, "SpectralNormalization"))) {
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

/* Who consumes each layer of a graph, read once from every layer's
 * inbound_nodes, which mention their inputs as Keras 3 {"keras_history":
 * [name, node, index]} or Keras 2 [name, node, index, {}]. */
typedef struct consumers {
    nninit__strmap by_name; /* layer name -> its entry in c */
    struct consumer {
        long count, first, second; /* layers mentioning it: how many, the first two */
    } *c;
    size_t n;
} consumers;

static int mention(consumers *cs, const char *name, long layer)
{
    size_t k;
    if (!nninit__strmap_get(&cs->by_name, name, &k)) {
        struct consumer *grown = realloc(cs->c, (cs->n + 1) * sizeof *grown);
        if (!grown)
            return -1;
        cs->c = grown;
        k = cs->n++;
        cs->c[k].count = 0;
        cs->c[k].first = cs->c[k].second = -1;
        if (nninit__strmap_put(&cs->by_name, name, k))
            return -1;
    }
    struct consumer *c = &cs->c[k];
    if (c->first != layer && c->second != layer) { /* each consuming layer counts once (read in order) */
        if (c->first < 0)
            c->first = layer;
        else if (c->second < 0)
            c->second = layer;
        c->count++;
    }
    return 0;
}

static int mentions(consumers *cs, json_t *j, long layer)
{
    if (json_is_object(j)) {
        json_t *h = json_object_get(j, "keras_history");
        if (json_is_array(h)) {
            const char *n = json_string_value(json_array_get(h, 0));
            if (n && mention(cs, n, layer))
                return -1;
        }
        const char *k;
        json_t *v;
        json_object_foreach(j, k, v) {
            if (mentions(cs, v, layer))
                return -1;
        }
        return 0;
    }
    if (json_is_array(j)) {
        const char *n = json_string_value(json_array_get(j, 0));
        if (n && json_is_integer(json_array_get(j, 1)) && mention(cs, n, layer))
            return -1;
        for (size_t i = 0; i < json_array_size(j); i++)
            if (mentions(cs, json_array_get(j, i), layer))
                return -1;
    }
    return 0;
}

/* The layer after `i`: the next in a Sequential, the only consumer in a
 * graph (-1: none or several), from the consumers read once (a scan of
 * every layer for every layer made a 100k-layer model load in minutes). */
static long next_layer(json_t *layers, const consumers *cs, size_t i, int functional)
{
    if (!functional)
        return i + 1 < json_array_size(layers) ? (long)(i + 1) : -1;
    const char *name = layer_name(json_array_get(layers, i));
    size_t k;
    if (!name || !nninit__strmap_get(&cs->by_name, name, &k))
        return -1;
    const struct consumer *c = &cs->c[k];
    long self = c->first == (long)i || c->second == (long)i; /* a layer naming itself is not its consumer */
    if (c->count - self != 1)
        return -1;
    return c->first != (long)i ? c->first : c->second;
}

/* The tensors of each layer, found in one pass: layer name -> range. */
typedef struct layer_span {
    size_t from, to;
    int has_kernel;
} layer_span;

nninit_status nninit__keras_acts(nninit_model *m, json_t *layers, int functional, nninit_err *err)
{
    nninit_status s = NNINIT_OK;
    consumers cs = {NNINIT__STRMAP_INIT, NULL, 0};
    nninit__strmap span_of = NNINIT__STRMAP_INIT;
    layer_span *spans = nninit__malloc_array(m->n ? m->n : 1, sizeof *spans);
    size_t n_spans = 0;
    if (!spans) {
        s = nninit__err(err, NNINIT_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t k = 0; k < m->n; k++) {
        const char *layer = m->t[k].layer;
        size_t j;
        if (!layer)
            continue;
        if (!nninit__strmap_get(&span_of, layer, &j)) {
            j = n_spans++;
            spans[j].from = k;
            spans[j].has_kernel = 0;
            if (nninit__strmap_put(&span_of, layer, j)) {
                s = nninit__err(err, NNINIT_ENOMEM, "out of memory");
                goto done;
            }
        }
        spans[j].to = k + 1;
        spans[j].has_kernel |= m->t[k].role == NNINIT_ROLE_KERNEL;
    }
    for (size_t j = 0; functional && j < json_array_size(layers); j++)
        if (mentions(&cs, json_object_get(json_array_get(layers, j), "inbound_nodes"), (long)j)) {
            s = nninit__err(err, NNINIT_ENOMEM, "out of memory");
            goto done;
        }
    for (size_t i = 0; i < json_array_size(layers); i++) {
        json_t *layer = json_array_get(layers, i);
        const char *name = layer_name(layer), *cls = layer_class(layer);
        size_t sp;
        if (!name || !cls || !nninit__strmap_get(&span_of, name, &sp))
            continue;
        size_t from = spans[sp].from, to = spans[sp].to;
        int has_kernel = spans[sp].has_kernel;
        json_t *cfg = json_object_get(layer, "config");
        if (json_object_get(cfg, "layer")) /* a wrapper: the inner layer's config */
            cfg = json_object_get(json_object_get(cfg, "layer"), "config");
        const char *act = act_value(json_object_get(cfg, "activation"));
        if (!act && (!strcmp(cls, "SimpleRNN") || !strcmp(cls, "LSTM") || !strcmp(cls, "GRU") ||
                     !strncmp(cls, "ConvLSTM", 8)))
            act = "tanh";
        char buf[64], chosen[64];
        int norm = 0, guard = 0, summed = 0; /* summed: past a residual Add (only a normalization counts there) */
        for (long j = next_layer(layers, &cs, i, functional); j >= 0 && guard < 64;
             j = next_layer(layers, &cs, (size_t)j, functional), guard++) {
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
        if ((s = nninit__meta_set_act(m, from, to, act, norm, err)))
            break;
    }
done:
    nninit__strmap_free(&span_of);
    nninit__strmap_free(&cs.by_name);
    free(cs.c);
    free(spans);
    return s;
}
