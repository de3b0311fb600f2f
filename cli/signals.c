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
#include <unistd.h>

#define MAX_WATCHED 64

/* The CLI's only mutable globals: the folders to clean, written by the main
 * thread before the work and read by the signal thread under the lock. */
static pthread_mutex_t watch_lock = PTHREAD_MUTEX_INITIALIZER;
static char *watched[MAX_WATCHED];
static int n_watched;
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
        int n = cli_clean_temps(watched[i], 1, 1);
        removed += n > 0 ? n : 0;
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
