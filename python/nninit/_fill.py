"""gen, fill_ and Generator: one tensor at a time."""
import ctypes
import sys
import threading

import numpy as np

from . import _lib
from ._lib import lib

_U64 = 1 << 64

# NumPy dtype -> (nninit_dtype generated, nninit_file_dtype stored)
_NP_DTYPES = {np.dtype(np.float32): (_lib.F32, _lib.FD["F32"]),
              np.dtype(np.float64): (_lib.F64, _lib.FD["F64"]),
              np.dtype(np.float16): (_lib.F32, _lib.FD["F16"])}
_DTYPE_NAMES = ("float32", "float64", "float16", "bfloat16")


def _torch():
    """torch if the caller's process has it importable, else None."""
    mod = sys.modules.get("torch")
    if mod is not None:
        return mod
    try:
        import torch
        return torch
    except ImportError:
        return None


def _is_torch_tensor(x):
    mod = sys.modules.get("torch")
    return mod is not None and isinstance(x, mod.Tensor)


def seed_value(seed):
    """A seed as the library takes it: any int in [-2**63, 2**64), negative
    ones as their two's complement (what torch.manual_seed does)."""
    if isinstance(seed, bool) or not hasattr(seed, "__index__"):
        raise TypeError("seed must be an int, not %s" % type(seed).__name__)
    seed = seed.__index__()
    if not -(1 << 63) <= seed < _U64:
        raise ValueError("seed %d: out of range; expected an int in [-2**63, 2**64)" % seed)
    return seed % _U64


def _count(value, what, lo, hi):
    if isinstance(value, bool) or not hasattr(value, "__index__"):
        raise TypeError("%s must be an int, not %s" % (what, type(value).__name__))
    value = value.__index__()
    if not lo <= value < hi:
        raise ValueError("%s %d: out of range; expected %d <= %s < %d" % (what, value, lo, what, hi))
    return value


class Generator:
    """A random stream that lives across calls.

    kind: "philox" (counter-based; element i depends only on seed, stream
    and i, so nothing advances between calls), "torch" (PyTorch 1.13's CPU
    generator, the kernel variant PyTorch picks on this CPU), "torch:default",
    "torch:avx2", "torch2", "torch2:default", "torch2:avx2".

    A torch Generator continues across calls exactly as successive init_
    calls after torch.manual_seed(seed) do:

        >>> import nninit
        >>> g = nninit.Generator("torch", 42)
        >>> w = nninit.gen("kaiming_uniform_(a=math.sqrt(5))", (30, 20), layout="torch", generator=g)
        >>> b = nninit.gen("uniform_(a=-0.22360679774997896, b=0.22360679774997896)", (30,), generator=g)

    w and b are then torch.nn.Linear(20, 30).weight and .bias after
    torch.manual_seed(42), bit for bit. A Generator may be used from one
    thread at a time (calls are serialized by a lock).
    """

    def __init__(self, kind="philox", seed=0):
        self._rng = ctypes.c_void_p()
        code = _lib.parse_enum(lib.nninit_rng_kind_parse, kind, "kind")
        _lib.call(lib.nninit_rng_new, code, seed_value(seed), ctypes.byref(self._rng))
        self._lock = threading.Lock()

    def __del__(self):
        rng = getattr(self, "_rng", None)
        if rng:
            lib.nninit_rng_free(rng)
            self._rng = None

    @property
    def kind(self):
        """The kind as given ("torch"), see resolved_kind for the variant."""
        return lib.nninit_rng_kind_name(lib.nninit_rng_get_kind(self._rng)).decode()

    @property
    def resolved_kind(self):
        """The torch kinds after detection: "torch:avx2" or "torch:default" ..."""
        return lib.nninit_rng_kind_name(lib.nninit_rng_resolved_kind(self._rng)).decode()

    @property
    def seed(self):
        return lib.nninit_rng_seed(self._rng)

    @property
    def is_torch(self):
        return lib.nninit_rng_get_kind(self._rng) != _lib.RNG_PHILOX

    def __repr__(self):
        return "nninit.Generator(%r, %d)" % (self.kind, self.seed)

    def get_state(self):
        """The state in the byte layout of torch.get_rng_state(): a
        torch.uint8 tensor of 5056 bytes when torch is installed (pass it to
        torch.set_rng_state to continue this stream in PyTorch), else a NumPy
        uint8 array with the same bytes."""
        self._need_torch_kind("get_state")
        buf = np.empty(_lib.TORCH_STATE_SIZE, dtype=np.uint8)
        with self._lock:
            _lib.call(lib.nninit_rng_torch_state_get, self._rng, buf.ctypes.data)
        torch = _torch()
        return torch.from_numpy(buf) if torch is not None else buf

    def set_state(self, state):
        """Loads torch.get_rng_state() (a torch uint8 tensor, a NumPy uint8
        array or bytes; 5056 or the legacy 5048 bytes): this generator then
        continues PyTorch's stream, cached normal included."""
        self._need_torch_kind("set_state")
        if _is_torch_tensor(state):
            state = state.detach().cpu().contiguous().numpy()
        if isinstance(state, (bytes, bytearray, memoryview)):
            state = np.frombuffer(bytes(state), dtype=np.uint8)
        if not isinstance(state, np.ndarray) or state.dtype != np.uint8 or state.ndim != 1:
            raise TypeError("set_state: expected torch.get_rng_state() (a 1-D uint8 tensor), a 1-D uint8 array or "
                            "bytes, not %s" % type(state).__name__)
        state = np.ascontiguousarray(state)
        with self._lock:
            _lib.call(lib.nninit_rng_torch_state_set, self._rng, state.ctypes.data, state.size)

    def _need_torch_kind(self, what):
        if not self.is_torch:
            raise ValueError("%s: a philox Generator has no state to save (it is counter-based: seed and stream "
                             "determine every value); use a torch kind" % what)


