"""The column-wise ingest writes the bytes of the per-record reference (tests/.../reference.py):
on the bundled raw/ files, on the 歇后语 data and on random records that reach every reject
reason of ingest, under each conversion."""

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
from ingest_reference import reference_ingest

from curate.normalize import display, match_key
from curate.record import REASONS
from curate.stages.ingest import IngestConfig, columns, ingest, jsonl, process

REPO = Path(__file__).resolve().parents[3]
XIEHOUYU = REPO.parent / "shared" / "data" / "xiehouyu.json"
FILES = ("ingested.parquet", "ingested.rejects.jsonl")
# Ingest's own reasons (duplicate and invalid_record belong to dedupe and export).
INGEST_REASONS = set(REASONS) - {"duplicate", "invalid_record"}


def same_bytes(config: IngestConfig, tmp: Path) -> dict[str, int]:
    """Run both paths; assert equal files; return the reason histogram."""
    result = ingest(config)
    reference_ingest(config, tmp / "reference")
    for name in FILES:
        assert (config.processed / name).read_bytes() == (tmp / "reference" / name).read_bytes()
    return result.reasons


@pytest.mark.parametrize("convert", ["t2s", "none", "s2t"])
def test_raw_folder_byte_identical(tmp_path, convert):
    config = IngestConfig((REPO / "raw",), tmp_path / "out", convert=convert)
    assert same_bytes(config, tmp_path)


@pytest.mark.skipif(not XIEHOUYU.exists(), reason="needs ../shared/data/xiehouyu.json")
def test_xiehouyu_byte_identical(tmp_path):
    same_bytes(IngestConfig((XIEHOUYU,), tmp_path / "out"), tmp_path)


# Characters that exercise every branch: entities, tags, widths, invisible and control
# characters, brackets, Latin notes, mojibake, astral and combining characters, sigma.
_CHARS = list(
    "什么谜底門來東說字打一猜 \u3000\t\n&;#<>/bpamnslt（）()【】《》“”「」Ａａ１ａ?!,:;"
    "\u200b\u200d\ufe0f\u00a0\u0301\u03a3\ufffd\ue000\u00c3\u00a9\x01\x85\U0001f600ab-—…"
)
_WORDS = ["&nbsp;", "&amp;", "&lt;b&gt;", "<b>", "<br>", "锟斤拷", "打一字", "（ni", "n追赶）"]
TEXT = st.lists(st.one_of(st.sampled_from(_CHARS), st.sampled_from(_WORDS)), max_size=12).map(
    "".join
)
VALUE = st.one_of(
    TEXT, TEXT, TEXT, st.integers(-5, 5), st.just(float("nan")), st.none(), st.just([1])
)
KEYS = st.sampled_from(["question", "Q", "谜面", "answer", "A", "谜底", "category", "id", "x"])


# Lines holding several records (the file is then numbered by index) or one.
_ARRAYS = [
    '[{"q": "谜一", "a": "底"}, 3, {"q": "谜二"}]',
    '[{"question": "一口咬掉牛尾巴", "answer": "告"}]',
]


@st.composite
def jsonl_line(draw) -> str:
    kind = draw(st.integers(0, 9))
    if kind == 0:
        return draw(
            st.sampled_from(["{bad", "[1, 2]", '"text"', '{"q": "\\ud800", "a": "x"}', *_ARRAYS])
        )
    if kind == 1:
        turns = [
            {"role": r, "content": draw(TEXT)}
            for r in ("user", "assistant") * draw(st.integers(0, 2))
        ]
        return json.dumps({"messages": turns}, ensure_ascii=False)
    if kind == 2:
        return json.dumps({"question": draw(TEXT), "answer": draw(TEXT)}, ensure_ascii=True)
    if kind == 3:  # answer_equals_question, punctuation_only, or too_long (limit 8)
        text = draw(st.sampled_from(["什么东西越洗越脏呢？", "一口咬掉牛尾巴", "？！…"]))
        return json.dumps({"q": text, "a": draw(st.sampled_from([text, "水"]))})
    row = draw(st.dictionaries(KEYS, VALUE, max_size=4))
    row.setdefault("question", draw(TEXT))
    if kind > 4:
        row.setdefault("answer", draw(TEXT))
    return json.dumps(row, ensure_ascii=False)


