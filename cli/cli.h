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
int cmd_train(int argc, char **argv);
int cmd_theory(int argc, char **argv);
int cmd_probe(int argc, char **argv);
int cmd_bench(int argc, char **argv);

/* Splits a comma-separated list of SPECs at top-level commas (not inside
 * (), [], {} or quotes) into items, max_items slots of item_cap bytes each,
 * NUL-terminated (cli/spec_list.c). Returns CLI_SPLIT_OK or why not. */
enum { CLI_SPLIT_OK = 0, CLI_SPLIT_EMPTY, CLI_SPLIT_TOO_MANY, CLI_SPLIT_TOO_LONG };
int cli_split_specs(const char *text, char *items, size_t item_cap, int max_items, int *n_items);

/* 1 if the folder of output file `path` exists and is writable, else prints
 * "<what> '<path>': folder ... is not writable" and returns 0 (cli/outpath.c). */
int cli_output_dir_ok(const char *what, const char *path);

/* Prints "nninit: <message>" on stderr. */
void cli_error(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

/* Prints err->msg (or the status text) and returns the exit code for it:
 * CLI_EXIT_USAGE for bad input named on the command line (EINVAL, ENOTFOUND,
 * EOVERFLOW), CLI_EXIT_FAIL otherwise. */
int cli_report(nninit_status s, const nninit_err *err);

/* Strict number parsing of a whole option value; print an error naming
 * `what` and return 0 on failure. */
int cli_parse_u64(const char *what, const char *text, uint64_t *out); /* also accepts negative int64 (two's complement) */
int cli_parse_int(const char *what, const char *text, long lo, long hi, int *out);
int cli_parse_double(const char *what, const char *text, double *out);

/* Reads a whole file of at most max bytes into a malloc'd buffer; prints
 * the error and returns 0 on failure. */
int cli_read_file(const char *path, size_t max, void **buf, size_t *len);
/* Writes buf to path through a temporary sibling and rename; prints the
 * error, removes the temporary and returns 0 on failure. */
int cli_write_file_atomic(const char *path, const void *buf, size_t len);

/* JSON output: a string escaped by nninit_json_quote; a
 * number with `digits` significant digits, or null for NaN/inf (JSON has
 * neither). */
void cli_json_str(FILE *f, const char *s);
void cli_json_num(FILE *f, int digits, double v);

/* 1 if stderr is a terminal (progress output allowed). */
int cli_stderr_is_tty(void);

#endif