def _target(out, layout):
    """(pointer, shape tuple, numpy dtype name, default layout) of a
    writable C-contiguous NumPy array or CPU torch tensor."""
    if isinstance(out, np.ndarray):
        if not out.flags.c_contiguous:
            raise ValueError("fill_: the array is not C-contiguous; pass np.ascontiguousarray(a) and copy back, or "
                             "fill a contiguous array")
        if not out.flags.writeable:
            raise ValueError("fill_: the array is read-only; fill a writeable array")
        dt = out.dtype
        if dt not in _NP_DTYPES:
            raise TypeError("fill_: array dtype %s; expected float32, float64 or float16 in native byte order"
                            % dt)
        return out.ctypes.data, out.shape, dt.name, "keras"
    if _is_torch_tensor(out):
        torch = sys.modules["torch"]
        if out.device.type != "cpu":
            raise ValueError("fill_: the tensor is on %s; nninit fills CPU memory (fill a CPU tensor, then .to())"
                             % out.device)
        if out.layout != torch.strided:
            raise ValueError("fill_: the tensor has layout %s; expected a dense (strided) tensor" % out.layout)
        if not out.is_contiguous():
            raise ValueError("fill_: the tensor is not contiguous; fill t.contiguous() and copy back, or fill a "
                             "contiguous tensor")
        names = {torch.float32: "float32", torch.float64: "float64", torch.float16: "float16",
                 torch.bfloat16: "bfloat16"}
        if out.dtype not in names:
            raise TypeError("fill_: tensor dtype %s; expected torch.float32, float64, float16 or bfloat16"
                            % out.dtype)
        return out.data_ptr(), tuple(out.shape), names[out.dtype], "torch"
    raise TypeError("fill_: expected a NumPy array or a torch tensor, not %s" % type(out).__name__)


class _Job:
    """A checked request: initializer, shape, layout, stream, threads, and
    the generator to draw from (checked before any memory is allocated)."""

    def __init__(self, spec, shape, layout, seed, rng, stream, threads, generator):
        self.init = _lib.parse_init(spec)
        self.shape = _lib.make_shape(shape)
        numel = ctypes.c_int64()
        _lib.call(lib.nninit_shape_numel, ctypes.byref(self.shape), ctypes.byref(numel))
        self.numel = numel.value
        self.layout = _lib.parse_enum(lib.nninit_layout_parse, layout, "layout")
        self.stream = _count(stream, "stream", 0, _U64)
        self.threads = _count(threads, "threads", 0, 1 << 16)
        if generator is not None and not isinstance(generator, Generator):
            raise TypeError("generator must be an nninit.Generator, not %s" % type(generator).__name__)
        self.generator = generator if generator is not None else Generator(rng, seed)

    def check_dtype(self, dtype_name):
        if dtype_name in ("float16", "bfloat16") and self.generator.is_torch:
            raise ValueError("dtype %s: the torch generators reproduce float32 and float64 only (PyTorch's "
                             "half-precision kernels are not replayed); use float32 or rng=\"philox\""
                             % dtype_name)

    def run(self, ptr, dtype_name):
        """Fills numel elements of dtype_name at ptr; half types are
        generated in float32 and rounded once (as `nninit gen --dtype`)."""
        self.check_dtype(dtype_name)
        g = self.generator
        opts = _lib.FillOpts(self.layout, _lib.F64 if dtype_name == "float64" else _lib.F32, self.stream,
                             self.threads)
        args = (ctypes.byref(self.init), ctypes.byref(self.shape), ctypes.byref(opts), g._rng)
        if dtype_name not in ("float16", "bfloat16"):
            with g._lock:
                _lib.call(lib.nninit_fill, *args, ptr)
            return
        scratch = np.empty(self.numel, dtype=np.float32)
        with g._lock:
            _lib.call(lib.nninit_fill, *args, scratch.ctypes.data)
        to = _lib.FD["F16"] if dtype_name == "float16" else _lib.FD["BF16"]
        _lib.call(lib.nninit_convert_finite, _lib.FD["F32"], scratch.ctypes.data, to, ptr, self.numel)


