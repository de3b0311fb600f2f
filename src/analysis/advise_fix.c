/* nninit advise --fix: the model with the findings' initializers applied,
 * written in the form it came in (Keras JSON, a recipe with overrides, a
 * spec with overrides). */
#include "analysis/theory_internal.h"
#include "io/internal.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* The JSON text of root, indented, with a final newline (a file of text). */
static char *dump(json_t *root)
{
    char *text = json_dumps(root, JSON_INDENT(2));
    size_t n = text ? strlen(text) : 0;
    char *out = text ? realloc(text, n + 2) : NULL;
    if (!out) {
        free(text);
        return NULL;
    }
    memcpy(out + n, "\n", 2);
    return out;
}

/* The Keras config key that holds the initializer of a variable of `role`. */
static const char *keras_key(const char *tensor, nninit_model_role role)
{
    size_t n = strlen(tensor);
#define ENDS(s) (n >= strlen(s) && !strcmp(tensor + n - strlen(s), s))
    if (ENDS("depthwise_kernel"))
        return "depthwise_initializer";
    if (ENDS("pointwise_kernel"))
        return "pointwise_initializer";
#undef ENDS
    switch (role) {
    case NNINIT_ROLE_KERNEL: return "kernel_initializer";
    case NNINIT_ROLE_RECURRENT_KERNEL: return "recurrent_initializer";
    case NNINIT_ROLE_EMBEDDINGS: return "embeddings_initializer";
    case NNINIT_ROLE_BIAS: return "bias_initializer";
    default: return NULL;
    }
}

/* The configs a Keras layer named `name` builds from: its own, or a wrapper's inner layer (and a
 * Bidirectional's backward_layer). */
static int keras_configs(json_t *layers, const char *name, json_t **cfgs, int max)
{
    for (size_t i = 0; i < json_array_size(layers); i++) {
        json_t *l = json_array_get(layers, i), *cfg = json_object_get(l, "config");
        const char *n = json_string_value(json_object_get(cfg, "name"));
        if (!n)
            n = json_string_value(json_object_get(l, "name"));
        if (!n || strcmp(n, name))
            continue;
        int k = 0;
        json_t *inner = json_object_get(json_object_get(cfg, "layer"), "config");
        json_t *back = json_object_get(json_object_get(cfg, "backward_layer"), "config");
        if (json_is_object(inner))
            cfgs[k++] = inner;
        if (json_is_object(back) && k < max)
            cfgs[k++] = back;
        if (k == 0)
            cfgs[k++] = cfg;
        return k;
    }
    return 0;
}

/* A SPEC as Keras config JSON: a plain name stays a string ("he_normal"), a call becomes the
 * serialized initializer. */
static json_t *keras_init_value(const char *spec, nninit_err *err)
{
    if (strspn(spec, "abcdefghijklmnopqrstuvwxyz_") == strlen(spec))
        return json_string(spec);
    nninit_init in;
    char *text = NULL;
    if (nninit_init_parse(spec, &in, err) != NNINIT_OK || nninit_init_to_json(&in, &text, err) != NNINIT_OK)
        return NULL;
    json_t *j = json_loads(text, 0, NULL);
    nninit_free(text);
    return j;
}

