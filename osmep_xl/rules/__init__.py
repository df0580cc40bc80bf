"""Validation rules. Importing the package registers every check, in the order `osmep-xl rules` lists them."""

from . import (  # noqa: F401  (registration)
    arithmetic,
    cells,
    cross,
    diagnosis,
    meta,
    plan,
    recalc,
    references,
    structure,
    variance,
)
