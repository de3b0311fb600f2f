/*
 * PyTorch's CPU generator: MT19937 as aten/src/ATen/core/MT19937RNGEngine.h
 * seeds and advances it (1.13.1 and 2.x are identical here), the 64-bit draw
 * of CPUGeneratorImpl::random64 (first 32-bit draw = high word), and the CPU
 * capability test that decides which kernel variant PyTorch dispatches.
 */
#include "rng/torch_internal.h"

#include <stdlib.h>
#include <string.h>

#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
#define NNINIT__HAVE_CPUID 1
#include <cpuid.h>
#endif

#define MT_N 624
#define MT_M 397
#define MT_MATRIX_A 0x9908b0dfu
#define MT_UMASK 0x80000000u
#define MT_LMASK 0x7fffffffu

void nninit__torch_seed(nninit_rng *rng, uint64_t seed)
{
    /* torch.manual_seed(s) stores the 64-bit s (negative Python ints as
     * their two's complement, checked on 1.13: manual_seed(-1) and
     * manual_seed(2**64 - 1) give the same stream), but the engine keeps
     * only s mod 2^32: this is init_genrand of the reference MT19937. */
    uint32_t *st = rng->mt.state;
    st[0] = (uint32_t)(seed & 0xffffffffu);
    for (uint32_t j = 1; j < MT_N; j++)
        st[j] = 1812433253u * (st[j - 1] ^ (st[j - 1] >> 30)) + j;
    /* left = 1: the first draw regenerates the whole block. */
    rng->mt.left = 1;
    rng->mt.next = 0;
    /* manual_seed resets both cached normals (set_current_seed). */
    rng->normal_cache = 0.0;
    rng->normal_cache_valid = 0;
}

static uint32_t mt_twist(uint32_t u, uint32_t v)
{
    return (((u & MT_UMASK) | (v & MT_LMASK)) >> 1) ^ ((v & 1u) ? MT_MATRIX_A : 0u);
}

static void mt_next_state(nninit__mt19937 *mt)
{
    uint32_t *st = mt->state;
    int j;
    for (j = 0; j < MT_N - MT_M; j++)
        st[j] = st[j + MT_M] ^ mt_twist(st[j], st[j + 1]);
    for (; j < MT_N - 1; j++)
        st[j] = st[j + MT_M - MT_N] ^ mt_twist(st[j], st[j + 1]);
    st[MT_N - 1] = st[MT_M - 1] ^ mt_twist(st[MT_N - 1], st[0]);
    mt->left = MT_N;
    mt->next = 0;
}

/* MT19937's tempering of one state word. */
static uint32_t temper(uint32_t y)
{
    y ^= y >> 11;
    y ^= (y << 7) & 0x9d2c5680u;
    y ^= (y << 15) & 0xefc60000u;
    return y ^ (y >> 18);
}

uint32_t nninit__torch_next32(nninit_rng *rng)
{
    nninit__mt19937 *mt = &rng->mt;
    if (--mt->left == 0)
        mt_next_state(mt);
    return temper(mt->state[mt->next++]);
}

int nninit__torch_simd(void)
{
#ifdef NNINIT__HAVE_X86_SIMD
    if (nninit__isa_best() < NNINIT__ISA_AVX2)
        return 0;
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return 0;
#endif
}

void nninit__torch_words(nninit_rng *rng, uint32_t *out, size_t n)
{
    nninit__mt19937 *mt = &rng->mt;
    int simd = nninit__torch_simd();
    while (n > 0) {
        if (mt->left == 1) {
            /* the draw that finds left == 1 twists and takes word 0 with
             * left = 624 (next32's --left); counting that draw as one of
             * the run's, the run may take all 624 words */
#ifdef NNINIT__HAVE_X86_SIMD
            if (simd)
                nninit__torch_avx2_twist(mt->state);
            else
#endif
                mt_next_state(mt);
            mt->left = MT_N + 1;
            mt->next = 0;
        }
        /* words state[next .. next + left - 2] come before the next twist */
        size_t k = (size_t)(mt->left - 1);
        if (k > n)
            k = n;
        const uint32_t *st = mt->state + mt->next;
#ifdef NNINIT__HAVE_X86_SIMD
        if (simd)
            nninit__torch_avx2_temper(st, k, out);
        else
#endif
            for (size_t i = 0; i < k; i++)
                out[i] = temper(st[i]);
        mt->next += (int)k;
        mt->left -= (int)k;
        out += k;
        n -= k;
    }
}

uint64_t nninit__torch_next64(nninit_rng *rng)
{
    /* Two statements: C leaves the order of evaluation of the operands of
     * | unspecified, and PyTorch takes the first draw as the high word. */
    uint64_t hi = nninit__torch_next32(rng);
    uint64_t lo = nninit__torch_next32(rng);
    return (hi << 32) | lo;
}

#ifdef NNINIT__HAVE_CPUID
static int cpu_avx2_fma(void)
{
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d))
        return 0;
    int fma = (c >> 12) & 1, osxsave = (c >> 27) & 1, avx = (c >> 28) & 1;
    if (!fma || !osxsave || !avx)
        return 0;
    /* The OS must save the YMM state (XCR0 bits 1 and 2), as cpuinfo checks. */
    unsigned xlo, xhi;
    __asm__ volatile("xgetbv" : "=a"(xlo), "=d"(xhi) : "c"(0));
    (void)xhi;
    if ((xlo & 6u) != 6u)
        return 0;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d))
        return 0;
    return (b >> 5) & 1; /* AVX2 */
}
#else
static int cpu_avx2_fma(void)
{
    return 0;
}
#endif

int nninit__torch_cpu_has_avx2(void)
{
    /* ATen's get_cpu_capability(): ATEN_CPU_CAPABILITY=default forces the
     * DEFAULT kernels; otherwise AVX2 kernels when the CPU has AVX2 and FMA.
     * AVX-512 machines also get the AVX2 bits: 1.13 uses the AVX512
     * capability only when ATEN_CPU_CAPABILITY=avx512 asks for it, and even
     * then normal_/uniform_/erfinv_ gave bits identical to the AVX2 kernels
     * (measured with Debian's 1.13.1, see docs/torch.md). */
    const char *cap = getenv("ATEN_CPU_CAPABILITY");
    if (cap && !strcmp(cap, "default"))
        return 0;
    return cpu_avx2_fma();
}
