"""Validation rules. Importing the package registers every check, in the order `osmep-xl rules` lists them."""

from . import (  # noqa: F401  (registration)
    arithmetic,
    cells,
    cross,
    diagnosis,
    kpi_progress,
    meta,
    outputs,
    plan,
    recalc,
    references,
    structure,
    unsupported,
    variance,
)
