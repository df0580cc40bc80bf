"""Every module imports on its own (no import cycles), and the core never imports xlwings."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import pytest

import osmep_xl

MODULES = sorted(m.name for m in pkgutil.walk_packages(osmep_xl.__path__, "osmep_xl."))
CORE = [m for m in MODULES if not m.startswith("osmep_xl.excel")]


@pytest.mark.parametrize("module", [m for m in MODULES if m.count(".") <= 2 and "__main__" not in m])
def test_module_imports_first(module: str) -> None:
    """Imported first in a fresh interpreter, as a user's script or Excel's RunPython would."""
    result = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_core_never_imports_xlwings() -> None:
    code = "import sys\n" + "".join(f"import {m}\n" for m in CORE if "__main__" not in m) + \
        "assert 'xlwings' not in sys.modules, sorted(m for m in sys.modules if m.startswith('xlwings'))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
