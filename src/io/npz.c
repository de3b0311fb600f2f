/* .npz files: a zip of NAME.npy members, stored (numpy.savez) or deflated
 * (numpy.savez_compressed), written and read with zlib (APPNOTE.TXT 6.3,
 * zip64 records only when a size, offset or count needs them). */
#include "io/internal.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define SIG_LOCAL 0x04034b50u
#define SIG_CENTRAL 0x02014b50u
#define SIG_EOCD 0x06054b50u
#define SIG_EOCD64 0x06064b50u
#define SIG_LOC64 0x07064b50u
#define U32_MAX_ZIP 0xffffffffu
#define DOS_DATE_1980 0x0021 /* 1980-01-01: a fixed timestamp keeps output reproducible */

static void put16(unsigned char *p, unsigned v) { p[0] = (unsigned char)v; p[1] = (unsigned char)(v >> 8); }
static void put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}
static void put64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}
static unsigned get16(const unsigned char *p) { return (unsigned)p[0] | (unsigned)p[1] << 8; }
static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t get64(const unsigned char *p) { return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32; }

/* ---- writer ---- */

typedef struct cd_rec {
    uint64_t usize, csize, off;
    uint32_t crc;
    int method;
    int flags;      /* general purpose bits: 8 = CRC and sizes in a data descriptor after the data */
    int z64;        /* the local header carries the zip64 extra whatever the sizes turn out to be */
    size_t name_len;
    char *name;
} cd_rec;

/* The local header of member r: 30 bytes, or 50 with the zip64 extra. */
static size_t local_header(const cd_rec *r, unsigned char lh[50])
{
    int z64 = r->z64 || r->usize >= U32_MAX_ZIP || r->csize >= U32_MAX_ZIP;
    int dd = r->flags & 8; /* APPNOTE 4.4.4: then CRC and sizes are 0 here */
    put32(lh, SIG_LOCAL);
    put16(lh + 4, z64 ? 45 : 20);
    put16(lh + 6, (unsigned)r->flags);
    put16(lh + 8, (unsigned)r->method);
    put16(lh + 10, 0);
    put16(lh + 12, DOS_DATE_1980);
    put32(lh + 14, dd ? 0 : r->crc);
    put32(lh + 18, dd ? 0 : z64 ? U32_MAX_ZIP : (uint32_t)r->csize);
    put32(lh + 22, dd ? 0 : z64 ? U32_MAX_ZIP : (uint32_t)r->usize);
    put16(lh + 26, (unsigned)r->name_len);
    put16(lh + 28, z64 ? 20 : 0);
    if (z64) { /* zip64 extra: both sizes, as the local header requires */
        put16(lh + 30, 1);
        put16(lh + 32, 16);
        put64(lh + 34, dd ? 0 : r->usize);
        put64(lh + 42, dd ? 0 : r->csize);
    }
    return z64 ? 50 : 30;
}

/* The data descriptor after a member written to a stream: CRC and both
 * sizes, 8 bytes each when the local header has the zip64 extra. */
static size_t data_descriptor(const cd_rec *r, unsigned char dd[24])
{
    int z64 = r->z64 || r->usize >= U32_MAX_ZIP || r->csize >= U32_MAX_ZIP;
    put32(dd, 0x08074b50u);
    put32(dd + 4, r->crc);
    if (z64) {
        put64(dd + 8, r->csize);
        put64(dd + 16, r->usize);
        return 24;
    }
    put32(dd + 8, (uint32_t)r->csize);
    put32(dd + 12, (uint32_t)r->usize);
    return 16;
}

/* The central directory of members cd[0..n), starting at cd_off, and the
 * end records (zip64 ones when a count, size or offset needs them). */
