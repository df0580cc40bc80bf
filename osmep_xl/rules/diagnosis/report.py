"""The diagnosis as findings: a cause at its typed cell, the cluster's other findings its consequences."""

from __future__ import annotations

from ...findings import Finding, Severity
from ...xlsx.read import ReadBlock
from ..catalog import E, rule
from ..context import Context
from .search import Diagnoser, Diagnosis

CAUSE = rule("diagnosis.cause", E, "ช่องนี้ที่พิมพ์ผิดทำให้ตัวเลขอื่นไม่ตรงกัน แก้ช่องนี้ช่องเดียวแล้วทุกอย่างตรงกัน",
             "this typed cell is the cause: correcting it alone makes every related figure agree")
STATED_TEXT = rule("diagnosis.stated_text", E, "ตัวเลขไม่ตรงกับข้อความที่ระบุไว้ข้างกัน",
                   "a figure differs from the text stating it beside it")
PAIR = rule("diagnosis.pair", E, "ช่องนี้เป็นหนึ่งในสองช่องที่พิมพ์ผิด ต้องแก้ทั้งสองช่องตัวเลขอื่นจึงจะตรงกัน",
            "this typed cell is one of two causes: correcting both makes every related figure agree")
CAUSE_RULES = frozenset({CAUSE.id, PAIR.id})  # a typed cell found to be wrong, with its corrected value
MAX_CANDIDATES = 12  # listed in an ambiguous cause


def _where(rb: ReadBlock, i: int, c: str) -> str:
    return f"{rb.sheet}!{rb.address(i, c)}"


def diagnose_findings(ctx: Context, findings: list[Finding]) -> list[Finding]:
    """``findings`` with each cluster's cause reported at its typed cell and the rest marked as its
    consequences (``Finding.cause``)."""
    dx = Diagnoser(ctx)
    diagnoses = dx.diagnose()
    if not diagnoses:
        return findings
    out = list(findings)
    for d in diagnoses:
        out = _apply(dx, d, out)
    explained = {con for d in diagnoses for con in d.explains}
    for con in dx.violated_text:
        if con not in explained:  # a figure its text contradicts, with no single cell to blame
            b, i, c = con.at
            rb, col = dx.rb[b], dx.rb[b].block.column(c)
            assert col.stated_from is not None
            text = rb.rows[i].get(col.stated_from.column)
            label = rb.rows[i].get("name") or rb.rows[i].get("code") or ""
            out.append(STATED_TEXT.at(rb.sheet, rb.address(i, c), expected=col.stated_from.number(text),
                                      actual=rb.rows[i].get(c),
                                      th=f"{label} · {col.th} ข้อความระบุ '{text}'",
                                      en=f"{label} · {col.en}: its text says '{text}'"))
    return out


def _one_keystroke(dx: Diagnoser, d: Diagnosis) -> bool:
    """True when exactly one candidate's correction is a single keystroke away from what is typed (a digit
    changed, transposed, added or dropped): the finding then goes to that cell, still listing the others."""
    ranks = [dx.typo_rank(x, v)[0] for x, v in d.candidates]
    return bool(ranks) and ranks[0] == 1 and all(r > 1 for r in ranks[1:])


