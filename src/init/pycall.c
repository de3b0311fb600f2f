/*
 * The one parser of Python call syntax, shared by initializer specs
 * (spec.c: "VarianceScaling(scale=2.0, mode='fan_out')") and PyTorch model
 * recipes (model_torch.c: "Sequential(OrderedDict([('fc', Linear(4, 2))]))").
 * It builds a tree of literals and calls and leaves their meaning to the
 * caller. Accepted: ints (with integer products, 64 * 7 * 7, checked for
 * overflow), floats, 'strings' and "strings", True/False/None, bare names,
 * (tuples), [lists], {"key": value} dicts, calls with positional and keyword
 * arguments, and # comments to the end of a line. A dotted name keeps its
 * last component (nn.Linear, torch.nn.Linear and Linear are one name).
 */
#include "init/internal.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 64

typedef struct pyparser {
    const char *s, *p;
    nninit_err *err;
    int failed;
    nninit_status code; /* of the first failure */
    int depth;
} pyparser;

void nninit__py_free(nninit__pyval *v)
{
    if (!v)
        return;
    for (size_t i = 0; i < v->n; i++) {
        nninit__py_free(v->items[i]);
        free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
    free(v->text);
    free(v);
}

static void fail(pyparser *ps, nninit_status code, const char *what)
{
    if (!ps->failed)
        ps->code = nninit__err(ps->err, code, "at offset %d (near '%.12s'): %s", (int)(ps->p - ps->s), ps->p, what);
    ps->failed = 1;
}

/* Whitespace and # comments. */
static void ws(pyparser *ps)
{
    for (;;) {
        while (isspace((unsigned char)*ps->p))
            ps->p++;
        if (*ps->p != '#')
            return;
        while (*ps->p && *ps->p != '\n')
            ps->p++;
    }
}

static nninit__pyval *parse_value(pyparser *ps);

static int push(nninit__pyval *v, nninit__pyval *item, const char *key, size_t key_len)
{
    char *k = malloc(key_len + 1);
    if (!k)
        return 0;
    memcpy(k, key ? key : "", key_len);
    k[key_len] = '\0';
    nninit__pyval **it = realloc(v->items, (v->n + 1) * sizeof *it);
    if (!it) {
        free(k);
        return 0;
    }
    v->items = it;
    char **ks = realloc(v->keys, (v->n + 1) * sizeof *ks);
    if (!ks) {
        free(k);
        return 0;
    }
    v->keys = ks;
    v->keys[v->n] = k;
    v->items[v->n++] = item;
    return 1;
}

/* Items up to `close`: keyword=value in calls, "key": value in dicts. */
static void parse_items(pyparser *ps, nninit__pyval *v, char close)
{
    ws(ps);
    while (*ps->p != close) {
        const char *key = NULL;
        size_t key_len = 0;
        if (v->kind == NNINIT__PY_CALL && (isalpha((unsigned char)*ps->p) || *ps->p == '_')) {
            const char *q = ps->p;
            while (isalnum((unsigned char)*q) || *q == '_')
                q++;
            const char *r = q;
            while (isspace((unsigned char)*r))
                r++;
            if (*r == '=' && r[1] != '=') {
                key = ps->p;
                key_len = (size_t)(q - ps->p);
                ps->p = r + 1;
            }
        }
        nninit__pyval *item = parse_value(ps);
        if (!item)
            return;
        if (v->kind == NNINIT__PY_DICT) { /* the key was parsed as a value: a string, then ':' */
            ws(ps);
            if (item->kind != NNINIT__PY_STR || *ps->p != ':') {
                nninit__py_free(item);
                fail(ps, NNINIT_EINVAL, "a dict needs string keys: {'name': Module(...)}");
                return;
            }
            ps->p++;
            nninit__pyval *val = parse_value(ps);
            if (!val) {
                nninit__py_free(item);
                return;
            }
            int ok = push(v, val, item->text, strlen(item->text));
            nninit__py_free(item);
            if (!ok) {
                nninit__py_free(val);
                fail(ps, NNINIT_ENOMEM, "out of memory");
                return;
            }
        } else if (!push(v, item, key, key_len)) {
            nninit__py_free(item);
            fail(ps, NNINIT_ENOMEM, "out of memory");
            return;
        }
        ws(ps);
        if (*ps->p == ',') {
            ps->p++;
            ws(ps);
        } else if (*ps->p != close) {
            fail(ps, NNINIT_EINVAL,
                 close == ')' ? "expected ',' or ')'" : close == ']' ? "expected ',' or ']'" : "expected ',' or '}'");
            return;
        }
    }
    ps->p++;
}

/* An integer, then any "* integer" factors. */
static void parse_int_product(pyparser *ps, nninit__pyval *v, long long first, const char *end)
{
    v->kind = NNINIT__PY_INT;
    v->i = first;
    ps->p = end;
    for (;;) {
        const char *q = ps->p;
        while (isspace((unsigned char)*q))
            q++;
        if (*q != '*' || q[1] == '*')
            return;
        q++;
        while (isspace((unsigned char)*q))
            q++;
        char *e;
        errno = 0;
        long long f = strtoll(q, &e, 10);
        if (e == q || errno || *e == '.' || *e == 'e' || *e == 'E') {
            ps->p = q;
            fail(ps, NNINIT_EINVAL, "expected an integer after '*'");
            return;
        }
        if (f != 0 && (v->i > LLONG_MAX / (f < 0 ? -f : f) || v->i < -(LLONG_MAX / (f < 0 ? -f : f)))) {
            ps->p = q;
            fail(ps, NNINIT_EINVAL, "integer product overflows");
            return;
        }
        v->i *= f;
        ps->p = e;
    }
}

static void parse_number(pyparser *ps, nninit__pyval *v)
{
    const char *p = ps->p;
    char *end;
    errno = 0;
    long long iv = strtoll(p, &end, 10);
    if (end != p && *end != '.' && *end != 'e' && *end != 'E') {
        if (errno == ERANGE) {
            fail(ps, NNINIT_EINVAL, "integer does not fit in 64 bits");
            return;
        }
        parse_int_product(ps, v, iv, end);
        return;
    }
    errno = 0;
    double fv = strtod(p, &end);
    /* a digit must come first (strtod would also read "inf", "nan" and hex) */
    const char *d = p + (*p == '-' || *p == '+');
    if (end == p || !(isdigit((unsigned char)*d) || (*d == '.' && isdigit((unsigned char)d[1]))) ||
        (d[0] == '0' && (d[1] == 'x' || d[1] == 'X'))) {
        fail(ps, NNINIT_EINVAL, "bad number");
        return;
    }
    v->kind = NNINIT__PY_FLOAT;
    v->f = fv; /* may be +-inf on overflow (1e999): callers that need finite values say so */
    ps->p = end;
}

static nninit__pyval *parse_value(pyparser *ps)
{
    ws(ps);
    if (++ps->depth > MAX_DEPTH) {
        fail(ps, NNINIT_EINVAL, "nesting deeper than 64 levels");
        return NULL;
    }
    nninit__pyval *v = calloc(1, sizeof *v);
    if (!v) {
        fail(ps, NNINIT_ENOMEM, "out of memory");
        return NULL;
    }
    v->pos = (size_t)(ps->p - ps->s);
    const char *p = ps->p;
    if (*p == '(' || *p == '[' || *p == '{') {
        v->kind = *p == '(' ? NNINIT__PY_TUPLE : *p == '[' ? NNINIT__PY_LIST : NNINIT__PY_DICT;
        ps->p++;
        parse_items(ps, v, *p == '(' ? ')' : *p == '[' ? ']' : '}');
    } else if (*p == '\'' || *p == '"') {
        char q = *p++;
        const char *start = p;
        while (*p && *p != q && *p != '\n')
            p++;
        if (*p != q) {
            fail(ps, NNINIT_EINVAL, "unterminated string");
        } else if (!(v->text = malloc((size_t)(p - start) + 1))) {
            fail(ps, NNINIT_ENOMEM, "out of memory");
        } else {
            memcpy(v->text, start, (size_t)(p - start));
            v->text[p - start] = '\0';
            v->kind = NNINIT__PY_STR;
            ps->p = p + 1;
        }
    } else if (isdigit((unsigned char)*p) || *p == '-' || *p == '+' || *p == '.') {
        if ((*p == '-' || *p == '+') && (isalpha((unsigned char)p[1]) || p[1] == '_')) {
            /* -inf, -math.inf: a signed name; the caller decides what the name means */
            ps->p++;
            nninit__pyval *inner = parse_value(ps);
            if (inner && inner->kind == NNINIT__PY_NAME) {
                size_t n = strlen(inner->text);
                char *t = realloc(inner->text, n + 2);
                if (t) {
                    memmove(t + 1, t, n + 1);
                    t[0] = *p;
                    inner->text = t;
                    inner->pos = v->pos;
                    free(v);
                    ps->depth--;
                    return inner;
                }
                fail(ps, NNINIT_ENOMEM, "out of memory");
            } else if (inner) {
                fail(ps, NNINIT_EINVAL, "a sign goes before a number");
            }
            nninit__py_free(inner);
        } else {
            parse_number(ps, v);
        }
    } else if (isalpha((unsigned char)*p) || *p == '_') {
        const char *q = p;
        while (isalnum((unsigned char)*q) || *q == '_' || *q == '.')
            q++;
        const char *last = q;
        while (last > p && last[-1] != '.')
            last--;
        size_t len = (size_t)(q - last);
        if (len == 0 || !(v->text = malloc(len + 1))) {
            fail(ps, len ? NNINIT_ENOMEM : NNINIT_EINVAL, len ? "out of memory" : "a name cannot end with '.'");
        } else {
            memcpy(v->text, last, len);
            v->text[len] = '\0';
            ps->p = q;
            ws(ps);
            if (!strcmp(v->text, "True") || !strcmp(v->text, "False")) {
                v->kind = NNINIT__PY_BOOL;
                v->i = v->text[0] == 'T';
            } else if (!strcmp(v->text, "None")) {
                v->kind = NNINIT__PY_NONE;
            } else if (*ps->p == '(') {
                v->kind = NNINIT__PY_CALL;
                ps->p++;
                parse_items(ps, v, ')');
            } else {
                v->kind = NNINIT__PY_NAME;
            }
        }
    } else {
        fail(ps, NNINIT_EINVAL, *p ? "unexpected character" : "unexpected end");
    }
    ps->depth--;
    if (ps->failed) {
        nninit__py_free(v);
        return NULL;
    }
    return v;
}

nninit_status nninit__py_parse(const char *text, nninit__pyval **out, nninit_err *err)
{
    *out = NULL;
    pyparser ps = {text, text, err, 0, NNINIT_OK, 0};
    nninit__pyval *v = parse_value(&ps);
    if (!v)
        return ps.code;
    ws(&ps);
    if (*ps.p) {
        fail(&ps, NNINIT_EINVAL, "unexpected text after the end");
        nninit__py_free(v);
        return NNINIT_EINVAL;
    }
    *out = v;
    return NNINIT_OK;
}

const char *nninit__py_kind_name(nninit__pykind kind)
{
    static const char *const names[] = {"an integer", "a number", "True/False", "None", "a string", "a name",
                                        "a tuple", "a list", "a dict", "a call"};
    return (unsigned)kind < sizeof names / sizeof *names ? names[kind] : "?";
}
