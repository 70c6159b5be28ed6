"""Review decisions in the overrides file: survivor and answer, keyed by content, applied by the
next run, stable across runs and line orders, and a warning for each one that cannot apply."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from dedupe_frames import frame, write_ingested

from curate import io
from curate.errors import ConfigError
from curate.stages.dedupe import DedupeConfig, dedupe

SANTA = [
    ("什么人一年只上一天班还不怕被解雇？", "圣诞老人"),
    ("什么人一年中只工作一天却永远不会被炒鱿鱼？", "圣诞老人"),
]
DOOR = [("什么门永远关不上？", "足球门"), ("什么门永远关不上？", "球门")]
WASH = [("什么东西越洗越脏？", "水"), ("什么东西越洗越脏", "水。")]  # exact copies (match keys)
BED = [("什么床不能睡？", "牙床")]
OUTPUTS = ("deduped.parquet", "deduped.rejects.jsonl", "deduped.clusters.md")


def decide(project: Path, *lines: dict) -> None:
    text = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)
    (project / "dedupe.overrides.jsonl").write_text(text, encoding="utf-8")


def run(processed: Path, **kw):
    result = dedupe(DedupeConfig(processed=processed, **kw))
    rejects = io.read_jsonl(processed / "deduped.rejects.jsonl")
    kept = pl.read_parquet(processed / "deduped.parquet")
    return result, rejects, list(zip(kept["question"], kept["answer"], strict=True))


def outputs(processed: Path) -> dict[str, bytes]:
    return {name: (processed / name).read_bytes() for name in (*OUTPUTS, "deduped.conflicts.jsonl")}


def ids_of(processed: Path) -> dict[tuple[str, str], str]:
    df = pl.read_parquet(processed / "ingested.parquet")
    return {(q, a): i for q, a, i in zip(df["question"], df["answer"], df["id"], strict=True)}


@pytest.fixture
def processed(project):
    processed = project / "processed"
    write_ingested(processed, frame(SANTA + DOOR + WASH + BED))
    return processed


def test_survivor_decision_keeps_the_chosen_copy(project, processed):
    result, rejects, kept = run(processed)
    assert SANTA[0] in kept and SANTA[1] not in kept and WASH[0] in kept and not result.warnings
    ids = ids_of(processed)
    decide(
        project,  # as the Review page writes them: a = the record to keep, b = its survivor
        {"a": SANTA[1][0], "b": SANTA[0][0], "decision": "survivor", "a_answer": SANTA[1][1]},
        {"a": WASH[1][0], "b": WASH[0][0], "decision": "survivor", "a_answer": WASH[1][1]},
    )
    result, rejects, kept = run(processed)
    assert SANTA[1] in kept and SANTA[0] not in kept  # the other wording is kept now
    assert WASH[1] in kept and WASH[0] not in kept  # an exact copy: the one written is kept
    by_question = {r["raw"]["question"]: r for r in rejects}
    santa = by_question[SANTA[0][0]]
    assert santa["kind"] == "variant" and santa["duplicate_of"] == ids[SANTA[1]]
    assert by_question[WASH[0][0]]["duplicate_of"] == ids[WASH[1]]
    assert result.kept == 5 and not result.warnings
    first = outputs(processed)
    run(processed)
    assert outputs(processed) == first  # running again: byte-identical


def test_answer_decision_removes_the_wrong_answer_as_a_conflict(project, processed):
    result, rejects, kept = run(processed)
    assert result.conflicts == 1 and DOOR[0] in kept and DOOR[1] in kept
    ids = ids_of(processed)
    right, wrong = DOOR[1], DOOR[0]  # as the page writes it: a = the right answer
    decide(project, {"a": right[0], "a_answer": right[1], "b": wrong[0], "b_answer": wrong[1],
                     "decision": "answer"})  # fmt: skip
    result, rejects, kept = run(processed)
    assert right in kept and wrong not in kept and result.removed["conflict"] == 1
    (reject,) = [r for r in rejects if r["kind"] == "conflict"]
    assert reject["raw"] == {"question": wrong[0], "answer": wrong[1]}
    assert reject["duplicate_of"] == ids[right]
    assert result.conflicts == 0 and not io.read_jsonl(processed / "deduped.conflicts.jsonl")
    first = outputs(processed)
    run(processed)
    assert outputs(processed) == first
    # The policy that keeps the preferred record of a conflict follows the person too (left
    # alone it keeps 足球门, the longer answer).
    _, _, kept = run(processed, on_conflict="survivor")
    assert right in kept and wrong not in kept
    decide(project, {"a": wrong[0], "a_answer": wrong[1], "b": right[0], "b_answer": right[1],
                     "decision": "answer"})  # fmt: skip
    _, rejects, kept = run(processed)
    assert wrong in kept and right not in kept
    assert [r["duplicate_of"] for r in rejects if r["kind"] == "conflict"] == [ids[wrong]]


def test_decisions_apply_the_same_in_any_order_of_lines(project, processed):
    lines = [
        {"a": SANTA[1][0], "decision": "survivor"},
        {"a": DOOR[1][0], "a_answer": "球门", "b": DOOR[0][0], "b_answer": "足球门",
         "decision": "answer"},
        {"a": WASH[1][0], "a_answer": WASH[1][1], "decision": "survivor"},
        {"a": SANTA[0][0], "b": BED[0][0], "decision": "distinct"},
    ]  # fmt: skip
    decide(project, *lines)
    run(processed)
    first = outputs(processed)
    decide(project, *reversed(lines))
    run(processed)
    assert outputs(processed) == first


def test_decisions_that_cannot_apply_warn(project, processed):
    decide(
        project,
        {"a": "什么东西从来不说话？", "decision": "survivor"},  # no such question
        {"a": SANTA[1][0], "a_answer": "圣诞老爷爷", "decision": "survivor"},  # other answer
        # both exist but do not conflict (different riddles): nothing to settle
        {"a": BED[0][0], "a_answer": BED[0][1], "b": DOOR[0][0], "b_answer": DOOR[0][1],
         "decision": "answer"},
    )  # fmt: skip
    result, _, kept = run(processed)
    assert len(result.warnings) == 3, result.warnings
    assert "从来不说话" in result.warnings[0] and "matches no record" in result.warnings[0]
    assert "圣诞老爷爷" in result.warnings[1] and "matches no record" in result.warnings[1]
    assert "not a conflict" in result.warnings[2]
    assert DOOR[0] in kept and BED[0] in kept and SANTA[0] in kept  # nothing changed


def test_survivor_overruled_by_an_external_set_warns(project, processed, tmp_path):
    external = tmp_path / "eval.jsonl"
    external.write_text(
        json.dumps({"question": SANTA[1][0], "answer": SANTA[1][1]}, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
    decide(project, {"a": SANTA[1][0], "decision": "survivor"})
    result, rejects, kept = run(processed, against=(external,))
    assert SANTA[1] not in kept and result.removed["contaminated"] >= 1
    assert any("survivor decision" in w and "still removed" in w for w in result.warnings)


@pytest.mark.parametrize(
    "line, message",
    [
        ({"a": "甲", "decision": "merge"}, "decision must be one of"),
        ({"a": "甲", "b": "乙", "a_answer": "丙", "decision": "answer"}, "b_answer"),
        ({"a": "甲", "decision": "distinct"}, '"b" is missing'),
        ({"b": "乙", "decision": "survivor"}, '"a" is missing'),
    ],
)
def test_malformed_decisions_are_errors_naming_the_line(project, processed, line, message):
    decide(project, {"a": SANTA[1][0], "decision": "survivor"}, line)
    with pytest.raises(ConfigError, match=r"dedupe.overrides.jsonl:2") as error:
        run(processed)
    assert message in str(error.value)


def test_the_readme_examples_are_valid_decisions():
    from curate.stages.dedupe import decisions

    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text(encoding="utf-8")
    block = readme.split("one JSON line each.", 1)[1].split("```json\n", 1)[1].split("```")[0]
    read = [decisions.parse(json.loads(line)) for line in block.splitlines()]
    assert [d.kind for d in read] == list(decisions.KINDS)
