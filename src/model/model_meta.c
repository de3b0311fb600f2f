/* Layer metadata of model tensors: the layer's name and class, the
 * tensor's role in it, the activation and normalization that follow (what
 * nninit advise reads). Never changes what a model draws or writes. */
#include "model/internal.h"

#include <stdlib.h>
#include <string.h>

const char *nninit_model_role_name(nninit_model_role r)
{
    static const char *const names[] = {"other",       "kernel",      "bias",        "recurrent_kernel",
                                        "recurrent_bias", "projection", "embeddings", "gamma",
                                        "beta",        "moving_mean", "moving_variance", "in_proj",
                                        "in_proj_bias", "out_proj",   "out_proj_bias", "slope",
                                        "counter"};
    return (unsigned)r < sizeof names / sizeof *names ? names[r] : "?";
}

const char *nninit_model_source(const nninit_model *m)
{
    return m ? m->source : "";
}

const char *nninit_model_description(const nninit_model *m)
{
    return m ? m->description : "";
}

nninit_status nninit_model_set_description(nninit_model *m, const char *text, nninit_err *err)
{
    if (!m || !text)
        return nninit__err(err, NNINIT_EINVAL, "model description: no model or text given");
    char *d = nninit__strdup(text);
    if (!d)
        return nninit__err(err, NNINIT_ENOMEM, "model description: out of memory");
    free(m->description);
    m->description = d;
    return NNINIT_OK;
}

nninit_status nninit_model_layer_info_at(const nninit_model *m, size_t i, nninit_model_layer_info *out,
                                         nninit_err *err)
{
    if (!m || !out)
        return nninit__err(err, NNINIT_EMISUSE, "nninit_model_layer_info_at: model and out must not be NULL");
    const nninit__mtensor *e = nninit__model_nth(m, i);
    if (e) {
        memset(out, 0, sizeof *out);
        out->layer = e->layer ? e->layer : "";
        out->cls = e->cls ? e->cls : "";
        out->role = e->role;
        out->activation = e->act;
        out->norm_after = e->norm_after;
        out->residual_out = e->residual_out;
        out->gates = e->gates;
        out->units = e->units;
        out->forget_ones = e->forget_units;
        return NNINIT_OK;
    }
    return nninit__err(err, NNINIT_EINVAL, "model layer info: tensor index out of range (%zu tensors)",
                       nninit_model_count(m));
}

/* The last one or two '/'-separated segments of a Keras variable path. */
static nninit_model_role keras_role(const char *name)
{
    const char *leaf = strrchr(name, '/');
    leaf = leaf ? leaf + 1 : name;
    size_t plen = (size_t)(leaf - name);
    const char *parent = name;
    for (const char *p = name; plen && p < leaf - 1; p++)
        if (*p == '/')
            parent = p + 1;
    size_t parent_len = plen ? (size_t)(leaf - 1 - parent) : 0;
#define PARENT_IS(s) (parent_len == strlen(s) && !strncmp(parent, s, parent_len))
    int in_proj = PARENT_IS("query") || PARENT_IS("key") || PARENT_IS("value");
    int out_proj = PARENT_IS("attention_output");
#undef PARENT_IS
    if (!strcmp(leaf, "kernel"))
        return in_proj ? NNINIT_ROLE_IN_PROJ : out_proj ? NNINIT_ROLE_OUT_PROJ : NNINIT_ROLE_KERNEL;
    if (!strcmp(leaf, "bias"))
        return in_proj ? NNINIT_ROLE_IN_PROJ_BIAS : out_proj ? NNINIT_ROLE_OUT_PROJ_BIAS : NNINIT_ROLE_BIAS;
    if (!strcmp(leaf, "depthwise_kernel") || !strcmp(leaf, "pointwise_kernel"))
        return NNINIT_ROLE_KERNEL;
    if (!strcmp(leaf, "recurrent_kernel"))
        return NNINIT_ROLE_RECURRENT_KERNEL;
    if (!strcmp(leaf, "embeddings"))
        return NNINIT_ROLE_EMBEDDINGS;
    if (!strcmp(leaf, "gamma") || !strcmp(leaf, "scale"))
        return NNINIT_ROLE_GAMMA;
    if (!strcmp(leaf, "beta"))
        return NNINIT_ROLE_BETA;
    if (!strcmp(leaf, "moving_mean"))
        return NNINIT_ROLE_MOVING_MEAN;
    if (!strcmp(leaf, "moving_variance"))
        return NNINIT_ROLE_MOVING_VARIANCE;
    return NNINIT_ROLE_OTHER;
}

