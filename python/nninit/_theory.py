"""theory: the mean-field predictions of `nninit theory --json`."""
import ctypes
import math

from . import _lib
from ._lib import lib


def _num(x, what, lo=None):
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        raise TypeError("%s must be a number, not %s" % (what, type(x).__name__))
    x = float(x)
    if not math.isfinite(x):
        raise ValueError("%s %r: must be finite" % (what, x))
    return x


def theory(act="tanh", *, sw2=None, sb2=None, init=None, bias_init=None, width=512, q0=1.0, c0=0.5, depth=0,
           critical=False):
    """Mean-field signal propagation through a deep dense net (Poole et al.
    2016, Schoenholz et al. 2017), as `nninit theory --json` computes it,
    returned as a dict with the same fields: act, alpha, sw2, sb2, q0,
    [init, width, weight_mean], [bias_init], q_star, chi1, dv_dq, c_star,
    chi_c, xi_q, xi_c, phase, and with depth > 0, c0 and layers (a list of
    {layer, q, c, act_mean, act_var, chi, grad_in}). Quantities the CLI
    prints as null (undefined or infinite) are float("inf") or float("nan").

    act: tanh, relu, leaky_relu[(a)], elu[(a)], selu, gelu, swish|silu,
      sigmoid, erf, linear. sigma_w^2 from sw2, from an initializer `init`
      at `width`, or on the order-to-chaos line (critical=True); sigma_b^2
      from sb2 (default 0) or a bias initializer `bias_init`.

        >>> import nninit
        >>> t = nninit.theory("tanh", init="glorot_uniform", width=512)
        >>> t["phase"], round(t["chi1"], 6)
        ('critical', 1.0)
    """
    if not isinstance(act, str):
        raise TypeError("act must be a str, not %s" % type(act).__name__)
    code, alpha = ctypes.c_int(), ctypes.c_double()
    _lib.call(lib.nninit_theory_act_parse, act.encode(), ctypes.byref(code), ctypes.byref(alpha))
    if sw2 is not None and init is not None:
        raise ValueError("theory: sw2 and init both set sigma_w^2; give one")
    if sb2 is not None and bias_init is not None:
        raise ValueError("theory: sb2 and bias_init both set sigma_b^2; give one")
    if sw2 is None and init is None and not critical:
        raise ValueError("theory: no sigma_w^2; give sw2=, init= or critical=True")
    if critical and (sw2 is not None or init is not None):
        raise ValueError("theory: critical=True solves sigma_w^2; do not give sw2= or init= with it")
    sw2 = 0.0 if sw2 is None else _num(sw2, "sw2")
    sb2 = 0.0 if sb2 is None else _num(sb2, "sb2")
    q0, c0 = _num(q0, "q0"), _num(c0, "c0")
    if sw2 < 0 or sb2 < 0:
        raise ValueError("theory: sw2 and sb2 must be >= 0")
    if not q0 > 0:
        raise ValueError("theory: q0 %g: the input's second moment must be > 0" % q0)
    if not -1 <= c0 <= 1:
        raise ValueError("theory: c0 %g: a correlation must be in [-1, 1]" % c0)
    if isinstance(width, bool) or not isinstance(width, int) or not 1 <= width <= 1 << 30:
        raise ValueError("theory: width must be an int in [1, 2^30]")
    if isinstance(depth, bool) or not isinstance(depth, int) or not 0 <= depth <= 100000:
        raise ValueError("theory: depth must be an int in [0, 100000]")
    out = {"act": lib.nninit_theory_act_name(code.value).decode(), "alpha": alpha.value}
    w_mean = ctypes.c_double()
    if init is not None:
        v = ctypes.c_double()
        _lib.call(lib.nninit_theory_from_init, ctypes.byref(_lib.parse_init(init)), width, width, ctypes.byref(v),
                  ctypes.byref(w_mean))
        sw2 = v.value
    if bias_init is not None:
        v, b_mean = ctypes.c_double(), ctypes.c_double()
        _lib.call(lib.nninit_theory_from_init, ctypes.byref(_lib.parse_init(bias_init)), 0, width, ctypes.byref(v),
                  ctypes.byref(b_mean))
        sb2 = v.value
    if critical:
        v = ctypes.c_double()
        _lib.call(lib.nninit_theory_critical, code.value, alpha.value, sb2, q0, ctypes.byref(v))
        sw2 = v.value
    net = _lib.TheoryNet(code.value, alpha.value, sw2, sb2)
    point = _lib.TheoryPoint()
    _lib.call(lib.nninit_theory_analyze, ctypes.byref(net), q0, ctypes.byref(point))
    out.update({"sw2": sw2, "sb2": sb2, "q0": q0})
    if init is not None:
        out.update({"init": init, "width": width, "weight_mean": w_mean.value})
    if bias_init is not None:
        out["bias_init"] = bias_init
    for f in ("q_star", "chi1", "dv_dq", "c_star", "chi_c", "xi_q", "xi_c"):
        out[f] = getattr(point, f)
    out["phase"] = lib.nninit_theory_phase_name(point.phase).decode()
    if depth > 0:
        layers = (_lib.TheoryLayer * depth)()
        _lib.call(lib.nninit_theory_layers, ctypes.byref(net), q0, c0, depth, layers)
        out["c0"] = c0
        out["layers"] = [{"layer": i + 1, "q": y.q, "c": y.c, "act_mean": y.act_mean, "act_var": y.act_var,
                          "chi": y.chi, "grad_in": y.grad_in} for i, y in enumerate(layers)]
    return out