def _apply(dx: Diagnoser, d: Diagnosis, findings: list[Finding]) -> list[Finding]:
    cell = d.cause if d.cause is not None else d.at
    assert cell is not None
    b, i, c = cell
    rb = dx.rb[b]
    if c not in rb.columns:
        return findings
    where = _where(rb, i, c)
    sheet, address = rb.sheet, rb.address(i, c)
    partner = _where(dx.rb[d.partner[0][0]], d.partner[0][1], d.partner[0][2]) if d.partner else None
    effects = {_where(dx.rb[cb], ci, cc) for con in d.explains for (cb, ci, cc) in con.cells
               if cc in dx.rb[cb].columns} - {where, partner}
    candidates = tuple(_where(dx.rb[x[0]], x[1], x[2]) for x, _ in d.candidates[:MAX_CANDIDATES]) or None
    out: list[Finding] = []
    at_cause = [f for f in findings if f.where == where and f.severity is Severity.ERROR]
    reported = [f for f in findings if f.where in effects and f.severity is Severity.ERROR and f.cause is None]
    if candidates and not partner and not at_cause and len(reported) == 1 and not _one_keystroke(dx, d):
        # One finding already says what is wrong: it lists the cells that may be the typo.
        return [f.model_copy(update={"candidates": candidates}) if f is reported[0] else f for f in findings]
    for f in findings:
        if f.where in effects and f.severity is not Severity.INFO and f.cause is None:
            out.append(f.model_copy(update={"cause": where}))
        elif at_cause and f is at_cause[0] and candidates:
            out.append(f.model_copy(update={"candidates": candidates}))
        else:
            out.append(f)
    if at_cause:
        return out
    row = rb.rows[i]
    label = row.get("name") or row.get("code") or ""
    col = rb.block.column(c)
    if d.what == "parent":
        out.append(CAUSE.at(sheet, address, expected=str(d.value), actual=str(row.get("parent")),
                            th=f"{label} · รหัสระดับบน '{row.get('parent')}' ควรเป็น '{d.value}'"
                               f" (ยอดของระดับบนทั้งสองจึงจะตรงกัน)",
                            en=f"{label} · parent code '{row.get('parent')}' should be '{d.value}'"
                               " (then both parents' totals agree)"))
        return out
    if d.what == "duplicate":
        out.append(CAUSE.at(sheet, address, actual=str(row.get("code")),
                            th=f"แถว {row.get('code')} {label} ซ้ำ ลบแถวนี้แล้วยอดรวมตรงกัน",
                            en=f"row {row.get('code')} {label} is entered twice: without it the totals agree"))
        return out
    stated = row.get(c)
    texts = [dx.rb[cb].block.column(cc) for con in d.explains if con.kind == "text" for (cb, _, cc) in con.cells]
    because = ""
    because_en = ""
    if texts and texts[0].stated_from is not None:
        text = row.get(texts[0].stated_from.column)
        because, because_en = f" ข้อความระบุ '{text}'", f" its text says '{text}'"
    if d.partner is not None:
        (pb, _, pc), pv = d.partner
        should = dx.rb[pb].block.column(pc).format(pv)
        th = (f"{label} · {col.th} ระบุ {col.format(stated)} ควรเป็น {col.format(d.value)}{because}"
              f" พร้อมกับ {partner} ควรเป็น {should} (พิมพ์ผิดสองช่อง)")
        en = (f"{label} · {col.en} states {col.format(stated)}, should be {col.format(d.value)}{because_en},"
              f" together with {partner} (should be {should}): two typos")
        if candidates:
            th += f" หรือสองช่องอื่นในกลุ่มนี้: {', '.join(candidates)}"
            en += f"; or another two of: {', '.join(candidates)}"
    elif candidates:
        others = ", ".join(candidates[1:])
        th = (f"{label} · {col.th} ระบุ {col.format(stated)} ควรเป็น {col.format(d.value)}{because}"
              f" หรือช่องใดช่องหนึ่งต่อไปนี้ผิดแทน: {others}")
        en = (f"{label} · {col.en} states {col.format(stated)}, should be {col.format(d.value)}{because_en};"
              f" or one of these instead: {others}")
    else:
        th = f"{label} · {col.th} ระบุ {col.format(stated)} ควรเป็น {col.format(d.value)}{because}"
        en = f"{label} · {col.en} states {col.format(stated)}, should be {col.format(d.value)}{because_en}"
    if d.partner is not None:
        finding = PAIR.at(sheet, address, expected=d.value, actual=stated, th=th, en=en)
    elif len(d.explains) == 1 and d.explains[0].kind == "text" and not candidates:
        finding = STATED_TEXT.at(sheet, address, expected=d.value, actual=stated, th=th, en=en)
    else:
        finding = CAUSE.at(sheet, address, expected=d.value, actual=stated, th=th, en=en)
    out.append(finding.model_copy(update={"candidates": candidates}) if candidates else finding)
    return out
