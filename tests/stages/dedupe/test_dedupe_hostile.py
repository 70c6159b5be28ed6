"""curate dedupe on hostile and unusual inputs: the same bytes whatever the row order, and
flags or files that are wrong are errors that say so, never a traceback."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from dedupe_frames import frame, write_ingested

from curate.cli import main
from curate.errors import ConfigError, InputError
from curate.stages.dedupe import DedupeConfig, dedupe

# deduped.parquet and the rejects keep the input order; these two are in survivor order
OUTPUTS = ("conflicts.jsonl", "clusters.md")


def test_conflict_pair_listed_is_the_same_whatever_the_row_order(tmp_path):
    """Two clusters joined by conflicts of equal score (照着/依着 葫芦画瓢 both score 0.6667
    against 比着葫芦画瓢): the pair listed is chosen by content, not by which row came first."""
    rows = frame(
        [
            ("照着葫芦画瓢", "全盘照搬"),
            ("依着葫芦画瓢", "全盘照搬；照样"),
            ("比着葫芦画瓢", "走不了样"),
            ("一分钱开当铺", "周转不开"),
            ("二分钱开当铺", "周转不开"),
            ("三分钱开当铺", "小买卖"),
        ],
        source="raw/xiehouyu.json",
    )
    write_ingested(tmp_path / "one", rows)
    write_ingested(tmp_path / "two", rows.reverse())
    for folder in ("one", "two"):
        assert dedupe(DedupeConfig(processed=tmp_path / folder)).conflicts == 2
    for name in OUTPUTS:
        one = (tmp_path / "one" / f"deduped.{name}").read_bytes()
        assert one == (tmp_path / "two" / f"deduped.{name}").read_bytes(), name


def _overrides(project, text: bytes):
    path = project / "dedupe.overrides.jsonl"
    path.write_bytes(text)
    return path


def test_overrides_line_with_a_misspelt_key_is_an_error_naming_it(project):
    """`decison` would leave the line a `distinct` decision, `a_anwser` a survivor decision
    about every answer of the question: both are refused, naming the file, line and key."""
    write_ingested(project / "processed", frame([("什么门永远关不上？", "球门")]))
    line = {"a": "什么门永远关不上？", "a_anwser": "球门", "decision": "survivor"}
    path = _overrides(project, b"\n" + json.dumps(line, ensure_ascii=False).encode() + b"\n")
    with pytest.raises(ConfigError, match=r"dedupe.overrides.jsonl:2: .*unknown key 'a_anwser'"):
        dedupe(DedupeConfig(overrides=path))
    result = CliRunner().invoke(main, ["dedupe"])
    assert result.exit_code == 2 and "unknown key 'a_anwser'" in result.output


def test_overrides_file_saved_with_a_bom_is_read_and_one_not_utf8_is_an_error(project):
    write_ingested(
        project / "processed", frame([("什么东西越洗越脏？", "水"), ("什么东西越洗越脏？", "水")])
    )
    line = {"a": "什么东西越洗越脏？", "a_answer": "水", "decision": "survivor"}
    text = json.dumps(line, ensure_ascii=False) + "\n"
    _overrides(project, text.encode("utf-8-sig"))
    assert dedupe(DedupeConfig()).kept == 1
    _overrides(project, text.encode("gbk"))
    result = CliRunner().invoke(main, ["dedupe"])
    assert result.exit_code == 1, result.output
    assert "dedupe.overrides.jsonl: not UTF-8" in result.output and "internal" not in result.output


def test_against_a_file_with_no_riddle_is_an_error_and_unread_rows_warn(project):
    """A benchmark whose fields ingest does not know (or an empty file) used to pass the
    contamination check silently: nothing was read, so nothing matched."""
    write_ingested(project / "processed", frame([("什么东西越洗越脏？", "水")]))
    bench = project / "bench.jsonl"
    bench.write_text('{"frage": "什么东西越洗越脏？", "antwort": "水"}\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["dedupe", "--against", str(bench)])
    assert result.exit_code == 1, result.output
    assert "bench.jsonl: no riddle could be read" in result.output
    assert "no question, answer field" in result.output and "Traceback" not in result.output
    (project / "empty.jsonl").write_text("", encoding="utf-8")
    with pytest.raises(InputError, match="empty.jsonl: no riddle could be read"):
        dedupe(DedupeConfig(against=(project / "empty.jsonl",)))
    bench.write_text(
        '{"q": "什么东西越洗越脏？", "a": "水"}\n{"frage": "x", "antwort": "y"}\n',
        encoding="utf-8",
    )
    result = dedupe(DedupeConfig(against=(bench,)))
    assert result.kept == 0 and result.removed["contaminated"] == 1
    (warning,) = result.warnings
    assert "1 rows could not be read" in warning and "bench.jsonl:2" in warning


def test_prefer_glob_that_matches_no_source_warns(project):
    rows = [("什么东西越洗越脏？", "水"), ("什么东西越洗越脏", "水。")]
    processed = project / "processed"
    write_ingested(processed, frame(rows[:1], "raw/a.json"), frame(rows[1:], "raw/b.json"))
    result = CliRunner().invoke(main, ["dedupe", "--prefer", "b.jsonl", "--prefer", "*.json"])
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())  # rich wraps long lines
    assert "--prefer 'b.jsonl' matches no source" in said
    assert "raw/a.json, raw/b.json" in said and "'*.json'" not in said
    result = dedupe(DedupeConfig(prefer=("*.json", "raw/b*")))
    assert result.warnings == ()  # a glob another one ranks ahead of still matches


@pytest.mark.parametrize(
    ("flags", "said"),
    [
        (["--variant-threshold", "nan"], "--variant-threshold must be a finite number"),
        (["--variant-slope", "inf"], "--variant-slope must be a finite number"),
        (["--variant-min-shared", "-1"], "--variant-min-shared must be 0 or more"),
    ],
)
def test_flags_no_threshold_can_mean_are_usage_errors(project, flags, said):
    """NaN passed every check silently (it compares false) and was written to the manifest
    as `NaN`, which is not JSON."""
    write_ingested(project / "processed", frame([("什么东西越洗越脏？", "水")]))
    result = CliRunner().invoke(main, ["dedupe", *flags])
    assert result.exit_code == 2 and said in result.output, result.output
    assert not (project / "processed" / "deduped.manifest.json").exists()


def test_a_seed_numpy_cannot_take_is_a_config_error(project):
    write_ingested(project / "processed", frame([("什么东西越洗越脏？", "水")]))
    with pytest.raises(ConfigError, match="seed"):
        dedupe(DedupeConfig(seed=2**40))


def _decide(project, *lines: dict):
    text = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)
    return _overrides(project, text.encode("utf-8"))


def test_decisions_that_cannot_apply_to_exact_copies_warn(project):
    """Exact copies (the same keys) are one record to dedupe: a `distinct` decision between
    them, or a second `survivor` decision choosing another copy, cannot be followed."""
    rows = [("什么东西越洗越脏？", "水"), ("什么东西越洗越脏", "水。"), ("什么门关不上？", "球门")]
    write_ingested(project / "processed", frame(rows))
    _decide(project, {"a": "什么东西越洗越脏", "b": "什么东西越洗越脏？", "decision": "distinct"})
    result = dedupe(DedupeConfig())
    assert result.kept == 2
    (warning,) = result.warnings
    assert "are exact copies" in warning and "no effect" in warning
    _decide(
        project,
        {"a": "什么东西越洗越脏", "a_answer": "水。", "decision": "survivor"},
        {"a": "什么东西越洗越脏？", "a_answer": "水", "decision": "survivor"},
    )
    result = dedupe(DedupeConfig())
    assert result.kept == 2
    (warning,) = result.warnings  # one of the two chosen copies is removed: that one says so
    assert "that copy is removed" in warning and "another decision" in warning


def test_ingested_file_edited_by_hand_is_refused_naming_it(project):
    """An ingested.parquet rewritten with its manifest (so the stage verifies) but with empty
    questions or answers: an error naming the file and the command, not `internal error`."""
    import polars as pl

    from curate import io, stage

    processed = project / "processed"
    rows = frame([("什么东西越洗越脏？", "水"), ("什么门永远关不上？", "球门")])
    edits = {
        "column 'question'": rows.with_columns(question=pl.lit(None, pl.String)),
        "column 'answer'": rows.with_columns(answer=pl.lit(None, pl.String)),
    }
    for said, edited in edits.items():
        stage.write_stage(processed, "ingested", edited, [], n_in=2, params={}, inputs=[])
        assert stage.read_manifest(processed, "ingested")  # the stage itself verifies
        result = CliRunner().invoke(main, ["dedupe"])
        assert result.exit_code == 1, result.output
        said_all = " ".join(result.output.split())
        assert said in said_all and "rerun `curate ingest" in said_all
        assert "internal" not in said_all and not io.stage_path(processed, "deduped").exists()
