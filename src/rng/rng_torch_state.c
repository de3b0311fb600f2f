/*
 * torch.get_rng_state() / torch.set_rng_state() for the torch generators:
 * the byte layout of ATen's CPUGeneratorImplState (CPUGeneratorImpl.cpp,
 * 1.13 and 2.x), little-endian x86-64 / aarch64 alignment:
 *
 *   offset  size  field
 *        0     8  the_initial_seed (int64)
 *        8     4  left (int)
 *       12     4  seeded (int, nonzero = true)
 *       16     8  next (uint64; ATen keeps its low 32 bits)
 *       24  4992  state[624] (uint64 each; ATen keeps the low 32 bits)
 *     5016     8  normal_x (unused, 0)
 *     5024     8  normal_y (the cached double normal)
 *     5032     8  normal_rho (unused, 0)
 *     5040     4  normal_is_valid (int)
 *     5044     4  padding                      -- 5048: legacy size
 *     5048     4  next_float_normal_sample (float)
 *     5052     1  is_next_float_normal_sample_valid (bool), 3 bytes padding
 *
 * The CPU kernels use only the double cache; the float cache is written as
 * ATen writes it when unset (0, false) and ignored on input.
 */
#include "rng/internal.h"

#include <string.h>

#define LEGACY_SIZE 5048

static uint64_t get_le(const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static void put_le(unsigned char *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++, v >>= 8)
        p[i] = (unsigned char)(v & 0xff);
}

static int is_torch(const nninit_rng *rng)
{
    return rng && rng->kind != NNINIT_RNG_PHILOX;
}

nninit_status nninit_rng_torch_state_get(const nninit_rng *rng, unsigned char out[NNINIT_TORCH_STATE_SIZE],
                                         nninit_err *err)
{
    if (!is_torch(rng) || !out)
        return nninit__err(err, NNINIT_EMISUSE,
                           "torch state: needs a torch generator (--rng torch...) and an output buffer");
    memset(out, 0, NNINIT_TORCH_STATE_SIZE);
    put_le(out, rng->seed, 8);
    put_le(out + 8, (uint64_t)(uint32_t)rng->mt.left, 4);
    put_le(out + 12, 1, 4);
    put_le(out + 16, (uint64_t)(uint32_t)rng->mt.next, 8);
    for (int i = 0; i < 624; i++)
        put_le(out + 24 + 8 * i, rng->mt.state[i], 8);
    if (rng->normal_cache_valid) {
        uint64_t bits;
        memcpy(&bits, &rng->normal_cache, 8);
        put_le(out + 5024, bits, 8);
        put_le(out + 5040, 1, 4);
    }
    return NNINIT_OK;
}

nninit_status nninit_rng_torch_state_set(nninit_rng *rng, const void *state, size_t len, nninit_err *err)
{
    const unsigned char *p = state;
    if (!is_torch(rng) || (!p && len))
        return nninit__err(err, NNINIT_EMISUSE, "torch state: needs a torch generator and a state buffer");
    if (len != LEGACY_SIZE && len != NNINIT_TORCH_STATE_SIZE)
        return nninit__err(err, NNINIT_EFORMAT,
                           "torch state: %zu bytes; torch.get_rng_state() gives %d (or %d for the legacy layout)",
                           len, NNINIT_TORCH_STATE_SIZE, LEGACY_SIZE);
    /* ATen's checks (mt19937_engine::is_valid): seeded, 1 <= left <= 624,
     * next (its low 32 bits) <= 624. Beyond ATen, refuse states whose next
     * draws would index past the 624 words (ATen reads out of bounds there:
     * before the next twist it reads state[next .. next + left - 2]). */
    int64_t left = (int32_t)(uint32_t)get_le(p + 8, 4);
    uint32_t seeded = (uint32_t)get_le(p + 12, 4);
    uint32_t next = (uint32_t)get_le(p + 16, 8);
    if (!seeded || left < 1 || left > 624 || next > 624)
        return nninit__err(err, NNINIT_EFORMAT,
                           "torch state: invalid mt19937 state (seeded %u, left %lld, next %u); expected seeded, "
                           "1 <= left <= 624, next <= 624",
                           (unsigned)seeded, (long long)left, (unsigned)next);
    if ((int64_t)next + left > 625)
        return nninit__err(err, NNINIT_EFORMAT,
                           "torch state: next %u + left %lld > 625 would read past the 624 state words; a state "
                           "from torch.get_rng_state() has next + left == 625 (or left 1, next 0)",
                           (unsigned)next, (long long)left);
    rng->seed = get_le(p, 8);
    rng->mt.left = (int)left;
    rng->mt.next = (int)next;
    for (int i = 0; i < 624; i++)
        rng->mt.state[i] = (uint32_t)get_le(p + 24 + 8 * i, 8);
    rng->normal_cache_valid = get_le(p + 5040, 4) != 0;
    uint64_t bits = get_le(p + 5024, 8);
    memcpy(&rng->normal_cache, &bits, 8);
    if (!rng->normal_cache_valid)
        rng->normal_cache = 0.0;
    return NNINIT_OK;
}
