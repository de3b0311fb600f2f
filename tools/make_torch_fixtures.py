#!/usr/bin/python3
"""Writes the PyTorch fixtures of tests/test_torch.c.

Run with Debian's python3-torch (1.13.1):  /usr/bin/python3 tools/make_torch_fixtures.py [--out DIR]

The script runs itself twice, once with ATEN_CPU_CAPABILITY=default and once
without it (PyTorch then picks AVX2 on a CPU with AVX2 and FMA), and checks
that torch.__config__.show() reports the capability it expects. Each run
writes DIR/torch/<variant>.txt (a manifest, one line per init_ call) and
DIR/torch/<variant>.bin (the stored values, little-endian, concatenated).

Manifest line: case dtype seed spec shape fnv1a64 offset stored check
  case     calls with the same case id run in order on one generator
           (torch.manual_seed(seed) once, before the first call)
  seed     the seed as an unsigned 64-bit integer (negative Python seeds as
           their two's complement, which is what torch.manual_seed uses)
  spec     the nninit spec of the call (torch.nn.init name and keywords)
  shape    dims joined by 'x'
  fnv1a64  hash of the whole tensor's bytes (float32/float64 little-endian)
  offset   byte offset of the stored values in the .bin
  stored   number of stored elements: the whole tensor, or its first 256
           elements for large tensors (the hash covers the rest)
  check    'exact' (bit for bit) or 'qr' (orthogonal_: within tolerance,
           LAPACK builds may differ; the hash is informational)
"""
import argparse
import math
import os
import struct
import subprocess
import sys

VARIANTS = {"default": "NO AVX", "avx2": "AVX2"}  # as torch.__config__.show() words them
SEEDS = [0, 42, 2**32 + 7, -1, 0xFEDCBA9876543210]
SMALL = [1, 7, 15, 16, 17, 31, 1000]
HEAD = 256          # elements stored for large tensors
FULL_LIMIT = 4096   # tensors up to this many elements are stored whole


def fnv1a64(data):
    h = 0xCBF29CE484222325
    for byte in data:
        h ^= byte
        h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def fmt(v):
    if isinstance(v, str):
        return '"%s"' % v
    return repr(float(v)) if isinstance(v, float) else repr(v)


def spec_of(fn, kw):
    return "%s(%s)" % (fn, ",".join("%s=%s" % (k, fmt(v)) for k, v in kw.items()))


def libm_fingerprints():
    """FNV-1a-64 of libm's results on fixed arguments, as tests/test_torch.c
    computes them: the DEFAULT kernels, the float64 paths, the scalar path and
    erfinv call libm, and libm builds (even glibc's FMA and non-FMA variants
    of log/sin/cos/exp/erf) disagree in rare last bits. The C test requires
    bit-exactness of libm-dependent calls only where its libm gives the same
    fingerprints. Arguments: x_k = (k + 0.5) / 65536, k < 65536; log(x),
    sin(2 pi x), cos(2 pi x), exp(-16 x), erf(12 x - 6), with 2 pi rounded to
    the type and every argument exact or rounded once to the type."""
    import ctypes
    libm = ctypes.CDLL("libm.so.6")
    out = []
    for ctype, code, two_pi in ((ctypes.c_float, "f", struct.unpack("f", struct.pack("f", 2 * math.pi))[0]),
                                (ctypes.c_double, "d", 2 * math.pi)):
        suffix = "f" if code == "f" else ""
        fns = []
        for name in ("log", "sin", "cos", "exp", "erf"):
            fn = getattr(libm, name + suffix)
            fn.restype, fn.argtypes = ctype, [ctype]
            fns.append(fn)
        rnd = (lambda v: struct.unpack("f", struct.pack("f", v))[0]) if code == "f" else (lambda v: v)
        raw = bytearray()
        for k in range(65536):
            x = (k + 0.5) / 65536
            args = (x, rnd(two_pi * x), rnd(two_pi * x), -16 * x, 12 * x - 6)
            for fn, arg in zip(fns, args):
                raw += struct.pack("<" + code, fn(arg))
        out.append(fnv1a64(raw))
    return out


