/* A network's initial values from a whole-model description: the model
 * layer (src/model) generates the tensors exactly as `nninit model` does
 * (same names, streams and seed), straight into the network's parameter
 * buffers. The engine keeps Keras' layouts (dense (in, out), conv HWIO), so
 * a Keras model's tensors land without a copy; torch layouts are transposed.
 * Also writes a network's current tensors under the model's names, which
 * is how the tests check that step 0 equals `nninit model` bit for bit. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

/* The net's buffers in model order: per layer kernel, bias (dense, conv2d);
 * gamma, beta, running mean, running variance (batch norm). */
typedef struct slot {
    float *value;
    int64_t n;
    int layer;
    const char *what;
    int param; /* its index in nninit_net_param, -1 for batch-norm state */
} slot;

static int net_slots(nninit_net *net, slot *s, int cap)
{
    int k = 0;
    static const char *const state[] = {"moving mean", "moving variance"};
    for (int i = 0; i < nninit_net_n_layers(net); i++) {
        nninit_layer_info li;
        nninit_net_layer_info(net, i, &li, NULL);
        for (int p = 0; p < li.n_params && k < cap; p++) {
            nninit_shape sh;
            float *v;
            const char *name = "";
            nninit_net_param(net, i, p, &v, NULL, &sh, &name, NULL);
            int64_t n = 1;
            for (int d = 0; d < sh.ndim; d++)
                n *= sh.dim[d];
            const char *slash = strchr(name, '/'); /* "dense_0/kernel": the tensor's part */
            s[k++] = (slot){v, n, i, slash ? slash + 1 : name, p};
        }
        for (int q = 0; li.kind == NNINIT_LAYER_BATCHNORM && q < 2 && k < cap; q++) {
            float *v;
            int64_t n;
            nninit_net_state(net, i, q, &v, &n, NULL);
            s[k++] = (slot){v, n, i, state[q], -1};
        }
    }
    return k;
}

static int64_t tensor_numel(const nninit_model_tensor *t)
{
    int64_t n = 1;
    for (int d = 0; d < t->shape.ndim; d++)
        n *= t->shape.dim[d];
    return n;
}

/* Pairs model tensors (int64 counters skipped) with the net's slots. */
static nninit_status pair_up(nninit_net *net, const nninit_model *m, slot **slots, size_t **tensor_of, int *n_out,
                             nninit_err *err)
{
    size_t count = nninit_model_count(m);
    int cap = 16 * nninit_net_n_layers(net) + 4;
    *slots = calloc((size_t)cap, sizeof **slots);
    *tensor_of = calloc((size_t)cap, sizeof **tensor_of);
    if (!*slots || !*tensor_of)
        return nninit_err_set(err, NNINIT_ENOMEM, "out of memory");
    int n = net_slots(net, *slots, cap), k = 0;
    for (size_t i = 0; i < count; i++) {
        nninit_model_tensor buf;
        const nninit_model_tensor *t = nninit_model_tensor_at(m, i, &buf);
        if (t->is_int64)
            continue;
        if (k >= n)
            return nninit_err_set(err, NNINIT_EINVAL, "model: tensor '%s' has no place in the network (its layers "
                                  "take %d tensors); the layers and the tensors must agree", t->name, n);
        nninit_layer_info li;
        nninit_net_layer_info(net, (*slots)[k].layer, &li, NULL);
        if (tensor_numel(t) != (*slots)[k].n)
            return nninit_err_set(err, NNINIT_EINVAL, "model: tensor '%s' has %lld values, the %s of %s takes %lld; "
                                  "the layers and the tensors must agree", t->name, (long long)tensor_numel(t),
                                  (*slots)[k].what, li.name, (long long)(*slots)[k].n);
        (*tensor_of)[k++] = i;
    }
    if (k != n) {
        nninit_layer_info li;
        nninit_net_layer_info(net, (*slots)[k].layer, &li, NULL);
        return nninit_err_set(err, NNINIT_EINVAL, "model: no tensor for the %s of %s; the layers and the tensors "
                              "must agree", (*slots)[k].what, li.name);
    }
    *n_out = n;
    return NNINIT_OK;
}

