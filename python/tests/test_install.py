"""`make install` puts the package where the interpreter finds it and the
installed package finds the installed library (no source tree, no
NNINIT_LIBRARY)."""
import os
import shutil
import subprocess
import sys

import pytest

from conftest import ROOT


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_install_prefix(tmp_path):
    prefix = tmp_path / "prefix"
    build = os.environ.get("BUILD", "build")
    subprocess.run(["make", "-s", "-C", ROOT, "install", "PREFIX=%s" % prefix, "PYTHON=%s" % sys.executable,
                    "BUILD=%s" % build], check=True, capture_output=True)
    site = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "python_sitedir.py"), str(prefix)],
                          check=True, capture_output=True, text=True).stdout.strip()
    assert os.path.isfile(os.path.join(site, "nninit", "__init__.py"))
    env = {k: v for k, v in os.environ.items() if k not in ("NNINIT_LIBRARY", "PYTHONPATH", "LD_LIBRARY_PATH")}
    env["PYTHONPATH"] = site
    code = "import nninit, nninit._lib as l; print(l.lib._name); print(nninit.gen('ones', (2,)).tolist())"
    p = subprocess.run([sys.executable, "-c", code], cwd=str(tmp_path), env=env, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    libpath, values = p.stdout.split("\n")[:2]
    assert libpath == os.path.join(str(prefix), "lib", "libnninit.so.0")
    assert values == "[1.0, 1.0]"
    subprocess.run(["make", "-s", "-C", ROOT, "uninstall", "PREFIX=%s" % prefix, "PYTHON=%s" % sys.executable],
                   check=True, capture_output=True)
    assert not os.path.exists(os.path.join(site, "nninit"))


def test_sitedir_debian_schemes():
    sys.path.insert(0, os.path.join(ROOT, "tools"))
    try:
        import python_sitedir
    finally:
        sys.path.pop(0)
    assert python_sitedir.sitedir("/opt/x").startswith("/opt/x/lib/python3")
    import site
    import sysconfig
    if "posix_local" in sysconfig.get_scheme_names():  # Debian's interpreter searches these
        assert python_sitedir.sitedir("/usr/local") in site.getsitepackages()
        assert python_sitedir.sitedir("/usr") in site.getsitepackages()
