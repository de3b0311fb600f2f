#!/usr/bin/python3
"""Checks nninit's Keras .weights.h5 output with h5py and writes the listing
tests/test_model.c compares against (tests/fixtures/keras/weights_h5.txt).

For each Keras fixture model: `nninit model --keras M --format weights.h5`
and the same model as npz (same seed); h5py must open the file and
find exactly the dataset paths Keras 3 model.save_weights writes, derived
here on their own from the model config by the rules of
keras/src/saving/saving_lib.py (_save_state, _save_container_state,
naming.to_snake_case, H5IOStore) and keras/src/ops/function.py (map_graph:
the order of model.layers), and each dataset must hold the values of the
variable it stands for. Keras itself is not installable here: the layout is
checked against the Keras source, not a live model.load_weights.

Run from the repository root after `make`:
    /usr/bin/python3 tools/make_keras_h5_fixtures.py [--nninit build/nninit]
Listing lines: MODEL<TAB>PATH<TAB>SHAPE<TAB>DTYPE<TAB>SUM, SUM the float64 sum
of the values in C order, added one by one (so C reproduces it exactly).
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

import h5py
import numpy as np

MODELS = ["cnn_keras3", "rnn_keras3", "wrappers_keras3", "attention_functional", "norms_keras3",
          "convlstm_keras3", "conv3d_keras2", "branches_keras3", "layers_keras3", "tokens_keras3",
          "nested_keras3", "einsum_keras3", "spectral_keras3", "lookups_keras3", "posemb_keras3"]
SEED = 7
HERE = os.path.join("tests", "fixtures", "keras")


def snake(name):
    """naming.to_snake_case."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def layer_name(layer):
    return layer.get("config", {}).get("name") or layer.get("name")


def parents(layer, names):
    node = (layer.get("inbound_nodes") or [None])[0]
    out = []

    def walk(v):
        if isinstance(v, list):
            for x in v:
                walk(x)
        elif isinstance(v, dict):
            if v.get("class_name") == "__keras_tensor__":
                out.append(v["config"]["keras_history"][0])
            else:
                for k in sorted(v):
                    walk(v[k])
    if isinstance(node, dict):
        walk(node.get("args", []))
        walk(node.get("kwargs", {}))
    elif isinstance(node, list):
        out = [x[0] for x in node]
    return [p for p in out if p in names]


def layers_order(cfg, functional):
    """model.layers: the config order (Sequential), or map_graph's (Functional)."""
    layers = cfg["layers"]
    if not functional:
        return layers
    by_name = {layer_name(l): l for l in layers}
    par = {n: parents(l, by_name) for n, l in by_name.items()}
    visit, post, done = {}, [], set()

    def dfs(n):
        if n in done:
            return
        visit.setdefault(n, len(visit))
        for p in par[n]:
            dfs(p)
        done.add(n)
        post.append(n)
    outs = cfg["output_layers"]
    outs = [outs] if isinstance(outs[0], str) else outs
    for o in outs:
        dfs(o[0])
    depth = {}
    for n in reversed(post):
        d = depth.setdefault(n, 0)
        for p in par[n]:
            depth[p] = max(d + 1, depth.get(p, 0))
    order = sorted(post, key=lambda n: (-depth[n], visit[n]))
    return [by_name[n] for n in order]


def attr_path(cls, scopes, first_scope):
    """The attribute chain _save_state follows to the sublayer owning a variable."""
    if not scopes:
        return ""
    if cls in ("SimpleRNN", "LSTM", "GRU") or cls.startswith("ConvLSTM"):
        return "cell/"
    if cls == "MultiHeadAttention":  # public properties query_dense, ... sort before _query_dense
        return {"query": "query_dense/", "key": "key_dense/", "value": "value_dense/",
                "attention_output": "output_dense/"}[scopes[0]]
    if cls == "Bidirectional":
        head = "forward_layer/" if scopes[0] == first_scope else "backward_layer/"
    elif cls in ("TimeDistributed", "SpectralNormalization"):
        head = "layer/"
    else:
        raise ValueError("no sublayers known for %s" % cls)
    return head + ("cell/" if len(scopes) > 1 else "")


