/* Positioned tensor files: the whole layout of a safetensors file (single or
 * sharded with its index) or a stored npz is computed before any data
 * exists, so tensors can be written in any order, in chunks, by several
 * threads or processes, each at its own offset (pwrite). The bytes equal
 * nninit_tensors_write's. The files are the atomic writer's temporaries
 * (atomic.c), space reserved up front; publish renames them in, the index
 * last, only when every writer succeeded. */
#include "io/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

typedef struct pfile {
    char *path;           /* final name */
    uint64_t size;
    unsigned char *head;  /* bytes at offset 0 (safetensors: length + header) */
    size_t head_len;
    nninit__atomic a;     /* the creator's temporary */
    int fd;               /* where the data goes: a.fd, or an attached process's own descriptor */
} pfile;

struct nninit__plan {
    nninit_file_format format;
    const nninit_tensor_desc *t;
    size_t n;
    size_t *file_of;      /* tensor -> file */
    uint64_t *off;        /* tensor -> data offset in its file */
    pfile *f;
    size_t n_files;
    uint64_t total;       /* bytes of every file together */
    nninit__npz_plan *npz;
    /* sharded safetensors: the index, written and published last */
    size_t *shard_of;
    char **shard_names;
    char *index_path;
    uint64_t data_total;
    nninit__atomic index;
    int created, attached, finished;
    const char *path;
};

uint32_t nninit__crc32(uint32_t crc, const void *buf, uint64_t n)
{
    const unsigned char *p = buf;
    while (n > 0) {
        uInt chunk = n > (1u << 30) ? (1u << 30) : (uInt)n;
        crc = (uint32_t)crc32(crc, p, chunk);
        p += chunk;
        n -= chunk;
    }
    return crc;
}

uint32_t nninit__crc32_combine(uint32_t a, uint32_t b, uint64_t len_b)
{
    return (uint32_t)crc32_combine(a, b, (z_off_t)len_b);
}

static nninit_status add_file(nninit__plan *p, const char *path, nninit_err *err)
{
    pfile *f = &p->f[p->n_files];
    memset(f, 0, sizeof *f);
    f->a.fd = -1;
    f->fd = -1;
    if (!(f->path = nninit__strdup(path)))
        return nninit__err(err, NNINIT_ENOMEM, "%s: out of memory", path);
    p->n_files++;
    return NNINIT_OK;
}

/* One safetensors file of tensors idx[0..k) as file number fi. */
static nninit_status lay_safetensors(nninit__plan *p, size_t fi, const size_t *idx_in, size_t k,
                                     const char *const *meta, nninit_err *err)
{
    pfile *f = &p->f[fi];
    size_t *idx = nninit__malloc_array(k ? k : 1, sizeof *idx);
    uint64_t *sizes = nninit__malloc_array(k ? k : 1, sizeof *sizes);
    nninit__sb h = NNINIT__SB_INIT;
    nninit_status s = NNINIT_OK;
    if (!idx || !sizes)
        s = nninit__err(err, NNINIT_ENOMEM, "%s: out of memory", f->path);
    else
        s = nninit__safetensors_header(f->path, p->t, idx_in, k, meta, &h, idx, sizes, err);
    if (!s && !(f->head = malloc(8 + h.len)))
        s = nninit__err(err, NNINIT_ENOMEM, "%s: out of memory", f->path);
    if (!s) {
        for (int i = 0; i < 8; i++)
            f->head[i] = (unsigned char)((uint64_t)h.len >> (8 * i));
        memcpy(f->head + 8, h.p, h.len);
        f->head_len = 8 + h.len;
        uint64_t off = f->head_len;
        for (size_t i = 0; i < k; i++) {
            p->file_of[idx[i]] = fi;
            p->off[idx[i]] = off;
            off += sizes[i];
        }
        f->size = off;
    }
    free(h.p);
    free(idx);
    free(sizes);
    return s;
}

void nninit__plan_free(nninit__plan *p)
{
    if (!p)
        return;
    for (size_t j = 0; j < p->n_files; j++) {
        pfile *f = &p->f[j];
        if (p->attached && f->fd >= 0)
            close(f->fd);
        nninit__atomic_abort(&f->a); /* the creator's temporaries, unless published */
        free(f->path);
        free(f->head);
    }
    nninit__atomic_abort(&p->index);
    for (size_t j = 0; p->shard_names && j < p->n_files; j++)
        free(p->shard_names[j]);
    free(p->shard_names);
    free(p->shard_of);
    free(p->index_path);
    nninit__npz_plan_free(p->npz);
    free(p->f);
    free(p->file_of);
    free(p->off);
    free(p);
}

