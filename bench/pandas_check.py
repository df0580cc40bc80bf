"""What an analyst would write instead of ``osmep-xl validate`` for a disbursement sheet: pandas.

``pandas.read_excel(engine="calamine")`` of the table, then the checks ``validate`` makes on that sheet:
roll-ups (each parent's allocated / disbursed / committed against the sum of its lines, grouped on the
parent code within a fiscal year and budget source), the identities total = disbursed + committed and
remaining = allocated - total, and the four percentages recomputed with ``round(..., 2)`` and compared.
Headers come from the template's spec (the English header line), as an analyst would copy them.

    .venv/bin/python -m bench.pandas_check FILE.xlsx
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

from osmep_xl.spec import get_spec
from osmep_xl.xlsx.layout import HEADER_EN_ROW

BLOCK = get_spec("disbursement").block("lines")
COLUMN = {c.en: c.id for c in BLOCK.columns}
ROLLUPS = [c.id for c in BLOCK.columns if c.rollup]
MONEY_TOLERANCE = 0.005  # half a satang: amounts are stored to the satang
PERCENT_TOLERANCE = 0.005


def pandas_check(path: Path | str) -> int:
    """The number of problems found in the disbursement table of ``path``."""
    df = pd.read_excel(path, sheet_name=BLOCK.sheet, engine="calamine", header=HEADER_EN_ROW)
    df = df.rename(columns=COLUMN)
    df = df[df["code"].notna()]
    group = list(BLOCK.group_by)
    amounts = ["allocated", "disbursed", "committed", "total", "remaining"]
    df[amounts] = df[amounts].apply(pd.to_numeric, errors="coerce")
    problems = 0

    # Roll-ups: each parent against the sum of the rows that name it as their parent.
    sums = df.groupby([*group, "parent"])[ROLLUPS].sum(min_count=1)
    sums.index = sums.index.set_names([*group, "code"])
    parents = df.set_index([*group, "code"])[ROLLUPS]
    both = parents.join(sums, rsuffix="_lines", how="inner")
    for col in ROLLUPS:
        problems += int((~np.isclose(both[col], both[f"{col}_lines"], atol=MONEY_TOLERANCE, rtol=0)
                         & both[f"{col}_lines"].notna()).sum())

    # Identities.
    disbursed, committed = df["disbursed"].fillna(0), df["committed"].fillna(0)
    total = disbursed + committed
    problems += int((~np.isclose(df["total"], total, atol=MONEY_TOLERANCE, rtol=0)).sum())
    problems += int((~np.isclose(df["remaining"], df["allocated"] - df["total"], atol=MONEY_TOLERANCE,
                                 rtol=0)).sum())

    # Percentages of the allocation.
    allocated = df["allocated"].where(df["allocated"] != 0)
    for pct, part in (("pct_disbursed", disbursed), ("pct_committed", committed), ("pct_total", df["total"]),
                      ("pct_remaining", df["remaining"])):
        expected = (part / allocated * 100).round(2)
        stated = pd.to_numeric(df[pct], errors="coerce")
        wrong = ~np.isclose(stated, expected, atol=PERCENT_TOLERANCE, rtol=0) & expected.notna()
        problems += int(wrong.sum())
    return problems


if __name__ == "__main__":
    for name in sys.argv[1:]:
        print(f"{name}: {pandas_check(name)} problems")
