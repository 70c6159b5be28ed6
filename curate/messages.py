"""The one reader and validator of messages JSONL, for export, validate, training and eval.

A line is valid when it parses as one JSON object (UTF-8, no byte order mark, no duplicate
keys), matches `schemas/messages.schema.json`, follows the ordering rules the schema cannot
express (an optional system message first, then user/assistant alternating from user, ending
with assistant) and holds only valid Unicode text (no lone surrogates). Blank lines are
skipped. A consumer's own needs (eval: one riddle per line) sit on top of `Conversation`.

>>> message_problems({"messages": [{"role": "user", "content": "什么人一年只上一天班？"},
...                                {"role": "assistant", "content": "圣诞老人"}]})
[]
>>> message_problems({"messages": [{"role": "user", "content": "谜面"},
...                                {"role": "bot", "content": "谜底"}]})
["$.messages[1].role: 'bot' is not one of ['system', 'user', 'assistant']"]
>>> message_problems({"messages": [{"role": "user", "content": "\\ud800"},
...                                {"role": "assistant", "content": "a"}]})
['$.messages[0].content: lone surrogate \\\\ud800 at character 0 is not valid Unicode text']
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from curate.errors import InputError

ROLES = ("system", "user", "assistant")
# A file of an alpaca, sharegpt or parquet export, given where messages JSONL is read.
OTHER_FORMAT = "`curate export --format jsonl` (the default) writes messages JSONL"
BOM = "starts with a UTF-8 byte order mark (BOM); save without BOM"
_HERE = Path(__file__).resolve().parent


def schema_path(name: str) -> Path:
    """The schema file: `curate/schemas` is a symlink to the repo's `schemas/` in a checkout
    and a copy (package data) in an installed wheel, so `schemas/` stays the one source."""
    for folder in (_HERE / "schemas", _HERE.parent / "schemas"):
        if (folder / name).is_file():
            return folder / name
    raise InputError(f"schema {name} not found beside the package; reinstall curate")


@cache
def validator(name: str = "messages.schema.json"):
    """A compiled Draft 2020-12 validator for one of our schema files."""
    from jsonschema import Draft202012Validator

    schema = json.loads(schema_path(name).read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def _describe(error) -> str:
    """One schema error as `$.path: what is wrong`, worded for people, not for validators."""
    path, kind, instance = error.json_path, error.validator, error.instance
    if kind == "additionalProperties":
        allowed = list(error.schema.get("properties", {}))
        extra = sorted(set(instance) - set(allowed))
        return f"{path}: extra key(s) {', '.join(map(repr, extra))} not allowed (only {allowed})"
    if kind in ("minLength", "pattern") and isinstance(instance, str):
        return f"{path}: empty text (needs at least one visible character)"
    if kind == "minItems" and isinstance(instance, list):
        return (
            f"{path}: has {len(instance)} message(s); "
            "needs at least a user and an assistant message"
        )
    return f"{path}: {error.message}"


def _printable(text: str) -> str:
    """Text safe to print and to encode as UTF-8: a lone surrogate is shown as its escape."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _ordering_problems(messages: list) -> list[str]:
    """Optional system first, then user/assistant alternating from user, ending on assistant."""
    if not all(isinstance(m, dict) and m.get("role") in ROLES for m in messages):
        return []  # the schema already reported the bad message; roles are not comparable
    problems, expected = [], "user"
    for i, m in enumerate(messages):
        role = m["role"]
        if role == "system":
            if i > 0:
                problems.append(f"$.messages[{i}].role: a system message may only come first")
            continue
        if role != expected:
            problems.append(
                f"$.messages[{i}].role: expected {expected!r}, got {role!r} "
                "(user and assistant must alternate, starting with user)"
            )
        expected = "assistant" if role == "user" else "user"
    roles = [m["role"] for m in messages]
    if len(roles) < 2:
        pass  # the schema's minItems already said so
    elif "assistant" not in roles or "user" not in roles:
        problems.append("$.messages: needs at least one user message and one assistant reply")
    elif roles[-1] != "assistant":
        problems.append(
            f"$.messages[{len(roles) - 1}].role: the last message must be "
            f"the assistant's, got {roles[-1]!r}"
        )
    return problems