static void central_directory(const cd_rec *cd, size_t n, uint64_t cd_off, nninit__sb *b)
{
    size_t start = b->len;
    for (size_t i = 0; i < n; i++) {
        const cd_rec *r = &cd[i];
        unsigned char ch[46 + 28], *x = ch + 46;
        size_t xl = 4;
        if (r->usize >= U32_MAX_ZIP) { put64(x + xl, r->usize); xl += 8; }
        if (r->csize >= U32_MAX_ZIP) { put64(x + xl, r->csize); xl += 8; }
        if (r->off >= U32_MAX_ZIP) { put64(x + xl, r->off); xl += 8; }
        int z64 = xl > 4;
        if (z64) {
            put16(x, 1);
            put16(x + 2, (unsigned)(xl - 4));
        } else {
            xl = 0;
        }
        put32(ch, SIG_CENTRAL);
        put16(ch + 4, 0x0300 | (z64 ? 45 : 20)); /* made by: Unix */
        put16(ch + 6, z64 ? 45 : 20);
        put16(ch + 8, (unsigned)r->flags);
        put16(ch + 10, (unsigned)r->method);
        put16(ch + 12, 0);
        put16(ch + 14, DOS_DATE_1980);
        put32(ch + 16, r->crc);
        put32(ch + 20, r->csize >= U32_MAX_ZIP ? U32_MAX_ZIP : (uint32_t)r->csize);
        put32(ch + 24, r->usize >= U32_MAX_ZIP ? U32_MAX_ZIP : (uint32_t)r->usize);
        put16(ch + 28, (unsigned)r->name_len);
        put16(ch + 30, (unsigned)xl);
        put16(ch + 32, 0);
        put16(ch + 34, 0);
        put16(ch + 36, 0);
        put32(ch + 38, (uint32_t)0100644 << 16); /* regular file, rw-r--r-- */
        put32(ch + 42, r->off >= U32_MAX_ZIP ? U32_MAX_ZIP : (uint32_t)r->off);
        nninit__sb_put(b, (const char *)ch, 46);
        nninit__sb_put(b, r->name, r->name_len);
        nninit__sb_put(b, (const char *)x, xl);
    }
    uint64_t cd_size = b->len - start;
    int z64 = n >= 0xffff || cd_size >= U32_MAX_ZIP || cd_off >= U32_MAX_ZIP;
    if (z64) {
        unsigned char e64[56 + 20];
        uint64_t e64_off = cd_off + cd_size;
        put32(e64, SIG_EOCD64);
        put64(e64 + 4, 44);
        put16(e64 + 12, 0x0300 | 45);
        put16(e64 + 14, 45);
        put32(e64 + 16, 0);
        put32(e64 + 20, 0);
        put64(e64 + 24, n);
        put64(e64 + 32, n);
        put64(e64 + 40, cd_size);
        put64(e64 + 48, cd_off);
        put32(e64 + 56, SIG_LOC64);
        put32(e64 + 60, 0);
        put64(e64 + 64, e64_off);
        put32(e64 + 72, 1);
        nninit__sb_put(b, (const char *)e64, sizeof e64);
    }
    unsigned char eocd[22];
    put32(eocd, SIG_EOCD);
    put16(eocd + 4, 0);
    put16(eocd + 6, 0);
    put16(eocd + 8, n >= 0xffff ? 0xffff : (unsigned)n);
    put16(eocd + 10, n >= 0xffff ? 0xffff : (unsigned)n);
    put32(eocd + 12, cd_size >= U32_MAX_ZIP ? U32_MAX_ZIP : (uint32_t)cd_size);
    put32(eocd + 16, cd_off >= U32_MAX_ZIP ? U32_MAX_ZIP : (uint32_t)cd_off);
    put16(eocd + 20, 0);
    nninit__sb_put(b, (const char *)eocd, sizeof eocd);
}

/* Names are checked by nninit_tensors_write as relative paths ('/' is
 * allowed: numpy.savez accepts it and np.load gives the name back); a
 * backslash would be a folder separator to some unzip tools. */
static int bad_member_name(const char *name) { return !name[0] || strchr(name, '\\') != NULL; }

/* A member's bytes through zlib's raw deflate (zip method 8) as they come,
 * the compressed output written as it is produced. */
typedef struct zsink {
    z_stream z;
    int live;
    unsigned char *out;
    size_t cap;
    uint64_t produced;
} zsink;

static nninit_status zsink_put(zsink *zs, nninit__atomic *a, const void *in, size_t n, int finish, const char *path,
                               nninit_err *err)
{
    zs->z.next_in = (Bytef *)(uintptr_t)in;
    zs->z.avail_in = (uInt)n; /* pieces are at most NNINIT__PIECE_BYTES */
    int rc;
    do {
        zs->z.next_out = zs->out;
        zs->z.avail_out = (uInt)zs->cap;
        rc = deflate(&zs->z, finish ? Z_FINISH : Z_NO_FLUSH);
        size_t got = zs->cap - zs->z.avail_out;
        if (rc == Z_STREAM_ERROR)
            return nninit__err(err, NNINIT_EIO, "%s: zlib deflate failed (%d)", path, rc);
        zs->produced += got;
        nninit_status s = got ? nninit__atomic_write(a, zs->out, got, err) : NNINIT_OK;
        if (s)
            return s;
    } while (zs->z.avail_in > 0 || zs->z.avail_out == 0 || (finish && rc != Z_STREAM_END));
    return NNINIT_OK;
}

/* Rewrites the local header of member r (now complete) at its offset in the
 * temporary file. */
static nninit_status patch_local_header(nninit__atomic *a, const cd_rec *r, nninit_err *err)
{
    unsigned char lh[50];
    size_t len = local_header(r, lh);
    errno = 0;
    if (fflush(a->f) != 0 || pwrite(a->fd, lh, len, (off_t)r->off) != (ssize_t)len) {
        int e = errno ? errno : EIO;
        char sz[32];
        nninit_status s = nninit__err_sys(err, e, "%s: write failed after %s (%s); nothing was replaced", a->path,
                                          nninit__format_bytes(a->written, sz, sizeof sz), strerror(e));
        nninit__atomic_abort(a);
        return s;
    }
    return NNINIT_OK;
}

