"""Dedupe as a graph: nodes are distinct (question key, answer key) texts, edges are verified
near-duplicate / variant / conflict links, clusters are connected components.

Rows of the ranked frame are in survivor-priority order and node and document ids are
numbered by first appearance in it, so "the survivor" is always the lowest index.
"""

from __future__ import annotations

import contextlib
import re
import time
from dataclasses import dataclass

import numpy as np
import polars as pl

from curate import minhash, similarity
from curate.normalize import match_key

_KIND_RANK = {"near_duplicate": 0, "variant": 1, "conflict": 2}
_ALTERNATIVES = re.compile(r"[；;/|]")
_NOTE = re.compile(r"（[^）]*）|\([^)]*\)")


class Timer:
    def __init__(self) -> None:
        self.times: dict[str, float] = {}

    @contextlib.contextmanager
    def __call__(self, step: str):
        start = time.perf_counter()
        yield
        self.times[step] = round(time.perf_counter() - start, 3)


@dataclass(frozen=True)
class Ids:
    rec_node: np.ndarray  # node of each ranked row
    node_first: np.ndarray  # ranked row of each node's best record
    node_doc: np.ndarray  # question key (document) of each node
    node_answer: np.ndarray  # answer key id of each node
    doc_first: np.ndarray  # ranked row of each document's best record

    @property
    def n_nodes(self) -> int:
        return self.node_first.size


