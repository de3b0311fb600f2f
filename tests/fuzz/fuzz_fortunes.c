/* libFuzzer target for the fortunes corpus reader (src/data/text.c): the
 * input is split at 0xFF bytes into up to four fortune files (each with the
 * NAME.dat index beside it that marks a fortune file), written into one
 * temporary folder, read with nninit_fortunes_load and cut into windows.
 * Checks the reader's promises: train and test non-empty, every id in
 * [0, vocab), no unknown character in the training split, byte_of maps the
 * training ids back to distinct increasing bytes, windows inside the text. */
#include "nninit.h"
#include "nninit_data.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64];

static int write_file(const char *name, const uint8_t *p, size_t n)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t w = n ? fwrite(p, 1, n, f) : 0;
    return fclose(f) == 0 && w == n ? 0 : -1;
}

static void check_text(const nninit_text *t, int train)
{
    if (t->n < 1 || !t->ids || t->vocab < 2 || t->vocab > 257 || t->n_unknown < 0 || t->n_unknown > t->n)
        abort();
    int64_t unknown = 0;
    for (int64_t i = 0; i < t->n; i++) {
        if (t->ids[i] < 0 || t->ids[i] >= t->vocab)
            abort();
        unknown += t->ids[i] == 0;
    }
    if (unknown != t->n_unknown || (train && unknown))
        abort();
    for (int32_t v = 2; v < t->vocab; v++)
        if (t->byte_of[v] <= t->byte_of[v - 1])
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 16)
        return 0;
    if (!dir[0]) {
        strcpy(dir, "/tmp/nninit-fuzz-fortunes-XXXXXX");
        if (!mkdtemp(dir))
            abort();
    }
    static const char *const names[4] = {"a", "b", "c", "d"};
    size_t start = 0;
    int files = 0;
    for (size_t i = 0; i <= size && files < 4; i++)
        if (i == size || data[i] == 0xFF) {
            if (write_file(names[files], data + start, i - start) != 0)
                abort();
            char dat[8];
            snprintf(dat, sizeof dat, "%s.dat", names[files]);
            if (write_file(dat, NULL, 0) != 0)
                abort();
            files++;
            start = i + 1;
        }
    nninit_text train, test;
    nninit_err err;
    if (nninit_fortunes_load(dir, &train, &test, &err) == NNINIT_OK) {
        check_text(&train, 1);
        check_text(&test, 0);
        if (train.vocab != test.vocab || memcmp(train.byte_of, test.byte_of, sizeof train.byte_of))
            abort();
        int64_t steps = size ? 1 + data[0] % 16 : 1, stride = size > 1 ? 1 + data[1] % 8 : 1;
        nninit_seqset w;
        if (nninit_text_windows(&train, steps, stride, &w, &err) == NNINIT_OK) {
            if (w.n < 1 || (w.n - 1) * stride + steps + 1 > train.n)
                abort();
            for (int64_t i = 0; i < w.n * steps; i++)
                if (w.tokens[i] < 0 || w.tokens[i] >= train.vocab || w.y[i] < 0 || w.y[i] >= train.vocab)
                    abort();
            nninit_seqset_free(&w);
        } else if (steps + 1 <= train.n) {
            abort(); /* refused although the text is long enough */
        }
        nninit_text_free(&train);
        nninit_text_free(&test);
    }
    for (int k = 0; k < files; k++) { /* the next input starts from an empty folder */
        char path[128];
        snprintf(path, sizeof path, "%s/%s", dir, names[k]);
        unlink(path);
        snprintf(path, sizeof path, "%s/%s.dat", dir, names[k]);
        unlink(path);
    }
    return 0;
}
