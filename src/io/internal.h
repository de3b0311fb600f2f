/*
 * File layer: atomic outputs, .npy, safetensors, npz, element types.
 * Depends on core (zlib and jansson for npz and safetensors).
 * Private to src/ (never installed); names are nninit__*, hidden from the
 * shared library by -fvisibility=hidden.
 */
#ifndef NNINIT_IO_INTERNAL_H
#define NNINIT_IO_INTERNAL_H

#include "core/internal.h"
#include "nninit_io.h"

#include <stdio.h>

/* ---- file output and tensor files (io_atomic.c, io_npy.c) ---- */


/* An output file, as cp and curl -o treat it (docs/files.md): a regular file
 * or a new name is written to a temporary sibling ".NAME.tmp.PID.N", fsync'd
 * and renamed over it by commit, keeping an existing file's mode and (where
 * permitted) owner; a symlink is followed and its target replaced so; "-"
 * (stdout), a FIFO, a character or block device are written in place,
 * streaming. Any failed write or commit removes the temporary and leaves the
 * target untouched; after a failure or a commit the object holds nothing
 * (abort is then a no-op). */
typedef struct nninit__atomic {
    FILE *f;
    int fd;
    char *path, *tmp; /* path: as given; tmp: NULL when written in place */
    char *target;     /* the file replaced: path, or where its symlink(s) lead */
    int in_place;     /* "-" (stdout), a FIFO, a device or a socket: streamed, never renamed */
    int deferred;     /* commit closes the temporary but leaves the rename to publish */
    uint64_t written; /* bytes accepted so far (for error messages) */
} nninit__atomic;

nninit_status nninit__atomic_open(nninit__atomic *a, const char *path, nninit_err *err);
nninit_status nninit__atomic_write(nninit__atomic *a, const void *buf, size_t n, nninit_err *err);
nninit_status nninit__atomic_commit(nninit__atomic *a, nninit_err *err);
void nninit__atomic_abort(nninit__atomic *a); /* removes the temporary; NULL or done: no-op */
/* Multi-file outputs (shards + index, npy folders) all-or-nothing: every file
 * opened deferred is written and committed (fsync'd, closed, still under its
 * temporary name); only when all succeeded does publish rename each into
 * place, the index last; on any failure abort removes every temporary, so
 * nothing under the final names changes. */
nninit_status nninit__atomic_open_deferred(nninit__atomic *a, const char *path, nninit_err *err);
nninit_status nninit__atomic_publish(nninit__atomic *a, nninit_err *err);

/* Element count and byte size of a stored tensor: like nninit_shape_numel
 * but dimensions of 0 are allowed (files may hold empty tensors).
 * `what` names the file in messages. NNINIT_EINVAL / NNINIT_EOVERFLOW. */
nninit_status nninit__tensor_bytes(const char *what, const nninit_shape *shape, nninit_file_dtype dtype,
                                   uint64_t *numel, uint64_t *nbytes, nninit_err *err);

/* The complete .npy v1.0 header NumPy 1.24 writes for (dtype, shape), into
 * buf (cap >= 256 is always enough for 8 dims); *len gets its length, a
 * multiple of 64. BF16 is stored as '<u2' (NumPy has no bfloat16). */
nninit_status nninit__npy_header(nninit_file_dtype dtype, const nninit_shape *shape, char *buf, size_t cap,
                                 size_t *len, nninit_err *err);
/* Parses the preamble and header of a .npy image of `len` bytes of which
 * the first `avail` are in buf (any file dtype with a NumPy descr):
 * *data_off is where the data starts; the data size is checked against len
 * exactly. *swap: stored big-endian. */
nninit_status nninit__npy_parse_header(const char *what, const void *buf, size_t avail, uint64_t len,
                                       nninit_file_dtype *dtype,
                                       nninit_shape *shape, uint64_t *data_off, uint64_t *nbytes, int *swap,
                                       nninit_err *err);
void nninit__swap_bytes(void *data, uint64_t numel, size_t width);

