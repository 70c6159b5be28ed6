"""Both engines on the same input in one process (the same code loaded once): ingest and
dedupe with `--engine local`, then with `--engine ray` on a local Ray, and every stage file
compared byte for byte (manifests without their `engine` field); times printed.

    .venv/bin/python bench/scale_identity.py --raw bench/corpus/scale/raw-1000000
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def snapshot(processed: Path, stage: str) -> dict[str, bytes]:
    out = {}
    for path in sorted(processed.glob(f"{stage}.*")):
        data = path.read_bytes()
        if path.name.endswith("manifest.json"):
            manifest = json.loads(data)
            manifest.pop("engine")
            data = json.dumps(manifest, sort_keys=True).encode()
        out[path.name] = data
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--raw", type=Path, required=True)
    parser.add_argument("--processed", type=Path, default=Path("/tmp/curate-scale-identity"))
    parser.add_argument("--store-gb", type=float, default=2.0)
    args = parser.parse_args()
    import ray

    from curate.engines import EngineConfig
    from curate.stages.dedupe import DedupeConfig, dedupe
    from curate.stages.ingest import IngestConfig, ingest

    shutil.rmtree(args.processed, ignore_errors=True)
    store = int(args.store_gb * (1 << 30))
    ray.init(num_cpus=2, include_dashboard=False, object_store_memory=store, logging_level="ERROR")
    files = {}
    try:
        for name in ("local", "ray"):
            engine, start = EngineConfig(name), time.perf_counter()
            ingest(IngestConfig((args.raw,), args.processed), engine=engine)
            middle = time.perf_counter()
            kept = dedupe(DedupeConfig(args.processed), engine=engine).kept
            end = time.perf_counter()
            files[name] = {
                **snapshot(args.processed, "ingested"),
                **snapshot(args.processed, "deduped"),
            }
            print(
                f"{name}: ingest {middle - start:.0f} s, dedupe {end - middle:.0f} s, kept {kept:,}"
            )
    finally:
        ray.shutdown()
        shutil.rmtree(args.processed, ignore_errors=True)
    same = {k: files["local"][k] == files["ray"].get(k) for k in files["local"]}
    print(
        "identical"
        if all(same.values()) and files["local"].keys() == files["ray"].keys()
        else f"DIFFERENT: {same}"
    )


if __name__ == "__main__":
    main()
