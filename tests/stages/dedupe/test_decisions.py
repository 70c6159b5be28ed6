"""Dedupe decisions: from content only, never chained, aware of riddle types, and external sets."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from dedupe_frames import frame, greedy_star, write_ingested, xiehouyu_frame

from curate import io
from curate.stages.dedupe import DedupeConfig, dedupe, minhash
from curate.stages.dedupe.star import components, grow, star


def run(processed: Path, **kw):
    result = dedupe(DedupeConfig(processed=processed, **kw))
    rejects = io.read_jsonl(processed / "deduped.rejects.jsonl")
    return result, {r["id"]: r for r in rejects}


def kept_pairs(processed: Path) -> set[tuple[str, str]]:
    kept = pl.read_parquet(processed / "deduped.parquet")
    return set(zip(kept["question"].to_list(), kept["answer"].to_list(), strict=True))


def test_star_matches_the_greedy_visit_on_random_graphs():
    rng = np.random.default_rng(7)
    for _ in range(300):
        n = int(rng.integers(1, 25))
        u, v = rng.integers(0, n, 40), rng.integers(0, n, 40)
        m = int(rng.integers(0, 40))
        u, v = u[:m], v[:m]
        center = greedy_star(n, u, v)
        assert star(n, u, v).tolist() == center


def test_star_grown_batch_by_batch_equals_star_of_the_whole_graph():
    """The variant passes add edges in batches and cluster again only the components the
    batch touches: the same centers as clustering the whole graph."""
    rng = np.random.default_rng(11)
    for _ in range(200):
        n = int(rng.integers(2, 60))
        u, v = rng.integers(0, n, 50), rng.integers(0, n, 50)
        cuts = np.sort(rng.integers(0, 51, int(rng.integers(1, 5))))
        center, comp = (
            star(n, u[: cuts[0]], v[: cuts[0]]),
            components(n, u[: cuts[0]], v[: cuts[0]]),
        )
        for a, b in zip(cuts, [*cuts[1:], 50], strict=True):
            center, comp = grow(center, comp, u[:b], v[:b], b - a)
            assert center.tolist() == star(n, u[:b], v[:b]).tolist()
            assert comp.tolist() == components(n, u[:b], v[:b]).tolist()


@pytest.fixture(scope="module")
def xiehouyu(xiehouyu_path, tmp_path_factory):
    processed = tmp_path_factory.mktemp("x") / "processed"
    write_ingested(processed, xiehouyu_frame(xiehouyu_path))
    result, rejects = run(processed)
    return processed, result, rejects


def test_every_near_duplicate_scores_its_own_pair_with_the_survivor(xiehouyu):
    """The ledger's score is that of the removed record and its survivor, compared directly."""
    processed, _, rejects = xiehouyu
    ingested = pl.read_parquet(processed / "ingested.parquet")
    key = dict(zip(ingested["id"], ingested["question"], strict=True))
    near = [r for r in rejects.values() if r["kind"] == "near_duplicate"]
    assert near
    texts = [t for r in near for t in (key[r["id"]], key[r["duplicate_of"]])]
    from curate.normalize import match_key

    sh = minhash.shingles([match_key(t) for t in texts], 2)
    even = np.arange(0, len(texts), 2)
    scores = minhash.jaccard(sh, even, even + 1)
    assert np.allclose(scores.round(4), [r["score"] for r in near])
    assert (scores >= 0.55).all()


def test_same_answer_sayings_from_the_issue_stay_apart(xiehouyu):
    processed, _, _ = xiehouyu
    kept = {q for q, _ in kept_pairs(processed)}
    for a, b in [
        ("孙悟空照镜子", "孙悟空放屁"),
        ("脚盆里撑船", "肚子里撑船"),
        ("小脚女人上楼梯", "瘸子上楼梯"),
        ("十月的螃蟹", "上市的螃蟹"),
    ]:
        assert a in kept and b in kept, (a, b)