/* ---- element types (io_dtype.c) ---- */
int nninit__file_dtype_rank(nninit_file_dtype d);          /* safetensors enum order; -1 invalid */
const char *nninit__file_dtype_npy(nninit_file_dtype d);   /* "<f4", or NULL */
/* descr -> dtype; 0 if not one nninit reads. '<u2' means BF16 (nninit's convention). */
int nninit__file_dtype_from_npy(const char *descr, nninit_file_dtype *out, int *swap);
uint16_t nninit__to_f16(double x);  /* round to nearest even, once */
uint16_t nninit__to_bf16(double x);
double nninit__from_f16(uint16_t h);
double nninit__from_bf16(uint16_t h);

/* ---- tensor files: tfile.c (table) < safetensors.c, npz.c < tensors.c (dispatch) ---- */

typedef struct nninit__tentry {
    nninit_tensor_info info;
    size_t file;          /* index into tf->files */
    uint64_t offset;      /* safetensors: absolute data offset; npz: member data offset */
    int swap;             /* npy/npz: stored big-endian */
    /* npz members */
    int method;           /* 0 stored, 8 deflated */
    uint64_t csize, usize, npy_off; /* npy_off: tensor data offset inside the member */
    uint32_t crc;
} nninit__tentry;

struct nninit_tensor_file {
    nninit_file_format format;
    size_t n, cap;
    nninit__tentry *t;
    char **files;         /* paths of the files holding the data */
    size_t n_files;
    char **meta;          /* key, value pairs (safetensors __metadata__) */
    size_t n_meta;
};

/* The table (tfile.c), below the format files; the dispatcher (tensors.c)
 * is above them. Appends an entry (name copied); NNINIT_ENOMEM. */
nninit_status nninit__tf_add(nninit_tensor_file *tf, const char *name, nninit__tentry **out, nninit_err *err);
/* Appends a file path (copied); returns its index via *idx. */
nninit_status nninit__tf_add_file(nninit_tensor_file *tf, const char *path, size_t *idx, nninit_err *err);
/* Sorts names[0..n) and returns one that appears twice, or NULL. */
const char *nninit__first_duplicate(const char **names, size_t n);
/* Rejects a name already present (n log n; used after loading). */
nninit_status nninit__tf_check_unique(const nninit_tensor_file *tf, const char *what, nninit_err *err);

/* Readers filling tf (opened by nninit_tensor_file_open). `buf`: the
 * first bytes of the file (for format detection), `size`: its size. */
nninit_status nninit__safetensors_open(nninit_tensor_file *tf, const char *path, nninit_err *err);
nninit_status nninit__safetensors_index_open(nninit_tensor_file *tf, const char *path, nninit_err *err);
nninit_status nninit__npz_open(nninit_tensor_file *tf, const char *path, nninit_err *err);
nninit_status nninit__npz_read(nninit_tensor_file *tf, const nninit__tentry *e, void *out, nninit_err *err);

/* Member `member` of the zip archive at path (stored or deflated, CRC
 * checked, at most max bytes), NUL-terminated; free with free(). */
nninit_status nninit__zip_read_member(const char *path, const char *member, size_t max, char **data, size_t *len,
                                      nninit_err *err);
/* The tensors' bytes as the streaming writers (safetensors, npz, npy-dir,
 * in file order) read them: each tensor's bytes from its first to its last,
 * in pieces of at most NNINIT__PIECE_BYTES, little-endian. Behind it either
 * the public whole-tensor source (called once per tensor, whose buffer is
 * held until the tensor's last piece: the memory that API promises) or a
 * piece source (called once per piece: bounded memory whatever the sizes;
 * it delivers little-endian bytes). */
#define NNINIT__PIECE_BYTES ((size_t)16 << 20)
typedef nninit_status (*nninit__piece_fn)(void *user, size_t index, uint64_t off, void *out, size_t len,
                                          nninit_err *err);
