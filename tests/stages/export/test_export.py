"""`curate export`: validated lines, leakage-free deterministic splits, shards, manifest."""

from __future__ import annotations

import json
import random
import re
import shutil
import tempfile
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from click.testing import CliRunner
from exportdata import (
    RIDDLES,
    as_stage,
    record,
    records,
    tiny_tokenizer,
    write_deduped,
    xiehouyu_rows,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from curate.cli import main
from curate.errors import ConfigError, InputError
from curate.io import sha256_file
from curate.normalize import match_key
from curate.stages.export import (
    ExportConfig,
    assign_splits,
    export,
    merge_groups,
    read_manifest,
    shards,
)
from curate.stages.export.leaks import hold_in_train, near_pairs
from curate.stages.validate import validate_file

# 30 riddles, 10 of them answered 多此一举 (distinct riddles sharing an answer, as in xiehouyu)
PAIRS = [(f"谜面{i}：画蛇添足第{i}回", "多此一举") for i in range(10)] + [
    (q, f"答案{i}") for i, (q, _) in enumerate(RIDDLES)
]


def lines(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]


def split_rows(out: Path) -> dict[str, list[dict]]:
    rows: dict[str, list[dict]] = {"train": [], "validation": []}
    for f in shards(read_manifest(out)):
        rows[f["split"]] += lines(out / f["path"])
    return rows


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.fixture
def demo(project) -> Path:
    write_deduped(project / "processed", records(PAIRS))
    return project / "processed"


def test_export_writes_valid_shards_and_a_manifest(demo):
    result = export(ExportConfig(processed=demo, val_fraction=0.3))
    out = demo / "export" / "jsonl"
    m = result.manifest
    assert result.out == out
    assert m["counts"] == {"in": 30, "kept": 30, "rejected": 0}
    assert sum(s["records"] for s in m["splits"].values()) == 30
    assert [f["path"] for f in shards(m)] == [
        "train-00000-of-00001.jsonl",
        "validation-00000-of-00001.jsonl",
    ]
    for f in shards(m):
        assert f["sha256"] == sha256_file(out / f["path"])
        assert f["records"] == len(lines(out / f["path"]))
        assert validate_file(out / f["path"]) == []
    raw = (out / "train-00000-of-00001.jsonl").read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")
    both = raw + (out / "validation-00000-of-00001.jsonl").read_bytes()
    assert b"\\u" not in both and "越洗越脏".encode() in both  # Chinese unescaped
    assert all(list(row) == ["messages"] for row in lines(out / "train-00000-of-00001.jsonl"))
    assert m["lengths"]["chars"]["max"] == max(len(q) + len(a) for q, a in PAIRS)
    assert (demo / "exported.rejects.jsonl").read_text() == ""


def test_answer_groups_and_ids_never_straddle_splits(demo):
    for seed in range(5):
        rows = split_rows(export(ExportConfig(processed=demo, val_fraction=0.3, seed=seed)).out)
        keys = {s: {match_key(r["messages"][-1]["content"]) for r in rows[s]} for s in rows}
        users = {s: {r["messages"][0]["content"] for r in rows[s]} for s in rows}
        assert keys["train"].isdisjoint(keys["validation"])
        assert users["train"].isdisjoint(users["validation"])
        assert len(users["train"]) + len(users["validation"]) == 30


def test_rerun_and_shuffled_input_are_byte_identical(demo):
    config = ExportConfig(processed=demo, val_fraction=0.3, shard_size=7)
    first = snapshot(export(config).out)
    assert snapshot(export(config).out) == first
    rows = records(PAIRS)
    random.Random(1).shuffle(rows)
    write_deduped(demo, rows)
    shuffled = snapshot(export(config).out)
    # only the input's sha256 in the manifest may differ: the parquet file itself changed
    assert shuffled.pop("manifest.json") != first.pop("manifest.json")
    assert shuffled == first
    assert len([n for n in first if n.startswith("train-")]) >= 2  # several shards


@pytest.mark.parametrize("group_by", ["answer", "content"])
def test_shards_do_not_depend_on_where_the_raw_files_were(demo, group_by):
    # Ids hash the source path: the same riddles read from another folder (or a copied
    # project run with absolute paths) got other ids, and the lines came out in another order.
    config = ExportConfig(processed=demo, val_fraction=0.3, shard_size=7, group_by=group_by)
    first = snapshot(export(config).out)
    write_deduped(demo, records(PAIRS, source="/home/someone/data/riddles/demo.jsonl"))
    moved = snapshot(export(config).out)
    assert {n: b for n, b in moved.items() if n != "manifest.json"} == {
        n: b for n, b in first.items() if n != "manifest.json"
    }


def test_shards_are_named_counted_and_stale_ones_removed(demo):
    out = export(ExportConfig(processed=demo, val_fraction=0.3, shard_size=4)).out
    names = sorted(p.name for p in out.glob("train-*"))
    n = len(names)
    assert names == [f"train-{i:05d}-of-{n:05d}.jsonl" for i in range(n)]
    export(ExportConfig(processed=demo, val_fraction=0.3))
    assert sorted(p.name for p in out.glob("train-*")) == ["train-00000-of-00001.jsonl"]


@pytest.mark.parametrize("fraction", [0.5, 0.6, 0.9])
def test_one_riddle_group_is_trained_on_whatever_the_fraction(project, fraction):
    # One record (or riddles all sharing one answer) with --val-fraction 0.6 went wholly to
    # validation: an export with nothing to train on.
    processed = project / "processed"
    write_deduped(processed, records(PAIRS[:3]))  # three riddles answered 多此一举
    m = export(ExportConfig(processed=processed, val_fraction=fraction)).manifest
    assert m["splits"]["train"] == {"records": 3, "groups": 1}
    assert m["splits"]["validation"]["records"] == 0


def test_small_sets_still_get_one_validation_record(project):
    processed = project / "processed"
    write_deduped(processed, records([("什么床不能睡？", "牙床"), ("什么酒不能喝？", "碘酒")]))
    m = export(ExportConfig(processed=processed, val_fraction=0.01)).manifest
    assert m["splits"]["train"]["records"] == m["splits"]["validation"]["records"] == 1
    m = export(ExportConfig(processed=processed, val_fraction=0)).manifest
    assert m["splits"]["validation"]["records"] == 0
    assert [f["split"] for f in shards(m)] == ["train"]  # no empty validation file


def test_assign_splits_is_deterministic_and_near_the_fraction():
    keys = {f"k{i}" for i in range(2000)}
    split = assign_splits(keys, 0.1, seed=3)
    assert split == assign_splits(set(sorted(keys, reverse=True)), 0.1, seed=3)
    share = sum(v == "validation" for v in split.values()) / len(keys)
    assert 0.08 < share < 0.12
    assert assign_splits({"only"}, 0.5, 0) == {"only": "train"}


def test_assign_splits_holds_out_every_riddle_type_in_proportion():
    strata = {f"x{i}": "歇后语" for i in range(200)} | {f"z{i}": "字谜" for i in range(30)}
    split = assign_splits(set(strata), 0.1, seed=1, strata=strata)
    held = [strata[k] for k, s in split.items() if s == "validation"]
    assert held.count("歇后语") == 20 and held.count("字谜") == 3


def test_conflicting_records_share_a_split(demo):
    rows = records(PAIRS)
    conflict = [rows[10]["id"], rows[11]["id"]]  # same question asked, different answers
    (demo / "deduped.conflicts.jsonl").write_text(
        json.dumps({"ids": conflict, "kind": "conflict"}) + "\n"
    )
    for seed in range(8):
        m = export(ExportConfig(processed=demo, val_fraction=0.5, seed=seed)).manifest
        rows_by_split = split_rows(demo / "export" / "jsonl")
        where = {
            s
            for s, rs in rows_by_split.items()
            for r in rs
            if r["messages"][0]["content"] in (PAIRS[10][0], PAIRS[11][0])
        }
        assert len(where) == 1
        assert any(i["path"].endswith("deduped.conflicts.jsonl") for i in m["inputs"])


def test_merge_groups_ignores_order():
    keys = {"a": "x", "b": "y", "c": "z"}
    assert merge_groups(keys, [{"a", "c"}]) == {"a": "x", "b": "y", "c": "x"}
    assert merge_groups(keys, [{"c", "b"}, {"b", "a"}]) == {"a": "x", "b": "x", "c": "x"}


def test_group_by_id_splits_an_answer_group(demo):
    m = export(ExportConfig(processed=demo, val_fraction=0.3, group_by="id")).manifest
    assert sum(s["groups"] for s in m["splits"].values()) == 30


def test_system_prompt_and_user_template(demo):
    config = ExportConfig(
        processed=demo, system_prompt="你是谜语专家", user_template="谜语：{question}"
    )
    row = lines(export(config).out / "train-00000-of-00001.jsonl")[0]
    roles = [m["role"] for m in row["messages"]]
    assert roles == ["system", "user", "assistant"]
    assert row["messages"][0]["content"] == "你是谜语专家"
    assert row["messages"][1]["content"].startswith("谜语：")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"user_template": "{riddle}"}, "unknown placeholder(s) ['riddle']"),
        ({"user_template": "{question"}, "write a literal brace"),
        ({"val_fraction": 1.0}, "--val-fraction must be in [0, 1)"),
        ({"shard_size": 0}, "--shard-size must be at least 1"),
        ({"format": "csv"}, "unknown --format"),
        ({"system_prompt": "谜\udcff"}, "--system-prompt is not valid UTF-8 text"),
        ({"user_template": "{question:d}"}, "{question} has a conversion or format spec"),
        ({"user_template": "谜：{question!r}"}, "{question} has a conversion or format spec"),
        ({"user_template": "\ud800{question}"}, "--user-template is not valid UTF-8 text"),
    ],
)
def test_bad_flags_are_config_errors(demo, kwargs, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        export(ExportConfig(processed=demo, **kwargs))


def test_invalid_records_are_rejects_not_bad_lines(project):
    processed = project / "processed"
    rows = records(PAIRS[:5]) + [{**record("空答案", "x", line=99), "answer": "  "}]
    write_deduped(processed, rows)
    m = export(ExportConfig(processed=processed)).manifest
    assert m["counts"] == {"in": 6, "kept": 5, "rejected": 1}
    assert m["reasons"] == {"invalid_record": 1}
    (rej,) = lines(processed / "exported.rejects.jsonl")
    assert rej["stage"] == "export" and rej["id"] == rows[-1]["id"] and rej["line"] == 99
    assert "$.messages[1].content: empty text" in rej["detail"]


def test_missing_input_says_what_to_run(project):
    with pytest.raises(InputError, match="run `curate dedupe"):
        export(ExportConfig(processed=project / "processed"))


def test_tokenizer_lengths_go_to_the_manifest(demo, tmp_path):
    tok = tiny_tokenizer(tmp_path / "tok", [q + a for q, a in PAIRS])
    m = export(ExportConfig(processed=demo, tokenizer=tok, max_tokens=30)).manifest
    tokens = m["lengths"]["tokens"]
    assert tokens["max"] > tokens["p50"] > m["lengths"]["chars"]["p50"]  # chat framing added
    assert m["lengths"]["max_tokens"] == 30 and m["lengths"]["over_max_tokens"] > 0


def test_cli_export_prints_a_summary(demo):
    result = CliRunner().invoke(main, ["export", "--val-fraction", "0.3", "--shard-size", "10"])
    assert result.exit_code == 0, result.output
    assert "export (jsonl) -> processed/export/jsonl: 30 in, 30 kept, 0 rejected" in result.output
    assert "train-00000-of-0000" in result.output and "chars/record: p50" in result.output
    bad = CliRunner().invoke(main, ["export", "--user-template", "{answer}"])
    assert bad.exit_code == 2 and "Error: --user-template has unknown placeholder" in bad.output


# Any text a deduped row could hold, including blanks, odd Unicode and JSON-looking strings.
TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=12) | st.sampled_from(
    ["多此一举", " ", "\n", "{question}", ""]
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pairs=st.lists(st.tuples(TEXT, TEXT), max_size=12), system=st.none() | TEXT)
def test_every_exported_line_validates(pairs, system):
    with tempfile.TemporaryDirectory() as tmp:
        processed = Path(tmp)
        rows = records(pairs)
        for row, (q, a) in zip(
            rows, pairs, strict=True
        ):  # raw text, not normalized: the worst case
            row.update(question=q, answer=a)
        write_deduped(processed, rows)
        try:
            m = export(ExportConfig(processed=processed, system_prompt=system)).manifest
        except ConfigError:
            assert system is not None and not system.strip()
            return
        assert m["counts"]["in"] == m["counts"]["kept"] + m["counts"]["rejected"] == len(rows)
        for f in shards(m):
            assert validate_file(processed / "export" / "jsonl" / f["path"]) == []


