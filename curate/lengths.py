"""Record lengths: characters per record and, with a tokenizer, tokens under its chat template.

>>> percentiles([3, 1, 2, 10])
{'p50': 2, 'p90': 10, 'p99': 10, 'max': 10}
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path

from curate.errors import ConfigError

# SiliconFlow's console caps "Max Tokens" at 4096 (reference/siliconflow.md, section 1).
DEFAULT_MAX_TOKENS = 4096
QUANTILES = (50, 90, 99)

Messages = list[dict]
TokenCounter = Callable[[Messages], int]


def percentiles(values: Sequence[int]) -> dict[str, int]:
    """Nearest-rank percentiles (always a real value, so integers stay integers) and max."""
    if not values:
        return {f"p{q}": 0 for q in QUANTILES} | {"max": 0}
    ordered = sorted(values)
    out = {f"p{q}": ordered[max(math.ceil(q / 100 * len(ordered)), 1) - 1] for q in QUANTILES}
    return out | {"max": ordered[-1]}


def char_length(messages: Messages) -> int:
    """Characters of content in one record (all roles)."""
    return sum(len(m["content"]) for m in messages)


def load_token_counter(path: str | Path) -> TokenCounter:
    """Count tokens of one record under the tokenizer's chat template (imports transformers)."""
    try:
        from transformers import AutoTokenizer
    except ImportError as exc:  # the `train` extra is optional
        raise ConfigError(
            "--tokenizer needs transformers; install it with `pip install 'curate[train]'`"
        ) from exc
    if not Path(path).exists() and (Path(path).is_absolute() or len(Path(path).parts) > 2):
        # A hub id (Qwen/Qwen2.5-7B-Instruct) is neither absolute nor deeper; the hub's own
        # message for a folder that is not there is "Repo id must be in the form ...".
        raise ConfigError(f"--tokenizer {path}: no such folder; pass a model's tokenizer folder")
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(path))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot load a tokenizer from {path}: {exc}") from exc
    if not getattr(tokenizer, "chat_template", None):
        raise ConfigError(
            f"the tokenizer at {path} has no chat_template; use a chat model's tokenizer"
        )

    def count(messages: Messages) -> int:
        ids = tokenizer.apply_chat_template(messages, tokenize=True, return_dict=False)
        return len(ids)

    return count


def length_report(
    records: Sequence[Messages],
    tokens: Sequence[int] | None = None,
    max_tokens: int = DEFAULT_MAX_TOKENS,
    ids: Sequence[str] | None = None,
) -> dict:
    """Percentiles of characters (and of `tokens`, counted per record); records over the max."""
    report: dict = {
        "records": len(records),
        "chars": percentiles([char_length(m) for m in records]),
    }
    if tokens is not None:
        over = [i for i, n in enumerate(tokens) if n > max_tokens]
        report["tokens"] = percentiles(tokens)
        report["max_tokens"] = max_tokens
        report["over_max_tokens"] = len(over)
        if ids is not None:  # a few examples to look at, not the whole list
            report["over_max_tokens_ids"] = [ids[i] for i in over[:20]]
    return report


def describe(report: dict) -> str:
    """One or two human lines, e.g. `chars/record: p50 12, p90 20, p99 31, max 60`."""

    def line(name: str, stats: dict) -> str:
        return f"{name}/record: " + ", ".join(f"{k} {v}" for k, v in stats.items())

    lines = [line("chars", report["chars"])]
    if "tokens" in report:
        lines.append(
            line("tokens", report["tokens"])
            + f"; {report['over_max_tokens']} over --max-tokens {report['max_tokens']}"
        )
    return "\n".join(lines)
