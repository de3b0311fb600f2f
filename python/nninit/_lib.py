"""The shared library, its C types and its status codes, through ctypes.

Everything here mirrors include/nninit.h and nninit_{io,model,analysis}.h;
the rest of the package uses only this module to reach C. ctypes releases
the GIL for the duration of every call, so long fills run while other
Python threads do.

Where the library is looked for, first hit wins:
  1. $NNINIT_LIBRARY (a path to libnninit.so; an error if it cannot be loaded),
  2. ../build/libnninit.so relative to python/ (the source tree after `make`),
  3. the library folder `make install` recorded in _config.py,
  4. the system loader (libnninit.so.0 on the loader's path).
"""
import ctypes
import errno as _errno
import os

_HERE = os.path.dirname(os.path.abspath(__file__))

# ---- status codes (nninit_status) --------------------------------------

OK, EINVAL, ENOMEM, EOVERFLOW, EIO, EFORMAT, EUNSUPPORTED, EMISUSE, ENOTFOUND, ENUMERIC = range(10)

MAX_DIMS = 8
TORCH_STATE_SIZE = 5056

# nninit_dtype
F32, F64, BF16, F16 = range(4)
# nninit_file_dtype (the safetensors set, in the header's order)
FILE_DTYPES = ["BOOL", "F4", "F6_E2M3", "F6_E3M2", "U8", "I8", "F8_E5M2", "F8_E4M3", "F8_E8M0", "I16", "U16",
               "F16", "BF16", "I32", "U32", "F32", "C64", "F64", "I64", "U64"]
FD = {name: i for i, name in enumerate(FILE_DTYPES)}
# nninit_layout
LAYOUT_KERAS, LAYOUT_TORCH = 0, 1
# nninit_rng_kind
RNG_PHILOX = 0
# nninit_file_format
FORMAT_SAFETENSORS, FORMAT_NPZ, FORMAT_NPZ_DEFLATED, FORMAT_NPY_DIR, FORMAT_NPY, FORMAT_SAFETENSORS_INDEX = range(6)


class Err(ctypes.Structure):
    _fields_ = [("code", ctypes.c_int), ("sys_errno", ctypes.c_int), ("msg", ctypes.c_char * 2048)]


class Shape(ctypes.Structure):
    _fields_ = [("ndim", ctypes.c_int), ("dim", ctypes.c_int64 * MAX_DIMS)]


class Init(ctypes.Structure):
    """nninit_init, field for field (the model tensor struct embeds it, so
    its size must be exact: python/tests/test_abi.py compares every offset with the C compiler's)."""
    _fields_ = [("kind", ctypes.c_int),
                ("mean", ctypes.c_double), ("stddev", ctypes.c_double),
                ("minval", ctypes.c_double), ("maxval", ctypes.c_double),
                ("a", ctypes.c_double), ("b", ctypes.c_double),
                ("value", ctypes.c_double), ("scale", ctypes.c_double),
                ("mode", ctypes.c_int), ("distribution", ctypes.c_int),
                ("gain", ctypes.c_double), ("neg_slope", ctypes.c_double),
                ("nonlinearity", ctypes.c_int),
                ("sparsity", ctypes.c_double),
                ("groups", ctypes.c_int64),
                ("has_value", ctypes.c_int), ("has_sparsity", ctypes.c_int), ("has_seed", ctypes.c_int),
                ("seed", ctypes.c_uint64),
                ("num_layers", ctypes.c_int64), ("branches", ctypes.c_int64), ("fixup_m", ctypes.c_int64),
                ("stft_imag", ctypes.c_int), ("stft_window", ctypes.c_int), ("stft_scaling", ctypes.c_int),
                ("stft_periodic", ctypes.c_int),
                ("n_input_axes", ctypes.c_int), ("n_output_axes", ctypes.c_int),
                ("input_axes", ctypes.c_int * MAX_DIMS), ("output_axes", ctypes.c_int * MAX_DIMS),
                ("neg_slope_none", ctypes.c_int),
                ("stft_n_window_params", ctypes.c_int), ("stft_window_params", ctypes.c_double * 2),
                ("stft_window_values", ctypes.POINTER(ctypes.c_double)), ("stft_window_len", ctypes.c_int64),
                ("stft_window_owned", ctypes.c_int)]


class FillOpts(ctypes.Structure):
    _fields_ = [("layout", ctypes.c_int), ("dtype", ctypes.c_int), ("stream", ctypes.c_uint64),
                ("threads", ctypes.c_int)]


class TensorDesc(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("dtype", ctypes.c_int), ("shape", Shape)]


class WriteOpts(ctypes.Structure):
    _fields_ = [("format", ctypes.c_int), ("max_shard_size", ctypes.c_uint64),
                ("metadata", ctypes.POINTER(ctypes.c_char_p))]


