/* The network object: construction from a layer description (every tensor
 * filled by nninit_fill from its own Philox stream), forward and backward
 * through the layer kernels, and the views a probe reads. */
#include "nn/internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const kind_names[] = {"dense", "activation", "batch_normalization", "dropout"};

const char *nninit_layer_kind_name(nninit_layer_kind kind)
{
    return (unsigned)kind < 4 ? kind_names[kind] : "unknown";
}

nninit_layer_desc nninit_layer_desc_default(nninit_layer_kind kind)
{
    nninit_layer_desc d;
    memset(&d, 0, sizeof d);
    d.kind = kind;
    d.use_bias = 1;
    d.act = NNINIT_ACT_LINEAR;
    /* Keras' defaults: Dense glorot_uniform/zeros, BatchNormalization ones/zeros, 0.99, 1e-3 */
    strcpy(d.kernel_init, "glorot_uniform");
    strcpy(d.bias_init, "zeros");
    strcpy(d.gamma_init, "ones");
    strcpy(d.beta_init, "zeros");
    d.momentum = 0.99;
    d.epsilon = 1e-3;
    return d;
}

nninit_net_opts nninit_net_opts_default(void)
{
    nninit_net_opts o;
    memset(&o, 0, sizeof o);
    o.seed = NNINIT_DEFAULT_SEED;
    o.layout = NNINIT_LAYOUT_KERAS;
    return o;
}

static void free_buffers(nninit__layer *L)
{
    free(L->z);
    free(L->out);
    free(L->dz);
    free(L->dx);
    L->z = L->out = L->dz = L->dx = NULL;
}

void nninit_net_free(nninit_net *net)
{
    if (!net)
        return;
    for (int i = 0; i < net->n_layers; i++) {
        nninit__layer *L = &net->layers[i];
        for (int p = 0; p < 2; p++) {
            free(L->param[p].value);
            free(L->param[p].grad);
            free(L->param[p].m1);
            free(L->param[p].m2);
        }
        free(L->run_mean);
        free(L->run_var);
        free(L->bn_invstd);
        free_buffers(L);
    }
    free(net->layers);
    free(net);
}

/* err->msg = "<name>: <err->msg>", cut to fit. */
static void prefix_err(nninit_err *err, const char *name)
{
    if (!err)
        return;
    size_t cap = sizeof err->msg, pl = strlen(name) + 2, ml = strlen(err->msg);
    if (pl >= cap)
        return;
    if (ml > cap - 1 - pl)
        ml = cap - 1 - pl;
    memmove(err->msg + pl, err->msg, ml);
    memcpy(err->msg, name, pl - 2);
    memcpy(err->msg + pl - 2, ": ", 2);
    err->msg[pl + ml] = '\0';
}

/* Fills one parameter from its SPEC with the stream of its name. */
static nninit_status init_param(nninit__param *p, const char *spec, const nninit_net_opts *opts, nninit_rng *rng,
                                int is_kernel, nninit_err *err)
{
    nninit_init init;
    nninit_status s = nninit_init_parse(spec, &init, err);
    if (s != NNINIT_OK) {
        prefix_err(err, p->name); /* so the user knows which layer was wrong */
        return s;
    }
    nninit_fill_opts fo = nninit_fill_opts_default();
    fo.layout = opts->layout;
    fo.dtype = NNINIT_F32;
    fo.stream = nninit_stream_from_name(p->name);
    fo.threads = 1;
    nninit_shape shape = p->shape;
    float *tmp = NULL;
    if (is_kernel && opts->layout == NNINIT_LAYOUT_TORCH) {
        /* torch stores Linear weights (out, in): fill that tensor, then transpose */
        shape.dim[0] = p->shape.dim[1];
        shape.dim[1] = p->shape.dim[0];
        tmp = nninit__malloc_array((size_t)p->n, sizeof *tmp);
        if (!tmp)
            return nninit__err(err, NNINIT_ENOMEM, "%s: out of memory", p->name);
    }
    s = nninit_fill(&init, &shape, &fo, rng, tmp ? (void *)tmp : (void *)p->value, err);
    if (s != NNINIT_OK) {
        free(tmp);
        prefix_err(err, p->name);
        return s;
    }
    if (tmp) {
        int64_t rows = shape.dim[0], cols = shape.dim[1]; /* (out, in) */
        for (int64_t r = 0; r < rows; r++)
            for (int64_t c = 0; c < cols; c++)
                p->value[c * rows + r] = tmp[r * cols + c];
        free(tmp);
    }
    return NNINIT_OK;
}

