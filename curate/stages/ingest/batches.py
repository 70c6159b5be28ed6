"""Convert a batch of records column-wise: display text, riddle type, filters, ids and content
hashes of whole columns; per-record Python (`convert_one`) only for the rows a vector check
flags: rejects of any kind, possible mojibake, split notes, unbalanced brackets, over-long
fields, character riddles whose glyphs OpenCC would change, and text the column code cannot
normalize exactly (see columns.py). Every row gets the bytes `convert_one` would give it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

from curate import riddle_type
from curate.normalize import display
from curate.record import SCHEMA, content_hash, record_id, reject
from curate.stages.ingest import columns, filters
from curate.stages.ingest.fields import Fields, to_fields
from curate.stages.ingest.raw import RawRecord

# A batch's mapped fields: `order` is the record's position in its batch.
FIELDS = {
    "order": pl.Int64(),
    "line": pl.Int64(),
    "question": pl.String(),
    "answer": pl.String(),
    "category": pl.String(),
    "meta": pl.String(),
}


def convert_one(rec: RawRecord, source: str, config, limits: filters.Limits) -> dict:
    """One raw record -> a kept row (dict of canonical columns) or a rejects row."""
    rid = record_id(source, rec.line)
    verdict = rec.error or to_fields(rec.value, config.question_field, config.answer_field)
    if isinstance(verdict, Fields):
        fields = verdict
        question = display(fields.question, config.convert)
        answer = display(fields.answer, config.convert)
        category = display(fields.category, config.convert) if fields.category else None
        kind = riddle_type.detect(question, answer, category)
        # A character riddle is about a glyph: t2s must not rewrite its answer (門 -> 门).
        question, answer, meta = riddle_type.keep_glyphs(
            fields, question, answer, kind, config.convert
        )
        verdict = filters.check(question, answer, limits, config.disabled_filters)
        if verdict is None:
            return {
                "id": rid,
                "source": source,
                "line": rec.line,
                "category": category or None,
                "riddle_type": kind,
                "question": question,
                "answer": answer,
                "question_raw": fields.question,
                "answer_raw": fields.answer,
                "content_hash": content_hash(question, answer),
                "meta": meta,
            }
    reason, detail = verdict
    return reject("ingest", reason, detail, source, rec.line, rec.raw, id=rid)


@dataclass
class Converted:
    """One batch's result: kept rows (canonical columns + `order`) and rejects by order."""

    kept: pl.DataFrame
    rejects: list[tuple[int, dict]]


def map_records(records: list[RawRecord], config) -> tuple[pl.DataFrame, list[int]]:
    """Fields of the records that map to a question and answer, and the orders of the rest."""
    rows: dict[str, list] = {name: [] for name in FIELDS}
    slow = []
    for order, rec in enumerate(records):
        fields = rec.error or to_fields(rec.value, config.question_field, config.answer_field)
        if not isinstance(fields, Fields):
            slow.append(order)
            continue
        for name, value in zip(
            FIELDS,
            (order, rec.line, fields.question, fields.answer, fields.category, fields.meta),
            strict=True,
        ):
            rows[name].append(value)
    return pl.DataFrame(rows, schema=FIELDS), slow


def sha16(texts: list[str]) -> list[str]:
    """`sha1(text)[:16]` of each text, as `record_id` and `content_hash` compute it."""
    sha1 = hashlib.sha1
    return [sha1(t.encode()).hexdigest()[:16] for t in texts]


_BRACKETS = columns.char_class(sorted(map(ord, {**filters.OPENING, **filters.CLOSING})))
_PAIR = "|".join(
    columns.char_class([ord(o)])
    + f"[^{_BRACKETS[1:-1]}]*"
    + columns.char_class(sorted(ord(c) for c, f in filters.CLOSING.items() if f == family))
    for o, family in filters.OPENING.items()
)
_GARBLED = "|".join([*map(re.escape, filters.GARBLED), filters.LATIN1_RUN, filters.PRIVATE_USE])
_SPLIT = f"{filters.OPEN_TAIL}|{filters.LATIN_TAIL}|^[a-z]"


def _unbalanced(col: pl.Expr) -> pl.Expr:
    """A bracket left once matched pairs are removed, innermost first (three levels deep)."""
    for _ in range(3):
        col = col.str.replace_all(_PAIR, "")
    return col.str.contains(_BRACKETS)


