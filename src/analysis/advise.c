/* nninit advise: an initialization linter. Reads a model's layers in order,
 * predicts the signal's variance and gradient through each chain of
 * feed-forward layers (mean-field theory, theory.c), and reports what the
 * tutorials warn about (constant kernels, unscaled or mismatched kernels
 * in deep chains, SELU without lecun_normal, recurrent kernels, the LSTM
 * forget bias, embedding and residual scales), each with the fix. */
#include "analysis/theory_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A chain vanishes / explodes when the product of its blocks' chi_1 leaves
 * [1/CHAIN_FACTOR, CHAIN_FACTOR] (the probe's verdict uses the same 10). */
#define CHAIN_FACTOR 10.0
/* sigma_w^2 within this relative distance of the recommendation is taken as it. */
#define SW2_TOL 0.10
/* GPT-2 (Radford et al. 2019): N(0, 0.02), residual projections / sqrt(2 N); "deep" from 4 blocks on. */
#define GPT2_STD 0.02
#define DEEP_BLOCKS 4
/* Embeddings at least this std count as "N(0, 1)-like". */
#define EMBEDDING_STD 0.5

static const char *const kind_names[] = {"constant-kernel", "unscaled-init", "init-activation-mismatch",
                                         "selu-init", "recurrent-init", "forget-bias", "embedding-scale",
                                         "residual-scale", "depth"};

const char *nninit_advice_kind_name(nninit_advice_kind k)
{
    return (unsigned)k < NNINIT_ADVICE_KIND_COUNT ? kind_names[k] : "?";
}

/* ---- recommendations ---- */

nninit_status nninit_advice_recommend(const char *activation, nninit_layout layout, double sb2, char *spec,
                                      size_t cap, nninit_err *err)
{
    if (!spec || cap == 0)
        return nninit__err(err, NNINIT_EMISUSE, "nninit_advice_recommend: spec must not be NULL");
    int torch = layout == NNINIT_LAYOUT_TORCH;
    nninit_theory_act act = NNINIT_THEORY_LINEAR;
    double alpha = 0;
    if (!activation || nninit_theory_act_parse(activation, &act, &alpha, NULL) != NNINIT_OK)
        act = NNINIT_THEORY_LINEAR; /* softmax, softplus, ...: Glorot, the frameworks' default */
    if (!(sb2 >= 0) || !isfinite(sb2))
        sb2 = 0;
    double crit = 0;
    switch (act) {
    case NNINIT_THEORY_RELU:
        snprintf(spec, cap, "%s", torch ? "kaiming_normal_(nonlinearity='relu')" : "he_normal");
        return NNINIT_OK;
    case NNINIT_THEORY_LEAKY_RELU:
        if (torch)
            snprintf(spec, cap, "kaiming_normal_(a=%.6g, nonlinearity='leaky_relu')", alpha);
        else
            snprintf(spec, cap, "VarianceScaling(scale=%.6g, mode='fan_in', distribution='truncated_normal')",
                     2.0 / (1.0 + alpha * alpha));
        return NNINIT_OK;
    case NNINIT_THEORY_SELU:
        snprintf(spec, cap, "%s", torch ? "kaiming_normal_(nonlinearity='linear')" : "lecun_normal");
        return NNINIT_OK;
    case NNINIT_THEORY_TANH:
        if (sb2 == 0) {
            snprintf(spec, cap, "%s", torch ? "xavier_uniform_" : "glorot_uniform");
            return NNINIT_OK;
        }
        break;
    case NNINIT_THEORY_GELU:
    case NNINIT_THEORY_SWISH:
    case NNINIT_THEORY_ELU:
        break;
    default: /* linear, sigmoid, erf */
        snprintf(spec, cap, "%s", torch ? "xavier_uniform_" : "glorot_uniform");
        return NNINIT_OK;
    }
    /* the edge of chaos for this activation and bias: chi_1 = 1 */
    nninit_status s = nninit_theory_critical(act, alpha, sb2, 1.0, &crit, err);
    if (s != NNINIT_OK)
        return s;
    if (act == NNINIT_THEORY_TANH)
        snprintf(spec, cap, torch ? "xavier_uniform_(gain=%.4f)" : "VarianceScaling(scale=%.4f, mode='fan_avg', "
                 "distribution='uniform')", torch ? sqrt(crit) : crit);
    else
        snprintf(spec, cap, "VarianceScaling(scale=%.4f, mode='fan_in', distribution='truncated_normal')", crit);
    return NNINIT_OK;
}

/* A short display form of an initializer: the spec as written when it is short
 * and not JSON, else the kind's name with the parameters that differ from its
 * defaults ("random_normal(stddev=0.05)"). */
static void short_spec(const nninit_init *in, const char *spec, char *out, size_t cap)
{
    if (spec && spec[0] != '{' && strlen(spec) < cap) {
        snprintf(out, cap, "%s", spec);
        return;
    }
    nninit_init d = nninit_init_default(in->kind);
    char args[160] = "";
    size_t k = 0;
#define ARG(field, label)                                                                                       \
    if (in->field != d.field && k < sizeof args)                                                               \
        k += (size_t)snprintf(args + k, sizeof args - k, "%s" label "=%.6g", k ? ", " : "", in->field);
    ARG(mean, "mean")
    ARG(stddev, "stddev")
    ARG(minval, "minval")
    ARG(maxval, "maxval")
    ARG(value, "value")
    ARG(scale, "scale")
    ARG(gain, "gain")
    ARG(neg_slope, "a")
#undef ARG
    if (k < sizeof args && (in->kind == NNINIT_VARIANCE_SCALING || in->kind == NNINIT_TORCH_KAIMING_NORMAL ||
                            in->kind == NNINIT_TORCH_KAIMING_UNIFORM) && in->mode != d.mode)
        k += (size_t)snprintf(args + k, sizeof args - k, "%smode=%s", k ? ", " : "", nninit_fan_mode_name(in->mode));
    if (k < sizeof args && in->kind == NNINIT_VARIANCE_SCALING && in->distribution != d.distribution)
        snprintf(args + k, sizeof args - k, "%sdistribution=%s", k ? ", " : "",
                 nninit_distribution_name(in->distribution));
    snprintf(out, cap, args[0] ? "%s(%s)" : "%s", nninit_init_kind_name(in->kind), args);
}

/* ---- the model's layers ---- */

typedef struct lrec {
    nninit_advice_layer pub;
    nninit_model_role first_role;
    int kernel_i, bias_i, bias2_i;  /* tensor indices (-1: none); bias2: torch bias_hh */
    nninit_layout layout;
    nninit_init kinit;
    nninit_shape kshape;
    int feed_forward;               /* may stand in a chain */
    int constant;                   /* the kernel resolves to one value */
    double kconst;                  /* that value */
    int normal;                     /* the kernel is drawn from a (truncated) normal */
    int unscaled;                   /* fan-independent random kernel */
    char rec[160];                  /* recommended kernel SPEC for its own activation */
    double sw2_rec;                 /* its sigma_w^2 for this kernel (NaN: unknown) */
    int units_gates, is_norm;
    double g;                       /* the depth factor of the layer's block */
    int first;                      /* the first layer of its chain (no block) */
} lrec;

static int is_feed_forward(const char *cls)
{
    static const char *const ff[] = {"Dense", "Conv1D", "Conv2D", "Conv3D", "Conv1DTranspose", "Conv2DTranspose",
                                     "Conv3DTranspose", "Linear", "Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d",
                                     "ConvTranspose2d", "ConvTranspose3d", NULL};
    for (int i = 0; ff[i]; i++)
        if (!strcmp(cls, ff[i]))
            return 1;
    return 0;
}

static int is_norm(const char *cls)
{
    return strstr(cls, "Norm") != NULL; /* BatchNorm1d, LayerNorm, GroupNorm, BatchNormalization, ... */
}

static int is_unscaled_kind(nninit_init_kind k)
{
    return k == NNINIT_RANDOM_NORMAL || k == NNINIT_RANDOM_UNIFORM || k == NNINIT_TRUNCATED_NORMAL ||
           k == NNINIT_TORCH_UNIFORM || k == NNINIT_TORCH_NORMAL || k == NNINIT_TORCH_TRUNC_NORMAL ||
           k == NNINIT_TORCH_SPARSE;
}

/* The primitive of tensor t as it resolves for its own shape and layout. */
static nninit_status resolve_tensor(const nninit_model_tensor *t, nninit_prim *p, nninit_err *err)
{
    return nninit_resolve(&t->init, &t->shape, t->layout, p, err);
}

/* sigma_w^2 = fan_in Var(W) with the kernel's fans (nninit_fans) and the
 * theory's reading of the initializer (nninit_theory_from_init). */
static nninit_status kernel_sw2(const nninit_init *init, const nninit_shape *shape, nninit_layout layout,
                                int64_t *fan_in, int64_t *fan_out, double *sw2, nninit_err *err)
{
    nninit_status s = nninit_fans(shape, layout, fan_in, fan_out, err);
    if (s == NNINIT_OK && (*fan_in < 1 || *fan_out < 1))
        s = nninit__err(err, NNINIT_EINVAL, "kernel without fans");
    if (s == NNINIT_OK)
        s = nninit_theory_from_init(init, *fan_in, *fan_out, sw2, NULL, err);
    return s;
}

static double bias_sb2(const nninit_model *m, int i, double *mean)
{
    nninit_model_tensor buf;
    const nninit_model_tensor *t = i >= 0 ? nninit_model_tensor_at(m, (size_t)i, &buf) : NULL;
    double sb2 = 0, mu = 0;
    int64_t n = 1;
    for (int d = 0; t && d < t->shape.ndim; d++)
        n *= t->shape.dim[d];
    if (t && nninit_theory_from_init(&t->init, 0, n, &sb2, &mu, NULL) != NNINIT_OK)
        sb2 = NAN, mu = NAN;
    if (mean)
        *mean = mu;
    return sb2;
}

/* Groups the model's tensors into layers (consecutive tensors of one layer). */
static nninit_status collect_layers(const nninit_model *m, lrec **out, int *n_out, nninit_err *err)
{
    size_t nt = nninit_model_count(m);
    lrec *L = nninit__calloc_array(nt ? nt : 1, sizeof *L);
    if (!L)
        return nninit__err(err, NNINIT_ENOMEM, "out of memory");
    int n = 0;
    for (size_t i = 0; i < nt; i++) {
        nninit_model_tensor buf;
        nninit_model_layer_info li;
        const nninit_model_tensor *t = nninit_model_tensor_at(m, i, &buf);
        nninit_status s = nninit_model_layer_info_at(m, i, &li, err);
        if (s) {
            free(L);
            return s;
        }
        /* a spec without layers: each tensor its own "layer" named as the tensor */
        const char *lname = li.layer[0] || li.cls[0] ? li.layer : t->name;
        if (n == 0 || strcmp(L[n - 1].pub.name, lname)) {
            lrec *r = &L[n++];
            r->pub.name = lname;
            r->pub.cls = li.cls;
            r->pub.activation = li.activation;
            r->pub.norm_after = li.norm_after;
            r->pub.chain = -1;
            r->pub.sw2 = r->pub.sb2 = r->pub.q = NAN;
            r->pub.fwd_gain = r->pub.bwd_gain = r->pub.fwd_total = r->pub.bwd_total = r->pub.chi1 = NAN;
            r->pub.phase = NNINIT_PHASE_UNBOUNDED;
            r->kernel_i = r->bias_i = r->bias2_i = -1;
            r->sw2_rec = NAN;
            r->layout = t->layout;
            r->is_norm = is_norm(li.cls);
            r->first_role = li.role;
        }
        lrec *r = &L[n - 1];
        if (li.role == NNINIT_ROLE_KERNEL && r->kernel_i < 0) {
            r->kernel_i = (int)i;
            r->pub.kernel = t->name;
            r->pub.kernel_spec = t->spec;
            short_spec(&t->init, t->spec, r->pub.kernel_init, sizeof r->pub.kernel_init);
            r->kinit = t->init;
            r->kshape = t->shape;
            r->feed_forward = is_feed_forward(li.cls);
        } else if (li.role == NNINIT_ROLE_BIAS && r->bias_i < 0) {
            r->bias_i = (int)i;
            r->pub.bias_spec = t->spec;
            short_spec(&t->init, t->spec, r->pub.bias_init, sizeof r->pub.bias_init);
        } else if (li.role == NNINIT_ROLE_RECURRENT_BIAS && r->bias2_i < 0) {
            r->bias2_i = (int)i;
        }
    }
    *out = L;
    *n_out = n;
    return NNINIT_OK;
}

/* Kernel statistics and the recommendation for each layer with a kernel. */
static void describe_kernels(const nninit_model *m, lrec *L, int n)
{
    for (int i = 0; i < n; i++) {
        lrec *r = &L[i];
        if (r->kernel_i < 0)
            continue;
        nninit_model_tensor buf;
        const nninit_model_tensor *t = nninit_model_tensor_at(m, (size_t)r->kernel_i, &buf);
        nninit_prim p;
        if (resolve_tensor(t, &p, NULL) == NNINIT_OK) {
            r->constant = p.kind == NNINIT_PRIM_CONSTANT || (p.kind != NNINIT_PRIM_EYE && p.expected_std == 0);
            r->kconst = p.kind == NNINIT_PRIM_CONSTANT ? p.value : p.mean;
            r->normal = p.kind == NNINIT_PRIM_NORMAL || p.kind == NNINIT_PRIM_TRUNC_NORMAL;
        }
        r->unscaled = is_unscaled_kind(r->kinit.kind);
        r->pub.sb2 = r->bias_i >= 0 ? bias_sb2(m, r->bias_i, NULL) : 0.0;
        if (kernel_sw2(&r->kinit, &r->kshape, r->layout, &r->pub.fan_in, &r->pub.fan_out, &r->pub.sw2, NULL))
            r->pub.sw2 = NAN;
        if (nninit_advice_recommend(r->pub.activation, r->layout, r->pub.sb2, r->rec, sizeof r->rec, NULL) ==
            NNINIT_OK) {
            nninit_init rin;
            int64_t fi, fo;
            if (nninit_init_parse(r->rec, &rin, NULL) != NNINIT_OK ||
                kernel_sw2(&rin, &r->kshape, r->layout, &fi, &fo, &r->sw2_rec, NULL) != NNINIT_OK)
                r->sw2_rec = NAN;
        }
    }
}

/* ---- chains ---- */

/* Mean-field pass over the layers. split: a normalization ends a chain
 * (what happens); 0: as if there were none (what it prevents). Fills
 * chain[i] (-1 off chains), and with split the layers' predictions. */
static void run_chains(lrec *L, int n, int split, int *chain, double *product, int *length)
{
    int cur = -1, prev = -1, nchains = 0;
    double q_prev = 1.0;
    for (int i = 0; i < n; i++) {
        chain[i] = -1;
        lrec *r = &L[i];
        if (!r->feed_forward || r->constant || !isfinite(r->pub.sw2) || !isfinite(r->pub.sb2)) {
            if (!(r->is_norm && !split))
                cur = -1;
            continue;
        }
        int cont = cur >= 0 && prev >= 0 && L[prev].pub.activation && !(split && L[prev].pub.norm_after);
        for (int j = prev + 1; cont && j < i; j++) /* only normalizations may stand between (when not splitting) */
            cont = !split && L[j].is_norm;
        nninit_theory_act act = NNINIT_THEORY_LINEAR; /* the first block acts on the input itself */
        double alpha = 0, m2 = 1.0, d2 = 1.0;
        int theory = 1;
        if (!cont) {
            cur = nchains++;
            product[cur] = 1.0;
            length[cur] = 0;
            q_prev = 1.0; /* inputs (or a normalized signal) of second moment 1 */
        } else {
            nninit_theory_moments mo;
            if (nninit_theory_act_parse(L[prev].pub.activation, &act, &alpha, NULL) == NNINIT_OK &&
                nninit_theory_moments_at(act, alpha, q_prev, &mo, NULL) == NNINIT_OK) {
                m2 = mo.m2;
                d2 = mo.d2;
            } else { /* the variance argument with the activation taken as linear */
                theory = 0;
                act = NNINIT_THEORY_LINEAR;
                m2 = q_prev;
            }
        }
        double sw2 = r->pub.sw2, sb2 = r->pub.sb2;
        double q = sw2 * m2 + sb2;
        double fwd = q / q_prev, bwd = sw2 * (double)r->pub.fan_out / (double)r->pub.fan_in * d2;
        nninit_theory_net net = {act, alpha, sw2, sb2};
        nninit_theory_point pt;
        double chi1 = NAN;
        nninit_theory_phase phase = NNINIT_PHASE_UNBOUNDED;
        if (cont && theory && nninit_theory_analyze(&net, 1.0, &pt, NULL) == NNINIT_OK) {
            chi1 = pt.chi1;
            phase = pt.phase;
        }
        /* the depth factor: chi_1 of the block; its forward gain in the unbounded phase; the
         * backward gain where the theory does not know the activation; 1 for the first layer,
         * which scales the input once */
        double g = !cont ? 1.0 : !theory ? bwd : phase == NNINIT_PHASE_UNBOUNDED || !isfinite(chi1) ? fwd : chi1;
        product[cur] *= g;
        length[cur] += cont; /* blocks */
        chain[i] = cur;
        if (split) {
            r->g = g;
            r->pub.chain = cur;
            r->pub.theory = theory;
            r->pub.q = q;
            r->pub.fwd_gain = fwd;
            r->pub.bwd_gain = bwd;
            r->pub.fwd_total = (cont ? L[prev].pub.fwd_total : 1.0) * fwd;
            r->pub.bwd_total = (cont ? L[prev].pub.bwd_total : 1.0) * bwd;
            r->pub.chi1 = chi1;
            r->pub.phase = phase;
            r->first = !cont;
        }
        q_prev = q;
        prev = i;
    }
}

/* ---- findings ---- */

typedef struct fbuf {
    nninit_advice_finding *f;
    int n, cap;
    int oom;
} fbuf;

static nninit_advice_finding *add_finding(fbuf *b, nninit_advice_kind kind, int layer, const char *tensor,
                                          int softened)
{
    if (b->n == b->cap) {
        int cap = b->cap ? 2 * b->cap : 16;
        nninit_advice_finding *f = realloc(b->f, (size_t)cap * sizeof *f);
        if (!f) {
            b->oom = 1;
            return NULL;
        }
        b->f = f;
        b->cap = cap;
    }
    nninit_advice_finding *f = &b->f[b->n++];
    memset(f, 0, sizeof *f);
    f->kind = kind;
    f->layer = layer;
    f->tensor = tensor;
    f->softened = softened;
    return f;
}

static const char *phase_word(const lrec *r)
{
    return r->pub.phase == NNINIT_PHASE_UNBOUNDED ? "unbounded" : nninit_theory_phase_name(r->pub.phase);
}

static void chain_findings(const nninit_model *m, lrec *L, int n, fbuf *fb)
{
    int *real = calloc((size_t)n + 1, sizeof *real), *hypo = calloc((size_t)n + 1, sizeof *hypo);
    int *len_r = calloc((size_t)n + 1, sizeof *len_r), *len_h = calloc((size_t)n + 1, sizeof *len_h);
    double *prod_r = calloc((size_t)n + 1, sizeof *prod_r), *prod_h = calloc((size_t)n + 1, sizeof *prod_h);
    int *flagged = calloc((size_t)n + 1, sizeof *flagged);
    if (!real || !hypo || !len_r || !len_h || !prod_r || !prod_h || !flagged) {
        fb->oom = 1;
        goto done;
    }
    run_chains(L, n, 0, hypo, prod_h, len_h);
    run_chains(L, n, 1, real, prod_r, len_r);
#define BAD(p, l) ((l) >= 2 && ((p) < 1.0 / CHAIN_FACTOR || (p) > CHAIN_FACTOR))
    for (int i = 0; i < n; i++) {
        lrec *r = &L[i];
        if (real[i] < 0 || hypo[i] < 0)
            continue;
        int in_real = BAD(prod_r[real[i]], len_r[real[i]]);
        int in_hypo = BAD(prod_h[hypo[i]], len_h[hypo[i]]);
        if (!in_real && !in_hypo)
            continue;
        int sel = r->pub.activation && !strncmp(r->pub.activation, "selu", 4);
        double ratio = r->pub.sw2 / r->sw2_rec;
        int off = r->unscaled || !(fabs(ratio - 1.0) <= SW2_TOL);
        if (sel || !off)
            continue;
        flagged[in_real ? real[i] : n] = 1;
        double p = in_real ? prod_r[real[i]] : prod_h[hypo[i]];
        int len = in_real ? len_r[real[i]] : len_h[hypo[i]];
        nninit_advice_finding *f = add_finding(fb, r->unscaled ? NNINIT_ADVICE_UNSCALED : NNINIT_ADVICE_ACT_MISMATCH,
                                               i, r->pub.kernel, !in_real);
        if (!f)
            goto done;
        char what[300], step[200];
        if (r->unscaled)
            snprintf(what, sizeof what, "%s does not scale with the fan-in: sigma_w^2 = %.3g here (fan_in %lld), "
                     "where %s needs %.3g (%s)", r->pub.kernel_init, r->pub.sw2, (long long)r->pub.fan_in,
                     r->pub.activation ? r->pub.activation : "a linear layer", r->sw2_rec, r->rec);
        else
            snprintf(what, sizeof what, "%s gives sigma_w^2 = %.3g where %s needs %.3g (%s)", r->pub.kernel_init,
                     r->pub.sw2, r->pub.activation ? r->pub.activation : "a linear layer", r->sw2_rec, r->rec);
        if (r->first || !in_real)
            snprintf(step, sizeof step, "it scales the input of its chain");
        else if (r->pub.phase == NNINIT_PHASE_UNBOUNDED || !isfinite(r->pub.chi1))
            snprintf(step, sizeof step, "its block multiplies the variance by %.3g (no fixed point)", r->g);
        else
            snprintf(step, sizeof step, "its block has chi_1 = %.3g (%s phase)", r->g, phase_word(r));
        if (in_real)
            snprintf(f->reason, sizeof f->reason, "%.300s; %.100s, and the %d blocks of the chain multiply the "
                     "gradient's variance by %.3g in all (%s)", what, step, len, p, p < 1 ? "vanishing" : "exploding");
        else
            snprintf(f->reason, sizeof f->reason, "%.300s; without the normalization layers, the %d blocks of the "
                     "chain would multiply the gradient's variance by %.3g (%s); a normalization follows and rescales "
                     "the signal to unit variance, so it does not compound: softened", what, len, p,
                     p < 1 ? "vanishing" : "exploding");
        snprintf(f->fix, sizeof f->fix, "%s", r->rec);
        snprintf(f->advice, sizeof f->advice, "initialize %s with %s", r->pub.kernel, r->rec);
    }
    /* chains that vanish or explode with every kernel as recommended: the activation limits the depth */
    for (int c = 0; c < n; c++) {
        if (!BAD(prod_r[c], len_r[c]) || flagged[c] || len_r[c] == 0)
            continue;
        int first = -1;
        for (int i = 0; i < n && first < 0; i++)
            if (real[i] == c)
                first = i;
        if (first < 0 || L[first].pub.chain != c)
            continue;
        nninit_advice_finding *f = add_finding(fb, NNINIT_ADVICE_DEPTH, first, NULL, 0);
        if (!f)
            goto done;
        snprintf(f->reason, sizeof f->reason, "the %d blocks from %s on %s the gradient's variance by %.3g "
                 "although every kernel follows the recommendation for its activation (%s): no initializer "
                 "keeps this activation's gradient over this depth", len_r[c], L[first].pub.name,
                 prod_r[c] < 1 ? "shrink" : "grow", prod_r[c], L[first].pub.activation ? L[first].pub.activation : "?");
        snprintf(f->advice, sizeof f->advice, "use a shallower stack, tanh or relu instead of %s, or a normalization "
                 "layer after each layer", L[first].pub.activation ? L[first].pub.activation : "this activation");
    }
#undef BAD
    (void)m;
done:
    free(real);
    free(hypo);
    free(len_r);
    free(len_h);
    free(prod_r);
    free(prod_h);
    free(flagged);
}

static void layer_findings(const nninit_model *m, lrec *L, int n, fbuf *fb)
{
    int torch = !strcmp(nninit_model_source(m), "torch");
    /* transformer blocks: attention output projections */
    int blocks = 0;
    size_t nt = nninit_model_count(m);
    for (size_t i = 0; i < nt; i++) {
        nninit_model_layer_info li;
        if (nninit_model_layer_info_at(m, i, &li, NULL) == NNINIT_OK && li.role == NNINIT_ROLE_OUT_PROJ)
            blocks++;
    }
    double target = GPT2_STD / sqrt(2.0 * (blocks > 0 ? blocks : 1));
    for (int i = 0; i < n && !fb->oom; i++) {
        lrec *r = &L[i];
        const char *act = r->pub.activation;
        /* constant kernels */
        if (r->kernel_i >= 0 && r->constant) {
            nninit_advice_finding *f = add_finding(fb, NNINIT_ADVICE_CONSTANT_KERNEL, i, r->pub.kernel, 0);
            if (!f)
                return;
            snprintf(f->reason, sizeof f->reason, "%s is the constant %.6g (%s): every unit of %s computes the same "
                     "function and receives the same gradient, so the units never differ (symmetry is never "
                     "broken)%s%s", r->pub.kernel, r->kconst, r->pub.kernel_init, r->pub.name,
                     r->kconst == 0 ? "; with zeros only the bias reaches the next layer" : "",
                     r->pub.norm_after ? "; the normalization that follows does not break the symmetry" : "");
            snprintf(f->fix, sizeof f->fix, "%s", r->rec);
            snprintf(f->advice, sizeof f->advice, "initialize %s with %s", r->pub.kernel, r->rec);
        }
        /* SELU needs N(0, 1/fan_in) (Klambauer et al. 2017) */
        if (r->kernel_i >= 0 && !r->constant && act && !strcmp(act, "selu") &&
            (!(fabs(r->pub.sw2 - 1.0) <= SW2_TOL) || !r->normal)) {
            nninit_advice_finding *f = add_finding(fb, NNINIT_ADVICE_SELU, i, r->pub.kernel, 0);
            if (!f)
                return;
            snprintf(f->reason, sizeof f->reason, "selu keeps mean 0 and variance 1 only with weights drawn "
                     "N(0, 1/fan_in) (self-normalizing networks); %s gives sigma_w^2 = %.3g%s", r->pub.kernel_init,
                     r->pub.sw2, r->normal ? "" : " from a non-normal distribution");
            snprintf(f->fix, sizeof f->fix, "%s", r->rec);
            snprintf(f->advice, sizeof f->advice, "initialize %s with %s", r->pub.kernel, r->rec);
        }
        nninit_model_tensor buf;
        for (size_t k = 0; k < nt && !fb->oom; k++) {
            nninit_model_layer_info li;
            if (nninit_model_layer_info_at(m, k, &li, NULL) || strcmp(li.layer[0] || li.cls[0] ? li.layer :
                                                                      nninit_model_tensor_at(m, k, &buf)->name,
                                                                      r->pub.name))
                continue;
            const nninit_model_tensor *t = nninit_model_tensor_at(m, k, &buf);
            nninit_init_kind kk = t->init.kind;
            char ts[96];
            short_spec(&t->init, t->spec, ts, sizeof ts);
            /* recurrent kernels: orthogonal (Saxe et al. 2014) or identity (Le et al. 2015) */
            if (li.role == NNINIT_ROLE_RECURRENT_KERNEL && kk != NNINIT_ORTHOGONAL && kk != NNINIT_TORCH_ORTHOGONAL &&
                kk != NNINIT_IDENTITY && kk != NNINIT_TORCH_EYE && kk != NNINIT_IDENTITY_RECURRENT) {
                nninit_advice_finding *f = add_finding(fb, NNINIT_ADVICE_RECURRENT, i, t->name, 0);
                if (!f)
                    return;
                snprintf(f->reason, sizeof f->reason, "%s (%s) multiplies the state at every time step: its singular "
                         "values compound over the sequence, so the state and the gradient through time vanish or "
                         "explode along the directions far from 1; an orthogonal matrix keeps every singular value 1",
                         t->name, ts);
                snprintf(f->fix, sizeof f->fix, "%s", torch ? "orthogonal_" : "orthogonal");
                snprintf(f->advice, sizeof f->advice, "initialize %s with %s", t->name, f->fix);
            }
            /* the LSTM forget gate (Jozefowicz et al. 2015): bias 1 */
            if (li.gates == 4 && li.role == NNINIT_ROLE_BIAS && li.forget_ones == 0) {
                double mu = 0, mu2 = 0;
                bias_sb2(m, (int)k, &mu);
                if (r->bias2_i >= 0)
                    bias_sb2(m, r->bias2_i, &mu2);
                if (fabs(mu + mu2) < 0.5) {
                    nninit_advice_finding *f = add_finding(fb, NNINIT_ADVICE_FORGET_BIAS, i, t->name, 0);
                    if (!f)
                        return;
                    snprintf(f->reason, sizeof f->reason, "the forget gate of %s starts at sigmoid(%.2g) = %.2f: "
                             "the cell keeps about half of its state per step, so what it stored %lld steps ago "
                             "reaches it scaled by ~%.0e; a forget bias of 1 keeps 73%% per step", r->pub.name,
                             mu + mu2, 1.0 / (1.0 + exp(-(mu + mu2))), 20LL,
                             pow(1.0 / (1.0 + exp(-(mu + mu2))), 20));
                    if (torch)
                        snprintf(f->advice, sizeof f->advice, "after construction set the forget block to 1: "
                                 "%s.data[%lld:%lld].fill_(1.0) (and zero the same block of bias_hh)", t->name,
                                 (long long)li.units, (long long)(2 * li.units));
                    else
                        snprintf(f->advice, sizeof f->advice, "set unit_forget_bias=True on %s (Keras' default)",
                                 r->pub.name);
                }
            }
            /* embeddings at N(0, 1) feeding attention */
            if (li.role == NNINIT_ROLE_EMBEDDINGS) {
                int attention_after = 0;
                for (size_t j = k + 1; j < nt && !attention_after; j++) {
                    nninit_model_layer_info lj;
                    attention_after = nninit_model_layer_info_at(m, j, &lj, NULL) == NNINIT_OK &&
                                      lj.role == NNINIT_ROLE_IN_PROJ;
                }
                nninit_prim p;
                if (attention_after && resolve_tensor(t, &p, NULL) == NNINIT_OK && p.expected_std >= EMBEDDING_STD) {
                    int64_t d = t->shape.dim[t->shape.ndim - 1];
                    nninit_advice_finding *f = add_finding(fb, NNINIT_ADVICE_EMBEDDING_SCALE, i, t->name,
                                                           li.norm_after);
                    if (!f)
                        return;
                    snprintf(f->reason, sizeof f->reason, "%s (%s) draws std %.3g: token vectors of norm ~%.3g "
                             "(sqrt(d) at d = %lld) enter the attention layers, %.0fx the N(0, 0.02) of GPT-2 and "
                             "BERT, and dominate the residual stream that the attention branches add to%s", t->name,
                             ts, p.expected_std, p.expected_std * sqrt((double)d), (long long)d,
                             p.expected_std / GPT2_STD,
                             li.norm_after ? "; a normalization follows the embedding: softened" : "");
                    snprintf(f->fix, sizeof f->fix, "%s", torch ? "normal_(std=0.02)" : "RandomNormal(stddev=0.02)");
                    snprintf(f->advice, sizeof f->advice, "initialize %s with %s (or scale the embedding by "
                             "1/sqrt(d) in the forward)", t->name, f->fix);
                }
            }
            /* residual output projections of a deep transformer (GPT-2: / sqrt(2 N)) */
            int residual = torch ? li.residual_out : li.role == NNINIT_ROLE_OUT_PROJ;
            nninit_prim p;
            if (residual && blocks >= DEEP_BLOCKS && kk != NNINIT_SCALED_RESIDUAL &&
                resolve_tensor(t, &p, NULL) == NNINIT_OK && p.expected_std > 2 * target) {
                nninit_advice_finding *f = add_finding(fb, NNINIT_ADVICE_RESIDUAL_SCALE, i, t->name,
                                                       li.norm_after);
                if (!f)
                    return;
                snprintf(f->reason, sizeof f->reason, "%s (%s, std %.3g) ends one of the %d residual branches of "
                         "%d blocks: unscaled, each adds its variance to the residual stream, which grows with "
                         "depth; GPT-2 draws these N(0, 0.02/sqrt(2 N)) = std %.3g%s", t->name, ts,
                         p.expected_std, 2 * blocks, blocks, target,
                         li.norm_after ? "; a LayerNorm follows the residual sum (post-norm), which rescales it: "
                         "softened" : "");
                if (torch) {
                    snprintf(f->fix, sizeof f->fix, "normal_(std=%.4g)", target);
                    snprintf(f->advice, sizeof f->advice, "initialize %s with %s", t->name, f->fix);
                } else {
                    snprintf(f->advice, sizeof f->advice, "%s: Keras' MultiHeadAttention has one kernel_initializer "
                             "for its four projections; redraw attention_output's kernel N(0, %.3g) after building",
                             t->name, target);
                }
            }
        }
    }
}

nninit_status nninit_advise(const nninit_model *m, nninit_advice **out, nninit_err *err)
{
    if (!m || !out)
        return nninit__err(err, NNINIT_EMISUSE, "nninit_advise: model and out must not be NULL");
    *out = NULL;
    lrec *L = NULL;
    int n = 0;
    nninit_status s = collect_layers(m, &L, &n, err);
    if (s)
        return s;
    describe_kernels(m, L, n);
    fbuf fb = {0};
    chain_findings(m, L, n, &fb);
    if (!fb.oom)
        layer_findings(m, L, n, &fb);
    nninit_advice *a = calloc(1, sizeof *a);
    nninit_advice_layer *layers = nninit__calloc_array(n ? (size_t)n : 1, sizeof *layers);
    if (fb.oom || !a || !layers) {
        free(a);
        free(layers);
        free(fb.f);
        free(L);
        return nninit__err(err, NNINIT_ENOMEM, "out of memory");
    }
    for (int i = 0; i < n; i++)
        layers[i] = L[i].pub;
    a->n_layers = n;
    a->layers = layers;
    a->findings = fb.f;
    a->n_findings = fb.n;
    for (int i = 0; i < fb.n; i++)
        a->n_counted += !fb.f[i].softened;
    free(L);
    *out = a;
    return NNINIT_OK;
}

void nninit_advice_free(nninit_advice *a)
{
    if (!a)
        return;
    free(a->layers);
    free(a->findings);
    free(a);
}
