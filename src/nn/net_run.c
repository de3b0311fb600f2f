/* Forward and backward through the layer graph (layers are stored in an
 * order where every input comes from an earlier layer), and the views a
 * probe or monitor reads. Backward walks the layers in reverse: a layer's
 * output gradient is its one reader's input gradient, or the sum of them
 * when several layers read it (a residual block's input). */
#include "nn/internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int has_act_buffer(const nninit__layer *L)
{
    return (L->kind == NNINIT_LAYER_DENSE || L->kind == NNINIT_LAYER_CONV2D) && L->act != NNINIT_ACT_LINEAR;
}

/* Floats of a layer's forward cache for `batch` samples (0: none). */
static size_t layer_cache_floats(const nninit__layer *L, int64_t batch)
{
    int64_t steps = L->in_shape.dim[0];
    switch (L->kind) {
    case NNINIT_LAYER_SIMPLE_RNN:
    case NNINIT_LAYER_LSTM:
    case NNINIT_LAYER_GRU:
        return nninit__rnn_cache_floats(L->rnn, batch, steps);
    case NNINIT_LAYER_ATTENTION:
        return nninit__mha_cache_floats(&L->block->mha, batch, steps);
    case NNINIT_LAYER_TRANSFORMER:
        return nninit__block_cache_floats(L->block, batch, steps);
    case NNINIT_LAYER_LAYER_NORM: /* mean and 1/std per row */
        return (size_t)(2 * batch * (L->n_out / L->out_shape.dim[L->out_shape.ndim - 1]));
    default:
        return 0;
    }
}

/* Grows every per-batch buffer to hold `batch` rows. */
static nninit_status ensure_cap(nninit_net *net, int64_t batch, nninit_err *err)
{
    if (batch <= net->cap)
        return NNINIT_OK;
    nninit__net_free_buffers(net);
    int ok = 1;
    for (int i = 0; i < net->n_layers && ok; i++) {
        nninit__layer *L = &net->layers[i];
        size_t n_out = (size_t)(batch * L->n_out), n_in = (size_t)(batch * L->n_in);
        nninit_layer_kind k = L->kind;
        int need_z = k == NNINIT_LAYER_DENSE || k == NNINIT_LAYER_CONV2D || k == NNINIT_LAYER_BATCHNORM ||
                     k == NNINIT_LAYER_DROPOUT || k == NNINIT_LAYER_LAYER_NORM;
        int need_out = (k != NNINIT_LAYER_DENSE && k != NNINIT_LAYER_CONV2D && k != NNINIT_LAYER_FLATTEN) ||
                       has_act_buffer(L) || L->flatten_chw;
        if (need_z)
            ok &= (L->z = nninit__malloc_array(n_out, sizeof(float))) != NULL;
        if (need_out)
            ok &= (L->out = nninit__malloc_array(n_out, sizeof(float))) != NULL;
        if (has_act_buffer(L))
            ok &= (L->dz = nninit__malloc_array(n_out, sizeof(float))) != NULL;
        ok &= (L->dx = nninit__malloc_array(n_in, sizeof(float))) != NULL;
        if (k == NNINIT_LAYER_ADD)
            ok &= (L->dx2 = nninit__malloc_array(n_in, sizeof(float))) != NULL;
        if (L->n_consumers > 1)
            ok &= (L->gsum = nninit__malloc_array(n_out, sizeof(float))) != NULL;
        size_t cache = layer_cache_floats(L, batch);
        if (cache)
            ok &= (L->cache = nninit__malloc_array(cache, sizeof(float))) != NULL;
        if (k == NNINIT_LAYER_EMBEDDING)
            ok &= (L->ids = nninit__malloc_array(n_in, sizeof(int32_t))) != NULL;
        size_t w = k == NNINIT_LAYER_CONV2D ? nninit__conv2d_work(&L->geom, batch) : 0;
        if (w)
            ok &= (L->work = nninit__malloc_array(w, sizeof(float))) != NULL;
    }
    int input_readers = 0;
    for (int i = 0; i < net->n_layers; i++) {
        const nninit__layer *L = &net->layers[i];
        input_readers += (L->src[0] == -1) + (L->kind == NNINIT_LAYER_ADD && L->src[1] == -1);
    }
    if (ok && input_readers > 1)
        ok = (net->dx_in_sum = nninit__malloc_array((size_t)(batch * net->n_inputs), sizeof(float))) != NULL;
    if (!ok) {
        nninit__net_free_buffers(net);
        return nninit__err(err, NNINIT_ENOMEM, "network: out of memory for a batch of %lld rows", (long long)batch);
    }
    net->cap = batch;
    return NNINIT_OK;
}

