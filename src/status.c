/* Status strings, error detail, version, and small shared utilities. */
#include "internal.h"

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

void nninit_free(void *p) { free(p); }

int nninit__edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64)
        return 1000;
    int row[65];
    for (size_t j = 0; j <= lb; j++)
        row[j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        int diag = row[0];
        row[0] = (int)i;
        for (size_t j = 1; j <= lb; j++) {
            int up = row[j];
            int cost = a[i - 1] == b[j - 1] ? 0 : 1;
            int best = diag + cost;
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

int nninit__cpu_count(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : (n > 1024 ? 1024 : (int)n);
}
