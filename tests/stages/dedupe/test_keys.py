"""Match keys of repeated texts: keyed once per distinct text, equal to keying every row."""

from __future__ import annotations

import json

import numpy as np
import polars as pl

from curate.normalize import match_key
from curate.stages.dedupe import keys, minhash

HOSTILE = [
    "ＡＢＣ？！ 什麼\u200b",
    "ﬁ Ⅲ ½ ㈠ ⑴ Σς",
    "\ue000x\U000e0001y",
    "  ",
    "🐍 🎨👣！",
    "？？",
    "",
]


def repeated_texts(xiehouyu_path) -> list[str]:
    data = json.loads(xiehouyu_path.read_text(encoding="utf-8"))
    texts = [d["riddle"] for d in data][:300] + HOSTILE
    rng = np.random.default_rng(7)
    return [texts[i] for i in rng.integers(0, len(texts), size=3000)]  # ~10% distinct


def test_repeated_texts_keyed_once_each_equal_match_key(xiehouyu_path):
    texts = repeated_texts(xiehouyu_path)
    series = pl.Series("question", texts)
    assert series.approx_n_unique() * 10 < series.len() * 8  # the distinct-only path
    got = keys.match_keys(series)
    assert got.name == "question"
    assert got.to_list() == [match_key(t) for t in texts]


def test_distinct_rows_group_equal_texts_nulls_apart():
    texts = pl.Series(["a", None, "b", "a", None, "", "b", ""])
    group, first = keys.distinct_rows(texts)
    assert group is not None and first.size == 4
    assert texts.gather(first[group]).to_list() == texts.to_list()
    assert group[0] == group[3] and group[1] == group[4] and group[0] != group[2]


def test_hash_collision_falls_back_to_keying_every_row(xiehouyu_path, monkeypatch):
    """Were two different texts to share a 64-bit hash, the grouping is refused (its check
    fails) and every row is keyed on its own: still match_key of each text."""
    texts = repeated_texts(xiehouyu_path)
    one_group = lambda values: (values[:1], np.zeros(values.size, dtype=np.int64))  # noqa: E731
    monkeypatch.setattr(minhash, "unique_inverse", one_group)
    assert keys.distinct_rows(pl.Series(texts))[0] is None
    assert keys.match_keys(pl.Series(texts)).to_list() == [match_key(t) for t in texts]


def partition(values) -> set[frozenset[int]]:
    groups: dict = {}
    for row, value in enumerate(values):
        groups.setdefault(value, set()).add(row)
    return {frozenset(g) for g in groups.values()}


def test_key_ids_equal_exactly_where_keys_are(xiehouyu_path):
    """Texts that differ but share a key (punctuation, width, case) get one id."""
    texts = repeated_texts(xiehouyu_path) + ["什么门？", "什么门", "ＡＢＣ", "abc!", None]
    got, ids = keys.keys_and_ids(pl.Series(texts))
    expected = [None if t is None else match_key(t) for t in texts]
    assert got.to_list() == expected
    assert partition(ids.tolist()) == partition(expected)


def test_key_ids_after_a_hash_collision(xiehouyu_path, monkeypatch):
    texts = repeated_texts(xiehouyu_path) + ["什么门？", "什么门"]
    one_group = lambda values: (values[:1], np.zeros(values.size, dtype=np.int64))  # noqa: E731
    monkeypatch.setattr(minhash, "unique_inverse", one_group)
    got, ids = keys.keys_and_ids(pl.Series(texts))
    expected = [match_key(t) for t in texts]
    assert got.to_list() == expected
    assert partition(ids.tolist()) == partition(expected)


def test_content_keys_key_the_uncut_question_only_where_nothing_is_left(xiehouyu_path):
    """Equal to the plain form: the cut key, or where it is empty, the whole question's."""
    questions = repeated_texts(xiehouyu_path)[:500]
    questions += ["（打一字）", "猜一猜：", "打一物", None, "", "★", "谜语：半个月亮（打一字）"]
    series = pl.Series(questions)
    cut = keys.match_keys(series.str.replace_all(keys.MARKERS, ""))
    whole = keys.match_keys(series)
    plain = pl.select(pl.when(cut.str.len_chars() > 0).then(cut).otherwise(whole)).to_series()
    got = keys.content_keys(series)
    assert got.to_list() == plain.to_list()
    assert got.tail(7).to_list() == ["打一字", "猜一猜", "打一物", None, "", "★", "半个月亮"]
    # Given the match keys, only the questions with a marker are keyed again: the same keys.
    before = whole.to_list()
    assert keys.content_keys(series, whole).to_list() == plain.to_list()
    assert whole.to_list() == before  # not changed in place
    plain_only = series.head(3).str.replace_all(keys.MARKERS, "")  # no marker left
    assert keys.content_keys(plain_only, keys.match_keys(plain_only)).equals(
        keys.content_keys(plain_only)
    )


def test_keys_of_texts_split_one_chunk_per_core_equal_those_in_one_chunk(monkeypatch):
    """Many texts are keyed in one chunk per core (polars runs them in parallel): the same
    keys, in one chunk, as keying them whole; also the symbol-only ones keyed again."""
    rng = np.random.default_rng(2)
    pool = ["什么门永远关不上？", "ＡＢＣ 打一字", "★☆", "", None, "半个月亮（打一字）", "…"]
    series = pl.Series("question", [pool[k] for k in rng.integers(0, len(pool), 40_000)])
    monkeypatch.setattr(keys, "_SPLIT_FROM", 1000)
    split = keys._key_expr(series)
    monkeypatch.setattr(keys, "_SPLIT_FROM", 10**9)
    whole = keys._key_expr(series)
    assert split.equals(whole) and split.n_chunks() == 1 and split.name == "question"
    assert split.to_list()[:50] == [match_key(t) if t is not None else None for t in series[:50]]
