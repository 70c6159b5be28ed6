"""The data commands: ingest, dedupe, export, validate, report, run."""

from __future__ import annotations

from pathlib import Path

import click

from curate.cli.options import EXPORT_OPTIONS, PATH, PROCESSED, with_options
from curate.errors import CurateError


@click.command()
@PROCESSED
@with_options(EXPORT_OPTIONS)
def export(**kwargs) -> None:
    """Write validated train/validation shards of deduped.parquet, with a manifest.

    Records that would not validate go to PROCESSED/exported.rejects.jsonl.
    """
    from rich.console import Console

    from curate.lengths import describe
    from curate.stages.export import ExportConfig
    from curate.stages.export import export as run_export

    m = run_export(ExportConfig(**kwargs)).manifest
    console, c = Console(highlight=False), m["counts"]
    reasons = f" {m['reasons']}" if m["reasons"] else ""
    console.print(
        f"export ({m['format']}) -> {m['params']['out']}: {c['in']} in, "
        f"{c['kept']} kept, {c['rejected']} rejected{reasons}",
        markup=False,
    )
    for split, s in m["splits"].items():
        console.print(f"  {split}: {s['records']} records in {s['groups']} groups")
    for f in m["files"]:
        console.print(f"  {f['path']}  {f['records']} records  sha256 {f['sha256'][:12]}")
    console.print(describe(m["lengths"]), markup=False)


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--tokenizer", type=PATH, help="Tokenizer folder: warn about long records.")
@click.option(
    "--max-tokens",
    type=int,
    default=4096,
    show_default=True,
    help="Warn about records longer than this (SiliconFlow's limit).",
)
def validate(files: tuple[Path, ...], tokenizer: Path | None, max_tokens: int) -> None:
    """Check messages JSONL files: print FILE:LINE: problem; exit 1 if any is invalid."""
    from curate.lengths import describe
    from curate.stages.validate import ValidateConfig
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
@PROCESSED
@click.option(
    "--export-dir",
    type=click.Path(path_type=Path),
    help="Export to describe  [default: DIR/export/jsonl]",
)
@click.option("--out", type=click.Path(path_type=Path), help="[default: DIR/report.html]")
@click.option(
    "--card/--no-card",
    default=True,
    show_default=True,
    help="Write the dataset card (README.md) next to the export.",
)
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
    from curate.stages.report import ReportConfig, report

    result = report(ReportConfig(processed=processed, export_dir=export_dir, out=out, card=card))
    print_report(result)
    if screenshot is not None:
        from curate.stages.report.browser import check_page

        page = check_page(result.html, screenshot=screenshot)
        click.echo(f"screenshot: {screenshot} ({page.plots} plots, {len(page.errors)} errors)")


@click.command()
@click.argument("sources", nargs=-1, type=click.Path(path_type=Path))
@PROCESSED
@click.option(
    "--convert",
    default="t2s",
    show_default=True,
    help="OpenCC conversion of the display text: t2s, s2t, tw2s, hk2s, ... or none.",
)
@click.option("--encoding", help="Force one encoding for all text inputs  [default: detect]")
@click.option("--question-field", help="Input field holding the question  [default: aliases]")
@click.option("--answer-field", help="Input field holding the answer  [default: aliases]")
@click.option(
    "--no-filter",
    "disabled_filters",
    multiple=True,
    metavar="NAME",
    help="Switch a quality filter off (repeatable): empty_question, empty_answer, "
    "mojibake, split_note, unbalanced_brackets, answer_equals_question, too_long.",
)
@click.option("--max-question-chars", type=int, default=500, show_default=True)
@click.option("--max-answer-chars", type=int, default=200, show_default=True)
def ingest(sources: tuple[Path, ...], **kwargs) -> None:
    """Read raw riddle files (SOURCES: files or folders, default raw/) into DIR/ingested.*."""
    from rich.console import Console

    from curate.stages.ingest import IngestConfig, progress_bar, summary_tables
    from curate.stages.ingest import ingest as run_ingest

    config = IngestConfig(sources=sources or (Path("raw"),), **kwargs)
    with progress_bar(Console(stderr=True)) as progress:
        result = run_ingest(config, progress)
    console = Console(highlight=False)
    for table in summary_tables(result):
        console.print(table)
    console.print(f"wrote {', '.join(p.as_posix() for p in result.outputs)}", markup=False)


