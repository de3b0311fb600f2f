/* Reads the text fixtures written by tests/fixtures/make_*_fixtures.py: one
 * tensor per line, "name count v1 v2 ...", '#' lines are comments. */
#ifndef NNINIT_TEST_FIXTURE_TXT_H
#define NNINIT_TEST_FIXTURE_TXT_H

#include "util.h"

typedef struct fx_tensor {
    char name[64];
    int64_t n;
    double *v;
} fx_tensor;

typedef struct fx_file {
    int n;
    fx_tensor t[256];
} fx_file;

/* Loads tests/fixtures/<name>; returns 0 on success, -1 if missing or empty. */
static inline int fx_load(fx_file *f, const char *name)
{
    char path[512];
    FILE *in = fopen(test_fixture(name, path, sizeof path), "r");
    if (!in)
        return -1;
    f->n = 0;
    size_t cap = 1 << 20;
    char *line = malloc(cap);
    while (f->n < 256 && fgets(line, (int)cap, in)) {
        if (line[0] == '#')
            continue;
        fx_tensor *t = &f->t[f->n];
        long n = 0;
        int used = 0;
        if (sscanf(line, "%63s %ld%n", t->name, &n, &used) != 2 || n <= 0)
            continue;
        char *p = line + used;
        t->n = n;
        t->v = malloc((size_t)n * sizeof(double));
        for (long i = 0; i < n; i++)
            t->v[i] = strtod(p, &p);
        f->n++;
    }
    free(line);
    fclose(in);
    return f->n > 0 ? 0 : -1;
}

static inline void fx_free(fx_file *f)
{
    for (int i = 0; i < f->n; i++)
        free(f->t[i].v);
    f->n = 0;
}

/* The tensor called name (fails the test if absent). */
static inline const fx_tensor *fx_get(const fx_file *f, const char *name)
{
    for (int i = 0; i < f->n; i++)
        if (!strcmp(f->t[i].name, name))
            return &f->t[i];
    print_error("fixture has no tensor '%s'\n", name);
    fail();
    return NULL;
}

/* A float copy of a tensor (caller frees). */
static inline float *fx_floats(const fx_tensor *t)
{
    float *o = malloc((size_t)t->n * sizeof(float));
    for (int64_t i = 0; i < t->n; i++)
        o[i] = (float)t->v[i];
    return o;
}

#endif
