"""nninit.torch.init_module against torch 1.13 itself: a model re-initialized
with rng="torch" equals torch.manual_seed(seed); Model() bit for bit,
parameters and buffers; Philox is independent of threads and of how the
model is split; every refusal leaves the model untouched."""
import math

import numpy as np
import pytest

from conftest import HAVE_TORCH

if not HAVE_TORCH:
    pytest.skip("torch is not installed (Debian: python3-torch)", allow_module_level=True)

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402

import nninit  # noqa: E402
import nninit.torch  # noqa: E402


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 256)
        self.act = nn.ReLU()
        self.drop = nn.Dropout(0.1)
        self.fc2 = nn.Linear(256, 128, bias=False)
        self.fc3 = nn.Linear(128, 10)

class CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, (3, 5), groups=4, bias=False), nn.BatchNorm2d(32), nn.ReLU(),
            nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.head = nn.Linear(32, 10)

class LSTMLM(nn.Module):
    """The word language model of pytorch/examples, optionally tied."""
    def __init__(self, tie=False):
        super().__init__()
        self.encoder = nn.Embedding(1000, 64, padding_idx=0)
        self.rnn = nn.LSTM(64, 64, num_layers=2, dropout=0.2)
        self.decoder = nn.Linear(64, 1000)
        if tie:
            self.decoder.weight = self.encoder.weight

class Misc(nn.Module):
    def __init__(self):
        super().__init__()
        self.blocks = nn.ModuleList([nn.Conv1d(4, 6, 5), nn.ConvTranspose2d(4, 2, 2, stride=2),
                                     nn.Conv3d(2, 3, (1, 2, 3)), nn.GroupNorm(2, 6),
                                     nn.InstanceNorm2d(3, affine=True, track_running_stats=True)])
        self.heads = nn.ModuleDict({"b": nn.Bilinear(4, 3, 5), "a": nn.GRU(10, 3, bidirectional=True),
                                    "r": nn.RNN(3, 2, nonlinearity="relu"), "p": nn.PReLU(3),
                                    "ln": nn.LayerNorm((2, 3))})
        self.dec = nn.TransformerDecoderLayer(8, 4, 12)


def build(factory, seed):
    torch.manual_seed(seed)
    return factory()


def scramble(module):
    """Overwrites every parameter and buffer (as training would)."""
    with torch.no_grad():
        for t in list(module.parameters()) + list(module.buffers()):
            t.fill_(7) if t.dtype == torch.int64 else t.uniform_(-3, 3)


