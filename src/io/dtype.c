/* Element types of tensor files (the safetensors dtype set, with NumPy descr
 * strings) and conversions between floating formats, each rounded once to
 * nearest-even (as torch's .to(torch.bfloat16 / torch.float16) does). */
#include "io/internal.h"

#include <float.h>
#include <math.h>
#include <string.h>

typedef struct fdtype_row {
    const char *st_name; /* safetensors */
    int bits;
    int rank;            /* position in safetensors' Dtype enum ("increasing alignment order") */
    const char *npy;     /* NumPy descr, little-endian; NULL if NumPy has none */
} fdtype_row;

/* Ranks from huggingface/safetensors safetensors/src/tensor.rs `enum Dtype`:
 * BOOL F4 F6_E2M3 F6_E3M2 U8 I8 F8_E5M2 F8_E4M3 F8_E8M0 I16 U16 F16 BF16 I32
 * U32 F32 C64 F64 I64 U64. The writer sorts by descending rank, then name. */
static const fdtype_row rows[NNINIT_FD_COUNT] = {
    [NNINIT_FD_BOOL] = {"BOOL", 8, 0, "|b1"},
    [NNINIT_FD_F4] = {"F4", 4, 1, NULL},
    [NNINIT_FD_F6_E2M3] = {"F6_E2M3", 6, 2, NULL},
    [NNINIT_FD_F6_E3M2] = {"F6_E3M2", 6, 3, NULL},
    [NNINIT_FD_U8] = {"U8", 8, 4, "|u1"},
    [NNINIT_FD_I8] = {"I8", 8, 5, "|i1"},
    [NNINIT_FD_F8_E5M2] = {"F8_E5M2", 8, 6, NULL},
    [NNINIT_FD_F8_E4M3] = {"F8_E4M3", 8, 7, NULL},
    [NNINIT_FD_F8_E8M0] = {"F8_E8M0", 8, 8, NULL},
    [NNINIT_FD_I16] = {"I16", 16, 9, "<i2"},
    [NNINIT_FD_U16] = {"U16", 16, 10, NULL}, /* '<u2' carries bfloat16 in nninit's npy files */
    [NNINIT_FD_F16] = {"F16", 16, 11, "<f2"},
    [NNINIT_FD_BF16] = {"BF16", 16, 12, "<u2"},
    [NNINIT_FD_I32] = {"I32", 32, 13, "<i4"},
    [NNINIT_FD_U32] = {"U32", 32, 14, "<u4"},
    [NNINIT_FD_F32] = {"F32", 32, 15, "<f4"},
    [NNINIT_FD_C64] = {"C64", 64, 16, "<c8"},
    [NNINIT_FD_F64] = {"F64", 64, 17, "<f8"},
    [NNINIT_FD_I64] = {"I64", 64, 18, "<i8"},
    [NNINIT_FD_U64] = {"U64", 64, 19, "<u8"},
};

static int valid(nninit_file_dtype d) { return (int)d >= 0 && d < NNINIT_FD_COUNT; }

const char *nninit_file_dtype_name(nninit_file_dtype d) { return valid(d) ? rows[d].st_name : "?"; }
int nninit_file_dtype_bits(nninit_file_dtype d) { return valid(d) ? rows[d].bits : 0; }
int nninit__file_dtype_rank(nninit_file_dtype d) { return valid(d) ? rows[d].rank : -1; }
const char *nninit__file_dtype_npy(nninit_file_dtype d) { return valid(d) ? rows[d].npy : NULL; }

nninit_status nninit_file_dtype_parse(const char *name, nninit_file_dtype *out, nninit_err *err)
{
    for (int i = 0; i < NNINIT_FD_COUNT; i++)
        if (!strcmp(rows[i].st_name, name)) {
            *out = (nninit_file_dtype)i;
            return NNINIT_OK;
        }
    return nninit__err(err, NNINIT_EINVAL, "unknown safetensors dtype '%.40s'; expected F32, F64, BF16, F16, "
                       "I64, ...", name);
}

