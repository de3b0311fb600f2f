/* safetensors: the layout of huggingface/safetensors safetensors/src/tensor.rs
 * (`prepare`, `serialize_to_file`, `read_metadata`, `Metadata::validate`),
 * and the Hugging Face sharded index (huggingface_hub serialization/_base.py). */
#include "io/internal.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define ST_MAX_HEADER 100000000u /* MAX_HEADER_SIZE in tensor.rs */

/* The header is built with the library's growable string (core/strbuf.c);
 * its JSON strings are escaped as serde_json writes them (nninit_json_quote). */
static void sb_u64(nninit__sb *b, uint64_t v) { nninit__sb_printf(b, "%" PRIu64, v); }

/* ---- writer ---- */

/* Descending dtype rank, then name (byte order, as Rust's str Ord). */
static int cmp_order(const nninit_tensor_desc *a, const nninit_tensor_desc *b)
{
    int ra = nninit__file_dtype_rank(a->dtype), rb = nninit__file_dtype_rank(b->dtype);
    if (ra != rb)
        return ra > rb ? -1 : 1;
    return strcmp(a->name, b->name);
}

typedef struct ranked {
    const nninit_tensor_desc *d;
    size_t i;
} ranked;

/* Ties (only equal names, which callers refuse) keep the given order: the
 * result is the stable sort's. */
static int cmp_ranked(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    int c = cmp_order(x->d, y->d);
    return c ? c : (x->i > y->i) - (x->i < y->i);
}

static int cmp_ranked_name(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    int c = strcmp(x->d->name, y->d->name);
    return c ? c : (x->i > y->i) - (x->i < y->i);
}

/* idx[0..k) sorted by cmp in O(k log k) (an insertion sort took 20 s on a
 * 100k-layer model); 0, or -1 out of memory. */
static int sort_indices(const nninit_tensor_desc *t, size_t *idx, size_t k, int (*cmp)(const void *, const void *))
{
    ranked *r = nninit__malloc_array(k ? k : 1, sizeof *r);
    if (!r)
        return -1;
    for (size_t i = 0; i < k; i++) {
        r[i].d = &t[idx[i]];
        r[i].i = idx[i];
    }
    qsort(r, k, sizeof *r, cmp);
    for (size_t i = 0; i < k; i++)
        idx[i] = r[i].i;
    free(r);
    return 0;
}

static int cmp_cstr(const void *a, const void *b)
{
    return strcmp(**(const char *const *const *)a, **(const char *const *const *)b);
}

