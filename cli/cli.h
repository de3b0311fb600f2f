/* Shared declarations of the nninit command-line tool: one cmd_<name>.c per
 * subcommand, each using only the public header and these helpers. */
#ifndef NNINIT_CLI_H
#define NNINIT_CLI_H

#include "nninit.h"
#include "nninit_analysis.h"
#include "nninit_data.h"
#include "nninit_io.h"
#include "nninit_model.h"
#include "nninit_nn.h"
#include "lab.h"

#include <stdint.h>
#include <stdio.h>

enum { CLI_EXIT_OK = 0, CLI_EXIT_FAIL = 1, CLI_EXIT_USAGE = 2 };
/* Returned by a command's argument parser when the command goes on. */
enum { CLI_CONTINUE = -1 };

/* The last lines of every command's --help (and of its man page). */
#define CLI_EXIT_STATUS_HELP                                                                                    \
    "Exit status: 0 success; 1 runtime failure (an input file missing or unreadable, a write that failed,\n"     \
    "a computation that failed); 2 usage error (an unknown or malformed option, an invalid SPEC or value).\n"

/* One range for --threads in every command: 0 means the default (all CPUs,
 * or BLAS's own setting); values never depend on it unless a help says so. */
#define CLI_MAX_THREADS 256 /* the library's own cap (src/core/parallel.c) */

typedef struct cli_command {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv); /* argv[0] is the subcommand name */
} cli_command;

