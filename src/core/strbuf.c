/* The one growable string of the library (nninit__sb_*) and the one JSON
 * string escaper (nninit_json_quote, public so that the applications write
 * JSON strings the same way). */
#include "core/internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Room for n more bytes and a NUL; 0 (and b->oom set) if it cannot grow. */
static int sb_reserve(nninit__sb *b, size_t n)
{
    if (b->oom)
        return 0;
    if (n <= b->cap - b->len && b->cap - b->len - n >= 1)
        return 1;
    if (n > SIZE_MAX / 2 - b->len - 1) {
        b->oom = 1;
        return 0;
    }
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n + 1)
        cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) {
        b->oom = 1;
        return 0;
    }
    b->p = p;
    b->cap = cap;
    return 1;
}

void nninit__sb_put(nninit__sb *b, const char *s, size_t n)
{
    if (!sb_reserve(b, n))
        return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void nninit__sb_str(nninit__sb *b, const char *s) { nninit__sb_put(b, s, strlen(s)); }

void nninit__sb_printf(nninit__sb *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->oom = 1;
        return;
    }
    if (!sb_reserve(b, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void nninit__sb_json_str(nninit__sb *b, const char *s)
{
    size_t n = nninit_json_quote(s, NULL, 0);
    if (!sb_reserve(b, n))
        return;
    nninit_json_quote(s, b->p + b->len, n + 1);
    b->len += n;
}

char *nninit__sb_take(nninit__sb *b)
{
    char *p = b->oom ? NULL : b->p;
    if (b->oom)
        free(b->p);
    else if (!p)
        p = calloc(1, 1); /* nothing was added: the empty string */
    b->p = NULL;
    b->len = b->cap = 0;
    b->oom = 0;
    return p;
}

void nninit__sb_free(nninit__sb *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
    b->oom = 0;
}

/* As serde_json and Python's json.dumps(ensure_ascii=False) write a string:
 * '"' and '\\' escaped, the short escapes \b \f \n \r \t, other control
 * bytes as \u00xx, everything else (non-ASCII UTF-8, '/', DEL) verbatim. */
size_t nninit_json_quote(const char *s, char *dst, size_t cap)
{
    size_t n = 0;
#define EMIT(c)                                                                                                       \
    do {                                                                                                               \
        if (n + 1 < cap)                                                                                               \
            dst[n] = (c);                                                                                              \
        n++;                                                                                                           \
    } while (0)
    EMIT('"');
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        static const char hex[] = "0123456789abcdef";
        char esc = 0;
        switch (*p) {
        case '"': esc = '"'; break;
        case '\\': esc = '\\'; break;
        case '\b': esc = 'b'; break;
        case '\f': esc = 'f'; break;
        case '\n': esc = 'n'; break;
        case '\r': esc = 'r'; break;
        case '\t': esc = 't'; break;
        default: break;
        }
        if (esc) {
            EMIT('\\');
            EMIT(esc);
        } else if (*p < 0x20) {
            EMIT('\\');
            EMIT('u');
            EMIT('0');
            EMIT('0');
            EMIT(hex[*p >> 4]);
            EMIT(hex[*p & 15]);
        } else {
            EMIT((char)*p);
        }
    }
    EMIT('"');
#undef EMIT
    if (cap)
        dst[n < cap ? n : cap - 1] = '\0';
    return n;
}
