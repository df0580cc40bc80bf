"""Validation rules. Importing the package registers every check, in the order `osmep-xl rules` lists them."""

from . import arithmetic, cells, diagnosis, meta, recalc, references, structure, unsupported, variance  # noqa: F401  (registration)
