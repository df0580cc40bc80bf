"""Run every rule over a workbook; findings come back sorted, errors first."""

from __future__ import annotations

from ..findings import Finding, sort_findings
from ..xlsx.read import ReadWorkbook
from .arithmetic import identity_findings, link_findings
from .cells import cell_findings, meta_findings, version_findings
from .config import Settings
from .context import Context
from .references import reference_findings
from .variance import disbursement_findings, kpi_findings, previous_findings


def validate(workbook: ReadWorkbook, settings: Settings, previous: ReadWorkbook | None = None) -> list[Finding]:
    """All findings for ``workbook``; ``previous`` is last quarter's workbook of the same template."""
    ctx = Context(workbook, settings)
    findings: list[Finding] = list(workbook.structure)
    for rule_set in (version_findings, meta_findings, cell_findings, reference_findings,
                     identity_findings, link_findings, kpi_findings, disbursement_findings):
        findings.extend(rule_set(ctx))
    if previous is not None:
        findings.extend(previous_findings(ctx, previous))
    return sort_findings(findings)