static nninit_status add_param(nninit__layer *L, int idx, const char *tensor, int ndim, int64_t d0, int64_t d1,
                               nninit_err *err)
{
    nninit__param *p = &L->param[idx];
    snprintf(p->name, sizeof p->name, "%s/%s", L->name, tensor);
    p->shape.ndim = ndim;
    p->shape.dim[0] = d0;
    p->shape.dim[1] = d1;
    p->n = ndim == 2 ? d0 * d1 : d0;
    p->value = nninit__malloc_array((size_t)p->n, sizeof *p->value);
    p->grad = nninit__calloc_array((size_t)p->n, sizeof *p->grad);
    if (!p->value || !p->grad)
        return nninit__err(err, NNINIT_ENOMEM, "%s: out of memory for %lld values", p->name, (long long)p->n);
    return NNINIT_OK;
}

static nninit_status check_desc(int i, const nninit_layer_desc *d, nninit_err *err)
{
    if ((unsigned)d->kind > NNINIT_LAYER_DROPOUT)
        return nninit__err(err, NNINIT_EINVAL, "layer %d: unknown kind %d", i, (int)d->kind);
    if ((d->kind == NNINIT_LAYER_DENSE || d->kind == NNINIT_LAYER_ACTIVATION) && (unsigned)d->act >= NNINIT_ACT_COUNT)
        return nninit__err(err, NNINIT_EINVAL, "layer %d: unknown activation %d", i, (int)d->act);
    if (d->kind == NNINIT_LAYER_DENSE && (d->units < 1 || d->units > (INT64_C(1) << 24)))
        return nninit__err(err, NNINIT_EINVAL, "layer %d (dense): units %lld; expected 1 .. 16777216", i,
                           (long long)d->units);
    if (!(d->alpha >= 0.0) || !isfinite(d->alpha))
        return nninit__err(err, NNINIT_EINVAL, "layer %d: activation parameter %g; expected a finite value >= 0", i,
                           d->alpha);
    if (d->kind == NNINIT_LAYER_BATCHNORM &&
        (!(d->momentum >= 0.0 && d->momentum <= 1.0) || !(d->epsilon > 0.0) || !isfinite(d->epsilon)))
        return nninit__err(err, NNINIT_EINVAL,
                           "layer %d (batch_normalization): momentum %g, epsilon %g; expected momentum in [0, 1], "
                           "epsilon > 0",
                           i, d->momentum, d->epsilon);
    if (d->kind == NNINIT_LAYER_DROPOUT && !(d->rate >= 0.0 && d->rate < 1.0))
        return nninit__err(err, NNINIT_EINVAL, "layer %d (dropout): rate %g; expected 0 <= rate < 1", i, d->rate);
    return NNINIT_OK;
}

