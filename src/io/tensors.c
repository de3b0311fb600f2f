/* Tensor files as one interface: the writer dispatch (safetensors, shards,
 * npz, folders of .npy), opening a file of any format, and format
 * detection. The dispatcher sits above the format files (safetensors.c,
 * npz.c, npy.c), which build on the table in tfile.c and never call back
 * into this file (tfile.c gives the order). */
#include "io/internal.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const format_names[] = {"safetensors", "npz", "npz-deflated", "npy-dir", "npy",
                                           "safetensors-index", "weights.h5"};

const char *nninit_file_format_name(nninit_file_format f)
{
    return (int)f >= 0 && (size_t)f < sizeof format_names / sizeof *format_names ? format_names[f] : "?";
}

nninit_status nninit_file_format_parse(const char *name, nninit_file_format *out, nninit_err *err)
{
    for (int i = 0; i <= NNINIT_FORMAT_WEIGHTS_H5; i++)
        if (i != NNINIT_FORMAT_NPY && i != NNINIT_FORMAT_SAFETENSORS_INDEX && !strcmp(name, format_names[i])) {
            *out = (nninit_file_format)i;
            return NNINIT_OK;
        }
    return nninit__err(err, NNINIT_EINVAL, "unknown format '%.40s'; expected safetensors, npz, npz-deflated, "
                       "npy-dir or weights.h5", name);
}

static int ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), t = strlen(tail);
    return n > t && !strcasecmp(s + n - t, tail) && s[n - t - 1] != '/';
}

nninit_status nninit_file_format_from_path(const char *path, nninit_file_format *out, nninit_err *err)
{
    if (!path || !out)
        return nninit__err(err, NNINIT_EMISUSE, "nninit_file_format_from_path: path and out must not be NULL");
    struct stat st;
    size_t n = strlen(path);
    static const struct { const char *tail; nninit_file_format f; } known[] = {
        {".weights.h5", NNINIT_FORMAT_WEIGHTS_H5}, {".safetensors", NNINIT_FORMAT_SAFETENSORS},
        {".npz", NNINIT_FORMAT_NPZ}, {".npy", NNINIT_FORMAT_NPY}};
    if (!strcmp(path, "-"))
        return nninit__err(err, NNINIT_ENOTFOUND, "standard output has no extension");
    if ((n && path[n - 1] == '/') || (stat(path, &st) == 0 && S_ISDIR(st.st_mode))) {
        *out = NNINIT_FORMAT_NPY_DIR;
        return NNINIT_OK;
    }
    for (size_t i = 0; i < sizeof known / sizeof *known; i++)
        if (ends_with(path, known[i].tail)) {
            *out = known[i].f;
            return NNINIT_OK;
        }
    if (ends_with(path, ".h5") || ends_with(path, ".hdf5"))
        return nninit__err(err, NNINIT_EINVAL, "%s: Keras 3 model.load_weights reads only files named *.weights.h5 "
                           "(the legacy .h5 layout is not written); end the name in .weights.h5", path);
    if (ends_with(path, ".keras"))
        return nninit__err(err, NNINIT_EINVAL, "%s: .keras archives (config + weights) are not written; write "
                           "NAME.weights.h5 and load it with model.load_weights", path);
    if (ends_with(path, ".pt") || ends_with(path, ".pth"))
        return nninit__err(err, NNINIT_EINVAL, "%s: PyTorch pickles are not written (nninit writes no pickles); "
                           "write NAME.safetensors (safetensors.torch.load_file reads it)", path);
    return nninit__err(err, NNINIT_ENOTFOUND, "%s: no format extension", path);
}

nninit_write_opts nninit_write_opts_default(void)
{
    nninit_write_opts o;
    memset(&o, 0, sizeof o);
    o.format = NNINIT_FORMAT_SAFETENSORS;
    return o;
}

