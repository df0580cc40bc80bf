"""How every command turns a user's mistake into one clear line and exit code 2, never a traceback."""

from __future__ import annotations

import re
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


def _click_class(name: str) -> type[Exception]:
    """One of click's exception classes, wherever typer keeps them (newer typer vendors click)."""
    return next(c for c in typer.BadParameter.__mro__ if c.__name__ == name)


UsageError = _click_class("UsageError")  # a mistake on the command line: missing file, unknown option ...
ClickException = _click_class("ClickException")

_USAGE_TH = {  # by click's exception class, most specific first
    "MissingParameter": "ยังไม่ได้ระบุ {param}",
    "NoSuchOption": "ไม่มีตัวเลือก {option}",
    "BadOptionUsage": "ใช้ตัวเลือก {option} ไม่ถูกต้อง",
    "BadParameter": "ค่าของ {param} ไม่ถูกต้อง",
    "UsageError": "ใช้คำสั่งไม่ถูกต้อง",
}
_SHOULD_BE_TH = {"a valid integer": "ต้องเป็นจำนวนเต็ม", "a valid number": "ต้องเป็นตัวเลข",
                 "a valid boolean": "ต้องเป็น true หรือ false"}


def usage_error_lines(exc: Exception) -> list[str]:
    """A command-line mistake in Thai then English, and where to read the usage (one or two lines)."""
    param = getattr(exc, "param", None)
    opts = [o for o in getattr(param, "opts", []) if o.startswith("-")] or [getattr(param, "name", "") or ""]
    hint = " / ".join(f"'{o}'" for o in opts)
    kind = next(c.__name__ for c in type(exc).__mro__ if c.__name__ in _USAGE_TH)
    th = _USAGE_TH[kind].format(param=hint, option=getattr(exc, "option_name", "") or "")
    en = exc.format_message()  # type: ignore[attr-defined]
    if kind == "BadParameter":  # typer phrases a bad value with pydantic's words: say it plainly
        reason = getattr(exc, "message", "").removeprefix("Value error, ")
        should = re.match(r"Input should be (?P<what>[^,]+)", reason)
        if should:
            th += " " + _SHOULD_BE_TH.get(should["what"], "")
            reason = f"must be {should['what']}"
        en = f"invalid value for {hint}: {reason}"
    lines = [f"ข้อผิดพลาด / error: {th.strip()} / {en.strip()}"]
    ctx = getattr(exc, "ctx", None)
    if ctx is not None:
        lines.append(f"ดูวิธีใช้ / usage: {ctx.command_path} --help")
    return lines
