/* libFuzzer target for the theory's activation parser (nninit theory --act),
 * followed by the moments of whatever it accepts at a few variances. */
#include "nninit.h"
#include "nninit_analysis.h"

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 256)
        return 0;
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    nninit_theory_act act;
    double alpha = 0;
    nninit_err err;
    if (nninit_theory_act_parse(text, &act, &alpha, &err) == NNINIT_OK) {
        nninit_theory_moments m;
        if (!isfinite(alpha) || (unsigned)act >= NNINIT_THEORY_ACT_COUNT)
            abort(); /* the parser promised a valid activation */
        if (fabs(alpha) < 1e6)
            (void)nninit_theory_moments_at(act, alpha, 1.0, &m, &err);
    } else if (!err.msg[0] || strchr(err.msg, '\n')) {
        abort(); /* errors are one non-empty line */
    }
    free(text);
    return 0;
}