/* Well-formed UTF-8 without NUL (JSON and zip names need it). */
static int valid_utf8(const unsigned char *s)
{
    while (*s) {
        int n = *s < 0x80 ? 0 : (*s & 0xe0) == 0xc0 ? 1 : (*s & 0xf0) == 0xe0 ? 2 : (*s & 0xf8) == 0xf0 ? 3 : -1;
        if (n < 0 || (n == 1 && *s < 0xc2) || (n == 3 && *s > 0xf4))
            return 0;
        for (int k = 1; k <= n; k++)
            if ((s[k] & 0xc0) != 0x80)
                return 0;
        s += n + 1;
    }
    return 1;
}

nninit_status nninit__check_names(const char *path, const nninit_tensor_desc *t, size_t n, int as_paths,
                                 nninit_err *err)
{
    const char **names = nninit__malloc_array(n ? n : 1, sizeof *names);
    if (!names)
        return nninit__err(err, NNINIT_ENOMEM, "%s: out of memory", path);
    nninit_status s = NNINIT_OK;
    for (size_t i = 0; i < n && !s; i++) {
        const char *nm = t[i].name;
        size_t len = nm ? strlen(nm) : 0;
        uint64_t numel, nb;
        if (!len || len > 1024 || !valid_utf8((const unsigned char *)nm))
            s = nninit__err(err, NNINIT_EINVAL, "%s: tensor %zu has an empty, over-long or non-UTF-8 name; names "
                            "must be 1 to 1024 bytes of UTF-8", path, i);
        else if (!strcmp(nm, "__metadata__"))
            s = nninit__err(err, NNINIT_EINVAL, "%s: a tensor may not be named '__metadata__' (the safetensors "
                            "header reserves it); rename it", path);
        else if (as_paths && (nm[0] == '/' || nm[len - 1] == '/' || strstr(nm, "//") || !strcmp(nm, ".") ||
                              !strcmp(nm, "..") || !strncmp(nm, "../", 3) || strstr(nm, "/../") ||
                              strstr(nm, "/./") || !strncmp(nm, "./", 2) ||
                              (len >= 3 && !strcmp(nm + len - 3, "/..")) ||
                              (len >= 2 && !strcmp(nm + len - 2, "/."))))
            s = nninit__err(err, NNINIT_EINVAL, "%s: tensor name '%.80s' is not a relative file path; use names "
                            "like 'dense/kernel'", path, nm);
        else
            s = nninit__tensor_bytes(nm, &t[i].shape, t[i].dtype, &numel, &nb, err);
        names[i] = nm;
    }
    const char *twice = s ? NULL : nninit__first_duplicate(names, n);
    if (twice)
        s = nninit__err(err, NNINIT_EINVAL, "%s: tensor name '%.80s' appears twice; names must be unique", path,
                        twice);
    free(names);
    return s;
}

/* The folders one npy-dir write created, in creation order (parents
 * first), so that a failed write removes them again, deepest first. */
typedef struct made_dirs {
    char **path;
    size_t n, cap;
} made_dirs;

static void made_dirs_remove(made_dirs *md)
{
    for (size_t i = md->n; i-- > 0;) {
        rmdir(md->path[i]); /* only if empty: a folder a published file went into stays */
        free(md->path[i]);
    }
    free(md->path);
    memset(md, 0, sizeof *md);
}

static void made_dirs_forget(made_dirs *md)
{
    for (size_t i = 0; i < md->n; i++)
        free(md->path[i]);
    free(md->path);
    memset(md, 0, sizeof *md);
}

/* mkdir -p of the folders in `path` up to (not including) its last part;
 * each folder created is recorded in md. */
