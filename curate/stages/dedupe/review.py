"""What a person reviews after `curate dedupe`: merged clusters, conflicts, and overrides.

- `deduped.clusters.md`: every cluster that lost a record: survivor, removed members, kinds,
  scores (exact copies of one text are counted on one line).
- `deduped.conflicts.jsonl`: the same or a near-identical question with different answers.
  Default policy (`--on-conflict keep`): keep every member and list the pair here.
- overrides (`--overrides PATH`, default `<processed>/../dedupe.overrides.jsonl` when it exists):
  one JSON line per pair a person has judged, `{"a": ID_OR_QUESTION, "b": ..., "decision":
  "distinct"}`; the next run never merges those two records.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl

from curate import io
from curate.errors import ConfigError, InputError
from curate.normalize import match_key
from curate.stages.dedupe import graph

DECISIONS = ("distinct",)


def default_overrides(processed: Path) -> Path:
    return Path(processed).resolve().parent / "dedupe.overrides.jsonl"


def read_overrides(path: Path | None, required: bool = False) -> list[tuple[str, str]]:
    """(a, b) pairs marked distinct; a missing default file means none, a missing file the
    user named (`required`) is an error."""
    if path is None or not Path(path).exists():
        if required:
            raise InputError(f"{path}: no such overrides file (--overrides)")
        return []
    pairs = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            a, b, decision = str(row["a"]), str(row["b"]), row.get("decision", "distinct")
        except (ValueError, KeyError, TypeError) as exc:
            raise ConfigError(
                f'{path}:{n}: expected {{"a": ID_OR_QUESTION, "b": ..., "decision": '
                f'"distinct"}}, got {line.strip()[:80]!r} ({exc})'
            ) from None
        if decision not in DECISIONS:
            raise ConfigError(f"{path}:{n}: decision must be one of {DECISIONS}, got {decision!r}")
        pairs.append((a, b))
    return pairs


def unmatched(
    overrides: list[tuple[str, str]], ids: pl.Series, qkeys: pl.Series
) -> tuple[str, ...]:
    """A warning per override reference that names no record (a stale id, a changed question)."""
    refs = dict.fromkeys(ref for pair in overrides for ref in pair)
    return tuple(
        f"override {ref[:40]!r} matches no record id or question; it has no effect"
        for ref in refs
        if resolve(ref, ids, qkeys).len() == 0
    )


def resolve(ref: str, ids: pl.Series, qkeys: pl.Series) -> pl.Series:
    """Row positions that an override names: a record id, or else a question's text."""
    hit = ids == ref
    if not hit.any():
        hit = qkeys == match_key(ref)
    return hit.arg_true()


def write_conflicts(path: Path, pairs: pl.DataFrame, policy: str) -> int:
    """One line per conflicting pair of kept (or, with policy `survivor`, merged) records."""
    rows = []
    for r in pairs.iter_rows(named=True):
        rows.append(
            {
                "policy": policy,
                "score": round(r["score"], 4),
                "a": {
                    "id": r["a_id"],
                    "source": r["a_source"],
                    "line": r["a_line"],
                    "question": r["a_question"],
                    "answer": r["a_answer"],
                },
                "b": {
                    "id": r["b_id"],
                    "source": r["b_source"],
                    "line": r["b_line"],
                    "question": r["b_question"],
                    "answer": r["b_answer"],
                },
            }
        )
    return io.write_jsonl(path, rows)


