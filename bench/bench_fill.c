/*
 * make bench: the generation table of `nninit bench` (cli/cmd_bench.c,
 * linked in, so that both print the same figures) plus the orthogonal table
 * and the PyTorch init functions against PyTorch (--torch).
 * Arguments are those of `nninit bench`; with none, the defaults of the
 * issue: 1, 16, 64, 256 Mi float32 elements, 1 and all threads.
 */
#include "cli.h"

int main(int argc, char **argv)
{
    if (argc > 1)
        return cmd_bench(argc, argv);
    static char a0[] = "bench", a1[] = "--orthogonal", a2[] = "--torch";
    char *def[] = {a0, a1, a2, NULL};
    return cmd_bench(3, def);
}
