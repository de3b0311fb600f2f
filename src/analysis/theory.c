/* Mean-field signal propagation: Gaussian moments of activations, the length
 * and correlation maps, their fixed points, chi_1, depth scales and the
 * order-to-chaos line (Poole et al. 2016; Schoenholz et al. 2017; formulas in
 * docs/signal.md). */
#include "analysis/theory_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PI 3.14159265358979323846
#define INV_SQRT_PI 0.56418958354775628695   /* 1/sqrt(pi) */
#define INV_SQRT_2PI 0.39894228040143267794  /* 1/sqrt(2 pi) */
#define SQRT1_2 0.70710678118654752440
/* SELU constants (Klambauer et al. 2017; keras.activations.selu). */
#define SELU_ALPHA 1.6732632423543772848170429916717
#define SELU_SCALE 1.0507009873554804934193349852946

/* Phase boundary tolerance on chi_1. */
#define CRIT_TOL 1e-6
/* Rules: 1-D moments and the outer/inner 2-D integrals (see nninit.h for the
 * measured accuracy). */
#define RULE1_ORDER 16
#define RULE1_PANELS 48
#define RULE2_ORDER 10
#define RULE2_PANELS 16
#define HALF_WIDTH 12.0

static const char *const act_names[NNINIT_THEORY_ACT_COUNT] = {
    "linear", "relu", "leaky_relu", "elu", "selu", "gelu", "swish", "tanh", "sigmoid", "erf",
};

const char *nninit_theory_act_name(nninit_theory_act act)
{
    return (unsigned)act < NNINIT_THEORY_ACT_COUNT ? act_names[act] : "unknown";
}

static const char *const phase_names[] = {"ordered", "critical", "chaotic", "unbounded"};

const char *nninit_theory_phase_name(nninit_theory_phase p)
{
    return (unsigned)p <= NNINIT_PHASE_UNBOUNDED ? phase_names[p] : "unknown";
}

/* The engine's parser with the theory's names (erf, no softmax): one set of
 * rules for both (src/nn/act.c). */
nninit_status nninit_theory_act_parse(const char *text, nninit_theory_act *act, double *alpha, nninit_err *err)
{
    if (!text || !act)
        return nninit__err(err, NNINIT_EMISUSE, "nninit_theory_act_parse: NULL argument");
    int i = 0;
    nninit_status s = nninit__act_parse_table(text, act_names, NNINIT_THEORY_ACT_COUNT, &i, alpha, err);
    if (s == NNINIT_OK)
        *act = (nninit_theory_act)i;
    return s;
}

nninit_status nninit_theory_act_from_act(nninit_act act, nninit_theory_act *out, nninit_err *err)
{
    static const int map[] = {
        [NNINIT_ACT_LINEAR] = NNINIT_THEORY_LINEAR, [NNINIT_ACT_RELU] = NNINIT_THEORY_RELU,
        [NNINIT_ACT_LEAKY_RELU] = NNINIT_THEORY_LEAKY_RELU, [NNINIT_ACT_ELU] = NNINIT_THEORY_ELU,
        [NNINIT_ACT_SELU] = NNINIT_THEORY_SELU, [NNINIT_ACT_GELU] = NNINIT_THEORY_GELU,
        [NNINIT_ACT_SWISH] = NNINIT_THEORY_SWISH, [NNINIT_ACT_TANH] = NNINIT_THEORY_TANH,
        [NNINIT_ACT_SIGMOID] = NNINIT_THEORY_SIGMOID, [NNINIT_ACT_SOFTMAX] = -1, [NNINIT_ACT_GELU_TANH] = -1,
    };
    if ((unsigned)act >= sizeof map / sizeof map[0] || map[act] < 0)
        return nninit__err(err, NNINIT_EUNSUPPORTED, "activation '%s': mean-field theory has no form for it; it "
                           "takes the elementwise %s", nninit_act_name(act),
                           act == NNINIT_ACT_GELU_TANH ? "activations, gelu (exact) among them" : "activations; softmax "
                           "is not one");
    *out = (nninit_theory_act)map[act];
    return NNINIT_OK;
}