def cases():
    """Yields (case_id, seed, dtype, [(fn, kwargs, shape), ...])."""
    s5 = math.sqrt(5)
    n = 0
    for dt in ("float32", "float64"):
        for seed in SEEDS:
            for size in SMALL:
                yield "u%d" % n, seed, dt, [("uniform_", {"a": -0.1, "b": 0.1}, (size,))]
                yield "n%d" % n, seed, dt, [("normal_", {"mean": 0.1, "std": 0.3}, (size,))]
                n += 1
            # nn.Linear(20, 30): weight then bias from one stream
            b = 1 / math.sqrt(20)
            yield "lin%d" % n, seed, dt, [("kaiming_uniform_", {"a": s5}, (30, 20)),
                                          ("uniform_", {"a": -b, "b": b}, (30,))]
            # the scalar path's cached normal persists across calls, and the
            # vectorised path neither reads nor clears it; eye_ draws nothing
            yield "cache%d" % n, seed, dt, [("normal_", {}, (5,)), ("normal_", {}, (3,)),
                                            ("normal_", {"std": 0.5}, (7,)), ("normal_", {}, (20,)),
                                            ("eye_", {}, (3, 5)), ("normal_", {"mean": -1.0}, (3,))]
            yield "tn%d" % n, seed, dt, [("trunc_normal_", {}, (1000,)),
                                         ("trunc_normal_", {"std": 0.02, "a": -0.04, "b": 0.04}, (17,)),
                                         ("trunc_normal_", {"mean": 1.0, "std": 2.0, "a": -1.0, "b": 5.0}, (7,))]
            n += 1
        for seed in SEEDS[:2]:
            yield "k%d" % n, seed, dt, [("kaiming_uniform_", {}, (8, 3, 3, 3)),
                                        ("kaiming_normal_", {"mode": "fan_out", "nonlinearity": "relu"}, (8, 3, 3, 3)),
                                        ("kaiming_normal_", {"a": 0.1}, (7, 3)),
                                        ("kaiming_uniform_", {"nonlinearity": "tanh"}, (5, 3)),
                                        ("kaiming_uniform_", {"a": 0.2, "mode": "fan_out"}, (3, 40)),
                                        ("kaiming_normal_", {"nonlinearity": "selu"}, (16, 4))]
            yield "x%d" % n, seed, dt, [("xavier_uniform_", {}, (50, 40)),
                                        ("xavier_normal_", {}, (50, 40)),
                                        ("xavier_uniform_", {"gain": math.sqrt(2.0)}, (4, 3)),
                                        ("xavier_normal_", {"gain": 5.0 / 3}, (3, 4))]
            yield "o%d" % n, seed, dt, [("orthogonal_", {}, (64, 32)), ("orthogonal_", {}, (32, 64)),
                                        ("orthogonal_", {"gain": math.sqrt(2.0)}, (50, 50)),
                                        ("orthogonal_", {}, (3, 5)), ("orthogonal_", {}, (16, 1, 3, 3)),
                                        ("uniform_", {}, (7,))]
            yield "s%d" % n, seed, dt, [("sparse_", {"sparsity": 0.3}, (10, 5)),
                                        ("sparse_", {"sparsity": 0.9, "std": 0.05}, (100, 20)),
                                        ("normal_", {}, (3,))]
            yield "d%d" % n, seed, dt, [("constant_", {"val": 0.3}, (4, 5)), ("zeros_", {}, (2, 3)),
                                        ("ones_", {}, (2, 3)), ("eye_", {}, (5, 3)),
                                        ("dirac_", {}, (4, 2, 3, 3)), ("dirac_", {"groups": 2}, (6, 3, 5)),
                                        ("dirac_", {}, (2, 3, 3, 3, 3)), ("uniform_", {}, (3,))]
            big = [("kaiming_uniform_", {"a": s5}, (784, 256)), ("kaiming_uniform_", {"a": s5}, (128, 64, 3, 3)),
                   ("kaiming_normal_", {}, (784, 256)), ("xavier_uniform_", {}, (128, 64, 3, 3)),
                   ("xavier_normal_", {}, (784, 256)), ("trunc_normal_", {"std": 0.02}, (784, 256)),
                   ("normal_", {"std": 0.02}, (3, 3, 64, 128)), ("uniform_", {"a": -0.05, "b": 0.05}, (3, 3, 64, 128))]
            for i, step in enumerate(big):
                yield "big%d_%d" % (n, i), seed, dt, [step]
            n += 1


