/* nninit lab: the classic lessons of initialization, measured, with a report. */
#include "cli.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static void lab_usage(FILE *f)
{
    fprintf(f,
            "usage: nninit lab [options]\n"
            "\n"
            "Reproduces the classic lessons of weight initialization and checks each against a stated\n"
            "criterion: zero/constant init never breaks symmetry; unscaled random init makes deep\n"
            "signals vanish; He suits ReLU, Glorot suits tanh (50-layer probes next to mean-field\n"
            "theory); zero init cannot train, deep tanh nets need Glorot, batch norm removes most of the\n"
            "sensitivity (Fashion-MNIST training). Prints a markdown report on stdout and writes it\n"
            "with SVG plots and a JSON summary to the output folder.\n"
            "\n"
            "  --data DIR      IDX data set folder (default $NNINIT_DATA, else Debian's\n"
            "                  /usr/share/datasets/fashion-mnist; missing default data skips training)\n"
            "  --out DIR       report folder (default lab-report); --no-files to write nothing\n"
            "  --epochs N      epochs per training run (default 3)\n"
            "  --limit N       use only the first N training images\n"
            "  --depth N       depth of the signal-propagation nets (default 50)\n"
            "  --width N       their width (default 256)\n"
            "  --no-training   only the lessons that need no data\n"
            "  --seed N        default %u\n"
            "  --threads N     BLAS threads (default: all CPUs)\n"
            "  --quiet         no report on stdout (files only)\n"
            "\n"
            "Exit status: 0 when the lab ran (a lesson not reproduced is reported, not an error),\n"
            "1 runtime failure, 2 usage error.\n",
            (unsigned)NNINIT_DEFAULT_SEED);
}

static void print_line(const char *line, void *user)
{
    (void)user;
    puts(line);
    fflush(stdout);
}

int cmd_lab(int argc, char **argv)
{
    nninit_lab_opts o = nninit_lab_opts_default();
    const char *out = "lab-report";
    int quiet = 0, no_files = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int takes = !strcmp(a, "--data") || !strcmp(a, "--out") || !strcmp(a, "--epochs") || !strcmp(a, "--limit") ||
                    !strcmp(a, "--depth") || !strcmp(a, "--width") || !strcmp(a, "--seed") ||
                    !strcmp(a, "--threads");
        if (takes && !v) {
            cli_error("option '%s' needs a value; see 'nninit lab --help'", a);
            return CLI_EXIT_USAGE;
        }
        int n;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            lab_usage(stdout);
            return CLI_EXIT_OK;
        } else if (!strcmp(a, "--data")) {
            o.data_dir = v;
        } else if (!strcmp(a, "--out")) {
            out = v;
        } else if (!strcmp(a, "--no-files")) {
            no_files = 1;
        } else if (!strcmp(a, "--epochs")) {
            if (!cli_parse_int("--epochs", v, 1, 64, &o.epochs))
                return CLI_EXIT_USAGE;
        } else if (!strcmp(a, "--limit")) {
            if (!cli_parse_int("--limit", v, 1, 2000000000, &n))
                return CLI_EXIT_USAGE;
            o.train_limit = n;
        } else if (!strcmp(a, "--depth")) {
            if (!cli_parse_int("--depth", v, 2, 1000, &o.depth))
                return CLI_EXIT_USAGE;
        } else if (!strcmp(a, "--width")) {
            if (!cli_parse_int("--width", v, 2, 8192, &n))
                return CLI_EXIT_USAGE;
            o.width = n;
        } else if (!strcmp(a, "--seed")) {
            if (!cli_parse_u64("--seed", v, &o.seed))
                return CLI_EXIT_USAGE;
        } else if (!strcmp(a, "--threads")) {
            if (!cli_parse_int("--threads", v, 1, 256, &o.threads))
                return CLI_EXIT_USAGE;
        } else if (!strcmp(a, "--no-training")) {
            o.skip_training = 1;
        } else if (!strcmp(a, "--quiet")) {
            quiet = 1;
        } else {
            cli_error("unknown option '%s'; see 'nninit lab --help'", a);
            return CLI_EXIT_USAGE;
        }
        if (takes)
            i++;
    }
    o.out_dir = no_files ? NULL : out;
    if (!quiet)
        o.on_line = print_line;
    nninit_lab_summary s;
    nninit_err err = {0};
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    nninit_status st = nninit_lab_run(&o, &s, &err);
    if (st != NNINIT_OK)
        return cli_report(st, &err);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    int confirmed = 0, checked = 0;
    for (int i = 0; i < s.n_lessons; i++) {
        checked += s.lessons[i].checked;
        confirmed += s.lessons[i].confirmed;
    }
    fprintf(stderr, "nninit lab: %d of %d checked lessons confirmed in %.1f s%s%s\n", confirmed, checked,
            (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec),
            o.out_dir ? "; report in " : "", o.out_dir ? o.out_dir : "");
    return CLI_EXIT_OK;
}