static double sigmoid(double x)
{
    if (x >= 0)
        return 1.0 / (1.0 + exp(-x));
    double e = exp(x);
    return e / (1.0 + e);
}

void nninit__theory_act_eval(nninit_theory_act act, double alpha, double x, double *f, double *d1, double *d2)
{
    double v = 0, g = 0, h = 0;
    switch (act) {
    case NNINIT_THEORY_LINEAR:
        v = x, g = 1, h = 0;
        break;
    case NNINIT_THEORY_RELU:
        alpha = 0;
        /* fall through */
    case NNINIT_THEORY_LEAKY_RELU:
        v = x > 0 ? x : alpha * x, g = x > 0 ? 1 : alpha, h = 0;
        break;
    case NNINIT_THEORY_ELU:
        if (x > 0)
            v = x, g = 1, h = 0;
        else
            v = alpha * expm1(x), g = h = alpha * exp(x);
        break;
    case NNINIT_THEORY_SELU:
        if (x > 0)
            v = SELU_SCALE * x, g = SELU_SCALE, h = 0;
        else
            v = SELU_SCALE * SELU_ALPHA * expm1(x), g = h = SELU_SCALE * SELU_ALPHA * exp(x);
        break;
    case NNINIT_THEORY_GELU: { /* x Phi(x); ' = Phi + x pdf; '' = pdf (2 - x^2) */
        double cdf = 0.5 * erfc(-x * SQRT1_2), pdf = INV_SQRT_2PI * exp(-0.5 * x * x);
        v = x * cdf, g = cdf + x * pdf, h = pdf * (2.0 - x * x);
        break;
    }
    case NNINIT_THEORY_SWISH: { /* x s; ' = s + x s (1-s); '' = s (1-s) (2 + x (1 - 2s)) */
        double s = sigmoid(x);
        v = x * s, g = s + x * s * (1 - s), h = s * (1 - s) * (2 + x * (1 - 2 * s));
        break;
    }
    case NNINIT_THEORY_TANH: {
        double t = tanh(x);
        v = t, g = 1 - t * t, h = -2 * t * (1 - t * t);
        break;
    }
    case NNINIT_THEORY_SIGMOID: {
        double s = sigmoid(x);
        v = s, g = s * (1 - s), h = s * (1 - s) * (1 - 2 * s);
        break;
    }
    case NNINIT_THEORY_ERF: { /* erf' = 2/sqrt(pi) exp(-x^2) */
        double e = 2.0 * INV_SQRT_PI * exp(-x * x);
        v = erf(x), g = e, h = -2 * x * e;
        break;
    }
    default:
        v = g = h = (double)NAN;
    }
    if (f)
        *f = v;
    if (d1)
        *d1 = g;
    if (d2)
        *d2 = h;
}

static int has_closed_form(nninit_theory_act act)
{
    return act == NNINIT_THEORY_LINEAR || act == NNINIT_THEORY_RELU || act == NNINIT_THEORY_LEAKY_RELU ||
           act == NNINIT_THEORY_ERF;
}

static nninit_status check_act(nninit_theory_act act, double alpha, nninit_err *err)
{
    if ((unsigned)act >= NNINIT_THEORY_ACT_COUNT)
        return nninit__err(err, NNINIT_EINVAL, "theory: activation %d is not a nninit_theory_act", (int)act);
    if (!isfinite(alpha))
        return nninit__err(err, NNINIT_EINVAL, "theory: activation parameter %g is not finite", alpha);
    return NNINIT_OK;
}

/* ---- 1-D moments ---- */

