/* Output paths checked before the work (a folder that is not writable, an
 * existing folder given as a file name), stale temporary files of runs that
 * were killed reported, and the folders where this run's temporaries live
 * remembered for the signal handler (cli/signals.c). */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

static char *dir_part(const char *path)
{
    const char *slash = strrchr(path, '/');
    size_t n = !slash ? 1 : (slash == path ? 1 : (size_t)(slash - path));
    char *dir = malloc(n + 1);
    if (!dir)
        return NULL;
    if (!slash)
        strcpy(dir, ".");
    else {
        memcpy(dir, path, n);
        dir[n] = '\0';
    }
    return dir;
}

/* A temporary of the atomic writer: ".NAME.tmp.PID.N"; *pid gets PID. */
static int temp_pid(const char *name, const char *base, long *pid)
{
    const char *t = NULL;
    if (name[0] != '.')
        return 0;
    if (base) {
        size_t bl = strlen(base);
        if (strncmp(name + 1, base, bl) || strncmp(name + 1 + bl, ".tmp.", 5))
            return 0;
        t = name + 1 + bl + 5;
    } else {
        for (const char *p = strstr(name, ".tmp."); p; p = strstr(p + 1, ".tmp."))
            t = p + 5; /* the last ".tmp." */
        if (!t)
            return 0;
    }
    char *end;
    long v = strtol(t, &end, 10);
    if (end == t || *end != '.' || v <= 0)
        return 0;
    char *end2;
    strtol(end + 1, &end2, 10);
    if (end2 == end + 1 || *end2)
        return 0;
    *pid = v;
    return 1;
}

void cli_note_stale_temps(const char *path)
{
    char *dir = dir_part(path);
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    DIR *d = dir ? opendir(dir) : NULL;
    struct dirent *e;
    while (d && (e = readdir(d))) {
        long pid;
        if (!temp_pid(e->d_name, base, &pid) || pid == (long)getpid())
            continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue; /* that run is alive (or not ours to ask): its file */
        cli_error("note: %s/%s is left over from run %ld, which ended without cleaning up; remove it with "
                  "'nninit clean %s' (see docs/files.md)", dir, e->d_name, pid, dir);
    }
    if (d)
        closedir(d);
    free(dir);
}

int cli_clean_temps(const char *dir, int only_pid, int quiet)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int removed = 0;
    struct dirent *e;
    char full[4096];
    while ((e = readdir(d))) {
        long pid;
        if (!temp_pid(e->d_name, NULL, &pid))
            continue;
        if (only_pid ? pid != (long)getpid() : (kill((pid_t)pid, 0) == 0 || errno != ESRCH))
            continue; /* another run's, still alive */
        if (snprintf(full, sizeof full, "%s/%s", dir, e->d_name) >= (int)sizeof full)
            continue;
        if (unlink(full) == 0) {
            removed++;
            if (!quiet)
                printf("removed %s\n", full);
        }
    }
    closedir(d);
    return removed;
}

int cli_clean_temps_tree(const char *dir, int only_pid, int quiet, int depth)
{
    int removed = cli_clean_temps(dir, only_pid, quiet);
    if (removed < 0 || depth >= 16)
        return removed;
    DIR *d = opendir(dir);
    struct dirent *e;
    char sub[4096];
    struct stat sb;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.' || snprintf(sub, sizeof sub, "%s/%s", dir, e->d_name) >= (int)sizeof sub ||
            lstat(sub, &sb) != 0 || !S_ISDIR(sb.st_mode)) /* not into hidden folders, never through links */
            continue;
        int n = cli_clean_temps_tree(sub, only_pid, quiet, depth + 1);
        removed += n > 0 ? n : 0;
    }
    if (d)
        closedir(d);
    return removed;
}

int cli_output_dir_ok(const char *what, const char *path)
{
    if (!strcmp(path, "-"))
        return 1; /* stdout */
    struct stat sb;
    if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
        cli_error("%s '%s': is a folder; give a file name (e.g. %s/out)", what, path, path);
        return 0;
    }
    char *dir = dir_part(path);
    if (!dir) {
        cli_error("out of memory");
        return 0;
    }
    int ok = access(dir, W_OK | X_OK) == 0;
    if (!ok)
        cli_error("%s '%s': folder '%s' is not writable (%s); give a path in an existing, writable folder", what,
                  path, dir, strerror(errno));
    else
        cli_watch_dir(dir);
    free(dir);
    if (ok)
        cli_note_stale_temps(path);
    return ok;
}

int cli_output_folder_ok(const char *what, const char *path)
{
    struct stat sb;
    if (stat(path, &sb) == 0) {
        if (!S_ISDIR(sb.st_mode)) {
            cli_error("%s '%s': exists and is not a folder; give a folder (an existing one, or a new name in an "
                      "existing folder)", what, path);
            return 0;
        }
        if (access(path, W_OK | X_OK) != 0) {
            cli_error("%s '%s': folder is not writable (%s); give a writable folder", what, path, strerror(errno));
            return 0;
        }
        return 1;
    }
    size_t n = strlen(path);
    char *bare = malloc(n + 1), *dir = NULL;
    if (bare) { /* "A/B/" is the folder B in A */
        memcpy(bare, path, n + 1);
        while (n > 1 && bare[n - 1] == '/')
            bare[--n] = '\0';
        dir = dir_part(bare);
    }
    free(bare);
    if (!dir) {
        cli_error("out of memory");
        return 0;
    }
    int ok = access(dir, W_OK | X_OK) == 0;
    if (!ok)
        cli_error("%s '%s': folder '%s' is not writable (%s); give a path in an existing, writable folder (only the "
                  "last folder is created)", what, path, dir, strerror(errno));
    free(dir);
    return ok;
}

int cli_space_ok(const char *what, const char *path, double bytes)
{
    if (!strcmp(path, "-"))
        return 1;
    struct stat sb;
    char *dir = (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) ? NULL : dir_part(path);
    struct statvfs vfs;
    int known = statvfs(dir ? dir : path, &vfs) == 0;
    free(dir);
    if (!known || (sb.st_mode && !S_ISREG(sb.st_mode) && !S_ISDIR(sb.st_mode)))
        return 1; /* cannot tell (or a FIFO/device): the write itself will say */
    double free_bytes = (double)vfs.f_bavail * (double)vfs.f_frsize;
    if (bytes <= free_bytes)
        return 1;
    cli_error("%s '%s': needs %.3g GB but its file system has %.3g GB free; free space or write elsewhere "
              "(nothing was written)", what, path, bytes / 1e9, free_bytes / 1e9);
    return 0;
}