static nninit_status make_parents(const char *path, made_dirs *md, nninit_err *err)
{
    char *p = nninit__strdup(path);
    if (!p)
        return nninit__err(err, NNINIT_ENOMEM, "%s: out of memory", path);
    for (char *q = p + 1; *q; q++) {
        if (*q != '/')
            continue;
        *q = '\0';
        if (mkdir(p, 0777) == 0) {
            if (md->n == md->cap) {
                size_t cap = md->cap ? 2 * md->cap : 8;
                char **grown = realloc(md->path, cap * sizeof *grown);
                if (grown) {
                    md->path = grown;
                    md->cap = cap;
                }
            }
            if (md->n == md->cap || !(md->path[md->n] = nninit__strdup(p))) {
                rmdir(p);
                free(p);
                return nninit__err(err, NNINIT_ENOMEM, "%s: out of memory", path);
            }
            md->n++;
        } else if (errno != EEXIST) {
            int e = errno;
            nninit_status s = nninit__err_sys(err, e, "%s: cannot create folder (%s)", p, strerror(e));
            free(p);
            return s;
        }
        *q = '/';
    }
    free(p);
    return NNINIT_OK;
}

static nninit_status write_npy_dir(const char *dir, const nninit_tensor_desc *t, size_t n, nninit__src *src,
                                   nninit_err *err)
{
    int made = mkdir(dir, 0777) == 0; /* removed again if the write fails */
    if (!made && errno != EEXIST) {
        int e = errno;
        return nninit__err_sys(err, e, "%s: cannot create folder (%s)", dir, strerror(e));
    }
    uint64_t max_bytes = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t numel, nb;
        nninit__tensor_bytes(t[i].name, &t[i].shape, t[i].dtype, &numel, &nb, NULL);
        if (nb > max_bytes)
            max_bytes = nb;
    }
    max_bytes = nninit__src_piece(src, max_bytes);
    void *buf = malloc(max_bytes ? (size_t)max_bytes : 1);
    char *path = malloc(strlen(dir) + 1024 + 8);
    nninit__atomic *staged = nninit__calloc_array(n ? n : 1, sizeof *staged); /* renamed in only when all are written */
    size_t n_staged = 0;
    made_dirs md = {NULL, 0, 0}; /* subfolders ('/' in names) this write created */
    nninit_status s = NNINIT_OK;
    if (!buf || !path || !staged)
        s = nninit__err(err, NNINIT_ENOMEM, "%s: out of memory", dir);
    for (size_t i = 0; i < n && !s; i++) {
        char hdr[256];
        size_t hlen;
        uint64_t numel, nb;
        nninit__tensor_bytes(t[i].name, &t[i].shape, t[i].dtype, &numel, &nb, NULL);
        sprintf(path, "%s/%s.npy", dir, t[i].name);
        nninit__atomic *a = &staged[i];
        if ((s = nninit__npy_header(t[i].dtype, &t[i].shape, hdr, sizeof hdr, &hlen, err)) ||
            (s = make_parents(path, &md, err)) || (s = nninit__atomic_open_deferred(a, path, err)) ||
            (s = nninit__atomic_write(a, hdr, hlen, err)))
            break;
        for (uint64_t off = 0; off < nb && !s; off += max_bytes) {
            size_t len = (size_t)(nb - off < max_bytes ? nb - off : max_bytes);
            if (!(s = nninit__src_read(src, i, off, buf, len, err)))
                s = nninit__atomic_write(a, buf, len, err);
        }
        if (s) {
            nninit__atomic_abort(a);
            break;
        }
        if ((s = nninit__atomic_commit(a, err)) == NNINIT_OK)
            n_staged++;
    }
    if (s) { /* nothing renamed yet: every temporary removed, the folder as it was */
        for (size_t i = 0; i < n_staged; i++)
            nninit__atomic_abort(&staged[i]);
        made_dirs_remove(&md);
        if (made)
            rmdir(dir);
    }
    for (size_t i = 0; i < n_staged && !s; i++)
        if ((s = nninit__atomic_publish(&staged[i], err)) != NNINIT_OK) {
            for (size_t r = i + 1; r < n_staged; r++)
                nninit__atomic_abort(&staged[r]);
            char why[NNINIT_ERR_MSG_MAX];
            snprintf(why, sizeof why, "%s", err ? err->msg : "");
            nninit__err(err, s, "%.1200s; %zu of %zu files were already replaced", why, i, n);
        }
    if (s)
        made_dirs_remove(&md); /* the empty ones: those of files not published */
    made_dirs_forget(&md);
    free(staged);
    free(buf);
    free(path);
    return s;
}

