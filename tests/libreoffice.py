"""LibreOffice headless as a stand-in for Excel: open workbooks, recalculate every formula, save.

Used by the tests and the benchmark. The profile sets OOXMLRecalcMode = 0 ("always
recalculate") so formulas in .xlsx files are really recomputed on load instead of
LibreOffice trusting the cached values.
"""

from __future__ import annotations

import html
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


_CF = re.compile(rb'<conditionalFormatting sqref="([^"]+)">(.*?)</conditionalFormatting>', re.S)
_CF_FORMULA = re.compile(rb"<formula>([^<]*)</formula>")
HELPER_OFFSET = 100  # helper cells sit this many columns right of the cell they stand for


def conditional_formats(path: Path) -> dict[tuple[str, str], str]:
    """(sheet, cell) -> the formula of the formula-type conditional format on that cell (moved to its row)."""
    from osmep_xl.a1 import a1, parse_a1
    from osmep_xl.xlsx.package import sheet_parts
    from osmep_xl.xlsx.shift import shift_formula

    out: dict[tuple[str, str], str] = {}
    with zipfile.ZipFile(path) as zf:
        for sheet, part in sheet_parts(zf).items():
            for sqref, body in _CF.findall(zf.read(part)):
                found = _CF_FORMULA.search(body)
                if found is None:
                    continue
                formula = html.unescape(found.group(1).decode("utf-8"))
                first, _, last = sqref.decode().partition(":")
                (r0, c0), (r1, _) = parse_a1(first), parse_a1(last or first)
                for r in range(r0, r1 + 1):
                    out[(sheet, a1(r, c0))] = shift_formula(formula, r - r0, 0)
    return out


def evaluate_conditional_formats(paths: list[Path], out_dir: Path) -> list[dict[tuple[str, str], object]]:
    """Per workbook, what LibreOffice computes for each conditional format's formula: each formula is written
    into a helper cell :data:`HELPER_OFFSET` columns to the right, and the recalculated value read back."""
    from python_calamine import CalamineWorkbook

    from osmep_xl.a1 import a1, parse_a1
    from osmep_xl.xlsx.patch import WorkbookPatch

    helpers = out_dir / "helpers"
    helpers.mkdir(parents=True, exist_ok=True)
    formats, written = [], []
    for path in paths:
        found = conditional_formats(path)
        patch = WorkbookPatch(path)
        for (sheet, cell), formula in found.items():
            r, c = parse_a1(cell)
            patch.set_cell(sheet, a1(r, c + HELPER_OFFSET), None, formula=formula)
        formats.append(found)
        written.append(patch.save(helpers / path.name))
    results = []
    for found, recalculated in zip(formats, convert(written, out_dir / "recalculated"), strict=True):
        book = CalamineWorkbook.from_path(str(recalculated))
        grids: dict[str, list[list[object]]] = {}
        values: dict[tuple[str, str], object] = {}
        for sheet, cell in found:
            if sheet not in grids:
                grids[sheet] = book.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
            r, c = parse_a1(cell)
            grid = grids[sheet]
            values[(sheet, cell)] = grid[r][c + HELPER_OFFSET] if r < len(grid) and c + HELPER_OFFSET < len(
                grid[r]) else None
        results.append(values)
    return results
