"""What a person reviews after `curate dedupe`: merged clusters, conflicts, and overrides.

- `deduped.clusters.md`: every cluster that lost a record: survivor, removed members, kinds,
  scores (exact copies of one text are counted on one line).
- `deduped.conflicts.jsonl`: the same or a near-identical question with different answers.
  Default policy (`--on-conflict keep`): keep every member and list the pair here.
- overrides (`--overrides PATH`, default `<processed>/../dedupe.overrides.jsonl` when it exists):
  one JSON line per decision a person took (distinct, survivor, answer; `decisions.py`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

from curate import io
from curate.stages.dedupe import graph, star


def default_overrides(processed: Path) -> Path:
    return Path(processed).resolve().parent / "dedupe.overrides.jsonl"


def write_conflicts(path: Path, pairs: pl.DataFrame, policy: str) -> int:
    """One line per pair of clusters joined by a conflict: the two records that matched, their
    direct score, and the record each is kept as (`kept_as`: itself, or its survivor)."""
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
                    "kept_as": r["a_survivor"],
                },
                "b": {
                    "id": r["b_id"],
                    "source": r["b_source"],
                    "line": r["b_line"],
                    "question": r["b_question"],
                    "answer": r["b_answer"],
                    "kept_as": r["b_survivor"],
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
        "# Dedupe clusters\n\nEach section: the kept record, then what was merged into it, each "
        "with the kind and score of its own comparison with the kept record (exact: the same "
        "text; near_duplicate: character Jaccard of the questions; variant: the same answer and "
        "the IDF-weighted similarity of the questions, which two 字谜 naming the same parts, or "
        "two brain teasers with an answer few riddles give and many content characters in "
        "common, may merge below). To keep a removed "
        'record next time, add `{"a": "<kept question>", "b": "<removed question>", '
        '"decision": "distinct"}` to the overrides file (questions are matched by content, so '
        "the line survives moved or renamed files).\n"
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
    frame: pl.DataFrame,
    df: pl.DataFrame,
    ids,
    edges: pl.DataFrame,
    policy: str,
    n_own: int,
    settled: pl.DataFrame | None = None,
    last: np.ndarray | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Per input row (`df`, in input order; `_rank` = its ranked row): cluster, survivor,
    removed, kind, score; and the conflict pairs. Rows from `n_own` on are an external set
    (`--against`): a record whose survivor is one of them is `contaminated`. `settled`: the
    conflict edges a person resolved (`decisions.resolved`): merged whatever the policy, and
    no longer listed as conflicts.

    Clusters are stars (`star.py`): each removed record points at a survivor it was directly
    compared with, and `kind` and `score` are those of that pair (exact: the same text).
    """
    merge = edges if policy == "survivor" else edges.filter(pl.col("kind") != "conflict")
    listed = edges
    if settled is not None and settled.height:
        merge = merge if policy == "survivor" else pl.concat([merge, settled])
        listed = edges.join(settled.select("u", "v"), on=["u", "v"], how="anti")
    center = star.centers(ids.n_nodes, merge, with_conflicts=True, last=last)
    link_kind, link_score = _direct_links(ids.n_nodes, merge, center)
    names = {-1: "exact", -2: "contaminated"} | {c: k for k, c in graph.KIND_RANK.items()}
    # Built in input order (the order of the rejects and of deduped.parquet) from df's own
    # columns: no gather of a million strings there and no sort back.
    row = frame["_row"].to_numpy()  # ranked -> input
    rank = np.empty_like(row)
    rank[row] = np.arange(row.size)  # input -> ranked
    node = ids.rec_node[rank]
    is_center = center[node] == node
    survivor_row = row[ids.node_first[center[node]]]  # input row of each row's survivor
    kind = np.where(is_center, -1, link_kind[node])
    kind = np.where(survivor_row >= n_own, -2, kind)
    # One chunk first: a gather from parquet's chunks (one per row group) costs 4-5x more.
    record_id = df["id"].rechunk()
    survivor_id = record_id.gather(survivor_row)
    out = df.select("id", "source", "line", "question", "answer").with_columns(
        node=pl.Series(node),
        cluster=pl.Series(center[node]),
        survivor_id=survivor_id,
        removed=pl.Series(survivor_row != np.arange(row.size)),
        kind=pl.Series(kind).replace_strict(names, return_dtype=pl.String),
        score=pl.Series(np.where(is_center, 1.0, link_score[node]).round(4)),
        _rank=pl.Series(rank),
    )
    conflicts = _conflict_pairs(df, ids, listed, center, row, n_own, survivor_id)
    if n_own < df.height:  # an external survivor: named with its file and line, in detail
        origin = df.select(pl.format("{}:{}", "source", "line")).to_series()
        out = out.with_columns(against=origin.gather(survivor_row)).head(n_own)
    return out, conflicts


def _direct_links(n: int, merge: pl.DataFrame, center: np.ndarray) -> tuple[np.ndarray, ...]:
    """Kind code and score of the edge between each node and its center (the best kind
    when a pair has several): the pair the ledger and the clusters file describe."""
    kr = merge["kind"].replace_strict(graph.KIND_RANK, return_dtype=pl.Int64).to_numpy()
    u, v = merge["u"].to_numpy(), merge["v"].to_numpy()
    # Either end may be the center: a bridge (`bridges.py`), visited last, joins a
    # worse-ranked one.
    direct = ((center[v] == u) | (center[u] == v)) & (u != v)
    member = np.where(center[v] == u, v, u)
    score = merge["score"].to_numpy()
    best = (
        pl.DataFrame({"m": member[direct], "k": kr[direct], "s": -score[direct]})
        .sort("m", "k", "s")
        .unique("m", keep="first", maintain_order=True)
    )
    link_kind, link_score = np.full(n, -1, dtype=np.int64), np.ones(n)
    m = best["m"].to_numpy()
    link_kind[m], link_score[m] = best["k"].to_numpy(), -best["s"].to_numpy()
    return link_kind, link_score


