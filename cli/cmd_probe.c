/* nninit probe: measured signal propagation (being written; see issue 7). */
#include "cli.h"

int cmd_probe(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    cli_error("probe: not built yet in this version; see 'nninit theory' for the predictions");
    return CLI_EXIT_FAIL;
}
