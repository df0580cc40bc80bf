"""The command line as a user meets it: help, the demo, fill, and one clear line per mistake."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from osmep_xl.data import load_report
from osmep_xl.xlsx.read import read_workbook

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "osmep_xl", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=300)


def test_help_is_bilingual() -> None:
    out = run("--help").stdout
    for command in ("templates", "new", "fill", "demo", "validate", "recalc", "rules", "next-period"):
        assert command in out
    assert "Fill, validate" in out and "เครื่องมือ" in out


def test_demo_writes_every_report_workbook_and_validates_them_together(tmp_path: Path) -> None:
    from osmep_xl.check import check_files
    from osmep_xl.data import has_report
    from osmep_xl.report import summary
    from osmep_xl.rules.config import load_settings
    from osmep_xl.spec import TEMPLATES

    result = run("demo", "--out", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    files = sorted(p.name for p in (tmp_path / "out").glob("*.xlsx"))
    assert files == sorted(f"{t}.xlsx" for t in TEMPLATES if has_report(t))
    assert {"outputs.xlsx", "spending_plan.xlsx"} <= set(files)
    # As `validate` of all of them at once: the checks across templates count too.
    results = check_files(sorted((tmp_path / "out").glob("*.xlsx")), load_settings())
    s = summary(results)
    assert s["by_rule"].get("kpi.outputs_sum") == 2  # KPI 3 and KPI 5 against their linked outputs
    # The action plan's 450 M project against its 225 M phase in the spending plan.
    assert any(f.rule == "cross.plan_budget" for r in results for f in r.findings)
    assert f"errors {s['errors']} · warnings {s['warnings']} · info {s['info']}" in " ".join(result.stdout.split())
    assert s["errors"] > 0  # the report's own inconsistencies are found


def test_fill_json_and_csv(tmp_path: Path) -> None:
    data = load_report("disbursement")
    src = tmp_path / "d.json"
    src.write_text(json.dumps({"template": "disbursement", "meta": {"as_of": "2021-06-30"},
                               "blocks": {"lines": [
                                   {k: (str(v) if v is not None else None) for k, v in r.items()}
                                   for r in data.blocks["lines"]]}}, ensure_ascii=False), "utf-8")
    out = tmp_path / "d.xlsx"
    assert run("fill", "disbursement", str(src), str(out), "--meta", "agency=สสว.").returncode == 0
    back = read_workbook(out)
    assert back.meta["agency"] == "สสว." and len(back.blocks["lines"].rows) == len(data.blocks["lines"])
    csv = tmp_path / "k.csv"
    csv.write_text("block,รหัส,Name,ทิศทาง,target_text,ผล (ตามที่รายงาน)\n"
                   "strategies,1,ยุทธศาสตร์ 1,,,\n"
                   "kpis,1,ตัวชี้วัด,,\"ไม่น้อยกว่า 1,000 ราย\",800 ราย\n", "utf-8")
    out2 = tmp_path / "k.xlsx"
    result = run("fill", "kpi", str(csv), str(out2), "--meta", "as_of=2021-06-30")
    assert result.returncode == 0, result.stderr
    kpi = read_workbook(out2).blocks["kpis"].rows[0]
    assert (kpi["target"], kpi["result"], kpi["direction"], kpi["unit"]) == (1000, 800, ">=", "ราย")


@pytest.mark.parametrize(("args", "needle"), [
    (("fill", "nosuch", "x.json", "o.xlsx"), "unknown template"),
    (("fill", "kpi", "missing.json", "o.xlsx"), "not found"),
    (("new", "kpi", "o.txt"), ".xlsx"),
    (("validate", "missing.xlsx"), "not found"),
    (("recalc", "missing.xlsx"), "-o OUT"),
    (("fill", "kpi", "bad.json", "o.xlsx"), "invalid JSON"),
    (("fill", "kpi", "wrong.json", "o.xlsx"), "kpis"),
    (("fill", "disbursement", "bool.json", "o.xlsx"), "not a number"),
    (("fill", "kpi", "meta_list.json", "o.xlsx"), "meta"),
    (("fill", "kpi", "year_list.json", "o.xlsx"), "fiscal_year"),
    (("validate", "v[x].xlsx"), "v[x].xlsx"),
    (("fill", "kpi", "thai_date.json", "o[1].xlsx", "--meta", "as_of=31 มิ.ย.64"), "as_of"),
])
def test_user_mistakes_give_one_clear_line(args: tuple[str, ...], needle: str, tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text("{not json", "utf-8")
    (tmp_path / "wrong.json").write_text('{"blocks": {"kpis": [{"code": "1", "target": "many"}]}}', "utf-8")
    (tmp_path / "bool.json").write_text('{"blocks": {"lines": [{"code": "1", "allocated": true}]}}', "utf-8")
    (tmp_path / "meta_list.json").write_text('{"meta": ["x"], "blocks": {}}', "utf-8")
    (tmp_path / "year_list.json").write_text('{"meta": {"fiscal_year": [2564]}, "blocks": {}}', "utf-8")
    (tmp_path / "thai_date.json").write_text('{"blocks": {}}', "utf-8")
    result = run(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr + result.stdout
    text = result.stderr + result.stdout
    assert needle in text, text


def test_existing_output_is_not_overwritten(tmp_path: Path) -> None:
    out = tmp_path / "o.xlsx"
    out.write_bytes(b"precious")
    result = run("new", "kpi", str(out))
    assert result.returncode == 2 and out.read_bytes() == b"precious"
    assert run("new", "kpi", str(out), "--force").returncode == 0


def test_outputs_are_not_overwritten_without_force(tmp_path: Path) -> None:
    demo = tmp_path / "d.xlsx"
    assert run("new", "disbursement", str(demo)).returncode == 0
    for args in (("validate", str(demo), "--annotate", "{out}"), ("recalc", str(demo), "-o", "{out}")):
        out = tmp_path / "precious.xlsx"
        out.write_bytes(b"precious")
        argv = [a.replace("{out}", str(out)) for a in args]
        result = run(*argv)
        assert result.returncode == 2 and "--force" in result.stderr and out.read_bytes() == b"precious"
        assert run(*argv, "--force").returncode in (0, 1) and out.read_bytes() != b"precious"


def test_fill_accepts_a_thai_as_of_date(tmp_path: Path) -> None:
    (tmp_path / "d.json").write_text('{"blocks": {}}', "utf-8")
    out = tmp_path / "o.xlsx"
    assert run("fill", "kpi", str(tmp_path / "d.json"), str(out), "--meta", "as_of=30 มิ.ย.64").returncode == 0
    assert str(read_workbook(out).meta["as_of"]) == "2021-06-30"


def test_templates_list() -> None:
    out = run("templates", "list").stdout
    assert all(t in out for t in ("action_plan", "disbursement", "kpi", "integrated_plan"))
