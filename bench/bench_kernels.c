/*
 * Where the cycles go: each generation path (scalar reference, AVX2,
 * AVX-512) on one thread, per transform, float32 and float64, into a
 * 4096-element buffer that stays in L1 (the arithmetic: Philox rounds plus
 * the transform) and into a 64 MiB buffer (plus the stores to memory); the
 * Philox rounds alone (philox: nothing stored) and each float32 transform
 * alone (*_words: from words already in L1). Times are CPU time (so a
 * shared machine's other processes do not count), median over runs;
 * cycles use a clock calibrated on a chain of dependent adds.
 *
 * Then the bound: memset of 64 Mi float32 on 2 threads (the reference of
 * `nninit bench`'s ratios) against the Philox rounds alone, the most any
 * fill with these bits can reach on this CPU, and against Philox plus
 * each transform alone. Uses the internal interface (simd_internal.h).
 *
 * usage: bench_kernels [PATH [DTYPE]]   e.g. bench_kernels avx512 float32
 *        bench_kernels bound            only the bound
 */
#include "rng/simd_internal.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double thread_cpu(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static double process_cpu(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static double ghz_estimate(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
    double best = 1e9;
    for (int k = 0; k < 7; k++) {
        unsigned long long x = 0, n = 5000000, y = 3;
        double t0 = thread_cpu();
        __asm__ volatile("1:\n\t"
                         "add %2, %0\n\tadd %2, %0\n\tadd %2, %0\n\tadd %2, %0\n\t"
                         "add %2, %0\n\tadd %2, %0\n\tadd %2, %0\n\tadd %2, %0\n\t"
                         "dec %1\n\tjnz 1b"
                         : "+r"(x), "+r"(n)
                         : "r"(y)
                         : "cc");
        double dt = thread_cpu() - t0;
        if (dt < best)
            best = dt;
    }
    return 8.0 * 5000000.0 / best * 1e-9;
#else
    return 0;
#endif
}

/* What one timed run does: a fill, the rounds alone, or a transform alone. */
typedef enum job_kind { JOB_FILL, JOB_PHILOX, JOB_WORDS } job_kind;

typedef struct job {
    job_kind kind;
    const nninit__dist *d;
    nninit__isa isa;
    const uint32_t *words; /* JOB_WORDS: n words */
} job;

static volatile uint32_t sink; /* keeps the rounds' result alive */

static void run_job(const job *j, size_t n, void *buf)
{
    if (j->kind == JOB_FILL)
        nninit__dist_run(j->d, j->isa, 0, n, buf);
    else if (j->kind == JOB_PHILOX)
        sink ^= nninit__philox_xor(j->d, j->isa, 0, n / 64);
    else
        nninit__dist_words_f32(j->d, j->isa, j->words, n, buf);
}

/* median CPU seconds per element of `reps` runs over n elements; small
 * runs repeated between clock reads (a CPU clock read is a system call) */
static double per_elem(const job *j, size_t n, void *buf, int reps)
{
    double t[400];
    if (reps > 400)
        reps = 400;
    int inner = n < 65536 ? (int)(65536 / n) : 1;
    for (int r = 0; r < reps; r++) {
        double t0 = thread_cpu();
        for (int i = 0; i < inner; i++)
            run_job(j, n, buf);
        t[r] = thread_cpu() - t0;
    }
    return median(t, reps) / ((double)n * inner);
}

/* ---- memset on T threads: CPU seconds (all threads) per element, the
 * figure `nninit bench`'s r_cpu divides by ---- */

typedef struct mpart {
    char *p;
    size_t n;
} mpart;

static void *mpart_main(void *arg)
{
    mpart *m = arg;
    memset(m->p, 0, m->n);
    return NULL;
}