nninit_status nninit_net_new(int64_t n_inputs, const nninit_layer_desc *layers, int n_layers,
                             const nninit_net_opts *opts, nninit_net **out, nninit_err *err)
{
    if (!out)
        return nninit__err(err, NNINIT_EMISUSE, "nninit_net_new: out is NULL");
    *out = NULL;
    if (!layers || n_layers < 1 || n_inputs < 1 || n_inputs > (INT64_C(1) << 24))
        return nninit__err(err, NNINIT_EINVAL,
                           "network: %d layers for %lld inputs; expected at least one layer and 1 .. 16777216 inputs",
                           n_layers, (long long)n_inputs);
    nninit_net_opts o = opts ? *opts : nninit_net_opts_default();
    for (int i = 0; i < n_layers; i++) {
        nninit_status s = check_desc(i, &layers[i], err);
        if (s != NNINIT_OK)
            return s;
    }
    nninit_net *net = calloc(1, sizeof *net);
    if (!net)
        return nninit__err(err, NNINIT_ENOMEM, "network: out of memory");
    net->layers = nninit__calloc_array((size_t)n_layers, sizeof *net->layers);
    if (!net->layers) {
        free(net);
        return nninit__err(err, NNINIT_ENOMEM, "network: out of memory");
    }
    net->n_layers = n_layers;
    net->n_inputs = n_inputs;
    net->seed = o.seed;
    nninit__philox_key(o.seed, net->key);
    nninit_rng *rng = NULL;
    nninit_status s = nninit_rng_new(NNINIT_RNG_PHILOX, o.seed, &rng, err);
    int count[4] = {0, 0, 0, 0};
    int64_t width = n_inputs;
    for (int i = 0; s == NNINIT_OK && i < n_layers; i++) {
        const nninit_layer_desc *d = &layers[i];
        nninit__layer *L = &net->layers[i];
        L->kind = d->kind;
        snprintf(L->name, sizeof L->name, "%s_%d", kind_names[d->kind], count[d->kind]++);
        L->n_in = width;
        L->n_out = d->kind == NNINIT_LAYER_DENSE ? d->units : width;
        L->act = d->kind == NNINIT_LAYER_DENSE || d->kind == NNINIT_LAYER_ACTIVATION ? d->act : NNINIT_ACT_LINEAR;
        L->alpha = d->alpha;
        width = L->n_out;
        if (d->kind == NNINIT_LAYER_DENSE) {
            L->n_params = d->use_bias ? 2 : 1;
            s = add_param(L, 0, "kernel", 2, L->n_in, L->n_out, err);
            if (s == NNINIT_OK)
                s = init_param(&L->param[0], d->kernel_init, &o, rng, 1, err);
            if (s == NNINIT_OK && d->use_bias)
                s = add_param(L, 1, "bias", 1, L->n_out, 0, err);
            if (s == NNINIT_OK && d->use_bias)
                s = init_param(&L->param[1], d->bias_init, &o, rng, 0, err);
        } else if (d->kind == NNINIT_LAYER_BATCHNORM) {
            L->n_params = 2;
            L->momentum = d->momentum;
            L->epsilon = d->epsilon;
            s = add_param(L, 0, "gamma", 1, L->n_out, 0, err);
            if (s == NNINIT_OK)
                s = init_param(&L->param[0], d->gamma_init, &o, rng, 0, err);
            if (s == NNINIT_OK)
                s = add_param(L, 1, "beta", 1, L->n_out, 0, err);
            if (s == NNINIT_OK)
                s = init_param(&L->param[1], d->beta_init, &o, rng, 0, err);
            L->run_mean = nninit__calloc_array((size_t)L->n_out, sizeof *L->run_mean);
            L->run_var = nninit__malloc_array((size_t)L->n_out, sizeof *L->run_var);
            L->bn_invstd = nninit__calloc_array((size_t)L->n_out, sizeof *L->bn_invstd);
            if (s == NNINIT_OK && (!L->run_mean || !L->run_var || !L->bn_invstd))
                s = nninit__err(err, NNINIT_ENOMEM, "%s: out of memory", L->name);
            for (int64_t j = 0; s == NNINIT_OK && j < L->n_out; j++)
                L->run_var[j] = 1.0f; /* Keras moving_variance_initializer "ones" */
        } else if (d->kind == NNINIT_LAYER_DROPOUT) {
            L->rate = d->rate;
            char sname[64];
            snprintf(sname, sizeof sname, "%s/mask", L->name);
            L->stream = nninit_stream_from_name(sname);
        }
    }
    nninit_rng_free(rng);
    if (s != NNINIT_OK) {
        nninit_net_free(net);
        return s;
    }
    *out = net;
    return NNINIT_OK;
}

