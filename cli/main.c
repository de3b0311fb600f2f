/* nninit command-line entry point: dispatches to cmd_<name>.c. */
#include "cli.h"

#include <stdio.h>
#include <string.h>

static const cli_command commands[] = {
    {"gen", "fill one tensor with an initializer and write it as .npy", cmd_gen},
    {"list", "list every initializer with its parameters and defaults", cmd_list},
    {"model", "initial weights of a Keras/PyTorch model as safetensors, npz or .npy files", cmd_model},
    {"inspect", "statistics of every tensor in a safetensors/npz/npy file; which initializer fits", cmd_inspect},
    {"train", "train an MLP on Fashion-MNIST (or any IDX set); --compare initializers", cmd_train},
    {"theory", "mean-field predictions: q*, chi_1, depth scales, phase, order-to-chaos line", cmd_theory},
    {"probe", "measure signal propagation per layer of a deep dense net (and its Jacobian)", cmd_probe},
    {"bench", "time generation against memset of the same buffer (1 and N threads), and orthogonal", cmd_bench},
    {"lab", "the classic lessons of initialization, measured and checked, with a report", cmd_lab},
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *f)
{
    fprintf(f, "usage: nninit <command> [options]\n"
               "       nninit --help | --version\n\ncommands:\n");
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\n'nninit <command> --help' describes each command.\n"
               "Exit status: 0 success, 1 runtime failure, 2 usage error.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return CLI_EXIT_OK;
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
        printf("nninit %s (stream format %d)\n", nninit_version(), NNINIT_STREAM_VERSION);
        return CLI_EXIT_OK;
    }
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].run(argc - 1, argv + 1);
    cli_error("unknown command '%s'; run 'nninit --help' for the list", argv[1]);
    return CLI_EXIT_USAGE;
}