static double memset_per_elem(float *buf, size_t n, int threads, int reps)
{
    double t[16];
    for (int r = 0; r < reps && r < 16; r++) {
        pthread_t tid[2];
        mpart part[2];
        size_t bytes = n * sizeof *buf, cut = bytes / (size_t)threads / 64 * 64;
        double t0 = process_cpu();
        for (int i = 0; i < threads; i++) {
            part[i].p = (char *)buf + cut * (size_t)i;
            part[i].n = i == threads - 1 ? bytes - cut * (size_t)i : cut;
            pthread_create(&tid[i], NULL, mpart_main, &part[i]);
        }
        for (int i = 0; i < threads; i++)
            pthread_join(tid[i], NULL);
        t[r] = process_cpu() - t0;
    }
    return median(t, reps < 16 ? reps : 16) / (double)n;
}

static void table(const char *want_path, const char *want_dtype, double ghz, const uint32_t *words, void *sbuf,
                  void *bbuf, size_t big)
{
    const size_t small = 4096;
    uint32_t key[2];
    nninit__philox_key(1, key);
    printf("one thread; clock about %.2f GHz; CPU ns and cycles per element, median over runs\n", ghz);
    printf("%-7s %-8s %-19s %9s %9s %12s %12s\n", "path", "dtype", "transform", "L1_ns", "L1_cyc", "64MiB+_ns",
           "64MiB+_cyc");
    static const char *KIND[] = {"uniform", "normal", "trunc_normal"};
    for (int isa = 0; isa < NNINIT__ISA_COUNT; isa++) {
        if (!nninit__isa_available((nninit__isa)isa) || (want_path && strcmp(want_path, nninit__isa_name(isa))))
            continue;
        for (int dt = 0; dt < 2; dt++) {
            if (want_dtype && strcmp(want_dtype, nninit_dtype_name((nninit_dtype)dt)))
                continue;
            /* float32: the rounds alone, then each fill, then each transform alone */
            for (int row = dt ? 1 : 0; row < (dt ? 4 : 7); row++) {
                nninit__dist d;
                int kind = row == 0 ? 0 : (row - 1) % 3;
                if (kind == 0)
                    nninit__dist_uniform(&d, key, 0, (nninit_dtype)dt, -0.05, 0.05);
                else if (kind == 1)
                    nninit__dist_normal(&d, key, 0, (nninit_dtype)dt, 0.0, 0.05);
                else
                    nninit__dist_trunc_normal(&d, key, 0, (nninit_dtype)dt, 0.0, 0.05, -0.1, 0.1,
                                              NNINIT_STREAM_VERSION);
                job j = {row == 0 ? JOB_PHILOX : row < 4 ? JOB_FILL : JOB_WORDS, &d, (nninit__isa)isa, words};
                char name[32];
                snprintf(name, sizeof name, "%s%s", row == 0 ? "philox" : KIND[kind], row >= 4 ? "_words" : "");
                int scalar = isa == NNINIT__ISA_SCALAR;
                size_t nbig = scalar ? big / 16 : big / (dt ? 2 : 1); /* 64 MiB (scalar 4 MiB) */
                double s = per_elem(&j, small, sbuf, scalar ? 5 : 41);
                printf("%-7s %-8s %-19s %9.3f %9.2f", nninit__isa_name((nninit__isa)isa),
                       nninit_dtype_name((nninit_dtype)dt), name, s * 1e9, s * 1e9 * ghz);
                if (j.kind == JOB_WORDS) {
                    printf(" %12s %12s\n", "-", "-"); /* words from L1 only */
                } else {
                    double b = per_elem(&j, nbig, bbuf, 3);
                    printf(" %12.3f %12.2f\n", b * 1e9, b * 1e9 * ghz);
                }
                fflush(stdout);
            }
        }
    }
}

