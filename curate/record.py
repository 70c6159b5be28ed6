"""The canonical record: one riddle as a row, and the reason codes for rows not kept."""

from __future__ import annotations

import hashlib

import polars as pl

from curate.errors import InternalError
from curate.normalize import content_hash, match_key  # noqa: F401 (re-exported)

SCHEMA: dict[str, pl.DataType] = {
    "id": pl.String(),
    "source": pl.String(),
    "line": pl.Int64(),
    "category": pl.String(),
    "riddle_type": pl.String(),  # 字谜, 歇后语, 谜语, 脑筋急转弯 or other (curate.riddle_type)
    "question": pl.String(),
    "answer": pl.String(),
    "question_raw": pl.String(),
    "answer_raw": pl.String(),
    "content_hash": pl.String(),
    "meta": pl.String(),
}
COLUMNS = list(SCHEMA)

# Reason codes (snake_case) written to `<stage>.rejects.jsonl`, with what they mean.
REASONS = {
    "malformed_json": "the line or file is not valid JSON",
    "not_an_object": "the record is not a JSON object / mapping",
    "missing_field": "no question or no answer field was found",
    "non_string_field": "the question or answer is not text (a list, an object, ...)",
    "bad_messages": "a `messages` record that is not one optional system + one user/assistant pair",
    "multi_turn": "a multi-turn conversation (more than one user/assistant pair)",
    "unparsed_text": "a text block that is not a question/answer pair",
    "malformed_row": "a CSV/TSV row with more fields than its header",
    "unclosed_quote": "a CSV/TSV row opening a quote that is never closed (later rows read on)",
    "bad_unicode": "text that is not valid Unicode (a lone surrogate such as \\ud800 in JSON)",
    "not_a_number": "a question or answer that is NaN or Infinity",
    "empty_question": "the question is empty after normalization",
    "empty_answer": "the answer is empty after normalization",
    "split_note": "a pinyin/gloss note cut in two across question and answer, or a stray fragment",
    "unbalanced_brackets": "a bracket or quote opened and never closed (often a split note)",
    "punctuation_only": "the question or answer has only punctuation: no words to match it by",
    "answer_equals_question": "the answer repeats the question",
    "mojibake": "replacement characters or garbled encoding",
    "too_long": "a field is longer than the configured limit (or than a CSV cell can be)",
    "duplicate": "a duplicate of a kept record",
    "invalid_record": "the exported line does not validate against the schema",
}


def record_id(source: str, line: int) -> str:
    """Stable id: the same file path and line always give the same id."""
    return hashlib.sha1(f"{source}\x00{line}".encode()).hexdigest()[:16]


def empty_frame() -> pl.DataFrame:
    return pl.DataFrame(schema=SCHEMA)


def reject(
    stage: str,
    reason: str,
    detail: str,
    source: str,
    line: int | None,
    raw: str,
    id: str | None = None,
    **extra,
) -> dict:
    """One line of a rejects file."""
    if reason not in REASONS:
        raise InternalError(f"reject reason {reason!r} is not in record.REASONS")
    row = {
        "stage": stage,
        "reason": reason,
        "detail": detail,
        "source": source,
        "line": line,
        "id": id,
        "raw": raw,
    }
    row.update(extra)
    return row
