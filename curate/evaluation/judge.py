"""An optional LLM judge for `curate eval --judge-model MODEL`: did the reply give the answer?

Riddle answers are often puns (芭蕉 / 老实 in the seed, 装象 / 装相): string metrics miss a
right answer in other words, and a judge can see it. Each reply is judged on its own, greedy,
against the reference; the verdict and a one-line reason are stored per reply, and `judge` is
its own column, never mixed into exact match. A reply the judge's answer cannot be read for
gets verdict None (counted as not correct, and counted in `judge_unreadable`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import replace

from curate.errors import ConfigError
from curate.evaluation.config import EvalConfig
from curate.evaluation.replylog import ReplyLog

JUDGE_MAX_TOKENS = 128  # one short JSON object
JUDGE_SYSTEM = (
    "你是谜语答案的评分员。给你谜面、参考答案和一个回答，判断回答是否给出了参考答案。"
    "意思相同、同一个词的不同写法、谐音双关（如 芭蕉/老实、装象/装相）都算正确；"
    "列出多个猜测、只说出答案的一部分或答非所问都算错误。"
    '只输出一行 JSON：{"verdict": "correct" 或 "wrong", "reason": "一句话理由"}'
)
_OBJECT = re.compile(r"\{.*?\}", re.DOTALL)
_WORDS = {"correct": 1.0, "正确": 1.0, "对": 1.0, "wrong": 0.0, "错误": 0.0, "错": 0.0}


def judge_config(config: EvalConfig) -> EvalConfig:
    """The endpoint config the judge is asked through: --judge-endpoint, else --endpoint."""
    endpoint = config.judge_endpoint or config.endpoint
    if not endpoint:
        raise ConfigError(
            "--judge-model needs an OpenAI-compatible endpoint: with --model PATH, pass "
            "--judge-endpoint URL as well"
        )
    return replace(config, endpoint=endpoint, max_tokens=JUDGE_MAX_TOKENS)


def judge_prompt(question: str, reference: str, reply: str) -> list[dict]:
    """The messages that ask the judge about one reply."""
    user = f"谜面：{question}\n参考答案：{reference}\n回答：{reply or '（空）'}"
    return [{"role": "system", "content": JUDGE_SYSTEM}, {"role": "user", "content": user}]


def parse_verdict(text: str) -> tuple[float | None, str]:
    """(1.0 correct / 0.0 wrong / None unreadable, one-line reason) from the judge's reply.

    >>> parse_verdict('{"verdict": "correct", "reason": "装相与装象谐音"}')
    (1.0, '装相与装象谐音')
    >>> parse_verdict("错误。回答是油，参考答案是水。")
    (0.0, '错误。回答是油，参考答案是水。')
    """
    text = (text or "").strip()
    m = _OBJECT.search(text)
    if m:
        try:
            obj = json.loads(m.group())
        except ValueError:
            obj = None
        if isinstance(obj, dict) and str(obj.get("verdict", "")).lower() in _WORDS:
            reason = " ".join(str(obj.get("reason", "")).split())
            return _WORDS[str(obj["verdict"]).lower()], reason
    first = " ".join(text.split())
    for word, verdict in sorted(_WORDS.items(), key=lambda kv: -len(kv[0])):
        if first.lower().startswith(word):
            return verdict, first[:200]
    return None, first[:200]


def judge_rows(
    config: EvalConfig,
    rows: list[dict],
    advance: Callable[[int], None],
    replies: ReplyLog | None = None,
) -> None:
    """Add `judge` (1.0 / 0.0 / None) and `judge_reason` to every row, in place."""
    from curate.evaluation.backends import EndpointBackend

    backend = EndpointBackend(judge_config(config), replies)
    try:
        prompts = [judge_prompt(r["question"], r["reference"], r["response"]) for r in rows]
        answers = backend.generate("judge", config.judge_model, prompts, advance)
    finally:
        backend.close()
    for row, answer in zip(rows, answers, strict=True):
        if isinstance(answer, Exception):
            row["judge"], row["judge_reason"] = None, f"judge request failed: {answer}"
        else:
            row["judge"], row["judge_reason"] = parse_verdict(answer)
