"""Load fill data from JSON or CSV files into :class:`WorkbookData`.

JSON: ``{"template": ID, "meta": {...}, "blocks": {BLOCK: [ROW, ...]}}``.
CSV: one row per table row; headers are column ids or the Thai/English headers of
the template; a ``block`` column names the table when the template has several.
A CSV is read the way Excel saves it: UTF-8 with or without BOM, UTF-16 with BOM (Excel's
"Unicode text", tab-separated), or Thai Windows (cp874); comma, tab or semicolon separated.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import charset_normalizer

from ..a1 import column_letter
from ..spec import get_spec
from ..spec.base import Block, Column, TemplateSpec, fold
from .workbook import DataProblems, Problem, WorkbookData


class DataError(ValueError):
    """Fill data that cannot be used; the message says where and why."""


TABLE_SUFFIXES = (".csv", ".txt", ".tsv")  # .txt is Excel's "Unicode text"
DELIMITERS = (",", "\t", ";")
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
_EXCEL_SIGNATURES = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0")  # .xlsx/.xlsm (zip) and .xls (OLE)
SAVE_AS_TH = 'เปิดใน Excel แล้วบันทึกเป็น (Save As) ชนิด "CSV UTF-8 (Comma delimited)"'
SAVE_AS_EN = 'open it in Excel and Save As "CSV UTF-8 (Comma delimited)"'
_THAI_LETTER = re.compile("[\u0e01-\u0e4e]")


def _unreadable(where: str, why_th: str = "อ่านไฟล์ไม่ได้", why_en: str = "cannot read this file") -> DataError:
    return DataError(f"{where}: {why_th} {SAVE_AS_TH} / {why_en}: {SAVE_AS_EN}")


def _reads_as_thai(text: str) -> bool:
    """True when text decoded as cp874 reads right: every Thai vowel or tone mark sits on a Thai letter
    (Latin-1 'é' read as cp874 is a tone mark on a Latin letter), and there are Thai letters or no Thai
    characters at all (then only the punctuation cp874 shares with Windows-1252: – — “ ” …)."""
    if not _THAI_LETTER.search(text) and any("\u0e00" <= ch <= "\u0e7f" for ch in text):
        return False
    return not any(unicodedata.category(ch) == "Mn" and "\u0e00" <= ch <= "\u0e7f"
                   and (i == 0 or not _THAI_LETTER.match(text[i - 1])) for i, ch in enumerate(text))


def decode_text(data: bytes, path: Path) -> str:
    """The text of a data file: a BOM decides (UTF-8, UTF-16 LE/BE), then UTF-8, then Thai Windows
    (cp874) when the bytes read as Thai, then a detector; :class:`DataError` if none reads it."""
    if data.startswith(_EXCEL_SIGNATURES):
        raise _unreadable(str(path), "เป็นไฟล์ Excel ไม่ใช่ CSV", "this is an Excel workbook, not CSV")
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(codec)
            except UnicodeDecodeError:
                raise _unreadable(str(path)) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        thai = data.decode("cp874")
    except UnicodeDecodeError:
        pass
    else:
        if _reads_as_thai(thai):
            return thai
    match = charset_normalizer.from_bytes(data).best()
    if match is None:
        raise _unreadable(str(path))
    return str(match)


def _delimiter(text: str, suffix: str) -> str:
    """The separator of the header line: comma, tab or semicolon (tab by default for .txt/.tsv)."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    fields = {d: len(next(csv.reader([first], delimiter=d), [])) for d in DELIMITERS}
    default = "\t" if suffix in (".txt", ".tsv") else ","
    best = max(DELIMITERS, key=lambda d: (fields[d], d == default))
    return best if fields[best] > 1 else default


