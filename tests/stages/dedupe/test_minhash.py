"""Batch MinHash equals datasketch's, LSH finds what it should, Jaccard is exact."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest
from datasketch import MinHash, MinHashLSH

from curate.normalize import match_key
from curate.stages.dedupe import lsh_params, minhash


def grams(text: str, n: int) -> list[str]:
    return [text[i : i + n] for i in range(len(text) - n + 1)] or ([text] if text else [])


@pytest.fixture(scope="module")
def keys(xiehouyu_path) -> list[str]:
    data = json.loads(xiehouyu_path.read_text(encoding="utf-8"))
    return [match_key(d["riddle"]) for d in data[:300]] + ["门", "", "ab", "哈哈哈哈"]


@pytest.mark.parametrize("n", [1, 2, 3])
def test_signatures_equal_datasketch(keys, n):
    sig = minhash.signatures(minhash.shingles(keys, n), num_perm=64, seed=7)
    for doc, text in enumerate(keys):
        m = MinHash(num_perm=64, seed=7, hashfunc=minhash.shingle_hash)
        m.update_batch([g.encode("utf-8") for g in grams(text, n)])
        assert np.array_equal(m.hashvalues, sig[doc]), text


def test_permutations_are_datasketch_affine32():
    a, b = minhash.permutations(128, seed=3)
    reference = MinHash(num_perm=128, seed=3).permutations
    assert np.array_equal(a, reference[0]) and np.array_equal(b, reference[1])


def test_short_and_empty_texts_are_handled():
    sh = minhash.shingles(["门", "", "什么门"], n=3)
    assert sh.doc.tolist() == [0, 2]  # one shingle for the 1-char text, none for the empty one
    sig = minhash.signatures(sh, num_perm=16)
    assert (sig[1] == np.iinfo(np.uint32).max).all()
    i, j = minhash.candidate_pairs(sig, *lsh_params(0.5, 16))
    assert 1 not in i.tolist() + j.tolist()  # an empty text is never a candidate


def test_jaccard_is_exact():
    rng = random.Random(0)
    texts = [
        "".join(rng.choice("什么门永远关不上天地") for _ in range(rng.randint(1, 12)))
        for _ in range(200)
    ]
    i = np.array([rng.randrange(200) for _ in range(500)])
    j = np.array([rng.randrange(200) for _ in range(500)])
    got = minhash.jaccard(minhash.shingles(texts, 2), i, j)
    for k in range(500):
        a, b = set(grams(texts[i[k]], 2)), set(grams(texts[j[k]], 2))
        assert got[k] == pytest.approx(len(a & b) / len(a | b))


def test_candidates_find_near_duplicates_not_strangers():
    texts = ["什么东西越洗越脏", "请问什么东西越洗越脏", "什么床不能睡", "阴天戴草帽"]
    sig = minhash.signatures(minhash.shingles(texts, 2), num_perm=64)
    i, j = minhash.candidate_pairs(sig, *lsh_params(0.45, 64))
    assert (0, 1) in set(zip(i.tolist(), j.tolist(), strict=True))
    assert (2, 3) not in set(zip(i.tolist(), j.tolist(), strict=True))


def test_large_buckets_link_members_to_a_star_centre():
    texts = ["什么东西越洗越脏"] + [f"什么东西越洗越脏{c}" for c in "啊呀呢吧哦嘛哈嘿" * 4]
    sig = minhash.signatures(minhash.shingles(texts, 2), num_perm=64)
    i, j = minhash.candidate_pairs(sig, *lsh_params(0.45, 64), all_pairs_upto=4)
    assert {b for a, b in zip(i.tolist(), j.tolist(), strict=True) if a == 0} >= set(range(1, 9))


@pytest.mark.parametrize("threshold", [0.3, 0.45, 0.5, 0.7, 0.9])
@pytest.mark.parametrize("num_perm", [32, 64, 128])
def test_lsh_params_are_datasketchs(threshold, num_perm):
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    assert lsh_params(threshold, num_perm) == (lsh.b, lsh.r)


def test_variant_pair_lookup_reweighted_equals_a_fresh_score(keys):
    """The variant passes look pairs up once and re-weight them with the IDF of the texts
    still alive: that must equal scoring just those texts from scratch."""
    from curate.stages.dedupe import similarity

    rng = np.random.default_rng(3)
    i, j = rng.integers(0, len(keys), 3000), rng.integers(0, len(keys), 3000)
    pf = similarity.pair_features(keys, i, j, min_shared=1)
    live = rng.random(len(keys)) < 0.7
    alive = np.flatnonzero(live)
    both = live[pf.i] & live[pf.j]
    renumber = np.cumsum(live) - 1
    texts = [keys[k] for k in alive]
    fresh, shared = similarity.variant_evidence(texts, renumber[pf.i[both]], renumber[pf.j[both]])
    assert np.allclose(similarity.pair_scores(pf, live)[0][both], fresh, rtol=1e-12, atol=0)
    assert (shared == pf.shared[both]).all() and (pf.shared >= 1).all()


def test_variant_lookup_extended_in_batches_equals_one_lookup(keys):
    """Later passes add texts and pairs to the lookup: the same scores as looking up all at once."""
    from curate.stages.dedupe import similarity

    rng = np.random.default_rng(5)
    i, j = rng.integers(0, len(keys), 2000), rng.integers(0, len(keys), 2000)
    half = len(keys) // 2
    first = (i < half) & (j < half)
    pf = similarity.extend(None, keys[:half], i[first], j[first], min_shared=0)
    pf = similarity.extend(pf, keys[half:], i[~first], j[~first], min_shared=0)
    whole = similarity.pair_features(keys, i, j, min_shared=0)
    live = rng.random(len(keys)) < 0.8

    def scored(p):
        pairs = zip(p.i.tolist(), p.j.tolist(), strict=True)
        return dict(zip(pairs, similarity.pair_scores(p, live)[0].tolist(), strict=True))

    got, want = scored(pf), scored(whole)
    assert got.keys() == want.keys() and len(want) > 100
    assert all(abs(got[k] - want[k]) < 1e-12 for k in want)


def test_lookup_grown_in_place_equals_concatenated(keys, monkeypatch):
    """Later passes append to the lookup in room kept after its arrays (`spare.py`): each
    step holds what concatenating gives, also when an older lookup is extended again (it
    gave its room up: its arrays are not written over, the branch copies)."""
    from curate.stages.dedupe import similarity, spare

    rng = np.random.default_rng(11)
    i, j = rng.integers(0, len(keys), 3000), rng.integers(0, len(keys), 3000)
    top = np.maximum(i, j)
    steps = [(0, 100), (100, 250)] + [(k, k + 2) for k in range(250, len(keys), 2)]

    def fields(p):
        return [x.tolist() for x in (p.i, p.j, p.shared, p.entry_pair, p.entry_at)]

    def grow():
        pf, out = None, []
        for lo, hi in steps:
            pick = (top >= lo) & (top < hi)
            pf = similarity.extend(pf, keys[lo:hi], i[pick], j[pick], min_shared=0)
            out.append((pf, fields(pf)))
        return out

    kept = grow()
    old, before = kept[-3]
    tail, few = keys[steps[-2][0] :], top < 9
    branch = similarity.extend(old, tail, i[few], j[few], min_shared=0)
    assert all(fields(p) == f for p, f in kept)  # nothing written over
    with monkeypatch.context() as m:  # no room ever: every step a copy, as concatenating
        m.setattr(spare, "appended", lambda olds, news, room, f=spare.appended: f(olds, news, None))
        want = grow()
        want_branch = similarity.extend(want[-3][0], tail, i[few], j[few], min_shared=0)
    assert [f for _, f in kept] == [f for _, f in want] and len(kept[-1][1][3]) > 500
    pfs = [p for p, _ in kept]
    shared = [a.entry_pair.base is b.entry_pair.base for a, b in zip(pfs, pfs[1:], strict=False)]
    assert any(shared) and not all(shared)  # grown in place, and copied when full
    assert fields(branch) == fields(want_branch)


def test_extended_features_are_those_of_all_texts_at_once(keys):
    """Texts appended to the lookup (with features it lacks, or only ones it has: then
    nothing is renumbered) give the codes and members of computing all texts at once."""
    from curate.stages.dedupe import similarity

    half = len(keys) // 2
    for more in (keys[half:], keys[:40]):  # new features; none
        texts = keys[:half] + more
        pf = similarity.extend(None, keys[:half], [0], [1], min_shared=0)
        pf = similarity.extend(pf, more, [0], [len(texts) - 1], min_shared=0)
        whole = similarity.pair_features(texts, [0, 0], [1, len(texts) - 1], min_shared=0)
        assert pf.feats.uniq.tolist() == whole.feats.uniq.tolist()
        assert pf.feats.members.tolist() == whole.feats.members.tolist()
        assert pf.entry_at.tolist() == whole.entry_at.tolist()
        # Each text's run of members, carried through the merge: where a search finds it.
        u = np.int64(whole.feats.uniq.size)
        runs = np.searchsorted(whole.feats.members, np.arange(len(texts) + 1) * u)
        assert pf.feats.starts.tolist() == whole.feats.starts.tolist() == runs.tolist()


def test_scoring_some_pairs_gives_their_scores_bit_for_bit(keys, monkeypatch):
    """A variant pass scores only the pairs it needs (`only`): each gets exactly the value
    scoring all pairs gives it, also where a pair's entries straddle two chunks."""
    from curate.stages.dedupe import similarity

    monkeypatch.setattr(similarity, "_CHUNK", 97)
    rng = np.random.default_rng(9)
    i, j = rng.integers(0, len(keys), 3000), rng.integers(0, len(keys), 3000)
    pf = similarity.pair_features(keys, i, j, min_shared=1)
    w = similarity.weights_of(pf, rng.random(len(keys)) < 0.7)
    score, content = similarity.scores(pf, w)
    for share in (0.01, 0.3, 1.0):
        only = np.flatnonzero(rng.random(pf.i.size) < share)
        some, some_content = similarity.scores(pf, w, only=only)
        assert some.tolist() == score[only].tolist() and only.size
        assert some_content.tolist() == content[only].tolist()