def _unicode_problems(messages: list) -> list[str]:
    """A lone surrogate (JSON `"\\ud800"`) parses into a str that cannot be written as UTF-8."""
    problems = []
    for i, m in enumerate(messages):
        content = m.get("content") if isinstance(m, dict) else None
        if not isinstance(content, str):
            continue
        try:
            content.encode("utf-8")
        except UnicodeEncodeError as exc:
            char = ascii(content[exc.start])[1:-1]
            problems.append(
                f"$.messages[{i}].content: lone surrogate {char} at character {exc.start} "
                "is not valid Unicode text"
            )
    return problems


def message_problems(obj: object) -> list[str]:
    """Every problem of one parsed line, each starting with its JSON path; [] when valid."""
    problems = [_describe(e) for e in validator().iter_errors(obj)]
    if isinstance(obj, dict) and isinstance(obj.get("messages"), list):
        problems += _ordering_problems(obj["messages"]) + _unicode_problems(obj["messages"])
    # "" fails minLength and pattern: say it once. A lone surrogate in a key or a role is
    # shown escaped, so that a problem can always be printed.
    return list(dict.fromkeys(map(_printable, problems)))


def _no_duplicate_keys(pairs: list[tuple[str, object]]) -> dict:
    keys = [k for k, _ in pairs]
    dupes = sorted({k for k in keys if keys.count(k) > 1})
    if dupes:  # json.loads would silently keep the last one
        raise ValueError(f"duplicate key(s) {', '.join(map(repr, dupes))} in one object")
    return dict(pairs)


def _no_constants(name: str) -> float:
    raise ValueError(f"{name} is not JSON (Python's json module accepts it; other readers do not)")


def parse_line(text: str) -> tuple[object | None, list[str]]:
    """Parse one JSONL line: (object, []) or (None, [problem])."""
    try:
        obj = json.loads(text, object_pairs_hook=_no_duplicate_keys, parse_constant=_no_constants)
        return obj, []
    except json.JSONDecodeError as exc:
        return None, [f"malformed JSON: {exc.msg} (column {exc.colno})"]
    except ValueError as exc:
        return None, [_printable(f"malformed JSON: {exc}")]


@dataclass(frozen=True)
class Conversation:
    """One valid line: where it came from and its messages (system?, user, assistant, ...)."""

    path: Path
    line: int
    messages: list[dict]

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"

    @property
    def system(self) -> str | None:
        first = self.messages[0]
        return first["content"] if first["role"] == "system" else None

    @property
    def pairs(self) -> list[tuple[str, str]]:
        return pairs(self.messages)


def pairs(messages: list[dict]) -> list[tuple[str, str]]:
    """(user, assistant) texts of valid messages in order; the ordering rules make them alternate.

    >>> pairs([{"role": "system", "content": "s"}, {"role": "user", "content": "q"},
    ...        {"role": "assistant", "content": "a"}])
    [('q', 'a')]
    """
    turns = [m["content"] for m in messages if m["role"] != "system"]
    return list(zip(turns[::2], turns[1::2], strict=True))


@dataclass
class FileScan:
    """What one file holds: valid lines, problems and warnings by line (0: the whole file)."""

    path: Path
    records: int = 0
    valid: list[Conversation] = field(default_factory=list)
    problems: list[tuple[int, str]] = field(default_factory=list)
    warnings: list[tuple[int, str]] = field(default_factory=list)


def _decode(lineno: int, raw: bytes, scan: FileScan) -> str | None:
    if lineno == 1 and raw.startswith(codecs.BOM_UTF8):
        scan.problems.append((1, BOM))
        raw = raw[len(codecs.BOM_UTF8) :]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        scan.problems.append(
            (
                lineno,
                f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at "
                f"offset {exc.start}); convert the file to UTF-8",
            )
        )
        return None


