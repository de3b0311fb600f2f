"""nninit.torch: re-initialize an existing torch.nn.Module in place.

    >>> import torch, nninit
    >>> net = torch.nn.Sequential(torch.nn.Linear(20, 30), torch.nn.ReLU(), torch.nn.Linear(30, 5))
    >>> _ = nninit.torch.init_module(net, seed=0, rng="torch")
    >>> torch.manual_seed(0)                       # doctest: +ELLIPSIS
    <torch._C.Generator object at ...>
    >>> ref = torch.nn.Sequential(torch.nn.Linear(20, 30), torch.nn.ReLU(), torch.nn.Linear(30, 5))
    >>> all(torch.equal(a, b) for a, b in zip(net.state_dict().values(), ref.state_dict().values()))
    True
"""
import ctypes
import fnmatch
import math

import numpy as np
import torch

from . import _lib
from ._fill import Generator, _count
from ._lib import lib

__all__ = ["init_module", "advise", "SUPPORTED"]

_nn = torch.nn


def _b(x):
    return "True" if x else "False"


def _conv(m):
    k = tuple(m.kernel_size)
    return "%s(%d, %d, %s, groups=%d, bias=%s)" % (type(m).__name__, m.in_channels, m.out_channels, k, m.groups,
                                                   _b(m.bias is not None))


def _norm(m):
    return "%s(%d, affine=%s, track_running_stats=%s)" % (type(m).__name__, m.num_features, _b(m.affine),
                                                         _b(m.track_running_stats))


def _rnn(m):
    extra = ""
    if isinstance(m, _nn.LSTM):
        extra = ", proj_size=%d" % m.proj_size
    elif type(m) is _nn.RNN:
        extra = ", nonlinearity='%s'" % m.nonlinearity
    return "%s(%d, %d, num_layers=%d, bias=%s, bidirectional=%s%s)" % (
        type(m).__name__, m.input_size, m.hidden_size, m.num_layers, _b(m.bias), _b(m.bidirectional), extra)


def _mha(m):
    return "MultiheadAttention(%d, %d, bias=%s, add_bias_kv=%s, kdim=%d, vdim=%d)" % (
        m.embed_dim, m.num_heads, _b(m.in_proj_bias is not None), _b(m.bias_k is not None), m.kdim, m.vdim)


def _transformer(m):
    return "%s(%d, %d, dim_feedforward=%d)" % (type(m).__name__, m.self_attn.embed_dim, m.self_attn.num_heads,
                                               m.linear1.out_features)


def _stack(m):
    """TransformerEncoder/Decoder: torch deep-copies one layer num_layers times."""
    layers = list(m.layers)
    if not layers:
        raise ValueError("a %s of no layers" % type(m).__name__)
    rec = SUPPORTED.get(type(layers[0]))
    if rec is None:
        raise ValueError("its layers are %s" % type(layers[0]).__name__)
    norm = ""
    if m.norm is not None:
        if SUPPORTED.get(type(m.norm)) is None:
            raise ValueError("its norm is %s" % type(m.norm).__name__)
        norm = ", norm=" + SUPPORTED[type(m.norm)](m.norm)
    return "%s(%s, %d%s)" % (type(m).__name__, rec(layers[0]), len(layers), norm)


def _transformer_full(m):
    enc, dec = m.encoder, m.decoder
    if type(enc) is not _nn.TransformerEncoder or type(dec) is not _nn.TransformerDecoder or \
            not enc.layers or not dec.layers or type(enc.norm) is not _nn.LayerNorm or \
            type(dec.norm) is not _nn.LayerNorm:
        raise ValueError("a Transformer with a custom encoder or decoder")
    l0 = enc.layers[0]
    return "Transformer(%d, %d, %d, %d, %d)" % (m.d_model, m.nhead, len(enc.layers), len(dec.layers),
                                                l0.linear1.out_features)


def _embedding(m):
    pad = "" if m.padding_idx is None else ", padding_idx=%d" % m.padding_idx
    return "Embedding(%d, %d%s)" % (m.num_embeddings, m.embedding_dim, pad)


