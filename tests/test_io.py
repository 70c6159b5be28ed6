"""The column-wise JSONL writer against json.dumps row by row, on hostile strings."""

from __future__ import annotations

import json

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curate import io

# Every ASCII character (the escaped ones among them), DEL, C1 controls, line and paragraph
# separators, a BOM, combining marks, CJK, emoji (4 UTF-8 bytes), and the escapes' own text.
HOSTILE = (
    [chr(c) for c in range(0x80)]
    + ["\x85", "\u2028", "\u2029", "\ufeff", "e\u0301", "中", "😀", "\U0010ffff"]
    + ["\\u0000", '\\"', "\\\\n"]
)


def dumps_bytes(tmp_path, frame: pl.DataFrame) -> bytes:
    io.write_jsonl(tmp_path / "dicts.jsonl", frame.to_dicts())
    return (tmp_path / "dicts.jsonl").read_bytes()


def frame_bytes(tmp_path, frame: pl.DataFrame, chunk: int) -> bytes:
    assert io.write_jsonl_frame(tmp_path / "frame.jsonl", frame, chunk=chunk) == frame.height
    return (tmp_path / "frame.jsonl").read_bytes()


def test_every_ascii_character_escaped_as_json_dumps(tmp_path):
    """One row per hostile character, alone and inside other text; with and without nulls
    (two code paths: quotes in the neighbouring literals, or per value)."""
    texts = HOSTILE + [f"a{c}b{c}" for c in HOSTILE] + ["".join(HOSTILE)]
    frame = pl.DataFrame(
        {"id": texts, "maybe": [None if i % 3 else t for i, t in enumerate(texts)]}
    )
    frame = frame.with_columns(raw=pl.struct(q="id", a="maybe"))
    assert frame_bytes(tmp_path, frame, chunk=7) == dumps_bytes(tmp_path, frame)


def test_rows_needing_escapes_found_in_the_bytes():
    texts = pl.Series(["中文", 'a"', None, "😀\\", "", "\x1f", "\x7f\u2028", "x\n"])
    assert io.needs_escape(texts).tolist() == [1, 3, 5, 7]
    assert io.needs_escape(texts.slice(3, 3)).tolist() == [0, 2]  # a slice: offsets shift
    assert io.needs_escape(pl.Series([], dtype=pl.String)).size == 0
    assert io.needs_escape(pl.Series(["", None])).size == 0


def test_lone_surrogates_cannot_reach_the_writer():
    """Python strings may hold lone surrogates, Arrow's UTF-8 cannot: no frame has one."""
    with pytest.raises(UnicodeEncodeError):
        pl.Series(["a\ud800b"])


def test_constant_columns_still_one_line_per_row(tmp_path):
    frame = pl.DataFrame({"stage": ["dedupe"] * 5, "score": [1.0] * 5})
    assert frame_bytes(tmp_path, frame, chunk=2) == dumps_bytes(tmp_path, frame)


HOSTILE_TEXT = st.lists(st.sampled_from(HOSTILE), max_size=6).map("".join)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            HOSTILE_TEXT,
            st.none() | HOSTILE_TEXT,
            st.none() | st.floats(allow_nan=False, allow_infinity=False),
        ),
        min_size=1,
        max_size=20,
    ),
    st.integers(1, 8),
)
def test_random_hostile_rows_write_json_dumps_bytes(tmp_path_factory, rows, chunk):
    tmp_path = tmp_path_factory.mktemp("jsonl")
    frame = pl.DataFrame(rows, schema=["text", "maybe", "score"], orient="row")
    frame = frame.with_columns(raw=pl.struct(q="text", a="maybe"))
    assert frame_bytes(tmp_path, frame, chunk) == dumps_bytes(tmp_path, frame)
    assert [json.loads(line) for line in (tmp_path / "frame.jsonl").open()] == frame.to_dicts()


def test_floats_written_as_json_dumps(tmp_path):
    """Finite floats as float.__repr__ (what json.dumps writes), the others as json.dumps."""
    values = [0.0, -0.0, 1.0, 0.1, 1e-05, 1e16, 1.5e300, 5e-324, 0.30000000000000004, -2.5]
    values += [float("nan"), float("inf"), float("-inf"), None]
    frame = pl.DataFrame({"score": values, "flag": [True, False] * 7})
    assert frame_bytes(tmp_path, frame, chunk=5) == dumps_bytes(tmp_path, frame)
