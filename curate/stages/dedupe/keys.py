"""Match keys, vectorized, and question keys without the markers of a riddle type.

`match_keys` equals `normalize.match_key` (tested). `content_keys` first cuts what marks a
riddle's type rather than its content, (打一字), （打一动物）, 猜一猜：, 谜语：, a final 打一物,
then keys the rest: the text the variant features and the content characters are taken from.
A final 打一字） whose opening bracket was lost is a marker too.

>>> import polars as pl
>>> content_keys(pl.Series(["半个月亮（打一字）", "猜一猜：什么门永远关不上？"])).to_list()
['半个月亮', '什么门永远关不上']
>>> content_keys(pl.Series(["吃死老公（丈夫）睡塌床"])).to_list()  # a gloss is cut too
['吃死老公睡塌床']
>>> content_keys(pl.Series(["日出地平线打一字）", "什么动物的鼻子最长？"])).to_list()
['日出地平线', '什么\ue000的鼻子最长']
"""

from __future__ import annotations

import os

import numpy as np
import polars as pl

from curate.stages.dedupe import minhash

# Everything match_key drops: punctuation, separators (spaces), symbols, control/format chars.
_NOT_KEY = r"[\p{P}\p{Z}\p{S}\p{C}]"
_NOT_BARE_KEY = r"[\p{P}\p{Z}\p{C}]"  # a text of nothing but symbols keeps them
_SPLIT_FROM = 1 << 14  # texts keyed in one chunk per core from this many on
_PREFIX = "猜一猜|请问|谜语|字谜|歇后语|脑筋急转弯|考考你|谜面"
MARKERS = (
    r"[（(][^（）()]*[打猜][^（）()]*[）)]"  # a bracketed note naming what to guess
    rf"|^\s*(?:{_PREFIX})\s*[：:，,]?"  # a leading label
    r"|[打猜][一1][个個]?[一-鿿]{0,4}[）)]?[。？！?!]?\s*$"  # a final 打一物, no ( before it
    r"|[（(][^（）()]*[）)]"  # a gloss: 吃死老公（丈夫）睡塌床 is 吃死老公睡塌床 explained
)

# The kind of thing a brain teaser asks for is its template, not its content: two different
# riddles answered 大象 both ask 什么动物 (鼻子最长 / 陆地上最重). Right after the question word
# it becomes one private-use character per kind (CATEGORY_BASE + n): it still counts in the
# score (both ask for a 鸟), but never as a content character or bigram (`similarity.py`).
_ASK = ("什么", "哪种", "哪样", "哪个", "哪一种", "哪一样", "哪一个", "何种")
# Generic kinds only: in 什么鱼不能吃 (木鱼) the 鱼 is the clue.
_KINDS = ("动物", "植物", "生物", "水果", "蔬菜", "食物", "食品", "地方", "职业", "工具")
_KINDS += ("交通工具", "物品", "东东", "玩意", "玩意儿", "电器", "乐器", "昆虫")
CATEGORY_BASE = 0xE000
_CATEGORY = {a + k: a + chr(CATEGORY_BASE + n) for n, k in enumerate(_KINDS) for a in _ASK}
_CATEGORY_WORDS = sorted(_CATEGORY, key=lambda w: (-len(w), w))  # leftmost-first: longest
_CATEGORY_FORMS = [_CATEGORY[w] for w in _CATEGORY_WORDS]


def match_keys(texts: pl.Series) -> pl.Series:
    """normalize.match_key, vectorized: NFKC, lowercase, drop P/Z/S/C (equal; tested).

    Texts repeat (answers: 多此一举 ×29; questions: exact copies, 43% distinct in the 1M
    bench), so unless most are distinct (estimated: HyperLogLog, 10 ms) only the distinct
    ones are normalized, then spread back: at 1M, 0.6 s instead of 1.3 s."""
    if texts.approx_n_unique() * 10 > texts.len() * 8 or texts.len() < 2:
        return _key_expr(texts)
    return keys_and_ids(texts, ids=False)[0]


