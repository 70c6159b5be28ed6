"""Every input file converted in batches: JSONL, CSV, TSV and text streamed in chunks of
lines and Parquet in slices of rows (memory bounded by the batch), other files (JSON, or not
UTF-8) read whole by `readers.read_file` and converted a batch of records at a time; two files
at a time (polars and OpenCC release the GIL)."""

from __future__ import annotations

import itertools
import json
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from curate.errors import InputError
from curate.io import sha256_file
from curate.record import SCHEMA
from curate.stages.ingest import batches, filters, jsondoc, jsonl, readers, textstream

# Records converted column-wise at a time: large enough for polars, small enough for memory.
BATCH = 1 << 17
# Kept rows a file holds in memory before writing them to a part file (~300 MB of riddles).
SPILL_ROWS = 1 << 20

Progress = Callable[[int, int], None]


@dataclass
class FileStats:
    path: str
    format: str
    encoding: str | None
    sha256: str
    numbering: str = "line"
    records: int = 0
    kept: int = 0
    reasons: Counter = field(default_factory=Counter)

    def entry(self) -> dict:
        return {
            "path": self.path,
            "sha256": self.sha256,
            "format": self.format,
            "encoding": self.encoding,
            "numbering": self.numbering,
            "records": self.records,
            "kept": self.kept,
            "rejected": self.records - self.kept,
        }


@dataclass
class FileResult:
    """One file's stats, rejects and kept rows: frames in memory, or part files once more than
    SPILL_ROWS rows are held (when `spill` names a folder for them)."""

    stats: FileStats
    spill: Path | None = None
    kept: list[pl.DataFrame | Path] = field(default_factory=list)
    rejects: list[dict] = field(default_factory=list)
    warnings: tuple[str, ...] = ()
    held: int = 0

    def add(self, out: batches.Converted, n: int) -> None:
        self.kept.append(out.kept.drop("order"))
        self.rejects.extend(row for _, row in out.rejects)
        self.stats.records += n
        self.stats.kept += out.kept.height
        self.stats.reasons.update(row["reason"] for _, row in out.rejects)
        self.held += out.kept.height
        if self.spill is not None and self.held >= SPILL_ROWS:
            self.flush()

    def flush(self) -> None:
        """Write the frames held in memory to one part file (fast compression: read once)."""
        frames = [k for k in self.kept if isinstance(k, pl.DataFrame)]
        if not frames or self.spill is None:
            return
        self.spill.mkdir(parents=True, exist_ok=True)
        parts = sum(isinstance(k, Path) for k in self.kept)
        path = self.spill / f"{id(self):x}-{parts:06d}.parquet"
        pl.concat(frames).write_parquet(path, compression="lz4", statistics=False)
        self.kept = [k for k in self.kept if isinstance(k, Path)] + [path]
        self.held = 0


def kept_rows(results: list[FileResult]) -> pl.DataFrame | pl.LazyFrame:
    """All kept rows in file order: one frame, or a scan of the part files once any spilled."""
    if any(isinstance(k, Path) for r in results for k in r.kept):
        for r in results:
            r.flush()
        return pl.scan_parquet([k for r in results for k in r.kept])
    frames = [k for r in results for k in r.kept]
    return pl.concat(frames) if frames else pl.DataFrame(schema=SCHEMA)


class Done:
    """Records done over all files, reported to `progress` per batch (thread-safe)."""

    def __init__(self, total: int, progress: Progress | None) -> None:
        self.done, self.total, self.progress = 0, total, progress
        self.lock = threading.Lock()

    def add(self, n: int) -> None:
        with self.lock:
            self.done += n
            if self.progress:
                self.progress(self.done, max(self.total, self.done))


def expected_records(path: Path) -> int:
    """Lines of a file (an estimate of its records for the progress bar; 0 when compressed)."""
    if path.suffix.lower() == ".gz":
        return 0
    with open(path, "rb") as f:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 24), b""))


def stream(
    path: Path, name: str, config, limits: filters.Limits, done: Done, spill: Path | None
) -> FileResult:
    """A JSONL file batch by batch; NotStreamable when it must be read whole."""
    stats = FileStats(name, "jsonl", jsonl.encoding_of(path), sha256_file(path))
    result, counted, checked = FileResult(stats, spill), 0, False
    try:
        for start, lines in jsonl.line_batches(path):
            checked = checked or first_line_ok(lines)
            mapped, slow, record, n = jsonl.map_lines(start, lines, config)
            result.add(batches.convert_batch(mapped, slow, record, name, config, limits), n)
            done.add(n)
            counted += n
    except jsonl.NotStreamable:
        done.add(-counted)
        raise
    return result


