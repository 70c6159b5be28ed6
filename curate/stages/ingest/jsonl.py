"""JSONL read in batches of whole lines, with memory bounded by the batch, and mapped to
fields column-wise.

A line that is a flat JSON object of strings and integers is split into tokens by one regex;
its keys (the line's "shape") are mapped to question, answer, category and meta once per shape
by `fields.to_fields` itself, on placeholder values, so the mapping rules live in one place.
Any other line (nested values, floats, null, booleans, duplicate keys, escaped surrogates,
broken JSON, an `input` field to join, a record `to_fields` rejects) is read one at a time by
`readers.jsonl_record`, as `read_file` would.

A file that is not UTF-8, or whose first line opens a JSON document spanning several lines,
raises NotStreamable: the caller reads it whole with `readers.read_file`.
"""

from __future__ import annotations

import gzip
import json
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from curate.stages.ingest import columns, readers
from curate.stages.ingest.batches import FIELDS
from curate.stages.ingest.fields import Fields, to_fields
from curate.stages.ingest.raw import RawRecord

CHUNK = 1 << 24  # bytes of the file read per batch (16 MiB: about 200k riddles)
MAX_SHAPES = 32  # distinct key lists mapped column-wise per batch; rarer ones line by line

_STR = r'"(?:[^"\\\x00-\x1f]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*"'
_INT = r"(?:0|-?[1-9][0-9]{0,14})"
_TOKEN = f"{_STR}|{_INT}"
_PAIR = rf"{_STR}[ \t]*:[ \t]*(?:{_TOKEN})[ \t]*"
_FLAT = rf"^[ \t]*\{{[ \t]*(?:{_PAIR}(?:,[ \t]*{_PAIR})*)?\}}[ \t]*$"
_SURROGATE_ESCAPE = r"\\u[dD][89a-fA-F]"
_BARE_CR = re.compile(rb"\r(?!\n)")
_BOM = b"\xef\xbb\xbf"


class NotStreamable(Exception):
    """The file must be read whole (not UTF-8, or a JSON document rather than JSON lines)."""


def streamable(path: Path, encoding: str | None) -> bool:
    return encoding is None and readers.input_format(path) == "jsonl"


def line_batches(path: Path) -> Iterator[tuple[int, list[str]]]:
    """(number of the first line, lines) per chunk of whole lines; a CR alone ends a line."""
    opener = gzip.open if path.suffix.lower() == ".gz" else open
    leftover, number, started = b"", 1, False
    try:
        with opener(path, "rb") as f:
            while True:
                data = f.read(CHUNK)
                chunk = leftover + data
                cut = max(chunk.rfind(b"\n"), chunk.rfind(b"\r", 0, len(chunk) - 1))
                if data and cut < 0:
                    leftover = chunk
                    continue
                piece, leftover = (chunk[: cut + 1], chunk[cut + 1 :]) if data else (chunk, b"")
                if not started:
                    started, piece = True, _strip_bom(piece)
                lines = _BARE_CR.sub(b"\n", piece).decode("utf-8").split("\n")
                if data:
                    lines.pop()  # the piece ends with a line break
                yield number, lines
                number += len(lines)
                if not data:
                    return
    except (UnicodeDecodeError, OSError, EOFError, zlib.error):
        raise NotStreamable(str(path)) from None


def _strip_bom(piece: bytes) -> bytes:
    """read_file: utf-8-sig drops one BOM, then one more U+FEFF is removed."""
    if piece.startswith(_BOM):
        piece = piece[len(_BOM) :]
        return piece[len(_BOM) :] if piece.startswith(_BOM) else piece
    return piece


def encoding_of(path: Path) -> str:
    opener = gzip.open if path.suffix.lower() == ".gz" else open
    with opener(path, "rb") as f:
        return "utf-8-sig" if f.read(3) == _BOM else "utf-8"


@dataclass(frozen=True)
class Plan:
    """Where one shape's fields are: token positions of question, answer, category; meta as
    (JSON key text, value position) in sorted key order."""

    question: int
    answer: int
    category: int | None
    meta: tuple[tuple[str, int], ...]


def plan(shape: str, question_field: str | None, answer_field: str | None) -> Plan | None:
    """The mapping of a shape (keys as JSON tokens joined by \\x1f), or None: read line by line."""
    keys = [json.loads(token) for token in shape.split("\x1f")] if shape else []
    if len(set(keys)) < len(keys) or any(k.strip().lower() == "input" for k in keys):
        return None
    holders = {f"\x00{i}": i for i in range(len(keys))}
    fields = to_fields(dict(zip(keys, holders, strict=True)), question_field, answer_field)
    if not isinstance(fields, Fields):
        return None
    meta = json.loads(fields.meta)
    if not all(isinstance(v, str) and v in holders for v in meta.values()):
        return None
    if fields.question not in holders or fields.answer not in holders:
        return None
    if fields.category is not None and fields.category not in holders:
        return None
    return Plan(
        holders[fields.question],
        holders[fields.answer],
        holders.get(fields.category) if fields.category is not None else None,
        tuple((json.dumps(k, ensure_ascii=False), holders[v]) for k, v in meta.items()),
    )