nninit_status nninit__npz_write(const char *path, const nninit_tensor_desc *t, size_t n, int deflate,
                                nninit__src *src, nninit_err *err)
{
    nninit_status s = NNINIT_OK;
    cd_rec *cd = nninit__calloc_array(n ? n : 1, sizeof *cd);
    unsigned char *buf = NULL;
    nninit__atomic a = {0};
    zsink zs;
    memset(&zs, 0, sizeof zs);
    a.fd = -1;
    if (!cd)
        return nninit__err(err, NNINIT_ENOMEM, "%s: out of memory", path);
    uint64_t max_bytes = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t numel, nb;
        if (bad_member_name(t[i].name)) {
            s = nninit__err(err, NNINIT_EINVAL, "%s: tensor name '%.80s' cannot be an npz member name; use a "
                            "name without '\\'", path, t[i].name);
            goto done;
        }
        if ((s = nninit__tensor_bytes(t[i].name, &t[i].shape, t[i].dtype, &numel, &nb, err)) != NNINIT_OK)
            goto done;
        if (nb > max_bytes)
            max_bytes = nb;
    }
    max_bytes = nninit__src_piece(src, max_bytes);
    buf = malloc(max_bytes ? (size_t)max_bytes : 1);
    zs.cap = (size_t)1 << 20;
    if (!buf || (deflate && !(zs.out = malloc(zs.cap)))) {
        s = nninit__err(err, NNINIT_ENOMEM, "%s: out of memory", path);
        goto done;
    }
    if ((s = nninit__atomic_open(&a, path, err)) != NNINIT_OK)
        goto done;
    for (size_t i = 0; i < n; i++) {
        char hdr[256];
        size_t hlen;
        uint64_t numel, nb;
        nninit__tensor_bytes(t[i].name, &t[i].shape, t[i].dtype, &numel, &nb, NULL);
        if ((s = nninit__npy_header(t[i].dtype, &t[i].shape, hdr, sizeof hdr, &hlen, err)) != NNINIT_OK)
            goto done;
        cd_rec *r = &cd[i];
        r->name_len = strlen(t[i].name) + 4;
        if (r->name_len > 0xffff) {
            s = nninit__err(err, NNINIT_EINVAL, "%s: tensor name of %zu bytes is too long for zip", path,
                            r->name_len);
            goto done;
        }
        r->name = malloc(r->name_len + 1);
        if (!r->name) {
            s = nninit__err(err, NNINIT_ENOMEM, "%s: out of memory", path);
            goto done;
        }
        snprintf(r->name, r->name_len + 1, "%s.npy", t[i].name);
        r->usize = hlen + nb;
        r->off = a.written;
        r->method = deflate ? 8 : 0;
        r->flags = a.in_place ? 8 : 0;
        r->csize = deflate ? 0 : r->usize;
        if (deflate) {
            if (deflateInit2(&zs.z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
                s = nninit__err(err, NNINIT_ENOMEM, "%s: zlib deflateInit failed", path);
                goto done;
            }
            zs.live = 1;
            zs.produced = 0;
            /* the header is written before the compressed size is known:
             * zip64 when it could reach 4 GiB */
            r->z64 = (uint64_t)deflateBound(&zs.z, (uLong)(r->usize > ULONG_MAX ? ULONG_MAX : r->usize)) + 64 >=
                     U32_MAX_ZIP;
        }
        unsigned char lh[30 + 20];
        if ((s = nninit__atomic_write(&a, lh, local_header(r, lh), err)) ||
            (s = nninit__atomic_write(&a, r->name, r->name_len, err)))
            goto done;
        uint32_t crc = nninit__crc32(0, hdr, hlen);
        if ((s = deflate ? zsink_put(&zs, &a, hdr, hlen, nb == 0, path, err) : nninit__atomic_write(&a, hdr, hlen, err)))
            goto done;
        for (uint64_t off = 0; off < nb; off += max_bytes) {
            size_t len = (size_t)(nb - off < max_bytes ? nb - off : max_bytes);
            if ((s = nninit__src_read(src, i, off, buf, len, err)))
                goto done;
            crc = nninit__crc32(crc, buf, len);
            if ((s = deflate ? zsink_put(&zs, &a, buf, len, off + len == nb, path, err)
                             : nninit__atomic_write(&a, buf, len, err)))
                goto done;
        }
        r->crc = crc;
        if (deflate) {
            r->csize = zs.produced;
            deflateEnd(&zs.z);
            zs.live = 0;
        }
        if (a.in_place) {
            unsigned char dd[24];
            s = nninit__atomic_write(&a, dd, data_descriptor(r, dd), err);
        } else {
            s = patch_local_header(&a, r, err);
        }
        if (s)
            goto done;
    }
    nninit__sb tail = NNINIT__SB_INIT;
    central_directory(cd, n, a.written, &tail);
    if (tail.oom)
        s = nninit__err(err, NNINIT_ENOMEM, "%s: out of memory", path);
    else
        s = nninit__atomic_write(&a, tail.p, tail.len, err);
    free(tail.p);
    if (s)
        goto done;
    s = nninit__atomic_commit(&a, err);
done:
    if (zs.live)
        deflateEnd(&zs.z);
    nninit__atomic_abort(&a);
    for (size_t i = 0; i < n; i++)
        free(cd[i].name);
    free(cd);
    free(buf);
    free(zs.out);
    return s;
}

/* ---- a stored npz laid out before its data exists (positioned writers) ---- */

struct nninit__npz_plan {
    const nninit_tensor_desc *t;
    size_t n;
    cd_rec *cd;
    uint64_t cd_off;
};

void nninit__npz_plan_free(nninit__npz_plan *p)
{
    if (!p)
        return;
    for (size_t i = 0; p->cd && i < p->n; i++)
        free(p->cd[i].name);
    free(p->cd);
    free(p);
}