# The module types `nninit model --torch` knows, each with the recipe that
# rebuilds its reset_parameters (exact types only: a subclass may have its
# own reset_parameters). torch 1.13's PReLU does not keep `init`: 0.25
# (its default) unless the module has an `init` attribute (torch 2.x).
SUPPORTED = {
    _nn.Linear: lambda m: "Linear(%d, %d, bias=%s)" % (m.in_features, m.out_features, _b(m.bias is not None)),
    _nn.Bilinear: lambda m: "Bilinear(%d, %d, %d, bias=%s)" % (m.in1_features, m.in2_features, m.out_features,
                                                               _b(m.bias is not None)),
    _nn.Conv1d: _conv, _nn.Conv2d: _conv, _nn.Conv3d: _conv,
    _nn.ConvTranspose1d: _conv, _nn.ConvTranspose2d: _conv, _nn.ConvTranspose3d: _conv,
    _nn.Embedding: _embedding,
    _nn.BatchNorm1d: _norm, _nn.BatchNorm2d: _norm, _nn.BatchNorm3d: _norm,
    _nn.InstanceNorm1d: _norm, _nn.InstanceNorm2d: _norm, _nn.InstanceNorm3d: _norm,
    _nn.GroupNorm: lambda m: "GroupNorm(%d, %d, affine=%s)" % (m.num_groups, m.num_channels, _b(m.affine)),
    _nn.LayerNorm: lambda m: "LayerNorm(%s, elementwise_affine=%s)" % (tuple(m.normalized_shape),
                                                                      _b(m.elementwise_affine)),
    _nn.PReLU: lambda m: "PReLU(%d, init=%r)" % (m.num_parameters, float(getattr(m, "init", 0.25))),
    _nn.RNN: _rnn, _nn.LSTM: _rnn, _nn.GRU: _rnn,
    _nn.MultiheadAttention: _mha,
    _nn.TransformerEncoderLayer: _transformer, _nn.TransformerDecoderLayer: _transformer,
    _nn.TransformerEncoder: _stack, _nn.TransformerDecoder: _stack, _nn.Transformer: _transformer_full,
}
# Containers whose children are constructed in registration order.
_CONTAINERS = (_nn.Sequential, _nn.ModuleList, _nn.ModuleDict)


class _Rules:
    """Parameter-name patterns (fnmatch, on the full dotted name) -> specs;
    the first matching pattern wins; a pattern that matches nothing is an
    error (a typo would otherwise pass silently)."""

    def __init__(self, rules):
        if rules is None:
            rules = {}
        if not isinstance(rules, dict):
            raise TypeError("rules must be a dict of name pattern -> spec, not %s" % type(rules).__name__)
        for pat, spec in rules.items():
            if not isinstance(pat, str) or not isinstance(spec, str):
                raise TypeError("rules: patterns and specs must be str (%r: %r)" % (pat, spec))
            _lib.parse_init(spec)  # a bad spec fails before anything is written
        self.rules = rules
        self.used = set()

    def spec_for(self, name):
        for pat, spec in self.rules.items():
            if fnmatch.fnmatchcase(name, pat):
                self.used.add(pat)
                return spec
        return None

    def check_all_used(self):
        unused = [p for p in self.rules if p not in self.used]
        if unused:
            raise ValueError("rules: pattern %r matches no parameter of the module; parameter names are as in "
                             "module.named_parameters(), e.g. 'h.*.attn.c_proj.weight'" % unused[0])


