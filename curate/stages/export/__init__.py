"""Export deduped records as validated, leakage-free, sharded train/validation files.

Reads `<processed>/deduped.parquet`; writes to OUT (default `<processed>/export/<format>/`):
`train-00000-of-0000N.<ext>`, `validation-00000-of-0000M.<ext>`, `dataset_info.json`
(LLaMA-Factory formats) and `manifest.json` (files with split, count and sha256; params;
counts; lengths). Records whose line would not validate go, like every stage's rejects, to
`<processed>/exported.rejects.jsonl`, so that `curate validate OUT/*.jsonl` sees only data.
"""

from __future__ import annotations

import dataclasses
import os
import string
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from curate import commit, io, stage
from curate.errors import ConfigError, InputError
from curate.lengths import DEFAULT_MAX_TOKENS, length_report
from curate.messages import message_problems
from curate.record import reject
from curate.stages.export.formats import FORMATS, dataset_info
from curate.stages.export.leaks import hold_in_train, near_pairs
from curate.stages.export.splits import (  # noqa: F401 (re-exported)
    GROUP_KEYS,
    answer_group,
    assign_splits,
    merge_groups,
    read_conflicts,
    unit_hash,
)
from curate.verify import EXPORT_RERUN, SHARD, verified

SPLITS = ("train", "validation")
CARD_MARK = "pretty_name: Chinese riddles (curated)"  # in the YAML header of the dataset card
PLACEHOLDERS = ("question", "category")


@dataclass(frozen=True)
class ExportConfig:
    processed: Path = Path("processed")
    out: Path | None = None  # default: <processed>/export/<format>
    format: str = "jsonl"
    val_fraction: float = 0.1  # SiliconFlow's console default split
    seed: int = 0
    group_by: str = "answer"
    # One file per split by default: SiliconFlow's console takes a single training file.
    shard_size: int = 100_000
    system_prompt: str | None = None
    user_template: str = "{question}"
    tokenizer: Path | None = None
    max_tokens: int = DEFAULT_MAX_TOKENS


@dataclass(frozen=True)
class ExportResult(stage.StageResult):
    out: Path
    removed: tuple[Path, ...] = ()  # files of an earlier export: shards, its dataset card


def check_config(config: ExportConfig) -> None:
    """Reject impossible flags before reading anything."""
    if config.format not in FORMATS:
        raise ConfigError(f"unknown --format {config.format!r}; choose from {sorted(FORMATS)}")
    if config.group_by not in GROUP_KEYS:
        raise ConfigError(f"unknown --group-by {config.group_by!r}; choose {sorted(GROUP_KEYS)}")
    if not 0 <= config.val_fraction < 1:
        raise ConfigError(f"--val-fraction must be in [0, 1), got {config.val_fraction}")
    if config.shard_size < 1:
        raise ConfigError(f"--shard-size must be at least 1, got {config.shard_size}")
    if config.system_prompt is not None and not config.system_prompt.strip():
        raise ConfigError("--system-prompt is empty; leave it out for no system message")
    for flag, text in (
        ("--system-prompt", config.system_prompt),
        ("--user-template", config.user_template),
    ):
        if text and not _encodes(text):  # a lone surrogate: no file holds it
            raise ConfigError(f"{flag} is not valid UTF-8 text: {ascii(text)[:80]}")
    try:
        parsed = list(string.Formatter().parse(config.user_template))
        names = [f for _, f, _, _ in parsed if f is not None]
    except ValueError as exc:
        raise ConfigError(
            f"--user-template {config.user_template!r}: {exc}; "
            "write a literal brace as {{ or }}"
        ) from exc
    unknown = sorted({n or "{}" for n in names if n not in PLACEHOLDERS})
    if unknown:
        raise ConfigError(
            f"--user-template has unknown placeholder(s) {unknown}; "
            f"available: {', '.join('{' + p + '}' for p in PLACEHOLDERS)}"
        )
    # {question!r} would quote every question, {question:d} fail on the first.
    styled = [f for _, f, spec, conversion in parsed if f is not None and (spec or conversion)]
    if styled:
        raise ConfigError(
            f"--user-template {config.user_template!r}: {{{styled[0]}}} has a conversion or "
            "format spec (!r, :>10), which is not supported; write it plain"
        )
    if "question" not in names:
        raise ConfigError(
            f"--user-template {config.user_template!r} has no {{question}}: every user turn "
            "would be the same text; write the question's place, e.g. '歇后语：{question}——'"
        )


