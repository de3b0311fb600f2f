/* Character-level corpus from the fortune files of Debian's fortunes
 * package, split train/test by fortune number, and next-character windows. */
#include "data/internal.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define DEFAULT_FORTUNES_DIR "/usr/share/games/fortunes"
#define MAX_FORTUNE_FILE (INT64_C(256) << 20) /* the largest Debian file is ~0.5 MB */
#define TEST_EVERY 10                         /* fortune k is a test fortune when k % 10 == 9 */

const char *nninit_fortunes_default_dir(void)
{
    const char *env = getenv("NNINIT_FORTUNES");
    return env && env[0] ? env : DEFAULT_FORTUNES_DIR;
}

void nninit_text_free(nninit_text *t)
{
    if (!t)
        return;
    free(t->ids);
    memset(t, 0, sizeof *t);
}

void nninit_seqset_free(nninit_seqset *s)
{
    if (!s)
        return;
    free(s->x);
    free(s->tokens);
    free(s->y);
    free(s->yf);
    memset(s, 0, sizeof *s);
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The fortune files of dir (NAME with NAME.dat), sorted; *names malloc'd. */
static nninit_status list_files(const char *dir, char ***names, size_t *count, nninit_err *err)
{
    *names = NULL;
    *count = 0;
    DIR *d = opendir(dir);
    if (!d)
        return nninit__err(err, NNINIT_ENOTFOUND,
                           "fortunes folder '%.200s': cannot open it; install the corpus with 'apt-get install "
                           "fortunes', or point NNINIT_FORTUNES at a folder of fortune files",
                           dir);
    size_t cap = 0;
    nninit_status st = NNINIT_OK;
    struct dirent *e;
    char path[4096];
    while (st == NNINIT_OK && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || strchr(e->d_name, '.'))
            continue;
        struct stat sb;
        int n = snprintf(path, sizeof path, "%s/%s.dat", dir, e->d_name);
        if (n < 0 || (size_t)n >= sizeof path || stat(path, &sb) != 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
            continue;
        if (*count == cap) {
            cap = cap ? 2 * cap : 64;
            char **grown = realloc(*names, cap * sizeof *grown);
            if (!grown) {
                st = nninit__err(err, NNINIT_ENOMEM, "fortunes: out of memory");
                break;
            }
            *names = grown;
        }
        if (!((*names)[*count] = nninit__strdup(e->d_name)))
            st = nninit__err(err, NNINIT_ENOMEM, "fortunes: out of memory");
        else
            (*count)++;
    }
    closedir(d);
    if (st == NNINIT_OK && *count == 0)
        st = nninit__err(err, NNINIT_ENOTFOUND,
                         "fortunes folder '%.200s': no fortune files (NAME with its index NAME.dat); install them "
                         "with 'apt-get install fortunes', or point NNINIT_FORTUNES at such a folder",
                         dir);
    if (st == NNINIT_OK)
        qsort(*names, *count, sizeof **names, cmp_names);
    return st;
}

/* A growing byte buffer. */
typedef struct bytes {
    unsigned char *p;
    size_t n, cap;
} bytes;

static int put(bytes *b, const unsigned char *src, size_t n)
{
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 1 << 16;
        while (cap < b->n + n)
            cap *= 2;
        unsigned char *g = realloc(b->p, cap);
        if (!g)
            return -1;
        b->p = g;
        b->cap = cap;
    }
    memcpy(b->p + b->n, src, n);
    b->n += n;
    return 0;
}

/* Splits one file's fortunes between train and test; *k counts fortunes. */
static int split_file(const unsigned char *buf, size_t len, int64_t *k, bytes *train, bytes *test,
                      int64_t *docs)
{
    size_t start = 0, pos = 0;
    while (pos <= len) {
        /* a separator is a line that is "%" alone; a fortune also ends at EOF */
        size_t eol = pos;
        while (eol < len && buf[eol] != '\n')
            eol++;
        int sep = eol - pos == 1 && buf[pos] == '%';
        int end = eol >= len;
        if (sep || end) {
            size_t stop = sep ? pos : len;
            if (stop > start) {
                int is_test = *k % TEST_EVERY == TEST_EVERY - 1;
                bytes *dst = is_test ? test : train;
                if (put(dst, buf + start, stop - start) != 0)
                    return -1;
                if (buf[stop - 1] != '\n' && put(dst, (const unsigned char *)"\n", 1) != 0)
                    return -1;
                if (put(dst, (const unsigned char *)"%\n", 2) != 0)
                    return -1;
                docs[is_test]++;
                (*k)++;
            }
            start = eol + 1;
        }
        pos = eol + 1;
    }
    return 0;
}