def xiehouyu_deduped(project: Path, xiehouyu_path: Path) -> int:
    """processed/deduped.parquet from the shared xiehouyu.json: ingested, not deduped."""
    processed = project / "processed"
    try:
        from curate.stages.ingest import IngestConfig, ingest
    except ImportError:  # ingest is another stage; build the rows directly without it
        rows = xiehouyu_rows(xiehouyu_path)
        write_deduped(processed, rows)
        return len(rows)
    shutil.copy(xiehouyu_path, project / "raw" / "xiehouyu.json")
    ingest(IngestConfig(sources=(project / "raw",), processed=processed))
    as_stage(processed, "deduped", pl.read_parquet(processed / "ingested.parquet"))
    return pl.read_parquet(processed / "deduped.parquet").height


@pytest.mark.slow
def test_xiehouyu_exports_and_validates(project, xiehouyu_path):
    processed = project / "processed"
    n = xiehouyu_deduped(project, xiehouyu_path)
    m = export(ExportConfig(processed=processed)).manifest
    assert m["counts"] == {"in": n, "kept": n, "rejected": 0} and n > 13_000
    share = m["splits"]["validation"]["records"] / n
    assert 0.08 < share < 0.12
    out = processed / "export" / "jsonl"
    result = CliRunner().invoke(main, ["validate", *(str(out / f["path"]) for f in shards(m))])
    assert result.exit_code == 0, result.output[-2000:]
    assert f"{n} records in 2 file(s): 0 invalid" in result.output
    # answer groups: every riddle answered 多此一举 is in one split
    both = split_rows(out)
    where = {s for s in both for r in both[s] if r["messages"][-1]["content"] == "多此一举"}
    assert len(where) == 1
    # nor does a question nearly the same as one in the other split, whatever its answer
    split = [s for s in both for _ in both[s]]
    i, j = near_pairs([r["messages"][0]["content"] for s in both for r in both[s]])
    assert i.size and all(split[a] == split[b] for a, b in zip(i, j, strict=True))
    assert m["held_in_train"]["records"] > 0


