"""`curate run`: the whole pipeline, with the main knob of each stage as a flag."""

from __future__ import annotations

from pathlib import Path

import click

from curate.cli.data import CONVERT_HELP, EXPORT_HELP, GROUP_BY, shown_path
from curate.cli.options import engine_options, field_option, processed_option, with_options
from curate.engines import EngineConfig
from curate.stages.dedupe import DedupeConfig
from curate.stages.export import ExportConfig
from curate.stages.ingest import IngestConfig
from curate.stages.run import RunConfig


@click.command("run")
@click.argument("sources", nargs=-1, type=click.Path(path_type=Path))
@processed_option(RunConfig)
# Stage settings are None unless given, so that curate.toml's stage tables still apply.
@field_option(IngestConfig, "convert", unset=True, help=CONVERT_HELP)
@field_option(
    DedupeConfig,
    "prefer",
    unset=True,
    metavar="SOURCE",
    help="Dedupe: keep records from this source first (repeatable).",
)
@field_option(ExportConfig, "val_fraction", unset=True, help=EXPORT_HELP["val_fraction"])
@field_option(ExportConfig, "seed", unset=True, help=EXPORT_HELP["seed"])
@field_option(ExportConfig, "group_by", unset=True, type=GROUP_BY, help=EXPORT_HELP["group_by"])
@field_option(ExportConfig, "system_prompt", unset=True, help=EXPORT_HELP["system_prompt"])
@field_option(
    ExportConfig, "user_template", unset=True, help="User turn, e.g. '歇后语：{question}——'"
)
@field_option(RunConfig, "report", help="Write the report page after the export.")
@with_options(engine_options())
@click.pass_context
def run_cmd(
    ctx: click.Context,
    sources: tuple[Path, ...],
    processed: Path,
    convert: str | None,
    prefer: tuple[str, ...],
    report: bool,
    engine: str,
    ray_address: str | None,
    **export_flags,
) -> None:
    """Run ingest -> dedupe -> export (jsonl) -> report on SOURCES (default raw/).

    Stage settings come from flags, then the [run] and [ingest]/[dedupe]/[export] tables
    of curate.toml, then the defaults.
    """
    from rich.console import Console

    from curate.cli.config import stage_config
    from curate.cli.render import print_run, step_printer
    from curate.stages.ingest import progress_bar
    from curate.stages.run import run

    ingest_config = stage_config(IngestConfig, ctx, "ingest", convert=convert)
    config = RunConfig(
        sources=sources or ingest_config.sources,
        processed=processed,
        ingest=ingest_config,
        dedupe=stage_config(DedupeConfig, ctx, "dedupe", prefer=prefer or None),
        export=stage_config(ExportConfig, ctx, "export", **export_flags),
        report=report,
        engine=EngineConfig(engine, ray_address),
    )
    console = Console(highlight=False)
    with progress_bar(Console(stderr=True)) as progress:
        result = run(config, progress, notify=step_printer(console, 4 if report else 3))
    print_run(result, console, shown_path(processed))
    if result.after and config.export.format == "jsonl":
        out = shown_path(config.export.out or Path(processed) / "export" / "jsonl")
        console.print(
            f"next: check the shards with `curate validate {out}/*.jsonl`; for SiliconFlow, "
            f"`curate train --backend siliconflow --data {out} --dry-run` checks them against "
            "its rules and prints the console steps (no upload, no key)",
            soft_wrap=True,
            highlight=False,
            markup=False,
        )
