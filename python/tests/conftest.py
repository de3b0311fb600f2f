"""Shared fixtures: the CLI (for bit-for-bit comparisons with its files) and
torch, whose tests are skipped, with the reason shown, where it is absent."""
import os
import subprocess
import sys

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "python"))

try:
    import torch  # noqa: F401
    HAVE_TORCH = True
except ImportError:
    HAVE_TORCH = False

needs_torch = pytest.mark.skipif(not HAVE_TORCH, reason="torch is not installed (Debian: python3-torch)")


@pytest.fixture(scope="session")
def cli():
    """Runs the nninit CLI ($NNINIT, else build/nninit); returns a function
    taking the arguments and returning the completed process."""
    exe = os.environ.get("NNINIT") or os.path.join(ROOT, "build", "nninit")
    if not os.path.isabs(exe):
        exe = os.path.join(ROOT, exe)
    if not os.access(exe, os.X_OK):
        pytest.fail("the CLI %s is missing; run make first" % exe)

    def run(*args, check=True):
        p = subprocess.run([exe, *args], capture_output=True, text=True)
        if check and p.returncode != 0:
            raise AssertionError("nninit %s: exit %d: %s" % (" ".join(args), p.returncode, p.stderr))
        return p
    return run
