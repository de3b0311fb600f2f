/* Options shared by the commands that write large outputs (model, gen and
 * nninit-mpi): tensor-parallel slices (--shard-dim D --shard K/N), byte
 * sizes (5GB, 512MiB), and a progress line with throughput on a terminal. */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

int cli_parse_slice(const char *text, int *index, int *count)
{
    char *end;
    errno = 0;
    long k = strtol(text, &end, 10);
    if (errno || end == text || *end != '/')
        return cli_bad_value("--shard", text, "K/N with 0 <= K < N, e.g. 1/4 (slice 1 of 4, counted from 0)");
    const char *ns = end + 1;
    long n = strtol(ns, &end, 10);
    if (errno || end == ns || *end || n < 1 || n > 1 << 20 || k < 0 || k >= n)
        return cli_bad_value("--shard", text, "K/N with 0 <= K < N, e.g. 1/4 (slice 1 of 4, counted from 0)");
    *index = (int)k;
    *count = (int)n;
    return 1;
}

int cli_parse_size(const char *text, uint64_t *out)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (end == text || errno || !(v > 0))
        return 0;
    static const struct { const char *unit; double mult; } units[] = {
        {"", 1}, {"B", 1}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12},
        {"KiB", 1024.0}, {"MiB", 1048576.0}, {"GiB", 1073741824.0}, {"TiB", 1099511627776.0}};
    /* The first match wins, so "kib" finds KiB (binary) only after KB fails. */
    for (size_t i = 0; i < sizeof units / sizeof *units; i++)
        if (!strcasecmp(end, units[i].unit)) { /* 5GB, 5gb, 500kB */
            double bytes = v * units[i].mult;
            if (bytes < 1 || bytes > 1.8e19)
                return 0;
            *out = (uint64_t)bytes;
            return 1;
        }
    return 0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void cli_progress_init(cli_progress *p, const char *what)
{
    memset(p, 0, sizeof *p);
    p->what = what;
    p->on = cli_stderr_is_tty();
    p->start = now_s();
}

void cli_progress_update(void *user, uint64_t done, uint64_t total)
{
    cli_progress *p = user;
    if (!p->on)
        return;
    double t = now_s();
    if (done < total && t - p->last < 0.25) /* at most 4 lines a second */
        return;
    p->last = t;
    double secs = t - p->start > 1e-6 ? t - p->start : 1e-6;
    fprintf(stderr, "\r%s: %.2f of %.2f GB (%3.0f%%), %.2f GB/s  ", p->what, (double)done / 1e9, (double)total / 1e9,
            total ? 100.0 * (double)done / (double)total : 100.0, (double)done / 1e9 / secs);
    p->shown = 1;
}

void cli_progress_end(cli_progress *p)
{
    if (p->shown)
        fputc('\n', stderr); /* keep the last figures; errors start on a line of their own */
    p->shown = 0;
}