static nninit_status fix_keras(const nninit_model *m, const char *text, const nninit_advice *a, char **out,
                               nninit_err *err)
{
    json_error_t je;
    json_t *root = json_loads(text, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return nninit__err(err, NNINIT_EINVAL, "keras model JSON: %s (line %d)", je.text, je.line);
    json_t *layers = json_object_get(json_object_get(root, "config"), "layers");
    nninit_status s = NNINIT_OK;
    for (int i = 0; i < a->n_findings && !s; i++) {
        const nninit_advice_finding *f = &a->findings[i];
        if (!f->tensor || (!f->fix[0] && f->kind != NNINIT_ADVICE_FORGET_BIAS))
            continue;
        nninit_model_layer_info li = {0};
        for (size_t k = 0; k < nninit_model_count(m); k++) {
            nninit_model_tensor buf;
            if (!strcmp(nninit_model_tensor_at(m, k, &buf)->name, f->tensor))
                s = nninit_model_layer_info_at(m, k, &li, err);
        }
        json_t *cfgs[2];
        int nc = !s && li.layer ? keras_configs(layers, li.layer, cfgs, 2) : 0;
        const char *key = f->kind == NNINIT_ADVICE_FORGET_BIAS ? "unit_forget_bias" : keras_key(f->tensor, li.role);
        if (!s && (!nc || !key)) {
            s = nninit__err(err, NNINIT_EINVAL, "advise --fix: cannot find the Keras config of '%s'", f->tensor);
            break;
        }
        for (int c = 0; c < nc && !s; c++) {
            json_t *v = f->kind == NNINIT_ADVICE_FORGET_BIAS ? json_true() : keras_init_value(f->fix, err);
            if (!v || json_object_set_new(cfgs[c], key, v))
                s = nninit__err(err, v ? NNINIT_ENOMEM : NNINIT_EINVAL, "advise --fix: cannot set %s of %s to %s", key,
                                f->tensor, f->fix);
        }
    }
    if (!s && !(*out = dump(root)))
        s = nninit__err(err, NNINIT_ENOMEM, "out of memory");
    json_decref(root);
    return s;
}

/* torch: {"torch": RECIPE, "overrides": {...}}; spec: the spec with its overrides extended. */
static nninit_status fix_overrides(const nninit_model *m, const char *text, const nninit_advice *a, int torch,
                                   char **out, nninit_err *err)
{
    json_t *root = text ? json_loads(text, JSON_REJECT_DUPLICATES, NULL) : NULL;
    if (torch && !json_is_string(json_object_get(root, "torch"))) { /* a recipe: start a spec around it */
        json_decref(root);
        root = json_pack("{s:s}", "torch", nninit_model_description(m));
    }
    if (!json_is_object(root)) {
        json_decref(root);
        return nninit__err(err, NNINIT_EINVAL, "advise --fix: the model spec is not a JSON object");
    }
    json_t *ov = json_object_get(root, "overrides");
    if (!ov) {
        ov = json_object();
        if (!ov || json_object_set_new(root, "overrides", ov)) {
            json_decref(root);
            return nninit__err(err, NNINIT_ENOMEM, "out of memory");
        }
    }
    nninit_status s = NNINIT_OK;
    for (int i = 0; i < a->n_findings && !s; i++) {
        const nninit_advice_finding *f = &a->findings[i];
        if (f->tensor && f->fix[0] && json_object_set_new(ov, f->tensor, json_string(f->fix)))
            s = nninit__err(err, NNINIT_ENOMEM, "out of memory");
    }
    if (!s && !(*out = dump(root)))
        s = nninit__err(err, NNINIT_ENOMEM, "out of memory");
    json_decref(root);
    return s;
}

nninit_status nninit_advice_fix(const nninit_model *m, const char *source_text, const nninit_advice *a,
                                char **json, nninit_err *err)
{
    if (!m || !a || !json)
        return nninit__err(err, NNINIT_EMISUSE, "nninit_advice_fix: model, advice and json must not be NULL");
    *json = NULL;
    const char *src = nninit_model_source(m);
    if (!strcmp(src, "keras")) {
        if (source_text)
            return fix_keras(m, source_text, a, json, err);
        /* a .keras archive (the model's description is its path): its config.json */
        char *text = NULL;
        size_t len = 0;
        nninit_status s = nninit__zip_read_member(nninit_model_description(m), "config.json", (size_t)1 << 28, &text,
                                                  &len, err);
        if (s == NNINIT_OK)
            s = fix_keras(m, text, a, json, err);
        free(text);
        return s;
    }
    if (!strcmp(src, "spec") && !source_text)
        return nninit__err(err, NNINIT_EMISUSE, "nninit_advice_fix: a spec model needs its JSON text");
    return fix_overrides(m, source_text, a, !strcmp(src, "torch"), json, err);
}
