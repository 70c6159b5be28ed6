"""curate dedupe on hostile inputs: overrides that are missing or stale, and what a reject keeps."""

from __future__ import annotations

import json

from click.testing import CliRunner

from curate import io
from curate.cli import main
from curate.stages.dedupe import DedupeConfig, dedupe
from curate.stages.ingest import IngestConfig, ingest


def test_named_overrides_file_that_does_not_exist_is_an_error(project, write_raw):
    write_raw("a.jsonl", '{"q": "什么东西越洗越脏？", "a": "水"}\n')
    ingest(IngestConfig())
    result = CliRunner().invoke(main, ["dedupe", "--overrides", "missing.jsonl"])
    assert result.exit_code == 1
    assert "Error:" in result.output and "missing.jsonl" in result.output


def test_overrides_that_match_nothing_warn(project, write_raw):
    write_raw("a.jsonl", '{"q": "什么东西越洗越脏？", "a": "水"}\n')
    ingest(IngestConfig())
    stale = project / "stale.jsonl"
    stale.write_text(
        json.dumps({"a": "0123456789abcdef", "b": "什么东西越洗越脏？", "decision": "distinct"})
        + "\n",
        encoding="utf-8",
    )
    result = dedupe(DedupeConfig(overrides=stale))
    assert any("0123456789abcdef" in w and "matches no record" in w for w in result.warnings)
    assert not any("越洗越脏" in w for w in result.warnings)  # that one names a record
    cli = CliRunner().invoke(main, ["dedupe", "--overrides", str(stale)])
    assert cli.exit_code == 0 and "matches no record" in cli.output


def test_duplicate_rejects_keep_the_original_text(project, write_raw):
    write_raw(
        "a.jsonl",
        '{"q": "咸鱼下水？", "a": "假鲜"}\n{"q": "鹹魚下水？", "a": "假鮮"}\n',
    )
    ingest(IngestConfig())
    dedupe(DedupeConfig())
    (row,) = io.read_jsonl(project / "processed" / "deduped.rejects.jsonl")
    assert row["raw"] == {"question": "鹹魚下水？", "answer": "假鮮"}


def test_kept_rows_read_by_row_index_are_those_of_every_batch_filtered(tmp_path):
    """`_kept` decodes only the kept rows (a row-index filter in the parquet scan): the same
    frame as reading every row a batch at a time and filtering, across row groups, for
    files with and without riddle types."""
    import numpy as np
    import polars as pl
    from dedupe_frames import frame

    import curate.stages.dedupe as d
    from curate import stage

    rng = np.random.default_rng(3)
    rows = [(f"谜面{k}什么{k % 7}", f"答案{k % 11}") for k in range(3000)]
    base = frame(rows).with_columns(riddle_type=pl.lit("谜语"))
    for df in (base, base.drop("riddle_type")):
        df.write_parquet(tmp_path / "ingested.parquet", row_group_size=700)
        for share in (0.0, 0.1, 1.0):
            removed = rng.random(df.height) < share
            names = list(df.columns)
            parts, at = [], 0
            for batch in stage.stage_batches(tmp_path, "ingested", names, rows=1000):
                keep = pl.Series(~removed[at : at + batch.height])
                at += batch.height
                parts.append(d._with_types(batch).filter(keep).select(d.COLUMNS))
            assert d._kept(tmp_path, removed).equals(pl.concat(parts))
