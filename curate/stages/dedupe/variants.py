"""Variant edges: survivors that share an answer key and whose questions say the same thing.

Two survivors with one answer merge when the IDF-weighted score of their questions
(`similarity.py`) reaches a cutoff that rises with k, the number of survivors sharing that
answer (an answer given by two riddles, 圣诞老人, is strong evidence; one given by 29,
多此一举, is not), and when their content characters (`similarity.content_chars`: the question
without its type markers, template and corpus-common characters) overlap:
- any pair: at least one content character in common (四面都是山 / 口中有十, both 田: never);
- character riddles and 歇后语, whose answers are shared by many different riddles, need the
  question's own content to match: content Jaccard >= `content_threshold` (孙悟空照镜子 /
  孙悟空放屁, both 猴里猴气: 3 of 8 characters, two riddles; 泥菩萨过江 / 泥菩萨过河: 4 of 6);
- other riddles (brain teasers, 谜语) share `variant_min_shared` content bigrams, or, when
  their answer is specific (given by at most `specific_k` survivors: a shared answer is
  strong evidence only when it is specific to one riddle), content Jaccard >=
  `specific_content` instead: rewordings that keep the clue's characters but not their
  order (什么鸟不会飞？ / 哪种鸟飞不起来？, 鸵鸟: 鸟, 飞 shared, no bigram).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from curate.stages.dedupe import glyph, keys, minhash, similarity, star
from curate.stages.dedupe.rank import GLYPH, PLAIN

_NONE = {"u": pl.Int64, "v": pl.Int64, "score": pl.Float64, "kind": pl.String}


def variant_edges(
    frame, ids, edges: pl.DataFrame, forbid: set, config, cutoff, cache: dict | None = None
) -> pl.DataFrame:
    """Add variant edges between survivors until a full pass finds none.

    Deduping the output again must find nothing, and the output's riddles are the survivors;
    so a full pass scores every pair of survivors with the IDF of the survivors, and only a
    full pass that finds nothing ends the search. When a center joins another, the records
    it had absorbed become survivors again unless they match the new center directly; the
    passes in between score only the pairs with such a new survivor, under the weights of
    the last full pass (`cache` carries the lookup, the scores and the weights)."""
    cache = {} if cache is None else cache
    merging = edges.filter(pl.col("kind") != "conflict")
    u, v = merging["u"].to_numpy(), merging["v"].to_numpy()
    center, comp = star.star(ids.n_nodes, u, v), star.components(ids.n_nodes, u, v)
    full = "score" not in cache
    while True:
        reps = np.flatnonzero(center == np.arange(ids.n_nodes))
        new = _variant_pass(ids, reps, forbid, config, cutoff, cache, full)
        if not new.height:
            if full:
                return edges
            full = True
            continue
        # Unsorted here: only the graph matters until `settle` sorts the final edge list.
        edges = pl.concat([edges, new.cast(edges.schema)])
        u, v = np.concatenate((u, new["u"].to_numpy())), np.concatenate((v, new["v"].to_numpy()))
        center, comp = star.grow(center, comp, u, v, new.height)
        full = False


def _new_pairs(ids, nodes: np.ndarray, group: np.ndarray, cache: dict, min_shared: int):
    """Pairs (u < v) of survivors `nodes` (sorted) in one answer group (`group`) that were
    not both survivors at the last pass: those with a node new since then; only those that
    share `min_shared` content bigrams, or, both neither 字谜 nor 歇后语, a character that is
    not template (no other pair can merge); and the nodes of all such pairs, sharing or not
    (the texts the IDF of a full pass is taken over)."""
    if "live" not in cache:
        cache["live"] = np.zeros(ids.n_nodes, dtype=bool)  # survivors at the last pass
    fresh = ~cache["live"][nodes]
    cache["live"][:] = False
    cache["live"][nodes] = True
    hot = np.zeros(int(group.max(initial=-1)) + 1, dtype=bool)
    hot[group[fresh]] = True  # groups with a new survivor: only their pairs can be new
    members = np.flatnonzero(hot[group])  # each has a pair with a new survivor (k >= 2)
    if min_shared < 1:
        pi, pj = _group_pairs(members, group)
        keep = fresh[pi] | fresh[pj]
        pi, pj = pi[keep], pj[keep]
    else:
        pi, pj = _sharing_pairs(ids, nodes, members, group, fresh, cache, min_shared, "bigrams")
        kind = ids.node_kind[nodes[members]]
        more = [(pi, pj)]
        if (plain := members[kind == PLAIN]).size:  # may merge on a specific answer
            more.append(_sharing_pairs(ids, nodes, plain, group, fresh, cache, 1, "plain"))
        if (glyphs := members[kind == GLYPH]).size:  # 字谜 on their clue characters
            more.append(
                _sharing_pairs(ids, nodes, glyphs, group, fresh, cache, glyph.MIN_SHARED, "clue")
            )
        if len(more) > 1:  # (similarity._lookup keeps the same pairs)
            pi, pj = _union(members, group, nodes.size, *more)
    return nodes[pi], nodes[pj], nodes[members]


def _union(members, group, n: int, *pairs) -> tuple[np.ndarray, np.ndarray]:
    """The distinct pairs of several lists in `_group_pairs(members, group)` order."""
    order = members[np.argsort(group[members], kind="stable")]
    rank = np.zeros(n, dtype=np.int64)
    rank[order] = np.arange(order.size)
    code = np.unique(np.concatenate([rank[a] * n + rank[b] for a, b in pairs]))
    return order[code // n], order[code % n]


# What `_sharing_pairs` counts: n-gram size and which codes.
_COUNTED = {
    "bigrams": (2, similarity.content_bigrams),  # content bigrams
    "plain": (1, similarity.plain_chars),  # characters that are not template
    "clue": (1, glyph.clue_chars),  # characters that are not particles (字谜)
}


def _sharing_pairs(ids, nodes, members, group, fresh, cache: dict, min_shared: int, what: str):
    """The pairs of `_group_pairs(members, group)` with a fresh node and `min_shared` n-grams
    of the kind `what` (`_COUNTED`) in common, in the same order. Found from the n-grams
    (who in an answer group has each one) rather than by looking up every pair: most pairs
    of a group share none."""
    n, which = _COUNTED[what]
    code, doc = minhash.ngram_codes(_texts(ids, nodes[members], cache), n)
    counted = which(code)
    code, doc = code[counted], doc[counted]  # doc: a place in members
    bigram = minhash.unique_inverse(code)[1]
    key = group[members][doc] * np.int64(bigram.max(initial=0) + 1) + bigram
    order = minhash.stable_argsort(key)  # by group, bigram, then text (doc is sorted)
    key, doc = key[order], doc[order]
    start = np.ones(doc.size, dtype=bool)  # a new (group, bigram): who has it follows
    start[1:] = key[1:] != key[:-1]
    again = np.zeros(doc.size, dtype=bool)  # a text's second copy of a bigram
    again[1:] = ~start[1:] & (doc[1:] == doc[:-1])
    run, doc = (np.cumsum(start) - 1)[~again], doc[~again]
    a, b = _group_pairs(np.arange(doc.size), run)  # doc[a] < doc[b]: sorted within a run
    a, b = doc[a], doc[b]
    new = fresh[members]
    a, b = a[new[a] | new[b]], b[new[a] | new[b]]
    # Numbered in _group_pairs' order (by group, then node), so sorting the pair codes
    # gives its order, and equal codes are the bigrams a pair shares.
    by_group = np.argsort(group[members], kind="stable")
    rank = np.empty(members.size, dtype=np.int64)
    rank[by_group] = np.arange(members.size)
    pair = np.sort(rank[a] * members.size + rank[b])
    first = np.flatnonzero(np.concatenate(([True], pair[1:] != pair[:-1])))
    shared = np.diff(np.append(first, pair.size))
    pair = pair[first[shared >= min_shared]]
    return members[by_group[pair // members.size]], members[by_group[pair % members.size]]


def _nodes_of(ids, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """The nodes of the pairs, sorted (a mark per node: no sort of millions of pairs)."""
    seen = np.zeros(ids.n_nodes, dtype=bool)
    seen[u], seen[v] = True, True
    return np.flatnonzero(seen)


def _texts(ids, nodes: np.ndarray, cache: dict) -> list[str]:
    """The content keys of the nodes' questions, each computed once (`cache["text"]`)."""
    if "text" not in cache:
        cache["text"] = np.full(ids.n_nodes, None, dtype=object)
    text = cache["text"]
    todo = nodes[text[nodes] == None]  # noqa: E711 (elementwise)
    if todo.size:
        rows = ids.row[ids.node_first[todo]]
        text[todo] = keys.content_keys(ids.questions.gather(rows)).to_list()
    return text[nodes].tolist()