def test_shared_members_of_a_few_pairs_are_those_found_among_many(keys):
    """A few pairs (a later pass) are looked up from their texts' runs alone, many from
    per-text counts of all members: each pair gets the same shared members either way,
    also in a subset of the members (`members`)."""
    sh = minhash.shingles(keys, 2)
    rng = np.random.default_rng(4)
    i, j = rng.integers(0, len(keys), 3000), rng.integers(0, len(keys), 3000)
    i[:3], j[:3] = 0, 1  # the same pair again, and texts with themselves (all shared)
    i[3:12] = j[3:12] = np.arange(3, 12)
    for members in (None, sh.members[rng.random(sh.members.size) < 0.6]):

        def found(a, b, members=members):
            out = minhash.shared_members(sh, a, b, 1 << 17, members)
            return {
                (int(lo + k), int(at))
                for lo, pair, ats in out
                for k, at in zip(pair, ats, strict=True)
            }

        many, few = found(i, j), found(i[:20], j[:20])
        assert len(few) > 20 and few == {x for x in many if x[0] < 20}


def test_shared_members_in_one_chunk_equal_those_of_many_chunks_on_threads(keys):
    """Pairs that fit one chunk are looked up without a thread pool: the same shared members
    as many small chunks looked up on threads."""
    sh = minhash.shingles(keys, 2)
    rng = np.random.default_rng(8)
    i, j = rng.integers(0, len(keys), 3000), rng.integers(0, len(keys), 3000)
    j[:300] = i[:300]  # texts with themselves: all shared

    def found(chunk):
        out = minhash.shared_members(sh, i, j, chunk)
        return [(int(lo + k), int(at)) for lo, p, ats in out for k, at in zip(p, ats, strict=True)]

    one = found(1 << 17)
    assert len(one) > 1000 and one == found(97)
    assert list(minhash.shared_members(sh, i[:0], j[:0], 1 << 17)) == []


