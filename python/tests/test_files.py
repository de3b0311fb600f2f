"""nninit.model, nninit.load and nninit.save: the CLI's files value for value,
NumPy's readers, round trips in every format and dtype, and the refusals."""
import json
import os
import struct

import numpy as np
import pytest

import nninit
from conftest import ROOT, needs_torch

KERAS = os.path.join(ROOT, "tests", "fixtures", "keras")
RECIPE = "Sequential(Conv2d(3, 8, 3), BatchNorm2d(8), ReLU(), Flatten(), Linear(8 * 4 * 4, 10))"
SPEC = {"layout": "keras", "tensors": [{"name": "w", "shape": [64, 32], "init": "he_normal"},
                                       {"name": "b", "shape": [32], "init": "zeros"},
                                       {"name": "v", "shape": [32, 4], "init": "orthogonal", "layout": "torch"}]}


def cli_model(cli, tmp_path, source_args, *extra):
    out = str(tmp_path / "m.safetensors")
    cli("model", *source_args, "-o", out, *extra)
    return nninit.load(out)


def assert_same(got, want):
    """Same names (files have their own order: safetensors sorts by alignment
    and name), dtypes, shapes and bytes."""
    assert sorted(got) == sorted(want)
    for k in want:
        g, w = got[k], want[k]
        if not isinstance(g, np.ndarray):  # torch bfloat16
            import torch
            assert torch.equal(g, w), k
            continue
        assert g.dtype == w.dtype and g.shape == w.shape, k
        assert g.tobytes() == w.tobytes(), k


@pytest.mark.parametrize("rng,dtype,seed", [("torch", "float32", 42), ("philox", "float32", 7),
                                            ("philox", "float64", 1), ("philox", "float16", 3),
                                            ("torch", "float64", 5)])
def test_model_torch_recipe_equals_cli(cli, tmp_path, rng, dtype, seed):
    want = cli_model(cli, tmp_path, ["--torch", RECIPE], "--rng", rng, "--dtype", dtype, "--seed", str(seed))
    got = nninit.model(torch_recipe=RECIPE, seed=seed, rng=rng, dtype=dtype)
    assert got["1.num_batches_tracked"].dtype == np.int64
    assert_same(got, want)


@needs_torch
def test_model_bfloat16_equals_cli(cli, tmp_path):
    want = cli_model(cli, tmp_path, ["--torch", RECIPE], "--dtype", "bfloat16", "--seed", "9")
    assert_same(nninit.model(torch_recipe=RECIPE, seed=9, dtype="bfloat16"), want)


def test_model_keras_and_spec_equal_cli(cli, tmp_path):
    path = os.path.join(KERAS, "rnn_keras3.json")
    want = cli_model(cli, tmp_path, ["--keras", path], "--seed", "11")
    assert_same(nninit.model(keras_json=path, seed=11), want)
    assert_same(nninit.model(keras_json=open(path).read(), seed=11), want)
    assert_same(nninit.model(keras_json=json.load(open(path)), seed=11), want)
    archive = os.path.join(KERAS, "cnn.keras")
    assert_same(nninit.model(keras_json=archive, seed=2), cli_model(cli, tmp_path, ["--keras", archive],
                                                                     "--seed", "2"))
    spec_path = tmp_path / "spec.json"
    spec_path.write_text(json.dumps(SPEC))
    want = cli_model(cli, tmp_path, ["--spec", str(spec_path)], "--seed", "4", "--override", "b=ones")
    assert_same(nninit.model(spec=SPEC, seed=4, overrides={"b": "ones"}), want)
    assert_same(nninit.model(spec=json.dumps(SPEC), seed=4, overrides={"b": "ones"}), want)


@needs_torch
def test_model_torch_rng_equals_torch_state_dict():
    import torch
    torch.manual_seed(3)
    ref = torch.nn.Sequential(torch.nn.Embedding(50, 8, padding_idx=2), torch.nn.LSTM(8, 6),
                              torch.nn.TransformerEncoderLayer(6, 2, 12))
    got = nninit.model(torch_recipe="Sequential(Embedding(50, 8, padding_idx=2), LSTM(8, 6), "
                                    "TransformerEncoderLayer(6, 2, 12))", seed=3, rng="torch")
    sd = ref.state_dict()
    assert list(got) == list(sd)
    for k, v in sd.items():
        assert np.array_equal(got[k], v.numpy()), k


@needs_torch
def test_model_philox_equals_init_module():
    import torch
    import nninit.torch
    net = torch.nn.Sequential(torch.nn.Linear(20, 16), torch.nn.ReLU(), torch.nn.Linear(16, 4))
    nninit.torch.init_module(net, seed=8, rng="philox")
    got = nninit.model(torch_recipe="Sequential(Linear(20, 16), ReLU(), Linear(16, 4))", seed=8)
    for k, v in net.state_dict().items():
        assert np.array_equal(got[k], v.numpy()), k


