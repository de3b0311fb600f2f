/* Checks that an output file's folder exists and is writable before a long
 * computation whose result would otherwise be lost at the final write. */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int cli_output_dir_ok(const char *what, const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = NULL;
    if (!slash) {
        dir = malloc(2);
        if (dir)
            strcpy(dir, ".");
    } else {
        size_t n = slash == path ? 1 : (size_t)(slash - path);
        dir = malloc(n + 1);
        if (dir) {
            memcpy(dir, path, n);
            dir[n] = '\0';
        }
    }
    if (!dir) {
        cli_error("out of memory");
        return 0;
    }
    int ok = access(dir, W_OK | X_OK) == 0;
    if (!ok)
        cli_error("%s '%s': folder '%s' is not writable (%s); give a path in an existing, writable folder", what,
                  path, dir, strerror(errno));
    free(dir);
    return ok;
}
