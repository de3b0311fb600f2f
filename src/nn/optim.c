/* Optimizers (torch.optim.SGD and Adam update rules, coupled weight decay)
 * and learning-rate schedules. */
#include "nn/internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *nninit_optimizer_name(nninit_optimizer o)
{
    return o == NNINIT_OPT_SGD ? "sgd" : o == NNINIT_OPT_ADAM ? "adam" : "unknown";
}

nninit_status nninit_optimizer_parse(const char *name, nninit_optimizer *out, nninit_err *err)
{
    if (!name || !out)
        return nninit__err(err, NNINIT_EMISUSE, "nninit_optimizer_parse: NULL argument");
    if (!strcmp(name, "sgd") || !strcmp(name, "SGD"))
        *out = NNINIT_OPT_SGD;
    else if (!strcmp(name, "adam") || !strcmp(name, "Adam"))
        *out = NNINIT_OPT_ADAM;
    else
        return nninit__err(err, NNINIT_ENOTFOUND, "unknown optimizer '%s'; expected sgd or adam", name);
    return NNINIT_OK;
}

const char *nninit_schedule_name(nninit_schedule s)
{
    static const char *const names[] = {"constant", "step", "cosine"};
    return (unsigned)s < 3 ? names[s] : "unknown";
}

nninit_status nninit_schedule_parse(const char *name, nninit_schedule *out, nninit_err *err)
{
    if (!name || !out)
        return nninit__err(err, NNINIT_EMISUSE, "nninit_schedule_parse: NULL argument");
    for (int i = 0; i < 3; i++)
        if (!strcmp(name, nninit_schedule_name((nninit_schedule)i))) {
            *out = (nninit_schedule)i;
            return NNINIT_OK;
        }
    return nninit__err(err, NNINIT_ENOTFOUND, "unknown schedule '%s'; expected constant, step or cosine", name);
}

nninit_optim_opts nninit_optim_opts_default(void)
{
    nninit_optim_opts o;
    memset(&o, 0, sizeof o);
    o.kind = NNINIT_OPT_SGD;
    o.lr = 0.01;
    o.beta1 = 0.9;
    o.beta2 = 0.999;
    o.eps = 1e-8;
    return o;
}

double nninit_schedule_lr(nninit_schedule s, double lr, double lr_min, int step_epochs, double gamma, int64_t step,
                          int64_t steps_per_epoch, int64_t total_steps)
{
    switch (s) {
    case NNINIT_SCHED_STEP: {
        int64_t epoch = steps_per_epoch > 0 ? step / steps_per_epoch : 0;
        int64_t k = step_epochs > 0 ? epoch / step_epochs : 0;
        return lr * pow(gamma, (double)k);
    }
    case NNINIT_SCHED_COSINE: {
        double t = total_steps > 0 ? (double)step / (double)total_steps : 0.0;
        return lr_min + (lr - lr_min) * 0.5 * (1.0 + cos(3.14159265358979323846 * t));
    }
    default:
        return lr;
    }
}

static nninit_status check_opts(const nninit_optim_opts *o, double lr, nninit_err *err)
{
    if (!isfinite(lr) || lr < 0.0)
        return nninit__err(err, NNINIT_EINVAL, "learning rate %g; expected a finite value >= 0", lr);
    if (!(o->momentum >= 0.0 && o->momentum < 1.0) || !(o->weight_decay >= 0.0) || !isfinite(o->weight_decay))
        return nninit__err(err, NNINIT_EINVAL, "momentum %g, weight decay %g; expected 0 <= momentum < 1, decay >= 0",
                           o->momentum, o->weight_decay);
    if (o->nesterov && o->momentum <= 0.0)
        return nninit__err(err, NNINIT_EINVAL, "nesterov needs a momentum > 0 (as torch.optim.SGD requires)");
    if (o->kind == NNINIT_OPT_ADAM && (!(o->beta1 >= 0.0 && o->beta1 < 1.0) || !(o->beta2 >= 0.0 && o->beta2 < 1.0) ||
                                       !(o->eps >= 0.0) || !isfinite(o->eps)))
        return nninit__err(err, NNINIT_EINVAL, "adam betas (%g, %g), eps %g; expected betas in [0, 1), eps >= 0",
                           o->beta1, o->beta2, o->eps);
    if (!(o->clip_norm >= 0.0) || !isfinite(o->clip_norm))
        return nninit__err(err, NNINIT_EINVAL, "gradient clip norm %g; expected a finite value >= 0 (0: no clipping)",
                           o->clip_norm);
    if (o->kind != NNINIT_OPT_SGD && o->kind != NNINIT_OPT_ADAM)
        return nninit__err(err, NNINIT_EINVAL, "unknown optimizer %d", (int)o->kind);
    return NNINIT_OK;
}

