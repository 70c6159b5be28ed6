"""Terminal summaries of `curate report` and `curate run`: rich tables, nothing else."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from curate.report import ReportResult


def stage_table(stages: list[dict], seconds: dict[str, float] | None = None) -> Table:
    table = Table(title="records per stage", title_justify="left")
    table.add_column("stage")
    for col in ("in", "kept", "rejected", "rate"):
        table.add_column(col, justify="right")
    if seconds is not None:
        table.add_column("time", justify="right")
    for s in stages:
        rate = f"{100 * s['rejected'] / s['in']:.1f}%" if s["in"] else "-"
        row = [s["stage"], f"{s['in']:,}", f"{s['kept']:,}", f"{s['rejected']:,}", rate]
        if seconds is not None:
            row.append(f"{seconds.get(s['stage'], 0):.2f} s")
        table.add_row(*row)
    return table


def print_report(result: ReportResult, console: Console | None = None) -> None:
    console = console or Console()
    console.print(stage_table(result.stages))
    if result.splits:
        console.print("splits: " + ", ".join(f"{k} {v:,}" for k, v in result.splits.items()))
    console.print(f"report: {result.html}  (numbers: {result.json})", soft_wrap=True)
    if result.card:
        console.print(f"dataset card: {result.card}", soft_wrap=True)