@pytest.mark.parametrize("kwargs,exc,needle", [
    ({}, ValueError, "give exactly one of keras_json=, torch_recipe= or spec= (got none)"),
    ({"torch_recipe": "Linear(2, 2)", "spec": SPEC}, ValueError, "(got torch_recipe, spec)"),
    ({"torch_recipe": "Linear(2, 2"}, ValueError, "recipe at offset"),
    ({"torch_recipe": "Lineer(2, 2)"}, ValueError, "Lineer"),
    ({"torch_recipe": 3}, TypeError, "torch_recipe must be a str"),
    ({"keras_json": "/no/such/model.json"}, FileNotFoundError, "/no/such/model.json"),
    ({"keras_json": "{\"class_name\": 1}"}, ValueError, ""),
    ({"spec": {"tensors": [{"name": "w", "shape": [2], "init": "he_nrmal"}]}}, ValueError, "he_nrmal"),
    ({"spec": 5}, TypeError, "spec must be JSON text or a dict"),
    ({"torch_recipe": "Linear(2, 2)", "dtype": "int8"}, ValueError, "expected one of float32"),
    ({"torch_recipe": "Linear(2, 2)", "rng": "torch", "dtype": "float16"}, ValueError, "half-precision"),
    ({"torch_recipe": "Linear(2, 2)", "overrides": {"nope": "zeros"}}, ValueError, "no tensor named 'nope'"),
    ({"torch_recipe": "Linear(2, 2)", "overrides": [("weight", "zeros")]}, TypeError, "overrides must be a dict"),
])
def test_model_errors(kwargs, exc, needle):
    with pytest.raises(exc) as e:
        nninit.model(**kwargs)
    assert needle in str(e.value)


# ---- save / load -------------------------------------------------------------

def sample():
    r = np.random.default_rng(0)
    return {"f32": r.standard_normal((3, 4)).astype(np.float32), "f64": r.standard_normal(5),
            "f16": r.standard_normal((2, 2)).astype(np.float16), "i64": np.arange(6).reshape(2, 3),
            "i32": np.arange(4, dtype=np.int32), "u8": np.arange(3, dtype=np.uint8),
            "flag": np.array([True, False]), "c": np.array([1 + 2j], dtype=np.complex64),
            "scalar": np.array(2.5, dtype=np.float32), "empty": np.zeros((0, 3), dtype=np.float32)}


@pytest.mark.parametrize("name,fmt", [("t.safetensors", None), ("t.npz", None), ("t.npz", "npz-deflated"),
                                      ("dir", "npy-dir")])
def test_round_trip(tmp_path, name, fmt):
    t = sample()
    if fmt == "npy-dir":
        t.pop("empty")  # a folder of .npy round-trips every non-empty tensor
    path = str(tmp_path / name)
    nninit.save(path, t, format=fmt)
    got = nninit.load(path)
    assert sorted(got) == sorted(t)
    for k in t:
        assert got[k].dtype == t[k].dtype and got[k].shape == t[k].shape and np.array_equal(got[k], t[k]), k
    if name.endswith(".npz"):  # NumPy reads what nninit writes
        with np.load(path) as z:
            for k in t:
                assert np.array_equal(z[k], t[k]), k


