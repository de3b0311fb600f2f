/*
 * nninit_analysis.h: mean-field theory, SVG plots and the signal probe
 * (the analysis layer, built on the engine).
 *
 * Example, a whole program (tests/cli/header_examples.sh extracts, compiles
 * and runs it, and compares its output with the lines after "Prints:"):
 *
 *     #include <stdio.h>
 *     #include "nninit_analysis.h"
 *
 *     int main(void)
 *     {
 *         // mean-field theory: where does a deep tanh net with sigma_b^2 = 0.05
 *         // sit at He's sigma_w^2 = 2, and where is its edge of chaos?
 *         nninit_theory_net net = {NNINIT_THEORY_TANH, 0.0, 2.0, 0.05};
 *         nninit_theory_point p;
 *         double sw2_critical = 0;
 *         nninit_err err = {0};
 *         if (nninit_theory_analyze(&net, 1.0, &p, &err) != NNINIT_OK ||
 *             nninit_theory_critical(NNINIT_THEORY_TANH, 0.0, 0.05, 1.0, &sw2_critical, &err) != NNINIT_OK) {
 *             fprintf(stderr, "%s\n", err.msg);
 *             return 1;
 *         }
 *         printf("tanh at sw2 2: %s (chi_1 %.3f); critical sw2 %.3f\n", nninit_theory_phase_name(p.phase), p.chi1,
 *                sw2_critical);
 *         return 0;
 *     }
 *
 * Prints:
 *
 *     tanh at sw2 2: chaotic (chi_1 1.048); critical sw2 1.761
 */
#ifndef NNINIT_ANALYSIS_H
#define NNINIT_ANALYSIS_H

#include "nninit.h"
#include "nninit_io.h"
#include "nninit_model.h"
#include "nninit_nn.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Theory: mean-field signal propagation (Poole et al. 2016, Schoenholz et   */
/* al. 2017) and SVG line plots                                              */
/* ------------------------------------------------------------------------ */

/*
 * An infinitely wide dense net h_l = a_{l-1} W_l + b_l, a_l = phi(h_l), with
 * sigma_w^2 = fan_in Var(W_ij) and sigma_b^2 = E[b_i^2]. Expectations over
 * z ~ N(0, 1) use closed forms for linear, relu, leaky_relu and erf, and
 * otherwise a composite Gauss-Legendre rule on z in [-12, 12] split at the
 * activation's kink (48 panels x 16 points per side in 1-D, 16 x 10 per side
 * and dimension in 2-D, the inner one split where phi(u2) has its kink),
 * panels graded towards the split. Measured: 1-D moments agree with closed
 * forms (erf) to 1e-13 relative for q in [1e-2, 1e4] and with SciPy's
 * adaptive quadrature to 1e-11; 2-D ones with a 4x finer rule to 1e-13 for
 * q <= 10 and with SciPy to 1e-9 (tests/test_theory.c). All functions are
 * pure and reentrant.
 */
/* Not the engine's nninit_act: see there why the theory has its own enum
 * (erf here, softmax there). */
typedef enum nninit_theory_act {
    NNINIT_THEORY_LINEAR = 0,
    NNINIT_THEORY_RELU,
    NNINIT_THEORY_LEAKY_RELU, /* alpha = negative slope */
    NNINIT_THEORY_ELU,        /* alpha */
    NNINIT_THEORY_SELU,
    NNINIT_THEORY_GELU,       /* exact: x Phi(x) */
    NNINIT_THEORY_SWISH,      /* x sigmoid(x) */
    NNINIT_THEORY_TANH,
    NNINIT_THEORY_SIGMOID,
    NNINIT_THEORY_ERF,
    NNINIT_THEORY_ACT_COUNT
} nninit_theory_act;

