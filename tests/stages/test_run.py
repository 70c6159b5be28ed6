"""`curate run`: the whole pipeline on a small project and on the bundled raw/ folder."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from curate.cli import main
from curate.stages.run import RunConfig, run

REPO = Path(__file__).resolve().parents[2]

RIDDLES = [
    {"question": "什么人一年只上一天班还不怕被解雇？", "answer": "圣诞老人"},
    {"question": "什麼人一年只上一天班還不怕被解雇？", "answer": "聖誕老人"},  # traditional copy
    {"question": "什么床不能睡？", "answer": "牙床"},
    {"question": "什么酒不能喝？", "answer": "碘酒"},
    {"question": "什么门永远关不上？", "answer": "足球门"},
    {"question": "画蛇添足", "answer": "多此一举"},
    {"question": "小葱拌豆腐", "answer": "一清二白"},
    {"question": "", "answer": "没有问题"},  # empty question: rejected by ingest
]
CSV = "问题,答案\n什么东西越洗越脏？,水\n什么布剪不断？,瀑布\n什么东西越洗越脏?,水\n"


@pytest.fixture
def small(project, write_raw) -> Path:
    write_raw("a.json", RIDDLES)
    write_raw("b.csv", CSV, encoding="gbk")
    return project


def _files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_run_chains_every_stage_and_conserves_records(small):
    result = run(RunConfig())
    assert [s.name for s in result.steps] == ["ingest", "dedupe", "export", "report"]
    ingest, dedupe, export = (s.counts for s in result.steps[:3])
    assert ingest == {"in": 11, "kept": 10, "rejected": 1}
    assert dedupe["in"] == ingest["kept"] and export["in"] == dedupe["kept"]
    assert dedupe["rejected"] >= 2  # the traditional copy and the CSV repeat
    assert result.before == 11 and result.after == export["kept"] == sum(result.splits.values())
    assert set(result.splits) == {"train", "validation"} and result.splits["validation"] >= 1
    out = small / "processed"
    for name in (
        "ingested.parquet",
        "deduped.parquet",
        "deduped.rejects.jsonl",
        "report.html",
        "export/jsonl/manifest.json",
        "export/jsonl/README.md",
    ):
        assert (out / name).is_file(), name
    lines = [
        json.loads(line)
        for p in sorted((out / "export" / "jsonl").glob("*.jsonl"))
        for line in p.read_text(encoding="utf-8").splitlines()
    ]
    assert len(lines) == result.after
    assert all(list(rec) == ["messages"] for rec in lines)
    assert all(s.seconds >= 0 for s in result.steps)


def test_run_is_byte_identical_on_rerun(small):
    run(RunConfig())
    first = _files(small / "processed")
    run(RunConfig())
    assert _files(small / "processed") == first


def test_cli_run_prints_steps_table_and_before_after(small):
    res = CliRunner().invoke(main, ["run"])
    assert res.exit_code == 0, res.output
    for text in (
        "[1/4] ingest",
        "[2/4] dedupe",
        "[3/4] export",
        "[4/4] report",
        "records per stage",
        "before → after: 11 records read →",
        "report.html",
    ):
        assert text in res.output, text


def test_cli_run_takes_settings_from_curate_toml_and_flags(small):
    Path("curate.toml").write_text(
        '[run]\nval-fraction = 0.3\n[ingest]\nconvert = "none"\n[export]\nseed = 5\n',
        encoding="utf-8",
    )
    res = CliRunner().invoke(main, ["run", "--seed", "9"])
    assert res.exit_code == 0, res.output
    ingested = json.loads(Path("processed/ingested.manifest.json").read_text(encoding="utf-8"))
    exported = json.loads(Path("processed/export/jsonl/manifest.json").read_text("utf-8"))
    assert ingested["params"]["convert"] == "none"  # [ingest] table
    assert exported["params"]["val_fraction"] == 0.3  # [run] table
    assert exported["params"]["seed"] == 9  # the flag beats [export] seed = 5


def test_cli_run_on_a_missing_folder_says_what_is_wrong(project):
    res = CliRunner().invoke(main, ["run", "nowhere"])
    assert res.exit_code == 1
    assert "Error: nowhere" in res.output


@pytest.mark.slow
def test_run_on_the_bundled_raw_folder(project):
    bundled = REPO / "raw"
    if not any(bundled.glob("*")):
        pytest.skip("the bundled raw/ folder is empty")
    shutil.rmtree(project / "raw")
    shutil.copytree(bundled, project / "raw")
    res = CliRunner().invoke(main, ["run"])
    assert res.exit_code == 0, res.output
    stats = json.loads(Path("processed/report.json").read_text(encoding="utf-8"))
    ingest, dedupe, export = stats["stages"]
    assert ingest["in"] >= 300 and ingest["rejected"] > 0 and dedupe["rejected"] > 0
    assert export["kept"] == sum(s["records"] for s in stats["splits"].values())
    assert len(stats["sources"]) >= 4
    assert {"exact", "variant"} <= set(stats["duplicates"]["kinds"])  # the Santa pair is a variant
    assert Path("processed/export/jsonl/README.md").read_text(encoding="utf-8").startswith("---")
