#!/usr/bin/python3
"""Speed and peak memory of nninit.torch.init_module against PyTorch
constructing the same model, on a GPT-2-shaped torch model: "gpt2" (GPT-2
small: 124 M parameters, vocabulary 50257, 1024 positions, width 768, 12
blocks, tied output embedding) and "1b" (width 2048, 18 blocks, 2048
positions: 1.01 B parameters).

Each measurement runs in its own process (so ru_maxrss is that variant's peak)
and the variants are interleaved, rep after rep, in an order rotated each rep;
medians are reported with the load average, because this machine is shared.
The "construct" variants include the first touch of the model's memory, which
on a virtual machine varies by seconds between processes; the reinit: ones
measure the fills alone on memory already touched.

  torch            torch.manual_seed(0); GPT(cfg)         (PyTorch's constructors)
  torch+gpt2init   the same, then nanoGPT's _init_weights  (normal_(0.02), zeros, scaled c_proj)
  nninit-torch     GPT on the meta device, to_empty(cpu), init_module(rng="torch")
                   (equal to `torch` bit for bit; --verify checks it)
  nninit-philox    the same with rng="philox", threads=--threads (default 2)
  nninit-philox+gpt2init   philox with rules giving nanoGPT's scheme
  reinit:X         re-initializing a model that already exists (built and
                   touched before the clock starts): X = torch
                   (torch.manual_seed(0) + every module's reset_parameters()),
                   nninit-torch, nninit-philox (init_module)

usage: bench/python_init_module.py [--sizes gpt2,1b] [--reps 3] [--threads 2] [--verify]
"""
import argparse
import hashlib
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
SIZES = {"gpt2": dict(vocab=50257, ctx=1024, width=768, layers=12, heads=12),
         "1b": dict(vocab=50257, ctx=2048, width=2048, layers=18, heads=16)}
VARIANTS = ["torch", "nninit-torch", "nninit-philox", "torch+gpt2init", "nninit-philox+gpt2init",
            "reinit:torch", "reinit:nninit-torch", "reinit:nninit-philox"]


def build_gpt(cfg, device=None):
    import torch.nn as nn

    class Attention(nn.Module):
        def __init__(self):
            super().__init__()
            self.c_attn = nn.Linear(cfg["width"], 3 * cfg["width"], device=device)
            self.c_proj = nn.Linear(cfg["width"], cfg["width"], device=device)

    class MLP(nn.Module):
        def __init__(self):
            super().__init__()
            self.c_fc = nn.Linear(cfg["width"], 4 * cfg["width"], device=device)
            self.c_proj = nn.Linear(4 * cfg["width"], cfg["width"], device=device)

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln_1 = nn.LayerNorm(cfg["width"], device=device)
            self.attn = Attention()
            self.ln_2 = nn.LayerNorm(cfg["width"], device=device)
            self.mlp = MLP()

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.wte = nn.Embedding(cfg["vocab"], cfg["width"], device=device)
            self.wpe = nn.Embedding(cfg["ctx"], cfg["width"], device=device)
            self.h = nn.ModuleList([Block() for _ in range(cfg["layers"])])
            self.ln_f = nn.LayerNorm(cfg["width"], device=device)
            self.lm_head = nn.Linear(cfg["width"], cfg["vocab"], bias=False, device=device)
            self.tie()

        def tie(self):
            self.lm_head.weight = self.wte.weight

    return GPT()


def gpt2_init_torch(model, layers):
    """nanoGPT's GPT._init_weights plus its scaled c_proj re-init."""
    import torch
    import torch.nn as nn
    for m in model.modules():
        if isinstance(m, nn.Linear):
            torch.nn.init.normal_(m.weight, mean=0.0, std=0.02)
            if m.bias is not None:
                torch.nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Embedding):
            torch.nn.init.normal_(m.weight, mean=0.0, std=0.02)
    for name, p in model.named_parameters():
        if name.endswith("c_proj.weight"):
            torch.nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * layers))


def gpt2_rules(layers):
    """nanoGPT's scheme as init_module rules (first match wins)."""
    return {"*ln_*.weight": "ones_",
            "*.c_proj.weight": "scaled_residual(stddev=0.02, num_layers=%d, branches=2)" % layers,
            "*.weight": "normal_(std=0.02)", "*.bias": "zeros_"}