def test_a_character_riddle_in_both_scripts_lands_in_one_split(project):
    # Ingest keeps a 字谜's glyph, so both spellings survive dedupe; eval's overlap guard
    # folds scripts, so a split between them would leak the riddle into validation.
    pairs = [("門裡有個活人（打一字）", "閃"), ("门里有个活人（打一字）", "闪")]
    pairs += [(f"谜面{i}（打一字）", chr(0x4E00 + 37 * i)) for i in range(40)]
    rows = records(pairs)
    rows[0].update(question=pairs[0][0], answer=pairs[0][1])  # the glyph ingest keeps
    processed = project / "processed"
    write_deduped(processed, rows)
    for seed in range(6):
        out = export(ExportConfig(processed=processed, val_fraction=0.5, seed=seed)).out
        where = {
            split: {m["messages"][0]["content"] for m in rows}
            for split, rows in split_rows(out).items()
        }
        both = [s for s, users in where.items() if {pairs[0][0], pairs[1][0]} <= users]
        assert len(both) == 1, where


def test_a_validation_group_near_a_trained_question_is_held_in_train():
    # C is near A, A near B: with B trained on, A moves to train, and then so does C.
    i, j = np.array([0, 0]), np.array([1, 2])
    split = {"A": "validation", "B": "train", "C": "validation", "D": "validation"}
    held, moved = hold_in_train(split, ["A", "B", "C", "D"], i, j)
    assert held == {"A": "train", "B": "train", "C": "train", "D": "validation"}
    assert moved == {"A", "C"}


