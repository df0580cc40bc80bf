"""Every module imports on its own (no import cycles). The layering and "only the Excel front end
imports xlwings" are import-linter contracts in pyproject.toml, run by `make lint`."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import pytest

import osmep_xl

MODULES = sorted(m.name for m in pkgutil.walk_packages(osmep_xl.__path__, "osmep_xl."))


@pytest.mark.parametrize("module", [m for m in MODULES if m.count(".") <= 2 and "__main__" not in m])
def test_module_imports_first(module: str) -> None:
    """Imported first in a fresh interpreter, as a user's script or Excel's RunPython would."""
    result = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