def _first_seen(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Dense ids numbered by first appearance, and the position of each id's first row."""
    _, first, inverse = np.unique(codes, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")
    remap = np.empty(order.size, dtype=np.int64)
    remap[order] = np.arange(order.size)
    return remap[inverse.ravel()], first[order]


def node_ids(frame: pl.DataFrame) -> Ids:
    doc, doc_first = _first_seen(frame["qkey"].rank("dense").to_numpy())
    answer, _ = _first_seen(frame["akey"].rank("dense").to_numpy())
    node, node_first = _first_seen(doc * (int(answer.max(initial=0)) + 1) + answer)
    return Ids(node, node_first, doc[node_first], answer[node_first], doc_first)


def answers_compatible(a: str, b: str) -> bool:
    """One answer's alternatives (split on ；/|, notes in brackets dropped) contain the other's:
    坏到一块了；冤家路窄 ~ 冤家路窄. 足球门 vs 球门 is not (a conflict)."""

    def alternatives(text: str) -> set[str]:
        return {k for k in map(match_key, _ALTERNATIVES.split(_NOTE.sub("", text))) if k}

    x, y = alternatives(a), alternatives(b)
    return bool(x and y) and (x <= y or y <= x)


def near_edges(frame: pl.DataFrame, ids: Ids, config, bands: int, rows: int) -> pl.DataFrame:
    """Verified near pairs of nodes (u < v): near_duplicate or conflict, with the Jaccard."""
    texts = frame["qkey"].gather(ids.doc_first).to_list()
    sh = minhash.shingles(texts, config.ngram)
    sig = minhash.signatures(sh, config.num_perm, config.seed)
    i, j = minhash.candidate_pairs(sig, bands, rows)
    score = minhash.jaccard(sh, i, j)
    ok = score >= config.near_threshold
    nodes = pl.DataFrame({"doc": ids.node_doc, "node": np.arange(ids.n_nodes)})
    pairs = (
        pl.DataFrame({"di": i[ok], "dj": j[ok], "score": score[ok]})
        .join(nodes.rename({"doc": "di", "node": "u"}), on="di")
        .join(nodes.rename({"doc": "dj", "node": "v"}), on="dj")
        .select("u", "v", "score")
    )
    # The same question key with several answers: link each to the question's first node.
    _, first_node = np.unique(ids.node_doc, return_index=True)
    head = first_node[ids.node_doc]
    same = np.flatnonzero(head != np.arange(ids.n_nodes))
    pairs = pl.concat([pairs, pl.DataFrame({"u": head[same], "v": same, "score": 1.0})])
    pairs = pairs.with_columns(
        pl.min_horizontal("u", "v").alias("u"), pl.max_horizontal("u", "v").alias("v")
    )
    edges = _classify(pairs, frame, ids)
    # Different answers to merely similar questions (猴子的屁股 / 鸭子的屁股) are two riddles;
    # only the same or a near-identical question makes a conflict worth a review.
    return edges.filter(
        (pl.col("kind") != "conflict") | (pl.col("score") >= config.conflict_threshold)
    )


def _classify(pairs: pl.DataFrame, frame: pl.DataFrame, ids: Ids) -> pl.DataFrame:
    u, v = pairs["u"].to_numpy(), pairs["v"].to_numpy()
    same = ids.node_answer[u] == ids.node_answer[v]
    kind = np.where(same, "near_duplicate", "conflict").astype(object)
    answers = frame["answer"]
    for k in np.flatnonzero(~same):  # few: near-identical questions with other answers
        a, b = answers[int(ids.node_first[u[k]])], answers[int(ids.node_first[v[k]])]
        if answers_compatible(a, b):
            kind[k] = "near_duplicate"
    return pairs.with_columns(kind=pl.Series(kind.astype(str))).sort("u", "v")


def forbidden(frame: pl.DataFrame, ids: Ids, overrides: list[tuple[str, str]]) -> set:
    """Node pairs (u < v) that overrides mark distinct."""
    from curate.dedupe_review import resolve

    out = set()
    for a, b in overrides:
        na = ids.rec_node[resolve(a, frame["id"], frame["qkey"]).to_numpy()]
        nb = ids.rec_node[resolve(b, frame["id"], frame["qkey"]).to_numpy()]
        out |= {(min(x, y), max(x, y)) for x in na.tolist() for y in nb.tolist() if x != y}
    return out


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


def _min_per(labels: np.ndarray, n_labels: int) -> np.ndarray:
    best = np.full(n_labels, labels.size, dtype=np.int64)
    np.minimum.at(best, labels, np.arange(labels.size))
    return best


class _UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, x: int) -> int:
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x


def variant_edges(
    frame, ids: Ids, comp: np.ndarray, edges: pl.DataFrame, forbid: set, config, cutoff
) -> pl.DataFrame:
    """Add variant edges between clusters whose survivors share an answer key.

    Pairs are scored once; merging repeats until nothing changes, each round with the cutoff
    for the current number k of clusters per answer, so that deduping the output again finds
    nothing new.
    """
    rep = _min_per(comp, int(comp.max(initial=-1)) + 1)  # survivor node of each cluster
    group = ids.node_answer[rep]
    order = np.argsort(group, kind="stable")
    bounds = np.flatnonzero(np.diff(group[order])) + 1
    pi, pj, pg, groups = [], [], [], []
    for members in np.split(order, bounds):
        if members.size >= 2 and variant_cutoff_ok(cutoff, config, members.size):
            a, b = np.triu_indices(members.size, 1)
            pi.append(members[a]), pj.append(members[b])
            pg.append(np.full(a.size, len(groups)))
            groups.append(members)
    if not pi:
        return edges
    pi, pj, pg = np.concatenate(pi), np.concatenate(pj), np.concatenate(pg)
    texts = frame["qkey"].gather(ids.node_first[rep]).to_list()
    score, shared = similarity.variant_evidence(texts, pi, pj)
    # Below the lowest cutoff a pair never merges; drop it now.
    keep = (score >= config.variant_threshold) & (shared >= config.variant_min_shared)
    pi, pj, pg, score = pi[keep], pj[keep], pg[keep], score[keep]
    merged = _merge_variants(rep, (pi, pj, pg, score), groups, comp, forbid, config, cutoff)
    return pl.concat([edges, merged]).sort("u", "v")


def variant_cutoff_ok(cutoff, config, k: int) -> bool:
    return bool(cutoff(config, np.array([k]))[0] <= 1.0)


def _merge_variants(rep, pairs, groups, comp, forbid, config, cutoff) -> pl.DataFrame:
    pi, pj, pg, score = pairs
    by_score = np.lexsort((pj, pi, -score)).tolist()
    uf = _UnionFind(rep.size)
    blocked = {(int(comp[u]), int(comp[v])) for u, v in forbid}
    out, changed = [], True
    while changed:
        changed = False
        # k = distinct clusters sharing each answer, at the start of this round.
        k = np.array([len({uf.find(int(m)) for m in members}) for members in groups])
        cut = cutoff(config, k)
        for p in by_score:
            a, b = uf.find(int(pi[p])), uf.find(int(pj[p]))
            if a == b or score[p] < cut[pg[p]] or _blocked(a, b, uf, blocked):
                continue
            uf.parent[max(a, b)] = min(a, b)
            out.append((int(rep[pi[p]]), int(rep[pj[p]]), float(score[p])))
            changed = True
    u = [min(x, y) for x, y, _ in out]
    v = [max(x, y) for x, y, _ in out]
    return pl.DataFrame(
        {"u": u, "v": v, "score": [s for *_, s in out], "kind": ["variant"] * len(out)},
        schema={"u": pl.Int64, "v": pl.Int64, "score": pl.Float64, "kind": pl.String},
    )


def _blocked(a: int, b: int, uf: _UnionFind, blocked: set) -> bool:
    return any({uf.find(x), uf.find(y)} == {a, b} for x, y in blocked)
