/*
 * Shapes, dtypes, layouts and the two fan rules:
 *   Keras: keras/src/initializers/random_initializers.py compute_fans
 *   PyTorch: torch/nn/init.py _calculate_fan_in_and_fan_out
 */
#include "core/internal.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *nninit_dtype_name(nninit_dtype d)
{
    switch (d) {
    case NNINIT_F32: return "float32";
    case NNINIT_F64: return "float64";
    case NNINIT_BF16: return "bfloat16";
    case NNINIT_F16: return "float16";
    }
    return "unknown";
}

size_t nninit_dtype_size(nninit_dtype d)
{
    switch (d) {
    case NNINIT_F32: return 4;
    case NNINIT_F64: return 8;
    case NNINIT_BF16:
    case NNINIT_F16: return 2;
    }
    return 0;
}

nninit_status nninit_dtype_parse(const char *name, nninit_dtype *out, nninit_err *err)
{
    static const struct { const char *name; nninit_dtype d; } names[] = {
        {"float32", NNINIT_F32}, {"f32", NNINIT_F32}, {"F32", NNINIT_F32}, {"float", NNINIT_F32},
        {"float64", NNINIT_F64}, {"f64", NNINIT_F64}, {"F64", NNINIT_F64}, {"double", NNINIT_F64},
        {"bfloat16", NNINIT_BF16}, {"bf16", NNINIT_BF16}, {"BF16", NNINIT_BF16},
        {"float16", NNINIT_F16}, {"f16", NNINIT_F16}, {"F16", NNINIT_F16}, {"half", NNINIT_F16},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcmp(name, names[i].name)) {
            *out = names[i].d;
            return NNINIT_OK;
        }
    return nninit__err(err, NNINIT_EINVAL, "unknown dtype '%s'; expected float32, float64, bfloat16 or float16",
                       name);
}

const char *nninit_layout_name(nninit_layout l) { return l == NNINIT_LAYOUT_TORCH ? "torch" : "keras"; }

nninit_status nninit_layout_parse(const char *name, nninit_layout *out, nninit_err *err)
{
    if (!strcmp(name, "keras") || !strcmp(name, "hwio") || !strcmp(name, "HWIO")) {
        *out = NNINIT_LAYOUT_KERAS;
        return NNINIT_OK;
    }
    if (!strcmp(name, "torch") || !strcmp(name, "pytorch") || !strcmp(name, "oihw") || !strcmp(name, "OIHW")) {
        *out = NNINIT_LAYOUT_TORCH;
        return NNINIT_OK;
    }
    return nninit__err(err, NNINIT_EINVAL, "unknown layout '%s'; expected 'keras' or 'torch'", name);
}

char *nninit_shape_format(const nninit_shape *shape, char *buf, size_t cap)
{
    size_t len = 0;
    if (!cap)
        return buf;
    buf[0] = '\0';
    len += (size_t)snprintf(buf + len, len < cap ? cap - len : 0, "[");
    for (int i = 0; shape && i < shape->ndim && i < NNINIT_MAX_DIMS; i++)
        len += (size_t)snprintf(buf + (len < cap ? len : cap - 1), len < cap ? cap - len : 0, "%s%" PRId64,
                                i ? ", " : "", shape->dim[i]);
    snprintf(buf + (len < cap ? len : cap - 1), len < cap ? cap - len : 0, "]");
    return buf;
}

nninit_status nninit_shape_numel(const nninit_shape *shape, int64_t *numel, nninit_err *err)
{
    char buf[200];
    if (!shape)
        return nninit__err(err, NNINIT_EMISUSE, "shape is NULL");
    if (shape->ndim < 0 || shape->ndim > NNINIT_MAX_DIMS)
        return nninit__err(err, NNINIT_EINVAL, "shape has %d dimensions; at most %d are supported", shape->ndim,
                           NNINIT_MAX_DIMS);
    /* every element must also be addressable in bytes as float64 */
    const uint64_t limit = (uint64_t)(SIZE_MAX < INT64_MAX ? SIZE_MAX : INT64_MAX) / 8u;
    uint64_t n = 1;
    for (int i = 0; i < shape->ndim; i++) {
        if (shape->dim[i] < 1)
            return nninit__err(err, NNINIT_EINVAL, "shape %s: dimension %d is %" PRId64 "; every dimension must be >= 1",
                               nninit_shape_format(shape, buf, sizeof buf), i, shape->dim[i]);
        if (n > limit / (uint64_t)shape->dim[i])
            return nninit__err(err, NNINIT_EOVERFLOW,
                               "shape %s: the element count overflows; at most %" PRIu64 " elements are addressable",
                               nninit_shape_format(shape, buf, sizeof buf), limit);
        n *= (uint64_t)shape->dim[i];
    }
    if (numel)
        *numel = (int64_t)n;
    return NNINIT_OK;
}