def generate(variant, outdir):
    import torch
    shown = torch.__config__.show()
    cap = [l.split(":", 1)[1].strip() for l in shown.splitlines() if "CPU capability usage" in l]
    cap = cap[0] if cap else "unknown"
    if cap != VARIANTS[variant]:
        sys.exit("%s run: torch reports CPU capability %s, expected %s" % (variant, cap, VARIANTS[variant]))
    nn = torch.nn
    # Sanity: the Linear sequence of cases() is what nn.Linear does.
    torch.manual_seed(3)
    lin = nn.Linear(20, 30)
    torch.manual_seed(3)
    w = torch.empty(30, 20)
    nn.init.kaiming_uniform_(w, a=math.sqrt(5))
    b = torch.empty(30)
    nn.init.uniform_(b, -1 / math.sqrt(20), 1 / math.sqrt(20))
    assert torch.equal(lin.weight.data, w) and torch.equal(lin.bias.data, b), "nn.Linear order changed"

    os.makedirs(os.path.join(outdir, "torch"), exist_ok=True)
    lines = ["# made by tools/make_torch_fixtures.py with torch %s, CPU capability %s" % (torch.__version__, cap),
             "# libm %016x %016x" % tuple(libm_fingerprints()),
             "# case dtype seed spec shape fnv1a64 offset stored check"]
    blob = bytearray()
    for cid, seed, dt, steps in cases():
        torch.manual_seed(seed)
        for fn, kw, shape in steps:
            t = torch.empty(shape, dtype=getattr(torch, dt))
            getattr(nn.init, fn)(t, **kw)
            raw = t.contiguous().numpy().astype("<" + ("f4" if dt == "float32" else "f8")).tobytes()
            numel = t.numel()
            stored = numel if numel <= FULL_LIMIT else HEAD
            es = 4 if dt == "float32" else 8
            lines.append("%s %s %d %s %s %016x %d %d %s" % (
                cid, dt, seed % 2**64, spec_of(fn, kw), "x".join(map(str, shape)), fnv1a64(raw), len(blob), stored,
                "qr" if fn == "orthogonal_" else "exact"))
            blob += raw[:stored * es]
    with open(os.path.join(outdir, "torch", variant + ".txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(os.path.join(outdir, "torch", variant + ".bin"), "wb") as f:
        f.write(bytes(blob))
    print("%s: %d calls, %d bytes, capability %s" % (variant, len(lines) - 3, len(blob), cap))


# torch.get_rng_state() after these calls (tests/test_torch.c replays the
# same list): (seed, [(function, numel), ...]) with rand = uniform_ and
# randn = normal_ on float32 tensors.
STATE_SCENARIOS = [
    (42, []),
    (42, [("randn", 3)]),
    (-1, [("rand", 1000), ("randn", 20)]),
    (7, [("randn", 1001), ("randn", 5), ("rand", 700)]),
]


def generate_states(outdir):
    """state.bin: per scenario, the 5056 state bytes, then 5 float64 values
    of torch.randn(5, dtype=torch.float64) and 3 float32 of torch.rand(3)
    drawn after it (so set_state can be checked by continuing the stream)."""
    import torch
    blob = bytearray()
    for seed, calls in STATE_SCENARIOS:
        torch.manual_seed(seed)
        for fn, n in calls:
            getattr(torch, fn)(n)
        blob += torch.get_rng_state().numpy().tobytes()
        blob += torch.randn(5, dtype=torch.float64).numpy().astype("<f8").tobytes()
        blob += torch.rand(3).numpy().astype("<f4").tobytes()
    with open(os.path.join(outdir, "torch", "state.bin"), "wb") as f:
        f.write(bytes(blob))
    print("state: %d scenarios, %d bytes" % (len(STATE_SCENARIOS), len(blob)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                                  "fixtures"))
    ap.add_argument("--variant", choices=sorted(VARIANTS))
    args = ap.parse_args()
    if args.variant:
        generate(args.variant, args.out)
        if args.variant == "avx2":
            generate_states(args.out)
        return
    for variant in ("default", "avx2"):
        env = dict(os.environ)
        env.pop("ATEN_CPU_CAPABILITY", None)
        if variant == "default":
            env["ATEN_CPU_CAPABILITY"] = "default"
        subprocess.run([sys.executable, os.path.abspath(__file__), "--variant", variant, "--out", args.out],
                       env=env, check=True)


if __name__ == "__main__":
    main()
