"""`curate ingest`: raw files in any supported format -> processed/ingested.{parquet,rejects.jsonl,
manifest.json}. Every non-blank input record ends in exactly one of the kept rows or rejects.

Steps: find inputs -> convert (read in batches: JSONL streamed, other formats read whole; map
fields; normalize, filter, key column-wise; process.py) -> write.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from curate import engines
from curate.engines import EngineConfig
from curate.errors import ConfigError
from curate.normalize import CONVERSIONS
from curate.stage import StageResult, Timer, locked, write_stage
from curate.stages.ingest import filters, process, readers, tasks
from curate.stages.ingest.process import FileStats

STAGE = "ingested"
# Above this many records the CLI shows a progress bar (on a terminal only).
PROGRESS_MIN = 20_000

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


def unmatched_fields(config: IngestConfig, stats: list[FileStats]) -> list[str]:
    """A warning per file whose records all lack a field, when --question-field or
    --answer-field is given (a typo rejects every record as missing_field, without a word)."""
    named = [
        f"{flag} {name!r}"
        for flag, name in (
            ("--question-field", config.question_field),
            ("--answer-field", config.answer_field),
        )
        if name
    ]
    if not named:
        return []
    return [
        f"{s.path}: every record was rejected as missing_field, with {' and '.join(named)} "
        "given: check the name (the rejects list the fields each record has)"
        for s in stats
        if s.records and s.reasons["missing_field"] == s.records
    ]


def empty_files(stats: list[FileStats]) -> list[str]:
    """A warning per file that holds no records (empty, blank, `[]`, `{"data": []}`): it adds
    nothing, and a wrong file or a failed export looks just like that."""
    return [f"{s.path}: holds no records; nothing was read from it" for s in stats if not s.records]


@locked
def ingest(
    config: IngestConfig, progress: Progress | None = None, engine: EngineConfig | None = None
) -> IngestResult:
    """Read, normalize and filter every record of `config.sources`; write the ingested stage.
    `engine` runs the conversion (default local; ray: files and byte ranges as Ray tasks)."""
    config.check()
    runner = engines.get(engine)
    timer = Timer()
    with timer("read"):
        found = readers.find_inputs(list(config.sources), skip=config.processed)
    config.processed.mkdir(parents=True, exist_ok=True)
    # Kept rows of large inputs wait in part files here, so memory holds a few batches only.
    with tempfile.TemporaryDirectory(prefix=".ingested.parts.", dir=config.processed) as parts:
        with timer("convert"):
            files = [(p, source_name(p)) for p in found.paths]
            if runner.NAME == "local":
                results = process.convert_files(files, config, progress, Path(parts))
            else:
                with runner.session((engine or EngineConfig()).ray_address):
                    results = tasks.convert_files(files, config, runner, Path(parts))
            warnings = found.warnings + [w for r in results for w in r.warnings]
            warnings += empty_files([r.stats for r in results])
            warnings += unmatched_fields(config, [r.stats for r in results])
            rejects = [row for r in results for row in r.rejects]
            stats = [r.stats for r in results]
        n_in = sum(s.records for s in stats)  # as read; write_stage checks the sum
        with timer("write"):
            result = write_stage(
                config.processed,
                STAGE,
                process.kept_rows(results),
                rejects,
                n_in=n_in,
                params=config,
                inputs=[s.entry() for s in stats],
                extra={"warnings": warnings} if warnings else None,
                timings=timer.times,
                engine=runner.NAME,
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
