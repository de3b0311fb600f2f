#!/usr/bin/env python3
"""The PyTorch and NumPy side of `make bench`, with ratios measured in the same run.

For float32 buffers of the given sizes, 1 and N threads, warm buffers, median
of --reps runs, it times
  torch:  zero_() (the memset), empty(n).normal_(), uniform_(),
          nn.init.trunc_normal_(std=0.05), nn.init.kaiming_uniform_ (on an (n/1024, 1024) view)
  numpy:  fill(0), default_rng().standard_normal(dtype=float32, out=...)
and, with --nninit PATH, runs `PATH bench --csv --warm-only` on the same sizes
and threads, and prints nninit's GB/s over each of theirs. Orthogonal
(torch.nn.init.orthogonal_ on 512^2, 2048^2, 4096^2, 8192x1024) against
`nninit bench --orthogonal` with --orthogonal.

Run with /usr/bin/python3. Without torch or numpy it prints what it skips
and exits 0, so `make bench` works on machines without them.
"""
import argparse
import os
import statistics
import subprocess
import sys
import time


def parse_size(s):
    mul = 1
    for suf, m in (("Mi", 1 << 20), ("Ki", 1 << 10), ("Gi", 1 << 30)):
        if s.endswith(suf):
            s, mul = s[: -len(suf)], m
            break
    return int(float(s) * mul)


def median_time(fn, reps):
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


def run_nninit(path, sizes, threads, reps, ortho):
    args = [path, "bench", "--csv", "--warm-only", "--threads", str(threads), "--reps", str(reps)]
    if sizes:
        args += ["--sizes", ",".join(str(n) for n in sizes)]
    else:
        args.append("--no-gen")
    if ortho:
        args.append("--orthogonal")
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    gen, orth = {}, {}
    for line in out.splitlines():
        f = line.split(",")
        if f[0] == "ortho":
            orth[f[1]] = float(f[2])
        elif f[0].isdigit():
            n, t, buf, op = int(f[0]), int(f[1]), f[2], f[3]
            gen[(n, t, op)] = float(f[6])  # wall GB/s
    return gen, orth


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="1Mi,16Mi,64Mi", help="element counts (default 1Mi,16Mi,64Mi)")
    ap.add_argument("--threads", type=int, default=0, help="the N-thread column (default: all CPUs)")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--nninit", help="path of the nninit binary to compare with in the same run")
    ap.add_argument("--orthogonal", action="store_true", help="also time orthogonal_")
    ap.add_argument("--no-gen", action="store_true", help="only the orthogonal table")
    a = ap.parse_args()
    try:
        import numpy as np
        import torch
    except ImportError as e:
        print(f"bench_torch_numpy: skipped ({e}); install python3-torch and python3-numpy to compare")
        return 0
    sizes = [parse_size(s) for s in a.sizes.split(",")]
    nthreads = a.threads or os.cpu_count() or 1
    tlist = [1] if nthreads == 1 else [1, nthreads]
    print(f"torch {torch.__version__}, numpy {np.__version__}, float32, warm buffers, median of {a.reps} runs")
    ours = {}
    if a.nninit:
        for t in tlist:
            if not a.no_gen:
                g, _ = run_nninit(a.nninit, sizes, t, a.reps, False)
                ours.update(g)
    if not a.no_gen:
        hdr = f"{'elements':>10} {'thr':>3} {'op':<28} {'median_ms':>9} {'GB/s':>7} {'ratio':>6}"
        if a.nninit:
            hdr += f" {'nninit GB/s':>11} {'nninit/this':>11}"
        print(hdr)
        for n in sizes:
            avail = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
            if n * 4 * 3 > avail * 0.4:
                print(f"# {n} elements skipped: not enough free memory")
                continue
            w = torch.empty(n)
            w.zero_()
            w2 = w.view(n // 1024, 1024) if n % 1024 == 0 else w.view(1, n)
            arr = np.empty(n, dtype=np.float32)
            arr.fill(0)
            rng = np.random.default_rng(0)
            # (label, function, which nninit op compares)
            ops = [
                ("torch zero_ (memset)", lambda: w.zero_(), "memset"),
                ("torch normal_", lambda: w.normal_(), "normal"),
                ("torch uniform_", lambda: w.uniform_(-0.05, 0.05), "uniform"),
                ("torch trunc_normal_", lambda: torch.nn.init.trunc_normal_(w, std=0.05, a=-0.1, b=0.1),
                 "trunc_normal"),
                ("torch kaiming_uniform_", lambda: torch.nn.init.kaiming_uniform_(w2), "uniform"),
                ("numpy fill(0) (memset)", lambda: arr.fill(0), "memset"),
                ("numpy standard_normal f32", lambda: rng.standard_normal(dtype=np.float32, out=arr), "normal"),
            ]
            for t in tlist:
                torch.set_num_threads(t)
                base = {}
                for label, fn, cmp_op in ops:
                    if t > 1 and label.startswith("numpy"):
                        continue  # NumPy's generator is single-threaded
                    fn()
                    sec = median_time(fn, a.reps)
                    gbs = n * 4 / sec * 1e-9
                    lib = label.split()[0]
                    if cmp_op == "memset":
                        base[lib] = gbs
                    row = f"{n:>10} {t:>3} {label:<28} {sec * 1e3:>9.3f} {gbs:>7.2f} {gbs / base[lib]:>6.3f}"
                    if a.nninit and (n, t, cmp_op) in ours:
                        row += f" {ours[(n, t, cmp_op)]:>11.2f} {ours[(n, t, cmp_op)] / gbs:>11.1f}"
                    print(row, flush=True)
            del w, w2, arr
    if a.orthogonal:
        torch.set_num_threads(nthreads)
        shapes = ((512, 512), (2048, 2048), (4096, 4096), (8192, 1024))
        names = [f"{r}x{c}" for r, c in shapes]
        # interleaved: one nninit pass over the shapes, one torch pass, repeated,
        # so that both see the same machine load; medians per shape
        t_torch = {n: [] for n in names}
        t_ours = {n: [] for n in names}
        for _ in range(a.reps):
            if a.nninit:
                _, o = run_nninit(a.nninit, [], nthreads, 1, True)
                for n in names:
                    t_ours[n].append(o[n])
            for (r, c), n in zip(shapes, names):
                w = torch.empty(r, c)
                t0 = time.perf_counter()
                torch.nn.init.orthogonal_(w)
                t_torch[n].append(time.perf_counter() - t0)
        print(f"\ntorch.nn.init.orthogonal_ (float32, {nthreads} threads), medians of {a.reps} interleaved runs")
        print(f"{'shape':<12} {'torch_ms':>9}" + (f" {'nninit_ms':>9} {'nninit/torch time':>17}" if a.nninit else ""))
        for n in names:
            tt = statistics.median(t_torch[n])
            row = f"{n:<12} {tt * 1e3:>9.1f}"
            if a.nninit:
                to = statistics.median(t_ours[n])
                row += f" {to * 1e3:>9.1f} {to / tt:>17.2f}"
            print(row, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