def _plan(module, rules, root):
    """The fill plan in construction order: ("recipe", prefix, module,
    recipe) for supported modules, ("tensor", name, tensor, spec) for
    parameters that rules cover elsewhere. Unsupported modules holding
    parameters that no rule covers are collected and reported together."""
    plan, unsupported = [], []

    def walk(m, prefix):
        recipe = SUPPORTED.get(type(m))
        if recipe is not None:
            model = ctypes.c_void_p()
            try:
                _lib.call(lib.nninit_model_from_torch, recipe(m).encode(), ctypes.byref(model))
            except ValueError as e:
                unsupported.append("'%s' (%s: %s)" % (prefix.rstrip(".") or "<root>", type(m).__name__, e))
                return
            plan.append(("recipe", prefix, m, model))
            for n, _ in list(m.named_parameters()) + list(m.named_buffers()):
                rules.spec_for(prefix + n)  # marks the rules used; applied when filling
            return
        own = [(n, t) for n, t in list(m.named_parameters(recurse=False)) + list(m.named_buffers(recurse=False))
               if t is not None]
        if type(m).__module__.startswith("torch.") and not isinstance(m, _CONTAINERS):
            # a torch.nn module nninit does not rebuild
            names = [prefix + n for n, _ in m.named_parameters()] + [prefix + n for n, _ in m.named_buffers()]
            if not names:
                return
            specs = [rules.spec_for(n) for n in names]
            if all(s is not None for s in specs):
                tensors = dict(list(m.named_parameters()) + list(m.named_buffers()))
                for n, s in zip(names, specs):
                    plan.append(("tensor", n, tensors[n[len(prefix):]], s))
            else:
                unsupported.append("'%s' (%s)" % (prefix.rstrip(".") or "<root>", type(m).__name__))
            return
        missing = []
        for n, t in own:
            spec = rules.spec_for(prefix + n)
            if spec is None:
                missing.append(n)
            else:
                plan.append(("tensor", prefix + n, t, spec))
        if missing:
            unsupported.append("'%s' (%s: %s)" % (prefix.rstrip(".") or "<root>", type(m).__name__,
                                                   ", ".join(missing)))
        for n, child in m.named_children():
            walk(child, prefix + n + ".")

    walk(module, root)
    if unsupported:
        _free_plan(plan)
        raise ValueError("init_module: no initializer known for %s; supported modules: %s; or give rules={pattern: "
                         "spec} for their parameters" % ("; ".join(unsupported),
                                                         ", ".join(sorted(t.__name__ for t in SUPPORTED))))
    return plan


def _free_plan(plan):
    for step in plan:
        if step[0] == "recipe":
            lib.nninit_model_free(step[3])


_DT = {torch.float32: ("float32", _lib.F32), torch.float64: ("float64", _lib.F64),
       torch.float16: ("float16", None), torch.bfloat16: ("bfloat16", None)}


def _check_tensor(name, t, torch_rng):
    if t.device.type != "cpu":
        hint = " (a model built on the meta device: module.to_empty(device='cpu') first)" \
            if t.device.type == "meta" else " (initialize on the CPU, then .to(device))"
        raise ValueError("init_module: tensor '%s' is on %s; nninit fills CPU memory%s" % (name, t.device, hint))
    if not t.is_contiguous() or t.layout != torch.strided:
        raise ValueError("init_module: tensor '%s' is not a contiguous dense tensor" % name)
    if t.dtype == torch.int64:
        return
    if t.dtype not in _DT:
        raise TypeError("init_module: tensor '%s' has dtype %s; expected float32, float64, float16 or bfloat16"
                        % (name, t.dtype))
    if torch_rng and _DT[t.dtype][1] is None:
        raise ValueError("init_module: tensor '%s' is %s; the torch generators reproduce float32 and float64 only "
                         "(use rng=\"philox\")" % (name, t.dtype))


