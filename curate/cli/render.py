"""Terminal summaries of `curate report` and `curate run`: rich tables, nothing else."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from curate.stages.report import ReportResult


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
    kinds = ", ".join(f"{k} {v:,}" for k, v in result.duplicates.items()) or "none"
    console.print(f"duplicates removed: {kinds}; conflicts to review: {result.conflicts:,}")
    if result.splits:
        console.print("splits: " + ", ".join(f"{k} {v:,}" for k, v in result.splits.items()))
    console.print(f"report: {result.html}  (numbers: {result.json})", soft_wrap=True)
    if result.card:
        console.print(f"dataset card: {result.card}", soft_wrap=True)


def step_printer(console: Console, total: int = 4):
    """A `notify` for pipeline.run: one line as each step starts and ends."""
    seen: list[str] = []

    def notify(phase: str, step) -> None:
        if phase == "start":
            seen.append(step.name)
            console.print(f"[bold][{len(seen)}/{total}] {step.name}[/] …")
            return
        c = step.counts
        word = {"dedupe": "removed", "export": "invalid"}.get(step.name, "rejected")
        counts = f"{c['in']:,} → {c['kept']:,} kept, {c['rejected']:,} {word} · " if c else ""
        console.print(
            f"      [green]✓[/] {step.seconds:.2f} s  {counts}[dim]{step.detail}[/]",
            highlight=False,
            soft_wrap=True,
        )

    return notify


def print_run(result, console: Console | None = None, processed: str = "processed") -> None:
    """The closing summary of `curate run`: a table of stages, then before -> after."""
    console = console or Console()
    stages = [{"stage": s.name, **s.counts} for s in result.steps if s.counts]
    console.print(stage_table(stages, {s.name: s.seconds for s in result.steps}))
    total = sum(s.seconds for s in result.steps)
    splits = " / ".join(f"{k} {v:,}" for k, v in result.splits.items())
    console.print(
        f"[bold]before → after:[/] {result.before:,} records read → {result.after:,} "
        f"exported ({splits}) in {total:.1f} s",
        highlight=False,
    )
    if result.report is not None:
        if result.report.conflicts:
            console.print(
                f"[yellow]{result.report.conflicts} conflict(s) to review[/] "
                f"(same question, different answers): {processed}/deduped.conflicts.jsonl; "
                "settle them in dedupe.overrides.jsonl (curate dedupe --help)",
                highlight=False,
            )
        console.print(f"report: {result.report.html}", soft_wrap=True, highlight=False)
        if result.report.card:
            console.print(f"dataset card: {result.report.card}", soft_wrap=True, highlight=False)
