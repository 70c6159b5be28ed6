"""Trainer callbacks of a local run: what it measured (speed, memory) and its best adapter."""

from __future__ import annotations

import json
import math
import os
import resource
import shutil
import sys
import time
from pathlib import Path

import torch
from transformers import TrainerCallback

from curate.files import write_json
from curate.training.outputs import sort_target_modules

GIB = 1 << 30
BEST = "best"
BEST_RECORD = "best.json"


def peak_rss_bytes() -> int:
    """The process's peak resident memory (ru_maxrss: KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


class Meter(TrainerCallback):
    """Tokens per second over this process's optimizer steps only, and peak memory.

    Time runs from each step's start to its end, so evaluation, checkpoint saves and logging
    between steps are left out; tokens count from the first step this process ran, so the
    tokens of a run this one resumed are left out too. With CUDA the clock waits for the
    GPU (synchronize) at each step's end, or it would time the kernel launches only.
    """

    def __init__(self) -> None:
        self.seconds = 0.0
        self.first_tokens: int | None = None
        self.last_tokens = 0
        self._start = 0.0
        if torch.cuda.is_available():
            torch.cuda.reset_peak_memory_stats()

    def on_step_begin(self, args, state, control, **kwargs):
        if self.first_tokens is None:
            self.first_tokens = state.num_input_tokens_seen
        self._sync()
        self._start = time.perf_counter()

    def on_step_end(self, args, state, control, **kwargs):
        self._sync()
        self.seconds += time.perf_counter() - self._start
        self.last_tokens = state.num_input_tokens_seen

    @staticmethod
    def _sync() -> None:
        if torch.cuda.is_available():
            torch.cuda.synchronize()

    def report(self) -> dict[str, float | int | None]:
        """tokens (non-padding, all processes), seconds, tokens/s, peak GPU and host GiB."""
        tokens = self.last_tokens - (self.first_tokens or 0)
        gpu = torch.cuda.max_memory_allocated() / GIB if torch.cuda.is_available() else None
        return {
            "train_tokens": tokens,
            "train_seconds": round(self.seconds, 2),
            "tokens_per_s": round(tokens / self.seconds, 1) if self.seconds else 0.0,
            "peak_gpu_mem_gib": None if gpu is None else round(gpu, 3),
            "peak_rss_gib": round(peak_rss_bytes() / GIB, 2),
        }


class KeepBest(TrainerCallback):
    """Keep the adapter with the lowest validation loss in OUTPUT/best/ (with best.json).

    A resumed run starts from the best/ it finds. Only the main process writes; the folder is
    replaced whole (written beside it, then renamed), so it never holds a half-saved adapter.
    """

    def __init__(self, out: Path, main_process: bool) -> None:
        self.folder = Path(out) / BEST
        self.main = main_process
        self.step: int | None = None
        self.loss = math.inf
        record = self.folder / BEST_RECORD
        if record.is_file():
            saved = json.loads(record.read_text(encoding="utf-8"))
            self.step, self.loss = saved["step"], saved["validation_loss"]

    def on_evaluate(self, args, state, control, metrics=None, model=None, **kwargs):
        loss = (metrics or {}).get("eval_loss")
        if loss is None or not loss < self.loss or model is None:
            return
        self.step, self.loss = state.global_step, loss
        if self.main:
            self._save(model)

    def _save(self, model) -> None:
        tmp, old = self.folder.with_name(".best.tmp"), self.folder.with_name(".best.old")
        for stale in (tmp, old):
            shutil.rmtree(stale, ignore_errors=True)
        model.save_pretrained(tmp)
        sort_target_modules(tmp / "adapter_config.json")
        write_json(tmp / BEST_RECORD, {"step": self.step, "validation_loss": self.loss})
        if self.folder.exists():
            os.replace(self.folder, old)
        os.replace(tmp, self.folder)
        shutil.rmtree(old, ignore_errors=True)

    def report(self) -> dict[str, float | int]:
        if self.step is None:
            return {}
        return {"best_step": self.step, "best_validation_loss": round(self.loss, 6)}
