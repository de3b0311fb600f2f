/*
 * nninit bench: generation speed against memset of the same buffer, measured
 * in the same run (the ratio is the figure that transfers between machines),
 * for warm and fresh buffers, 1 and N threads; and orthogonal matrices.
 * Public API only. bench/bench_fill.c includes this file so that `make
 * bench` runs the same table.
 */
#define _DEFAULT_SOURCE /* madvise, MADV_HUGEPAGE */
#include "cli.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_SIZES 16

typedef struct bench_cfg {
    int64_t sizes[MAX_SIZES]; /* elements */
    int n_sizes;
    int threads; /* "all" column; 0 = online CPUs */
    int reps;
    int cold, warm, ortho, gen, csv, torch;
    int sizes_given;
    const char *python; /* --python, else $NNINIT_PYTHON, else /usr/bin/python3 or python3 */
} bench_cfg;

static double bench_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* CPU seconds of the whole process (all threads, user + system): on a
 * shared machine the time this run actually ran, whatever else competed. */
static double bench_cpu(void)
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

/* ---- memset with T threads, split as evenly as nninit_fill splits ---- */

typedef struct mset {
    char *p;
    size_t n;
} mset;

static void *mset_main(void *arg)
{
    mset *m = arg;
    memset(m->p, 0, m->n);
    return NULL;
}

static void par_memset(void *p, size_t bytes, int threads)
{
    pthread_t tid[256];
    mset parts[256];
    if (threads < 1)
        threads = 1;
    if (threads > 256)
        threads = 256;
    int started = 0;
    for (int t = 0; t < threads; t++) {
        size_t b = bytes * (size_t)t / (size_t)threads, e = bytes * (size_t)(t + 1) / (size_t)threads;
        parts[t].p = (char *)p + b;
        parts[t].n = e - b;
    }
    for (int t = 1; t < threads; t++)
        if (pthread_create(&tid[t], NULL, mset_main, &parts[t]) == 0)
            started = t;
        else
            break;
    mset_main(&parts[0]);
    for (int t = started + 1; t < threads; t++)
        mset_main(&parts[t]);
    for (int t = 1; t <= started; t++)
        pthread_join(tid[t], NULL);
}

/* ---- buffers: plain malloc, or 2 MiB-aligned with transparent huge pages ---- */

static void *buf_alloc(size_t bytes, int huge)
{
    if (!huge)
        return malloc(bytes);
    void *p = NULL;
    if (posix_memalign(&p, (size_t)2 << 20, bytes) != 0)
        return NULL;
#ifdef MADV_HUGEPAGE
    madvise(p, bytes & ~(((size_t)2 << 20) - 1), MADV_HUGEPAGE);
#endif
    return p;
}

/* ---- the operations ---- */

typedef struct bop {
    const char *name;
    const char *spec; /* NULL: memset */
    int version;      /* Philox stream format (docs/stream.md); 0: the current one */
} bop;

/* The truncated normal in each stream format: they differ only there. */
static const bop OPS[] = {
    {"memset", NULL, 0},
    {"uniform", "random_uniform(minval=-0.05, maxval=0.05)", 0},
    {"normal", "random_normal(mean=0.0, stddev=0.05)", 0},
    {"trunc_normal", "truncated_normal(mean=0.0, stddev=0.05)", 0},
    {"trunc_v2", "truncated_normal(mean=0.0, stddev=0.05)", 2},
    {"trunc_v1", "truncated_normal(mean=0.0, stddev=0.05)", 1},
};
#define N_OPS (sizeof OPS / sizeof OPS[0])

typedef struct runner {
    nninit_init init[N_OPS];
    nninit_rng *rng;
} runner;

static int run_op(const runner *r, size_t op, void *buf, int64_t n, int threads, nninit_err *err)
{
    if (!OPS[op].spec) {
        par_memset(buf, (size_t)n * sizeof(float), threads);
        return 0;
    }
    if (nninit_rng_set_stream_version(r->rng, OPS[op].version ? OPS[op].version : NNINIT_STREAM_VERSION, err) !=
        NNINIT_OK)
        return -1;
    nninit_shape shape = {1, {n}};
    nninit_fill_opts o = nninit_fill_opts_default();
    o.threads = threads;
    return nninit_fill(&r->init[op], &shape, &o, r->rng, buf, err) == NNINIT_OK ? 0 : -1;
}