@pytest.mark.parametrize("seed", range(4))
def test_bucket_pairs_are_every_pair_of_a_small_bucket_and_a_star_of_a_large(seed):
    """Pairs of positions with equal keys: all of a bucket of up to `limit`, else a star to
    its first position (the small buckets' pairs found among their positions only)."""
    rng = np.random.default_rng(seed)
    k = rng.integers(0, 60, int(rng.integers(2, 800))).astype(np.uint64)
    limit = int(rng.integers(1, 20))
    want = set()
    for key in set(k.tolist()):
        where = np.flatnonzero(k == key).tolist()
        if len(where) <= limit:
            want |= {(a, b) for n, a in enumerate(where) for b in where[n + 1 :]}
        else:
            want |= {(where[0], b) for b in where[1:]}
    got = minhash.bucket_pairs(k, limit)
    assert {tuple(p) for p in got.tolist()} == want and len(got) == len(want)


@pytest.mark.parametrize("dtype", [np.int64, np.uint64])
@pytest.mark.parametrize("n", [0, 1, 1000, (1 << 16) + 1, 200_000])
def test_sorted_unique_is_np_unique(dtype, n):
    """Small arrays sort in numpy, large ones in polars: both give np.unique, in its dtype."""
    values = np.random.default_rng(n).integers(0, max(n // 3, 1), size=n).astype(dtype) << 40
    got = minhash.sorted_unique(values)
    assert got.dtype == values.dtype and np.array_equal(got, np.unique(values))


def test_signatures_with_empty_texts_anywhere_equal_datasketch(keys):
    """Signature rows are written in place (empty texts all-max, the others by the folds)."""
    texts = ["", *keys[:40], "", "", *keys[40:80], ""]
    sig = minhash.signatures(minhash.shingles(texts, 2), num_perm=32, seed=5)
    for doc, text in enumerate(texts):
        m = MinHash(num_perm=32, seed=5, hashfunc=minhash.shingle_hash)
        m.update_batch([g.encode("utf-8") for g in grams(text, 2)])
        assert np.array_equal(m.hashvalues, sig[doc]), text


def _ngram_codes_per_char(texts: list[str], n: int):
    """The straightforward ngram_codes (a mask over every character): the reference."""
    chars, lengths = minhash.codepoints(texts)
    starts = (np.cumsum(lengths) - lengths).astype(np.int64)
    doc_of_char = np.repeat(np.arange(len(texts), dtype=np.int64), lengths)
    pos = np.arange(chars.size, dtype=np.int64) - np.repeat(starts, lengths)
    length = lengths[doc_of_char]
    where = np.flatnonzero((pos <= length - n) | ((pos == 0) & (length < n)))
    padded = np.concatenate((chars, np.zeros(n, dtype=np.uint32))).astype(np.uint64)
    code = np.zeros(where.size, dtype=np.uint64)
    for k in range(n):
        part = np.where(pos[where] + k < length[where], padded[where + k], 0)
        code |= part.astype(np.uint64) << np.uint64(21 * k)
    return code, doc_of_char[where]


@pytest.mark.parametrize("seed", range(20))
def test_ngram_codes_equal_per_char(seed):
    rng = random.Random(seed)
    texts = [
        "".join(rng.choice("天地人日月口十") for _ in range(rng.choice([0, 1, 2, 3, 5, 9])))
        for _ in range(rng.randint(0, 40))
    ]
    for n in range(1, minhash.MAX_N + 1):
        code, doc = minhash.ngram_codes(texts, n)
        ref_code, ref_doc = _ngram_codes_per_char(texts, n)
        assert code.dtype == ref_code.dtype and doc.dtype == ref_doc.dtype
        assert np.array_equal(code, ref_code) and np.array_equal(doc, ref_doc)


def test_band_buckets_kept_between_passes_give_the_candidate_pairs():
    """Settle's near passes keep each band's buckets sorted and only drop and add documents
    (`buckets.py`): the same pairs as sorting afresh, for sets of documents that shrink,
    grow or change, with large buckets (a star to the best in priority) and empty documents."""
    from curate.stages.dedupe import buckets

    rng = np.random.default_rng(4)
    n, bands, rows = 900, 4, 3
    sig = rng.integers(0, 3, (n, bands * rows)).astype(np.uint32)  # many equal band keys
    sig[rng.random(n) < 0.1] = minhash.EMPTY  # no shingles
    sig[::7] = sig[0]  # one riddle many times: buckets over ALL_PAIRS_UPTO
    kept: dict = {}
    docs = np.flatnonzero(rng.random(n) < 0.6)
    for step in range(6):
        priority = rng.permutation(docs.size)
        a, b = minhash.candidate_pairs(np.take(sig, docs, axis=0), bands, rows, priority=priority)
        i, j = buckets.candidate_pairs(sig, docs, bands, rows, priority, kept)
        assert i.tolist() == docs[a].tolist() and j.tolist() == docs[b].tolist()
        assert a.size > 1000
        flip = rng.random(n) < (0.3 if step == 2 else 0.02)  # a big change once
        member = np.zeros(n, dtype=bool)
        member[docs] = True
        docs = np.flatnonzero(member ^ flip)