class _Filler:
    def __init__(self, gen, threads):
        self.gen = gen
        self.threads = threads
        self.seen = set()  # storages already filled (tied weights are filled once, by their first owner)

    def first_time(self, t):
        key = (t.data_ptr(), t.numel(), t.dtype)
        if key in self.seen:
            return False
        self.seen.add(key)
        return True

    def recipe(self, prefix, m, model, rules):
        tensors = dict(list(m.named_parameters()) + list(m.named_buffers()))
        n = lib.nninit_model_count(model)
        outs = (ctypes.c_void_p * n)()
        half = []  # (scratch, tensor): half-precision tensors filled through float32
        wide = None
        buf = _lib.ModelTensor()
        for i in range(n):
            mt = lib.nninit_model_tensor_at(model, i, ctypes.byref(buf)).contents
            name = mt.name.decode()
            t = tensors.get(name)
            shape = tuple(mt.shape.dim[:mt.shape.ndim])
            if t is None or tuple(t.shape) != shape:
                raise ValueError("init_module: module '%s' (%s): tensor '%s' %s, expected %s as %s builds it"
                                 % (prefix.rstrip("."), type(m).__name__, name,
                                    "is missing" if t is None else "has shape %s" % (tuple(t.shape),), shape,
                                    type(m).__name__))
            _check_tensor(prefix + name, t, self.gen.is_torch)
            spec = None if mt.is_int64 else rules.spec_for(prefix + name)
            if spec is not None:
                _lib.call(lib.nninit_model_override, model, mt.name, spec.encode())
            if not self.first_time(t):
                continue  # NULL: a torch generator still draws it
            if mt.is_int64:
                if t.dtype != torch.int64:
                    raise TypeError("init_module: tensor '%s' has dtype %s; expected torch.int64" % (prefix + name,
                                                                                                      t.dtype))
                outs[i] = t.data_ptr()
                continue
            if t.dtype in (torch.float16, torch.bfloat16):
                scratch = np.empty(t.numel(), dtype=np.float32)
                half.append((scratch, t))
                outs[i] = scratch.ctypes.data
                continue
            this = _DT[t.dtype][1]
            if wide is not None and wide != this:
                raise TypeError("init_module: module '%s' mixes float32 and float64 tensors" % prefix.rstrip("."))
            wide = this
            outs[i] = t.data_ptr()
        if half and wide == _lib.F64:
            raise TypeError("init_module: module '%s' mixes float64 and half-precision tensors" % prefix.rstrip("."))
        _lib.call(lib.nninit_model_fill, model, self.gen._rng, prefix.encode(),
                  _lib.F64 if wide == _lib.F64 else _lib.F32, self.threads, outs)
        for scratch, t in half:
            to = _lib.FD["F16"] if t.dtype == torch.float16 else _lib.FD["BF16"]
            _lib.call(lib.nninit_convert_finite, _lib.FD["F32"], scratch.ctypes.data, to, t.data_ptr(), t.numel())

    def tensor(self, name, t, spec):
        """A parameter a rule covers outside the supported modules: the
        spec under torch layout, Philox stream of its full name."""
        _check_tensor(name, t, self.gen.is_torch)
        if t.dtype == torch.int64:
            raise TypeError("init_module: rules cannot initialize int64 tensor '%s'" % name)
        if not self.first_time(t):
            return
        from ._fill import _Job
        stream = lib.nninit_stream_from_name(name.encode())
        job = _Job(spec, tuple(t.shape), "torch", 0, None, stream, self.threads, self.gen)
        job.run(t.data_ptr(), _DT[t.dtype][0])


def init_module(module, *, seed, rng="torch", rules=None, threads=0, prefix=""):
    """Re-initializes every parameter and buffer of `module` in place, as
    its constructor would, and returns the module.

    rng="torch": PyTorch 1.13's CPU generator; the result equals
      `torch.manual_seed(seed); Module(...)` bit for bit when the module's
      parameters are created in the order its submodules are registered
      (the usual `self.a = ...; self.b = ...` construction). torch's own
      global generator is not touched. Serial, as torch is.
    rng="philox": each tensor from the counter-based stream of its full name
      (nninit_stream_from_name("layer.0.weight")): the values do not depend
      on the module tree around the tensor, on the order of construction or
      on `threads` (0 = every CPU), and equal `nninit.model(torch_recipe=...,
      rng="philox")` for the same names.
    rules: {pattern: spec}; fnmatch patterns on parameter names (as in
      module.named_parameters()), first match wins, each must match something,
      e.g. GPT-2's {"h.*.attn.c_proj.weight": "normal_(std=0.02)",
      "h.*.mlp.c_proj.weight": "scaled_residual(num_layers=12)"}.
      Rules also cover parameters of modules nninit does not know.
    prefix: prepended to every name (rules and Philox streams): a part of a
      model initialized on its own, e.g. init_module(model.h[3], seed=0,
      rng="philox", prefix="h.3."), gets the values it has in the whole model.

    Supported module types: see nninit.torch.SUPPORTED (those of
    `nninit model --torch`), inside Sequential, ModuleList, ModuleDict and
    modules of your own; a parameter or buffer that neither a supported
    module nor a rule covers is a ValueError naming its module's path, raised
    before anything is written. Tensors must be dense CPU tensors (a model
    built on the meta device: module.to_empty(device="cpu") first); float16
    and bfloat16 are filled through float32 (philox only). A tensor shared by
    two modules (tied weights) keeps the values of its first owner; a torch
    generator still draws the second one, as the constructor does.
    """
    if not isinstance(module, torch.nn.Module):
        raise TypeError("init_module: expected a torch.nn.Module, not %s" % type(module).__name__)
    threads = _count(threads, "threads", 0, 1 << 16)
    gen = Generator(rng, seed)
    rules_ = _Rules(rules)
    if not isinstance(prefix, str):
        raise TypeError("prefix must be a str, not %s" % type(prefix).__name__)
    plan = _plan(module, rules_, prefix)
    try:
        rules_.check_all_used()
        for step in plan:  # every tensor is checked before the first is written
            if step[0] == "tensor":
                _check_tensor(step[1], step[2], gen.is_torch)
            else:
                for n, t in list(step[2].named_parameters()) + list(step[2].named_buffers()):
                    _check_tensor(step[1] + n, t, gen.is_torch)
        filler = _Filler(gen, threads)
        with torch.no_grad():
            for step in plan:
                if step[0] == "recipe":
                    filler.recipe(step[1], step[2], step[3], rules_)
                else:
                    filler.tensor(step[1], step[2], step[3])
    finally:
        _free_plan(plan)
    return module


