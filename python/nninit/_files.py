"""Whole models (model) and tensor files (load, save)."""
import ctypes
import json
import os

import numpy as np

from . import _lib
from ._fill import Generator, _count, _is_torch_tensor, _torch
from ._lib import lib

# NumPy dtype <-> safetensors dtype name (bfloat16 has no NumPy type: torch or float32)
_NP_TO_FD = {np.dtype(np.float32): "F32", np.dtype(np.float64): "F64", np.dtype(np.float16): "F16",
             np.dtype(np.int64): "I64", np.dtype(np.int32): "I32", np.dtype(np.int16): "I16",
             np.dtype(np.int8): "I8", np.dtype(np.uint8): "U8", np.dtype(np.uint16): "U16",
             np.dtype(np.uint32): "U32", np.dtype(np.uint64): "U64", np.dtype(np.bool_): "BOOL",
             np.dtype(np.complex64): "C64"}
_FD_TO_NP = {v: k for k, v in _NP_TO_FD.items()}
_MODEL_DTYPES = ("float32", "float64", "float16", "bfloat16")


# ---- model ---------------------------------------------------------------

def _open_model(keras_json, torch_recipe, spec):
    given = [k for k, v in (("keras_json", keras_json), ("torch_recipe", torch_recipe), ("spec", spec))
             if v is not None]
    if len(given) != 1:
        raise ValueError("model: give exactly one of keras_json=, torch_recipe= or spec= (got %s)"
                         % (", ".join(given) or "none"))
    m = ctypes.c_void_p()
    if torch_recipe is not None:
        if not isinstance(torch_recipe, str):
            raise TypeError("torch_recipe must be a str, not %s" % type(torch_recipe).__name__)
        _lib.call(lib.nninit_model_from_torch, torch_recipe.encode(), ctypes.byref(m))
    elif keras_json is not None:
        if isinstance(keras_json, dict):
            keras_json = json.dumps(keras_json)
        if isinstance(keras_json, os.PathLike) or (isinstance(keras_json, str) and
                                                   not keras_json.lstrip().startswith("{")):
            _lib.call(lib.nninit_model_from_keras_file, os.fsencode(keras_json), ctypes.byref(m),
                      not_found=FileNotFoundError)
        elif isinstance(keras_json, str):
            _lib.call(lib.nninit_model_from_keras, keras_json.encode(), ctypes.byref(m))
        else:
            raise TypeError("keras_json must be JSON text, a dict or a path, not %s" % type(keras_json).__name__)
    else:
        if isinstance(spec, dict):
            spec = json.dumps(spec)
        if not isinstance(spec, str):
            raise TypeError("spec must be JSON text or a dict, not %s" % type(spec).__name__)
        _lib.call(lib.nninit_model_from_spec, spec.encode(), ctypes.byref(m))
    return m


def model(keras_json=None, torch_recipe=None, spec=None, *, seed=0, rng="philox", dtype="float32", overrides=None,
          threads=0):
    """The initial weights of a whole model as {name: array}, in the
    framework's order (PyTorch state_dict order, Keras variable order).

    Exactly one source:
      torch_recipe  "Sequential(Linear(784, 256), ReLU(), Linear(256, 10))"
                    (the modules of `nninit model --torch`);
      keras_json    a Keras 3 model JSON (model.to_json()) as text or dict,
                    or the path of a .json / .keras file;
      spec          nninit's model spec, JSON text or a dict:
                    {"tensors": [{"name": "w", "shape": [784, 256], "init": "he_normal"}]}.
    seed, rng: as `nninit model --seed --rng`; rng="philox" gives each tensor
      the stream of its name, rng="torch" one generator in PyTorch's
      construction order (torch.manual_seed(seed); Module(...) bit for bit).
    dtype: "float32", "float64", "float16" (rounded once from float32) or
      "bfloat16" (torch tensors; needs torch). Int64 counters (BatchNorm's
      num_batches_tracked) are int64 zeros.
    overrides: {tensor name: spec} replacing initializers.

    The values equal what `nninit model ... --seed S --rng R -o FILE` writes:

        >>> import nninit
        >>> w = nninit.model(torch_recipe="Sequential(Linear(4, 3), ReLU(), Linear(3, 2))", seed=0, rng="torch")
        >>> list(w), w["0.weight"].shape
        (['0.weight', '0.bias', '2.weight', '2.bias'], (3, 4))
    """
    if dtype not in _MODEL_DTYPES:
        raise ValueError("dtype %r: expected one of %s" % (dtype, ", ".join(_MODEL_DTYPES)))
    threads = _count(threads, "threads", 0, 1 << 16)
    gen = Generator(rng, seed)
    half = dtype in ("float16", "bfloat16")
    if half and gen.is_torch:
        raise ValueError("dtype %s: the torch generators reproduce float32 and float64 only (PyTorch's "
                         "half-precision kernels are not replayed); use float32 or rng=\"philox\"" % dtype)
    torch = None
    if dtype == "bfloat16":
        torch = _torch()
        if torch is None:
            raise ValueError("dtype bfloat16: NumPy has no bfloat16 type and torch is not installed; install torch "
                             "(Debian: python3-torch) or use float32/float16")
    m = _open_model(keras_json, torch_recipe, spec)
    try:
        if overrides is not None:
            if not isinstance(overrides, dict):
                raise TypeError("overrides must be a dict of tensor name -> spec, not %s" % type(overrides).__name__)
            for name, s in overrides.items():
                if not isinstance(name, str) or not isinstance(s, str):
                    raise TypeError("overrides: names and specs must be str (%r: %r)" % (name, s))
                _lib.call(lib.nninit_model_override, m, name.encode(), s.encode())
        n = lib.nninit_model_count(m)
        outs = (ctypes.c_void_p * n)()
        arrays = []
        buf = _lib.ModelTensor()
        gen_dtype = np.float64 if dtype == "float64" else np.float32
        for i in range(n):
            t = lib.nninit_model_tensor_at(m, i, ctypes.byref(buf)).contents
            shape = tuple(t.shape.dim[:t.shape.ndim])
            a = np.empty(shape, dtype=np.int64 if t.is_int64 else gen_dtype)
            arrays.append((t.name.decode(), a, bool(t.is_int64)))
            outs[i] = a.ctypes.data
        _lib.call(lib.nninit_model_fill, m, gen._rng, b"", _lib.F64 if dtype == "float64" else _lib.F32, threads,
                  outs)
    finally:
        lib.nninit_model_free(m)
    result = {}
    for name, a, is_int in arrays:
        if half and not is_int:
            a = _round_half(a, dtype, torch)
        result[name] = a
    return result