nninit_status nninit__plan_new(const char *path, const nninit_tensor_desc *t, size_t n, const nninit_write_opts *opts,
                               nninit__plan **out, nninit_err *err)
{
    *out = NULL;
    if (!path || (!t && n))
        return nninit__err(err, NNINIT_EMISUSE, "positioned write: path and tensors must not be NULL");
    nninit_write_opts o = opts ? *opts : nninit_write_opts_default();
    if (o.format != NNINIT_FORMAT_SAFETENSORS && o.format != NNINIT_FORMAT_NPZ)
        return nninit__err(err, NNINIT_EUNSUPPORTED, "%s: format %s is written in file order only (%s); positioned "
                           "and parallel writes take safetensors or npz", path, nninit_file_format_name(o.format),
                           o.format == NNINIT_FORMAT_NPZ_DEFLATED
                               ? "where each member starts depends on how small the members before it compress"
                               : "one file per tensor, or a file libhdf5 builds in memory");
    struct stat sb;
    if (!strcmp(path, "-") || (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode)))
        return nninit__err(err, NNINIT_EUNSUPPORTED, "%s: a stream, FIFO, device or folder is written in file order "
                           "only", path);
    nninit_status s = nninit__check_names(path, t, n, 0, err);
    if (s)
        return s;
    nninit__plan *p = calloc(1, sizeof *p);
    if (!p)
        return nninit__err(err, NNINIT_ENOMEM, "%s: out of memory", path);
    p->format = o.format;
    p->t = t;
    p->n = n;
    p->path = path;
    p->index.fd = -1;
    p->file_of = nninit__calloc_array(n ? n : 1, sizeof *p->file_of);
    p->off = nninit__calloc_array(n ? n : 1, sizeof *p->off);
    size_t *order = nninit__malloc_array(n ? n : 1, sizeof *order);
    size_t *first = nninit__malloc_array(n + 2, sizeof *first);
    char *full = malloc(strlen(path) + 64);
    if (!p->file_of || !p->off || !order || !first || !full) {
        s = nninit__err(err, NNINIT_ENOMEM, "%s: out of memory", path);
        goto done;
    }
    if (o.format == NNINIT_FORMAT_NPZ) {
        if (!(p->f = calloc(1, sizeof *p->f)) || (s = add_file(p, path, err)))
            goto oom_or_s;
        if ((s = nninit__npz_plan_new(path, t, n, p->off, &p->f[0].size, &p->npz, err)))
            goto done;
        goto sizes;
    }
    p->shard_of = nninit__malloc_array(n ? n : 1, sizeof *p->shard_of);
    if (!p->shard_of)
        goto oom_or_s;
    size_t n_shards = nninit__shard_assign(t, n, o.max_shard_size ? o.max_shard_size : UINT64_MAX, p->shard_of,
                                           &p->data_total);
    if (!(p->f = nninit__calloc_array(n_shards ? n_shards : 1, sizeof *p->f)))
        goto oom_or_s;
    if (n_shards <= 1) { /* one file, no index (as nninit_tensors_write) */
        for (size_t i = 0; i < n; i++)
            order[i] = i;
        if (!(s = add_file(p, path, err)))
            s = lay_safetensors(p, 0, order, n, o.metadata, err);
        goto sizes;
    }
    nninit__shard_order(p->shard_of, n, n_shards, order, first);
    if (!(p->shard_names = nninit__calloc_array(n_shards, sizeof *p->shard_names)) ||
        !(p->index_path = malloc(strlen(path) + 16)))
        goto oom_or_s;
    sprintf(p->index_path, "%s.index.json", path);
    for (size_t j = 0; j < n_shards && !s; j++) {
        size_t dlen;
        if (!(p->shard_names[j] = nninit__shard_name(path, j, n_shards, &dlen)))
            goto oom_or_s;
        sprintf(full, "%.*s%s", (int)dlen, path, p->shard_names[j]);
        if (!(s = add_file(p, full, err)))
            s = lay_safetensors(p, j, order + first[j], first[j + 1] - first[j], o.metadata, err);
    }
