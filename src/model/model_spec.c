/* nninit's own model spec (JSON): named tensors with shape, layout and an
 * initializer SPEC, plus per-tensor overrides. */
#include "model/internal.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static nninit_status spec_text(json_t *j, const char *where, char **out, nninit_err *err)
{
    if (json_is_string(j)) {
        *out = nninit__strdup(json_string_value(j));
    } else if (json_is_object(j)) {
        *out = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    } else {
        return nninit__err(err, NNINIT_EINVAL, "model spec %s: \"init\" must be a SPEC string (\"he_normal\") or a "
                           "Keras initializer object", where);
    }
    return *out ? NNINIT_OK : nninit__err(err, NNINIT_ENOMEM, "out of memory");
}

nninit_status nninit_model_from_spec(const char *text, nninit_model **out, nninit_err *err)
{
    if (!text || !out)
        return nninit__err(err, NNINIT_EMISUSE, "nninit_model_from_spec: json and out must not be NULL");
    *out = NULL;
    json_error_t je;
    json_t *root = json_loads(text, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return nninit__err(err, NNINIT_EINVAL, "model spec JSON: %s (line %d, column %d)", je.text, je.line,
                           je.column);
    nninit_status s = NNINIT_OK;
    nninit_model *m = NULL;
    char *spec = NULL;
    json_t *tensors = json_object_get(root, "tensors");
    const char *key;
    json_t *val;
    json_t *recipe = json_object_get(root, "torch");
    if (recipe) { /* {"torch": RECIPE, "overrides": {...}}: what nninit advise --fix writes for a recipe */
        json_object_foreach(root, key, val) {
            if (strcmp(key, "torch") && strcmp(key, "overrides")) {
                s = nninit__err(err, NNINIT_EINVAL, "model spec: unknown key '%.40s' beside \"torch\"; expected "
                                "{\"torch\": RECIPE, \"overrides\": {...}}", key);
                goto done;
            }
        }
        if (!json_is_string(recipe)) {
            s = nninit__err(err, NNINIT_EINVAL, "model spec: \"torch\" must be a recipe string such as "
                            "\"Sequential(Linear(4, 2))\"");
            goto done;
        }
        if ((s = nninit_model_from_torch(json_string_value(recipe), &m, err)))
            goto done;
        goto overrides;
    }
    if (!json_is_object(root) || !json_is_array(tensors)) {
        s = nninit__err(err, NNINIT_EINVAL, "model spec: expected {\"tensors\": [{\"name\": ..., \"shape\": [...], "
                        "\"init\": ...}, ...]}");
        goto done;
    }
    json_object_foreach(root, key, val) {
        if (strcmp(key, "tensors") && strcmp(key, "layout") && strcmp(key, "overrides") && strcmp(key, "name")) {
            s = nninit__err(err, NNINIT_EINVAL, "model spec: unknown key '%.40s'; expected name, layout, tensors, "
                            "overrides (or torch and overrides)", key);
            goto done;
        }
    }
    nninit_layout layout = NNINIT_LAYOUT_KERAS;
    json_t *lj = json_object_get(root, "layout");
    if (lj && (!json_is_string(lj) || (s = nninit_layout_parse(json_string_value(lj), &layout, err))))
        goto bad_layout;
    if (json_array_size(tensors) > NNINIT__MODEL_MAX_TENSORS) {
        s = nninit__model_cap_err(err, "model spec", "the number of tensors", json_array_size(tensors),
                                  NNINIT__MODEL_MAX_TENSORS);
        goto done;
    }
    m = nninit__model_new("spec", json_string_value(json_object_get(root, "name")));
    if (!m) {
        s = nninit__err(err, NNINIT_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < json_array_size(tensors); i++) {
        json_t *t = json_array_get(tensors, i);
        char where[64];
        snprintf(where, sizeof where, "tensor %zu", i);
        const char *name = json_string_value(json_object_get(t, "name"));
        json_t *shape = json_object_get(t, "shape"), *init = json_object_get(t, "init");
        if (!json_is_object(t) || !name || !name[0] || !json_is_array(shape) || !init) {
            s = nninit__err(err, NNINIT_EINVAL, "model spec %s: needs \"name\", \"shape\" and \"init\"", where);
            goto done;
        }
        json_object_foreach(t, key, val) {
            if (strcmp(key, "name") && strcmp(key, "shape") && strcmp(key, "init") && strcmp(key, "layout")) {
                s = nninit__err(err, NNINIT_EINVAL, "model spec tensor '%.60s': unknown key '%.40s'; expected name, "
                                "shape, init, layout", name, key);
                goto done;
            }
        }
        nninit_shape sh;
        sh.ndim = (int)json_array_size(shape);
        if (sh.ndim > NNINIT_MAX_DIMS) {
            s = nninit__err(err, NNINIT_EINVAL, "model spec tensor '%.60s': %d dimensions; at most %d", name, sh.ndim,
                            NNINIT_MAX_DIMS);
            goto done;
        }
        for (int d = 0; d < sh.ndim; d++) {
            json_t *dj = json_array_get(shape, (size_t)d);
            if (!json_is_integer(dj) || json_integer_value(dj) < 1 || json_integer_value(dj) > NNINIT__MODEL_MAX_DIM) {
                char *got = json_dumps(dj, JSON_ENCODE_ANY);
                s = nninit__err(err, NNINIT_EINVAL, "model spec tensor '%.60s': dimension %d is %.40s; expected an "
                                "integer from 1 to %lld (sizes are capped at 2^31 so that products of two fit 64 "
                                "bits)", name, d, got ? got : "?", (long long)NNINIT__MODEL_MAX_DIM);
                free(got);
                goto done;
            }
            sh.dim[d] = json_integer_value(dj);
        }
        nninit_layout tl = layout;
        json_t *tlj = json_object_get(t, "layout");
        if (tlj && (!json_is_string(tlj) || (s = nninit_layout_parse(json_string_value(tlj), &tl, err))))
            goto bad_layout;
        nninit_init in;
        if ((s = spec_text(init, where, &spec, err)))
            goto done;
        if ((s = nninit_init_parse(spec, &in, err))) {
            char why[NNINIT_ERR_MSG_MAX];
            snprintf(why, sizeof why, "%s", err ? err->msg : "");
            nninit__err(err, s, "model spec tensor '%.60s': %.1900s", name, why);
            goto done;
        }
        size_t twice;
        if (nninit__model_find(m, name, &twice))
            s = nninit__err(err, NNINIT_EINVAL, "model spec: tensor '%.60s' is listed twice", name);
        else
            s = nninit__model_add(m, name, &sh, tl, &in, spec, NULL, err); /* copies a window's values */
        nninit_init_clear(&in);
        if (s)
            goto done;
        free(spec);
        spec = NULL;
    }
overrides:;
    json_t *ov = json_object_get(root, "overrides");
    if (ov && !json_is_object(ov)) {
        s = nninit__err(err, NNINIT_EINVAL, "model spec: \"overrides\" must map tensor names to SPECs");
        goto done;
    }
    json_object_foreach(ov, key, val) {
        if ((s = spec_text(val, "override", &spec, err)) || (s = nninit_model_override(m, key, spec, err)))
            goto done;
        free(spec);
        spec = NULL;
    }
    goto done;
bad_layout:
    if (s == NNINIT_OK)
        s = nninit__err(err, NNINIT_EINVAL, "model spec: \"layout\" must be \"keras\" or \"torch\"");
done:
    free(spec);
    json_decref(root);
    if (s != NNINIT_OK) {
        nninit_model_free(m);
        return s;
    }
    *out = m;
    return NNINIT_OK;
}
