"""`curate report`: what every stage did, as one self-contained HTML page and a dataset card.

Reads the stage files in the processed directory (ingested.*, deduped.*, export/<format>/)
and writes DIR/report.html, DIR/report.json (the same numbers, for machines) and a dataset
card (README.md) next to the export. Whatever stage has not run yet is left out of the page.
"""

from __future__ import annotations

import os
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import polars as pl

from curate import io, stage
from curate.lengths import percentiles
from curate.stages.export import exported, shards
from curate.stages.export import read_manifest as read_export

_HAN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
SCRIPTS = ("simplified", "traditional", "other")


@dataclass(frozen=True)
class ReportConfig:
    processed: Path = Path("processed")
    export_dir: Path | None = None  # default: DIR/export/jsonl
    out: Path | None = None  # default: DIR/report.html
    card: bool = True  # write the dataset card next to the export
    top: int = 15  # answers shown in "top answers"
    examples: int = 2  # examples shown per reject reason and per duplicate kind


@dataclass(frozen=True)
class ReportResult:
    html: Path
    json: Path
    card: Path | None
    stages: list[dict] = field(default_factory=list)  # {stage, in, kept, rejected}
    splits: dict[str, int] = field(default_factory=dict)
    duplicates: dict[str, int] = field(default_factory=dict)  # removed records per kind
    conflicts: int = 0


@lru_cache(maxsize=1)
def _t2s():
    import opencc

    return opencc.OpenCC("t2s")


def script_of(text: str) -> str:
    """traditional if OpenCC t2s changes it, else simplified if it has Han characters, else other.

    >>> [script_of(t) for t in ("圣诞老人", "聖誕老人", "ABC 123")]
    ['simplified', 'traditional', 'other']
    """
    if not _HAN.search(text):
        return "other"
    return "traditional" if _t2s().convert(text) != text else "simplified"


def script_mix(questions: pl.Series, answers: pl.Series) -> dict[str, int]:
    """Records per script, judged on question and answer together."""
    counts = Counter(script_of(f"{q}{a}") for q, a in zip(questions, answers, strict=True))
    return {s: counts.get(s, 0) for s in SCRIPTS}


def _jsonl(path: Path) -> list[dict]:
    return io.read_jsonl(path) if path.exists() else []


def _read(processed: Path, name: str) -> tuple[pl.DataFrame | None, dict | None]:
    """A stage's kept rows and manifest, verified; (None, None) if it has not run."""
    if name != "ingested" and not stage.present(processed, name):
        return None, None
    manifest = stage.read_manifest(
        processed, name, fresh=True
    )  # refuses an incomplete or stale stage
    return pl.read_parquet(io.stage_path(processed, name)), manifest


def _examples(rows: list[dict], key: str, n: int) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        if len(out[r.get(key) or "?"]) < n:
            out[r.get(key) or "?"].append(r)
    return dict(sorted(out.items()))


def _sources(
    ingested: pl.DataFrame,
    deduped: pl.DataFrame | None,
    rejects: list[dict],
    dups: list[dict],
    inputs: list[dict],
) -> list[dict]:
    """Per source file: read, rejected (by reason), duplicates removed (by kind), kept."""
    kept_ingest = Counter(ingested["source"].to_list())
    kept_final = Counter(deduped["source"].to_list()) if deduped is not None else kept_ingest
    reasons: dict[str, Counter] = defaultdict(Counter)
    for r in rejects:
        reasons[r.get("source") or "?"][r["reason"]] += 1
    kinds: dict[str, Counter] = defaultdict(Counter)
    for r in dups:
        kinds[r.get("source") or "?"][r.get("kind") or "duplicate"] += 1
    info = {Path(i["path"]).as_posix(): i for i in inputs if "path" in i}
    rows = []
    for src in sorted(set(kept_ingest) | set(reasons) | set(kinds)):
        rej, dup = sum(reasons[src].values()), sum(kinds[src].values())
        extra = {k: v for k, v in info.get(src, {}).items() if k not in ("path", "sha256")}
        rows.append(
            {
                "source": src,
                "read": kept_ingest[src] + rej,
                "rejected": rej,
                "reasons": dict(reasons[src].most_common()),
                "duplicates": dup,
                "kinds": dict(kinds[src].most_common()),
                "kept": kept_final[src],
                "info": extra,
            }
        )
    return rows


def _splits(export_dir: Path, processed: Path) -> tuple[dict | None, dict[str, dict]]:
    if not exported(export_dir):
        return None, {}
    manifest = read_export(export_dir, processed)
    splits: dict[str, dict] = {}
    for f in shards(manifest):
        s = splits.setdefault(f.get("split", "?"), {"records": 0, "files": []})
        s["records"] += int(f.get("records", f.get("count", 0)))
        s["files"].append(Path(f["path"]).name)
    return manifest, dict(sorted(splits.items(), key=lambda kv: kv[0] != "train"))


def _stage(name: str, manifest: dict | None, reasons: dict | None = None) -> dict | None:
    if manifest is None or "counts" not in manifest:
        return None
    reasons = reasons or manifest.get("reasons", {})
    return {"stage": name, **manifest["counts"], "reasons": _ranked(reasons)}


def _ranked(counts: dict[str, int]) -> dict[str, int]:
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def _kind_counts(dups: list[dict]) -> dict[str, int]:
    return _ranked(Counter(d.get("kind") or "duplicate" for d in dups))


