/* The table of an opened tensor file (entries, data files, metadata) and
 * the helpers the multi-tensor formats share. The order of calls in src/io:
 * atomic.c, dtype.c, npy.c < tfile.c < safetensors.c, npz.c < tensors.c (the
 * dispatcher); nothing calls upward. */
#include "io/internal.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

nninit_status nninit__produce_le(const nninit_tensor_desc *t, size_t i, uint64_t nbytes, nninit_tensor_source src,
                                 void *user, void *buf, nninit_err *err)
{
    nninit_status s = src(user, i, buf, err);
    if (s != NNINIT_OK)
        return s;
    const uint16_t one = 1;
    unsigned char lo;
    memcpy(&lo, &one, 1);
    int bits = nninit_file_dtype_bits(t[i].dtype);
    if (lo != 1 && bits > 8) /* big-endian host */
        nninit__swap_bytes(buf, nbytes * 8 / (uint64_t)bits, (size_t)bits / 8);
    return NNINIT_OK;
}

nninit__src nninit__src_whole(const nninit_tensor_desc *t, nninit_tensor_source src, void *user)
{
    nninit__src s = {t, src, NULL, user, SIZE_MAX, NULL, 0};
    return s;
}

nninit__src nninit__src_pieces(const nninit_tensor_desc *t, nninit__piece_fn fn, void *user)
{
    nninit__src s = {t, NULL, fn, user, SIZE_MAX, NULL, 0};
    return s;
}

uint64_t nninit__src_piece(const nninit__src *s, uint64_t max_bytes)
{
    uint64_t cap = s->piece_max ? s->piece_max : NNINIT__PIECE_BYTES;
    return max_bytes < cap ? max_bytes : cap;
}

void nninit__src_release(nninit__src *s)
{
    free(s->buf);
    s->buf = NULL;
    s->held = SIZE_MAX;
}

nninit_status nninit__src_read(nninit__src *s, size_t i, uint64_t off, void *out, size_t len, nninit_err *err)
{
    if (s->piece)
        return s->piece(s->user, i, off, out, len, err);
    uint64_t numel, nb;
    nninit_status st = nninit__tensor_bytes(s->t[i].name, &s->t[i].shape, s->t[i].dtype, &numel, &nb, err);
    if (st)
        return st;
    if (off == 0 && len == nb) /* the whole tensor: straight into out */
        return nninit__produce_le(s->t, i, nb, s->whole, s->user, out, err);
    if (s->held != i) {
        nninit__src_release(s);
        if (!(s->buf = malloc(nb ? (size_t)nb : 1)))
            return nninit__err(err, NNINIT_ENOMEM, "out of memory for tensor '%s' (%" PRIu64 " bytes)", s->t[i].name,
                               nb);
        if ((st = nninit__produce_le(s->t, i, nb, s->whole, s->user, s->buf, err))) {
            nninit__src_release(s);
            return st;
        }
        s->held = i;
    }
    memcpy(out, s->buf + off, len);
    if (off + len == nb)
        nninit__src_release(s);
    return NNINIT_OK;
}

static int cmp_name_ptr(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

const char *nninit__first_duplicate(const char **names, size_t n)
{
    qsort(names, n, sizeof *names, cmp_name_ptr);
    for (size_t i = 1; i < n; i++)
        if (!strcmp(names[i], names[i - 1]))
            return names[i];
    return NULL;
}

nninit_status nninit__tf_add(nninit_tensor_file *tf, const char *name, nninit__tentry **out, nninit_err *err)
{
    if (tf->n == tf->cap) {
        size_t cap = tf->cap ? 2 * tf->cap : 16;
        nninit__tentry *t = realloc(tf->t, cap * sizeof *t);
        if (!t)
            return nninit__err(err, NNINIT_ENOMEM, "out of memory for %zu tensors", cap);
        tf->t = t;
        tf->cap = cap;
    }
    nninit__tentry *e = &tf->t[tf->n];
    memset(e, 0, sizeof *e);
    char *copy = nninit__strdup(name);
    if (!copy)
        return nninit__err(err, NNINIT_ENOMEM, "out of memory");
    e->info.name = copy;
    tf->n++;
    *out = e;
    return NNINIT_OK;
}

nninit_status nninit__tf_add_file(nninit_tensor_file *tf, const char *path, size_t *idx, nninit_err *err)
{
    char **f = realloc(tf->files, (tf->n_files + 1) * sizeof *f);
    if (!f)
        return nninit__err(err, NNINIT_ENOMEM, "out of memory");
    tf->files = f;
    if (!(f[tf->n_files] = nninit__strdup(path)))
        return nninit__err(err, NNINIT_ENOMEM, "out of memory");
    *idx = tf->n_files++;
    return NNINIT_OK;
}

nninit_status nninit__tf_check_unique(const nninit_tensor_file *tf, const char *what, nninit_err *err)
{
    const char **names = nninit__malloc_array(tf->n ? tf->n : 1, sizeof *names);
    if (!names)
        return nninit__err(err, NNINIT_ENOMEM, "%s: out of memory", what);
    for (size_t i = 0; i < tf->n; i++)
        names[i] = tf->t[i].info.name;
    const char *twice = nninit__first_duplicate(names, tf->n);
    nninit_status s = twice ? nninit__err(err, NNINIT_EFORMAT, "%s: tensor name '%.80s' appears twice", what, twice)
                            : NNINIT_OK;
    free(names);
    return s;
}

void nninit_tensor_file_free(nninit_tensor_file *tf)
{
    if (!tf)
        return;
    for (size_t i = 0; i < tf->n; i++)
        free((char *)tf->t[i].info.name);
    for (size_t i = 0; i < tf->n_files; i++)
        free(tf->files[i]);
    for (size_t i = 0; i < 2 * tf->n_meta; i++)
        free(tf->meta[i]);
    free(tf->t);
    free(tf->files);
    free(tf->meta);
    free(tf);
}