static void moments(nninit_theory_act act, double alpha, double q, nninit_theory_moments *out)
{
    if (act == NNINIT_THEORY_RELU)
        alpha = 0, act = NNINIT_THEORY_LEAKY_RELU;
    switch (act) {
    case NNINIT_THEORY_LINEAR:
        out->mean = 0, out->m2 = q, out->d2 = 1, out->dv = 1, out->d4 = 1;
        return;
    case NNINIT_THEORY_LEAKY_RELU: {
        /* phi = alpha x + (1 - alpha) relu(x): E[relu] = sqrt(q / 2 pi),
         * E[phi^2] = q (1 + alpha^2) / 2, phi'^2 is 1 or alpha^2 with
         * probability 1/2 each, phi'' = 0 off the kink. */
        double k = (1 + alpha * alpha) / 2;
        out->mean = (1 - alpha) * sqrt(q) * INV_SQRT_2PI, out->m2 = q * k, out->d2 = k, out->dv = k;
        out->d4 = (1 + alpha * alpha * alpha * alpha) / 2;
        return;
    }
    case NNINIT_THEORY_ERF: {
        /* E[erf(u1) erf(u2)] = (2/pi) asin(2 q12 / sqrt((1 + 2 q11)(1 + 2 q22)))
         * (Williams 1997); E[erf'^2] = (4/pi) E[exp(-2 q z^2)] = (4/pi) / sqrt(1 + 4q);
         * dm2/dq = (4/pi) / ((1 + 2q) sqrt(1 + 4q)). */
        out->mean = 0;
        out->m2 = (2 / PI) * asin(2 * q / (1 + 2 * q));
        out->d2 = (4 / PI) / sqrt(1 + 4 * q);
        out->dv = (4 / PI) / ((1 + 2 * q) * sqrt(1 + 4 * q));
        out->d4 = (16 / (PI * PI)) / sqrt(1 + 8 * q); /* (2/sqrt(pi))^4 E[exp(-4 q z^2)] */
        return;
    }
    default:
        break;
    }
    if (q == 0) {
        double f, g, h;
        nninit__theory_act_eval(act, alpha, 0.0, &f, &g, &h);
        out->mean = f, out->m2 = f * f, out->d2 = g * g, out->dv = g * g + f * h, out->d4 = g * g * g * g;
        return;
    }
    /* one pass over the nodes for all four moments */
    enum { N1 = 2 * RULE1_PANELS * RULE1_ORDER };
    nninit__gauss_rule r;
    nninit__gauss_rule_init(&r, RULE1_ORDER, RULE1_PANELS, HALF_WIDTH);
    double z[N1], w[N1], sd = sqrt(q), s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0;
    int n = nninit__gauss_nodes(&r, 0.0, z, w);
    for (int i = 0; i < n; i++) {
        double f, g, h;
        nninit__theory_act_eval(act, alpha, sd * z[i], &f, &g, &h);
        s0 += w[i] * f;
        s1 += w[i] * f * f;
        s2 += w[i] * g * g;
        s3 += w[i] * (g * g + f * h);
        s4 += w[i] * g * g * g * g;
    }
    out->mean = s0, out->m2 = s1, out->d2 = s2, out->dv = s3, out->d4 = s4;
}

nninit_status nninit_theory_moments_at(nninit_theory_act act, double alpha, double q, nninit_theory_moments *out,
                                       nninit_err *err)
{
    nninit_status s = check_act(act, alpha, err);
    if (s != NNINIT_OK)
        return s;
    if (!out)
        return nninit__err(err, NNINIT_EMISUSE, "nninit_theory_moments_at: NULL output");
    if (!(q >= 0) || !isfinite(q))
        return nninit__err(err, NNINIT_EINVAL, "theory: variance q = %g; must be finite and >= 0", q);
    moments(act, alpha, q, out);
    return NNINIT_OK;
}

/* ---- 2-D expectations ---- */

#define RULE2_N (2 * RULE2_PANELS * RULE2_ORDER)

/* E[phi(u1) phi(u2)] (want & 1) and E[phi'(u1) phi'(u2)] (want & 2) with
 * u1 = sd1 z1, u2 = sd2 (c z1 + s z2): an outer rule in z1 split at 0 and,
 * for each z1, an inner rule in z2 split where u2 has its kink (z2 =
 * -c z1 / s), both fused so phi is evaluated once per node. */