def assert_same(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    assert list(sa) == list(sb)
    for name in sa:
        assert sa[name].dtype == sb[name].dtype, name
        assert torch.equal(sa[name], sb[name]), "%s differs from PyTorch" % name


FACTORIES = {
    "mlp": MLP,
    "cnn_batchnorm": CNN,
    "lstm_lm": (lambda: LSTMLM()),
    "lstm_lm_tied": (lambda: LSTMLM(tie=True)),
    "transformer_encoder_layer": (lambda: nn.TransformerEncoderLayer(32, 4, dim_feedforward=64, batch_first=True)),
    "multihead_attention": (lambda: nn.Sequential(nn.MultiheadAttention(16, 2),
                                                  nn.MultiheadAttention(6, 3, kdim=4, vdim=5, add_bias_kv=True),
                                                  nn.MultiheadAttention(8, 2, bias=False))),
    "misc": Misc,
    # containers: every layer starts as a copy of one; Transformer redraws dim > 1 with xavier_uniform_
    "transformer_encoder": (lambda: nn.TransformerEncoder(nn.TransformerEncoderLayer(16, 2, 24), 3,
                                                          norm=nn.LayerNorm(16))),
    "transformer_decoder": (lambda: nn.TransformerDecoder(nn.TransformerDecoderLayer(8, 2, 12), 2)),
    "transformer": (lambda: nn.Transformer(16, 4, 2, 1, 32)),
}


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_torch_rng_equals_construction(name):
    factory = FACTORIES[name]
    want = build(factory, 1234)
    got = build(factory, 99)
    scramble(got)
    assert nninit.torch.init_module(got, seed=1234, rng="torch") is got
    assert_same(got, want)


def test_torch_rng_float64():
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        want = build(MLP, 5)
        got = build(MLP, 6)
    finally:
        torch.set_default_dtype(old)
    nninit.torch.init_module(got, seed=5)
    assert_same(got, want)


def test_does_not_touch_torch_global_generator():
    model = MLP()
    torch.manual_seed(3)
    state = torch.get_rng_state()
    nninit.torch.init_module(model, seed=0)
    assert torch.equal(torch.get_rng_state(), state)


def test_meta_device_then_to_empty():
    model = nn.Linear(20, 30, device="meta")
    with pytest.raises(ValueError, match=r"tensor 'weight' is on meta.*to_empty\(device='cpu'\)"):
        nninit.torch.init_module(model, seed=0)
    model = model.to_empty(device="cpu")
    nninit.torch.init_module(model, seed=42)
    assert_same(model, build(lambda: nn.Linear(20, 30), 42))


# ---- philox ---------------------------------------------------------------

def test_philox_values_are_the_named_streams():
    net = nn.Sequential(nn.Linear(20, 30), nn.ReLU(), nn.Linear(30, 5))
    nninit.torch.init_module(net, seed=9, rng="philox")
    w = nninit.gen("kaiming_uniform_(a=math.sqrt(5))", (5, 30), layout="torch", seed=9,
                   stream=nninit.stream_from_name("2.weight"))
    assert np.array_equal(net[2].weight.detach().numpy(), w)
    bound = 1 / math.sqrt(30)
    b = nninit.gen("uniform_(a=%r, b=%r)" % (-bound, bound), (5,), layout="torch", seed=9,
                   stream=nninit.stream_from_name("2.bias"))
    assert np.array_equal(net[2].bias.detach().numpy(), b)


def test_philox_threads_and_partition_independent():
    def make():
        return build(lambda: nn.Sequential(nn.Embedding(300, 64), LSTMLM(), nn.TransformerEncoderLayer(64, 4)), 0)
    a, b, c = make(), make(), make()
    nninit.torch.init_module(a, seed=11, rng="philox", threads=1)
    nninit.torch.init_module(b, seed=11, rng="philox", threads=3)
    assert_same(a, b)
    for i in reversed(range(len(c))):  # each part on its own, in reverse order, under its full name
        nninit.torch.init_module(c[i], seed=11, rng="philox", prefix="%d." % i)
    assert_same(a, c)
    d = make()
    nninit.torch.init_module(d, seed=12, rng="philox")
    assert not torch.equal(a[0].weight, d[0].weight)


def test_philox_half_precision():
    net = nn.Linear(64, 32).to(torch.bfloat16)
    nninit.torch.init_module(net, seed=1, rng="philox")
    ref = nn.Linear(64, 32)
    nninit.torch.init_module(ref, seed=1, rng="philox")
    assert torch.equal(net.weight, ref.weight.to(torch.bfloat16))  # rounded once from the float32 values
    with pytest.raises(ValueError, match="reproduce float32 and float64 only"):
        nninit.torch.init_module(net, seed=1, rng="torch")


# ---- rules ------------------------------------------------------------------

class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.c_fc = nn.Linear(16, 64)
        self.c_proj = nn.Linear(64, 16)
        self.gain = nn.Parameter(torch.ones(16))


def test_rules_override_and_cover_custom_parameters():
    model = nn.ModuleList([Block(), Block()])
    rules = {"*.c_proj.weight": "normal_(std=0.01)", "*.c_fc.weight": "normal_(std=0.02)",
             "*.bias": "zeros_", "*.gain": "constant_(0.5)"}
    nninit.torch.init_module(model, seed=3, rng="philox", rules=rules)
    for i, blk in enumerate(model):
        assert (blk.gain == 0.5).all() and (blk.c_fc.bias == 0).all() and (blk.c_proj.bias == 0).all()
        want = nninit.gen("normal_(std=0.01)", (16, 64), seed=3, layout="torch",
                          stream=nninit.stream_from_name("%d.c_proj.weight" % i))
        assert np.array_equal(blk.c_proj.weight.detach().numpy(), want)
    # torch rng: the draws follow the rules' specs in construction order
    g = nninit.Generator("torch", 3)
    nninit.torch.init_module(model, seed=3, rng="torch", rules=rules)
    w0 = nninit.gen("normal_(std=0.02)", (64, 16), layout="torch", generator=g)
    assert np.array_equal(model[0].c_fc.weight.detach().numpy(), w0)


def test_rules_errors():
    model = nn.Sequential(nn.Linear(4, 4))
    with pytest.raises(ValueError, match="pattern '\\*.nope' matches no parameter"):
        nninit.torch.init_module(model, seed=0, rules={"*.nope": "zeros_"})
    with pytest.raises(ValueError, match="unknown initializer 'zeroes_'"):
        nninit.torch.init_module(model, seed=0, rules={"0.weight": "zeroes_"})
    with pytest.raises(TypeError, match="rules must be a dict"):
        nninit.torch.init_module(model, seed=0, rules=[("0.weight", "zeros_")])
    with pytest.raises(TypeError, match="patterns and specs must be str"):
        nninit.torch.init_module(model, seed=0, rules={"0.weight": 0})


# ---- refusals: named, and nothing written -----------------------------------

class Custom(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(8, 8)
        self.scale = nn.Parameter(torch.ones(8))
        self.enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2), 2)  # supported since issue 16
        self.tail = nn.AdaptiveLogSoftmaxWithLoss(8, 10, [4])


