"""Dedupe as a graph: nodes are distinct (question key, answer key) texts, edges are verified
near-duplicate / variant / conflict links, clusters are stars around a survivor (`star.py`).

Rows of the ranked frame are in survivor-priority order and node and document ids are
numbered by first appearance in it, so "the survivor" is always the lowest index.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import numpy as np
import polars as pl

from curate.normalize import match_key
from curate.stages.dedupe import bridges, buckets, minhash, star, variants
from curate.stages.dedupe.rank import GLYPH

KIND_RANK = {"near_duplicate": 0, "variant": 1, "conflict": 2}
_ALTERNATIVES = re.compile(r"[；;/|]")
_NOTE = re.compile(r"（[^）]*）|\([^)]*\)")


@dataclass(frozen=True)
class Ids:
    rec_node: np.ndarray  # node of each ranked row
    node_first: np.ndarray  # ranked row of each node's best record
    node_doc: np.ndarray  # question key (document) of each node
    node_answer: np.ndarray  # answer key id of each node
    doc_first: np.ndarray  # ranked row of each document's best record
    row: np.ndarray  # input row of each ranked row
    answers: pl.Series  # the answer of each input row (input order: no gather)
    questions: pl.Series  # the question of each input row (input order)
    node_kind: np.ndarray  # rank.PLAIN, SHARED, GLYPH or OTHER, of each node's best record

    @property
    def n_nodes(self) -> int:
        return self.node_first.size


def _first_seen(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Dense ids numbered by first appearance, and the position of each id's first row."""
    order = minhash.stable_argsort(codes)
    ordered = codes[order]
    new = np.empty(ordered.size, dtype=bool)
    new[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=new[1:])
    first = order[new]  # stable sort: the lowest row of each value
    by_first = np.argsort(first)
    remap = np.empty(first.size, dtype=np.int64)
    remap[by_first] = np.arange(first.size)
    ids = np.empty(codes.size, dtype=np.int64)
    ids[order] = remap[np.cumsum(new) - 1]
    return ids, first[by_first]