static void corr_quad(nninit_theory_act act, double alpha, double q11, double q22, double c, int want,
                      double *e_pp, double *e_dd)
{
    nninit__gauss_rule rule;
    nninit__gauss_rule_init(&rule, RULE2_ORDER, RULE2_PANELS, HALF_WIDTH);
    double z1[RULE2_N], w1[RULE2_N], z2[RULE2_N], w2[RULE2_N];
    int n1 = nninit__gauss_nodes(&rule, 0.0, z1, w1);
    double sd1 = sqrt(q11), sd2 = sqrt(q22), s = sqrt(fmax(0, 1 - c * c)), width = sd2 * s;
    double pp = 0, dd = 0;
    for (int i = 0; i < n1; i++) {
        double f1, g1;
        nninit__theory_act_eval(act, alpha, sd1 * z1[i], &f1, &g1, NULL);
        double shift = sd2 * c * z1[i], ip = 0, id = 0;
        if (width < 1e-300) {
            nninit__theory_act_eval(act, alpha, shift, &ip, &id, NULL);
        } else {
            int n2 = nninit__gauss_nodes(&rule, -shift / width, z2, w2);
            for (int j = 0; j < n2; j++) {
                double f2, g2;
                nninit__theory_act_eval(act, alpha, shift + width * z2[j], &f2, want & 2 ? &g2 : NULL, NULL);
                ip += w2[j] * f2;
                if (want & 2)
                    id += w2[j] * g2;
            }
        }
        pp += w1[i] * f1 * ip;
        dd += w1[i] * g1 * id;
    }
    *e_pp = pp;
    *e_dd = dd;
}

static void corr(nninit_theory_act act, double alpha, double q11, double q22, double c, double *e_pp,
                 double *e_dd)
{
    double pp = 0, dd = 0;
    if (act == NNINIT_THEORY_RELU)
        alpha = 0, act = NNINIT_THEORY_LEAKY_RELU;
    double r = sqrt(q11 * q22), q12 = c * r;
    switch (act) {
    case NNINIT_THEORY_LINEAR:
        pp = q12, dd = 1;
        break;
    case NNINIT_THEORY_LEAKY_RELU: {
        /* phi = alpha u + (1 - alpha) relu(u). E[u1 relu(u2)] = q12 / 2 by the
         * symmetry (u1, u2) -> (-u1, -u2); E[relu relu] is the degree-1
         * arc-cosine kernel r/(2 pi) (sqrt(1 - c^2) + (pi - acos c) c) (Cho &
         * Saul 2009); P(u1 > 0, u2 > 0) = (pi - acos c) / (2 pi). */
        double th = acos(c), b = 1 - alpha;
        double k = r / (2 * PI) * (sqrt(1 - c * c) + (PI - th) * c);
        pp = alpha * alpha * q12 + alpha * b * q12 + b * b * k;
        dd = alpha * alpha + alpha * b + b * b * (PI - th) / (2 * PI);
        break;
    }
    case NNINIT_THEORY_ERF: {
        /* E[exp(-u1^2 - u2^2)] = det(I + 2 Sigma)^(-1/2) */
        double d = (1 + 2 * q11) * (1 + 2 * q22);
        pp = (2 / PI) * asin(2 * q12 / sqrt(d));
        dd = (4 / PI) / sqrt(d - 4 * q12 * q12);
        break;
    }
    default:
        corr_quad(act, alpha, q11, q22, c, e_dd ? 3 : 1, &pp, &dd);
        break;
    }
    if (e_pp)
        *e_pp = pp;
    if (e_dd)
        *e_dd = dd;
}

nninit_status nninit_theory_corr(nninit_theory_act act, double alpha, double q11, double q22, double c,
                                 double *e_pp, double *e_dd, nninit_err *err)
{
    nninit_status s = check_act(act, alpha, err);
    if (s != NNINIT_OK)
        return s;
    if (!(q11 >= 0) || !(q22 >= 0) || !isfinite(q11) || !isfinite(q22))
        return nninit__err(err, NNINIT_EINVAL, "theory: variances %g, %g; must be finite and >= 0", q11, q22);
    if (!(c >= -1 && c <= 1))
        return nninit__err(err, NNINIT_EINVAL, "theory: correlation %g; must be in [-1, 1]", c);
    double pp = 0, dd = 0;
    corr(act, alpha, q11, q22, c, &pp, &dd);
    if (e_pp)
        *e_pp = pp;
    if (e_dd)
        *e_dd = dd;
    return NNINIT_OK;
}

