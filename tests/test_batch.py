"""`osmep-xl batch`: a folder of real workbooks (some wrong, one truncated, one not a workbook, Excel's
lock file and our own backup beside them) validated and recalculated in a process pool and on Dask,
each file's results equal to validating it alone."""

from __future__ import annotations

import hashlib
import json
import os
import pty
import re
import select
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench.generate import generate
from osmep_xl.batch import Executor, Task, collect, process_file, run_batch
from osmep_xl.check import check_file
from osmep_xl.model.workbook import WorkbookData
from osmep_xl.report import FileResult, exit_code, to_json
from osmep_xl.rules.config import Settings, load_settings
from osmep_xl.xlsx.generate import write_workbook
from osmep_xl.xlsx.read import read_workbook
from tests.cells import address

SETTINGS = load_settings()


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "osmep_xl", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=300, env={**os.environ, "COLUMNS": "200"})


def wrong_total() -> WorkbookData:
    """A disbursement whose total allocation is typed (9,999.00) where the formula gives 1,500.00."""
    base = {"fiscal_year": 2564, "budget_source": "เงินกองทุน"}
    rows = [{**base, "level": "total", "code": "T", "name": "รวม", "allocated": "9999"},
            {**base, "level": "project", "code": "1", "parent": "T", "name": "โครงการ ก", "allocated": "1000",
             "disbursed": "800", "committed": "100"},
            {**base, "level": "project", "code": "2", "parent": "T", "name": "โครงการ ข", "allocated": "500",
             "disbursed": "450", "committed": "0"}]
    return WorkbookData.parse({"template": "disbursement", "blocks": {"lines": rows},
                               "meta": {"agency": "หน่วยงานทดสอบ", "fiscal_year": 2564, "quarter": 3,
                                        "as_of": "2021-06-30"}})


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Eight small generated submissions (half with mistakes) and the files a real shared folder holds."""
    folder = tmp_path_factory.mktemp("submissions")
    injected = generate(folder, 8, seed=11, error_rate=0.5, small=True)
    write_workbook(wrong_total(), folder / "wrong_total.xlsx")
    good = folder / "sub0000_disbursement.xlsx"
    data = good.read_bytes()
    (folder / "truncated.xlsx").write_bytes(data[: len(data) // 2])
    (folder / "notes.xlsx").write_text("ไม่ใช่ไฟล์ Excel / not a workbook", "utf-8")
    (folder / "readme.txt").write_text("not an input", "utf-8")
    (folder / "~$sub0000_disbursement.xlsx").write_bytes(b"\x0bowner" + bytes(160))  # Excel's lock file
    shutil.copy(good, folder / "sub0000_disbursement.20240101-120000.bak.xlsx")
    return {"folder": folder, "injected": {p.name: kinds for p, kinds in injected.items()}}


def digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


def test_collect_skips_lock_files_backups_and_non_workbooks(corpus: dict[str, Any]) -> None:
    folder: Path = corpus["folder"]
    found = collect([folder, str(folder / "sub*.xlsx"), folder / "wrong_total.xlsx", str(folder / "nomatch*.xlsx")])
    names = [p.name for p in found.paths]
    assert names == sorted(names) and len(names) == len(set(names)) == 11
    assert {"truncated.xlsx", "notes.xlsx", "wrong_total.xlsx"} <= set(names)
    assert not any(n.startswith("~$") or ".bak." in n or n.endswith(".txt") for n in names)
    assert {p.name for p in found.skipped} == {"~$sub0000_disbursement.xlsx",
                                               "sub0000_disbursement.20240101-120000.bak.xlsx"}
    assert [r.unreadable is not None and "nomatch" in r.unreadable for r in found.unmatched] == [True]


def test_pool_and_in_process_equal_check_file_one_by_one(corpus: dict[str, Any]) -> None:
    paths = collect([corpus["folder"]]).paths
    one_by_one = [r for p in paths for r in check_file(p, SETTINGS)]
    task = Task("validate", SETTINGS)
    assert run_batch(paths, task, jobs=1) == one_by_one
    assert run_batch(paths, task, jobs=2, chunksize=2) == one_by_one
    by_name = {r.path.name: r for r in one_by_one}
    assert by_name["truncated.xlsx"].unreadable and by_name["notes.xlsx"].unreadable
    for name, kinds in corpus["injected"].items():
        if kinds:  # every injected mistake is found
            assert by_name[name].errors, name
    assert "rollup.sum" in {f.rule for f in by_name["wrong_total.xlsx"].findings}


def test_a_failing_file_never_stops_the_run(tmp_path: Path) -> None:
    folder = tmp_path / "x"
    write_workbook(wrong_total(), folder / "a.xlsx")
    bad = Task("validate", Settings.model_construct())  # settings without fields: validation itself raises
    [result] = process_file(folder / "a.xlsx", bad)
    assert result.unreadable is not None and "unexpected error" in result.unreadable


def test_cli_validate_json_summary_and_exit_codes(corpus: dict[str, Any], tmp_path: Path) -> None:
    folder: Path = corpus["folder"]
    before = digests(folder)
    out = tmp_path / "report.json"
    result = run("batch", "validate", str(folder), "--json", str(out), "--jobs", "2")
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert "สรุป / summary" in result.stdout and "unreadable 2" in result.stdout and "rollup.sum" in result.stdout
    assert "ETA" not in result.stdout + result.stderr  # no progress bar when not on a terminal
    report = json.loads(out.read_text("utf-8"))
    paths = collect([folder]).paths
    expected = to_json([r for p in paths for r in check_file(p, SETTINGS)])
    assert report == json.loads(json.dumps(expected, ensure_ascii=False))
    assert set(report) == {"files", "summary"} and len(report["files"]) == 11
    assert report["summary"]["unreadable"] == 2 and report["summary"]["files"] == 11
    assert {f["path"].rsplit("/", 1)[-1] for f in report["files"] if "unreadable" in f} == {"truncated.xlsx",
                                                                                          "notes.xlsx"}
    assert digests(folder) == before
    readable = [p for p in paths if p.name.startswith("sub") or p.name == "wrong_total.xlsx"]
    assert run("batch", "validate", *map(str, readable), "-q").returncode == 1
    clean = [p for p in readable if not check_file(p, SETTINGS)[0].errors]
    assert clean and run("batch", "validate", *map(str, clean), "--jobs", "1").returncode == 0


def test_cli_recalc_writes_to_out_and_never_touches_inputs(corpus: dict[str, Any], tmp_path: Path) -> None:
    folder: Path = corpus["folder"]
    before = digests(folder)
    out = tmp_path / "fixed"
    report = tmp_path / "recalc.json"
    result = run("batch", "recalc", str(folder), "--out", str(out), "--json", str(report), "-j", "2")
    assert result.returncode == 2, result.stderr  # the truncated and the fake workbook
    assert digests(folder) == before
    written = sorted(p.name for p in out.iterdir())
    assert written == sorted(p.name for p in collect([folder]).paths if p.name not in ("truncated.xlsx",
                                                                                       "notes.xlsx"))
    fixed = read_workbook(out / "wrong_total.xlsx").blocks["lines"]
    assert (0, "allocated") in fixed.formula_cells and fixed.rows[0]["allocated"] == 1500
    assert not check_file(out / "wrong_total.xlsx", SETTINGS)[0].errors
    changes = {f["path"].rsplit("/", 1)[-1]: f["findings"] for f in json.loads(report.read_text("utf-8"))["files"]}
    [change] = [c for c in changes["wrong_total.xlsx"] if c["cell"] == address(fixed, "allocated", "T")]
    assert (change["rule"], change["expected"], change["actual"]) == ("recalc.changed", 1500, 9999)
    for path in out.iterdir():  # every recalculated workbook has no stale or overwritten derived cell left
        rules = {f.rule for f in check_file(path, SETTINGS)[0].findings}
        assert not rules & {"rollup.sum", "identity.percent", "formula.overwritten", "formula.stale"}, path
    again = run("batch", "recalc", str(folder), "--out", str(out))
    assert again.returncode == 2 and "--force" in again.stderr and "Traceback" not in again.stderr
    same = run("batch", "recalc", str(folder), "--out", str(folder))
    assert same.returncode == 2 and "overwrite the input" in same.stderr
    assert digests(folder) == before


def test_recalc_in_place_keeps_a_backup_that_later_runs_skip(tmp_path: Path) -> None:
    path = write_workbook(wrong_total(), tmp_path / "book.xlsx")
    task = Task("recalc", SETTINGS, in_place=True)
    [result] = run_batch([path], task, jobs=1)
    assert [f.rule for f in result.findings] == ["recalc.changed"] and result.template == "disbursement"
    [backup] = [p for p in tmp_path.iterdir() if ".bak." in p.name]
    assert read_workbook(backup).blocks["lines"].rows[0]["allocated"] == 9999
    assert read_workbook(path).blocks["lines"].rows[0]["allocated"] == 1500
    assert collect([tmp_path]).paths == [path]


@pytest.mark.parametrize(("args", "needle"), [
    (("batch", "recalc", "."), "--out DIR"),
    (("batch", "validate", "nosuch/*.xlsx"), "no workbook matches"),
    (("batch", "validate", ".", "--config", "missing.toml"), "config file not found"),
])
def test_user_mistakes_give_one_clear_line(args: tuple[str, ...], needle: str, tmp_path: Path) -> None:
    result = run(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stdout + result.stderr
    assert needle in result.stdout + result.stderr


def test_missing_dask_is_one_line(corpus: dict[str, Any]) -> None:
    code = ("import sys; sys.modules['distributed'] = None; from osmep_xl.cli import main; "
            f"sys.argv = ['osmep-xl', 'batch', 'validate', {str(corpus['folder'])!r}, '--executor', 'dask']; main()")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "pip install 'osmep-xl[dask]'" in result.stderr


def test_progress_bar_on_a_terminal(corpus: dict[str, Any]) -> None:
    """On a terminal the run shows a bar with the count and the time left; the summary follows."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "osmep_xl", "batch", "validate", str(corpus["folder"]), "-j", "2"],
                            stdout=follower, stderr=follower, env={**os.environ, "COLUMNS": "160"})
    os.close(follower)
    chunks = []
    while select.select([leader], [], [], 60)[0]:  # never hang the suite: give up after a minute of silence
        try:
            data = os.read(leader, 65536)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(leader)
    assert proc.wait(timeout=60) == 2
    screen = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", b"".join(chunks).decode("utf-8", "replace"))
    assert "11/11" in screen and "ETA" in screen and "สรุป / summary" in screen


def test_dask_cluster_gives_the_same_results_as_the_pool(corpus: dict[str, Any], tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    paths = collect([corpus["folder"]]).paths
    validate, recalc = Task("validate", SETTINGS), Task("recalc", SETTINGS, out_dir=tmp_path / "dask")
    pool = run_batch(paths, validate, jobs=2)
    (tmp_path / "dask").mkdir()
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster:
        done: list[int] = []
        on_dask = run_batch(paths, validate, executor=Executor.DASK, scheduler=cluster.scheduler_address,
                            chunksize=3, progress=done.append)
        recalculated = run_batch(paths, recalc, executor=Executor.DASK, scheduler=cluster.scheduler_address)
    assert on_dask == pool and sum(done) == len(paths)
    assert exit_code(on_dask) == 2
    assert [r.path for r in recalculated] == paths
    assert sorted(p.name for p in (tmp_path / "dask").iterdir()) == sorted(
        r.path.name for r in recalculated if not r.unreadable)
    assert all(isinstance(r, FileResult) for r in recalculated)
