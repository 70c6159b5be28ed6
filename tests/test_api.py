"""The public library API: one callable per stage, reachable from `curate`."""

import subprocess
import sys

import curate
from curate.stages.ingest import IngestConfig


def test_stage_functions_are_callable_from_the_package(write_raw):
    write_raw("a.jsonl", '{"question": "什么门永远关不上？", "answer": "球门"}\n')
    result = curate.ingest(curate.IngestConfig())
    assert (result.n_in, result.kept, result.rejected) == (1, 1, 0)
    assert curate.IngestConfig is IngestConfig
    assert callable(curate.export) and callable(curate.dedupe) and callable(curate.evaluate)
    assert curate.train.__name__ == "train" and curate.run.__name__ == "run"


def test_import_curate_loads_no_training_stack():
    code = (
        "import sys, curate, curate.cli; "
        "print(sorted(m for m in ('torch', 'transformers', 'peft') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
