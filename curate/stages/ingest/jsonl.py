"""JSONL read in batches of whole lines, with memory bounded by the batch, and mapped to
fields column-wise.

A line that is a flat JSON object of strings and integers is split into tokens by one regex;
its keys (the line's "shape") are mapped to question, answer, category and meta once per shape
by `fields.to_fields` itself, on placeholder values, so the mapping rules live in one place.
Any other line (nested values, floats, null, booleans, duplicate keys, escaped surrogates,
broken JSON, an `input` field to join, a record `to_fields` rejects) is read one at a time by
`readers.jsonl_record`, as `read_file` would.

A file that is not UTF-8, whose first line opens a JSON document spanning several lines, or
with a line holding an array of several records, raises NotStreamable: the caller reads it
whole with `readers.read_file`.
"""

from __future__ import annotations

import gzip
import itertools
import json
import re
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from curate.stages.ingest import columns, readers
from curate.stages.ingest.batches import FIELDS
from curate.stages.ingest.fields import Fields, to_fields
from curate.stages.ingest.jsondoc import read_jsonl
from curate.stages.ingest.raw import RawRecord

CHUNK = 1 << 24  # bytes of the file read per batch (16 MiB: about 200k riddles)
MAX_SHAPES = 32  # distinct key lists mapped column-wise per batch; rarer ones line by line
SAMPLE = 4096  # flat lines the usual shapes are learned from

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


def _decode(token: pl.Expr) -> pl.Expr:
    """The text of a value token: JSON strings decoded, integers as written."""
    number = pl.concat_str(pl.lit('"'), token, pl.lit('"'))
    quoted = pl.when(token.str.starts_with(pl.lit('"'))).then(token).otherwise(number)
    return quoted.str.json_decode(pl.String)


def _escape(text: str) -> str:
    """`text` as a literal in a (Rust) regex: ASCII punctuation written as \\x{..}."""
    return "".join(c if c.isalnum() or ord(c) > 127 else f"\\x{{{ord(c):x}}}" for c in text)


def shape_regex(shape: str) -> str:
    """A regex matching a flat object with exactly these keys in this order; group i = the
    token of value i."""
    keys = shape.split("\x1f")
    pairs = [f"{_escape(k)}[ \\t]*:[ \\t]*({_TOKEN})[ \\t]*" for k in keys]
    return "^[ \\t]*\\{[ \\t]*" + ",[ \\t]*".join(pairs) + "\\}[ \\t]*$"


def _fields(frame: pl.DataFrame, values: list[pl.Expr], p: Plan) -> pl.DataFrame:
    """Mapped fields of rows of one shape, whose value tokens are `values`; rows whose meta
    holds an escaped string are left out (read line by line)."""
    parts, escaped = [pl.lit("{")], pl.lit(False)
    for n, (key, i) in enumerate(p.meta):
        parts += [pl.lit(f"{', ' if n else ''}{key}: "), values[i]]
        escaped = escaped | values[i].str.contains("\\", literal=True)
    meta = pl.concat_str([*parts, pl.lit("}")]) if p.meta else pl.lit("{}")
    category = pl.lit(None, pl.String) if p.category is None else _decode(values[p.category])
    return frame.filter(~escaped).select(
        "order",
        "line",
        question=_decode(values[p.question]),
        answer=_decode(values[p.answer]),
        category=category,
        meta=meta,
    )


def _plans(frame: pl.DataFrame, config) -> dict[str, Plan]:
    """Plans of the most frequent shapes among (a sample of) the flat rows of `frame`."""
    tokens = frame.select(pl.col("raw").str.extract_all(_TOKEN).list.gather_every(2))
    shapes = tokens.select(pl.first().list.join("\x1f"))[:, 0].value_counts(name="count")
    shapes = shapes.sort(["count", shapes.columns[0]], descending=[True, False])
    plans = {}
    for shape in shapes[:, 0].head(MAX_SHAPES).to_list():
        found = plan(shape, config.question_field, config.answer_field)
        if found is not None:
            plans[shape] = found
    return plans


def _check_arrays(frame: pl.DataFrame) -> None:
    """NotStreamable when a line holds an array of several records: they share its line, so
    the file's records are numbered by index (read_file does that), keeping ids unique."""
    for raw in frame.filter(pl.col("raw").str.contains(r"^[ \t\ufeff]*\["))["raw"]:
        if len(list(itertools.islice(read_jsonl(raw, Path()), 2))) > 1:
            raise NotStreamable("a line holding several records")


def map_lines(
    start: int, lines: list[str], config
) -> tuple[pl.DataFrame, list[int], Callable[[int], RawRecord], int]:
    """Fields of one batch of lines: (mapped, slow orders, record(order), non-blank records).

    Shapes are learned from the first flat rows, then each is matched by its own regex over
    the batch (one pass per shape gives every value token); flat rows of other shapes are
    learned from in a second round."""
    frame = pl.DataFrame({"raw": lines}, schema={"raw": pl.String}).with_row_index("n")
    frame = frame.with_columns(
        line=pl.col("n").cast(pl.Int64) + start, raw=pl.col("raw").str.strip_chars_end("\r\n")
    )
    blank = pl.col("raw").str.contains(f"^{columns.classes()['spaces'][:-1]}*$")
    frame = frame.filter(~blank).drop("n").with_row_index("order")
    frame = frame.with_columns(order=pl.col("order").cast(pl.Int64))
    _check_arrays(frame)
    flat = pl.col("raw").str.contains(_FLAT) & ~pl.col("raw").str.contains(_SURROGATE_ESCAPE)
    rest = frame.filter(flat)
    found: list[pl.DataFrame] = []
    for sample in (SAMPLE, None):  # learn from a sample, then from whatever is left
        if rest.is_empty():
            break
        plans = _plans(rest.head(sample) if sample else rest, config)
        for shape, p in plans.items():
            groups = rest.select(pl.col("raw").str.extract_groups(shape_regex(shape)))[:, 0]
            hit = groups.struct.field(groups.struct.fields[0]).is_not_null()
            matched = rest.with_columns(v=groups).filter(hit)
            values = [pl.col("v").struct.field(f) for f in groups.struct.fields]
            found.append(_fields(matched, values, p))
            rest = rest.filter(~hit)
    fast = pl.concat(found).sort("order") if found else pl.DataFrame(schema=FIELDS)
    slow = frame.join(fast.select("order"), on="order", how="anti")["order"].to_list()
    lines_of, raws = frame["line"], frame["raw"]

    def record(order: int) -> RawRecord:
        return readers.jsonl_record(lines_of[order], raws[order])

    return fast.select(list(FIELDS)), slow, record, frame.height
