/* Keras 3 .weights.h5 files (the layout keras/src/saving/saving_lib.py's
 * H5IOStore writes and model.load_weights reads): one HDF5 dataset per
 * variable at its store path ("layers/dense/vars/0"), the groups on the way
 * created as h5py's group[key] = value does, data little-endian and
 * contiguous, no timestamps (so output is reproducible). Written with Debian's libhdf5: the file is built in memory
 * (HDF5's core driver) and its image goes through the atomic writer, so a
 * failure changes nothing and "-" or a FIFO can take it. Read back as a
 * tensor file (names are the dataset paths). Built without libhdf5
 * (NNINIT_HAVE_HDF5 unset) both say how to get it. */
#include "io/internal.h"

#include <stdlib.h>
#include <string.h>

/* The HDF5 file signature (at offset 0 when there is no user block, as h5py
 * writes it). */
int nninit__h5_signature(const unsigned char *head, size_t got)
{
    return got >= 8 && !memcmp(head, "\x89HDF\r\n\x1a\n", 8);
}

#ifndef NNINIT_HAVE_HDF5

static nninit_status no_hdf5(const char *path, nninit_err *err)
{
    return nninit__err(err, NNINIT_EUNSUPPORTED, "%s: .weights.h5 (HDF5) needs nninit built with libhdf5 "
                       "(Debian: apt-get install libhdf5-dev, then rebuild); write safetensors or npz instead",
                       path);
}

nninit_status nninit__h5_write(const char *path, const nninit_tensor_desc *t, size_t n,
                               const char *const *metadata, nninit_tensor_source src, void *user, nninit_err *err)
{
    (void)t;
    (void)n;
    (void)metadata;
    (void)src;
    (void)user;
    return no_hdf5(path, err);
}

nninit_status nninit__h5_open(nninit_tensor_file *tf, const char *path, nninit_err *err)
{
    (void)tf;
    return no_hdf5(path, err);
}

nninit_status nninit__h5_read(nninit_tensor_file *tf, const nninit__tentry *e, void *out, nninit_err *err)
{
    (void)e;
    (void)out;
    return no_hdf5(tf->files[0], err);
}

#else

#include <hdf5.h>
#include <pthread.h>

/* The serial libhdf5 is not thread-safe, and its error printing is one
 * process-wide setting: every use here holds this lock, with printing off
 * (our messages say what failed) and restored after. */
static pthread_mutex_t h5_lock = PTHREAD_MUTEX_INITIALIZER;

typedef struct h5_quiet {
    H5E_auto2_t func;
    void *data;
} h5_quiet;

