/* Synthetic model layouts for tests and benchmarks: a model family and its
 * size parameters ("gpt:layers=32,d_model=4096,heads=32,vocab=50257,ctx=2048")
 * expand into the tensors a framework would create, with the family's init
 * rules, so 1B- and 7B-parameter layouts need no framework. */
#include "model/internal.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct family_param {
    const char *name;
    int64_t value;      /* default; -1: required */
    int64_t lo, hi;
} family_param;

/* key=value,key=value into params (in place); unknown keys and bad values refused. */
static nninit_status parse_params(const char *family, const char *text, family_param *p, size_t n, nninit_err *err)
{
    const char *s = text;
    while (s && *s) {
        const char *eq = strchr(s, '='), *comma = strchr(s, ',');
        if (!comma)
            comma = s + strlen(s);
        if (!eq || eq > comma)
            return nninit__err(err, NNINIT_EINVAL, "%s: '%.*s' is not KEY=VALUE; e.g. %s:layers=12,d_model=768",
                               family, (int)(comma - s), s, family);
        size_t k = 0;
        while (k < n && (strlen(p[k].name) != (size_t)(eq - s) || strncmp(p[k].name, s, (size_t)(eq - s))))
            k++;
        if (k == n) {
            char names[256] = "";
            for (size_t j = 0; j < n; j++)
                snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", j ? ", " : "", p[j].name);
            return nninit__err(err, NNINIT_EINVAL, "%s: unknown parameter '%.*s'; expected %s", family,
                               (int)(eq - s), s, names);
        }
        char *end;
        errno = 0;
        long long v = strtoll(eq + 1, &end, 10);
        if (errno || end != comma || v < p[k].lo || v > p[k].hi)
            return nninit__err(err, NNINIT_EINVAL, "%s: %s='%.*s': expected an integer from %" PRId64 " to %" PRId64,
                               family, p[k].name, (int)(comma - eq - 1), eq + 1, p[k].lo, p[k].hi);
        p[k].value = v;
        s = *comma ? comma + 1 : NULL;
    }
    for (size_t k = 0; k < n; k++)
        if (p[k].value < 0)
            return nninit__err(err, NNINIT_EINVAL, "%s: %s=N is required", family, p[k].name);
    return NNINIT_OK;
}

static nninit_status add(nninit_model *m, const char *name, int ndim, int64_t d0, int64_t d1, const char *spec,
                         nninit_err *err)
{
    nninit_shape sh = {ndim, {d0, d1}};
    nninit_init init;
    nninit_status s = nninit_init_parse(spec, &init, err);
    if (!s)
        s = nninit__model_add(m, name, &sh, NNINIT_LAYOUT_TORCH, &init, spec, NULL, err);
    return s;
}

/*
 * GPT-2 (Hugging Face GPT2Model, its state_dict names; Conv1D weights are
 * (in, out)). GPT2PreTrainedModel._init_weights: Linear/Conv1D/Embedding
 * weights N(0, 0.02), biases zero, LayerNorm ones and zeros; then every
 * c_proj.weight (the residual projections of attention and MLP) N(0, 0.02 /
 * sqrt(2 * n_layer)) ("Scale the weights of residual layers at
 * initialization", the GPT-2 paper). The LM head is tied to wte (not stored).
 */
static nninit_status gpt(const char *params, const char *text, nninit_model **out, nninit_err *err)
{
    family_param p[] = {{"layers", -1, 1, 10000},  {"d_model", -1, 1, 1 << 20}, {"heads", -1, 1, 1 << 20},
                        {"vocab", 50257, 1, 1 << 30}, {"ctx", 1024, 1, 1 << 30},  {"ffn", 0, 0, 1 << 24}};
    nninit_status s = parse_params("gpt", params, p, sizeof p / sizeof *p, err);
    if (s)
        return s;
    int64_t L = p[0].value, d = p[1].value, heads = p[2].value, vocab = p[3].value, ctx = p[4].value;
    int64_t ffn = p[5].value ? p[5].value : 4 * d;
    if (d % heads)
        return nninit__err(err, NNINIT_EINVAL, "gpt: d_model=%" PRId64 " is not a multiple of heads=%" PRId64, d,
                           heads);
    nninit_model *m = nninit__model_new("family", text);
    if (!m)
        return nninit__err(err, NNINIT_ENOMEM, "out of memory");
    char name[96], w[64], proj[64];
    snprintf(w, sizeof w, "normal_(mean=0.0, std=0.02)");
    snprintf(proj, sizeof proj, "normal_(mean=0.0, std=%.17g)", 0.02 / sqrt(2.0 * (double)L));
    s = add(m, "wte.weight", 2, vocab, d, w, err);
    if (!s)
        s = add(m, "wpe.weight", 2, ctx, d, w, err);
    for (int64_t i = 0; i < L && !s; i++) {
        const struct { const char *part; int ndim; int64_t d0, d1; const char *spec; } t[] = {
            {"ln_1.weight", 1, d, 0, "ones_"},          {"ln_1.bias", 1, d, 0, "zeros_"},
            {"attn.c_attn.weight", 2, d, 3 * d, w},     {"attn.c_attn.bias", 1, 3 * d, 0, "zeros_"},
            {"attn.c_proj.weight", 2, d, d, proj},      {"attn.c_proj.bias", 1, d, 0, "zeros_"},
            {"ln_2.weight", 1, d, 0, "ones_"},          {"ln_2.bias", 1, d, 0, "zeros_"},
            {"mlp.c_fc.weight", 2, d, ffn, w},          {"mlp.c_fc.bias", 1, ffn, 0, "zeros_"},
            {"mlp.c_proj.weight", 2, ffn, d, proj},     {"mlp.c_proj.bias", 1, d, 0, "zeros_"},
        };
        for (size_t k = 0; k < sizeof t / sizeof *t && !s; k++) {
            snprintf(name, sizeof name, "h.%" PRId64 ".%s", i, t[k].part);
            s = add(m, name, t[k].ndim, t[k].d0, t[k].d1, t[k].spec, err);
        }
    }
    if (!s)
        s = add(m, "ln_f.weight", 1, d, 0, "ones_", err);
    if (!s)
        s = add(m, "ln_f.bias", 1, d, 0, "zeros_", err);
    if (s) {
        nninit_model_free(m);
        return s;
    }
    *out = m;
    return NNINIT_OK;
}

nninit_status nninit_model_from_family(const char *text, nninit_model **out, nninit_err *err)
{
    if (!text || !out)
        return nninit__err(err, NNINIT_EMISUSE, "nninit_model_from_family: text and out must not be NULL");
    *out = NULL;
    const char *colon = strchr(text, ':');
    size_t fl = colon ? (size_t)(colon - text) : strlen(text);
    if (fl == 3 && !strncmp(text, "gpt", 3))
        return gpt(colon ? colon + 1 : "", text, out, err);
    return nninit__err(err, NNINIT_EINVAL, "model family '%.*s': unknown; expected gpt (e.g. "
                       "gpt:layers=12,d_model=768,heads=12,vocab=50257,ctx=1024)", (int)(fl > 40 ? 40 : fl), text);
}
