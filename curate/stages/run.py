"""`curate run`: raw files -> ingest -> dedupe -> export -> report, as named, timed steps.

Each step is the stage's own library function with its own config; the run only chains
them through one processed directory and keeps the counts and times of every step.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from curate import engines
from curate.commit import lock
from curate.engines import EngineConfig
from curate.stages.dedupe import DedupeConfig, dedupe
from curate.stages.export import ExportConfig, export
from curate.stages.ingest import IngestConfig, ingest
from curate.stages.report import ReportConfig, ReportResult, report

STEPS = ("ingest", "dedupe", "export", "report")


@dataclass(frozen=True)
class RunConfig:
    """What to read, where to write, and each stage's own settings.

    `sources` and `processed` are the run's: they replace the fields of the same name in
    the stage configs, so that every step reads what the step before it wrote.
    """

    sources: tuple[Path, ...] = (Path("raw"),)
    processed: Path = Path("processed")
    ingest: IngestConfig = field(default_factory=IngestConfig)
    dedupe: DedupeConfig = field(default_factory=DedupeConfig)
    export: ExportConfig = field(default_factory=ExportConfig)
    report: bool = True
    engine: EngineConfig = field(default_factory=EngineConfig)  # where ingest and dedupe run


@dataclass
class Step:
    name: str
    seconds: float = 0.0
    counts: dict = field(default_factory=dict)  # {in, kept, rejected}
    detail: str = ""  # one line for the terminal: reasons, kinds, splits, file


@dataclass
class RunResult:
    steps: list[Step]
    before: int  # records read from the sources
    after: int  # records exported
    splits: dict[str, int]
    report: ReportResult | None = None


class _Steps:
    """Times named steps and tells an observer when each one starts and ends."""

    def __init__(self, notify: Callable[[str, Step], None] | None):
        self.steps: list[Step] = []
        self.notify = notify or (lambda phase, step: None)

    @contextmanager
    def __call__(self, name: str) -> Iterator[Step]:
        step = Step(name)
        self.notify("start", step)
        started = time.perf_counter()
        yield step
        step.seconds = time.perf_counter() - started
        self.steps.append(step)
        self.notify("end", step)


def _top(counts: dict[str, int], n: int = 4) -> str:
    """The most frequent few, then how many more: "mojibake 4, empty_answer 2, +3 more"."""
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    more = f", +{len(ranked) - n} more" if len(ranked) > n else ""
    return ", ".join(f"{k} {v:,}" for k, v in ranked[:n]) + more


def run(
    config: RunConfig,
    progress: Callable[[int, int], None] | None = None,
    notify: Callable[[str, Step], None] | None = None,
) -> RunResult:
    """Run the whole pipeline; `notify(phase, step)` hears "start"/"end" of every step."""
    processed = Path(config.processed)
    engines.get(config.engine)  # an engine that cannot run fails before any stage starts
    # Each stage opens its engine's session for the part that runs there and closes it after
    # (on Ray: dedupe's passes on the driver then run with no idle workers and no object store
    # resident; that is what kept 10M under 8 GB in all, bench/README.md).
    with lock(processed):  # one writer
        return _run(config, processed, progress, _Steps(notify))


def _run(config: RunConfig, processed: Path, progress: Callable | None, steps: _Steps) -> RunResult:
    with steps("ingest") as step:
        ingested = ingest(
            dataclasses.replace(config.ingest, sources=config.sources, processed=processed),
            progress,
            config.engine,
        )
        step.counts, step.detail = ingested.counts, _top(ingested.reasons)
    with steps("dedupe") as step:
        deduped = dedupe(dataclasses.replace(config.dedupe, processed=processed), config.engine)
        step.counts = deduped.counts
        step.detail = _top({k: n for k, n in deduped.removed.items() if n})
    with steps("export") as step:
        exported = export(dataclasses.replace(config.export, processed=processed))
        step.counts = exported.counts
        splits = {s: v["records"] for s, v in exported.manifest["splits"].items()}
        step.detail = f"{exported.out.as_posix()}: " + _top(splits)
    result = None
    if config.report:
        with steps("report") as step:
            result = report(ReportConfig(processed=processed, export_dir=exported.out))
            step.detail = result.html.as_posix()
    first = steps.steps[0].counts
    return RunResult(
        steps.steps, before=first["in"], after=exported.counts["kept"], splits=splits, report=result
    )
