"""Template specs: the single source of truth for every template."""

from __future__ import annotations

from . import action_plan, disbursement, integrated_plan, kpi
from .base import Block, ColType, Column, TemplateSpec

TEMPLATES: dict[str, TemplateSpec] = {
    s.id: s for s in (action_plan.SPEC, disbursement.SPEC, kpi.SPEC, integrated_plan.SPEC)
}


class UnknownTemplateError(KeyError):
    """A template id that no spec defines."""

    def __str__(self) -> str:
        known = ", ".join(TEMPLATES)
        return f"ไม่รู้จักแม่แบบ / unknown template {self.args[0]!r} (known: {known})"


def get_spec(template_id: str) -> TemplateSpec:
    """The spec of a template id; raises :class:`UnknownTemplateError`."""
    try:
        return TEMPLATES[template_id]
    except KeyError:
        raise UnknownTemplateError(template_id) from None


__all__ = ["TEMPLATES", "Block", "ColType", "Column", "TemplateSpec", "UnknownTemplateError", "get_spec"]
