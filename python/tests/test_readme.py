"""The README's Python examples run as written (each ```python block of the
"## Python" section, in a fresh interpreter, from the repository root)."""
import os
import re
import subprocess
import sys

import pytest

from conftest import HAVE_TORCH, ROOT


def python_blocks():
    text = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    section = text.split("\n## Python\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, re.S)


def test_readme_has_examples():
    assert len(python_blocks()) >= 2


@pytest.mark.parametrize("index", range(len(python_blocks())))
def test_readme_example_runs(index, tmp_path):
    code = python_blocks()[index]
    if "torch" in re.findall(r"^import (\w+)", code, re.M) and not HAVE_TORCH:
        pytest.skip("torch is not installed (Debian: python3-torch)")
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "python"))
    p = subprocess.run([sys.executable, "-c", code], cwd=str(tmp_path), env=env, capture_output=True, text=True)
    assert p.returncode == 0, "README example %d failed:\n%s" % (index, p.stderr)