int nninit__is_norm_class(const char *cls)
{
    static const char *const norms[] = {"BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "InstanceNorm1d",
                                        "InstanceNorm2d", "InstanceNorm3d", "GroupNorm", "LayerNorm",
                                        "BatchNormalization", "LayerNormalization", "GroupNormalization",
                                        "RMSNormalization", NULL};
    for (int i = 0; cls && norms[i]; i++)
        if (!strcmp(cls, norms[i]))
            return 1;
    return 0;
}

static int torch_norm_or_rnn(const char *cls, int *gates)
{
    static const struct { const char *cls; int gates; } rnn[] = {
        {"RNN", 1}, {"LSTM", 4}, {"GRU", 3}, {"RNNCell", 1}, {"LSTMCell", 4}, {"GRUCell", 3},
        {"SimpleRNN", 1}, {"ConvLSTM1D", 4}, {"ConvLSTM2D", 4}, {"ConvLSTM3D", 4}};
    *gates = 0;
    for (size_t i = 0; i < sizeof rnn / sizeof *rnn; i++)
        if (!strcmp(cls, rnn[i].cls))
            *gates = rnn[i].gates;
    return nninit__is_norm_class(cls);
}

static nninit_model_role torch_role(const char *cls, const char *leaf, int norm, int gates)
{
    if (gates) {
        if (!strncmp(leaf, "weight_ih", 9))
            return NNINIT_ROLE_KERNEL;
        if (!strncmp(leaf, "weight_hh", 9))
            return NNINIT_ROLE_RECURRENT_KERNEL;
        if (!strncmp(leaf, "bias_ih", 7))
            return NNINIT_ROLE_BIAS;
        if (!strncmp(leaf, "bias_hh", 7))
            return NNINIT_ROLE_RECURRENT_BIAS;
        if (!strncmp(leaf, "weight_hr", 9))
            return NNINIT_ROLE_PROJECTION;
        return NNINIT_ROLE_OTHER;
    }
    if (!strcmp(cls, "MultiheadAttention")) {
        if (!strcmp(leaf, "out_proj.weight"))
            return NNINIT_ROLE_OUT_PROJ;
        if (!strcmp(leaf, "out_proj.bias"))
            return NNINIT_ROLE_OUT_PROJ_BIAS;
        if (strstr(leaf, "_weight"))
            return NNINIT_ROLE_IN_PROJ;
        return NNINIT_ROLE_IN_PROJ_BIAS; /* in_proj_bias, bias_k, bias_v */
    }
    if (norm) {
        if (!strcmp(leaf, "weight"))
            return NNINIT_ROLE_GAMMA;
        if (!strcmp(leaf, "bias"))
            return NNINIT_ROLE_BETA;
        if (!strcmp(leaf, "running_mean"))
            return NNINIT_ROLE_MOVING_MEAN;
        if (!strcmp(leaf, "running_var"))
            return NNINIT_ROLE_MOVING_VARIANCE;
        return NNINIT_ROLE_COUNTER;
    }
    if (!strcmp(cls, "Embedding") || !strcmp(cls, "EmbeddingBag"))
        return NNINIT_ROLE_EMBEDDINGS;
    if (!strcmp(cls, "PReLU"))
        return NNINIT_ROLE_SLOPE;
    if (!strcmp(leaf, "weight"))
        return NNINIT_ROLE_KERNEL;
    if (!strcmp(leaf, "bias"))
        return NNINIT_ROLE_BIAS;
    return NNINIT_ROLE_OTHER;
}

