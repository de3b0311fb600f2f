#!/usr/bin/python3
"""Live comparison of `nninit gen --rng torch:<variant>` with torch.nn.init.

Usage: /usr/bin/python3 tools/torch_crosscheck.py [path/to/nninit]

Runs itself once with ATEN_CPU_CAPABILITY=default and once without (AVX2 on
a CPU with AVX2 and FMA), draws large tensors with live PyTorch and with the
CLI from the same seed, and compares them bit for bit (orthogonal_: the
largest absolute difference, LAPACK builds may differ). Exit status 1 if any
call differs. `make crosscheck` runs it after replaying regenerated fixtures.
"""
import math
import os
import subprocess
import sys
import tempfile

CASES = [  # (function, keywords, shape, dtype)
    ("normal_", {}, (4_000_000,), "float32"),
    ("normal_", {"mean": 0.1, "std": 0.3}, (1_000_003,), "float32"),
    ("normal_", {"mean": 0.1, "std": 0.3}, (1_000_003,), "float64"),
    ("normal_", {}, (15,), "float64"),
    ("uniform_", {"a": -0.1, "b": 0.1}, (2_000_000,), "float32"),
    ("uniform_", {"a": -0.1, "b": 0.1}, (500_000,), "float64"),
    ("trunc_normal_", {"std": 0.02, "a": -0.04, "b": 0.04}, (2_000_000,), "float32"),
    ("trunc_normal_", {}, (500_000,), "float64"),
    ("kaiming_uniform_", {"a": math.sqrt(5)}, (1024, 1024), "float32"),
    ("kaiming_normal_", {"mode": "fan_out"}, (256, 128, 3, 3), "float32"),
    ("xavier_normal_", {}, (777, 333), "float64"),
    ("orthogonal_", {}, (300, 512), "float32"),
    ("sparse_", {"sparsity": 0.5}, (300, 200), "float32"),
]
SEEDS = [0, 12345, -7]
VARIANTS = {"default": "NO AVX", "avx2": "AVX2"}


def run_variant(variant, cli):
    import numpy as np
    import torch
    cap = [l.split(":", 1)[1].strip() for l in torch.__config__.show().splitlines() if "CPU capability usage" in l]
    if not cap or cap[0] != VARIANTS[variant]:
        sys.exit("%s: torch reports capability %s" % (variant, cap))
    bad = 0
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "t.npy")
        for seed in SEEDS:
            for fn, kw, shape, dt in CASES:
                torch.manual_seed(seed)
                t = torch.empty(shape, dtype=getattr(torch, dt))
                getattr(torch.nn.init, fn)(t, **kw)
                spec = "%s(%s)" % (fn, ",".join("%s=%r" % kv for kv in kw.items()))
                subprocess.run([cli, "gen", spec, "--shape", ",".join(map(str, shape)), "--layout", "torch", "--rng",
                                "torch:" + variant, "--seed", str(seed), "--dtype", dt, "-o", out], check=True)
                got, want = np.load(out), t.numpy()
                if fn == "orthogonal_":
                    d = float(np.abs(got.astype(np.float64) - want).max())
                    ok = d <= 1e-6 * float(np.abs(want).max())
                    what = "max |diff| %.3g" % d
                else:
                    ib = np.uint32 if dt == "float32" else np.uint64
                    n = int((got.view(ib) != want.view(ib)).sum())
                    ok = n == 0
                    what = "%d of %d differ" % (n, want.size)
                bad += not ok
                print("%-7s seed %-6d %-16s %-18s %-7s %s%s" % (variant, seed, fn, "x".join(map(str, shape)), dt, what,
                                                              "" if ok else "  <-- MISMATCH"))
    return bad


def main():
    cli = sys.argv[1] if len(sys.argv) > 1 else "build/nninit"
    if len(sys.argv) > 2:
        sys.exit(1 if run_variant(sys.argv[2], cli) else 0)
    rc = 0
    for variant in ("default", "avx2"):
        env = dict(os.environ)
        env.pop("ATEN_CPU_CAPABILITY", None)
        if variant == "default":
            env["ATEN_CPU_CAPABILITY"] = "default"
        rc |= subprocess.run([sys.executable, os.path.abspath(__file__), cli, variant], env=env).returncode
    print("crosscheck: %s" % ("all calls match" if rc == 0 else "MISMATCHES"))
    sys.exit(rc)


if __name__ == "__main__":
    main()
