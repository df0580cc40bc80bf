from __future__ import annotations

import os

import pytest

from tests.libreoffice import soffice


def pytest_configure(config: pytest.Config) -> None:
    if soffice() is None:
        if os.environ.get("OSMEP_REQUIRE_LIBREOFFICE"):
            raise pytest.UsageError("OSMEP_REQUIRE_LIBREOFFICE is set but LibreOffice (soffice) is not installed")
        print("\n!!! LibreOffice (soffice) not found: tests marked 'libreoffice' will be SKIPPED !!!\n")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if soffice() is not None:
        return
    skip = pytest.mark.skip(reason="LibreOffice (soffice) is not installed")
    for item in items:
        if "libreoffice" in item.keywords:
            item.add_marker(skip)