typedef struct nninit__src {
    const nninit_tensor_desc *t;
    nninit_tensor_source whole;
    nninit__piece_fn piece;
    void *user;
    size_t held;            /* whole: the tensor in buf (SIZE_MAX: none) */
    unsigned char *buf;
    size_t piece_max;       /* bytes per piece, a multiple of 8; 0 = NNINIT__PIECE_BYTES (tests set it small) */
} nninit__src;
nninit__src nninit__src_whole(const nninit_tensor_desc *t, nninit_tensor_source src, void *user);
nninit__src nninit__src_pieces(const nninit_tensor_desc *t, nninit__piece_fn fn, void *user);
/* Bytes [off, off + len) of tensor i, little-endian (len a multiple of the
 * element size, off too). */
nninit_status nninit__src_read(nninit__src *s, size_t i, uint64_t off, void *out, size_t len, nninit_err *err);
void nninit__src_release(nninit__src *s);
/* The piece size for tensors of up to max_bytes: min(max_bytes, piece_max). */
uint64_t nninit__src_piece(const nninit__src *s, uint64_t max_bytes);
/* nninit_tensors_write from a piece source (the model writer's file-order path). */
nninit_status nninit__tensors_write_src(const char *path, const nninit_tensor_desc *t, size_t n,
                                        const nninit_write_opts *opts, nninit__src *src, nninit_err *err);

/* Writers: tensors t[idx[0..k)] into one file; with `staged` the file is
 * opened deferred into it and left for nninit__atomic_publish. */
nninit_status nninit__safetensors_write(const char *path, const nninit_tensor_desc *t, const size_t *idx,
                                        size_t k, const char *const *metadata, nninit__src *src,
                                        nninit__atomic *staged, nninit_err *err);
/* model.safetensors.index.json for shards names[0..n_shards); tensor i is
 * in shard shard_of[i]. */
nninit_status nninit__safetensors_index_write(const char *path, const nninit_tensor_desc *t, size_t n,
                                              const size_t *shard_of, size_t n_shards, const char *const *names,
                                              uint64_t total_size, nninit__atomic *staged, nninit_err *err);
/* The safetensors header of tensors t[idx_in[0..k)] as nninit__safetensors_write
 * writes it (padded to a multiple of 8) into h; idx[0..k) gets the data order,
 * sizes[0..k) each one's bytes in that order. */
nninit_status nninit__safetensors_header(const char *path, const nninit_tensor_desc *t, const size_t *idx_in,
                                         size_t k, const char *const *metadata, nninit__sb *h, size_t *idx,
                                         uint64_t *sizes, nninit_err *err);
/* Hugging Face's shard split for max_shard bytes (tensors.c): shard_of[i]
 * for each tensor; returns the shard count, *total the data bytes. */
size_t nninit__shard_assign(const nninit_tensor_desc *t, size_t n, uint64_t max_shard, size_t *shard_of,
                            uint64_t *total);
/* order[first[j]..first[j+1]): the tensors of shard j in model order, for
 * j < n_shards (first has n_shards + 1 entries). */
void nninit__shard_order(const size_t *shard_of, size_t n, size_t n_shards, size_t *order, size_t *first);
/* Hugging Face's name of shard j (from 0) of n beside path,
 * "BASE-0000j-of-0000n.safetensors" (BASE: path's file name without
 * .safetensors), malloc'd (NULL: out of memory); *dlen: the length of path's
 * folder part with its '/'. */
char *nninit__shard_name(const char *path, size_t j, size_t n, size_t *dlen);
/* After a sharded write of n shards: removes BASE-0000j-of-0000m.safetensors
 * with m != n beside path. */
void nninit__remove_other_shards(const char *path, size_t n);
/* The checks nninit_tensors_write makes on names and sizes (as_paths: npy-dir). */
nninit_status nninit__check_names(const char *path, const nninit_tensor_desc *t, size_t n, int as_paths,
                                  nninit_err *err);
/* In file order, pieces at a time: a temporary file gets each local header
 * written first and completed (CRC, compressed size) once the member's data
 * is; a stream (stdout, a FIFO) cannot go back, so its members carry the
 * CRC and sizes in a data descriptor after the data (general purpose bit 3),
 * which zip readers (Python's zipfile, numpy.load) take from the central
 * directory. */
