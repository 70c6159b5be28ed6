"""The stage contract: one result, one manifest shape, all-or-nothing commits, verified reads.

Every stage (ingest, dedupe, export) returns a `StageResult` and commits its files through
`curate.commit`: temp names, fsync, old manifest removed, files renamed, manifest written
last, under the processed directory's lock. Its manifest lists every file it wrote with its
sha256 and size, beside params, inputs (with sha256), counts, reasons, versions and engine.
Readers go through `read_manifest` / `read_stage`, which refuse a stage whose manifest is
missing or whose files differ from it.
"""

from __future__ import annotations

import dataclasses
import functools
import platform
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import polars as pl

from curate import commit, io
from curate.errors import CurateError, InputError, StageError
from curate.memory import release_memory
from curate.verify import verified

_PACKAGES = ("curate", "polars", "pyarrow", "datasketch", "opencc", "jsonschema")
ENGINE = "local"


@dataclass(frozen=True)
class StageResult:
    """What one stage run did: counts `{in, kept, rejected}`, reasons, seconds per step,
    every file it wrote (its manifest last) and the manifest itself."""

    counts: dict[str, int]
    reasons: dict[str, int]
    timings: dict[str, float]
    paths: list[Path]
    manifest: dict

    @property
    def n_in(self) -> int:
        return self.counts["in"]

    @property
    def kept(self) -> int:
        return self.counts["kept"]

    @property
    def rejected(self) -> int:
        return self.counts["rejected"]

    @property
    def seconds(self) -> float:
        return sum(self.timings.values())

    def fields(self) -> dict:
        """The base fields, to build a stage's own result: `DedupeResult(**r.fields(), ...)`."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(StageResult)}


@dataclass(frozen=True)
class StreamedRejects:
    """Rejects too many to hold as one frame: `write(path)` writes them chunk by chunk (the
    same bytes as a frame of them), `count` and `reasons` are known beforehand."""

    count: int
    reasons: Mapping[str, int]
    write: Callable[[Path], object]


def locked(fn: Callable) -> Callable:
    """Run a stage function `fn(config, ...)` holding the lock of `config.processed`."""

    @functools.wraps(fn)
    def wrapper(config, *args, **kwargs):
        with commit.lock(config.processed):
            return fn(config, *args, **kwargs)

    return wrapper


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
    """An input as the manifest records it: path and sha256."""
    return {"path": Path(path).as_posix(), "sha256": io.sha256_file(path)}


def manifest(
    stage: str,
    params: object,
    inputs: list[dict],
    counts: dict,
    reasons: Mapping,
    engine: str = ENGINE,
    **extra,
) -> dict:
    """The one manifest shape; `files` is filled in by the commit. No wall-clock time in it,
    so identical runs write byte-identical manifests (`engine` apart, whichever ran it)."""
    return {
        "stage": stage,
        "engine": engine,
        "params": jsonable(params),
        "inputs": inputs,
        "counts": counts,
        "reasons": dict(sorted(reasons.items())),
        **extra,
        "files": [],
        "versions": versions(),
    }


def write_stage(
    processed: str | Path,
    stage: str,
    kept: pl.DataFrame | pl.LazyFrame,
    rejects: list[dict] | pl.DataFrame | StreamedRejects,
    *,
    n_in: int,
    params: object,
    inputs: list[dict],
    extra: dict | None = None,
    also: Mapping[str, Callable[[Path], object]] | None = None,
    timings: dict[str, float] | None = None,
    engine: str = ENGINE,
) -> StageResult:
    """Check `in == kept + rejected`, then commit `<stage>.parquet`, `<stage>.rejects.jsonl`,
    one file per `also` entry (`{"conflicts.jsonl": write(path)}`) and `<stage>.manifest.json`,
    and remove the report of the earlier run (`stale_reports`).

    `rejects` is a list of `record.reject` rows, or (for a million of them) a frame with the
    same columns in the same order (`raw` a struct); both write the same bytes; or (for more)
    a `StreamedRejects` that writes them itself. `kept` may be
    a LazyFrame (rows spilled to disk by a streaming stage): it is streamed into the file.
    """
    framed, streamed = isinstance(rejects, pl.DataFrame), isinstance(rejects, StreamedRejects)
    n_rejected = rejects.height if framed else rejects.count if streamed else len(rejects)
    lazy = isinstance(kept, pl.LazyFrame)
    n_kept = kept.select(pl.len()).collect().item() if lazy else kept.height
    check_counts(n_in, n_kept, n_rejected)
    if streamed:
        reasons = Counter(dict(rejects.reasons))
    elif framed:
        reasons = Counter(dict(rejects["reason"].value_counts().iter_rows()))
    else:
        reasons = Counter(r["reason"] for r in rejects)
    counts = {"in": n_in, "kept": n_kept, "rejected": n_rejected}
    data = manifest(stage, params, inputs, counts, reasons, engine, **(extra or {}))
    processed = Path(processed)
    writers = {
        "parquet": lambda path: (
            kept.sink_parquet(
                path, compression="zstd", statistics=False, row_group_size=io.ROW_GROUP
            )
            if lazy
            else io.write_parquet(path, kept)
        ),
        "rejects.jsonl": rejects.write
        if streamed
        else lambda path: (io.write_jsonl_frame if framed else io.write_jsonl)(path, rejects),
        **(also or {}),
    }
    paths = [io.stage_path(processed, stage, suffix) for suffix in [*writers, "manifest.json"]]
    with commit.lock(processed), commit.Commit(paths[-1], stage) as c:
        for write, path in zip(writers.values(), paths, strict=False):
            write(c.path(path))
        c.publish(data, remove=stale_reports(processed))
    return StageResult(counts, data["reasons"], timings or {}, paths, data)


# What `curate report` writes into the processed folder by default: numbers of the stages
# as they were. A stage that runs again removes them (they would show the earlier run).
REPORTS = ("report.html", "report.json")


def stale_reports(processed: str | Path) -> list[Path]:
    """The report files in `processed` that a stage run there now makes stale."""
    return [p for p in (Path(processed) / n for n in REPORTS) if p.is_file()]


def present(processed: str | Path, stage: str) -> bool:
    """Whether any file of `stage` is in `processed` (complete or not)."""
    return any(Path(processed).glob(f"{stage}.*"))


# The stage file each stage reads from its own processed directory.
UPSTREAM = {"deduped": "ingested.parquet", "export": "deduped.parquet"}


def read_manifest(processed: str | Path, stage: str, fresh: bool = False) -> dict:
    """`<processed>/<stage>.manifest.json`, once every file it lists is verified; fresh=True
    (for a reader that goes on to the next stage): and once the stage it read has not run
    again since."""
    processed = Path(processed)
    producer = io.PRODUCERS.get(stage, "the previous stage")
    if not present(processed, stage):
        path = io.stage_path(processed, stage)
        raise InputError(f"{path} not found; run `{producer} --processed {processed}` first")
    path = io.stage_path(processed, stage, "manifest.json")
    rerun = f"{producer} --processed {processed}"
    data = verified(path, f"{processed.as_posix()}/{stage}.*", rerun)
    if fresh:
        check_fresh(processed, stage, data, f"{processed.as_posix()}/{stage}.*", rerun)
    return data


def check_fresh(processed: Path, stage: str, manifest: dict, label: str, rerun: str) -> None:
    """Refuse a stage made from an earlier upstream file than the one in `processed` now
    (`curate ingest` ran again, `curate dedupe` did not): its rows and counts would be
    mixed with the new stage's without a word. Inputs are matched by name, so a processed
    folder moved elsewhere is still checked; an upstream file not there is not."""
    name = UPSTREAM.get(stage)
    then = Path(str(manifest.get("params", {}).get("processed", ""))) / str(name)
    recorded = [
        i.get("sha256") for i in manifest.get("inputs", []) if i.get("path") == then.as_posix()
    ]
    now = Path(processed) / str(name)
    if not name or not recorded or not now.is_file() or io.sha256_file(now) == recorded[0]:
        return
    raise StageError(
        f"{label} was made from an earlier {name} "
        f"(`{io.PRODUCERS[name.split('.')[0]]}` ran again since); "
        f"rerun `{rerun}`"
    )


def read_stage(
    processed: str | Path, stage: str, columns: list[str] | None = None, fresh: bool = False
) -> pl.DataFrame:
    """`<processed>/<stage>.parquet` (only those of `columns` it has, if given), from a
    verified stage (and fresh, as `read_manifest` says), or say which command to run."""
    read_manifest(processed, stage, fresh)
    path = io.stage_path(processed, stage)
    if columns is not None:
        names = pl.read_parquet_schema(path)
        columns = [c for c in columns if c in names]
    return pl.read_parquet(path, columns=columns)


def stage_batches(
    processed: str | Path, stage: str, columns: list[str], rows: int = io.ROW_GROUP
) -> Iterator[pl.DataFrame]:
    """`<processed>/<stage>.parquet`'s `columns` in consecutive batches of up to `rows` rows,
    in file order: a pass over every record that never holds them all (read it with
    `read_stage` first: that verifies it). A batch is whole row groups where they fit (a
    larger one is split): a batch across a group boundary decodes that group twice."""
    import pyarrow.parquet as pq  # the row group sizes (polars does not tell them)

    path = io.stage_path(processed, stage)
    meta = pq.read_metadata(path)
    scan = pl.scan_parquet(path).select(columns)
    sizes = [meta.row_group(i).num_rows for i in range(meta.num_row_groups)]
    for start, n in batch_spans(sizes, rows):
        yield scan.slice(start, n).collect()


def batch_spans(sizes: list[int], rows: int) -> Iterator[tuple[int, int]]:
    """(start, length) of consecutive batches over row groups of these sizes: whole groups
    while they fit in `rows`, a larger group in pieces of `rows`.

    >>> list(batch_spans([3, 3, 5, 2], 6))
    [(0, 6), (6, 5), (11, 2)]
    >>> list(batch_spans([10, 2], 4))
    [(0, 4), (4, 4), (8, 2), (10, 2)]
    """
    start = n = 0
    for size in [*sizes, rows + 1]:  # the sentinel flushes the last batch
        if n and n + size > rows:
            yield from ((a, min(rows, start + n - a)) for a in range(start, start + n, rows))
            start, n = start + n, 0
        n += size