int nninit__file_dtype_from_npy(const char *descr, nninit_file_dtype *out, int *swap)
{
    /* '<', '>', '=' or '|' then the kind and size; '=' is host order. */
    const uint16_t one = 1;
    unsigned char lo;
    memcpy(&lo, &one, 1);
    int host_le = lo == 1;
    char order = descr[0];
    if (order != '<' && order != '>' && order != '=' && order != '|')
        return 0;
    for (int i = 0; i < NNINIT_FD_COUNT; i++) {
        const char *n = rows[i].npy;
        if (!n || strcmp(n + 1, descr + 1))
            continue;
        int width = rows[i].bits / 8;
        if (width == 1 ? order != '|' : order == '|')
            return 0;
        *out = (nninit_file_dtype)i;
        int big = order == '>' || (order == '=' && !host_le);
        *swap = width > 1 && big == host_le;
        return 1;
    }
    return 0;
}

nninit_file_dtype nninit_file_dtype_of(nninit_dtype d)
{
    switch (d) {
    case NNINIT_F32: return NNINIT_FD_F32;
    case NNINIT_F64: return NNINIT_FD_F64;
    case NNINIT_BF16: return NNINIT_FD_BF16;
    case NNINIT_F16: return NNINIT_FD_F16;
    }
    return NNINIT_FD_COUNT;
}

/* ---- rounding to a binary format with `ebits` exponent and `mbits`
 * fraction bits: round to nearest, ties to even, once, from a double
 * (float32 inputs convert to double exactly). Overflow gives infinity as
 * IEEE rounding does; NaN stays NaN (quiet) with its sign and leading
 * payload bits. */
static uint32_t round_to_format(double x, int ebits, int mbits)
{
    uint64_t xb;
    memcpy(&xb, &x, 8);
    uint32_t sign = (uint32_t)(xb >> 63) << (ebits + mbits);
    uint32_t exp_all = ((1u << ebits) - 1) << mbits;
    if (isnan(x)) {
        uint32_t payload = (uint32_t)((xb & 0x000fffffffffffffull) >> (52 - mbits));
        return sign | exp_all | (1u << (mbits - 1)) | payload;
    }
    double a = fabs(x);
    if (isinf(x))
        return sign | exp_all;
    int bias = (1 << (ebits - 1)) - 1;
    int emin = 1 - bias; /* exponent of the smallest normal */
    int e;
    (void)frexp(a, &e); /* a = f * 2^e, f in [0.5, 1): unbiased exponent is e - 1 */
    int ue = a == 0.0 ? emin : e - 1;
    if (ue < emin)
        ue = emin; /* subnormal range: fixed quantum 2^(emin - mbits) */
    double q = ldexp(a, mbits - ue); /* exact (power-of-two scaling) */
    double r = rint(q);              /* ties to even in the default rounding mode */
    double v = ldexp(r, ue - mbits); /* the rounded magnitude, exactly representable */
    if (v == 0.0)
        return sign;
    (void)frexp(v, &e);
    int ve = e - 1;
    if (ve > bias)
        return sign | exp_all; /* rounded past the largest finite value */
    if (ve < emin)             /* subnormal result */
        return sign | (uint32_t)ldexp(v, mbits - emin);
    uint32_t frac = (uint32_t)(ldexp(v, mbits - ve) - ldexp(1.0, mbits));
    return sign | ((uint32_t)(ve + bias) << mbits) | frac;
}

static double decode_format(uint32_t bits, int ebits, int mbits)
{
    int bias = (1 << (ebits - 1)) - 1;
    uint32_t frac = bits & ((1u << mbits) - 1);
    uint32_t ex = (bits >> mbits) & ((1u << ebits) - 1);
    int neg = (bits >> (ebits + mbits)) & 1;
    double v;
    if (ex == (1u << ebits) - 1)
        v = frac ? (double)NAN : (double)INFINITY;
    else if (ex == 0)
        v = ldexp((double)frac, 1 - bias - mbits);
    else
        v = ldexp((double)(frac | (1u << mbits)), (int)ex - bias - mbits);
    return neg ? -v : v;
}

uint16_t nninit__to_f16(double x) { return (uint16_t)round_to_format(x, 5, 10); }
uint16_t nninit__to_bf16(double x) { return (uint16_t)round_to_format(x, 8, 7); }
double nninit__from_f16(uint16_t h) { return decode_format(h, 5, 10); }
double nninit__from_bf16(uint16_t h) { return decode_format(h, 8, 7); }

/* Element i of a buffer of dtype d as a double (NaN for types without a
 * numeric meaning here). */