nninit_status nninit__safetensors_header(const char *path, const nninit_tensor_desc *t, const size_t *idx_in,
                                         size_t k, const char *const *metadata, nninit__sb *h, size_t *idx,
                                         uint64_t *sizes, nninit_err *err)
{
    nninit_status s = NNINIT_OK;
    size_t n_meta = 0;
    while (metadata && metadata[2 * n_meta])
        n_meta++;
    const char *const **mkeys = nninit__malloc_array(n_meta + 1, sizeof *mkeys);
    if (!mkeys) {
        s = nninit__err(err, NNINIT_ENOMEM, "%s: out of memory", path);
        goto done;
    }
    memcpy(idx, idx_in, k * sizeof *idx);
    if (sort_indices(t, idx, k, cmp_ranked)) {
        s = nninit__err(err, NNINIT_ENOMEM, "%s: out of memory", path);
        goto done;
    }
    for (size_t i = 0; i < k; i++) {
        uint64_t numel;
        if ((s = nninit__tensor_bytes(t[idx[i]].name, &t[idx[i]].shape, t[idx[i]].dtype, &numel, &sizes[i], err)))
            goto done;
    }
    /* Header: __metadata__ first (keys sorted, since the reference's
     * HashMap order is arbitrary; absent when the caller gave an empty
     * list, {"format":"pt"} when it gave none), then the tensors in data
     * order with fields dtype, shape, data_offsets. */
    static const char *const fmt_pt[3] = {"format", "pt", NULL};
    if (!metadata) {
        metadata = fmt_pt;
        n_meta = 1;
    }
    for (size_t i = 0; i < n_meta; i++)
        mkeys[i] = metadata + 2 * i;
    qsort(mkeys, n_meta, sizeof *mkeys, cmp_cstr);
    nninit__sb_str(h, "{");
    if (n_meta) {
        nninit__sb_str(h, "\"__metadata__\":{");
        for (size_t i = 0; i < n_meta; i++) {
            if (i)
                nninit__sb_str(h, ",");
            nninit__sb_json_str(h, mkeys[i][0]);
            nninit__sb_str(h, ":");
            nninit__sb_json_str(h, mkeys[i][1]);
        }
        nninit__sb_str(h, "}");
    }
    uint64_t off = 0;
    for (size_t i = 0; i < k; i++) {
        const nninit_tensor_desc *d = &t[idx[i]];
        if (n_meta || i)
            nninit__sb_str(h, ",");
        nninit__sb_json_str(h, d->name);
        nninit__sb_str(h, ":{\"dtype\":\"");
        nninit__sb_str(h, nninit_file_dtype_name(d->dtype));
        nninit__sb_str(h, "\",\"shape\":[");
        for (int j = 0; j < d->shape.ndim; j++) {
            if (j)
                nninit__sb_str(h, ",");
            sb_u64(h, (uint64_t)d->shape.dim[j]);
        }
        nninit__sb_str(h, "],\"data_offsets\":[");
        sb_u64(h, off);
        nninit__sb_str(h, ",");
        off += sizes[i];
        sb_u64(h, off);
        nninit__sb_str(h, "]}");
    }
    nninit__sb_str(h, "}");
    /* Pad with spaces so the data starts at a multiple of 8 (PR #148). */
    while (!h->oom && h->len % 8)
        nninit__sb_str(h, " ");
    if (h->oom) {
        s = nninit__err(err, NNINIT_ENOMEM, "%s: out of memory for the header", path);
        goto done;
    }
    if (h->len > ST_MAX_HEADER)
        s = nninit__err(err, NNINIT_EINVAL, "%s: header of %zu bytes exceeds the safetensors limit of %u; "
                        "split the tensors into shards", path, h->len, ST_MAX_HEADER);
done:
    free(mkeys);
    return s;
}

nninit_status nninit__safetensors_write(const char *path, const nninit_tensor_desc *t, const size_t *idx_in,
                                        size_t k, const char *const *metadata, nninit__src *src,
                                        nninit__atomic *staged, nninit_err *err)
{
    nninit_status s = NNINIT_OK;
    size_t *idx = nninit__malloc_array(k ? k : 1, sizeof *idx);
    uint64_t *sizes = nninit__malloc_array(k ? k : 1, sizeof *sizes);
    nninit__sb h = NNINIT__SB_INIT;
    void *buf = NULL;
    nninit__atomic local = {0}, *ap = staged ? staged : &local;
    local.fd = -1;
    if (!idx || !sizes) {
        s = nninit__err(err, NNINIT_ENOMEM, "%s: out of memory", path);
        goto done;
    }
    if ((s = nninit__safetensors_header(path, t, idx_in, k, metadata, &h, idx, sizes, err)))
        goto done;
    uint64_t max_bytes = 0;
    for (size_t i = 0; i < k; i++)
        if (sizes[i] > max_bytes)
            max_bytes = sizes[i];
    max_bytes = nninit__src_piece(src, max_bytes);
    buf = malloc(max_bytes ? (size_t)max_bytes : 1);
    if (!buf) {
        s = nninit__err(err, NNINIT_ENOMEM, "%s: out of memory for %" PRIu64 " bytes", path, max_bytes);
        goto done;
    }
    unsigned char n8[8];
    for (int i = 0; i < 8; i++)
        n8[i] = (unsigned char)((uint64_t)h.len >> (8 * i));
    if ((s = staged ? nninit__atomic_open_deferred(ap, path, err) : nninit__atomic_open(ap, path, err)) ||
        (s = nninit__atomic_write(ap, n8, 8, err)) || (s = nninit__atomic_write(ap, h.p, h.len, err)))
        goto done;
    for (size_t i = 0; i < k; i++)
        for (uint64_t off = 0; off < sizes[i]; off += max_bytes) {
            size_t len = (size_t)(sizes[i] - off < max_bytes ? sizes[i] - off : max_bytes);
            if ((s = nninit__src_read(src, idx[i], off, buf, len, err)) ||
                (s = nninit__atomic_write(ap, buf, len, err)))
                goto done;
        }
    s = nninit__atomic_commit(ap, err);
done:
    if (!staged || s != NNINIT_OK)
        nninit__atomic_abort(ap);
    free(buf);
    free(h.p);
    free(sizes);
    free(idx);
    return s;
}

