/* Atomic file output: write a temporary file in the target's folder, fsync
 * it, rename it over the target, fsync the folder; on any failure remove the
 * temporary so the target is either the old file or the complete new one. */
#include "io/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The folder part of `path` ("." if none), malloc'd. */
static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return nninit__strdup(".");
    size_t n = slash == path ? 1 : (size_t)(slash - path);
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, path, n);
        d[n] = '\0';
    }
    return d;
}

nninit_status nninit__atomic_open(nninit__atomic *a, const char *path, nninit_err *err)
{
    memset(a, 0, sizeof *a);
    a->fd = -1;
    if (!path || !path[0])
        return nninit__err(err, NNINIT_EINVAL, "output path is empty; give a file name");
    size_t len = strlen(path);
    if (path[len - 1] == '/')
        return nninit__err(err, NNINIT_EINVAL, "%s: names a folder; give a file name", path);
    a->path = nninit__strdup(path);
    a->tmp = malloc(len + 48);
    if (!a->path || !a->tmp) {
        nninit__atomic_abort(a);
        return nninit__err(err, NNINIT_ENOMEM, "%s: out of memory", path);
    }
    /* Sibling name ".NAME.tmp.PID.N" (hidden, same file system, so rename is
     * atomic); O_EXCL with a retry counter instead of mkstemp so the file
     * gets the usual 0666 & ~umask permissions. */
    const char *slash = strrchr(path, '/');
    size_t dlen = slash ? (size_t)(slash - path) + 1 : 0;
    const char *base = path + dlen;
    for (int attempt = 0; attempt < 1000; attempt++) {
        snprintf(a->tmp, len + 48, "%.*s.%s.tmp.%ld.%d", (int)dlen, path, base, (long)getpid(), attempt);
        a->fd = open(a->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (a->fd >= 0 || errno != EEXIST)
            break;
    }
    if (a->fd < 0) {
        int e = errno;
        nninit_status s = nninit__err_sys(err, e, "%s: cannot create a temporary file in its folder (%s); "
                                          "check that the folder exists and is writable", path, strerror(e));
        free(a->tmp);
        a->tmp = NULL; /* nothing to remove */
        nninit__atomic_abort(a);
        return s;
    }
    a->f = fdopen(a->fd, "wb");
    if (!a->f) {
        int e = errno;
        nninit__atomic_abort(a);
        return nninit__err_sys(err, e, "%s: cannot open a stream (%s)", path, strerror(e));
    }
    return NNINIT_OK;
}

static nninit_status write_failed(nninit__atomic *a, int e, const char *what, nninit_err *err)
{
    char sz[32];
    nninit_status s = nninit__err_sys(err, e, "%s: %s failed after %s (%s); nothing was replaced", a->path,
                                      what, nninit__format_bytes(a->written, sz, sizeof sz), strerror(e));
    nninit__atomic_abort(a);
    return s;
}

nninit_status nninit__atomic_write(nninit__atomic *a, const void *buf, size_t n, nninit_err *err)
{
    if (!a->f)
        return nninit__err(err, NNINIT_EMISUSE, "atomic write on a closed or failed file");
    const unsigned char *p = buf;
    while (n > 0) {
        /* Chunks keep a failure's byte count exact to within a chunk. */
        size_t chunk = n < ((size_t)1 << 24) ? n : ((size_t)1 << 24);
        errno = 0;
        size_t done = fwrite(p, 1, chunk, a->f);
        a->written += done;
        if (done != chunk)
            return write_failed(a, errno ? errno : EIO, "write", err);
        p += chunk;
        n -= chunk;
    }
    return NNINIT_OK;
}

nninit_status nninit__atomic_commit(nninit__atomic *a, nninit_err *err)
{
    if (!a->f)
        return nninit__err(err, NNINIT_EMISUSE, "atomic commit on a closed or failed file");
    errno = 0;
    if (fflush(a->f) != 0)
        return write_failed(a, errno ? errno : EIO, "write", err);
    if (fsync(a->fd) != 0)
        return write_failed(a, errno, "fsync", err);
    FILE *f = a->f;
    a->f = NULL;
    a->fd = -1;
    errno = 0;
    if (fclose(f) != 0) /* the stream is closed even when fclose fails */
        return write_failed(a, errno ? errno : EIO, "close", err);
    if (rename(a->tmp, a->path) != 0)
        return write_failed(a, errno, "rename", err);
    free(a->tmp);
    a->tmp = NULL;
    /* Make the rename itself durable. Some file systems refuse fsync on a
     * folder (EINVAL); the data is already safe then, so only real I/O
     * errors are reported. */
    char *dir = dir_of(a->path);
    if (dir) {
        int dfd = open(dir, O_RDONLY | O_CLOEXEC);
        if (dfd >= 0) {
            int rc = fsync(dfd);
            int e = errno;
            close(dfd);
            if (rc != 0 && e == EIO) {
                free(dir);
                nninit_status s = nninit__err_sys(err, e, "%s: fsync of its folder failed (%s); the new file "
                                                  "is in place but may not survive a crash", a->path, strerror(e));
                nninit__atomic_abort(a);
                return s;
            }
        }
        free(dir);
    }
    nninit__atomic_abort(a); /* frees the names; nothing left to remove */
    return NNINIT_OK;
}

void nninit__atomic_abort(nninit__atomic *a)
{
    if (!a)
        return;
    if (a->f)
        fclose(a->f);
    else if (a->fd >= 0)
        close(a->fd);
    a->f = NULL;
    a->fd = -1;
    if (a->tmp)
        unlink(a->tmp);
    free(a->tmp);
    free(a->path);
    a->tmp = NULL;
    a->path = NULL;
}

nninit_status nninit_file_write(const char *path, const void *data, size_t n, nninit_err *err)
{
    nninit__atomic a;
    nninit_status st = nninit__atomic_open(&a, path, err);
    if (st == NNINIT_OK)
        st = nninit__atomic_write(&a, data, n, err);
    if (st == NNINIT_OK)
        st = nninit__atomic_commit(&a, err);
    else
        nninit__atomic_abort(&a);
    return st;
}
