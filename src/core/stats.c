/* Summary statistics accumulated in double, chunk by chunk in order
 * (Chan et al.'s pairwise update), so results never depend on threads. */
#include "core/internal.h"

#include <float.h>
#include <math.h>

#define STATS_CHUNK 65536

nninit_status nninit_stats_compute(nninit_dtype dtype, const void *data, int64_t n, nninit_stats *out,
                                   nninit_err *err)
{
    if (!out || (n > 0 && !data))
        return nninit__err(err, NNINIT_EMISUSE, "stats: NULL argument");
    if (dtype != NNINIT_F32 && dtype != NNINIT_F64)
        return nninit__err(err, NNINIT_EUNSUPPORTED, "stats: dtype %s not supported", nninit_dtype_name(dtype));
    /* float64 values beyond 2^500 would overflow the sums of squares (the
     * std of RandomNormal(stddev=1e300) came out NaN): such data is scaled
     * by a power of two first, which is exact, and the results scaled back */
    int shift = 0;
    if (dtype == NNINIT_F64) {
        double big = 0;
        for (int64_t i = 0; i < n; i++) {
            double a = fabs(((const double *)data)[i]);
            if (a > big && a <= DBL_MAX)
                big = a;
        }
        if (big > 0x1p500)
            frexp(big, &shift);
    }
    double count = 0, mean = 0, m2 = 0, lo = (double)INFINITY, hi = -(double)INFINITY;
    for (int64_t c0 = 0; c0 < n; c0 += STATS_CHUNK) {
        int64_t c1 = c0 + STATS_CHUNK < n ? c0 + STATS_CHUNK : n;
        double s = 0, cm, cm2 = 0;
        for (int64_t i = c0; i < c1; i++) {
            double v = dtype == NNINIT_F32 ? (double)((const float *)data)[i] : ((const double *)data)[i];
            if (v < lo)
                lo = v;
            if (v > hi)
                hi = v;
            s += ldexp(v, -shift);
        }
        double cn = (double)(c1 - c0);
        cm = s / cn;
        for (int64_t i = c0; i < c1; i++) {
            double v = ldexp(dtype == NNINIT_F32 ? (double)((const float *)data)[i] : ((const double *)data)[i],
                             -shift);
            cm2 += (v - cm) * (v - cm);
        }
        double tot = count + cn, delta = cm - mean;
        mean += delta * cn / tot;
        m2 += cm2 + delta * delta * count * cn / tot;
        count = tot;
    }
    out->n = n;
    out->mean = n ? ldexp(mean, shift) : 0.0;
    out->std = n ? ldexp(sqrt(m2 / (double)n), shift) : 0.0;
    out->min = n ? lo : 0.0;
    out->max = n ? hi : 0.0;
    return NNINIT_OK;
}