nninit_status nninit__npz_plan_new(const char *path, const nninit_tensor_desc *t, size_t n, uint64_t *data_off,
                                   uint64_t *size, nninit__npz_plan **out, nninit_err *err)
{
    nninit__npz_plan *p = calloc(1, sizeof *p);
    if (!p || !(p->cd = nninit__calloc_array(n ? n : 1, sizeof *p->cd))) {
        free(p);
        return nninit__err(err, NNINIT_ENOMEM, "%s: out of memory", path);
    }
    p->t = t;
    p->n = n;
    nninit_status s = NNINIT_OK;
    uint64_t off = 0;
    for (size_t i = 0; i < n && !s; i++) {
        char hdr[256];
        size_t hlen;
        uint64_t numel, nb;
        cd_rec *r = &p->cd[i];
        if (bad_member_name(t[i].name)) {
            s = nninit__err(err, NNINIT_EINVAL, "%s: tensor name '%.80s' cannot be an npz member name; use a "
                            "name without '\\'", path, t[i].name);
            break;
        }
        if ((s = nninit__tensor_bytes(t[i].name, &t[i].shape, t[i].dtype, &numel, &nb, err)) ||
            (s = nninit__npy_header(t[i].dtype, &t[i].shape, hdr, sizeof hdr, &hlen, err)))
            break;
        r->name_len = strlen(t[i].name) + 4;
        if (r->name_len > 0xffff) {
            s = nninit__err(err, NNINIT_EINVAL, "%s: tensor name of %zu bytes is too long for zip", path, r->name_len);
            break;
        }
        if (!(r->name = malloc(r->name_len + 1))) {
            s = nninit__err(err, NNINIT_ENOMEM, "%s: out of memory", path);
            break;
        }
        snprintf(r->name, r->name_len + 1, "%s.npy", t[i].name);
        r->usize = r->csize = hlen + nb;
        r->off = off;
        unsigned char lh[50];
        off += local_header(r, lh) + r->name_len;
        data_off[i] = off + hlen;
        off += r->usize;
    }
    p->cd_off = off;
    nninit__sb tail = NNINIT__SB_INIT;
    if (!s) {
        central_directory(p->cd, n, off, &tail);
        if (tail.oom)
            s = nninit__err(err, NNINIT_ENOMEM, "%s: out of memory", path);
        *size = off + tail.len;
    }
    free(tail.p);
    if (s) {
        nninit__npz_plan_free(p);
        return s;
    }
    *out = p;
    return NNINIT_OK;
}

static nninit_status pwrite_all(int fd, const void *buf, size_t n, uint64_t off, const char *path, nninit_err *err)
{
    const unsigned char *q = buf;
    while (n > 0) {
        ssize_t w = pwrite(fd, q, n, (off_t)off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int e = w < 0 ? errno : EIO;
            return nninit__err_sys(err, e, "%s: write failed at byte %" PRIu64 " (%s); nothing was replaced", path,
                                   off, strerror(e));
        }
        q += w;
        n -= (size_t)w;
        off += (uint64_t)w;
    }
    return NNINIT_OK;
}

nninit_status nninit__npz_plan_write(nninit__npz_plan *p, int fd, const char *path, const uint32_t *data_crc,
                                     nninit_err *err)
{
    nninit_status s = NNINIT_OK;
    for (size_t i = 0; i < p->n && !s; i++) {
        char hdr[256];
        size_t hlen;
        uint64_t numel, nb;
        cd_rec *r = &p->cd[i];
        nninit__tensor_bytes(p->t[i].name, &p->t[i].shape, p->t[i].dtype, &numel, &nb, NULL);
        if ((s = nninit__npy_header(p->t[i].dtype, &p->t[i].shape, hdr, sizeof hdr, &hlen, err)))
            break;
        /* crc(header ++ data) from the two parts' CRCs */
        r->crc = (uint32_t)crc32_combine(crc32(0, (const Bytef *)hdr, (uInt)hlen), data_crc[i], (z_off_t)nb);
        unsigned char lh[50 + 256];
        size_t ll = local_header(r, lh);
        unsigned char *whole = malloc(ll + r->name_len + hlen);
        if (!whole)
            return nninit__err(err, NNINIT_ENOMEM, "%s: out of memory", path);
        memcpy(whole, lh, ll);
        memcpy(whole + ll, r->name, r->name_len);
        memcpy(whole + ll + r->name_len, hdr, hlen);
        s = pwrite_all(fd, whole, ll + r->name_len + hlen, r->off, path, err);
        free(whole);
    }
    if (s)
        return s;
    nninit__sb tail = NNINIT__SB_INIT;
    central_directory(p->cd, p->n, p->cd_off, &tail);
    s = tail.oom ? nninit__err(err, NNINIT_ENOMEM, "%s: out of memory", path)
                 : pwrite_all(fd, tail.p, tail.len, p->cd_off, path, err);
    free(tail.p);
    return s;
}

/* ---- reader ---- */

static nninit_status read_at(FILE *f, const char *path, uint64_t off, void *buf, size_t n, nninit_err *err)
{
    if (fseeko(f, (off_t)off, SEEK_SET) != 0 || fread(buf, 1, n, f) != n)
        return nninit__err(err, NNINIT_EFORMAT, "%s: cannot read %zu bytes at offset %" PRIu64
                           " (truncated zip?)", path, n, off);
    return NNINIT_OK;
}