/* ---- reader ---- */

static nninit_status st_bad(const char *path, nninit_err *err, const char *fmt, const char *name)
{
    char m[200];
    snprintf(m, sizeof m, fmt, name ? name : "");
    return nninit__err(err, NNINIT_EFORMAT, "%s: %s", path, m);
}

typedef struct span {
    uint64_t b, e;
    size_t i;
} span;

static int cmp_span(const void *x, const void *y)
{
    const span *a = x, *b = y;
    if (a->b != b->b)
        return a->b < b->b ? -1 : 1;
    return a->e < b->e ? -1 : a->e > b->e;
}

/* A non-negative JSON integer (serde's usize). */
static int get_u64(json_t *v, uint64_t *out)
{
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return 0;
    *out = (uint64_t)json_integer_value(v);
    return 1;
}

static nninit_status parse_header(nninit_tensor_file *tf, const char *path, size_t file_idx, const char *hdr,
                                  size_t hlen, uint64_t file_size, int keep_meta, nninit_err *err)
{
    json_error_t je;
    /* JSON_REJECT_DUPLICATES: the README forbids duplicate names, but the
     * reference reports them only as a misleading InvalidOffset (#401). */
    json_t *root = json_loadb(hdr, hlen, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return nninit__err(err, NNINIT_EFORMAT, "%s: header is not valid JSON (%s at byte %d); expected a "
                           "safetensors file", path, je.text, je.position);
    nninit_status s = NNINIT_OK;
    size_t first = tf->n, count = 0;
    span *sp = NULL;
    if (!json_is_object(root)) {
        s = st_bad(path, err, "header is not a JSON object%s", NULL);
        goto done;
    }
    sp = nninit__malloc_array(json_object_size(root) + 1, sizeof *sp);
    if (!sp) {
        s = nninit__err(err, NNINIT_ENOMEM, "%s: out of memory", path);
        goto done;
    }
    const char *key;
    json_t *val;
    json_object_foreach(root, key, val) {
        if (!strcmp(key, "__metadata__")) {
            if (!json_is_object(val)) {
                s = st_bad(path, err, "__metadata__ is not an object of strings%s", NULL);
                goto done;
            }
            const char *mk;
            json_t *mv;
            json_object_foreach(val, mk, mv) {
                if (!json_is_string(mv)) {
                    s = st_bad(path, err, "__metadata__ value for '%.60s' is not a string", mk);
                    goto done;
                }
                if (keep_meta) {
                    char **m = realloc(tf->meta, (tf->n_meta + 1) * 2 * sizeof *m);
                    if (!m) {
                        s = nninit__err(err, NNINIT_ENOMEM, "%s: out of memory", path);
                        goto done;
                    }
                    tf->meta = m;
                    m[2 * tf->n_meta] = nninit__strdup(mk);
                    m[2 * tf->n_meta + 1] = nninit__strdup(json_string_value(mv));
                    tf->n_meta++;
                    if (!m[2 * tf->n_meta - 2] || !m[2 * tf->n_meta - 1]) {
                        s = nninit__err(err, NNINIT_ENOMEM, "%s: out of memory", path);
                        goto done;
                    }
                }
            }
            continue;
        }
        if (!json_is_object(val)) {
            s = st_bad(path, err, "entry '%.80s' is not an object", key);
            goto done;
        }
        json_t *jd = json_object_get(val, "dtype"), *js = json_object_get(val, "shape"),
               *jo = json_object_get(val, "data_offsets");
        nninit_file_dtype dt;
        if (!json_is_string(jd) || nninit_file_dtype_parse(json_string_value(jd), &dt, NULL) != NNINIT_OK) {
            s = st_bad(path, err, "tensor '%.80s' has a missing or unknown dtype", key);
            goto done;
        }
        if (!json_is_array(js)) {
            s = st_bad(path, err, "tensor '%.80s' has no shape array", key);
            goto done;
        }
        if (json_array_size(js) > NNINIT_MAX_DIMS) {
            s = nninit__err(err, NNINIT_EUNSUPPORTED, "%s: tensor '%.80s' has %zu dimensions; nninit supports at "
                            "most %d", path, key, json_array_size(js), NNINIT_MAX_DIMS);
            goto done;
        }
        nninit_shape shape = {(int)json_array_size(js), {0}};
        for (int i = 0; i < shape.ndim; i++) {
            uint64_t d;
            if (!get_u64(json_array_get(js, (size_t)i), &d)) {
                s = st_bad(path, err, "tensor '%.80s' has a shape entry that is not a non-negative integer", key);
                goto done;
            }
            shape.dim[i] = (int64_t)d;
        }
        uint64_t b, e;
        if (!json_is_array(jo) || json_array_size(jo) != 2 || !get_u64(json_array_get(jo, 0), &b) ||
            !get_u64(json_array_get(jo, 1), &e)) {
            s = st_bad(path, err, "tensor '%.80s' needs data_offsets [begin, end] of non-negative integers", key);
            goto done;
        }
        uint64_t numel, nbytes;
        char what[160];
        snprintf(what, sizeof what, "%s: tensor '%.80s'", path, key);
        if ((s = nninit__tensor_bytes(what, &shape, dt, &numel, &nbytes, err)) != NNINIT_OK) {
            if (s == NNINIT_EINVAL) { /* e.g. sub-byte elements not filling whole bytes */
                if (err)
                    err->code = NNINIT_EFORMAT;
                s = NNINIT_EFORMAT;
            }
            goto done;
        }
        if (e < b || e - b != nbytes) {
            s = nninit__err(err, NNINIT_EFORMAT, "%s: tensor '%.80s' has data_offsets [%" PRIu64 ", %" PRIu64
                            "] for %" PRIu64 " bytes of %s %s", path, key, b, e, nbytes,
                            nninit_file_dtype_name(dt), "data; they must differ by exactly that");
            goto done;
        }
        nninit__tentry *te;
        if ((s = nninit__tf_add(tf, key, &te, err)) != NNINIT_OK)
            goto done;
        te->info.dtype = dt;
        te->info.shape = shape;
        te->info.nbytes = nbytes;
        te->file = file_idx;
        te->info.file = tf->files[file_idx];
        te->offset = b; /* made absolute below */
        sp[count].b = b;
        sp[count].e = e;
        sp[count].i = tf->n - 1;
        count++;
    }
    /* Offsets must tile the buffer exactly: sorted by begin, each tensor
     * starts where the previous ended (no overlap, no hole), and the last
     * ends at the end of the file (no trailing bytes). */
    qsort(sp, count, sizeof *sp, cmp_span);
    uint64_t end = 0;
    for (size_t i = 0; i < count; i++) {
        if (sp[i].b != end) {
            const char *nm = tf->t[sp[i].i].info.name;
            s = nninit__err(err, NNINIT_EFORMAT, "%s: tensor '%.80s' starts at byte %" PRIu64 " of the data, "
                            "expected %" PRIu64 "; tensors must not overlap or leave holes", path, nm, sp[i].b, end);
            goto done;
        }
        end = sp[i].e;
    }
    uint64_t data_start = 8 + (uint64_t)hlen;
    if (data_start + end != file_size) {
        s = nninit__err(err, NNINIT_EFORMAT, "%s: header describes %" PRIu64 " bytes of data, file has %" PRIu64
                        "; the file is %s", path, end, file_size - data_start,
                        data_start + end > file_size ? "truncated" : "followed by extra bytes");
        goto done;
    }
    for (size_t i = first; i < tf->n; i++)
        tf->t[i].offset += data_start;
    /* File order: by offset. */
    for (size_t i = 0; i < count; i++)
        sp[i].i -= first;
    nninit__tentry *sorted = nninit__malloc_array(count ? count : 1, sizeof *sorted);
    if (!sorted) {
        s = nninit__err(err, NNINIT_ENOMEM, "%s: out of memory", path);
        goto done;
    }
    for (size_t i = 0; i < count; i++)
        sorted[i] = tf->t[first + sp[i].i];
    memcpy(tf->t + first, sorted, count * sizeof *sorted);
    free(sorted);
done:
    free(sp);
    json_decref(root);
    return s;
}

/* Reads the 8-byte length and the header of `path`, validated as the
 * reference's read_metadata does, and appends its tensors. */
static nninit_status open_one(nninit_tensor_file *tf, const char *path, int keep_meta, nninit_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        int e = errno;
        return nninit__err_open(err, e, path);
    }
    nninit_status s = NNINIT_OK;
    char *hdr = NULL;
    struct stat st;
    unsigned char n8[8];
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        s = nninit__err(err, NNINIT_EINVAL, "%s: not a regular file", path);
        goto done;
    }
    uint64_t size = (uint64_t)st.st_size;
    if (size < 8 || fread(n8, 1, 8, f) != 8) {
        s = nninit__err(err, NNINIT_EFORMAT, "%s: %" PRIu64 " bytes is too small for a safetensors file "
                        "(8-byte header length first)", path, size);
        goto done;
    }
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--)
        n = n << 8 | n8[i];
    if (n > ST_MAX_HEADER) {
        s = nninit__err(err, NNINIT_EFORMAT, "%s: header length %" PRIu64 " exceeds the safetensors limit of %u "
                        "bytes; not a safetensors file?", path, n, ST_MAX_HEADER);
        goto done;
    }
    if (n > size - 8) {
        s = nninit__err(err, NNINIT_EFORMAT, "%s: header length %" PRIu64 " runs past the end of the %" PRIu64
                        "-byte file", path, n, size);
        goto done;
    }
    hdr = malloc(n ? (size_t)n : 1);
    if (!hdr) {
        s = nninit__err(err, NNINIT_ENOMEM, "%s: out of memory", path);
        goto done;
    }
    if (fread(hdr, 1, (size_t)n, f) != (size_t)n) {
        s = nninit__err_sys(err, errno ? errno : EIO, "%s: read failed in the header", path);
        goto done;
    }
    size_t fi;
    if ((s = nninit__tf_add_file(tf, path, &fi, err)) != NNINIT_OK)
        goto done;
    s = parse_header(tf, path, fi, hdr, (size_t)n, size, keep_meta, err);