def _whole_document(path: Path, first: str) -> str | None:
    """Why a file is one JSON document rather than JSONL (a JSON array, a pretty-printed
    object), or None. Asked only when the first line is not a JSON object on its own."""
    try:
        obj = json.loads(path.read_bytes().decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        if not first.lstrip().startswith("["):
            return None
        obj = None  # a broken array is still an array, not 300 broken lines
    # the fix writes beside the file, never onto it: `jq ... a.jsonl > a.jsonl` empties it first
    out = path.with_suffix(".lines.jsonl" if path.suffix == ".jsonl" else ".jsonl")
    if isinstance(obj, dict):
        what = "one JSON object spread over several lines"
        fix = f"jq -c . {path} > {out}"
    elif (
        isinstance(obj, list)
        and obj
        and all(isinstance(x, dict) and "messages" not in x for x in obj[:10])
    ):
        keys = ", ".join(sorted({k for x in obj[:10] for k in x})[:6])
        what = f"a JSON array of {len(obj)} record(s) with keys {keys}"
        return f"is {what}, not messages JSONL; {OTHER_FORMAT}"
    elif isinstance(obj, list) or obj is None:
        size = f" of {len(obj)} item(s)" if isinstance(obj, list) else ""
        what = f"a JSON array{size}"
        fix = f"jq -c '.[]' {path} > {out}"
    else:
        return None
    return f"is {what}, not JSONL (one JSON object per line); convert it, e.g. `{fix}`"


def _not_text(path: Path) -> str | None:
    """Why a file is not UTF-8 text at all (UTF-16, gzip), or None: said once for the file,
    not once per line, each line "not valid UTF-8"."""
    with open(path, "rb") as f:
        head = f.read(4)
    if head[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        encoding = "UTF-32" if head in (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE) else "UTF-16"
        return (
            f"is {encoding} (byte order mark 0x{head[:2].hex()}), not UTF-8; convert it, e.g. "
            f"`iconv -f {encoding} -t UTF-8 {path} > {path.with_suffix('.utf8.jsonl')}`"
        )
    if head[:2] == b"\x1f\x8b":
        return f"is gzip-compressed; decompress it first, e.g. `gunzip -k {path}`"
    if head == b"PAR1":
        return f"is a Parquet file, not JSONL; {OTHER_FORMAT}"
    return None


def scan_file(path: str | Path) -> FileScan:
    """Check every line of a JSONL file; line 0 stands for the file as a whole."""
    path = Path(path)
    scan = FileScan(path)
    if path.is_dir():
        raise InputError(f"{path} is a directory; pass its files, e.g. {path}/*.jsonl")
    if not path.is_file():
        raise InputError(f"{path} not found")
    if reason := _not_text(path):
        return FileScan(path, problems=[(0, reason)])
    with open(path, "rb") as f:
        for lineno, raw in enumerate(f, 1):
            text = _decode(lineno, raw, scan)
            if text is not None and not text.strip():
                scan.warnings.append((lineno, "blank line (skipped)"))
                continue
            scan.records += 1
            if text is None:
                continue
            obj, problems = parse_line(text.rstrip("\r\n"))  # columns on this line
            first_not_object = scan.records == 1 and not isinstance(obj, dict)
            if first_not_object and (reason := _whole_document(path, text)):
                return FileScan(path, problems=[(0, reason)])
            problems = problems or message_problems(obj)
            scan.problems += [(lineno, p) for p in problems]
            if not problems:
                scan.valid.append(Conversation(path, lineno, obj["messages"]))
    if scan.records == 0:
        scan.problems.append((0, "no records (empty file)"))
    return scan


def describe_problem(path: Path | str, line: int, problem: str) -> str:
    """`FILE:LINE: problem`, or `FILE: problem` for the file as a whole (line 0)."""
    return f"{path}:{line}: {problem}" if line else f"{path}: {problem}"


def read_conversations(
    paths: Iterable[str | Path],
    what: str = "messages JSONL",
    hint: str = "check the files with `curate validate`",
) -> list[Conversation]:
    """Every line of the files, in order; InputError naming FILE:LINE when any is invalid."""
    conversations, problems = [], []
    for path in paths:
        scan = scan_file(path)
        problems += [describe_problem(path, line, p) for line, p in scan.problems]
        conversations += scan.valid
    if problems:
        shown = "; ".join(problems[:5])
        more = f"; and {len(problems) - 5} more" if len(problems) > 5 else ""
        raise InputError(f"{len(problems)} problem(s) in {what}: {shown}{more}; {hint}")
    return conversations
