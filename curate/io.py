"""File edges: atomic writers, JSONL, stage inputs. Nothing half-written is ever left behind."""

from __future__ import annotations

import itertools
import json
import math
import os
from collections import deque
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import polars as pl

# The polars-free writers live in curate.files (the training path imports them alone).
from curate.files import (  # noqa: F401 (re-exported)
    UMASK,
    atomic_path,
    dumps,
    sha256_file,
    tomllib,
    write_json,
    write_jsonl,
    write_text,
)

# What json.dumps writes for each character it escapes (with ensure_ascii=False, only these).
_ESCAPES = dict(json.encoder.ESCAPE_DCT)
# Which command writes each stage file, so a missing input can say what to run first.
PRODUCERS = {"ingested": "curate ingest", "deduped": "curate dedupe", "export": "curate export"}


def write_jsonl_frame(
    path: str | Path, frame: pl.DataFrame | Iterable[pl.DataFrame], chunk: int = 1 << 16
) -> int:
    """Write a frame as JSON lines, byte-identical to `write_jsonl(path, frame.to_dicts())`
    (structs as nested objects), built column-wise: a million rows in about a second instead of
    a million `json.dumps` calls. Return how many rows.

    `frame` may also be an iterable of frames with the same columns (rows streamed from a
    file): they are written one after the other, the same bytes as their concatenation, and
    each is built only when the writer reaches it.

    Chunks are serialized on all cores (polars releases the GIL) and written in order; at most
    two per core are in flight, so memory stays a few chunks however large the frame."""
    frames = [frame] if isinstance(frame, pl.DataFrame) else frame
    slices = (f.slice(s, chunk) for f in frames for s in range(0, f.height, chunk))
    workers, rows = os.cpu_count() or 1, 0
    with (
        atomic_path(path) as tmp,
        open(tmp, "wb") as f,
        ThreadPoolExecutor(workers) as pool,
    ):
        pending = deque(pool.submit(jsonl_lines, s) for s in itertools.islice(slices, 2 * workers))
        while pending:
            lines = pending.popleft().result()
            if len(pending) < 2 * workers and (part := next(slices, None)) is not None:
                pending.append(pool.submit(jsonl_lines, part))
            rows += lines.len()
            pl.DataFrame({"line": lines}).write_csv(
                f, include_header=False, quote_style="never", line_terminator="\n"
            )
    return rows


def jsonl_lines(frame: pl.DataFrame) -> pl.Series:
    """One `dumps(row)` per row, as a String series (`json.dumps` separators and escapes)."""
    parts = [_json_object(frame.get_columns())]
    lines = pl.select(pl.concat_str(parts)).to_series().alias("line")
    # every column constant: the pieces are all literals, and polars makes one row of them
    return lines.new_from_index(0, frame.height) if lines.len() != frame.height else lines


def _json_object(columns: list[pl.Series]) -> pl.Expr:
    if not columns:
        return pl.lit("{}")
    merged: list[str | pl.Series] = []
    for piece in _object_pieces(columns):  # adjacent literals as one: fewer to concatenate
        if isinstance(piece, str) and merged and isinstance(merged[-1], str):
            merged[-1] += piece
        else:
            merged.append(piece)
    return pl.concat_str([pl.lit(p) for p in merged])


def _object_pieces(columns: list[pl.Series]) -> list[str | pl.Series]:
    """A JSON object's text as literals and per-row columns, to concatenate in order."""
    pieces: list[str | pl.Series] = []
    for n, col in enumerate(columns):
        pieces.append(("{" if n == 0 else ", ") + json.dumps(col.name) + ": ")
        if col.dtype != pl.Struct and col.len() and not col.null_count() and (col == col[0]).all():
            pieces.append(_json_values(col.head(1))[0])  # a constant: one literal
        elif col.dtype == pl.String and not col.null_count():
            # The quotes go into the neighbouring literals: no per-row '"{}"' pass.
            pieces += ['"', _json_inner(col), '"']
        elif col.dtype == pl.Struct and not col.null_count() and col.struct.fields:
            # A struct without nulls: its object inline, not a nested concatenation.
            pieces += _object_pieces(col.struct.unnest().get_columns())
        else:
            pieces.append(_json_values(col))
    pieces.append("}")
    return pieces