def run_variant(cfg, variant, threads):
    """Builds or re-initializes the model as `variant` says; returns (model,
    timed seconds, seconds of those spent allocating)."""
    import torch
    import nninit
    import nninit.torch
    if variant.startswith("reinit:"):
        model = build_gpt(cfg)  # built and touched before the clock starts
        t0 = time.perf_counter()
        if variant == "reinit:torch":
            torch.manual_seed(0)
            for m in model.modules():
                if hasattr(m, "reset_parameters"):
                    m.reset_parameters()
        else:
            nninit.torch.init_module(model, seed=0, rng=variant.split("-")[-1], threads=threads)
        return model, time.perf_counter() - t0, 0.0
    t0 = time.perf_counter()
    if variant.startswith("torch"):
        torch.manual_seed(0)
        model = build_gpt(cfg)
        if variant == "torch+gpt2init":
            gpt2_init_torch(model, cfg["layers"])
        return model, time.perf_counter() - t0, 0.0
    model = build_gpt(cfg, device="meta").to_empty(device="cpu")
    model.tie()  # to_empty replaces each module's tensors separately
    alloc = time.perf_counter() - t0
    rng = "torch" if variant == "nninit-torch" else "philox"
    rules = gpt2_rules(cfg["layers"]) if variant.endswith("gpt2init") else None
    nninit.torch.init_module(model, seed=0, rng=rng, threads=threads, rules=rules)
    return model, time.perf_counter() - t0, alloc


def one(size, variant, threads, verify):
    """Runs one variant in this process; prints a JSON line."""
    sys.path.insert(0, os.path.join(ROOT, "python"))
    import torch
    torch.set_num_threads(threads)
    model, seconds, alloc = run_variant(SIZES[size], variant, threads)
    n = sum(p.numel() for p in model.parameters())
    out = {"size": size, "variant": variant, "seconds": seconds, "alloc_seconds": alloc, "params": n,
           "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    if verify:
        h = hashlib.sha256()
        for k, v in model.state_dict().items():
            h.update(k.encode())
            h.update(v.contiguous().view(-1).view(torch.uint8).numpy().tobytes())
        out["sha256"] = h.hexdigest()
    print(json.dumps(out))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="gpt2,1b")
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--verify", action="store_true", help="hash state_dicts: nninit-torch must equal torch")
    ap.add_argument("--one", nargs=2, metavar=("SIZE", "VARIANT"), help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.one:
        return one(a.one[0], a.one[1], a.threads, a.verify)
    sizes, variants = a.sizes.split(","), a.variants.split(",")
    results = {}
    for rep in range(a.reps):
        for size in sizes:
            # rotated each rep: on this VM the first touch of memory a process
            # gets costs more or less depending on who freed it last
            for v in variants[rep % len(variants):] + variants[:rep % len(variants)]:
                cmd = [sys.executable, os.path.abspath(__file__), "--one", size, v, "--threads", str(a.threads)]
                if a.verify and rep == 0:
                    cmd.append("--verify")
                p = subprocess.run(cmd, capture_output=True, text=True)
                if p.returncode != 0:
                    sys.exit("%s %s failed: %s" % (size, v, p.stderr))
                r = json.loads(p.stdout.strip().splitlines()[-1])
                results.setdefault((size, v), []).append(r)
                print("rep %d %-5s %-24s %7.2f s  peak %7.0f MB  (load %s)" % (
                    rep, size, v, r["seconds"], r["peak_rss_mb"], os.getloadavg()[0]), file=sys.stderr)
    print("| model | variant | params | median s | min s | speed-up vs torch | peak RSS MB |")
    print("|---|---|---|---|---|---|---|")
    for size in sizes:
        base = statistics.median(r["seconds"] for r in results[(size, "torch")]) \
            if (size, "torch") in results else None
        for v in variants:
            rs = results[(size, v)]
            med = statistics.median(r["seconds"] for r in rs)
            print("| %s | %s | %.1f M | %.2f | %.2f | %s | %.0f |" % (
                size, v, rs[0]["params"] / 1e6, med, min(r["seconds"] for r in rs),
                "%.1fx" % (base / med) if base else "-", max(r["peak_rss_mb"] for r in rs)))
        if a.verify:
            h = {v: results[(size, v)][0].get("sha256") for v in variants}
            # (reinit:torch is not the constructor: reset_parameters() on the tied
            # lm_head re-draws the shared embedding, so it has no bit-for-bit twin)
            for x, y in (("torch", "nninit-torch"),):
                if x in h and y in h:
                    print("%s: %s %s %s bit for bit" % (size, y, "equals" if h[x] == h[y] else "DIFFERS FROM", x))
    print("load average after: %.2f %.2f %.2f (2 shared cores)" % os.getloadavg())


if __name__ == "__main__":
    main()
