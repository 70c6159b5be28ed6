"""What `curate eval` compares and how: its config, the configuration names, the default prompt."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from curate.http import SILICONFLOW_KEY_ENV
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
    max_tokens: int = 64
    examples: int = 3
    # OpenAI-compatible endpoint (SiliconFlow, vLLM, ...)
    endpoint: str | None = None
    base_model: str | None = None
    finetuned_model: str | None = None
    api_key_env: str = SILICONFLOW_KEY_ENV
    no_key: bool = False
    concurrency: int = 4
    # local transformers model (+ peft adapter)
    model: Path | None = None
    adapter: Path | None = None
    batch_size: int = 8
