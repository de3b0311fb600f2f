/* nninit command-line entry point: dispatches to cmd_<name>.c. */
#include "cli.h"

#include <stdio.h>
#include <string.h>

static const cli_command commands[] = {
    {"gen", "fill one tensor with an initializer and write it as .npy", cmd_gen},
    {"list", "list every initializer with its parameters and defaults", cmd_list},
    {"model", "initial weights of a Keras/PyTorch model as safetensors, npz or .npy files", cmd_model},
    {"advise", "lint a model's initialization: gains per layer, findings with the fix (--probe, --fix)", cmd_advise},
    {"inspect", "statistics of every tensor in a safetensors/npz/npy file; which initializer fits", cmd_inspect},
    {"train", "train an MLP, a model file or a torch recipe on Fashion-MNIST, an IDX or a sequence set", cmd_train},
    {"theory", "mean-field predictions: q*, chi_1, depth scales, phase, order-to-chaos line", cmd_theory},
    {"probe", "measure signal propagation per layer of a deep dense net (and its Jacobian)", cmd_probe},
    {"bench", "time generation against memset of the same buffer (1 and N threads), and orthogonal", cmd_bench},
    {"lab", "the classic lessons of initialization, measured and checked, with a report", cmd_lab},
    {"clean", "remove temporary files left by runs that were killed (see docs/files.md)", cmd_clean},
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *f)
{
    fprintf(f, "usage: nninit <command> [options]\n"
               "       nninit help <command> | --help | --version\n\ncommands:\n");
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\n'nninit <command> --help' (or 'nninit help <command>') describes each command.\n"
               "\n" CLI_EXIT_STATUS_HELP);
}

static const cli_command *find_command(const char *name)
{
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (!strcmp(name, commands[i].name))
            return &commands[i];
    return NULL;
}

static int unknown_command(const char *name)
{
    const char *names[N_COMMANDS + 1];
    for (size_t i = 0; i < N_COMMANDS; i++)
        names[i] = commands[i].name;
    names[N_COMMANDS] = "help";
    const char *best = nninit_suggest(name, names, N_COMMANDS + 1);
    if (best)
        cli_error("unknown command '%s'; did you mean '%s'? (run 'nninit --help' for the list)", name, best);
    else
        cli_error("unknown command '%s'; run 'nninit --help' for the list", name);
    return CLI_EXIT_USAGE;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || (!strcmp(argv[1], "help") && argc == 2)) {
        usage(stdout);
        return fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
        cli_print_version(stdout);
        return fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
    }
    if (!strcmp(argv[1], "help")) { /* nninit help CMD: that command's --help */
        if (argc > 3) {
            cli_error("unexpected argument '%s'; usage: nninit help <command>", argv[3]);
            return CLI_EXIT_USAGE;
        }
        const cli_command *c = find_command(argv[2]);
        if (!c)
            return unknown_command(argv[2]);
        char help[] = "--help";
        char *av[] = {argv[2], help, NULL};
        return c->run(2, av);
    }
    const cli_command *c = find_command(argv[1]);
    if (!c)
        return unknown_command(argv[1]);
    cli_install_signals();
    return c->run(argc - 1, argv + 1);
}
