"""What verifying a stage on read (size + sha256 of every file its manifest lists) costs,
next to the time of the stage that pays it: `curate dedupe` on 1M records.

`stage.read_stage` verifies the input before dedupe reads it; that time is inside dedupe's
wall time below and is also measured alone (warm page cache, as right after the stage that
wrote it; best of 3). Verifying dedupe's output is what export pays; the commit hashes the
same bytes once when it writes them (inside dedupe's `write` step). Export runs after dedupe,
so its time (and its share spent verifying deduped.*) is measured too.

    .venv/bin/python bench/bench_verify.py                   # 1M records, bench/corpus/1000000
    .venv/bin/python bench/bench_verify.py --n 100000 --corpus /tmp/corpus
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent

STAGE = """
import json, sys, time
from curate.stages.dedupe import DedupeConfig, dedupe
from curate.stages.export import ExportConfig, export
run, config = {"dedupe": (dedupe, DedupeConfig), "export": (export, ExportConfig)}[sys.argv[2]]
t = time.perf_counter()
r = run(config(processed=sys.argv[1]))
print(json.dumps({"seconds": time.perf_counter() - t, "timings": r.timings}))
"""

VERIFY = """
import json, sys, time
from curate import stage
best = {}
for name in ("ingested", "deduped"):
    times = []
    for _ in range(3):
        t = time.perf_counter()
        manifest = stage.read_manifest(sys.argv[1], name)
        times.append(time.perf_counter() - t)
    best[name] = {"seconds": min(times), "bytes": sum(f["bytes"] for f in manifest["files"]),
                  "files": len(manifest["files"])}
print(json.dumps(best))
"""


def run(script: str, *args: object) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", script, *map(str, args)], check=True, capture_output=True, text=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--corpus", type=Path, help="processed dir [default: bench/corpus/N]")
    args = parser.parse_args()
    processed = args.corpus or BENCH / "corpus" / str(args.n)
    if not (processed / "ingested.manifest.json").exists():
        make = [sys.executable, str(BENCH / "make_corpus.py"), "--n", str(args.n)]
        subprocess.run([*make, "--out", str(processed)], check=True)
    load = os.getloadavg()[0]
    dedupe = run(STAGE, processed, "dedupe")
    export = run(STAGE, processed, "export")
    verify = run(VERIFY, processed)
    gb = {k: v["bytes"] / 1e9 for k, v in verify.items()}
    lines = [
        "| what | seconds | share of dedupe |",
        "|---|---:|---:|",
        f"| dedupe of {args.n:,} records (wall, verification of its input included) | "
        f"{dedupe['seconds']:.2f} | 100% |",
        f"| verify ingested.* ({verify['ingested']['files']} files, {gb['ingested']:.3f} GB) "
        f"= dedupe's input check | {verify['ingested']['seconds']:.3f} | "
        f"{verify['ingested']['seconds'] / dedupe['seconds']:.1%} |",
        f"| verify deduped.* ({verify['deduped']['files']} files, {gb['deduped']:.3f} GB) "
        f"= export's input check | {verify['deduped']['seconds']:.3f} | "
        f"{verify['deduped']['seconds'] / dedupe['seconds']:.1%} |",
        f"| export of dedupe's output (wall, verification of deduped.* included) | "
        f"{export['seconds']:.2f} | verify deduped.* = "
        f"{verify['deduped']['seconds'] / export['seconds']:.1%} of it |",
    ]
    steps = "; ".join(
        f"{name}: " + ", ".join(f"{k} {v:.2f}" for k, v in r["timings"].items())
        for name, r in (("dedupe", dedupe), ("export", export))
    )
    report = (
        "\n".join(lines) + f"\n\nsteps (s) {steps}\n{os.cpu_count()} CPUs; "
        f"1-minute load {load:.1f} at start, {os.getloadavg()[0]:.1f} at end; "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}\n"
    )
    print(report)
    (BENCH / "out").mkdir(exist_ok=True)
    (BENCH / "out" / "verify.md").write_text(report, encoding="utf-8")


if __name__ == "__main__":
    main()
