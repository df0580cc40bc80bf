"""Template specs: the single source of truth for every template, and the registry of templates.

A new template is a spec module plus one :func:`register` call below.
"""

from __future__ import annotations

from . import action_plan, disbursement, integrated_plan, kpi, outputs, spending_plan
from .base import Block, ColType, Column, TemplateSpec

TEMPLATES: dict[str, TemplateSpec] = {}


class UnknownTemplateError(KeyError):
    """A template id that no spec defines."""

    def __str__(self) -> str:
        known = ", ".join(TEMPLATES)
        return f"ไม่รู้จักแม่แบบ / unknown template {self.args[0]!r} (known: {known})"


def register(spec: TemplateSpec) -> TemplateSpec:
    """Make a template known to every command. Its id and sheet names must be new: one workbook may
    hold several templates, and a sheet name tells which template a cell belongs to."""
    if spec.id in TEMPLATES:
        raise ValueError(f"template {spec.id} is registered twice")
    taken = {b.sheet for s in TEMPLATES.values() for b in s.blocks}
    clash = taken.intersection(b.sheet for b in spec.blocks)
    if clash:
        raise ValueError(f"template {spec.id}: sheet names already used by another template: {sorted(clash)}")
    TEMPLATES[spec.id] = spec
    return spec


def unregister(template_id: str) -> None:
    """Forget a template (tests that register their own)."""
    TEMPLATES.pop(template_id, None)


def get_spec(template_id: str) -> TemplateSpec:
    """The spec of a template id; raises :class:`UnknownTemplateError`."""
    try:
        return TEMPLATES[template_id]
    except KeyError:
        raise UnknownTemplateError(template_id) from None


for _spec in (action_plan.SPEC, disbursement.SPEC, kpi.SPEC, integrated_plan.SPEC, outputs.SPEC, spending_plan.SPEC):
    register(_spec)

__all__ = ["TEMPLATES", "Block", "ColType", "Column", "TemplateSpec", "UnknownTemplateError", "get_spec",
           "register", "unregister"]
