"""`osmep-xl batch` and `osmep-xl consolidate` (registered on the main CLI)."""

from __future__ import annotations

import typer

batch_app = typer.Typer(help="ประมวลผลหลายไฟล์ / batch runs over many workbooks", no_args_is_help=True)
