/* nninit clean: remove the temporary files that killed runs left behind. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>

static void clean_usage(FILE *f)
{
    fprintf(f, "usage: nninit clean [-r] DIR...\n"
               "\n"
               "Removes from each DIR the temporary files '.NAME.tmp.PID.N' that nninit writes before it\n"
               "renames a finished output into place, for runs that ended without removing them (killed by\n"
               "SIGKILL or a crash). A temporary of a run that is still going is left alone. Prints each\n"
               "file removed. See docs/files.md.\n"
               "\n"
               "  -r, --recursive  also in DIR's subfolders (an npy-dir output keeps tensors named\n"
               "                   'a.b.weight' as a/b/weight.npy); not through links or hidden folders\n"
               "\n"
               "example: nninit clean -r weights/\n"
               "\n" CLI_EXIT_STATUS_HELP);
}

enum { O_RECURSIVE = 1 };

int cmd_clean(int argc, char **argv)
{
    static const cli_opt options[] = {{"--recursive", "-r", 0, O_RECURSIVE}, {0}};
    cli_args args;
    const char **dirs = calloc((size_t)argc + 1, sizeof *dirs);
    int n_dirs = 0, recursive = 0, rc = CLI_EXIT_OK;
    if (!dirs) {
        cli_error("clean: out of memory");
        return CLI_EXIT_FAIL;
    }
    cli_args_init(&args, "clean", argc, argv, options, clean_usage);
    for (int id; (id = cli_next(&args)) != CLI_END;) {
        if (id == CLI_STOP) {
            free(dirs);
            return args.rc;
        }
        if (id == O_RECURSIVE)
            recursive = 1;
        else
            dirs[n_dirs++] = args.val; /* options may follow the folders: act after reading them all */
    }
    if (n_dirs == 0) {
        clean_usage(stderr);
        free(dirs);
        return CLI_EXIT_USAGE;
    }
    for (int i = 0; i < n_dirs; i++) {
        int n = recursive ? cli_clean_temps_tree(dirs[i], 0, 0, 0) : cli_clean_temps(dirs[i], 0, 0);
        if (n < 0) {
            cli_error("%s: cannot read the folder; give an existing folder", dirs[i]);
            rc = CLI_EXIT_FAIL;
        }
    }
    free(dirs);
    return rc;
}
