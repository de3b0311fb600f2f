/* Accuracy of the fixed-arithmetic transforms against long double libm,
 * with the measured maxima printed; the stream format depends on these
 * functions, so their bits are also pinned by test_stream.c. */
#include "util.h"

#include "core/internal.h"

static double ulp_f(float ref) { return (double)nextafterf(fabsf(ref), INFINITY) - (double)fabsf(ref); }
static long double ulp_d(double ref) { return (long double)nextafter(fabs(ref), INFINITY) - (long double)fabs(ref); }

static uint64_t lcg(uint64_t *x)
{
    *x = *x * 6364136223846793005ull + 1442695040888963407ull;
    return *x >> 11;
}

static void test_logf(void **state)
{
    (void)state;
    double worst = 0;
    uint64_t x = 1;
    for (int i = 0; i < 1000000; i++) {
        /* the arguments the normal transform uses: k * 2^-24, k in [1, 2^24] */
        float u = (float)((lcg(&x) >> 29) + 1) * 0x1p-24f;
        if (i < 64)
            u = (float)(i + 1) * 0x1p-24f; /* smallest radii */
        long double ref = logl((long double)u);
        double e = (double)fabsl((long double)nninit__logf(u) - ref) / ulp_f((float)ref);
        if (e > worst)
            worst = e;
    }
    print_message("logf: max error %.3f ulp over 1e6 arguments\n", worst);
    assert_true(worst <= 2.0); /* measured 1.62 */
    assert_true(nninit__logf(1.0f) == 0.0f);
}

static void test_log(void **state)
{
    (void)state;
    long double worst = 0;
    uint64_t x = 2;
    for (int i = 0; i < 1000000; i++) {
        double u = (double)(lcg(&x) + 1) * 0x1p-53;
        if (i % 3 == 0)
            u = ldexp(u, -(int)(i % 900)); /* small values too (ndtri tails, ndtr) */
        long double ref = logl((long double)u);
        long double e = fabsl((long double)nninit__log(u) - ref) / ulp_d((double)ref);
        if (e > worst)
            worst = e;
    }
    print_message("log: max error %.3Lf ulp over 1e6 arguments\n", worst);
    assert_true(worst <= 2.0L); /* measured 1.96 */
}

static void test_sincos(void **state)
{
    (void)state;
    double worst_f = 0, abs_f = 0;
    long double worst_d = 0, abs_d = 0;
    const long double two_pi = 6.283185307179586476925286766559L;
    uint64_t x = 3;
    for (int i = 0; i < 1000000; i++) {
        float uf = (float)(lcg(&x) >> 29) * 0x1p-24f;
        float s, c;
        nninit__sincos2pif(uf, &s, &c);
        long double rs = sinl(two_pi * uf), rc = cosl(two_pi * uf);
        double es = (double)fabsl((long double)s - rs), ec = (double)fabsl((long double)c - rc);
        if (es > abs_f) abs_f = es;
        if (ec > abs_f) abs_f = ec;
        /* ulp relative to the larger of |sin|, |cos| (the radius scale) */
        double scale = ulp_f((float)fmaxl(fabsl(rs), fabsl(rc)));
        if (es / scale > worst_f) worst_f = es / scale;
        if (ec / scale > worst_f) worst_f = ec / scale;

        double ud = (double)lcg(&x) * 0x1p-53;
        double sd, cd;
        nninit__sincos2pi(ud, &sd, &cd);
        long double rsd = sinl(two_pi * ud), rcd = cosl(two_pi * ud);
        long double esd = fabsl((long double)sd - rsd), ecd = fabsl((long double)cd - rcd);
        if (esd > abs_d) abs_d = esd;
        if (ecd > abs_d) abs_d = ecd;
        long double sc = ulp_d((double)fmaxl(fabsl(rsd), fabsl(rcd)));
        if (esd / sc > worst_d) worst_d = esd / sc;
        if (ecd / sc > worst_d) worst_d = ecd / sc;
    }
    print_message("sincos2pif: max error %.3f ulp of max(|sin|,|cos|), absolute %.3g\n", worst_f, abs_f);
    print_message("sincos2pi:  max error %.3Lf ulp of max(|sin|,|cos|), absolute %.3Lg\n", worst_d, abs_d);
    assert_true(worst_f <= 2.0); /* measured 1.64 */
    assert_true(worst_d <= 2.0L); /* measured 1.60 */
    float s, c;
    nninit__sincos2pif(0.25f, &s, &c);
    assert_true(s == 1.0f && c == 0.0f);
    nninit__sincos2pif(0.0f, &s, &c);
    assert_true(s == 0.0f && c == 1.0f);
}

/* Phi via erfcl: the reference for ndtr and for checking ndtri. */
static long double phi_ref(long double z) { return 0.5L * erfcl(-z / sqrtl(2.0L)); }

static void test_ndtr(void **state)
{
    (void)state;
    double worst = 0;
    for (int i = -4000; i <= 4000; i++) {
        double z = i / 100.0;
        long double ref = phi_ref(z);
        double e = (double)fabsl((long double)nninit__ndtr(z) - ref);
        if (e > worst)
            worst = e;
    }
    print_message("ndtr: max absolute error %.3g on [-40, 40]\n", worst);
    assert_true(worst <= 1e-15); /* measured 5.0e-16 */
    assert_true(nninit__ndtr(0.0) == 0.5);
}

static void test_ndtri(void **state)
{
    (void)state;
    double worst = 0;
    uint64_t x = 4;
    for (int i = 0; i < 200000; i++) {
        double p = ((double)lcg(&x) + 0.5) * 0x1p-53;
        if (i % 4 == 0)
            p = ldexp(p, -(int)(i % 1000)); /* deep lower tail */
        double z = nninit__ndtri(p);
        /* invert: Phi(z) should be p; relative error of p maps to z through the density */
        long double pz = phi_ref(z);
        long double dens = expl(-0.5L * (long double)z * z) / sqrtl(2.0L * 3.14159265358979323846264338327950288L);
        long double dz = (pz - p) / dens; /* error in z */
        double rel = (double)fabsl(dz / (z != 0 ? (long double)z : 1.0L));
        if (rel > worst)
            worst = rel;
    }
    print_message("ndtri: max relative error %.3g (p in (2^-1053, 1))\n", worst);
    assert_true(worst <= 2e-15); /* measured 7.4e-16 */
    assert_true(nninit__ndtri(0.5) == 0.0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_logf),  cmocka_unit_test(test_log),  cmocka_unit_test(test_sincos),
        cmocka_unit_test(test_ndtr), cmocka_unit_test(test_ndtri),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
