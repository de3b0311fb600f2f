/* nninit lab: the lessons of initialization, measured, with a report. */
#include "cli.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void lab_usage(FILE *f)
{
    fprintf(f,
            "usage: nninit lab [options]\n"
            "\n"
            "Reproduces the lessons of weight initialization and checks each against a criterion\n"
            "stated before the run: symmetry, signals through depth next to mean-field theory,\n"
            "Fashion-MNIST training (zero init, deep tanh, LSUV, batch norm), the tutorial's three\n"
            "pitfalls, data-dependent init (LSUV, weight-norm init), real-data correlations, the\n"
            "per-layer monitor, residual nets without normalization (Fixup, SkipInit), and recurrent\n"
            "memory on the adding problem (IRNN, orthogonal, LSTM forget bias and chrono), and a\n"
            "small character transformer on fortunes (GPT-2's init vs unscaled, N(0, 1) embeddings).\n"
            "A lesson that does not hold is reported as not reproduced.\n"
            "\n"
            "Writes report.html (self-contained: inline SVG, opens in any browser), report.md,\n"
            "lab.json (every number the report shows) and one SVG per figure to the output folder.\n"
            "On a terminal: one progress line per experiment, then the summary; otherwise the\n"
            "markdown report on stdout as it is produced.\n"
            "\n"
            "  --quick         smaller nets, sets and budgets (about a minute on 2 cores)\n"
            "  --only A,B      run only the named experiments (see --list)\n"
            "  --list          print the experiments' names and questions, and exit\n"
            "  --data DIR      IDX data set folder (default $NNINIT_DATA, else Debian's\n"
            "                  /usr/share/datasets/fashion-mnist; missing default data skips training)\n"
            "  --out DIR       report folder (default lab-report), created if missing; its parent must\n"
            "                  exist (as for the other commands' outputs); --no-files to write nothing\n"
            "  --epochs N      epochs per training run (default 3; quick 2)\n"
            "  --limit N       use only the first N training images (default all; quick 15000)\n"
            "  --depth N       depth of the signal-propagation nets (default 50)\n"
            "  --width N       their width (default 256)\n"
            "  --no-training   only the lessons that need no data\n"
            "  --seed N        default %u\n"
            "  --threads N     BLAS threads, 0..%d (default 0: all CPUs)\n"
            "  --quiet         nothing on stdout (files only)\n"
            "\n"
            "The report's rerun line repeats every setting of the run.\n" CLI_EXIT_STATUS_HELP,
            (unsigned)NNINIT_DEFAULT_SEED, CLI_MAX_THREADS);
}

static void print_line(const char *line, void *user)
{
    (void)user;
    puts(line);
    fflush(stdout);
}

/* One line per experiment on a terminal: redrawn in place while it runs,
 * left with its verdict and time when it ends. */
typedef struct progress {
    struct timespec t0;
    int index, last_pct;
} progress;

static double since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + 1e-9 * (double)(t.tv_nsec - t0->tv_nsec);
}

static void on_progress(int index, int count, const char *name, double fraction, const char *verdict, void *user)
{
    progress *p = user;
    if (index != p->index) { /* a new experiment: its clock starts */
        clock_gettime(CLOCK_MONOTONIC, &p->t0);
        p->index = index;
        p->last_pct = -1;
    }
    int pct = (int)(fraction * 100);
    if (!verdict && pct == p->last_pct)
        return;
    p->last_pct = pct;
    if (verdict)
        fprintf(stderr, "\r\033[K[%d/%d] %-24s %s (%.1f s)\n", index + 1, count, name, verdict, since(&p->t0));
    else
        fprintf(stderr, "\r\033[K[%d/%d] %-24s %3d%%  %.0f s", index + 1, count, name, pct, since(&p->t0));
    fflush(stderr);
}

int cmd_lab(int argc, char **argv)
{
    nninit_lab_opts o = nninit_lab_opts_default();
    const char *out = "lab-report";
    int quiet = 0, no_files = 0, list = 0;
    enum { O_DATA = 1, O_OUT, O_NO_FILES, O_EPOCHS, O_LIMIT, O_DEPTH, O_WIDTH, O_SEED, O_THREADS, O_NO_TRAINING,
           O_QUIET, O_QUICK, O_ONLY, O_LIST };
    static const cli_opt options[] = {
        {"--data", NULL, 1, O_DATA}, {"--out", NULL, 1, O_OUT}, {"--no-files", NULL, 0, O_NO_FILES},
        {"--epochs", NULL, 1, O_EPOCHS}, {"--limit", NULL, 1, O_LIMIT}, {"--depth", NULL, 1, O_DEPTH},
        {"--width", NULL, 1, O_WIDTH}, {"--seed", NULL, 1, O_SEED}, {"--threads", NULL, 1, O_THREADS},
        {"--no-training", NULL, 0, O_NO_TRAINING}, {"--quiet", NULL, 0, O_QUIET}, {"--quick", NULL, 0, O_QUICK},
        {"--only", NULL, 1, O_ONLY}, {"--list", NULL, 0, O_LIST}, {0}};
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
        case O_QUICK:
            o.quick = 1;
            break;
        case O_ONLY:
            o.only = v;
            break;
        case O_LIST:
            list = 1;
            break;
        }
        if (!ok)
            return CLI_EXIT_USAGE;
    }
    if (list) {
        for (int i = 0; nninit_lab_experiment_name(i); i++)
            printf("%-24s %s\n", nninit_lab_experiment_name(i), nninit_lab_experiment_title(i));
        return CLI_EXIT_OK;
    }
    o.out_dir = no_files ? NULL : out;
    if (o.out_dir && !cli_output_folder_ok("--out", o.out_dir)) /* before the work, not after it */
        return CLI_EXIT_FAIL;
    if (o.out_dir)
        cli_watch_dir(o.out_dir);
    int tty_out = isatty(STDOUT_FILENO);
    if (!quiet && !tty_out)
        o.on_line = print_line;
    progress prog = {{0, 0}, -1, -1};
    if (cli_stderr_is_tty()) {
        o.on_progress = on_progress;
        o.user = &prog;
    }
    nninit_lab_summary s;
    nninit_err err = {0};
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    nninit_status st = nninit_lab_run(&o, &s, &err);
    if (st != NNINIT_OK) {
        if (o.on_progress)
            fputs("\n", stderr);
        return cli_report(st, &err);
    }
    int confirmed = 0, checked = 0;
    for (int i = 0; i < s.n_lessons; i++) {
        checked += s.lessons[i].checked;
        confirmed += s.lessons[i].confirmed;
    }
    if (!quiet && tty_out) { /* the terminal summary: every lesson with its numbers and verdict */
        printf("\n");
        for (int i = 0; i < s.n_lessons; i++) {
            const nninit_lab_lesson *l = &s.lessons[i];
            printf("%-15s %s [%s]\n    %s\n", !l->checked ? "skipped" : l->confirmed ? "confirmed" : "NOT reproduced",
                   l->title, l->experiment, l->evidence);
        }
        printf("\nrerun: %s\n", s.rerun);
    }
    fprintf(stderr, "nninit lab: %d of %d checked lessons confirmed in %.1f s%s%s%s\n", confirmed, checked,
            since(&t0), o.out_dir ? "; report in " : "", o.out_dir ? o.out_dir : "",
            o.out_dir ? "/report.html" : "");
    return CLI_EXIT_OK;
}
