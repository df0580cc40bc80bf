"""Run every registered check over a workbook or a set of them; findings come back sorted, errors first."""

from __future__ import annotations

from collections.abc import Sequence

from ..findings import Finding, sort_findings
from ..xlsx.read import ReadWorkbook
from .catalog import CHECKS, Check
from .config import Settings
from .context import Context, WorkbookSet
from .diagnosis import diagnose_findings


def _run(chk: Check, target: Context | WorkbookSet, strict: bool) -> list[Finding]:
    if isinstance(target, Context):
        assert chk.run is not None
        found = list(chk.run(target))
    else:
        assert chk.run_set is not None
        found = list(chk.run_set(target))
    if strict:
        stray = {f.rule for f in found} - chk.rules
        if stray:
            raise AssertionError(f"check {chk.name} raised undeclared rules {sorted(stray)}")
    return found


def validate_set(workbooks: Sequence[ReadWorkbook], settings: Settings,
                 previous: Sequence[ReadWorkbook] = (), *, strict: bool = False) -> list[list[Finding]]:
    """Findings for each workbook (same order), cross-template checks included.

    ``previous`` holds last quarter's workbooks: each is matched to the workbook of its template.
    ``strict`` (tests) fails when a check raises a rule it did not declare.
    """
    prev_by_template = {p.spec.id: p for p in previous}
    contexts = [Context(wb, settings, prev_by_template.get(wb.spec.id)) for wb in workbooks]
    out: list[list[Finding]] = [[] for _ in workbooks]
    for chk in CHECKS:
        if chk.run is not None:
            for n, ctx in enumerate(contexts):
                out[n].extend(_run(chk, ctx, strict))
    owner = {b.sheet: n for n, wb in enumerate(workbooks) for b in wb.spec.blocks}
    wset = WorkbookSet(contexts)
    for chk in CHECKS:
        if chk.run_set is not None and wset.has(chk.templates):
            for f in _run(chk, wset, strict):
                out[owner.get(f.sheet, 0)].append(f)  # sheet names are unique across templates
    # After every check: the typed cell behind each group of findings, and the findings it causes.
    out = [diagnose_findings(ctx, found) for ctx, found in zip(contexts, out, strict=True)]
    return [sort_findings(found) for found in out]


def validate(workbook: ReadWorkbook, settings: Settings, previous: ReadWorkbook | None = None,
             *, strict: bool = False) -> list[Finding]:
    """All findings for one template read from a workbook."""
    return validate_set([workbook], settings, [previous] if previous else [], strict=strict)[0]