/* ---- root finding ---- */

/* Brent's method (Brent 1973, "zero"): a root of f in [a, b] given f(a) and
 * f(b) of opposite signs (or one of them 0), to |x| tol_rel + 1e-300. */
static double brent(double (*f)(double, void *), void *ctx, double a, double b, double fa, double fb,
                    double tol_rel)
{
    if (fa == 0)
        return a;
    if (fb == 0)
        return b;
    double c = a, fc = fa, d = b - a, e = d;
    for (int it = 0; it < 300; it++) {
        if ((fb > 0) == (fc > 0)) {
            c = a, fc = fa;
            d = e = b - a;
        }
        if (fabs(fc) < fabs(fb)) {
            a = b, b = c, c = a;
            fa = fb, fb = fc, fc = fa;
        }
        double tol = 2 * 2.220446049250313e-16 * fabs(b) + 0.5 * tol_rel * fabs(b) + 1e-300;
        double m = 0.5 * (c - b);
        if (fabs(m) <= tol || fb == 0)
            return b;
        if (fabs(e) >= tol && fabs(fa) > fabs(fb)) {
            double p, q, r, s = fb / fa;
            if (a == c) {
                p = 2 * m * s;
                q = 1 - s;
            } else {
                q = fa / fc;
                r = fb / fc;
                p = s * (2 * m * q * (q - r) - (b - a) * (r - 1));
                q = (q - 1) * (r - 1) * (s - 1);
            }
            if (p > 0)
                q = -q;
            else
                p = -p;
            if (2 * p < fmin(3 * m * q - fabs(tol * q), fabs(e * q))) {
                e = d;
                d = p / q;
            } else {
                d = m, e = m;
            }
        } else {
            d = m, e = m;
        }
        a = b, fa = fb;
        b += fabs(d) > tol ? d : (m > 0 ? tol : -tol);
        fb = f(b, ctx);
    }
    return b;
}

/* ---- fixed points ---- */

static double length_map(const nninit_theory_net *net, double q)
{
    nninit_theory_moments m;
    moments(net->act, net->alpha, q, &m);
    return net->sw2 * m.m2 + net->sb2;
}

static double length_gap(double q, void *p) { return length_map(p, q) - q; }

/* The limit of q <- V(q) from q0 > 0. V is increasing in q for every
 * activation here, so the iteration moves monotonically towards the nearest
 * fixed point in the direction of V(q0) - q0: bracket it by doubling (or
 * halving) q, then Brent. +inf if V(q) > q up to 1e15 q0. */
static double fixed_point_q(const nninit_theory_net *net, double q0)
{
    double g0 = length_gap(q0, (void *)net);
    if (g0 == 0)
        return q0;
    if (g0 > 0) {
        double lo = q0, glo = g0, hi = 2 * q0, ghi;
        while ((ghi = length_gap(hi, (void *)net)) > 0) {
            lo = hi, glo = ghi;
            hi *= 2;
            if (hi > 1e15 * q0 || !isfinite(ghi))
                return HUGE_VAL;
        }
        return brent(length_gap, (void *)net, lo, hi, glo, ghi, 1e-14);
    }
    double hi = q0, ghi = g0, lo = q0 / 2, glo;
    while ((glo = length_gap(lo, (void *)net)) < 0) {
        hi = lo, ghi = glo;
        lo /= 2;
        if (lo < 1e-30 * q0) {
            double v0 = length_map(net, 0.0);
            if (v0 <= 0)
                return 0.0; /* q = 0 is the fixed point (odd phi, no bias) */
            lo = 0.0;
            glo = v0;
            break;
        }
    }
    return brent(length_gap, (void *)net, lo, hi, glo, ghi, 1e-14);
}

typedef struct cmap_ctx {
    const nninit_theory_net *net;
    double q;
} cmap_ctx;