/* Inflates member e: bytes [0, skip) go to the CRC only, the next `want`
 * bytes into out (may be NULL to stop early when want == 0 and only a
 * prefix is needed: then `prefix` receives up to prefix_cap bytes). */
static nninit_status inflate_member(FILE *f, const char *path, const nninit__tentry *e, unsigned char *prefix,
                                    size_t prefix_cap, size_t *prefix_len, unsigned char *out, int full,
                                    nninit_err *err)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, -15) != Z_OK)
        return nninit__err(err, NNINIT_ENOMEM, "%s: zlib inflateInit failed", path);
    unsigned char in[1 << 16], tmp[1 << 16];
    uint64_t consumed = 0, produced = 0;
    uint32_t crc = 0;
    nninit_status s = NNINIT_OK;
    int rc = Z_OK;
    if (fseeko(f, (off_t)e->offset, SEEK_SET) != 0) {
        inflateEnd(&z);
        return nninit__err(err, NNINIT_EFORMAT, "%s: cannot seek to member '%s'", path, e->info.name);
    }
    while (rc != Z_STREAM_END) {
        if (z.avail_in == 0) {
            uint64_t left = e->csize - consumed;
            size_t chunk = left < sizeof in ? (size_t)left : sizeof in;
            if (chunk == 0 || fread(in, 1, chunk, f) != chunk) {
                s = nninit__err(err, NNINIT_EFORMAT, "%s: member '%s.npy' ends before its deflate stream does",
                                path, e->info.name);
                break;
            }
            consumed += chunk;
            z.next_in = in;
            z.avail_in = (uInt)chunk;
        }
        z.next_out = tmp;
        z.avail_out = sizeof tmp;
        rc = inflate(&z, Z_NO_FLUSH);
        if (rc != Z_OK && rc != Z_STREAM_END) {
            s = nninit__err(err, NNINIT_EFORMAT, "%s: member '%s.npy' has corrupt deflate data (zlib %d)", path,
                            e->info.name, rc);
            break;
        }
        size_t got = sizeof tmp - z.avail_out;
        if (produced + got > e->usize) {
            s = nninit__err(err, NNINIT_EFORMAT, "%s: member '%s.npy' inflates past its declared %" PRIu64
                            " bytes", path, e->info.name, e->usize);
            break;
        }
        crc = nninit__crc32(crc, tmp, got);
        /* Route [produced, produced + got) to the prefix and/or the output. */
        if (prefix && produced < prefix_cap) {
            uint64_t m = prefix_cap - produced < got ? prefix_cap - produced : got;
            memcpy(prefix + produced, tmp, (size_t)m);
        }
        if (out && produced + got > e->npy_off) {
            uint64_t from = produced < e->npy_off ? e->npy_off - produced : 0;
            memcpy(out + (produced + from - e->npy_off), tmp + from, (size_t)(got - from));
        }
        produced += got;
        if (!full && prefix && produced >= prefix_cap)
            break;
    }
    inflateEnd(&z);
    if (prefix_len)
        *prefix_len = produced < prefix_cap ? (size_t)produced : prefix_cap;
    if (s == NNINIT_OK && full) {
        if (produced != e->usize)
            s = nninit__err(err, NNINIT_EFORMAT, "%s: member '%s.npy' inflates to %" PRIu64 " bytes, declared %"
                            PRIu64, path, e->info.name, produced, e->usize);
        else if (crc != e->crc)
            s = nninit__err(err, NNINIT_EFORMAT, "%s: member '%s.npy' fails its CRC-32 check (0x%08" PRIx32
                            " != 0x%08" PRIx32 ")", path, e->info.name, crc, e->crc);
    }
    return s;
}

typedef struct mspan {
    uint64_t b, e;
} mspan;

static int cmp_mspan(const void *x, const void *y)
{
    const mspan *a = x, *b = y;
    return a->b < b->b ? -1 : a->b > b->b;
}