/* The output of a layer after forward: its own buffer, or its input for
 * layers that pass data through unchanged. */
static const float *layer_y(const nninit_net *net, const nninit__layer *L)
{
    switch (L->kind) {
    case NNINIT_LAYER_DENSE:
    case NNINIT_LAYER_CONV2D:
        return L->act == NNINIT_ACT_LINEAR ? L->z : L->out;
    case NNINIT_LAYER_DROPOUT:
        return net->training && L->rate > 0.0 ? L->out : L->in;
    case NNINIT_LAYER_FLATTEN:
        return L->flatten_chw ? L->out : L->in;
    default:
        return L->out;
    }
}

/* A recurrent layer's weights as the kernels take them (Keras layout; a
 * reset-after GRU's bias (2, 3 units) is the input bias then the recurrent one). */
static nninit__rnn_weights rnn_weights(const nninit__layer *L)
{
    const float *b = L->n_params > 2 ? L->param[2].value : NULL;
    if (L->rnn->torch_layout) { /* bias_ih, bias_hh */
        nninit__rnn_weights w = {L->param[0].value, L->param[1].value, b, b ? L->param[3].value : NULL};
        return w;
    }
    int split = b && L->rnn->cell == NNINIT__CELL_GRU && L->rnn->reset_after;
    nninit__rnn_weights w = {L->param[0].value, L->param[1].value, b, split ? b + 3 * L->rnn->units : NULL};
    return w;
}

/* Pointers to an attention block's eight tensors (values, or gradients
 * when grad) from parameter index first: wq, wk, wv, bq, bk, bv, wo, bo.
 * torch layout: the blocks of in_proj_weight and in_proj_bias, out_proj. */
static void mha_ptrs(const nninit__layer *L, int first, int bias, int grad, float *p[8])
{
    const nninit__param *P = L->param + first;
    int64_t D = L->block->mha.d_model;
#define PV(i) (grad ? P[i].grad : P[i].value)
    memset(p, 0, 8 * sizeof *p);
    if (L->block->mha.torch_layout) {
        float *w = PV(0), *b = bias ? PV(1) : NULL, *wo = PV(bias ? 2 : 1);
        for (int k = 0; k < 3; k++) {
            p[k] = w + k * D * D;
            p[3 + k] = b ? b + k * D : NULL;
        }
        p[6] = wo;
        p[7] = bias ? PV(3) : NULL;
    } else {
        int step = bias ? 2 : 1;
        for (int k = 0; k < 3; k++) {
            p[k] = PV(k * step);
            p[3 + k] = bias ? PV(k * step + 1) : NULL;
        }
        p[6] = PV(3 * step);
        p[7] = bias ? PV(3 * step + 1) : NULL;
    }
#undef PV
}

/* The attention or transformer tensors as the kernels take them. Param
 * groups (see nninit_net_param): attention: the 8 (or 4) attention tensors;
 * transformer Keras order ln1 (0, 1), attention (2..9), ln2 (10, 11), mlp
 * (12..15); torch order attention (0..3), mlp (4..7), ln1 (8, 9), ln2 (10, 11). */
static void block_ptrs(const nninit__layer *L, int grad, float *ln[4], float *mha[8], float *mlp[4])
{
    int torch = L->block->mha.torch_layout;
    if (L->kind == NNINIT_LAYER_ATTENTION) {
        mha_ptrs(L, 0, L->n_params == (torch ? 4 : 8), grad, mha);
        return;
    }
    int lnk = torch ? 8 : 0, mk = torch ? 0 : 2, fk = torch ? 4 : 12;
    mha_ptrs(L, mk, 1, grad, mha);
    const int li[4] = {lnk, lnk + 1, 10, 11};
    for (int k = 0; k < 4; k++) {
        ln[k] = grad ? L->param[li[k]].grad : L->param[li[k]].value;
        mlp[k] = grad ? L->param[fk + k].grad : L->param[fk + k].value;
    }
}

static nninit__mha_weights mha_weights_of(float *const p[8])
{
    nninit__mha_weights w = {p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7]};
    return w;
}

