/*
 * Core layer: bit casts, errors, allocation, fixed-arithmetic transforms,
 * small text helpers. Depends on libc only.
 * Private to src/ (never installed); names are nninit__*, hidden from the
 * shared library by -fvisibility=hidden.
 */
#ifndef NNINIT_CORE_INTERNAL_H
#define NNINIT_CORE_INTERNAL_H

#include "nninit.h"



#include <float.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>

/* The stream format assumes IEEE binary32/binary64 evaluated at their own
 * precision (no x87 excess precision). */
#if !defined(FLT_EVAL_METHOD) || FLT_EVAL_METHOD != 0
#error "nninit needs FLT_EVAL_METHOD == 0 (SSE2 or equivalent floating point)"
#endif

#define NNINIT__PRINTF(f, a) NNINIT_PRINTF(f, a)

/* ---- bit casts (memcpy: no aliasing questions, compiled to moves) ---- */

static inline uint32_t nninit__f2u(float x)
{
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}
static inline float nninit__u2f(uint32_t u)
{
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
}
static inline uint64_t nninit__d2u(double x)
{
    uint64_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}
static inline double nninit__u2d(uint64_t u)
{
    double x;
    memcpy(&x, &u, sizeof x);
    return x;
}

/* ---- errors (status.c) ---- */

/* Fills err (if not NULL) with code and a printf-formatted one-line message;
 * returns code so callers can `return nninit__err(...)`. */
nninit_status nninit__err(nninit_err *err, nninit_status code, const char *fmt, ...) NNINIT__PRINTF(3, 4);
/* Same, recording errno for NNINIT_EIO. */
nninit_status nninit__err_sys(nninit_err *err, int sys_errno, const char *fmt, ...) NNINIT__PRINTF(3, 4);
/* An input file that cannot be opened: "PATH: no such file" (NNINIT_ENOTFOUND,
 * sys_errno ENOENT, so callers tell a missing file, a runtime failure, from an
 * unknown name) or "PATH: cannot open (reason)" (NNINIT_EIO). */
nninit_status nninit__err_open(nninit_err *err, int sys_errno, const char *path);

/* ---- allocation (alloc.c): the one allocation path, overflow-checked ---- */

/* malloc(count * size) or NULL on overflow/failure. */
void *nninit__malloc_array(size_t count, size_t size);
void *nninit__calloc_array(size_t count, size_t size);
/* malloc for a string copy; NULL on failure. */
char *nninit__strdup(const char *s);

/* ---- the growable string (strbuf.c) ----
 * Appends never fail loudly: an allocation failure sets oom, later appends
 * do nothing, and nninit__sb_take returns NULL. Start from NNINIT__SB_INIT. */
typedef struct nninit__sb {
    char *p;          /* NUL-terminated once anything was added */
    size_t len, cap;
    int oom;
} nninit__sb;
#define NNINIT__SB_INIT {NULL, 0, 0, 0}

void nninit__sb_put(nninit__sb *b, const char *s, size_t n);
void nninit__sb_str(nninit__sb *b, const char *s);
void nninit__sb_printf(nninit__sb *b, const char *fmt, ...) NNINIT__PRINTF(2, 3);
/* s as a quoted JSON string (nninit_json_quote). */
void nninit__sb_json_str(nninit__sb *b, const char *s);
/* The string (malloc'd, "" if nothing was added; the caller frees it), or
 * NULL after an allocation failure; b is empty again either way. */
char *nninit__sb_take(nninit__sb *b);
void nninit__sb_free(nninit__sb *b);

/* ---- a map from strings to positions (strmap.c) ----
 * O(1) name lookups where a scan would make loading n names O(n^2). Keys are
 * not copied: each must outlive the map. Start from NNINIT__STRMAP_INIT. */
typedef struct nninit__strmap_slot {
    const char *key; /* NULL: empty */
    size_t value;
} nninit__strmap_slot;
typedef struct nninit__strmap {
    nninit__strmap_slot *slot;
    size_t n, cap; /* cap: 0 or a power of two */
} nninit__strmap;
#define NNINIT__STRMAP_INIT {NULL, 0, 0}

/* Maps key to value (replacing an earlier value); 0, or -1 out of memory. */
int nninit__strmap_put(nninit__strmap *m, const char *key, size_t value);
/* 1 and *value when key is mapped, else 0. */
int nninit__strmap_get(const nninit__strmap *m, const char *key, size_t *value);
void nninit__strmap_free(nninit__strmap *m);

/* ---- fixed-arithmetic transforms (fmath.c) ----
 * Defined with separately rounded IEEE operations in a fixed order (no
 * libm), so every platform and every SIMD path gives the same bits. */
float nninit__logf(float x);                    /* x > 0, normal */
double nninit__log(double x);                   /* x > 0, normal */
void nninit__sincos2pif(float u, float *s, float *c); /* sin, cos of 2*pi*u, u in [0, 1) */
void nninit__sincos2pi(double u, double *s, double *c);
double nninit__ndtri(double p);
double nninit__ndtr(double x);                  /* normal CDF Phi(x) */

/* ---- misc ---- */

/* Levenshtein distance, for "did you mean" suggestions. */
int nninit__edit_distance(const char *a, const char *b);
/* Number of online CPUs (>= 1). */
int nninit__cpu_count(void);
/* "812 bytes", "3.1 GB" (decimal units) into buf; returns buf. */
char *nninit__format_bytes(uint64_t n, char *buf, size_t cap);

#endif /* NNINIT_CORE_INTERNAL_H */
