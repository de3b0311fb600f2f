"""advise: the initialization linter of `nninit advise` (nninit_advise)."""
import ctypes
import math

from . import _lib
from ._files import _open_model
from ._lib import lib

_PHASES = ("ordered", "critical", "chaotic", "unbounded")


def _s(b):
    return b.decode("utf-8", "replace") if b is not None else None


def _num(x):
    return None if not math.isfinite(x) else x


def _report(m, overrides=None):
    """The advice for an open model handle as a dict (the fields of `nninit advise --json`)."""
    for name, spec in (overrides or {}).items():
        _lib.call(lib.nninit_model_override, m, name.encode(), spec.encode())
    a = ctypes.POINTER(_lib.Advice)()
    _lib.call(lib.nninit_advise, m, ctypes.byref(a))
    try:
        adv = a.contents
        layers = []
        for i in range(adv.n_layers):
            l = adv.layers[i]
            d = {"name": _s(l.name), "class": _s(l.cls), "activation": _s(l.activation), "kernel": _s(l.kernel),
                 "kernel_init": _s(l.kernel_init) if l.kernel else None,
                 "bias_init": _s(l.bias_init) if l.bias_spec else None,
                 "chain": l.chain, "norm_after": bool(l.norm_after)}
            if l.kernel:
                d.update(fan_in=l.fan_in, fan_out=l.fan_out, sw2=_num(l.sw2), sb2=_num(l.sb2))
            if l.chain >= 0:
                d.update(q=_num(l.q), fwd_gain=_num(l.fwd_gain), bwd_gain=_num(l.bwd_gain),
                         fwd_total=_num(l.fwd_total), bwd_total=_num(l.bwd_total), chi1=_num(l.chi1),
                         theory=bool(l.theory), phase=_PHASES[l.phase] if l.theory else "")
            layers.append(d)
        findings, notes = [], []
        for i in range(adv.n_findings):
            f = adv.findings[i]
            (notes if f.softened else findings).append(
                {"kind": _s(lib.nninit_advice_kind_name(f.kind)),
                 "layer": layers[f.layer]["name"] if f.layer >= 0 else None, "tensor": _s(f.tensor),
                 "reason": _s(f.reason), "fix": _s(f.fix) or None, "advice": _s(f.advice)})
        return {"layers": layers, "findings": findings, "notes": notes}
    finally:
        lib.nninit_advice_free(a)


def advise(keras_json=None, torch_recipe=None, spec=None, *, overrides=None):
    """Lints a model's initialization as `nninit advise --json` does.

    Exactly one source, as nninit.model takes it: keras_json (text, dict or
    the path of a .json / .keras file), torch_recipe or spec. overrides:
    {tensor name: spec} applied first. Returns {"layers": [...],
    "findings": [...], "notes": [...]}: per layer its initializers,
    activation, fans, sw2, sb2 and predicted gains; each finding with kind,
    tensor, reason, fix (a spec, or None) and advice; notes are findings a
    normalization layer removes.

        >>> import nninit
        >>> r = nninit.advise(torch_recipe="Sequential(Linear(64, 64), ReLU(), Linear(64, 64), ReLU(), "
        ...                   "Linear(64, 64), ReLU(), Linear(64, 10))")
        >>> r["findings"][0]["kind"], r["findings"][0]["fix"]
        ('init-activation-mismatch', "kaiming_normal_(nonlinearity='relu')")
    """
    if overrides is not None and not isinstance(overrides, dict):
        raise TypeError("overrides must be a dict of tensor name -> spec, not %s" % type(overrides).__name__)
    m = _open_model(keras_json, torch_recipe, spec)
    try:
        return _report(m, overrides)
    finally:
        lib.nninit_model_free(m)
