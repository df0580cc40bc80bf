"""Read a filled template back into data: fast cell values with python-calamine,
formula and error cells from the sheet XML, blocks found by defined name or header.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from operator import itemgetter
from pathlib import Path
from typing import Any

import numpy as np

from ..a1 import a1, parse_a1
from ..gc_pause import paused_gc
from ..model.columnar import float_cells, stored_doubles
from ..model.workbook import meta_value
from ..spec import TEMPLATES, get_spec
from ..spec.base import Block, TemplateSpec
from .coerce import CellProblem, NumberCells, coerce_column
from .formula_map import FormulaMap
from .layout import HEADER_TH_ROW, INFO_SHEET, PROP_TEMPLATE, PROP_VERSION, block_name, meta_name
from .package import SheetCells
from .safety import open_package
from .source import BROKEN_FILE, FileSource, Source, UnreadableWorkbookError
from .typed import TypedRows

_REF = re.compile(r"^=?'?(?P<sheet>.+?)'?!\$?(?P<c1>[A-Z]+)\$?(?P<r1>\d+)(?::\$?(?P<c2>[A-Z]+)\$?(?P<r2>\d+))?$")
HEADER_SCAN_ROWS = 40
_SPACE = re.compile(r"\s+")


class StructureIssue(StrEnum):
    """What the reader found wrong with a sheet's layout; each value is the id of the rule reporting it."""

    SHEET_MISSING = "structure.sheet_missing"
    COLUMN_MISSING = "structure.column_missing"
    OPTIONAL_COLUMN_MISSING = "structure.optional_column_missing"
    HEADER_CHANGED = "structure.header_changed"


@dataclass(frozen=True)
class StructureProblem:
    """One layout problem at one cell: the rules layer turns it into a catalogued finding."""

    issue: StructureIssue
    sheet: str
    cell: str
    expected: str
    actual: str | None = None
    block: Block | None = None
    column: str | None = None  # column id, for column problems



class RawColumns(dict[str, list[Any]]):
    """Each found column's cells as the sheet stores them, by column id, and each numeric column's doubles as
    the reader took them out to type the column (:class:`.columnar.StoredDoubles`; the cells are never
    edited after the read, so the doubles stay theirs)."""

    def __init__(self, cells: dict[str, list[Any]], doubles: dict[str, np.ndarray]) -> None:
        super().__init__(cells)
        self._doubles = doubles

    def doubles_of(self, column_id: str) -> np.ndarray | None:
        return self._doubles.get(column_id)


@dataclass
class ReadBlock:
    """One block as found in a workbook: typed rows plus where each cell sits."""

    block: Block
    sheet: str
    header_row: int = HEADER_TH_ROW
    columns: dict[str, int] = field(default_factory=dict)  # column id -> 0-based sheet column
    # Each row's typed values by column id, held by column: a row's dict, or a numeric cell's Decimal, is made
    # only when asked for; a cell is changed through ``rows.set`` (which the columns and the row both see).
    rows: TypedRows = field(default_factory=lambda: TypedRows((), {}, 0))
    # Each found column's cells as the sheet stores them, row by row (a column, not a dict per row: a
    # 50,000-row block's dicts alone took ~60 MB).
    raw_columns: dict[str, list[Any]] = field(default_factory=dict)
    sheet_rows: list[int] = field(default_factory=list)  # 0-based sheet row of each data row
    first_row: int = HEADER_TH_ROW + 1  # 0-based sheet row where data starts (below the English header if any)
    formula_text: Mapping[tuple[int, str], str] = field(default_factory=dict)  # as written, without "="
    problems: dict[tuple[int, str], CellProblem] = field(default_factory=dict)

    def address(self, i: int, column_id: str) -> str:
        """A1 address of row ``i``'s cell in a column found in the sheet (KeyError otherwise)."""
        return a1(self.sheet_rows[i], self.columns[column_id])

    def raw_cell(self, i: int, column_id: str) -> Any:
        """Row ``i``'s cell as the sheet stores it (None in a column not found)."""
        cells = self.raw_columns.get(column_id)
        return None if cells is None else cells[i]

    def label(self, i: int) -> str:
        """How a message names row ``i``: its name, else its code (its dict is not made)."""
        return str(self.rows.value(i, "name") or self.rows.value(i, "code") or "")

    @property
    def raw(self) -> list[dict[str, Any]]:
        """Each row's cells as the sheet stores them, by column id (built on each call)."""
        return [dict(zip(self.raw_columns, cells, strict=True))
                for cells in zip(*self.raw_columns.values(), strict=True)]

    @property
    def formula_cells(self) -> AbstractSet[tuple[int, str]]:
        """The (row, column id) of each cell holding a formula."""
        return self.formula_text.keys()

    @property
    def missing(self) -> list[str]:
        return [c.id for c in self.block.columns if c.id not in self.columns]