def keys_and_ids(texts: pl.Series, ids: bool = True) -> tuple[pl.Series, np.ndarray | None]:
    """`match_keys(texts)`, and an id per row for its key (None unless `ids`): equal ids
    exactly where the keys are equal (numbered in no particular order). Only the distinct
    texts are keyed, and only their keys grouped (at 1M: 421k questions, 9k answers)."""
    group, first = distinct_rows(texts)
    if group is None:  # a hash collision: every row keyed, the keys grouped
        keys = _key_expr(texts)
        return keys, text_ids(keys) if ids else None
    keys = _key_expr(texts.gather(first))
    return keys.gather(group).alias(texts.name), text_ids(keys)[group] if ids else None


def text_ids(texts: pl.Series) -> np.ndarray:
    """An id per row, equal exactly where the texts are (nulls alike): the checked hash
    grouping of `distinct_rows`, or where two texts' hashes collide, a sort."""
    group, _ = distinct_rows(texts)
    if group is None:
        return pl.select(pl.lit(texts).rank("dense").fill_null(0)).to_series().to_numpy()
    return group


def distinct_rows(texts: pl.Series) -> tuple[np.ndarray | None, np.ndarray]:
    """Each row's group of equal texts and one row of each group, grouped by a 64-bit hash,
    then checked: every row equals its group's row. (None, ...) on a hash collision (about
    once in 10^7 sets of a million texts): then there is no grouping to trust."""
    _, group = minhash.unique_inverse(texts.hash().to_numpy())
    first = np.empty(int(group.max(initial=-1)) + 1, dtype=np.int64)
    first[group] = np.arange(group.size)  # any row of a group: they are all equal (checked)
    if not texts.gather(first[group]).eq_missing(texts).all():
        return None, first
    return group, first


def per_core(data: pl.Series | pl.DataFrame) -> pl.Series | pl.DataFrame:
    """`data` in one chunk per core (from _SPLIT_FROM rows): polars runs an expression over
    a column's chunks in parallel, and over a single chunk on one core (at 1M, the string
    matching of the keys step takes half the time). Rechunk what comes out to gather from."""
    n, step = len(data), -(-len(data) // (os.cpu_count() or 1))
    if n <= _SPLIT_FROM:
        return data
    return pl.concat([data.slice(at, step) for at in range(0, n, step)], rechunk=False)


def _key_expr(texts: pl.Series) -> pl.Series:
    t, name = pl.col("t"), texts.name  # (at 1M: 0.29 -> 0.15 s for the questions, per core)
    folded = pl.DataFrame({"t": per_core(texts)}).select(t.str.normalize("NFKC").str.to_lowercase())
    key = folded.select(t.str.replace_all(_NOT_KEY, ""))["t"]
    # Nothing left: a text of nothing but symbols keeps them. Only those rows are keyed
    # again (pl.when would run the second regex over every row: 2x the time).
    bare = (key.str.len_bytes() == 0).arg_true()
    if bare.len():
        key = key.scatter(bare, folded["t"].gather(bare).str.replace_all(_NOT_BARE_KEY, ""))
    return key.rechunk().alias(name)  # (gathers from many chunks are slow)


def content_keys(questions: pl.Series, keyed: pl.Series | None = None) -> pl.Series:
    """Match keys of the questions with their type markers cut (a question that is nothing
    but a marker keeps its key), and the kind a question asks for (什么动物) one character.
    `keyed`: the questions' match keys, if known: a question without a marker has those (two
    thirds at 1M), only the others are keyed again."""
    keys = _marker_cut(questions, keyed)
    return keys.str.replace_many(_CATEGORY_WORDS, _CATEGORY_FORMS, leftmost=True)


def _marker_cut(questions: pl.Series, keyed: pl.Series | None) -> pl.Series:
    if keyed is not None:
        t = pl.DataFrame({"t": questions}).select(pl.col("t").str.contains(MARKERS))["t"]
        marked = t.arg_true()
        return keyed.clone().scatter(marked, _marker_cut(questions.gather(marked), None))
    cut = pl.DataFrame({"t": questions}).select(pl.col("t").str.replace_all(MARKERS, ""))["t"]
    keys = _key_expr(cut)
    whole = (keys.str.len_chars() == 0).arg_true()  # only these keyed again, uncut
    if whole.len():
        keys = keys.scatter(whole, _key_expr(questions.gather(whole)))
    return keys