/* After a sharded write of n shards succeeded: shards of an earlier write
 * with another count ("BASE-00001-of-00007.safetensors") are removed, so the
 * folder holds one model only. */
/* path's folder part (its length with the '/'), file name and the name's
 * length without ".safetensors". */
static void shard_stem(const char *path, size_t *dlen, const char **base, size_t *blen)
{
    const char *slash = strrchr(path, '/');
    *dlen = slash ? (size_t)(slash - path) + 1 : 0;
    *base = path + *dlen;
    *blen = strlen(*base);
    if (*blen > 12 && !strcmp(*base + *blen - 12, ".safetensors"))
        *blen -= 12;
}

char *nninit__shard_name(const char *path, size_t j, size_t n, size_t *dlen)
{
    const char *base;
    size_t blen;
    shard_stem(path, dlen, &base, &blen);
    char *name = malloc(blen + 40);
    if (name)
        sprintf(name, "%.*s-%05zu-of-%05zu.safetensors", (int)blen, base, j + 1, n);
    return name;
}

void nninit__shard_order(const size_t *shard_of, size_t n, size_t n_shards, size_t *order, size_t *first)
{
    size_t k = 0;
    for (size_t j = 0; j < n_shards; j++) {
        first[j] = k;
        for (size_t i = 0; i < n; i++)
            if (shard_of[i] == j)
                order[k++] = i;
    }
    first[n_shards] = k;
}

void nninit__remove_other_shards(const char *path, size_t n)
{
    size_t dlen, blen;
    const char *base;
    shard_stem(path, &dlen, &base, &blen);
    char *dir = dlen ? malloc(dlen + 1) : NULL;
    if (dlen && !dir)
        return;
    if (dir) {
        memcpy(dir, path, dlen);
        dir[dlen] = '\0';
    }
    DIR *d = opendir(dir ? dir : ".");
    struct dirent *e;
    char full[4096];
    while (d && (e = readdir(d))) {
        const char *nm = e->d_name;
        unsigned long j, of;
        char tail[16];
        if (strncmp(nm, base, blen) || sscanf(nm + blen, "-%5lu-of-%5lu%15s", &j, &of, tail) != 3 ||
            strcmp(tail, ".safetensors") || of == n || strlen(nm + blen) != 27)
            continue;
        if (snprintf(full, sizeof full, "%s%s", dir ? dir : "", nm) < (int)sizeof full)
            unlink(full);
    }
    if (d)
        closedir(d);
    free(dir);
}

size_t nninit__shard_assign(const nninit_tensor_desc *t, size_t n, uint64_t max_shard, size_t *shard_of,
                            uint64_t *total)
{
    /* huggingface_hub split_state_dict_into_shards_factory: walk the tensors
     * in order; one above the limit gets a shard of its own (appended at
     * once); otherwise start a new shard when the next would pass it. */
    size_t n_shards = 0, cur = (size_t)-1;
    uint64_t cur_size = 0;
    *total = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t numel, nb;
        nninit__tensor_bytes(t[i].name, &t[i].shape, t[i].dtype, &numel, &nb, NULL);
        *total += nb;
        if (nb > max_shard) {
            shard_of[i] = n_shards++;
            continue;
        }
        if (cur == (size_t)-1 || cur_size + nb > max_shard) {
            cur = n_shards++;
            cur_size = 0;
        }
        shard_of[i] = cur;
        cur_size += nb;
    }
    return n_shards;
}