NNINIT_API const char *nninit_theory_act_name(nninit_theory_act act); /* "tanh", ... */
/* Accepts the names above, "silu", and "leaky_relu(0.1)" / "elu(0.5)";
 * *alpha gets the parameter or its default (0.2 leaky_relu, 1 elu, else 0).
 * The same parser and rules as nninit_act_parse (any finite parameter),
 * with the theory's names. */
NNINIT_API nninit_status nninit_theory_act_parse(const char *text, nninit_theory_act *act, double *alpha,
                                                 nninit_err *err);
/* The engine's activation as a theory activation; NNINIT_EUNSUPPORTED for softmax. */
NNINIT_API nninit_status nninit_theory_act_from_act(nninit_act act, nninit_theory_act *out, nninit_err *err);

/* Gaussian moments of phi at pre-activation variance q: h = sqrt(q) z. */
typedef struct nninit_theory_moments {
    double mean;   /* E[phi(h)] */
    double m2;     /* E[phi(h)^2]: the length map is V(q) = sw2 m2 + sb2 */
    double d2;     /* E[phi'(h)^2]: chi = sw2 d2 */
    double dv;     /* E[phi'(h)^2 + phi(h) phi''(h)] = dm2/dq: V'(q) = sw2 dv */
    double d4;     /* E[phi'(h)^4]: with d2, the spread of the Jacobian's spectrum */
} nninit_theory_moments;

NNINIT_API nninit_status nninit_theory_moments_at(nninit_theory_act act, double alpha, double q,
                                                  nninit_theory_moments *out, nninit_err *err);

/* Two pre-activations with variances q11, q22 and correlation c in [-1, 1]:
 * *e_pp = E[phi(u1) phi(u2)], *e_dd = E[phi'(u1) phi'(u2)] (either may be NULL). */
NNINIT_API nninit_status nninit_theory_corr(nninit_theory_act act, double alpha, double q11, double q22, double c,
                                            double *e_pp, double *e_dd, nninit_err *err);

typedef struct nninit_theory_net {
    nninit_theory_act act;
    double alpha;  /* leaky_relu slope, elu alpha */
    double sw2;    /* sigma_w^2 >= 0 */
    double sb2;    /* sigma_b^2 >= 0 */
} nninit_theory_net;

typedef enum nninit_theory_phase {
    NNINIT_PHASE_ORDERED = 0, /* chi_1 < 1: inputs collapse together, gradients vanish */
    NNINIT_PHASE_CRITICAL,    /* |chi_1 - 1| <= 1e-6: the edge of chaos */
    NNINIT_PHASE_CHAOTIC,     /* chi_1 > 1: nearby inputs decorrelate, gradients explode */
    NNINIT_PHASE_UNBOUNDED    /* no finite q*: the length grows without bound from q0 */
} nninit_theory_phase;

NNINIT_API const char *nninit_theory_phase_name(nninit_theory_phase p); /* "ordered", ... */

typedef struct nninit_theory_point {
    double q_star;   /* fixed point of the length map reached from q0 (+inf: none) */
    double chi1;     /* sw2 E[phi'(sqrt(q*) z)^2]: slope of the correlation map at c = 1 */
    double dv_dq;    /* V'(q*): slope of the length map at q* */
    double c_star;   /* attracting fixed point of the correlation map (1 unless chaotic) */
    double chi_c;    /* sw2 E[phi'(u1) phi'(u2)] at (q*, c*): slope of the correlation map at c* */
    double xi_q;     /* -1/ln V'(q*)  (+inf when V'(q*) >= 1) */
    double xi_c;     /* -1/ln chi_c   (+inf when chi_c >= 1) */
    nninit_theory_phase phase;
} nninit_theory_point;

/*
 * Fixed points, chi_1 and depth scales of `net` for inputs of second moment
 * q0 > 0 (||x||^2 / n_in). q* is the limit of the length-map iteration from
 * q0 (the nearest fixed point in the direction V(q0) - q0 points, found by
 * bracketing and Brent's method to 1e-14 relative); with sb2 = 0 it may be 0
 * (tanh at sw2 <= 1). c* = 1 unless chaotic, then the root of C(c) = c in
 * [0, 1). NaN for quantities undefined in the unbounded phase.
 * NNINIT_EINVAL for a bad act or negative/non-finite parameter.
 */
