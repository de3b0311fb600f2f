#!/usr/bin/python3
"""Epoch time of the same MLP recipe in nninit and in PyTorch, same threads.

Recipe: 784-256-256-10 ReLU, He-normal kernels, zero biases, SGD lr 0.01
momentum 0.9, batch 128, softmax cross-entropy, Fashion-MNIST scaled to [0, 1],
reshuffled every epoch. "Seconds per epoch" is the training pass only
(shuffle, gather the batch, forward, loss, backward, step) in both; the
per-epoch test evaluation is timed apart and not counted.

Both sides use Debian's OpenBLAS (pthread flavour) for the products;
PyTorch gets torch.set_num_threads(T) plus OMP/OPENBLAS_NUM_THREADS=T,
nninit gets --threads T. Prints the median epoch time of each, the ratio
nninit/torch, and the final test accuracies.

usage: bench/train_vs_torch.py [--threads T] [--epochs N] [--nninit build/nninit] [--data DIR]
Run by hand (a benchmark, not a test); needs python3-torch and python3-numpy.
"""
import argparse
import gzip
import json
import os
import statistics
import subprocess
import sys
import time


def load_idx(path):
    import numpy as np
    with gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def run_torch(args):
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    import numpy as np
    import torch
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    d = args.data
    xtr = torch.from_numpy(load_idx(f"{d}/train-images-idx3-ubyte.gz").reshape(60000, 784).astype(np.float32) / 255.0)
    ytr = torch.from_numpy(load_idx(f"{d}/train-labels-idx1-ubyte.gz").astype(np.int64))
    xte = torch.from_numpy(load_idx(f"{d}/t10k-images-idx3-ubyte.gz").reshape(10000, 784).astype(np.float32) / 255.0)
    yte = torch.from_numpy(load_idx(f"{d}/t10k-labels-idx1-ubyte.gz").astype(np.int64))
    model = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 256),
                                torch.nn.ReLU(), torch.nn.Linear(256, 10))
    for m in model:
        if isinstance(m, torch.nn.Linear):
            torch.nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            torch.nn.init.zeros_(m.bias)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    lossf = torch.nn.CrossEntropyLoss()
    times, accs = [], []
    for epoch in range(args.epochs):
        model.train()
        t0 = time.perf_counter()
        perm = torch.randperm(60000)
        for k in range(0, 60000, 128):
            idx = perm[k:k + 128]
            xb, yb = xtr[idx], ytr[idx]
            opt.zero_grad(set_to_none=True)
            loss = lossf(model(xb), yb)
            loss.backward()
            opt.step()
        times.append(time.perf_counter() - t0)
        model.eval()
        with torch.no_grad():
            acc = (model(xte).argmax(1) == yte).float().mean().item()
        accs.append(acc)
        print(f"  torch  epoch {epoch + 1}: {times[-1]:.3f} s, test acc {acc:.4f}", file=sys.stderr)
    return times, accs


def run_nninit(args):
    cmd = [args.nninit, "train", "--data", args.data, "--layers", "256,256", "--act", "relu", "--init", "he_normal",
           "--bias-init", "zeros", "--optimizer", "sgd", "--lr", "0.01", "--momentum", "0.9", "--batch", "128",
           "--epochs", str(args.epochs), "--threads", str(args.threads), "--seed", str(args.seed), "--json"]
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(args.threads))
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env)
    hist = json.loads(out.stdout)["runs"][0]["history"]
    for h in hist:
        print(f"  nninit epoch {h['epoch']}: {h['seconds']:.3f} s, test acc {h['test_acc']:.4f}", file=sys.stderr)
    return [h["seconds"] for h in hist], [h["test_acc"] for h in hist]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--nninit", default="build/nninit")
    p.add_argument("--data", default=os.environ.get("NNINIT_DATA", "/usr/share/datasets/fashion-mnist"))
    p.add_argument("--only", choices=["nninit", "torch"], help="run one side only")
    args = p.parse_args()
    os.environ["OPENBLAS_NUM_THREADS"] = str(args.threads)
    res = {}
    if args.only != "torch":
        res["nninit"] = run_nninit(args)
    if args.only != "nninit":
        try:
            res["torch"] = run_torch(args)
        except ImportError as e:
            print(f"PyTorch not available ({e}); nninit only", file=sys.stderr)
    print(f"threads {args.threads}, epochs {args.epochs}, batch 128, 784-256-256-10 relu, sgd momentum 0.9")
    for name, (times, accs) in res.items():
        print(f"{name:7s} median {statistics.median(times):.3f} s/epoch (min {min(times):.3f}, max {max(times):.3f}), "
              f"final test acc {accs[-1]:.4f}")
    if "nninit" in res and "torch" in res:
        r = statistics.median(res["nninit"][0]) / statistics.median(res["torch"][0])
        print(f"ratio nninit/torch (medians): {r:.3f}")


if __name__ == "__main__":
    main()
