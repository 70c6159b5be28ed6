"""What `curate eval` compares and how: its config, the configuration names, the default prompt."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from curate.endpoint import SILICONFLOW_KEY_ENV
from curate.training.base import DEFAULT_DATA

# `--system-prompt default`: a plain "riddle expert" prompt that asks for the answer only.
DEFAULT_SYSTEM_PROMPT = (
    "你是一位猜谜高手，精通脑筋急转弯、谜语、字谜和歇后语。请直接给出谜底，不要解释。"
)
CONFIGS = ("base", "system_prompt", "finetuned")
# progress(config, advance, total): called with advance=0 once when a configuration starts.
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class EvalConfig:
    """What to evaluate: data, and either an endpoint + model ids or a local model + adapter."""

    data: Path = DEFAULT_DATA
    split: str = "validation"
    limit: int | None = None
    system_prompt: str | None = None
    output: Path | None = None
    # Room for an answer plus a few sentences of explanation (a Chinese sentence is ~20-40
    # tokens): a verbose base model is scored on the answer it states, not cut before it.
    max_tokens: int = 256
    examples: int = 10  # riddles where the configurations disagree, shown in eval.md
    # OpenAI-compatible endpoint (SiliconFlow, vLLM, ...)
    endpoint: str | None = None
    base_model: str | None = None
    finetuned_model: str | None = None
    api_key_env: str = SILICONFLOW_KEY_ENV
    no_key: bool = False
    concurrency: int = 4
    max_wait: float = 300.0  # seconds of retry waits (Retry-After, backoff) in all
    timeout: float = 60.0  # seconds one request may wait for its answer, then it is retried
    # local transformers model (+ peft adapter); a str, so that `./folder` stays a path in errors
    model: str | None = None
    adapter: Path | None = None
    batch_size: int = 8
    # optional judge: a model on the same endpoint, or on --judge-endpoint
    judge_model: str | None = None
    judge_endpoint: str | None = None
    # overlap guard: the training run's folder (the adapter's is read by itself)
    train_record: Path | None = None
    allow_overlap: bool = False
