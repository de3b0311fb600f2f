/* Quadrature for Gaussian expectations E[f(Z)], Z ~ N(0,1): Gauss-Legendre
 * nodes (Newton on the Legendre recurrence), Gauss-Hermite nodes (Golub-Welsch
 * through LAPACK dstev), and a composite Gauss-Legendre rule graded towards
 * a breakpoint, which is what the mean-field theory uses (see theory.c). */
#include "analysis/theory_internal.h"

#include <lapacke.h>
#include <math.h>
#include <stdlib.h>

#define PI 3.14159265358979323846
#define INV_SQRT_2PI 0.39894228040143267794

/*
 * Nodes x[0..n) (ascending) and weights of the n-point Gauss-Legendre rule
 * on [-1, 1]. Each root of P_n is polished by Newton's method from the
 * Tricomi initial guess cos(pi (i + 3/4) / (n + 1/2)); P_n and P_n' come from
 * the three-term recurrence (k+1) P_{k+1} = (2k+1) x P_k - k P_{k-1}. The
 * weights are 2 / ((1 - x^2) P_n'(x)^2). For n <= 64 the nodes agree with
 * the published 16-digit tables to the last bit or two (tests check sum of
 * weights = 2 and exact integration of x^(2n-2)).
 */
void nninit__gauss_legendre(int n, double *x, double *w)
{
    for (int i = 0; i < (n + 1) / 2; i++) {
        double z = cos(PI * (i + 0.75) / (n + 0.5));
        double dp = 1.0;
        for (int it = 0; it < 100; it++) {
            double p0 = 1.0, p1 = z;
            for (int k = 1; k < n; k++) {
                double p2 = ((2.0 * k + 1.0) * z * p1 - k * p0) / (k + 1.0);
                p0 = p1;
                p1 = p2;
            }
            /* p1 = P_n(z), p0 = P_{n-1}(z); P_n' = n (z P_n - P_{n-1}) / (z^2 - 1) */
            dp = n * (z * p1 - p0) / (z * z - 1.0);
            double dz = p1 / dp;
            z -= dz;
            if (fabs(dz) <= 1e-16 * fabs(z) + 1e-300)
                break;
        }
        if (n == 1)
            dp = 1.0; /* P_1 = x: P_1' = 1 at the root 0 */
        double wi = 2.0 / ((1.0 - z * z) * dp * dp);
        x[i] = -z;
        x[n - 1 - i] = z;
        w[i] = w[n - 1 - i] = wi;
    }
    if (n % 2)
        x[n / 2] = 0.0;
}

/*
 * Nodes and weights of the n-point Gauss-Hermite rule for the weight
 * exp(-x^2) (physicists'): the eigenvalues of the symmetric tridiagonal
 * Jacobi matrix with zero diagonal and off-diagonal sqrt(k/2), k = 1..n-1,
 * and weights sqrt(pi) v0^2 with v0 the first component of each normalized
 * eigenvector (Golub & Welsch 1969). LAPACK's dstev (QL/QR implicit) gives
 * nodes to about 1e-15 relative; the smallest weights underflow to 0 beyond
 * n of about 700, which is harmless. NNINIT_ENUMERIC if dstev fails.
 */
nninit_status nninit__gauss_hermite(int n, double *x, double *w, nninit_err *err)
{
    if (n < 1 || n > 2000)
        return nninit__err(err, NNINIT_EINVAL, "gauss-hermite: %d nodes; use 1 to 2000", n);
    double *e = nninit__malloc_array((size_t)n, sizeof *e);
    double *z = nninit__malloc_array((size_t)n * (size_t)n, sizeof *z);
    if (!e || !z) {
        free(e);
        free(z);
        return nninit__err(err, NNINIT_ENOMEM, "gauss-hermite: out of memory for %d nodes", n);
    }
    for (int k = 0; k < n; k++) {
        x[k] = 0.0;
        e[k] = sqrt((k + 1) / 2.0);
    }
    lapack_int info = LAPACKE_dstev(LAPACK_COL_MAJOR, 'V', n, x, e, z, n);
    if (info == 0)
        for (int k = 0; k < n; k++) /* column k of z is eigenvector k */
            w[k] = sqrt(PI) * z[(size_t)k * (size_t)n] * z[(size_t)k * (size_t)n];
    free(e);
    free(z);
    if (info != 0)
        return nninit__err(err, NNINIT_ENUMERIC, "gauss-hermite: LAPACK dstev failed (info %d) for %d nodes",
                           (int)info, n);
    return NNINIT_OK;
}