static double corr_gap(double c, void *p)
{
    const cmap_ctx *k = p;
    double pp;
    corr(k->net->act, k->net->alpha, k->q, k->q, c, &pp, NULL);
    return (k->net->sw2 * pp + k->net->sb2) / k->q - c;
}

static nninit_status check_net(const nninit_theory_net *net, nninit_err *err)
{
    if (!net)
        return nninit__err(err, NNINIT_EMISUSE, "theory: NULL net");
    nninit_status s = check_act(net->act, net->alpha, err);
    if (s != NNINIT_OK)
        return s;
    if (!(net->sw2 >= 0) || !isfinite(net->sw2))
        return nninit__err(err, NNINIT_EINVAL, "theory: sigma_w^2 = %g; must be finite and >= 0", net->sw2);
    if (!(net->sb2 >= 0) || !isfinite(net->sb2))
        return nninit__err(err, NNINIT_EINVAL, "theory: sigma_b^2 = %g; must be finite and >= 0", net->sb2);
    return NNINIT_OK;
}

/* -1/ln(slope): infinite at slope 1 (taken as within 1e-12 of it, where the
 * slope itself is only known to rounding) and beyond. */
static double depth_scale(double slope)
{
    return slope >= 1 - 1e-12 ? HUGE_VAL : slope <= 0 ? 0.0 : -1.0 / log(slope);
}

nninit_status nninit_theory_analyze(const nninit_theory_net *net, double q0, nninit_theory_point *out,
                                    nninit_err *err)
{
    nninit_status s = check_net(net, err);
    if (s != NNINIT_OK)
        return s;
    if (!out)
        return nninit__err(err, NNINIT_EMISUSE, "nninit_theory_analyze: NULL output");
    if (!(q0 > 0) || !isfinite(q0))
        return nninit__err(err, NNINIT_EINVAL, "theory: input second moment q0 = %g; must be finite and > 0", q0);
    nninit_theory_point p;
    p.q_star = fixed_point_q(net, q0);
    if (!isfinite(p.q_star)) {
        /* No finite fixed point: chi_1 is still defined where E[phi'^2]
         * does not depend on q (linear, relu, leaky_relu). */
        p.chi1 = p.dv_dq = p.c_star = p.chi_c = p.xi_q = p.xi_c = (double)NAN;
        if (net->act == NNINIT_THEORY_LINEAR || net->act == NNINIT_THEORY_RELU ||
            net->act == NNINIT_THEORY_LEAKY_RELU) {
            nninit_theory_moments m;
            moments(net->act, net->alpha, 1.0, &m);
            p.chi1 = net->sw2 * m.d2;
        }
        p.phase = NNINIT_PHASE_UNBOUNDED;
        *out = p;
        return NNINIT_OK;
    }
    nninit_theory_moments m;
    moments(net->act, net->alpha, p.q_star, &m);
    p.chi1 = net->sw2 * m.d2;
    p.dv_dq = net->sw2 * m.dv;
    p.xi_q = depth_scale(p.dv_dq);
    if (p.chi1 <= 1 + CRIT_TOL || p.q_star == 0) {
        p.c_star = 1;
        p.chi_c = p.chi1;
    } else {
        cmap_ctx k = {net, p.q_star};
        double g0 = corr_gap(0.0, &k);
        if (g0 <= 1e-14) {
            p.c_star = 0;
        } else {
            /* C(c) - c < 0 just below 1 because the slope at 1 is chi_1 > 1;
             * move towards 1 until the quadrature resolves the sign. */
            double delta = 1e-3, gd = corr_gap(1 - delta, &k);
            while (gd >= 0 && delta > 1e-12) {
                delta /= 10;
                gd = corr_gap(1 - delta, &k);
            }
            p.c_star = gd >= 0 ? 1.0 : brent(corr_gap, &k, 0.0, 1 - delta, g0, gd, 1e-13);
        }
        double dd;
        if (p.c_star >= 1) {
            p.chi_c = p.chi1;
        } else {
            corr(net->act, net->alpha, p.q_star, p.q_star, p.c_star, &(double){0}, &dd);
            p.chi_c = net->sw2 * dd;
        }
    }
    p.xi_c = depth_scale(p.chi_c);
    p.phase = p.chi1 < 1 - CRIT_TOL   ? NNINIT_PHASE_ORDERED
              : p.chi1 > 1 + CRIT_TOL ? NNINIT_PHASE_CHAOTIC
                                       : NNINIT_PHASE_CRITICAL;
    *out = p;
    return NNINIT_OK;
}