def expected_paths(cfg, functional, var_names, prefix="", root=""):
    """{store path: keras variable path}; a nested model's variables are named "<model>/<layer>/..."
    and stored under its container's own "layers"."""
    counts, out = {}, {}
    for layer in layers_order(cfg, functional):
        cls, lname = layer["class_name"], prefix + layer_name(layer)
        s = snake(cls)
        k = counts.get(s, -1) + 1
        counts[s] = k
        container = root + "layers/%s" % (s if k == 0 else "%s_%d" % (s, k))
        if cls in ("Sequential", "Functional", "Model") and "layers" in layer["config"]:
            out.update(expected_paths(layer["config"], cls != "Sequential", var_names, lname + "/", container + "/"))
            continue
        mine = [v for v in var_names if v.startswith(lname + "/")]
        if cls == "SpectralNormalization":
            # spectral_normalization.py build: `self.kernel = self.layer.kernel` (or .embeddings) puts the
            # inner variable among the wrapper's own trainable ones, then vector_u (trainable=False):
            # Layer.save_own_variables stores [kernel, vector_u] as the wrapper's vars/0, vars/1
            inner = lname + "/" + layer["config"]["layer"]["config"]["name"] + "/"
            kern = inner + ("embeddings" if layer["config"]["layer"]["class_name"] == "Embedding" else "kernel")
            out[container + "/vars/0"] = kern
            out[container + "/vars/1"] = lname + "/vector_u"
            mine = [v for v in mine if v.startswith(inner)]
        depth = lname.count("/")
        first_scope = next((v.split("/")[depth + 1] for v in mine if v.count("/") >= depth + 2), "")
        index = {}
        trainable = [v for v in mine if v.split("/")[-1] not in ("moving_mean", "moving_variance")]
        for v in trainable + [v for v in mine if v not in trainable]:
            if cls in ("Dense", "EinsumDense") and v.split("/")[-1].startswith("lora_kernel_"):
                continue  # Dense/EinsumDense.save_own_variables: kernel (LoRA merged in) and bias only
            scopes = v.split("/")[depth + 1:-1]
            group = container + "/" + attr_path(cls, scopes, first_scope) + "vars/"
            out[group + str(index.get(group, 0))] = v
            index[group] = index.get(group, 0) + 1
    return out


def seq_sum(a):
    s = 0.0
    for x in np.asarray(a, dtype=np.float64).ravel():
        s += float(x)
    return s


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--nninit", default=os.path.join("build", "nninit"))
    args = ap.parse_args()
    lines = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in MODELS:
            src = os.path.join(HERE, name + ".json")
            h5 = os.path.join(tmp, name + ".weights.h5")
            st = os.path.join(tmp, name + ".npz")
            for out, fmt in ((h5, "weights.h5"), (st, "npz")):
                subprocess.run([args.nninit, "model", "--keras", src, "--seed", str(SEED), "--format", fmt, "-o", out],
                               check=True)
            with np.load(st) as z:
                ref = {k: z[k] for k in z.files}
            cfg = json.load(open(src))
            want = expected_paths(cfg["config"], cfg["class_name"] != "Sequential", list(ref))
            got = {}
            with h5py.File(h5, "r") as f:
                f.visititems(lambda n, o: got.__setitem__(n, np.array(o)) if isinstance(o, h5py.Dataset) else None)
            if sorted(got) != sorted(want):
                sys.exit("%s: datasets %s, Keras stores %s" % (name, sorted(got), sorted(want)))
            for path, var in want.items():
                if got[path].shape != ref[var].shape or not np.array_equal(got[path], ref[var]):
                    sys.exit("%s: %s (%s) does not hold the values of %s" % (name, path, got[path].shape, var))
            for path in sorted(got):
                a = got[path]
                shape = ",".join(map(str, a.shape)) or "-"
                lines.append("%s\t%s\t%s\t%s\t%r" % (name, path, shape, a.dtype, seq_sum(a)))
            print(name, len(got), "datasets: paths and values as Keras stores them")
    with open(os.path.join(HERE, "weights_h5.txt"), "w") as f:
        f.write("# made by tools/make_keras_h5_fixtures.py (h5py %s); seed %d\n" % (h5py.__version__, SEED))
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
