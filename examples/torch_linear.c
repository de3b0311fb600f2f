/*
 * The weights of PyTorch's nn.Linear(784, 256) after torch.manual_seed(0),
 * bit for bit, from C: the weight then the bias, drawn in that order from one
 * generator, exactly as Linear.reset_parameters does:
 *
 *     torch.manual_seed(0)
 *     lin = torch.nn.Linear(784, 256)      # weight (256, 784), bias (256,)
 *     print(lin.weight[0, :4], lin.bias[:4])
 *
 * Build: make examples (or cc torch_linear.c -lnninit ...); run with no
 * arguments. NNINIT_RNG_TORCH follows the kernel variant PyTorch would pick
 * on this CPU (see docs/torch.md).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "nninit.h"

int main(void)
{
    enum { IN = 784, OUT = 256 };
    nninit_err err;
    nninit_rng *rng = NULL;
    nninit_init w_init, b_init;
    float *w = malloc(sizeof *w * IN * OUT), *b = malloc(sizeof *b * OUT);
    if (!w || !b)
        return 1;

    /* reset_parameters: kaiming_uniform_(weight, a=math.sqrt(5)), then
     * uniform_(bias, -1/sqrt(fan_in), 1/sqrt(fan_in)). */
    char b_spec[128];
    double bound = 1 / sqrt((double)IN);
    snprintf(b_spec, sizeof b_spec, "uniform_(a=%.17g, b=%.17g)", -bound, bound);
    if (nninit_init_parse("kaiming_uniform_(a=2.23606797749979)", &w_init, &err) != NNINIT_OK ||
        nninit_init_parse(b_spec, &b_init, &err) != NNINIT_OK ||
        nninit_rng_new(NNINIT_RNG_TORCH, 0, &rng, &err) != NNINIT_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    nninit_fill_opts opts = nninit_fill_opts_default();
    opts.layout = NNINIT_LAYOUT_TORCH; /* (out, in): fan_in = 784 */
    nninit_shape w_shape = {2, {OUT, IN}}, b_shape = {1, {OUT}};
    if (nninit_fill(&w_init, &w_shape, &opts, rng, w, &err) != NNINIT_OK ||
        nninit_fill(&b_init, &b_shape, &opts, rng, b, &err) != NNINIT_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    printf("generator %s\n", nninit_rng_kind_name(nninit_rng_resolved_kind(rng)));
    printf("weight[0, :4] = %.8f %.8f %.8f %.8f\n", (double)w[0], (double)w[1], (double)w[2], (double)w[3]);
    printf("bias[:4]      = %.8f %.8f %.8f %.8f\n", (double)b[0], (double)b[1], (double)b[2], (double)b[3]);
    nninit_rng_free(rng);
    free(w);
    free(b);
    return 0;
}