nninit_status nninit_theory_layers(const nninit_theory_net *net, double q0, double c0, int depth,
                                   nninit_theory_layer *out, nninit_err *err)
{
    nninit_status s = check_net(net, err);
    if (s != NNINIT_OK)
        return s;
    if (!out && depth > 0)
        return nninit__err(err, NNINIT_EMISUSE, "nninit_theory_layers: NULL output");
    if (!(q0 >= 0) || !isfinite(q0))
        return nninit__err(err, NNINIT_EINVAL, "theory: input second moment q0 = %g; must be finite and >= 0", q0);
    if (!(c0 >= -1 && c0 <= 1))
        return nninit__err(err, NNINIT_EINVAL, "theory: input correlation c0 = %g; must be in [-1, 1]", c0);
    if (depth < 0)
        return nninit__err(err, NNINIT_EINVAL, "theory: depth %d; must be >= 0", depth);
    double q = net->sw2 * q0 + net->sb2, q12 = net->sw2 * c0 * q0 + net->sb2;
    for (int l = 0; l < depth; l++) {
        if (!isfinite(q) || q > 1e300)
            return nninit__err(err, NNINIT_ENUMERIC, "theory: the variance overflows at layer %d (sigma_w^2 %g, "
                               "sigma_b^2 %g); use fewer layers or a smaller sigma_w^2", l + 1, net->sw2, net->sb2);
        nninit_theory_layer *o = &out[l];
        nninit_theory_moments m;
        moments(net->act, net->alpha, q, &m);
        o->q = q;
        o->c = q > 0 ? fmax(-1.0, fmin(1.0, q12 / q)) : 1.0;
        o->act_mean = m.mean;
        o->act_var = fmax(0.0, m.m2 - m.mean * m.mean);
        o->chi = net->sw2 * m.d2;
        double pp = m.m2;
        if (o->c < 1) {
            corr(net->act, net->alpha, q, q, o->c, &pp, NULL);
        }
        q = net->sw2 * m.m2 + net->sb2;
        q12 = net->sw2 * pp + net->sb2;
    }
    double g = 1.0;
    for (int l = depth - 1; l >= 0; l--) {
        out[l].grad_out = g;
        g *= out[l].chi;
        out[l].grad_in = g;
    }
    return NNINIT_OK;
}

typedef struct crit_ctx {
    nninit_theory_net net;
    double q0;
} crit_ctx;

static double crit_gap(double sw2, void *p)
{
    crit_ctx *k = p;
    k->net.sw2 = sw2;
    double q = fixed_point_q(&k->net, k->q0);
    if (!isfinite(q))
        return 1.0; /* the length diverges: beyond the line */
    nninit_theory_moments m;
    moments(k->net.act, k->net.alpha, q, &m);
    return sw2 * m.d2 - 1;
}

