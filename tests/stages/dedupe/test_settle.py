"""The shortcuts of graph.settle's passes give the files the plain computation gives."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from dedupe_frames import frame, write_ingested, xiehouyu_frame

from curate.normalize import match_key
from curate.stages.dedupe import DedupeConfig, dedupe, graph, keys, minhash, rules, star, variants

LABELLED = Path(__file__).parents[2] / "data" / "dedupe_pairs.jsonl"
OUTPUTS = ("deduped.parquet", "deduped.rejects.jsonl", "deduped.clusters.md")


def test_components_name_each_component_by_its_lowest_node():
    rng = np.random.default_rng(3)
    graphs = [
        (int(n), rng.integers(0, n, m), rng.integers(0, n, m))
        for n, m in zip(rng.integers(1, 40, 400), rng.integers(0, 60, 400), strict=True)
    ]
    path = rng.permutation(500)  # a long chain with shuffled ids: many hooking rounds
    graphs.append((500, path[:-1], path[1:]))
    for n, u, v in graphs:
        neighbours = [[] for _ in range(n)]
        for a, b in zip(u.tolist(), v.tolist(), strict=True):
            neighbours[a].append(b)
            neighbours[b].append(a)
        name = [-1] * n
        for x in range(n):  # in order: the first node reached is the component's lowest
            if name[x] < 0:
                name[x], todo = x, [x]
                while todo:
                    for y in neighbours[todo.pop()]:
                        if name[y] < 0:
                            name[y] = x
                            todo.append(y)
        assert star.components(n, u, v).tolist() == name


def test_content_keys_of_a_question_that_is_only_a_marker_keep_its_whole_key():
    questions = ["（打一字）", "半个月亮（打一字）", "猜一猜：", "猜一猜：什么门永远关不上？"]
    got = keys.content_keys(pl.Series(questions)).to_list()
    assert got == [match_key("（打一字）"), "半个月亮", match_key("猜一猜："), "什么门永远关不上"]


def _corpus(xiehouyu_path: Path, seed: int) -> pl.DataFrame:
    """Riddles with reworded, trimmed and re-answered copies: near duplicates, variants and
    conflicts whose merges free records again, so settle takes several rounds."""
    rng = random.Random(seed)
    base = xiehouyu_frame(xiehouyu_path).sample(2500, seed=seed)
    pairs = [json.loads(line) for line in LABELLED.read_text("utf-8").splitlines()]
    rows = list(zip(base["question"], base["answer"], strict=True))
    rows += [(p[s]["question"], p[s]["answer"]) for p in pairs for s in ("a", "b")]
    extra = []
    for q, a in rng.sample(rows, 150):  # families of copies, each a few edits from the last
        for _ in range(rng.randrange(2, 30)):
            k = rng.randrange(len(q))
            edit = rng.choice(("drop", "double", "tail", "answer"))
            if edit == "drop" and len(q) > 4:
                q = q[:k] + q[k + 1 :]
            elif edit == "double":
                q = q[:k] + q[k] + q[k:]
            elif edit == "tail":
                q = q + rng.choice("呀呢吧啊")
            extra.append((q, rng.choice(rows)[1] if edit == "answer" else a))
    rng.shuffle(extra)
    return frame(rows + extra, "raw/random.json")


@pytest.mark.parametrize("seed", [1, 2])
def test_settle_with_its_shortcuts_equals_the_plain_passes(
    xiehouyu_path, tmp_path, monkeypatch, seed
):
    """The bigram index counts the content bigrams a pair shares (the lookup then keeps
    every pair uncounted); plain: every pair of an answer group counted by the lookup, the
    star graph rebuilt from the edge list at each variant_edges call, every answer group
    looked at in every pass (not only those whose survivors changed, `variants._dirty`),
    and every pair scored again at each full pass (not only those that may merge with
    some score, `rules.carried`). The same files, byte for byte."""
    new_pairs, variant_edges, carried = variants._new_pairs, variants.variant_edges, rules.carried
    kept_unscored = []

    def counted(cache, weights, n):
        rule = carried(cache, weights, n)
        kept_unscored.append(int((rule == rules.NEVER).sum()))
        return rule

    def every_pair(ids, nodes, group, cache, min_shared):
        return new_pairs(ids, nodes, group, cache, 0)  # uncounted: _lookup counts and keeps

    def rebuilt(frame, ids, edges, forbid, config, cutoff, cache):
        cache.pop("center", None)
        return variant_edges(frame, ids, edges, forbid, config, cutoff, cache)

    outputs = []
    for name in ("shortcuts", "plain"):
        processed = tmp_path / name / "processed"
        write_ingested(processed, _corpus(xiehouyu_path, seed))
        monkeypatch.setattr(rules, "carried", counted)
        if name == "plain":
            monkeypatch.setattr(variants, "_new_pairs", every_pair)
            monkeypatch.setattr(variants, "variant_edges", rebuilt)
            monkeypatch.setattr(variants, "_dirty", lambda ids, nodes, cache: None)
            monkeypatch.setattr(rules, "carried", lambda cache, w, n: np.zeros(n, np.int8))
        result = dedupe(DedupeConfig(processed=processed))
        assert result.removed["variant"] and result.removed["near_duplicate"]
        outputs.append([(processed / f).read_bytes() for f in OUTPUTS])
    assert outputs[0] == outputs[1] and max(kept_unscored) > 0


def test_variant_edges_on_a_carried_graph_equal_those_on_a_rebuilt_one(
    xiehouyu_path, tmp_path, monkeypatch
):
    """settle calls variant_edges again after a near pass appended edges: the graph carried
    from the last call, grown by those edges, gives the edges and centers of one rebuilt
    from the whole edge list, and the passes that look only at the answer groups whose
    survivors changed give those that look at every group. Appended here: random links
    between survivors, some of one answer."""
    taken = {}

    def capture(frame, ids, index, edges, forbid, config, bands, rows, cutoff, first=None):
        taken.update(frame=frame, ids=ids, edges=edges, forbid=forbid, config=config)
        taken["cutoff"] = cutoff
        return edges.sort("u", "v"), None  # no bridges put last

    monkeypatch.setattr(graph, "settle", capture)
    processed = tmp_path / "processed"
    write_ingested(processed, _corpus(xiehouyu_path, 3))
    dedupe(DedupeConfig(processed=processed))
    frame, ids, config = taken["frame"], taken["ids"], taken["config"]
    rest = (taken["forbid"], config, taken["cutoff"])
    cache: dict = {}
    edges = variants.variant_edges(frame, ids, taken["edges"], *rest, cache)
    rng = np.random.default_rng(5)
    for _ in range(3):
        alive = np.flatnonzero(cache["center"] == np.arange(ids.n_nodes))
        u, v = rng.choice(alive, 40), rng.choice(alive, 40)
        # And survivors of one answer: their group shrinks, its cutoff falls (k is lower).
        by_answer = alive[np.argsort(ids.node_answer[alive], kind="stable")]
        same = np.flatnonzero(np.diff(ids.node_answer[by_answer]) == 0)
        same = rng.choice(same, min(same.size, 400), replace=False)
        u, v = np.append(u, by_answer[same]), np.append(v, by_answer[same + 1])
        u, v = np.minimum(u, v)[u != v], np.maximum(u, v)[u != v]
        links = pl.DataFrame({"u": u, "v": v, "score": 0.9, "kind": "near_duplicate"})
        edges = pl.concat([edges, links.unique(["u", "v"]).cast(edges.schema)])
        plain = {k: val.copy() if hasattr(val, "copy") else val for k, val in cache.items()}
        plain.pop("center")
        carried = variants.variant_edges(frame, ids, edges, *rest, cache)
        with monkeypatch.context() as every_group:  # the links took survivors from groups
            every_group.setattr(variants, "_dirty", lambda ids, nodes, cache: None)
            again = variants.variant_edges(frame, ids, edges, *rest, plain)
        assert carried.sort("u", "v").equals(again.sort("u", "v"))
        assert cache["center"].tolist() == star.centers(ids.n_nodes, carried).tolist()
        edges = carried


def test_lookup_of_the_features_found_for_counting_equals_one_of_the_texts(
    xiehouyu_path, tmp_path, monkeypatch
):
    """The first variant pass counts shared bigrams on the features of its texts and hands
    them to the lookup: the lookup they give equals one of features computed from the texts."""
    from curate.stages.dedupe import lookup

    taken = {}
    monkeypatch.setattr(graph, "settle", lambda *args: taken.update(args=args) or (args[3], None))
    processed = tmp_path / "processed"
    write_ingested(processed, _corpus(xiehouyu_path, 4))
    dedupe(DedupeConfig(processed=processed))
    frame, ids, index, edges, forbid, config, bands, rows, cutoff, _ = taken["args"]
    merging = edges.filter(pl.col("kind") != "conflict")
    center = star.star(ids.n_nodes, merging["u"].to_numpy(), merging["v"].to_numpy())
    reps = np.flatnonzero(center == np.arange(ids.n_nodes))
    answer = np.unique(ids.node_answer[reps], return_inverse=True)[1]
    looked = []
    for reuse in (True, False):
        cache: dict = {}
        u, v, paired, shared = variants._new_pairs(ids, reps, answer, cache, 2)
        assert cache["feats"][0].tolist() == paired.tolist() and u.size > 100
        if not reuse:
            cache.pop("feats")
        lookup.full_lookup(ids, u, v, paired, shared, config, cache)
        assert "feats" not in cache
        pf = cache["pf"]
        looked.append([pf.i, pf.j, pf.shared, pf.entry_pair, pf.entry_at, cache["nodes"]])
        looked[-1] += [pf.feats.uniq, pf.feats.members]
    for a, b in zip(*looked, strict=True):
        assert a.tolist() == b.tolist()


def test_near_pairs_scored_once_across_passes_equal_those_scored_afresh(xiehouyu_path):
    """settle's near passes keep the Jaccard of the pairs they verified (`known`) and score
    only the new ones: the same pairs and values, bit for bit, as scoring all afresh."""
    data = json.loads(xiehouyu_path.read_text(encoding="utf-8"))
    texts = [match_key(d["riddle"]) for d in data[:1500]]
    texts += [t[:k] + t[k + 1 :] for t, k in zip(texts[:700], range(700), strict=True)]
    sh = minhash.shingles([t or "门" for t in texts], 2)
    index = graph.NearIndex(sh, minhash.signatures(sh, 64, 1))
    rng = np.random.default_rng(6)
    known: dict = {}
    for _ in range(4):  # survivors that change a little between passes
        docs = np.flatnonzero(rng.random(len(texts)) < 0.9)
        priority = rng.permutation(docs.size)
        got = graph.verified_pairs(index, docs, 16, 4, priority, known)
        want = graph.verified_pairs(index, docs, 16, 4, priority)
        assert all(a.tobytes() == b.tobytes() for a, b in zip(got, want, strict=True))
        assert got[0].size > 100
    assert known["code"].size > got[0].size and (np.diff(known["code"]) > 0).all()