static nninit__mha_grads mha_grads_of(float *const p[8])
{
    nninit__mha_grads g = {p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7]};
    return g;
}

static nninit__block_weights block_weights(const nninit__layer *L)
{
    float *ln[4], *m[8], *f[4];
    block_ptrs(L, 0, ln, m, f);
    nninit__block_weights w = {ln[0], ln[1], ln[2], ln[3], mha_weights_of(m), f[0], f[1], f[2], f[3]};
    return w;
}

static nninit__block_grads block_grads(const nninit__layer *L)
{
    float *ln[4], *m[8], *f[4];
    block_ptrs(L, 1, ln, m, f);
    nninit__block_grads g = {ln[0], ln[1], ln[2], ln[3], mha_grads_of(m), f[0], f[1], f[2], f[3]};
    return g;
}

/* Token ids from the float input of an embedding layer: each must be an
 * integer in [0, vocab). */
static nninit_status embedding_ids(nninit__layer *L, const float *x, int64_t count, nninit_err *err)
{
    int64_t vocab = L->param[0].shape.dim[0];
    for (int64_t i = 0; i < count; i++) {
        float v = x[i];
        if (!(v >= 0.0f && v < (float)vocab && v == floorf(v)))
            return nninit__err(err, NNINIT_EINVAL, "%s: input %g at position %lld of the batch is not a token id; "
                               "expected integers 0 .. %lld", L->name, (double)v, (long long)i, (long long)(vocab - 1));
        L->ids[i] = (int32_t)v;
    }
    return NNINIT_OK;
}

static const float *src_y(const nninit_net *net, int src, const float *x)
{
    return src < 0 ? x : layer_y(net, &net->layers[src]);
}

/* Last-axis features of a shape, and rows per sample of that view. */
static int64_t last_dim(const nninit_shape *s) { return s->dim[s->ndim - 1]; }

/* (H, W, C) -> (C, H, W) per sample, and back. */
static void hwc_to_chw(const float *x, int64_t batch, int64_t hw, int64_t c, float *y, int inverse)
{
    for (int64_t n = 0; n < batch; n++) {
        const float *xs = x + n * hw * c;
        float *ys = y + n * hw * c;
        for (int64_t p = 0; p < hw; p++)
            for (int64_t k = 0; k < c; k++) {
                if (inverse)
                    ys[p * c + k] = xs[k * hw + p];
                else
                    ys[k * hw + p] = xs[p * c + k];
            }
    }
}

static void gap_forward(const nninit__conv_geom *g, const float *x, int64_t batch, float *y)
{
    int64_t hw = g->h * g->w, C = g->c;
    float inv = 1.0f / (float)hw;
    for (int64_t n = 0; n < batch; n++) {
        float *yo = y + n * C;
        memset(yo, 0, (size_t)C * sizeof *yo);
        for (int64_t p = 0; p < hw; p++) {
            const float *xp = x + (n * hw + p) * C;
            for (int64_t c = 0; c < C; c++)
                yo[c] += xp[c];
        }
        for (int64_t c = 0; c < C; c++)
            yo[c] *= inv;
    }
}

static void gap_backward(const nninit__conv_geom *g, const float *dy, int64_t batch, float *dx)
{
    int64_t hw = g->h * g->w, C = g->c;
    float inv = 1.0f / (float)hw;
    for (int64_t n = 0; n < batch; n++)
        for (int64_t p = 0; p < hw; p++)
            for (int64_t c = 0; c < C; c++)
                dx[(n * hw + p) * C + c] = dy[n * C + c] * inv;
}

/* Layer i is a conv2d whose output only the max pooling after it reads:
 * the conv's forward pools each tile while it is in cache (the pooled rows
 * are what the pooling layer would compute). */
