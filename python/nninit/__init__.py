"""nninit: neural-network weight initialization from NumPy and PyTorch.

Pure Python over the shared library libnninit (ctypes; NumPy required,
torch optional):

    >>> import nninit
    >>> w = nninit.gen("he_normal", (3, 3, 64, 128), seed=42)      # NumPy float32, Keras HWIO
    >>> w.shape
    (3, 3, 64, 128)

gen / fill_ fill one tensor (Philox by default: the same bits for any
thread count, large orthogonal matrices excepted (OpenBLAS's thread count
moves their last bits); rng="torch" replays PyTorch's CPU generator),
Generator keeps a stream across calls, nninit.torch.init_module re-initializes a whole
torch.nn.Module in place, model / load / save handle whole models and tensor
files, theory gives mean-field predictions, advise (and nninit.torch.advise
on a live module) lints a model's initialization. Errors: ValueError (bad spec,
shape, option, corrupt file; the library's one-line message), TypeError
(wrong Python type), MemoryError, OSError (FileNotFoundError for a missing
file), ArithmeticError (a computation diverged).
"""
from ._lib import VERSION as _LIB_VERSION
from ._fill import Generator, fill_, gen
from ._files import load, model, save
from ._theory import theory
from ._advise import advise

__version__ = _LIB_VERSION
__all__ = ["gen", "fill_", "Generator", "model", "load", "save", "theory", "advise", "stream_from_name", "library_version"]


def stream_from_name(name):
    """The Philox stream nninit gives a tensor called `name` (64-bit FNV-1a of
    its UTF-8 bytes), as `nninit model` and nninit.torch.init_module use."""
    if not isinstance(name, str):
        raise TypeError("name must be a str, not %s" % type(name).__name__)
    from ._lib import lib
    return lib.nninit_stream_from_name(name.encode())


def library_version():
    """The version of the loaded libnninit ("0.1.0")."""
    return _LIB_VERSION


def __getattr__(name):
    # nninit.torch imports torch (slow, optional): only when first used.
    if name == "torch":
        import importlib
        return importlib.import_module(".torch", __name__)
    raise AttributeError("module 'nninit' has no attribute %r" % name)
