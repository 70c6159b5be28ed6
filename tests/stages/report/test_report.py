"""`curate report`: the HTML page, report.json, the dataset card, and a real browser rendering."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner
from exportdata import record

from curate import commit, io, stage
from curate.cli import main
from curate.record import COLUMNS, SCHEMA, reject
from curate.stages.report import ReportConfig, report, script_of
from curate.stages.report.browser import check_page, find_chromium

RIDDLES = [  # (source, question_raw, answer_raw)
    ("raw/a.json", "什麼人一年只上一天班還不怕被解雇？", "聖誕老人"),
    ("raw/a.json", "什么人一年中只工作一天却永远不会被炒鱿鱼？", "圣诞老人"),
    ("raw/a.json", "什么床不能睡？", "牙床"),
    ("raw/b.csv", "什么酒不能喝？", "碘酒"),
    ("raw/b.csv", "什么门永远关不上？", "足球门"),
    ("raw/b.csv", "什么门永远关不上?", "球门"),
    ("raw/c.txt", "小葱拌豆腐", "一清二白"),
    ("raw/c.txt", "画蛇添足", "多此一举"),
    ("raw/c.txt", "脱裤子放屁", "多此一举"),
    ("raw/c.txt", "什么人一年只上一天班还不怕被解雇?", "圣诞老人"),
]


def _side(row: dict) -> dict:
    return {k: row[k] for k in ("id", "source", "line", "question", "answer")}


def make_stages(processed: Path, export: bool = True) -> None:
    """Stage files as ingest, dedupe and export write them (the shared contracts)."""
    rows = [record(q, a, source=s, line=i + 1) for i, (s, q, a) in enumerate(RIDDLES)]
    ingested = pl.DataFrame(rows, schema=SCHEMA).select(COLUMNS)
    rejects = [
        reject(
            "ingest",
            "empty_answer",
            "the answer is empty",
            "raw/b.csv",
            40,
            '{"q": "空的", "a": ""}',
        ),
        reject(
            "ingest", "malformed_json", "Expecting value: line 1", "raw/a.json", 99, "{not json"
        ),
        reject("ingest", "mojibake", "3 replacement characters", "raw/c.txt", 7, "��"),
    ]
    inputs = [
        {"path": p, "sha256": "0" * 64, "format": f, "encoding": enc}
        for p, f, enc in (
            ("raw/a.json", "json", "utf-8"),
            ("raw/b.csv", "csv", "gbk"),
            ("raw/c.txt", "text", "utf-8"),
        )
    ]
    stage.write_stage(processed, "ingested", ingested, rejects, n_in=13, params={}, inputs=inputs)
    removed = {1: (0, "variant", 0.71), 9: (0, "exact", 1.0)}  # row index -> survivor index
    dups = [
        reject(
            "dedupe",
            "duplicate",
            f"{kind} of {rows[s]['id']}",
            rows[i]["source"],
            rows[i]["line"],
            json.dumps(rows[i], ensure_ascii=False),
            id=rows[i]["id"],
            duplicate_of=rows[s]["id"],
            kind=kind,
            score=score,
        )
        for i, (s, kind, score) in removed.items()
    ]
    deduped = ingested.filter(~pl.col("id").is_in([rows[i]["id"] for i in removed]))
    conflicts = [{"policy": "keep", "score": 1.0, "a": _side(rows[4]), "b": _side(rows[5])}]
    stage.write_stage(
        processed,
        "deduped",
        deduped,
        dups,
        n_in=10,
        params={"threshold": 0.5},
        inputs=[],
        also={"conflicts.jsonl": lambda path: io.write_jsonl(path, conflicts)},
    )
    if export:
        out = processed / "export" / "jsonl"
        manifest = {
            "counts": {"in": 8, "kept": 8, "rejected": 0},
            "reasons": {},
            "params": {"format": "jsonl", "val_fraction": 0.1, "seed": 0},
        }
        with commit.Commit(out / "manifest.json", "export") as c:
            for split, records in (("train", 7), ("validation", 1)):
                name = f"{split}-00000-of-00001.jsonl"
                c.path(out / name, split=split, records=records).write_text("")
            c.publish(manifest)


@pytest.fixture
def stages(project) -> Path:
    make_stages(project / "processed")
    return project / "processed"


def test_script_of_tells_traditional_from_simplified():
    assert script_of("聖誕老人") == "traditional"
    assert script_of("圣诞老人") == "simplified"
    assert script_of("Santa 123") == "other"


def test_report_shows_every_stage_source_and_plot(stages):
    result = report(ReportConfig(processed=stages))
    html = result.html.read_text(encoding="utf-8")
    assert result.html == stages / "report.html"
    assert [s["stage"] for s in result.stages] == ["ingest", "dedupe", "export"]
    assert result.stages[0] == {"stage": "ingest", "in": 13, "kept": 10, "rejected": 3}
    assert result.splits == {"train": 7, "validation": 1}
    for text in (
        "raw/a.json",
        "raw/b.csv",
        "gbk",
        "empty_answer",
        "mojibake",
        "variant",
        "什么门永远关不上",
        "足球门",
        "多此一举",
        "traditional",
        "validation",
    ):
        assert text in html, text
    assert len(re.findall(r'<svg class="plot"', html)) >= 6
    # self-contained: no scripts, no remote links, no external stylesheets or fonts
    assert (
        "<script" not in html
        and "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
        and "https://" not in html
    )
    stats = json.loads(result.json.read_text(encoding="utf-8"))
    a = next(s for s in stats["sources"] if s["source"] == "raw/a.json")
    assert (a["read"], a["rejected"], a["duplicates"], a["kept"]) == (4, 1, 1, 2)
    assert stats["script_mix"]["raw"]["traditional"] == 1
    assert stats["script_mix"]["final"]["traditional"] == 0
    assert stats["top_answers"][0] == ["多此一举", 2]


def test_report_writes_a_dataset_card_next_to_the_export(stages):
    result = report(ReportConfig(processed=stages))
    assert result.card == stages / "export" / "jsonl" / "README.md"
    card = result.card.read_text(encoding="utf-8")
    header = card.split("---\n")[1]
    assert "language:\n- zh" in header and "size_categories:\n- n<1K" in header
    assert "- split: validation\n    path: validation-*.jsonl" in header
    assert "| ingest | 13 | 10 | 3 |" in card


def test_a_new_export_removes_the_card_of_the_earlier_one_not_the_users_readme(stages):
    # The card (published with the data) kept the earlier split counts and flags after a
    # re-export with another --val-fraction, until `curate report` ran again.
    from curate.stages.export import ExportConfig, export

    card = report(ReportConfig(processed=stages)).card
    result = export(ExportConfig(processed=stages, val_fraction=0.5))
    assert not card.exists() and card in result.removed
    again = report(ReportConfig(processed=stages)).card.read_text(encoding="utf-8")
    n = result.manifest["splits"]["validation"]["records"]
    assert f"| validation | {n} |" in again and "val_fraction=0.5" in again
    own = stages / "mine"
    own.mkdir()
    (own / "README.md").write_text("# My riddles\n", encoding="utf-8")
    export(ExportConfig(processed=stages, out=own))
    export(ExportConfig(processed=stages, out=own, val_fraction=0.3))
    assert (own / "README.md").read_text(encoding="utf-8") == "# My riddles\n"


@pytest.mark.parametrize(
    ("fmt", "said"),
    [
        ("alpaca", "LLaMA-Factory alpaca records: `instruction` (the riddle)"),
        ("sharegpt", "LLaMA-Factory sharegpt records: `conversations` of one `human` turn"),
        ("parquet", "Parquet files with one `messages` column"),
    ],
)
def test_the_card_of_an_export_describes_its_format(stages, fmt, said):
    # Every card said "one JSON object per line with a single `messages` list".
    from curate.stages.export import ExportConfig, export

    out = export(ExportConfig(processed=stages, format=fmt)).out
    card = report(ReportConfig(processed=stages, export_dir=out)).card.read_text(encoding="utf-8")
    assert said in card and "single `messages` list" not in card


def test_the_card_names_no_local_path_and_is_the_same_from_another_folder(stages, tmp_path):
    from curate.stages.export import ExportConfig, export

    export(ExportConfig(processed=stages))  # its params hold the processed folder's path
    first = report(ReportConfig(processed=stages)).card.read_text(encoding="utf-8")
    assert f"processed={stages.as_posix()}" not in first and "`group_by=answer`" in first
    moved = tmp_path / "somewhere" / "else"
    shutil.copytree(stages, moved)
    assert report(ReportConfig(processed=moved)).card.read_text(encoding="utf-8") == first


def test_report_is_byte_identical_on_rerun(stages):
    first = report(ReportConfig(processed=stages))
    before = [p.read_bytes() for p in (first.html, first.json, first.card)]
    second = report(ReportConfig(processed=stages))
    assert [p.read_bytes() for p in (second.html, second.json, second.card)] == before


def test_report_before_export_leaves_splits_out(project):
    make_stages(project / "processed", export=False)
    result = report(ReportConfig(processed=project / "processed"))
    assert result.card is None and result.splits == {}
    assert [s["stage"] for s in result.stages] == ["ingest", "dedupe"]


def test_cli_report_prints_a_summary_table(stages):
    res = CliRunner().invoke(main, ["report", "--processed", str(stages)])
    assert res.exit_code == 0, res.output
    assert "ingest" in res.output and "dedupe" in res.output and "report.html" in res.output
    assert re.search(r"validation\D+1\b", res.output)


def test_cli_report_without_stages_says_what_to_run(project):
    res = CliRunner().invoke(main, ["report"])
    assert res.exit_code == 1
    assert "run `curate ingest" in res.output


@pytest.mark.skipif(find_chromium() is None, reason="chromium is not installed")
def test_report_renders_in_headless_chromium(stages, tmp_path):
    result = report(ReportConfig(processed=stages))
    shot = tmp_path / "report.png"
    page = check_page(result.html, screenshot=shot)
    assert page.errors == []
    assert page.requests == []  # opens offline: nothing fetched
    assert page.plots >= 6
    assert page.title.startswith("curate report")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000


@pytest.mark.skipif(find_chromium() is None, reason="chromium is not installed")
def test_cli_report_screenshot_writes_a_png(stages):
    res = CliRunner().invoke(main, ["report", "--processed", str(stages), "--screenshot", "r.png"])
    assert res.exit_code == 0, res.output
    assert "0 errors" in res.output and Path("r.png").read_bytes()[:4] == b"\x89PNG"


def test_a_stage_run_again_removes_the_report_of_the_earlier_run(write_raw):
    # After `curate report`, a dedupe or export run again left report.html showing the
    # earlier counts and splits (and `curate run --no-report` too), without a word.
    from exportdata import RIDDLES

    write_raw("a.json", [{"question": q, "answer": a} for q, a in RIDDLES])
    reports = [Path("processed") / n for n in stage.REPORTS]
    cli = CliRunner()
    for command in (["ingest"], ["dedupe"], ["export", "--val-fraction", "0.3"]):
        assert cli.invoke(main, ["report"]).exit_code in (0, 1)
        made = [p for p in reports if p.exists()]
        result = cli.invoke(main, command)
        assert result.exit_code == 0, result.output
        assert not any(p.exists() for p in reports), command
        said = "removed the earlier run's report (report.html, report.json)"
        assert (said in result.output) == (len(made) == 2), (command, result.output)
    assert cli.invoke(main, ["report"]).exit_code == 0
    assert all(p.exists() for p in reports)
    assert "| validation | " in (Path("processed/export/jsonl/README.md").read_text("utf-8"))
