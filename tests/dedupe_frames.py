"""Build canonical ingested frames for dedupe tests (until and independent of ingest.py)."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from curate import io, stage
from curate.record import SCHEMA, content_hash, record_id


def frame(
    rows: list[tuple[str, str]], source: str = "raw/test.json", category: str | None = None
) -> pl.DataFrame:
    """Canonical records from (question, answer) display-text pairs."""
    return pl.DataFrame(
        [
            {
                "id": record_id(source, n),
                "source": source,
                "line": n,
                "category": category,
                "question": q,
                "answer": a,
                "question_raw": q,
                "answer_raw": a,
                "content_hash": content_hash(q, a),
                "meta": "{}",
            }
            for n, (q, a) in enumerate(rows, 1)
        ],
        schema=SCHEMA,
    )


def xiehouyu_frame(path: Path) -> pl.DataFrame:
    from curate.normalize import display

    data = json.loads(Path(path).read_text(encoding="utf-8"))
    rows = [(display(d["riddle"]), display(d["answer"])) for d in data]
    return frame(rows, source="raw/xiehouyu.json")


def write_ingested(processed: Path, *frames: pl.DataFrame) -> Path:
    """Commit the frames as the ingested stage (parquet, no rejects, manifest)."""
    frame = pl.concat(frames)
    stage.write_stage(processed, "ingested", frame, [], n_in=frame.height, params={}, inputs=[])
    return io.stage_path(processed, "ingested")


def greedy_star(n: int, u, v, last=None) -> list[int]:
    """The star clustering node by node, the reference for `star.star`: visit the nodes not
    in `last`, then those in it, each in index order; an untaken node becomes a center and
    takes its untaken neighbours."""
    near = [set() for _ in range(n)]
    for a, b in zip(u.tolist(), v.tolist(), strict=True):
        if a != b:
            near[a].add(b)
            near[b].add(a)
    late = [False] * n if last is None else list(last)
    center = [-1] * n
    for x in [x for x in range(n) if not late[x]] + [x for x in range(n) if late[x]]:
        if center[x] < 0:
            center[x] = x
            for y in near[x]:
                if center[y] < 0:
                    center[y] = x
    return center
