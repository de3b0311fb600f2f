/* NumPy .npy files: the v1.0 writer of numpy/lib/format.py (NumPy 1.24,
 * byte-identical) and a strict reader of v1/v2/v3 headers. */
#include "io/internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define NPY_MAGIC "\x93NUMPY"
#define NPY_MAGIC_LEN 6
/* NumPy refuses headers over 10000 bytes by default (_MAX_HEADER_SIZE);
 * ours hold at most 8 dims, so 64 KiB leaves room for hand-made v2 files
 * while bounding what a corrupt length can make us read. */
#define NPY_MAX_HEADER 65536

static int host_is_le(void)
{
    const uint16_t one = 1;
    unsigned char b;
    memcpy(&b, &one, 1);
    return b == 1;
}

void nninit__swap_bytes(void *data, uint64_t numel, size_t width)
{
    unsigned char *p = data;
    for (uint64_t i = 0; i < numel; i++, p += width)
        for (size_t j = 0; j < width / 2; j++) {
            unsigned char t = p[j];
            p[j] = p[width - 1 - j];
            p[width - 1 - j] = t;
        }
}

nninit_status nninit__tensor_bytes(const char *what, const nninit_shape *shape, nninit_file_dtype dtype,
                                   uint64_t *numel, uint64_t *nbytes, nninit_err *err)
{
    if (shape->ndim < 0 || shape->ndim > NNINIT_MAX_DIMS)
        return nninit__err(err, NNINIT_EINVAL, "%s: %d dimensions; expected 0 to %d", what, shape->ndim,
                           NNINIT_MAX_DIMS);
    uint64_t bits = (uint64_t)nninit_file_dtype_bits(dtype);
    if (bits == 0)
        return nninit__err(err, NNINIT_EINVAL, "%s: unknown dtype %d; expected float32, float64, bfloat16 "
                           "or float16", what, (int)dtype);
    uint64_t n = 1;
    int zero = 0;
    for (int i = 0; i < shape->ndim; i++) {
        int64_t d = shape->dim[i];
        if (d < 0)
            return nninit__err(err, NNINIT_EINVAL, "%s: dimension %d is %" PRId64 "; dimensions must be >= 0",
                               what, i, d);
        if (d == 0)
            zero = 1;
        else if (!zero && n > (uint64_t)INT64_MAX / (uint64_t)d)
            return nninit__err(err, NNINIT_EOVERFLOW, "%s: the shape's element count overflows 64 bits", what);
        else if (!zero)
            n *= (uint64_t)d;
    }
    if (zero)
        n = 0;
    if (n > (uint64_t)INT64_MAX / bits || (n * bits) / 8 > (uint64_t)SIZE_MAX)
        return nninit__err(err, NNINIT_EOVERFLOW, "%s: %" PRIu64 " elements of %" PRIu64 " bits overflow the "
                           "address space", what, n, bits);
    if ((n * bits) % 8)
        return nninit__err(err, NNINIT_EINVAL, "%s: %" PRIu64 " elements of %" PRIu64 " bits are not a whole "
                           "number of bytes", what, n, bits);
    *numel = n;
    *nbytes = n * bits / 8;
    return NNINIT_OK;
}