nninit_status nninit_shape_parse(const char *text, nninit_shape *out, nninit_err *err)
{
    nninit_shape s = {0, {0}};
    const char *p = text;
    while (isspace((unsigned char)*p))
        p++;
    char close = 0;
    if (*p == '[' || *p == '(') {
        close = *p == '[' ? ']' : ')';
        p++;
    }
    for (;;) {
        while (isspace((unsigned char)*p))
            p++;
        if (!*p || (close && *p == close))
            break;
        if (!isdigit((unsigned char)*p) && *p != '-')
            return nninit__err(err, NNINIT_EINVAL, "shape '%s': expected a dimension at '%s'; write e.g. 3,3,64,128",
                               text, p);
        if (s.ndim == NNINIT_MAX_DIMS)
            return nninit__err(err, NNINIT_EINVAL, "shape '%s': more than %d dimensions", text, NNINIT_MAX_DIMS);
        errno = 0;
        char *end;
        long long v = strtoll(p, &end, 10);
        if (errno == ERANGE)
            return nninit__err(err, NNINIT_EOVERFLOW, "shape '%s': dimension '%.*s' does not fit in 64 bits", text,
                               (int)(end - p), p);
        if (v < 1)
            return nninit__err(err, NNINIT_EINVAL, "shape '%s': dimension %d is %lld; every dimension must be >= 1",
                               text, s.ndim, v);
        s.dim[s.ndim++] = (int64_t)v;
        p = end;
        while (isspace((unsigned char)*p))
            p++;
        if (*p == ',' || *p == 'x' || *p == 'X')
            p++;
        else if (*p && !(close && *p == close))
            return nninit__err(err, NNINIT_EINVAL, "shape '%s': unexpected '%c'; separate dimensions with ','", text,
                               *p);
    }
    if (close) {
        if (*p != close)
            return nninit__err(err, NNINIT_EINVAL, "shape '%s': missing '%c'", text, close);
        p++;
        while (isspace((unsigned char)*p))
            p++;
        if (*p)
            return nninit__err(err, NNINIT_EINVAL, "shape '%s': trailing text '%s'", text, p);
    }
    nninit_status st = nninit_shape_numel(&s, NULL, err);
    if (st != NNINIT_OK)
        return st;
    *out = s;
    return NNINIT_OK;
}

nninit_status nninit_fans(const nninit_shape *shape, nninit_layout layout, int64_t *fan_in, int64_t *fan_out,
                          nninit_err *err)
{
    int64_t numel;
    nninit_status st = nninit_shape_numel(shape, &numel, err);
    if (st != NNINIT_OK)
        return st;
    int64_t fi, fo;
    const int nd = shape->ndim;
    if (layout == NNINIT_LAYOUT_TORCH) {
        if (nd < 2)
            return nninit__err(err, NNINIT_EINVAL,
                               "fan in and fan out can not be computed for a tensor with %d dimension%s; the torch "
                               "layout needs at least 2 (out, in, *kernel)",
                               nd, nd == 1 ? "" : "s");
        int64_t rf = 1;
        for (int i = 2; i < nd; i++)
            rf *= shape->dim[i];
        fi = shape->dim[1] * rf;
        fo = shape->dim[0] * rf;
    } else {
        if (nd == 0) {
            fi = fo = 1;
        } else if (nd == 1) {
            fi = fo = shape->dim[0];
        } else {
            int64_t rf = 1;
            for (int i = 0; i < nd - 2; i++)
                rf *= shape->dim[i];
            fi = shape->dim[nd - 2] * rf;
            fo = shape->dim[nd - 1] * rf;
        }
    }
    if (fan_in)
        *fan_in = fi;
    if (fan_out)
        *fan_out = fo;
    return NNINIT_OK;
}
