"""curate dedupe: what collapses, what stays, who survives, and the files a user reviews."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner
from dedupe_frames import frame, write_ingested, xiehouyu_frame
from dedupe_pairs import MERGE, PAIRS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from curate import io
from curate.cli import main
from curate.errors import ConfigError, InputError
from curate.normalize import match_key
from curate.stages.dedupe import DedupeConfig, dedupe, match_keys

SANTA = [
    ("什么人一年只上一天班还不怕被解雇？", "圣诞老人"),
    ("什么人一年中只工作一天却永远不会被炒鱿鱼？", "圣诞老人"),
]


def run(processed: Path, **kw) -> tuple:
    result = dedupe(DedupeConfig(processed=processed, **kw))
    rejects = io.read_jsonl(processed / "deduped.rejects.jsonl")
    return result, {r["id"]: r for r in rejects}


@pytest.fixture(scope="module")
def corpus(xiehouyu_path, tmp_path_factory):
    """xiehouyu.json + the labelled pairs, deduped once with the default flags."""
    processed = tmp_path_factory.mktemp("corpus") / "processed"
    rows = [record for _, a, b in PAIRS for record in (a, b)]
    pairs = frame(rows, source="raw/pairs.json")
    write_ingested(processed, xiehouyu_frame(xiehouyu_path), pairs)
    result, rejects = run(processed)
    return processed, result, rejects, pairs["id"].to_list()


def survivor(rejects: dict, record_id: str) -> str:
    return rejects[record_id]["duplicate_of"] if record_id in rejects else record_id


def test_calibration_precision_and_recall(corpus):
    processed, _, rejects, ids = corpus
    conflicts = {
        (c["a"]["id"], c["b"]["id"]) for c in io.read_jsonl(processed / "deduped.conflicts.jsonl")
    }
    tp = fp = fn = flagged = wrongly_flagged = 0
    for k, (label, _, _) in enumerate(PAIRS):
        a, b = survivor(rejects, ids[2 * k]), survivor(rejects, ids[2 * k + 1])
        merged, flag = a == b, (a, b) in conflicts or (b, a) in conflicts
        tp += label in MERGE and merged
        fp += label not in MERGE and merged
        fn += label in MERGE and not merged
        flagged += label == "conflict" and flag
        wrongly_flagged += label != "conflict" and flag
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    print(f"merge precision {precision:.3f} recall {recall:.3f} ({tp} tp, {fp} fp, {fn} fn)")
    assert precision >= 0.9 and recall >= 0.85
    assert flagged == sum(label == "conflict" for label, *_ in PAIRS) and wrongly_flagged == 0


def test_santa_collapses_template_and_shared_answer_riddles_stay(corpus):
    processed, _, rejects, ids = corpus
    kept = pl.read_parquet(processed / "deduped.parquet")
    santa = [ids[2 * k + s] for k, (_, a, _) in enumerate(PAIRS) if a == SANTA[0] for s in (0, 1)]
    assert survivor(rejects, santa[0]) == survivor(rejects, santa[1])
    assert {rejects[i]["kind"] for i in santa if i in rejects} == {"variant"}
    keys = set(kept.select(pl.concat_str("question", "answer"))["question"].to_list())
    for question, answer in [("什么床不能睡？", "牙床"), ("什么酒不能喝？", "碘酒")]:
        assert question + answer in keys
    # The 29 different xiehouyu answered 多此一举 all stay (some kept as their pairs.json copy).
    same_answer = kept.filter(pl.col("answer") == "多此一举")["question"]
    assert same_answer.map_elements(match_key, return_dtype=pl.String).n_unique() == 29


def test_every_removed_record_points_at_a_kept_survivor(corpus):
    processed, result, rejects, _ = corpus
    kept = set(pl.read_parquet(processed / "deduped.parquet")["id"].to_list())
    assert result.n_in == len(kept) + len(rejects)
    assert all(r["duplicate_of"] in kept and r["reason"] == "duplicate" for r in rejects.values())
    assert {r["kind"] for r in rejects.values()} <= {"exact", "near_duplicate", "variant"}
    manifest = json.loads((processed / "deduped.manifest.json").read_text(encoding="utf-8"))
    assert sum(manifest["removed_by_kind"].values()) == len(rejects)
    assert manifest["lsh"] == {
        "bands": result.bands,
        "rows": result.rows,
        "num_perm": 64,
        "threshold": 0.45,
    }
    clusters = (processed / "deduped.clusters.md").read_text(encoding="utf-8")
    assert "圣诞老人" in clusters and "variant" in clusters


def test_dedupe_of_its_own_output_removes_nothing_and_is_deterministic(corpus, tmp_path):
    processed, result, _, _ = corpus
    again = tmp_path / "processed"
    write_ingested(again, pl.read_parquet(processed / "deduped.parquet"))
    second, rejects = run(again)
    assert rejects == {} and second.kept == result.kept
    rerun = tmp_path / "rerun"
    write_ingested(rerun, pl.read_parquet(processed / "ingested.parquet"))
    run(rerun)
    for name in ("parquet", "rejects.jsonl", "conflicts.jsonl", "clusters.md"):
        assert (rerun / f"deduped.{name}").read_bytes() == (
            processed / f"deduped.{name}"
        ).read_bytes()


def test_vectorized_match_keys_equal_match_key(xiehouyu_path):
    data = json.loads(xiehouyu_path.read_text(encoding="utf-8"))
    texts = [d["riddle"] for d in data] + [d["answer"] for d in data]
    texts += ["ＡＢＣ？！ 什麼\u200b", "ﬁ Ⅲ ½ ㈠ ⑴ Σς", "\ue000x\U000e0001y", "  "]
    texts += ["🐍 🎨👣！", "★☆ ＋", "？？"]  # symbols only: keyed by their symbols
    assert match_keys(pl.Series(texts)).to_list() == [match_key(t) for t in texts]


def test_survivor_prefers_source_then_category_then_id(project):
    processed = project / "processed"
    a = frame([("什么门永远关不上？", "球门")], source="raw/web.json")
    b = frame([("什么门永远关不上?", "球门")], source="raw/book.json")
    c = frame([("什么门 永远关不上", "球门")], source="raw/notes.json", category="脑筋急转弯")
    write_ingested(processed, a, b, c)
    _, rejects = run(processed)
    kept = pl.read_parquet(processed / "deduped.parquet")
    assert kept["source"].to_list() == ["raw/notes.json"]  # the one with a category
    _, rejects = run(processed, prefer=("book.json",))
    assert pl.read_parquet(processed / "deduped.parquet")["source"].to_list() == ["raw/book.json"]
    assert {r["kind"] for r in rejects.values()} == {"exact"}


def test_a_rewording_merges_on_a_specific_answer_not_on_a_common_one(project):
    """什么鸟不会飞？ / 哪种鸟飞不起来？ share 鸟 and 飞 but no bigram: one riddle when only
    they give the answer; when five riddles give it, the same wording difference is not
    enough (the answer says little), and a 歇后语 never merges on it."""
    pair = [("什么鸟不会飞？", "鸵鸟"), ("哪种鸟飞不起来？", "鸵鸟")]
    processed = project / "processed"
    write_ingested(processed, frame(pair))
    result, rejects = run(processed)
    assert result.kept == 1 and [r["kind"] for r in rejects.values()] == ["variant"]
    others = [
        ("哪种动物下的蛋最大？", "鸵鸟"),
        ("沙漠里谁跑得最快？", "鸵鸟"),
        ("谁把头埋进沙子？", "鸵鸟"),
    ]
    write_ingested(processed, frame(pair + others))
    result, rejects = run(processed)
    assert result.kept == 5 and not rejects
    sayings = [("老鼠尾巴上生疮", "小毛病"), ("耗子尾巴长癣", "小毛病")]  # 尾巴 only: strict
    write_ingested(processed, frame(sayings, category="歇后语"))
    assert run(processed)[0].kept == 2


def test_a_brain_teaser_reworded_merges_on_its_content_while_its_answer_is_specific(
    project, xiehouyu_path
):
    """皮, 绿, 红, 籽, 黑 of one riddle's few content characters in the other: one riddle,
    though its IDF-weighted score (0.21 next to the sayings) is under the cutoff. Not with
    --specific-alone 1, and not when six riddles give the answer."""
    pair = [
        ("什么水果皮是绿的，里面红红的，籽是黑的？", "西瓜"),
        ("哪种瓜外面绿皮，切开红瓤黑籽，夏天最解渴？", "西瓜"),
    ]
    others = [
        ("夏天哪种水果个头最大？", "西瓜"),
        ("什么东西一刀下去两半红？", "西瓜"),
        ("哪种瓜敲起来咚咚响，熟没熟听声音？", "西瓜"),
        ("什么东西抱在怀里像个绿皮球？", "西瓜"),
    ]
    background = xiehouyu_frame(xiehouyu_path)
    processed = project / "processed"
    write_ingested(processed, background, frame(pair))
    result, rejects = run(processed)
    merged = [r for r in rejects.values() if r["raw"]["answer"] == "西瓜"]
    assert [r["kind"] for r in merged] == ["variant"]
    _, rejects = run(processed, specific_alone=1.0)
    assert not [r for r in rejects.values() if r["raw"]["answer"] == "西瓜"]
    write_ingested(processed, background, frame(pair + others))
    _, rejects = run(processed)
    assert not [r for r in rejects.values() if r["raw"]["answer"] == "西瓜"]


def test_no_chaining_every_removed_record_was_compared_with_its_survivor(project):
    """A ~ B ~ C with A and C too far apart: C is not folded into A through B."""
    processed = project / "processed"
    rows = [
        ("什么东西越洗越脏？", "水"),
        ("请问什么东西越洗越脏？", "水"),
        ("请问大家知道什么东西越洗越脏？", "水"),
    ]  # bigram Jaccard: A~B 0.78, B~C 0.57, A~C 0.54 (below 0.55)
    write_ingested(processed, frame(rows, category="c"))
    _, rejects = run(processed, variant_min_shared=99, specific_k=0)  # near duplicates only
    ids = pl.read_parquet(processed / "ingested.parquet")["id"].to_list()
    assert set(rejects) == {ids[1]} and rejects[ids[1]]["duplicate_of"] == ids[0]
    assert rejects[ids[1]]["via"] == ids[0] and rejects[ids[1]]["kind"] == "near_duplicate"
    kept = pl.read_parquet(processed / "deduped.parquet")["question"].to_list()
    assert kept == [rows[0][0], rows[2][0]]


def test_overrides_keep_a_pair_apart(project):
    processed = project / "processed"
    write_ingested(processed, frame(SANTA))
    result, rejects = run(processed)
    assert result.kept == 1 and result.removed["variant"] == 1
    ids = pl.read_parquet(processed / "ingested.parquet")["id"].to_list()
    overrides = project / "dedupe.overrides.jsonl"  # the default place: beside processed/
    overrides.write_text(
        json.dumps({"a": ids[0], "b": SANTA[1][0], "decision": "distinct"}, ensure_ascii=False)
        + "\n",
        encoding="utf-8",
    )
    result, rejects = run(processed)
    assert result.kept == 2 and rejects == {}
    manifest = json.loads((processed / "deduped.manifest.json").read_text(encoding="utf-8"))
    assert any(i["path"].endswith("dedupe.overrides.jsonl") for i in manifest["inputs"])
    overrides.write_text('{"a": "x"}\nnot json\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"dedupe.overrides.jsonl:1"):
        run(processed)


def test_conflicts_are_kept_and_listed_or_resolved_by_policy(project):
    processed = project / "processed"
    write_ingested(
        processed,
        frame(
            [
                ("什么门永远关不上？", "足球门"),
                ("什么门永远关不上？", "球门"),
                ("什么床不能睡？", "牙床"),
            ]
        ),
    )
    result, rejects = run(processed)
    assert result.kept == 3 and result.conflicts == 1
    (line,) = io.read_jsonl(processed / "deduped.conflicts.jsonl")
    assert {line["a"]["answer"], line["b"]["answer"]} == {"足球门", "球门"}
    result, rejects = run(processed, on_conflict="survivor")
    assert result.kept == 2 and [r["kind"] for r in rejects.values()] == ["conflict"]


def test_short_and_empty_questions_never_crash_or_vanish(project):
    processed = project / "processed"
    rows = [("门", "门槛"), ("门", "门槛"), ("", "空"), ("？", "问号"), ("a", "b")]
    write_ingested(processed, frame(rows))
    result, rejects = run(processed)
    assert result.n_in == 5 and result.kept == 4 and len(rejects) == 1


def test_emoji_riddles_are_told_apart_by_their_symbols(project):
    processed = project / "processed"
    rows = [("🐍🎨👣", "画蛇添足"), ("🐔🐶", "鸡犬不宁"), ("🐍 🎨 👣？", "画蛇添足")]
    write_ingested(processed, frame(rows))
    result, rejects = run(processed)
    assert result.kept == 2 and result.conflicts == 0  # not one empty key for all three
    assert [r["kind"] for r in rejects.values()] == ["exact"]


def test_cli_dedupe(project):
    runner = CliRunner()
    result = runner.invoke(main, ["dedupe"])
    assert result.exit_code == 1 and "run `curate ingest" in result.output
    write_ingested(project / "processed", frame(SANTA + [("什么床不能睡？", "牙床")]))
    result = runner.invoke(main, ["dedupe", "--near-threshold", "0.6"])
    assert result.exit_code == 0, result.output
    assert "3 in, 2 kept" in result.output and "variant 1" in result.output
    assert (project / "processed" / "deduped.clusters.md").exists()
    result = runner.invoke(main, ["dedupe", "--ngram", "5"])
    assert result.exit_code == 2 and "--ngram" in result.output  # a usage mistake


def test_missing_input_says_what_to_run(project):
    with pytest.raises(InputError, match="curate ingest"):
        dedupe(DedupeConfig(processed=project / "processed"))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(st.integers(0, 7), st.integers(0, 3), st.integers(0, 9)), min_size=1, max_size=40
    )
)
def test_property_nothing_lost_and_idempotent(spec):
    """Random copies of a few riddles with random one-character edits: every record is kept
    or points at a kept survivor, and deduping the output removes nothing."""
    import tempfile

    base = [q for q, _ in SANTA] + [
        "什么床不能睡？",
        "什么酒不能喝？",
        "阴天戴草帽",
        "阴天打阳伞",
        "什么东西越洗越脏？",
        "门",
    ]
    answers = ["圣诞老人", "牙床", "多此一举", "水"]
    rows = []
    for b, a, edit in spec:
        q = base[b]
        if edit < len(q) and edit % 3 == 0:
            q = q[:edit] + "啊" + q[edit + 1 :]
        rows.append((q, answers[a]))
    with tempfile.TemporaryDirectory() as tmp:
        first, again = Path(tmp) / "one", Path(tmp) / "two"
        write_ingested(first, frame(rows))
        result, rejects = run(first)
        kept = set(pl.read_parquet(first / "deduped.parquet")["id"].to_list())
        assert result.n_in == len(rows) == len(kept) + len(rejects)
        assert all(r["duplicate_of"] in kept for r in rejects.values())
        write_ingested(again, pl.read_parquet(first / "deduped.parquet"))
        assert run(again)[1] == {}


def test_rejects_frame_writes_the_same_bytes_as_dicts(tmp_path):
    """The columnar rejects path (a million rows) equals json.dumps row by row: key order,
    escapes (quotes, backslashes, control characters), unescaped Chinese, floats, nulls."""
    df = pl.DataFrame(
        {
            "stage": ["dedupe"] * 4,
            "line": [1, None, 3, 4],
            "id": [None, 'a"b', "c\\d", "e\nf\x01\x7f 中文😀"],
            "raw": [{"question": 'q"', "answer": None}, None, {"question": "问", "answer": "答"}]
            + [{"question": "谜", "answer": "底"}],
            "score": [1.0, 0.6667, 1e-05, None],
        }
    )
    io.write_jsonl(tmp_path / "dicts.jsonl", df.to_dicts())
    io.write_jsonl_frame(tmp_path / "frame.jsonl", df, chunk=3)
    dicts = (tmp_path / "dicts.jsonl").read_bytes()
    assert (tmp_path / "frame.jsonl").read_bytes() == dicts
    assert "中文😀".encode() in dicts


def test_rejects_frame_null_free_columns_write_the_same_bytes(tmp_path):
    """Null-free strings (quoted by the neighbouring literals), structs (inlined) and floats
    (polars' own text where it equals Python's) take faster paths: still json.dumps' bytes."""
    df = pl.DataFrame(
        {
            "id": ['a"b', "c\\d", "e\nf\x01 中文", "plain"],
            "raw": [{"q": 'q"', "a": "x"}, {"q": "问", "a": "答"}]
            + [{"q": "谜\t", "a": "底"}, {"q": "", "a": "y"}],
            "score": [1.0, 0.6667, 0.5, 0.30000000000000004],
            "tiny": [1e-05, 2.0, 1e16, 0.25],
            "flag": [True, False, True, True],
        }
    )
    io.write_jsonl(tmp_path / "dicts.jsonl", df.to_dicts())
    for chunk in (1, 3, 4):
        io.write_jsonl_frame(tmp_path / "frame.jsonl", df, chunk=chunk)
        assert (tmp_path / "frame.jsonl").read_bytes() == (tmp_path / "dicts.jsonl").read_bytes()


