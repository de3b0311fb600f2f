/* File output as cp and curl -o do it (docs/files.md): write a temporary
 * file in the target's folder, fsync it, rename it over the target, fsync the
 * folder; on any failure remove the temporary so the target is either the old
 * file or the complete new one. Symlinks are followed to the file they name;
 * "-", FIFOs and devices are streamed in place. */
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

/* Where `path` leads after following symlinks (at most 40, as the kernel);
 * a dangling link leads to the name it holds, which is then created. */
static char *follow_links(const char *path, nninit_err *err, nninit_status *st)
{
    char *cur = nninit__strdup(path);
    *st = NNINIT_OK;
    for (int hop = 0; cur && hop < 40; hop++) {
        struct stat sb;
        if (lstat(cur, &sb) != 0 || !S_ISLNK(sb.st_mode))
            return cur;
        char link[4096];
        ssize_t n = readlink(cur, link, sizeof link - 1);
        if (n < 0 || (size_t)n >= sizeof link - 1) {
            free(cur);
            *st = nninit__err(err, NNINIT_EINVAL, "%s: cannot read the symlink; give the target's path", path);
            return NULL;
        }
        link[n] = '\0';
        char *next;
        if (link[0] == '/') {
            next = nninit__strdup(link);
        } else {
            char *dir = dir_of(cur);
            size_t len = (dir ? strlen(dir) : 0) + (size_t)n + 2;
            next = dir ? malloc(len) : NULL;
            if (next)
                snprintf(next, len, "%s/%s", dir, link);
            free(dir);
        }
        free(cur);
        cur = next;
    }
    if (cur) {
        free(cur);
        *st = nninit__err(err, NNINIT_EINVAL, "%s: too many levels of symlinks; give the target's path", path);
    } else {
        *st = nninit__err(err, NNINIT_ENOMEM, "%s: out of memory", path);
    }
    return NULL;
}

/* "-", FIFOs and devices are written in place: opened for writing (stdout
 * duplicated), never truncated by rename. */
