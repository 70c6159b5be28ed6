"""Time `curate.dedupe` at 100k and 1M records next to straightforward datasketch.

Each measurement runs in its own Python process (wall time and peak RSS of that process):
- `curate`: `curate.dedupe(DedupeConfig(...))`, its step timings, and the quality on
  the synthetic corpus (records left per copied riddle);
- `datasketch`: the straightforward way: match key and bigrams per record in Python, one
  `MinHash` per record, `MinHashLSH.insert`, then `query` for every record (same num_perm and
  threshold; no verification, no clusters, no files). At 1M this takes minutes, so by default
  it runs at 100k only and the 1M figure is extrapolated linearly (say `--baseline 1000000`).

    .venv/bin/python bench/bench_dedupe.py                      # 100k and 1M, baseline 100k
    .venv/bin/python bench/bench_dedupe.py --sizes 100000 --baseline 100000
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent

CURATE = """
import json, resource, sys, time
start = time.perf_counter()
from curate.stages.dedupe import DedupeConfig, dedupe
import polars as pl
t = time.perf_counter()
r = dedupe(DedupeConfig(processed=sys.argv[1]))
took = time.perf_counter() - t
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
# Ground truth: meta holds the riddle each record copies.
kept = pl.read_parquet(sys.argv[1] + "/deduped.parquet", columns=["meta"])["meta"]
copied = pl.read_parquet(sys.argv[1] + "/ingested.parquet", columns=["meta"])["meta"]
per = kept.value_counts()
print(json.dumps({"seconds": took, "with_imports": time.perf_counter() - start,
                  "timings": r.timings, "kept": r.kept, "removed": r.removed,
                  "conflicts": r.conflicts, "riddles_copied": copied.n_unique(),
                  "riddles_kept_twice_or_more": int((per["count"] > 1).sum()),
                  "extra_copies_kept": int(kept.len() - kept.n_unique()),
                  "riddles_merged_into_another": copied.n_unique() - kept.n_unique(),
                  "peak_mb": peak}))
"""

BASELINE = """
import json, resource, sys, time
import polars as pl
from datasketch import MinHash, MinHashLSH
from curate.normalize import match_key
t = time.perf_counter()
questions = pl.read_parquet(sys.argv[1] + "/ingested.parquet", columns=["question"])["question"]
lsh = MinHashLSH(threshold=0.45, num_perm=64)
hashes = []
for n, q in enumerate(questions.to_list()):
    key = match_key(q)
    grams = {key[i:i + 2] for i in range(len(key) - 1)} or {key}
    m = MinHash(num_perm=64)
    m.update_batch([g.encode("utf-8") for g in grams])
    lsh.insert(n, m)
    hashes.append(m)
pairs = sum(len(lsh.query(m)) - 1 for m in hashes)
print(json.dumps({"seconds": time.perf_counter() - t, "candidate_pairs": pairs,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def corpus(size: int) -> Path:
    processed = BENCH / "corpus" / str(size)
    if not (processed / "ingested.manifest.json").exists():
        subprocess.run(
            [
                sys.executable,
                str(BENCH / "make_corpus.py"),
                "--n",
                str(size),
                "--out",
                str(processed),
            ],
            check=True,
        )
    return processed


def measure(script: str, processed: Path) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", script, str(processed)],
        check=True,
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def table(rows: list[dict]) -> str:
    lines = [
        "| records | implementation | seconds | peak MB | kept | notes |",
        "|---:|---|---:|---:|---:|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['records']:,} | {r['impl']} | {r['seconds']:.1f} | "
            f"{r['peak_mb']:.0f} | {r.get('kept', '')} | {r.get('notes', '')} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--baseline", type=int, nargs="*", default=[100_000])
    args = parser.parse_args()
    rows, load = [], [os.getloadavg()[0]]
    for size in args.sizes:
        r = measure(CURATE, corpus(size))
        steps = ", ".join(f"{k} {v:.1f}" for k, v in r["timings"].items())
        rows.append(
            {
                "records": size,
                "impl": "curate dedupe",
                **r,
                "notes": f"steps: {steps}; removed {r['removed']}; of {r['riddles_copied']} "
                f"riddles copied, {r['riddles_kept_twice_or_more']} kept more than once "
                f"({r['extra_copies_kept']} extra copies), "
                f"{r['riddles_merged_into_another']} merged into another",
            }
        )
        print(table(rows[-1:]).splitlines()[-1], flush=True)
    for size in args.baseline:
        r = measure(BASELINE, corpus(size))
        rows.append(
            {
                "records": size,
                "impl": "datasketch straightforward",
                **r,
                "notes": f"{r['candidate_pairs']} candidate pairs, unverified",
            }
        )
        print(table(rows[-1:]).splitlines()[-1], flush=True)
        for big in args.sizes:
            if big > size and big not in args.baseline:
                rows.append(
                    {
                        "records": big,
                        "impl": "datasketch (extrapolated)",
                        "seconds": r["seconds"] * big / size,
                        "peak_mb": r["peak_mb"] * big / size,
                        "notes": f"linear from {size:,}; not run",
                    }
                )
    load.append(os.getloadavg()[0])
    report = (
        table(rows) + f"\n\n{os.cpu_count()} CPUs; 1-minute load average "
        f"{load[0]:.1f} at start, {load[1]:.1f} at end (other work on the machine slows "
        "every figure).\n"
    )
    print("\n" + report)
    (BENCH / "out").mkdir(exist_ok=True)
    (BENCH / "out" / "results.md").write_text(report, encoding="utf-8")
    (BENCH / "out" / "results.json").write_text(json.dumps(rows, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