def _conflict_pairs(df, ids, edges, center, row, n_own, survivor_ids) -> pl.DataFrame:
    """One line per pair of clusters joined by a conflict: the two members that matched, with
    their direct score and the survivor each is kept as (the best-scoring pair per cluster
    pair). Pairs with an external record are left out."""
    conflicts = edges.filter(pl.col("kind") == "conflict")
    u, v = conflicts["u"].to_numpy(), conflicts["v"].to_numpy()
    ru, rv = row[ids.node_first[u]], row[ids.node_first[v]]
    first = center[u] <= center[v]
    # Ties in score go to the pair of nodes first in survivor order (content), not of input
    # rows: the same records in another order list the same pair.
    pairs = (
        pl.DataFrame(
            {
                "cu": np.minimum(center[u], center[v]),
                "cv": np.maximum(center[u], center[v]),
                "nu": np.where(first, u, v),
                "nv": np.where(first, v, u),
                "ru": np.where(first, ru, rv),
                "rv": np.where(first, rv, ru),
                "score": conflicts["score"],
            }
        )
        .filter((pl.col("ru") < n_own) & (pl.col("rv") < n_own))
        .sort(["cu", "cv", "score", "nu", "nv"], descending=[False, False, True, False, False])
        .unique(["cu", "cv"], keep="first", maintain_order=True)
    )
    side = df.select("id", "source", "line", "question", "answer").with_columns(
        survivor=survivor_ids
    )
    a = side[pairs["ru"].to_numpy()].select(pl.all().name.prefix("a_"))
    b = side[pairs["rv"].to_numpy()].select(pl.all().name.prefix("b_"))
    return pl.concat([a, b, pairs.select("score")], how="horizontal")


REASON = "duplicate"  # every dedupe reject's reason (its kind says which)


def reject_frame(out: pl.DataFrame) -> pl.DataFrame:
    """Rows of `deduped.rejects.jsonl` in input order (`out` and its records' raw texts,
    `question_raw` and `answer_raw`: a batch of them at a time), as a frame with the columns of
    `record.reject` (raw a struct) then duplicate_of, kind, score, via: `manifest.write_stage`
    writes it column-wise (a million dicts would cost ~0.8 GB and ~10 s of json.dumps)."""
    return out.filter(pl.col("removed")).select(
        stage=pl.lit("dedupe"),
        reason=pl.lit(REASON),
        detail=pl.format("{} of {} (score {})", "kind", "survivor_id", "score")
        if "against" not in out.columns
        else pl.when(pl.col("kind") == "contaminated")
        .then(
            pl.format(
                "contaminated: matches {} in {} (score {})", "survivor_id", "against", "score"
            )
        )
        .otherwise(pl.format("{} of {} (score {})", "kind", "survivor_id", "score")),
        source="source",
        line="line",
        id="id",
        raw=pl.struct(question="question_raw", answer="answer_raw"),  # as read, not normalized
        duplicate_of="survivor_id",
        kind="kind",
        score="score",
        via="survivor_id",  # the record it was compared with: its survivor (no chaining)
    )


def cluster_members(out: pl.DataFrame) -> pl.DataFrame:
    """One row per removed text (node), grouped by cluster in survivor order; each node's
    fields from its best-ranked removed record, `copies` (its removed records), and its
    cluster's survivor. Rows are picked with numpy, then gathered once: a group-by over
    every removed record's strings costs 2-3x more at a million."""
    removed = out["removed"].to_numpy()
    node, rank, cluster = (out[c].to_numpy() for c in ("node", "_rank", "cluster"))
    rows = np.flatnonzero(removed)
    # by node, best-ranked first (ranks are distinct: one integer key, a plain sort)
    span = int(rank.max(initial=0)) + 1
    rows = rows[np.argsort(node[rows].astype(np.int64) * span + rank[rows])]
    first = np.ones(rows.size, dtype=bool)
    first[1:] = node[rows[1:]] != node[rows[:-1]]
    starts = np.flatnonzero(first)
    pick, copies = rows[starts], np.diff(starts, append=rows.size)
    # A cluster's survivor is its one kept record; one from `--against` is not in `out`,
    # and its cluster is left out here.
    kept = np.flatnonzero(~removed)
    survivor = np.full(max(node.max(initial=-1), cluster.max(initial=-1)) + 1, -1)
    survivor[cluster[kept]] = kept
    best = survivor[cluster[pick]]
    listed = best >= 0
    pick, copies, best = pick[listed], copies[listed], best[listed]
    order = np.lexsort((rank[pick], rank[best]))  # survivor order, then each member's rank
    pick, copies, best = pick[order], copies[order], best[order]
    fields = ["cluster", "node", "id", "question", "answer", "source", "line", "kind", "score"]
    members = out.select(*fields, "survivor_id", "_rank")[pick]
    survivors = out.select(
        survivor_question="question",
        survivor_answer="answer",
        survivor_source="source",
        survivor_rank="_rank",
    )[best]
    members = members.with_columns(copies=pl.Series(copies, dtype=pl.UInt32))
    return pl.concat([members, survivors], how="horizontal")


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
