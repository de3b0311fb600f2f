"""nninit.gen and nninit.fill_: the CLI's .npy bit for bit, in-place fills
without copies, and every refusal."""
import os
import subprocess
import sys

import numpy as np
import pytest

import nninit
from nninit import _lib
from conftest import ROOT, needs_torch

# (spec, shape, options) covering both layouts, every dtype, streams and the torch generator
CASES = [
    ("he_normal", (3, 3, 16, 8), {}),
    ("glorot_uniform", (64, 32), {"seed": 7, "stream": 3}),
    ("orthogonal", (20, 12), {"seed": 1, "dtype": "float64"}),
    ("kaiming_uniform_(a=math.sqrt(5))", (30, 20), {"seed": 42, "layout": "torch", "rng": "torch"}),
    ("trunc_normal_(std=0.02)", (17, 5), {"seed": 3, "layout": "torch", "rng": "torch", "dtype": "float64"}),
    ("VarianceScaling(scale=2.0, mode=\"fan_out\", distribution=\"uniform\")", (5, 4, 6), {"seed": 9}),
    ("lecun_normal", (1000,), {"seed": 11, "dtype": "float16"}),
    ("RandomNormal(stddev=0.5)", (), {"seed": 5}),
    ("normal_", (4, 5), {"seed": -1, "rng": "torch"}),
    ("STFT(window=[0.5, 1.0, 0.25])", (3, 1, 4), {}),
]


def test_value_window_owned_by_python():
    # The parse's C allocation is released at once; the values live in a buffer the struct keeps.
    init = _lib.parse_init("STFT(window=[0.5, 1.0, 0.25])")
    assert init.stft_window_owned == 0
    assert init.stft_window_values[:init.stft_window_len] == [0.5, 1.0, 0.25]


def cli_args(spec, shape, opts, path):
    args = ["gen", spec, "--shape", ",".join(map(str, shape)) if shape else "()", "-o", path,
            "--seed", str(opts.get("seed", 0))]
    for key, flag in (("layout", "--layout"), ("dtype", "--dtype"), ("rng", "--rng"), ("stream", "--stream")):
        if key in opts:
            args += [flag, str(opts[key])]
    return args


@pytest.mark.parametrize("spec,shape,opts", CASES)
def test_gen_equals_cli_npy(cli, tmp_path, spec, shape, opts):
    path = str(tmp_path / "w.npy")
    cli(*cli_args(spec, shape, opts, path))
    want = np.load(path)
    got = nninit.gen(spec, shape, **opts)
    assert got.dtype == want.dtype and got.shape == want.shape
    assert got.tobytes() == want.tobytes()


@needs_torch
def test_gen_bfloat16_is_a_torch_tensor_equal_to_cli(cli, tmp_path):
    import torch
    path = str(tmp_path / "w.npy")
    cli(*cli_args("he_uniform", (33, 7), {"seed": 4, "dtype": "bfloat16"}, path))
    bits = np.load(path)  # the CLI stores bfloat16 as '<u2' bits
    got = nninit.gen("he_uniform", (33, 7), seed=4, dtype="bfloat16")
    assert isinstance(got, torch.Tensor) and got.dtype == torch.bfloat16
    assert np.array_equal(got.view(torch.int16).numpy().view(np.uint16), bits)


def test_threads_do_not_change_values():
    a = nninit.gen("truncated_normal", (513, 257), seed=2, threads=1)
    b = nninit.gen("truncated_normal", (513, 257), seed=2, threads=3)
    assert a.tobytes() == b.tobytes()
    assert not np.array_equal(a, nninit.gen("truncated_normal", (513, 257), seed=3))


def test_negative_seed_is_twos_complement():
    a = nninit.gen("normal_", (6,), seed=-5, rng="torch")
    b = nninit.gen("normal_", (6,), seed=2**64 - 5, rng="torch")
    assert a.tobytes() == b.tobytes()


def test_fill_numpy_in_place_no_copy():
    w = np.zeros((64, 48), dtype=np.float32)
    ptr = w.ctypes.data
    assert nninit.fill_(w, "he_normal", seed=8) is w
    assert w.ctypes.data == ptr
    assert w.tobytes() == nninit.gen("he_normal", (64, 48), seed=8).tobytes()
    h = np.zeros(100, dtype=np.float16)
    nninit.fill_(h, "glorot_normal", seed=8, stream=2)
    assert h.tobytes() == nninit.gen("glorot_normal", (100,), seed=8, stream=2, dtype="float16").tobytes()