/* The most a fill with these bits can reach against memset, on the best path. */
static int bound(double ghz, const uint32_t *words, void *sbuf)
{
    const size_t small = 4096, big = (size_t)64 << 20;
    float *bbuf = malloc(big * sizeof *bbuf);
    if (!bbuf)
        return 1;
    memset(bbuf, 1, big * sizeof *bbuf);
    nninit__isa isa = nninit__isa_best();
    uint32_t key[2];
    nninit__philox_key(1, key);
    nninit__dist du, dn, dtn;
    nninit__dist_uniform(&du, key, 0, NNINIT_F32, -0.05, 0.05);
    nninit__dist_normal(&dn, key, 0, NNINIT_F32, 0.0, 0.05);
    nninit__dist_trunc_normal(&dtn, key, 0, NNINIT_F32, 0.0, 0.05, -0.1, 0.1, NNINIT_STREAM_VERSION);
    double m1 = memset_per_elem(bbuf, big, 1, 5), m2 = memset_per_elem(bbuf, big, 2, 5);
    job jp = {JOB_PHILOX, &du, isa, words};
    double philox = per_elem(&jp, small, sbuf, 41);
    printf("\nbound, %s path, float32, 64 Mi elements; CPU cycles per element (all threads' CPU time)\n",
           nninit__isa_name(isa));
    printf("  memset, 1 thread                 %6.2f\n", m1 * 1e9 * ghz);
    printf("  memset, 2 threads (the ratio's)  %6.2f\n", m2 * 1e9 * ghz);
    printf("  Philox-4x32-10 rounds alone      %6.2f   (words in registers, nothing stored)\n", philox * 1e9 * ghz);
    printf("  => no fill of these bits passes %.2fx memset (2 threads) in this run\n", m2 / philox);
    static const struct {
        const char *name;
        double target;
    } T[3] = {{"uniform", 0.5}, {"normal", 0.25}, {"trunc_normal", 0.2}};
    const nninit__dist *ds[3] = {&du, &dn, &dtn};
    printf("  %-13s %7s %8s %9s %9s %7s %11s\n", "transform", "alone", "+philox", "fill(L1)", "fill_r", "target",
           "target_cyc");
    for (int k = 0; k < 3; k++) {
        job jw = {JOB_WORDS, ds[k], isa, words}, jf = {JOB_FILL, ds[k], isa, words};
        double w = per_elem(&jw, small, sbuf, 41), f = per_elem(&jf, small, sbuf, 41);
        printf("  %-13s %7.2f %8.2f %9.2f %8.3fx %6.2fx %11.2f\n", T[k].name, w * 1e9 * ghz,
               (w + philox) * 1e9 * ghz, f * 1e9 * ghz, m2 / f, T[k].target, m2 / T[k].target * 1e9 * ghz);
    }
    printf("  alone: the transform from words in L1 (the normal's includes reordering them); +philox: that plus\n"
           "  the rounds alone; fill: the fill into L1 (64 Mi adds the stores), fill_r = memset / fill;\n"
           "  target_cyc: the cycles per element the target ratio allows against this run's memset\n");
    free(bbuf);
    return 0;
}

int main(int argc, char **argv)
{
    const size_t small = 4096, big = (size_t)16 << 20;
    const char *want_path = argc > 1 ? argv[1] : NULL, *want_dtype = argc > 2 ? argv[2] : NULL;
    int only_bound = want_path && !strcmp(want_path, "bound");
    void *sbuf = malloc(small * sizeof(double)), *bbuf = malloc(big * sizeof(double));
    uint32_t *words = malloc(small * sizeof *words);
    if (!sbuf || !bbuf || !words)
        return 1;
    memset(bbuf, 0, big * sizeof(double));
    uint32_t key[2];
    nninit__philox_key(3, key);
    nninit__philox_words(key, 0, 0, small, words);
    double ghz = ghz_estimate();
    if (!only_bound)
        table(want_path, want_dtype, ghz, words, sbuf, bbuf, big);
    int rc = only_bound || !want_path ? bound(ghz, words, sbuf) : 0;
    free(sbuf);
    free(bbuf);
    free(words);
    return rc;
}
