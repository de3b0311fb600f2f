/*
 * Does advising fresh outputs onto transparent huge pages pay? (issue 17)
 *
 * nninit_fill used to madvise(MADV_HUGEPAGE) every output of 8 MiB or more
 * before writing it; it no longer does (src/init/fill.c says why). This
 * bench keeps the question measurable: it times nninit_fill (uniform
 * float32) and memset into fresh buffers (anonymous mappings, as glibc's
 * malloc and PyTorch's allocator make for large blocks) and warm ones, with
 * the buffer advised exactly as the library did (the whole 2 MiB pages
 * inside it, before the first write) and not advised, in the same process,
 * alternating which goes first each repetition. Also timed: a "model" of
 * tensors of mixed sizes allocated fresh one after the other and kept until
 * all are filled, which is what init_module does after to_empty.
 *
 *   build/bench/bench_huge [--sizes 1Mi,16Mi,256Mi] [--threads N] [--reps N] [--model-mib N]
 *
 * Prints medians (ms) and GiB/s, and /proc/vmstat's THP and compaction
 * counters before and after (where readable).
 */
#define _DEFAULT_SOURCE /* madvise, MADV_HUGEPAGE */
#include "nninit.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

/* What nninit_fill did: advise the whole 2 MiB pages inside the buffer. */
static void advise_huge(void *p, size_t bytes)
{
#ifdef MADV_HUGEPAGE
    const uintptr_t huge = (uintptr_t)2 << 20;
    uintptr_t b = ((uintptr_t)p + huge - 1) & ~(huge - 1), e = ((uintptr_t)p + bytes) & ~(huge - 1);
    if (e > b)
        (void)madvise((void *)b, e - b, MADV_HUGEPAGE);
#else
    (void)p;
    (void)bytes;
#endif
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static void vmstat(const char *tag)
{
    FILE *f = fopen("/proc/vmstat", "r");
    if (!f)
        return;
    char name[128];
    unsigned long long v;
    printf("# vmstat %s:", tag);
    while (fscanf(f, "%127s %llu", name, &v) == 2)
        if (!strcmp(name, "thp_fault_alloc") || !strcmp(name, "thp_fault_fallback") ||
            !strcmp(name, "compact_stall") || !strcmp(name, "compact_success") ||
            !strcmp(name, "thp_collapse_alloc"))
            printf(" %s=%llu", name, v);
    printf("\n");
    fclose(f);
}

/* Fresh pages every time: an anonymous mapping, as glibc's malloc and
 * PyTorch's CPU allocator make for large blocks (malloc itself would hand
 * back pages of the heap it already touched below its mmap threshold). */
static float *fresh_alloc(size_t bytes)
{
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

typedef struct ctx {
    nninit_init init;
    nninit_rng *rng;
    int threads;
} ctx;

/* op 0: memset, op 1: nninit_fill uniform */
static int run(const ctx *c, int op, float *buf, int64_t n)
{
    if (op == 0) {
        memset(buf, 0, (size_t)n * sizeof *buf);
        return 0;
    }
    nninit_shape shape = {1, {n}};
    nninit_fill_opts o = nninit_fill_opts_default();
    o.threads = c->threads;
    nninit_err err;
    if (nninit_fill(&c->init, &shape, &o, c->rng, buf, &err) != NNINIT_OK) {
        fprintf(stderr, "bench_huge: %s\n", err.msg);
        return -1;
    }
    return 0;
}

static int64_t parse_size(const char *s)
{
    char *end;
    long long v = strtoll(s, &end, 10);
    if (!strncmp(end, "Gi", 2))
        v <<= 30;
    else if (!strncmp(end, "Mi", 2))
        v <<= 20;
    else if (!strncmp(end, "Ki", 2))
        v <<= 10;
    return v;
}

int main(int argc, char **argv)
{
    /* defaults small enough for make bench; the sweep is
     * --sizes 1Mi,4Mi,16Mi,64Mi,256Mi,1Gi --model-mib 2048 */
    int64_t sizes[16] = {INT64_C(1) << 20, INT64_C(16) << 20, INT64_C(64) << 20};
    int n_sizes = 3, reps = 3, model_mib = 1024;
    ctx c;
    c.threads = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--sizes") && i + 1 < argc) {
            n_sizes = 0;
            for (char *t = strtok(argv[++i], ","); t && n_sizes < 16; t = strtok(NULL, ","))
                sizes[n_sizes++] = parse_size(t);
        } else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
            c.threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc)
            reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--model-mib") && i + 1 < argc)
            model_mib = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: bench_huge [--sizes LIST] [--threads N] [--reps N] [--model-mib N]\n");
            return 2;
        }
    }
    if (reps < 1 || reps > 64)
        reps = 3;
    nninit_err err;
    if (nninit_init_parse("random_uniform(minval=-0.05, maxval=0.05)", &c.init, &err) != NNINIT_OK ||
        nninit_rng_new(NNINIT_RNG_PHILOX, NNINIT_DEFAULT_SEED, &c.rng, &err) != NNINIT_OK) {
        fprintf(stderr, "bench_huge: %s\n", err.msg);
        return 1;
    }
    vmstat("before");
    printf("float32 uniform, threads %d (0 = all), median of %d; advice = the buffer madvised onto huge pages first\n", c.threads, reps);
    printf("%10s %-6s %-7s %12s %12s %9s %9s\n", "elements", "buffer", "op", "advice_ms", "no_advice_ms",
           "GiB/s_adv", "GiB/s_no");
    for (int si = 0; si < n_sizes; si++) {
        int64_t n = sizes[si];
        size_t bytes = (size_t)n * sizeof(float);
        for (int fresh = 1; fresh >= 0; fresh--)
            for (int op = 0; op < 2; op++) {
                if (op == 0 && !fresh)
                    continue; /* warm memset says nothing about the advice */
                double t[2][64];
                float *warm = NULL;
                if (!fresh) {
                    if (!(warm = malloc(bytes)))
                        return 1;
                    memset(warm, 1, bytes);
                }
                for (int r = 0; r < reps; r++)
                    for (int k = 0; k < 2; k++) {
                        int drop = (k + r) % 2; /* alternate which goes first */
                        float *b = fresh ? fresh_alloc(bytes) : warm;
                        if (!b)
                            return 1;
                        double t0 = now();
                        if (!drop && bytes >= ((size_t)8 << 20)) /* the library's old threshold */
                            advise_huge(b, bytes);
                        if (run(&c, op, b, n))
                            return 1;
                        t[drop][r] = now() - t0;
                        if (fresh)
                            munmap(b, bytes);
                    }
                free(warm);
                double a = median(t[0], reps), na = median(t[1], reps);
                printf("%10lld %-6s %-7s %12.2f %12.2f %9.2f %9.2f\n", (long long)n, fresh ? "fresh" : "warm",
                       op ? "fill" : "memset", a * 1e3, na * 1e3, (double)bytes / a / 1073741824.0,
                       (double)bytes / na / 1073741824.0);
                fflush(stdout);
            }
    }
    /* a model: tensors of mixed sizes allocated fresh one after the other and
     * kept, as init_module fills a meta-device model after to_empty */
    if (model_mib > 0) {
        static const int64_t shapes[] = {INT64_C(50) << 20, INT64_C(12) << 20, INT64_C(4) << 20, INT64_C(16) << 20,
                                         INT64_C(16) << 20, 2048, 8192};
        const int n_shapes = (int)(sizeof shapes / sizeof shapes[0]);
        double t[2][64];
        int count = 0;
        for (int r = 0; r < reps; r++)
            for (int k = 0; k < 2; k++) {
                int drop = (k + r) % 2;
                float *bufs[4096];
                size_t sz[4096];
                size_t total = 0;
                int nb = 0;
                double t0 = now();
                while (total < (size_t)model_mib << 20 && nb < 4096) {
                    int64_t n = shapes[nb % n_shapes];
                    if (!(bufs[nb] = fresh_alloc((size_t)n * sizeof(float))))
                        return 1;
                    if (!drop && (size_t)n * sizeof(float) >= ((size_t)8 << 20))
                        advise_huge(bufs[nb], (size_t)n * sizeof(float));
                    if (run(&c, 1, bufs[nb], n))
                        return 1;
                    sz[nb] = (size_t)n * sizeof(float);
                    total += (size_t)n * sizeof(float);
                    nb++;
                }
                t[drop][r] = now() - t0;
                for (int i = 0; i < nb; i++)
                    munmap(bufs[i], sz[i]);
                count = nb;
            }
        double a = median(t[0], reps), na = median(t[1], reps);
        printf("%10s %-6s %-7s %12.2f %12.2f %9.2f %9.2f   (%d tensors, %d MiB, kept until all are filled)\n",
               "model", "fresh", "fill", a * 1e3, na * 1e3, (double)model_mib / 1024 / a,
               (double)model_mib / 1024 / na, count, model_mib);
    }
    vmstat("after");
    nninit_rng_free(c.rng);
    return 0;
}