def test_same_records_under_other_folders_and_order_keep_the_same_riddles(tmp_path, xiehouyu_path):
    rows = xiehouyu_rows(xiehouyu_path)[:3000]
    rows += [
        ("什么东西越洗越脏？", "水"),
        ("什么东西越洗越脏", "水。"),
        ("请问什么东西越洗越脏？", "水"),
    ]
    first, second = tmp_path / "one", tmp_path / "two"
    write_ingested(first, frame(rows, source="raw/xiehouyu.json"))
    shuffled = rows[:]
    random.Random(3).shuffle(shuffled)
    half = len(shuffled) // 2
    write_ingested(
        second,
        frame(shuffled[half:], source="elsewhere/b/renamed.json"),
        frame(shuffled[:half], source="elsewhere/a.json"),
    )
    one, _ = run(first)
    two, _ = run(second)
    assert one.kept == two.kept and kept_pairs(first) == kept_pairs(second)
    assert ("什么东西越洗越脏？", "水") in kept_pairs(first)  # the best-formed copy


def xiehouyu_rows(path: Path) -> list[tuple[str, str]]:
    return [(d["riddle"], d["answer"]) for d in json.loads(path.read_text(encoding="utf-8"))]


def test_survivor_is_the_best_formed_exact_copy(project):
    processed = project / "processed"
    rows = [("什么东西越洗越脏", "水。"), ("什么东西越洗越脏？", "水"), ("什么东西越洗越脏?", "水")]
    write_ingested(processed, frame(rows))
    run(processed)
    assert kept_pairs(processed) == {("什么东西越洗越脏?", "水")} or kept_pairs(processed) == {
        ("什么东西越洗越脏？", "水")
    }


def test_edited_copies_each_match_the_most_copied_wording_directly(project):
    """The wording most records share is the center: a shorter edited copy would keep the
    other edits apart (泥菩过江 / 泥菩萨渡江 share too few content characters)."""
    processed = project / "processed"
    edits = ["泥菩过江——", "泥菩萨渡江——", "泥菩萨要过江——"]
    rows = [("泥菩萨过江——", "自身难保")] * 3 + [(q, "自身难保") for q in edits]
    write_ingested(processed, frame(rows))
    _, rejects = run(processed)
    assert kept_pairs(processed) == {("泥菩萨过江——", "自身难保")}
    assert {r["kind"] for r in rejects.values()} == {"exact", "variant"}


def test_character_riddles_merge_only_on_their_own_clues(project):
    processed = project / "processed"
    rows = [
        ("半个月亮（打一字）", "胖"),
        ("十五天半个月（打一字）", "胖"),
        ("十五天（打一字）", "胖"),
        ("四面都是山（打一字）", "田"),
        ("口中有十（打一字）", "田"),
        ("一口咬掉牛尾巴（打一字）", "告"),
        ("一口咬掉牛的尾巴（打一字）", "告"),
    ]
    write_ingested(processed, frame(rows, category="字谜"))
    _, rejects = run(processed)
    kept = {q for q, _ in kept_pairs(processed)}
    assert {
        "半个月亮（打一字）",
        "十五天（打一字）",
        "四面都是山（打一字）",
        "口中有十（打一字）",
    } <= kept
    removed = {r["raw"]["question"] for r in rejects.values()}
    # 十五天半个月 may join either (its own content matches both), but never joins them.
    assert "一口咬掉牛的尾巴（打一字）" in removed
    assert removed <= {"一口咬掉牛的尾巴（打一字）", "十五天半个月（打一字）"}


def test_glyph_conflicts_need_near_identical_questions(project):
    processed = project / "processed"
    rows = [
        ("两个月亮（打一字）", "朋"),
        ("半个月亮（打一字）", "胖"),
        ("什么门永远关不上？", "球门"),
        ("什么门永远都关不上？", "足球门"),
    ]
    write_ingested(processed, frame(rows))
    result, _ = run(processed)
    (line,) = io.read_jsonl(processed / "deduped.conflicts.jsonl")
    assert result.kept == 4 and {line["a"]["answer"], line["b"]["answer"]} == {"球门", "足球门"}
    assert 0.65 <= line["score"] < 1 and line["a"]["kept_as"] == line["a"]["id"]