static nninit_status write_sharded(const char *path, const nninit_tensor_desc *t, size_t n, uint64_t max_shard,
                                   const char *const *meta, nninit__src *src, nninit_err *err)
{
    size_t *shard_of = nninit__malloc_array(n ? n : 1, sizeof *shard_of);
    size_t *order = nninit__malloc_array(n ? n : 1, sizeof *order);  /* tensors grouped by shard */
    size_t *first = nninit__malloc_array(n + 2, sizeof *first);       /* shard j: order[first[j]..first[j+1]) */
    char **names = NULL;
    nninit__atomic *staged = NULL; /* shards, then the index: renamed into place only when all are written */
    size_t n_staged = 0;
    nninit_status s = NNINIT_OK;
    if (!shard_of || !order || !first) {
        s = nninit__err(err, NNINIT_ENOMEM, "%s: out of memory", path);
        goto done;
    }
    uint64_t total = 0;
    size_t n_shards = nninit__shard_assign(t, n, max_shard, shard_of, &total);
    if (n_shards <= 1) { /* one shard: a plain file, no index (as huggingface_hub) */
        for (size_t i = 0; i < n; i++)
            order[i] = i;
        s = nninit__safetensors_write(path, t, order, n, meta, src, NULL, err);
        goto done;
    }
    nninit__shard_order(shard_of, n, n_shards, order, first);
    names = nninit__calloc_array(n_shards, sizeof *names);
    staged = nninit__calloc_array(n_shards + 1, sizeof *staged);
    size_t dlen = 0;
    char *full = malloc(strlen(path) + 64);
    if (!names || !full || !staged) {
        free(full);
        s = nninit__err(err, NNINIT_ENOMEM, "%s: out of memory", path);
        goto done;
    }
    for (size_t j = 0; j < n_shards && !s; j++) {
        names[j] = nninit__shard_name(path, j, n_shards, &dlen);
        if (!names[j]) {
            s = nninit__err(err, NNINIT_ENOMEM, "%s: out of memory", path);
            break;
        }
        sprintf(full, "%.*s%s", (int)dlen, path, names[j]);
        s = nninit__safetensors_write(full, t, order + first[j], first[j + 1] - first[j], meta, src, &staged[j],
                                      err);
        n_staged += !s;
    }
    if (!s) {
        sprintf(full, "%s.index.json", path);
        s = nninit__safetensors_index_write(full, t, n, shard_of, n_shards, (const char *const *)names, total,
                                            &staged[n_shards], err);
        n_staged += !s;
    }
    if (s) /* nothing renamed yet: remove every temporary; the old files stay as they were */
        for (size_t j = 0; j < n_staged; j++)
            nninit__atomic_abort(&staged[j]);
    for (size_t j = 0; j < n_staged && !s; j++) { /* shards first, the index last */
        s = nninit__atomic_publish(&staged[j], err);
        if (s != NNINIT_OK) {
            for (size_t r = j + 1; r < n_staged; r++)
                nninit__atomic_abort(&staged[r]);
            char why[NNINIT_ERR_MSG_MAX];
            snprintf(why, sizeof why, "%s", err ? err->msg : "");
            nninit__err(err, s, "%.1200s; %zu of %zu new shards were already in place, the index was not replaced",
                        why, j, n_shards);
        }
    }
    if (!s)
        nninit__remove_other_shards(path, n_shards);
    free(full);
    for (size_t j = 0; j < n_shards && names; j++)
        free(names[j]);
done:
    free(staged);
    free(names);
    free(shard_of);
    free(order);
    free(first);
    return s;
}

/* .weights.h5 is built in memory (libhdf5's core driver) from whole
 * tensors: the pieces of one tensor gathered, in native byte order as
 * nninit__produce_le expects. */
static nninit_status whole_from_src(void *user, size_t i, void *out, nninit_err *err)
{
    nninit__src *src = user;
    uint64_t numel, nb;
    nninit_status s = nninit__tensor_bytes(src->t[i].name, &src->t[i].shape, src->t[i].dtype, &numel, &nb, err);
    if (!s)
        s = nninit__src_read(src, i, 0, out, (size_t)nb, err);
    const uint16_t one = 1;
    unsigned char lo;
    memcpy(&lo, &one, 1);
    int bits = nninit_file_dtype_bits(src->t[i].dtype);
    if (!s && lo != 1 && bits > 8)
        nninit__swap_bytes(out, nb * 8 / (uint64_t)bits, (size_t)bits / 8);
    return s;
}

