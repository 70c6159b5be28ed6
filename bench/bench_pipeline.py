"""Time `curate ingest`, `dedupe` and `export` on noisy raw riddles against the floor.

The floor is what any tool must spend on the same input: polars reads the JSONL, NFKC (standing
in for NFC and width folding) and a whitespace strip of the question and answer columns, OpenCC
t2s on one joined string per column, and a Parquet write. Every step runs in its own Python
process (wall seconds, CPU seconds and the process's peak RSS), in one run, on the input
bench/pipeline_input.py generates (deterministic; cached under bench/corpus/). With `--before`
the per-record reference path (tests/ingest_reference.py, what ingest was before the
column-wise path) is timed too. The table goes to stdout, bench/out/pipeline.md and between
the markers in bench/README.md.

    .venv/bin/python bench/bench_pipeline.py                    # 1M records
    .venv/bin/python bench/bench_pipeline.py --n 100000 --before
    .venv/bin/python bench/bench_pipeline.py --n 10000000 --steps ingest --no-readme  # memory
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
MARK = ("<!-- bench_pipeline: begin -->", "<!-- bench_pipeline: end -->")

# Each step: Python run in a fresh process with argv [raw folder, processed folder]; it prints
# one JSON object. The timed part excludes interpreter start and imports.
_HEAD = """
import json, resource, sys, time
from pathlib import Path
raw, processed = Path(sys.argv[1]), Path(sys.argv[2])
from curate.memory import one_heap
one_heap()  # as the CLI does
"""
_TAIL = """
took, cpu = time.perf_counter() - t, time.process_time() - c
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": took, "cpu": cpu, "peak_mb": peak, "notes": notes}))
"""
STEPS = {
    "floor": """
import polars as pl, opencc
conv = opencc.OpenCC("t2s")
t, c = time.perf_counter(), time.process_time()
df = pl.read_ndjson(raw / "riddles.jsonl")
out = {}
for col in ("question", "answer"):
    s = df[col].str.normalize("NFKC").str.strip_chars()
    out[col] = conv.convert("\\x01".join(s.to_list())).split("\\x01")
processed.mkdir(parents=True, exist_ok=True)
df.with_columns(pl.Series(k, v) for k, v in out.items()).write_parquet(processed / "floor.parquet")
notes = f"{df.height} rows"
""",
    "ingest": """
from curate.stages.ingest import IngestConfig, ingest
t, c = time.perf_counter(), time.process_time()
r = ingest(IngestConfig(sources=(raw,), processed=processed))
notes = f"{r.kept} kept, {r.rejected} rejected; " + ", ".join(
    f"{k} {v:.1f}" for k, v in r.timings.items())
""",
    "before": """
sys.path.insert(0, "tests")
from curate.stages.ingest import IngestConfig
from ingest_reference import reference_ingest
t, c = time.perf_counter(), time.process_time()
reference_ingest(IngestConfig(sources=(raw,), processed=processed), processed)
notes = "per-record reference (tests/ingest_reference.py)"
""",
    "dedupe": """
from curate.stages.dedupe import DedupeConfig, dedupe
t, c = time.perf_counter(), time.process_time()
r = dedupe(DedupeConfig(processed=processed))
notes = f"{r.kept} kept, {r.rejected} removed"
""",
    "export": """
from curate.stages.export import ExportConfig, export
t, c = time.perf_counter(), time.process_time()
r = export(ExportConfig(processed=processed))
notes = f"{r.kept} exported"
""",
}
LABELS = {
    "floor": "floor (polars read + NFKC + strip + OpenCC t2s joined + parquet write)",
    "before": "ingest, per-record path (before)",
    "ingest": "curate ingest",
    "dedupe": "curate dedupe",
    "export": "curate export",
}


def corpus(n: int) -> Path:
    raw = BENCH / "corpus" / f"pipeline-{n}"
    if not (raw / "broken.jsonl").exists():
        sys.path.insert(0, str(BENCH))
        from pipeline_input import write

        start = time.perf_counter()
        write(n, raw)
        print(f"generated {raw} in {time.perf_counter() - start:.0f} s", flush=True)
    return raw


def measure(step: str, raw: Path, processed: Path) -> dict:
    script = _HEAD + STEPS[step] + _TAIL
    out = subprocess.run(
        [sys.executable, "-c", script, str(raw), str(processed)],
        check=True,
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def table(n: int, rows: dict[str, dict], load: tuple[float, float]) -> str:
    floor = rows["floor"]["seconds"]
    lines = [
        f"{n:,} records, one run, {os.cpu_count()} CPUs, 1-minute load average {load[0]:.1f} "
        f"at the start and {load[1]:.1f} at the end (other work on the machine slows wall "
        "time; CPU seconds are less affected).",
        "",
        "| step | seconds | × floor | CPU s | peak MB | notes |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for step, r in rows.items():
        lines.append(
            f"| {LABELS[step]} | {r['seconds']:.1f} | {r['seconds'] / floor:.1f} | "
            f"{r['cpu']:.1f} | {r['peak_mb']:.0f} | {r['notes']} |"
        )
    pipeline = sum(rows[s]["seconds"] for s in ("ingest", "dedupe", "export") if s in rows)
    lines.append(f"\ningest + dedupe + export: {pipeline:.1f} s = {pipeline / floor:.1f} × floor")
    return "\n".join(lines) + "\n"


def write_readme(text: str) -> None:
    readme = BENCH / "README.md"
    old = readme.read_text(encoding="utf-8")
    block = f"{MARK[0]}\n{text}{MARK[1]}"
    if MARK[0] in old:
        head, rest = old.split(MARK[0], 1)
        new = head + block + rest.split(MARK[1], 1)[1]
    else:
        new = old.rstrip("\n") + "\n\n## `curate ingest → dedupe → export` at 1M\n\n" + block + "\n"
    readme.write_text(new, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--steps", nargs="+", default=["floor", "ingest", "dedupe", "export"])
    parser.add_argument("--before", action="store_true", help="also time the per-record path")
    parser.add_argument("--no-readme", action="store_true")
    args = parser.parse_args()
    raw = corpus(args.n)
    work = BENCH / "out" / f"pipeline-{args.n}"
    steps = ["floor", *(["before"] if args.before else []), *args.steps]
    rows, load = {}, [os.getloadavg()[0]]
    for step in dict.fromkeys(steps):
        processed = work / ("before" if step == "before" else "processed")
        if step in ("floor", "before", "ingest"):
            shutil.rmtree(processed, ignore_errors=True)
        rows[step] = measure(step, raw, processed)
        print(step, json.dumps(rows[step]), flush=True)
    load.append(os.getloadavg()[0])
    text = table(args.n, rows, tuple(load))
    print("\n" + text)
    (BENCH / "out").mkdir(exist_ok=True)
    (BENCH / "out" / "pipeline.md").write_text(text, encoding="utf-8")
    if not args.no_readme:
        write_readme(text)


if __name__ == "__main__":
    main()
