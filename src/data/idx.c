/* IDX reader (LeCun's MNIST format), gzip-compressed or plain. The whole
 * header is validated before any allocation; the data must fill exactly
 * what the header promises (truncation and trailing bytes are errors, which
 * gzread alone would not report, hence inflate on an in-memory image). */
#include "data/internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* A file larger than this is refused before reading it (1 GiB compressed). */
#define IDX_MAX_FILE (INT64_C(1) << 30)
/* deflate's best case is about 1032:1 (zlib technical details), so a gzip
 * member of n bytes cannot hold more than this many bytes. */
#define GZ_MAX_RATIO 1032u

typedef struct src {
    const unsigned char *buf;
    size_t len, pos;   /* plain: read position; gzip: input consumed */
    int gz;
    z_stream zs;
    int z_live;        /* inflateInit2 done, not yet ended */
    int z_end;         /* the last member ended cleanly */
    int z_error;       /* a zlib error (corrupt or truncated stream) */
    const char *z_msg;
} src;

/* Reads up to n bytes of decompressed data; returns the count (< n only at
 * the end of the data or on error, then z_error says which). */
static size_t src_read(src *s, unsigned char *dst, size_t n)
{
    if (!s->gz) {
        size_t k = s->len - s->pos < n ? s->len - s->pos : n;
        memcpy(dst, s->buf + s->pos, k);
        s->pos += k;
        return k;
    }
    size_t got = 0;
    while (got < n && !s->z_error) {
        if (!s->z_live) {
            /* a new member starts only where the input has one (concatenated gzip, as gunzip reads) */
            if (s->pos >= s->len)
                break;
            if (s->len - s->pos < 2 || s->buf[s->pos] != 0x1f || s->buf[s->pos + 1] != 0x8b) {
                s->z_error = 2; /* trailing garbage after a member */
                break;
            }
            memset(&s->zs, 0, sizeof s->zs);
            if (inflateInit2(&s->zs, 16 + MAX_WBITS) != Z_OK) {
                s->z_error = 1;
                s->z_msg = "inflateInit2 failed";
                break;
            }
            s->z_live = 1;
            s->z_end = 0;
        }
        size_t in_left = s->len - s->pos;
        s->zs.next_in = (unsigned char *)(uintptr_t)(s->buf + s->pos);
        s->zs.avail_in = in_left > (1u << 30) ? (1u << 30) : (uInt)in_left;
        size_t want = n - got;
        s->zs.next_out = dst + got;
        s->zs.avail_out = want > (1u << 30) ? (1u << 30) : (uInt)want;
        uInt in0 = s->zs.avail_in, out0 = s->zs.avail_out;
        int rc = inflate(&s->zs, Z_NO_FLUSH);
        s->pos += in0 - s->zs.avail_in;
        got += out0 - s->zs.avail_out;
        if (rc == Z_STREAM_END) {
            inflateEnd(&s->zs);
            s->z_live = 0;
            s->z_end = 1;
        } else if (rc == Z_BUF_ERROR && s->zs.avail_in == 0) {
            s->z_error = 3; /* input ended inside a member: truncated */
        } else if (rc == Z_BUF_ERROR && s->zs.avail_in == in0 && s->zs.avail_out == out0) {
            s->z_error = 1; /* no progress possible: never loop on it */
            s->z_msg = "inflate made no progress";
        } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
            s->z_error = 1;
            s->z_msg = s->zs.msg ? s->zs.msg : "corrupt deflate data";
        }
    }
    return got;
}

static void src_close(src *s)
{
    if (s->gz && s->z_live)
        inflateEnd(&s->zs);
    s->z_live = 0;
}

static nninit_status src_fail(src *s, const char *what, nninit_err *err)
{
    if (s->z_error == 3)
        return nninit__err(err, NNINIT_EFORMAT, "%s: gzip stream is truncated; expected a complete file", what);
    if (s->z_error == 2)
        return nninit__err(err, NNINIT_EFORMAT, "%s: trailing bytes after the gzip data; expected the file to end there",
                           what);
    return nninit__err(err, NNINIT_EFORMAT, "%s: corrupt gzip data (%s)", what, s->z_msg ? s->z_msg : "zlib error");
}

static size_t type_size(int type)
{
    switch (type) {
    case 0x08:
    case 0x09:
        return 1;
    case 0x0B:
        return 2;
    case 0x0C:
    case 0x0D:
        return 4;
    case 0x0E:
        return 8;
    default:
        return 0;
    }
}

void nninit_idx_free(nninit_idx *idx)
{
    if (!idx)
        return;
    free(idx->data);
    idx->data = NULL;
    idx->nbytes = 0;
}

