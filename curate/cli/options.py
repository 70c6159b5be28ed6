"""Options shared by several commands."""

from __future__ import annotations

from pathlib import Path

import click

PROCESSED = click.option(
    "--processed",
    type=click.Path(path_type=Path),
    default=Path("processed"),
    show_default=True,
    help="Directory of stage outputs.",
)


PATH = click.Path(path_type=Path)


def with_options(options):
    def decorate(fn):
        for name, kwargs in reversed(options):
            fn = click.option(name, **kwargs)(fn)
        return fn

    return decorate


EXPORT_OPTIONS = [
    (
        "--format",
        dict(
            type=click.Choice(["jsonl", "alpaca", "sharegpt", "parquet"]),
            default="jsonl",
            show_default=True,
        ),
    ),
    ("--out", dict(type=PATH, help="Output dir  [default: PROCESSED/export/FORMAT]")),
    (
        "--val-fraction",
        dict(
            type=float,
            default=0.1,
            show_default=True,
            help="Share of groups held out for validation.",
        ),
    ),
    ("--seed", dict(type=int, default=0, show_default=True, help="Seed of the split hash.")),
    (
        "--group-by",
        dict(
            type=click.Choice(["answer", "content", "id"]),
            default="answer",
            show_default=True,
            help="Records sharing this key share a split.",
        ),
    ),
    ("--shard-size", dict(type=int, default=100_000, show_default=True, help="Records per file.")),
    ("--system-prompt", dict(help="Add this system message to every record.")),
    (
        "--user-template",
        dict(
            default="{question}",
            show_default=True,
            help="User turn; placeholders {question} and {category}.",
        ),
    ),
    ("--tokenizer", dict(type=PATH, help="Tokenizer folder: report tokens per record.")),
    (
        "--max-tokens",
        dict(
            type=int,
            default=4096,
            show_default=True,
            help="Count records longer than this (SiliconFlow's limit).",
        ),
    ),
]