static int pools_conv(const nninit_net *net, int i)
{
    if (i < 0 || i + 1 >= net->n_layers)
        return 0;
    const nninit__layer *L = &net->layers[i], *P = &net->layers[i + 1];
    return L->kind == NNINIT_LAYER_CONV2D && P->kind == NNINIT_LAYER_MAXPOOL2D && P->src[0] == i &&
           L->n_consumers == 1;
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
    net->forward_done = 0; /* until every layer ran (an embedding may refuse its ids) */
    for (int i = 0; i < net->n_layers; i++) {
        nninit__layer *L = &net->layers[i];
        const float *in = src_y(net, L->src[0], x);
        L->in = in;
        L->in2 = L->kind == NNINIT_LAYER_ADD ? src_y(net, L->src[1], x) : NULL;
        L->has_dx = 0;
        L->gy = NULL;
        int64_t count = batch * L->n_out;
        switch (L->kind) {
        case NNINIT_LAYER_DENSE: {
            int64_t fin = last_dim(&L->in_shape), rows = batch * (L->n_in / fin);
            nninit__dense_forward(in, L->param[0].value, L->n_params > 1 ? L->param[1].value : NULL, rows, fin,
                                  last_dim(&L->out_shape), L->z);
            if (L->act != NNINIT_ACT_LINEAR)
                nninit_act_forward(L->act, L->alpha, L->z, L->out, rows, last_dim(&L->out_shape));
            break;
        }
        case NNINIT_LAYER_CONV2D: {
            nninit__layer *P = pools_conv(net, i) ? &net->layers[i + 1] : NULL;
            nninit__conv2d_forward(&L->geom, in, L->param[0].value, L->n_params > 1 ? L->param[1].value : NULL, L->act,
                                   L->alpha, batch, L->z, L->out, L->work, P ? &P->geom : NULL, P ? P->out : NULL);
            break;
        }
        case NNINIT_LAYER_ACTIVATION: {
            int64_t f = last_dim(&L->out_shape);
            nninit_act_forward(L->act, L->alpha, in, L->out, count / f, f);
            break;
        }
        case NNINIT_LAYER_BATCHNORM: {
            int64_t f = last_dim(&L->out_shape);
            nninit__bn_forward(in, count / f, f, L->param[0].value, L->param[1].value, L->momentum, L->epsilon,
                               net->training, L->run_mean, L->run_var, L->z, L->bn_invstd, L->out);
            break;
        }
        case NNINIT_LAYER_DROPOUT:
            if (net->training && L->rate > 0.0) {
                nninit__dropout_mask(net->key, L->stream, L->drawn, count, L->rate, L->z);
                L->drawn += (uint64_t)count;
                for (int64_t k = 0; k < count; k++)
                    L->out[k] = in[k] * L->z[k];
            }
            break;
        case NNINIT_LAYER_MAXPOOL2D:
            if (!pools_conv(net, i - 1)) /* else done in the conv's forward */
                nninit__maxpool_forward(&L->geom, in, batch, L->out);
            break;
        case NNINIT_LAYER_AVGPOOL2D:
            nninit__avgpool_forward(&L->geom, in, batch, L->out);
            break;
        case NNINIT_LAYER_GLOBAL_AVGPOOL2D:
            gap_forward(&L->geom, in, batch, L->out);
            break;
        case NNINIT_LAYER_FLATTEN:
            if (L->flatten_chw)
                hwc_to_chw(in, batch, L->in_shape.dim[0] * L->in_shape.dim[1], L->in_shape.dim[2], L->out, 0);
            break;
        case NNINIT_LAYER_ADD:
            for (int64_t k = 0; k < count; k++)
                L->out[k] = in[k] + L->in2[k];
            break;
        case NNINIT_LAYER_SIMPLE_RNN:
        case NNINIT_LAYER_LSTM:
        case NNINIT_LAYER_GRU: {
            nninit__rnn_weights w = rnn_weights(L);
            nninit__rnn_forward(L->rnn, &w, in, batch, L->in_shape.dim[0], L->cache, L->out);
            break;
        }
        case NNINIT_LAYER_EMBEDDING: {
            int64_t dim = L->out_shape.dim[1], n_ids = batch * L->n_in;
            s = embedding_ids(L, in, n_ids, err);
            if (s == NNINIT_OK)
                s = nninit__embedding_forward(L->ids, n_ids, L->param[0].value, L->param[0].shape.dim[0], dim, L->out,
                                              err);
            if (s != NNINIT_OK)
                return s;
            break;
        }
        case NNINIT_LAYER_POSITION_EMBEDDING:
            nninit__posemb_forward(in, L->param[0].value, batch, L->in_shape.dim[0], L->in_shape.dim[1], L->out);
            break;
        case NNINIT_LAYER_LAYER_NORM: {
            int64_t f = last_dim(&L->out_shape), rows = count / f;
            nninit__norm_forward((nninit__norm_kind)L->norm_kind, in, rows, f,
                                 L->norm_gamma ? L->param[0].value : NULL,
                                 L->norm_beta ? L->param[L->norm_gamma].value : NULL, L->epsilon, L->z, L->cache,
                                 L->cache + rows, L->out);
            break;
        }
        case NNINIT_LAYER_ATTENTION: {
            float *ln[4], *m[8], *f[4];
            block_ptrs(L, 0, ln, m, f);
            nninit__mha_weights w = mha_weights_of(m);
            nninit__mha_forward(&L->block->mha, &w, in, batch, L->in_shape.dim[0], L->cache, L->out);
            break;
        }
        case NNINIT_LAYER_TRANSFORMER: {
            nninit__block_weights w = block_weights(L);
            nninit__block_forward(L->block, &w, in, batch, L->in_shape.dim[0], L->cache, L->out);
            break;
        }
        case NNINIT_LAYER_SCALE: {
            float m = L->param[0].value[0], c = L->n_params > 1 ? L->param[1].value[0] : 0.0f;
            for (int64_t k = 0; k < count; k++)
                L->out[k] = m * in[k] + c;
            break;
        }
        default:
            break;
        }
    }
    net->forward_done = 1;
    if (out)
        *out = layer_y(net, &net->layers[net->n_layers - 1]);
    return NNINIT_OK;
}