nninit_status nninit__tensors_write_src(const char *path, const nninit_tensor_desc *t, size_t n,
                                        const nninit_write_opts *opts, nninit__src *src, nninit_err *err)
{
    if (!path || (!t && n) || !src)
        return nninit__err(err, NNINIT_EMISUSE, "nninit_tensors_write: path, tensors and source must not be NULL");
    nninit_write_opts o = opts ? *opts : nninit_write_opts_default();
    nninit_status s = nninit__check_names(path, t, n, o.format != NNINIT_FORMAT_SAFETENSORS, err);
    if (s != NNINIT_OK)
        return s;
    switch (o.format) {
    case NNINIT_FORMAT_SAFETENSORS:
        s = write_sharded(path, t, n, o.max_shard_size ? o.max_shard_size : UINT64_MAX, o.metadata, src, err);
        break;
    case NNINIT_FORMAT_NPZ:
    case NNINIT_FORMAT_NPZ_DEFLATED:
        s = nninit__npz_write(path, t, n, o.format == NNINIT_FORMAT_NPZ_DEFLATED, src, err);
        break;
    case NNINIT_FORMAT_NPY_DIR:
        s = write_npy_dir(path, t, n, src, err);
        break;
    case NNINIT_FORMAT_WEIGHTS_H5:
        s = nninit__h5_write(path, t, n, o.metadata, whole_from_src, src, err);
        break;
    default:
        s = nninit__err(err, NNINIT_EINVAL, "%s: format %s cannot be written; expected safetensors, npz, "
                        "npz-deflated, npy-dir or weights.h5", path, nninit_file_format_name(o.format));
    }
    nninit__src_release(src);
    return s;
}

nninit_status nninit_tensors_write(const char *path, const nninit_tensor_desc *t, size_t n,
                                   const nninit_write_opts *opts, nninit_tensor_source src, void *user,
                                   nninit_err *err)
{
    if (!src && n)
        return nninit__err(err, NNINIT_EMISUSE, "nninit_tensors_write: path, tensors and source must not be NULL");
    nninit__src s = nninit__src_whole(t, src, user);
    return nninit__tensors_write_src(path, t, n, opts, &s, err);
}

/* One .npy file as a tensor named `name` (its header read and checked). */
static nninit_status add_npy(nninit_tensor_file *tf, const char *path, const char *name, nninit_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        int e = errno;
        return nninit__err_sys(err, e, "%s: cannot open (%s)", path, strerror(e));
    }
    nninit_status s = NNINIT_OK;
    struct stat st;
    unsigned char *pre = malloc(65536 + 12);
    size_t got = 0;
    if (!pre)
        s = nninit__err(err, NNINIT_ENOMEM, "%s: out of memory", path);
    else if (fstat(fileno(f), &st) != 0)
        s = nninit__err_sys(err, errno, "%s: cannot stat", path);
    else
        got = fread(pre, 1, 65536 + 12, f);
    fclose(f);
    size_t fi = 0;
    nninit__tentry *te;
    if (!s && !(s = nninit__tf_add_file(tf, path, &fi, err)) && !(s = nninit__tf_add(tf, name, &te, err))) {
        te->file = fi;
        te->info.file = tf->files[fi];
        s = nninit__npy_parse_header(path, pre, got, (uint64_t)st.st_size, &te->info.dtype, &te->info.shape,
                                     &te->offset, &te->info.nbytes, &te->swap, err);
    }
    free(pre);
    return s;
}

static int cmp_entry_name(const void *a, const void *b)
{
    return strcmp(((const nninit__tentry *)a)->info.name, ((const nninit__tentry *)b)->info.name);
}