done:
    free(hdr);
    fclose(f);
    return s;
}

nninit_status nninit__safetensors_open(nninit_tensor_file *tf, const char *path, nninit_err *err)
{
    tf->format = NNINIT_FORMAT_SAFETENSORS;
    return open_one(tf, path, 1, err);
}

/* model.safetensors.index.json: {"metadata": {...}, "weight_map": {name:
 * shard}}. Shards are read from the index's folder; each must hold exactly
 * the tensors the map assigns to it (the index is an allow-list). */
nninit_status nninit__safetensors_index_open(nninit_tensor_file *tf, const char *path, nninit_err *err)
{
    tf->format = NNINIT_FORMAT_SAFETENSORS_INDEX;
    json_error_t je;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return nninit__err(err, NNINIT_EFORMAT, "%s: not valid JSON (%s, line %d); expected a "
                           "model.safetensors.index.json", path, je.text, je.line);
    nninit_status s = NNINIT_OK;
    json_t *wm = json_object_get(root, "weight_map");
    char *dir = NULL;
    const char **shards = NULL;
    size_t n_shards = 0;
    if (!json_is_object(root) || !json_is_object(wm)) {
        s = nninit__err(err, NNINIT_EFORMAT, "%s: no \"weight_map\" object; expected {\"metadata\": {...}, "
                        "\"weight_map\": {\"name\": \"model-00001-of-00002.safetensors\", ...}}", path);
        goto done;
    }
    const char *slash = strrchr(path, '/');
    size_t dlen = slash ? (size_t)(slash - path) + 1 : 0;
    shards = nninit__malloc_array(json_object_size(wm) + 1, sizeof *shards);
    if (!shards) {
        s = nninit__err(err, NNINIT_ENOMEM, "%s: out of memory", path);
        goto done;
    }
    const char *key;
    json_t *val;
    json_object_foreach(wm, key, val) {
        const char *shard = json_string_value(val);
        if (!shard || !shard[0] || strchr(shard, '/') || !strcmp(shard, ".") || !strcmp(shard, "..")) {
            s = nninit__err(err, NNINIT_EFORMAT, "%s: weight_map entry '%.80s' is not a file name in the index's "
                            "folder", path, key);
            goto done;
        }
        size_t j = 0;
        while (j < n_shards && strcmp(shards[j], shard))
            j++;
        if (j == n_shards)
            shards[n_shards++] = shard;
    }
    for (size_t j = 0; j < n_shards; j++) {
        size_t sl = strlen(shards[j]);
        dir = malloc(dlen + sl + 1);
        if (!dir) {
            s = nninit__err(err, NNINIT_ENOMEM, "%s: out of memory", path);
            goto done;
        }
        memcpy(dir, path, dlen);
        memcpy(dir + dlen, shards[j], sl + 1);
        size_t before = tf->n;
        if ((s = open_one(tf, dir, j == 0, err)) != NNINIT_OK)
            goto done;
        for (size_t i = before; i < tf->n; i++) {
            json_t *want = json_object_get(wm, tf->t[i].info.name);
            if (!want || strcmp(json_string_value(want), shards[j])) {
                s = nninit__err(err, NNINIT_EFORMAT, "%s: tensor '%.80s' is not mapped to this shard by %s", dir,
                                tf->t[i].info.name, path);
                goto done;
            }
        }
        free(dir);
        dir = NULL;
    }
    if (tf->n != json_object_size(wm)) {
        s = nninit__err(err, NNINIT_EFORMAT, "%s: weight_map names %zu tensors, the shards hold %zu", path,
                        json_object_size(wm), tf->n);
        goto done;
    }
    s = nninit__tf_check_unique(tf, path, err);
done:
    free(dir);
    free(shards);
    json_decref(root);
    return s;
}