NNINIT_API nninit_status nninit_theory_analyze(const nninit_theory_net *net, double q0, nninit_theory_point *out,
                                               nninit_err *err);

/* One layer of the mean-field recursion through `depth` equal-width layers. */
typedef struct nninit_theory_layer {
    double q;         /* E[h_l^2]: pre-activation variance (h has mean 0) */
    double c;         /* correlation of two inputs' pre-activations */
    double act_mean;  /* E[a_l] */
    double act_var;   /* Var(a_l) over units and inputs = m2 - mean^2 */
    double chi;       /* sw2 E[phi'(h_l)^2]: backward gain of layer l */
    double grad_out;  /* E[(dL/da_l)^2] relative to the output's (1 at the last layer) */
    double grad_in;   /* E[(dL/da_{l-1})^2] = chi * grad_out */
} nninit_theory_layer;

/* out[0 .. depth): layer 1 gets q^1 = sw2 q0 + sb2 and c^1 = (sw2 c0 q0 +
 * sb2) / q^1 (the input is not passed through phi); then q^l = V(q^{l-1}),
 * c^l = (sw2 E[phi phi] + sb2) / q^l. c0 in [-1, 1]. A q that overflows
 * stops the recursion with NNINIT_ENUMERIC. */
NNINIT_API nninit_status nninit_theory_layers(const nninit_theory_net *net, double q0, double c0, int depth,
                                              nninit_theory_layer *out, nninit_err *err);

/* The sw2 on the order-to-chaos line (chi_1 = 1) at sb2 for inputs of second
 * moment q0: closed form for linear (1), relu (2) and leaky_relu
 * (2 / (1 + alpha^2)); otherwise Brent's method on chi_1(sw2) - 1 over
 * [1e-3, 1e4] to 1e-12 relative. NNINIT_ENOTFOUND if chi_1 never reaches 1
 * there. */
NNINIT_API nninit_status nninit_theory_critical(nninit_theory_act act, double alpha, double sb2, double q0,
                                                double *sw2, nninit_err *err);

/*
 * What an initializer means for the theory in a dense layer of (fan_in,
 * fan_out) under Keras layout: *sw2 = fan_in * expected_std^2 of the
 * resolved primitive, *mean = the weights' mean (mean-field theory assumes
 * 0; a constant or shifted init breaks its assumptions). For a bias init
 * pass fan_in = 0 and fan_out = the width: *sw2 then gets E[b^2] =
 * std^2 + mean^2 (the sigma_b^2 the theory uses).
 */
NNINIT_API nninit_status nninit_theory_from_init(const nninit_init *init, int64_t fan_in, int64_t fan_out,
                                                 double *sw2, double *mean, nninit_err *err);

/* ---- SVG line plots (dependency-free; one or more panels side by side) ---- */

typedef struct nninit_plot_series {
    const char *label;  /* legend text (may be NULL) */
    const double *x, *y;
    int64_t n;
    int dashed;         /* 1: dashed line (e.g. a prediction next to a measurement) */
    int color;          /* palette index; -1: the series' position */
} nninit_plot_series;

typedef struct nninit_plot {
    const char *title, *xlabel, *ylabel;
    int log_x, log_y;   /* log10 axes (points <= 0 are skipped) */
    const nninit_plot_series *series;
    int n_series;
    int x_integer;      /* 1: x ticks on whole numbers only (epochs, layers, steps) */
} nninit_plot;

/* The SVG document (NUL-terminated, free with nninit_free): panels side by
 * side, each with its title, axis labels and a legend below the axes (never
 * over the data). Points are marked when a series has few of them, so a
 * single point (one epoch) is visible. Non-finite points break a line. The
 * root has class "nninit-plot", each panel class "panel", each drawn series
 * class "series" (for checks in a browser). NNINIT_EINVAL for no panel,
 * NNINIT_ENOMEM. */
