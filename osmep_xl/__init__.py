"""osmep_xl: fill, validate and recalculate OSMEP's standard Excel templates."""

from __future__ import annotations

from .version import __version__

__all__ = ["__version__", "main"]


def main() -> None:
    """Run the action chosen in the front sheet's dropdown of ``osmep_xl.xlsm``.

    xlwings' "Run main" (the add-in's ribbon, ``SampleCall`` of a standalone workbook) runs
    ``import <workbook name>; <workbook name>.main()``, which for ``osmep_xl.xlsm`` lands here.
    xlwings is imported only now, so the core and the command line never need it.
    """
    from .excel.buttons import run_selected

    run_selected()