nninit_status nninit_idx_parse(const void *buf, size_t len, const char *what, nninit_idx *out, nninit_err *err)
{
    if (!out || (!buf && len))
        return nninit__err(err, NNINIT_EMISUSE, "nninit_idx_parse: NULL argument");
    memset(out, 0, sizeof *out);
    if (!what)
        what = "idx";
    src s;
    memset(&s, 0, sizeof s);
    s.buf = buf;
    s.len = len;
    s.gz = len >= 2 && s.buf[0] == 0x1f && s.buf[1] == 0x8b;
    nninit_status st = NNINIT_OK;
    unsigned char head[4 + 4 * 255];
    size_t got = src_read(&s, head, 4);
    if (got < 4) {
        st = s.z_error ? src_fail(&s, what, err)
                       : nninit__err(err, NNINIT_EFORMAT, "%s: %zu bytes; an IDX file has at least a 4-byte magic", what,
                                     got);
        goto done;
    }
    uint32_t magic = (uint32_t)head[0] << 24 | (uint32_t)head[1] << 16 | (uint32_t)head[2] << 8 | head[3];
    int type = head[2], rank = head[3];
    size_t esize = type_size(type);
    if (head[0] || head[1] || !esize || rank < 1 || rank > NNINIT_MAX_DIMS) {
        st = nninit__err(err, NNINIT_EFORMAT,
                         "%s: bad magic 0x%08x; expected 0x0000TTRR with type TT in 08 09 0B 0C 0D 0E and rank RR 1..%d",
                         what, (unsigned)magic, NNINIT_MAX_DIMS);
        goto done;
    }
    size_t hlen = 4 + 4 * (size_t)rank;
    got = src_read(&s, head + 4, hlen - 4);
    if (got < hlen - 4) {
        st = s.z_error ? src_fail(&s, what, err)
                       : nninit__err(err, NNINIT_EFORMAT, "%s: header is cut short (%zu of %zu bytes)", what, got + 4,
                                     hlen);
        goto done;
    }
    uint64_t numel = 1;
    out->shape.ndim = rank;
    for (int d = 0; d < rank; d++) {
        const unsigned char *p = head + 4 + 4 * d;
        uint32_t dim = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
        if (dim == 0) {
            st = nninit__err(err, NNINIT_EFORMAT, "%s: dimension %d is 0; every dimension must be >= 1", what, d);
            goto done;
        }
        out->shape.dim[d] = dim;
        if (numel > UINT64_MAX / dim) {
            st = nninit__err(err, NNINIT_EFORMAT, "%s: dimensions overflow 64 bits; the header is corrupt", what);
            goto done;
        }
        numel *= dim;
    }
    if (numel > (uint64_t)SIZE_MAX / esize || numel * esize > (uint64_t)INT64_MAX) {
        st = nninit__err(err, NNINIT_EFORMAT, "%s: header promises %llu elements, more than memory can address", what,
                         (unsigned long long)numel);
        goto done;
    }
    uint64_t nbytes = numel * esize;
    /* Check the promise against what the file can hold before allocating. */
    uint64_t can_hold = s.gz ? (uint64_t)len * GZ_MAX_RATIO : (uint64_t)(len - hlen);
    if (nbytes > can_hold) {
        st = s.gz ? nninit__err(err, NNINIT_EFORMAT,
                                "%s: header promises %llu bytes of data; a %zu-byte gzip file cannot hold that", what,
                                (unsigned long long)nbytes, len)
                  : nninit__err(err, NNINIT_EFORMAT, "%s: header promises %llu bytes of data, file has %zu", what,
                                (unsigned long long)nbytes, len - hlen);
        goto done;
    }
    out->data = malloc(nbytes ? (size_t)nbytes : 1);
    if (!out->data) {
        st = nninit__err(err, NNINIT_ENOMEM, "%s: out of memory for %llu bytes", what, (unsigned long long)nbytes);
        goto done;
    }
    got = src_read(&s, out->data, (size_t)nbytes);
    if (got < nbytes) {
        st = s.z_error ? src_fail(&s, what, err)
                       : nninit__err(err, NNINIT_EFORMAT, "%s: header promises %llu bytes of data, file has %zu", what,
                                     (unsigned long long)nbytes, got);
        goto done;
    }
    unsigned char extra;
    if (src_read(&s, &extra, 1) != 0) {
        st = nninit__err(err, NNINIT_EFORMAT, "%s: trailing data after the %llu bytes the header promises", what,
                         (unsigned long long)nbytes);
        goto done;
    }
    if (s.gz && (s.z_error || !s.z_end)) {
        st = src_fail(&s, what, err);
        goto done;
    }
    /* big-endian on disk; convert to host order in place */
    if (esize > 1) {
        unsigned char *b = out->data;
        for (uint64_t i = 0; i < numel; i++) {
            unsigned char *e = b + i * esize;
            if (esize == 2) {
                uint16_t v = (uint16_t)(e[0] << 8 | e[1]);
                memcpy(e, &v, 2);
            } else if (esize == 4) {
                uint32_t v = (uint32_t)e[0] << 24 | (uint32_t)e[1] << 16 | (uint32_t)e[2] << 8 | e[3];
                memcpy(e, &v, 4);
            } else {
                uint64_t v = 0;
                for (int k = 0; k < 8; k++)
                    v = v << 8 | e[k];
                memcpy(e, &v, 8);
            }
        }
    }
    out->type = type;
    out->nbytes = (size_t)nbytes;
done:
    src_close(&s);
    if (st != NNINIT_OK) {
        free(out->data);
        memset(out, 0, sizeof *out);
    }
    return st;
}

nninit_status nninit_idx_read(const char *path, nninit_idx *out, nninit_err *err)
{
    if (!path || !out)
        return nninit__err(err, NNINIT_EMISUSE, "nninit_idx_read: NULL argument");
    memset(out, 0, sizeof *out);
    unsigned char *buf;
    size_t n;
    nninit_status st = nninit__read_file(path, IDX_MAX_FILE, &buf, &n, err);
    if (st == NNINIT_OK)
        st = nninit_idx_parse(buf, n, path, out, err);
    free(buf);
    return st;
}