def first_line_ok(lines: list[str]) -> bool:
    """Whether the first non-blank line was seen; NotStreamable when it opens a JSON document
    that does not end on that line (read_file then reads the file as one JSON document)."""
    first = next((ln.strip() for ln in lines if ln.strip()), "")
    if first[:1] in ("[", "{"):
        try:
            jsondoc.loads(first)
        except json.JSONDecodeError:
            raise jsonl.NotStreamable(first[:20]) from None
    return bool(first)


def whole(
    src: readers.SourceFile, name: str, config, limits, done: Done, spill: Path | None
) -> FileResult:
    """A file read whole, converted a batch of records at a time."""
    stats = FileStats(name, src.format, src.encoding, sha256_file(src.path), src.numbering)
    result = FileResult(stats, spill, warnings=src.warnings)
    for start in range(0, len(src.records), BATCH):
        _add(result, src.records[start : start + BATCH], config, limits, done)
    return result


def _add(result: FileResult, records: list, config, limits, done: Done) -> None:
    mapped, slow = batches.map_records(records, config)
    name = result.stats.path
    result.add(
        batches.convert_batch(mapped, slow, records.__getitem__, name, config, limits), len(records)
    )
    done.add(len(records))


def stream_parquet(
    path: Path, name: str, config, limits: filters.Limits, done: Done, spill: Path | None
) -> FileResult:
    """A Parquet file a slice of rows at a time (polars reads only the row groups it needs);
    NotStreamable when polars cannot read it (read_file then names the problem)."""
    result, counted = (
        FileResult(FileStats(name, "parquet", None, sha256_file(path), "row"), spill),
        0,
    )
    try:
        scan = pl.scan_parquet(path)
        casts = readers.integers_with_nulls(scan)
        for start in range(0, scan.select(pl.len()).collect().item(), BATCH):
            frame = scan.slice(start, BATCH).collect().with_columns(casts)
            _add(result, list(readers.parquet_records(frame, start + 1)), config, limits, done)
            counted += frame.height
    except Exception:  # polars raises several types for a corrupt file; read_file names it
        done.add(-counted)
        raise jsonl.NotStreamable(str(path)) from None
    return result


def stream_text(
    path: Path, name: str, config, limits: filters.Limits, done: Done, spill: Path | None
) -> FileResult:
    """A CSV, TSV or text file a chunk of lines at a time, converted BATCH records at a time
    as `whole` does; NotStreamable when it must be read whole (read_file then also raises any
    error, on the encoding it decides)."""
    names = (config.question_field or "", config.answer_field or "")
    fmt, used, records, warnings = textstream.open_text(path, names)
    result = FileResult(FileStats(name, fmt, used, sha256_file(path)), spill)
    counted = 0
    try:
        while batch := list(itertools.islice(records, BATCH)):
            _add(result, batch, config, limits, done)
            counted += len(batch)
    except (jsonl.NotStreamable, InputError):
        done.add(-counted)
        raise jsonl.NotStreamable(str(path)) from None
    result.warnings = tuple(warnings)
    return result


def convert_file(path: Path, name: str, config, done: Done, spill: Path | None) -> FileResult:
    limits = filters.Limits(config.max_question_chars, config.max_answer_chars)
    parquet = readers.input_format(path) == "parquet" and path.suffix.lower() != ".gz"
    streamer = (
        stream
        if jsonl.streamable(path, config.encoding)
        else stream_text
        if textstream.streamable(path, config.encoding)
        else stream_parquet
        if parquet
        else None
    )
    if streamer is not None:
        try:
            return _named(streamer(path, name, config, limits, done, spill), path, name)
        except jsonl.NotStreamable:
            pass
    names = (config.question_field or "", config.answer_field or "")
    src = readers.read_file(path, config.encoding, names)
    return _named(whole(src, name, config, limits, done, spill), path, name)


def _named(result: FileResult, path: Path, name: str) -> FileResult:
    """Warnings naming the file as its rows do (a Ray task reads it by its absolute path)."""
    where = f"{path}: "
    result.warnings = tuple(
        f"{name}: {w[len(where) :]}" if w.startswith(where) else w for w in result.warnings
    )
    return result


def convert_files(
    files: list[tuple[Path, str]], config, progress: Progress | None, spill: Path | None = None
) -> list[FileResult]:
    """Every file's result, in the order given; two files at a time; kept rows beyond
    SPILL_ROWS per file go to part files in `spill`."""
    done = Done(sum(expected_records(p) for p, _ in files), progress)
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda f: convert_file(f[0], f[1], config, done, spill), files))
    if progress and (done.done != done.total or not done.done):
        progress(done.done, done.done)  # the estimate was off (blank lines, headers, .gz)
    return results