def test_fill_defaults_to_keras_layout_for_numpy():
    w = np.empty((10, 40), dtype=np.float64)
    nninit.fill_(w, "he_uniform", seed=1)  # fan_in = 10 (Keras: (in, out))
    assert np.abs(w).max() <= np.sqrt(6 / 10)
    assert np.abs(w).max() > np.sqrt(6 / 40)


@needs_torch
def test_fill_torch_tensor_in_place():
    import torch
    t = torch.empty(30, 20)
    ptr = t.data_ptr()
    assert nninit.fill_(t, "kaiming_uniform_(a=math.sqrt(5))", seed=42, rng="torch") is t
    assert t.data_ptr() == ptr
    torch.manual_seed(42)
    lin = torch.nn.Linear(20, 30)
    assert torch.equal(t, lin.weight.detach())  # torch layout by default for tensors
    for dt, name in ((torch.float64, "float64"), (torch.float16, "float16"), (torch.bfloat16, "bfloat16")):
        x = torch.empty(7, 9, dtype=dt)
        nninit.fill_(x, "lecun_uniform", seed=3)
        want = nninit.gen("lecun_uniform", (7, 9), seed=3, dtype=name, layout="torch")
        want = want if isinstance(want, torch.Tensor) else torch.from_numpy(want)
        assert torch.equal(x, want)
    p = torch.nn.Parameter(torch.empty(4, 4))  # a leaf that requires grad: filled like init_ under no_grad
    nninit.fill_(p, "eye_")
    assert torch.equal(p.detach(), torch.eye(4))


# ---- refusals -----------------------------------------------------------

def test_unknown_initializer_message():
    with pytest.raises(ValueError) as e:
        nninit.gen("glorot_unifrom", (3, 3))
    assert str(e.value) == "unknown initializer 'glorot_unifrom'; did you mean 'glorot_uniform'?"


@pytest.mark.parametrize("kwargs,exc,needle", [
    ({"spec": "he_normal(", "shape": (3,)}, ValueError, "he_normal("),
    ({"spec": "RandomNormal(stddev=-1)", "shape": (3,)}, ValueError, "stddev"),
    ({"spec": "kaiming_uniform_", "shape": (10,), "layout": "torch"}, ValueError, "dim"),
    ({"spec": "Identity", "shape": (3, 3, 3)}, ValueError, "2-D"),
    ({"spec": "he_normal", "shape": (3, 0)}, ValueError, "every dimension must be >= 1"),
    ({"spec": "he_normal", "shape": (-2,)}, ValueError, "every dimension must be >= 1"),
    ({"spec": "he_normal", "shape": (1,) * 9}, ValueError, "at most 8 dimensions"),
    ({"spec": "he_normal", "shape": (2.5,)}, TypeError, "dimensions must be ints"),
    ({"spec": "he_normal", "shape": "3,3"}, TypeError, "dimensions must be ints"),
    ({"spec": "he_normal", "shape": None}, TypeError, "shape must be a tuple"),
    ({"spec": "he_normal", "shape": (2**40, 2**40)}, ValueError, "overflow"),
    ({"spec": 3, "shape": (3,)}, TypeError, "spec must be a str"),
    ({"spec": "he_normal", "shape": (3,), "layout": "nchw"}, ValueError, "nchw"),
    ({"spec": "he_normal", "shape": (3,), "rng": "mt"}, ValueError, "mt"),
    ({"spec": "he_normal", "shape": (3,), "dtype": "int8"}, ValueError, "expected one of float32"),
    ({"spec": "he_normal", "shape": (3,), "seed": 2**64}, ValueError, "seed"),
    ({"spec": "he_normal", "shape": (3,), "seed": "1"}, TypeError, "seed must be an int"),
    ({"spec": "he_normal", "shape": (3,), "stream": -1}, ValueError, "stream"),
    ({"spec": "he_normal", "shape": (3,), "threads": -1}, ValueError, "threads"),
    ({"spec": "he_normal", "shape": (3,), "rng": "torch", "dtype": "float16"}, ValueError, "half-precision"),
    # rounded from float32: a value beyond float16's range would be inf
    ({"spec": "Constant(70000)", "shape": (3,), "dtype": "float16"}, ValueError, "beyond its largest finite value 65504"),
    ({"spec": "he_normal", "shape": (3,), "generator": "g"}, TypeError, "nninit.Generator"),
])
def test_gen_errors(kwargs, exc, needle):
    kwargs = dict(kwargs)
    with pytest.raises(exc) as e:
        nninit.gen(kwargs.pop("spec"), kwargs.pop("shape"), **kwargs)
    assert needle in str(e.value)
    assert "\n" not in str(e.value)