@dataclass
class ReadWorkbook:
    """What a workbook holds, ready for validation or recalculation."""

    path: Path
    spec: TemplateSpec
    version: str | None
    meta: dict[str, Any]
    meta_cells: dict[str, tuple[str, str]]  # field id -> (sheet, A1)
    blocks: dict[str, ReadBlock]
    structure: list[StructureProblem] = field(default_factory=list)


def _norm(text: Any) -> str:
    return _norm_text(text if type(text) is str else str(text))


@lru_cache(maxsize=4096)
def _norm_text(text: str) -> str:
    """Header text compared loosely; cached, as the header scan asks for the same few texts again and again."""
    return _SPACE.sub(" ", text).strip().lower()


def _parse_ref(text: str) -> tuple[str, int, int] | None:
    """Sheet and 0-based (row, col) of the top-left cell of a defined name's reference."""
    match = _REF.match(text.strip())
    if not match:
        return None
    row, col = parse_a1(f"{match['c1']}{match['r1']}")
    return match["sheet"].replace("''", "'"), row, col


def identify(source: Source) -> list[tuple[TemplateSpec, str | None]]:
    """The templates a workbook holds, with their versions, from the document properties
    or, failing that, the information sheet."""
    props = source.properties()
    ids = [t for t in props.get(PROP_TEMPLATE, "").split(",") if t]
    versions: list[str | None] = [v or None for v in props.get(PROP_VERSION, "").split(",")]
    if not ids and INFO_SHEET in source.sheet_names():
        ids, versions = _listed_templates(source)
    if not ids:
        raise UnreadableWorkbookError(
            "ไม่พบรหัสแม่แบบ osmep_xl ในไฟล์ / not an osmep_xl template (no template id found)")
    versions += [None] * (len(ids) - len(versions))
    return [(get_spec(t), v) for t, v in zip(ids, versions, strict=False)]


def _listed_templates(source: Source) -> tuple[list[str], list[str | None]]:
    """Template ids and versions as the information sheet lists them: under a "แม่แบบ | รุ่น" header a row
    each (id, version), or, as earlier versions wrote them, across a "แม่แบบ" row and a "รุ่น" row."""
    rows = [[str(c) for c in row if c not in (None, "")] for row in source.grid(INFO_SHEET)]
    ids: list[str] = []
    versions: list[str | None] = []
    for n, cells in enumerate(rows):
        if cells and cells[0].startswith("แม่แบบ") and len(cells) > 1 and cells[1].startswith("รุ่น"):
            for below in rows[n + 1:]:
                if not below or below[0] not in TEMPLATES:
                    break
                ids.append(below[0])
                versions.append(below[1] if len(below) > 1 else None)
        elif cells and cells[0].startswith("แม่แบบ"):
            ids = [c for c in cells[1:] if c in TEMPLATES]
        elif cells and cells[0].startswith("รุ่น"):
            versions = list(cells[1:])
    return ids, versions


def read_workbooks(path: Path | str) -> list[ReadWorkbook]:
    """Every template a workbook file holds (usually one). Raises :class:`UnreadableWorkbookError`."""
    path = Path(path)
    package = open_package(path)
    try:
        source = FileSource(path, package)
    except BROKEN_FILE as exc:
        raise UnreadableWorkbookError(f"อ่านไฟล์ไม่ได้ / cannot read workbook {path}: {exc}") from exc
    try:
        with paused_gc():
            return read_sources(source)
    except UnreadableWorkbookError:
        raise
    except BROKEN_FILE as exc:
        raise UnreadableWorkbookError(f"อ่านไฟล์ไม่ได้ / cannot read workbook {path}: {exc}") from exc
    finally:
        source.close()


def read_workbook(path: Path | str) -> ReadWorkbook:
    """The (first) template a workbook file holds."""
    return read_workbooks(path)[0]


def read_sources(source: Source) -> list[ReadWorkbook]:
    """Read every template held by any :class:`Source`."""
    return [read_template(source, spec, version) for spec, version in identify(source)]


