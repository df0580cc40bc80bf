"""Load fill data from JSON or CSV files into :class:`WorkbookData`.

JSON: ``{"template": ID, "meta": {...}, "blocks": {BLOCK: [ROW, ...]}}``.
CSV: one row per table row; headers are column ids or the Thai/English headers of
the template; a ``block`` column names the table when the template has several.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from ..spec import get_spec
from ..spec.base import TemplateSpec
from .workbook import WorkbookData


class DataError(ValueError):
    """Fill data that cannot be used; the message says where and why."""


def _header_map(spec: TemplateSpec) -> dict[str, dict[str, str]]:
    maps: dict[str, dict[str, str]] = {}
    for block in spec.blocks:
        m: dict[str, str] = {}
        for col in block.columns:
            for name in (col.id, col.th, col.en):
                m[name.strip().lower()] = col.id
        maps[block.id] = m
    return maps


def _block_id(spec: TemplateSpec, value: str | None) -> str:
    if not value:
        if len(spec.blocks) == 1:
            return spec.blocks[0].id
        raise DataError(f"ต้องมีคอลัมน์ block / a 'block' column is needed for template {spec.id}"
                        f" ({', '.join(b.id for b in spec.blocks)})")
    for block in spec.blocks:
        if value.strip() in (block.id, block.sheet):
            return block.id
    raise DataError(f"ไม่รู้จักตาราง / unknown block {value!r} for template {spec.id}")


def load_csv(path: Path, spec: TemplateSpec, meta: dict[str, Any]) -> dict[str, Any]:
    maps = _header_map(spec)
    blocks: dict[str, list[dict[str, Any]]] = {b.id: [] for b in spec.blocks}
    with path.open(encoding="utf-8-sig", newline="") as fh:
        for n, record in enumerate(csv.DictReader(fh), start=2):
            block_id = _block_id(spec, record.pop("block", None))
            row: dict[str, Any] = {}
            for header, value in record.items():
                if header is None:
                    raise DataError(f"{path}:{n}: มีค่าเกินจำนวนหัวคอลัมน์ / more values than headers")
                key = header.strip().lower()
                col_id = maps[block_id].get(key)
                if col_id is None:
                    if not any(key in m for m in maps.values()):
                        raise DataError(f"{path}: ไม่รู้จักคอลัมน์ / unknown column {header!r}")
                    if value not in (None, ""):
                        raise DataError(f"{path}:{n}: คอลัมน์ {header!r} ไม่ได้อยู่ในตาราง {block_id} /"
                                        f" column {header!r} does not belong to block {block_id}")
                    continue
                row[col_id] = value if value != "" else None
            blocks[block_id].append(row)
    return {"template": spec.id, "meta": meta, "blocks": blocks}


def load_data(path: Path, template_id: str, meta: dict[str, Any] | None = None) -> WorkbookData:
    """Read fill data for ``template_id``; ``meta`` adds to or overrides the file's meta."""
    spec = get_spec(template_id)
    path = Path(path)
    if not path.is_file():
        raise DataError(f"ไม่พบไฟล์ข้อมูล / data file not found: {path}")
    suffix = path.suffix.lower()
    try:
        if suffix == ".json":
            raw = json.loads(path.read_text("utf-8-sig"))
            if not isinstance(raw, dict):
                raise DataError(f"{path}: JSON ต้องเป็นออบเจกต์ / must be an object")
            raw.setdefault("template", spec.id)
            if raw["template"] != spec.id:
                raise DataError(f"{path}: ข้อมูลเป็นของแม่แบบ / data is for template {raw['template']!r},"
                                f" not {spec.id!r}")
            if not isinstance(raw.get("meta", {}), dict) or not isinstance(raw.get("blocks", {}), dict):
                raise DataError(f"{path}: meta และ blocks ต้องเป็นออบเจกต์ / 'meta' and 'blocks' must be JSON objects")
            raw["meta"] = {**raw.get("meta", {}), **(meta or {})}
        elif suffix == ".csv":
            raw = load_csv(path, spec, meta or {})
        else:
            raise DataError(f"รองรับเฉพาะ .json หรือ .csv / data must be .json or .csv: {path}")
        return WorkbookData.parse(raw)
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}: JSON ไม่ถูกต้อง / invalid JSON: {exc}") from None
    except UnicodeDecodeError:
        raise DataError(f"{path}: ไฟล์ต้องเป็น UTF-8 / file must be UTF-8 text") from None
    except DataError:
        raise
    except ValueError as exc:
        raise DataError(f"{path}: {exc}") from None