#if defined(__GNUC__)
typedef float v4sf __attribute__((vector_size(16)));
#define HAVE_V4 1
#else
#define HAVE_V4 0
#endif

/* One SGD element; the vector loop below does exactly these operations. */
static inline void sgd_one(float *w, float *v, const float *g, float wd, float mu, int nesterov, float lr)
{
    float gi = *g + wd * *w;
    if (v) {
        *v = mu * *v + gi; /* torch: the buffer starts as g, the same as mu * 0 + g */
        gi = nesterov ? gi + mu * *v : *v;
    }
    *w -= lr * gi;
}

static void sgd_param(nninit__param *p, const nninit_optim_opts *o, float lr)
{
    float wd = (float)o->weight_decay, mu = (float)o->momentum;
    float *w = p->value, *v = p->m1;
    const float *g = p->grad;
    int nesterov = o->nesterov;
    int64_t i = 0;
#if HAVE_V4
    /* the optimizer step touches every parameter each step: four lanes at a time */
    for (; v && i + 4 <= p->n; i += 4) {
        v4sf wv, vv, gv;
        memcpy(&wv, w + i, sizeof wv);
        memcpy(&vv, v + i, sizeof vv);
        memcpy(&gv, g + i, sizeof gv);
        gv = gv + wd * wv;
        vv = mu * vv + gv;
        gv = nesterov ? gv + mu * vv : vv;
        wv = wv - lr * gv;
        memcpy(w + i, &wv, sizeof wv);
        memcpy(v + i, &vv, sizeof vv);
    }
#endif
    for (; i < p->n; i++)
        sgd_one(w + i, v ? v + i : NULL, g + i, wd, mu, nesterov, lr);
}

#if defined(__x86_64__) && defined(__GNUC__)
/* w -= lr v eight lanes at a time where the CPU has AVX2 (the same two
 * roundings per element as the scalar loop: the file is built with
 * -ffp-contract=off and AVX2 has no FMA): the step streams every kernel
 * once a batch, and wider loads take fewer cycles per byte. */
typedef float v8sf __attribute__((vector_size(32)));

__attribute__((target("avx2"))) static int64_t momentum_apply_avx2(float *w, const float *v, int64_t n, float lr)
{
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        v8sf w0, w1, v0, v1;
        memcpy(&w0, w + i, sizeof w0);
        memcpy(&w1, w + i + 8, sizeof w1);
        memcpy(&v0, v + i, sizeof v0);
        memcpy(&v1, v + i + 8, sizeof v1);
        w0 = w0 - lr * v0;
        w1 = w1 - lr * v1;
        memcpy(w + i, &w0, sizeof w0);
        memcpy(w + i + 8, &w1, sizeof w1);
    }
    return i;
}
#define HAVE_AVX2_STEP 1
#else
#define HAVE_AVX2_STEP 0
#endif

int nninit__sgd_folds_momentum(const nninit_optim_opts *o)
{
    return o->kind == NNINIT_OPT_SGD && o->momentum > 0.0 && !o->nesterov && !(o->clip_norm > 0.0);
}

void nninit__sgd_apply_folded(nninit__param *p, const nninit_optim_opts *o, float lr)
{
    /* v already holds mu v + g (the product's beta); weight decay enters
     * after the product instead of inside g: (mu v + g) + wd w, torch's
     * mu v + (g + wd w) reordered */
    float wd = (float)o->weight_decay;
    float *w = p->value, *v = p->m1;
    int64_t i = 0;
    if (wd != 0.0f) {
#if HAVE_V4
        for (; i + 4 <= p->n; i += 4) {
            v4sf wv, vv;
            memcpy(&wv, w + i, sizeof wv);
            memcpy(&vv, v + i, sizeof vv);
            vv = vv + wd * wv;
            wv = wv - lr * vv;
            memcpy(w + i, &wv, sizeof wv);
            memcpy(v + i, &vv, sizeof vv);
        }
#endif
        for (; i < p->n; i++) {
            v[i] = v[i] + wd * w[i];
            w[i] -= lr * v[i];
        }
        return;
    }
#if HAVE_AVX2_STEP
    if (__builtin_cpu_supports("avx2"))
        i = momentum_apply_avx2(w, v, p->n, lr);
#endif
#if HAVE_V4
    for (; i + 4 <= p->n; i += 4) {
        v4sf wv, vv;
        memcpy(&wv, w + i, sizeof wv);
        memcpy(&vv, v + i, sizeof vv);
        wv = wv - lr * vv;
        memcpy(w + i, &wv, sizeof wv);
    }
#endif
    for (; i < p->n; i++)
        w[i] -= lr * v[i];
}

