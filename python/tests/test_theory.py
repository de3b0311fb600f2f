"""nninit.theory returns the fields of `nninit theory --json`, value for value."""
import json
import math

import pytest

import nninit

CASES = [
    (["--act", "relu", "--sw2", "2"], dict(act="relu", sw2=2)),
    (["--act", "tanh", "--init", "glorot_uniform", "--bias-init", "RandomNormal(stddev=0.05)", "--depth", "3"],
     dict(act="tanh", init="glorot_uniform", bias_init="RandomNormal(stddev=0.05)", depth=3)),
    (["--act", "leaky_relu(0.1)", "--sw2", "1.5", "--sb2", "0.1", "--q0", "2", "--depth", "2", "--c0", "0.2"],
     dict(act="leaky_relu(0.1)", sw2=1.5, sb2=0.1, q0=2, depth=2, c0=0.2)),
    (["--act", "tanh", "--critical", "--sb2", "0.05"], dict(act="tanh", critical=True, sb2=0.05)),
    (["--act", "erf", "--sw2", "4", "--sb2", "0.02"], dict(act="erf", sw2=4, sb2=0.02)),
    (["--act", "gelu", "--init", "he_normal", "--width", "128"], dict(act="gelu", init="he_normal", width=128)),
]


def same(a, b):
    """CLI JSON has null where Python has inf or nan."""
    if isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in b)
    if isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if b is None:
        return isinstance(a, float) and not math.isfinite(a)
    return a == b


@pytest.mark.parametrize("args,kwargs", CASES)
def test_theory_equals_cli_json(cli, args, kwargs):
    want = json.loads(cli("theory", *args, "--json").stdout)
    got = nninit.theory(**kwargs)
    assert same(got, want), (got, want)


@pytest.mark.parametrize("kwargs,exc,needle", [
    (dict(act="tanh"), ValueError, "no sigma_w^2"),
    (dict(act="tanh", sw2=1, init="he_normal"), ValueError, "sw2 and init both"),
    (dict(act="tanh", sw2=1, sb2=0.1, bias_init="zeros"), ValueError, "sb2 and bias_init both"),
    (dict(act="tanh", sw2=-1), ValueError, ">= 0"),
    (dict(act="tanh", sw2=1, q0=0), ValueError, "must be > 0"),
    (dict(act="tanh", sw2=1, c0=2), ValueError, "[-1, 1]"),
    (dict(act="tanh", sw2=float("nan")), ValueError, "must be finite"),
    (dict(act="tanh", sw2="1"), TypeError, "sw2 must be a number"),
    (dict(act="tahn", sw2=1), ValueError, "tahn"),
    (dict(act="tanh", init="glorot_unifrom"), ValueError, "did you mean 'glorot_uniform'"),
    (dict(act="tanh", sw2=1, depth=-1), ValueError, "depth"),
    (dict(act="tanh", init="he_normal", width=0), ValueError, "width"),
    (dict(act="tanh", sw2=1, critical=True), ValueError, "critical=True solves"),
    (dict(act=3, sw2=1), TypeError, "act must be a str"),
])
def test_theory_errors(kwargs, exc, needle):
    with pytest.raises(exc) as e:
        nninit.theory(**kwargs)
    assert needle in str(e.value)