nninit_status cli_net_init_from_model(nninit_net *net, nninit_model *m, uint64_t seed, nninit_layout layout,
                                      const char *kernel_spec, nninit_err *err)
{
    slot *slots = NULL;
    size_t *tensor_of = NULL;
    int n = 0;
    nninit_status s = pair_up(net, m, &slots, &tensor_of, &n, err);
    size_t count = nninit_model_count(m);
    void **out = s == NNINIT_OK ? calloc(count ? count : 1, sizeof *out) : NULL;
    float **tmp = s == NNINIT_OK ? calloc((size_t)n + 1, sizeof *tmp) : NULL;
    nninit_rng *rng = NULL;
    if (s == NNINIT_OK && (!out || !tmp))
        s = nninit_err_set(err, NNINIT_ENOMEM, "out of memory");
    for (int k = 0; s == NNINIT_OK && k < n; k++) {
        nninit_model_tensor buf;
        const nninit_model_tensor *t = nninit_model_tensor_at(m, tensor_of[k], &buf);
        /* a torch-layout kernel ((out, in), OIHW) is generated aside, then transposed */
        if (layout == NNINIT_LAYOUT_TORCH && (t->shape.ndim == 2 || t->shape.ndim == 4)) {
            tmp[k] = malloc((size_t)slots[k].n * sizeof(float));
            if (!tmp[k])
                s = nninit_err_set(err, NNINIT_ENOMEM, "out of memory");
            out[tensor_of[k]] = tmp[k];
        } else {
            out[tensor_of[k]] = slots[k].value;
        }
    }
    for (int k = 0; s == NNINIT_OK && kernel_spec && k < n; k++) {
        nninit_model_tensor buf;
        const nninit_model_tensor *t = nninit_model_tensor_at(m, tensor_of[k], &buf);
        nninit_layer_info li;
        nninit_net_layer_info(net, slots[k].layer, &li, NULL);
        if (!strcmp(slots[k].what, "kernel") && (li.kind == NNINIT_LAYER_DENSE || li.kind == NNINIT_LAYER_CONV2D))
            s = nninit_model_override(m, t->name, kernel_spec, err);
    }
    if (s == NNINIT_OK)
        s = nninit_rng_new(NNINIT_RNG_PHILOX, seed, &rng, err);
    if (s == NNINIT_OK)
        s = nninit_model_fill(m, rng, "", NNINIT_F32, 0, out, err);
    for (int k = 0; s == NNINIT_OK && k < n; k++) {
        if (!tmp[k])
            continue;
        s = nninit_net_set_param(net, slots[k].layer, slots[k].param, tmp[k], NNINIT_LAYOUT_TORCH, err);
    }
    for (int k = 0; tmp && k < n; k++)
        free(tmp[k]);
    nninit_rng_free(rng);
    free(tmp);
    free(out);
    free(slots);
    free(tensor_of);
    return s;
}

typedef struct write_ctx {
    nninit_net *net;
    const slot *slots;
    const int *slot_of; /* per written tensor: its slot, or -1 for an int64 counter */
    const int64_t *numel;
    nninit_layout layout;
} write_ctx;

static nninit_status source(void *user, size_t i, void *out, nninit_err *err)
{
    const write_ctx *c = user;
    int k = c->slot_of[i];
    if (k < 0) { /* num_batches_tracked: 0 at step 0, as nninit model writes it */
        memset(out, 0, (size_t)c->numel[i] * sizeof(int64_t));
        return NNINIT_OK;
    }
    if (c->slots[k].param < 0) {
        memcpy(out, c->slots[k].value, (size_t)c->slots[k].n * sizeof(float));
        return NNINIT_OK;
    }
    /* a torch-layout dense or conv kernel goes back to (out, in) / OIHW */
    return nninit_net_get_param(c->net, c->slots[k].layer, c->slots[k].param, out, c->layout, err);
}

nninit_status cli_net_write_tensors(nninit_net *net, const nninit_model *m, const char *path, nninit_file_format fmt,
                                    nninit_err *err)
{
    slot *slots = NULL;
    size_t *tensor_of = NULL;
    int n = 0;
    nninit_status s = pair_up(net, m, &slots, &tensor_of, &n, err);
    size_t count = nninit_model_count(m);
    nninit_tensor_desc *desc = s == NNINIT_OK ? calloc(count + 1, sizeof *desc) : NULL;
    int *slot_of = s == NNINIT_OK ? calloc(count + 1, sizeof *slot_of) : NULL;
    int64_t *numel = s == NNINIT_OK ? calloc(count + 1, sizeof *numel) : NULL;
    if (s == NNINIT_OK && (!desc || !slot_of || !numel))
        s = nninit_err_set(err, NNINIT_ENOMEM, "out of memory");
    nninit_layout layout = NNINIT_LAYOUT_KERAS;
    for (size_t i = 0, k = 0; s == NNINIT_OK && i < count; i++) {
        nninit_model_tensor buf;
        const nninit_model_tensor *t = nninit_model_tensor_at(m, i, &buf);
        desc[i].name = t->name;
        desc[i].dtype = t->is_int64 ? NNINIT_FD_I64 : NNINIT_FD_F32;
        desc[i].shape = t->shape;
        numel[i] = tensor_numel(t);
        slot_of[i] = t->is_int64 ? -1 : (int)k++;
        if (t->layout == NNINIT_LAYOUT_TORCH)
            layout = NNINIT_LAYOUT_TORCH;
    }
    if (s == NNINIT_OK) {
        write_ctx c = {net, slots, slot_of, numel, layout};
        nninit_write_opts wo = nninit_write_opts_default();
        wo.format = fmt;
        s = nninit_tensors_write(path, desc, count, &wo, source, &c, err);
    }
    free(desc);
    free(slot_of);
    free(numel);
    free(slots);
    free(tensor_of);
    return s;
}