static void h5_enter(h5_quiet *q)
{
    pthread_mutex_lock(&h5_lock);
    H5Eget_auto2(H5E_DEFAULT, &q->func, &q->data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

static void h5_leave(const h5_quiet *q)
{
    H5Eset_auto2(H5E_DEFAULT, q->func, q->data);
    pthread_mutex_unlock(&h5_lock);
}

/* IEEE half precision, little-endian, as h5py stores NumPy's float16
 * (libhdf5 1.10 has no predefined half type). */
static hid_t half_type(void)
{
    hid_t h = H5Tcopy(H5T_IEEE_F32LE);
    if (h < 0)
        return h;
    if (H5Tset_fields(h, 15, 10, 5, 0, 10) < 0 || H5Tset_size(h, 2) < 0 || H5Tset_ebias(h, 15) < 0 ||
        H5Tset_precision(h, 16) < 0) {
        H5Tclose(h);
        return -1;
    }
    return h;
}

/* The stored type of a dtype (a copy, closed by the caller); -1 for one
 * Keras does not store as a plain dataset. */
static hid_t file_type(nninit_file_dtype d)
{
    switch (d) {
    case NNINIT_FD_F32: return H5Tcopy(H5T_IEEE_F32LE);
    case NNINIT_FD_F64: return H5Tcopy(H5T_IEEE_F64LE);
    case NNINIT_FD_F16: return half_type();
    case NNINIT_FD_I64: return H5Tcopy(H5T_STD_I64LE);
    case NNINIT_FD_I32: return H5Tcopy(H5T_STD_I32LE);
    default: return -1;
    }
}

/* A root attribute (provenance; Keras ignores attributes it does not know). */
static int put_attr(hid_t file, const char *key, const char *value)
{
    size_t len = strlen(value);
    hid_t ty = H5Tcopy(H5T_C_S1), sp = H5Screate(H5S_SCALAR), at = -1;
    int ok = ty >= 0 && sp >= 0 && H5Tset_size(ty, len ? len : 1) >= 0 && H5Tset_cset(ty, H5T_CSET_UTF8) >= 0 &&
             (at = H5Acreate2(file, key, ty, sp, H5P_DEFAULT, H5P_DEFAULT)) >= 0 &&
             H5Awrite(at, ty, len ? value : " ") >= 0;
    if (at >= 0)
        H5Aclose(at);
    if (sp >= 0)
        H5Sclose(sp);
    if (ty >= 0)
        H5Tclose(ty);
    return ok;
}

/* The groups on the way to dataset `name`, created with `gcpl` (no
 * timestamps) where missing. */
static int make_groups(hid_t file, const char *name, hid_t gcpl)
{
    char part[1100];
    for (const char *p = strchr(name, '/'); p; p = strchr(p + 1, '/')) {
        size_t n = (size_t)(p - name);
        if (n >= sizeof part)
            return 0;
        memcpy(part, name, n);
        part[n] = '\0';
        htri_t there = H5Lexists(file, part, H5P_DEFAULT);
        if (there < 0)
            return 0;
        if (!there) {
            hid_t g = H5Gcreate2(file, part, H5P_DEFAULT, gcpl, H5P_DEFAULT);
            if (g < 0)
                return 0;
            H5Gclose(g);
        }
    }
    return 1;
}

/* Writes tensor i as a dataset of `file`. */
static nninit_status put_tensor(hid_t file, hid_t gcpl, hid_t dcpl, const char *path, const nninit_tensor_desc *t,
                                size_t i, nninit_tensor_source src, void *user, nninit_err *err)
{
    uint64_t numel, nb;
    nninit_status s = nninit__tensor_bytes(t[i].name, &t[i].shape, t[i].dtype, &numel, &nb, err);
    if (s)
        return s;
    hid_t ty = file_type(t[i].dtype);
    if (ty < 0)
        return nninit__err(err, NNINIT_EINVAL, "%s: tensor '%s' is %s; .weights.h5 holds float32, float64 or "
                           "float16 (Keras marks bfloat16 with an attribute nninit does not write); use --dtype "
                           "float32", path, t[i].name, nninit_file_dtype_name(t[i].dtype));
    hsize_t dims[NNINIT_MAX_DIMS];
    for (int d = 0; d < t[i].shape.ndim; d++)
        dims[d] = (hsize_t)t[i].shape.dim[d];
    hid_t sp = t[i].shape.ndim ? H5Screate_simple(t[i].shape.ndim, dims, NULL) : H5Screate(H5S_SCALAR);
    hid_t ds = sp < 0 || !make_groups(file, t[i].name, gcpl)
                   ? -1
                   : H5Dcreate2(file, t[i].name, ty, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    void *buf = malloc(nb ? (size_t)nb : 1);
    if (ds < 0)
        s = nninit__err(err, NNINIT_EINVAL, "%s: cannot create dataset '%s' (a tensor's name is a group of "
                        "another's, or not an HDF5 path)", path, t[i].name);
    else if (!buf)
        s = nninit__err(err, NNINIT_ENOMEM, "%s: out of memory for tensor '%s'", path, t[i].name);
    else if (!(s = nninit__produce_le(t, i, nb, src, user, buf, err)) && numel &&
             H5Dwrite(ds, ty, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0)
        s = nninit__err(err, NNINIT_EIO, "%s: libhdf5 cannot write tensor '%s'", path, t[i].name);
    free(buf);
    if (ds >= 0)
        H5Dclose(ds);
    if (sp >= 0)
        H5Sclose(sp);
    H5Tclose(ty);
    return s;
}

/* Writes the datasets into an in-memory HDF5 file and returns its image. */
static nninit_status build_image(const char *path, const nninit_tensor_desc *t, size_t n,
                                 const char *const *metadata, nninit_tensor_source src, void *user,
                                 unsigned char **image, size_t *len, nninit_err *err)
{
    nninit_status s = NNINIT_OK;
    /* no modification times in the object headers: the same tensors give the same bytes */
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS), gcpl = H5Pcreate(H5P_GROUP_CREATE), dcpl = H5Pcreate(H5P_DATASET_CREATE);
    hid_t file = -1;
    if (fapl < 0 || gcpl < 0 || dcpl < 0 || H5Pset_fapl_core(fapl, (size_t)1 << 20, 0) < 0 ||
        H5Pset_obj_track_times(gcpl, 0) < 0 || H5Pset_obj_track_times(dcpl, 0) < 0 ||
        (file = H5Fcreate("nninit-weights-in-memory.h5", H5F_ACC_TRUNC, H5P_DEFAULT, fapl)) < 0) {
        s = nninit__err(err, NNINIT_EIO, "%s: libhdf5 cannot create an in-memory file", path);
        goto done;
    }
    for (size_t i = 0; metadata && metadata[i] && metadata[i + 1] && !s; i += 2)
        if (!put_attr(file, metadata[i], metadata[i + 1]))
            s = nninit__err(err, NNINIT_EIO, "%s: libhdf5 cannot write attribute '%s'", path, metadata[i]);
    for (size_t i = 0; i < n && !s; i++)
        s = put_tensor(file, gcpl, dcpl, path, t, i, src, user, err);
    if (!s && H5Fflush(file, H5F_SCOPE_GLOBAL) < 0)
        s = nninit__err(err, NNINIT_EIO, "%s: libhdf5 cannot finish the file", path);
    if (!s) {
        ssize_t size = H5Fget_file_image(file, NULL, 0);
        *image = size > 0 ? malloc((size_t)size) : NULL;
        if (!*image)
            s = nninit__err(err, size > 0 ? NNINIT_ENOMEM : NNINIT_EIO, "%s: cannot take the HDF5 file image", path);
        else if (H5Fget_file_image(file, *image, (size_t)size) != size)
            s = nninit__err(err, NNINIT_EIO, "%s: cannot take the HDF5 file image", path);
        *len = (size_t)size;
    }
done:
    if (file >= 0)
        H5Fclose(file);
    if (gcpl >= 0)
        H5Pclose(gcpl);
    if (dcpl >= 0)
        H5Pclose(dcpl);
    if (fapl >= 0)
        H5Pclose(fapl);
    return s;
}

nninit_status nninit__h5_write(const char *path, const nninit_tensor_desc *t, size_t n,
                               const char *const *metadata, nninit_tensor_source src, void *user, nninit_err *err)
{
    unsigned char *image = NULL;
    size_t len = 0;
    h5_quiet q;
    h5_enter(&q);
    nninit_status s = build_image(path, t, n, metadata, src, user, &image, &len, err);
    h5_leave(&q);
    if (s) {
        free(image);
        return s;
    }
    nninit__atomic a;
    if (!(s = nninit__atomic_open(&a, path, err))) {
        if (!(s = nninit__atomic_write(&a, image, len, err)))
            s = nninit__atomic_commit(&a, err);
        else
            nninit__atomic_abort(&a);
    }
    free(image);
    return s;
}

/* ---- reading: every dataset, in name order ---- */

typedef struct visit_ctx {
    nninit_tensor_file *tf;
    const char *path;
    nninit_err *err;
    nninit_status s;
} visit_ctx;

static nninit_status dataset_entry(visit_ctx *v, hid_t ds, const char *name)
{
    hid_t ty = H5Dget_type(ds), sp = H5Dget_space(ds);
    nninit_status s = NNINIT_OK;
    nninit_file_dtype dt = NNINIT_FD_COUNT;
    if (ty >= 0) {
        size_t size = H5Tget_size(ty);
        H5T_class_t cls = H5Tget_class(ty);
        if (cls == H5T_FLOAT)
            dt = size == 2 ? NNINIT_FD_F16 : size == 4 ? NNINIT_FD_F32 : size == 8 ? NNINIT_FD_F64 : dt;
        else if (cls == H5T_INTEGER && H5Tget_sign(ty) == H5T_SGN_2)
            dt = size == 4 ? NNINIT_FD_I32 : size == 8 ? NNINIT_FD_I64 : dt;
    }
    int nd = sp >= 0 ? H5Sget_simple_extent_ndims(sp) : -1;
    if (dt == NNINIT_FD_COUNT)
        s = nninit__err(v->err, NNINIT_EFORMAT, "%s: dataset '%s' is not float16/32/64 or int32/64", v->path, name);
    else if (nd < 0 || nd > NNINIT_MAX_DIMS)
        s = nninit__err(v->err, NNINIT_EFORMAT, "%s: dataset '%s' has %d dimensions; at most %d are read", v->path,
                        name, nd, NNINIT_MAX_DIMS);
    nninit__tentry *e = NULL;
    if (!s)
        s = nninit__tf_add(v->tf, name, &e, v->err);
    if (!s) {
        hsize_t dims[NNINIT_MAX_DIMS];
        H5Sget_simple_extent_dims(sp, dims, NULL);
        e->info.dtype = dt;
        e->info.shape.ndim = nd;
        for (int d = 0; d < nd; d++)
            e->info.shape.dim[d] = dims[d] > (hsize_t)INT64_MAX ? -1 : (int64_t)dims[d];
        uint64_t numel;
        s = nninit__tensor_bytes(name, &e->info.shape, dt, &numel, &e->info.nbytes, v->err);
    }
    if (ty >= 0)
        H5Tclose(ty);
    if (sp >= 0)
        H5Sclose(sp);
    return s;
}

/* Every link, in name order; datasets become tensors (H5Lvisit and H5Oopen
 * keep one signature across libhdf5 1.8 to 1.14). */
static herr_t visit(hid_t group, const char *name, const H5L_info_t *info, void *user)
{
    visit_ctx *v = user;
    (void)info;
    hid_t obj = H5Oopen(group, name, H5P_DEFAULT);
    if (obj < 0) /* a dangling soft or external link: not a tensor */
        return 0;
    if (H5Iget_type(obj) == H5I_DATASET)
        v->s = dataset_entry(v, obj, name);
    H5Oclose(obj);
    return v->s ? -1 : 0;
}

nninit_status nninit__h5_open(nninit_tensor_file *tf, const char *path, nninit_err *err)
{
    h5_quiet q;
    h5_enter(&q);
    visit_ctx v = {tf, path, err, NNINIT_OK};
    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (file < 0)
        v.s = nninit__err(err, NNINIT_EFORMAT, "%s: not an HDF5 file libhdf5 can open", path);
    else if (H5Lvisit(file, H5_INDEX_NAME, H5_ITER_INC, visit, &v) < 0 && !v.s)
        v.s = nninit__err(err, NNINIT_EFORMAT, "%s: cannot walk the HDF5 groups", path);
    if (file >= 0)
        H5Fclose(file);
    h5_leave(&q);
    size_t idx;
    if (!v.s)
        v.s = nninit__tf_add_file(tf, path, &idx, err);
    if (!v.s && tf->n == 0)
        v.s = nninit__err(err, NNINIT_ENOTFOUND, "%s: HDF5 file holds no datasets", path);
    return v.s;
}

nninit_status nninit__h5_read(nninit_tensor_file *tf, const nninit__tentry *e, void *out, nninit_err *err)
{
    const char *path = tf->files[e->file];
    h5_quiet q;
    h5_enter(&q);
    nninit_status s = NNINIT_OK;
    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t ds = file < 0 ? -1 : H5Dopen2(file, e->info.name, H5P_DEFAULT);
    /* the stored type in host byte order (the tensor file API gives host order) */
    hid_t ft = ds < 0 ? -1 : H5Dget_type(ds);
    hid_t mt = ft < 0 ? -1 : H5Tcopy(ft);
    if (mt >= 0 && H5Tset_order(mt, H5Tget_order(H5T_NATIVE_INT)) < 0) {
        H5Tclose(mt);
        mt = -1;
    }
    if (mt < 0)
        s = nninit__err(err, NNINIT_EIO, "%s: cannot open dataset '%s'", path, e->info.name);
    else if (e->info.nbytes && H5Dread(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) < 0)
        s = nninit__err(err, NNINIT_EIO, "%s: cannot read dataset '%s'", path, e->info.name);
    if (mt >= 0)
        H5Tclose(mt);
    if (ft >= 0)
        H5Tclose(ft);
    if (ds >= 0)
        H5Dclose(ds);
    if (file >= 0)
        H5Fclose(file);
    h5_leave(&q);
    return s;
}

#endif
