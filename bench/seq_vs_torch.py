#!/usr/bin/python3
"""Training-step time of two sequence models in nninit (bench/seq_epochs.c,
built from the sequence kernels) and in PyTorch 1.13, same threads.

  lstm:        Fashion-MNIST images as 28 steps of 28 features, batch 128,
               LSTM(128) last state, Linear(10), cross-entropy.
  transformer: fortunes character windows of 64, batch 32; Embedding(V, 128)
               + learned positions, 2 x TransformerEncoderLayer(128, 4, 512,
               dropout 0, gelu, norm_first, causal mask), LayerNorm,
               Linear(V), cross-entropy at every step.

A step is forward, loss, backward and an SGD update (lr 0.01) of one batch,
batches in order; each side runs one untimed warm-up step, then STEPS timed
ones. Each side runs in its own process (so peak memory is the
model's), STEPS steps per round; the sides alternate for ROUNDS rounds so that
both see the same load on a shared machine. Reported: medians over rounds of
wall and CPU milliseconds per step, the BLAS floor (the CPU time of the sgemm
calls nninit's step makes, recorded in the warm-up step and replayed alone:
see bench/seq_epochs.c), peak RSS, and the ratios. On a loaded machine the CPU times are the
ones to read (wall time includes waiting for a core).

With --baseline OLD (an earlier build of seq_epochs, e.g. copied from
build/bench/seq_epochs before a change) that binary runs as a third side in
the same interleaved rounds, so a before/after comparison sees one load.

usage: make bench   # builds build/bench/seq_epochs
       bench/seq_vs_torch.py [--threads T] [--rounds R] [--steps S] [--models lstm,transformer]
                             [--baseline OLD_SEQ_EPOCHS]
Run by hand (a benchmark, not a test); needs python3-torch and python3-numpy,
dataset-fashion-mnist and fortunes.
"""
import argparse
import os
import resource
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from train_vs_torch import load_idx  # noqa: E402  (the one IDX reader of the benches)


def fashion(dirname):
    def find(name):
        p = os.path.join(dirname, name)
        return p + ".gz" if os.path.exists(p + ".gz") else p
    x = load_idx(find("train-images-idx3-ubyte")).astype("float32") / 255.0
    y = load_idx(find("train-labels-idx1-ubyte")).astype("int64")
    return x, y


def fortunes_train(dirname="/usr/share/games/fortunes"):
    """The training split as nninit_fortunes_load makes it (docs/sequences.md)."""
    names = sorted(n for n in os.listdir(dirname)
                   if "." not in n and os.path.exists(os.path.join(dirname, n + ".dat")))
    out, k = [], 0
    for n in names:
        text = open(os.path.join(dirname, n), "rb").read()
        for part in _fortunes(text):
            if k % 10 != 9:
                out.append(part if part.endswith(b"\n") else part + b"\n")
                out.append(b"%\n")
            k += 1
    data = b"".join(out)
    vocab = sorted(set(data))
    ids = {b: i + 1 for i, b in enumerate(vocab)}
    return [ids[b] for b in data], len(vocab) + 1


def _fortunes(text):
    lines, cur = text.split(b"\n"), []
    ends_nl = text.endswith(b"\n")
    if ends_nl:
        lines = lines[:-1]
    for i, line in enumerate(lines):
        if line == b"%":
            if cur:
                yield b"".join(cur)
            cur = []
        else:
            last = i == len(lines) - 1 and not ends_nl
            cur.append(line + (b"" if last else b"\n"))
    if cur:
        yield b"".join(cur)


