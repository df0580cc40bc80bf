"""Generators for fuzzing the readers and the validator (shared by the tests and bench/fuzz.py)."""

from __future__ import annotations

import datetime as dt
import io
import random
import re
import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from osmep_xl.check import open_all
from osmep_xl.findings import Finding, Severity
from osmep_xl.model.workbook import WorkbookData
from osmep_xl.rules.catalog import RULES
from osmep_xl.rules.config import load_settings
from osmep_xl.rules.validate import validate
from osmep_xl.spec import TEMPLATES
from osmep_xl.xlsx.safety import RefusedFileError
from osmep_xl.xlsx.source import UnreadableWorkbookError

THAI_DIGITS = "๐๑๒๓๔๕๖๗๘๙"
ERRORS = ["#DIV/0!", "#REF!", "#N/A", "#VALUE!", "#NAME?", "#NUM!", "#NULL!"]

raw_cells = st.one_of(
    st.none(),
    st.text(max_size=20),
    st.sampled_from(ERRORS),
    st.integers(min_value=-(10**15), max_value=10**15),
    st.floats(allow_nan=False, allow_infinity=False),
    st.decimals(allow_nan=False, allow_infinity=False, places=3),
    st.dates().map(lambda d: d),
    st.datetimes(),
    st.booleans(),
    st.from_regex(r"[-(]?[0-9๐-๙]{1,3}(,[0-9๐-๙]{3}){0,3}(\.[0-9]{1,3})?\)?( บาท| %)?", fullmatch=True),
)

_V = re.compile(rb"(<c r=\"[A-Z]+(\d+)\"[^>]*?)(?: t=\"[a-zA-Z]+\")?(>)(?:<f>[^<]*</f>)?<v>[^<]*</v>(</c>)")


def _xml_cell(value: Any) -> tuple[bytes, bytes]:
    """Attribute and content for a cell holding ``value`` (inline string, number or error)."""
    if isinstance(value, bool):
        return b' t="b"', b"<v>" + (b"1" if value else b"0") + b"</v>"
    if isinstance(value, (int, float, Decimal)):
        return b"", b"<v>" + repr(float(value)).encode() + b"</v>"
    text = str(value)
    if text in ERRORS:
        return b' t="e"', b"<v>" + text.encode() + b"</v>"
    esc = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    esc = "".join(ch for ch in esc if ch in "\t\n\r" or (ord(ch) >= 0x20 and ch not in "\ufffe\uffff"))
    return b' t="inlineStr"', b"<is><t>" + esc.encode() + b"</t></is>"


def mutate_workbook(src: bytes, rng: random.Random, values: list[Any]) -> bytes:
    """Random damage: cell values replaced, rows dropped, headers renamed, bytes flipped or cut."""
    with zipfile.ZipFile(io.BytesIO(src)) as zin:
        parts = {i.filename: zin.read(i) for i in zin.infolist()}
    sheets = [n for n in parts if n.startswith("xl/worksheets/sheet")]
    for _ in range(rng.randint(1, 6)):
        name = rng.choice(sheets)
        xml = parts[name]
        cells = list(_V.finditer(xml))
        if not cells:
            continue
        kind = rng.random()
        if kind < 0.7:
            m = rng.choice(cells)
            attr, body = _xml_cell(rng.choice(values) if values else "x")
            xml = xml[: m.start()] + m.group(1) + attr + m.group(3) + body + m.group(4) + xml[m.end():]
        elif kind < 0.85:
            rows = re.findall(rb"<row [^>]*>.*?</row>", xml, flags=re.S)
            if rows:
                xml = xml.replace(rng.choice(rows), b"", 1)
        else:
            m = rng.choice(cells)
            xml = xml[: m.start()] + xml[m.end():]
        parts[name] = xml
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for name, data in parts.items():
            zout.writestr(name, data)
    data = out.getvalue()
    roll = rng.random()
    if roll < 0.05:
        data = data[: rng.randint(0, len(data))]
    elif roll < 0.1:
        pos = rng.randrange(len(data))
        data = data[:pos] + bytes([data[pos] ^ 0xFF]) + data[pos + 1:]
    return data


_A1 = re.compile(r"[A-Z]{1,3}[1-9][0-9]{0,6}")
MAX_ROW, MAX_COLUMN = 1_048_576, "XFD"


def check_findings(findings: list[Finding]) -> None:
    """Every finding names a catalogued rule with its severity, a sheet, and one valid A1 cell."""
    for f in findings:
        rule = RULES.get(f.rule)
        assert rule is not None, f"rule {f.rule!r} is not in the catalogue: {f}"
        assert isinstance(f.severity, Severity), f"severity of {f}"  # a rule may be downgraded (optional column)
        assert f.sheet, f"no sheet: {f}"
        match = _A1.fullmatch(f.cell)
        letters = f.cell.rstrip("0123456789")
        assert match and int(f.cell[len(letters):]) <= MAX_ROW and (len(letters), letters) <= (3, MAX_COLUMN), \
            f"not an A1 cell: {f.cell!r} in {f}"


def read_and_validate(path: Path) -> int:
    """Read and validate; a refusal is fine, any other exception is a bug, and so is a finding that names an
    unknown rule or no valid cell. Returns the findings count (-1: refused)."""
    try:
        books = open_all(path)
    except (UnreadableWorkbookError, RefusedFileError):
        return -1
    settings = load_settings()
    findings = [f for wb in books for f in validate(wb, settings)]
    check_findings(findings)
    return len(findings)


def random_rows(rng: random.Random, template_id: str) -> WorkbookData:
    """Rows with random levels, codes, parents (dangling, duplicated) and amounts: the validator's input."""
    spec = TEMPLATES[template_id]
    blocks: dict[str, list[dict[str, Any]]] = {}
    for block in spec.blocks:
        rows = []
        codes = [str(rng.randint(1, 6)) for _ in range(rng.randint(0, 12))]
        for code in codes:
            row: dict[str, Any] = {}
            for col in block.columns:
                if rng.random() < 0.3:
                    continue
                if col.id == "level" and block.levels:
                    row[col.id] = rng.choice(block.levels).id
                elif col.id in ("code", "parent", "strategy"):
                    row[col.id] = rng.choice([code, *codes, "T", None])
                elif col.type.value == "year":
                    row[col.id] = rng.choice([2562, 2563, 2564, 2565])
                elif col.choices:
                    row[col.id] = rng.choice(col.choices)
                elif col.type.numeric:
                    row[col.id] = str(Decimal(rng.randint(-10**6, 10**12)) / 100)
                else:
                    row[col.id] = rng.choice(["ก", "x", "ไม่น้อยกว่า 5 ราย", "=1+1", "-"])
            rows.append(row)
        blocks[block.id] = rows
    meta = {"as_of": (dt.date(2020, 10, 1) + dt.timedelta(days=rng.randint(0, 1000))).isoformat(),
            "fiscal_year": rng.choice([2563, 2564, 2565])}
    return WorkbookData.parse({"template": template_id, "meta": meta, "blocks": blocks})