def _encodes(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def build_messages(row: dict, config: ExportConfig) -> list[dict]:
    """One record as chat messages: optional system, the templated question, the answer."""
    fields = {p: row.get(p) or "" for p in PLACEHOLDERS}
    messages = [{"role": "system", "content": config.system_prompt}] if config.system_prompt else []
    return messages + [
        {"role": "user", "content": config.user_template.format(**fields)},
        {"role": "assistant", "content": row.get("answer") or ""},
    ]


def _line_order(row: dict) -> tuple:
    """Lines in the order of a hash of their content: mixed (not sorted by text), whatever
    the row order, and not by id, which hashes the source path (another folder, other ids)."""
    content = (row["content_hash"] or "", row["question"] or "", row["answer"] or "")
    return (*content, row["category"] or "", row["id"], row["source"] or "", row["line"] or 0)


def _convert(rows: list[dict], config: ExportConfig) -> tuple[list[tuple[dict, list]], list]:
    """(row, messages) for valid records; a reject for each record whose line would not validate."""
    kept, rejects = [], []
    for row in rows:
        messages = build_messages(row, config)
        problems = message_problems({"messages": messages})
        if problems:
            rejects.append(
                reject(
                    "export",
                    "invalid_record",
                    "; ".join(problems),
                    row.get("source") or "",
                    row.get("line"),
                    io.dumps(row),
                    id=row.get("id"),
                )
            )
        else:
            kept.append((row, messages))
    return kept, rejects


def _write(
    c: commit.Commit, out: Path, by_split: dict[str, list], rejects: list, config: ExportConfig
) -> list[Path]:
    """Every file of the export into the commit: shards, dataset_info.json, the rejects.
    Returns the shards of an earlier run that this one does not write."""
    fmt = FORMATS[config.format]
    out.mkdir(parents=True, exist_ok=True)  # an empty export is still a folder and a manifest
    names = []
    for split in SPLITS:
        items = by_split[split]
        n = max(1, -(-len(items) // config.shard_size))
        for i in range(n if items else 0):
            names.append(f"{split}-{i:05d}-of-{n:05d}.{fmt.ext}")
            chunk = items[i * config.shard_size : (i + 1) * config.shard_size]
            path = c.path(out / names[-1], split=split, records=len(chunk))
            fmt.write(path, [fmt.convert(m) for _, m in chunk])
    info = dataset_info(
        config.format, {n.split(".")[0]: n for n in names}, config.system_prompt is not None
    )
    if info:
        io.write_json(c.path(out / "dataset_info.json"), info)
    io.write_jsonl(c.path(io.stage_path(config.processed, "exported", "rejects.jsonl")), rejects)
    # Shards of an earlier, bigger run would mislead readers that glob the folder.
    stale = [p for p in out.iterdir() if SHARD.match(p.name) and p.name not in names]
    # The dataset card `curate report` wrote describes the earlier export's splits and flags.
    return stale + [p for p in [out / "README.md"] if is_card(p)]


def is_card(path: Path) -> bool:
    """Whether `path` is a dataset card curate wrote (not a README of the user's)."""
    try:
        with open(path, encoding="utf-8") as f:
            return CARD_MARK in [f.readline().rstrip("\n") for _ in range(8)]
    except (FileNotFoundError, UnicodeDecodeError):
        return False


@stage.locked
def export(config: ExportConfig) -> ExportResult:
    """deduped.parquet -> validated train/validation shards, rejects and manifest.json."""
    check_config(config)
    processed = Path(config.processed)
    out = Path(config.out) if config.out else processed / "export" / config.format
    config = dataclasses.replace(config, out=out)
    counter = None
    if config.tokenizer is not None:  # load it first: a bad path must not leave half an export
        from curate.lengths import load_token_counter

        counter = load_token_counter(config.tokenizer)
    timer = stage.Timer()
    with timer("read"):
        df = stage.read_stage(processed, "deduped", fresh=True)
        rows = sorted(df.to_dicts(), key=_line_order)
    with timer("convert"):
        kept, rejects = _convert(rows, config)
        stage.check_counts(len(rows), len(kept), len(rejects))
    with timer("split"):
        keys = {r["id"]: GROUP_KEYS[config.group_by](r) for r, _ in kept}
        groups = merge_groups(keys, read_conflicts(processed, set(keys)))
        # Each group's stratum: its most common riddle_type (ties: the first name).
        types: dict[str, Counter] = {}
        for r, _ in kept:
            types.setdefault(groups[r["id"]], Counter())[r.get("riddle_type") or ""] += 1
        strata = {g: min(c, key=lambda t: (-c[t], t)) for g, c in types.items()}
        split_of = assign_splits(set(groups.values()), config.val_fraction, config.seed, strata)
        near = near_pairs([r["question"] or "" for r, _ in kept])
        split_of, held = hold_in_train(split_of, [groups[r["id"]] for r, _ in kept], *near)
        by_split = {s: [(r, m) for r, m in kept if split_of[groups[r["id"]]] == s] for s in SPLITS}
    records = [m for r, m in kept]
    tokens = [counter(m) for m in records] if counter else None
    inputs = [io.stage_path(processed, "deduped", s) for s in ("parquet", "conflicts.jsonl")]
    data = stage.manifest(
        "export",
        config,
        [stage.file_entry(p) for p in inputs if p.exists()],
        {"in": len(rows), "kept": len(kept), "rejected": len(rejects)},
        Counter(r["reason"] for r in rejects),
        format=config.format,
        splits={
            s: {
                "records": len(by_split[s]),
                "groups": len({groups[r["id"]] for r, _ in by_split[s]}),
            }
            for s in SPLITS
        },
        # validation groups moved to train: a question nearly one trained on (`leaks.py`)
        held_in_train={
            "groups": len(held),
            "records": sum(groups[r["id"]] in held for r, _ in kept),
        },
        lengths=length_report(records, tokens, config.max_tokens, [r["id"] for r, _ in kept]),
    )
    with timer("write"), commit.Commit(out / "manifest.json", "export") as c:
        if out.is_dir():  # an --out outside the processed folder: its own leftovers
            commit.remove_stale(out)
        removed = _write(c, out, by_split, rejects, config) + stage.stale_reports(processed)
        c.publish(data, remove=removed)
    paths = [Path(os.path.normpath(out / f["path"])) for f in data["files"]]
    return ExportResult(
        data["counts"],
        data["reasons"],
        timer.times,
        [*paths, out / "manifest.json"],
        data,
        out,
        tuple(sorted(removed)),
    )


def shards(manifest: dict) -> list[dict]:
    """The train/validation files of an export manifest (its other files have no split)."""
    return [f for f in manifest["files"] if "split" in f]


def exported(out: str | Path) -> bool:
    """Whether OUT holds an export, complete or not (a manifest or any shard)."""
    out = Path(out)
    return out.is_dir() and any(
        p.name == "manifest.json" or SHARD.match(p.name) for p in out.iterdir()
    )


def read_manifest(out: str | Path, processed: str | Path | None = None) -> dict:
    """OUT/manifest.json, once every file it lists is verified (or say what to run); with
    `processed`, also once it is made from the deduped.parquet there now."""
    out = Path(out)
    if not exported(out):
        raise InputError(f"no export in {out.as_posix()}; run `curate export` first")
    data = verified(out / "manifest.json", f"{out.as_posix()}/", EXPORT_RERUN)
    if processed is not None:
        label, rerun = f"{out.as_posix()}/", f"{EXPORT_RERUN} --processed {Path(processed)}"
        stage.check_fresh(Path(processed), "export", data, label, rerun)
    return data
