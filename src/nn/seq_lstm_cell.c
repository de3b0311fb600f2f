/* The LSTM cell's elementwise work per step (the gates, the cell and state
 * updates, and backward the gate gradients, the carried cell gradient and
 * the bias gradient's sums), one pass over each row's 4H gate values, in
 * GCC vector extensions at 4 lanes (SSE2, baseline x86-64), 8 (AVX2) and 16
 * (AVX-512 F and DQ), the widest the CPU has chosen at run time. The gates'
 * sigmoid and tanh are seq_vmath's (the same inline forms, so the same bits
 * as nninit__vsigmoidf / nninit__vtanhf); every operation is a separately
 * rounded IEEE one (no FMA), so every width gives the same bits
 * (test_nn_seq_grad checks it). Forward, per unit:
 *   c' = f c + i g, h = o tanh c'
 * backward, from dh and the dc carried from the step after:
 *   dc' = dc + dh o (1 - tanh^2 c'), the gates' pre-activation gradients
 *   through sigmoid (s (1 - s)) and tanh (1 - g^2), and f dc' carried back. */
#include "nn/internal.h"

#include <string.h>

#define CELL_NEW(ig, fg, gg, cp) ((fg) * (cp) + (ig) * (gg))
#define DC_NEW(dc, dh, og, th) ((dc) + (dh) * (og) * (1.0f - (th) * (th)))
#define D_I(dcv, ig, gg) ((dcv) * (gg) * (ig) * (1.0f - (ig)))
#define D_F(dcv, fg, cp) ((dcv) * (cp) * (fg) * (1.0f - (fg)))
#define D_G(dcv, ig, gg) ((dcv) * (ig) * (1.0f - (gg) * (gg)))
#define D_O(dh, og, th) ((dh) * (th) * (og) * (1.0f - (og)))

/* seq_vmath_impl.h also defines its array maps, which this file does not call */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"

typedef float v4f __attribute__((vector_size(16)));
typedef int32_t v4i __attribute__((vector_size(16)));
#define LANES 4
#define VM_F v4f
#define VM_I v4i
#define VM_ATTR
#define VM_NAME(f) f##_4
#include "nn/seq_vmath_impl.h"
#include "nn/seq_lstm_cell_impl.h"
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
#include "nn/seq_lstm_cell_impl.h"
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
#include "nn/seq_lstm_cell_impl.h"
#undef LANES
#undef VM_F
#undef VM_I
#undef VM_ATTR
#undef VM_NAME
#else
#define HAVE_WIDE 0
#endif

#pragma GCC diagnostic pop

void nninit__lstm_cell_forward_lanes(int lanes, float *pre, const float *c_prev, int64_t rows, int64_t H,
                                     float *c_new, float *tanh_c, float *h_new)
{
#if HAVE_WIDE
    switch (nninit__vmath_usable_lanes(lanes)) {
    case 16:
        lstm_forward_16(pre, c_prev, rows, H, c_new, tanh_c, h_new);
        return;
    case 8:
        lstm_forward_8(pre, c_prev, rows, H, c_new, tanh_c, h_new);
        return;
    default:
        break;
    }
#endif
    lstm_forward_4(pre, c_prev, rows, H, c_new, tanh_c, h_new);
}

void nninit__lstm_cell_backward_lanes(int lanes, const float *gates, const float *c_prev, const float *tanh_c,
                                      const float *dh, int64_t rows, int64_t H, float *dc, float *dpre, float *dbias)
{
#if HAVE_WIDE
    switch (nninit__vmath_usable_lanes(lanes)) {
    case 16:
        lstm_backward_16(gates, c_prev, tanh_c, dh, rows, H, dc, dpre, dbias);
        return;
    case 8:
        lstm_backward_8(gates, c_prev, tanh_c, dh, rows, H, dc, dpre, dbias);
        return;
    default:
        break;
    }
#endif
    lstm_backward_4(gates, c_prev, tanh_c, dh, rows, H, dc, dpre, dbias);
}

void nninit__lstm_cell_forward(float *pre, const float *c_prev, int64_t rows, int64_t H, float *c_new, float *tanh_c,
                               float *h_new)
{
    nninit__lstm_cell_forward_lanes(16, pre, c_prev, rows, H, c_new, tanh_c, h_new);
}

void nninit__lstm_cell_backward(const float *gates, const float *c_prev, const float *tanh_c, const float *dh,
                                int64_t rows, int64_t H, float *dc, float *dpre, float *dbias)
{
    nninit__lstm_cell_backward_lanes(16, gates, c_prev, tanh_c, dh, rows, H, dc, dpre, dbias);
}