/* Median seconds of `reps` runs of op on a warm buffer, or on a fresh
 * buffer each run (allocation outside the timing, page faults inside). */
static int time_op(const runner *r, size_t op, void *warm_buf, int64_t n, int threads, int reps, int cold,
                   int huge, double *sec, double *cpu)
{
    double t[64], c[64];
    nninit_err err;
    if (reps > 64)
        reps = 64;
    for (int i = 0; i < reps; i++) {
        void *b = warm_buf;
        if (cold && !(b = buf_alloc((size_t)n * sizeof(float), huge))) {
            fprintf(stderr, "nninit: bench: out of memory for %lld elements\n", (long long)n);
            return -1;
        }
        double c0 = bench_cpu(), t0 = bench_now();
        int rc = run_op(r, op, b, n, threads, &err);
        t[i] = bench_now() - t0;
        c[i] = bench_cpu() - c0;
        if (cold)
            free(b);
        if (rc) {
            fprintf(stderr, "nninit: bench: %s\n", err.msg);
            return -1;
        }
    }
    *sec = median(t, reps);
    *cpu = median(c, reps);
    return 0;
}

static int64_t avail_bytes(void)
{
#ifdef _SC_AVPHYS_PAGES /* glibc; elsewhere sizes are not checked */
    long pages = sysconf(_SC_AVPHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
    return pages > 0 && psz > 0 ? (int64_t)pages * psz : INT64_MAX;
#else
    return INT64_MAX;
#endif
}

/* Core clock from a chain of dependent adds (one cycle each on x86-64), so
 * that seconds can be quoted as cycles per element. 0 where unknown. */
static double core_ghz(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
    double best = 0;
    for (int k = 0; k < 5; k++) {
        unsigned long long x = 0, n = 20000000, y = 3;
        double t0 = bench_cpu();
        __asm__ volatile("1:\n\t"
                         "add %2, %0\n\tadd %2, %0\n\tadd %2, %0\n\tadd %2, %0\n\t"
                         "add %2, %0\n\tadd %2, %0\n\tadd %2, %0\n\tadd %2, %0\n\t"
                         "dec %1\n\tjnz 1b"
                         : "+r"(x), "+r"(n)
                         : "r"(y)
                         : "cc");
        (void)x;
        double dt = bench_cpu() - t0;
        double ghz = 8.0 * 20000000.0 / dt * 1e-9;
        if (ghz > best)
            best = ghz;
    }
    return best;
#else
    return 0;
#endif
}

static int bench_gen(const bench_cfg *cfg)
{
    runner r;
    nninit_err err;
    for (size_t i = 0; i < N_OPS; i++)
        if (OPS[i].spec && nninit_init_parse(OPS[i].spec, &r.init[i], &err) != NNINIT_OK) {
            fprintf(stderr, "nninit: bench: %s\n", err.msg);
            return CLI_EXIT_FAIL;
        }
    if (nninit_rng_new(NNINIT_RNG_PHILOX, NNINIT_DEFAULT_SEED, &r.rng, &err) != NNINIT_OK) {
        fprintf(stderr, "nninit: bench: %s\n", err.msg);
        return CLI_EXIT_FAIL;
    }
    int all = cfg->threads > 0 ? cfg->threads : (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (all < 1)
        all = 1;
    int tlist[2] = {1, all}, n_t = all > 1 ? 2 : 1;
    double ghz = core_ghz();
    if (cfg->csv)
        printf("elements,threads,buffer,op,median_s,gelem_s,gb_s,ratio_memset,cpu_s,gb_s_cpu,ratio_cpu\n");
    else {
        printf("nninit %s, float32, median of %d runs; ratio = this op's GB/s / memset's GB/s, same buffer, same run\n"
               "cpu columns: from process CPU time / threads (what dedicated cores would give; on a shared machine\n"
               "the wall figures include time other processes took)\n",
               nninit_version(), cfg->reps);
        if (ghz > 0)
            printf("core clock about %.2f GHz (dependent-add loop, CPU time); cyc/el = CPU cycles per element\n", ghz);
        printf("%10s %3s %-9s %-13s %9s %8s %7s %8s %7s %7s\n", "elements", "thr", "buffer", "op", "median_ms",
               "GB/s", "ratio", "GB/s_cpu", "r_cpu", "cyc/el");
    }
    int rc = CLI_EXIT_OK;
    for (int si = 0; si < cfg->n_sizes && rc == CLI_EXIT_OK; si++) {
        int64_t n = cfg->sizes[si];
        size_t bytes = (size_t)n * sizeof(float);
        if ((int64_t)bytes > avail_bytes() / 5 * 2) {
            printf("# %lld elements skipped: %lld MB would exceed 40%% of the %lld MB available\n", (long long)n,
                   (long long)(bytes >> 20), (long long)(avail_bytes() >> 20));
            continue;
        }
        void *warm = malloc(bytes);
        if (!warm) {
            fprintf(stderr, "nninit: bench: out of memory for %lld elements\n", (long long)n);
            rc = CLI_EXIT_FAIL;
            break;
        }
        memset(warm, 1, bytes);
        /* buffer states: warm; fresh malloc; fresh with huge pages */
        const char *states[3] = {"warm", "cold", "cold-huge"};
        for (int ti = 0; ti < n_t && rc == CLI_EXIT_OK; ti++) {
            for (int st = 0; st < 3 && rc == CLI_EXIT_OK; st++) {
                if ((st == 0 && !cfg->warm) || (st > 0 && !cfg->cold))
                    continue;
                /* fresh buffers: 4 KiB page faults cost seconds a GiB on some
                 * VMs, so they are timed up to 64 Mi elements, 3 runs */
                if (st > 0 && n > (INT64_C(64) << 20))
                    continue;
                int reps = st > 0 && cfg->reps > 3 ? 3 : cfg->reps;
                double base = 0, base_cpu = 0;
                for (size_t op = 0; op < N_OPS; op++) {
                    double sec, cpu;
                    if (time_op(&r, op, warm, n, tlist[ti], reps, st > 0, st == 2, &sec, &cpu)) {
                        rc = CLI_EXIT_FAIL;
                        break;
                    }
                    double gbs = (double)bytes / sec * 1e-9;
                    double gbs_cpu = cpu > 0 ? (double)bytes / (cpu / tlist[ti]) * 1e-9 : 0;
                    if (op == 0) {
                        base = gbs;
                        base_cpu = gbs_cpu;
                    }
                    double cyc = ghz > 0 ? cpu * ghz * 1e9 / (double)n : 0;
                    if (cfg->csv)
                        printf("%lld,%d,%s,%s,%.6g,%.4g,%.4g,%.4g,%.6g,%.4g,%.4g\n", (long long)n, tlist[ti],
                               states[st], OPS[op].name, sec, (double)n / sec * 1e-9, gbs, gbs / base, cpu, gbs_cpu,
                               base_cpu > 0 ? gbs_cpu / base_cpu : 0);
                    else
                        printf("%10lld %3d %-9s %-13s %9.3f %8.2f %7.3f %8.2f %7.3f %7.2f\n", (long long)n, tlist[ti],
                               states[st], OPS[op].name, sec * 1e3, gbs, gbs / base, gbs_cpu,
                               base_cpu > 0 ? gbs_cpu / base_cpu : 0, cyc);
                    fflush(stdout);
                }
            }
        }
        free(warm);
    }
    nninit_rng_free(r.rng);
    return rc;
}

static int bench_ortho(const bench_cfg *cfg)
{
    static const int64_t SHAPES[][2] = {{512, 512}, {2048, 2048}, {4096, 4096}, {8192, 1024}};
    nninit_init init;
    nninit_rng *rng;
    nninit_err err;
    if (nninit_init_parse("orthogonal_", &init, &err) != NNINIT_OK ||
        nninit_rng_new(NNINIT_RNG_PHILOX, NNINIT_DEFAULT_SEED, &rng, &err) != NNINIT_OK) {
        fprintf(stderr, "nninit: bench: %s\n", err.msg);
        return CLI_EXIT_FAIL;
    }
    if (!cfg->csv)
        printf("\northogonal_ (torch layout, float32), median of %d runs (3 above 8 Mi elements)\n%-12s %10s\n",
               cfg->reps, "shape", "median_ms");
    int rc = CLI_EXIT_OK;
    for (size_t i = 0; i < sizeof SHAPES / sizeof SHAPES[0]; i++) {
        nninit_shape shape = {2, {SHAPES[i][0], SHAPES[i][1]}};
        float *w = malloc((size_t)(SHAPES[i][0] * SHAPES[i][1]) * sizeof *w);
        double t[64];
        int reps = cfg->reps > 3 && SHAPES[i][0] * SHAPES[i][1] > (INT64_C(1) << 23) ? 3 : cfg->reps;
        if (!w) {
            rc = CLI_EXIT_FAIL;
            break;
        }
        nninit_fill_opts o = nninit_fill_opts_default();
        o.layout = NNINIT_LAYOUT_TORCH;
        o.threads = cfg->threads;
        for (int k = 0; k < reps && rc == CLI_EXIT_OK; k++) {
            double t0 = bench_now();
            if (nninit_fill(&init, &shape, &o, rng, w, &err) != NNINIT_OK) {
                fprintf(stderr, "nninit: bench: %s\n", err.msg);
                rc = CLI_EXIT_FAIL;
            }
            t[k] = bench_now() - t0;
        }
        free(w);
        if (rc != CLI_EXIT_OK)
            break;
        double sec = median(t, reps);
        char name[32];
        snprintf(name, sizeof name, "%lldx%lld", (long long)SHAPES[i][0], (long long)SHAPES[i][1]);
        if (cfg->csv)
            printf("ortho,%s,%.6g\n", name, sec);
        else
            printf("%-12s %10.2f\n", name, sec * 1e3);
        fflush(stdout);
    }
    nninit_rng_free(rng);
    return rc;
}

/* ---- --torch: the PyTorch-exact generators, and Philox, against PyTorch
 * filling the same shape in the same run: one thread each, each repetition
 * times nninit's fill and then PyTorch's, so both see the same load. ---- */

/* The PyTorch side: a child python process that answers each request
 * "init_fn|dtype|n|kwargs" with "wall_s cpu_s" for one call on a warm
 * (n/1024, 1024) tensor, or says "none <why>" first when torch is missing. */
static const char TORCH_PY[] =
    "import sys, time\n"
    "try:\n"
    "    import torch\n"
    "except Exception as e:\n"
    "    print('none', e, flush=True)\n"
    "    sys.exit(0)\n"
    "torch.set_num_threads(1)\n"
    "cap = [l.split(':')[-1].strip() for l in torch.__config__.show().splitlines() if 'CPU capability' in l]\n"
    "print('torch', torch.__version__, 'CPU capability', (cap or ['?'])[0], flush=True)\n"
    "buf = {}\n"
    "for line in sys.stdin:\n"
    "    fn, dt, n, kw = line.rstrip('\\n').split('|')\n"
    "    key = (dt, int(n))\n"
    "    if key not in buf:\n"
    "        buf.clear()\n"
    "        buf[key] = torch.zeros(int(n) // 1024, 1024, dtype=getattr(torch, dt))\n"
    "    f, w, kw = getattr(torch.nn.init, fn), buf[key], eval(kw)\n"
    "    t0, c0 = time.perf_counter(), time.thread_time()\n"
    "    f(w, **kw)\n"
    "    print(time.perf_counter() - t0, time.thread_time() - c0, flush=True)\n";

typedef struct pytorch {
    pid_t pid;
    FILE *to, *from;
    char version[128];
} pytorch;

/* Starts the child; 0 and a version line, or -1 (then `why` says why). */
static int pytorch_start(pytorch *py, const char *python, char *why, size_t why_len)
{
    int in[2], out[2];
    memset(py, 0, sizeof *py);
    if (pipe(in) != 0 || pipe(out) != 0) {
        snprintf(why, why_len, "pipe: %s", strerror(errno));
        return -1;
    }
    fflush(stdout);
    py->pid = fork();
    if (py->pid < 0) {
        snprintf(why, why_len, "fork: %s", strerror(errno));
        return -1;
    }
    if (py->pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        close(in[0]);
        close(in[1]);
        close(out[0]);
        close(out[1]);
        execlp(python, python, "-c", TORCH_PY, (char *)NULL);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    py->to = fdopen(in[1], "w");
    py->from = fdopen(out[0], "r");
    char line[256];
    if (!py->to || !py->from || !fgets(line, sizeof line, py->from)) {
        snprintf(why, why_len, "%s did not start", python);
        return -1;
    }
    line[strcspn(line, "\n")] = 0;
    if (strncmp(line, "torch ", 6) != 0) {
        snprintf(why, why_len, "%s", line);
        return -1;
    }
    snprintf(py->version, sizeof py->version, "%.120s", line + 6);
    return 0;
}

static void pytorch_stop(pytorch *py)
{
    if (py->to)
        fclose(py->to);
    if (py->from)
        fclose(py->from);
    if (py->pid > 0)
        waitpid(py->pid, NULL, 0);
    memset(py, 0, sizeof *py);
}

static int pytorch_time(pytorch *py, const char *fn, const char *dtype, int64_t n, const char *kwargs, double *wall,
                        double *cpu)
{
    char line[256];
    if (fprintf(py->to, "%s|%s|%lld|%s\n", fn, dtype, (long long)n, kwargs) < 0 || fflush(py->to) != 0 ||
        !fgets(line, sizeof line, py->from) || sscanf(line, "%lf %lf", wall, cpu) != 2)
        return -1;
    return 0;
}

typedef struct torch_op {
    const char *spec;   /* nninit's spec (torch layout) */
    const char *fn;     /* torch.nn.init function */
    const char *kwargs; /* its keyword arguments, a Python literal */
} torch_op;

static const torch_op TORCH_OPS[] = {
    {"uniform_(a=-0.05,b=0.05)", "uniform_", "{'a': -0.05, 'b': 0.05}"},
    {"normal_(std=0.05)", "normal_", "{'std': 0.05}"},
    {"trunc_normal_(std=0.05,a=-0.1,b=0.1)", "trunc_normal_", "{'std': 0.05, 'a': -0.1, 'b': 0.1}"},
    {"kaiming_uniform_", "kaiming_uniform_", "{}"},
    {"kaiming_normal_", "kaiming_normal_", "{}"},
    {"xavier_uniform_", "xavier_uniform_", "{}"},
    {"xavier_normal_", "xavier_normal_", "{}"},
};
#define N_TORCH_OPS (sizeof TORCH_OPS / sizeof TORCH_OPS[0])

/* Wall and thread-CPU seconds of one nninit_fill on one thread. */
static int time_fill(const nninit_init *init, nninit_rng *rng, nninit_dtype dtype, void *buf, int64_t n, double *wall,
                     double *cpu, nninit_err *err)
{
    nninit_shape shape = {2, {n / 1024, 1024}};
    nninit_fill_opts o = nninit_fill_opts_default();
    o.layout = NNINIT_LAYOUT_TORCH;
    o.dtype = dtype;
    o.threads = 1;
    double c0 = bench_cpu(), t0 = bench_now();
    nninit_status st = nninit_fill(init, &shape, &o, rng, buf, err);
    *wall = bench_now() - t0;
    *cpu = bench_cpu() - c0;
    return st == NNINIT_OK ? 0 : -1;
}

static int bench_torch(const bench_cfg *cfg)
{
    char why[256] = "";
    pytorch py;
    const char *python = cfg->python ? cfg->python : getenv("NNINIT_PYTHON");
    if (!python || !*python)
        python = access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3";
    void (*old_pipe)(int) = signal(SIGPIPE, SIG_IGN); /* a dying child must not kill the bench */
    int have_torch = pytorch_start(&py, python, why, sizeof why) == 0;
    if (!have_torch)
        pytorch_stop(&py);
    nninit_rng *rngs[2] = {NULL, NULL};
    nninit_err err;
    int rc = CLI_EXIT_OK;
    if (nninit_rng_new(NNINIT_RNG_TORCH, NNINIT_DEFAULT_SEED, &rngs[0], &err) != NNINIT_OK ||
        nninit_rng_new(NNINIT_RNG_PHILOX, NNINIT_DEFAULT_SEED, &rngs[1], &err) != NNINIT_OK) {
        fprintf(stderr, "nninit: bench: %s\n", err.msg);
        rc = CLI_EXIT_FAIL;
        goto done;
    }
    if (cfg->csv)
        printf("torch,elements,dtype,rng,op,nninit_s,nninit_cpu_s,torch_s,torch_cpu_s,speedup,speedup_cpu\n");
    else {
        printf("\nPyTorch's init functions, 1 thread, (n/1024, 1024) tensors, medians of %d runs, nninit and "
               "PyTorch alternating\n",
               cfg->reps);
        if (have_torch)
            printf("PyTorch %s; nninit --rng torch = %s; speedup = PyTorch's time / nninit's (wall; sp_cpu: thread "
                   "CPU time)\n",
                   py.version, nninit_rng_kind_name(nninit_rng_resolved_kind(rngs[0])));
        else
            printf("# PyTorch not timed (%s): nninit only\n", why);
        printf("%10s %-7s %-7s %-38s %10s %10s %8s %8s\n", "elements", "dtype", "rng", "op", "nninit_ms", "torch_ms",
               "speedup", "sp_cpu");
    }
    for (int si = 0; si < cfg->n_sizes && rc == CLI_EXIT_OK; si++) {
        int64_t n = cfg->sizes[si] / 1024 * 1024;
        if (n < 1024)
            n = 1024;
        for (int d = 0; d < 2 && rc == CLI_EXIT_OK; d++) {
            nninit_dtype dtype = d ? NNINIT_F64 : NNINIT_F32;
            size_t bytes = (size_t)n * nninit_dtype_size(dtype);
            if ((int64_t)bytes * 3 > avail_bytes() / 5 * 2) { /* ours and PyTorch's (plus its temporaries) */
                printf("# %lld %s elements skipped: not enough free memory\n", (long long)n,
                       nninit_dtype_name(dtype));
                continue;
            }
            void *buf = malloc(bytes);
            if (!buf) {
                fprintf(stderr, "nninit: bench: out of memory for %lld elements\n", (long long)n);
                rc = CLI_EXIT_FAIL;
                break;
            }
            memset(buf, 1, bytes);
            /* the torch stream for every function; Philox for the three distributions, and in
             * float32 the truncated normal in stream formats 2 and 1 too (float64 is the same in all) */
            size_t n_ops = N_TORCH_OPS + (d ? 3 : 5);
            for (size_t k = 0; k < n_ops && rc == CLI_EXIT_OK; k++) {
                int philox = k >= N_TORCH_OPS;
                int version = k < N_TORCH_OPS + 3 ? NNINIT_STREAM_VERSION : (int)(N_TORCH_OPS + 5 - k); /* 2, 1 */
                const torch_op *op = &TORCH_OPS[!philox ? k : k < N_TORCH_OPS + 3 ? k - N_TORCH_OPS : 2];
                if (philox && nninit_rng_set_stream_version(rngs[1], version, &err) != NNINIT_OK) {
                    fprintf(stderr, "nninit: bench: %s\n", err.msg);
                    rc = CLI_EXIT_FAIL;
                    break;
                }
                nninit_init init;
                if (nninit_init_parse(op->spec, &init, &err) != NNINIT_OK) {
                    fprintf(stderr, "nninit: bench: %s\n", err.msg);
                    rc = CLI_EXIT_FAIL;
                    break;
                }
                double w[64], c[64], tw[64], tc[64];
                int reps = cfg->reps, got_torch = have_torch;
                for (int r = 0; r < reps; r++) {
                    if (time_fill(&init, rngs[philox], dtype, buf, n, &w[r], &c[r], &err)) {
                        fprintf(stderr, "nninit: bench: %s\n", err.msg);
                        rc = CLI_EXIT_FAIL;
                        break;
                    }
                    if (got_torch &&
                        pytorch_time(&py, op->fn, d ? "float64" : "float32", n, op->kwargs, &tw[r], &tc[r])) {
                        printf("# PyTorch stopped answering; nninit only from here\n");
                        got_torch = have_torch = 0;
                        pytorch_stop(&py);
                    }
                }
                if (rc != CLI_EXIT_OK)
                    break;
                double mw = median(w, reps), mc = median(c, reps);
                double pw = got_torch ? median(tw, reps) : 0, pc = got_torch ? median(tc, reps) : 0;
                static const char *const PHILOX_NAME[] = {"", "philox1", "philox2", "philox"};
                const char *rname = !philox                           ? "torch"
                                    : version == NNINIT_STREAM_VERSION ? "philox"
                                                                       : PHILOX_NAME[version];
                if (cfg->csv)
                    printf("torch,%lld,%s,%s,%s,%.6g,%.6g,%.6g,%.6g,%.4g,%.4g\n", (long long)n,
                           nninit_dtype_name(dtype), rname, op->spec, mw, mc, pw, pc, got_torch ? pw / mw : 0,
                           got_torch && mc > 0 ? pc / mc : 0);
                else if (got_torch)
                    printf("%10lld %-7s %-7s %-38s %10.2f %10.2f %8.2f %8.2f\n", (long long)n,
                           nninit_dtype_name(dtype), rname, op->spec, mw * 1e3, pw * 1e3, pw / mw,
                           mc > 0 ? pc / mc : 0);
                else
                    printf("%10lld %-7s %-7s %-38s %10.2f %10s %8s %8s\n", (long long)n, nninit_dtype_name(dtype),
                           rname, op->spec, mw * 1e3, "-", "-", "-");
                fflush(stdout);
            }
            free(buf);
        }
    }
done:
    nninit_rng_free(rngs[0]);
    nninit_rng_free(rngs[1]);
    if (have_torch)
        pytorch_stop(&py);
    signal(SIGPIPE, old_pipe);
    return rc;
}

static void bench_usage(FILE *f)
{
    fprintf(f, "usage: nninit bench [--sizes LIST] [--threads N] [--reps N] [--warm-only] [--no-gen]\n"
               "                    [--orthogonal] [--torch [--python PATH]] [--csv]\n"
               "\n"
               "Time Philox generation (uniform, normal, truncated normal; float32; the truncated normal\n"
               "also in stream formats 2 and 1: trunc_v2, trunc_v1) against memset of\n"
               "the same buffer in the same run, for 1 thread and N threads, on a warm buffer, a fresh\n"
               "malloc'd one and a fresh one with transparent huge pages (page faults included;\n"
               "fresh buffers up to 64 Mi elements, 3 runs).\n"
               "\n"
               "  --sizes LIST   element counts; suffix Mi/Ki allowed (default 1Mi,16Mi,64Mi,256Mi);\n"
               "                 sizes over 40%% of available memory are skipped\n"
               "  --threads N    the multi-threaded column, 0..%d (default 0 = all online CPUs)\n"
               "  --reps N       runs per figure, the median is shown (default 5)\n"
               "  --warm-only    skip fresh buffers\n"
               "  --orthogonal   also time orthogonal_ for 512^2, 2048^2, 4096^2, 8192x1024\n"
               "  --torch        also time PyTorch's init functions (uniform_, normal_, trunc_normal_,\n"
               "                 kaiming_*, xavier_*; float32 and float64) with --rng torch, and Philox's\n"
               "                 uniform, normal and truncated normal (float32 also in stream formats\n"
               "                 2 and 1: rng philox2, philox1), on one thread against PyTorch\n"
               "                 1 thread in the same run (alternating), when Python can import torch;\n"
               "                 sizes default to 16Mi here\n"
               "  --python PATH  the Python for --torch (default $NNINIT_PYTHON, else /usr/bin/python3,\n"
               "                 else python3 on the PATH)\n"
               "  --no-gen       no Philox-against-memset table (only --orthogonal / --torch)\n"
               "  --csv          machine-readable rows\n"
               "NNINIT_SIMD=scalar|avx2|avx512 caps the vector path (the values never change).\n"
               "\n" CLI_EXIT_STATUS_HELP, CLI_MAX_THREADS);
}

static int parse_size(const char *s, int64_t *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno)
        return 0;
    double mul = 1;
    if (!strcmp(end, "Mi") || !strcmp(end, "M"))
        mul = 1048576.0;
    else if (!strcmp(end, "Ki") || !strcmp(end, "K"))
        mul = 1024.0;
    else if (!strcmp(end, "Gi") || !strcmp(end, "G"))
        mul = 1073741824.0;
    else if (*end)
        return 0;
    v *= mul;
    if (!(v >= 1 && v <= 4e12))
        return 0;
    *out = (int64_t)v;
    return 1;
}

int cmd_bench(int argc, char **argv)
{
    bench_cfg cfg;
    memset(&cfg, 0, sizeof cfg);
    const int64_t def[] = {INT64_C(1) << 20, INT64_C(16) << 20, INT64_C(64) << 20, INT64_C(256) << 20};
    for (int i = 0; i < 4; i++)
        cfg.sizes[i] = def[i];
    cfg.n_sizes = 4;
    cfg.reps = 5;
    cfg.cold = cfg.warm = cfg.gen = 1;
    enum { O_SIZES = 1, O_THREADS, O_REPS, O_WARM_ONLY, O_ORTHO, O_NO_GEN, O_CSV, O_TORCH, O_PYTHON };
    static const cli_opt options[] = {{"--sizes", NULL, 1, O_SIZES},       {"--threads", NULL, 1, O_THREADS},
                                      {"--reps", NULL, 1, O_REPS},         {"--warm-only", NULL, 0, O_WARM_ONLY},
                                      {"--orthogonal", NULL, 0, O_ORTHO}, {"--no-gen", NULL, 0, O_NO_GEN},
                                      {"--csv", NULL, 0, O_CSV},           {"--torch", NULL, 0, O_TORCH},
                                      {"--python", NULL, 1, O_PYTHON},     {0}};
    cli_args args;
    cli_args_init(&args, "bench", argc, argv, options, bench_usage);
    for (int id; (id = cli_next(&args)) != CLI_END;) {
        int ok = 1;
        switch (id) {
        case CLI_STOP:
            return args.rc;
        case CLI_ARG:
            return cli_unexpected(&args, args.val, NULL);
        case O_SIZES: {
            char tmp[512];
            snprintf(tmp, sizeof tmp, "%s", args.val);
            cfg.n_sizes = 0;
            for (char *tok = strtok(tmp, ","); tok && ok; tok = strtok(NULL, ",")) {
                if (cfg.n_sizes == MAX_SIZES || !parse_size(tok, &cfg.sizes[cfg.n_sizes]))
                    ok = cli_bad_value("--sizes", args.val, "up to %d counts like 1Mi,16Mi,1000000", MAX_SIZES);
                cfg.n_sizes++;
            }
            cfg.sizes_given = 1;
            break;
        }
        case O_THREADS:
            ok = cli_parse_threads(args.val, &cfg.threads);
            break;
        case O_REPS:
            ok = cli_parse_int("--reps", args.val, 1, 64, &cfg.reps);
            break;
        case O_WARM_ONLY:
            cfg.cold = 0;
            break;
        case O_ORTHO:
            cfg.ortho = 1;
            break;
        case O_NO_GEN:
            cfg.gen = 0;
            break;
        case O_CSV:
            cfg.csv = 1;
            break;
        case O_TORCH:
            cfg.torch = 1;
            break;
        case O_PYTHON:
            cfg.python = args.val;
            break;
        }
        if (!ok)
            return CLI_EXIT_USAGE;
    }
    int rc = CLI_EXIT_OK;
    if (cfg.gen)
        rc = bench_gen(&cfg);
    if (rc == CLI_EXIT_OK && cfg.ortho)
        rc = bench_ortho(&cfg);
    if (rc == CLI_EXIT_OK && cfg.torch) {
        if (!cfg.sizes_given) {
            cfg.sizes[0] = INT64_C(16) << 20;
            cfg.n_sizes = 1;
        }
        rc = bench_torch(&cfg);
    }
    return rc;
}
