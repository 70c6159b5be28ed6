"""A record that says what two different riddles say is not the survivor of both
(`bridges.py`), and the star order that puts it last keeps every clustering guarantee."""

from __future__ import annotations

import json

import numpy as np
import polars as pl
import pytest
from dedupe_frames import frame, greedy_star, write_ingested

from curate import io
from curate.stages.dedupe import DedupeConfig, bridges, dedupe, star

OWL = [
    ("什么鸟白天睡大觉，夜里出来抓田鼠？", "猫头鹰"),
    ("什么鸟白天睡大觉，脑袋能转一大圈？", "猫头鹰"),  # half of each: the bridge
    ("什么鸟白天睡大觉，脑袋能转一大圈？", "猫头鹰"),  # its copy: it ranks first
    ("什么鸟脸长得像猫，脑袋能转一大圈？", "猫头鹰"),
]
CROW = [  # one saying, copied with typos, cut short, with a prefix and a word added
    ("乌鸦唱山歌", "不堪入耳"),
    ("歇后语：乌鸦唱山歌——", "不堪入耳"),
    ("乌鸦唱山", "不堪入耳"),
    ("鸦唱山歌", "不堪入耳"),
    ("乌鸦唱碗歌？", "不堪入耳"),
    ("乌鸦唱山歌寨", "不堪入耳"),
    ("乌情唱山歌…", "不堪入耳"),
    ("老乌鸦在枝头唱山歌", "不堪入耳"),
]


def survivors(processed, rows) -> dict[str, str]:
    """Each question's survivor question after `curate dedupe`."""
    write_ingested(processed, frame(rows))
    dedupe(DedupeConfig(processed=processed))
    ids = frame(rows)["id"].to_list()
    question = dict(zip(ids, [q for q, _ in rows], strict=True))
    found = io.read_jsonl(processed / "deduped.rejects.jsonl")
    rejects = {r["id"]: r["duplicate_of"] for r in found}
    return {question[i]: question[rejects.get(i, i)] for i in ids}


def no_bridges(monkeypatch):
    monkeypatch.setattr(bridges, "hubs", lambda ids, *args: np.zeros(ids.n_nodes, dtype=bool))


def test_a_record_that_says_what_two_riddles_say_does_not_merge_them(tmp_path, monkeypatch):
    fate = survivors(tmp_path / "on", OWL)
    owl_hunts, owl_face = OWL[0][0], OWL[3][0]
    assert fate[owl_hunts] != fate[owl_face]
    assert fate[OWL[1][0]] in (fate[owl_hunts], fate[owl_face])  # it joins one of them
    # Deduping the output again removes nothing: the two riddles do not match.
    kept = pl.read_parquet(tmp_path / "on" / "deduped.parquet")
    rows = list(zip(kept["question"], kept["answer"], strict=True))
    assert set(survivors(tmp_path / "again", rows).items()) == {(q, q) for q, _ in rows}
    with monkeypatch.context() as off:  # what the star order alone did: one survivor
        no_bridges(off)
        fate = survivors(tmp_path / "off", OWL)
    assert fate[owl_hunts] == fate[owl_face] == OWL[1][0]


def test_copies_of_one_saying_are_never_a_bridge(tmp_path, monkeypatch):
    fate = survivors(tmp_path / "on", CROW)
    with monkeypatch.context() as off:
        no_bridges(off)
        assert survivors(tmp_path / "off", CROW) == fate


def test_star_with_nodes_visited_last_is_the_greedy_star_in_that_order():
    rng = np.random.default_rng(7)
    for _ in range(300):
        n = int(rng.integers(1, 30))
        m = int(rng.integers(0, 50))
        u, v = rng.integers(0, n, m), rng.integers(0, n, m)
        last = rng.random(n) < 0.3
        center = star.star(n, u, v, last)
        assert center.tolist() == greedy_star(n, u, v, last)
        alive = center == np.arange(n)
        assert not (alive[u] & alive[v] & (u != v)).any()  # a fixed point: no survivor pair


def test_grown_star_with_nodes_visited_last_equals_the_star_of_all_edges():
    rng = np.random.default_rng(8)
    for _ in range(100):
        n, m, new = 40, 60, int(rng.integers(1, 15))
        u, v = rng.integers(0, n, m), rng.integers(0, n, m)
        last = rng.random(n) < 0.3
        old = m - new
        center = star.star(n, u[:old], v[:old], last)
        comp = star.components(n, u[:old], v[:old])
        grown, _ = star.grow(center, comp, u, v, new, last)
        assert grown.tolist() == star.star(n, u, v, last).tolist()


@pytest.mark.parametrize(
    ("text", "other", "run"),
    [
        ("鱼长着马头还爸爸生孩子", "鱼长着马头却从来不会跑", 6),  # its own half
        ("乌情唱山歌", "乌鸦唱山歌", 1),  # a typo
        ("乌鸦唱山", "乌鸦唱山歌", 0),  # cut short
        ("", "乌鸦", 0),
    ],
)
def test_own_run_is_the_longest_stretch_of_characters_the_other_lacks(text, other, run):
    assert bridges._own_runs([text], [other]).tolist() == [run]


def test_an_external_record_between_two_riddles_still_removes_both(tmp_path):
    """An `--against` record keeps its place as a star center even where it bridges two
    riddles: whatever matches a benchmark's riddle directly is contaminated."""
    processed = tmp_path / "processed"
    write_ingested(processed, frame([OWL[0], OWL[3]]))
    evalset = tmp_path / "eval.jsonl"
    evalset.write_text(
        json.dumps({"question": OWL[1][0], "answer": OWL[1][1]}, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
    result = dedupe(DedupeConfig(processed=processed, against=(evalset,)))
    assert result.removed["contaminated"] == 2 and result.kept == 0


def test_a_survivor_a_person_chose_is_kept_even_where_it_bridges(tmp_path):
    overrides = tmp_path / "dedupe.overrides.jsonl"
    line = {"a": OWL[1][0], "decision": "survivor"}
    overrides.write_text(json.dumps(line, ensure_ascii=False) + "\n", encoding="utf-8")
    processed = tmp_path / "processed"
    write_ingested(processed, frame(OWL))
    result = dedupe(DedupeConfig(processed=processed, overrides=overrides))
    kept = pl.read_parquet(processed / "deduped.parquet")["question"].to_list()
    assert kept == [OWL[1][0]] and not result.warnings
