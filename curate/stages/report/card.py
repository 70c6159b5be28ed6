"""The dataset card: a Hugging Face style README.md (YAML header, then Markdown) for the export."""

from __future__ import annotations

from pathlib import Path

from curate.stages.export import CARD_MARK
from curate.stages.export.formats import LAYOUTS


def size_category(n: int) -> str:
    """Hugging Face `size_categories` bucket.

    >>> size_category(420), size_category(14032)
    ('n<1K', '10K<n<100K')
    """
    bounds = [
        (1_000, "n<1K"),
        (10_000, "1K<n<10K"),
        (100_000, "10K<n<100K"),
        (1_000_000, "100K<n<1M"),
        (10_000_000, "1M<n<10M"),
    ]
    return next((label for limit, label in bounds if n < limit), "n>10M")


def _yaml(stats: dict) -> list[str]:
    total = sum(s["records"] for s in stats["splits"].values())
    lines = [
        "---",
        "language:",
        "- zh",
        "license: other",
        CARD_MARK,
        "task_categories:",
        "- text-generation",
        "- question-answering",
        "tags:",
        "- riddles",
        "- chinese",
        "- sft",
        "size_categories:",
        f"- {size_category(total)}",
        "configs:",
        "- config_name: default",
        "  data_files:",
    ]
    for name, split in stats["splits"].items():
        ext = Path(split["files"][0]).suffix
        lines += [f"  - split: {name}", f"    path: {name}-*{ext}"]
    return [*lines, "---", ""]


def _example(stats: dict) -> list[str]:
    cats = {k: v for k, v in stats.get("categories", {}).items() if k != "(none)"}
    lines = ["Categories: " + ", ".join(f"{k} ({v:,})" for k, v in cats.items()) + ".", ""]
    lines = lines if cats else []
    if stats.get("example"):
        lines += ["The first training record:", "", "```json", stats["example"], "```", ""]
    return lines


# Flags that are paths on the machine that exported: nothing to the card's reader, and the
# card would differ with the folder it was made in.
LOCAL_PATHS = ("out", "processed", "tokenizer")


def _layout(stats: dict) -> str:
    """What one record of the export looks like, in its format (jsonl when not known)."""
    fmt = (stats.get("export_params") or {}).get("format")
    return LAYOUTS.get(fmt, LAYOUTS["jsonl"])


def _row(cells: list) -> str:
    return "| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |"


def render(stats: dict) -> str:
    """Markdown text of the card, from the report's numbers (deterministic)."""
    splits = stats["splits"]
    total = sum(s["records"] for s in splits.values())
    lines = _yaml(stats) + [
        "# Chinese riddles (curated)",
        "",
        f"{total:,} Chinese riddles as chat fine-tuning records, {_layout(stats)}.",
        "",
        *_example(stats),
        "## Splits",
        "",
        _row(["split", "records", "files"]),
        _row(["---"] * 3),
    ]
    lines += [_row([n, f"{s['records']:,}", ", ".join(s["files"])]) for n, s in splits.items()]
    params = stats.get("export_params") or {}
    if params:
        lines += [
            "",
            "Splits are assigned by hashing a group key, so that a duplicate cluster "
            "(and by default all riddles with the same answer) never straddles train and "
            "validation. Export parameters: "
            + ", ".join(
                f"`{k}={v}`"
                for k, v in sorted(params.items())
                if isinstance(v, (str, int, float)) and k not in LOCAL_PATHS
            )
            + ".",
        ]
    lines += [
        "",
        "## How it was made",
        "",
        "Built with `curate` "
        "(ingest → dedupe → export). Every record not kept is written to a rejects file "
        "with a reason.",
        "",
        _row(["stage", "in", "kept", "rejected", "reasons"]),
        _row(["---"] * 5),
    ]
    for s in stats["stages"]:
        reasons = ", ".join(f"{k} {v}" for k, v in s.get("reasons", {}).items())
        lines.append(
            _row([s["stage"], f"{s['in']:,}", f"{s['kept']:,}", f"{s['rejected']:,}", reasons])
        )
    lines += [
        "",
        "### Sources",
        "",
        _row(["file", "read", "rejected", "duplicates", "kept"]),
        _row(["---"] * 5),
    ]
    lines += [
        _row(
            [f"`{s['source']}`", *(f"{s[k]:,}" for k in ("read", "rejected", "duplicates", "kept"))]
        )
        for s in stats["sources"]
    ]
    lines += ["", "### Text", ""]
    for col, series in stats["lengths"].items():
        p = series.get("final", {})
        lines.append(
            f"- {col} length in characters: median {p.get('p50')}, "
            f"p90 {p.get('p90')}, p99 {p.get('p99')}, max {p.get('max')}"
        )
    mix = stats["script_mix"]
    lines.append(
        "- script (raw → final): "
        + ", ".join(f"{k} {mix['raw'][k]:,} → {mix['final'][k]:,}" for k in mix["final"])
    )
    lines.append(
        "- most frequent answers: " + ", ".join(f"{a} ({n})" for a, n in stats["top_answers"][:8])
    )
    conflicts = len(stats["conflicts"])
    lines += [
        "",
        "## Limitations",
        "",
        f"- {conflicts} question(s) appear with different answers (see "
        "`deduped.conflicts.jsonl`); review them before training."
        if conflicts
        else "- No conflicting answers were found by dedupe.",
        "- Riddle answers are often one of several acceptable answers; exact-match "
        "metrics understate quality.",
        "",
    ]
    return "\n".join(lines)
