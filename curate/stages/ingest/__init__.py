"""`curate ingest`: raw files in any supported format -> processed/ingested.{parquet,rejects.jsonl,
manifest.json}. Every non-blank input record ends in exactly one of the kept rows or rejects.

Steps: find inputs -> read (decode, parse) -> map fields -> normalize -> filter -> write.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from curate.errors import ConfigError
from curate.io import sha256_file
from curate.normalize import CONVERSIONS
from curate.record import SCHEMA
from curate.stage import StageResult, Timer, locked, write_stage
from curate.stages.ingest import batches, filters, readers

STAGE = "ingested"
# Above this many records the CLI shows a progress bar (on a terminal only).
PROGRESS_MIN = 20_000
# Records converted column-wise at a time: large enough for polars, small enough for memory.
BATCH = 1 << 17

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class IngestConfig:
    sources: tuple[Path, ...] = (Path("raw"),)
    processed: Path = Path("processed")
    convert: str = "t2s"
    encoding: str | None = None
    question_field: str | None = None
    answer_field: str | None = None
    disabled_filters: tuple[str, ...] = ()
    max_question_chars: int = 500
    max_answer_chars: int = 200

    def check(self) -> None:
        if self.convert not in CONVERSIONS:
            raise ConfigError(
                f"unknown --convert {self.convert!r}; choose from {', '.join(CONVERSIONS)}"
            )
        unknown = sorted(set(self.disabled_filters) - set(filters.FILTERS))
        if unknown:
            raise ConfigError(
                f"unknown filter {', '.join(unknown)}; filters are {', '.join(filters.FILTERS)}"
            )
        if min(self.max_question_chars, self.max_answer_chars) < 1:
            raise ConfigError("--max-question-chars and --max-answer-chars must be at least 1")


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


@dataclass(frozen=True)
class IngestResult(StageResult):
    files: list[FileStats]  # per input file: format, encoding, records, kept, reasons
    warnings: tuple[str, ...] = ()  # links and folders skipped, files read without a header


def source_name(path: Path) -> str:
    """The path as recorded in rows and ids: relative to the working directory when inside it."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def _process(
    sources: list[tuple[readers.SourceFile, str]], config: IngestConfig, progress: Progress | None
) -> tuple[pl.DataFrame, list[dict], list[FileStats]]:
    """Convert every record of every file in batches, column-wise; count per file; report
    progress per batch."""
    total = sum(len(src.records) for src, _ in sources)
    limits = filters.Limits(config.max_question_chars, config.max_answer_chars)
    kept: list[pl.DataFrame] = []
    rejects: list[dict] = []
    stats: list[FileStats] = []
    done = 0
    for src, name in sources:
        stat = FileStats(name, src.format, src.encoding, sha256_file(src.path), src.numbering)
        stats.append(stat)
        for start in range(0, len(src.records), BATCH):
            records = src.records[start : start + BATCH]
            mapped, slow = batches.map_records(records, config)
            out = batches.convert_batch(mapped, slow, records.__getitem__, name, config, limits)
            kept.append(out.kept.drop("order"))
            rejects.extend(row for _, row in out.rejects)
            stat.records += len(records)
            stat.kept += out.kept.height
            stat.reasons.update(row["reason"] for _, row in out.rejects)
            done += len(records)
            if progress:
                progress(done, total)
    if progress and not total:
        progress(total, total)
    frame = pl.concat(kept) if kept else pl.DataFrame(schema=SCHEMA)
    return frame, rejects, stats


@locked
def ingest(config: IngestConfig, progress: Progress | None = None) -> IngestResult:
    """Read, normalize and filter every record of `config.sources`; write the ingested stage."""
    config.check()
    timer = Timer()
    with timer("read"):
        found = readers.find_inputs(list(config.sources), skip=config.processed)
        names = (config.question_field or "", config.answer_field or "")
        sources = [
            (readers.read_file(p, config.encoding, names), source_name(p)) for p in found.paths
        ]
        warnings = found.warnings + [w for src, _ in sources for w in src.warnings]
    with timer("convert"):
        frame, rejects, stats = _process(sources, config, progress)
    n_in = sum(len(src.records) for src, _ in sources)  # as read; write_stage checks the sum
    with timer("write"):
        result = write_stage(
            config.processed,
            STAGE,
            frame,
            rejects,
            n_in=n_in,
            params=config,
            inputs=[s.entry() for s in stats],
            extra={"warnings": warnings} if warnings else None,
            timings=timer.times,
        )
    return IngestResult(**result.fields(), files=stats, warnings=tuple(warnings))


def summary_tables(result: IngestResult) -> list:
    """Rich tables for the terminal: per file, then rejections by reason."""
    from rich.table import Table

    files = Table(
        title=f"ingest: {result.n_in} read, {result.kept} kept, "
        f"{result.rejected} rejected ({result.seconds:.1f}s)"
    )
    for col in ("file", "format", "encoding", "read", "kept", "rejected"):
        files.add_column(col, justify="right" if col in ("read", "kept", "rejected") else "left")
    for s in result.files:
        files.add_row(
            s.path,
            s.format,
            s.encoding or "-",
            str(s.records),
            str(s.kept),
            str(s.records - s.kept),
        )
    tables = [files]
    if result.reasons:
        reasons = Table(title="rejected by reason")
        reasons.add_column("reason")
        reasons.add_column("count", justify="right")
        reasons.add_column("files")
        for reason, count in sorted(result.reasons.items(), key=lambda kv: (-kv[1], kv[0])):
            where = [f"{s.path} ({s.reasons[reason]})" for s in result.files if s.reasons[reason]]
            reasons.add_row(reason, str(count), ", ".join(where))
        tables.append(reasons)
    if result.warnings:
        notes = Table(title="warnings", title_style="yellow")
        notes.add_column("warning", overflow="fold")
        for warning in result.warnings:
            notes.add_row(warning)
        tables.append(notes)
    return tables


@contextlib.contextmanager
def progress_bar(console) -> Iterator[Progress | None]:
    """A progress callback drawing a rich bar, on a terminal and for large inputs only."""
    if not console.is_terminal:
        yield None
        return
    from rich.progress import Progress as Bar

    with Bar(console=console, transient=True) as bar:
        task = None

        def update(done: int, total: int) -> None:
            nonlocal task
            if total >= PROGRESS_MIN:
                task = bar.add_task("ingest", total=total) if task is None else task
                bar.update(task, completed=done)

        yield update
