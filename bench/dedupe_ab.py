"""Time two versions of `curate dedupe` back to back on one corpus: before and after a change.

Runs alternate (before, after, before, after, ...) so that load on the machine hits both alike;
each run is its own Python process (bench_dedupe.py's CURATE script: wall time of `dedupe()` and
peak RSS), and the medians are compared.

    git archive <old-commit> curate | tar -x -C /tmp/before
    .venv/bin/python bench/dedupe_ab.py --before /tmp/before --corpus bench/corpus/1000000
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from bench_dedupe import CURATE  # noqa: E402


def once(code_dir: Path, corpus: Path) -> dict:
    env = os.environ | {"PYTHONPATH": str(code_dir)}
    out = subprocess.run(
        [sys.executable, "-c", CURATE, str(corpus)],
        capture_output=True,
        text=True,
        cwd=code_dir,
        env=env,
    )
    if out.returncode:
        sys.exit(f"{code_dir}: dedupe failed (exit {out.returncode}):\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=True, help="folder holding the old curate/")
    parser.add_argument("--after", type=Path, default=BENCH.parent)
    parser.add_argument("--corpus", type=Path, required=True, help="processed dir with ingested.*")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    runs: dict[str, list[dict]] = {"before": [], "after": []}
    for k in range(args.runs):
        for name in ("before", "after"):
            r = once(getattr(args, name), args.corpus)
            runs[name].append(r)
            print(
                f"run {k + 1} {name}: {r['seconds']:.2f} s, {r['peak_mb']:.0f} MB, kept {r['kept']}"
            )
    med = {
        n: (
            statistics.median(r["seconds"] for r in rs),
            statistics.median(r["peak_mb"] for r in rs),
        )
        for n, rs in runs.items()
    }
    (tb, mb), (ta, ma) = med["before"], med["after"]
    print(
        f"median before {tb:.2f} s {mb:.0f} MB; after {ta:.2f} s {ma:.0f} MB; "
        f"time {ta / tb - 1:+.1%}, memory {ma / mb - 1:+.1%}; load {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
