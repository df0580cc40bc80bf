"""LibreOffice headless as the PDF converter: find ``soffice``, convert, say in one line when it is missing."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

# Where LibreOffice installs itself when it is not on PATH.
CANDIDATES = (
    r"C:\Program Files\LibreOffice\program\soffice.exe",
    r"C:\Program Files (x86)\LibreOffice\program\soffice.exe",
    "/Applications/LibreOffice.app/Contents/MacOS/soffice",
    "/usr/lib/libreoffice/program/soffice",
    "/opt/libreoffice/program/soffice",
)


class OfficeError(RuntimeError):
    """LibreOffice is missing or could not convert; the message is one line in Thai and English."""


def find_soffice() -> str | None:
    """``soffice`` from ``$OSMEP_SOFFICE``, PATH or its usual install folders; None when not installed."""
    env = os.environ.get("OSMEP_SOFFICE")
    if env:
        return env if Path(env).exists() else None
    found = shutil.which("soffice") or shutil.which("libreoffice")
    return found or next((c for c in CANDIDATES if Path(c).exists()), None)


def to_pdf(path: Path, out: Path, *, timeout: int = 300) -> Path:
    """Convert ``path`` (.docx) to the PDF ``out`` with LibreOffice headless, in a private profile so that
    several conversions may run at once."""
    exe = find_soffice()
    if exe is None:
        raise OfficeError("ไม่พบ LibreOffice สำหรับสร้าง PDF ติดตั้ง LibreOffice หรือไม่ใช้ --pdf / LibreOffice"
                          " (soffice) not found: install it (Debian/Ubuntu: apt-get install libreoffice-writer-nogui)"
                          " or set OSMEP_SOFFICE, or leave out --pdf")
    with tempfile.TemporaryDirectory(prefix="osmep-pdf-") as tmp:
        profile = (Path(tmp) / "profile").resolve().as_uri()
        cmd = [exe, f"-env:UserInstallation={profile}", "--headless", "--norestore", "--nolockcheck",
               "--convert-to", "pdf", "--outdir", tmp, str(path)]
        try:
            subprocess.run(cmd, check=True, capture_output=True, timeout=timeout)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
            raise OfficeError(f"LibreOffice แปลงเป็น PDF ไม่สำเร็จ / LibreOffice could not convert {path}: {exc}") from exc
        made = Path(tmp) / f"{path.stem}.pdf"
        if not made.exists():
            raise OfficeError(f"LibreOffice ไม่ได้สร้าง PDF / LibreOffice wrote no PDF for {path}")
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(made), out)
    return out
