"""Two processes on CPU (gloo) under torchrun, as a multi-GPU run is launched (README recipe)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from curate.cli import main

pytest.importorskip("peft")


@pytest.mark.slow
def test_torchrun_two_processes_train_once_and_the_main_one_reports(
    tiny_model, riddle_export, project
):
    args = ["train", "--model", str(tiny_model("qwen2")), "--epochs", "2", "--batch-size", "4"]
    launch = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2",
              "--standalone", "-m", "curate"]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run([*launch, *args, "--output", "ddp"], capture_output=True, env=env,
                          text=True, timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.count("train (local) -> ddp") == 1  # one header, from the main process
    summary = json.loads((project / "ddp" / "metrics.json").read_text())["summary"]
    assert summary["steps"] == 4  # 16 riddles / (4 a process x 2 processes) x 2 epochs
    single = CliRunner().invoke(main, [*args, "--output", "one"])
    assert single.exit_code == 0, single.output
    tokens = [
        json.loads((project / run / "metrics.json").read_text())["performance"]["train_tokens"]
        for run in ("ddp", "one")
    ]
    assert tokens[0] == tokens[1]  # counted over both processes: every riddle, every epoch
    for name in ("adapter_model.safetensors", "train_config.json", "best/best.json"):
        assert (project / "ddp" / name).is_file()
