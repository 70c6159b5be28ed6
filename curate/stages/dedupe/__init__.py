"""`curate dedupe`: exact, near-duplicate and variant riddles collapse to one survivor.

Reads `<processed>/ingested.parquet`, writes `deduped.parquet`, `deduped.rejects.jsonl`
(reason `duplicate`, with `duplicate_of` = the survivor's id, `kind`, `score`, `via`),
`deduped.manifest.json`, `deduped.conflicts.jsonl` and `deduped.clusters.md`.

Steps (each timed in the result):
1. keys: match keys of question and answer (polars; equal to `normalize.match_key`);
   records ranked by survivor priority: `--prefer` sources, has a category, longer answer, id.
2. exact: same question key and answer key -> one node.
3. near: MinHash LSH over character n-grams of question keys; every candidate verified by its
   true Jaccard. Same answer (or one's alternatives contain the other's) -> near_duplicate,
   different answers -> conflict.
4. variant: within each answer group, the IDF-weighted score of `similarity.py`, against a
   threshold that rises with how many distinct riddles share the answer.
5. survivors, rejects, review files, manifest.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from curate import io, stage
from curate.errors import ConfigError
from curate.record import COLUMNS
from curate.stages.dedupe import graph, minhash, review

KINDS = ("exact", "near_duplicate", "variant", "conflict")
CONFLICT_POLICIES = ("keep", "survivor")
# MinHash permutations: below 16 LSH has too few bands x rows to place its threshold; above
# 1024 memory runs away for no gain (signatures take num_perm x rows x 4 bytes, and tuning LSH
# with lsh_params takes 0.4 GB at 1024 permutations, 1.7 GB and 11 s at 4096).
MIN_PERM, MAX_PERM = 16, 1024
# Everything match_key drops: punctuation, separators (spaces), symbols, control/format chars.
_NOT_KEY = r"[\p{P}\p{Z}\p{S}\p{C}]"


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


def _check(config: DedupeConfig) -> None:
    if config.on_conflict not in CONFLICT_POLICIES:
        raise ConfigError(f"--on-conflict must be one of {CONFLICT_POLICIES}")
    if not 1 <= config.ngram <= minhash.MAX_N:
        raise ConfigError(f"--ngram must be between 1 and {minhash.MAX_N}")
    for name in ("lsh_threshold", "near_threshold", "conflict_threshold"):
        if not 0 < getattr(config, name) <= 1:
            raise ConfigError(f"--{name.replace('_', '-')} must be in (0, 1]")
    if not MIN_PERM <= config.num_perm <= MAX_PERM:
        raise ConfigError(
            f"--num-perm must be between {MIN_PERM} and {MAX_PERM} (memory grows with it)"
        )


def ranked(df: pl.DataFrame, prefer: tuple[str, ...]) -> pl.DataFrame:
    """Input rows' keys, sorted best-survivor-first (`_row` = position in the input). The
    text columns stay in `df`, in input order: gathering a million strings costs."""
    keyed = pl.DataFrame({"qkey": match_keys(df["question"]), "akey": match_keys(df["answer"])})
    prefer_rank = _prefer_rank(df["source"], prefer)
    nocat = df["category"].fill_null("").str.len_chars() == 0
    alen = -df["answer"].str.len_chars().cast(pl.Int64)
    # The survivor order: preferred source, has a category, longer answer, then id. Sorting a
    # million id strings is slow, so 16-hex ids (what ingest writes) sort as integers.
    hexid = df["id"].str.contains("^[0-9a-f]{16}$").all()
    idkey = df["id"].str.slice(0, 15).str.to_integer(base=16) if hexid else df["id"]
    # (prefer, nocat, alen) packed in one integer: a two-key sort is twice as fast as four.
    rank = (prefer_rank * 2 + nocat.cast(pl.Int64)) * (1 << 32)
    keys = pl.DataFrame({"_rank": rank + alen + (1 << 31), "_id": idkey})
    order = keys.with_row_index("_row").sort(["_rank", "_id", "_row"])
    return keyed.with_row_index("_row")[order["_row"]]


def match_keys(texts: pl.Series) -> pl.Series:
    """normalize.match_key, vectorized: NFKC, lowercase, drop P/Z/S/C (equal; tested).

    Answers repeat a lot (多此一举 ×29), so when under a tenth of the texts are distinct
    (estimated: HyperLogLog, 10 ms) only the distinct ones are normalized."""
    if texts.approx_n_unique() * 10 > texts.len():
        return _key_expr(texts)
    distinct = texts.unique()
    return texts.replace_strict(distinct, _key_expr(distinct), return_dtype=pl.String)


def _key_expr(texts: pl.Series) -> pl.Series:
    # Through a frame: polars then splits the column over all cores (a bare Series uses one).
    key = pl.col("t").str.normalize("NFKC").str.to_lowercase().str.replace_all(_NOT_KEY, "")
    return pl.DataFrame({"t": texts}).select(key)["t"].alias(texts.name)


def _prefer_rank(sources: pl.Series, prefer: tuple[str, ...]) -> pl.Series:
    """Index of the first `--prefer` glob matching each source's path or file name."""
    import fnmatch

    rank = {}
    for source in sources.unique().to_list():
        name = (source or "").rsplit("/", 1)[-1]
        hits = [
            i
            for i, p in enumerate(prefer)
            if fnmatch.fnmatchcase(source or "", p) or fnmatch.fnmatchcase(name, p)
        ]
        rank[source] = hits[0] if hits else len(prefer)
    return sources.replace_strict(rank, return_dtype=pl.Int64)


