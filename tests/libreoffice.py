"""LibreOffice headless as a stand-in for Excel: open workbooks, recalculate every formula, save.

Used by the tests and the benchmark. The profile sets OOXMLRecalcMode = 0 ("always
recalculate") so formulas in .xlsx files are really recomputed on load instead of
LibreOffice trusting the cached values.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import zipfile
from pathlib import Path

RECALC_PROFILE = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">
 <prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">
 <prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""
FILTERS = {"xlsm": "xlsm:Calc MS Excel 2007 VBA XML"}
_CACHED = re.compile(rb"(<f>[^<]*</f>|<f [^>]*>[^<]*</f>|<f [^>]*/>)<v>[^<]*</v>")


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def make_profile(root: Path) -> str:
    """A LibreOffice user profile that recalculates on load; returns its file URL."""
    user = root / "user"
    user.mkdir(parents=True, exist_ok=True)
    (user / "registrymodifications.xcu").write_text(RECALC_PROFILE, "utf-8")
    return root.resolve().as_uri()


def convert(paths: list[Path], out_dir: Path, fmt: str = "xlsx", *, recalc: bool = True,
            timeout: int = 300) -> list[Path]:
    """Open each file in LibreOffice and save it as ``fmt`` (e.g. "xlsx", "ods", or "csv:<filter options>")
    into ``out_dir``. With ``recalc`` every formula is recomputed on load; without, cached values are kept."""
    exe = soffice()
    if exe is None:
        raise RuntimeError("LibreOffice (soffice) is not installed")
    out_dir.mkdir(parents=True, exist_ok=True)
    # Name the VBA-keeping filter: chosen by extension alone, "xlsm" may map to a filter that drops the
    # VBA project (seen once LibreOffice Writer is installed beside Calc).
    target = FILTERS.get(fmt, fmt)
    with tempfile.TemporaryDirectory(prefix="lo-profile-") as profile:
        url = make_profile(Path(profile)) if recalc else Path(profile).resolve().as_uri()
        cmd = [exe, f"-env:UserInstallation={url}", "--headless", "--norestore",
               "--nolockcheck", "--convert-to", target, "--outdir", str(out_dir), *map(str, paths)]
        subprocess.run(cmd, check=True, capture_output=True, timeout=timeout)
    outs = [out_dir / f"{p.stem}.{fmt.split(':')[0]}" for p in paths]
    missing = [o for o in outs if not o.exists()]
    if missing:
        raise RuntimeError(f"LibreOffice did not write {missing}")
    return outs


def convert_one(path: Path, out_dir: Path, fmt: str = "xlsx", *, recalc: bool = True) -> Path:
    """:func:`convert` for one file."""
    return convert([path], out_dir, fmt, recalc=recalc)[0]


def strip_cached_values(src: Path, dst: Path) -> int:
    """Copy a workbook with every formula's cached value removed; returns how many were removed.

    Then a value read after LibreOffice's conversion can only come from its own recalculation.
    """
    removed = 0
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item)
            if item.filename.startswith("xl/worksheets/sheet"):
                data, n = _CACHED.subn(rb"\1", data)
                removed += n
            zout.writestr(item, data)
    return removed
