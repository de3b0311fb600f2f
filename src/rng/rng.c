/* The generator object: Philox (stateless key) or PyTorch's CPU generator. */
#include "rng/internal.h"

#include <stdlib.h>
#include <string.h>

static const struct { const char *name; nninit_rng_kind kind; } RNG_NAMES[] = {
    {"philox", NNINIT_RNG_PHILOX},
    {"torch", NNINIT_RNG_TORCH},
    {"torch:default", NNINIT_RNG_TORCH_DEFAULT},
    {"torch:avx2", NNINIT_RNG_TORCH_AVX2},
    {"torch2", NNINIT_RNG_TORCH2},
    {"torch2:default", NNINIT_RNG_TORCH2_DEFAULT},
    {"torch2:avx2", NNINIT_RNG_TORCH2_AVX2},
};

nninit_status nninit_rng_kind_parse(const char *name, nninit_rng_kind *out, nninit_err *err)
{
    for (size_t i = 0; i < sizeof RNG_NAMES / sizeof RNG_NAMES[0]; i++)
        if (!strcmp(name, RNG_NAMES[i].name)) {
            *out = RNG_NAMES[i].kind;
            return NNINIT_OK;
        }
    return nninit__err(err, NNINIT_EINVAL,
                       "unknown generator '%s'; expected philox, torch, torch:default, torch:avx2, torch2, "
                       "torch2:default or torch2:avx2",
                       name);
}

const char *nninit_rng_kind_name(nninit_rng_kind kind)
{
    for (size_t i = 0; i < sizeof RNG_NAMES / sizeof RNG_NAMES[0]; i++)
        if (RNG_NAMES[i].kind == kind)
            return RNG_NAMES[i].name;
    return "unknown";
}

nninit_status nninit_rng_new(nninit_rng_kind kind, uint64_t seed, nninit_rng **out, nninit_err *err)
{
    if (!out)
        return nninit__err(err, NNINIT_EMISUSE, "nninit_rng_new: out is NULL");
    *out = NULL;
    if ((unsigned)kind > NNINIT_RNG_TORCH2_AVX2)
        return nninit__err(err, NNINIT_EINVAL, "unknown generator kind %d", (int)kind);
    nninit_rng *r = calloc(1, sizeof *r);
    if (!r)
        return nninit__err(err, NNINIT_ENOMEM, "out of memory allocating a generator");
    r->kind = kind;
    r->seed = seed;
    r->stream_version = NNINIT_STREAM_VERSION;
    r->resolved = kind;
    if (kind == NNINIT_RNG_TORCH)
        r->resolved = nninit__torch_cpu_has_avx2() ? NNINIT_RNG_TORCH_AVX2 : NNINIT_RNG_TORCH_DEFAULT;
    else if (kind == NNINIT_RNG_TORCH2)
        r->resolved = nninit__torch_cpu_has_avx2() ? NNINIT_RNG_TORCH2_AVX2 : NNINIT_RNG_TORCH2_DEFAULT;
    if (kind == NNINIT_RNG_PHILOX)
        nninit__philox_key(seed, r->key);
    else
        nninit__torch_seed(r, seed);
    *out = r;
    return NNINIT_OK;
}

void nninit_rng_free(nninit_rng *rng) { free(rng); }
nninit_rng_kind nninit_rng_get_kind(const nninit_rng *rng) { return rng->kind; }
nninit_rng_kind nninit_rng_resolved_kind(const nninit_rng *rng) { return rng->resolved; }
uint64_t nninit_rng_seed(const nninit_rng *rng) { return rng->seed; }
int nninit_rng_stream_version(const nninit_rng *rng) { return rng->stream_version; }

nninit_status nninit_rng_set_stream_version(nninit_rng *rng, int version, nninit_err *err)
{
    if (!rng)
        return nninit__err(err, NNINIT_EMISUSE, "nninit_rng_set_stream_version: rng is NULL");
    if (rng->kind != NNINIT_RNG_PHILOX)
        return nninit__err(err, NNINIT_EUNSUPPORTED,
                           "stream version: applies to the philox generator only; the torch generators follow "
                           "PyTorch's stream");
    if (version < NNINIT_STREAM_VERSION_MIN || version > NNINIT_STREAM_VERSION)
        return nninit__err(err, NNINIT_EINVAL, "stream version %d unknown; expected %d to %d", version,
                           NNINIT_STREAM_VERSION_MIN, NNINIT_STREAM_VERSION);
    rng->stream_version = version;
    return NNINIT_OK;
}