sizes:
    for (size_t j = 0; j < p->n_files; j++)
        p->total += p->f[j].size;
    goto done;
oom_or_s:
    if (!s)
        s = nninit__err(err, NNINIT_ENOMEM, "%s: out of memory", path);
done:
    free(order);
    free(first);
    free(full);
    if (s) {
        nninit__plan_free(p);
        return s;
    }
    *out = p;
    return NNINIT_OK;
}

uint64_t nninit__plan_bytes(const nninit__plan *p) { return p->total; }
int nninit__plan_needs_crc(const nninit__plan *p) { return p->npz != NULL; }

static nninit_status pwrite_at(pfile *f, const void *buf, size_t n, uint64_t off, nninit_err *err)
{
    const unsigned char *q = buf;
    while (n > 0) {
        size_t chunk = n < ((size_t)1 << 30) ? n : ((size_t)1 << 30);
        ssize_t w = pwrite(f->fd, q, chunk, (off_t)off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int e = w < 0 ? errno : ENOSPC;
            char sz[32];
            return nninit__err_sys(err, e, "%s: write of %s at byte %" PRIu64 " failed (%s); nothing was replaced",
                                   f->path, nninit__format_bytes(n, sz, sizeof sz), off, strerror(e));
        }
        q += w;
        n -= (size_t)w;
        off += (uint64_t)w;
    }
    return NNINIT_OK;
}

/* Space for the whole file now, so a full disk stops the run before any
 * tensor is drawn; file systems without fallocate get the size only. */
static nninit_status reserve(pfile *f, nninit_err *err)
{
    if (f->size == 0)
        return NNINIT_OK;
    int rc = posix_fallocate(f->fd, 0, (off_t)f->size);
    if (rc == EINVAL || rc == EOPNOTSUPP)
        rc = ftruncate(f->fd, (off_t)f->size) == 0 ? 0 : errno;
    if (rc == 0)
        return NNINIT_OK;
    char sz[32];
    nninit__format_bytes(f->size, sz, sizeof sz);
    if (rc == ENOSPC || rc == EDQUOT)
        return nninit__err_sys(err, rc, "%s: the disk has no room for its %s (%s); free space or choose another "
                               "folder; nothing was written", f->path, sz, strerror(rc));
    if (rc == EFBIG)
        return nninit__err_sys(err, rc, "%s: %s is above the file size limit (%s; ulimit -f); nothing was written",
                               f->path, sz, strerror(rc));
    return nninit__err_sys(err, rc, "%s: cannot reserve %s (%s); nothing was written", f->path, sz, strerror(rc));
}

nninit_status nninit__plan_create(nninit__plan *p, char **handle, nninit_err *err)
{
    if (p->created || p->attached)
        return nninit__err(err, NNINIT_EMISUSE, "%s: positioned write already opened", p->path);
    p->created = 1;
    nninit__sb h = NNINIT__SB_INIT;
    nninit_status s = NNINIT_OK;
    for (size_t j = 0; j < p->n_files && !s; j++) {
        pfile *f = &p->f[j];
        if ((s = nninit__atomic_open_deferred(&f->a, f->path, err)))
            break;
        f->fd = f->a.fd;
        if (strchr(f->a.tmp, '\n'))
            s = nninit__err(err, NNINIT_EINVAL, "%s: a name with a line break cannot be shared between processes; "
                            "rename it", f->path);
        if (!s)
            s = reserve(f, err);
        if (!s && f->head_len)
            s = pwrite_at(f, f->head, f->head_len, 0, err);
        nninit__sb_str(&h, f->a.tmp);
        nninit__sb_str(&h, "\n");
    }
    if (!s && h.oom)
        s = nninit__err(err, NNINIT_ENOMEM, "%s: out of memory", p->path);
    if (s) {
        for (size_t j = 0; j < p->n_files; j++)
            nninit__atomic_abort(&p->f[j].a);
        free(h.p);
        return s;
    }
    if (handle)
        *handle = h.p;
    else
        free(h.p);
    return NNINIT_OK;
}

