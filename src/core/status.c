/* Status strings, error detail, version, and small shared utilities. */
#include "core/internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *nninit_version(void) { return NNINIT_VERSION_STRING; }

const char *nninit_status_str(nninit_status s)
{
    switch (s) {
    case NNINIT_OK: return "ok";
    case NNINIT_EINVAL: return "invalid argument";
    case NNINIT_ENOMEM: return "out of memory";
    case NNINIT_EOVERFLOW: return "size overflow";
    case NNINIT_EIO: return "input/output error";
    case NNINIT_EFORMAT: return "corrupt or unrecognised file format";
    case NNINIT_EUNSUPPORTED: return "not supported";
    case NNINIT_EMISUSE: return "API misuse";
    case NNINIT_ENOTFOUND: return "not found";
    case NNINIT_ENUMERIC: return "numerical failure";
    }
    return "unknown status";
}

static void vset(nninit_err *err, nninit_status code, int sys_errno, const char *fmt, va_list ap)
{
    if (!err)
        return;
    err->code = code;
    err->sys_errno = sys_errno;
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
}

nninit_status nninit_err_set(nninit_err *err, nninit_status code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vset(err, code, 0, fmt, ap);
    va_end(ap);
    return code;
}

nninit_status nninit__err(nninit_err *err, nninit_status code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vset(err, code, 0, fmt, ap);
    va_end(ap);
    return code;
}

nninit_status nninit__err_sys(nninit_err *err, int sys_errno, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vset(err, NNINIT_EIO, sys_errno, fmt, ap);
    va_end(ap);
    return NNINIT_EIO;
}

nninit_status nninit__err_open(nninit_err *err, int sys_errno, const char *path)
{
    if (sys_errno != ENOENT)
        return nninit__err_sys(err, sys_errno, "%s: cannot open (%s)", path, strerror(sys_errno));
    nninit__err(err, NNINIT_ENOTFOUND, "%s: no such file", path);
    if (err)
        err->sys_errno = ENOENT;
    return NNINIT_ENOTFOUND;
}

void nninit_free(void *p) { free(p); }


int nninit__cpu_count(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : (n > 1024 ? 1024 : (int)n);
}
