/*
 * Private declarations of the mean-field theory and the probe (quadrature.c,
 * theory.c, probe*.c). Never installed; tests include it to check the
 * quadrature rules directly.
 */
#ifndef NNINIT_THEORY_INTERNAL_H
#define NNINIT_THEORY_INTERNAL_H

#include "nn/internal.h"
#include "nninit_analysis.h"

/* ---- quadrature (quadrature.c) ---- */

/* n-point Gauss-Legendre rule on [-1, 1], nodes ascending. */
void nninit__gauss_legendre(int n, double *x, double *w);

/* n-point Gauss-Hermite rule for the weight exp(-x^2) (Golub-Welsch, LAPACK
 * dstev). x, w have n elements. NNINIT_EINVAL (n outside 1..2000),
 * NNINIT_ENOMEM, NNINIT_ENUMERIC. */
nninit_status nninit__gauss_hermite(int n, double *x, double *w, nninit_err *err);

#define NNINIT__GAUSS_MAX_ORDER 32

/* A composite Gauss-Legendre rule for E[f(Z)], Z ~ N(0,1), on [-half_width,
 * half_width], `panels` panels each side of a breakpoint, graded towards it. */
typedef struct nninit__gauss_rule {
    int order, panels;
    double half_width;
    double x[NNINIT__GAUSS_MAX_ORDER], w[NNINIT__GAUSS_MAX_ORDER];
} nninit__gauss_rule;

void nninit__gauss_rule_init(nninit__gauss_rule *r, int order, int panels, double half_width);
/* E[f(Z)] with the rule split at b (f may have a kink there). */
double nninit__gauss_expect(const nninit__gauss_rule *r, double b, double (*f)(double, void *), void *ctx);
/* The same rule as explicit nodes z and weights w (N(0,1) density
 * included), 2 * panels * order of each; returns the count. */
int nninit__gauss_nodes(const nninit__gauss_rule *r, double b, double *z, double *w);

/* ---- activations in double (theory.c) ---- */

/* phi(x), phi'(x), phi''(x) (any output pointer may be NULL). At the kink
 * x = 0 the left derivative is used (relu'(0) = 0, as Keras and torch); the
 * quadrature never samples the breakpoint itself. phi'' is the regular part
 * (no Dirac mass at a kink). */
void nninit__theory_act_eval(nninit_theory_act act, double alpha, double x, double *f, double *d1, double *d2);

#endif /* NNINIT_THEORY_INTERNAL_H */
