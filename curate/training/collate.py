"""Chat examples -> token ids with an assistant mask -> padded batches with masked labels.

`encode` renders a conversation with the tokenizer's own chat template and marks which tokens
belong to assistant turns; `AssistantOnlyCollator` pads them and keeps the loss on those tokens.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from curate.errors import ConfigError


@dataclass(frozen=True)
class Encoded:
    input_ids: list[int]
    assistant_mask: list[int]  # 1 where the token is part of an assistant turn
    truncated: bool  # longer than max_seq_len: tokens were dropped from the user turn
    fits: bool = True  # False: the system prompt and answers alone exceed max_seq_len


def _render(tokenizer, messages: list[dict], prompt: bool) -> str:
    return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=prompt)


def assistant_spans(tokenizer, messages: list[dict]) -> tuple[str, list[tuple[int, int]]]:
    """The rendered conversation and the character spans of its assistant turns.

    A turn's span runs from the end of the conversation before it (rendered with the generation
    prompt) to the end of the conversation including it, so it covers the answer and the
    template's end-of-turn token, which teaches the model to stop.
    """
    text = _render(tokenizer, messages, prompt=False)
    spans = []
    for i, message in enumerate(messages):
        if message["role"] != "assistant":
            continue
        start = len(_render(tokenizer, messages[:i], prompt=True))
        upto = _render(tokenizer, messages[: i + 1], prompt=False)
        if not text.startswith(upto) or start > len(upto):
            raise ConfigError(
                "the tokenizer's chat template does not render a conversation as the prefix of "
                "its continuation, so assistant tokens cannot be located"
            )
        spans.append((start, len(upto)))
    return text, spans


def user_spans(text: str, messages: list[dict]) -> list[tuple[int, int]]:
    """Character spans of the user turns' contents in the rendered `text`, found in order."""
    spans, pos = [], 0
    for message in messages:
        start = text.find(message["content"], pos)
        if start < 0:  # the template rewrote this content: leave it alone
            continue
        pos = start + len(message["content"])
        if message["role"] == "user":
            spans.append((start, pos))
    return spans


def encode(tokenizer, messages: list[dict], max_seq_len: int) -> Encoded:
    """Token ids of one conversation (chat template) and its assistant mask, at most max_seq_len.

    A longer conversation loses tokens from the start of its user turn (the riddle's opening
    words), never from the system prompt, the template's markers or the answer, so that the
    model still learns the whole answer and its end-of-turn token. If that is not enough the
    example does not fit (`fits=False`) and is to be skipped.
    """
    text, spans = assistant_spans(tokenizer, messages)
    if not getattr(tokenizer, "is_fast", False):
        raise ConfigError("training needs a fast tokenizer (tokenizer.json) for token offsets")
    # The template already holds any BOS/special tokens, so none are added here.
    enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    ids, starts = list(enc["input_ids"]), [s for s, _ in enc["offset_mapping"]]
    mask = [int(any(a <= s < b for a, b in spans)) for s in starts]
    excess = len(ids) - max_seq_len
    if excess <= 0:
        return Encoded(ids, mask, truncated=False)
    users = user_spans(text, messages)
    removable = [i for i, s in enumerate(starts) if any(a <= s < b for a, b in users)]
    if len(removable) < excess:
        return Encoded([], [], truncated=True, fits=False)
    drop = set(removable[:excess])
    keep = [i for i in range(len(ids)) if i not in drop]
    return Encoded([ids[i] for i in keep], [mask[i] for i in keep], truncated=True)


@dataclass
class AssistantOnlyCollator:
    """Pad examples to the longest in the batch; labels are -100 except on assistant tokens.

    >>> collate = AssistantOnlyCollator(pad_token_id=0)
    >>> batch = collate([
    ...     {"input_ids": [5, 6, 7, 8], "assistant_mask": [0, 0, 1, 1]},
    ...     {"input_ids": [5, 9], "assistant_mask": [0, 1]},
    ... ])
    >>> batch["input_ids"]
    tensor([[5, 6, 7, 8],
            [5, 9, 0, 0]])
    >>> batch["attention_mask"]
    tensor([[1, 1, 1, 1],
            [1, 1, 0, 0]])
    >>> batch["labels"]
    tensor([[-100, -100,    7,    8],
            [-100,    9, -100, -100]])
    """

    pad_token_id: int
    ignore_index: int = -100
    pad_to_multiple_of: int | None = None
    padding_side: str = "right"

    def __call__(self, examples: list[dict]) -> dict[str, torch.Tensor]:
        width = max(len(e["input_ids"]) for e in examples)
        if self.pad_to_multiple_of:
            width = -(-width // self.pad_to_multiple_of) * self.pad_to_multiple_of
        batch: dict[str, list[list[int]]] = {"input_ids": [], "attention_mask": [], "labels": []}
        for e in examples:
            ids, mask = e["input_ids"], e["assistant_mask"]
            if len(ids) != len(mask):
                raise ValueError("input_ids and assistant_mask differ in length")
            n = width - len(ids)
            labels = [t if m else self.ignore_index for t, m in zip(ids, mask, strict=True)]
            batch["input_ids"].append(self._pad(ids, self.pad_token_id, n))
            batch["attention_mask"].append(self._pad([1] * len(ids), 0, n))
            batch["labels"].append(self._pad(labels, self.ignore_index, n))
        return {k: torch.tensor(v, dtype=torch.long) for k, v in batch.items()}

    def _pad(self, row: list[int], fill: int, n: int) -> list[int]:
        return row + [fill] * n if self.padding_side == "right" else [fill] * n + row
