"""The examples in the package's docstrings run and print what they show."""
import doctest
import importlib

import pytest

from conftest import HAVE_TORCH

MODULES = ["nninit", "nninit._fill", "nninit._files", "nninit._theory", "nninit._advise", "nninit.torch"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    if name == "nninit.torch" and not HAVE_TORCH:
        pytest.skip("torch is not installed (Debian: python3-torch)")
    mod = importlib.import_module(name)
    result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
    assert result.attempted > 0, "no examples in %s" % name
