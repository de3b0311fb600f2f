/*
 * nninit_io.h: tensor files (the io layer): .npy, safetensors (single or
 * sharded), npz and folders of .npy, read and written atomically.
 *
 * Example, a whole program (tests/cli/header_examples.sh extracts, compiles
 * and runs it, and compares its output with the lines after "Prints:"):
 *
 *     #include <stdio.h>
 *     #include <stdlib.h>
 *     #include "nninit_io.h"
 *
 *     int main(void)
 *     {
 *         // write a 2x3 float32 .npy, open it as a tensor file, read it back
 *         const float w[6] = {1, 2, 3, 4, 5, 6};
 *         nninit_shape shape = {2, {2, 3}};
 *         nninit_tensor_file *tf = NULL;
 *         float back[6] = {0};
 *         nninit_err err = {0};
 *         int ok = nninit_npy_write("example_w.npy", NNINIT_F32, &shape, w, &err) == NNINIT_OK &&
 *                  nninit_tensor_file_open("example_w.npy", &tf, &err) == NNINIT_OK &&
 *                  nninit_tensor_file_read(tf, 0, back, &err) == NNINIT_OK;
 *         if (ok) {
 *             const nninit_tensor_info *info = nninit_tensor_file_info(tf, 0);
 *             printf("%s: %s, %d-D, last %g\n", nninit_file_format_name(nninit_tensor_file_format(tf)),
 *                    nninit_file_dtype_name(info->dtype), info->shape.ndim, back[5]);
 *         } else {
 *             fprintf(stderr, "%s\n", err.msg);
 *         }
 *         nninit_tensor_file_free(tf);
 *         remove("example_w.npy");
 *         return ok ? 0 : 1;
 *     }
 *
 * Prints:
 *
 *     npy: F32, 2-D, last 6
 */
#ifndef NNINIT_IO_H
#define NNINIT_IO_H

#include "nninit.h"

#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Files: NumPy .npy                                                         */
/* ------------------------------------------------------------------------ */

/* Writes a .npy v1.0 file (little-endian, C order) atomically: a temporary
 * file in the same folder, fsync, then rename; nothing is left on failure. */
NNINIT_API nninit_status nninit_npy_write(const char *path, nninit_dtype dtype, const nninit_shape *shape,
                                          const void *data, nninit_err *err);

/* Writes n bytes to path atomically: a temporary file in the same folder,
 * fsync, rename over path, fsync of the folder. On failure the temporary is
 * removed and an existing file at path is untouched. NNINIT_EIO, NNINIT_EINVAL. */
NNINIT_API nninit_status nninit_file_write(const char *path, const void *data, size_t n, nninit_err *err);

/* The same output, streamed (docs/files.md has the rules for every kind of
 * path: a regular file or new name is replaced atomically keeping its mode
 * and owner, a symlink's target likewise, "-" means stdout, a FIFO or device
 * is written in place):
 *
 *     nninit_output *o;
 *     if (nninit_output_open("log.csv", &o, &err) == NNINIT_OK) {
 *         fprintf(nninit_output_file(o), "epoch,loss\n");
 *         st = nninit_output_commit(o, &err);   // the file appears complete, or not at all
 *     }
 *
 * commit reports any earlier write error of the stream and frees o; abort
 * removes the temporary and frees o (NULL is a no-op). */
typedef struct nninit_output nninit_output;
NNINIT_API nninit_status nninit_output_open(const char *path, nninit_output **out, nninit_err *err);
NNINIT_API FILE *nninit_output_file(nninit_output *o);
NNINIT_API nninit_status nninit_output_commit(nninit_output *o, nninit_err *err);
NNINIT_API void nninit_output_abort(nninit_output *o);

/* Reads a .npy file (v1/v2/v3, '<f4' '<f8' '>f4' '>f8' '<f2' '<u2' bf16 is not
 * a NumPy dtype). *data is malloc'd (free with nninit_free). */
NNINIT_API nninit_status nninit_npy_read(const char *path, nninit_dtype *dtype, nninit_shape *shape,
                                         void **data, nninit_err *err);

/* Same as nninit_npy_read on a buffer already in memory. */
NNINIT_API nninit_status nninit_npy_parse(const void *buf, size_t len, nninit_dtype *dtype,
                                          nninit_shape *shape, void **data, nninit_err *err);


/* ------------------------------------------------------------------------ */
/* Tensor files: safetensors (single or sharded), npz, folders of .npy       */
/* ------------------------------------------------------------------------ */