NNINIT_API nninit_status nninit_svg_render(const nninit_plot *plots, int n_plots, char **svg, nninit_err *err);
/* The same written atomically to path. NNINIT_EIO. */
NNINIT_API nninit_status nninit_svg_write(const char *path, const nninit_plot *plots, int n_plots,
                                          nninit_err *err);


/* ------------------------------------------------------------------------ */
/* Probe: measured signal propagation through a deep dense net               */
/* ------------------------------------------------------------------------ */

/*
 * A stack of `depth` dense layers of `width` units, h_l = a_{l-1} W_l + b_l,
 * [optional batch norm of h_l without affine parameters], a_l = act(h_l)
 * [+ a_{l-1} with residual, where the widths agree], pushed with one batch
 * and back-propagated. W_l and b_l are filled exactly as nninit_net_new
 * would fill them (Philox seed, streams "dense_<l-1>/kernel" and
 * "dense_<l-1>/bias", Keras layout). Statistics are over every (row, unit)
 * entry of the batch, accumulated in double. The output gradient dL/da_L is
 * standard normal (Philox stream "probe/grad") unless labels are given:
 * then a linear head of n_classes units (same initializer) and softmax
 * cross-entropy (mean over rows) supply it.
 */
typedef struct nninit_probe_opts {
    int depth;                 /* >= 1 */
    int64_t width;             /* >= 1 */
    int64_t n_inputs;          /* 0: width */
    int64_t batch;             /* default 256 */
    nninit_act act;            /* default tanh */
    double alpha;
    const char *kernel_init;   /* SPEC, default "glorot_uniform" */
    const char *bias_init;     /* SPEC, default "zeros" */
    int bn, residual;
    uint64_t seed;             /* default NNINIT_DEFAULT_SEED */
    const float *x;            /* borrowed (batch, n_inputs); NULL: standard normal (stream "probe/input") */
    double input_scale;        /* the input is multiplied by this (default 1): E[x^2] = scale^2 for normal rows */
    const int32_t *labels;     /* borrowed (batch) in [0, n_classes); NULL: random output gradient */
    int32_t n_classes;
    int train_steps;           /* SGD steps before recounting distinct units (0: none) */
    double lr;                 /* default 0.01 */
    int jacobian_samples;      /* rows whose input-output Jacobian is decomposed (0: none) */
    /* A model instead of depth x width (borrowed, e.g. from
     * nninit_net_desc_parse_json): its dense layers, each with the batch norm
     * (gamma_init ones, beta_init zeros only) and activation layers that
     * follow it folded in; dropout is the identity. depth, width, act,
     * alpha, kernel_init, bias_init and bn are then ignored; n_inputs 0
     * means the first layer's units. */
    const nninit_layer_desc *layers;
    int n_layers;
} nninit_probe_opts;

NNINIT_API nninit_probe_opts nninit_probe_opts_default(void);

typedef struct nninit_probe_layer {
    int64_t units;                /* n_out */
    nninit_act act;
    double sw2, sb2;              /* nninit_theory_from_init of its initializers (NaN if not defined) */
    double pre_mean, pre_var;     /* the activation's input (after batch norm if any) */
    double act_mean, act_var;     /* a_l */
    double frac_dead;             /* relu: a == 0; NaN for other activations */
    double frac_saturated;        /* tanh: |a| > 0.99; sigmoid: a < 0.01 or > 0.99; else NaN */
    double grad_in_var;           /* Var(dL/da_{l-1}) */
    double grad_out_var;          /* Var(dL/da_l) */
    double grad_w_var;            /* Var(dL/dW_l) */
    double fwd_gain;              /* pre_var / previous pre_var (layer 1: / Var(x)) */
    double bwd_gain;              /* grad_in_var / grad_out_var */
    /* distinct units: columns of W_l with b_l that agree with no other within
     * 1e-5 of the layer's largest |value| (BLAS may round identical columns
     * differently); after: -1 without training */
    int64_t distinct_before, distinct_after;
    /* mean-field predictions (NaN from the first batch-norm layer on; residual
     * layers use E[a_l^2] = E[a_{l-1}^2] + E[phi^2] + 2 E[a_{l-1}] E[phi]
     * and a gradient factor 1 + chi) */
    double pred_pre_var, pred_act_var, pred_grad_in_var;
} nninit_probe_layer;