def gen(spec, shape, *, seed=0, layout="keras", dtype="float32", rng="philox", stream=0, threads=0,
        generator=None):
    """A new tensor of `shape` filled with the initializer `spec`.

    spec: any initializer nninit knows: a name ("he_normal",
      "kaiming_uniform_"), a call ("VarianceScaling(scale=2.0,
      mode='fan_out')") or Keras serialized JSON.
    shape: a tuple of ints, outermost first (() for a scalar).
    layout: "keras" ((*kernel, in, out); Dense (in, out)) or "torch"
      ((out, in, *kernel); Linear (out, in)); it decides the fans.
    dtype: "float32", "float64", "float16" (NumPy arrays) or "bfloat16" (a
      torch.bfloat16 tensor: NumPy has no bfloat16; needs torch). Half
      types are generated in float32 and rounded once, Philox only.
    rng: "philox" (default; the same bits for any thread count, except an
      orthogonal matrix with rows * cols^2 > 2^24, whose last bits follow
      OpenBLAS's OPENBLAS_NUM_THREADS), "torch"
      (PyTorch 1.13's CPU generator after torch.manual_seed(seed)), ...;
      see Generator. generator: an nninit.Generator to draw from instead of
      a fresh (rng, seed) one; torch kinds continue across calls.
    stream: the Philox stream (independent sequences for one seed).
    threads: 0 = every CPU; the values never depend on it.

    Returns a C-contiguous numpy.ndarray (torch.Tensor for bfloat16), equal
    bit for bit to `nninit gen SPEC --shape ... -o file.npy` with the same
    options:

        >>> import nninit
        >>> w = nninit.gen("he_normal", (3, 3, 64, 128), seed=42)
        >>> w.shape, w.dtype
        ((3, 3, 64, 128), dtype('float32'))
    """
    if dtype not in _DTYPE_NAMES:
        raise ValueError("dtype %r: expected one of %s" % (dtype, ", ".join(_DTYPE_NAMES)))
    job = _Job(spec, shape, layout, seed, rng, stream, threads, generator)
    job.check_dtype(dtype)
    dims = _lib.dims_of(shape)
    if dtype == "bfloat16":
        torch = _torch()
        if torch is None:
            raise ValueError("dtype bfloat16: NumPy has no bfloat16 type and torch is not installed; install torch "
                             "(Debian: python3-torch) for a torch.bfloat16 tensor, or use float32/float16")
        out = torch.empty(dims, dtype=torch.bfloat16)
        job.run(out.data_ptr(), dtype)
        return out
    out = np.empty(dims, dtype=dtype)
    job.run(out.ctypes.data, dtype)
    return out


def fill_(out, spec, *, seed=0, layout=None, rng="philox", stream=0, threads=0, generator=None):
    """Fills `out` in place with the initializer `spec` and returns it.

    out: a writable C-contiguous NumPy array (float32, float64, float16) or
      a contiguous CPU torch tensor (float32, float64, float16, bfloat16);
      the library writes straight into its memory (no copy; half types go
      through one float32 buffer and are rounded once). Anything else is
      refused with TypeError/ValueError before a value is written.
    layout: None = "torch" for a torch tensor, "keras" for a NumPy array.
    Other arguments as for gen().

        >>> import numpy as np, nninit
        >>> w = np.empty((784, 256), dtype=np.float32)
        >>> _ = nninit.fill_(w, "glorot_uniform", seed=1)
        >>> bool(np.array_equal(w, nninit.gen("glorot_uniform", (784, 256), seed=1)))
        True
    """
    ptr, shape, dtype_name, default_layout = _target(out, layout)
    _Job(spec, shape, layout or default_layout, seed, rng, stream, threads, generator).run(ptr, dtype_name)
    return out