static double load(nninit_file_dtype d, const unsigned char *p, size_t i)
{
    switch (d) {
    case NNINIT_FD_F32: { float f; memcpy(&f, p + 4 * i, 4); return (double)f; }
    case NNINIT_FD_F64: { double f; memcpy(&f, p + 8 * i, 8); return f; }
    case NNINIT_FD_F16: { uint16_t h; memcpy(&h, p + 2 * i, 2); return nninit__from_f16(h); }
    case NNINIT_FD_BF16: { uint16_t h; memcpy(&h, p + 2 * i, 2); return nninit__from_bf16(h); }
    case NNINIT_FD_BOOL: return p[i] != 0;
    case NNINIT_FD_U8: return p[i];
    case NNINIT_FD_I8: return (double)(int8_t)p[i];
    case NNINIT_FD_I16: { int16_t v; memcpy(&v, p + 2 * i, 2); return v; }
    case NNINIT_FD_U16: { uint16_t v; memcpy(&v, p + 2 * i, 2); return v; }
    case NNINIT_FD_I32: { int32_t v; memcpy(&v, p + 4 * i, 4); return v; }
    case NNINIT_FD_U32: { uint32_t v; memcpy(&v, p + 4 * i, 4); return v; }
    case NNINIT_FD_I64: { int64_t v; memcpy(&v, p + 8 * i, 8); return (double)v; }
    case NNINIT_FD_U64: { uint64_t v; memcpy(&v, p + 8 * i, 8); return (double)v; }
    default: return (double)NAN;
    }
}

static int is_float(nninit_file_dtype d)
{
    return d == NNINIT_FD_F32 || d == NNINIT_FD_F64 || d == NNINIT_FD_F16 || d == NNINIT_FD_BF16;
}

static int is_numeric(nninit_file_dtype d)
{
    return is_float(d) || d == NNINIT_FD_BOOL || d == NNINIT_FD_U8 || d == NNINIT_FD_I8 || d == NNINIT_FD_I16 ||
           d == NNINIT_FD_U16 || d == NNINIT_FD_I32 || d == NNINIT_FD_U32 || d == NNINIT_FD_I64 ||
           d == NNINIT_FD_U64;
}

/* refuse_overflow: a finite value that would round to inf is an error
 * (checked element by element before it is stored, so in == out works). */
static nninit_status convert(nninit_file_dtype from, const void *in, nninit_file_dtype to, void *out, size_t n,
                             int refuse_overflow, nninit_err *err)
{
    if (!valid(from) || !valid(to) || !is_numeric(from) || !is_float(to))
        return nninit__err(err, NNINIT_EUNSUPPORTED, "convert %s to %s: unsupported; the target must be F32, "
                           "F64, BF16 or F16 and the source a float, integer or BOOL type",
                           nninit_file_dtype_name(from), nninit_file_dtype_name(to));
    if (from == to) {
        memmove(out, in, n * (size_t)(rows[from].bits / 8));
        return NNINIT_OK;
    }
    const unsigned char *p = in;
    unsigned char *q = out;
    for (size_t i = 0; i < n; i++) {
        double v = load(from, p, i);
        switch (to) {
        case NNINIT_FD_F32: { float f = (float)v; memcpy(q + 4 * i, &f, 4); break; }
        case NNINIT_FD_F64: memcpy(q + 8 * i, &v, 8); break;
        case NNINIT_FD_F16: { uint16_t h = nninit__to_f16(v); memcpy(q + 2 * i, &h, 2); break; }
        default: { uint16_t h = nninit__to_bf16(v); memcpy(q + 2 * i, &h, 2); break; }
        }
        if (refuse_overflow && isfinite(v) && !isfinite(load(to, q, i))) {
            /* the largest finite value: 1.11...1 x 2^emax */
            double top = to == NNINIT_FD_F16 ? 65504.0 : to == NNINIT_FD_BF16 ? 0x1.fep127 : (double)FLT_MAX;
            const char *name = to == NNINIT_FD_F16 ? "float16" : to == NNINIT_FD_BF16 ? "bfloat16" : "float32";
            return nninit__err(err, NNINIT_EINVAL, "%s: %.9g is beyond its largest finite value %.6g (the tensor "
                               "would hold inf); use smaller parameters or a wider dtype", name, v, top);
        }
    }
    return NNINIT_OK;
}

nninit_status nninit_convert(nninit_file_dtype from, const void *in, nninit_file_dtype to, void *out, size_t n,
                             nninit_err *err)
{
    return convert(from, in, to, out, n, 0, err);
}

nninit_status nninit_convert_finite(nninit_file_dtype from, const void *in, nninit_file_dtype to, void *out,
                                    size_t n, nninit_err *err)
{
    return convert(from, in, to, out, n, 1, err);
}