def read_template(source: Source, spec: TemplateSpec, version: str | None) -> ReadWorkbook:
    """Read the blocks and meta fields of one template from ``source``."""
    names = source.defined_names()
    sheets = source.sheet_names()
    structure: list[StructureProblem] = []
    meta, meta_cells = _read_meta(source, spec, names)
    blocks: dict[str, ReadBlock] = {}
    for block in spec.blocks:
        if block.sheet not in sheets:
            structure.append(StructureProblem(StructureIssue.SHEET_MISSING, block.sheet, "A1", block.sheet,
                                              block=block))
            continue
        grid, cells = (source.grid_and_cells(block.sheet) if isinstance(source, FileSource)
                       else (source.grid(block.sheet), source.cells(block.sheet)))
        rb = _read_block(block, grid, names, cells, structure)
        complete = spec.completers.get(block.id)
        if complete is not None:  # e.g. a KPI target typed only as text: its number is read from it
            rb.rows = TypedRows.listed(block.column_ids, [complete(row) for row in rb.rows])
        blocks[block.id] = rb
    return ReadWorkbook(source.path, spec, version, meta, meta_cells, blocks, structure)


def _read_meta(source: Source, spec: TemplateSpec,
               names: dict[str, str]) -> tuple[dict[str, Any], dict[str, tuple[str, str]]]:
    meta: dict[str, Any] = {}
    cells: dict[str, tuple[str, str]] = {}
    grids: dict[str, list[list[Any]]] = {}
    for field_ in spec.meta:
        ref = _parse_ref(names.get(meta_name(field_.id), ""))
        if ref is None or ref[0] not in source.sheet_names():
            continue
        sheet, row, col = ref
        if sheet not in grids:  # (setdefault would read the sheet again for every field)
            grids[sheet] = source.grid(sheet)
        grid = grids[sheet]
        value = grid[row][col] if row < len(grid) and col < len(grid[row]) else None
        cells[field_.id] = (sheet, a1(row, col))
        meta[field_.id] = _meta(field_.kind, value)
    return meta, cells


def _meta(kind: str, value: Any) -> Any:
    """The typed value, or the text as found when it is not one (validation reports meta.invalid)."""
    try:
        return meta_value(kind, value)
    except ValueError:
        return str(value)


def _find_header(block: Block, grid: list[list[Any]], names: dict[str, str]) -> tuple[int, dict[str, int]]:
    """Header row and column positions: the defined name first, then a scan of the top rows."""
    wanted = {_norm(c.th): c.id for c in block.columns}
    wanted_en = {_norm(c.en): c.id for c in block.columns}
    candidates: list[int] = []
    ref = _parse_ref(names.get(block_name(block), ""))
    if ref is not None and ref[0] == block.sheet:
        candidates.append(ref[1])
    candidates.extend(r for r in range(min(HEADER_SCAN_ROWS, len(grid))) if r not in candidates)
    best: tuple[int, dict[str, int]] = (HEADER_TH_ROW, {})
    for r in candidates:
        if r >= len(grid):
            continue
        found: dict[str, int] = {}
        for c, text in enumerate(grid[r]):
            key = _norm(text)
            col_id = wanted.get(key) or wanted_en.get(key)
            if col_id and col_id not in found:
                found[col_id] = c
        if len(found) > len(best[1]):
            best = (r, found)
        if len(found) == len(block.columns):
            break
    return best


def _changed_headers(block: Block, grid: list[list[Any]], header_row: int,
                     columns: dict[str, int]) -> list[StructureProblem]:
    """Thai headers edited where the column was still recognised by its English header."""
    thai_rows = [r for r in (header_row, header_row - 1) if 0 <= r < len(grid)]
    if not thai_rows:
        return []

    def thai_hits(r: int) -> int:
        return sum(_norm(grid[r][c]) == _norm(block.column(cid).th)
                   for cid, c in columns.items() if c < len(grid[r]))

    row = max(thai_rows, key=thai_hits)
    if thai_hits(row) == 0:
        return []
    out = []
    for cid, c in columns.items():
        col = block.column(cid)
        text = grid[row][c] if c < len(grid[row]) else ""
        if _norm(text) != _norm(col.th):
            out.append(StructureProblem(StructureIssue.HEADER_CHANGED, block.sheet, a1(row, c), col.th, str(text),
                                        block=block, column=cid))
    return out


