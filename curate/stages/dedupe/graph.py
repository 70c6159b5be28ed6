"""Dedupe as a graph: nodes are distinct (question key, answer key) texts, edges are verified
near-duplicate / variant / conflict links, clusters are connected components.

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
from curate.stages.dedupe import minhash, similarity

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


def _text_ids(texts: pl.Series) -> tuple[np.ndarray, np.ndarray]:
    """_first_seen of strings: group by a 64-bit hash (fast), then check every row equals its
    group's first text; on a collision (about 1 in 10^7 at a million texts) sort instead."""
    ids, first = _first_seen(texts.hash().to_numpy())
    if not (texts.gather(first[ids]) == texts).all():
        ids, first = _first_seen(texts.rank("dense").to_numpy())
    return ids, first


def node_ids(frame: pl.DataFrame, answers: pl.Series) -> Ids:
    doc, doc_first = _text_ids(frame["qkey"])
    answer, _ = _text_ids(frame["akey"])
    node, node_first = _first_seen(doc * (int(answer.max(initial=0)) + 1) + answer)
    row = frame["_row"].to_numpy().astype(np.int64)
    return Ids(node, node_first, doc[node_first], answer[node_first], doc_first, row, answers)


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
) -> pl.DataFrame:
    """Verified near pairs of nodes (u < v): near_duplicate or conflict, with the Jaccard.

    `nodes` limits the search to those nodes (the survivors, in a settling pass): exactly the
    documents, and star centres, that deduping the output again would see.
    """
    nodes = np.arange(ids.n_nodes) if nodes is None else nodes
    docs = minhash.sorted_unique(ids.node_doc[nodes])
    # Star centres: the question text with the most records (usually the unedited original).
    weight = ids.node_doc[ids.rec_node] if nodes.size == ids.n_nodes else ids.node_doc[nodes]
    copies = np.bincount(weight, minlength=index.sig.shape[0])[docs]
    a, b = minhash.candidate_pairs(
        np.take(index.sig, docs, axis=0), bands, rows, priority=np.argsort(-copies, kind="stable")
    )
    i, j = docs[a], docs[b]
    score = minhash.jaccard(index.sh, i, j)
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
    # only the same or a near-identical question makes a conflict worth a review.
    return edges.filter(
        (pl.col("kind") != "conflict") | (pl.col("score") >= config.conflict_threshold)
    )


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
) -> pl.DataFrame:
    """Variant passes, then a near pass over the survivors, until neither merges anything:
    the fixed point is what a second run on the output sees, so it removes nothing."""
    cache: dict = {}
    while True:
        edges = variant_edges(frame, ids, edges, forbid, config, cutoff, cache)
        comp = components(ids.n_nodes, edges.filter(pl.col("kind") != "conflict"))
        survivors = minhash.sorted_unique(min_per(comp, int(comp.max(initial=-1)) + 1))
        extra = drop_forbidden(
            near_edges(frame, ids, index, config, bands, rows, survivors), forbid
        )
        extra = extra.join(edges, on=["u", "v"], how="anti")
        edges = pl.concat([edges, extra]).sort("u", "v")
        if not extra.filter(pl.col("kind") != "conflict").height:
            return edges


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