typedef enum nninit_probe_verdict {
    NNINIT_VERDICT_VANISHING = 0, /* the variance falls by more than 10x over the depth */
    NNINIT_VERDICT_STABLE,        /* within a factor 10 over the depth */
    NNINIT_VERDICT_EXPLODING      /* rises by more than 10x over the depth */
} nninit_probe_verdict;

NNINIT_API const char *nninit_probe_verdict_name(nninit_probe_verdict v); /* "vanishing", ... */

typedef struct nninit_probe_result {
    int depth;
    nninit_probe_layer *layers;       /* depth entries */
    double input_var, input_m2;       /* Var(x), E[x^2] */
    double fwd_gain_geo, bwd_gain_geo; /* geometric means per layer over layers 2..L */
    nninit_probe_verdict fwd_verdict, bwd_verdict;
    double sw2, sb2;                  /* of the last layer (nninit_theory_from_init) */
    double loss;                      /* cross-entropy with labels, else NaN */
    /* Jacobian of a_L with respect to x, for jacobian_samples rows: every
     * singular value of every sample (n_sv = samples * min(n_inputs, width)) */
    double *sv;
    int64_t n_sv;
    double sv_mean_sq, sv_max, sv_min;
    double sv_var_sq;                 /* variance of the squared singular values (0 = isometry) */
    double pred_sv_mean_sq;           /* prod_l sw2_l (n_out / n_in) E[act'(h_l)^2] from the predicted q^l */
    /* free probability (Pennington et al. 2017): normalised variances add
     * over the free factors W_l^T W_l and D_l^2, so Var(sv^2) = mean_sq^2
     * sum_l (E[act'^4] / E[act'^2]^2 - 1 + w_l), w_l = 1 for square iid
     * weights, 0 for orthogonal; NaN for other weights */
    double pred_sv_var_sq;
} nninit_probe_result;

/*
 * Runs the probe. *out: free with nninit_probe_result_free. Forward and
 * backward use float32 sgemm (OpenBLAS), statistics double. The Jacobian is
 * exact: forward-mode products J^T = I W_1 D_1 W_2 D_2 ... (D_l = diag
 * act'(h_l) of the sample, plus I per residual layer) in float32, then the
 * singular values by LAPACK dgesdd in double. NNINIT_EINVAL (bad options,
 * initializer, labels), NNINIT_EUNSUPPORTED (softmax, Jacobian with bn),
 * NNINIT_ENOMEM, NNINIT_ENUMERIC (non-finite values: the net overflowed).
 */
NNINIT_API nninit_status nninit_probe_run(const nninit_probe_opts *opts, nninit_probe_result **out,
                                          nninit_err *err);
NNINIT_API void nninit_probe_result_free(nninit_probe_result *r);

/* ------------------------------------------------------------------------ */
/* Which initializer fits a stored tensor (what nninit inspect reports)      */
/* ------------------------------------------------------------------------ */

/* Distribution shapes told apart by excess kurtosis: uniform -1.2, normal
 * truncated at +-2 sigma (Keras' truncated normal) -0.64, normal 0; ANY
 * below 100 finite values. */
typedef enum nninit_fit_dist {
    NNINIT_FIT_UNIFORM = 0,
    NNINIT_FIT_TRUNCATED_NORMAL,
    NNINIT_FIT_NORMAL,
    NNINIT_FIT_ANY
} nninit_fit_dist;

