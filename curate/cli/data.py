"""The data commands: ingest, export, validate, report (dedupe: cli/dedupe.py; run: cli/run.py)."""

from __future__ import annotations

from pathlib import Path

import click

from curate import stage
from curate.cli.options import engine_options, field_option, processed_option, with_options
from curate.engines import EngineConfig
from curate.errors import CurateError
from curate.stages.export import GROUP_KEYS, ExportConfig
from curate.stages.export.formats import FORMATS
from curate.stages.ingest import IngestConfig
from curate.stages.ingest.filters import FILTERS
from curate.stages.report import ReportConfig
from curate.stages.validate import ValidateConfig

CONVERT_HELP = "OpenCC conversion of the display text: t2s, s2t, tw2s, hk2s, ... or none."
GROUP_BY = click.Choice(tuple(GROUP_KEYS))
EXPORT_HELP = {
    "val_fraction": "Share of groups held out for validation.",
    "seed": "Seed of the split hash.",
    "group_by": "Records sharing this key share a split.",
    "system_prompt": "Add this system message to every record.",
    "user_template": "User turn; placeholders {question} and {category}.",
}
EXPORT_OPTIONS = [
    processed_option(ExportConfig),
    field_option(
        ExportConfig,
        "format",
        type=click.Choice(tuple(FORMATS)),
        help="jsonl: OpenAI chat messages, what SiliconFlow and `curate train` take; "
        "alpaca, sharegpt: LLaMA-Factory's; parquet: one table.",
    ),
    field_option(ExportConfig, "out", help="Output dir  [default: PROCESSED/export/FORMAT]"),
    field_option(ExportConfig, "val_fraction", help=EXPORT_HELP["val_fraction"]),
    field_option(ExportConfig, "seed", help=EXPORT_HELP["seed"]),
    field_option(ExportConfig, "group_by", type=GROUP_BY, help=EXPORT_HELP["group_by"]),
    field_option(ExportConfig, "shard_size", help="Records per file."),
    field_option(ExportConfig, "system_prompt", help=EXPORT_HELP["system_prompt"]),
    field_option(ExportConfig, "user_template", help=EXPORT_HELP["user_template"]),
    field_option(ExportConfig, "tokenizer", help="Tokenizer folder: report tokens per record."),
    field_option(
        ExportConfig, "max_tokens", help="Count records longer than this (SiliconFlow's limit)."
    ),
]


@click.command()
@with_options(EXPORT_OPTIONS + engine_options())
def export(engine: str, ray_address: str | None, **kwargs) -> None:
    """Write validated train/validation shards of deduped.parquet, with a manifest.

    Records that would not validate go to PROCESSED/exported.rejects.jsonl. Export runs on
    this machine under either engine (its input is the deduplicated set).
    """
    from rich.console import Console

    from curate.engines import get
    from curate.lengths import describe
    from curate.stages.export import export as run_export
    from curate.stages.export import shards

    get(EngineConfig(engine, ray_address))  # checked and installed, as for the other stages
    result = run_export(ExportConfig(**kwargs))
    m = result.manifest
    console, c = Console(highlight=False), m["counts"]
    reasons = f" {m['reasons']}" if m["reasons"] else ""
    console.print(
        f"export ({m['format']}) -> {m['params']['out']}: {c['in']} in, "
        f"{c['kept']} kept, {c['rejected']} rejected{reasons}",
        markup=False,
    )
    for split, s in m["splits"].items():
        console.print(f"  {split}: {s['records']} records in {s['groups']} groups")
    if held := m.get("held_in_train", {}).get("records"):
        console.print(f"  {held} record(s) held in train: a question nearly one in train")
        if not m["splits"]["validation"]["records"]:
            console.print("  validation is empty: try a larger --val-fraction or another --seed")
    for f in shards(m):
        console.print(f"  {f['path']}  {f['records']} records  sha256 {f['sha256'][:12]}")
    console.print(describe(m["lengths"]), markup=False)
    if any(p.name == "README.md" for p in result.removed):
        console.print(
            "removed the earlier export's dataset card (README.md); `curate report` writes anew"
        )
    say_reports_removed(console, [p for p in result.removed if p.name in stage.REPORTS])