/* The gradient of producer `src` (-1: the network input) from its readers,
 * all of which come after it and are done: the one reader's input gradient,
 * or their sum in `sum`. */
static const float *gather_grad(nninit_net *net, int src, int64_t n, float *sum)
{
    const float *first = NULL;
    int cnt = 0;
    for (int j = src + 1; j < net->n_layers; j++) {
        const nninit__layer *R = &net->layers[j];
        for (int k = 0; k < 2; k++) {
            if (R->src[k] != src || (k == 1 && R->kind != NNINIT_LAYER_ADD))
                continue;
            const float *g = k ? R->dx2 : R->dx;
            if (cnt == 0) {
                first = g;
            } else {
                if (cnt == 1)
                    memcpy(sum, first, (size_t)n * sizeof *sum);
                for (int64_t e = 0; e < n; e++)
                    sum[e] += g[e];
            }
            cnt++;
        }
    }
    return cnt > 1 ? sum : first;
}

static double dot_d(const float *a, const float *b, int64_t n)
{
    double s = 0.0;
    for (int64_t k = 0; k < n; k++)
        s += (double)a[k] * (double)b[k];
    return s;
}

/* Backward; with opts, each layer also takes its optimizer step as soon as
 * its gradients (and its input gradient) are done. */
static nninit_status backward(nninit_net *net, const float *dout, int want_input_grad, const nninit_optim_opts *opts,
                              double lr, int want_grads, nninit_err *err)
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
    /* plain momentum SGD: a dense kernel's gradient goes straight into its
     * momentum buffer (see nninit__net_backward_step) */
    int fold = opts && nninit__sgd_folds_momentum(opts);
    for (int i = net->n_layers - 1; i >= 0; i--) {
        nninit__layer *L = &net->layers[i];
        int folded = 0;
        const float *g = i == net->n_layers - 1 ? dout : gather_grad(net, i, B * L->n_out, L->gsum);
        L->gy = g;
        float *dx = L->src[0] >= 0 || want_input_grad ? L->dx : NULL;
        int64_t count = B * L->n_out;
        switch (L->kind) {
        case NNINIT_LAYER_DENSE: {
            int64_t fin = last_dim(&L->in_shape), fout = last_dim(&L->out_shape), rows = B * (L->n_in / fin);
            const float *gz = g;
            float *db = L->n_params > 1 ? L->param[1].grad : NULL;
            if (L->act == NNINIT_ACT_RELU && db) { /* one pass for the derivative and the bias gradient */
                nninit__dense_relu_backward(L->z, g, rows, fout, L->dz, db);
                gz = L->dz;
                db = NULL;
            } else if (L->act != NNINIT_ACT_LINEAR) {
                nninit_act_backward(L->act, L->alpha, L->z, L->out, g, L->dz, rows, fout);
                gz = L->dz;
            }
            folded = fold && L->param[0].m1;
            if (folded)
                nninit__dense_backward_momentum(L->in, L->param[0].value, gz, rows, fin, fout, (float)opts->momentum,
                                                L->param[0].m1, want_grads ? L->param[0].grad : NULL, db, dx);
            else
                nninit__dense_backward(L->in, L->param[0].value, gz, rows, fin, fout, L->param[0].grad, db, dx);
            break;
        }
        case NNINIT_LAYER_CONV2D: {
            const float *gz = g;
            float *db = L->n_params > 1 ? L->param[1].grad : NULL;
            int64_t cout = L->geom.cout;
            if (L->act == NNINIT_ACT_RELU && db) { /* as dense: derivative and bias gradient in one pass */
                nninit__dense_relu_backward(L->z, g, count / cout, cout, L->dz, db);
                gz = L->dz;
                db = NULL;
            } else if (L->act != NNINIT_ACT_LINEAR) {
                nninit_act_backward(L->act, L->alpha, L->z, L->out, g, L->dz, count / cout, cout);
                gz = L->dz;
            }
            nninit__conv2d_backward(&L->geom, L->in, L->param[0].value, gz, B, L->param[0].grad, db, dx, L->work);
            break;
        }
        case NNINIT_LAYER_ACTIVATION:
            if (dx) {
                int64_t f = last_dim(&L->out_shape);
                nninit_act_backward(L->act, L->alpha, L->in, L->out, g, dx, count / f, f);
            }
            break;
        case NNINIT_LAYER_BATCHNORM: {
            int64_t f = last_dim(&L->out_shape), rows = count / f;
            if (net->training) {
                nninit__bn_backward(L->z, L->bn_invstd, L->param[0].value, g, rows, f, L->param[0].grad,
                                    L->param[1].grad, dx);
            } else {
                /* evaluation mode is a fixed affine map per feature: no batch coupling */
                nninit__bn_backward(L->z, L->bn_invstd, L->param[0].value, g, rows, f, L->param[0].grad,
                                    L->param[1].grad, NULL);
                for (int64_t k = 0; dx && k < count; k++)
                    dx[k] = g[k] * L->param[0].value[k % f] * L->bn_invstd[k % f];
            }
            break;
        }
        case NNINIT_LAYER_DROPOUT:
            if (dx) {
                if (net->training && L->rate > 0.0)
                    for (int64_t k = 0; k < count; k++)
                        dx[k] = g[k] * L->z[k];
                else
                    memcpy(dx, g, (size_t)count * sizeof *dx);
            }
            break;
        case NNINIT_LAYER_MAXPOOL2D:
            if (dx)
                nninit__maxpool_backward(&L->geom, L->in, L->out, g, B, dx);
            break;
        case NNINIT_LAYER_AVGPOOL2D:
            if (dx)
                nninit__avgpool_backward(&L->geom, g, B, dx);
            break;
        case NNINIT_LAYER_GLOBAL_AVGPOOL2D:
            if (dx)
                gap_backward(&L->geom, g, B, dx);
            break;
        case NNINIT_LAYER_FLATTEN:
            if (dx && L->flatten_chw)
                hwc_to_chw(g, B, L->in_shape.dim[0] * L->in_shape.dim[1], L->in_shape.dim[2], dx, 1);
            else if (dx)
                memcpy(dx, g, (size_t)count * sizeof *dx);
            break;
        case NNINIT_LAYER_ADD:
            if (dx)
                memcpy(dx, g, (size_t)count * sizeof *dx);
            if (L->src[1] >= 0 || want_input_grad)
                memcpy(L->dx2, g, (size_t)count * sizeof *dx);
            break;
        case NNINIT_LAYER_SIMPLE_RNN:
        case NNINIT_LAYER_LSTM:
        case NNINIT_LAYER_GRU: {
            nninit__rnn_weights w = rnn_weights(L);
            int split = L->rnn->cell == NNINIT__CELL_GRU && L->rnn->reset_after && L->n_params > 2;
            float *gb = L->n_params > 2 ? L->param[2].grad : NULL;
            nninit__rnn_grads gr = {L->param[0].grad, L->param[1].grad, gb, split ? gb + 3 * L->rnn->units : NULL};
            if (L->rnn->torch_layout)
                gr.bias_rec = gb ? L->param[3].grad : NULL;
            nninit__rnn_backward(L->rnn, &w, B, L->in_shape.dim[0], L->cache, g, &gr, dx);
            break;
        }
        case NNINIT_LAYER_EMBEDDING:
            nninit__embedding_backward(L->ids, B * L->n_in, g, L->param[0].shape.dim[0], L->out_shape.dim[1],
                                       L->padding_idx, L->param[0].grad);
            if (dx) /* ids are not differentiable */
                memset(dx, 0, (size_t)(B * L->n_in) * sizeof *dx);
            break;
        case NNINIT_LAYER_POSITION_EMBEDDING:
            nninit__posemb_backward(g, B, L->in_shape.dim[0], L->in_shape.dim[1], L->param[0].grad);
            if (dx)
                memcpy(dx, g, (size_t)count * sizeof *dx);
            break;
        case NNINIT_LAYER_LAYER_NORM: {
            int64_t f = last_dim(&L->out_shape), rows = count / f;
            float *tmp = dx ? dx : L->dx; /* the input gradient is computed anyway: the buffer exists */
            nninit__norm_backward((nninit__norm_kind)L->norm_kind, L->z, L->cache, L->cache + rows,
                                  L->norm_gamma ? L->param[0].value : NULL, g, rows, f,
                                  L->norm_gamma ? L->param[0].grad : NULL,
                                  L->norm_beta ? L->param[L->norm_gamma].grad : NULL, tmp);
            break;
        }
        case NNINIT_LAYER_ATTENTION: {
            float *ln[4], *m[8], *f[4], *gm[8];
            block_ptrs(L, 0, ln, m, f);
            block_ptrs(L, 1, ln, gm, f);
            nninit__mha_weights w = mha_weights_of(m);
            nninit__mha_grads gr = mha_grads_of(gm);
            nninit__mha_backward(&L->block->mha, &w, L->in, B, L->in_shape.dim[0], L->cache, g, &gr, dx, 0);
            break;
        }
        case NNINIT_LAYER_TRANSFORMER: {
            nninit__block_weights w = block_weights(L);
            nninit__block_grads gr = block_grads(L);
            nninit__block_backward(L->block, &w, L->in, B, L->in_shape.dim[0], L->cache, g, &gr, L->dx);
            break;
        }
        case NNINIT_LAYER_SCALE: {
            float m = L->param[0].value[0];
            double sg = 0.0;
            for (int64_t k = 0; k < count; k++)
                sg += (double)g[k];
            L->param[0].grad[0] = (float)dot_d(g, L->in, count);
            if (L->n_params > 1)
                L->param[1].grad[0] = (float)sg;
            for (int64_t k = 0; dx && k < count; k++)
                dx[k] = m * g[k];
            break;
        }
        default:
            break;
        }
        L->has_dx = dx != NULL;
        if (opts && !(opts->clip_norm > 0.0))
            nninit__layer_step_folded(L, opts, lr, net->t, folded);
    }
    if (opts && opts->clip_norm > 0.0) /* clipping needs every gradient first */
        nninit__net_step_all(net, opts, lr);
    /* the input's gradient: its one reader's, or the sum over its readers */
    net->dx_in = want_input_grad ? gather_grad(net, -1, B * net->n_inputs, net->dx_in_sum) : NULL;
    net->grad_out = dout;
    net->backward_done = 1;
    return NNINIT_OK;
}

