"""More hostile inputs to `curate ingest`: every record read and accounted for, no tracebacks."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from curate import io
from curate.stages.ingest import IngestConfig, ingest

FOUR = [
    ("什么东西越洗越脏？", "水"),
    ("什么门永远关不上？", "球门"),
    ("一口咬掉牛尾巴", "告"),
    ("什么床不能睡？", "牙床"),
]


def kept(project: Path) -> list[dict]:
    return pl.read_parquet(project / "processed" / "ingested.parquet").to_dicts()


def rejects(project: Path) -> list[dict]:
    return io.read_jsonl(project / "processed" / "ingested.rejects.jsonl")


def test_records_in_nested_wrapper_objects_are_read(project, write_raw):
    write_raw("nested.json", {"data": {"data": [{"q": q, "a": a} for q, a in FOUR[:2]]}})
    splits = {"train": [{"q": q, "a": a} for q, a in FOUR[2:]], "test": [{"q": "x", "a": ""}]}
    write_raw("splits.json", {"version": 2, "payload": splits})
    result = ingest(IngestConfig())
    assert (result.n_in, result.kept) == (5, 4)
    rows = kept(project)
    assert [(r["question"], r["answer"]) for r in rows] == FOUR
    assert [json.loads(r["meta"]).get("list") for r in rows[2:]] == ["payload.train"] * 2
    assert [r["reason"] for r in rejects(project)] == ["empty_answer"]