def say_reports_removed(console, paths: list[Path]) -> None:
    """A stage that ran again removed the report of the earlier run (`stage.stale_reports`)."""
    if paths:
        names = ", ".join(p.name for p in paths)
        console.print(f"removed the earlier run's report ({names}); `curate report` writes anew")


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@field_option(ValidateConfig, "tokenizer", help="Tokenizer folder: warn about long records.")
@field_option(
    ValidateConfig, "max_tokens", help="Warn about records longer than this (SiliconFlow's limit)."
)
def validate(files: tuple[Path, ...], tokenizer: Path | None, max_tokens: int) -> None:
    """Check messages JSONL files: print FILE:LINE: problem; exit 1 if any is invalid."""
    from curate.lengths import describe
    from curate.stages.validate import validate as run_validate

    result = run_validate(ValidateConfig(files, tokenizer, max_tokens))
    for kind, items in (("", result.problems), ("warning: ", result.warnings)):
        for file, line, text in items:
            click.echo(f"{file}:{line}: {kind}{text}" if line else f"{file}: {kind}{text}")
    click.echo(
        f"{result.records} records in {result.files} file(s): {result.invalid} invalid, "
        f"{len(result.problems)} problem(s), {len(result.warnings)} warning(s)"
    )
    if result.lengths["records"]:  # lengths of the valid records only
        click.echo(describe(result.lengths))
    if not result.ok:  # the listing is printed above; the boundary adds `Error: ...`, exit 1
        raise CurateError(f"{len(result.problems)} problem(s) found; fix the lines listed above")


@click.command("report")
@processed_option(ReportConfig)
@field_option(ReportConfig, "export_dir", help="Export to describe  [default: DIR/export/jsonl]")
@field_option(ReportConfig, "out", help="[default: DIR/report.html]")
@field_option(ReportConfig, "card", help="Write the dataset card (README.md) next to the export.")
@click.option(
    "--screenshot",
    type=click.Path(path_type=Path),
    help="Also render the page in headless Chromium and save a PNG here.",
)
def report_cmd(
    processed: Path, export_dir: Path | None, out: Path | None, card: bool, screenshot: Path | None
) -> None:
    """Write DIR/report.html (self-contained) and the dataset card; print a summary."""
    from curate.cli.render import print_report
    from curate.stages.report import report

    result = report(ReportConfig(processed=processed, export_dir=export_dir, out=out, card=card))
    print_report(result)
    if screenshot is not None:
        from curate.stages.report.browser import check_page

        page = check_page(result.html, screenshot=screenshot)
        click.echo(f"screenshot: {screenshot} ({page.plots} plots, {len(page.errors)} errors)")


@click.command()
@click.argument("sources", nargs=-1, type=click.Path(path_type=Path))
@processed_option(IngestConfig)
@field_option(IngestConfig, "convert", help=CONVERT_HELP)
@field_option(
    IngestConfig, "encoding", help="Force one encoding for all text inputs  [default: detect]"
)
@field_option(
    IngestConfig, "question_field", help="Input field holding the question  [default: aliases]"
)
@field_option(
    IngestConfig, "answer_field", help="Input field holding the answer  [default: aliases]"
)
@field_option(
    IngestConfig,
    "disabled_filters",
    "--no-filter",
    "disabled_filters",
    metavar="NAME",
    help=f"Switch a quality filter off (repeatable): {', '.join(FILTERS)}.",
)
@field_option(IngestConfig, "max_question_chars", help="Longer questions are rejected (too_long).")
@field_option(IngestConfig, "max_answer_chars", help="Longer answers are rejected (too_long).")
@with_options(engine_options())
def ingest(sources: tuple[Path, ...], engine: str, ray_address: str | None, **kwargs) -> None:
    """Read raw riddle files (SOURCES: files or folders, default raw/) into DIR/ingested.*."""
    from rich.console import Console

    from curate.stages.ingest import ingest as run_ingest
    from curate.stages.ingest import progress_bar, summary_tables

    config = IngestConfig(**({"sources": sources} if sources else {}), **kwargs)
    stale = stage.stale_reports(config.processed)
    with progress_bar(Console(stderr=True)) as progress:
        result = run_ingest(config, progress, EngineConfig(engine, ray_address))
    console = Console(highlight=False)
    for table in summary_tables(result):
        console.print(table)
    console.print(f"wrote {', '.join(p.as_posix() for p in result.paths)}", markup=False)
    say_reports_removed(console, stale)


def shown_path(path: Path) -> str:
    """`path` relative to the working directory when it is below it, else as given."""
    try:
        return Path(path).resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return Path(path).as_posix()