# ---- advise ---------------------------------------------------------------

def _recipe_of(m, where="<root>"):
    """The recipe of a module tree: supported modules as nninit_model_from_torch knows them, containers and
    modules of one's own as Sequential(...) / Name(attr=..., ...), parameter-free modules by name."""
    rec = SUPPORTED.get(type(m))
    if rec is not None:
        return rec(m)
    children = list(m.named_children())
    own = [n for n, _ in list(m.named_parameters(recurse=False)) + list(m.named_buffers(recurse=False))]
    if own:
        raise ValueError("advise: module '%s' (%s) holds parameters nninit does not know (%s); supported modules: %s"
                         % (where, type(m).__name__, ", ".join(own), ", ".join(sorted(t.__name__ for t in SUPPORTED))))
    sub = [(n, _recipe_of(c, n if where == "<root>" else where + "." + n)) for n, c in children]
    if isinstance(m, _nn.Sequential):
        if all(n == str(i) for i, (n, _) in enumerate(sub)):
            return "Sequential(%s)" % ", ".join(r for _, r in sub)
        return "Sequential(OrderedDict([%s]))" % ", ".join("(%r, %s)" % (n, r) for n, r in sub)
    if isinstance(m, _nn.ModuleList):
        return "ModuleList([%s])" % ", ".join(r for _, r in sub)
    if isinstance(m, _nn.ModuleDict):
        return "ModuleDict({%s})" % ", ".join("%r: %s" % (n, r) for n, r in sub)
    if sub:  # a module of one's own: its forward (the order and the activations) is not known
        return "%s(%s)" % (type(m).__name__, ", ".join("%s=%s" % (n, r) for n, r in sub))
    if isinstance(m, _nn.LeakyReLU):
        return "LeakyReLU(%r)" % float(m.negative_slope)
    if isinstance(m, _nn.ELU):
        return "ELU(alpha=%r)" % float(m.alpha)
    if type(m).__module__.startswith("torch.nn"):
        return "%s()" % type(m).__name__
    return "Identity()"  # a parameter-free module of one's own: taken as the identity


# nninit_init_kind values (include/nninit.h): constants and orthogonal kinds
_CONST_KINDS = (0, 1, 2, 18, 19, 20)   # zeros, ones, constant, constant_, ones_, zeros_
_ORTHO_KINDS = (13, 27)                # orthogonal, orthogonal_