static nninit_status open_in_place(nninit__atomic *a, nninit_err *err)
{
    a->in_place = 1;
    a->fd = !strcmp(a->path, "-") ? dup(STDOUT_FILENO) : open(a->target, O_WRONLY | O_CLOEXEC);
    if (a->fd < 0) {
        int e = errno;
        nninit_status s = nninit__err_sys(err, e, "%s: cannot open for writing (%s)", a->path, strerror(e));
        nninit__atomic_abort(a);
        return s;
    }
    a->f = fdopen(a->fd, "wb");
    if (!a->f) {
        int e = errno;
        nninit__atomic_abort(a);
        return nninit__err_sys(err, e, "%s: cannot open a stream (%s)", a->path, strerror(e));
    }
    return NNINIT_OK;
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
    if (!a->path)
        return nninit__err(err, NNINIT_ENOMEM, "%s: out of memory", path);
    if (!strcmp(path, "-")) {
        a->target = nninit__strdup("-");
        return a->target ? open_in_place(a, err) : (nninit__atomic_abort(a), nninit__err(err, NNINIT_ENOMEM, "out of memory"));
    }
    nninit_status fs;
    a->target = follow_links(path, err, &fs);
    if (!a->target) {
        nninit__atomic_abort(a);
        return fs;
    }
    struct stat sb;
    int exists = stat(a->target, &sb) == 0;
    if (exists && S_ISDIR(sb.st_mode)) {
        nninit__atomic_abort(a);
        return nninit__err(err, NNINIT_EINVAL, "%s: is a folder; give a file name (e.g. %s/out)", path, path);
    }
    if (exists && !S_ISREG(sb.st_mode))
        return open_in_place(a, err);
    len = strlen(a->target);
    a->tmp = malloc(len + 48);
    if (!a->tmp) {
        nninit__atomic_abort(a);
        return nninit__err(err, NNINIT_ENOMEM, "%s: out of memory", path);
    }
    /* Sibling name ".NAME.tmp.PID.N" (hidden, same file system, so rename is
     * atomic); O_EXCL with a retry counter instead of mkstemp so the file
     * gets the usual 0666 & ~umask permissions, or the replaced file's. */
    const char *slash = strrchr(a->target, '/');
    size_t dlen = slash ? (size_t)(slash - a->target) + 1 : 0;
    const char *base = a->target + dlen;
    for (int attempt = 0; attempt < 1000; attempt++) {
        snprintf(a->tmp, len + 48, "%.*s.%s.tmp.%ld.%d", (int)dlen, a->target, base, (long)getpid(), attempt);
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
    if (exists) { /* keep the replaced file's owner (where permitted) and mode, as cp does */
        if (fchown(a->fd, sb.st_uid, sb.st_gid) != 0 && errno != EPERM) {
            /* not an error: only root may give a file away */
        }
        if (fchmod(a->fd, sb.st_mode & 07777) != 0) {
            int e = errno;
            nninit_status s = nninit__err_sys(err, e, "%s: cannot give the new file the old one's mode (%s); "
                                              "nothing was replaced", path, strerror(e));
            nninit__atomic_abort(a);
            return s;
        }
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
    nninit_status s = a->in_place
        ? nninit__err_sys(err, e, "%s: %s failed after %s (%s); it is written in place (a stream), so what was "
                          "sent stays sent", a->path, what, nninit__format_bytes(a->written, sz, sizeof sz),
                          strerror(e))
        : nninit__err_sys(err, e, "%s: %s failed after %s (%s); nothing was replaced", a->path,
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
    if (a->in_place) { /* a stream: nothing to rename, fsync means nothing on a pipe */
        FILE *f = a->f;
        a->f = NULL;
        a->fd = -1;
        errno = 0;
        if (fclose(f) != 0)
            return write_failed(a, errno ? errno : EIO, "close", err);
        nninit__atomic_abort(a);
        return NNINIT_OK;
    }
    if (fsync(a->fd) != 0)
        return write_failed(a, errno, "fsync", err);
    FILE *f = a->f;
    a->f = NULL;
    a->fd = -1;
    errno = 0;
    if (fclose(f) != 0) /* the stream is closed even when fclose fails */
        return write_failed(a, errno ? errno : EIO, "close", err);
    if (a->deferred)
        return NNINIT_OK; /* complete under its temporary name; publish renames it */
    return nninit__atomic_publish(a, err);
}

nninit_status nninit__atomic_open_deferred(nninit__atomic *a, const char *path, nninit_err *err)
{
    nninit_status s = nninit__atomic_open(a, path, err);
    if (s == NNINIT_OK && a->in_place) {
        nninit__atomic_abort(a);
        return nninit__err(err, NNINIT_EINVAL, "%s: a file of a multi-file output cannot be a stream, FIFO or "
                           "device; give a regular file or folder", path);
    }
    a->deferred = 1;
    return s;
}

nninit_status nninit__atomic_publish(nninit__atomic *a, nninit_err *err)
{
    if (!a->tmp || a->f)
        return nninit__err(err, NNINIT_EMISUSE, "atomic publish before commit");
    if (rename(a->tmp, a->target) != 0)
        return write_failed(a, errno, "rename", err);
    free(a->tmp);
    a->tmp = NULL;
    /* Make the rename itself durable. Some file systems refuse fsync on a
     * folder (EINVAL); the data is already safe then, so only real I/O
     * errors are reported. */
    char *dir = dir_of(a->target);
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
    free(a->target);
    a->tmp = NULL;
    a->path = NULL;
    a->target = NULL;
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

struct nninit_output {
    nninit__atomic a;
};

nninit_status nninit_output_open(const char *path, nninit_output **out, nninit_err *err)
{
    if (!out)
        return nninit__err(err, NNINIT_EMISUSE, "nninit_output_open: out must not be NULL");
    *out = NULL;
    nninit_output *o = malloc(sizeof *o);
    if (!o)
        return nninit__err(err, NNINIT_ENOMEM, "%s: out of memory", path ? path : "");
    nninit_status st = nninit__atomic_open(&o->a, path, err);
    if (st != NNINIT_OK) {
        free(o);
        return st;
    }
    *out = o;
    return NNINIT_OK;
}

FILE *nninit_output_file(nninit_output *o) { return o ? o->a.f : NULL; }

nninit_status nninit_output_commit(nninit_output *o, nninit_err *err)
{
    if (!o)
        return nninit__err(err, NNINIT_EMISUSE, "nninit_output_commit: NULL output");
    nninit_status st;
    if (o->a.f && ferror(o->a.f))
        st = write_failed(&o->a, EIO, "write", err);
    else
        st = nninit__atomic_commit(&o->a, err);
    free(o);
    return st;
}

void nninit_output_abort(nninit_output *o)
{
    if (!o)
        return;
    nninit__atomic_abort(&o->a);
    free(o);
}