NNINIT_API const char *nninit_fit_dist_name(nninit_fit_dist s); /* "uniform", "truncated normal", ... */

typedef enum nninit_fit_kind {
    NNINIT_FIT_NONE = 0,   /* nothing within the window */
    NNINIT_FIT_CANDIDATE,  /* candidates[best] */
    NNINIT_FIT_ORTHOGONAL, /* orthogonal(gain=orthogonal_gain): the structure decides, not the std */
    NNINIT_FIT_TORCH_BIAS, /* PyTorch's Linear/ConvNd bias U(+-1/sqrt(fan_in of "<prefix>weight")) */
    NNINIT_FIT_CONSTANT    /* every finite element equals mean */
} nninit_fit_kind;

#define NNINIT_FIT_MAX_CANDIDATES 16

typedef struct nninit_fit_candidate {
    const char *label;        /* "glorot_uniform / xavier_uniform_" (static) */
    const char *spec;         /* "glorot_uniform", a spec nninit_init_parse accepts (static) */
    nninit_fit_dist shape;  /* its distribution shape */
    double std;               /* the std it gives for the tensor's shape; NaN: undefined (no fans) */
} nninit_fit_candidate;

typedef struct nninit_fit {
    int numeric;               /* 0: a dtype without values (no statistics, no verdict) */
    int64_t n, n_nonfinite;    /* finite values counted; NaN and inf skipped */
    double mean, std, min, max, excess_kurtosis; /* population std, in double */
    nninit_fit_dist shape;
    int constant;              /* numeric, n > 0 and std == 0 */
    int has_fans;
    int64_t fan_in, fan_out;   /* under the layout given */
    int n_candidates;
    nninit_fit_candidate candidates[NNINIT_FIT_MAX_CANDIDATES];
    int best;                  /* the candidate of a matching shape whose std is closest (log ratio)
                                  and within tol; -1 none */
    double tol;                /* relative window: max(10%, 3 standard errors of the sample std) */
    double orthogonality_error;/* max |W^T W / gain^2 - I| of the flattened matrix (smaller side's
                                  Gram matrix); 1 when not measured (1-D or too large) */
    double orthogonal_gain;
    int orthogonal;            /* orthogonality_error < 1e-3 */
    double torch_bias_std;     /* NaN unless a torch-layout 1-D "...bias" with a "...weight" sibling */
    int torch_bias_match;
    nninit_fit_kind closest;   /* the verdict: orthogonal, then torch bias, constant, candidate */
} nninit_fit;

/*
 * Reads tensor i of tf and measures which common initializer (Keras and
 * PyTorch, as laid out by `layout`) fits it: the statistics, the std each
 * candidate gives for the shape, and the verdict. Reads the whole tensor
 * (converted to double in chunks); the orthogonality test only for
 * min(rows, cols) <= 512 and rows*cols*min <= 2^28. NNINIT_ENOMEM, or the
 * read's error (NNINIT_EIO, NNINIT_EFORMAT).
 */
NNINIT_API nninit_status nninit_fit_tensor(nninit_tensor_file *tf, size_t i, nninit_layout layout, nninit_fit *out,
                                           nninit_err *err);

/*
 * The layout a file's tensors are stored in, for their fans: the file's
 * "nninit.layout" metadata; else what the names say, by majority: PyTorch
 * state_dict names ("fc1.weight", "0.bias", "rnn.weight_ih_l0",
 * "bn.running_var", "attn.in_proj_weight") against Keras variable paths
 * ("dense/kernel", "conv/bias", "layers/dense/vars/0"); else torch for
 * safetensors (PyTorch checkpoints) and keras otherwise. why_buf (may be
 * NULL) gets a short phrase saying why ("PyTorch names such as 'fc1.weight'";
 * 128 bytes hold any).
 */