def test_safetensors_layout_and_metadata(tmp_path):
    path = str(tmp_path / "m.safetensors")
    nninit.save(path, {"b": np.ones(2, np.float32), "a": np.zeros((2, 2), np.float64)}, metadata={"k": "v"})
    raw = open(path, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    assert n % 8 == 0 and header["__metadata__"] == {"k": "v"}
    assert header["a"] == {"dtype": "F64", "shape": [2, 2], "data_offsets": [0, 32]}  # larger alignment first
    assert header["b"] == {"dtype": "F32", "shape": [2], "data_offsets": [32, 40]}
    nninit.save(path, {"a": np.ones(1, np.float32)})
    raw = open(path, "rb").read()
    assert json.loads(raw[8:8 + struct.unpack("<Q", raw[:8])[0]])["__metadata__"] == {"format": "pt"}
    nninit.save(path, {"a": np.ones(1, np.float32)}, metadata={})
    raw = open(path, "rb").read()
    assert "__metadata__" not in json.loads(raw[8:8 + struct.unpack("<Q", raw[:8])[0]])


def test_sharded_and_cli_files(cli, tmp_path):
    w = nninit.model(torch_recipe="Sequential(Linear(64, 64), Linear(64, 64), Linear(64, 64))", seed=1)
    path = str(tmp_path / "model.safetensors")
    nninit.save(path, w, max_shard_size=20000)
    index = json.load(open(path + ".index.json"))
    shards = sorted(set(index["weight_map"].values()))
    assert len(shards) >= 2 and shards[0] == "model-00001-of-%05d.safetensors" % len(shards)
    assert_same(nninit.load(path + ".index.json"), w)
    out = str(tmp_path / "cli" / "model.safetensors")
    os.mkdir(os.path.dirname(out))
    cli("model", "--torch", "Sequential(Linear(64, 64), Linear(64, 64), Linear(64, 64))", "--seed", "1",
        "-o", out, "--max-shard-size", "20000")
    assert_same(nninit.load(out + ".index.json"), w)


def test_npy(cli, tmp_path):
    path = str(tmp_path / "w.npy")
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    nninit.save(path, a)
    assert np.array_equal(np.load(path), a)
    assert np.array_equal(nninit.load(path)["w"], a)
    nninit.save(path, {"x": a.astype(np.float16)})
    assert np.load(path).dtype == np.float16
    cli("gen", "he_normal", "--shape", "4,5", "--seed", "3", "-o", path)
    assert np.array_equal(nninit.load(path)["w"], nninit.gen("he_normal", (4, 5), seed=3))


@needs_torch
def test_torch_tensors_and_bfloat16(tmp_path, monkeypatch):
    import torch
    t = {"w": torch.randn(3, 4).to(torch.bfloat16), "b": torch.randn(4).t(), "i": torch.arange(3)}
    path = str(tmp_path / "t.safetensors")
    nninit.save(path, t)
    got = nninit.load(path)
    assert got["w"].dtype == torch.bfloat16 and torch.equal(got["w"], t["w"])
    assert np.array_equal(got["b"], t["b"].numpy()) and got["i"].dtype == np.int64
    from nninit import _files
    monkeypatch.setattr(_files, "_torch", lambda: None)
    wide = nninit.load(path)["w"]  # without torch: float32, exactly
    assert wide.dtype == np.float32 and np.array_equal(wide, t["w"].float().numpy())
    path = str(tmp_path / "b.npy")
    nninit.save(path, t["w"])
    assert np.load(path).dtype == np.uint16  # nninit's bfloat16 .npy: '<u2' bits


def test_save_load_errors(tmp_path):
    path = str(tmp_path / "keep.safetensors")
    nninit.save(path, {"a": np.ones(3, np.float32)})
    before = open(path, "rb").read()
    with pytest.raises(ValueError, match="__metadata__"):
        nninit.save(path, {"__metadata__": np.ones(1, np.float32)})
    assert open(path, "rb").read() == before  # a failed save leaves the file as it was
    with pytest.raises(TypeError, match="tensor 'o' has dtype object"):
        nninit.save(path, {"o": np.array([None])})
    with pytest.raises(TypeError, match="expected a NumPy array or a torch tensor"):
        nninit.save(path, {"l": [1.0]})
    with pytest.raises(TypeError, match="tensors must be a dict"):
        nninit.save(path, [np.ones(1)])
    with pytest.raises(TypeError, match="metadata must be a dict of str -> str"):
        nninit.save(path, {"a": np.ones(1)}, metadata={"k": 1})
    with pytest.raises(ValueError, match="metadata needs format safetensors"):
        nninit.save(str(tmp_path / "x.npz"), {"a": np.ones(1)}, metadata={"k": "v"})
    with pytest.raises(ValueError, match="cannot tell the format"):
        nninit.save(str(tmp_path / "x.bin"), {"a": np.ones(1)})
    with pytest.raises(ValueError, match="unknown|npy-dir"):
        nninit.save(str(tmp_path / "x.bin"), {"a": np.ones(1)}, format="pickle")
    with pytest.raises(ValueError, match="holds one tensor; got 2"):
        nninit.save(str(tmp_path / "x.npy"), {"a": np.ones(1), "b": np.ones(1)})
    with pytest.raises(TypeError, match=".npy output holds float32"):
        nninit.save(str(tmp_path / "x.npy"), np.arange(3))
    with pytest.raises(OSError):
        nninit.save(str(tmp_path / "no" / "such" / "x.safetensors"), {"a": np.ones(1)})
    with pytest.raises(FileNotFoundError):
        nninit.load(str(tmp_path / "missing.safetensors"))
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(struct.pack("<Q", 1000) + b"{}")
    with pytest.raises(ValueError) as e:
        nninit.load(str(bad))
    assert "\n" not in str(e.value) and str(e.value)
