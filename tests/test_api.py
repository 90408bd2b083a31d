"""Every public module declares __all__ and everything in it exists."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import bayesdx

MODULES = sorted(m.name for m in pkgutil.walk_packages(bayesdx.__path__, "bayesdx."))


@pytest.mark.parametrize("name", MODULES)
def test_all_is_declared_and_exists(name):
    mod = importlib.import_module(name)
    assert hasattr(mod, "__all__"), f"{name} has no __all__"
    for attr in mod.__all__:
        assert hasattr(mod, attr), f"{name}.__all__ names {attr!r}, which does not exist"
