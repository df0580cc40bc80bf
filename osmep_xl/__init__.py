"""osmep_xl: fill, validate and recalculate OSMEP's standard Excel templates."""

from __future__ import annotations

__version__ = "0.1.0"
