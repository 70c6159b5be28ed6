"""Output formats: LLaMA-Factory alpaca/sharegpt shapes, parquet readable by pyarrow and polars."""

from __future__ import annotations

import json

import polars as pl
import pyarrow.parquet as pq
import pytest
from exportdata import RIDDLES, records, write_deduped

from curate.stages.export import ExportConfig, export, shards
from curate.stages.export.formats import FORMATS, to_alpaca, to_messages, to_sharegpt

SYSTEM = {"role": "system", "content": "你是谜语专家"}
PAIR = [{"role": "user", "content": "什么床不能睡？"}, {"role": "assistant", "content": "牙床"}]
PAIRS = [(q, f"答案{i % 7}") for i, (q, _) in enumerate(RIDDLES)]


def test_alpaca_matches_llama_factory():
    assert to_alpaca(PAIR) == {"instruction": "什么床不能睡？", "input": "", "output": "牙床"}
    assert to_alpaca([SYSTEM, *PAIR])["system"] == "你是谜语专家"
    earlier = [{"role": "user", "content": "q1"}, {"role": "assistant", "content": "a1"}]
    assert to_alpaca(earlier + PAIR)["history"] == [["q1", "a1"]]


def test_sharegpt_matches_llama_factory():
    assert to_sharegpt([SYSTEM, *PAIR]) == {
        "conversations": [
            {"from": "human", "value": "什么床不能睡？"},
            {"from": "gpt", "value": "牙床"},
        ],
        "system": "你是谜语专家",
    }
    assert "system" not in to_sharegpt(PAIR)


def test_messages_keeps_only_role_and_content():
    assert to_messages([{**SYSTEM, "name": "x"}, *PAIR]) == {"messages": [SYSTEM, *PAIR]}


@pytest.fixture
def exported(project):
    """Export the same records in every format; returns {format: (out, manifest)}."""
    processed = project / "processed"
    write_deduped(processed, records(PAIRS))
    outs = {}
    for fmt in FORMATS:
        result = export(
            ExportConfig(
                processed=processed, format=fmt, val_fraction=0.2, system_prompt=SYSTEM["content"]
            )
        )
        outs[fmt] = (result.out, result.manifest)
    return outs


def _jsonl_messages(exported, split: str) -> list[list[dict]]:
    out, m = exported["jsonl"]
    return [
        json.loads(line)["messages"]
        for f in shards(m)
        if f["split"] == split
        for line in (out / f["path"]).read_text(encoding="utf-8").splitlines()
    ]


@pytest.mark.parametrize("fmt", ["alpaca", "sharegpt"])
def test_json_formats_read_back(exported, fmt):
    out, m = exported[fmt]
    assert [f["path"] for f in shards(m)] == [
        "train-00000-of-00001.json",
        "validation-00000-of-00001.json",
    ]
    for f in shards(m):
        rows = json.loads((out / f["path"]).read_text(encoding="utf-8"))  # one JSON array
        assert isinstance(rows, list) and len(rows) == f["records"]
        expected = [FORMATS[fmt].convert(ms) for ms in _jsonl_messages(exported, f["split"])]
        assert rows == expected
        keys = {
            "alpaca": ["instruction", "input", "output", "system"],
            "sharegpt": ["conversations", "system"],
        }[fmt]
        assert all(list(r) == keys for r in rows)
    info = json.loads((out / "dataset_info.json").read_text(encoding="utf-8"))
    assert info["train-00000-of-00001"]["file_name"] == "train-00000-of-00001.json"
    assert info["train-00000-of-00001"]["columns"]["system"] == "system"
    assert (info["train-00000-of-00001"].get("formatting") == "sharegpt") == (fmt == "sharegpt")


def test_parquet_reads_back_with_pyarrow_and_polars(exported):
    out, m = exported["parquet"]
    for f in shards(m):
        path = out / f["path"]
        assert path.suffix == ".parquet"
        expected = _jsonl_messages(exported, f["split"])
        table = pq.read_table(path)
        assert table.column_names == ["messages"]
        assert table.column("messages").to_pylist() == expected
        df = pl.read_parquet(path)
        assert df.height == f["records"]
        assert df["messages"].to_list() == expected
    assert not (out / "dataset_info.json").exists()


def test_every_format_is_byte_identical_on_rerun(exported, project):
    for fmt, (out, _) in exported.items():
        before = {p.name: p.read_bytes() for p in out.iterdir()}
        export(
            ExportConfig(
                processed=project / "processed",
                format=fmt,
                val_fraction=0.2,
                system_prompt=SYSTEM["content"],
            )
        )
        assert {p.name: p.read_bytes() for p in out.iterdir()} == before, fmt