def collect(config: ReportConfig) -> tuple[dict, dict]:
    """The report's numbers (JSON-ready) and the raw length lists for the plots."""
    processed = Path(config.processed)
    export_dir = Path(config.export_dir or processed / "export" / "jsonl")
    ingested, m_ingest = _read(processed, "ingested")
    rejects = _jsonl(io.stage_path(processed, "ingested", "rejects.jsonl"))
    deduped, m_dedupe = _read(processed, "deduped")
    dups = _jsonl(io.stage_path(processed, "deduped", "rejects.jsonl"))
    conflicts = _jsonl(io.stage_path(processed, "deduped", "conflicts.jsonl"))
    m_export, splits = _splits(export_dir, processed)
    exported = io.stage_path(processed, "exported", "rejects.jsonl")
    all_rejects = rejects + (_jsonl(exported) if m_export else [])
    final = deduped if deduped is not None else ingested
    # Show duplicates as written (raw question -> answer): for exact duplicates the display
    # texts are equal by definition, the raw texts show what normalization folded.
    qa = zip(ingested["question_raw"], ingested["answer_raw"], strict=True)
    pairs = dict(zip(ingested["id"], qa, strict=True))
    for d in dups:
        d["record"], d["survivor"] = pairs.get(d.get("id")), pairs.get(d.get("duplicate_of"))
    stats = {
        "processed": processed.as_posix(),
        "export_dir": export_dir.as_posix() if m_export else None,
        "stages": [
            s
            for s in (
                _stage("ingest", m_ingest),
                _stage("dedupe", m_dedupe, _kind_counts(dups)),
                _stage("export", m_export),
            )
            if s
        ],
        "sources": _sources(ingested, deduped, rejects, dups, (m_ingest or {}).get("inputs", [])),
        "rejects": {
            "reasons": dict(Counter(r["reason"] for r in all_rejects).most_common()),
            "examples": _examples(all_rejects, "reason", config.examples),
        },
        "duplicates": {
            "in": ingested.height,
            "removed": len(dups),
            "kinds": _kind_counts(dups),
            "examples": _examples(dups, "kind", config.examples),
        },
        "conflicts": conflicts,
        "top_answers": _top_answers(final, config.top),
        "script_mix": {
            "raw": script_mix(ingested["question_raw"], ingested["answer_raw"]),
            "final": script_mix(final["question"], final["answer"]),
        },
        "splits": splits,
        "categories": _categories(final),
        "example": _first_line(export_dir, splits),
        "export_params": (m_export or {}).get("params", {}),
        "dedupe_params": (m_dedupe or {}).get("params", {}),
        "versions": (m_export or m_dedupe or m_ingest or {}).get("versions", {}),
    }
    lengths = {
        col: {
            "raw (ingested)": ingested[f"{col}_raw"].str.len_chars().to_list(),
            "final": final[col].str.len_chars().to_list(),
        }
        for col in ("question", "answer")
    }
    stats["lengths"] = {
        col: {k: percentiles(v) for k, v in series.items()} for col, series in lengths.items()
    }
    return stats, lengths


def _categories(df: pl.DataFrame) -> dict[str, int]:
    counts = df.group_by("category").len().sort(["len", "category"], descending=[True, False])
    return {c or "(none)": n for c, n in counts.iter_rows()}


def _first_line(export_dir: Path, splits: dict[str, dict]) -> str | None:
    """The first exported record, shown in the dataset card as the format's example."""
    for s in splits.values():
        path = export_dir / s["files"][0]
        if path.suffix == ".jsonl" and path.exists():
            with open(path, encoding="utf-8") as f:
                return f.readline().strip() or None
    return None


def _top_answers(df: pl.DataFrame, n: int) -> list[list]:
    counts = df.group_by("answer").len().sort(["len", "answer"], descending=[True, False])
    shared = counts.filter(pl.col("len") > 1)  # answers given once say nothing about the mix
    return [[a, c] for a, c in (shared if shared.height else counts).head(n).iter_rows()]


@stage.locked
def report(config: ReportConfig) -> ReportResult:
    """Write report.html, report.json and the dataset card; return where and the key counts."""
    from curate.stages.report import card
    from curate.stages.report import html as report_html

    stats, lengths = collect(config)
    processed = Path(config.processed)
    out = Path(config.out or processed / "report.html")
    # Links from the page to the files behind it, relative so the folder can be moved.
    names = [
        "ingested.rejects.jsonl",
        "deduped.rejects.jsonl",
        "deduped.conflicts.jsonl",
        "deduped.clusters.md",
        "exported.rejects.jsonl",
    ]
    files = [processed / n for n in names] + [Path(stats["export_dir"] or "-") / "manifest.json"]
    links = {
        f.name if f.parent == processed else f.relative_to(processed).as_posix(): os.path.relpath(
            f, out.parent
        )
        for f in files
        if f.is_file()
    }
    io.write_text(out, report_html.render(stats, lengths, links))
    json_path = out.with_suffix(".json")
    io.write_json(json_path, stats)
    card_path = None
    if config.card and stats["export_dir"]:
        card_path = Path(stats["export_dir"]) / "README.md"
        io.write_text(card_path, card.render(stats))
    return ReportResult(
        html=out,
        json=json_path,
        card=card_path,
        stages=[{k: s[k] for k in ("stage", "in", "kept", "rejected")} for s in stats["stages"]],
        splits={name: s["records"] for name, s in stats["splits"].items()},
        duplicates=stats["duplicates"]["kinds"],
        conflicts=len(stats["conflicts"]),
    )