int nninit_net_n_layers(const nninit_net *net) { return net ? net->n_layers : 0; }
int64_t nninit_net_n_inputs(const nninit_net *net) { return net ? net->n_inputs : 0; }
int64_t nninit_net_n_outputs(const nninit_net *net) { return net ? net->layers[net->n_layers - 1].n_out : 0; }

int64_t nninit_net_n_params(const nninit_net *net)
{
    int64_t n = 0;
    for (int i = 0; net && i < net->n_layers; i++)
        for (int p = 0; p < net->layers[i].n_params; p++)
            n += net->layers[i].param[p].n;
    return n;
}

nninit_status nninit_net_layer_info(const nninit_net *net, int layer, nninit_layer_info *info, nninit_err *err)
{
    if (!net || !info)
        return nninit__err(err, NNINIT_EMISUSE, "nninit_net_layer_info: NULL argument");
    if (layer < 0 || layer >= net->n_layers)
        return nninit__err(err, NNINIT_EINVAL, "layer %d: out of range; the network has %d layers", layer,
                           net->n_layers);
    const nninit__layer *L = &net->layers[layer];
    info->kind = L->kind;
    info->name = L->name;
    info->n_in = L->n_in;
    info->n_out = L->n_out;
    info->act = L->act;
    info->alpha = L->alpha;
    info->n_params = L->n_params;
    return NNINIT_OK;
}

/* Grows every per-batch buffer to hold `batch` rows. */
static nninit_status ensure_cap(nninit_net *net, int64_t batch, nninit_err *err)
{
    if (batch <= net->cap)
        return NNINIT_OK;
    for (int i = 0; i < net->n_layers; i++) {
        nninit__layer *L = &net->layers[i];
        free_buffers(L);
        size_t n_out = (size_t)(batch * L->n_out), n_in = (size_t)(batch * L->n_in);
        int need_z = L->kind != NNINIT_LAYER_ACTIVATION;
        int need_out = L->kind != NNINIT_LAYER_DENSE || L->act != NNINIT_ACT_LINEAR;
        L->z = need_z ? nninit__malloc_array(n_out, sizeof(float)) : NULL;
        L->out = need_out ? nninit__malloc_array(n_out, sizeof(float)) : NULL;
        L->dz = L->kind == NNINIT_LAYER_DENSE && L->act != NNINIT_ACT_LINEAR ? nninit__malloc_array(n_out, sizeof(float))
                                                                              : NULL;
        L->dx = nninit__malloc_array(n_in, sizeof(float));
        if ((need_z && !L->z) || (need_out && !L->out) || !L->dx ||
            (L->kind == NNINIT_LAYER_DENSE && L->act != NNINIT_ACT_LINEAR && !L->dz)) {
            for (int k = 0; k <= i; k++)
                free_buffers(&net->layers[k]);
            net->cap = 0;
            return nninit__err(err, NNINIT_ENOMEM, "network: out of memory for a batch of %lld rows", (long long)batch);
        }
    }
    net->cap = batch;
    return NNINIT_OK;
}

/* The output view of a layer after forward: its own buffer, or its input
 * for layers that pass data through unchanged. */
static const float *layer_y(const nninit_net *net, const nninit__layer *L)
{
    if (L->kind == NNINIT_LAYER_DENSE)
        return L->act == NNINIT_ACT_LINEAR ? L->z : L->out;
    if (L->kind == NNINIT_LAYER_DROPOUT && !(net->training && L->rate > 0.0))
        return L->in;
    return L->out;
}

