/* exp, sigmoid and tanh over float arrays, four lanes at a time with GCC
 * vector extensions (SSE2 on baseline x86-64): the recurrent gates and
 * the attention softmax spend most of their non-BLAS time here, and glibc's
 * scalar tanhf (through expm1f) cost more than the LSTM's products.
 *
 * exp: Cephes' expf (Moshier): n = round(x log2 e), r = x - n ln 2 in two
 * parts, a degree-6 polynomial, times 2^n through the exponent bits; within
 * 2 ulp of the exact value for x in [-87.3, 88], 0 below (flushed, as a
 * sigmoid or softmax term that small is) and e^88 above (2^n must stay a
 * normal float).
 * tanh: Cephes' tanhf: an odd polynomial for |x| < 0.625, else
 * 1 - 2 / (e^{2|x|} + 1) with the sign of x. sigmoid: 1 / (1 + e^{-x}).
 * The normal CDF (for the exact GELU): through erfc, see vnormcdf.
 * Written once (seq_vmath_impl.h) and compiled for 4 lanes (SSE2, baseline
 * x86-64), 8 lanes where the CPU has AVX2 and 16 where it has AVX-512 (F and
 * DQ; about 1.3x the 8-lane speed on the Zen 4 this was measured on), the
 * widest the CPU has chosen at run time: all run the same IEEE operations
 * lane by lane (no FMA), so they give the same bits on every x86-64;
 * tests/test_nn_seq_grad.c checks the error bounds against libm's double
 * functions and that the widths agree bit for bit. */
#include "nn/internal.h"

#include <string.h>

typedef float v4f __attribute__((vector_size(16)));
typedef int32_t v4i __attribute__((vector_size(16)));

#define LANES 4
#define VM_F v4f
#define VM_I v4i
#define VM_ATTR
#define VM_NAME(f) f##_4
#include "nn/seq_vmath_impl.h"
#undef LANES
#undef VM_F
#undef VM_I
#undef VM_ATTR
#undef VM_NAME

#if defined(__x86_64__) && defined(__GNUC__)
#define HAVE_WIDE 1
typedef float v8f __attribute__((vector_size(32)));
typedef int32_t v8i __attribute__((vector_size(32)));

#define LANES 8
#define VM_F v8f
#define VM_I v8i
#define VM_ATTR __attribute__((target("avx2")))
#define VM_NAME(f) f##_8
#include "nn/seq_vmath_impl.h"
#undef LANES
#undef VM_F
#undef VM_I
#undef VM_ATTR
#undef VM_NAME

typedef float v16f __attribute__((vector_size(64)));
typedef int32_t v16i __attribute__((vector_size(64)));

#define LANES 16
#define VM_F v16f
#define VM_I v16i
#define VM_ATTR __attribute__((target("avx512f,avx512dq")))
#define VM_NAME(f) f##_16
#include "nn/seq_vmath_impl.h"
#undef LANES
#undef VM_F
#undef VM_I
#undef VM_ATTR
#undef VM_NAME
#else
#define HAVE_WIDE 0
#endif

static int wide_ok(void)
{
#if HAVE_WIDE
    return __builtin_cpu_supports("avx2");
#else
    return 0;
#endif
}

static int widest_ok(void)
{
#if HAVE_WIDE
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq");
#else
    return 0;
#endif
}

void nninit__vmath_lanes(int fn, int lanes, const float *x, float *y, int64_t n)
{
    typedef void (*map_fn)(const float *, float *, int64_t);
    static const map_fn narrow[4] = {map_exp_4, map_tanh_4, map_sigmoid_4, map_normcdf_4};
#if HAVE_WIDE
    static const map_fn wide[4] = {map_exp_8, map_tanh_8, map_sigmoid_8, map_normcdf_8};
    static const map_fn widest[4] = {map_exp_16, map_tanh_16, map_sigmoid_16, map_normcdf_16};
    if (lanes == 16 && widest_ok()) {
        widest[fn](x, y, n);
        return;
    }
    if (lanes >= 8 && wide_ok()) {
        wide[fn](x, y, n);
        return;
    }
#endif
    narrow[fn](x, y, n);
}

void nninit__vexpf(const float *x, float *y, int64_t n) { nninit__vmath_lanes(0, 16, x, y, n); }
void nninit__vtanhf(const float *x, float *y, int64_t n) { nninit__vmath_lanes(1, 16, x, y, n); }
void nninit__vsigmoidf(const float *x, float *y, int64_t n) { nninit__vmath_lanes(2, 16, x, y, n); }
void nninit__vnormcdff(const float *x, float *y, int64_t n) { nninit__vmath_lanes(3, 16, x, y, n); }

int nninit__vmath_usable_lanes(int lanes)
{
    if (lanes == 16 && widest_ok())
        return 16;
    if (lanes >= 8 && wide_ok())
        return 8;
    return 4;
}
