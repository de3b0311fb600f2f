/* Helpers shared by the subcommands: error output and strict option parsing. */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void cli_put_escaped(FILE *f, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c == 0x7f)
            fprintf(f, "\\x%02x", c);
        else
            fputc(c, f);
    }
}

void cli_error(const char *fmt, ...)
{
    /* one line whatever the names in it hold: control characters (a tensor
     * name with a newline or a terminal escape) are written as \xNN */
    char msg[NNINIT_ERR_MSG_MAX + 1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fputs("nninit: ", stderr);
    cli_put_escaped(stderr, msg);
    fputc('\n', stderr);
}

int cli_report(nninit_status s, const nninit_err *err)
{
    if (err && err->msg[0])
        cli_error("%s", err->msg);
    else
        cli_error("%s", nninit_status_str(s));
    if (err && err->sys_errno)
        return CLI_EXIT_FAIL;
    switch (s) {
    case NNINIT_EINVAL:
    case NNINIT_ENOTFOUND:
    case NNINIT_EOVERFLOW:
        return CLI_EXIT_USAGE;
    default:
        return CLI_EXIT_FAIL;
    }
}

int cli_parse_u64(const char *what, const char *text, uint64_t *out)
{
    char *end = NULL;
    errno = 0;
    if (text[0] == '-') {
        long long v = strtoll(text, &end, 0);
        if (errno || end == text || *end) {
            return cli_bad_value(what, text, "an integer in [-2^63, 2^64-1]");
        }
        *out = (uint64_t)v; /* two's complement, as torch.manual_seed maps negatives */
        return 1;
    }
    unsigned long long v = strtoull(text, &end, 0);
    if (errno || end == text || *end || text[0] == '+' || text[0] == ' ') {
        cli_error("%s '%s' is not an integer; expected a value in [-2^63, 2^64-1]", what, text);
        return 0;
    }
    *out = (uint64_t)v;
    return 1;
}

int cli_parse_int(const char *what, const char *text, long lo, long hi, int *out)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || end == text || *end || v < lo || v > hi) {
        return cli_bad_value(what, text, "an integer in [%ld, %ld]", lo, hi);
    }
    *out = (int)v;
    return 1;
}

int cli_parse_double(const char *what, const char *text, double *out)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(text, &end);
    if (errno || end == text || *end || !isfinite(v)) {
        return cli_bad_value(what, text, "a finite number");
    }
    *out = v;
    return 1;
}

int cli_stderr_is_tty(void) { return isatty(STDERR_FILENO); }

int cli_read_file(const char *path, size_t max, void **buf, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        cli_error("%s: cannot open (%s)", path, strerror(errno));
        return 0;
    }
    unsigned char *b = malloc(max + 1);
    size_t n = b ? fread(b, 1, max + 1, f) : 0;
    int bad = !b || ferror(f);
    fclose(f);
    if (bad || n > max) {
        cli_error("%s: %s", path, bad ? "read failed" : "file too large");
        free(b);
        return 0;
    }
    *buf = b;
    *len = n;
    return 1;
}

void cli_json_str(FILE *f, const char *s)
{
    /* through the library's escaper, 32 bytes at a time: each byte is escaped
     * on its own, so the pieces without their quotes join into the whole */
    char piece[33], quoted[6 * 32 + 3];
    fputc('"', f);
    for (size_t len = strlen(s), at = 0; at < len; at += 32) {
        size_t k = len - at < 32 ? len - at : 32;
        memcpy(piece, s + at, k);
        piece[k] = '\0';
        size_t n = nninit_json_quote(piece, quoted, sizeof quoted);
        fwrite(quoted + 1, 1, n - 2, f);
    }
    fputc('"', f);
}

void cli_json_num(FILE *f, int digits, double v)
{
    if (isfinite(v))
        fprintf(f, "%.*g", digits, v);
    else
        fputs("null", f);
}

/* Removes the spooled copy "DIR/-" and its private folder (path is cut). */
static void remove_spool(char *path)
{
    unlink(path);
    char *slash = strrchr(path, '/');
    if (slash) {
        *slash = '\0';
        rmdir(path);
    }
}

const char *cli_input_path(const char *path, char **spooled)
{
    *spooled = NULL;
    if (strcmp(path, "-"))
        return path;
    /* Readers seek (safetensors offsets, a zip's central directory at the
     * end), so standard input is copied to a private temporary file first,
     * named "-" in a private folder: a .npy read from it is tensor "-". */
    const char *dir = getenv("TMPDIR");
    size_t len = strlen(dir && dir[0] ? dir : "/tmp") + 32;
    char *tmp = malloc(len);
    if (!tmp) {
        cli_error("-: out of memory");
        return NULL;
    }
    snprintf(tmp, len, "%s/nninit-stdin.XXXXXX", dir && dir[0] ? dir : "/tmp");
    int fd = -1;
    if (mkdtemp(tmp)) {
        strcat(tmp, "/-");
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0600);
        if (fd < 0)
            remove_spool(tmp);
    }
    if (fd < 0) {
        cli_error("-: cannot create a temporary file for standard input in %s (%s); set TMPDIR to a writable "
                  "folder", dir && dir[0] ? dir : "/tmp", strerror(errno));
        free(tmp);
        return NULL;
    }
    char buf[1 << 16];
    ssize_t n;
    int ok = 1;
    while (ok && (n = read(STDIN_FILENO, buf, sizeof buf)) != 0) {
        if (n < 0) {
            ok = errno == EINTR;
            continue;
        }
        for (ssize_t off = 0; ok && off < n;) {
            ssize_t w = write(fd, buf + off, (size_t)(n - off));
            ok = w > 0;
            off += w > 0 ? w : 0;
        }
    }
    int e = errno;
    ok = (close(fd) == 0) && ok;
    if (!ok) {
        cli_error("-: copying standard input failed (%s)", strerror(e));
        cli_input_done(tmp);
        return NULL;
    }
    *spooled = tmp;
    return tmp;
}

void cli_input_done(char *spooled)
{
    if (spooled)
        remove_spool(spooled);
    free(spooled);
}

void cli_input_name(nninit_err *err, const char *spooled)
{
    size_t n = spooled ? strlen(spooled) : 0;
    char *at;
    while (n && (at = strstr(err->msg, spooled))) { /* "PATH: ..." -> "-: ..." */
        at[0] = '-';
        memmove(at + 1, at + n, strlen(at + n) + 1);
    }
}
