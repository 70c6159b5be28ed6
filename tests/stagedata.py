"""Two small raw inputs and a way to run one stage in a project folder, for the stage-contract
tests (`from stagedata import OLD, NEW, write_riddles, run_stage`)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from curate.stages.dedupe import DedupeConfig, dedupe
from curate.stages.export import ExportConfig, export
from curate.stages.ingest import IngestConfig, ingest

OLD = [
    ("什么东西越洗越脏？", "水"),
    ("什么人一年只上一天班？", "圣诞老人"),
    ("画蛇添足", "多此一举"),
]
NEW = [(f"什么东西第{i}个越洗越脏？", f"答案{i}") for i in range(12)] + OLD[:1] * 3


def write_riddles(folder: Path, pairs: list[tuple[str, str]]) -> None:
    rows = [{"question": q, "answer": a} for q, a in pairs]
    (folder / "raw" / "riddles.json").write_text(json.dumps(rows, ensure_ascii=False), "utf-8")


def run_stage(command: str, folder: Path) -> None:
    """One stage, in-process, in `folder` (as the command would run there: same paths)."""
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        if command == "ingest":
            ingest(IngestConfig())
        elif command == "dedupe":
            dedupe(DedupeConfig())
        else:  # small shards: a later run, with other input, must remove those it does not list
            export(ExportConfig(shard_size=2, val_fraction=0.3))
    finally:
        os.chdir(cwd)
