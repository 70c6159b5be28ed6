"""Stage manifests and the conservation check every stage runs before it writes."""

from __future__ import annotations

import dataclasses
import json
import platform
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path

import polars as pl

from curate import io
from curate.errors import CurateError
from curate.memory import release_memory

_PACKAGES = ("curate", "polars", "pyarrow", "datasketch", "opencc", "jsonschema")


class Timer:
    """Seconds per named step of a stage (`with timer("keys"): ...`), heap trimmed after each."""

    def __init__(self) -> None:
        self.times: dict[str, float] = {}

    @contextmanager
    def __call__(self, step: str) -> Iterator[None]:
        start = time.perf_counter()
        yield
        release_memory()
        self.times[step] = round(time.perf_counter() - start, 3)


def versions(extra: tuple[str, ...] = ()) -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in _PACKAGES + extra:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def jsonable(obj: object) -> object:
    """Config dataclasses (with Paths and tuples) as plain JSON values."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        obj = dataclasses.asdict(obj)
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, Path):
        return obj.as_posix()
    return obj


def check_counts(n_in: int, kept: int, rejected: int) -> None:
    """The invariant of every stage: nothing lost, nothing invented."""
    if n_in != kept + rejected:
        raise CurateError(
            f"internal error: {n_in} records in but {kept} kept + {rejected} rejected "
            f"= {kept + rejected}; nothing was written. Please report this."
        )


def file_entry(path: str | Path) -> dict:
    return {"path": Path(path).as_posix(), "sha256": io.sha256_file(path)}


def write_stage(
    processed: str | Path,
    stage: str,
    kept: pl.DataFrame,
    rejects: list[dict] | pl.DataFrame,
    *,
    n_in: int,
    params: object,
    inputs: list[dict],
    extra: dict | None = None,
) -> dict:
    """Check `in == kept + rejected`, then write `<stage>.parquet/.rejects.jsonl/.manifest.json`.

    `rejects` is a list of `record.reject` rows, or (for a million of them) a frame with the
    same columns in the same order (`raw` a struct); both write the same bytes.
    The manifest holds no wall-clock time, so identical runs give byte-identical files.
    """
    framed = isinstance(rejects, pl.DataFrame)
    n_rejected = rejects.height if framed else len(rejects)
    check_counts(n_in, kept.height, n_rejected)
    if framed:
        reasons = Counter(dict(rejects["reason"].value_counts().iter_rows()))
    else:
        reasons = Counter(r["reason"] for r in rejects)
    manifest = {
        "stage": stage,
        "params": jsonable(params),
        "inputs": inputs,
        "counts": {"in": n_in, "kept": kept.height, "rejected": n_rejected},
        "reasons": dict(sorted(reasons.items())),
        **(extra or {}),
        "versions": versions(),
    }
    processed = Path(processed)
    io.write_parquet(io.stage_path(processed, stage), kept)
    rejects_path = io.stage_path(processed, stage, "rejects.jsonl")
    if framed:
        io.write_jsonl_frame(rejects_path, rejects)
    else:
        io.write_jsonl(rejects_path, rejects)
    io.write_json(io.stage_path(processed, stage, "manifest.json"), manifest)
    return manifest


def read_manifest(processed: str | Path, stage: str) -> dict:
    path = io.stage_path(processed, stage, "manifest.json")
    if not path.exists():
        producer = io.PRODUCERS.get(stage, "the previous stage")
        raise CurateError(f"{path} not found; run `{producer}` first")
    return json.loads(path.read_text(encoding="utf-8"))