static nninit_status tag(nninit_model *m, size_t from, const char *layer, const char *cls, int torch,
                         nninit_err *err)
{
    int gates = 0;
    int norm = torch_norm_or_rnn(cls, &gates);
    int64_t units = 0;
    size_t lp = strlen(layer);
    for (size_t i = from; i < m->n; i++) {
        nninit__mtensor *e = &m->t[i];
        if (e->layer || !e->name)
            continue;
        const char *leaf = e->name + (torch && lp && !strncmp(e->name, layer, lp) && e->name[lp] == '.' ? lp + 1 : 0);
        e->role = torch ? torch_role(cls, leaf, norm, gates) : keras_role(e->name);
        if (e->is_int64)
            e->role = NNINIT_ROLE_COUNTER;
        if (!(e->layer = nninit__strdup(layer)) || !(e->cls = nninit__strdup(cls)))
            return nninit__err(err, NNINIT_ENOMEM, "out of memory");
        /* units of a recurrent layer from its recurrent kernel: Keras (..., u, g u), torch (g h, h) */
        if (gates && e->role == NNINIT_ROLE_RECURRENT_KERNEL && e->shape.ndim >= 2)
            units = torch ? e->shape.dim[0] / gates : e->shape.dim[e->shape.ndim - 2];
    }
    for (size_t i = from; gates && i < m->n; i++)
        if (m->t[i].layer && !strcmp(m->t[i].layer, layer)) {
            m->t[i].gates = gates;
            m->t[i].units = units;
            if (!m->t[i].act && !(m->t[i].act = nninit__strdup("tanh"))) /* the cell's output activation */
                return nninit__err(err, NNINIT_ENOMEM, "out of memory");
        }
    return NNINIT_OK;
}

nninit_status nninit__meta_tag_keras(nninit_model *m, size_t from, const char *layer, const char *cls,
                                     nninit_err *err)
{
    return tag(m, from, layer, cls, 0, err);
}

nninit_status nninit__meta_tag_torch(nninit_model *m, size_t from, const char *layer, const char *cls,
                                     nninit_err *err)
{
    return tag(m, from, layer, cls, 1, err);
}

nninit_status nninit__meta_set_act(nninit_model *m, size_t from, size_t to, const char *act, int norm_after,
                                   nninit_err *err)
{
    for (size_t i = from; i < to && i < m->n; i++) {
        nninit__mtensor *e = &m->t[i];
        if (act) {
            char *copy = nninit__strdup(act);
            if (!copy)
                return nninit__err(err, NNINIT_ENOMEM, "out of memory");
            free(e->act);
            e->act = copy;
        }
        e->norm_after |= norm_after;
    }
    return NNINIT_OK;
}

nninit_status nninit__meta_copy(nninit__mtensor *dst, const nninit__mtensor *src, const char *layer,
                                nninit_err *err)
{
    if (!src->layer) /* untagged: the enclosing module tags it */
        return NNINIT_OK;
    if (!(dst->layer = nninit__strdup(layer)) || !(dst->cls = nninit__strdup(src->cls ? src->cls : "")) ||
        (src->act && !(dst->act = nninit__strdup(src->act))))
        return nninit__err(err, NNINIT_ENOMEM, "out of memory");
    dst->role = src->role;
    dst->norm_after = src->norm_after;
    dst->residual_out = src->residual_out;
    dst->gates = src->gates;
    dst->units = src->units;
    return NNINIT_OK;
}

const char *nninit__torch_act_name(const char *module)
{
    static const char *const map[][2] = {
        {"ReLU", "relu"},       {"LeakyReLU", "leaky_relu"}, {"Tanh", "tanh"},       {"Sigmoid", "sigmoid"},
        {"GELU", "gelu"},       {"SiLU", "swish"},           {"ELU", "elu"},         {"SELU", "selu"},
        {"CELU", "celu"},       {"Softplus", "softplus"},    {"Softsign", "softsign"}, {"Mish", "mish"},
        {"ReLU6", "relu6"},     {"Hardtanh", "hardtanh"},    {"Hardswish", "hardswish"},
        {"Hardsigmoid", "hardsigmoid"}, {"Softmax", "softmax"}, {"LogSoftmax", "log_softmax"},
        {"PReLU", "prelu"},     {"RReLU", "rrelu"},          {"Tanhshrink", "tanhshrink"}, {"GLU", "glu"},
        {"LogSigmoid", "logsigmoid"}};
    for (size_t i = 0; module && i < sizeof map / sizeof *map; i++)
        if (!strcmp(module, map[i][0]))
            return map[i][1];
    return NULL;
}