/* Every NAME.npy under dir (recursively; "a/b.npy" is tensor "a/b"). */
static nninit_status scan_dir(nninit_tensor_file *tf, const char *root, const char *rel, int depth, nninit_err *err)
{
    if (depth > 16)
        return nninit__err(err, NNINIT_EFORMAT, "%s: folders nest deeper than 16 levels", root);
    size_t rl = strlen(root) + strlen(rel) + 2;
    char *dir = malloc(rl);
    if (!dir)
        return nninit__err(err, NNINIT_ENOMEM, "out of memory");
    snprintf(dir, rl, rel[0] ? "%s/%s" : "%s%s", root, rel);
    DIR *d = opendir(dir);
    if (!d) {
        int e = errno;
        free(dir);
        return nninit__err_sys(err, e, "%s: cannot list folder (%s)", root, strerror(e));
    }
    nninit_status s = NNINIT_OK;
    struct dirent *de;
    while (!s && (de = readdir(d))) {
        const char *nm = de->d_name;
        if (nm[0] == '.') /* ".", "..", and hidden files such as our own temporaries */
            continue;
        size_t nl = strlen(nm);
        char *sub = malloc(strlen(rel) + nl + 2), *full = malloc(strlen(dir) + nl + 2);
        if (!sub || !full) {
            free(sub);
            free(full);
            s = nninit__err(err, NNINIT_ENOMEM, "out of memory");
            break;
        }
        sprintf(sub, rel[0] ? "%s/%s" : "%s%s", rel, nm);
        sprintf(full, "%s/%s", dir, nm);
        struct stat st;
        if (stat(full, &st) == 0 && S_ISDIR(st.st_mode)) {
            s = scan_dir(tf, root, sub, depth + 1, err);
        } else if (nl > 4 && !strcmp(nm + nl - 4, ".npy")) {
            sub[strlen(sub) - 4] = '\0';
            s = add_npy(tf, full, sub, err);
        }
        free(sub);
        free(full);
    }
    closedir(d);
    free(dir);
    return s;
}

/* A safetensors file starts with its header's length (u64, little-endian)
 * and the header's '{'; a length of 123 makes the first byte '{' too, so an
 * index (JSON text) is told apart by the whole preamble, not the first byte. */
static int safetensors_head(const unsigned char *head, size_t got)
{
    if (got < 9 || head[8] != '{')
        return 0;
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--)
        n = n << 8 | head[i];
    return n >= 2 && n < ((uint64_t)1 << 32); /* JSON text has no byte 0 in its first 8 */
}

nninit_status nninit_tensor_file_open(const char *path, nninit_tensor_file **out, nninit_err *err)
{
    if (!path || !out)
        return nninit__err(err, NNINIT_EMISUSE, "nninit_tensor_file_open: path and out must not be NULL");
    *out = NULL;
    nninit_tensor_file *tf = calloc(1, sizeof *tf);
    if (!tf)
        return nninit__err(err, NNINIT_ENOMEM, "out of memory");
    struct stat st;
    nninit_status s;
    if (stat(path, &st) != 0) {
        int e = errno;
        s = nninit__err_open(err, e, path);
    } else if (S_ISDIR(st.st_mode)) {
        tf->format = NNINIT_FORMAT_NPY_DIR;
        s = scan_dir(tf, path, "", 0, err);
        if (!s)
            qsort(tf->t, tf->n, sizeof *tf->t, cmp_entry_name);
        if (!s && tf->n == 0)
            s = nninit__err(err, NNINIT_ENOTFOUND, "%s: folder holds no .npy files", path);
    } else {
        unsigned char head[16] = {0};
        FILE *f = fopen(path, "rb");
        size_t got = 0;
        if (f) {
            got = fread(head, 1, sizeof head, f);
            fclose(f);
        }
        size_t pl = strlen(path);
        if (got >= 6 && !memcmp(head, "\x93NUMPY", 6)) {
            tf->format = NNINIT_FORMAT_NPY;
            const char *base = strrchr(path, '/');
            base = base ? base + 1 : path;
            char *name = nninit__strdup(base);
            if (!name) {
                s = nninit__err(err, NNINIT_ENOMEM, "out of memory");
            } else {
                size_t bl = strlen(name);
                if (bl > 4 && !strcmp(name + bl - 4, ".npy"))
                    name[bl - 4] = '\0';
                s = add_npy(tf, path, name, err);
                free(name);
            }
        } else if (nninit__h5_signature(head, got)) {
            tf->format = NNINIT_FORMAT_WEIGHTS_H5;
            s = nninit__h5_open(tf, path, err);
        } else if (got >= 4 && (!memcmp(head, "PK\x03\x04", 4) || !memcmp(head, "PK\x05\x06", 4))) {
            s = nninit__npz_open(tf, path, err);
        } else if (!safetensors_head(head, got) &&
                   ((got >= 1 && head[0] == '{') || (pl > 5 && !strcmp(path + pl - 5, ".json")))) {
            s = nninit__safetensors_index_open(tf, path, err);
        } else {
            s = nninit__safetensors_open(tf, path, err);
        }
    }
    if (s != NNINIT_OK) {
        nninit_tensor_file_free(tf);
        return s;
    }
    *out = tf;
    return NNINIT_OK;
}

