"""nninit.advise gives what `nninit advise --json` prints; nninit.torch.advise
lints a live module, measuring values its user changed after construction."""
import json
import os

import pytest

import nninit
from conftest import ROOT, needs_torch

PITFALL3 = os.path.join(ROOT, "tests", "fixtures", "advise", "pitfall3_glorot_relu.json")
MLP = ("Sequential(Linear(64, 64), ReLU(), Linear(64, 64), ReLU(), Linear(64, 64), ReLU(), Linear(64, 10))")


@pytest.mark.parametrize("source", [dict(keras_json=PITFALL3), dict(torch_recipe=MLP)])
def test_same_as_cli(cli, source):
    arg = source.get("keras_json") or source.get("torch_recipe")
    p = cli("advise", arg, "--json", check=False)
    assert p.returncode == 3, p.stderr
    want = json.loads(p.stdout)
    got = nninit.advise(**source)
    assert [(f["kind"], f["tensor"], f["reason"], f["fix"]) for f in got["findings"]] == \
        [(f["kind"], f["tensor"], f["reason"], f["fix"]) for f in want["findings"]]
    assert [l["name"] for l in got["layers"]] == [l["name"] for l in want["layers"]]
    for g, w in zip(got["layers"], want["layers"]):
        for k in ("sw2", "sb2", "q", "fwd_gain", "bwd_gain", "chi1"):
            if w.get(k) is None:
                assert g.get(k) is None
            else:
                assert g[k] == pytest.approx(w[k], rel=1e-9)  # the CLI prints 10 significant digits


def test_overrides_fix_the_findings():
    got = nninit.advise(torch_recipe=MLP)
    fixes = {f["tensor"]: f["fix"] for f in got["findings"]}
    assert fixes["0.weight"] == "kaiming_normal_(nonlinearity='relu')"
    assert nninit.advise(torch_recipe=MLP, overrides=fixes)["findings"] == []


def test_bad_input():
    with pytest.raises(ValueError, match="unknown module"):
        nninit.advise(torch_recipe="Sequential(Linearr(3, 4))")
    with pytest.raises(TypeError):
        nninit.advise(torch_recipe=MLP, overrides=["0.weight"])


@needs_torch
def test_torch_module_measured():
    import torch
    nn = torch.nn
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(),
                        nn.Linear(64, 10))
    r = nninit.torch.advise(net)
    assert r["measured"] == {}  # as constructed: the recipe's initializers
    assert [f["kind"] for f in r["findings"]] == ["init-activation-mismatch"] * 4
    for m in net[:-1:2]:
        nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
    nn.init.xavier_uniform_(net[-1].weight)
    r = nninit.torch.advise(net)
    assert set(r["measured"]) == {"0.weight", "2.weight", "4.weight", "6.weight"}
    assert r["findings"] == []
    nn.init.zeros_(net[2].weight)
    r = nninit.torch.advise(net)
    assert [(f["kind"], f["tensor"]) for f in r["findings"]] == [("constant-kernel", "2.weight")]
    # an orthogonal recurrent kernel is recognized as one; the forget bias stays
    lstm = nn.LSTM(8, 16)
    nn.init.orthogonal_(lstm.weight_hh_l0)
    r = nninit.torch.advise(nn.Sequential(lstm))
    assert r["measured"]["0.weight_hh_l0"].startswith("orthogonal_(gain=1")
    assert [f["kind"] for f in r["findings"]] == ["forget-bias"]


@needs_torch
def test_torch_module_errors():
    import torch

    class Own(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.zeros(3))

    with pytest.raises(ValueError, match="holds parameters nninit does not know"):
        nninit.torch.advise(torch.nn.Sequential(Own()))
    with pytest.raises(TypeError):
        nninit.torch.advise("Sequential()")
