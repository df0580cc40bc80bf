"""How every command turns a user's mistake into one clear line and exit code 2, never a traceback."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import typer

from .check import USER_ERRORS
from .model.load import DataError
from .xlsx.safety import check_writable

F = TypeVar("F", bound=Callable[..., Any])


def fail(message: str, code: int = 2) -> None:
    """One clear line on stderr and a non-zero exit."""
    typer.echo(f"ข้อผิดพลาด / error: {message}", err=True)
    raise typer.Exit(code)


def user_errors(func: F) -> F:
    """Decorate a command so that user mistakes end in :func:`fail`."""
    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except USER_ERRORS as exc:
            fail(str(exc))
    return wrapper  # type: ignore[return-value]


def check_out(path: Path, force: bool, suffixes: tuple[str, ...] = (".xlsx",)) -> None:
    """An output path we may write: not open in Excel, not read-only, the right kind, not
    overwriting an existing file unless ``force``."""
    check_writable(path)
    if path.exists() and not force:
        raise FileExistsError(f"มีไฟล์อยู่แล้ว ใช้ --force เพื่อเขียนทับ / {path} exists; use --force to overwrite")
    if path.suffix.lower() not in suffixes:
        raise DataError(f"ไฟล์ผลลัพธ์ต้องเป็น {'/'.join(suffixes)} / output must be {'/'.join(suffixes)}: {path}")


def out_or_in_place(out: Path | None, in_place: bool, option: str = "-o OUT") -> None:
    """Exactly one of ``option`` (where results go) and ``--in-place``."""
    if (out is None) == (not in_place):
        raise DataError(f"ระบุ {option} หรือ --in-place อย่างใดอย่างหนึ่ง / give exactly one of {option} or --in-place")