/* Subcommands (cmd_<name>.c). */
int cmd_gen(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_lab(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_model(int argc, char **argv);
int cmd_advise(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_theory(int argc, char **argv);
int cmd_probe(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_clean(int argc, char **argv);

/* ---- the option layer (cli/opt.c) ----
 * Every subcommand parses its arguments with it:
 *
 *     enum { O_SHAPE = 1, O_OUT };
 *     static const cli_opt opts[] = {{"--shape", NULL, 1, O_SHAPE}, {"--output", "-o", 1, O_OUT}, {0}};
 *     cli_args a;
 *     cli_args_init(&a, "gen", argc, argv, opts, gen_usage);
 *     for (int id; (id = cli_next(&a)) != CLI_END;) {
 *         switch (id) {
 *         case CLI_STOP: return a.rc;          // --help/--version printed, or the error
 *         case CLI_ARG: positional(a.val); break;
 *         case O_SHAPE: parse(a.val); break;    // a.opt: the option's long name
 *         }
 *     }
 *
 * --help/-h and --version/-V are answered by cli_next itself (exit 0);
 * --name=VALUE equals --name VALUE; "--" makes the rest positional; "-" and
 * negative numbers are positional. */
typedef struct cli_opt {
    const char *name;  /* "--shape"; a {0} entry ends the table */
    const char *alias; /* "-o" or NULL */
    int value;         /* 1: takes a value */
    int id;            /* > 0, returned by cli_next */
} cli_opt;

typedef struct cli_args {
    const char *cmd; /* "gen", for messages */
    int argc, i, rest;
    char **argv;
    const cli_opt *opts;
    void (*usage)(FILE *);
    const char *opt; /* long name of the option just returned */
    const char *val; /* its value, or the positional argument */
    int rc;          /* exit status after CLI_STOP */
} cli_args;

enum { CLI_END = 0, CLI_STOP = -1, CLI_ARG = -2 };
void cli_args_init(cli_args *a, const char *cmd, int argc, char **argv, const cli_opt *opts,
                   void (*usage)(FILE *));
int cli_next(cli_args *a);
void cli_print_version(FILE *f);
/* "unexpected argument 'X'; HINT" (HINT NULL: see 'nninit CMD --help'); returns CLI_EXIT_USAGE. */
int cli_unexpected(const cli_args *a, const char *arg, const char *hint);
/* "OPT 'VAL': expected <printf(expected, ...)>"; returns 0. The one wording of a bad option value. */
int cli_bad_value(const char *opt, const char *val, const char *expected, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* --threads N with N in [0, CLI_MAX_THREADS]; prints the error and returns 0 if not. */
int cli_parse_threads(const char *text, int *out);

/* Splits a comma-separated list of SPECs at top-level commas (not inside
 * (), [], {} or quotes) into items, max_items slots of item_cap bytes each,
 * NUL-terminated (cli/spec_list.c). Returns CLI_SPLIT_OK or why not. */
enum { CLI_SPLIT_OK = 0, CLI_SPLIT_EMPTY, CLI_SPLIT_TOO_MANY, CLI_SPLIT_TOO_LONG };
int cli_split_specs(const char *text, char *items, size_t item_cap, int max_items, int *n_items);

/* Before the work, for every output file path (cli/outpath.c): 1 if it is
 * "-" or its folder exists and is writable and it is not itself a folder;
 * else prints why and returns 0. Also notes stale temporaries of dead runs
 * beside it and has the signal handler watch its folder. */
int cli_output_dir_ok(const char *what, const char *path);
/* The same for an output folder (nninit lab --out): 1 if it is a writable
 * folder, or does not exist and its parent is a writable folder (the
 * command creates the last folder only, never its parents); else prints why
 * and returns 0. */
int cli_output_folder_ok(const char *what, const char *path);
/* 1 if path's file system has room for `bytes` (or it cannot be told, or
 * path is "-" or a FIFO/device); else prints how much is needed and free. */
int cli_space_ok(const char *what, const char *path, double bytes);
/* Prints a note for each ".NAME.tmp.PID.N" beside path whose PID has ended. */
void cli_note_stale_temps(const char *path);
/* Removes the atomic writer's temporaries in dir: this process's (only_pid)
 * or those of processes that ended; prints each unless quiet. Returns the
 * count, -1 if dir cannot be read. */
int cli_clean_temps(const char *dir, int only_pid, int quiet);
/* The same in dir and its subfolders (16 deep, not through links or hidden
 * folders; an npy-dir output keeps tensors in subfolders). depth: 0. */
int cli_clean_temps_tree(const char *dir, int only_pid, int quiet, int depth);

/* Signals (cli/signals.c): SIGINT/SIGTERM/SIGHUP remove this run's
 * temporaries in the watched folders and exit 130/143/129 with one line;
 * SIGXFSZ is ignored so a file-size limit is a write error. Call once, before
 * any thread starts. */
void cli_install_signals(void);
void cli_watch_dir(const char *dir);
/* An npy-dir output: on a signal its whole tree is cleaned, and the folders
 * the write would create for the model's names ('/' makes subfolders), which
 * do not exist now, are removed again (deepest first, only if empty). */
void cli_watch_npy_dir(const char *dir, const nninit_model *m);

/* Writes s with control characters escaped as \xNN: names from files
 * printed as text never break a line or drive the terminal. */
void cli_put_escaped(FILE *f, const char *s);

/* Prints "nninit: <message>" on stderr, escaped as cli_put_escaped does. */
void cli_error(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

/* Prints err->msg (or the status text) and returns the exit code for it:
 * CLI_EXIT_USAGE for bad input named on the command line (EINVAL, ENOTFOUND,
 * EOVERFLOW), CLI_EXIT_FAIL otherwise, and for any error
 * carrying a system errno (a missing or unreadable file is a runtime failure). */
int cli_report(nninit_status s, const nninit_err *err);

/* Strict number parsing of a whole option value; print an error naming
 * `what` and return 0 on failure. */
int cli_parse_u64(const char *what, const char *text, uint64_t *out); /* also accepts negative int64 (two's complement) */
int cli_parse_int(const char *what, const char *text, long lo, long hi, int *out);
int cli_parse_double(const char *what, const char *text, double *out);

/* Input paths: "-" is standard input, copied to a private temporary file
 * (*spooled, removed by cli_input_done) since readers seek; any other path
 * is returned as is. NULL (message printed) on failure. */
const char *cli_input_path(const char *path, char **spooled);
void cli_input_done(char *spooled);
/* Says "-" where a message names the spooled copy of standard input. */
void cli_input_name(nninit_err *err, const char *spooled);

/* Reads a whole file of at most max bytes into a malloc'd buffer; prints
 * the error and returns 0 on failure. */
int cli_read_file(const char *path, size_t max, void **buf, size_t *len);

/* JSON output: a string escaped by nninit_json_quote; a
 * number with `digits` significant digits, or null for NaN/inf (JSON has
 * neither). */
void cli_json_str(FILE *f, const char *s);
void cli_json_num(FILE *f, int digits, double v);

/* 1 if stderr is a terminal (progress output allowed). */
int cli_stderr_is_tty(void);

/* ---- large outputs (cli/scale_opts.c) ---- */
/* nninit model with another writer in place of nninit_model_write (the MPI
 * binary's; NULL = nninit_model_write): options, input and checks as ever. */
typedef nninit_status (*cli_model_writer)(const nninit_model *m, const char *path, const nninit_model_opts *opts,
                                          void *ctx, nninit_err *err);
int cli_model_main(int argc, char **argv, cli_model_writer writer, void *writer_ctx);
/* --shard K/N (0 <= K < N); prints the error and returns 0 if malformed. */
int cli_parse_slice(const char *text, int *index, int *count);
/* "5GB" (10^9), "500MB", "2GiB" (2^30), "1000" bytes; 0 if malformed. */
int cli_parse_size(const char *text, uint64_t *out);
/* A progress line with throughput on stderr when it is a terminal:
 * pass cli_progress_update and &p as nninit_model_opts.progress(_user). */
typedef struct cli_progress {
    const char *what;
    int on, shown;
    double start, last;
} cli_progress;
void cli_progress_init(cli_progress *p, const char *what);
void cli_progress_update(void *user, uint64_t done, uint64_t total);
void cli_progress_end(cli_progress *p);

/* net_model.c: a network's initial values generated by the model layer
 * exactly as `nninit model` writes them (Philox, seed; kernel_spec, if not
 * NULL, replaces every dense/conv kernel's initializer); and the network's
 * current tensors written under the model's names (Keras layouts). */
nninit_status cli_net_init_from_model(nninit_net *net, nninit_model *m, uint64_t seed, nninit_layout layout,
                                      const char *kernel_spec, nninit_err *err);
nninit_status cli_net_write_tensors(nninit_net *net, const nninit_model *m, const char *path, nninit_file_format fmt,
                                    nninit_err *err);

#endif