@click.command("run")
@click.argument("sources", nargs=-1, type=click.Path(path_type=Path))
@PROCESSED
@click.option("--convert", help="OpenCC conversion of the display text  [default: t2s]")
@click.option(
    "--prefer",
    "prefer",
    multiple=True,
    metavar="SOURCE",
    help="Dedupe: keep records from this source first (repeatable).",
)
@click.option("--val-fraction", type=float, help="Validation share  [default: 0.1]")
@click.option("--seed", type=int, help="Seed of the split hash  [default: 0]")
@click.option(
    "--group-by",
    type=click.Choice(["answer", "content", "id"]),
    help="Records sharing this key share a split  [default: answer]",
)
@click.option("--system-prompt", help="Add this system message to every exported record.")
@click.option("--user-template", help="User turn, e.g. '歇后语：{question}——'")
@click.option("--report/--no-report", default=True, show_default=True)
@click.pass_context
def run_cmd(
    ctx: click.Context,
    sources: tuple[Path, ...],
    processed: Path,
    convert: str | None,
    prefer: tuple[str, ...],
    report: bool,
    **export_flags,
) -> None:
    """Run ingest -> dedupe -> export (jsonl) -> report on SOURCES (default raw/).

    Stage settings come from flags, then the [run] and [ingest]/[dedupe]/[export] tables
    of curate.toml, then the defaults.
    """
    from rich.console import Console

    from curate.cli.config import stage_config
    from curate.cli.render import print_run, step_printer
    from curate.stages.dedupe import DedupeConfig
    from curate.stages.export import ExportConfig
    from curate.stages.ingest import IngestConfig, progress_bar
    from curate.stages.run import RunConfig, run

    ingest_config = stage_config(IngestConfig, ctx, "ingest", convert=convert)
    config = RunConfig(
        sources=sources or ingest_config.sources,
        processed=processed,
        ingest=ingest_config,
        dedupe=stage_config(DedupeConfig, ctx, "dedupe", prefer=prefer or None),
        export=stage_config(ExportConfig, ctx, "export", **export_flags),
        report=report,
    )
    console = Console(highlight=False)
    with progress_bar(Console(stderr=True)) as progress:
        result = run(config, progress, notify=step_printer(console, 4 if report else 3))
    print_run(result, console)


@click.command()
@PROCESSED
@click.option("--prefer", multiple=True, help="Source name or glob kept first (repeatable).")
@click.option("--ngram", default=2, show_default=True, help="Character n-gram size (1-3).")
@click.option("--num-perm", default=64, show_default=True, help="MinHash permutations.")
@click.option(
    "--lsh-threshold",
    default=0.45,
    show_default=True,
    help="LSH tuned for this Jaccard (finds candidates).",
)
@click.option(
    "--near-threshold",
    default=0.55,
    show_default=True,
    help="Bigram Jaccard that makes a near duplicate.",
)
@click.option(
    "--conflict-threshold",
    default=0.65,
    show_default=True,
    help="Bigram Jaccard for other answers to conflict.",
)
@click.option(
    "--variant-threshold",
    default=0.22,
    show_default=True,
    help="IDF-weighted score for a shared-answer variant.",
)
@click.option(
    "--variant-slope",
    default=0.2,
    show_default=True,
    help="Added per ln(k/2), k = riddles sharing the answer.",
)
@click.option(
    "--variant-min-shared",
    default=2,
    show_default=True,
    help="Content bigrams a variant pair must share.",
)
@click.option(
    "--on-conflict",
    type=click.Choice(["keep", "survivor"]),
    default="keep",
    show_default=True,
    help="keep: keep all and list them; survivor: keep one.",
)
@click.option(
    "--overrides",
    type=click.Path(path_type=Path),
    default=None,
    help="JSONL of pairs marked distinct [default: ../dedupe.overrides.jsonl].",
)
def dedupe(
    processed: Path, prefer: tuple[str, ...], on_conflict: str, overrides: Path | None, **thresholds
) -> None:
    """Remove exact, near-duplicate and variant riddles; list conflicts for review."""
    from rich.console import Console

    from curate.stages.dedupe import DedupeConfig, dedupe

    config = DedupeConfig(
        processed=processed,
        prefer=prefer,
        on_conflict=on_conflict,
        overrides=overrides,
        **thresholds,
    )
    result = dedupe(config)
    console = Console()
    kinds = ", ".join(f"{k} {n}" for k, n in result.removed.items())
    console.print(
        f"[bold]dedupe[/]: {result.n_in} in, {result.kept} kept, "
        f"{result.n_in - result.kept} removed ({kinds}); "
        f"{result.clusters} clusters, {result.conflicts} conflicts kept for review"
    )
    console.print(
        f"LSH {result.bands} bands x {result.rows} rows; took {sum(result.timings.values()):.2f}s"
    )
    for name in ("parquet", "rejects.jsonl", "conflicts.jsonl", "clusters.md"):
        console.print(f"  {result.paths[name]}")
    for warning in result.warnings:
        console.print(f"[yellow]warning[/]: {warning}")