def _first_seen_small(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`_first_seen` of codes in [0, codes.max()], as key ids are: each code's first row by
    np.minimum.at, no sort of every row (at 1M: 0.02 s instead of 0.1)."""
    n_codes = int(codes.max(initial=-1)) + 1
    first = np.full(n_codes, codes.size, dtype=np.int64)
    np.minimum.at(first, codes, np.arange(codes.size))
    by_first = np.argsort(first)[: np.count_nonzero(first < codes.size)]  # unused codes last
    remap = np.empty(n_codes, dtype=np.int64)
    remap[by_first] = np.arange(by_first.size)
    return remap[codes], first[by_first]


def node_ids(frame: pl.DataFrame, df: pl.DataFrame) -> Ids:
    """Nodes and documents of the ranked frame (with its `kind` column: PLAIN/SHARED/GLYPH,
    and `qid`, `aid`: ids equal where the question or answer keys are)."""
    doc, doc_first = _first_seen_small(frame["qid"].to_numpy())
    answer, _ = _first_seen_small(frame["aid"].to_numpy())
    node, node_first = _first_seen(doc * (int(answer.max(initial=0)) + 1) + answer)
    row = frame["_row"].to_numpy().astype(np.int64)
    kind = frame["kind"].to_numpy()[node_first]
    return Ids(
        node,
        node_first,
        doc[node_first],
        answer[node_first],
        doc_first,
        row,
        df["answer"],
        df["question"],
        kind,
    )


def answers_compatible(a: str, b: str) -> bool:
    """One answer's alternatives (split on ；/|, notes in brackets dropped) contain the other's:
    坏到一块了；冤家路窄 ~ 冤家路窄. 足球门 vs 球门 is not (a conflict)."""
    x, y = _alternatives(a), _alternatives(b)
    return bool(x and y) and (x <= y or y <= x)


@functools.lru_cache(maxsize=1 << 16)
def _alternatives(text: str) -> frozenset[str]:
    # Cached: at a million records the same few thousand answers come up ~60k times.
    return frozenset(k for k in map(match_key, _ALTERNATIVES.split(_NOTE.sub("", text))) if k)


@dataclass(frozen=True)
class NearIndex:
    """Shingles and MinHash signatures of every distinct question key (document)."""

    sh: minhash.Shingles
    sig: np.ndarray


def near_index(frame: pl.DataFrame, ids: Ids, config) -> NearIndex:
    texts = frame["qkey"].gather(ids.doc_first).to_list()
    sh = minhash.shingles(texts, config.ngram)
    return NearIndex(sh, minhash.signatures(sh, config.num_perm, config.seed))


def near_edges(
    frame,
    ids: Ids,
    index: NearIndex,
    config,
    bands: int,
    rows: int,
    nodes: np.ndarray | None = None,
    verify=None,
) -> pl.DataFrame:
    """Verified near pairs of nodes (u < v): near_duplicate or conflict, with the Jaccard.

    `nodes` limits the search to those nodes (the survivors, in a settling pass): exactly the
    documents, and star centres, that deduping the output again would see. `verify` finds
    and scores the candidates (default `verified_pairs`; the Ray engine passes its own).
    """
    nodes = np.arange(ids.n_nodes) if nodes is None else nodes
    docs = minhash.sorted_unique(ids.node_doc[nodes])
    # Star centres: the question text with the most records (usually the unedited original).
    weight = ids.node_doc[ids.rec_node] if nodes.size == ids.n_nodes else ids.node_doc[nodes]
    copies = np.bincount(weight, minlength=index.sig.shape[0])[docs]
    priority = np.argsort(-copies, kind="stable")
    i, j, score = (verify or verified_pairs)(index, docs, bands, rows, priority)
    ok = score >= config.near_threshold
    table = pl.DataFrame({"doc": ids.node_doc[nodes], "node": nodes})
    pairs = (
        pl.DataFrame({"di": i[ok], "dj": j[ok], "score": score[ok]})
        .join(table.rename({"doc": "di", "node": "u"}), on="di")
        .join(table.rename({"doc": "dj", "node": "v"}), on="dj")
        .select("u", "v", "score")
    )
    if nodes.size == ids.n_nodes:  # the same question key with several answers
        pairs = pl.concat([pairs, _same_question(ids)])
    pairs = pairs.with_columns(
        pl.min_horizontal("u", "v").alias("u"), pl.max_horizontal("u", "v").alias("v")
    )
    edges = _classify(pairs, frame, ids)
    # Different answers to merely similar questions (猴子的屁股 / 鸭子的屁股) are two riddles;
    # only the same or a near-identical question makes a conflict worth a review. Character
    # riddles differ by one clue character (半个月亮 胖 / 两个月亮 朋): a stricter bar.
    glyph = ids.node_kind[edges["u"].to_numpy()] == GLYPH
    glyph |= ids.node_kind[edges["v"].to_numpy()] == GLYPH
    bar = np.where(glyph, config.glyph_conflict_threshold, config.conflict_threshold)
    return edges.filter((pl.col("kind") != "conflict") | (pl.col("score") >= pl.Series(bar)))


def verified_pairs(index: NearIndex, docs, bands: int, rows: int, priority, known=None):
    """LSH candidate pairs among documents `docs` (sorted ids; `priority`: positions in
    `docs`, best star centre first) as ids i < j in order, with their true Jaccard. `known`:
    a dict that keeps the pairs scored so far, to score each only once (`_remembered`)."""
    if known is None:
        sig = np.take(index.sig, docs, axis=0)
        a, b = minhash.candidate_pairs(sig, bands, rows, priority=priority)
        i, j = docs[a], docs[b]
        return i, j, minhash.jaccard(index.sh, i, j)
    # Settle's passes: the band buckets kept sorted from one pass to the next (`buckets.py`).
    kept = known.setdefault("buckets", {})
    i, j = buckets.candidate_pairs(index.sig, docs, bands, rows, priority, kept)
    return i, j, _remembered(index, i, j, known)


def _remembered(index: NearIndex, i: np.ndarray, j: np.ndarray, known: dict) -> np.ndarray:
    """The Jaccard of the pairs, those in `known` (sorted codes, their scores) taken from it,
    the others computed and added: settle's near passes see mostly the last pass's pairs
    (the survivors change by a few hundred of 85k). The same values: a pair's Jaccard is
    its own counts."""
    code = i * np.int64(index.sig.shape[0]) + j
    seen, score = known.get("code", code[:0]), known.get("score", np.zeros(0))
    at = np.minimum(np.searchsorted(seen, code), max(seen.size - 1, 0))
    old = seen[at] == code if seen.size else np.zeros(code.size, dtype=bool)
    out = np.empty(code.size)
    out[old], new = score[at[old]], np.flatnonzero(~old)
    out[new] = minhash.jaccard(index.sh, i[new], j[new])
    order = np.argsort(np.concatenate((seen, code[new])), kind="stable")
    known["code"] = np.concatenate((seen, code[new]))[order]
    known["score"] = np.concatenate((score, out[new]))[order]
    return out


def _same_question(ids: Ids) -> pl.DataFrame:
    """Link each node to its question's first node (the lowest id: numbered by appearance)."""
    head = np.full(int(ids.node_doc.max(initial=-1)) + 1, ids.n_nodes, dtype=np.int64)
    np.minimum.at(head, ids.node_doc, np.arange(ids.n_nodes))
    head = head[ids.node_doc]
    same = np.flatnonzero(head != np.arange(ids.n_nodes))
    return pl.DataFrame({"u": head[same], "v": same, "score": 1.0})


def settle(
    frame,
    ids: Ids,
    index: NearIndex,
    edges: pl.DataFrame,
    forbid: set,
    config,
    bands: int,
    rows: int,
    cutoff,
    first: np.ndarray | None = None,
) -> tuple[pl.DataFrame, np.ndarray]:
    """Variant passes, then a near pass over the survivors, until neither finds a merge: the
    fixed point is what a second run on the output sees, so it removes nothing. Star centers
    that bridge two riddles are put last as they are found (`bridges.py`); returned with the
    edges, as the survivors' star order (`star.centers`' `last`). Nodes in `first` (external
    records, chosen survivors) are never put last."""
    cache: dict = {"last": np.zeros(ids.n_nodes, dtype=bool)}  # bridges (`bridges.py`)
    cache["first"] = np.zeros(ids.n_nodes, dtype=bool) if first is None else first
    verify = functools.partial(verified_pairs, known={})  # each pair scored once
    while True:
        edges = variants.variant_edges(frame, ids, edges, forbid, config, cutoff, cache)
        if _bridges(ids, edges, cache):
            continue  # their members are survivors again: a variant pass first
        alive = cache["center"] == np.arange(ids.n_nodes)  # star.centers(n, edges)
        survivors = np.flatnonzero(alive)
        near = near_edges(frame, ids, index, config, bands, rows, survivors, verify)
        extra = drop_forbidden(near, forbid)
        # The near pass pairs survivors only: the edges it can repeat join two survivors
        # (conflicts), a few among a million; (u, v) is unique in the edge list.
        u, v = edges["u"].to_numpy(), edges["v"].to_numpy()
        between = edges.filter(pl.Series(alive[u] & alive[v]))
        extra = extra.join(between.select("u", "v"), on=["u", "v"], how="anti")
        # Unsorted until the end: only the graph matters until the fixed point.
        edges = pl.concat([edges, extra])
        if not extra.filter(pl.col("kind") != "conflict").height:
            return edges.sort("u", "v"), cache["last"]


def _bridges(ids, edges: pl.DataFrame, cache: dict) -> bool:
    """Put the star centers that bridge two riddles last (`bridges.hubs`) and cluster again,
    until none is left; whether there were any. Only clusters that changed since the last
    look are looked at again."""
    merging = edges.filter(pl.col("kind") != "conflict")
    u, v = merging["u"].to_numpy(), merging["v"].to_numpy()
    weak = (merging["kind"] == "variant").to_numpy()
    center, seen = cache["center"], cache.get("looked")
    look = np.ones(ids.n_nodes, dtype=bool)
    if seen is not None:  # the clusters of nodes with another center or a new edge
        moved = np.flatnonzero(center != seen[0])
        look[:] = False
        look[center[np.concatenate((moved, u[seen[1] :], v[seen[1] :]))]] = True
    found = False
    while True:
        new = bridges.hubs(ids, u, v, weak, center, look, cache) & ~cache["last"] & ~cache["first"]
        if not new.any():
            break
        found = True
        cache["last"] |= new
        old, center = center, star.star(ids.n_nodes, cache["u"], cache["v"], cache["last"])
        look[:] = False
        look[center[np.flatnonzero(center != old)]] = True
    cache["center"], cache["looked"] = center, (center, u.size)
    return found


def _classify(pairs: pl.DataFrame, frame: pl.DataFrame, ids: Ids) -> pl.DataFrame:
    u, v = pairs["u"].to_numpy(), pairs["v"].to_numpy()
    same = ids.node_answer[u] == ids.node_answer[v]
    # Near-identical questions with other answers: their answers gathered at once (tens of
    # thousands at a million records; one Series lookup each took half a second).
    other = np.flatnonzero(~same)
    ua = ids.answers.gather(ids.row[ids.node_first[u[other]]]).to_list()
    va = ids.answers.gather(ids.row[ids.node_first[v[other]]]).to_list()
    for k, a, b in zip(other.tolist(), ua, va, strict=True):
        if answers_compatible(a, b):
            same[k] = True
    # The kind column built by polars (a numpy array of a million Python strings is slow).
    near = pl.Series("kind", same)
    kind = pl.select(pl.when(near).then(pl.lit("near_duplicate")).otherwise(pl.lit("conflict")))
    return pairs.with_columns(kind=kind.to_series()).sort("u", "v")


def drop_forbidden(edges: pl.DataFrame, forbid: set) -> pl.DataFrame:
    if not forbid:
        return edges
    bad = pl.DataFrame(
        sorted(forbid), schema={"u": edges["u"].dtype, "v": edges["v"].dtype}, orient="row"
    )
    return edges.join(bad, on=["u", "v"], how="anti", maintain_order="left")
