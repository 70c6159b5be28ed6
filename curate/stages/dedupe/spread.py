"""The near-duplicate step spread over an engine's workers (`--engine ray`), computing what
`graph.near_index` and `graph.near_edges` compute on one machine, with the same functions:

1. signatures: MinHash of the question keys in `map_batches`, a batch of documents per task;
2. band buckets: each task emits (band, key, document, priority) rows with a partition
   number; a shuffle (`groupby` on the partition, a hash of band and key) brings every
   bucket to one task, which forms its candidate pairs as `minhash.bucket_pairs` does and
   returns each pair once, as one code;
3. verification: the true Jaccard of each candidate pair in `map_batches`; each task builds
   the shingle sets of its own documents from the question keys in the object store.
The clustering then runs on the driver over the verified edge list (`graph`, `star`).

Where the driver holds data while the tasks run (per record unless said):
- the ranked frame (question and answer keys, kind, input row) and the node ids (`graph.Ids`),
  and the display question and answer; not the ids, sources, lines, raw texts, categories,
  hashes or meta: dedupe reads those back after this step, and the write step reads the
  ingested file a batch at a time (`dedupe._kept`, `dedupe._rejects`);
- the signatures (num_perm x 4 B per distinct question key: 256 B at 64 permutations), kept
  because the settling passes search the survivors again on the driver; their one table copy
  for the band tasks is in the object store only;
- the candidate pairs as 8-byte codes, merged as partitions finish, then the edge list.
After the session the driver builds the shingle sets (~32 B per n-gram) for the settling
passes, and the variant passes run there: under either engine that, not this step, is the
driver's peak. Measured (bench/bench_scale.py, bench/README.md, 10M records, object store
capped at 2 GiB, load 3-9 on 2 cores): with Ray started and stopped by dedupe itself, as
`curate dedupe --engine ray` does, the peak of all processes fell from 11.4 to 7.1 GiB
(driver 8.2 -> 5.8; 7.36 GiB, driver 6.1, with the final variant rule); with one Ray held up
through the variant passes, its idle workers and the store's pages stay resident beside them:
9.05 GiB, so `curate run` too opens Ray per stage; the local engine's 7.5 fell to 5.4 GiB.
The driver holds ~0.6 GB per million records, ~60 GB at 100M: past what one machine holds,
the ranked keys and node ids of every record must leave the driver too (the variant passes
would run in tasks).
"""

from __future__ import annotations

import functools

import numpy as np
import pyarrow as pa

from curate.stages.dedupe import graph, minhash

DOCS_PER_TASK = 1 << 17  # documents per signature / bucket task
PAIRS_PER_TASK = 1 << 20  # candidate pairs per verification task
ROWS_PER_PARTITION = 1 << 21  # (band, key) rows per bucket partition


def near(frame, ids: graph.Ids, config, bands: int, rows: int, engine):
    """(signatures, near edges) as `graph.near_index` + `graph.near_edges` give them; the
    index's shingles come from `index`, once the workers are gone."""
    texts = frame["qkey"].gather(ids.doc_first)
    sig = signatures(texts, config, engine)
    shared = engine.share(texts.to_arrow())  # the verification tasks' shingles come from it

    def verify(index, docs, bands_, rows_, priority):
        return verified_pairs(index, docs, bands_, rows_, priority, engine, shared, config)

    edges = graph.near_edges(
        frame, ids, graph.NearIndex(None, sig), config, bands, rows, verify=verify
    )
    return sig, edges


def index(frame, ids: graph.Ids, sig: np.ndarray, config) -> graph.NearIndex:
    """`graph.near_index` from the signatures `near` computed: the shingles of every document,
    built on the driver for the settling passes, which search the survivors again there."""
    texts = frame["qkey"].gather(ids.doc_first).to_list()
    return graph.NearIndex(minhash.shingles(texts, config.ngram), sig)


def signatures(texts, config, engine) -> np.ndarray:
    """MinHash signatures of every document, computed a batch of documents per task."""
    ngram, num_perm, seed = config.ngram, config.num_perm, config.seed

    def sign(batch: dict) -> dict:
        sh = minhash.shingles([str(t) for t in batch["text"]], ngram)
        return {"doc": batch["doc"], "sig": minhash.signatures(sh, num_perm, seed)}

    sig = np.empty((texts.len(), num_perm), dtype=np.uint32)
    if not texts.len():
        return sig
    table = pa.table({"doc": np.arange(texts.len()), "text": texts.to_arrow()})
    for out in engine.map_table(table, sign, DOCS_PER_TASK):
        sig[out["doc"]] = out["sig"]
    return sig