@st.composite
def csv_text(draw) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["question", "answer", "category"])
    for _ in range(draw(st.integers(0, 6))):
        writer.writerow([draw(TEXT) for _ in range(draw(st.integers(1, 4)))])
    return out.getvalue() + draw(st.sampled_from(["", '"open,x\n', "问：x\n"]))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    lines=st.lists(jsonl_line(), max_size=25),
    table=csv_text(),
    convert=st.sampled_from(["t2s", "none", "t2s"]),
    max_chars=st.sampled_from([500, 8]),
)
def test_random_records_byte_identical(lines, table, convert, max_chars):
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw"
        raw.mkdir()
        (raw / "a.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
        (raw / "b.csv").write_text(table, encoding="utf-8")
        (raw / "c.txt").write_text("问：" + "\n".join(lines[:3]) + "\n\nstray\n", encoding="utf-8")
        config = IngestConfig(
            (raw,), Path(tmp) / "out", convert=convert, max_question_chars=max_chars
        )
        same_bytes(config, Path(tmp))


def test_random_inputs_reach_every_reject_reason():
    """The strategy above is rich enough: together its examples hit every ingest reason."""
    seen: set[str] = set()

    @settings(max_examples=80, deadline=None, database=None, derandomize=True)
    @given(lines=st.lists(jsonl_line(), min_size=5, max_size=25), table=csv_text())
    def collect(lines, table):
        with tempfile.TemporaryDirectory() as tmp:
            raw = Path(tmp) / "raw"
            raw.mkdir()
            (raw / "a.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
            (raw / "b.csv").write_text(table, encoding="utf-8")
            (raw / "c.txt").write_text("stray\n", encoding="utf-8")
            config = IngestConfig((raw,), Path(tmp) / "out", max_question_chars=8)
            seen.update(same_bytes(config, Path(tmp)))

    collect()
    assert INGEST_REASONS - seen == set()


@settings(max_examples=300, deadline=None)
@given(st.lists(TEXT, max_size=20), st.sampled_from(["t2s", "none", "s2t"]))
def test_display_and_key_columns_equal_the_functions(values, convert):
    shown = columns.display_column(pl.Series(values, dtype=pl.String), convert)
    assert shown.to_list() == [display(v, convert) for v in values]
    keys = pl.select(k=columns.match_key(pl.lit(shown)), f=columns.key_flag(pl.lit(shown)))
    for text, key, flagged in zip(shown, keys["k"], keys["f"], strict=True):
        assert flagged or key == match_key(text)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    lines=st.lists(jsonl_line(), max_size=20),
    ends=st.lists(st.sampled_from(["\n", "\r\n", "\r", "\n\n", " \n"]), min_size=1),
    bom=st.booleans(),
    chunk=st.sampled_from([7, 64, 1 << 20]),
    gz=st.booleans(),
)
def test_streamed_jsonl_byte_identical(lines, ends, bom, chunk, gz):
    """Chunks end anywhere (mid-character, between CR and LF); line ends mixed; BOM; .gz."""
    text = "".join(line + ends[i % len(ends)] for i, line in enumerate(lines))
    data = ("\ufeff" if bom else "").encode() + text.encode("utf-8")
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw"
        raw.mkdir()
        (raw / ("a.jsonl.gz" if gz else "a.jsonl")).write_bytes(
            gzip.compress(data, mtime=0) if gz else data
        )
        old, jsonl.CHUNK = jsonl.CHUNK, chunk
        try:
            same_bytes(IngestConfig((raw,), Path(tmp) / "out"), Path(tmp))
        finally:
            jsonl.CHUNK = old


@pytest.mark.parametrize(
    "data",
    [
        '{"q": "谜一", "a": "谜底"}\n'.encode() * 30 + b'{"q": "\xff", "a": "x"}\n',
        '{"q": "什么", "a": "底"}\n'.encode("gbk") * 3,
        b'{\n  "q": "pretty JSON in a .jsonl file",\n  "a": "x"\n}\n',
        b"\xff\xfe" + '{"q": "utf-16", "a": "x"}\n'.encode("utf-16-le"),
    ],
    ids=["bad-byte-late", "gbk", "pretty", "utf-16"],
)
def test_jsonl_that_cannot_stream_is_read_whole(tmp_path, monkeypatch, data):
    monkeypatch.setattr(jsonl, "CHUNK", 16)  # the problem shows after the first batch
    (tmp_path / "raw").mkdir()
    (tmp_path / "raw" / "a.jsonl").write_bytes(data)
    same_bytes(IngestConfig((tmp_path / "raw",), tmp_path / "out"), tmp_path)


def test_kept_rows_spilled_to_part_files_read_back_in_order(tmp_path, monkeypatch):
    """Large inputs: kept rows wait in part files (memory bounded); same rows, no parts left."""
    monkeypatch.setattr(jsonl, "CHUNK", 200)
    monkeypatch.setattr(process, "SPILL_ROWS", 20)
    (tmp_path / "raw").mkdir()
    lines = [json.dumps({"q": f"谜{i}？", "a": "底" if i % 7 else ""}) for i in range(60)]
    (tmp_path / "raw" / "a.jsonl").write_text("\n".join(lines), encoding="utf-8")
    (tmp_path / "raw" / "b.csv").write_text("q,a\n什么,东西\n", encoding="utf-8")
    config = IngestConfig((tmp_path / "raw",), tmp_path / "out")
    ingest(config)
    reference_ingest(config, tmp_path / "reference")
    kept = pl.read_parquet(tmp_path / "out" / "ingested.parquet")
    assert kept.equals(pl.read_parquet(tmp_path / "reference" / "ingested.parquet"))
    assert kept.height == 52
    name = "ingested.rejects.jsonl"
    assert (tmp_path / "out" / name).read_bytes() == (tmp_path / "reference" / name).read_bytes()
    assert not list((tmp_path / "out").glob(".ingested.parts.*"))


def test_parquet_read_in_slices_byte_identical(tmp_path, monkeypatch):
    """Slices of rows; a float column of whole numbers with a null is read as integers in
    every slice (decided on the whole column), as read_file does."""
    monkeypatch.setattr(process, "BATCH", 2)
    (tmp_path / "raw").mkdir()
    pl.DataFrame(
        {
            "question": ["什么东西越洗越脏？", "门里有口", None, "阴天戴草帽", "x&nbsp;y"],
            "answer": ["水", "问", "空", "多此一举", "z"],
            "rank": [1.0, None, 3.0, 4.0, 5.0],
            "score": [0.5, 1.0, None, 2.0, 3.0],
        }
    ).write_parquet(tmp_path / "raw" / "a.parquet", row_group_size=2)
    same_bytes(IngestConfig((tmp_path / "raw",), tmp_path / "out"), tmp_path)
    kept = pl.read_parquet(tmp_path / "out" / "ingested.parquet")
    assert '"rank": 4' in kept["meta"][2] and '"score": 2.0' in kept["meta"][2]