nninit_status nninit__npy_header(nninit_file_dtype dtype, const nninit_shape *shape, char *buf, size_t cap,
                                 size_t *len, nninit_err *err)
{
    uint64_t numel, nbytes;
    const char *descr = nninit__file_dtype_npy(dtype);
    if (!descr)
        return nninit__err(err, NNINIT_EUNSUPPORTED, "npy: dtype %s has no NumPy equivalent; use safetensors",
                           nninit_file_dtype_name(dtype));
    nninit_status s = nninit__tensor_bytes("npy", shape, dtype, &numel, &nbytes, err);
    if (s != NNINIT_OK)
        return s;
    /* _write_array_header: sorted keys as "'key': repr(value), ", then "}",
     * then 21 - len(repr(shape[0])) spaces of room to grow axis 0 in place,
     * then _wrap_header pads with spaces so that magic (8) + length (2) +
     * header + "\n" is a multiple of 64 (a whole 64 when already aligned). */
    char dict[400];
    int n = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (", descr);
    for (int i = 0; i < shape->ndim; i++)
        n += snprintf(dict + n, sizeof dict - (size_t)n, i ? ", %" PRId64 : "%" PRId64, shape->dim[i]);
    n += snprintf(dict + n, sizeof dict - (size_t)n, "%s), }", shape->ndim == 1 ? "," : "");
    if (shape->ndim > 0) {
        char first[24];
        int digits = snprintf(first, sizeof first, "%" PRId64, shape->dim[0]);
        for (int i = digits; i < 21; i++)
            dict[n++] = ' ';
    }
    size_t hlen = (size_t)n + 1;
    size_t pad = 64 - (8 + 2 + hlen) % 64;
    size_t total = 10 + hlen + pad;
    if (total > cap)
        return nninit__err(err, NNINIT_EINVAL, "npy: header buffer of %zu bytes is too small; need %zu", cap, total);
    memcpy(buf, NPY_MAGIC "\x01\x00", 8);
    buf[8] = (char)((hlen + pad) & 0xff);
    buf[9] = (char)((hlen + pad) >> 8);
    memcpy(buf + 10, dict, (size_t)n);
    memset(buf + 10 + n, ' ', pad);
    buf[total - 1] = '\n';
    *len = total;
    return NNINIT_OK;
}

nninit_status nninit_npy_write(const char *path, nninit_dtype dtype, const nninit_shape *shape, const void *data,
                               nninit_err *err)
{
    if (!path || !shape)
        return nninit__err(err, NNINIT_EMISUSE, "nninit_npy_write: path and shape must not be NULL");
    char header[256];
    size_t hlen;
    nninit_file_dtype fd = nninit_file_dtype_of(dtype);
    nninit_status s = nninit__npy_header(fd, shape, header, sizeof header, &hlen, err);
    if (s != NNINIT_OK)
        return s;
    uint64_t numel, nbytes;
    nninit__tensor_bytes(path, shape, fd, &numel, &nbytes, NULL);
    if (!data && nbytes)
        return nninit__err(err, NNINIT_EMISUSE, "%s: data is NULL for %" PRIu64 " elements", path, numel);
    nninit__atomic a;
    if ((s = nninit__atomic_open(&a, path, err)) != NNINIT_OK)
        return s;
    if ((s = nninit__atomic_write(&a, header, hlen, err)) != NNINIT_OK)
        return s;
    size_t width = nninit_dtype_size(dtype);
    if (host_is_le() || width == 1) {
        s = nninit__atomic_write(&a, data, (size_t)nbytes, err);
    } else {
        /* Big-endian host: swap a bounded chunk at a time. */
        unsigned char tmp[1 << 16];
        const unsigned char *p = data;
        for (uint64_t off = 0; s == NNINIT_OK && off < nbytes; off += sizeof tmp) {
            size_t chunk = nbytes - off < sizeof tmp ? (size_t)(nbytes - off) : sizeof tmp;
            memcpy(tmp, p + off, chunk);
            nninit__swap_bytes(tmp, chunk / width, width);
            s = nninit__atomic_write(&a, tmp, chunk, err);
        }
    }
    if (s != NNINIT_OK)
        return s;
    return nninit__atomic_commit(&a, err);
}

/* ---- reading ---- */

typedef struct npy_info {
    nninit_file_dtype dtype;
    int swap; /* stored big-endian */
    nninit_shape shape;
    uint64_t numel, nbytes;
} npy_info;

/* Preamble: magic, version, header length. *data_start = where the data
 * begins. Needs 12 bytes (10 suffice for v1). */
static nninit_status parse_preamble(const char *what, const unsigned char *p, size_t avail, size_t *hstart,
                                    size_t *hlen, nninit_err *err)
{
    if (avail < 10 || memcmp(p, NPY_MAGIC, NPY_MAGIC_LEN) != 0)
        return nninit__err(err, NNINIT_EFORMAT, "%s: not a .npy file (no \\x93NUMPY magic); expected a file "
                           "written by numpy.save", what);
    unsigned major = p[6], minor = p[7];
    if (major < 1 || major > 3 || minor != 0)
        return nninit__err(err, NNINIT_EFORMAT, "%s: .npy format version %u.%u; expected 1.0, 2.0 or 3.0", what,
                           major, minor);
    if (major == 1) {
        *hlen = (size_t)p[8] | (size_t)p[9] << 8;
        *hstart = 10;
    } else {
        if (avail < 12)
            return nninit__err(err, NNINIT_EFORMAT, "%s: file ends inside the .npy preamble", what);
        *hlen = (size_t)p[8] | (size_t)p[9] << 8 | (size_t)p[10] << 16 | (size_t)p[11] << 24;
        *hstart = 12;
    }
    if (*hlen > NPY_MAX_HEADER)
        return nninit__err(err, NNINIT_EFORMAT, "%s: header length %zu exceeds %d bytes; not a tensor nninit "
                           "can read", what, *hlen, NPY_MAX_HEADER);
    return NNINIT_OK;
}

typedef struct cursor {
    const char *p, *end;
} cursor;

static void skip_ws(cursor *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
        c->p++;
}

static int eat(cursor *c, char ch)
{
    skip_ws(c);
    if (c->p < c->end && *c->p == ch) {
        c->p++;
        return 1;
    }
    return 0;
}

/* A quoted string without escapes; returns its length or -1. */
static int read_str(cursor *c, const char **s)
{
    skip_ws(c);
    if (c->p >= c->end || (*c->p != '\'' && *c->p != '"'))
        return -1;
    char q = *c->p++;
    *s = c->p;
    while (c->p < c->end && *c->p != q) {
        if (*c->p == '\\' || (unsigned char)*c->p < 0x20 || (unsigned char)*c->p >= 0x7f)
            return -1;
        c->p++;
    }
    if (c->p >= c->end)
        return -1;
    int n = (int)(c->p - *s);
    c->p++;
    return n;
}

static int word(cursor *c, const char *w)
{
    skip_ws(c);
    size_t n = strlen(w);
    if ((size_t)(c->end - c->p) >= n && !memcmp(c->p, w, n)) {
        c->p += n;
        return 1;
    }
    return 0;
}

static nninit_status bad_header(const char *what, const char *why, nninit_err *err)
{
    return nninit__err(err, NNINIT_EFORMAT, "%s: .npy header %s; expected {'descr': '<f4', "
                       "'fortran_order': False, 'shape': (3, 4), }", what, why);
}

static nninit_status parse_descr(const char *what, const char *s, int n, npy_info *info, nninit_err *err)
{
    char d[8];
    if (n >= 3 && n <= 4) {
        memcpy(d, s, (size_t)n);
        d[n] = '\0';
        if (nninit__file_dtype_from_npy(d, &info->dtype, &info->swap))
            return NNINIT_OK;
    }
    return nninit__err(err, NNINIT_EUNSUPPORTED, "%s: dtype '%.*s' is not supported; expected '<f4', '<f8', "
                       "'<f2' (or '>' big-endian), '<u2' (bfloat16 bits) or an integer type", what,
                       n > 16 ? 16 : n, s);
}

/* The header dict: exactly the keys descr, fortran_order, shape, each once,
 * in any order, Python literal syntax, optional trailing comma. */
static nninit_status parse_dict(const char *what, const char *h, size_t hlen, npy_info *info, nninit_err *err)
{
    cursor c = {h, h + hlen};
    int have_descr = 0, have_fortran = 0, have_shape = 0, fortran = 0;
    nninit_status s;
    if (!eat(&c, '{'))
        return bad_header(what, "does not start with '{'", err);
    for (;;) {
        if (eat(&c, '}'))
            break;
        const char *key;
        int klen = read_str(&c, &key);
        if (klen < 0)
            return bad_header(what, "has a key that is not a plain quoted string", err);
        if (!eat(&c, ':'))
            return bad_header(what, "lacks ':' after a key", err);
        if (klen == 5 && !memcmp(key, "descr", 5)) {
            if (have_descr++)
                return bad_header(what, "repeats the key 'descr'", err);
            const char *v;
            int vlen = read_str(&c, &v);
            if (vlen < 0)
                return bad_header(what, "has a 'descr' that is not a dtype string (structured dtypes are "
                                  "not supported)", err);
            if ((s = parse_descr(what, v, vlen, info, err)) != NNINIT_OK)
                return s;
        } else if (klen == 13 && !memcmp(key, "fortran_order", 13)) {
            if (have_fortran++)
                return bad_header(what, "repeats the key 'fortran_order'", err);
            if (word(&c, "True"))
                fortran = 1;
            else if (!word(&c, "False"))
                return bad_header(what, "has a 'fortran_order' that is neither True nor False", err);
        } else if (klen == 5 && !memcmp(key, "shape", 5)) {
            if (have_shape++)
                return bad_header(what, "repeats the key 'shape'", err);
            if (!eat(&c, '('))
                return bad_header(what, "has a 'shape' that is not a tuple", err);
            int nd = 0, trailing_comma = 0;
            for (;;) {
                if (eat(&c, ')'))
                    break;
                skip_ws(&c);
                if (c.p >= c.end || *c.p < '0' || *c.p > '9')
                    return bad_header(what, "has a 'shape' entry that is not a non-negative integer", err);
                if (*c.p == '0' && c.p + 1 < c.end && c.p[1] >= '0' && c.p[1] <= '9')
                    return bad_header(what, "has a 'shape' entry with a leading zero", err);
                uint64_t v = 0;
                while (c.p < c.end && *c.p >= '0' && *c.p <= '9') {
                    if (v > ((uint64_t)INT64_MAX - 9) / 10)
                        return nninit__err(err, NNINIT_EOVERFLOW, "%s: .npy shape dimension overflows 64 bits",
                                           what);
                    v = v * 10 + (uint64_t)(*c.p++ - '0');
                }
                if (nd >= NNINIT_MAX_DIMS)
                    return nninit__err(err, NNINIT_EUNSUPPORTED, "%s: .npy array has more than %d dimensions; "
                                       "nninit supports at most %d", what, NNINIT_MAX_DIMS, NNINIT_MAX_DIMS);
                info->shape.dim[nd++] = (int64_t)v;
                trailing_comma = eat(&c, ',');
                if (!trailing_comma) {
                    if (!eat(&c, ')'))
                        return bad_header(what, "has a malformed 'shape' tuple", err);
                    break;
                }
            }
            if (nd == 1 && !trailing_comma)
                return bad_header(what, "has a 'shape' like (5) that is an integer, not a tuple", err);
            info->shape.ndim = nd;
        } else {
            return nninit__err(err, NNINIT_EFORMAT, "%s: .npy header has the unknown key '%.*s'; expected "
                               "only 'descr', 'fortran_order' and 'shape'", what, klen > 32 ? 32 : klen, key);
        }
        if (!eat(&c, ',')) {
            if (!eat(&c, '}'))
                return bad_header(what, "lacks ',' or '}' after a value", err);
            break;
        }
    }
    skip_ws(&c);
    if (c.p != c.end)
        return bad_header(what, "has bytes after the closing '}'", err);
    if (!have_descr || !have_fortran || !have_shape)
        return bad_header(what, !have_descr ? "lacks 'descr'" : !have_fortran ? "lacks 'fortran_order'"
                                                                                : "lacks 'shape'", err);
    if (fortran)
        return nninit__err(err, NNINIT_EUNSUPPORTED, "%s: array is stored in Fortran order; save it in C "
                           "order (numpy.ascontiguousarray) first", what);
    return nninit__tensor_bytes(what, &info->shape, info->dtype, &info->numel, &info->nbytes, err);
}

static nninit_status check_size(const char *what, const npy_info *info, uint64_t have, nninit_err *err)
{
    if (have < info->nbytes)
        return nninit__err(err, NNINIT_EFORMAT, "%s: header promises %" PRIu64 " bytes of data, file has %" PRIu64
                           " (truncated?)", what, info->nbytes, have);
    if (have > info->nbytes)
        return nninit__err(err, NNINIT_EFORMAT, "%s: %" PRIu64 " unexpected bytes after the %" PRIu64
                           " bytes of data; the file is not a single .npy array", what, have - info->nbytes,
                           info->nbytes);
    return NNINIT_OK;
}

/* The public readers return only the generation dtypes. */
static nninit_status public_dtype(const char *what, const npy_info *info, nninit_dtype *out, nninit_err *err)
{
    switch (info->dtype) {
    case NNINIT_FD_F32: *out = NNINIT_F32; return NNINIT_OK;
    case NNINIT_FD_F64: *out = NNINIT_F64; return NNINIT_OK;
    case NNINIT_FD_F16: *out = NNINIT_F16; return NNINIT_OK;
    case NNINIT_FD_BF16: *out = NNINIT_BF16; return NNINIT_OK;
    default:
        return nninit__err(err, NNINIT_EUNSUPPORTED, "%s: dtype '%s' is not supported; expected '<f4', '<f8', "
                           "'<f2' (or '>' big-endian) or '<u2' (bfloat16 bits)", what,
                           nninit__file_dtype_npy(info->dtype));
    }
}

static nninit_status parse_image(const char *what, const void *buf, size_t avail, uint64_t len, npy_info *info,
                                 size_t *data_off, nninit_err *err)
{
    const unsigned char *p = buf;
    size_t hstart = 0, hlen = 0;
    memset(info, 0, sizeof *info);
    nninit_status s = parse_preamble(what, p, avail, &hstart, &hlen, err);
    if (s != NNINIT_OK)
        return s;
    if (avail - hstart < hlen)
        return nninit__err(err, NNINIT_EFORMAT, "%s: file ends inside the .npy header (%zu of %zu bytes)", what,
                           avail - hstart, hlen);
    if ((s = parse_dict(what, (const char *)p + hstart, hlen, info, err)) != NNINIT_OK)
        return s;
    if ((s = check_size(what, info, len - hstart - hlen, err)) != NNINIT_OK)
        return s;
    *data_off = hstart + hlen;
    return NNINIT_OK;
}

nninit_status nninit__npy_parse_header(const char *what, const void *buf, size_t avail, uint64_t len,
                                       nninit_file_dtype *dtype, nninit_shape *shape, uint64_t *data_off,
                                       uint64_t *nbytes, int *swap, nninit_err *err)
{
    npy_info info;
    size_t off = 0;
    nninit_status s = parse_image(what, buf, avail, len, &info, &off, err);
    if (s != NNINIT_OK)
        return s;
    *dtype = info.dtype;
    *shape = info.shape;
    *data_off = off;
    *nbytes = info.nbytes;
    *swap = info.swap;
    return NNINIT_OK;
}

static nninit_status parse_named(const char *what, const void *buf, size_t len, nninit_dtype *dtype,
                                 nninit_shape *shape, void **data, nninit_err *err)
{
    npy_info info;
    size_t off = 0;
    nninit_dtype pd = NNINIT_F32;
    nninit_status s = parse_image(what, buf, len, len, &info, &off, err);
    if (s == NNINIT_OK)
        s = public_dtype(what, &info, &pd, err);
    if (s != NNINIT_OK)
        return s;
    void *out = malloc(info.nbytes ? (size_t)info.nbytes : 1);
    if (!out)
        return nninit__err(err, NNINIT_ENOMEM, "%s: out of memory for %" PRIu64 " bytes", what, info.nbytes);
    memcpy(out, (const unsigned char *)buf + off, (size_t)info.nbytes);
    if (info.swap)
        nninit__swap_bytes(out, info.numel, (size_t)nninit_file_dtype_bits(info.dtype) / 8);
    if (dtype)
        *dtype = pd;
    if (shape)
        *shape = info.shape;
    *data = out;
    return NNINIT_OK;
}

nninit_status nninit_npy_parse(const void *buf, size_t len, nninit_dtype *dtype, nninit_shape *shape, void **data,
                               nninit_err *err)
{
    if (!data || (!buf && len))
        return nninit__err(err, NNINIT_EMISUSE, "nninit_npy_parse: data must not be NULL");
    *data = NULL;
    return parse_named("npy", buf, len, dtype, shape, data, err);
}

nninit_status nninit_npy_read(const char *path, nninit_dtype *dtype, nninit_shape *shape, void **data,
                              nninit_err *err)
{
    if (!path || !data)
        return nninit__err(err, NNINIT_EMISUSE, "nninit_npy_read: path and data must not be NULL");
    *data = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        int e = errno;
        return nninit__err_open(err, e, path);
    }
    nninit_status s = NNINIT_OK;
    struct stat st;
    unsigned char pre[12];
    char *header = NULL;
    void *out = NULL;
    npy_info info;
    memset(&info, 0, sizeof info);
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        s = nninit__err(err, NNINIT_EINVAL, "%s: not a regular file", path);
        goto done;
    }
    /* Validate the whole header against the file size before allocating
     * the data. */
    uint64_t fsize = (uint64_t)st.st_size;
    size_t got = fread(pre, 1, sizeof pre, f);
    size_t hstart = 0, hlen = 0;
    if ((s = parse_preamble(path, pre, got, &hstart, &hlen, err)) != NNINIT_OK)
        goto done;
    if (fsize - hstart < hlen) {
        s = nninit__err(err, NNINIT_EFORMAT, "%s: file ends inside the .npy header (%" PRIu64 " of %zu bytes)",
                        path, fsize - hstart, hlen);
        goto done;
    }
    header = malloc(hlen ? hlen : 1);
    if (!header) {
        s = nninit__err(err, NNINIT_ENOMEM, "%s: out of memory", path);
        goto done;
    }
    if (fseek(f, (long)hstart, SEEK_SET) != 0 || fread(header, 1, hlen, f) != hlen) {
        s = nninit__err_sys(err, errno ? errno : EIO, "%s: read failed in the header", path);
        goto done;
    }
    if ((s = parse_dict(path, header, hlen, &info, err)) != NNINIT_OK)
        goto done;
    if ((s = check_size(path, &info, fsize - hstart - hlen, err)) != NNINIT_OK)
        goto done;
    nninit_dtype pd = NNINIT_F32;
    if ((s = public_dtype(path, &info, &pd, err)) != NNINIT_OK)
        goto done;
    out = malloc(info.nbytes ? (size_t)info.nbytes : 1);
    if (!out) {
        s = nninit__err(err, NNINIT_ENOMEM, "%s: out of memory for %" PRIu64 " bytes", path, info.nbytes);
        goto done;
    }
    if (fread(out, 1, (size_t)info.nbytes, f) != (size_t)info.nbytes) {
        int e = ferror(f) ? errno : 0;
        s = e ? nninit__err_sys(err, e, "%s: read failed (%s)", path, strerror(e))
              : nninit__err(err, NNINIT_EFORMAT, "%s: file shrank while being read", path);
        goto done;
    }
    if (info.swap)
        nninit__swap_bytes(out, info.numel, (size_t)nninit_file_dtype_bits(info.dtype) / 8);
    if (dtype)
        *dtype = pd;
    if (shape)
        *shape = info.shape;
    *data = out;
    out = NULL;
done:
    free(out);
    free(header);
    fclose(f);
    return s;
}