nninit_status nninit__npz_open(nninit_tensor_file *tf, const char *path, nninit_err *err)
{
    tf->format = NNINIT_FORMAT_NPZ;
    FILE *f = fopen(path, "rb");
    if (!f) {
        int e = errno;
        return nninit__err_open(err, e, path);
    }
    nninit_status s = NNINIT_OK;
    unsigned char *tail = NULL, *cdbuf = NULL, *prefix = NULL;
    mspan *spans = NULL;
    struct stat st;
    size_t fi;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        s = nninit__err(err, NNINIT_EINVAL, "%s: not a regular file", path);
        goto done;
    }
    uint64_t size = (uint64_t)st.st_size;
    /* The end record is in the last 22 + 65535 (comment) bytes. */
    size_t tl = size < 22 + 65535 + 20 ? (size_t)size : 22 + 65535 + 20;
    tail = malloc(tl ? tl : 1);
    if (!tail) {
        s = nninit__err(err, NNINIT_ENOMEM, "%s: out of memory", path);
        goto done;
    }
    if (tl < 22 || (s = read_at(f, path, size - tl, tail, tl, err))) {
        if (!s)
            s = nninit__err(err, NNINIT_EFORMAT, "%s: %" PRIu64 " bytes is too small for a zip/npz file", path, size);
        goto done;
    }
    size_t eo = tl - 22 + 1;
    int found = 0;
    while (eo-- > 0)
        if (get32(tail + eo) == SIG_EOCD && eo + 22 + get16(tail + eo + 20) == tl) {
            found = 1;
            break;
        }
    if (!found) {
        s = nninit__err(err, NNINIT_EFORMAT, "%s: no zip end-of-central-directory record; not an npz file", path);
        goto done;
    }
    const unsigned char *E = tail + eo;
    uint64_t n = get16(E + 10), cd_size = get32(E + 12), cd_off = get32(E + 16);
    uint64_t eocd_abs = size - tl + eo;
    if (get16(E + 4) != 0 || get16(E + 6) != 0 || get16(E + 8) != get16(E + 10)) {
        s = nninit__err(err, NNINIT_EUNSUPPORTED, "%s: multi-disk zip archives are not supported", path);
        goto done;
    }
    if (n == 0xffff || cd_size == U32_MAX_ZIP || cd_off == U32_MAX_ZIP) {
        unsigned char loc[20], e64[56];
        if (eocd_abs < 20 || (s = read_at(f, path, eocd_abs - 20, loc, 20, err)) || get32(loc) != SIG_LOC64) {
            if (!s)
                s = nninit__err(err, NNINIT_EFORMAT, "%s: zip64 end record locator missing", path);
            goto done;
        }
        uint64_t e64_off = get64(loc + 8);
        if (e64_off > eocd_abs - 20 || eocd_abs - 20 - e64_off < 56 ||
            (s = read_at(f, path, e64_off, e64, 56, err)) || get32(e64) != SIG_EOCD64) {
            if (!s)
                s = nninit__err(err, NNINIT_EFORMAT, "%s: zip64 end record is corrupt", path);
            goto done;
        }
        n = get64(e64 + 32);
        cd_size = get64(e64 + 40);
        cd_off = get64(e64 + 48);
        eocd_abs = e64_off;
    }
    if (cd_off > eocd_abs || cd_size != eocd_abs - cd_off || cd_size > ((uint64_t)1 << 32) || n > cd_size / 46) {
        s = nninit__err(err, NNINIT_EFORMAT, "%s: central directory (%" PRIu64 " bytes at %" PRIu64 ", %" PRIu64
                        " entries) does not fit the file", path, cd_size, cd_off, n);
        goto done;
    }
    cdbuf = malloc(cd_size ? (size_t)cd_size : 1);
    spans = nninit__malloc_array(n ? (size_t)n : 1, sizeof *spans);
    prefix = malloc(65536 + 12);
    if (!cdbuf || !spans || !prefix) {
        s = nninit__err(err, NNINIT_ENOMEM, "%s: out of memory", path);
        goto done;
    }
    if ((s = read_at(f, path, cd_off, cdbuf, (size_t)cd_size, err)) || (s = nninit__tf_add_file(tf, path, &fi, err)))
        goto done;
    size_t pos = 0;
    for (uint64_t i = 0; i < n; i++) {
        if (cd_size - pos < 46 || get32(cdbuf + pos) != SIG_CENTRAL) {
            s = nninit__err(err, NNINIT_EFORMAT, "%s: central directory entry %" PRIu64 " is corrupt", path, i);
            goto done;
        }
        const unsigned char *c = cdbuf + pos;
        unsigned flags = get16(c + 8), method = get16(c + 10), nl = get16(c + 28), xl = get16(c + 30),
                 cl = get16(c + 32);
        if (cd_size - pos - 46 < (uint64_t)nl + xl + cl) {
            s = nninit__err(err, NNINIT_EFORMAT, "%s: central directory entry %" PRIu64 " runs past its end", path, i);
            goto done;
        }
        uint64_t csize = get32(c + 20), usize = get32(c + 24), loff = get32(c + 42);
        /* zip64 extra: only the fields that overflowed, in this order. */
        const unsigned char *x = c + 46 + nl, *xe = x + xl;
        while (xe - x >= 4) {
            unsigned id = get16(x), len = get16(x + 2);
            if ((size_t)(xe - x - 4) < len)
                break;
            if (id == 1) {
                const unsigned char *q = x + 4, *qe = q + len;
                if (usize == U32_MAX_ZIP && qe - q >= 8) { usize = get64(q); q += 8; }
                if (csize == U32_MAX_ZIP && qe - q >= 8) { csize = get64(q); q += 8; }
                if (loff == U32_MAX_ZIP && qe - q >= 8) { loff = get64(q); q += 8; }
            }
            x += 4 + len;
        }
        char name[1024];
        if (nl < 5 || nl >= sizeof name || memcmp(c + 46 + nl - 4, ".npy", 4)) {
            s = nninit__err(err, NNINIT_EFORMAT, "%s: member '%.*s' is not a NAME.npy array; an npz holds only "
                            ".npy members", path, nl > 80 ? 80 : (int)nl, (const char *)c + 46);
            goto done;
        }
        memcpy(name, c + 46, nl - 4);
        name[nl - 4] = '\0';
        if (memchr(name, '\0', nl - 4)) {
            s = nninit__err(err, NNINIT_EFORMAT, "%s: member name contains a NUL byte", path);
            goto done;
        }
        if (flags & 0x41) {
            s = nninit__err(err, NNINIT_EUNSUPPORTED, "%s: member '%s.npy' is encrypted", path, name);
            goto done;
        }
        if (method != 0 && method != 8) {
            s = nninit__err(err, NNINIT_EUNSUPPORTED, "%s: member '%s.npy' uses compression method %u; expected 0 "
                            "(stored) or 8 (deflated)", path, name, method);
            goto done;
        }
        /* deflate's best case is about 1032:1 (zlib technical details), as
         * for IDX: a member claiming more was not made by deflate, and is
         * refused before anything is inflated */
        if (method == 8 && usize / 1032u > csize + 1) {
            s = nninit__err(err, NNINIT_EFORMAT, "%s: deflated member '%s.npy' claims %" PRIu64 " bytes from %"
                            PRIu64 " compressed, beyond deflate's 1032:1; the archive is corrupt", path, name, usize,
                            csize);
            goto done;
        }
        if (method == 0 && csize != usize) {
            s = nninit__err(err, NNINIT_EFORMAT, "%s: stored member '%s.npy' has compressed size %" PRIu64
                            " != size %" PRIu64, path, name, csize, usize);
            goto done;
        }
        unsigned char lh[30];
        if (loff > cd_off || cd_off - loff < 30 || (s = read_at(f, path, loff, lh, 30, err)) ||
            get32(lh) != SIG_LOCAL) {
            if (!s)
                s = nninit__err(err, NNINIT_EFORMAT, "%s: member '%s.npy' has no local header at offset %" PRIu64,
                                path, name, loff);
            goto done;
        }
        uint64_t data_off = loff + 30 + get16(lh + 26) + get16(lh + 28);
        if (data_off > cd_off || cd_off - data_off < csize) {
            s = nninit__err(err, NNINIT_EFORMAT, "%s: member '%s.npy' (%" PRIu64 " bytes at %" PRIu64 ") runs into "
                            "the central directory", path, name, csize, data_off);
            goto done;
        }
        spans[i].b = loff;
        spans[i].e = data_off + csize;
        nninit__tentry *te;
        if ((s = nninit__tf_add(tf, name, &te, err)))
            goto done;
        te->file = fi;
        te->offset = data_off;
        te->method = (int)method;
        te->csize = csize;
        te->usize = usize;
        te->crc = get32(c + 16);
        te->info.file = tf->files[fi];
        if (method == 8)
            tf->format = NNINIT_FORMAT_NPZ_DEFLATED;
        /* The member's .npy header, checked against its size. */
        size_t avail = 0, want = usize < 65536 + 12 ? (size_t)usize : 65536 + 12;
        if (method == 0) {
            if ((s = read_at(f, path, data_off, prefix, want, err)))
                goto done;
            avail = want;
        } else if ((s = inflate_member(f, path, te, prefix, want, &avail, NULL, 0, err))) {
            goto done;
        }
        char what[1100];
        snprintf(what, sizeof what, "%s: member '%s.npy'", path, name);
        uint64_t npy_off;
        if ((s = nninit__npy_parse_header(what, prefix, avail, usize, &te->info.dtype, &te->info.shape, &npy_off,
                                          &te->info.nbytes, &te->swap, err)))
            goto done;
        te->npy_off = npy_off;
        pos += 46 + (size_t)nl + xl + cl;
    }
    /* Members must not overlap (a zip-bomb trick: many entries, one stream). */
    qsort(spans, (size_t)n, sizeof *spans, cmp_mspan);
    for (uint64_t i = 1; i < n; i++)
        if (spans[i].b < spans[i - 1].e) {
            s = nninit__err(err, NNINIT_EFORMAT, "%s: zip members overlap at offset %" PRIu64, path, spans[i].b);
            goto done;
        }
    s = nninit__tf_check_unique(tf, path, err);
