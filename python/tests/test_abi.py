"""The ctypes mirrors in nninit/_lib.py match the C structs field for field:
a small C program compiled against include/ prints every size and offset
(a struct that grows in the header and not here would corrupt memory)."""
import ctypes
import os
import shutil
import subprocess

import pytest

from conftest import ROOT
from nninit import _lib

# ctypes class -> (C type, header)
STRUCTS = {
    _lib.Err: ("nninit_err", "nninit.h"),
    _lib.Shape: ("nninit_shape", "nninit.h"),
    _lib.Init: ("nninit_init", "nninit.h"),
    _lib.FillOpts: ("nninit_fill_opts", "nninit.h"),
    _lib.TensorDesc: ("nninit_tensor_desc", "nninit_io.h"),
    _lib.WriteOpts: ("nninit_write_opts", "nninit_io.h"),
    _lib.TensorInfo: ("nninit_tensor_info", "nninit_io.h"),
    _lib.ModelTensor: ("nninit_model_tensor", "nninit_model.h"),
    _lib.ModelOpts: ("nninit_model_opts", "nninit_model.h"),
    _lib.TheoryNet: ("nninit_theory_net", "nninit_analysis.h"),
    _lib.TheoryPoint: ("nninit_theory_point", "nninit_analysis.h"),
    _lib.TheoryLayer: ("nninit_theory_layer", "nninit_analysis.h"),
    _lib.AdviceLayer: ("nninit_advice_layer", "nninit_analysis.h"),
    _lib.AdviceFinding: ("nninit_advice_finding", "nninit_analysis.h"),
    _lib.Advice: ("nninit_advice", "nninit_analysis.h"),
}


@pytest.mark.skipif(shutil.which(os.environ.get("CC", "cc")) is None, reason="no C compiler")
def test_struct_layouts_match_headers(tmp_path):
    lines = ["#include <stdio.h>", "#include <stddef.h>"]
    lines += sorted({'#include "%s"' % h for _, h in STRUCTS.values()})
    lines.append("int main(void) {")
    for cls, (ctype, _) in STRUCTS.items():
        lines.append('printf("%s size %%zu\\n", sizeof(%s));' % (ctype, ctype))
        for name, *_ in cls._fields_:
            lines.append('printf("%s %s %%zu\\n", offsetof(%s, %s));' % (ctype, name, ctype, name))
    lines.append("return 0; }")
    src = tmp_path / "abi.c"
    src.write_text("\n".join(lines))
    exe = str(tmp_path / "abi")
    subprocess.run([os.environ.get("CC", "cc"), "-std=c11", "-I", os.path.join(ROOT, "include"), str(src), "-o",
                    exe], check=True, capture_output=True)
    want = subprocess.run([exe], check=True, capture_output=True, text=True).stdout.splitlines()
    got = []
    for cls, (ctype, _) in STRUCTS.items():
        got.append("%s size %d" % (ctype, ctypes.sizeof(cls)))
        got += ["%s %s %d" % (ctype, name, getattr(cls, name).offset) for name, *_ in cls._fields_]
    assert got == want


def test_init_mirror_covers_every_field():
    """Every field of nninit_init in the header is mirrored (names and order)."""
    text = open(os.path.join(ROOT, "include", "nninit.h")).read()
    body = text.split("typedef struct nninit_init {", 1)[1].split("} nninit_init;", 1)[0]
    names = []
    for line in body.splitlines():
        decl = line.split("/*", 1)[0].strip().rstrip(";")
        if not decl:
            continue
        for part in decl.split(" ", 1)[1].split(","):
            names.append(part.strip().lstrip("*").split("[", 1)[0])  # "*p" of a pointer field
    assert names == [f[0] for f in _lib.Init._fields_]