def _measured_spec(t, init, shape):
    """A spec that reproduces a live tensor's scale when it differs from what its module's constructor draws
    (None when it agrees): constant_ for one value, orthogonal_ for a (semi-)orthogonal matrix, else
    VarianceScaling with the measured fan_in Var(W) (or normal_ for a vector)."""
    x = t.detach().to(torch.float64).flatten()
    n = x.numel()
    if n == 0:
        return None
    rf = 1
    for d in shape[2:]:
        rf *= d
    fan_in = shape[1] * rf if len(shape) >= 2 else 0
    fan_out = shape[0] * rf if len(shape) >= 2 else n
    want, mean = ctypes.c_double(), ctypes.c_double()
    _lib.call(lib.nninit_theory_from_init, ctypes.byref(init), fan_in, fan_out, ctypes.byref(want),
              ctypes.byref(mean))
    if bool((x == x[0]).all()):
        v = float(x[0])
        constant = init.kind in _CONST_KINDS  # the constructor's own constant (bias zeros_, norm ones_)
        return None if constant and mean.value == v else "constant_(%r)" % v
    if len(shape) == 2 and min(shape) <= 2048:
        w = t.detach().to(torch.float64)
        g = w @ w.T if shape[0] <= shape[1] else w.T @ w
        gain2 = float(torch.diagonal(g).mean())
        if gain2 > 0 and float((g / gain2 - torch.eye(g.shape[0], dtype=torch.float64)).abs().max()) < 1e-3:
            return None if init.kind in _ORTHO_KINDS else "orthogonal_(gain=%.6g)" % math.sqrt(gain2)
    got = float(x.var(unbiased=False)) * fan_in if fan_in else float((x * x).mean())
    # the sample variance of n values has a relative standard error sqrt(2/n) (normal values): 5 of them, and
    # at least 10%, separate a different initializer from the constructor's draw
    tol = max(0.1, 5 * math.sqrt(2.0 / n))
    if want.value > 0 and abs(got / want.value - 1) <= tol:
        return None
    if fan_in:
        return "VarianceScaling(scale=%.6g, mode='fan_in', distribution='untruncated_normal')" % got
    return "normal_(mean=%.6g, std=%.6g)" % (float(x.mean()), float(x.std(unbiased=False)))


def advise(module, *, measure=True):
    """Lints a live torch.nn.Module's initialization (`nninit advise` on it).

    The module tree becomes a recipe (the modules nninit.torch.SUPPORTED
    knows, Sequential/ModuleList/ModuleDict, modules of one's own as
    Name(attr=...), whose forward and so whose activations are unknown;
    a parameter-free module of one's own is taken as the identity). With
    measure=True the live values count: a tensor whose scale differs from
    what its constructor draws (beyond 5 standard errors of the sample
    variance, and 10%) is described by a spec reproducing its measured
    scale (constant_, orthogonal_, VarianceScaling), listed in "measured".
    Returns nninit.advise's dict plus "recipe" and "measured".

        >>> import torch, nninit
        >>> net = torch.nn.Sequential(torch.nn.Linear(64, 64), torch.nn.ReLU(), torch.nn.Linear(64, 64),
        ...                           torch.nn.ReLU(), torch.nn.Linear(64, 64), torch.nn.ReLU(), torch.nn.Linear(64, 10))
        >>> [f["kind"] for f in nninit.torch.advise(net)["findings"]][:1]
        ['init-activation-mismatch']
        >>> for m in net[:-1:2]:
        ...     _ = torch.nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
        >>> _ = torch.nn.init.xavier_uniform_(net[-1].weight)
        >>> nninit.torch.advise(net)["findings"]
        []
    """
    if not isinstance(module, _nn.Module):
        raise TypeError("advise: module must be a torch.nn.Module, not %s" % type(module).__name__)
    from ._advise import _report
    recipe = _recipe_of(module)
    m = ctypes.c_void_p()
    _lib.call(lib.nninit_model_from_torch, recipe.encode(), ctypes.byref(m))
    try:
        measured = {}
        if measure:
            live = dict(module.state_dict(keep_vars=True))
            buf = _lib.ModelTensor()
            for i in range(lib.nninit_model_count(m)):
                t = lib.nninit_model_tensor_at(m, i, ctypes.byref(buf)).contents
                name = t.name.decode()
                if t.is_int64 or name not in live or not live[name].is_floating_point():
                    continue
                spec = _measured_spec(live[name], t.init, tuple(t.shape.dim[:t.shape.ndim]))
                if spec is not None:
                    measured[name] = spec
        result = _report(m, measured)
    finally:
        lib.nninit_model_free(m)
    result["recipe"] = recipe
    result["measured"] = measured
    return result