def test_against_removes_contaminated_records_pointing_at_the_external_one(project):
    processed = project / "processed"
    rows = [
        ("什么人一年只上一天班还不怕被解雇？", "圣诞老人"),
        ("什么床不能睡？", "牙床"),
        ("泥菩萨过江", "自身难保"),
    ]
    write_ingested(processed, frame(rows))
    evalset = project / "eval.jsonl"
    lines = [
        {"question": "什么人一年中只工作一天却永远不会被炒鱿鱼?", "answer": "圣诞老人"},
        {"question": "泥菩萨过江——", "answer": "自身难保"},
        {"question": "什么酒不能喝？", "answer": "碘酒"},
    ]
    evalset.write_text(
        "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines), encoding="utf-8"
    )
    result, rejects = run(processed, against=(evalset,))
    assert result.n_in == 3 and result.kept == 1 and result.removed["contaminated"] == 2
    assert kept_pairs(processed) == {("什么床不能睡？", "牙床")}
    assert all(str(evalset) in r["detail"] for r in rejects.values())
    manifest = json.loads((processed / "deduped.manifest.json").read_text(encoding="utf-8"))
    assert any(i["path"].endswith("eval.jsonl") for i in manifest["inputs"])
    assert manifest["counts"] == {"in": 3, "kept": 1, "rejected": 2}


def test_overrides_by_question_survive_a_renamed_folder(project):
    processed = project / "processed"
    santa = [
        ("什么人一年只上一天班还不怕被解雇？", "圣诞老人"),
        ("什么人一年中只工作一天却永远不会被炒鱿鱼？", "圣诞老人"),
    ]
    (project / "dedupe.overrides.jsonl").write_text(
        json.dumps({"a": santa[0][0], "b": santa[1][0], "decision": "distinct"}, ensure_ascii=False)
        + "\n",
        encoding="utf-8",
    )
    for source in ("raw/a.json", "moved/elsewhere/a.json"):
        write_ingested(processed, frame(santa, source=source))
        result, _ = run(processed)
        assert result.kept == 2 and not result.warnings


@pytest.mark.parametrize("min_shared", [1, 2])
def test_bigram_index_finds_the_pairs_a_lookup_of_every_pair_keeps(
    xiehouyu_path, tmp_path, monkeypatch, min_shared
):
    """The variant passes find the pairs sharing `variant_min_shared` content bigrams (or,
    brain teasers and 谜语, a character that is not template) through who has each n-gram,
    and count the bigrams there; looking up every pair of each answer group instead (and
    keeping those that share enough, counted by the lookup) must give the same files, byte
    for byte. 歇后语 and the labelled pairs' brain teasers."""
    from curate.stages.dedupe import variants

    index = variants._new_pairs

    def every_pair(ids, nodes, group, cache, min_shared):
        return index(ids, nodes, group, cache, 0)  # every pair, uncounted

    labelled = Path(__file__).parents[2] / "data" / "dedupe_pairs.jsonl"
    pairs = [json.loads(line) for line in labelled.read_text("utf-8").splitlines()]
    rows = [(p[s]["question"], p[s]["answer"]) for p in pairs for s in ("a", "b")]
    outputs = []
    for name in ("index", "lookup"):
        processed = tmp_path / name / "processed"
        write_ingested(processed, xiehouyu_frame(xiehouyu_path), frame(rows, "raw/pairs.json"))
        if name == "lookup":
            monkeypatch.setattr(variants, "_new_pairs", every_pair)
        result, _ = run(processed, variant_min_shared=min_shared)
        assert result.removed["variant"] > 0
        names = ("deduped.parquet", "deduped.rejects.jsonl", "deduped.clusters.md")
        outputs.append([(processed / f).read_bytes() for f in names])
    assert outputs[0] == outputs[1]