nninit_file_format nninit_tensor_file_format(const nninit_tensor_file *tf) { return tf->format; }
size_t nninit_tensor_file_count(const nninit_tensor_file *tf) { return tf ? tf->n : 0; }

const nninit_tensor_info *nninit_tensor_file_info(const nninit_tensor_file *tf, size_t i)
{
    return tf && i < tf->n ? &tf->t[i].info : NULL;
}

nninit_status nninit_tensor_file_find(const nninit_tensor_file *tf, const char *name, size_t *index,
                                      nninit_err *err)
{
    for (size_t i = 0; tf && name && i < tf->n; i++)
        if (!strcmp(tf->t[i].info.name, name)) {
            *index = i;
            return NNINIT_OK;
        }
    return nninit__err(err, NNINIT_ENOTFOUND, "no tensor named '%.80s'", name ? name : "(null)");
}

const char *nninit_tensor_file_metadata(const nninit_tensor_file *tf, const char *key)
{
    for (size_t i = 0; tf && key && i < tf->n_meta; i++)
        if (!strcmp(tf->meta[2 * i], key))
            return tf->meta[2 * i + 1];
    return NULL;
}

nninit_status nninit_tensor_file_read(nninit_tensor_file *tf, size_t i, void *out, nninit_err *err)
{
    if (!tf || i >= tf->n || (!out && tf->t[i].info.nbytes))
        return nninit__err(err, NNINIT_EMISUSE, "nninit_tensor_file_read: no tensor %zu", i);
    const nninit__tentry *e = &tf->t[i];
    if (tf->format == NNINIT_FORMAT_NPZ || tf->format == NNINIT_FORMAT_NPZ_DEFLATED)
        return nninit__npz_read(tf, e, out, err);
    if (tf->format == NNINIT_FORMAT_WEIGHTS_H5)
        return nninit__h5_read(tf, e, out, err);
    const char *path = tf->files[e->file];
    FILE *f = fopen(path, "rb");
    if (!f) {
        int en = errno;
        return nninit__err_sys(err, en, "%s: cannot open (%s)", path, strerror(en));
    }
    nninit_status s = NNINIT_OK;
    errno = 0;
    if (fseeko(f, (off_t)e->offset, SEEK_SET) != 0 || fread(out, 1, (size_t)e->info.nbytes, f) != e->info.nbytes)
        s = nninit__err(err, NNINIT_EFORMAT, "%s: tensor '%.80s' could not be read (%" PRIu64 " bytes at %" PRIu64
                        "); the file changed or is truncated", path, e->info.name, e->info.nbytes, e->offset);
    fclose(f);
    int bits = nninit_file_dtype_bits(e->info.dtype);
    const uint16_t one = 1;
    unsigned char lo;
    memcpy(&lo, &one, 1);
    int swap = tf->format == NNINIT_FORMAT_SAFETENSORS || tf->format == NNINIT_FORMAT_SAFETENSORS_INDEX
                   ? lo != 1 /* safetensors data is little-endian */
                   : e->swap;
    if (!s && swap && bits > 8)
        nninit__swap_bytes(out, e->info.nbytes * 8 / (uint64_t)bits, (size_t)bits / 8);
    return s;
}
