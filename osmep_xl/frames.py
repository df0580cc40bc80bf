"""pandas views for scripts and notebooks: a workbook's tables and a run's findings as DataFrames.

Money stays ``Decimal`` (object columns), so sums in pandas are exact too.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from .report import FileResult
from .xlsx.read import read_workbooks


def read_frames(path: Path | str) -> dict[str, pd.DataFrame]:
    """Every table of a workbook, keyed ``"template.block"``; a ``cell_row`` column gives the sheet row."""
    frames: dict[str, pd.DataFrame] = {}
    for wb in read_workbooks(path):
        for block_id, rb in wb.blocks.items():
            frame = pd.DataFrame(rb.rows, columns=list(rb.block.column_ids))
            frame.insert(0, "cell_row", [r + 1 for r in rb.sheet_rows])
            frames[f"{wb.spec.id}.{block_id}"] = frame
    return frames


# ``cause``: the "sheet!A1" a consequence comes from; ``candidates``: the cells an ambiguous cause may be, most
# likely first (rules/diagnosis): both None elsewhere, so a script can drop consequences with one filter.
FINDING_COLUMNS = ["path", "template", "rule", "severity", "sheet", "cell", "expected", "actual", "message_th",
                   "message_en", "cause", "candidates"]


def findings_frame(results: Iterable[FileResult]) -> pd.DataFrame:
    """One row per finding of every file (unreadable files as one ``file.unreadable`` row each), with the
    diagnosis' ``cause`` and ``candidates`` (a tuple of cells) where set."""
    records: list[dict[str, object]] = []
    for result in results:
        if result.unreadable:
            records.append({"path": str(result.path), "rule": "file.unreadable", "severity": "error",
                            "message_en": result.unreadable, "message_th": result.unreadable})
        for f in result.findings:
            records.append({"path": str(result.path), "template": result.template, **f.model_dump(),
                            "severity": f.severity.value})
    return pd.DataFrame.from_records(records, columns=FINDING_COLUMNS)
