"""`curate dedupe`: its flags (from `DedupeConfig`), the summary and where to review."""

from __future__ import annotations

from pathlib import Path

import click

from curate import stage
from curate.cli.data import say_reports_removed, shown_path
from curate.cli.options import engine_options, field_option, processed_option, with_options
from curate.engines import EngineConfig
from curate.stages.dedupe import CONFLICT_POLICIES, MAX_PERM, MIN_PERM, DedupeConfig
from curate.stages.dedupe.minhash import MAX_N


@click.command()
@processed_option(DedupeConfig)
@field_option(DedupeConfig, "prefer", help="Source name or glob kept first (repeatable).")
@field_option(DedupeConfig, "ngram", type=click.IntRange(1, MAX_N), help="Character n-gram size.")
@field_option(
    DedupeConfig,
    "num_perm",
    type=click.IntRange(MIN_PERM, MAX_PERM),
    help="MinHash permutations. Bounded because memory grows with them: signatures take "
    "num_perm x rows x 4 bytes, and tuning LSH takes 0.4 GB at 1024 (1.7 GB at 4096); "
    f"below {MIN_PERM}, LSH cannot place its threshold.",
)
@field_option(DedupeConfig, "lsh_threshold", help="LSH tuned for this Jaccard (finds candidates).")
@field_option(DedupeConfig, "near_threshold", help="Bigram Jaccard that makes a near duplicate.")
@field_option(
    DedupeConfig, "conflict_threshold", help="Bigram Jaccard for other answers to conflict."
)
@field_option(
    DedupeConfig, "variant_threshold", help="IDF-weighted score for a shared-answer variant."
)
@field_option(
    DedupeConfig, "variant_slope", help="Added per ln(k/2), k = riddles sharing the answer."
)
@field_option(DedupeConfig, "variant_min_shared", help="Content bigrams a variant pair must share.")
@field_option(
    DedupeConfig,
    "specific_k",
    type=click.IntRange(0),
    help="Brain teasers/谜语: an answer given by at most this many riddles is specific to one.",
)
@field_option(
    DedupeConfig,
    "specific_content",
    type=click.FloatRange(0, 1, min_open=True),
    help="... and then this content Jaccard can stand in for --variant-min-shared bigrams.",
)
@field_option(
    DedupeConfig,
    "specific_alone",
    type=click.FloatRange(0, 1, min_open=True),
    help="... and this content Jaccard merges them whatever their IDF-weighted score.",
)
@field_option(
    DedupeConfig,
    "content_threshold",
    type=click.FloatRange(0, 1, min_open=True),
    help="字谜/歇后语 variants: Jaccard of the questions' content characters.",
)
@field_option(
    DedupeConfig,
    "glyph_conflict_threshold",
    type=click.FloatRange(0, 1, min_open=True),
    help="Bigram Jaccard for two 字谜 with other answers to conflict.",
)
@field_option(
    DedupeConfig,
    "glyph_overlap",
    type=click.FloatRange(0, 1, min_open=True),
    help="字谜 variants: share of the shorter clue's characters the other has (2 at least).",
)
@field_option(
    DedupeConfig,
    "against",
    type=click.Path(path_type=Path, exists=True),
    help="External set (file or folder, repeatable): matching records are removed as "
    "`contaminated`.",
)
@field_option(
    DedupeConfig,
    "on_conflict",
    type=click.Choice(CONFLICT_POLICIES),
    help="keep: keep all and list them; survivor: keep one.",
)
@field_option(
    DedupeConfig,
    "overrides",
    help="JSONL of review decisions (distinct, survivor, answer; README: `curate dedupe`), "
    "read if present  [default: dedupe.overrides.jsonl beside the --processed folder]",
)
@with_options(engine_options())
def dedupe(processed: Path, engine: str, ray_address: str | None, **flags) -> None:
    """Remove exact, near-duplicate and variant riddles; list conflicts for review.

    PROCESSED/deduped.clusters.md lists each kept record with what was merged into it, and
    PROCESSED/deduped.conflicts.jsonl the same question given different answers. To override
    a decision, add a JSON line to the --overrides file and run dedupe again (questions are
    matched ignoring punctuation and spaces):

    \b
    never merge two riddles; keep this copy; a's answer is right (b is removed):
    {"a": "九日", "b": "九个太阳", "decision": "distinct"}
    {"a": "什么东西越洗越脏？", "decision": "survivor"}
    {"a": "门", "a_answer": "球门", "b": "门", "b_answer": "足球门", "decision": "answer"}
    """
    from rich.console import Console

    from curate.stages.dedupe import dedupe

    stale = stage.stale_reports(processed)
    result = dedupe(DedupeConfig(processed=processed, **flags), EngineConfig(engine, ray_address))
    console = Console()
    kinds = ", ".join(f"{k} {n}" for k, n in result.removed.items())
    console.print(
        f"[bold]dedupe[/]: {result.n_in} in, {result.kept} kept, "
        f"{result.n_in - result.kept} removed ({kinds}); "
        f"{result.clusters} clusters, {result.conflicts} conflicts kept for review"
    )
    console.print(
        f"LSH {result.bands} bands x {result.rows} rows (the candidate search); "
        f"took {sum(result.timings.values()):.2f}s"
    )
    for path in result.paths:
        console.print(f"  {path}")
    for warning in result.warnings:
        console.print(f"[yellow]warning[/]: {warning}")
    say_review(console, processed, result)
    say_reports_removed(console, stale)


def say_review(console, processed: Path, result) -> None:
    """Which review decisions dedupe read, or where to put them: a newcomer otherwise cannot
    tell whether the overrides file was found, nor where one goes."""
    where = shown_path(result.overrides)
    if result.decisions:
        console.print(f"read {result.decisions} review decision(s) from {where}")
    folder = shown_path(Path(processed))
    console.print(
        f"review: merges in {folder}/deduped.clusters.md, conflicts in "
        f"{folder}/deduped.conflicts.jsonl; to override one, add a line to {where} "
        "(curate dedupe --help) and rerun `curate dedupe`",
        markup=False,
        highlight=False,
    )
