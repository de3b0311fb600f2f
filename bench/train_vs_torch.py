#!/usr/bin/python3
"""Epoch time of the same recipe in nninit and in PyTorch, same threads.

Recipes (--model): mlp 784-256-256-10 ReLU, He-normal kernels, zero biases;
cnn (28x28x1 images) conv 3x3x16 relu, max pool 2, conv 3x3x32 relu, max pool
2, flatten, dense 10 (He-normal convs, Glorot dense). Both: SGD lr 0.05
momentum 0.9, batch 128, softmax cross-entropy, Fashion-MNIST scaled to
[0, 1], reshuffled every epoch. A third side runs the same epochs' sgemm
calls alone (bench/train_epochs --floor): the BLAS floor. For the cnn that is
the sgemm calls nninit makes: the second conv's three products and the dense
layer's three; the first conv (one input channel) is direct code, not BLAS.
A fourth side (cnn only, "floor-im2col") adds the first conv's forward and
kernel-gradient products as im2col + sgemm made them: the floor as defined
before the first conv became direct code, printed beside the other so that
a ratio does not move by redefinition. "Seconds per epoch" is the training pass only
(shuffle, gather the batch, forward, loss, backward, step) in both; the
per-epoch test evaluation is timed apart and not counted.

Both sides use Debian's OpenBLAS (pthread flavour) for the products;
PyTorch gets torch.set_num_threads(T) plus OMP/OPENBLAS_NUM_THREADS=T,
nninit gets --threads T. Prints the median epoch time of each (wall, and CPU
time of the process, which a loaded machine disturbs less), and the ratios
nninit/torch. Test accuracy is the 10-epoch target's business (make check-data).

The two sides alternate (nninit for --epochs epochs, then PyTorch for as
many, --rounds times) so that both see the same load on a shared machine;
each side keeps its data and its model loaded (nninit through
bench/train_epochs --serve) and keeps training it.

usage: make bench   # builds build/bench/train_epochs
       bench/train_vs_torch.py [--threads T] [--rounds R] [--epochs N] [--data DIR] [--baseline OLD_BINARY]
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


class TorchRun:
    """The PyTorch side, set up once; epochs(k) trains k more epochs."""

    def __init__(self, args):
        os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
        import numpy as np
        import torch
        self.torch = torch
        torch.set_num_threads(args.threads)
        torch.manual_seed(args.seed)
        d = args.data
        shape = (-1, 1, 28, 28) if args.model == "cnn" else (-1, 784)
        self.xtr = torch.from_numpy(
            load_idx(f"{d}/train-images-idx3-ubyte.gz").reshape(60000, 784).astype(np.float32) / 255.0)
        self.ytr = torch.from_numpy(load_idx(f"{d}/train-labels-idx1-ubyte.gz").astype(np.int64))
        self.xte = torch.from_numpy(
            load_idx(f"{d}/t10k-images-idx3-ubyte.gz").reshape(10000, 784).astype(np.float32) / 255.0)
        self.yte = torch.from_numpy(load_idx(f"{d}/t10k-labels-idx1-ubyte.gz").astype(np.int64))
        nn = torch.nn
        self.xtr, self.xte = self.xtr.reshape(shape), self.xte.reshape(shape)
        if args.model == "cnn":
            self.model = nn.Sequential(nn.Conv2d(1, 16, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(16, 32, 3), nn.ReLU(),
                                       nn.MaxPool2d(2), nn.Flatten(), nn.Linear(800, 10))
        else:
            self.model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(),
                                       nn.Linear(256, 10))
        for m in self.model:
            if isinstance(m, nn.Conv2d) or (isinstance(m, nn.Linear) and args.model == "mlp"):
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)
        self.opt = torch.optim.SGD(self.model.parameters(), lr=args.lr, momentum=0.9)
        self.lossf = nn.CrossEntropyLoss()

    def epochs(self, k):
        torch, model, opt = self.torch, self.model, self.opt
        times, cpus = [], []
        for _ in range(k):
            model.train()
            t0, c0 = time.perf_counter(), time.process_time()
            perm = torch.randperm(60000)
            for i in range(0, 60000, 128):
                idx = perm[i:i + 128]
                xb, yb = self.xtr[idx], self.ytr[idx]
                opt.zero_grad(set_to_none=True)
                loss = self.lossf(model(xb), yb)
                loss.backward()
                opt.step()
            times.append(time.perf_counter() - t0)
            cpus.append(time.process_time() - c0)
        return times, cpus


class NninitRun:
    """The nninit side: bench/train_epochs --serve keeps the data and the network
    loaded and trains as many epochs as each request asks."""

    def __init__(self, args, floor=None, binary=None, floor_args=()):
        env = dict(os.environ, OPENBLAS_NUM_THREADS=str(args.threads))
        if args.data:
            env["NNINIT_DATA"] = args.data
        self.p = subprocess.Popen([binary or args.train_epochs, "--serve", "--model", args.model, "--threads", str(args.threads),
                                   "--lr", str(args.lr)] + ([floor, *floor_args] if floor else []),
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)

    def epochs(self, k):
        self.p.stdin.write(f"{k}\n")
        self.p.stdin.flush()
        times, cpus = [], []
        for _ in range(k):
            line = self.p.stdout.readline()
            if not line:
                raise RuntimeError("bench/train_epochs stopped (is the data set installed?)")
            sec, cpu, _acc = (float(v) for v in line.split())
            times.append(sec)
            cpus.append(cpu)
        return times, cpus

    def close(self):
        self.p.stdin.close()
        self.p.wait()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--model", choices=["mlp", "cnn"], default="mlp")
    p.add_argument("--rounds", type=int, default=8, help="alternating rounds (default 8)")
    p.add_argument("--epochs", type=int, default=1, help="epochs per side per round (default 1)")
    p.add_argument("--lr", type=float, default=0.05)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--train-epochs", default="build/bench/train_epochs", help="the nninit side (make bench builds it)")
    p.add_argument("--baseline", metavar="PATH",
                   help="another train_epochs binary (e.g. built before a change) as one more side, so that a "
                        "before/after comparison sees the same load")
    p.add_argument("--floor-beta0", action="store_true",
                   help="mlp: one more side, the floor with the weight gradients at beta 0 (the engine's calls "
                        "before it folded the SGD momentum into them; the default floor uses beta 0.9 as the "
                        "engine now does)")
    p.add_argument("--data", default=os.environ.get("NNINIT_DATA", "/usr/share/datasets/fashion-mnist"))
    p.add_argument("--omp-passive", action="store_true",
                   help="OMP_WAIT_POLICY=PASSIVE for PyTorch: on a loaded machine its spinning OpenMP threads "
                        "otherwise fight the BLAS threads (measured 50 s/epoch instead of 4.6 at 2 threads)")
    args = p.parse_args()
    if args.omp_passive:
        os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
    os.environ["OPENBLAS_NUM_THREADS"] = str(args.threads)
    try:
        tr = TorchRun(args)
    except ImportError as e:
        tr = None
        print(f"PyTorch not available ({e}); nninit only", file=sys.stderr)
    # Alternate the two sides so that both see the same machine load.
    nn = NninitRun(args)
    fl = NninitRun(args, floor="--floor")
    fo = NninitRun(args, floor="--floor-im2col") if args.model == "cnn" else None
    bl = NninitRun(args, binary=args.baseline) if args.baseline else None
    f0 = NninitRun(args, floor="--floor", floor_args=("--floor-dw-beta", "0")) if args.floor_beta0 else None
    t_nn, t_th, c_nn, c_th, ratios, t_fl, c_fl, t_bl, c_bl = [], [], [], [], [], [], [], [], []
    t_fo, c_fo = [], []
    t_f0, c_f0, loads = [], [], []
    for r in range(args.rounds):
        tn, cn = nn.epochs(args.epochs)
        t_nn += tn
        c_nn += cn
        line = f"round {r + 1}: nninit " + " ".join(f"{t:.3f}" for t in tn)
        if tr:
            tt, ct = tr.epochs(args.epochs)
            t_th += tt
            c_th += ct
            ratios.append(statistics.median(tn) / statistics.median(tt))
            line += "  torch " + " ".join(f"{t:.3f}" for t in tt)
        if fl:
            tf, cf = fl.epochs(args.epochs)
            t_fl += tf
            c_fl += cf
            line += "  blas-floor " + " ".join(f"{t:.3f}" for t in tf)
        if fo:
            tf, cf = fo.epochs(args.epochs)
            t_fo += tf
            c_fo += cf
            line += "  floor-im2col " + " ".join(f"{t:.3f}" for t in tf)
        if bl:
            tb, cb = bl.epochs(args.epochs)
            t_bl += tb
            c_bl += cb
            line += "  baseline " + " ".join(f"{t:.3f}" for t in tb)
        if f0:
            tz, cz = f0.epochs(args.epochs)
            t_f0 += tz
            c_f0 += cz
            line += "  floor-beta0 " + " ".join(f"{t:.3f}" for t in tz)
        loads.append(os.getloadavg()[0])
        print(line + f" s/epoch (wall), load {loads[-1]:.2f}", file=sys.stderr)
    nn.close()
    if fl:
        fl.close()
    if fo:
        fo.close()
    if bl:
        bl.close()
    if f0:
        f0.close()
    med = statistics.median
    recipe = "784-256-256-10 relu" if args.model == "mlp" else "cnn conv16-pool-conv32-pool-dense10"
    print(f"threads {args.threads}, {args.rounds} rounds x {args.epochs} epochs each side, batch 128, "
          f"{recipe}, sgd lr {args.lr} momentum 0.9")
    print(f"nninit  wall median {med(t_nn):.3f} s/epoch (min {min(t_nn):.3f}, max {max(t_nn):.3f}), "
          f"cpu median {med(c_nn):.3f} s/epoch")
    if tr:
        print(f"torch   wall median {med(t_th):.3f} s/epoch (min {min(t_th):.3f}, max {max(t_th):.3f}), "
              f"cpu median {med(c_th):.3f} s/epoch")
        print(f"ratio nninit/torch: wall {med(t_nn) / med(t_th):.3f} (medians), {med(ratios):.3f} (median of "
              f"per-round ratios), {min(t_nn) / min(t_th):.3f} (minima); cpu {med(c_nn) / med(c_th):.3f} (medians)")
    if fl:
        what = " (the sgemm calls nninit makes: conv2 x3, dense x3)" if args.model == "cnn" else ""
        print(f"blas floor{what} wall median {med(t_fl):.3f} s/epoch, cpu median {med(c_fl):.3f}; nninit/floor: "
              f"wall {med(t_nn) / med(t_fl):.3f}, cpu {med(c_nn) / med(c_fl):.3f}")
    if fo:
        print(f"blas floor, old definition (+ conv1 forward and dK as im2col + sgemm) wall median {med(t_fo):.3f} "
              f"s/epoch, cpu median {med(c_fo):.3f}; nninit/floor: wall {med(t_nn) / med(t_fo):.3f}, "
              f"cpu {med(c_nn) / med(c_fo):.3f}")
    if bl:
        print(f"baseline ({args.baseline}) wall median {med(t_bl):.3f} s/epoch, cpu median {med(c_bl):.3f}; "
              f"nninit/baseline: wall {med(t_nn) / med(t_bl):.3f}, cpu {med(c_nn) / med(c_bl):.3f}")
    if f0:
        print(f"floor with dW beta 0 wall median {med(t_f0):.3f} s/epoch, cpu median {med(c_f0):.3f}; nninit/floor0: "
              f"wall {med(t_nn) / med(t_f0):.3f}, cpu {med(c_nn) / med(c_f0):.3f}")
    if args.omp_passive:
        print("PyTorch ran with OMP_WAIT_POLICY=PASSIVE")
    print("load average (1 min) after each round: " + " ".join(f"{x:.2f}" for x in loads))
    print("load average at the end: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))


if __name__ == "__main__":
    main()