/* ---- the sharded index ---- */

nninit_status nninit__safetensors_index_write(const char *path, const nninit_tensor_desc *t, size_t n,
                                              const size_t *shard_of, size_t n_shards, const char *const *names,
                                              uint64_t total_size, nninit__atomic *staged, nninit_err *err)
{
    /* json.dumps(index, indent=2, sort_keys=True) + "\n", as transformers'
     * save_pretrained writes it. */
    nninit__sb b = NNINIT__SB_INIT;
    const char **keys = nninit__malloc_array(n ? n : 1, sizeof *keys);
    size_t *order = nninit__malloc_array(n ? n : 1, sizeof *order);
    nninit_status s = NNINIT_OK;
    (void)n_shards;
    if (!keys || !order) {
        s = nninit__err(err, NNINIT_ENOMEM, "%s: out of memory", path);
        goto done;
    }
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    if (sort_indices(t, order, n, cmp_ranked_name)) { /* by name */
        s = nninit__err(err, NNINIT_ENOMEM, "%s: out of memory", path);
        goto done;
    }
    nninit__sb_str(&b, "{\n  \"metadata\": {\n    \"total_size\": ");
    sb_u64(&b, total_size);
    nninit__sb_str(&b, "\n  },\n  \"weight_map\": {");
    for (size_t i = 0; i < n; i++) {
        nninit__sb_str(&b, i ? ",\n    " : "\n    ");
        nninit__sb_json_str(&b, t[order[i]].name);
        nninit__sb_str(&b, ": ");
        nninit__sb_json_str(&b, names[shard_of[order[i]]]);
    }
    nninit__sb_str(&b, n ? "\n  }\n}\n" : "}\n}\n");
    if (b.oom) {
        s = nninit__err(err, NNINIT_ENOMEM, "%s: out of memory", path);
        goto done;
    }
    nninit__atomic local, *ap = staged ? staged : &local;
    if ((s = staged ? nninit__atomic_open_deferred(ap, path, err) : nninit__atomic_open(ap, path, err)) ||
        (s = nninit__atomic_write(ap, b.p, b.len, err)))
        goto done;
    s = nninit__atomic_commit(ap, err);
    if (s != NNINIT_OK)
        nninit__atomic_abort(ap);
done:
    free(b.p);
    free(keys);
    free(order);
    return s;
}
