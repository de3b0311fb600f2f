"""nninit.Generator: a torch stream that continues across calls as
torch.manual_seed + successive init_ calls do, and state compatible with
torch.get_rng_state()."""
import numpy as np
import pytest

import nninit
from conftest import needs_torch


@needs_torch
def test_torch_stream_continues_across_calls():
    import torch
    calls = [("normal_", (7,), lambda t: torch.nn.init.normal_(t)),            # scalar path (< 16)
             ("normal_(mean=1.0, std=2.0)", (40, 3), lambda t: torch.nn.init.normal_(t, 1.0, 2.0)),
             ("uniform_(a=-2.0, b=3.0)", (5, 5), lambda t: torch.nn.init.uniform_(t, -2.0, 3.0)),
             ("kaiming_normal_", (16, 9), lambda t: torch.nn.init.kaiming_normal_(t)),
             ("trunc_normal_(std=0.02)", (33,), lambda t: torch.nn.init.trunc_normal_(t, std=0.02)),
             ("xavier_uniform_", (8, 4, 3), lambda t: torch.nn.init.xavier_uniform_(t)),
             ("normal_", (3,), lambda t: torch.nn.init.normal_(t))]
    g = nninit.Generator("torch", 2024)
    torch.manual_seed(2024)
    for spec, shape, ref in calls:
        got = nninit.gen(spec, shape, layout="torch", generator=g)
        want = torch.empty(shape)
        ref(want)
        assert torch.equal(torch.from_numpy(got), want), spec
    assert torch.equal(g.get_state(), torch.get_rng_state())


@needs_torch
def test_state_round_trip_with_torch():
    import torch
    torch.manual_seed(99)
    torch.empty(5).normal_()  # leaves a cached normal in the state
    g = nninit.Generator("torch", 0)
    g.set_state(torch.get_rng_state())
    a = nninit.gen("normal_", (5,), generator=g)
    assert torch.equal(torch.from_numpy(a), torch.empty(5).normal_())
    # numpy arrays and bytes are accepted too
    state = g.get_state().numpy()
    g2 = nninit.Generator("torch", 1)
    g2.set_state(state.tobytes())
    g3 = nninit.Generator("torch", 2)
    g3.set_state(state)
    b2, b3 = nninit.gen("uniform_", (9,), generator=g2), nninit.gen("uniform_", (9,), generator=g3)
    assert np.array_equal(b2, b3)
    assert np.array_equal(b2, torch.rand(9).numpy())


def test_state_without_torch(monkeypatch):
    from nninit import _fill
    monkeypatch.setattr(_fill, "_torch", lambda: None)
    g = nninit.Generator("torch", 5)
    s = g.get_state()
    assert isinstance(s, np.ndarray) and s.dtype == np.uint8 and s.shape == (5056,)
    g.set_state(s)


def test_generator_properties_and_errors():
    g = nninit.Generator("torch:default", 3)
    assert g.kind == "torch:default" and g.resolved_kind == "torch:default" and g.seed == 3 and g.is_torch
    assert repr(g) == "nninit.Generator('torch:default', 3)"
    assert nninit.Generator("torch", -1).seed == 2**64 - 1
    p = nninit.Generator()
    assert p.kind == "philox" and not p.is_torch
    with pytest.raises(ValueError, match="philox Generator has no state"):
        p.get_state()
    with pytest.raises(ValueError, match="philox Generator has no state"):
        p.set_state(b"")
    with pytest.raises(ValueError, match="mersenne"):
        nninit.Generator("mersenne", 1)
    with pytest.raises(TypeError, match="kind must be a str"):
        nninit.Generator(1, 1)
    t = nninit.Generator("torch", 1)
    with pytest.raises(ValueError) as e:
        t.set_state(np.zeros(100, dtype=np.uint8))
    assert "5056" in str(e.value)
    with pytest.raises(TypeError, match="1-D uint8"):
        t.set_state(np.zeros(5056, dtype=np.int32))
    with pytest.raises(TypeError, match="1-D uint8"):
        t.set_state("state")


def test_philox_generator_equals_seed():
    g = nninit.Generator("philox", 77)
    a = nninit.gen("he_normal", (10, 10), generator=g, stream=4)
    b = nninit.gen("he_normal", (10, 10), seed=77, stream=4)
    assert a.tobytes() == b.tobytes()
    # counter-based: a second call with the same stream gives the same values
    assert nninit.gen("he_normal", (10, 10), generator=g, stream=4).tobytes() == a.tobytes()