void nninit__gauss_rule_init(nninit__gauss_rule *r, int order, int panels, double half_width)
{
    if (order < 1)
        order = 1;
    if (order > NNINIT__GAUSS_MAX_ORDER)
        order = NNINIT__GAUSS_MAX_ORDER;
    r->order = order;
    r->panels = panels < 1 ? 1 : panels;
    r->half_width = half_width;
    nninit__gauss_legendre(order, r->x, r->w);
}

/* Adds the panels of one side [b, b + len] (len may be negative: the side
 * left of b), edges at b + len (k / P)^2 so panels are finest at b. */
static double side(const nninit__gauss_rule *r, double b, double len, double (*f)(double, void *), void *ctx)
{
    double sum = 0.0;
    int p = r->panels;
    for (int k = 0; k < p; k++) {
        double t0 = b + len * ((double)k / p) * ((double)k / p);
        double t1 = b + len * ((double)(k + 1) / p) * ((double)(k + 1) / p);
        double mid = 0.5 * (t0 + t1), half = 0.5 * (t1 - t0);
        double part = 0.0;
        for (int i = 0; i < r->order; i++) {
            double z = mid + half * r->x[i];
            part += r->w[i] * f(z, ctx) * exp(-0.5 * z * z);
        }
        sum += part * half;
    }
    return len < 0 ? -sum : sum;
}

/*
 * E[f(Z)] for Z ~ N(0,1): composite Gauss-Legendre on [-L, L] (L =
 * half_width; the mass beyond 12 is 4e-33), split at the breakpoint b
 * (clamped into [-L, L]) where f may have a kink or a fast transition, with
 * panels graded quadratically towards b on both sides.
 */
double nninit__gauss_expect(const nninit__gauss_rule *r, double b, double (*f)(double, void *), void *ctx)
{
    double big = r->half_width;
    if (!(b > -big)) /* also NaN */
        b = -big;
    if (b > big)
        b = big;
    double s = 0.0;
    if (b < big)
        s += side(r, b, big - b, f, ctx);
    if (b > -big)
        s += side(r, b, -big - b, f, ctx);
    return s * INV_SQRT_2PI;
}

/* Writes the nodes z and weights w (density included) of
 * nninit__gauss_expect's rule at breakpoint b: sum w f(z) = E[f(Z)].
 * z and w hold 2 * panels * order; returns the count written. */
int nninit__gauss_nodes(const nninit__gauss_rule *r, double b, double *z, double *w)
{
    double big = r->half_width;
    if (!(b > -big))
        b = -big;
    if (b > big)
        b = big;
    int n = 0, p = r->panels;
    for (int sgn = -1; sgn <= 1; sgn += 2) {
        double len = sgn > 0 ? big - b : -big - b;
        if (len == 0)
            continue;
        for (int k = 0; k < p; k++) {
            double t0 = b + len * ((double)k / p) * ((double)k / p);
            double t1 = b + len * ((double)(k + 1) / p) * ((double)(k + 1) / p);
            double mid = 0.5 * (t0 + t1), half = 0.5 * fabs(t1 - t0);
            for (int i = 0; i < r->order; i++) {
                double x = mid + half * r->x[i];
                z[n] = x;
                w[n] = r->w[i] * half * INV_SQRT_2PI * exp(-0.5 * x * x);
                n++;
            }
        }
    }
    return n;
}
