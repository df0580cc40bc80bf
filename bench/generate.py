"""Synthetic submissions shaped like OSMEP's four templates, for the benchmark and the batch tests.

Each submission is what one agency would send: the report's hierarchies with realistic row counts
(disbursement 40-55 rows, the action plan 50-64 over its two tables, the integrated plan 32-41, KPIs
12-15), Thai names, money with satang, and with probability ``--error-rate`` one to three mistakes a
person makes in Excel (a typed total that does not add up, a wrong percentage, a negative amount, a
parent code that does not exist, a code used twice, a KPI status typed by hand). Deterministic for a
given ``--seed``.

    .venv/bin/python -m bench.generate OUT_DIR --n 500 --seed 1 --error-rate 0.2
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from osmep_xl.model.evaluate import resolve_structure
from osmep_xl.model.workbook import WorkbookData
from osmep_xl.money import excel_round, percent
from osmep_xl.spec import get_spec
from osmep_xl.xlsx.generate import write_workbook

TEMPLATES = ("disbursement", "action_plan", "integrated_plan", "kpi")
AGENCIES = (
    "สำนักงานส่งเสริมวิสาหกิจขนาดกลางและขนาดย่อม (สสว.)",
    "กรมส่งเสริมอุตสาหกรรม (กสอ.)",
    "กรมพัฒนาธุรกิจการค้า (พค.)",
    "กรมส่งเสริมการเกษตร (กสก.)",
    "กรมการพัฒนาชุมชน (พช.)",
    "สำนักงานส่งเสริมเศรษฐกิจดิจิทัล (ดีป้า)",
    "สำนักงานนวัตกรรมแห่งชาติ (สนช.)",
    "กรมส่งเสริมการค้าระหว่างประเทศ (คต.)",
    "สถาบันพัฒนาวิสาหกิจขนาดกลางและขนาดย่อม (ISMED)",
    "ธนาคารพัฒนาวิสาหกิจขนาดกลางและขนาดย่อมแห่งประเทศไทย (ธพว.)",
)
VERBS = ("ส่งเสริม", "พัฒนา", "ยกระดับ", "สนับสนุน", "เสริมสร้าง", "บ่มเพาะ", "ขับเคลื่อน")
OBJECTS = ("ผู้ประกอบการ SME", "วิสาหกิจชุมชน", "ผู้ประกอบการรายย่อย (Micro)", "สตาร์ทอัพ", "ธุรกิจท่องเที่ยว",
           "อุตสาหกรรมเกษตรแปรรูป", "การค้าออนไลน์", "ผู้ประกอบการสตรี", "ธุรกิจบริการ", "เครือข่ายคลัสเตอร์")
AIMS = ("สู่ตลาดสากล", "ด้วยเทคโนโลยีดิจิทัล", "ในภูมิภาค", "ให้เข้าถึงแหล่งเงินทุน", "ด้านมาตรฐานสินค้า",
        "ตามแนวทาง BCG", "ในพื้นที่ภาคใต้", "ในพื้นที่ภาคเหนือ", "ให้มีขีดความสามารถในการแข่งขัน")
UNITS = ("ราย", "กิจการ", "ผลิตภัณฑ์", "เครือข่าย", "ระบบ", "ฐานข้อมูล")
FY, SOURCE = 2564, "พ.ร.บ.งบประมาณและเงินกองทุน"
META = {"fiscal_year": FY, "quarter": 3, "as_of": dt.date(2021, 6, 30).isoformat(),
        "title": "รายงานผลการดำเนินงาน ปีงบประมาณ 2564 ไตรมาส 3 (ณ 30 มิ.ย.64)"}
Row = dict[str, Any]


def _name(rng: random.Random, prefix: str) -> str:
    return f"{prefix}{rng.choice(VERBS)}{rng.choice(OBJECTS)}{rng.choice(AIMS)}"


def _money(rng: random.Random, low: int, high: int) -> Decimal:
    whole = Decimal(rng.randint(low, high) * 1000)
    return whole + (Decimal(rng.randint(0, 99)) / 100 if rng.random() < 0.3 else 0)


def _share(rng: random.Random, amount: Decimal, low: float, high: float) -> Decimal:
    return (amount * Decimal(str(round(rng.uniform(low, high), 4)))).quantize(Decimal("0.01"))


def _tree(rng: random.Random, levels: Sequence[tuple[str, str, int, int]], leaf: Any,
          small: bool) -> list[Row]:
    """Rows in outline order: a total, then ``levels`` of (level, name prefix, fan-out min, max)."""
    rows: list[Row] = [{"level": "total", "code": "T", "name": "รวมทั้งสิ้น"}]
    counters: dict[str, int] = {}

    def grow(parent: str, depth: int) -> None:
        level, prefix, low, high = levels[depth]
        for _ in range(rng.randint(low, high if not small else low)):
            counters[level] = counters.get(level, 0) + 1
            code = chr(64 + counters[level]) if level == "part" else str(counters[level])
            row: Row = {"level": level, "code": code, "parent": parent, "name": _name(rng, prefix)}
            rows.append(row)
            if depth + 1 < len(levels):
                grow(code, depth + 1)
            else:
                row.update(leaf(rng))

    grow("T", 0)
    return rows


def _total(children: dict[int, list[int]], rows: list[Row], index: int, column: str) -> Decimal:
    """What a roll-up cell adds up to: the sum over its lowest rows."""
    kids = children.get(index)
    if not kids:
        value = rows[index].get(column)
        return value if isinstance(value, Decimal) else Decimal(0)
    return sum((_total(children, rows, k, column) for k in kids), Decimal(0))


def _tree_total(rows: list[Row], template: str, block_id: str, column: str) -> Decimal:
    block = get_spec(template).block(block_id)
    return _total(resolve_structure(block, rows).children, rows, 0, column)


def _disbursement_leaf(rng: random.Random) -> Row:
    allocated = _money(rng, 200, 60_000)
    disbursed = _share(rng, allocated, 0.35, 0.95)
    return {"allocated": allocated, "disbursed": disbursed,
            "committed": _share(rng, allocated - disbursed, 0.0, 0.6)}


def _disbursement(rng: random.Random, small: bool) -> dict[str, list[Row]]:
    main = _tree(rng, [("part", "", 2, 2), ("strategy", "ยุทธศาสตร์ ", 3, 4), ("project", "โครงการ", 4, 5)],
                 _disbursement_leaf, small)
    fund = _tree(rng, [("part", "", 1, 2), ("project", "โครงการ", 2, 3)], _disbursement_leaf, small)
    for row in main:
        row.update(fiscal_year=FY, budget_source=SOURCE)
    for row in fund:
        row.update(fiscal_year=FY - 1, budget_source="เงินกองทุน")
    return {"lines": main + fund}


def _action_plan(rng: random.Random, small: bool) -> dict[str, list[Row]]:
    plan = _tree(rng, [("part", "", 2, 2), ("strategy", "ยุทธศาสตร์ ", 2, 2), ("tactic", "กลยุทธ์ ", 2, 3),
                       ("project", "โครงการ", 2, 4)], lambda r: {"budget": _money(r, 200, 60_000)}, small)
    for row in plan:
        row.update(fiscal_year=FY, budget_source=SOURCE)
    total = _tree_total(plan, "action_plan", "plan", "budget")
    sources: list[Row] = [{"level": "total", "code": "T", "name": "รวมงบประมาณทั้งสิ้น"}]
    left = total
    for s, code in enumerate(("ACT", "FUND")):
        part = left if s == 1 else _share(rng, total, 0.5, 0.8)
        left -= part
        sources.append({"level": "source", "code": code, "parent": "T",
                        "name": "ตาม พ.ร.บ. งบประมาณรายจ่าย" if code == "ACT" else "จัดสรรเงินกองทุน"})
        items = 2 if small else 3
        rest = part
        for n in range(1, items + 1):
            amount = rest if n == items else _share(rng, part, 0.1, 0.4)
            rest -= amount
            sources.append({"level": "item", "code": f"{code}.{n}", "parent": code, "budget": amount,
                            "name": _name(rng, "กิจกรรมย่อย ")})
    for row in sources:
        row.update(fiscal_year=FY, budget_source=SOURCE)
    return {"sources": sources, "plan": plan}


def _integrated_leaf(rng: random.Random) -> Row:
    persons = Decimal(rng.randint(2, 400) * 10)
    centers = Decimal(rng.randint(1, 6)) if rng.random() < 0.4 else None
    return {"target_persons": persons, "target_centers": centers, "budget": _money(rng, 500, 40_000),
            "result_persons": Decimal(int(persons * Decimal(str(round(rng.uniform(0.3, 1.1), 2))))),
            "result_centers": None if centers is None else Decimal(rng.randint(0, int(centers))),
            "agencies": rng.choice(AGENCIES)}


def _integrated_plan(rng: random.Random, small: bool) -> dict[str, list[Row]]:
    approaches = _tree(rng, [("approach", "แนวทาง ", 5, 5), ("subapproach", "ประเด็น ", 1, 2),
                             ("group", "กลุ่มโครงการ", 2, 3)], _integrated_leaf, small)
    disbursement: list[Row] = [{"level": "total", "code": "T", "name": "รวม"}]
    children = resolve_structure(get_spec("integrated_plan").block("approaches"), approaches).children
    for i, row in enumerate(approaches):
        if row["level"] == "approach":
            allocated = _total(children, approaches, i, "budget")
            disbursed = _share(rng, allocated, 0.3, 0.9)
            disbursement.append({"level": "approach", "code": row["code"], "parent": "T", "name": row["name"],
                                 "allocated": allocated, "disbursed": disbursed,
                                 "committed": _share(rng, allocated - disbursed, 0, 0.5)})
    return {"approaches": approaches, "disbursement": disbursement}


def _kpi(rng: random.Random, small: bool) -> dict[str, list[Row]]:
    strategies = [{"code": str(s), "name": _name(rng, f"ยุทธศาสตร์ที่ {s} ")} for s in range(1, 5)]
    kpis = []
    for k in range(1, (6 if small else rng.randint(8, 12)) + 1):
        unit = rng.choice(UNITS)
        target = Decimal(rng.choice([1, 2, 5, 10, 50, 100, 500, 1000, 190000]))
        result = (target * Decimal(str(round(rng.uniform(0.4, 1.3), 2)))).quantize(Decimal(1))
        kpis.append({"code": str(k), "strategy": str(rng.randint(1, 4)),
                     "name": f"จำนวน{rng.choice(OBJECTS)}ที่ได้รับการพัฒนา", "unit": unit, "direction": ">=",
                     "target": target, "target_text": f"ไม่น้อยกว่า {target:,} {unit}",
                     "result": result, "result_text": f"{result:,} {unit}"})
    return {"strategies": strategies, "kpis": kpis}


def _outputs(rng: random.Random, small: bool) -> dict[str, list[Row]]:
    """Project outputs with cumulative results up to Q3 (META's quarter), each linked to one of _kpi's KPIs."""
    rows = []
    for n in range(1, (5 if small else rng.randint(10, 16)) + 1):
        strategy = rng.randint(1, 4)
        tactic, project = f"{strategy}.{rng.randint(1, 3)}", str(rng.randint(1, 41))
        target = Decimal(rng.choice([50, 100, 300, 1000, 5000, 20000]))
        q1 = (target * Decimal(str(round(rng.uniform(0.05, 0.3), 2)))).quantize(Decimal(1))
        q2 = q1 + (target * Decimal(str(round(rng.uniform(0.05, 0.3), 2)))).quantize(Decimal(1))
        q3 = q2 + (target * Decimal(str(round(rng.uniform(0.05, 0.4), 2)))).quantize(Decimal(1))
        rows.append({"strategy": str(strategy), "tactic": tactic, "project": project,
                     "project_name": _name(rng, "โครงการ"), "code": f"{project}-{n}",
                     "name": f"จำนวน{rng.choice(OBJECTS)}ที่ได้รับการพัฒนา", "target_group": rng.choice(OBJECTS),
                     "unit": "ราย", "target": target, "result_q1": q1, "result_q2": q2, "result_q3": q3,
                     "kpi": str(rng.randint(1, 6))})
    return {"outputs": rows}


BUILDERS = {"disbursement": _disbursement, "action_plan": _action_plan, "integrated_plan": _integrated_plan,
            "kpi": _kpi, "outputs": _outputs}
AMOUNT = {"disbursement": "allocated", "action_plan": "budget", "integrated_plan": "budget"}


def _inject(rng: random.Random, template: str, blocks: dict[str, list[Row]]) -> list[str]:
    """One to three mistakes a person makes in Excel; returns their kinds."""
    kinds: list[str] = []
    if template == "outputs":
        rows = blocks["outputs"]
        row = rng.choice(rows)
        row["code"] = next(r["code"] for r in rows if r is not row)  # an output row copied and not renumbered
        kinds.append("ref.duplicate_key")
        if rng.random() < 0.5:
            row["result_q3"] = row["result_q2"] - 1  # and Q3 typed below Q2
            kinds.append("outputs.decreasing")
        return kinds
    if template == "kpi":
        rows = blocks["kpis"]
        row = rng.choice(rows)
        if rng.random() < 0.5:
            row["achievement"] = Decimal("100.00")  # typed instead of the formula, and wrong
            if percent(row["result"], row["target"]) == Decimal("100.00"):
                row["achievement"] = Decimal("99.00")
            kinds.append("kpi.achievement")
        else:
            row["status"] = "บรรลุ" if row["result"] < row["target"] else "ยังไม่บรรลุ"
            kinds.append("kpi.status")
        return kinds
    block_id = {"disbursement": "lines", "action_plan": "plan", "integrated_plan": "approaches"}[template]
    block, column = blocks[block_id], AMOUNT[template]
    spec_block = get_spec(template).block(block_id)
    for _ in range(rng.randint(1, 3)):
        children = resolve_structure(spec_block, block).children
        kind = rng.choice(("rollup.sum", "rollup.sum", "identity.percent", "cell.negative", "ref.parent_missing",
                           "ref.duplicate_key"))
        parents = [i for i in range(len(block)) if children.get(i)]
        leaves = [i for i, r in enumerate(block) if not children.get(i) and r.get(column) is not None]
        if kind == "rollup.sum":
            i = rng.choice(parents)
            block[i][column] = _total(children, block, i, column) + Decimal(rng.choice([1000, 10000, 250000]))
        elif kind == "identity.percent" and template == "disbursement":
            row = block[rng.choice(leaves)]
            right = percent(row["disbursed"], row["allocated"]) or Decimal(0)
            row["pct_disbursed"] = excel_round(right + Decimal("1.5"), 2)
        elif kind == "cell.negative":
            row = block[rng.choice(leaves)]
            row[column] = -row[column]
        elif kind == "ref.parent_missing":
            block[rng.choice(leaves)]["parent"] = "X9"
        elif kind == "ref.duplicate_key":
            i = rng.choice(leaves)
            twin = next((j for j in leaves if j != i and block[j]["level"] == block[i]["level"]
                         and block[j].get("fiscal_year") == block[i].get("fiscal_year")), None)
            if twin is None:
                continue
            block[i]["code"] = block[twin]["code"]
        else:
            continue
        kinds.append(kind)
    return kinds


def submission(template: str, rng: random.Random, *, agency: str, error_rate: float = 0.0,
               small: bool = False) -> tuple[WorkbookData, list[str]]:
    """One agency's filled template and the kinds of mistakes injected into it."""
    blocks = BUILDERS[template](rng, small)
    kinds = _inject(rng, template, blocks) if rng.random() < error_rate else []
    data = WorkbookData.parse({"template": template, "meta": {**META, "agency": agency}, "blocks": blocks})
    return data, kinds


def generate(out_dir: Path, n: int, *, seed: int = 1, error_rate: float = 0.2,
             templates: Sequence[str] = TEMPLATES, small: bool = False) -> dict[Path, list[str]]:
    """Write ``n`` submissions into ``out_dir`` (templates in rotation); returns each file's injected mistakes."""
    rng = random.Random(seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    written: dict[Path, list[str]] = {}
    for i in range(n):
        template = templates[i % len(templates)]
        data, kinds = submission(template, rng, agency=AGENCIES[i % len(AGENCIES)], error_rate=error_rate,
                                 small=small)
        written[write_workbook(data, out_dir / f"sub{i:04d}_{template}.xlsx")] = kinds
    return written


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="ไฟล์ตัวอย่างสังเคราะห์ / synthetic submissions")
    parser.add_argument("out", type=Path, help="output folder")
    parser.add_argument("--n", type=int, default=500, help="number of workbooks (default 500)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--error-rate", type=float, default=0.2, help="share of workbooks with mistakes (0-1)")
    parser.add_argument("--templates", default=",".join(TEMPLATES), help="comma-separated template ids")
    args = parser.parse_args(argv)
    written = generate(args.out, args.n, seed=args.seed, error_rate=args.error_rate,
                       templates=args.templates.split(","))
    bad = sum(1 for kinds in written.values() if kinds)
    print(f"wrote {len(written)} workbooks to {args.out} ({bad} with injected mistakes)")


if __name__ == "__main__":
    main()


def bench_folder(n: int, seed: int, error_rate: float, folder: Path | None = None) -> Path:
    """The folder of ``n`` generated submissions the benchmarks share, generated (in a child process, so
    that the caller stays small for the pools it forks) when missing or incomplete."""
    import shutil
    import subprocess
    import sys
    import tempfile

    folder = folder or Path(tempfile.gettempdir()) / f"osmep-bench-{n}-s{seed}"
    if not folder.is_dir() or len(list(folder.glob("*.xlsx"))) != n:
        shutil.rmtree(folder, ignore_errors=True)
        print(f"generating {n} workbooks in {folder} ...", flush=True)
        subprocess.run([sys.executable, "-m", "bench.generate", str(folder), "--n", str(n), "--seed", str(seed),
                        "--error-rate", str(error_rate)], check=True)
    return folder