nninit_status nninit__npz_write(const char *path, const nninit_tensor_desc *t, size_t n, int deflate,
                                nninit__src *src, nninit_err *err);
/* A stored npz laid out before its data exists: member i's tensor data
 * starts at data_off[i], the file has *size bytes; plan_write writes every
 * byte but the data into fd (local headers with the members' CRCs from
 * data_crc[i], the CRC-32 of tensor i's data, npy headers, the central
 * directory). t must outlive the plan. */
typedef struct nninit__npz_plan nninit__npz_plan;
nninit_status nninit__npz_plan_new(const char *path, const nninit_tensor_desc *t, size_t n, uint64_t *data_off,
                                   uint64_t *size, nninit__npz_plan **out, nninit_err *err);
nninit_status nninit__npz_plan_write(nninit__npz_plan *p, int fd, const char *path, const uint32_t *data_crc,
                                     nninit_err *err);
void nninit__npz_plan_free(nninit__npz_plan *p);
/* HDF5 (h5.c): datasets at the tensor names (paths such as
 * "layers/dense/vars/0"), metadata as root attributes; without libhdf5 all
 * three return NNINIT_EUNSUPPORTED with how to get it. */
int nninit__h5_signature(const unsigned char *head, size_t got);
nninit_status nninit__h5_write(const char *path, const nninit_tensor_desc *t, size_t n,
                               const char *const *metadata, nninit_tensor_source src, void *user, nninit_err *err);
nninit_status nninit__h5_open(nninit_tensor_file *tf, const char *path, nninit_err *err);
nninit_status nninit__h5_read(nninit_tensor_file *tf, const nninit__tentry *e, void *out, nninit_err *err);
/* Produces tensor i via src into buf (which holds its nbytes), byte-swapped
 * to little-endian on big-endian hosts. */
nninit_status nninit__produce_le(const nninit_tensor_desc *t, size_t i, uint64_t nbytes, nninit_tensor_source src,
                                 void *user, void *buf, nninit_err *err);

/* ---- positioned tensor files (plan.c) ----
 * The layout of the file(s) nninit_tensors_write would write for t[0..n)
 * (safetensors, single or sharded, or stored npz; NNINIT_EUNSUPPORTED for
 * other formats and for "-", FIFOs and devices), so tensor bytes can be
 * written at their offsets in any order, by several processes:
 *   one process: create (temporaries named in *handle, one per line; space
 *     reserved; headers written); the others: attach(handle);
 *   each: pwrite little-endian tensor bytes; finish (attached: fsync, close);
 *   then the creator's finish (npz: data_crc[i] = CRC-32 of tensor i's
 *     bytes) renames everything in, the index last; plan_free before a
 *     successful finish removes the creator's temporaries.
 * t must outlive the plan. */
typedef struct nninit__plan nninit__plan;
nninit_status nninit__plan_new(const char *path, const nninit_tensor_desc *t, size_t n, const nninit_write_opts *opts,
                               nninit__plan **out, nninit_err *err);
uint64_t nninit__plan_bytes(const nninit__plan *p);
int nninit__plan_needs_crc(const nninit__plan *p);
nninit_status nninit__plan_create(nninit__plan *p, char **handle, nninit_err *err);
nninit_status nninit__plan_attach(nninit__plan *p, const char *handle, nninit_err *err);
nninit_status nninit__plan_pwrite(nninit__plan *p, size_t tensor, uint64_t off, const void *buf, size_t len,
                                  nninit_err *err);
nninit_status nninit__plan_finish(nninit__plan *p, const uint32_t *data_crc, nninit_err *err);
void nninit__plan_free(nninit__plan *p);
/* CRC-32 (zip's) of n bytes continuing crc, and of the concatenation A ++ B
 * from crc(A), crc(B) and B's length. */
uint32_t nninit__crc32(uint32_t crc, const void *buf, uint64_t n);
uint32_t nninit__crc32_combine(uint32_t a, uint32_t b, uint64_t len_b);

#endif /* NNINIT_IO_INTERNAL_H */
