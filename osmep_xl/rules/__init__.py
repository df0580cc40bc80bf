"""Validation rules. Importing the package registers every check, in the order `osmep-xl rules` lists them."""

from . import (  # noqa: F401  (registration)
    arithmetic,
    cells,
    diagnosis,
    kpi_progress,
    meta,
    outputs,
    recalc,
    references,
    structure,
    unsupported,
    variance,
)