def test_rejects_streamed_in_batches_write_the_same_bytes(tmp_path):
    """Rejects written a batch of input rows at a time (empty batches included, batches
    not aligned to the chunks) are the bytes of the whole frame, and every row is counted."""
    df = pl.DataFrame({"id": [f"r{i}" for i in range(10)], "score": [i / 3 for i in range(10)]})
    io.write_jsonl(tmp_path / "dicts.jsonl", df.to_dicts())
    batches = (df.slice(a, b - a) for a, b in ((0, 3), (3, 3), (3, 8), (8, 10)))
    assert io.write_jsonl_frame(tmp_path / "frames.jsonl", batches, chunk=4) == 10
    assert (tmp_path / "frames.jsonl").read_bytes() == (tmp_path / "dicts.jsonl").read_bytes()


def test_records_without_a_type_are_kept_with_the_detected_one(tmp_path):
    """An ingested file from before `riddle_type` (nulls): the kept rows carry the detected
    type, as the ranking used it, though the write step reads the file again batch by batch."""
    from curate import riddle_type

    rows = [*SANTA, ("外甥打灯笼", "照舅（旧）"), ("半个月亮", "胖")]
    processed = write_ingested(tmp_path / "processed", frame(rows)).parent
    dedupe(DedupeConfig(processed=processed))
    kept = pl.read_parquet(processed / "deduped.parquet")
    assert kept.height == 3 and not kept["riddle_type"].has_nulls()
    assert kept["riddle_type"].to_list() == riddle_type.detect_column(kept).to_list()