def test_bfloat16_without_torch(monkeypatch):
    from nninit import _fill
    monkeypatch.setattr(_fill, "_torch", lambda: None)
    with pytest.raises(ValueError, match="NumPy has no bfloat16 type and torch is not installed"):
        nninit.gen("he_normal", (3,), dtype="bfloat16")


def test_fill_refuses_wrong_memory():
    a = np.zeros((8, 8), dtype=np.float32)
    with pytest.raises(ValueError, match="not C-contiguous"):
        nninit.fill_(a[:, ::2], "he_normal")
    with pytest.raises(ValueError, match="not C-contiguous"):
        nninit.fill_(a.T, "he_normal")
    with pytest.raises(TypeError, match="array dtype int32"):
        nninit.fill_(np.zeros(4, dtype=np.int32), "he_normal")
    with pytest.raises(TypeError, match="native byte order"):
        nninit.fill_(np.zeros(4, dtype=">f4"), "he_normal")
    ro = np.zeros(4, dtype=np.float32)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        nninit.fill_(ro, "he_normal")
    with pytest.raises(TypeError, match="expected a NumPy array or a torch tensor, not list"):
        nninit.fill_([0.0, 0.0], "he_normal")
    with pytest.raises(ValueError, match="every dimension must be >= 1"):
        nninit.fill_(np.zeros((0, 3), dtype=np.float32), "he_normal")
    # nothing was written by a refused or failed call
    b = np.full(5, 7.0, dtype=np.float32)
    with pytest.raises(ValueError):
        nninit.fill_(b, "RandomUniform(1, 0)")
    assert (b == 7.0).all()


@needs_torch
def test_fill_refuses_wrong_tensors():
    import torch
    t = torch.zeros(6, 4)
    with pytest.raises(ValueError, match="not contiguous"):
        nninit.fill_(t.t(), "he_normal")
    with pytest.raises(TypeError, match="tensor dtype torch.int64"):
        nninit.fill_(torch.zeros(3, dtype=torch.int64), "he_normal")
    with pytest.raises(ValueError, match="layout"):
        nninit.fill_(torch.zeros(3, 3).to_sparse(), "he_normal")
    with pytest.raises(ValueError, match="torch generators reproduce float32 and float64 only"):
        nninit.fill_(torch.zeros(3, 3, dtype=torch.bfloat16), "normal_", rng="torch")


def test_status_mapping():
    err = _lib.Err()
    err.msg = b"subject: what is wrong; what would be right"
    for status, exc in ((_lib.EINVAL, ValueError), (_lib.EFORMAT, ValueError), (_lib.EOVERFLOW, ValueError),
                        (_lib.EUNSUPPORTED, ValueError), (_lib.ENOMEM, MemoryError), (_lib.EIO, OSError),
                        (_lib.ENOTFOUND, ValueError), (_lib.ENUMERIC, ArithmeticError),
                        (_lib.EMISUSE, RuntimeError)):
        with pytest.raises(exc) as e:
            _lib.raise_for(status, err)
        assert "subject: what is wrong; what would be right" in str(e.value)
    err.sys_errno = 13
    with pytest.raises(PermissionError):
        _lib.raise_for(_lib.EIO, err)
    with pytest.raises(FileNotFoundError):
        _lib.raise_for(_lib.ENOTFOUND, err, FileNotFoundError)


def test_library_lookup_env(tmp_path):
    env = dict(os.environ, NNINIT_LIBRARY=str(tmp_path / "nope.so"), PYTHONPATH=os.path.join(ROOT, "python"))
    p = subprocess.run([sys.executable, "-c", "import nninit"], capture_output=True, text=True, env=env)
    assert p.returncode != 0
    assert "NNINIT_LIBRARY=%s: cannot load it" % (tmp_path / "nope.so") in p.stderr
    env["NNINIT_LIBRARY"] = os.path.join(ROOT, "build", "libnninit.so")
    p = subprocess.run([sys.executable, "-c", "import nninit; print(nninit.library_version())"],
                       capture_output=True, text=True, env=env)
    assert p.returncode == 0 and p.stdout.strip() == nninit.__version__


def test_import_does_not_import_torch():
    code = "import sys, nninit; nninit.gen('zeros', (2,)); print('torch' in sys.modules)"
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "python"))
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert p.stdout.strip() == "False", p.stderr


