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
            "  --threads N     BLAS threads, 0..%d (default 0: all CPUs)\n"
            "  --quiet         no report on stdout (files only)\n"
            "\n"
            "A lesson not reproduced is reported in the report, not an error.\n" CLI_EXIT_STATUS_HELP,
            (unsigned)NNINIT_DEFAULT_SEED, CLI_MAX_THREADS);
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
    enum { O_DATA = 1, O_OUT, O_NO_FILES, O_EPOCHS, O_LIMIT, O_DEPTH, O_WIDTH, O_SEED, O_THREADS, O_NO_TRAINING,
           O_QUIET };
    static const cli_opt options[] = {
        {"--data", NULL, 1, O_DATA}, {"--out", NULL, 1, O_OUT}, {"--no-files", NULL, 0, O_NO_FILES},
        {"--epochs", NULL, 1, O_EPOCHS}, {"--limit", NULL, 1, O_LIMIT}, {"--depth", NULL, 1, O_DEPTH},
        {"--width", NULL, 1, O_WIDTH}, {"--seed", NULL, 1, O_SEED}, {"--threads", NULL, 1, O_THREADS},
        {"--no-training", NULL, 0, O_NO_TRAINING}, {"--quiet", NULL, 0, O_QUIET}, {0}};
    cli_args args;
    cli_args_init(&args, "lab", argc, argv, options, lab_usage);
    for (int id; (id = cli_next(&args)) != CLI_END;) {
        const char *v = args.val;
        int n, ok = 1;
        switch (id) {
        case CLI_STOP:
            return args.rc;
        case CLI_ARG:
            return cli_unexpected(&args, v, NULL);
        case O_DATA:
            o.data_dir = v;
            break;
        case O_OUT:
            out = v;
            break;
        case O_NO_FILES:
            no_files = 1;
            break;
        case O_EPOCHS:
            ok = cli_parse_int("--epochs", v, 1, 64, &o.epochs);
            break;
        case O_LIMIT:
            if ((ok = cli_parse_int("--limit", v, 1, 2000000000, &n)))
                o.train_limit = n;
            break;
        case O_DEPTH:
            ok = cli_parse_int("--depth", v, 2, 1000, &o.depth);
            break;
        case O_WIDTH:
            if ((ok = cli_parse_int("--width", v, 2, 8192, &n)))
                o.width = n;
            break;
        case O_SEED:
            ok = cli_parse_u64("--seed", v, &o.seed);
            break;
        case O_THREADS:
            ok = cli_parse_threads(v, &o.threads);
            break;
        case O_NO_TRAINING:
            o.skip_training = 1;
            break;
        case O_QUIET:
            quiet = 1;
            break;
        }
        if (!ok)
            return CLI_EXIT_USAGE;
    }
    o.out_dir = no_files ? NULL : out;
    if (o.out_dir)
        cli_watch_dir(o.out_dir);
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
