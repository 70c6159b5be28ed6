"""bench/bench_train.py's data: an export curate's trainer reads (no trl needed to check it)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench" / "bench_train.py"


def test_the_benchmark_export_without_a_validation_split_is_read_by_train(tmp_path):
    # It deleted the validation shard its manifest listed, so `curate train` refused the
    # folder as "incomplete or from two runs" and the benchmark failed before a step.
    outputs = pytest.importorskip("curate.training.outputs")  # needs the train extra
    spec = importlib.util.spec_from_file_location("bench_train", BENCH)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    data = bench.build_data(tmp_path / "data", rows=8, length=64)
    train, validation = outputs.read_export(data)
    assert len(train) == 8 and validation == []
