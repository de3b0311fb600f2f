/* nninit list: every initializer with its parameters and defaults. */
#include "cli.h"

#include <stdio.h>
#include <string.h>

static void list_usage(FILE *f)
{
    fprintf(f, "usage: nninit list [--json]\n\n"
               "Lists every initializer: its canonical name, Keras class (if any) and the Keras JSON\n"
               "config of its defaults. Bare names shared by Keras and PyTorch (uniform, normal,\n"
               "constant, orthogonal, zeros, ones) mean the Keras initializer; a trailing underscore\n"
               "selects PyTorch's (uniform_, orthogonal_). PyTorch names are also accepted without the\n"
               "underscore where unambiguous (kaiming_normal, xavier_uniform, trunc_normal, eye, dirac,\n"
               "sparse); Keras aliases zero, one, IdentityInitializer, OrthogonalInitializer too.\n"
               "  --json   one JSON object per line\n"
               "\n" CLI_EXIT_STATUS_HELP);
}

int cmd_list(int argc, char **argv)
{
    int json = 0;
    static const cli_opt options[] = {{"--json", NULL, 0, 1}, {0}};
    cli_args args;
    cli_args_init(&args, "list", argc, argv, options, list_usage);
    for (int id; (id = cli_next(&args)) != CLI_END;) {
        if (id == CLI_STOP)
            return args.rc;
        if (id == CLI_ARG)
            return cli_unexpected(&args, args.val, NULL);
        json = 1;
    }
    if (!json)
        printf("%-18s %-16s %s\n", "NAME", "KERAS CLASS", "DEFAULT CONFIG");
    for (int k = 0; k < NNINIT_INIT_KIND_COUNT; k++) {
        nninit_init in = nninit_init_default((nninit_init_kind)k);
        const char *required = "";
        if (k == NNINIT_TORCH_CONSTANT) { /* val has no default: show it as required */
            in.has_value = 1;
            required = "  (val required)";
        }
        if (k == NNINIT_TORCH_SPARSE) {
            in.has_sparsity = 1;
            required = "  (sparsity required)";
        }
        char *cfg = NULL;
        nninit_err err;
        if (nninit_init_to_json(&in, &cfg, &err) != NNINIT_OK)
            return cli_report(err.code, &err);
        const char *cls = nninit_init_kind_class((nninit_init_kind)k);
        if (json)
            printf("{\"name\": \"%s\", \"framework\": \"%s\", \"serialized\": %s}\n", nninit_init_kind_name((nninit_init_kind)k),
                   cls ? "keras" : "torch", cfg);
        else {
            const char *c = strstr(cfg, "\"config\": ");
            const char *e = strstr(cfg, ", \"registered_name\"");
            int len = c && e ? (int)(e - c - 10) : 0;
            printf("%-18s %-16s %.*s%s\n", nninit_init_kind_name((nninit_init_kind)k), cls ? cls : "-", len,
                   c ? c + 10 : "", required);
        }
        nninit_free(cfg);
    }
    return fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}
