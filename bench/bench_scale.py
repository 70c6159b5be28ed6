"""Ingest + dedupe at 1M, 2M, 5M and 10M generated records on both engines: time and peak
memory, in one run.

Each (size, engine) runs in a fresh Python process that samples memory every 0.5 s: the
driver's PSS, the sum of the PSS of every process it started (Ray's GCS, raylet with the object
store, and the workers), and the object store's use of /dev/shm. PSS shares each shared page
among the processes that map it, so "all" (driver + every descendant) counts shared memory,
the object store included, once. The Ray engine starts a local Ray with `--cpus` CPUs and its
object store capped at `--store-gb` (objects beyond it spill to disk). A run that dies (the
kernel's OOM killer, a MemoryError) is reported as not finished, with the memory it reached.

Input: bench/pipeline_input.py's noisy raw riddles (xiehouyu copies, ~2% broken), cached under
`--work`. The table goes to stdout and bench/out/scale.md.

    .venv/bin/python bench/bench_scale.py --sizes 1m,2m,5m,10m
    .venv/bin/python bench/bench_scale.py --sizes 1m --engines ray --ray-address auto  # cluster
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
SHM = Path("/dev/shm")


class Sampler(threading.Thread):
    """Peak PSS of this process, of its descendants (workers apart), and /dev/shm use."""

    def __init__(self, every: float = 0.5) -> None:
        super().__init__(daemon=True)
        import psutil

        self.me, self.every, self.stop = psutil.Process(), every, threading.Event()
        self.base = shutil.disk_usage(SHM).used if SHM.is_dir() else 0
        self.peak = {"driver": 0, "workers": 0, "all": 0, "store": 0}

    def sample(self) -> None:
        driver, workers, total = _pss(self.me), 0, 0
        for p in self.me.children(recursive=True):
            try:
                pss = _pss(p)
                workers += pss if p.name().startswith("ray::") or "worker" in p.name() else 0
                total += pss
            except Exception:  # noqa: BLE001 (a process that ended between two reads)
                continue
        store = shutil.disk_usage(SHM).used - self.base if SHM.is_dir() else 0
        for key, value in (("driver", driver), ("workers", workers), ("store", store)):
            self.peak[key] = max(self.peak[key], value)
        self.peak["all"] = max(self.peak["all"], driver + total)

    def run(self) -> None:
        while not self.stop.wait(self.every):
            self.sample()


def _pss(p) -> int:
    return p.memory_full_info().pss


def child(args: argparse.Namespace) -> None:
    """One (size, engine) run: ingest then dedupe; prints one JSON line."""
    sys.path.insert(0, str(REPO))
    from curate.engines import EngineConfig
    from curate.memory import one_heap
    from curate.stages.dedupe import DedupeConfig, dedupe
    from curate.stages.ingest import IngestConfig, ingest

    one_heap()
    sampler = Sampler()
    sampler.start()
    engine, seconds = EngineConfig(args.engine, args.ray_address), {}
    session = _ray(args) if args.engine == "ray" and args.one_ray else None
    if args.engine == "ray" and not args.one_ray:  # each stage starts and stops its own
        import curate.engines.ray

        curate.engines.ray.LOCAL_INIT.update(_local_init(args))
    try:
        start = time.perf_counter()
        ingested = ingest(IngestConfig((args.raw,), args.processed), engine=engine)
        seconds["ingest"] = time.perf_counter() - start
        deduped = None
        if "dedupe" in args.stages:
            start = time.perf_counter()
            deduped = dedupe(DedupeConfig(args.processed), engine=engine)
            seconds["dedupe"] = time.perf_counter() - start
    finally:
        sampler.sample()
        sampler.stop.set()
        if session:
            session.shutdown()
    print(
        json.dumps(
            {
                "seconds": seconds,
                "peak": sampler.peak,
                "ingest": ingested.counts,
                "dedupe": deduped.counts if deduped else None,
                "timings": {"ingest": ingested.timings, "dedupe": deduped and deduped.timings},
            }
        )
    )


def _ray(args: argparse.Namespace):
    """A local Ray with a capped object store (or the cluster at --ray-address)."""
    import ray

    if args.ray_address:
        ray.init(address=args.ray_address)
    else:
        ray.init(**_local_init(args))
    return ray


def _local_init(args: argparse.Namespace) -> dict:
    spill = Path(args.processed).resolve().parent / "spill"
    return {
        "num_cpus": args.cpus,
        "object_store_memory": int(args.store_gb * (1 << 30)),
        "include_dashboard": False,
        "logging_level": "ERROR",
        "_system_config": {
            "object_spilling_config": json.dumps(
                {"type": "filesystem", "params": {"directory_path": str(spill)}}
            )
        },
    }


def inputs(n: int, work: Path) -> Path:
    raw = work / f"raw-{n}"
    if not (raw / "riddles.jsonl").is_file():
        sys.path.insert(0, str(BENCH))
        import pipeline_input

        pipeline_input.write(n, raw)
    return raw


def measure(n: int, engine: str, args: argparse.Namespace) -> dict:
    raw = inputs(n, args.work)
    processed = args.work / f"processed-{n}-{engine}"
    shutil.rmtree(processed, ignore_errors=True)
    cmd = [sys.executable, __file__, "--child", "--engine", engine]
    cmd += ["--raw", str(raw), "--processed", str(processed), "--cpus", str(args.cpus)]
    cmd += ["--store-gb", str(args.store_gb), "--stages", args.stages]
    cmd += ["--ray-address", args.ray_address] if args.ray_address else []
    cmd += ["--one-ray"] if args.one_ray else []
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout)
    row = {"n": n, "engine": engine, "wall": time.perf_counter() - start}
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("{")]
    if done.returncode or not lines:
        tail = (done.stderr or "").strip().splitlines()[-3:]
        return {**row, "failed": f"exit {done.returncode}: {' | '.join(tail)}"}
    shutil.rmtree(processed, ignore_errors=True)
    return {**row, **json.loads(lines[-1])}


def table(rows: list[dict], args: argparse.Namespace) -> str:
    gb = 1 << 30
    out = [
        f"ingest + dedupe, {os.cpu_count()} cores; Ray: local, "
        f"{'one for both stages' if args.one_ray else 'one per stage'}, "
        f"{args.cpus} CPUs, object store "
        f"capped at {args.store_gb:g} GB (spilling to disk); memory = peak PSS (shared pages "
        "counted once)",
        "",
        "| records | engine | ingest s | dedupe s | total s | driver GB | workers GB | "
        "store GB | all GB | kept |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        if "failed" in r:
            out.append(f"| {r['n']:,} | {r['engine']} | did not finish: {r['failed']} |||||||")
            continue
        s, p = r["seconds"], r["peak"]
        dedupe = f"{s['dedupe']:.0f}" if "dedupe" in s else "not run"
        kept = (r["dedupe"] or r["ingest"])["kept"]
        out.append(
            f"| {r['n']:,} | {r['engine']} | {s['ingest']:.0f} | {dedupe} | "
            f"{sum(s.values()):.0f} | {p['driver'] / gb:.2f} | {p['workers'] / gb:.2f} "
            f"| {p['store'] / gb:.2f} | {p['all'] / gb:.2f} | {kept:,} |"
        )
    return "\n".join(out) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1m,2m,5m,10m")
    parser.add_argument("--engines", default="local,ray")
    parser.add_argument("--work", type=Path, default=BENCH / "corpus" / "scale")
    parser.add_argument("--cpus", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--store-gb", type=float, default=2.0)
    parser.add_argument("--ray-address", default=None, help="join this cluster (auto, host:port)")
    parser.add_argument("--timeout", type=float, default=4 * 3600)
    parser.add_argument("--stages", default="ingest,dedupe", help="ingest alone: its memory")
    parser.add_argument(
        "--one-ray",
        action="store_true",
        help="one local Ray held up for both stages (default: each stage starts and stops its "
        "own, as every curate command, `curate run` included, does)",
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--engine", help=argparse.SUPPRESS)
    parser.add_argument("--raw", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--processed", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args)
    args.work.mkdir(parents=True, exist_ok=True)
    sizes = [int(float(s[:-1]) * 1e6) if s.endswith("m") else int(s) for s in args.sizes.split(",")]
    rows = []
    for n in sizes:
        for engine in args.engines.split(","):
            rows.append(measure(n, engine, args))
            print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    text = table(rows, args)
    (BENCH / "out").mkdir(exist_ok=True)
    (BENCH / "out" / "scale.md").write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
