/* libFuzzer target for the STFT initializer's window argument, the tuple
 * syntax of scipy.signal.get_window: ('tukey', 0.25), ("kaiser", 8),
 * ('exponential', None, 3), 8.0 (kaiser beta), None, a bare name, or the
 * window's values [0.5, 1, 0.5] (which fill only when there is one per
 * frame sample). The input
 * is the text after "window=" in a Python call and, from a byte that says
 * where, the JSON form {"class_name": "STFT", "config": {"window": ...}}.
 * Whatever parses must fill a small kernel with finite values, print as
 * JSON that parses back to the same initializer, and (a tuple) name a
 * window of the catalogue with a parameter count that check accepts. */
#include "nninit.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The same initializer: every field, a window's values compared by value. */
static int same_init(const nninit_init *a, const nninit_init *b)
{
    nninit_init x = *a, y = *b;
    if (x.stft_window_len != y.stft_window_len ||
        (x.stft_window_len && memcmp(x.stft_window_values, y.stft_window_values,
                                     (size_t)x.stft_window_len * sizeof(double))))
        return 0;
    x.stft_window_values = y.stft_window_values = NULL;
    return memcmp(&x, &y, sizeof x) == 0;
}

static void try_spec(const char *spec, int64_t T)
{
    nninit_init in;
    nninit_err err;
    if (nninit_init_parse(spec, &in, &err) != NNINIT_OK)
        return;
    if (in.stft_window == NNINIT_WINDOW_VALUES && (!in.stft_window_owned || in.stft_window_len < 1))
        abort(); /* a parsed window of values owns at least one value */
    char *json = NULL;
    if (nninit_init_to_json(&in, &json, &err) == NNINIT_OK) {
        nninit_init back;
        if (nninit_init_parse(json, &back, &err) != NNINIT_OK || !same_init(&in, &back))
            abort(); /* what we print must parse back to the same initializer */
        nninit_init_clear(&back);
        nninit_free(json);
    }
    nninit_shape shape = {3, {T, 1, 3}}; /* (frame length, 1 channel, 3 frequencies) */
    float out[64 * 3];
    nninit_fill_opts fo = nninit_fill_opts_default();
    nninit_rng *rng = NULL;
    if (nninit_rng_new(NNINIT_RNG_PHILOX, 1, &rng, &err) != NNINIT_OK)
        abort();
    if (nninit_fill(&in, &shape, &fo, rng, out, &err) == NNINIT_OK)
        for (int64_t i = 0; i < T * 3; i++)
            if (!isfinite(out[i]))
                abort(); /* a window that parses gives finite values */
    nninit_rng_free(rng);
    nninit_init_clear(&in);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 512)
        return 0;
    int64_t T = 1 + data[0] % 64;
    int periodic = data[0] >> 7;
    char arg[600], spec[800];
    memcpy(arg, data + 1, size - 1);
    arg[size - 1] = '\0';
    if (strlen(arg) != size - 1)
        return 0; /* a NUL would cut the text where the parser cannot see it */
    snprintf(spec, sizeof spec, "STFT(window=%s, periodic=%s)", arg, periodic ? "True" : "False");
    try_spec(spec, T);
    snprintf(spec, sizeof spec, "{\"class_name\": \"STFT\", \"config\": {\"window\": %s, \"periodic\": %s}}", arg,
             periodic ? "true" : "false");
    try_spec(spec, T);
    return 0;
}
