/* nninit clean: remove the temporary files that killed runs left behind. */
#include "cli.h"

#include <stdio.h>

static void clean_usage(FILE *f)
{
    fprintf(f, "usage: nninit clean DIR...\n"
               "\n"
               "Removes from each DIR the temporary files '.NAME.tmp.PID.N' that nninit writes before it\n"
               "renames a finished output into place, for runs that ended without removing them (killed by\n"
               "SIGKILL or a crash). A temporary of a run that is still going is left alone. Prints each\n"
               "file removed. See docs/files.md.\n"
               "\n" CLI_EXIT_STATUS_HELP);
}

int cmd_clean(int argc, char **argv)
{
    static const cli_opt options[] = {{0}};
    cli_args args;
    int n_dirs = 0, rc = CLI_EXIT_OK;
    cli_args_init(&args, "clean", argc, argv, options, clean_usage);
    for (int id; (id = cli_next(&args)) != CLI_END;) {
        if (id == CLI_STOP)
            return args.rc;
        n_dirs++;
        if (cli_clean_temps(args.val, 0, 0) < 0) {
            cli_error("%s: cannot read the folder; give an existing folder", args.val);
            rc = CLI_EXIT_FAIL;
        }
    }
    if (n_dirs == 0) {
        clean_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    return rc;
}
