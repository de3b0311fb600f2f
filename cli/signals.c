/* SIGINT, SIGTERM and SIGHUP end a run cleanly: the handler only writes the
 * signal number to a pipe (async-signal-safe, and it works whichever thread
 * the kernel picks, OpenBLAS's own included); a thread reading that pipe
 * removes this process's temporary files from every folder an output goes
 * to, says so in one line and exits 128 + the signal number, as a shell
 * reports it. SIGXFSZ (RLIMIT_FSIZE reached) is ignored, so the write that
 * crossed the limit fails with EFBIG and is reported as a write error. */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_WATCHED 64

/* The CLI's only mutable globals: the folders to clean, written by the main
 * thread before the work and read by the signal thread under the lock. */
static pthread_mutex_t watch_lock = PTHREAD_MUTEX_INITIALIZER;
static char *watched[MAX_WATCHED];
static int n_watched;
static char *tree;           /* an npy-dir output folder: cleaned with its subfolders */
static char **created;       /* folders an npy-dir write would create, parents first */
static size_t n_created;
static int stop_pipe[2] = {-1, -1};

void cli_watch_dir(const char *dir)
{
    pthread_mutex_lock(&watch_lock);
    int known = 0;
    for (int i = 0; i < n_watched; i++)
        known |= !strcmp(watched[i], dir);
    if (!known && n_watched < MAX_WATCHED) {
        char *copy = malloc(strlen(dir) + 1);
        if (copy) {
            strcpy(copy, dir);
            watched[n_watched++] = copy;
        }
    }
    pthread_mutex_unlock(&watch_lock);
}

/* Appends path to created[] unless it exists or is listed; 0, or -1 out of memory. */
static int note_missing(const char *path, size_t len, size_t *cap)
{
    char *p = malloc(len + 1);
    if (!p)
        return -1;
    memcpy(p, path, len);
    p[len] = '\0';
    struct stat sb;
    for (size_t i = n_created; i-- > 0;)
        if (!strcmp(created[i], p)) {
            free(p);
            return 0;
        }
    if (lstat(p, &sb) == 0) {
        free(p);
        return 0;
    }
    if (n_created == *cap) {
        size_t c = *cap ? 2 * *cap : 16;
        char **grown = realloc(created, c * sizeof *grown);
        if (!grown) {
            free(p);
            return -1;
        }
        created = grown;
        *cap = c;
    }
    created[n_created++] = p;
    return 0;
}

void cli_watch_npy_dir(const char *dir, const nninit_model *m)
{
    pthread_mutex_lock(&watch_lock);
    size_t cap = 0, dl = strlen(dir);
    free(tree);
    tree = malloc(dl + 1);
    if (tree)
        memcpy(tree, dir, dl + 1);
    int failed = !tree || note_missing(dir, dl, &cap);
    for (size_t i = 0; !failed && i < nninit_model_count(m); i++) {
        nninit_model_tensor t;
        if (!nninit_model_tensor_at(m, i, &t))
            continue;
        size_t nl = strlen(t.name);
        char *path = malloc(dl + nl + 2);
        if (!path) {
            failed = 1;
            break;
        }
        snprintf(path, dl + nl + 2, "%s/%s", dir, t.name);
        for (char *q = path + dl + 1; !failed && (q = strchr(q, '/')); q++)
            failed = note_missing(path, (size_t)(q - path), &cap);
        free(path);
    }
    pthread_mutex_unlock(&watch_lock); /* out of memory: what was noted is still removed */
}

static const char *signal_name(int sig)
{
    switch (sig) {
    case SIGINT: return "SIGINT";
    case SIGTERM: return "SIGTERM";
    case SIGHUP: return "SIGHUP";
    }
    return "a signal";
}

static void on_stop(int sig)
{
    unsigned char b = (unsigned char)sig;
    ssize_t w = write(stop_pipe[1], &b, 1);
    (void)w; /* nothing else is safe here; if the pipe is full a signal is already on its way */
}

static void *wait_for_stop(void *arg)
{
    (void)arg;
    unsigned char b;
    while (read(stop_pipe[0], &b, 1) != 1) {
    }
    int sig = b;
    pthread_mutex_lock(&watch_lock);
    int removed = 0;
    for (int i = 0; i < n_watched; i++) {
        int n = tree && !strcmp(watched[i], tree) ? 0 : cli_clean_temps(watched[i], 1, 1);
        removed += n > 0 ? n : 0;
    }
    if (tree) {
        int n = cli_clean_temps_tree(tree, 1, 1, 0);
        removed += n > 0 ? n : 0;
        for (size_t i = n_created; i-- > 0;)
            rmdir(created[i]); /* children were noted after their parents */
    }
    fprintf(stderr, "nninit: stopped by %s; %d temporary file%s removed, no output was replaced by the "
                    "unfinished write\n", signal_name(sig), removed, removed == 1 ? "" : "s");
    _exit(128 + sig);
}

void cli_install_signals(void)
{
    signal(SIGXFSZ, SIG_IGN);
    if (pipe(stop_pipe) != 0)
        return; /* default actions: the run still stops, only the cleanup is lost */
    pthread_t t;
    if (pthread_create(&t, NULL, wait_for_stop, NULL) != 0)
        return;
    pthread_detach(t);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sa.sa_flags = SA_RESTART; /* a write in progress goes on until the cleanup thread exits */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
}