def verified_pairs(index, docs, bands, rows, priority, engine, shared, config):
    """`graph.verified_pairs`: candidates by a shuffle on band buckets, Jaccard in tasks."""
    rank = np.empty(docs.size, dtype=np.int32)
    rank[priority] = np.arange(docs.size, dtype=np.int32)
    live = index.sig[docs, 0] != np.uint32(0xFFFFFFFF)  # a document without shingles: no part
    n_rows = int(live.sum()) * bands
    parts = max(1, -(-n_rows // ROWS_PER_PARTITION))
    live_docs, live_rank = docs[live].astype(np.int32), rank[live]
    del rank, live
    if not live_docs.size:  # no rows to shuffle (Ray Data's empty shuffle has no columns)
        none = np.zeros(0, dtype=np.int64)
        return none, none, np.zeros(0)

    def band_rows(batch: dict) -> dict:
        sig = batch["sig"]
        sig = np.stack(sig) if sig.dtype == object else sig  # a list column, or a tensor
        keys = minhash.band_keys(sig.astype(np.uint32, copy=False), bands, rows)
        n = keys.shape[0]
        return {
            "part": (keys.reshape(-1) % np.uint64(parts)).astype(np.int32),
            "band": np.tile(np.arange(bands, dtype=np.int16), n),
            "key": keys.reshape(-1),
            "doc": np.repeat(batch["doc"], bands),
            "prio": np.repeat(batch["prio"], bands),
        }

    n = np.int64(max(int(docs.max(initial=0)) + 1, 1))
    code = _merged(
        out["code"]
        for out in engine.map_group(
            _band_table(index.sig, live_docs, live_rank),  # the engine's only reference
            DOCS_PER_TASK,
            band_rows,
            ["part"],
            functools.partial(bucket_pairs, n=n),
            parts,
        )
    )
    i, j = code // n, code % n
    return i, j, jaccard(i, j, engine, shared, config.ngram)


def _band_table(sig: np.ndarray, docs: np.ndarray, rank: np.ndarray) -> pa.Table:
    """Documents (int32: < 2^31), their priority and signature: one copy of the signatures,
    the table's own buffer, handed to the engine (which can put it in its object store and
    drop it). The (band, key) rows the tasks shuffle then take 22 bytes each, not 40."""
    flat = np.take(sig, docs, axis=0).reshape(-1)
    return pa.table(
        {"doc": docs, "prio": rank, "sig": pa.FixedSizeListArray.from_arrays(flat, sig.shape[1])}
    )


def bucket_pairs(batch: dict, n: np.int64) -> dict:
    """Candidate pairs (i < j, document ids) of every band bucket in one partition, each
    once, as sorted codes i * n + j (8 bytes a pair back to the driver, not 16 per band)."""
    order = np.argsort(batch["prio"], kind="stable")  # priority order, as the local engine
    band, key, doc = batch["band"][order], batch["key"][order], batch["doc"][order]
    found = [np.zeros((0, 2), np.int64)]
    for b in np.unique(band):
        at = np.flatnonzero(band == b)
        pos = minhash.bucket_pairs(key[at].astype(np.uint64))
        found.append(doc[at][pos])
    pairs = np.concatenate(found).astype(np.int64)
    return {"code": minhash.sorted_unique(pairs.min(axis=1) * n + pairs.max(axis=1))}


def _merged(codes, limit: int = 1 << 24) -> np.ndarray:
    """The sorted distinct codes of every partition's sorted codes (a pair found in several
    bands comes from several partitions): merged whenever `limit` codes are pending, so the
    driver holds about twice the distinct pairs, not every band's copy of them."""
    done, pending, size = np.zeros(0, np.int64), [], 0
    for code in codes:
        pending.append(code)
        size += code.size
        if size >= limit:
            done = minhash.sorted_unique(np.concatenate([done, *pending]))
            pending, size = [], 0
    return minhash.sorted_unique(np.concatenate([done, *pending]))


def jaccard(i: np.ndarray, j: np.ndarray, engine, texts, ngram: int) -> np.ndarray:
    """`minhash.jaccard` of each pair, a chunk of pairs per task, in order. A task builds the
    shingle sets of its own documents from the shared texts (`texts`: the object store's
    Arrow array of every document's question key): the same sets, so the same Jaccard, and
    no shingles of every document held anywhere while the tasks run."""
    if not i.size:
        return np.zeros(0)

    def score(batch: dict) -> dict:
        docs, at = np.unique(np.concatenate((batch["i"], batch["j"])), return_inverse=True)
        own = engine.shared(texts).take(docs).to_pylist()
        sh = minhash.shingles(own, ngram)
        a, b = at[: batch["i"].size], at[batch["i"].size :]
        return {"k": batch["k"], "score": minhash.jaccard(sh, a, b)}

    table = pa.table({"k": np.arange(i.size), "i": i, "j": j})
    out = np.empty(i.size)
    for batch in engine.map_table(table, score, PAIRS_PER_TASK):
        out[batch["k"]] = batch["score"]
    return out
