"""Every reader on random and mutated files: no traceback, and nothing lost.

A file is built from random riddles in one format, then mutated byte by byte (quotes,
delimiters, line ends, brackets, escapes, invalid bytes inserted, deleted or replaced). Ingest
must then either refuse the whole file with an InputError that names it, or account for every
record: `in == kept + rejected`, as the files written say too. About 150 examples in all.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import tempfile
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from curate.errors import InputError
from curate.io import read_jsonl
from curate.record import REASONS
from curate.stages.ingest import IngestConfig, ingest

_CHARS = list("什么谜底答问题：:，,\"'\t\n\r\\{}[]（）()—#？ ab1") + ["\ud800", "\x00", "\u2028"]
_REAL = [
    "什么东西越洗越脏？",
    "水",
    "泥菩萨过江",
    "自身难保",
    '"小"字加一点',
    "卜",
    "一口咬掉牛尾巴",
]
TEXT = st.one_of(st.sampled_from(_REAL), st.text(alphabet=st.sampled_from(_CHARS), max_size=10))
RIDDLES = st.lists(st.tuples(TEXT, TEXT), max_size=8)
# Byte strings that break formats: quotes, delimiters, line ends, brackets, escapes, bad UTF-8.
_CHUNKS = [
    b'"',
    b",",
    b"\t",
    b"\n",
    b"\r",
    b"\r\n",
    b"{",
    b"}",
    b"[",
    b"]",
    b":",
    b"\\",
    b"\\ud800",
    b"NaN",
    b"\x00",
    b"\xff",
    b"\xe4\xbb",
    b"\xef\xbb\xbf",
    "问：".encode(),
    "——".encode(),
]
MUTATIONS = st.lists(
    st.tuples(
        st.floats(0, 1), st.sampled_from(["insert", "delete", "replace"]), st.sampled_from(_CHUNKS)
    ),
    max_size=4,
)


def render(fmt: str, riddles: list[tuple[str, str]]) -> bytes:
    """The riddles as a file of `fmt` (lone surrogates kept: they make invalid UTF-8)."""
    if fmt == "parquet":  # Parquet strings are valid UTF-8 by construction
        clean = [(q.replace("\ud800", ""), a.replace("\ud800", "")) for q, a in riddles]
        buf = io.BytesIO()
        frame = pl.DataFrame({"q": [q for q, _ in clean], "a": [a for _, a in clean]})
        frame.with_columns(n=pl.int_range(frame.height)).write_parquet(buf)
        return buf.getvalue()
    if fmt not in ("json", "jsonl"):  # a lone surrogate: invalid bytes, now and then
        bad = "\ud800" * (len(riddles) == 7)
        riddles = [(q.replace("\ud800", bad), a.replace("\ud800", bad)) for q, a in riddles]
    rows = [{"question": q, "answer": a} for q, a in riddles]
    if fmt == "json":  # lone surrogates as \ud800 escapes, or as invalid bytes
        text = json.dumps({"data": rows}, ensure_ascii=len(rows) % 3 != 1, indent=1)
    elif fmt == "jsonl":
        text = "".join(json.dumps(r, ensure_ascii=len(r["question"]) % 2 == 0) + "\n" for r in rows)
    elif fmt == "csv":
        out = io.StringIO()
        csv.writer(out).writerows([("question", "answer"), *riddles])
        text = out.getvalue()
    elif fmt == "tsv":
        text = "question\tanswer\n" + "".join(f"{q}\t{a}\n" for q, a in riddles)
    else:
        text = "".join(f"问：{q}\n答：{a}\n\n" for q, a in riddles)
    return text.encode("utf-8", "surrogatepass")


def mutate(data: bytes, mutations: list[tuple[float, str, bytes]]) -> bytes:
    for where, op, chunk in mutations:
        at = int(where * len(data))
        if op == "insert":
            data = data[:at] + chunk + data[at:]
        elif op == "delete":
            data = data[:at] + data[at + len(chunk) :]
        else:
            data = data[:at] + chunk + data[at + len(chunk) :]
    return data


@pytest.mark.parametrize("fmt", ["json", "jsonl", "csv", "tsv", "text", "parquet"])
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(riddles=RIDDLES, mutations=MUTATIONS, gz=st.booleans())
def test_every_reader_accounts_for_every_record(fmt, riddles, mutations, gz):
    data = mutate(render(fmt, riddles), mutations)
    with tempfile.TemporaryDirectory() as tmp:
        ext = {"text": "txt"}.get(fmt, fmt)
        path = Path(tmp) / f"in.{ext}{'.gz' * gz}"
        path.write_bytes(gzip.compress(data, mtime=0) if gz else data)
        out = Path(tmp) / "out"
        try:
            result = ingest(IngestConfig(sources=(path,), processed=out))
        except InputError as exc:  # the whole file refused, with a message naming it
            assert path.name in str(exc)
            return
        assert result.n_in == result.kept + result.rejected
        assert pl.read_parquet(out / "ingested.parquet").height == result.kept
        rejects = read_jsonl(out / "ingested.rejects.jsonl")
        assert len(rejects) == result.rejected
        assert all(r["reason"] in REASONS and r["line"] >= 1 for r in rejects)