def _json_values(col: pl.Series) -> pl.Series:
    """JSON text of every value of one column, exactly as `json.dumps` writes it."""
    if col.dtype == pl.Struct:
        text = pl.select(_json_object(col.struct.unnest().get_columns())).to_series()
        return text.zip_with(col.is_not_null(), pl.Series(["null"] * col.len()))
    if col.dtype == pl.String:
        text = pl.select(pl.format('"{}"', pl.lit(_json_inner(col)))).to_series()
    elif col.dtype.is_integer():
        text = col.cast(pl.String)
    elif col.dtype.is_float() or col.dtype in (pl.Boolean, pl.Null):
        # Floats as Python's repr (polars writes 1e-05 as 0.00001): json.dumps per distinct value.
        distinct = col.drop_nulls().unique()
        encoded = [_json_scalar(v) for v in distinct.to_list()]
        if distinct.cast(pl.String).to_list() == encoded:  # polars writes them the same
            text = col.cast(pl.String)
        else:
            text = col.replace_strict(distinct, encoded, return_dtype=pl.String, default=None)
        if col.dtype.is_float():  # unique() took -0.0 for 0.0; json.dumps writes "-0.0"
            negative_zero = ((col == 0) & (1 / col < 0)).fill_null(False)
            if negative_zero.any():
                text = text.zip_with(~negative_zero, pl.Series(["-0.0"] * col.len()))
    else:
        raise TypeError(f"write_jsonl_frame: column {col.name!r} has unsupported type {col.dtype}")
    return text.fill_null("null")


def _json_scalar(value: object) -> str:
    # json.dumps writes a finite float as float.__repr__ (json.encoder's floatstr), 5x faster
    if type(value) is float and math.isfinite(value):
        return float.__repr__(value)
    return json.dumps(value)


def _json_inner(col: pl.Series) -> pl.Series:
    """A String column's JSON text between its quotes: json.dumps' escapes (its own table) in
    the few rows that need any, all replaced in one pass; nulls stay null."""
    bad = needs_escape(col)
    if not bad.size:
        return col
    escaped = col.gather(bad).str.replace_many(_ESCAPES)
    return col.clone().scatter(bad, escaped)


def needs_escape(col: pl.Series) -> np.ndarray:
    """The rows of a String column with a character JSON escapes (a quote, a backslash, a
    control character), found in the UTF-8 bytes of all rows at once (2-4x faster than a
    regex per row): those bytes are ASCII, and UTF-8 never uses ASCII bytes inside a
    multi-byte character."""
    # large_string (not string_view): one buffer of every row's bytes, and int64 offsets
    array = col.to_arrow(compat_level=pl.CompatLevel.oldest())
    offsets = np.frombuffer(array.buffers()[1], dtype=np.int64)
    offsets = offsets[array.offset : array.offset + len(array) + 1]
    if not len(array) or offsets[-1] == offsets[0]:
        return np.empty(0, dtype=np.int64)
    data = np.frombuffer(array.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
    at = np.flatnonzero((data < 0x20) | (data == 0x22) | (data == 0x5C)) + offsets[0]
    return np.unique(np.searchsorted(offsets, at, side="right") - 1)


# Rows per row group of every file curate writes, set rather than left to polars, which cuts
# groups where the frames of a DataFrame (or the part files of a scan) meet: the bytes would
# then follow how the rows were read (one batch here, Ray byte ranges there). The size of
# `stage.stage_batches`' batches, so a batch decodes each group once.
ROW_GROUP = 1 << 17


def write_parquet(path: str | Path, df: pl.DataFrame) -> None:
    with atomic_path(path) as tmp:
        df.write_parquet(tmp, compression="zstd", statistics=False, row_group_size=ROW_GROUP)


def read_jsonl(path: str | Path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def stage_path(processed: str | Path, stage: str, suffix: str = "parquet") -> Path:
    return Path(processed) / f"{stage}.{suffix}"