nninit_status nninit__plan_attach(nninit__plan *p, const char *handle, nninit_err *err)
{
    if (p->created || p->attached || !handle)
        return nninit__err(err, NNINIT_EMISUSE, "%s: positioned write already opened", p->path);
    p->attached = 1;
    const char *q = handle;
    for (size_t j = 0; j < p->n_files; j++) {
        const char *nl = strchr(q, '\n');
        if (!nl)
            return nninit__err(err, NNINIT_EINVAL, "%s: the shared handle names %zu files; the plan has %zu", p->path,
                               j, p->n_files);
        char *tmp = malloc((size_t)(nl - q) + 1);
        if (!tmp)
            return nninit__err(err, NNINIT_ENOMEM, "%s: out of memory", p->path);
        memcpy(tmp, q, (size_t)(nl - q));
        tmp[nl - q] = '\0';
        p->f[j].fd = open(tmp, O_WRONLY | O_CLOEXEC);
        int e = errno;
        if (p->f[j].fd < 0) {
            nninit_status s = nninit__err_sys(err, e, "%s: cannot open the shared temporary %s (%s)", p->path, tmp,
                                              strerror(e));
            free(tmp);
            return s;
        }
        free(tmp);
        q = nl + 1;
    }
    return NNINIT_OK;
}

nninit_status nninit__plan_pwrite(nninit__plan *p, size_t tensor, uint64_t off, const void *buf, size_t len,
                                  nninit_err *err)
{
    if (tensor >= p->n || (!p->created && !p->attached) || p->finished)
        return nninit__err(err, NNINIT_EMISUSE, "%s: positioned write of tensor %zu outside an open plan", p->path,
                           tensor);
    uint64_t numel, nb;
    nninit__tensor_bytes(p->t[tensor].name, &p->t[tensor].shape, p->t[tensor].dtype, &numel, &nb, NULL);
    if (off > nb || len > nb - off)
        return nninit__err(err, NNINIT_EMISUSE, "%s: bytes [%" PRIu64 ", +%zu) are outside tensor '%.80s'", p->path,
                           off, len, p->t[tensor].name);
    return pwrite_at(&p->f[p->file_of[tensor]], buf, len, p->off[tensor] + off, err);
}

nninit_status nninit__plan_finish(nninit__plan *p, const uint32_t *data_crc, nninit_err *err)
{
    nninit_status s = NNINIT_OK;
    if (p->finished || (!p->created && !p->attached))
        return nninit__err(err, NNINIT_EMISUSE, "%s: positioned write finished twice or never opened", p->path);
    p->finished = 1;
    if (p->attached) { /* another process's files: make this one's writes durable */
        for (size_t j = 0; j < p->n_files; j++) {
            pfile *f = &p->f[j];
            if (!s && fsync(f->fd) != 0) {
                int e = errno;
                s = nninit__err_sys(err, e, "%s: fsync failed (%s)", f->path, strerror(e));
            }
            if (close(f->fd) != 0 && !s) {
                int e = errno;
                s = nninit__err_sys(err, e, "%s: close failed (%s)", f->path, strerror(e));
            }
            f->fd = -1;
        }
        return s;
    }
    if (p->npz) {
        if (!data_crc)
            return nninit__err(err, NNINIT_EMISUSE, "%s: an npz needs its tensors' CRCs", p->path);
        if ((s = nninit__npz_plan_write(p->npz, p->f[0].fd, p->f[0].path, data_crc, err)))
            return s;
    }
    size_t n_committed = 0;
    for (size_t j = 0; j < p->n_files && !s; j++)
        if (!(s = nninit__atomic_commit(&p->f[j].a, err)))
            n_committed++;
    if (!s && p->index_path)
        s = nninit__safetensors_index_write(p->index_path, p->t, p->n, p->shard_of, p->n_files,
                                            (const char *const *)p->shard_names, p->data_total, &p->index, err);
    if (s)
        return s; /* plan_free removes every temporary */
    for (size_t j = 0; j < p->n_files && !s; j++) /* shards first, the index last */
        if ((s = nninit__atomic_publish(&p->f[j].a, err)) && p->n_files > 1) {
            char why[NNINIT_ERR_MSG_MAX];
            snprintf(why, sizeof why, "%s", err ? err->msg : "");
            nninit__err(err, s, "%.1200s; %zu of %zu new shards were already in place, the index was not replaced",
                        why, j, p->n_files);
        }
    if (!s && p->index_path)
        s = nninit__atomic_publish(&p->index, err);
    if (!s && p->index_path)
        nninit__remove_other_shards(p->path, p->n_files);
    return s;
}
