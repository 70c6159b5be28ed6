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
  two 歇后语 need one content bigram in common, not `variant_min_shared`: a short saying
  reworded keeps one (秤砣掉井里 / 秤砣落井, 韩信点兵 / 韩信将兵);
- other riddles (brain teasers, 谜语) share `variant_min_shared` content bigrams, or, when
  their answer is specific (given by at most `specific_k` survivors: a shared answer is
  strong evidence only when it is specific to one riddle), content Jaccard >=
  `specific_content` instead: rewordings that keep the clue's characters but not their
  order (什么鸟不会飞？ / 哪种鸟飞不起来？, 鸵鸟: 鸟, 飞 shared, no bigram).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from curate.stages.dedupe import glyph, lookup, minhash, pairs, rules, similarity, star
from curate.stages.dedupe.rank import GLYPH, PLAIN, SHARED

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
    the last full pass (`cache` carries the lookup, the scores and the weights, and the
    graph: `cache["center"]`, each node's star center at the end)."""
    cache = {} if cache is None else cache
    cache["qkey"] = frame["qkey"]  # the match keys, by ranked row: content keys from them
    last = cache.get("last")  # bridges, visited last (`bridges.py`)
    if "center" in cache:  # the last call's graph, and the edges appended to it since
        tail = edges.slice(cache["rows"]).filter(pl.col("kind") != "conflict")
        u, v = (np.concatenate((cache[x], tail[x].to_numpy())) for x in ("u", "v"))
        center, comp = star.grow(cache["center"], cache["comp"], u, v, tail.height, last)
    else:
        merging = edges.filter(pl.col("kind") != "conflict")
        u, v = merging["u"].to_numpy(), merging["v"].to_numpy()
        center, comp = star.star(ids.n_nodes, u, v, last), star.components(ids.n_nodes, u, v)
    full = "score" not in cache
    while True:
        reps = np.flatnonzero(center == np.arange(ids.n_nodes))
        new = _variant_pass(ids, reps, forbid, config, cutoff, cache, full)
        if not new.height:
            if full:
                cache.update(center=center, comp=comp, u=u, v=v, rows=edges.height)
                return edges
            full = True
            continue
        # Unsorted here: only the graph matters until `settle` sorts the final edge list.
        edges = pl.concat([edges, new.cast(edges.schema)])
        u, v = np.concatenate((u, new["u"].to_numpy())), np.concatenate((v, new["v"].to_numpy()))
        center, comp = star.grow(center, comp, u, v, new.height, last)
        full = False


def _new_pairs(ids, nodes: np.ndarray, group: np.ndarray, cache: dict, min_shared: int):
    """Pairs (u < v) of survivors `nodes` (sorted) in one answer group (`group`) that were
    not both survivors at the last pass: those with a node new since then; only those that
    share `min_shared` content bigrams, or, both neither 字谜 nor 歇后语, a character that is
    not template (no other pair can merge); the nodes of all such pairs, sharing or not
    (the texts the IDF of a full pass is taken over); and the content bigrams each pair
    shares (None at min_shared 0: every pair is kept, `similarity._lookup` counts)."""
    if "live" not in cache:
        cache["live"] = np.zeros(ids.n_nodes, dtype=bool)  # survivors at the last pass
    fresh = ~cache["live"][nodes]
    cache["live"][:] = False
    cache["live"][nodes] = True
    hot = np.zeros(int(group.max(initial=-1)) + 1, dtype=bool)
    hot[group[fresh]] = True  # groups with a new survivor: only their pairs can be new
    members = np.flatnonzero(hot[group])  # each has a pair with a new survivor (k >= 2)
    if min_shared < 1:
        pi, pj = pairs.group_pairs(members, group)
        keep = fresh[pi] | fresh[pj]
        return nodes[pi[keep]], nodes[pj[keep]], nodes[members], None
    # Pairs numbered in group_pairs' order (by group, then node): rank[a] * m + rank[b].
    by_group = np.argsort(group[members], kind="stable")
    rank = np.empty(members.size, dtype=np.int64)
    rank[by_group] = np.arange(members.size)
    feats = similarity.features(lookup.texts(ids, nodes[members], cache))
    cache["feats"] = (nodes[members], feats)  # what a full pass looks up (`full_lookup`)
    look = (members, group, fresh, rank, feats)
    code, count = _sharing_pairs(*look, np.arange(members.size), "bigrams")
    pair = code[count >= min_shared]
    kind = ids.node_kind[nodes[members]]
    if (kind == SHARED).any():  # two sayings: one content bigram may do (`rules.can_merge`)
        a, b = by_group[code // members.size], by_group[code % members.size]
        pair = _merged(pair, code[(count >= 1) & (kind[a] == SHARED) & (kind[b] == SHARED)])
    if (plain := np.flatnonzero(kind == PLAIN)).size:  # may merge on a specific answer
        pair = _merged(pair, _sharing_pairs(*look, plain, "plain")[0])
    if (glyphs := np.flatnonzero(kind == GLYPH)).size:  # 字谜 on their clue characters
        clue, many = _sharing_pairs(*look, glyphs, "clue")
        pair = _merged(pair, clue[many >= glyph.MIN_SHARED])
    at = np.minimum(np.searchsorted(code, pair), max(code.size - 1, 0))
    shared = np.where(code[at] == pair, count[at], 0) if code.size else np.zeros_like(pair)
    pi, pj = members[by_group[pair // members.size]], members[by_group[pair % members.size]]
    return nodes[pi], nodes[pj], nodes[members], shared


def _merged(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The distinct codes of two sorted lists, sorted (the stable sort, timsort, of the two
    runs is a merge)."""
    pair = np.sort(np.concatenate((a, b)), kind="stable")
    return pair[np.concatenate(([True], pair[1:] != pair[:-1]))[: pair.size]]


# What `_sharing_pairs` counts, by feature code (`similarity.features`).
_COUNTED = {
    "bigrams": similarity.content_bigrams,  # content bigrams
    "plain": similarity.plain_chars,  # characters that are not template
    "clue": glyph.clue_chars,  # characters that are not particles (字谜)
}


def _sharing_pairs(members, group, fresh, rank, feats, sub, what: str):
    """The pairs of `pairs.group_pairs(members[sub], group)` with a fresh node and a feature
    of the kind `what` (`_COUNTED`) in common, as sorted codes rank[a] * len(members) +
    rank[b] (a, b: places in members), and how many they share (`feats`: the features of
    the texts of members). Found from the features (who in an answer group has each one)
    rather than by looking up every pair: most pairs of a group share none."""
    inside = np.zeros(members.size, dtype=bool)
    inside[sub] = True
    counted = inside[feats.doc] & _COUNTED[what](feats.uniq)[feats.sid]
    code, doc = feats.sid[counted], feats.doc[counted]  # the feature's id; a place in members
    new = fresh[members]
    if not new[doc].all():  # only the n-grams of a fresh text can make a pair with one
        ours = minhash.sorted_unique(code[new[doc]])
        at = np.minimum(np.searchsorted(ours, code), max(ours.size - 1, 0))
        keep = ours[at] == code if ours.size else np.zeros(code.size, dtype=bool)
        code, doc = code[keep], doc[keep]
    key = group[members][doc] * np.int64(feats.uniq.size) + code
    order = minhash.stable_argsort(key)  # by group, bigram, then text (doc is sorted)
    key, doc = key[order], doc[order]
    start = np.ones(doc.size, dtype=bool)  # a new (group, bigram): who has it follows
    start[1:] = key[1:] != key[:-1]
    again = np.zeros(doc.size, dtype=bool)  # a text's second copy of a bigram
    again[1:] = ~start[1:] & (doc[1:] == doc[:-1])
    run, doc = (np.cumsum(start) - 1)[~again], doc[~again]
    hot = np.bincount(run, weights=new[doc]) > 0  # runs with a fresh text
    run, doc = run[hot[run]], doc[hot[run]]
    # The pairs of positions in a run, as `pairs.run_pairs` gives them (doc[a] < doc[b]),
    # with the left side's values repeated, not gathered through doc (millions of pairs).
    later, b = pairs.partners(run)
    is_new, place = new[doc], rank[doc]
    a = np.repeat(place, later) * members.size + place[b]
    if not is_new.all():
        a = a[np.repeat(is_new, later) | is_new[b]]
    # Equal codes are the features a pair shares. A stable sort (timsort) merges the ascending
    # runs the pairs of each (group, feature) come in: 3-4x faster than quicksort here.
    pair = np.sort(a, kind="stable")
    first = np.flatnonzero(np.concatenate(([True], pair[1:] != pair[:-1]))[: pair.size])
    return pair[first], np.diff(np.append(first, pair.size))


def _variant_pass(ids, reps: np.ndarray, forbid: set, config, cutoff, cache: dict, full: bool):
    """Variant edges between the survivors `reps` (sorted; one pass). A full pass scores
    every pair with the IDF of the survivors; another scores only the new pairs."""
    answer = ids.node_answer[reps]  # dense ids: their ranks among those present, no sort
    present = np.zeros(int(ids.node_answer.max(initial=-1)) + 1, dtype=bool)
    present[answer] = True
    group = (np.cumsum(present) - 1)[answer]
    size = np.bincount(group)
    ok = (size >= 2)[group] & (cutoff(config, size) <= 1.0)[group]
    dirty = None if full else _dirty(ids, reps[ok], cache)  # before _new_pairs marks them
    nu, nv, paired, nshared = _new_pairs(ids, reps[ok], group[ok], cache, config.variant_min_shared)
    if full:
        lookup.full_lookup(ids, nu, nv, paired, nshared, config, cache)
    pf = cache.get("pf")
    if pf is None:
        return pl.DataFrame(schema=_NONE)
    nodes = cache["nodes"]
    pos = np.full(ids.n_nodes, -1, dtype=np.int64)  # node -> its place in reps, or -1
    pos[reps] = np.arange(reps.size)
    at = pos[nodes]
    live = (at >= 0) & ok[at]  # each looked-up text: still a survivor in range
    if dirty is not None:  # only the groups that changed can choose a pair (`_dirty`)
        live &= dirty[ids.node_answer[nodes]]
    if full:  # what does not change until the next full pass: weights, scores, who may merge
        weights = similarity.weights_of(pf, live)
        cache["rule"] = rules.carried(cache, weights, pf.i.size)  # NEVER: not scored again
        cache["weights"], cache["scored"] = weights, cache["rule"] == rules.NEVER
        cache["score"], cache["can"] = np.zeros(pf.i.size), np.zeros(pf.i.size, dtype=bool)
    need = np.flatnonzero(live[pf.i])  # pairs between survivors, not stale (sorted)
    need = need[live[pf.j[need]] & ~cache["stale"][need]]
    # Scored when first needed under these weights: a quarter of the pairs are between
    # survivors at a full pass after the first; a few more as records are freed.
    todo = need[~cache["scored"][need]]
    if todo.size:
        only = None if todo.size == pf.i.size else todo  # all: the same, in one sweep
        score, content = similarity.scores(pf, cache["weights"], only=only)
        u, v = nodes[pf.i[todo]], nodes[pf.j[todo]]
        cache["score"][todo], cache["scored"][todo] = score, True
        shared = pf.shared[todo]
        can, rule = rules.can_merge(ids, u, v, score, content, shared, forbid, config, cache)
        cache["can"][todo], cache["rule"][todo] = can, rule
    keep = need[cache["can"][need]]
    u, v, score = nodes[pf.i[keep]], nodes[pf.j[keep]], cache["score"][keep]
    rule = cache["rule"][keep]
    if not full and (nu.size or "pending" in cache):
        pu, pv, ps, pc, psh = lookup.local_scores(ids, nu, nv, nshared, config, cache)
        alive = np.zeros(reps.size + 1, dtype=bool)  # by place in reps; -1: not a survivor
        alive[:-1] = ok
        can, prule = rules.can_merge(ids, pu, pv, ps, pc, psh, forbid, config, cache)
        can &= alive[pos[pu]] & alive[pos[pv]]
        if dirty is not None:
            can &= dirty[ids.node_answer[pu]]
        u, v, score, rule = (
            np.concatenate((x, y[can])) for x, y in ((u, pu), (v, pv), (score, ps), (rule, prule))
        )
    pi, pj = pos[u], pos[v]  # all survivors
    if not pi.size:
        return pl.DataFrame(schema=_NONE)
    chosen = rules.chosen(config, cutoff, score, rule, group[pi], size)  # k: the group size
    # The star over places in reps, grown by the pairs each round adds (`star.grow`).
    a, b = pi[chosen], pj[chosen]
    late = None if cache.get("last") is None else cache["last"][reps]
    center, comp = star.star(reps.size, a, b, late), star.components(reps.size, a, b)
    while True:  # merging lowers k and so the cutoff: repeat until the chosen set is stable
        gone = np.flatnonzero(center != np.arange(reps.size))  # merged into another
        k = size - np.bincount(group[gone], minlength=size.size)
        added = np.flatnonzero(~chosen & rules.chosen(config, cutoff, score, rule, group[pi], k))
        if not added.size:
            break
        chosen[added] = True
        a, b = np.concatenate((a, pi[added])), np.concatenate((b, pj[added]))
        center, comp = star.grow(center, comp, a, b, added.size, late)
    u, v = reps[pi[chosen]], reps[pj[chosen]]
    # A pair both in the lookup and new in this pass: once, its first copy (numpy, not a
    # polars unique of a frame per pass).
    code = u * np.int64(ids.n_nodes) + v
    order = np.argsort(code, kind="stable")
    first = np.sort(order[np.concatenate(([True], np.diff(code[order]) != 0))[: code.size]])
    variants = pl.DataFrame({"u": u[first], "v": v[first], "score": score[chosen][first]})
    return variants.with_columns(kind=pl.lit("variant")).cast(_NONE)


def _dirty(ids, nodes: np.ndarray, cache: dict) -> np.ndarray | None:
    """Which answers (by id) have other survivors in range, `nodes`, than at the last pass
    (None: no last pass). A pass between full ones decides each answer group on its own:
    its pairs (both of one answer), their scores (the weights of the last full pass), and
    its k; and a group where the last pass chose a pair has lost a survivor since. So a
    group with the same survivors chooses nothing again, and only the others are looked at
    (at a million records ~7k groups are in range; after the first passes, most passes
    find under a hundred changed)."""
    was = cache.get("live")
    if was is None:
        return None
    now = np.zeros(ids.n_nodes, dtype=bool)
    now[nodes] = True
    dirty = np.zeros(int(ids.node_answer.max(initial=-1)) + 1, dtype=bool)
    dirty[ids.node_answer[np.flatnonzero(now != was)]] = True
    return dirty