class TensorInfo(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("dtype", ctypes.c_int), ("shape", Shape), ("nbytes", ctypes.c_uint64),
                ("file", ctypes.c_char_p)]


class ModelTensor(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("shape", Shape), ("layout", ctypes.c_int), ("init", Init),
                ("spec", ctypes.c_char_p), ("is_int64", ctypes.c_int)]


class ModelOpts(ctypes.Structure):
    _fields_ = [("rng", ctypes.c_int), ("seed", ctypes.c_uint64), ("dtype", ctypes.c_int), ("write", WriteOpts),
                ("threads", ctypes.c_int), ("slice_dim", ctypes.c_int), ("slice_index", ctypes.c_int),
                ("slice_count", ctypes.c_int), ("memory_limit", ctypes.c_uint64), ("progress", ctypes.c_void_p),
                ("progress_user", ctypes.c_void_p), ("chunk_elems", ctypes.c_int64)]


class TheoryNet(ctypes.Structure):
    _fields_ = [("act", ctypes.c_int), ("alpha", ctypes.c_double), ("sw2", ctypes.c_double),
                ("sb2", ctypes.c_double)]


class TheoryPoint(ctypes.Structure):
    _fields_ = [("q_star", ctypes.c_double), ("chi1", ctypes.c_double), ("dv_dq", ctypes.c_double),
                ("c_star", ctypes.c_double), ("chi_c", ctypes.c_double), ("xi_q", ctypes.c_double),
                ("xi_c", ctypes.c_double), ("phase", ctypes.c_int)]


class TheoryLayer(ctypes.Structure):
    _fields_ = [("q", ctypes.c_double), ("c", ctypes.c_double), ("act_mean", ctypes.c_double),
                ("act_var", ctypes.c_double), ("chi", ctypes.c_double), ("grad_out", ctypes.c_double),
                ("grad_in", ctypes.c_double)]


class AdviceLayer(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("cls", ctypes.c_char_p), ("kernel", ctypes.c_char_p),
                ("kernel_spec", ctypes.c_char_p), ("bias_spec", ctypes.c_char_p),
                ("kernel_init", ctypes.c_char * 96), ("bias_init", ctypes.c_char * 96),
                ("activation", ctypes.c_char_p), ("fan_in", ctypes.c_int64), ("fan_out", ctypes.c_int64),
                ("sw2", ctypes.c_double), ("sb2", ctypes.c_double), ("chain", ctypes.c_int),
                ("theory", ctypes.c_int), ("q", ctypes.c_double), ("fwd_gain", ctypes.c_double),
                ("bwd_gain", ctypes.c_double), ("fwd_total", ctypes.c_double), ("bwd_total", ctypes.c_double),
                ("chi1", ctypes.c_double), ("phase", ctypes.c_int), ("norm_after", ctypes.c_int)]


class AdviceFinding(ctypes.Structure):
    _fields_ = [("kind", ctypes.c_int), ("layer", ctypes.c_int), ("tensor", ctypes.c_char_p),
                ("softened", ctypes.c_int), ("reason", ctypes.c_char * 640), ("fix", ctypes.c_char * 160),
                ("advice", ctypes.c_char * 400)]


class Advice(ctypes.Structure):
    _fields_ = [("n_layers", ctypes.c_int), ("layers", ctypes.POINTER(AdviceLayer)),
                ("n_findings", ctypes.c_int), ("findings", ctypes.POINTER(AdviceFinding)),
                ("n_counted", ctypes.c_int)]


# TensorSource: nninit_status (*)(void *user, size_t index, void *out, nninit_err *err)
TENSOR_SOURCE = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p,
                                 ctypes.POINTER(Err))

_P = ctypes.c_void_p
_PErr = ctypes.POINTER(Err)
_I, _U64, _I64, _D, _S = ctypes.c_int, ctypes.c_uint64, ctypes.c_int64, ctypes.c_double, ctypes.c_char_p