static nninit_status to_ids(const bytes *b, const int32_t *id_of, nninit_text *t, nninit_err *err)
{
    t->n = (int64_t)b->n;
    t->ids = nninit__malloc_array(b->n ? b->n : 1, sizeof *t->ids);
    if (!t->ids)
        return nninit__err(err, NNINIT_ENOMEM, "fortunes: out of memory for %zu characters", b->n);
    for (size_t i = 0; i < b->n; i++) {
        t->ids[i] = id_of[b->p[i]];
        t->n_unknown += t->ids[i] == 0;
    }
    return NNINIT_OK;
}

nninit_status nninit_fortunes_load(const char *dir, nninit_text *train, nninit_text *test, nninit_err *err)
{
    if (!train || !test)
        return nninit__err(err, NNINIT_EMISUSE, "nninit_fortunes_load: NULL argument");
    memset(train, 0, sizeof *train);
    memset(test, 0, sizeof *test);
    if (!dir)
        dir = nninit_fortunes_default_dir();
    char **names;
    size_t count;
    nninit_status st = list_files(dir, &names, &count, err);
    bytes tr = {0}, te = {0};
    int64_t k = 0, docs[2] = {0, 0};
    for (size_t i = 0; st == NNINIT_OK && i < count; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unsigned char *buf;
        size_t len;
        st = nninit__read_file(path, MAX_FORTUNE_FILE, &buf, &len, err);
        if (st == NNINIT_OK && split_file(buf, len, &k, &tr, &te, docs) != 0)
            st = nninit__err(err, NNINIT_ENOMEM, "fortunes: out of memory");
        free(buf);
    }
    for (size_t i = 0; i < count; i++)
        free(names[i]);
    free(names);
    if (st == NNINIT_OK && (tr.n == 0 || te.n == 0))
        st = nninit__err(err, NNINIT_EFORMAT,
                         "fortunes folder '%.200s': %lld fortunes; expected at least %d so that both splits have one",
                         dir, (long long)k, TEST_EVERY);
    if (st == NNINIT_OK) {
        /* vocabulary: the training text's bytes in increasing order, from id 1 */
        int seen[256] = {0};
        int32_t id_of[256] = {0};
        for (size_t i = 0; i < tr.n; i++)
            seen[tr.p[i]] = 1;
        int32_t v = 1;
        for (int c = 0; c < 256; c++)
            if (seen[c]) {
                id_of[c] = v;
                train->byte_of[v] = (unsigned char)c;
                v++;
            }
        train->vocab = v;
        st = to_ids(&tr, id_of, train, err);
        if (st == NNINIT_OK)
            st = to_ids(&te, id_of, test, err);
        test->vocab = v;
        memcpy(test->byte_of, train->byte_of, sizeof test->byte_of);
        train->n_docs = docs[0];
        test->n_docs = docs[1];
    }
    free(tr.p);
    free(te.p);
    if (st != NNINIT_OK) {
        nninit_text_free(train);
        nninit_text_free(test);
    }
    return st;
}

nninit_status nninit_text_windows(const nninit_text *t, int64_t steps, int64_t stride, nninit_seqset *out,
                                  nninit_err *err)
{
    if (!t || !out || !t->ids)
        return nninit__err(err, NNINIT_EMISUSE, "nninit_text_windows: NULL argument");
    memset(out, 0, sizeof *out);
    if (steps < 1 || stride < 1 || steps + 1 > t->n)
        return nninit__err(err, NNINIT_EINVAL,
                           "text windows of %lld steps every %lld characters from %lld characters; expected steps "
                           ">= 1, stride >= 1 and steps + 1 <= the text's length",
                           (long long)steps, (long long)stride, (long long)t->n);
    int64_t n = (t->n - steps - 1) / stride + 1;
    out->tokens = nninit__malloc_array((size_t)n, (size_t)steps * sizeof *out->tokens);
    out->y = nninit__malloc_array((size_t)n, (size_t)steps * sizeof *out->y);
    if (!out->tokens || !out->y) {
        nninit_seqset_free(out);
        return nninit__err(err, NNINIT_ENOMEM, "text windows: out of memory for %lld x %lld", (long long)n,
                           (long long)steps);
    }
    for (int64_t i = 0; i < n; i++) {
        memcpy(out->tokens + i * steps, t->ids + i * stride, (size_t)steps * sizeof *out->tokens);
        memcpy(out->y + i * steps, t->ids + i * stride + 1, (size_t)steps * sizeof *out->y);
    }
    out->n = n;
    out->steps = steps;
    out->vocab = t->vocab;
    out->y_steps = steps;
    out->n_classes = t->vocab;
    return NNINIT_OK;
}
