"""The ``osmep-xl`` command line: templates, fill, demo, validate, recalc."""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from .cli_batch import batch_app, consolidate_cmd
from .cli_errors import ClickException, UsageError, check_out, out_or_in_place, usage_error_lines, user_errors
from .cli_report import report_cmd
from .model.load import DataError, load_data, required_columns
from .report import make_console
from .spec import TEMPLATES, get_spec
from .spec.base import Block
from .version import __version__
from .xlsx.generate import blank_data, write_workbook

app = typer.Typer(
    help="osmep_xl — เครื่องมือแม่แบบ Excel สำหรับรายงานผลการดำเนินงานและการเบิกจ่าย สสว.\n\n"
         "Fill, validate and recalculate OSMEP's standard Excel templates.",
    no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
templates_app = typer.Typer(help="แม่แบบมาตรฐาน / standard templates", no_args_is_help=True)
app.add_typer(templates_app, name="templates")
workbook_app = typer.Typer(help="สมุดงาน Excel พร้อมปุ่มและฟังก์ชัน / the ready Excel workbook with buttons and functions",
                           no_args_is_help=True)
app.add_typer(workbook_app, name="workbook")
app.add_typer(batch_app, name="batch")
app.command(name="consolidate")(consolidate_cmd)
app.command(name="report")(report_cmd)

def _parse_meta(items: list[str]) -> dict[str, str]:
    meta: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise DataError(f"--meta ต้องเป็น key=value / --meta takes key=value, got {item!r}")
        meta[key.strip()] = value.strip()
    return meta


@app.callback(invoke_without_command=True)
def _main(version: Annotated[bool, typer.Option("--version", help="แสดงรุ่น / show version")] = False) -> None:
    if version:
        typer.echo(f"osmep_xl {__version__}")
        raise typer.Exit()


@templates_app.command("list")
def templates_list() -> None:
    """แสดงแม่แบบทั้งหมด / list the standard templates."""
    for spec in TEMPLATES.values():
        sheets = ", ".join(b.sheet for b in spec.blocks)
        typer.echo(f"{spec.id:<16} v{spec.version}  {spec.title_th} / {spec.title_en}  [{sheets}]")


def describe_block(block: Block) -> list[str]:
    """A table's columns as fill data sees them: id, headers, type, required, formula or roll-up,
    and each list value with the other ways of writing it."""
    required = {c.id for c in required_columns(block)}
    width = max(len(c.id) for c in block.columns) + 2
    lines = [f"{block.sheet} ({block.id}): {block.title_th} / {block.title_en}"]
    for col in block.columns:
        tags = [col.type.value]
        if col.id in required:
            tags.append("ต้องมี/required")
        if col.formula is not None:
            tags.append(f"สูตร/formula ={col.formula.excel(lambda column: column)}")
        if col.rollup:
            tags.append("รวมจากระดับล่าง/roll-up")
        lines.append(f"  {col.id:<{width}}{col.th} / {col.en}  [{', '.join(tags)}]")
        for value, others in col.accepted().items():
            lines.append(" " * (width + 4) + value + (f" ← {', '.join(others)}" if others else ""))
    return lines


@templates_app.command("show")
@user_errors
def templates_show(template: Annotated[str, typer.Argument(help="รหัสแม่แบบ / template id")]) -> None:
    """คอลัมน์และค่าที่รับของแม่แบบ / a template's columns and the list values fill data may use."""
    spec = get_spec(template)
    typer.echo(f"{spec.id} v{spec.version}: {spec.title_th} / {spec.title_en}")
    typer.echo("ต้องมี/required: คอลัมน์ที่ไฟล์ข้อมูลต้องมี / columns fill data must have · ค่าในรายการ: ค่า ← คำอื่นที่รับ"
               " (ไม่สนตัวพิมพ์ เว้นวรรค และจุด) / list values: value ← other accepted spellings"
               " (case, spaces and dots ignored)")
    for block in spec.blocks:
        typer.echo("")
        for line in describe_block(block):
            typer.echo(line)


def build_templates(out_dir: Path) -> list[Path]:
    """Write every blank template (the report's row structure, no figures) to ``out_dir``."""
    return [write_workbook(blank_data(spec), out_dir / f"{spec.id}.xlsx") for spec in TEMPLATES.values()]


@templates_app.command("build")
@user_errors
def templates_build(
    out: Annotated[Path, typer.Option("--out", "-o", help="โฟลเดอร์ปลายทาง / output folder")] = Path("templates"),
) -> None:
    """สร้างไฟล์แม่แบบจากสเปก / generate the template files from their specs."""
    for path in build_templates(out):
        typer.echo(f"เขียนแล้ว / wrote {path}")


@workbook_app.command("build")
@user_errors
def workbook_build(
    out: Annotated[Path, typer.Option("--out", "-o", help="ไฟล์ .xlsm ปลายทาง / output .xlsm")] = Path(
        "workbook/osmep_xl.xlsm"),
    interpreter_win: Annotated[str, typer.Option(
        "--interpreter-win", help="python.exe สำหรับ Windows (ว่าง: ตามค่าตั้ง xlwings) / Windows interpreter")] = "",
    interpreter_mac: Annotated[str, typer.Option(
        "--interpreter-mac", help="python สำหรับ macOS (ว่าง: ตามค่าตั้ง xlwings) / macOS interpreter")] = "",
    pythonpath: Annotated[str, typer.Option("--pythonpath", help="PYTHONPATH เพิ่มเติม / extra PYTHONPATH")] = "",
    macros: Annotated[Path | None, typer.Option(
        "--macros", help="โฟลเดอร์มาโคร .bas (ค่าเริ่มต้น: macros/) / folder of the .bas macros")] = None,
) -> None:
    """สร้างสมุดงาน osmep_xl.xlsm: แม่แบบทั้งสี่ ปุ่ม มาโคร และฟังก์ชัน / build the ready workbook: the four
    templates, buttons, macros and worksheet functions (xlwings)."""
    from .excel.workbook import Interpreter, build_workbook

    path = build_workbook(out, interpreter=Interpreter(interpreter_win, interpreter_mac, pythonpath), macros=macros)
    typer.echo(f"เขียนแล้ว / wrote {path}")
    if path.name != "osmep_xl.xlsm":
        typer.echo("หมายเหตุ: ปุ่ม 'Run main' ของ xlwings ต้องการชื่อไฟล์ osmep_xl.xlsm / "
                   "note: xlwings' 'Run main' needs the file to be named osmep_xl.xlsm", err=True)


@app.command()
@user_errors
def new(
    template: Annotated[str, typer.Argument(help="รหัสแม่แบบ / template id (see `templates list`)")],
    out: Annotated[Path, typer.Argument(help="ไฟล์ .xlsx ที่จะสร้าง / .xlsx file to create")],
    force: Annotated[bool, typer.Option("--force", help="เขียนทับไฟล์เดิม / overwrite")] = False,
) -> None:
    """สร้างแม่แบบเปล่าพร้อมแถวมาตรฐาน (ยอดรวม ยุทธศาสตร์ กลยุทธ์ ...) / create a blank workbook of a template
    with the standard rows (totals, strategies, tactics...); a year's projects are yours to add."""
    spec = get_spec(template)
    check_out(out, force)
    write_workbook(blank_data(spec), out)
    typer.echo(f"เขียนแล้ว / wrote {out}")


@app.command()
@user_errors
def fill(
    template: Annotated[str, typer.Argument(help="รหัสแม่แบบ / template id")],
    data: Annotated[Path, typer.Argument(help="ไฟล์ข้อมูล .json หรือ .csv / data file (.json or .csv)")],
    out: Annotated[Path, typer.Argument(help="ไฟล์ .xlsx ที่จะสร้าง / .xlsx file to create")],
    meta: Annotated[list[str] | None, typer.Option(
        "--meta", help="ข้อมูลทั่วไป key=value เช่น as_of=2021-06-30 / meta field, repeatable")] = None,
    force: Annotated[bool, typer.Option("--force", help="เขียนทับไฟล์เดิม / overwrite")] = False,
) -> None:
    """เติมข้อมูลลงแม่แบบ / fill a template with data from JSON or CSV."""
    get_spec(template)
    check_out(out, force)
    from .rules.config import load_settings
    from .rules.variance import target_lookup

    filled = load_data(data, template, _parse_meta(meta or []))
    write_workbook(filled, out, target=target_lookup(load_settings()))
    rows = sum(len(r) for r in filled.blocks.values())
    typer.echo(f"เขียนแล้ว / wrote {out} ({rows} แถว/rows)")


@app.command()
@user_errors
def demo(
    out: Annotated[Path, typer.Option("--out", "-o", help="โฟลเดอร์ผลลัพธ์ / output folder")] = Path("demo_output"),
) -> None:
    """สาธิต: เติมแม่แบบทั้งสี่ด้วยตัวเลขจากรายงานไตรมาส 3 ปี 2564 / fill all four templates with
    the figures of OSMEP's FY2564 Q3 report."""
    from .demo import run_demo

    code = run_demo(out)
    raise typer.Exit(code)


@app.command(name="validate")
@user_errors
def validate_cmd(
    paths: Annotated[list[Path], typer.Argument(help="ไฟล์ .xlsx ที่จะตรวจ / workbooks to check")],
    as_json: Annotated[bool, typer.Option("--json", help="พิมพ์ผลเป็น JSON / print one JSON object")] = False,
    annotate: Annotated[Path | None, typer.Option(
        "--annotate", help="เขียนสำเนาที่มีชีตผลตรวจสอบ / write an annotated copy (one input only)")] = None,
    previous: Annotated[Path | None, typer.Option(
        "--previous", help="ไฟล์ไตรมาสก่อนเพื่อเปรียบเทียบ / previous quarter's workbook")] = None,
    config: Annotated[Path | None, typer.Option("--config", help="ไฟล์ตั้งค่า TOML / settings file")] = None,
    show_all: Annotated[bool, typer.Option("--all", help="แสดงรายการระดับ info ด้วย / show info findings")] = False,
    force: Annotated[bool, typer.Option("--force", help="เขียนทับไฟล์ --annotate เดิม / overwrite --annotate")] = False,
) -> None:
    """ตรวจสอบแม่แบบ: โครงสร้าง ชนิดข้อมูล ยอดรวม ร้อยละ และความคลาดเคลื่อน / validate workbooks.

    Exit 0: no error · 1: at least one error finding · 2: an input could not be used.
    """
    from .check import annotate_file, check_files, open_previous
    from .report import exit_code, print_results, to_json
    from .rules.config import load_settings

    settings = load_settings(config)
    if annotate is not None:  # before any work, so that a refusal is not buried under the findings
        _check_annotate(paths, annotate, force)
    prev = open_previous(previous) if previous is not None else None
    results = check_files(paths, settings, prev)
    if as_json:
        typer.echo(json.dumps(to_json(results), ensure_ascii=False, indent=2))
    else:
        print_results(results, make_console(), show_info=show_all)
    if annotate is not None and not any(r.unreadable for r in results):
        annotate_file(paths[0], [f for r in results for f in r.findings], annotate)
        typer.echo(f"เขียนสำเนาพร้อมผลตรวจสอบ / wrote annotated copy {annotate}", err=as_json)
    raise typer.Exit(exit_code(results))


def _check_annotate(paths: list[Path], annotate: Path, force: bool) -> None:
    """Where ``--annotate`` may write: one input, a file other than it (even with --force), an existing folder."""
    if len(paths) != 1:
        raise DataError("--annotate ใช้กับไฟล์เดียว / --annotate takes exactly one input file")
    if annotate.resolve() == paths[0].resolve():
        raise DataError(f"--annotate ต้องเป็นไฟล์ใหม่ ไม่ใช่ไฟล์ที่ตรวจ / --annotate must name a new file, not the "
                        f"input {paths[0]} (--force does not change that)")
    _check_folder(annotate, "--annotate")
    check_out(annotate, force, suffixes=(paths[0].suffix.lower(),))


def _check_folder(out: Path, option: str) -> None:
    folder = out.parent
    if not folder.is_dir():
        raise DataError(f"ไม่พบโฟลเดอร์ปลายทาง / the folder of {option} does not exist: {folder}")


@app.command(name="rules")
def rules_cmd(as_json: Annotated[bool, typer.Option("--json", help="JSON")] = False) -> None:
    """กฎการตรวจสอบทั้งหมด / every validation rule with its severity."""
    from .rules.catalog import RULES

    if as_json:
        typer.echo(json.dumps([{"id": r.id, "severity": r.severity.value, "th": r.th, "en": r.en}
                               for r in RULES.values()], ensure_ascii=False, indent=2))
        return
    table = Table("กฎ / rule", "ระดับ / severity", "ตรวจอะไร", "checks")
    for r in RULES.values():
        table.add_row(r.id, r.severity.value, r.th, r.en)
    make_console().print(table)


@app.command()
@user_errors
def recalc(
    path: Annotated[Path, typer.Argument(help="ไฟล์ .xlsx / workbook")],
    out: Annotated[Path | None, typer.Option("-o", "--out", help="ไฟล์ผลลัพธ์ / output workbook")] = None,
    in_place: Annotated[bool, typer.Option("--in-place", help="เขียนทับไฟล์เดิม (มีสำรอง) / overwrite the input")] = False,
    no_backup: Annotated[bool, typer.Option(
        "--no-backup", help="ไม่ต้องสำรองเมื่อเขียนทับ / no backup with --in-place")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="พิมพ์การเปลี่ยนแปลงเป็น JSON / JSON output")] = False,
    force: Annotated[bool, typer.Option("--force", help="เขียนทับไฟล์ -o เดิม / overwrite an existing -o file")] = False,
    validate: Annotated[bool, typer.Option(
        "--validate", help="ตรวจสอบไฟล์ต้นฉบับด้วย (อ่านครั้งเดียว) / validate the input too, from the same read")] = False,
    config: Annotated[Path | None, typer.Option("--config", help="ไฟล์ตั้งค่า / settings file (with --validate)")] = None,
) -> None:
    """คำนวณใหม่ทุกช่องที่เป็นสูตร / recompute every derived cell; changed figures are reported, and numbers
    still stored as text (left as typed) are warnings. With --validate the input's findings come first."""
    from .check import check_and_recalc, recalc_result
    from .report import print_results, to_json
    from .rules.config import load_settings
    from .xlsx.source import UnreadableWorkbookError

    out_or_in_place(out, in_place)
    target = path if in_place else out
    assert target is not None
    if not in_place:
        _check_folder(target, "-o")
        check_out(target, force, suffixes=(path.suffix.lower(),))
    found = []
    if validate:
        *found, last = check_and_recalc(path, target, load_settings(config), backup=not no_backup)
        if last.unreadable:
            raise UnreadableWorkbookError(last.unreadable)
    else:
        last = recalc_result(path, target, backup=not no_backup)
    result = replace(last, path=target)
    changed = sum(f.rule == "recalc.changed" for f in result.findings)
    if as_json:
        typer.echo(json.dumps(to_json([*found, result]), ensure_ascii=False, indent=2))
    else:
        print_results([*found, result], make_console(), show_info=True)
        typer.echo(f"เขียนแล้ว / wrote {target}: เปลี่ยน {changed} ค่า / {changed} stated values changed")


