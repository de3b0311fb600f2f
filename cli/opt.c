/* The option layer every subcommand parses its arguments with: --help and
 * --version everywhere, --name=VALUE and --name VALUE alike, "--" ends the
 * options, and one wording per kind of mistake (unknown option with a
 * suggestion, missing value, bad value, unexpected argument). */
#include "cli.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void cli_args_init(cli_args *a, const char *cmd, int argc, char **argv, const cli_opt *opts,
                   void (*usage)(FILE *))
{
    memset(a, 0, sizeof *a);
    a->cmd = cmd;
    a->argc = argc;
    a->argv = argv;
    a->i = 1; /* argv[0] is the subcommand's name */
    a->opts = opts;
    a->usage = usage;
}

/* "-" (stdin/stdout) and negative numbers are arguments, not options. */
static int looks_like_option(const char *s)
{
    if (s[0] != '-' || s[1] == '\0')
        return 0;
    if ((s[1] >= '0' && s[1] <= '9') || (s[1] == '.' && s[2] >= '0' && s[2] <= '9'))
        return 0;
    return 1;
}

static void unknown_option(const cli_args *a, const char *name)
{
    const char *names[256];
    size_t n = 0;
    for (const cli_opt *o = a->opts; o && o->name && n + 4 < sizeof names / sizeof *names; o++)
        names[n++] = o->name;
    names[n++] = "--help";
    names[n++] = "--version";
    const char *best = nninit_suggest(name, names, n);
    if (best)
        cli_error("unknown option '%s'; did you mean '%s'? (see 'nninit %s --help')", name, best, a->cmd);
    else
        cli_error("unknown option '%s'; see 'nninit %s --help'", name, a->cmd);
}

void cli_print_version(FILE *f)
{
    fprintf(f, "nninit %s (stream format %d)\n", nninit_version(), NNINIT_STREAM_VERSION);
}

int cli_next(cli_args *a)
{
    a->opt = NULL;
    a->val = NULL;
    if (a->i >= a->argc)
        return CLI_END;
    const char *s = a->argv[a->i++];
    if (a->rest || !looks_like_option(s)) {
        a->val = s;
        return CLI_ARG;
    }
    if (!strcmp(s, "--")) {
        a->rest = 1;
        return cli_next(a);
    }
    if (!strcmp(s, "--help") || !strcmp(s, "-h")) {
        a->usage(stdout);
        a->rc = fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
        return CLI_STOP;
    }
    if (!strcmp(s, "--version") || !strcmp(s, "-V")) {
        cli_print_version(stdout);
        a->rc = fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
        return CLI_STOP;
    }
    /* --name=VALUE: the name is the part before '=' (only for long options) */
    const char *eq = s[1] == '-' ? strchr(s, '=') : NULL;
    size_t len = eq ? (size_t)(eq - s) : strlen(s);
    for (const cli_opt *o = a->opts; o && o->name; o++) {
        int hit = (strlen(o->name) == len && !strncmp(o->name, s, len)) || (o->alias && !strcmp(o->alias, s));
        if (!hit)
            continue;
        a->opt = o->name;
        if (!o->value) {
            if (eq) {
                cli_error("option '%s' takes no value; see 'nninit %s --help'", o->name, a->cmd);
                a->rc = CLI_EXIT_USAGE;
                return CLI_STOP;
            }
            return o->id;
        }
        if (eq) {
            a->val = eq + 1;
        } else if (a->i < a->argc) {
            a->val = a->argv[a->i++];
        } else {
            cli_error("option '%s' needs a value; see 'nninit %s --help'", o->name, a->cmd);
            a->rc = CLI_EXIT_USAGE;
            return CLI_STOP;
        }
        return o->id;
    }
    char name[128];
    snprintf(name, sizeof name, "%.*s", (int)(len < 100 ? len : 100), s);
    unknown_option(a, name);
    a->rc = CLI_EXIT_USAGE;
    return CLI_STOP;
}

int cli_unexpected(const cli_args *a, const char *arg, const char *hint)
{
    if (hint)
        cli_error("unexpected argument '%s'; %s", arg, hint);
    else
        cli_error("unexpected argument '%s'; see 'nninit %s --help'", arg, a->cmd);
    return CLI_EXIT_USAGE;
}

int cli_bad_value(const char *opt, const char *val, const char *expected, ...)
{
    char want[512];
    va_list ap;
    va_start(ap, expected);
    vsnprintf(want, sizeof want, expected, ap);
    va_end(ap);
    cli_error("%s '%s': expected %s", opt, val, want);
    return 0;
}

int cli_parse_threads(const char *text, int *out)
{
    return cli_parse_int("--threads", text, 0, CLI_MAX_THREADS, out);
}