/* Element types a tensor file may hold: the safetensors dtype set. Values
 * are only appended; names are the safetensors names ("F32", "BF16", ...).
 * A superset of the core's nninit_dtype (what the generators produce; see
 * there why the two are apart); nninit_file_dtype_of converts. */
typedef enum nninit_file_dtype {
    NNINIT_FD_BOOL = 0, NNINIT_FD_F4, NNINIT_FD_F6_E2M3, NNINIT_FD_F6_E3M2, NNINIT_FD_U8, NNINIT_FD_I8,
    NNINIT_FD_F8_E5M2, NNINIT_FD_F8_E4M3, NNINIT_FD_F8_E8M0, NNINIT_FD_I16, NNINIT_FD_U16, NNINIT_FD_F16,
    NNINIT_FD_BF16, NNINIT_FD_I32, NNINIT_FD_U32, NNINIT_FD_F32, NNINIT_FD_C64, NNINIT_FD_F64, NNINIT_FD_I64,
    NNINIT_FD_U64,
    NNINIT_FD_COUNT
} nninit_file_dtype;

NNINIT_API const char *nninit_file_dtype_name(nninit_file_dtype d); /* "F32"; "?" if out of range */
NNINIT_API int nninit_file_dtype_bits(nninit_file_dtype d);         /* 4 .. 64; 0 if out of range */
NNINIT_API nninit_status nninit_file_dtype_parse(const char *name, nninit_file_dtype *out, nninit_err *err);
/* The file dtype of a generation dtype (NNINIT_F32 -> NNINIT_FD_F32, ...). */
NNINIT_API nninit_file_dtype nninit_file_dtype_of(nninit_dtype d);

/* Converts n elements from a float, integer or BOOL type to F32, F64, BF16
 * or F16, rounding once to nearest-even (as torch's .to() does); overflow
 * gives inf, NaN stays NaN. in and out may be the same buffer only when
 * the types have the same size. NNINIT_EUNSUPPORTED for other types. */
NNINIT_API nninit_status nninit_convert(nninit_file_dtype from, const void *in, nninit_file_dtype to, void *out,
                                        size_t n, nninit_err *err);
/* As nninit_convert, but a finite value that would round to inf (70000 in
 * F16) is refused (NNINIT_EINVAL naming the value and the type's largest
 * finite value) instead of written: what gen and model use, so that a file
 * never holds inf from an overflow. out may be partly written on error. */
NNINIT_API nninit_status nninit_convert_finite(nninit_file_dtype from, const void *in, nninit_file_dtype to,
                                               void *out, size_t n, nninit_err *err);

typedef enum nninit_file_format {
    NNINIT_FORMAT_SAFETENSORS = 0, /* one .safetensors, or shards + model.safetensors.index.json */
    NNINIT_FORMAT_NPZ,             /* zip of NAME.npy members, stored (numpy.savez) */
    NNINIT_FORMAT_NPZ_DEFLATED,    /* numpy.savez_compressed */
    NNINIT_FORMAT_NPY_DIR,         /* a folder with one NAME.npy per tensor */
    NNINIT_FORMAT_NPY,             /* (reading only) a single .npy */
    NNINIT_FORMAT_SAFETENSORS_INDEX, /* (reading only) a sharded checkpoint's index */
    NNINIT_FORMAT_WEIGHTS_H5        /* HDF5 datasets named by their paths, as Keras 3 .weights.h5 (needs libhdf5) */
} nninit_file_format;

/* "safetensors", "npz", "npz-deflated", "npy-dir", "npy", "safetensors-index", "weights.h5". */
NNINIT_API const char *nninit_file_format_name(nninit_file_format f);
NNINIT_API nninit_status nninit_file_format_parse(const char *name, nninit_file_format *out, nninit_err *err);

/* The format the end of an output path names: ".safetensors", ".npz"
 * (NNINIT_FORMAT_NPZ; npz-deflated ends the same), ".weights.h5", ".npy", or a
 * folder (a trailing '/' or an existing folder: npy-dir). NNINIT_ENOTFOUND
 * when it names none (no extension, "-", another one: keep a default);
 * NNINIT_EINVAL for endings that look like a format nninit does not write,
 * saying what to use: ".h5" without ".weights" (Keras 3 load_weights wants
 * .weights.h5), ".keras", ".pt", ".pth" (pickles). */
NNINIT_API nninit_status nninit_file_format_from_path(const char *path, nninit_file_format *out, nninit_err *err);