nninit_status nninit_net_forward(nninit_net *net, const float *x, int64_t batch, int training, const float **out,
                                 nninit_err *err)
{
    if (!net || !x)
        return nninit__err(err, NNINIT_EMISUSE, "nninit_net_forward: NULL argument");
    if (batch < 1 || batch > (INT64_C(1) << 31))
        return nninit__err(err, NNINIT_EINVAL, "forward: batch %lld; expected 1 .. 2^31", (long long)batch);
    nninit_status s = ensure_cap(net, batch, err);
    if (s != NNINIT_OK)
        return s;
    net->batch = batch;
    net->training = training ? 1 : 0;
    net->backward_done = 0;
    const float *in = x;
    for (int i = 0; i < net->n_layers; i++) {
        nninit__layer *L = &net->layers[i];
        L->in = in;
        L->has_dx = 0;
        switch (L->kind) {
        case NNINIT_LAYER_DENSE:
            nninit__dense_forward(in, L->param[0].value, L->n_params > 1 ? L->param[1].value : NULL, batch, L->n_in,
                                  L->n_out, L->z);
            if (L->act != NNINIT_ACT_LINEAR)
                nninit_act_forward(L->act, L->alpha, L->z, L->out, batch, L->n_out);
            break;
        case NNINIT_LAYER_ACTIVATION:
            nninit_act_forward(L->act, L->alpha, in, L->out, batch, L->n_out);
            break;
        case NNINIT_LAYER_BATCHNORM:
            nninit__bn_forward(in, batch, L->n_out, L->param[0].value, L->param[1].value, L->momentum, L->epsilon,
                               net->training, L->run_mean, L->run_var, L->z, L->bn_invstd, L->out);
            break;
        case NNINIT_LAYER_DROPOUT:
            if (net->training && L->rate > 0.0) {
                int64_t count = batch * L->n_out;
                nninit__dropout_mask(net->key, L->stream, L->drawn, count, L->rate, L->z);
                L->drawn += (uint64_t)count;
                for (int64_t k = 0; k < count; k++)
                    L->out[k] = in[k] * L->z[k];
            }
            break;
        }
        in = layer_y(net, L);
    }
    net->forward_done = 1;
    if (out)
        *out = in;
    return NNINIT_OK;
}

/* Backward; with opts, each layer also takes its optimizer step as soon as
 * its gradients (and its input gradient) are done. */
static nninit_status backward(nninit_net *net, const float *dout, int want_input_grad, const nninit_optim_opts *opts,
                              double lr, nninit_err *err)
{
    if (!net || !dout)
        return nninit__err(err, NNINIT_EMISUSE, "nninit_net_backward: NULL argument");
    if (!net->forward_done)
        return nninit__err(err, NNINIT_EMISUSE, "backward: no forward pass to differentiate; call nninit_net_forward first");
    if (opts) {
        nninit_status s = nninit__optim_prepare(net, opts, lr, err);
        if (s != NNINIT_OK)
            return s;
    }
    int64_t B = net->batch;
    const float *g = dout; /* dLoss / d(output of layer i) */
    for (int i = net->n_layers - 1; i >= 0; i--) {
        nninit__layer *L = &net->layers[i];
        int need_dx = i > 0 || want_input_grad;
        float *dx = need_dx ? L->dx : NULL;
        switch (L->kind) {
        case NNINIT_LAYER_DENSE: {
            const float *gz = g;
            if (L->act != NNINIT_ACT_LINEAR) {
                nninit_act_backward(L->act, L->alpha, L->z, L->out, g, L->dz, B, L->n_out);
                gz = L->dz;
            }
            nninit__dense_backward(L->in, L->param[0].value, gz, B, L->n_in, L->n_out, L->param[0].grad,
                                   L->n_params > 1 ? L->param[1].grad : NULL, dx);
            break;
        }
        case NNINIT_LAYER_ACTIVATION:
            if (dx)
                nninit_act_backward(L->act, L->alpha, L->in, L->out, g, dx, B, L->n_out);
            break;
        case NNINIT_LAYER_BATCHNORM:
            if (net->training) {
                nninit__bn_backward(L->z, L->bn_invstd, L->param[0].value, g, B, L->n_out, L->param[0].grad,
                                    L->param[1].grad, dx);
            } else {
                /* evaluation mode is a fixed affine map per feature: no batch coupling */
                nninit__bn_backward(L->z, L->bn_invstd, L->param[0].value, g, B, L->n_out, L->param[0].grad,
                                    L->param[1].grad, NULL);
                for (int64_t k = 0; dx && k < B * L->n_out; k++)
                    dx[k] = g[k] * L->param[0].value[k % L->n_out] * L->bn_invstd[k % L->n_out];
            }
            break;
        case NNINIT_LAYER_DROPOUT:
            if (dx) {
                int64_t count = B * L->n_out;
                if (net->training && L->rate > 0.0)
                    for (int64_t k = 0; k < count; k++)
                        dx[k] = g[k] * L->z[k];
                else
                    memcpy(dx, g, (size_t)count * sizeof *dx);
            }
            break;
        }
        L->has_dx = dx != NULL;
        if (opts)
            nninit__layer_step(L, opts, lr, net->t);
        g = dx;
    }
    net->grad_out = dout;
    net->backward_done = 1;
    return NNINIT_OK;
}