def _suspect(limits: filters.Limits) -> pl.Expr:
    """Rows some filter might reject, or whose text the column code cannot key exactly."""
    q, a, kq, ka = (pl.col(c) for c in ("question", "answer", "kq", "ka"))
    either = [q, a]
    maybe = (kq == "") | (ka == "") | (kq == ka)
    for test in (
        lambda c: c.str.contains(_GARBLED),
        lambda c: c.str.contains(_SPLIT),
        columns.key_flag,
    ):
        maybe = maybe | test(either[0]) | test(either[1])
    too_long = (q.str.len_chars() > limits.max_question) | (a.str.len_chars() > limits.max_answer)
    return maybe | too_long


def _brackets(frame: pl.DataFrame) -> pl.DataFrame:
    """Also suspect: rows with an unmatched bracket (checked only on rows holding a bracket)."""
    q, a = pl.col("question"), pl.col("answer")
    has = q.str.contains(_BRACKETS) | a.str.contains(_BRACKETS)
    rows = frame.select(has & ~pl.col("suspect") & ~pl.col("glyph"))[:, 0].arg_true()
    if rows.len() == 0:
        return frame
    bad = frame[rows].select(_unbalanced(q) | _unbalanced(a))[:, 0]
    return frame.with_columns(frame["suspect"].scatter(rows, bad))


def convert_batch(
    mapped: pl.DataFrame,
    slow: list[int],
    record: Callable[[int], RawRecord],
    source: str,
    config,
    limits: filters.Limits,
) -> Converted:
    """Convert mapped rows column-wise; `record(order)` gives a row to convert one by one."""
    convert = config.convert
    category = mapped["category"].replace("", None)
    frame = pl.DataFrame(
        {
            "order": mapped["order"],
            "line": mapped["line"],
            "category": columns.display_column(category, convert).replace("", None),
            "question": columns.display_column(mapped["question"], convert),
            "answer": columns.display_column(mapped["answer"], convert),
        }
    )
    frame = frame.with_columns(riddle_type=riddle_type.detect_column(frame))
    frame = frame.with_columns(
        kq=columns.match_key(pl.col("question")), ka=columns.match_key(pl.col("answer"))
    )
    glyphs = (pl.col("riddle_type") == "字谜") & (convert != "none")
    frame = frame.with_columns(
        question_raw=mapped["question"],
        answer_raw=mapped["answer"],
        meta=mapped["meta"],
        glyph=glyphs,
        suspect=_suspect(limits) & ~glyphs,
    )
    frame = _brackets(frame)
    slow = sorted(slow + frame.filter("glyph")["order"].to_list())
    fast = frame.filter(~pl.col("glyph") & ~pl.col("suspect"))
    keys = fast.select(pl.concat_str("kq", "ka", separator="\x1f"))[:, 0].to_list()
    ids = sha16([f"{source}\x00{line}" for line in fast["line"].to_list()])
    fast = fast.with_columns(
        id=pl.Series(ids, dtype=pl.String),
        source=pl.lit(source, pl.String),
        content_hash=pl.Series(sha16(keys), dtype=pl.String),
    ).select("order", *SCHEMA)
    kept, rejects = [], []
    for row in frame.filter("suspect").iter_rows(named=True):
        _check(row, record, source, config, limits, kept, rejects)
    for order in slow:
        row = convert_one(record(order), source, config, limits)
        (rejects if "reason" in row else kept).append((order, row))
    rejects.sort(key=lambda pair: pair[0])
    if kept:
        more = pl.DataFrame(
            {"order": [o for o, _ in kept], **{c: [r[c] for _, r in kept] for c in SCHEMA}},
            schema={"order": pl.Int64(), **SCHEMA},
        )
        fast = pl.concat([fast, more]).sort("order")
    return Converted(fast, rejects)


def _check(row: dict, record, source: str, config, limits, kept: list, rejects: list) -> None:
    """A row some filter might reject: the filters, in Python, on its (exact) display text."""
    order, line = row["order"], row["line"]
    verdict = filters.check(row["question"], row["answer"], limits, config.disabled_filters)
    if verdict is not None:
        raw = record(order).raw
        rejects.append(
            (order, reject("ingest", *verdict, source, line, raw, id=record_id(source, line)))
        )
    else:
        row.update(
            id=record_id(source, line),
            source=source,
            content_hash=content_hash(row["question"], row["answer"]),
        )
        kept.append((order, row))