def _round_half(a, dtype, torch):
    """float32 values rounded once to float16 (NumPy) or bfloat16 (torch)."""
    if dtype == "float16":
        out = np.empty(a.shape, dtype=np.float16)
        _lib.call(lib.nninit_convert_finite, _lib.FD["F32"], a.ctypes.data, _lib.FD["F16"], out.ctypes.data, a.size)
        return out
    out = torch.empty(a.shape, dtype=torch.bfloat16)
    _lib.call(lib.nninit_convert_finite, _lib.FD["F32"], a.ctypes.data, _lib.FD["BF16"], out.data_ptr(), a.size)
    return out


# ---- load -------------------------------------------------------------------

def load(path):
    """Every tensor of a tensor file as {name: array}, in file order.

    The format is detected from the content: safetensors, a sharded
    checkpoint's *.safetensors.index.json, .npz, .npy (one tensor, named
    after the file without .npy) or a folder of .npy files. Arrays are
    NumPy in the file's dtype; bfloat16 tensors become torch.bfloat16
    tensors when torch is installed, else float32 arrays (exact). Missing
    files raise FileNotFoundError; corrupt ones ValueError with the first
    problem found.
    """
    tf = ctypes.c_void_p()
    _lib.call(lib.nninit_tensor_file_open, os.fsencode(path), ctypes.byref(tf), not_found=FileNotFoundError)
    try:
        out = {}
        for i in range(lib.nninit_tensor_file_count(tf)):
            info = lib.nninit_tensor_file_info(tf, i).contents
            name = info.name.decode()
            fd = _lib.FILE_DTYPES[info.dtype]
            shape = tuple(info.shape.dim[:info.shape.ndim])
            if fd == "BF16":
                bits = np.empty(shape, dtype=np.uint16)
                _lib.call(lib.nninit_tensor_file_read, tf, i, bits.ctypes.data)
                torch = _torch()
                if torch is not None:
                    out[name] = torch.from_numpy(bits.view(np.int16)).view(torch.bfloat16)
                else:
                    wide = np.empty(shape, dtype=np.float32)
                    _lib.call(lib.nninit_convert, _lib.FD["BF16"], bits.ctypes.data, _lib.FD["F32"],
                              wide.ctypes.data, bits.size)
                    out[name] = wide
                continue
            if fd not in _FD_TO_NP:
                raise ValueError("%s: tensor '%s' has dtype %s, which NumPy cannot hold; expected F32, F64, F16, "
                                 "BF16 or an integer type" % (os.fspath(path), name, fd))
            a = np.empty(shape, dtype=_FD_TO_NP[fd])
            if a.nbytes != info.nbytes:
                raise ValueError("%s: tensor '%s' holds %d bytes for shape %s" % (os.fspath(path), name,
                                                                                   info.nbytes, shape))
            _lib.call(lib.nninit_tensor_file_read, tf, i, a.ctypes.data)
            out[name] = a
        return out
    finally:
        lib.nninit_tensor_file_free(tf)


# ---- save -------------------------------------------------------------------

def _as_array(name, value):
    """(C-contiguous array of the bytes to write, safetensors dtype name)."""
    if _is_torch_tensor(value):
        import torch
        value = value.detach().cpu().contiguous()
        if value.dtype == torch.bfloat16:
            return value.view(torch.int16).numpy().view(np.uint16), "BF16"
        value = value.numpy()
    if not isinstance(value, np.ndarray):
        raise TypeError("save: tensor '%s' is a %s; expected a NumPy array or a torch tensor"
                        % (name, type(value).__name__))
    dt = value.dtype.newbyteorder("=") if value.dtype.byteorder not in "=|" else value.dtype
    if dt not in _NP_TO_FD:
        raise TypeError("save: tensor '%s' has dtype %s; expected a float, integer, bool or complex64 type"
                        % (name, value.dtype))
    return np.require(value, dtype=dt, requirements="C"), _NP_TO_FD[dt]  # (ascontiguousarray makes 0-D 1-D)


