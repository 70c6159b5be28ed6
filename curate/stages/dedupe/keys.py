"""Match keys, vectorized, and question keys without the markers of a riddle type.

`match_keys` equals `normalize.match_key` (tested). `content_keys` first cuts what marks a
riddle's type rather than its content, (打一字), （打一动物）, 猜一猜：, 谜语：, a final 打一物,
then keys the rest: the text the variant features and the content characters are taken from.
A final 打一字） whose opening bracket was lost is a marker too.

>>> import polars as pl
>>> content_keys(pl.Series(["半个月亮（打一字）", "猜一猜：什么门永远关不上？"])).to_list()
['半个月亮', '什么门永远关不上']
>>> content_keys(pl.Series(["日出地平线打一字）"])).to_list()
['日出地平线']
"""

from __future__ import annotations

import polars as pl

# Everything match_key drops: punctuation, separators (spaces), symbols, control/format chars.
_NOT_KEY = r"[\p{P}\p{Z}\p{S}\p{C}]"
_NOT_BARE_KEY = r"[\p{P}\p{Z}\p{C}]"  # a text of nothing but symbols keeps them
_PREFIX = "猜一猜|请问|谜语|字谜|歇后语|脑筋急转弯|考考你|谜面"
MARKERS = (
    r"[（(][^（）()]*[打猜][^（）()]*[）)]"  # a bracketed note naming what to guess
    rf"|^\s*(?:{_PREFIX})\s*[：:，,]?"  # a leading label
    r"|[打猜][一1][个個]?[一-鿿]{0,4}[）)]?[。？！?!]?\s*$"  # a final 打一物, no ( before it
)


def match_keys(texts: pl.Series) -> pl.Series:
    """normalize.match_key, vectorized: NFKC, lowercase, drop P/Z/S/C (equal; tested).

    Answers repeat a lot (多此一举 ×29), so when under a tenth of the texts are distinct
    (estimated: HyperLogLog, 10 ms) only the distinct ones are normalized."""
    if texts.approx_n_unique() * 10 > texts.len():
        return _key_expr(texts)
    distinct = texts.unique()
    return texts.replace_strict(distinct, _key_expr(distinct), return_dtype=pl.String)


def _key_expr(texts: pl.Series) -> pl.Series:
    # Through a frame: polars then splits the column over all cores (a bare Series uses one).
    folded = pl.col("t").str.normalize("NFKC").str.to_lowercase()
    key = folded.str.replace_all(_NOT_KEY, "")
    key = (
        pl.when(key.str.len_bytes() > 0)
        .then(key)
        .otherwise(folded.str.replace_all(_NOT_BARE_KEY, ""))
    )
    return pl.DataFrame({"t": texts}).select(key.alias("t"))["t"].alias(texts.name)


def content_keys(questions: pl.Series) -> pl.Series:
    """Match keys of the questions with their type markers cut (a question that is nothing
    but a marker keeps its key)."""
    cut = pl.DataFrame({"t": questions}).select(pl.col("t").str.replace_all(MARKERS, ""))["t"]
    keys = _key_expr(cut)
    empty = keys.str.len_chars() == 0
    if empty.any():  # the whole key only where needed: a handful of a million questions
        keys = keys.scatter(empty.arg_true(), _key_expr(questions.filter(empty)))
    return keys