def test_near_questions_with_other_answers_never_straddle_the_splits(project):
    # A saying reworded a little, its punchline worded another way (断柄锄头安了把 -> 有把柄可抓 /
    # 断了柄锄头安了把 -> 有了把柄): other answer groups, too far apart for a dedupe conflict.
    pairs = [("断柄锄头安了把", "有把柄可抓"), ("断了柄锄头安了把", "有了把柄")]
    for i, (q, _) in enumerate(RIDDLES):
        pairs += [(q, f"答案{i}"), (f"请问{q}", f"另一个答案{i}")]
    processed = project / "processed"
    write_deduped(processed, records(pairs))
    held = {}
    for seed in range(6):
        m = export(ExportConfig(processed=processed, val_fraction=0.5, seed=seed)).manifest
        users = {
            s: {r["messages"][0]["content"] for r in rows}
            for s, rows in split_rows(processed / "export" / "jsonl").items()
        }
        assert users["validation"], seed
        for a, b in zip(pairs[::2], pairs[1::2], strict=True):
            assert not ({a[0], b[0]} & users["train"] and {a[0], b[0]} & users["validation"])
        held[seed] = m["held_in_train"]["records"]
        assert m["splits"]["validation"]["records"] + m["splits"]["train"]["records"] == 42
    seed = max(held, key=held.get)
    assert held[seed] > 0
    result = CliRunner().invoke(
        main, ["export", "--processed", str(processed), "--seed", seed, "--val-fraction", 0.5]
    )
    assert result.exit_code == 0, result.output
    assert f"{held[seed]} record(s) held in train" in result.output