def write_clusters(path: Path, members: pl.DataFrame) -> int:
    """Markdown, one section per cluster that lost records; returns how many clusters.

    `members` has one row per removed node (text): cluster, survivor fields, id, question,
    answer, kind, score, copies (records with that exact text). Built column-wise: a million
    records make a few hundred thousand lines.
    """
    intro = (
        "# Dedupe clusters\n\nEach section: the kept record, then what was merged into it. "
        'To keep a removed record next time, add `{"a": "<kept id>", "b": "<removed id>", '
        '"decision": "distinct"}` to the overrides file.\n'
    )
    order = members.select("cluster").unique(maintain_order=True).with_row_index("n", offset=1)
    members = members.join(order, on="cluster", maintain_order="left")
    heads = members.unique("cluster", keep="first", maintain_order=True).select(
        "n",
        pos=pl.lit(-1, dtype=pl.Int64),
        text=pl.format(
            "\n## {}. `{}` {} → {}  ({})",
            "n",
            "survivor_id",
            "survivor_question",
            "survivor_answer",
            "survivor_source",
        ),
    )
    copies = pl.when(pl.col("copies") > 1).then(pl.format(" ×{}", "copies")).otherwise(pl.lit(""))
    lines = members.select(
        "n",
        pos=pl.col("_rank").cast(pl.Int64),
        text=pl.format(
            "- {} {}{} `{}` {} → {}  ({}:{})",
            "kind",
            pl.col("score").round(2),
            copies,
            "id",
            "question",
            "answer",
            "source",
            "line",
        ),
    )
    body = pl.concat([heads, lines]).sort("n", "pos").select("text")
    # intro + "\n".join(lines) + "\n", the lines written by polars (no Python string per line)
    with io.atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8", newline="\n") as f:
        f.write(intro if body.height else intro + "\n")
        f.flush()
        body.write_csv(f.buffer, include_header=False, quote_style="never", line_terminator="\n")
    return order.height