def torch_side(model, steps, threads, data_dir):
    import numpy as np
    import torch
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    F = torch.nn.functional
    if model == "lstm":
        x, y = fashion(data_dir)
        x, y = torch.from_numpy(x.reshape(-1, 28, 28)), torch.from_numpy(y)
        B = 128
        lstm, head = torch.nn.LSTM(28, 128, batch_first=True), torch.nn.Linear(128, 10)
        params = list(lstm.parameters()) + list(head.parameters())

        def step(k):
            b0 = (k % (len(x) // B)) * B
            _, (h, _) = lstm(x[b0:b0 + B])
            return F.cross_entropy(head(h[-1]), y[b0:b0 + B])
    else:
        ids, V = fortunes_train()
        B, T, D = 32, 64, 128
        n = (len(ids) - T - 1) // T + 1
        ids = torch.tensor(ids[:n * T + 1])
        emb = torch.nn.Embedding(V, D)
        pos = torch.nn.Parameter(torch.randn(T, D) * 0.02)
        layers = torch.nn.ModuleList([torch.nn.TransformerEncoderLayer(
            D, 4, 512, dropout=0.0, activation="gelu", batch_first=True, norm_first=True) for _ in range(2)])
        lnf, head = torch.nn.LayerNorm(D), torch.nn.Linear(D, V)
        mask = torch.triu(torch.full((T, T), float("-inf")), diagonal=1)
        params = list(emb.parameters()) + [pos] + list(layers.parameters()) + list(lnf.parameters()) + \
            list(head.parameters())

        def step(k):
            s0 = (k % (n // B)) * B
            starts = torch.arange(s0, s0 + B) * T
            idx = starts[:, None] + torch.arange(T)[None, :]
            h = emb(ids[idx]) + pos
            for layer in layers:
                h = layer(h, src_mask=mask)
            logits = head(lnf(h))
            return F.cross_entropy(logits.reshape(-1, V), ids[idx + 1].reshape(-1))
    opt = torch.optim.SGD(params, lr=0.01)
    for k in range(steps + 1):  # step 0: an untimed warm-up, as seq_epochs does
        if k == 1:
            t0, c0 = time.perf_counter(), time.process_time()
        opt.zero_grad(set_to_none=True)
        loss = step(k)
        loss.backward()
        opt.step()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print("%s seconds %.4f cpu %.4f blas nan steps %d peak_rss_mib %.1f last_loss %.4f"
          % (model, wall, cpu, steps, rss, loss.item()), flush=True)


def parse(line):
    f = line.split()
    return {f[i]: float(f[i + 1]) for i in range(1, len(f) - 1, 2) if f[i] != "param_hash"}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--models", default="lstm,transformer")
    ap.add_argument("--data", default=os.environ.get("NNINIT_DATA") or "/usr/share/datasets/fashion-mnist")
    ap.add_argument("--nninit", default=os.path.join(HERE, "..", "build", "bench", "seq_epochs"))
    ap.add_argument("--baseline", help="an earlier seq_epochs binary, run interleaved as 'before'")
    ap.add_argument("--torch-side", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.torch_side:
        torch_side(a.torch_side, a.steps, a.threads, a.data)
        return
    env = dict(os.environ, OMP_NUM_THREADS=str(a.threads), OPENBLAS_NUM_THREADS=str(a.threads))
    load = os.getloadavg()[0]
    print("threads %d, %d rounds of %d steps, load average %.2f at start" % (a.threads, a.rounds, a.steps, load))
    sides = (["before"] if a.baseline else []) + ["nninit", "torch"]
    for model in a.models.split(","):
        runs = {s: [] for s in sides}
        for _ in range(a.rounds):
            for side in sides:
                if side == "torch":
                    cmd = [sys.executable, __file__, "--torch-side", model, "--steps", str(a.steps),
                           "--threads", str(a.threads), "--data", a.data]
                else:
                    cmd = [a.baseline if side == "before" else a.nninit, model, "--steps", str(a.steps),
                           "--threads", str(a.threads), "--data", a.data]
                out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout
                runs[side].append(parse(out.strip().splitlines()[-1]))
        med = {s: {k: statistics.median(r[k] for r in runs[s]) for k in runs[s][0]} for s in runs}
        ms = lambda s, k: 1000.0 * med[s][k] / a.steps
        for side in [s for s in sides if s != "torch"]:
            print("%-12s %-6s wall %7.1f ms/step  cpu %7.1f  sgemm %7.1f | torch wall %7.1f  cpu %7.1f | "
                  "cpu ratio nninit/torch %.2f  nninit cpu / sgemm %.2f | peak RSS nninit %.0f MiB, torch %.0f MiB"
                  % (model, side, ms(side, "seconds"), ms(side, "cpu"), ms(side, "blas"), ms("torch", "seconds"),
                     ms("torch", "cpu"), med[side]["cpu"] / med["torch"]["cpu"],
                     med[side]["cpu"] / med[side]["blas"], med[side]["peak_rss_mib"],
                     med["torch"]["peak_rss_mib"]), flush=True)
    print("load average %.2f at end" % os.getloadavg()[0])


if __name__ == "__main__":
    main()