nninit_status nninit_net_backward(nninit_net *net, const float *dout, int want_input_grad, nninit_err *err)
{
    return backward(net, dout, want_input_grad, NULL, 0.0, 1, err);
}

nninit_status nninit__net_backward_step(nninit_net *net, const float *dout, const nninit_optim_opts *opts, double lr,
                                        int want_grads, nninit_err *err)
{
    return backward(net, dout, 0, opts, lr, want_grads, err);
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
    int act_layer = L->kind == NNINIT_LAYER_DENSE || L->kind == NNINIT_LAYER_CONV2D;
    switch (role) {
    case NNINIT_T_INPUT:
        p = L->in;
        c = L->n_in;
        break;
    case NNINIT_T_PREACT:
        p = act_layer || L->kind == NNINIT_LAYER_BATCHNORM ? L->z : layer_y(net, L);
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
        p = L->gy;
        if (role == NNINIT_T_GRAD_PREACT) {
            if (has_act_buffer(L))
                p = L->dz;
            else if (!act_layer)
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

const float *nninit_net_input_grad(const nninit_net *net, int64_t *rows, int64_t *cols)
{
    const float *p = net && net->backward_done ? net->dx_in : NULL;
    if (rows)
        *rows = p ? net->batch : 0;
    if (cols)
        *cols = p ? net->n_inputs : 0;
    return p;
}