@app.command(name="next-period")
@user_errors
def next_period(
    path: Annotated[Path, typer.Argument(help="แม่แบบของงวดนี้ / this period's workbook")],
    out: Annotated[Path, typer.Option("-o", "--out", help="แม่แบบของงวดถัดไป / the next period's workbook")],
    as_of: Annotated[str | None, typer.Option(
        "--as-of", help="ข้อมูล ณ วันที่ของงวดใหม่ (ค่าเริ่มต้น: สิ้นไตรมาสถัดไป หรือสิ้นเดือนถัดไปสำหรับแม่แบบรายเดือน) /"
                        " the new as-of date (default: end of the next quarter, or month for a monthly template)")]
    = None,
    force: Annotated[bool, typer.Option("--force", help="เขียนทับไฟล์ -o เดิม / overwrite an existing -o file")] = False,
) -> None:
    """เริ่มแม่แบบของงวดถัดไปจากงวดนี้: โครงสร้าง แผน และผลสะสมคงไว้ ช่องที่เป็นของงวดนี้เท่านั้นว่าง
    วันที่ข้อมูลและไตรมาสเลื่อน ไม่ข้ามปีงบประมาณ / start the next month's or quarter's workbook from this one: structure, plans
    and cumulative actuals carried, this period's own entries blank, the as-of date and quarter moved; never
    across a fiscal year. Check it with `validate OUT --previous IN`."""
    from .cli_report import parse_period
    from .rollforward import roll_forward

    if not path.exists():
        raise FileNotFoundError(f"ไม่พบไฟล์ / file not found: {path}")
    _check_folder(out, "-o")
    kind = path.suffix.lower()  # the same kind of file: a workbook with macros stays one
    check_out(out, force, suffixes=(kind,) if kind in (".xlsx", ".xlsm") else (".xlsx", ".xlsm"))
    rolled = roll_forward(path, out, parse_period(as_of, "--as-of") if as_of is not None else None)
    typer.echo(f"เขียนแล้ว / wrote {out}: {', '.join(rolled.templates)} ข้อมูล ณ / as of"
               f" {rolled.as_of_before.isoformat()} → {rolled.as_of.isoformat()} (ไตรมาส/quarter {rolled.quarter});"
               f" ล้างช่องของงวดเดิม {len(rolled.blanked)} ช่อง / {len(rolled.blanked)} period entries blanked")
    if rolled.refreshed:
        typer.echo(f"  สูตรที่ขึ้นกับวันที่ข้อมูลคำนวณใหม่ {len(rolled.refreshed)} ช่อง / {len(rolled.refreshed)} formula"
                   " value(s) that follow the as-of date recalculated")
    for where in rolled.kept:
        typer.echo(f"  ตรวจชื่อรายงานที่ {where} ซึ่งคงไว้ตามที่พิมพ์ / check the report title at {where}, kept as typed")
    if rolled.retargeted:
        typer.echo(f"  เป้าหมายข้างแผนภูมิ {len(rolled.retargeted)} แผนภูมิเป็นของไตรมาสใหม่ / the target beside"
                   f" {len(rolled.retargeted)} chart(s) is the new quarter's")
    typer.echo(f"  ตรวจ / check: osmep-xl validate {out} --previous {path}")


def main(argv: list[str] | None = None) -> None:
    """Console entry point: every mistake, command-line ones too, ends in Thai and English and exit 2."""
    try:
        code = app(args=argv, prog_name="osmep-xl", standalone_mode=False)
    except KeyboardInterrupt:
        typer.echo("ยกเลิก / interrupted", err=True)
        sys.exit(130)
    except typer.Abort:
        typer.echo("ยกเลิก / aborted", err=True)
        sys.exit(1)
    except UsageError as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":  # the help is the answer (typer may have printed it)
            if help_text := exc.format_message().strip():  # type: ignore[attr-defined]
                typer.echo(help_text, err=True)
        else:
            for line in usage_error_lines(exc):
                typer.echo(line, err=True)
        sys.exit(2)
    except ClickException as exc:
        exc.show()  # type: ignore[attr-defined]
        sys.exit(getattr(exc, "exit_code", 1))
    sys.exit(code if isinstance(code, int) else 0)