done:
    free(tail);
    free(cdbuf);
    free(prefix);
    free(spans);
    fclose(f);
    return s;
}

nninit_status nninit__npz_read(nninit_tensor_file *tf, const nninit__tentry *e, void *out, nninit_err *err)
{
    const char *path = tf->files[e->file];
    FILE *f = fopen(path, "rb");
    if (!f) {
        int en = errno;
        return nninit__err_sys(err, en, "%s: cannot open (%s)", path, strerror(en));
    }
    nninit_status s;
    if (e->method == 8) {
        s = inflate_member(f, path, e, NULL, 0, NULL, out, 1, err);
    } else {
        unsigned char hdr[65536 + 12];
        s = read_at(f, path, e->offset, hdr, (size_t)e->npy_off, err);
        if (!s)
            s = read_at(f, path, e->offset + e->npy_off, out, (size_t)e->info.nbytes, err);
        if (!s) {
            uint32_t crc = nninit__crc32(nninit__crc32(0, hdr, e->npy_off), out, e->info.nbytes);
            if (crc != e->crc)
                s = nninit__err(err, NNINIT_EFORMAT, "%s: member '%s.npy' fails its CRC-32 check", path,
                                e->info.name);
        }
    }
    fclose(f);
    if (!s && e->swap)
        nninit__swap_bytes(out, e->info.nbytes * 8 / (uint64_t)nninit_file_dtype_bits(e->info.dtype),
                           (size_t)nninit_file_dtype_bits(e->info.dtype) / 8);
    return s;
}

/* ---- one member of any zip (a .keras archive's config.json) ---- */