@stage.locked
def dedupe(config: DedupeConfig) -> DedupeResult:
    """Collapse duplicate riddles in `<processed>/ingested.parquet`; see the module doc."""
    _check(config)
    timer = stage.Timer()
    processed = Path(config.processed)
    df = stage.read_stage(processed, "ingested")
    overrides_path = config.overrides or review.default_overrides(processed)
    overrides = review.read_overrides(overrides_path, required=config.overrides is not None)
    with timer("keys"):
        frame = ranked(df, config.prefer)
        ids = graph.node_ids(frame, df["answer"])
    bands, rows = lsh_params(config.lsh_threshold, config.num_perm)
    with timer("near"):
        index = graph.near_index(frame, ids, config)
        edges = graph.near_edges(frame, ids, index, config, bands, rows)
    with timer("overrides"):
        forbid = review.forbidden(frame, df["id"], ids, overrides)
        unmatched = review.unmatched(overrides, df["id"], frame["qkey"])
        edges = graph.drop_forbidden(edges, forbid)
    with timer("variant"):
        edges = graph.settle(frame, ids, index, edges, forbid, config, bands, rows, variant_cutoff)
    del index  # signatures and shingles: not needed to write, and the write is the peak
    with timer("survivors"):
        out, conflicts = review.survivors(frame, df, ids, edges, config.on_conflict)
    del edges, frame, ids  # the ranked copy of every record: the write is the peak
    inputs = [stage.file_entry(io.stage_path(processed, "ingested"))]
    if overrides:
        inputs.append(stage.file_entry(overrides_path))
    with timer("write"):
        result, n_clusters = _write(processed, df, out, conflicts, config, bands, rows, inputs)
    warnings = unmatched + review.override_warnings(out, forbid)
    return DedupeResult(
        **(result.fields() | {"timings": timer.times}),
        removed=result.manifest["removed_by_kind"],
        conflicts=conflicts.height,
        clusters=n_clusters,
        bands=bands,
        rows=rows,
        warnings=warnings,
    )


def _write(
    processed: Path,
    df: pl.DataFrame,
    out: pl.DataFrame,
    conflicts: pl.DataFrame,
    config: DedupeConfig,
    bands: int,
    rows: int,
    inputs: list[dict],
) -> tuple[stage.StageResult, int]:
    """The stage files and the review files, committed together; and the cluster count."""
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
        df.filter(~removed).select(COLUMNS),
        review.reject_frame(out),
        n_in=df.height,
        params=config,
        inputs=inputs,
        extra=extra,
        also=review_files,
    )
    return result, clusters[0]