NNINIT_API nninit_layout nninit_fit_layout(const nninit_tensor_file *tf, char *why_buf, size_t why_cap);

/* ------------------------------------------------------------------------ */
/* Advice: an initialization linter for a whole model (nninit advise)        */
/* ------------------------------------------------------------------------ */

/*
 * Reads a model's layers in order (nninit_model_layer_info_at) and predicts
 * how the signal propagates at initialization. Feed-forward layers (Dense,
 * Conv*, Linear, Conv*d) form chains, broken by other layers (recurrent,
 * attention, embedding), by an activation that is not known, and by a
 * normalization (which rescales what follows to unit variance). Branches and
 * residual additions of a graph are not modelled: layers are taken in order.
 *
 * Per layer: sigma_w^2 = fan_in Var(W) of the kernel initializer as it
 * resolves for the kernel's shape and layout (nninit_resolve), sigma_b^2 =
 * E[b^2]. Along a chain from inputs of second moment 1: q_l = sigma_w^2
 * E[phi_{l-1}(h_{l-1})^2] + sigma_b^2 (phi_0 = identity on the input), the
 * forward gain q_l / q_{l-1}, and the backward gain sigma_w^2 (fan_out /
 * fan_in) E[phi_{l-1}'(h_{l-1})^2] of the gradient through layer l, with the
 * Gaussian moments of the theory (nninit_theory_moments_at) where it knows
 * the activation; otherwise the variance argument with the activation taken
 * as linear (said in the layer's `theory` = 0). The depth verdict uses chi_1
 * of each block, a layer's weights after the previous layer's activation
 * (layers 2..L of a chain), as an infinite stack of it (nninit_theory_analyze
 * at q0 = 1): a chain of at least two blocks vanishes when the product of
 * their chi_1 falls below 1/10 and explodes above 10 (a block in the
 * unbounded phase counts with its forward gain, one without theory with its
 * backward gain). At the critical point
 * (chi_1 = 1) the product stays 1 whatever the depth, although q decays
 * like a power of depth there (tanh with sigma_b^2 = 0): that is the edge of
 * chaos, not a finding.
 */
typedef enum nninit_advice_kind {
    NNINIT_ADVICE_CONSTANT_KERNEL = 0, /* constant kernel (zeros, ones, constant): units never differ */
    NNINIT_ADVICE_UNSCALED,            /* fan-independent random kernel in a vanishing/exploding chain */
    NNINIT_ADVICE_ACT_MISMATCH,        /* fan-scaled kernel off its activation's recommendation in a
                                          vanishing/exploding chain (Glorot with ReLU, He with tanh) */
    NNINIT_ADVICE_SELU,                /* SELU without lecun_normal (sigma_w^2 = 1, normal) */
    NNINIT_ADVICE_RECURRENT,           /* recurrent kernel neither orthogonal nor identity */
    NNINIT_ADVICE_FORGET_BIAS,         /* LSTM forget-gate bias 0 (no unit_forget_bias) */
    NNINIT_ADVICE_EMBEDDING_SCALE,     /* embeddings drawn N(0, 1)-like (std >= 0.5) feeding attention */
    NNINIT_ADVICE_RESIDUAL_SCALE,      /* unscaled residual output projections in a deep (>= 4 blocks)
                                          pre-norm transformer */
    NNINIT_ADVICE_DEPTH,               /* a chain vanishes or explodes although every kernel follows the
                                          recommendation: the activation itself limits the depth */
    NNINIT_ADVICE_KIND_COUNT
} nninit_advice_kind;

NNINIT_API const char *nninit_advice_kind_name(nninit_advice_kind k); /* "constant-kernel", ... */

