/*
 * Run-time choice of the vector path for Philox generation: what the CPU
 * and OS support (GCC/Clang's cpu model, which checks XCR0 for the YMM/ZMM
 * state), capped by NNINIT_SIMD for benchmarks and comparisons.
 */
#include "rng/simd_internal.h"

#include <stdlib.h>
#include <string.h>

static const char *const ISA_NAMES[NNINIT__ISA_COUNT] = {"scalar", "avx2", "avx512"};

const char *nninit__isa_name(nninit__isa isa)
{
    return (unsigned)isa < NNINIT__ISA_COUNT ? ISA_NAMES[isa] : "?";
}

int nninit__isa_available(nninit__isa isa)
{
    switch (isa) {
    case NNINIT__ISA_SCALAR: return 1;
#ifdef NNINIT__HAVE_X86_SIMD
    case NNINIT__ISA_AVX2:
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2") != 0;
    case NNINIT__ISA_AVX512:
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
               __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl");
#endif
    default: return 0;
    }
}

nninit__isa nninit__isa_best(void)
{
    nninit__isa cap = NNINIT__ISA_COUNT - 1;
    const char *env = getenv("NNINIT_SIMD");
    if (env && *env) {
        for (int i = 0; i < NNINIT__ISA_COUNT; i++)
            if (!strcmp(env, ISA_NAMES[i]))
                cap = (nninit__isa)i;
    }
    for (int i = (int)cap; i > 0; i--)
        if (nninit__isa_available((nninit__isa)i))
            return (nninit__isa)i;
    return NNINIT__ISA_SCALAR;
}
