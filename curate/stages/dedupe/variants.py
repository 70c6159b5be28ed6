"""Variant edges: survivors that share an answer key and whose questions say the same thing.

Two survivors with one answer merge when the IDF-weighted score of their questions
(`similarity.py`) reaches a cutoff that rises with k, the number of survivors sharing that
answer (an answer given by two riddles, 圣诞老人, is strong evidence; one given by 29,
多此一举, is not), and when their content characters (`similarity.content_chars`: the question
without its type markers, template and corpus-common characters) overlap:
- any pair: at least one content character in common (四面都是山 / 口中有十, both 田: never);
- character riddles and 歇后语, whose answers are shared by many different riddles, need the
  question's own content to match: content Jaccard >= `content_threshold` (孙悟空照镜子 /
  孙悟空放屁, both 猴里猴气: 3 of 8 characters, two riddles; 泥菩萨过江 / 泥菩萨过河: 4 of 6).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from curate.stages.dedupe import keys, minhash, similarity, star
from curate.stages.dedupe.rank import PLAIN

_NONE = {"u": pl.Int64, "v": pl.Int64, "score": pl.Float64, "kind": pl.String}


def variant_edges(
    frame, ids, edges: pl.DataFrame, forbid: set, config, cutoff, cache: dict | None = None
) -> pl.DataFrame:
    """Add variant edges between survivors until a pass finds none.

    Deduping the output again must find nothing, and the output's riddles are the survivors;
    so each pass scores survivors against each other with the IDF of the survivors. `cache`
    carries the pair lookup from one call to the next (it is redone when a survivor appears
    that it does not cover: a record left alone when its center joined another)."""
    cache = {} if cache is None else cache
    center = star.centers(ids.n_nodes, edges)
    while True:
        reps = np.flatnonzero(center == np.arange(ids.n_nodes))
        new = _variant_pass(ids, reps, forbid, config, cutoff, cache)
        if not new.height:
            return edges
        # Unsorted here: only the graph matters until `settle` sorts the final edge list.
        edges = pl.concat([edges, new.cast(edges.schema)])
        center = star.centers(ids.n_nodes, edges)


def _lookup(ids, reps: np.ndarray, ok: np.ndarray, group: np.ndarray, config, cache: dict):
    """Shared features of every pair of survivors in one answer group, looked up once."""
    if "pairs" in cache and np.isin(reps[ok], cache["nodes"]).all():
        return cache["pairs"], cache["nodes"]
    nodes = reps[ok]
    pi, pj = _group_pairs(np.arange(nodes.size), group[ok])
    questions = ids.questions.gather(ids.row[ids.node_first[nodes]])
    texts = keys.content_keys(questions).to_list()
    cache["pairs"] = similarity.pair_features(texts, pi, pj, config.variant_min_shared)
    cache["nodes"] = nodes
    return cache["pairs"], nodes


def _variant_pass(ids, reps: np.ndarray, forbid: set, config, cutoff, cache: dict):
    """Variant edges between the survivors `reps` (sorted; one pass)."""
    _, group = minhash.unique_inverse(ids.node_answer[reps])
    size = np.bincount(group)
    ok = (size[group] >= 2) & (cutoff(config, size[group]) <= 1.0)
    if not ok.any():
        return pl.DataFrame(schema=_NONE)
    pf, nodes = _lookup(ids, reps, ok, group, config, cache)
    at = np.minimum(np.searchsorted(reps, nodes), reps.size - 1)
    live = (reps[at] == nodes) & ok[at]  # each looked-up text: still a survivor in range
    valid = live[pf.i] & live[pf.j]
    if not valid.any():
        return pl.DataFrame(schema=_NONE)
    score, content = similarity.pair_scores(pf, live)
    u, v = nodes[pf.i], nodes[pf.j]
    strict = (ids.node_kind[u] != PLAIN) | (ids.node_kind[v] != PLAIN)
    keep = valid & (score >= config.variant_threshold) & (content > 0)
    keep &= ~strict | (content >= config.content_threshold)
    if forbid:
        code = np.minimum(u, v) * ids.n_nodes + np.maximum(u, v)
        blocked = np.array([a * ids.n_nodes + b for a, b in forbid], dtype=np.int64)
        keep &= ~np.isin(code, blocked)
    pi, pj, score = at[pf.i[keep]], at[pf.j[keep]], score[keep]
    chosen = np.zeros(pi.size, dtype=bool)
    while True:  # merging lowers k and so the cutoff: repeat until the chosen set is stable
        center = star.star(reps.size, pi[chosen], pj[chosen])
        k = np.bincount(group[center == np.arange(reps.size)], minlength=size.size)
        now = chosen | (score >= cutoff(config, k[group[pi]]))
        if (now == chosen).all():
            break
        chosen = now
    u, v = reps[pi[chosen]], reps[pj[chosen]]
    variants = pl.DataFrame(
        {"u": np.minimum(u, v), "v": np.maximum(u, v), "score": score[chosen]}
    ).with_columns(kind=pl.lit("variant"))
    return variants.cast(_NONE)


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
