/* Finite-difference gradient checks: an analytic float32 gradient against a
 * central difference of an independent double-precision forward.
 *
 * Tolerance: the analytic gradients are computed in float32, so each carries
 * a relative error of a few float ulps times the depth of the computation
 * (~1e-6 .. 1e-5). The reference is a central difference in double with
 * h = 1e-5: truncation error ~h^2 |f'''| ~ 1e-10 and rounding ~1e-16 / h ~
 * 1e-11 for O(1) values. So |analytic - numeric| <= 1e-4 * scale + 1e-6, with
 * scale the largest |gradient| of the tensor, is 10x above the float noise
 * and 100x below a 1% error (a dropped factor 2 or a swapped term is ~100%). */
#ifndef NNINIT_TEST_GRADCHECK_H
#define NNINIT_TEST_GRADCHECK_H

#include "util.h"

#define GRAD_H 1e-5

/* Deterministic pseudo-random values in [-1, 1) for test inputs (an LCG: the
 * inputs need no statistical quality, only reproducibility). */
static inline double grad_urand(uint64_t *state)
{
    *state = *state * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(*state >> 11) * 0x1.0p-53 * 2.0 - 1.0;
}

static inline void grad_check(const char *what, const double *analytic, const double *numeric, int64_t n)
{
    double scale = 0;
    for (int64_t i = 0; i < n; i++)
        scale = fmax(scale, fabs(numeric[i]));
    /* guard: a check against an all-zero gradient proves nothing */
    if (!(scale > 1e-3)) {
        print_error("%s: the reference gradient is ~0 (max %.3g); the check would be vacuous\n", what, scale);
        fail();
    }
    double tol = 1e-4 * scale + 1e-6;
    for (int64_t i = 0; i < n; i++) {
        if (!(fabs(analytic[i] - numeric[i]) <= tol)) {
            print_error("%s[%ld]: analytic %.9g, numeric %.9g, tol %.3g\n", what, (long)i, analytic[i], numeric[i],
                        tol);
            fail();
        }
    }
}

#endif
