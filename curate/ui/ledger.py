"""Reading what the stages wrote, a page at a time: rejects, clusters, conflicts, overrides.

A rejects file can hold a million lines: it is indexed once (byte offset, stage, reason and
source per line, cached until the file changes) and only the lines of the page are read.
Review decisions are appended to the dedupe overrides file, keyed by content (question and
answer text, which dedupe matches by their match keys), so they survive renamed folders.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from curate import io
from curate.errors import InputError
from curate.stages.dedupe import decisions, review

REJECT_FILES = ("ingested", "deduped", "exported")
# The review decisions, as dedupe's overrides file has them (`decisions.py`); `a` and `b`
# are question texts, and `a_answer`/`b_answer` complete the content key of each side:
#   distinct  a and b are different riddles: never merge them;
#   survivor  a is the copy to keep (b: the record it was merged into);
#   answer    a conflict: a's answer is the right one for the question; b is removed.
DECISIONS = decisions.KINDS


@dataclass
class _Index:
    stamp: tuple[int, int]
    offsets: list[int]
    stage: list[str]
    reason: list[str]
    source: list[str]


_cache: dict[Path, _Index] = {}
_cache_lock = threading.Lock()


def _index(path: Path) -> _Index:
    stat = path.stat()
    stamp = (stat.st_mtime_ns, stat.st_size)
    with _cache_lock:
        hit = _cache.get(path)
        if hit and hit.stamp == stamp:
            return hit
    index = _Index(stamp, [], [], [], [])
    with open(path, "rb") as f:
        offset = 0
        for line in f:
            if line.strip():
                row = json.loads(line)
                index.offsets.append(offset)
                index.stage.append(str(row.get("stage", "")))
                index.reason.append(str(row.get("reason", "")))
                index.source.append(str(row.get("source", "")))
            offset += len(line)
    with _cache_lock:
        _cache[path] = index
    return index


def rejects_page(
    processed: Path, reason: str = "", source: str = "", page: int = 1, size: int = 50
) -> dict:
    """One page of every stage's rejects, filtered by reason and source; counts per facet."""
    rows, total, reasons, sources = [], 0, Counter(), Counter()
    skip = (max(page, 1) - 1) * size
    for stage in REJECT_FILES:
        path = io.stage_path(processed, stage, "rejects.jsonl")
        if not path.exists():
            continue
        index = _index(path)
        reasons.update(index.reason)
        sources.update(index.source)
        hits = [
            i
            for i in range(len(index.offsets))
            if (not reason or index.reason[i] == reason)
            and (not source or index.source[i] == source)
        ]
        total += len(hits)
        take = hits[skip : skip + size - len(rows)] if len(rows) < size else []
        skip = max(0, skip - len(hits))
        with open(path, "rb") as f:
            for i in take:
                f.seek(index.offsets[i])
                rows.append(json.loads(f.readline()))
    return {
        "rows": rows,
        "total": total,
        "page": max(page, 1),
        "pages": max(1, -(-total // size)),
        "reasons": dict(reasons.most_common()),
        "sources": dict(sorted(sources.items())),
    }


def _records(processed: Path, ids: list[str]) -> dict[str, dict]:
    """Display fields of records by id, from ingested.parquet."""
    if not ids:
        return {}
    frame = (
        pl.scan_parquet(io.stage_path(processed, "ingested"))
        .select("id", "source", "line", "question", "answer")
        .filter(pl.col("id").is_in(ids))
        .collect()
    )
    return {r["id"]: r for r in frame.iter_rows(named=True)}


def clusters_page(processed: Path, kind: str = "", page: int = 1, size: int = 20) -> dict:
    """Dedupe clusters (survivor + removed members, each with its direct score), paged."""
    path = io.stage_path(processed, "deduped", "rejects.jsonl")
    if not path.exists() or path.stat().st_size == 0:  # no dedupe yet, or nothing removed
        return {"clusters": [], "total": 0, "page": 1, "pages": 1, "kinds": {}}
    ledger = pl.read_ndjson(path).select("id", "duplicate_of", "kind", "score", "via")
    kinds = dict(ledger["kind"].value_counts(sort=True).iter_rows())
    if kind:
        ledger = ledger.filter(pl.col("kind") == kind)
    heads = ledger["duplicate_of"].unique(maintain_order=True)
    total = heads.len()
    chosen = heads.slice((max(page, 1) - 1) * size, size).to_list()
    members = ledger.filter(pl.col("duplicate_of").is_in(chosen))
    found = _records(processed, chosen + members["id"].to_list())
    clusters = []
    for head in chosen:
        rows = members.filter(pl.col("duplicate_of") == head).iter_rows(named=True)
        clusters.append(
            {
                "survivor": found.get(head, {"id": head}),
                "members": [found.get(r["id"], {"id": r["id"]}) | r for r in rows],
            }
        )
    return {
        "clusters": clusters,
        "total": total,
        "page": max(page, 1),
        "pages": max(1, -(-total // size)),
        "kinds": kinds,
    }


def conflicts_page(processed: Path, page: int = 1, size: int = 20) -> dict:
    path = io.stage_path(processed, "deduped", "conflicts.jsonl")
    rows = io.read_jsonl(path) if path.exists() else []
    start = (max(page, 1) - 1) * size
    return {
        "conflicts": rows[start : start + size],
        "total": len(rows),
        "page": max(page, 1),
        "pages": max(1, -(-len(rows) // size)),
    }


def overrides_path(processed: Path) -> Path:
    return review.default_overrides(processed)


def read_decisions(processed: Path) -> list[decisions.Decision]:
    """The decisions in the overrides file, read by dedupe's own reader: a BOM is no error, and
    a line dedupe would refuse raises the CurateError it would (file, line, expected form)."""
    return decisions.read(overrides_path(processed))


def decision_key(a: dict, b: dict) -> str:
    """The same key for a pair in either order, from the sides' question and answer."""
    sides = sorted((str(s.get("question", "")), str(s.get("answer", ""))) for s in (a, b))
    return json.dumps(sides, ensure_ascii=False)


def decided(processed: Path) -> dict[str, str]:
    """Pair key -> the decision taken on it (the last one wins)."""
    out = {}
    for d in read_decisions(processed):
        a = {"question": d.a, "answer": d.a_answer}
        b = {"question": d.b, "answer": d.b_answer}
        out[decision_key(a, b)] = d.kind
    return out


def decide(processed: Path, decision: str, a: dict, b: dict) -> dict:
    """Append one decision about records a and b (dicts with question and answer)."""
    for side in (a, b):
        if not str(side.get("question", "")).strip():
            raise InputError("both records need their question text")
    row = {
        "a": a["question"],
        "b": b["question"],
        "decision": decision,
        "a_answer": a.get("answer", ""),
        "b_answer": b.get("answer", ""),
    }
    try:  # the line dedupe will read: never write one it would refuse
        decisions.parse(row)
    except ValueError as exc:
        raise InputError(f"{exc}; nothing was written") from None
    read_decisions(processed)  # a broken file is said so, not written to (dedupe refuses it)
    path = overrides_path(processed)
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    if old and not old.endswith("\n"):
        old += "\n"
    io.write_text(path, old + io.dumps(row) + "\n")
    return row
