/* The Philox word reader of the data layer and whole-file reads: every
 * random choice of a data set (permutations, splits, synthetic tasks) comes
 * from the words of (seed, stream), never from the platform's rand(). */
#include "data/internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void nninit__words_init(nninit__words *w, uint64_t seed, uint64_t stream)
{
    memset(w, 0, sizeof *w);
    nninit__philox_key(seed, w->key);
    w->stream = stream;
}

uint32_t nninit__words_next(nninit__words *w)
{
    if (w->pos == w->fill) {
        nninit__philox_words(w->key, w->stream, w->next, 256, w->buf);
        w->next += 256;
        w->pos = 0;
        w->fill = 256;
    }
    return w->buf[w->pos++];
}

uint64_t nninit__words_bounded(nninit__words *w, uint64_t m)
{
    if (m <= UINT64_C(0xFFFFFFFF) + 1) {
        uint64_t range = UINT64_C(1) << 32, limit = range - range % m;
        for (;;) {
            uint64_t v = nninit__words_next(w);
            if (v < limit)
                return v % m;
        }
    }
    uint64_t limit = UINT64_MAX - (UINT64_MAX % m + 1) % m; /* accept v <= limit */
    for (;;) {
        uint64_t v = (uint64_t)nninit__words_next(w) << 32 | nninit__words_next(w);
        if (v <= limit)
            return v % m;
    }
}

float nninit__words_unit(nninit__words *w)
{
    return (float)(nninit__words_next(w) >> 8) * 0x1.0p-24f;
}

nninit_status nninit__read_file(const char *path, int64_t max_bytes, unsigned char **buf, size_t *len,
                                nninit_err *err)
{
    *buf = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        int e = errno;
        if (e == ENOENT)
            return nninit__err(err, NNINIT_ENOTFOUND, "%s: no such file", path);
        return nninit__err_sys(err, e, "%s: cannot open (%s)", path, strerror(e));
    }
    long size = -1;
    if (fseek(f, 0, SEEK_END) == 0)
        size = ftell(f);
    if (size < 0 || fseek(f, 0, SEEK_SET) != 0) {
        int e = errno;
        fclose(f);
        return nninit__err_sys(err, e, "%s: cannot find its size (%s); expected a regular file", path, strerror(e));
    }
    if ((int64_t)size > max_bytes) {
        fclose(f);
        return nninit__err(err, NNINIT_EFORMAT, "%s: %ld bytes; files over %lld bytes are refused here", path, size,
                           (long long)max_bytes);
    }
    unsigned char *b = malloc((size_t)size + 1);
    if (!b) {
        fclose(f);
        return nninit__err(err, NNINIT_ENOMEM, "%s: out of memory for %ld bytes", path, size);
    }
    size_t n = fread(b, 1, (size_t)size, f);
    if (n != (size_t)size || ferror(f)) {
        int e = errno;
        fclose(f);
        free(b);
        return nninit__err_sys(err, e, "%s: read failed after %zu of %ld bytes", path, n, size);
    }
    fclose(f);
    *buf = b;
    *len = n;
    return NNINIT_OK;
}