# name: (restype, argtypes)
_SIGNATURES = {
    "nninit_version": (_S, []),
    "nninit_status_str": (_S, [_I]),
    "nninit_free": (None, [_P]),
    "nninit_shape_numel": (_I, [ctypes.POINTER(Shape), ctypes.POINTER(_I64), _PErr]),
    "nninit_layout_parse": (_I, [_S, ctypes.POINTER(_I), _PErr]),
    "nninit_dtype_parse": (_I, [_S, ctypes.POINTER(_I), _PErr]),
    "nninit_init_parse": (_I, [_S, ctypes.POINTER(Init), _PErr]),
    "nninit_init_clear": (None, [ctypes.POINTER(Init)]),
    "nninit_init_to_json": (_I, [ctypes.POINTER(Init), ctypes.POINTER(_P), _PErr]),
    "nninit_rng_kind_parse": (_I, [_S, ctypes.POINTER(_I), _PErr]),
    "nninit_rng_kind_name": (_S, [_I]),
    "nninit_rng_new": (_I, [_I, _U64, ctypes.POINTER(_P), _PErr]),
    "nninit_rng_free": (None, [_P]),
    "nninit_rng_get_kind": (_I, [_P]),
    "nninit_rng_resolved_kind": (_I, [_P]),
    "nninit_rng_seed": (_U64, [_P]),
    "nninit_stream_from_name": (_U64, [_S]),
    "nninit_fill": (_I, [ctypes.POINTER(Init), ctypes.POINTER(Shape), ctypes.POINTER(FillOpts), _P, _P, _PErr]),
    "nninit_rng_torch_state_get": (_I, [_P, _P, _PErr]),
    "nninit_rng_torch_state_set": (_I, [_P, _P, ctypes.c_size_t, _PErr]),
    # io
    "nninit_convert": (_I, [_I, _P, _I, _P, ctypes.c_size_t, _PErr]),
    "nninit_convert_finite": (_I, [_I, _P, _I, _P, ctypes.c_size_t, _PErr]),
    "nninit_npy_write": (_I, [_S, _I, ctypes.POINTER(Shape), _P, _PErr]),
    "nninit_file_format_parse": (_I, [_S, ctypes.POINTER(_I), _PErr]),
    "nninit_write_opts_default": (WriteOpts, []),
    "nninit_tensors_write": (_I, [_S, ctypes.POINTER(TensorDesc), ctypes.c_size_t, ctypes.POINTER(WriteOpts),
                                  TENSOR_SOURCE, _P, _PErr]),
    "nninit_tensor_file_open": (_I, [_S, ctypes.POINTER(_P), _PErr]),
    "nninit_tensor_file_free": (None, [_P]),
    "nninit_tensor_file_format": (_I, [_P]),
    "nninit_tensor_file_count": (ctypes.c_size_t, [_P]),
    "nninit_tensor_file_info": (ctypes.POINTER(TensorInfo), [_P, ctypes.c_size_t]),
    "nninit_tensor_file_read": (_I, [_P, ctypes.c_size_t, _P, _PErr]),
    "nninit_tensor_file_metadata": (_S, [_P, _S]),
    # model
    "nninit_model_from_torch": (_I, [_S, ctypes.POINTER(_P), _PErr]),
    "nninit_model_from_keras": (_I, [_S, ctypes.POINTER(_P), _PErr]),
    "nninit_model_from_spec": (_I, [_S, ctypes.POINTER(_P), _PErr]),
    "nninit_model_from_keras_file": (_I, [_S, ctypes.POINTER(_P), _PErr]),
    "nninit_model_free": (None, [_P]),
    "nninit_model_count": (ctypes.c_size_t, [_P]),
    "nninit_model_tensor_at": (ctypes.POINTER(ModelTensor), [_P, ctypes.c_size_t, ctypes.POINTER(ModelTensor)]),
    "nninit_model_override": (_I, [_P, _S, _S, _PErr]),
    "nninit_model_fill": (_I, [_P, _P, _S, _I, _I, ctypes.POINTER(_P), _PErr]),
    # analysis
    "nninit_theory_act_parse": (_I, [_S, ctypes.POINTER(_I), ctypes.POINTER(_D), _PErr]),
    "nninit_theory_act_name": (_S, [_I]),
    "nninit_theory_phase_name": (_S, [_I]),
    "nninit_theory_analyze": (_I, [ctypes.POINTER(TheoryNet), _D, ctypes.POINTER(TheoryPoint), _PErr]),
    "nninit_theory_layers": (_I, [ctypes.POINTER(TheoryNet), _D, _D, _I, ctypes.POINTER(TheoryLayer), _PErr]),
    "nninit_theory_critical": (_I, [_I, _D, _D, _D, ctypes.POINTER(_D), _PErr]),
    "nninit_theory_from_init": (_I, [ctypes.POINTER(Init), _I64, _I64, ctypes.POINTER(_D), ctypes.POINTER(_D),
                                     _PErr]),
    "nninit_advise": (_I, [_P, ctypes.POINTER(ctypes.POINTER(Advice)), _PErr]),
    "nninit_advice_free": (None, [ctypes.POINTER(Advice)]),
    "nninit_advice_kind_name": (_S, [_I]),
    "nninit_advice_fix": (_I, [_P, _S, ctypes.POINTER(Advice), ctypes.POINTER(ctypes.c_void_p), _PErr]),
}


def _candidates():
    src = os.path.normpath(os.path.join(_HERE, "..", "..", "build", "libnninit.so"))
    yield src
    try:
        from . import _config  # written by `make install`
        yield os.path.join(_config.LIBDIR, "libnninit.so.0")
    except ImportError:
        pass
    yield "libnninit.so.0"