def _read_block(block: Block, grid: list[list[Any]], names: dict[str, str], scan: SheetCells,
                structure: list[StructureProblem]) -> ReadBlock:
    header_row, columns = _find_header(block, grid, names)
    rb = ReadBlock(block=block, sheet=block.sheet, header_row=header_row, columns=columns)
    structure.extend(_changed_headers(block, grid, header_row, columns))
    for col_id in rb.missing:
        col = block.column(col_id)
        issue = StructureIssue.COLUMN_MISSING if col.required else StructureIssue.OPTIONAL_COLUMN_MISSING
        structure.append(StructureProblem(issue, block.sheet, a1(header_row, 0), col.th, block=block, column=col_id))
    if not columns:
        return rb
    en_row = header_row + 1
    start = rb.first_row = en_row + 1 if en_row < len(grid) and _is_header(grid[en_row], block) else en_row
    lines = grid[start:]
    # The block a column at a time: each column's cells in one list, then typed together.
    reach = min(map(len, lines), default=0)
    raw_columns = {cid: _column_cells(lines, c, reach) for cid, c in columns.items()}
    at = {c: cid for cid, c in columns.items()}
    flagged: list[tuple[int, str]] = []  # (line, column id) of each error cell
    for ref, value in scan.errors.items():
        # Only a cell the sheet marks as an error is one: the text "#N/A" typed as text stays text.
        r, c = parse_a1(ref)
        if r >= start and c in at:
            raw_columns[at[c]][r - start] = value
            flagged.append((r - start, at[c]))
    # A row is blank when every cell is: each column looks only at the rows still blank (after the first,
    # usually none).
    blank = np.ones(len(lines), np.bool_)
    for cells in raw_columns.values():
        still = np.flatnonzero(blank).tolist()
        if not still:
            break
        blank[still] = [cells[j] is None or cells[j] == "" for j in still]
    kept = np.flatnonzero(~blank).tolist()
    if len(kept) < len(lines):
        raw_columns = {cid: [cells[j] for j in kept] for cid, cells in raw_columns.items()}
    rb.sheet_rows = [start + j for j in kept]
    position = {j: i for i, j in enumerate(kept)}
    rb.raw_columns = RawColumns(raw_columns, _type_rows(rb, block, raw_columns,
                                                        {(position[j], cid) for j, cid in flagged if j in position}))
    _formula_cells(rb, scan)
    return rb


def _column_cells(lines: list[list[Any]], c: int, reach: int) -> list[Any]:
    """Column ``c`` of every line (None past a line's end), by one C-level pass when every line reaches it
    (``reach``: the shortest line's length)."""
    if c < reach:
        return list(map(itemgetter(c), lines))
    return [line[c] if c < len(line) else None for line in lines]


def _type_rows(rb: ReadBlock, block: Block, raw_columns: dict[str, list[Any]],
               errors: set[tuple[int, str]]) -> dict[str, np.ndarray]:
    """Each column's typed values (a numeric column's Decimals made only when asked for) and cell problems;
    returns each numeric column's doubles (:func:`.columnar.stored_doubles`, read-only), which typing it
    took out."""
    typed: dict[str, NumberCells | list[Any]] = {}
    problems: dict[tuple[int, str], CellProblem] = {}
    doubles: dict[str, np.ndarray] = {}
    for cid, cells in raw_columns.items():
        column = block.column(cid)
        if column.type.numeric:
            floats = float_cells(cells)
            numbers = typed[cid] = NumberCells(column, cells, floats)
            found = numbers.problems
            stored = doubles[cid] = stored_doubles(cells, floats)
            stored.flags.writeable = False
        else:
            typed[cid], found = coerce_column(column, cells)
        for i, problem in found.items():
            problems[(i, cid)] = problem
    rb.rows = TypedRows(block.column_ids, typed, len(rb.sheet_rows))
    for i, cid in errors:
        rb.rows.set(i, cid, None)
        problems[(i, cid)] = CellProblem.ERROR_VALUE
    order = {cid: n for n, cid in enumerate(rb.columns)}
    rb.problems = dict(sorted(problems.items(), key=lambda item: (item[0][0], order[item[0][1]])))
    return doubles


def _formula_cells(rb: ReadBlock, scan: SheetCells) -> None:
    """The block's cells that hold formulas (placed with numpy: a 50,000-row block has ~350,000)."""
    rows, cols, texts = scan.formula_arrays()
    if not len(rows) or not rb.sheet_rows:
        return
    rb.formula_text = FormulaMap.placed(len(rb.sheet_rows), list(rb.columns), _lookup(rows, rb.sheet_rows),
                                        _lookup(cols, list(rb.columns.values())), texts)


def _lookup(values: np.ndarray, keys: list[int]) -> np.ndarray:
    """The position in ``keys`` (distinct, non-negative) of each of ``values``; -1 where it is none."""
    table = np.full(max(keys) + 1, -1, np.int64)
    table[keys] = np.arange(len(keys))
    inside = (values >= 0) & (values < len(table))
    return np.where(inside, table[np.where(inside, values, 0)], -1)


def _is_header(line: list[Any], block: Block) -> bool:
    english = {_norm(c.en) for c in block.columns}
    return sum(_norm(v) in english for v in line) >= max(1, len(block.columns) // 2)