_EXT_FORMATS = {".safetensors": "safetensors", ".npz": "npz", ".npy": "npy", ".json": "safetensors"}


def save(path, tensors, metadata=None, *, format=None, max_shard_size=0):
    """Writes {name: array} (NumPy arrays or CPU torch tensors) to `path`,
    atomically (a failure leaves an existing file untouched).

    format: from the extension unless given: ".safetensors" (byte-identical
      to safetensors.torch.save_file), ".npz" (numpy.savez), ".npy" (one
      tensor: an array, or a dict of one); also "npz-deflated"
      (numpy.savez_compressed) and "npy-dir" (a folder of NAME.npy).
    metadata: safetensors __metadata__ {str: str}; None writes
      {"format": "pt"} (what Hugging Face loaders check), {} writes none.
    max_shard_size: safetensors only; > 0 splits into Hugging Face shards
      (model-00001-of-0000N.safetensors next to `path`, plus
      `path`.index.json, i.e. name the path model.safetensors).

        >>> import numpy as np, nninit, tempfile, os
        >>> d = tempfile.mkdtemp()
        >>> nninit.save(os.path.join(d, "w.safetensors"), {"w": np.ones((2, 3), np.float32)})
        >>> nninit.load(os.path.join(d, "w.safetensors"))["w"].sum()
        6.0
    """
    fspath = os.fspath(path)
    if format is None:
        ext = os.path.splitext(fspath)[1]
        if ext not in _EXT_FORMATS:
            raise ValueError("save: cannot tell the format of '%s' from its extension; use .safetensors, .npz or "
                             ".npy, or format=\"safetensors\" | \"npz\" | \"npz-deflated\" | \"npy-dir\"" % fspath)
        format = _EXT_FORMATS[ext]
    if format == "npy":
        if isinstance(tensors, dict):
            if len(tensors) != 1:
                raise ValueError("save: a .npy file holds one tensor; got %d (use .npz or .safetensors)"
                                 % len(tensors))
            (name, tensors), = tensors.items()
        a, fd = _as_array("npy", tensors)
        if fd not in ("F32", "F64", "F16", "BF16"):
            raise TypeError("save: .npy output holds float32, float64, float16 or bfloat16; got %s" % a.dtype)
        if metadata is not None or max_shard_size:
            raise ValueError("save: metadata and max_shard_size need safetensors")
        kind = {"F32": _lib.F32, "F64": _lib.F64, "F16": _lib.F16, "BF16": _lib.BF16}[fd]
        _lib.call(lib.nninit_npy_write, fspath.encode(), kind, ctypes.byref(_lib.make_shape_any(a.shape)),
                  a.ctypes.data)
        return
    fmt = _lib.parse_enum(lib.nninit_file_format_parse, format, "format")
    if not isinstance(tensors, dict):
        raise TypeError("save: tensors must be a dict of name -> array, not %s" % type(tensors).__name__)
    names, arrays, descs = [], [], (_lib.TensorDesc * max(len(tensors), 1))()
    for i, (name, value) in enumerate(tensors.items()):
        if not isinstance(name, str):
            raise TypeError("save: tensor names must be str, not %s" % type(name).__name__)
        a, fd = _as_array(name, value)
        names.append(name.encode())
        arrays.append(a)
        descs[i].name = names[-1]
        descs[i].dtype = _lib.FD[fd]
        descs[i].shape = _lib.make_shape_any(a.shape)
    opts = lib.nninit_write_opts_default()
    opts.format = fmt
    opts.max_shard_size = _count(max_shard_size, "max_shard_size", 0, 1 << 64)
    if max_shard_size and fmt != _lib.FORMAT_SAFETENSORS:
        raise ValueError("save: max_shard_size needs format safetensors")
    meta_keep = None
    if metadata is not None:
        if not isinstance(metadata, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                                     for k, v in metadata.items()):
            raise TypeError("save: metadata must be a dict of str -> str")
        if fmt != _lib.FORMAT_SAFETENSORS:
            raise ValueError("save: metadata needs format safetensors")
        flat = [s.encode() for kv in metadata.items() for s in kv]
        meta_keep = (ctypes.c_char_p * (len(flat) + 1))(*flat, None)
        opts.metadata = ctypes.cast(meta_keep, ctypes.POINTER(ctypes.c_char_p))

    def source(user, index, out, err):
        a = arrays[index]
        ctypes.memmove(out, a.ctypes.data, a.nbytes)
        return _lib.OK

    _lib.call(lib.nninit_tensors_write, fspath.encode(), descs, len(arrays), ctypes.byref(opts),
              _lib.TENSOR_SOURCE(source), None)
