"""The stage contract: every stage returns a StageResult and lists every file it wrote in its
manifest; readers refuse a stage whose files changed or are missing."""

from __future__ import annotations

import os
import shutil

import polars as pl
import pytest
from stagedata import NEW, run_stage, write_riddles

from curate import stage
from curate.errors import CurateError, StageError
from curate.stages.dedupe import DedupeConfig, dedupe
from curate.stages.export import ExportConfig, export
from curate.stages.ingest import IngestConfig, ingest


def test_a_changed_missing_or_resized_file_is_refused(project):
    write_riddles(project, NEW)
    run_stage("ingest", project)
    run_stage("dedupe", project)
    processed = project / "processed"
    stage.read_stage(processed, "deduped")
    parquet = processed / "deduped.parquet"
    data = bytearray(parquet.read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size, other bytes
    parquet.write_bytes(bytes(data))
    with pytest.raises(StageError, match="deduped.parquet's sha256 differs"):
        stage.read_stage(processed, "deduped")
    with pytest.raises(StageError, match=r"deduped\.\* is incomplete or from two runs"):
        export(ExportConfig(processed=processed))
    run_stage("dedupe", project)
    with open(processed / "deduped.clusters.md", "a", encoding="utf-8") as f:
        f.write("a note\n")  # the review files are part of the stage too
    with pytest.raises(StageError, match="deduped.clusters.md has .* bytes, its manifest says"):
        stage.read_manifest(processed, "deduped")
    run_stage("dedupe", project)
    (processed / "deduped.rejects.jsonl").unlink()
    with pytest.raises(StageError, match="deduped.rejects.jsonl is missing"):
        stage.read_manifest(processed, "deduped")


def test_a_stage_that_never_ran_says_which_command_to_run(project):
    with pytest.raises(CurateError, match="ingested.parquet not found; run `curate ingest"):
        dedupe(DedupeConfig(processed=project / "processed"))


def test_every_stage_result_has_counts_reasons_timings_and_paths(project):
    write_riddles(project, NEW)
    results = {"ingest": ingest(IngestConfig()), "dedupe": dedupe(DedupeConfig())}
    results["export"] = export(ExportConfig())
    for name, result in results.items():
        assert isinstance(result, stage.StageResult), name
        c = result.counts
        assert c["in"] == c["kept"] + c["rejected"] and result.manifest["counts"] == c
        assert result.reasons == result.manifest["reasons"]
        assert "write" in result.timings and result.seconds >= 0
        assert result.paths[-1].name.endswith("manifest.json")
        folder = result.paths[-1].parent
        listed = [os.path.normpath(folder / f["path"]) for f in result.manifest["files"]]
        assert listed == [os.path.normpath(p) for p in result.paths[:-1]]
        assert all(p.is_file() for p in result.paths)
        assert result.manifest["engine"] == "local" and all(
            {"sha256", "bytes"} <= set(f) for f in result.manifest["files"]
        )
    assert results["dedupe"].removed["exact"] == 2  # three copies of one riddle
    assert pl.read_parquet("processed/deduped.parquet").height == results["dedupe"].kept


def test_cli_names_the_incomplete_stage_and_the_command_to_rerun(project):
    from click.testing import CliRunner

    from curate.cli import main

    write_riddles(project, NEW)
    run_stage("ingest", project)
    (project / "processed" / "ingested.manifest.json").unlink()  # as a kill mid-commit leaves it
    result = CliRunner().invoke(main, ["dedupe"])
    assert result.exit_code == 1
    assert "processed/ingested.* is incomplete or from two runs" in result.output
    assert "rerun `curate ingest --processed processed`" in result.output
    assert not (project / "processed" / "deduped.parquet").exists()


@pytest.mark.parametrize(("group", "rows"), [(7, 10), (7, 7), (25, 10), (3, 100)])
def test_stage_batches_are_the_file_in_order_whole_row_groups(tmp_path, group, rows):
    """Batches of whole row groups (a larger group split): in order, every row once, none
    over `rows` rows."""
    df = pl.DataFrame({"id": [f"r{i}" for i in range(60)], "n": range(60)})
    df.write_parquet(tmp_path / "ingested.parquet", row_group_size=group)
    batches = list(stage.stage_batches(tmp_path, "ingested", ["n", "id"], rows=rows))
    assert pl.concat(batches).equals(df.select("n", "id"))
    assert all(0 < b.height <= rows for b in batches)
    starts = [b["n"][0] for b in batches]
    if group <= rows:  # whole groups, as many as fit
        assert all(s % group == 0 for s in starts)
        assert len(batches) == -(-60 // (rows // group * group))
    else:
        assert starts[:3] == [0, rows, 2 * rows]


def test_a_stage_made_from_an_earlier_upstream_is_refused_until_it_is_rerun(project, tmp_path):
    """Ingest again (other flags) but forget dedupe: export and report used to take the old
    deduped rows and print `ingest 15 -> 10 kept` above `dedupe 15 in`, without a word."""
    from click.testing import CliRunner

    from curate.cli import main

    def cli(*args: str):
        return CliRunner().invoke(main, list(args))

    write_riddles(project, NEW)
    assert cli("run", "--no-report").exit_code == 0
    assert cli("ingest", "--max-question-chars", "10").exit_code == 0
    for command in ("export", "report"):
        result = cli(command)
        assert result.exit_code == 1, result.output
        assert "processed/deduped.* was made from an earlier ingested.parquet" in result.output
        assert "rerun `curate dedupe --processed processed`" in result.output
    assert cli("dedupe").exit_code == 0
    result = cli("report")  # the export still holds the old deduped rows
    assert result.exit_code == 1
    assert "processed/export/jsonl/ was made from an earlier deduped.parquet" in result.output
    assert "rerun `curate export --processed processed`" in result.output
    assert cli("export").exit_code == 0
    assert cli("report").exit_code == 0
    ingested, deduped = (
        stage.read_manifest("processed", s)["counts"] for s in ("ingested", "deduped")
    )
    assert deduped["in"] == ingested["kept"] < len(NEW)
    moved = tmp_path / "elsewhere"  # a moved processed folder is checked by name, and fresh
    shutil.copytree(project / "processed", moved)
    assert cli("report", "--processed", str(moved)).exit_code == 0


def test_stage_bytes_do_not_depend_on_how_the_kept_rows_arrived(tmp_path):
    """The same rows as one frame, as frames of other sizes (a small file read before a large
    one) or as part files (a Ray task's): the same parquet bytes. Polars otherwise cuts row
    groups where the frames met, and `--engine ray` wrote other bytes than the local one."""
    df = pl.DataFrame({"id": [f"r{i}" for i in range(3000)], "n": range(3000)})
    small_first = pl.concat([df.slice(0, 10), df.slice(10)], rechunk=False)
    for i, (start, n) in enumerate([(0, 1500), (1500, 1500)]):
        df.slice(start, n).write_parquet(tmp_path / f"part{i}.parquet")
    parts = pl.scan_parquet([tmp_path / "part0.parquet", tmp_path / "part1.parquet"])
    written = []
    for n, kept in enumerate([df, small_first, parts]):
        out = tmp_path / f"out{n}"
        stage.write_stage(out, "s", kept, [], n_in=3000, params={}, inputs=[])
        written.append((out / "s.parquet").read_bytes())
    assert written[1] == written[0] and written[2] == written[0]
