"""`curate dedupe`: exact, near-duplicate and variant riddles collapse to one survivor.

Reads `<processed>/ingested.parquet`, writes `deduped.parquet`, `deduped.rejects.jsonl`
(reason `duplicate`, with `duplicate_of` = the survivor's id, `kind` and `score` of that direct
pair; `via` = the same survivor), `deduped.manifest.json`, `deduped.conflicts.jsonl` and
`deduped.clusters.md`.

Steps (each timed in the result):
1. keys: match keys of question and answer (polars; equal to `normalize.match_key`);
   records ranked by survivor priority, from content only (`rank.py`); `--against` records
   first, then the records review decisions choose (`decisions.py`).
2. exact: same question key and answer key -> one node.
3. near: MinHash LSH over character n-grams of question keys; every candidate verified by its
   true Jaccard. Same answer (or one's alternatives contain the other's) -> near_duplicate,
   different answers -> conflict.
4. variant: within each answer group, the IDF-weighted score of `similarity.py`, against a
   threshold that rises with how many distinct riddles share the answer, and content
   characters that must overlap (`variants.py`; strictly for 字谜 and 歇后语).
5. survivors: star clustering in survivor order over the verified edges (`star.py`): every
   removed record was compared with its survivor directly; a record that says what two
   different riddles say is visited last, so it does not merge them (`bridges.py`); a
   conflict a person settled (an `answer` decision) merges too. Rejects, review files,
   manifest.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from curate import engines, io, riddle_type, stage
from curate.engines import EngineConfig
from curate.record import COLUMNS
from curate.stages.dedupe import against, checks, decisions, graph, rank, review, spread
from curate.stages.dedupe.checks import CONFLICT_POLICIES, MAX_PERM, MIN_PERM  # noqa: F401
from curate.stages.dedupe.keys import match_keys

__all__ = ["DedupeConfig", "DedupeResult", "dedupe", "lsh_params", "match_keys"]

KINDS = ("exact", "near_duplicate", "variant", "conflict", "contaminated")
# The columns dedupe decides on and names records by: not the raw texts nor meta, which only
# the write step reads, a batch at a time (`_kept`, `_rejects`).
_KEYS = [c for c in COLUMNS if c not in ("question_raw", "answer_raw", "meta")]
_NAMES = ["id", "source", "line"]  # not held while the near and variant steps run


@dataclass(frozen=True)
class DedupeConfig:
    processed: Path = Path("processed")
    prefer: tuple[str, ...] = ()  # source names or globs, best first
    ngram: int = 2  # character n-grams of the question key
    num_perm: int = 64
    seed: int = 1
    lsh_threshold: float = 0.45  # below near_threshold: LSH finds candidates, Jaccard decides
    near_threshold: float = 0.55  # bigram Jaccard of question keys
    conflict_threshold: float = 0.65  # ... for a different answer to count as a conflict
    variant_threshold: float = 0.22  # weighted cosine needed when 2 riddles share an answer
    variant_slope: float = 0.2  # ... plus this * ln(k / 2) when k riddles share it
    variant_min_shared: int = 2  # content bigrams a variant pair must share
    # 字谜 and 歇后语 share answers across many riddles: their content characters must match
    content_threshold: float = 0.55  # Jaccard of content characters, for those types
    # other types: an answer given by at most specific_k riddles is specific to one, and then
    # content Jaccard >= specific_content can stand in for the variant_min_shared bigrams
    specific_k: int = 3
    specific_content: float = 0.2
    # ... and content Jaccard >= specific_alone merges them whatever their score
    specific_alone: float = 0.3
    glyph_conflict_threshold: float = 0.9  # a 字谜 conflict: questions this close, not 0.65
    # two 字谜 with one answer and >= 2 clue characters in common are one riddle when those
    # are this share of the shorter clue's (glyph.py): 2 of 3 are, 3 of 5 are not
    glyph_overlap: float = 0.65
    against: tuple[Path, ...] = ()  # external sets: matching records are `contaminated`
    on_conflict: str = "keep"  # keep: keep all, list them; survivor: keep the preferred one
    overrides: Path | None = None  # default: <processed>/../dedupe.overrides.jsonl if present


@dataclass(frozen=True)
class DedupeResult(stage.StageResult):
    removed: dict[str, int]  # by kind
    conflicts: int
    clusters: int
    bands: int
    rows: int
    warnings: tuple[str, ...] = ()
    overrides: Path = Path("dedupe.overrides.jsonl")  # the review decisions file, read or not
    decisions: int = 0  # lines read from it


def lsh_params(threshold: float, num_perm: int) -> tuple[int, int]:
    """Bands b and rows r (b*r <= num_perm) minimizing the equally weighted false-positive and
    false-negative areas under the S-curve P(s) = 1-(1-s^r)^b on either side of the threshold.

    This is datasketch's `MinHashLSH._optimal_param` (what text-dedup uses too), with the two
    integrals done on a 2001-point trapezoid grid for all (b, r) at once instead of scipy.quad
    per pair: 0.04 s instead of 0.6 s, and the same (b, r) (tested against datasketch)."""
    pairs = [(b, r) for b in range(1, num_perm + 1) for r in range(1, num_perm // b + 1)]
    b, r = (np.array(x, dtype=np.float64)[:, None] for x in zip(*pairs, strict=True))
    below, above = np.linspace(0, threshold, 2001), np.linspace(threshold, 1, 2001)
    false_pos = np.trapezoid(1 - (1 - below**r) ** b, below, axis=1)
    false_neg = np.trapezoid((1 - above**r) ** b, above, axis=1)
    return pairs[int(np.argmin(0.5 * false_pos + 0.5 * false_neg))]


def variant_cutoff(config: DedupeConfig, k: np.ndarray) -> np.ndarray:
    """Score a pair of questions needs when k distinct riddles share their answer: an answer
    given by two riddles (圣诞老人) is strong evidence, one given by 29 (多此一举) is not."""
    return config.variant_threshold + config.variant_slope * np.log(np.maximum(k, 2) / 2)


@stage.locked
def dedupe(config: DedupeConfig, engine: EngineConfig | None = None) -> DedupeResult:
    """Collapse duplicate riddles in `<processed>/ingested.parquet`; see the module doc.
    `engine` runs the near step (default local; ray: `spread.py`)."""
    checks.check_config(config)
    runner = engines.get(engine)
    timer = stage.Timer()
    processed = Path(config.processed)
    # One chunk per column, not one per row group: polars gathers from many chunks 5-10x slower
    df = checks.check_input(stage.read_stage(processed, "ingested", _KEYS).rechunk(), processed)
    overrides_path = config.overrides or review.default_overrides(processed)
    overrides = decisions.read(overrides_path, required=config.overrides is not None)
    with timer("keys"):
        df = _with_types(df)
        n_own = df.height
        external, unread = against.load(config.against)
        if external.height:  # external records join at the end, ranked first
            df = pl.concat([df, external.select(df.columns)])
        frame = rank.ranked(df, config.prefer, n_own)
        early = unread + rank.unmatched_prefer(df["source"].head(n_own), config.prefer)
        hits = decisions.match(overrides, frame, df)  # the records each decision names
        frame = decisions.promote(frame, overrides, hits, n_own)  # chosen survivors first
        ids = graph.node_ids(frame, df)
        frame = frame.drop("qid", "aid")  # ids has them now, numbered by first appearance
        aside = df.slice(n_own).select(_NAMES)  # the external records' names, if any
        del df  # ids keep the questions and answers; the names are read back to write
    bands, rows = lsh_params(config.lsh_threshold, config.num_perm)
    with timer("near"):
        if runner.NAME == "local":
            index = graph.near_index(frame, ids, config)
            edges = graph.near_edges(frame, ids, index, config, bands, rows)
        else:
            with runner.session((engine or EngineConfig()).ray_address):
                sig, edges = spread.near(frame, ids, config, bands, rows, runner)
            index = spread.index(frame, ids, sig, config)
    with timer("overrides"):
        nodes = decisions.side_nodes(hits, ids)
        forbid = decisions.forbidden(overrides, nodes)
        unmatched = decisions.unmatched(overrides, hits) + decisions.inseparable(overrides, nodes)
        edges = graph.drop_forbidden(edges, forbid)
    with timer("variant"):
        first = decisions.kept_first(overrides, nodes, ids, n_own)
        edges, last = graph.settle(
            frame, ids, index, edges, forbid, config, bands, rows, variant_cutoff, first
        )
    del index  # signatures and shingles: not needed to write, and the write is the peak
    with timer("survivors"):
        settled, applied, not_conflicts = decisions.resolved(overrides, nodes, edges)
        df = _named(processed, ids, aside)
        out, conflicts = review.survivors(
            frame, df, ids, edges, config.on_conflict, n_own, settled, last
        )
    del edges, frame, ids, df  # the ranked copy of every record: the write is the peak
    inputs = [stage.file_entry(io.stage_path(processed, "ingested"))]
    inputs += [stage.file_entry(f) for p in config.against for f in _files(p)]
    if overrides:
        inputs.append(stage.file_entry(overrides_path))
    with timer("write"):
        result, n_clusters = _write(
            processed, out, conflicts, config, (bands, rows), inputs, runner.NAME
        )
    warnings = early + unmatched + not_conflicts + review.override_warnings(out, forbid)
    warnings += decisions.outcome(overrides, hits, out, applied)
    return DedupeResult(
        **(result.fields() | {"timings": timer.times}),
        removed=result.manifest["removed_by_kind"],
        conflicts=conflicts.height,
        clusters=n_clusters,
        bands=bands,
        rows=rows,
        warnings=warnings,
        overrides=overrides_path,
        decisions=len(overrides),
    )


def _named(processed: Path, ids: graph.Ids, aside: pl.DataFrame) -> pl.DataFrame:
    """Every record's id, source, line, question and answer (the external ones last), for
    the survivors step and the review files: the names read back from the ingested file."""
    names = pl.read_parquet(io.stage_path(processed, "ingested"), columns=_NAMES).rechunk()
    names = pl.concat([names, aside]) if aside.height else names
    return names.with_columns(question=ids.questions, answer=ids.answers)


def _kept(processed: Path, removed: np.ndarray) -> pl.DataFrame:
    """The kept records with every column, read from the ingested file. Only their rows are
    decoded: a filter on the row index, which the parquet reader applies before it decodes
    the other columns (at 1M a tenth of the rows are kept: 0.11-0.17 s instead of 0.22-0.30)."""
    rows = pl.Series(np.flatnonzero(~removed), dtype=pl.get_index_type()).implode()
    scan = pl.scan_parquet(io.stage_path(processed, "ingested")).with_row_index("_kept")
    kept = scan.filter(pl.col("_kept").is_in(rows)).drop("_kept").collect()
    return _with_types(kept).select(COLUMNS)


def _rejects(processed: Path, out: pl.DataFrame) -> stage.StreamedRejects:
    """`deduped.rejects.jsonl`, written a batch of input rows at a time with the raw texts of
    that batch only."""
    raw = ["question_raw", "answer_raw"]

    def frames():
        at = 0
        for batch in stage.stage_batches(processed, "ingested", raw):
            yield review.reject_frame(out.slice(at, batch.height).with_columns(batch))
            at += batch.height

    n = int(out["removed"].sum())
    return stage.StreamedRejects(
        n, {review.REASON: n} if n else {}, lambda path: io.write_jsonl_frame(path, frames())
    )


def _write(
    processed: Path,
    out: pl.DataFrame,
    conflicts: pl.DataFrame,
    config: DedupeConfig,
    lsh: tuple[int, int],
    inputs: list[dict],
    engine: str,
) -> tuple[stage.StageResult, int]:
    """The stage files and the review files, committed together; and the cluster count."""
    bands, rows = lsh
    removed = out["removed"]  # out is in input order
    kinds = out.filter(pl.col("removed"))["kind"].value_counts()
    counts = dict(zip(kinds["kind"], kinds["count"], strict=False))
    extra = {
        "removed_by_kind": {k: counts.get(k, 0) for k in KINDS},
        "conflicts": conflicts.height,
        # b and r minimize the equally weighted FP + FN areas of the S-curve 1-(1-s^r)^b
        # around lsh_threshold (datasketch MinHashLSH._optimal_param, as text-dedup does).
        "lsh": {
            "bands": bands,
            "rows": rows,
            "num_perm": config.num_perm,
            "threshold": config.lsh_threshold,
        },
    }
    clusters: list[int] = []  # members are built only when their file is written: the peak
    review_files = {
        "conflicts.jsonl": lambda path: review.write_conflicts(path, conflicts, config.on_conflict),
        "clusters.md": lambda path: clusters.append(
            review.write_clusters(path, review.cluster_members(out))
        ),
    }
    result = stage.write_stage(
        processed,
        "deduped",
        _kept(processed, removed.to_numpy()),
        _rejects(processed, out),
        n_in=out.height,
        params=config,
        inputs=inputs,
        extra=extra,
        also=review_files,
        engine=engine,
    )
    return result, clusters[0]


def _with_types(df: pl.DataFrame) -> pl.DataFrame:
    """The `riddle_type` column, detected where a file written before it has none."""
    if "riddle_type" in df.columns and not df["riddle_type"].has_nulls():
        return df
    detected = riddle_type.detect_column(df)
    if "riddle_type" in df.columns:
        detected = df["riddle_type"].fill_null(detected)
    return df.with_columns(riddle_type=detected)


def _files(path: Path) -> list[Path]:
    path = Path(path)
    return sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
