"""File edges: atomic writers, JSONL, stage inputs. Nothing half-written is ever left behind."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

import polars as pl

from curate.errors import InputError

# Which command writes each stage file, so a missing input can say what to run first.
_UMASK = os.umask(0)
os.umask(_UMASK)

PRODUCERS = {"ingested": "curate ingest", "deduped": "curate dedupe"}


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temp path beside `path`; rename it over `path` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        # mkstemp creates 0600; outputs get the ordinary permissions a plain open() would give.
        os.chmod(tmp, 0o666 & ~_UMASK)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def dumps(row: dict) -> str:
    """One JSONL line: UTF-8, Chinese unescaped, stable key order as given."""
    return json.dumps(row, ensure_ascii=False)


def write_text(path: str | Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8", newline="\n")


def write_json(path: str | Path, obj: object) -> None:
    write_text(path, json.dumps(obj, ensure_ascii=False, indent=2, sort_keys=False) + "\n")


def write_jsonl(path: str | Path, rows: Iterable[dict]) -> int:
    """Write rows as JSON lines atomically; return how many."""
    n = 0
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8", newline="\n") as f:
        for row in rows:
            f.write(dumps(row) + "\n")
            n += 1
    return n


def write_parquet(path: str | Path, df: pl.DataFrame) -> None:
    with atomic_path(path) as tmp:
        df.write_parquet(tmp, compression="zstd", statistics=False)


def read_jsonl(path: str | Path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def sha256_file(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def stage_path(processed: str | Path, stage: str, suffix: str = "parquet") -> Path:
    return Path(processed) / f"{stage}.{suffix}"


def read_stage(processed: str | Path, stage: str) -> pl.DataFrame:
    """Read `<processed>/<stage>.parquet`, or say which command produces it."""
    path = stage_path(processed, stage)
    if not path.exists():
        producer = PRODUCERS.get(stage, "the previous stage")
        raise InputError(f"{path} not found; run `{producer} --processed {processed}` first")
    return pl.read_parquet(path)
