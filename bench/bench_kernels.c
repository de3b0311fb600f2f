/*
 * Where the cycles go: each generation path (scalar reference, AVX2,
 * AVX-512) on one thread, per transform, float32 and float64, into a
 * 4096-element buffer that stays in L1 (the arithmetic: Philox rounds plus
 * the transform) and into a 64 MiB buffer (plus the stores to memory).
 * Times are the minimum over many short runs, so they show the kernel's
 * speed when it has a core to itself (medians on a shared machine mostly
 * measure the neighbours); cycles use a clock calibrated on a chain of
 * dependent adds. Uses the internal interface (simd_internal.h).
 */
#include "rng/simd_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static double ghz_estimate(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
    double best = 1e9;
    for (int k = 0; k < 7; k++) {
        unsigned long long x = 0, n = 5000000, y = 3;
        double t0 = now();
        __asm__ volatile("1:\n\t"
                         "add %2, %0\n\tadd %2, %0\n\tadd %2, %0\n\tadd %2, %0\n\t"
                         "add %2, %0\n\tadd %2, %0\n\tadd %2, %0\n\tadd %2, %0\n\t"
                         "dec %1\n\tjnz 1b"
                         : "+r"(x), "+r"(n)
                         : "r"(y)
                         : "cc");
        double dt = now() - t0;
        if (dt < best)
            best = dt;
    }
    return 8.0 * 5000000.0 / best * 1e-9;
#else
    return 0;
#endif
}

/* minimum seconds per element of generating n elements, over `reps` runs */
static double per_elem(const nninit__dist *d, nninit__isa isa, size_t n, void *buf, int reps)
{
    double best = 1e9;
    for (int r = 0; r < reps; r++) {
        double t0 = now();
        nninit__dist_run(d, isa, 0, n, buf);
        double t = now() - t0;
        if (t < best)
            best = t;
    }
    return best / (double)n;
}

int main(void)
{
    const size_t small = 4096, big = (size_t)16 << 20;
    void *sbuf = malloc(small * sizeof(double)), *bbuf = malloc(big * sizeof(double));
    if (!sbuf || !bbuf)
        return 1;
    memset(bbuf, 0, big * sizeof(double));
    double ghz = ghz_estimate();
    uint32_t key[2];
    nninit__philox_key(1, key);
    printf("one thread; clock about %.2f GHz; ns and cycles per element, minimum over runs\n", ghz);
    printf("%-7s %-8s %-13s %9s %9s %12s %12s\n", "path", "dtype", "transform", "L1_ns", "L1_cyc", "64MiB+_ns",
           "64MiB+_cyc");
    static const char *KIND[] = {"uniform", "normal", "trunc_normal"};
    for (int isa = 0; isa < NNINIT__ISA_COUNT; isa++) {
        if (!nninit__isa_available((nninit__isa)isa))
            continue;
        for (int dt = 0; dt < 2; dt++)
            for (int kind = 0; kind < 3; kind++) {
                nninit__dist d;
                if (kind == 0)
                    nninit__dist_uniform(&d, key, 0, (nninit_dtype)dt, -0.05, 0.05);
                else if (kind == 1)
                    nninit__dist_normal(&d, key, 0, (nninit_dtype)dt, 0.0, 0.05);
                else
                    nninit__dist_trunc_normal(&d, key, 0, (nninit_dtype)dt, 0.0, 0.05, -0.1, 0.1, NNINIT_STREAM_VERSION);
                size_t nbig = isa == NNINIT__ISA_SCALAR ? big / 16 : big / (dt ? 2 : 1); /* 64 MiB (scalar 4 MiB) */
                double s = per_elem(&d, (nninit__isa)isa, small, sbuf, isa == NNINIT__ISA_SCALAR ? 20 : 300);
                double b = per_elem(&d, (nninit__isa)isa, nbig, bbuf, 3);
                printf("%-7s %-8s %-13s %9.3f %9.2f %12.3f %12.2f\n", nninit__isa_name((nninit__isa)isa),
                       nninit_dtype_name((nninit_dtype)dt), KIND[kind], s * 1e9, s * 1e9 * ghz, b * 1e9,
                       b * 1e9 * ghz);
                fflush(stdout);
            }
    }
    free(sbuf);
    free(bbuf);
    return 0;
}