def _records(text: str, where: str, delimiter: str) -> list[tuple[int, list[str]]]:
    """Non-blank records, each with the line of the file it starts on (a quoted value may span lines)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    records: list[tuple[int, list[str]]] = []
    end = 0
    try:
        for fields in reader:
            start, end = end + 1, reader.line_num
            if any(f.strip() for f in fields):  # Excel writes a blank row as a line of commas
                records.append((start, fields))
    except csv.Error:
        raise _unreadable(f"{where} บรรทัด/line {end + 1}") from None
    return records


def required_columns(block: Block) -> tuple[Column, ...]:
    """The columns fill data needs for a table's rows: those that place a row (its group, level, code
    and, in a hierarchy, its parent, without which nothing rolls up) and every required column."""
    needed = {*block.key_columns, *(("parent",) if block.hierarchical else ()),
              *(c.id for c in block.columns if c.required)}
    return tuple(c for c in block.columns if c.id in needed)


def _header_map(spec: TemplateSpec) -> dict[str, dict[str, str]]:
    """Per block: every way a header may name a column (id, Thai or English header) -> column id."""
    return {block.id: {fold(name): col.id for col in block.columns for name in (col.id, col.th, col.en)}
            for block in spec.blocks}


def _block_id(spec: TemplateSpec, value: str | None) -> str:
    if not value:
        if len(spec.blocks) == 1:
            return spec.blocks[0].id
        raise DataError(f"ต้องมีคอลัมน์ block / a 'block' column is needed for template {spec.id}"
                        f" ({', '.join(b.id for b in spec.blocks)})")
    for block in spec.blocks:
        if fold(value) in (fold(block.id), fold(block.sheet)):
            return block.id
    raise DataError(f"ไม่รู้จักตาราง / unknown block {value!r} for template {spec.id}")


@dataclass
class _Headers:
    """What each header of a CSV names: the block column, or a column of one or more blocks."""

    block_index: int | None  # where the ``block`` column is
    columns: list[dict[str, str]]  # per position: block id -> column id
    written: dict[str, dict[str, str]]  # block id -> column id -> the header as the user wrote it


def _headers(path: Path, spec: TemplateSpec, names: list[str]) -> _Headers:
    header_map = _header_map(spec)
    out = _Headers(None, [], {b.id: {} for b in spec.blocks})
    for j, name in enumerate(names):
        ids = {b: m[fold(name)] for b, m in header_map.items() if name and fold(name) in m}
        out.columns.append(ids)
        if name and fold(name) == "block":
            out.block_index = j
        elif name and not ids:
            raise DataError(f"{path}: ไม่รู้จักคอลัมน์ {name!r} (ดู osmep-xl templates show {spec.id}) /"
                            f" unknown column {name!r} (see osmep-xl templates show {spec.id})")
        for block_id, col_id in ids.items():
            if col_id in out.written[block_id]:
                first = out.written[block_id][col_id]
                raise DataError(f"{path}: คอลัมน์ซ้ำ {first!r} และ {name!r} / the same column twice: {first!r}"
                                f" and {name!r}")
            out.written[block_id][col_id] = name
    return out


@dataclass
class _Csv:
    """A CSV's rows per block, with the line each row starts on and the headers as the user wrote them."""

    blocks: dict[str, list[dict[str, Any]]]
    lines: dict[str, list[int]]
    headers: dict[str, dict[str, str]]  # block id -> column id -> header

    def where(self, path: Path, problem: Problem) -> str:
        if problem.block in self.lines and problem.row is not None:
            place = f"{path} บรรทัด/line {self.lines[problem.block][problem.row]}"
            if problem.column:
                header = self.headers[problem.block].get(problem.column, problem.column)
                place += f", คอลัมน์/column {header!r}"
            return place
        return f"{path}: {problem.where()}" if problem.where() else str(path)


def _read_csv(path: Path, spec: TemplateSpec) -> _Csv:
    text = decode_text(path.read_bytes(), path)
    delimiter = _delimiter(text, path.suffix.lower())
    records = _records(text, str(path), delimiter)
    if len(records) < 2:
        raise DataError(f"{path}: ไม่มีข้อมูล (ไฟล์ว่างหรือมีแต่หัวคอลัมน์) / no data rows:"
                        " the file is empty or has only the header")
    width = max(len(fields) for _, fields in records)
    names = [h.strip() for h in records[0][1]] + [""] * (width - len(records[0][1]))
    headers = _headers(path, spec, names)
    out = _Csv({b.id: [] for b in spec.blocks}, {b.id: [] for b in spec.blocks}, headers.written)
    for line, fields in records[1:]:
        fields = fields + [""] * (width - len(fields))
        try:
            index = headers.block_index
            block_id = _block_id(spec, fields[index].strip() if index is not None else None)
        except DataError as exc:
            raise DataError(f"{path} บรรทัด/line {line}: {exc}") from None
        row: dict[str, Any] = {}
        for j, (name, value) in enumerate(zip(names, fields, strict=True)):
            column_id = headers.columns[j].get(block_id)
            if column_id is not None:
                row[column_id] = value if value.strip() else None
            elif not value.strip() or j == headers.block_index:
                continue  # an empty cell of another table's column, or of an empty column Excel kept
            elif name:
                raise DataError(f"{path} บรรทัด/line {line}: คอลัมน์ {name!r} ไม่ได้อยู่ในตาราง {block_id} /"
                                f" column {name!r} does not belong to table {block_id}")
            else:
                comma = (' (ตัวเลขที่มีจุลภาคต้องอยู่ในเครื่องหมาย "" / a number with thousands commas must be'
                         ' in quotes)') if delimiter == "," else ""
                raise DataError(f"{path} บรรทัด/line {line}: คอลัมน์ {column_letter(j)} มีค่า {value!r} แต่ไม่มี"
                                f"หัวคอลัมน์ / column {column_letter(j)} has a value but no header{comma}")
        out.blocks[block_id].append(row)
        out.lines[block_id].append(line)
    _check_required(path, spec, out)
    return out