def _load():
    env = os.environ.get("NNINIT_LIBRARY")
    if env:
        try:
            return ctypes.CDLL(env)
        except OSError as e:
            raise OSError("NNINIT_LIBRARY=%s: cannot load it (%s); unset it or point it at build/libnninit.so"
                          % (env, e)) from None
    tried = []
    for path in _candidates():
        if os.sep in path and not os.path.exists(path):
            tried.append(path)
            continue
        try:
            return ctypes.CDLL(path)
        except OSError as e:
            tried.append("%s (%s)" % (path, e))
    raise OSError("libnninit: not found (tried %s); run `make` in the source tree, `make install`, or set "
                  "NNINIT_LIBRARY=/path/to/libnninit.so" % ", ".join(tried))


lib = _load()
for _name, (_res, _args) in _SIGNATURES.items():
    try:
        _fn = getattr(lib, _name)
    except AttributeError:
        raise ImportError("%s: the library has no %s; it is older than this package (rebuild with `make`)"
                          % (lib._name, _name)) from None
    _fn.restype = _res
    _fn.argtypes = _args

VERSION = lib.nninit_version().decode()


# ---- errors ------------------------------------------------------------

def raise_for(status, err, not_found=ValueError):
    """Raises the Python exception for a library status: the library's
    one-line message, typed by what went wrong."""
    msg = err.msg.decode("utf-8", "replace") or lib.nninit_status_str(status).decode()
    if status == ENOMEM:
        raise MemoryError(msg)
    if status == EIO:
        code = err.sys_errno or _errno.EIO
        raise OSError(code, msg)
    if status == ENOTFOUND:
        if not_found is FileNotFoundError:
            raise FileNotFoundError(_errno.ENOENT, msg)
        raise not_found(msg)
    if status == ENUMERIC:
        raise ArithmeticError(msg)
    if status == EMISUSE:
        raise RuntimeError(msg)
    # EINVAL, EOVERFLOW, EFORMAT, EUNSUPPORTED: the request is wrong for this input
    raise ValueError(msg)


def call(fn, *args, not_found=ValueError):
    """Calls a library function whose last argument is nninit_err *, raising
    on a status other than NNINIT_OK."""
    err = Err()
    status = fn(*args, ctypes.byref(err))
    if status != OK:
        raise_for(status, err, not_found)


def parse_enum(fn, text, what):
    if not isinstance(text, str):
        raise TypeError("%s must be a str, not %s" % (what, type(text).__name__))
    out = ctypes.c_int()
    call(fn, text.encode(), ctypes.byref(out))
    return out.value


def dims_of(shape):
    """A shape (a tuple of ints, or one int) checked: at most 8 dims, each >= 1."""
    if isinstance(shape, int) and not isinstance(shape, bool):
        shape = (shape,)
    try:
        dims = tuple(shape)
    except TypeError:
        raise TypeError("shape must be a tuple of ints, not %s" % type(shape).__name__) from None
    if len(dims) > MAX_DIMS:
        raise ValueError("shape %s: at most %d dimensions" % (dims, MAX_DIMS))
    for d in dims:
        if isinstance(d, bool) or not hasattr(d, "__index__"):
            raise TypeError("shape %s: dimensions must be ints" % (dims,))
        if not 1 <= d.__index__() < 1 << 62:
            raise ValueError("shape %s: every dimension must be >= 1" % (dims,))
    return tuple(d.__index__() for d in dims)


def make_shape(shape):
    """A Shape from a tuple of ints (0-D: ())."""
    dims = dims_of(shape)
    s = Shape()
    s.ndim = len(dims)
    for i, d in enumerate(dims):
        s.dim[i] = d
    return s


def make_shape_any(dims):
    """A Shape for a file tensor: dims may be 0 (empty tensors)."""
    if len(dims) > MAX_DIMS:
        raise ValueError("shape %s: at most %d dimensions" % (tuple(dims), MAX_DIMS))
    s = Shape()
    s.ndim = len(dims)
    for i, d in enumerate(dims):
        s.dim[i] = d
    return s


def parse_init(spec):
    if not isinstance(spec, str):
        raise TypeError("spec must be a str (a name, a call or Keras JSON), not %s" % type(spec).__name__)
    init = Init()
    call(lib.nninit_init_parse, spec.encode(), ctypes.byref(init))
    if init.stft_window_owned:
        # A list window's values were allocated by the parse; Python copies the struct freely, so
        # the values move into a buffer Python owns (kept alive on the struct) and C's are freed.
        n = init.stft_window_len
        buf = (ctypes.c_double * n)(*init.stft_window_values[:n])
        lib.nninit_init_clear(ctypes.byref(init))
        init.stft_window_values = ctypes.cast(buf, ctypes.POINTER(ctypes.c_double))
        init.stft_window_len = n
        init._window_values = buf
    return init