def _plain(ids, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Pairs that may merge on a specific answer: neither a 字谜 nor a 歇后语."""
    return (ids.node_kind[u] == PLAIN) & (ids.node_kind[v] == PLAIN)


def _glyphs(ids, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Pairs of two 字谜 (`glyph.py`)."""
    return (ids.node_kind[u] == GLYPH) & (ids.node_kind[v] == GLYPH)


def _relax(ids, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """What may stand in for the variant_min_shared bigrams (similarity.RELAX_*)."""
    relax = np.where(_plain(ids, u, v), similarity.RELAX_PLAIN, similarity.RELAX_NONE)
    return np.where(_glyphs(ids, u, v), similarity.RELAX_GLYPH, relax)


def _full_lookup(ids, u: np.ndarray, v: np.ndarray, paired, config, cache: dict) -> None:
    """Add the pairs (u, v), and those of the passes since the last full one, to the lookup
    of every pair scored so far (`cache["pf"]`, texts numbered by `cache["slot"]`); and the
    texts of the nodes `paired` (the IDF is taken over all texts compared)."""
    if "pf" not in cache:
        cache["slot"] = np.full(ids.n_nodes, -1, dtype=np.int64)  # node -> its text
        cache["nodes"] = np.zeros(0, dtype=np.int64)  # text -> its node
        cache["pf"], cache["stale"] = None, np.zeros(0, dtype=bool)
    pending = cache.pop("pending", None)
    if pending is not None:
        u, v = np.concatenate((pending[0], u)), np.concatenate((pending[1], v))
    pf, slot = cache["pf"], cache["slot"]
    if pf is not None and not u.size:
        return
    again = (slot[u] >= 0) & (slot[v] >= 0)
    if again.any():  # looked up before (apart or together): an older score is stale
        old = cache["nodes"][pf.i] * ids.n_nodes + cache["nodes"][pf.j]
        cache["stale"] |= np.isin(old, u[again] * ids.n_nodes + v[again])
    add = _nodes_of(ids, np.concatenate((u, paired)), v)
    add = add[slot[add] < 0]
    slot[add] = cache["nodes"].size + np.arange(add.size)
    cache["nodes"] = np.concatenate((cache["nodes"], add))
    texts, relax = _texts(ids, add, cache), _relax(ids, u, v)
    pf = similarity.extend(pf, texts, slot[u], slot[v], config.variant_min_shared, relax)
    grown = np.zeros(pf.i.size - cache["stale"].size, dtype=bool)
    cache["stale"] = np.concatenate((cache["stale"], grown))
    cache["pf"] = pf


def _local_scores(ids, u: np.ndarray, v: np.ndarray, config, cache: dict):
    """Nodes, score and content overlap of the pairs (u, v) and of the earlier passes since
    the last full one, under the weights of that full pass (`cache["pending"]`)."""
    if u.size:
        add = _nodes_of(ids, u, v)
        texts, i, j = _texts(ids, add, cache), np.searchsorted(add, u), np.searchsorted(add, v)
        relax = _relax(ids, u, v)
        local = similarity.pair_features(texts, i, j, config.variant_min_shared, relax)
        score, content = similarity.scores(local, cache["weights"])
        found = (add[local.i], add[local.j], score, content, local.shared)
        if "pending" in cache:
            found = tuple(np.concatenate(x) for x in zip(cache["pending"], found, strict=True))
        cache["pending"] = found
    return cache["pending"]


def _variant_pass(ids, reps: np.ndarray, forbid: set, config, cutoff, cache: dict, full: bool):
    """Variant edges between the survivors `reps` (sorted; one pass). A full pass scores
    every pair with the IDF of the survivors; another scores only the new pairs."""
    answer = ids.node_answer[reps]  # dense ids: their ranks among those present, no sort
    present = np.zeros(int(ids.node_answer.max(initial=-1)) + 1, dtype=bool)
    present[answer] = True
    group = (np.cumsum(present) - 1)[answer]
    size = np.bincount(group)
    ok = (size >= 2)[group] & (cutoff(config, size) <= 1.0)[group]
    nu, nv, paired = _new_pairs(ids, reps[ok], group[ok], cache, config.variant_min_shared)
    if full:
        _full_lookup(ids, nu, nv, paired, config, cache)
    pf = cache.get("pf")
    if pf is None:
        return pl.DataFrame(schema=_NONE)
    nodes = cache["nodes"]
    pos = np.full(ids.n_nodes, -1, dtype=np.int64)  # node -> its place in reps, or -1
    pos[reps] = np.arange(reps.size)
    at = pos[nodes]
    live = (at >= 0) & ok[at]  # each looked-up text: still a survivor in range
    if full:  # what does not change until the next full pass: weights, scores, who may merge
        cache["weights"] = similarity.weights_of(pf, live)
        cache["score"], cache["scored"] = np.zeros(pf.i.size), np.zeros(pf.i.size, dtype=bool)
        cache["can"] = np.zeros(pf.i.size, dtype=bool)
        cache["rule"] = np.zeros(pf.i.size, dtype=np.int8)
    need = live[pf.i] & live[pf.j] & ~cache["stale"]
    # Scored when first needed under these weights: a quarter of the pairs are between
    # survivors at a full pass after the first; a few more as records are freed.
    todo = np.flatnonzero(need & ~cache["scored"])
    if todo.size:
        only = None if todo.size == pf.i.size else todo  # all: the same, in one sweep
        score, content = similarity.scores(pf, cache["weights"], only=only)
        u, v = nodes[pf.i[todo]], nodes[pf.j[todo]]
        cache["score"][todo], cache["scored"][todo] = score, True
        shared = pf.shared[todo]
        can, rule = _can_merge(ids, u, v, score, content, shared, forbid, config, cache)
        cache["can"][todo], cache["rule"][todo] = can, rule
    keep = cache["can"] & need
    u, v, score = nodes[pf.i[keep]], nodes[pf.j[keep]], cache["score"][keep]
    rule = cache["rule"][keep]
    if not full and (nu.size or "pending" in cache):
        pu, pv, ps, pc, psh = _local_scores(ids, nu, nv, config, cache)
        alive = np.zeros(reps.size + 1, dtype=bool)  # by place in reps; -1: not a survivor
        alive[:-1] = ok
        can, prule = _can_merge(ids, pu, pv, ps, pc, psh, forbid, config, cache)
        can &= alive[pos[pu]] & alive[pos[pv]]
        u, v, score, rule = (
            np.concatenate((x, y[can])) for x, y in ((u, pu), (v, pv), (score, ps), (rule, prule))
        )
    pi, pj = pos[u], pos[v]  # all survivors
    if not pi.size:
        return pl.DataFrame(schema=_NONE)
    chosen = _chosen(config, cutoff, score, rule, group[pi], size)  # k: the group size
    while True:  # merging lowers k and so the cutoff: repeat until the chosen set is stable
        center = star.star(reps.size, pi[chosen], pj[chosen])
        k = np.bincount(group[center == np.arange(reps.size)], minlength=size.size)
        now = chosen | _chosen(config, cutoff, score, rule, group[pi], k)
        if (now == chosen).all():
            break
        chosen = now
    u, v = reps[pi[chosen]], reps[pj[chosen]]
    variants = pl.DataFrame({"u": u, "v": v, "score": score[chosen]})
    variants = variants.unique(["u", "v"], keep="first", maintain_order=True)
    return variants.with_columns(kind=pl.lit("variant")).cast(_NONE)


# How a pair that `_can_merge` may merge (its `rule`): on its score; on its score while its
# answer is specific; or, two 字谜 naming the same components, on that alone (`glyph.py`).
BY_SCORE, SPECIFIC, SAME_CLUE = 0, 1, 2


def _chosen(config, cutoff, score, rule, pair_group, k) -> np.ndarray:
    """Pairs whose score reaches the cutoff for k riddles sharing their answer (k per answer
    group; the cutoff computed per group, then taken by each pair's group); those that may
    merge only on a specific answer (`_can_merge`), only while k <= specific_k; and the
    字谜 with the same clue characters, whatever their score."""
    cut, k = cutoff(config, k)[pair_group], k[pair_group]
    by_score = (score >= cut) & ((rule != SPECIFIC) | (k <= config.specific_k))
    return by_score | (rule == SAME_CLUE)


def _can_merge(ids, u, v, score, content, shared, forbid: set, config, cache: dict):
    """Pairs (u < v) whose score reaches the lowest cutoff and whose content characters
    overlap enough for their types, or two 字谜 with the same clue characters (`glyph.py`),
    and that no override keeps apart; and the rule each may merge by (`_chosen`): SPECIFIC
    for those with fewer than variant_min_shared content bigrams in common (other riddles
    with content Jaccard >= specific_content), SAME_CLUE for those 字谜."""
    strict = ~_plain(ids, u, v)
    specific = shared < config.variant_min_shared
    keep = (score >= config.variant_threshold) & (content > 0)
    keep &= ~strict | (content >= config.content_threshold)
    keep &= ~specific | (~strict & (content >= config.specific_content))
    rule = np.where(specific, SPECIFIC, BY_SCORE).astype(np.int8)
    if (two := np.flatnonzero(_glyphs(ids, u, v))).size:
        a, b = _texts(ids, u[two], cache), _texts(ids, v[two], cache)
        same = glyph.one_riddle(a, b, config.glyph_overlap)
        keep[two[same]], rule[two[same]] = True, SAME_CLUE
    if forbid:
        blocked = np.array([a * ids.n_nodes + b for a, b in forbid], dtype=np.int64)
        keep &= ~np.isin(u * ids.n_nodes + v, blocked)
    return keep, rule


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