def _check_required(path: Path, spec: TemplateSpec, table: _Csv) -> None:
    """Refuse a CSV without a column its rows need, unless the spec derives it (a KPI's target from
    its text): filled anyway, every row would be blank there and roll-ups would be lost."""
    missing: list[tuple[Block, list[Column]]] = []
    for block in spec.blocks:
        rows = table.blocks[block.id]
        if not rows:
            continue
        complete = spec.completers.get(block.id)
        completed = [complete(dict(r)) for r in rows] if complete else rows
        absent = [c for c in required_columns(block) if c.id not in table.headers[block.id]
                  and all(r.get(c.id) in (None, "") for r in completed)]
        if absent:
            missing.append((block, absent))
    if missing:
        th = "; ".join(f"ตาราง {b.sheet}: " + ", ".join(f"{c.th} ({c.id})" for c in cols) for b, cols in missing)
        en = "; ".join(f"table {b.id}: " + ", ".join(f"{c.en} ({c.id})" for c in cols) for b, cols in missing)
        raise DataError(f"{path}: ไม่มีคอลัมน์ที่จำเป็น {th} / missing required columns, {en}")


def load_csv(path: Path, spec: TemplateSpec, meta: dict[str, Any]) -> WorkbookData:
    """Fill data from a CSV; problems name the file's line and the header as written."""
    table = _read_csv(path, spec)
    try:
        return WorkbookData.parse({"template": spec.id, "meta": meta, "blocks": table.blocks})
    except DataProblems as exc:
        raise DataError(exc.render(lambda p: table.where(path, p))) from None


def _load_json(path: Path, spec: TemplateSpec, meta: dict[str, Any]) -> WorkbookData:
    raw = json.loads(path.read_text("utf-8-sig"))
    if not isinstance(raw, dict):
        raise DataError(f"{path}: JSON ต้องเป็นออบเจกต์ / must be an object")
    raw.setdefault("template", spec.id)
    if raw["template"] != spec.id:
        raise DataError(f"{path}: ข้อมูลเป็นของแม่แบบ / data is for template {raw['template']!r},"
                        f" not {spec.id!r}")
    if not isinstance(raw.get("meta", {}), dict) or not isinstance(raw.get("blocks", {}), dict):
        raise DataError(f"{path}: meta และ blocks ต้องเป็นออบเจกต์ / 'meta' and 'blocks' must be JSON objects")
    raw["meta"] = {**raw.get("meta", {}), **meta}
    try:
        return WorkbookData.parse(raw)
    except DataProblems as exc:
        raise DataError(exc.render(lambda p: f"{path}: {p.where()}")) from None


def load_data(path: Path, template_id: str, meta: dict[str, Any] | None = None) -> WorkbookData:
    """Read fill data for ``template_id``; ``meta`` adds to or overrides the file's meta."""
    spec = get_spec(template_id)
    path = Path(path)
    if not path.is_file():
        raise DataError(f"ไม่พบไฟล์ข้อมูล / data file not found: {path}")
    suffix = path.suffix.lower()
    try:
        if suffix == ".json":
            return _load_json(path, spec, meta or {})
        if suffix in TABLE_SUFFIXES:
            return load_csv(path, spec, meta or {})
        raise DataError(f"รองรับเฉพาะ .json .csv .txt หรือ .tsv / data must be .json, .csv, .txt or .tsv: {path}")
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}: JSON ไม่ถูกต้อง / invalid JSON: {exc}") from None
    except UnicodeDecodeError:
        raise DataError(f"{path}: ไฟล์ JSON ต้องเป็น UTF-8 / a JSON file must be UTF-8 text") from None
    except DataError:
        raise
    except ValueError as exc:
        raise DataError(f"{path}: {exc}") from None