nninit_status nninit__zip_read_member(const char *path, const char *member, size_t max, char **data, size_t *len,
                                      nninit_err *err)
{
    *data = NULL;
    *len = 0;
    nninit_tensor_file tf;
    memset(&tf, 0, sizeof tf);
    FILE *f = fopen(path, "rb");
    if (!f) {
        int e = errno;
        return nninit__err_open(err, e, path);
    }
    nninit_status s = NNINIT_OK;
    unsigned char *tail = NULL, *cd = NULL;
    char *out = NULL;
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        s = nninit__err(err, NNINIT_EINVAL, "%s: not a regular file", path);
        goto done;
    }
    uint64_t size = (uint64_t)st.st_size;
    size_t tl = size < 22 + 65535 ? (size_t)size : 22 + 65535;
    tail = malloc(tl ? tl : 1);
    if (!tail) {
        s = nninit__err(err, NNINIT_ENOMEM, "%s: out of memory", path);
        goto done;
    }
    if (tl < 22 || (s = read_at(f, path, size - tl, tail, tl, err))) {
        if (!s)
            s = nninit__err(err, NNINIT_EFORMAT, "%s: too small for a zip archive", path);
        goto done;
    }
    size_t eo = tl - 22 + 1;
    int found = 0;
    while (eo-- > 0)
        if (get32(tail + eo) == SIG_EOCD && eo + 22 + get16(tail + eo + 20) == tl) {
            found = 1;
            break;
        }
    uint64_t n = found ? get16(tail + eo + 10) : 0, cd_size = found ? get32(tail + eo + 12) : 0,
             cd_off = found ? get32(tail + eo + 16) : 0;
    if (!found || cd_off > size || cd_size > size - cd_off || cd_size > (1u << 26)) {
        s = nninit__err(err, NNINIT_EFORMAT, "%s: not a readable zip archive (no valid end record; zip64 "
                        "archives are not read here)", path);
        goto done;
    }
    cd = malloc(cd_size ? (size_t)cd_size : 1);
    if (!cd || (s = read_at(f, path, cd_off, cd, (size_t)cd_size, err))) {
        if (!s)
            s = nninit__err(err, NNINIT_ENOMEM, "%s: out of memory", path);
        goto done;
    }
    size_t pos = 0, ml = strlen(member);
    for (uint64_t i = 0; i < n; i++) {
        if (cd_size - pos < 46 || get32(cd + pos) != SIG_CENTRAL) {
            s = nninit__err(err, NNINIT_EFORMAT, "%s: central directory entry %" PRIu64 " is corrupt", path, i);
            goto done;
        }
        const unsigned char *c = cd + pos;
        unsigned nl = get16(c + 28), xl = get16(c + 30), cl = get16(c + 32), method = get16(c + 10);
        if (cd_size - pos - 46 < (uint64_t)nl + xl + cl) {
            s = nninit__err(err, NNINIT_EFORMAT, "%s: central directory entry %" PRIu64 " runs past its end", path, i);
            goto done;
        }
        pos += 46 + (size_t)nl + xl + cl;
        if (nl != ml || memcmp(c + 46, member, ml))
            continue;
        nninit__tentry e;
        memset(&e, 0, sizeof e);
        e.info.name = member;
        e.csize = get32(c + 20);
        e.usize = get32(c + 24);
        e.crc = get32(c + 16);
        uint64_t loff = get32(c + 42);
        unsigned char lh[30];
        if ((get16(c + 8) & 0x41) || (method != 0 && method != 8) || e.usize > max ||
            (method == 0 && e.csize != e.usize)) {
            s = nninit__err(err, NNINIT_EUNSUPPORTED, "%s: member '%s' is encrypted, uses an unknown method, or is "
                            "larger than %zu bytes", path, member, max);
            goto done;
        }
        if (loff > cd_off || cd_off - loff < 30 || (s = read_at(f, path, loff, lh, 30, err)) || get32(lh) != SIG_LOCAL) {
            if (!s)
                s = nninit__err(err, NNINIT_EFORMAT, "%s: member '%s' has no local header", path, member);
            goto done;
        }
        e.offset = loff + 30 + get16(lh + 26) + get16(lh + 28);
        if (e.offset > cd_off || cd_off - e.offset < e.csize) {
            s = nninit__err(err, NNINIT_EFORMAT, "%s: member '%s' runs into the central directory", path, member);
            goto done;
        }
        out = malloc((size_t)e.usize + 1);
        if (!out) {
            s = nninit__err(err, NNINIT_ENOMEM, "%s: out of memory", path);
            goto done;
        }
        if (method == 8) {
            s = inflate_member(f, path, &e, NULL, 0, NULL, (unsigned char *)out, 1, err);
        } else if (!(s = read_at(f, path, e.offset, out, (size_t)e.usize, err)) &&
                   nninit__crc32(0, out, e.usize) != e.crc) {
            s = nninit__err(err, NNINIT_EFORMAT, "%s: member '%s' fails its CRC-32 check", path, member);
        }
        if (s)
            goto done;
        out[e.usize] = '\0';
        *data = out;
        *len = (size_t)e.usize;
        out = NULL;
        goto done;
    }
    s = nninit__err(err, NNINIT_ENOTFOUND, "%s: the archive has no member '%s'", path, member);
done:
    free(out);
    free(tail);
    free(cd);
    fclose(f);
    return s;
}