def _value(tokens: pl.Expr, index: pl.Expr) -> pl.Expr:
    """The text of the value at `index`: JSON strings decoded, integers as written."""
    token = tokens.list.get(index * 2 + 1, null_on_oob=True)
    number = pl.concat_str(pl.lit('"'), token, pl.lit('"'))
    quoted = pl.when(token.str.starts_with(pl.lit('"'))).then(token).otherwise(number)
    return quoted.str.json_decode(pl.String)


def _meta(tokens: pl.Expr, p: Plan) -> tuple[pl.Expr, pl.Expr]:
    """The meta JSON text of rows of this plan, and whether a value needs decoding first."""
    if not p.meta:
        return pl.lit("{}"), pl.lit(False)
    parts, escaped = [pl.lit("{")], pl.lit(False)
    for n, (key, i) in enumerate(p.meta):
        value = tokens.list.get(2 * i + 1)
        parts += [pl.lit(f"{', ' if n else ''}{key}: "), value]
        escaped = escaped | value.str.contains("\\", literal=True)
    return pl.concat_str([*parts, pl.lit("}")]), escaped


def map_lines(
    start: int, lines: list[str], config
) -> tuple[pl.DataFrame, list[int], callable, int]:
    """Fields of one batch of lines: (mapped, slow orders, record(order), non-blank records)."""
    frame = pl.DataFrame({"raw": lines}, schema={"raw": pl.String}).with_row_index("n")
    frame = frame.with_columns(
        line=pl.col("n").cast(pl.Int64) + start, raw=pl.col("raw").str.strip_chars_end("\r\n")
    )
    blank = pl.col("raw").str.contains(f"^{columns.classes()['spaces'][:-1]}*$")
    frame = frame.filter(~blank).drop("n").with_row_index("order")
    frame = frame.with_columns(order=pl.col("order").cast(pl.Int64))
    flat = pl.col("raw").str.contains(_FLAT) & ~pl.col("raw").str.contains(_SURROGATE_ESCAPE)
    tokens = pl.when(flat).then(pl.col("raw").str.extract_all(_TOKEN))
    frame = frame.with_columns(tokens=tokens)
    frame = frame.with_columns(shape=pl.col("tokens").list.gather_every(2).list.join("\x1f"))
    shapes = frame["shape"].drop_nulls().value_counts(sort=True, name="count")
    shapes = shapes.sort(["count", "shape"], descending=[True, False]).head(MAX_SHAPES)
    plans = {}
    for shape in shapes["shape"].to_list():
        found = plan(shape, config.question_field, config.answer_field)
        if found is not None:
            plans[shape] = found
    fast = _mapped(frame.filter(pl.col("shape").is_in(list(plans))), plans)
    slow = sorted(set(frame["order"].to_list()) - set(fast["order"].to_list()))
    lines_of, raws = frame["line"], frame["raw"]

    def record(order: int) -> RawRecord:
        return readers.jsonl_record(lines_of[order], raws[order])

    return fast.select(list(FIELDS)), slow, record, frame.height


def _mapped(frame: pl.DataFrame, plans: dict[str, Plan]) -> pl.DataFrame:
    """Question, answer, category and meta of rows whose shape has a plan."""
    if frame.is_empty():
        return pl.DataFrame(schema=FIELDS)
    table = pl.DataFrame(
        {
            "shape": list(plans),
            "qi": [p.question for p in plans.values()],
            "ai": [p.answer for p in plans.values()],
            "ci": [p.category for p in plans.values()],
        },
        schema={"shape": pl.String, "qi": pl.Int64, "ai": pl.Int64, "ci": pl.Int64},
    )
    frame = frame.join(table, on="shape", how="left", maintain_order="left")
    meta, escaped = pl.lit(None, pl.String), pl.lit(False)
    for shape, p in reversed(plans.items()):
        m, e = _meta(pl.col("tokens"), p)
        meta = pl.when(pl.col("shape") == pl.lit(shape)).then(m).otherwise(meta)
        escaped = pl.when(pl.col("shape") == pl.lit(shape)).then(e).otherwise(escaped)
    frame = frame.with_columns(meta=meta, escaped=escaped).filter(~pl.col("escaped"))
    tokens = pl.col("tokens")
    return frame.with_columns(
        question=_value(tokens, pl.col("qi")),
        answer=_value(tokens, pl.col("ai")),
        category=_value(tokens, pl.col("ci")),
    )