def components(n: int, edges: pl.DataFrame) -> np.ndarray:
    """Connected component of each node (scipy, so a million edges take milliseconds)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    u, v = edges["u"].to_numpy(), edges["v"].to_numpy()
    graph = coo_matrix((np.ones(u.size, dtype=np.int8), (u, v)), shape=(n, n))
    return connected_components(graph, directed=False)[1]


def min_per(labels: np.ndarray, n_labels: int) -> np.ndarray:
    best = np.full(n_labels, labels.size, dtype=np.int64)
    np.minimum.at(best, labels, np.arange(labels.size))
    return best


def variant_edges(
    frame, ids: Ids, edges: pl.DataFrame, forbid: set, config, cutoff, cache: dict | None = None
) -> pl.DataFrame:
    """Add variant edges between clusters whose survivors share an answer key.

    Deduping the output again must find nothing, and the output's riddles are the survivors.
    So each pass scores survivors against each other with the IDF of the survivors, merging
    until the number k of clusters per answer stops falling; passes repeat until one merges
    nothing, which is exactly what a second run would see. `cache` carries the pair lookup
    from one call to the next.
    """
    cache = {} if cache is None else cache
    comp = components(ids.n_nodes, edges.filter(pl.col("kind") != "conflict"))
    named = min_per(comp, int(comp.max(initial=-1)) + 1)[comp]  # lowest member
    while True:
        # Numbered by lowest member, as scipy numbers them: the same labels, without a pass
        # over the whole graph after each merge.
        comp = np.cumsum(named == np.arange(named.size))[named] - 1
        new = _variant_pass(frame, ids, comp, forbid, config, cutoff, cache)
        if not new.height:
            return edges
        # Unsorted here: only the graph matters until `settle` sorts the final edge list.
        edges = pl.concat([edges, new.cast(edges.schema)])
        named = _merged(named, new["u"].to_numpy(), new["v"].to_numpy())


def _variant_pass(frame, ids: Ids, comp: np.ndarray, forbid: set, config, cutoff, cache: dict):
    """Variant edges between the survivors of `comp`'s clusters (one pass).

    Survivors only ever leave (clusters merge), so the pairs of a later pass are among those
    of an earlier one: their shared features are looked up once (`cache`) and only re-weighted
    with the current survivors' IDF."""
    n_comp = int(comp.max(initial=-1)) + 1
    rep = min_per(comp, n_comp)  # survivor node of each cluster
    answer = ids.node_answer[rep]
    _, group = minhash.unique_inverse(answer)
    size = np.bincount(group)
    ok = (size[group] >= 2) & (cutoff(config, size[group]) <= 1.0)
    none = pl.DataFrame(
        schema={"u": pl.Int64, "v": pl.Int64, "score": pl.Float64, "kind": pl.String}
    )
    # A group too large for any merge earlier may have shrunk into range: look up afresh.
    if "pairs" not in cache or not np.isin(answer[ok], cache["answers"]).all():
        pi, pj = _group_pairs(np.flatnonzero(ok), group)
        texts = frame["qkey"].gather(ids.node_first[rep]).to_list()
        cache["pairs"] = similarity.pair_features(texts, pi, pj, config.variant_min_shared)
        cache["nodes"], cache["answers"] = rep, minhash.sorted_unique(answer[ok])
    pf, nodes = cache["pairs"], cache["nodes"]
    label = comp[nodes]  # cluster of each looked-up text
    live = rep[label] == nodes  # ... and whether it is still that cluster's survivor
    pi, pj = label[pf.i], label[pf.j]
    valid = live[pf.i] & live[pf.j] & ok[pi]
    if not valid.any():
        return none
    score = similarity.pair_scores(pf, live)[valid]
    pi, pj = pi[valid], pj[valid]
    # Below the lowest cutoff a pair never merges; drop it now. Overrides forbid a pair.
    keep = score >= config.variant_threshold  # (pairs sharing too little: dropped at lookup)
    if forbid:
        blocked = np.array([comp[u] * n_comp + comp[v] for u, v in forbid], dtype=np.int64)
        keep &= ~np.isin(pi * n_comp + pj, blocked) & ~np.isin(pj * n_comp + pi, blocked)
    pi, pj, score = pi[keep], pj[keep], score[keep]
    chosen = np.zeros(pi.size, dtype=bool)
    label = np.arange(n_comp)  # each cluster's component, named by its lowest member
    while True:  # k only falls as clusters merge, so the chosen set only grows
        # Clusters per answer group: a component never spans two groups (pairs share an
        # answer), so count the components' named members (no sort).
        k = np.bincount(group[label == np.arange(n_comp)])
        now = chosen | (score >= cutoff(config, k[group[pi]]))
        if (now == chosen).all():
            break
        label = _merged(label, pi[now & ~chosen], pj[now & ~chosen])
        chosen = now
    u, v = rep[pi[chosen]], rep[pj[chosen]]
    variants = pl.DataFrame(
        {"u": np.minimum(u, v), "v": np.maximum(u, v), "score": score[chosen]}
    ).with_columns(kind=pl.lit("variant"))
    return variants.cast(none.schema)


def _merged(label: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Components (named by their lowest member) after adding edges u-v: only the components
    the new edges touch go through scipy, so a pass adding a few edges costs little."""
    touched, inv = np.unique(np.concatenate((label[u], label[v])), return_inverse=True)
    sub = components(touched.size, pl.DataFrame({"u": inv[: u.size], "v": inv[u.size :]}))
    rename = np.arange(label.size)
    rename[touched] = touched[min_per(sub, int(sub.max(initial=-1)) + 1)[sub]]
    return rename[label]


def _group_pairs(members: np.ndarray, group: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All pairs (i < j in sorted position) of `members` that share a group, vectorized."""
    order = members[np.argsort(group[members], kind="stable")]
    g = group[order]
    new = np.concatenate(([True], g[1:] != g[:-1])) if g.size else np.zeros(0, bool)
    start = np.maximum.accumulate(np.where(new, np.arange(g.size), 0))
    size = np.bincount(np.cumsum(new) - 1)[np.cumsum(new) - 1] if g.size else g
    later = start + size - 1 - np.arange(g.size)  # partners after each position
    left = np.repeat(np.arange(g.size), later)
    first = np.concatenate(([0], np.cumsum(later)[:-1])) if g.size else later
    right = left + 1 + np.arange(left.size) - np.repeat(first, later)
    return order[left], order[right]
