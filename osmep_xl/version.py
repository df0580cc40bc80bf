"""The installed osmep_xl version (core: every layer may read it)."""

__version__ = "0.1.0"