nninit_status nninit_net_backward(nninit_net *net, const float *dout, int want_input_grad, nninit_err *err)
{
    return backward(net, dout, want_input_grad, NULL, 0.0, err);
}

nninit_status nninit__net_backward_step(nninit_net *net, const float *dout, const nninit_optim_opts *opts, double lr,
                                        nninit_err *err)
{
    return backward(net, dout, 0, opts, lr, err);
}

const float *nninit_net_tensor(const nninit_net *net, int layer, nninit_tensor_role role, int64_t *rows,
                               int64_t *cols)
{
    if (rows)
        *rows = 0;
    if (cols)
        *cols = 0;
    if (!net || layer < 0 || layer >= net->n_layers || !net->forward_done)
        return NULL;
    const nninit__layer *L = &net->layers[layer];
    const float *p = NULL;
    int64_t c = L->n_out;
    switch (role) {
    case NNINIT_T_INPUT:
        p = L->in;
        c = L->n_in;
        break;
    case NNINIT_T_PREACT:
        p = L->kind == NNINIT_LAYER_DENSE || L->kind == NNINIT_LAYER_BATCHNORM ? L->z : layer_y(net, L);
        break;
    case NNINIT_T_OUTPUT:
        p = layer_y(net, L);
        break;
    case NNINIT_T_GRAD_INPUT:
        p = net->backward_done && L->has_dx ? L->dx : NULL;
        c = L->n_in;
        break;
    case NNINIT_T_GRAD_OUTPUT:
    case NNINIT_T_GRAD_PREACT:
        if (!net->backward_done)
            break;
        p = layer + 1 < net->n_layers ? net->layers[layer + 1].dx : net->grad_out;
        if (role == NNINIT_T_GRAD_PREACT) {
            if (L->kind == NNINIT_LAYER_DENSE && L->act != NNINIT_ACT_LINEAR)
                p = L->dz;
            else if (L->kind != NNINIT_LAYER_DENSE)
                p = NULL;
        }
        break;
    }
    if (p) {
        if (rows)
            *rows = net->batch;
        if (cols)
            *cols = c;
    }
    return p;
}

nninit_status nninit_net_param(nninit_net *net, int layer, int which, float **value, float **grad,
                               nninit_shape *shape, const char **name, nninit_err *err)
{
    if (!net)
        return nninit__err(err, NNINIT_EMISUSE, "nninit_net_param: net is NULL");
    if (layer < 0 || layer >= net->n_layers)
        return nninit__err(err, NNINIT_EINVAL, "layer %d: out of range; the network has %d layers", layer,
                           net->n_layers);
    nninit__layer *L = &net->layers[layer];
    if (which < 0 || which >= L->n_params)
        return nninit__err(err, NNINIT_EINVAL, "%s: no parameter %d; it has %d", L->name, which, L->n_params);
    nninit__param *p = &L->param[which];
    if (value)
        *value = p->value;
    if (grad)
        *grad = p->grad;
    if (shape)
        *shape = p->shape;
    if (name)
        *name = p->name;
    return NNINIT_OK;
}