def survivors(
    frame: pl.DataFrame, df: pl.DataFrame, ids, edges: pl.DataFrame, policy: str
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Per input row (`df`, in input order; `_rank` = its ranked row): cluster, survivor,
    removed, kind, score, via; and the conflict pairs.

    Each removed record points at its cluster's survivor (`duplicate_of`); `kind`, `score` and
    `via` describe the link that put its text in the cluster (via = the record on the other
    end, the survivor itself when linked directly).
    """

    merge = edges if policy == "survivor" else edges.filter(pl.col("kind") != "conflict")
    label = graph.components(ids.n_nodes, merge)
    surv_node = graph.min_per(label, int(label.max(initial=-1)) + 1)[label]  # per node
    link_kind, link_score, link_other = _links(ids.n_nodes, merge, graph.KIND_RANK)
    node = ids.rec_node
    is_surv_node = node == surv_node[node]
    survivor_row = ids.node_first[surv_node[node]]
    via_row = np.where(is_surv_node, survivor_row, ids.node_first[link_other[node]])
    names = {-1: "exact"} | {code: kind for kind, code in graph.KIND_RANK.items()}
    # Built in input order (the order of the rejects and of deduped.parquet) from df's own
    # columns: no gather of a million strings there and no sort back.
    row = frame["_row"].to_numpy()  # ranked -> input
    rank = np.empty_like(row)
    rank[row] = np.arange(row.size)  # input -> ranked
    node, is_surv_node = node[rank], is_surv_node[rank]
    kind = pl.Series(np.where(is_surv_node, -1, link_kind[node]))
    # One chunk first: a gather from parquet's chunks (one per row group) costs 4-5x more.
    record_id = df["id"].rechunk()
    raw = ("question_raw", "answer_raw")  # for the rejects' `raw`
    out = df.select("id", "source", "line", "question", "answer", *raw).with_columns(
        node=pl.Series(node),
        cluster=pl.Series(label[node]),
        survivor_id=record_id.gather(row[survivor_row[rank]]),
        removed=pl.Series(rank != survivor_row[rank]),
        kind=kind.replace_strict(names, return_dtype=pl.String),
        score=pl.Series(np.where(is_surv_node, 1.0, link_score[node]).round(4)),
        via=record_id.gather(row[via_row[rank]]),
        _rank=pl.Series(rank),
    )
    conflicts = edges.filter(pl.col("kind") == "conflict")
    u, v = conflicts["u"].to_numpy(), conflicts["v"].to_numpy()
    if policy == "keep":  # report the kept survivors of the two clusters
        u, v = surv_node[u], surv_node[v]
    pairs = (
        pl.DataFrame({"u": np.minimum(u, v), "v": np.maximum(u, v), "score": conflicts["score"]})
        .filter(pl.col("u") != pl.col("v"))
        .group_by("u", "v")
        .agg(pl.col("score").max())
        .sort("u", "v")
    )
    side = df.select("id", "source", "line", "question", "answer")
    a = side[row[ids.node_first[pairs["u"].to_numpy()]]].select(pl.all().name.prefix("a_"))
    b = side[row[ids.node_first[pairs["v"].to_numpy()]]].select(pl.all().name.prefix("b_"))
    return out, pl.concat([a, b, pairs.select("score")], how="horizontal")


def _links(n: int, merge: pl.DataFrame, rank: dict) -> tuple[np.ndarray, ...]:
    """Best merge edge at each node: near_duplicate before variant before conflict, then the
    higher score, then the lower (better-ranked) neighbour. Kinds as codes, -1 = none."""
    u, v = merge["u"].to_numpy(), merge["v"].to_numpy()
    kr = merge["kind"].replace_strict(rank, return_dtype=pl.Int64).to_numpy()
    node, other = np.concatenate((u, v)), np.concatenate((v, u))
    kr2, score = np.concatenate((kr, kr)), np.concatenate((merge["score"], merge["score"]))
    # np.lexsort((other, -score, kr2, node)), on all cores: (node, other) is unique per edge,
    # so the order is total and any sort gives the same.
    keys = pl.DataFrame({"n": node, "k": kr2, "s": -score, "o": other})
    order = keys.with_row_index("i").sort("n", "k", "s", "o")["i"].to_numpy().astype(np.int64)
    first = (
        order[np.concatenate(([True], node[order][1:] != node[order][:-1]))]
        if order.size
        else order
    )
    link_kind = np.full(n, -1, dtype=np.int64)
    link_score = np.ones(n)
    link_other = np.arange(n)
    link_kind[node[first]] = kr2[first]
    link_score[node[first]] = score[first]
    link_other[node[first]] = other[first]
    return link_kind, link_score, link_other


def reject_frame(out: pl.DataFrame) -> pl.DataFrame:
    """Rows of `deduped.rejects.jsonl` in input order, as a frame with the columns of
    `record.reject` (raw a struct) then duplicate_of, kind, score, via: `manifest.write_stage`
    writes it column-wise (a million dicts would cost ~0.8 GB and ~10 s of json.dumps)."""
    return out.filter(pl.col("removed")).select(
        stage=pl.lit("dedupe"),
        reason=pl.lit("duplicate"),
        detail=pl.format("{} of {} (score {})", "kind", "survivor_id", "score"),
        source="source",
        line="line",
        id="id",
        raw=pl.struct(question="question_raw", answer="answer_raw"),  # as read, not normalized
        duplicate_of="survivor_id",
        kind="kind",
        score="score",
        via="via",
    )


def cluster_members(out: pl.DataFrame) -> pl.DataFrame:
    """One row per removed text (node), grouped by cluster in survivor order; each node's
    fields from its best-ranked removed record."""
    survivor = out.filter(~pl.col("removed")).select(
        "cluster",
        survivor_question="question",
        survivor_answer="answer",
        survivor_source="source",
        survivor_rank="_rank",
    )
    return (
        out.filter(pl.col("removed"))
        .group_by("cluster", "node")
        .agg(
            pl.col(
                "id",
                "question",
                "answer",
                "source",
                "line",
                "kind",
                "score",
                "survivor_id",
                "_rank",
            )
            .sort_by("_rank")
            .first(),
            copies=pl.len(),
        )
        .join(survivor, on="cluster")
        .sort("survivor_rank", "_rank")
    )


def override_warnings(out: pl.DataFrame, forbid: set) -> tuple[str, ...]:
    """Pairs marked distinct that still share a cluster through a third record."""
    if not forbid:
        return ()
    cluster = dict(zip(out["node"].to_list(), out["cluster"].to_list(), strict=False))
    return tuple(
        f"override pair still linked through other records (cluster {cluster[u]}); "
        "see deduped.clusters.md and mark the linking record too"
        for u, v in sorted(forbid)
        if cluster.get(u) == cluster.get(v)
    )


def forbidden(
    frame: pl.DataFrame, record_ids: pl.Series, ids: graph.Ids, overrides: list[tuple[str, str]]
) -> set:
    """Node pairs (u < v) that overrides mark distinct (`record_ids`: in input order)."""
    out: set = set()
    if not overrides:
        return out
    ranked_ids = record_ids.gather(ids.row)
    for a, b in overrides:
        na = ids.rec_node[resolve(a, ranked_ids, frame["qkey"]).to_numpy()]
        nb = ids.rec_node[resolve(b, ranked_ids, frame["qkey"]).to_numpy()]
        out |= {(min(x, y), max(x, y)) for x in na.tolist() for y in nb.tolist() if x != y}
    return out