static void adam_param(nninit__param *p, const nninit_optim_opts *o, double lr, int64_t t)
{
    /* torch.optim.Adam (single-tensor path): step_size = lr / bc1,
     * denom = sqrt(v) / sqrt(bc2) + eps, w -= step_size * m / denom */
    float b1 = (float)o->beta1, b2 = (float)o->beta2, wd = (float)o->weight_decay;
    double bc1 = 1.0 - pow(o->beta1, (double)t), bc2 = 1.0 - pow(o->beta2, (double)t);
    float step_size = (float)(lr / bc1), sqrt_bc2 = (float)sqrt(bc2), eps = (float)o->eps;
    float *w = p->value, *m = p->m1, *v = p->m2;
    const float *g = p->grad;
    for (int64_t i = 0; i < p->n; i++) {
        float gi = wd != 0.0f ? g[i] + wd * w[i] : g[i];
        m[i] = b1 * m[i] + (1.0f - b1) * gi;
        v[i] = b2 * v[i] + (1.0f - b2) * gi * gi;
        float denom = sqrtf(v[i]) / sqrt_bc2 + eps;
        w[i] -= step_size * (m[i] / denom);
    }
}

nninit_status nninit__optim_prepare(nninit_net *net, const nninit_optim_opts *opts, double lr, nninit_err *err)
{
    nninit_status s = check_opts(opts, lr, err);
    if (s != NNINIT_OK)
        return s;
    int need_m1 = opts->kind == NNINIT_OPT_ADAM || opts->momentum > 0.0;
    int need_m2 = opts->kind == NNINIT_OPT_ADAM;
    for (int i = 0; i < net->n_layers; i++)
        for (int k = 0; k < net->layers[i].n_params; k++) {
            nninit__param *p = &net->layers[i].param[k];
            if (need_m1 && !p->m1)
                p->m1 = nninit__calloc_array((size_t)p->n, sizeof *p->m1);
            if (need_m2 && !p->m2)
                p->m2 = nninit__calloc_array((size_t)p->n, sizeof *p->m2);
            if ((need_m1 && !p->m1) || (need_m2 && !p->m2))
                return nninit__err(err, NNINIT_ENOMEM, "%s: out of memory for optimizer state", p->name);
        }
    net->t++;
    return NNINIT_OK;
}

void nninit__layer_step(nninit__layer *layer, const nninit_optim_opts *opts, double lr, int64_t t)
{
    nninit__layer_step_folded(layer, opts, lr, t, 0);
}

void nninit__layer_step_folded(nninit__layer *layer, const nninit_optim_opts *opts, double lr, int64_t t, int folded)
{
    for (int k = 0; k < layer->n_params; k++) {
        if (k == 0 && folded)
            nninit__sgd_apply_folded(&layer->param[0], opts, (float)lr);
        else if (opts->kind == NNINIT_OPT_ADAM)
            adam_param(&layer->param[k], opts, lr, t);
        else
            sgd_param(&layer->param[k], opts, (float)lr);
    }
}

/* torch.nn.utils.clip_grad_norm_ (norm_type 2): the norm over every
 * gradient together, coefficient max_norm / (norm + 1e-6) clamped at 1.
 * The sum of squares is taken in double (torch: float32 per tensor, then
 * the norm of the norms), so the coefficient can differ in its last float
 * bit. */
static void clip_grads(nninit_net *net, double max_norm)
{
    double ss = 0.0;
    for (int i = 0; i < net->n_layers; i++)
        for (int k = 0; k < net->layers[i].n_params; k++) {
            const nninit__param *p = &net->layers[i].param[k];
            for (int64_t j = 0; j < p->n; j++)
                ss += (double)p->grad[j] * (double)p->grad[j];
        }
    double coef = max_norm / (sqrt(ss) + 1e-6);
    if (!(coef < 1.0)) /* the norm is within the bound: the gradients stay as they are */
        return;
    float c = (float)coef;
    for (int i = 0; i < net->n_layers; i++)
        for (int k = 0; k < net->layers[i].n_params; k++) {
            nninit__param *p = &net->layers[i].param[k];
            for (int64_t j = 0; j < p->n; j++)
                p->grad[j] *= c;
        }
}

void nninit__net_step_all(nninit_net *net, const nninit_optim_opts *opts, double lr)
{
    if (opts->clip_norm > 0.0)
        clip_grads(net, opts->clip_norm);
    for (int i = 0; i < net->n_layers; i++)
        nninit__layer_step(&net->layers[i], opts, lr, net->t);
}

nninit_status nninit_net_step(nninit_net *net, const nninit_optim_opts *opts, double lr, nninit_err *err)
{
    if (!net || !opts)
        return nninit__err(err, NNINIT_EMISUSE, "nninit_net_step: NULL argument");
    if (!net->backward_done)
        return nninit__err(err, NNINIT_EMISUSE, "step: no gradients; call nninit_net_backward first");
    nninit_status s = nninit__optim_prepare(net, opts, lr, err);
    if (s != NNINIT_OK)
        return s;
    nninit__net_step_all(net, opts, lr);
    return NNINIT_OK;
}