/* One tensor to write. Names are UTF-8, 1..1024 bytes, unique, not
 * "__metadata__"; for npz and npy-dir they must also be usable as file
 * names (no '/', not "." or ".."). Data is C order, little-endian. */
typedef struct nninit_tensor_desc {
    const char *name;
    nninit_file_dtype dtype;
    nninit_shape shape; /* dims >= 0; 0-D allowed */
} nninit_tensor_desc;

/* Produces the bytes of tensor `index` (in the order given to the writer)
 * into `out` (numel * bits / 8 bytes). Called once per tensor, in file
 * order, so memory stays bounded by the largest tensor. */
typedef nninit_status (*nninit_tensor_source)(void *user, size_t index, void *out, nninit_err *err);

typedef struct nninit_write_opts {
    nninit_file_format format;
    /* safetensors: 0 = one file; else shards named as Hugging Face does
     * (model-00001-of-00003.safetensors next to `path`, plus `path`.index.json
     * i.e. model.safetensors.index.json), split in tensor order when adding
     * a tensor would pass this many bytes; a tensor above it gets its own. */
    uint64_t max_shard_size;
    /* safetensors __metadata__ as "key", "value", ..., NULL, written sorted
     * by key; NULL writes {"format": "pt"} (what Hugging Face loaders
     * check); an empty list ({NULL}) writes no __metadata__ at all. */
    const char *const *metadata;
} nninit_write_opts;

/* format safetensors, one file, no extra metadata. */
NNINIT_API nninit_write_opts nninit_write_opts_default(void);

/*
 * Writes tensors t[0..n) to `path` in opts->format (a folder for npy-dir,
 * created if missing). safetensors output is byte-identical to
 * safetensors.torch.save_file for the same tensors and metadata of at most
 * one key: descending dtype alignment then name, compact JSON, header
 * padded with spaces to a multiple of 8. Every file is written atomically
 * (temporary + fsync + rename); on failure no target is replaced, though a
 * sharded or npy-dir write may have completed some files.
 * NNINIT_EINVAL (bad name, duplicate, shape), NNINIT_EIO, NNINIT_ENOMEM,
 * or the source's status.
 */
NNINIT_API nninit_status nninit_tensors_write(const char *path, const nninit_tensor_desc *t, size_t n,
                                              const nninit_write_opts *opts, nninit_tensor_source src,
                                              void *user, nninit_err *err);

/* A tensor file opened for reading: the whole header/directory is
 * validated at open (safetensors: every check of the reference reader,
 * plus duplicate names and a tensor named "__metadata__"; npz: zip
 * structure, sizes, CRC when read); data is read on demand. */
typedef struct nninit_tensor_file nninit_tensor_file;

typedef struct nninit_tensor_info {
    const char *name;        /* lives until nninit_tensor_file_free */
    nninit_file_dtype dtype;
    nninit_shape shape;
    uint64_t nbytes;
    const char *file;        /* the file holding it (the shard for an index) */
} nninit_tensor_info;

/* Opens `path`, detecting the format from its content: safetensors,
 * *.safetensors.index.json, npz, npy, or a folder of .npy files.
 * NNINIT_ENOTFOUND, NNINIT_EFORMAT (with the first problem found), NNINIT_EIO. */
NNINIT_API nninit_status nninit_tensor_file_open(const char *path, nninit_tensor_file **out, nninit_err *err);
NNINIT_API void nninit_tensor_file_free(nninit_tensor_file *tf);
NNINIT_API nninit_file_format nninit_tensor_file_format(const nninit_tensor_file *tf);
/* Tensors in file order (safetensors: by offset; npz: member order). */
NNINIT_API size_t nninit_tensor_file_count(const nninit_tensor_file *tf);
NNINIT_API const nninit_tensor_info *nninit_tensor_file_info(const nninit_tensor_file *tf, size_t i);
/* Index of `name` or NNINIT_ENOTFOUND. */
NNINIT_API nninit_status nninit_tensor_file_find(const nninit_tensor_file *tf, const char *name, size_t *index,
                                                 nninit_err *err);
/* Reads tensor i into out (info->nbytes bytes, host byte order). */
NNINIT_API nninit_status nninit_tensor_file_read(nninit_tensor_file *tf, size_t i, void *out, nninit_err *err);
/* safetensors __metadata__ value for key, or NULL (first shard's for an index). */
NNINIT_API const char *nninit_tensor_file_metadata(const nninit_tensor_file *tf, const char *key);

#ifdef __cplusplus
}
#endif
#endif /* NNINIT_IO_H */
