"""Output formats: one validated `messages` list in, one row of the target format out.

Conversion is kept apart from writing (as in LLaMA-Factory), and both are picked from FORMATS.
alpaca and sharegpt follow LLaMA-Factory's data/README.md exactly:

>>> msgs = [{"role": "system", "content": "猜歇后语"}, {"role": "user", "content": "做贼的说梦话"},
...         {"role": "assistant", "content": "想偷"}]
>>> to_alpaca(msgs)
{'instruction': '做贼的说梦话', 'input': '', 'output': '想偷', 'system': '猜歇后语'}
>>> to_sharegpt(msgs)["conversations"]
[{'from': 'human', 'value': '做贼的说梦话'}, {'from': 'gpt', 'value': '想偷'}]
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from curate import io

Messages = list[dict]
_SHAREGPT_ROLES = {"user": "human", "assistant": "gpt"}


def _split_system(messages: Messages) -> tuple[str | None, Messages]:
    if messages and messages[0]["role"] == "system":
        return messages[0]["content"], messages[1:]
    return None, messages


def to_messages(messages: Messages) -> dict:
    """OpenAI / SiliconFlow chat line: exactly `{"messages": [...]}`."""
    return {"messages": [{"role": m["role"], "content": m["content"]} for m in messages]}


def to_alpaca(messages: Messages) -> dict:
    """LLaMA-Factory alpaca: instruction/input/output, optional system, earlier turns as history."""
    system, turns = _split_system(messages)
    pairs = [(turns[i]["content"], turns[i + 1]["content"]) for i in range(0, len(turns), 2)]
    *history, (instruction, output) = pairs
    row = {"instruction": instruction, "input": "", "output": output}
    if system is not None:
        row["system"] = system
    if history:
        row["history"] = [list(p) for p in history]
    return row


def to_sharegpt(messages: Messages) -> dict:
    """LLaMA-Factory sharegpt: `conversations` of human/gpt turns, optional `system`."""
    system, turns = _split_system(messages)
    row: dict = {
        "conversations": [
            {"from": _SHAREGPT_ROLES[m["role"]], "value": m["content"]} for m in turns
        ]
    }
    if system is not None:
        row["system"] = system
    return row


def write_json_array(path: Path, rows: list[dict]) -> None:
    """A JSON array (LLaMA-Factory's documented shape), one object per line, Chinese unescaped."""
    body = ",\n".join(io.dumps(r) for r in rows)
    io.write_text(path, f"[\n{body}\n]\n" if rows else "[]\n")


def write_jsonl(path: Path, rows: list[dict]) -> None:
    io.write_jsonl(path, rows)


# messages as list<struct<role, content>>: the Hugging Face datasets chat layout.
PARQUET_SCHEMA = {"messages": pl.List(pl.Struct({"role": pl.String(), "content": pl.String()}))}


def write_parquet(path: Path, rows: list[dict]) -> None:
    io.write_parquet(path, pl.DataFrame(rows, schema=PARQUET_SCHEMA, orient="row"))


@dataclass(frozen=True)
class Format:
    ext: str
    convert: Callable[[Messages], dict]
    write: Callable[[Path, list[dict]], None]
    # How LLaMA-Factory's dataset_info.json describes these files (None: not a LLaMA-Factory
    # format); the `system` column is added only when the rows have one.
    dataset_info: dict | None = None


_OPENAI_TAGS = {
    "role_tag": "role",
    "content_tag": "content",
    "user_tag": "user",
    "assistant_tag": "assistant",
    "system_tag": "system",
}
_TURNS = (
    "an optional system message, one user turn (the riddle) and one assistant turn (the answer)"
)
# What a record of each format looks like, as the dataset card says it.
LAYOUTS = {
    "jsonl": f"one JSON object per line with a single `messages` list: {_TURNS}",
    "alpaca": "a JSON array of LLaMA-Factory alpaca records: `instruction` (the riddle), an "
    "empty `input`, `output` (the answer) and, with a system prompt, `system`",
    "sharegpt": "a JSON array of LLaMA-Factory sharegpt records: `conversations` of one "
    "`human` turn (the riddle) and one `gpt` turn (the answer) and, with a system prompt, "
    "`system`",
    "parquet": "Parquet files with one `messages` column (a list of role/content structs, "
    f"the Hugging Face chat layout): {_TURNS}",
}

FORMATS: dict[str, Format] = {
    "jsonl": Format(
        "jsonl",
        to_messages,
        write_jsonl,
        {"formatting": "sharegpt", "columns": {"messages": "messages"}, "tags": _OPENAI_TAGS},
    ),
    "alpaca": Format(
        "json",
        to_alpaca,
        write_json_array,
        {"columns": {"prompt": "instruction", "query": "input", "response": "output"}},
    ),
    "sharegpt": Format(
        "json",
        to_sharegpt,
        write_json_array,
        {"formatting": "sharegpt", "columns": {"messages": "conversations"}},
    ),
    "parquet": Format("parquet", to_messages, write_parquet),
}


def dataset_info(fmt: str, files: dict[str, str], has_system: bool) -> dict:
    """LLaMA-Factory `dataset_info.json`: one dataset per file name, e.g. `train-00000-of-00001`."""
    spec = FORMATS[fmt].dataset_info
    if spec is None:
        return {}
    columns = dict(spec["columns"])
    if has_system and fmt != "jsonl":  # jsonl keeps its system turn inside `messages`
        columns["system"] = "system"
    return {
        name: {"file_name": file_name, **spec, "columns": columns}
        for name, file_name in files.items()
    }