typedef struct nninit_advice_finding {
    nninit_advice_kind kind;
    int layer;              /* index into nninit_advice.layers; -1: the model */
    const char *tensor;     /* the tensor the fix changes (the model's name; NULL: none) */
    int softened;           /* 1: a normalization follows, which removes the effect: a note, not a finding */
    char reason[640];       /* why, with the numbers */
    char fix[160];          /* the recommended initializer SPEC for `tensor` ("he_normal",
                               "kaiming_normal_(nonlinearity='relu')"); "" when no initializer fixes it */
    char advice[400];       /* the fix in words (also when fix is "") */
} nninit_advice_finding;

typedef struct nninit_advice_layer {
    const char *name, *cls;       /* nninit_model_layer_info's layer and cls */
    const char *kernel;           /* the kernel's tensor name; NULL for a layer without one */
    const char *kernel_spec, *bias_spec; /* initializers as written (NULL: none) */
    char kernel_init[96], bias_init[96]; /* the same in short: "random_normal(stddev=0.05)" ("" none) */
    const char *activation;       /* NULL: not known */
    int64_t fan_in, fan_out;      /* of the kernel under the model's layout */
    double sw2, sb2;              /* sigma_w^2 = fan_in Var(W), sigma_b^2 = E[b^2] (NaN: undefined) */
    int chain;                    /* chain index; -1: not in a chain */
    int theory;                   /* 1: the previous activation's moments are the theory's; 0: taken linear */
    double q;                     /* predicted E[h^2] of the pre-activation */
    double fwd_gain, bwd_gain;    /* per layer, as above */
    double fwd_total, bwd_total;  /* compounded from the chain's start through this layer */
    double chi1;                  /* chi_1 of the layer's block (NaN in the unbounded phase, and for a
                                     chain's first layer, which scales the input once and is no block) */
    nninit_theory_phase phase;
    int norm_after;
} nninit_advice_layer;

typedef struct nninit_advice {
    int n_layers;
    nninit_advice_layer *layers;      /* every layer with tensors, in model order */
    int n_findings;                   /* softened ones included */
    nninit_advice_finding *findings;
    int n_counted;                    /* findings with softened = 0 (what nninit advise's exit status counts) */
} nninit_advice;

/* Analyses `m`. *out: free with nninit_advice_free. NNINIT_EMISUSE, NNINIT_ENOMEM. */
NNINIT_API nninit_status nninit_advise(const nninit_model *m, nninit_advice **out, nninit_err *err);
NNINIT_API void nninit_advice_free(nninit_advice *a);

/* The recommended kernel initializer SPEC for an activation ("relu" -> "he_normal" for Keras, torch layout
 * -> "kaiming_normal_(nonlinearity='relu')"; tanh, sigmoid, linear -> glorot_uniform / xavier_uniform_; selu
 * -> lecun_normal / kaiming_normal_(nonlinearity='linear'); gelu, swish, elu -> the theory's critical
 * VarianceScaling scale at sigma_b^2 = sb2; tanh with sb2 > 0 likewise, fan_avg uniform, as Glorot). NULL or
 * an activation the theory does not know: glorot_uniform / xavier_uniform_. */
NNINIT_API nninit_status nninit_advice_recommend(const char *activation, nninit_layout layout, double sb2, char *spec,
                                                 size_t cap, nninit_err *err);

/*
 * The model with the findings' fixes applied, in the form it came in:
 *   keras: the Keras model JSON `source_text` with each fixed layer's
 *     *_initializer (and unit_forget_bias) set, everything else kept;
 *   torch: {"torch": RECIPE, "overrides": {tensor: SPEC, ...}}, which
 *     nninit_model_from_spec and nninit model --spec read (a recipe has no
 *     syntax for initializers);
 *   spec: the spec JSON `source_text` with "overrides" extended.
 * Softened findings are fixed too. *json: free with nninit_free.
 */
NNINIT_API nninit_status nninit_advice_fix(const nninit_model *m, const char *source_text, const nninit_advice *a,
                                           char **json, nninit_err *err);

#ifdef __cplusplus
}
#endif
#endif /* NNINIT_ANALYSIS_H */