class MyLinear(nn.Linear):
    def reset_parameters(self):
        nn.init.zeros_(self.weight)


def test_unsupported_modules_are_named_with_their_path():
    model = nn.Sequential(Custom(), MyLinear(3, 3), nn.LSTM(4, 4, proj_size=2))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(ValueError) as e:
        nninit.torch.init_module(model, seed=0)
    msg = str(e.value)
    assert "'0' (Custom: scale)" in msg
    assert "'0.tail' (AdaptiveLogSoftmaxWithLoss)" in msg
    assert "'0.enc'" not in msg
    assert "'1' (MyLinear: weight, bias)" in msg
    assert "'2' (LSTM" not in msg  # LSTM(proj_size > 0) is supported since issue 16
    assert "supported modules: " in msg and "TransformerEncoderLayer" in msg and "\n" not in msg
    for k, v in model.state_dict().items():
        # bit-equal, NaN included (torch.empty may leave NaN in an uninitialized parameter)
        assert torch.equal(v.view(-1).view(torch.uint8) if v.is_floating_point() else v,
                           before[k].view(-1).view(torch.uint8) if v.is_floating_point() else before[k]), \
            "%s was written by a refused call" % k
    # rules make the first two initializable (first match wins)
    part = model[:2]
    nninit.torch.init_module(part, seed=0, rng="philox", rules={
        "0.scale": "ones_", "0.enc.*norm*.weight": "ones_", "0.enc.*weight": "xavier_uniform_",
        "0.enc.*bias": "zeros_", "0.tail.*": "zeros_", "1.*": "zeros_"})
    assert (part[1].weight == 0).all() and (part[0].scale == 1).all()
    assert (part[0].enc.layers[1].norm2.weight == 1).all() and (part[0].enc.layers[0].linear1.bias == 0).all()
    assert part[0].enc.layers[0].linear1.weight.std() > 0


def test_other_refusals():
    with pytest.raises(TypeError, match="expected a torch.nn.Module, not dict"):
        nninit.torch.init_module({}, seed=0)
    with pytest.raises(TypeError, match="seed must be an int"):
        nninit.torch.init_module(nn.Linear(2, 2), seed=None)
    with pytest.raises(ValueError, match="rng_kind|'mt'"):
        nninit.torch.init_module(nn.Linear(2, 2), seed=0, rng="mt")
    with pytest.raises(ValueError, match="threads"):
        nninit.torch.init_module(nn.Linear(2, 2), seed=0, threads=-1)
    lin = nn.Linear(4, 4)
    lin.weight = nn.Parameter(torch.zeros(4, 8)[:, ::2])
    with pytest.raises(ValueError, match="tensor 'weight' is not a contiguous dense tensor"):
        nninit.torch.init_module(lin, seed=0)
    bn = nn.BatchNorm1d(3)
    bn.num_batches_tracked = torch.tensor(0, dtype=torch.int32)
    with pytest.raises(TypeError, match="expected float32|int32"):
        nninit.torch.init_module(bn, seed=0)