nninit_status nninit_theory_critical(nninit_theory_act act, double alpha, double sb2, double q0, double *sw2,
                                     nninit_err *err)
{
    nninit_status s = check_act(act, alpha, err);
    if (s != NNINIT_OK)
        return s;
    if (!sw2)
        return nninit__err(err, NNINIT_EMISUSE, "nninit_theory_critical: NULL output");
    if (!(sb2 >= 0) || !isfinite(sb2))
        return nninit__err(err, NNINIT_EINVAL, "theory: sigma_b^2 = %g; must be finite and >= 0", sb2);
    if (!(q0 > 0) || !isfinite(q0))
        return nninit__err(err, NNINIT_EINVAL, "theory: input second moment q0 = %g; must be finite and > 0", q0);
    if (has_closed_form(act) && act != NNINIT_THEORY_ERF) {
        /* chi_1 = sw2 E[phi'^2] does not depend on q */
        double a = act == NNINIT_THEORY_LEAKY_RELU ? alpha : 0;
        *sw2 = act == NNINIT_THEORY_LINEAR ? 1.0 : 2.0 / (1 + a * a);
        return NNINIT_OK;
    }
    crit_ctx k = {{act, alpha, 0, sb2}, q0};
    double lo = 1e-3, glo = crit_gap(lo, &k), hi = 1.0, ghi = crit_gap(hi, &k);
    if (glo > 0)
        return nninit__err(err, NNINIT_ENOTFOUND, "theory: %s at sigma_b^2 = %g is chaotic already at sigma_w^2 = "
                           "%g; no order-to-chaos line above it", act_names[act], sb2, lo);
    while (ghi <= 0) {
        lo = hi, glo = ghi;
        hi *= 2;
        if (hi > 1e4)
            return nninit__err(err, NNINIT_ENOTFOUND, "theory: %s at sigma_b^2 = %g stays ordered up to sigma_w^2 = "
                               "1e4; no order-to-chaos line", act_names[act], sb2);
        ghi = crit_gap(hi, &k);
    }
    *sw2 = brent(crit_gap, &k, lo, hi, glo, ghi, 1e-12);
    return NNINIT_OK;
}

nninit_status nninit_theory_from_init(const nninit_init *init, int64_t fan_in, int64_t fan_out, double *sw2,
                                      double *mean, nninit_err *err)
{
    if (!init || !sw2)
        return nninit__err(err, NNINIT_EMISUSE, "nninit_theory_from_init: NULL argument");
    if (fan_in < 0 || fan_out < 1)
        return nninit__err(err, NNINIT_EINVAL, "theory: fans (%lld, %lld); fan_out must be >= 1, fan_in >= 0",
                           (long long)fan_in, (long long)fan_out);
    nninit_shape shape;
    memset(&shape, 0, sizeof shape);
    if (fan_in > 0) {
        shape.ndim = 2, shape.dim[0] = fan_in, shape.dim[1] = fan_out;
    } else {
        shape.ndim = 1, shape.dim[0] = fan_out;
    }
    nninit_prim p;
    nninit_status s = nninit_resolve(init, &shape, NNINIT_LAYOUT_KERAS, &p, err);
    if (s != NNINIT_OK)
        return s;
    double mu = 0;
    switch (p.kind) {
    case NNINIT_PRIM_CONSTANT: mu = p.value; break;
    case NNINIT_PRIM_UNIFORM: mu = 0.5 * (p.lo + p.hi); break;
    case NNINIT_PRIM_NORMAL: mu = p.mean; break;
    case NNINIT_PRIM_TRUNC_NORMAL: {
        /* mean of N(m, s) truncated to [a, b]: m + s (pdf(al) - pdf(be)) / (Phi(be) - Phi(al)) */
        double al = (p.a - p.mean) / p.std, be = (p.b - p.mean) / p.std;
        double z = 0.5 * (erfc(-be * SQRT1_2) - erfc(-al * SQRT1_2));
        mu = p.mean + (z > 0 ? p.std * INV_SQRT_2PI * (exp(-0.5 * al * al) - exp(-0.5 * be * be)) / z : 0);
        break;
    }
    case NNINIT_PRIM_EYE:
    case NNINIT_PRIM_DIRAC:
        /* a (partial) identity: mean gain / n; its "variance" is structural */
        mu = 0;
        break;
    default: mu = 0; break;
    }
    double sd = p.expected_std;
    if (p.kind == NNINIT_PRIM_EYE && fan_in > 0) /* entries are gain on min(r, c) of r c places */
        sd = fabs(p.gain) / sqrt((double)(fan_in > fan_out ? fan_in : fan_out));
    *sw2 = fan_in > 0 ? (double)fan_in * sd * sd : sd * sd + mu * mu;
    if (mean)
        *mean = mu;
    return NNINIT_OK;
}
