"""Validate messages JSONL: schemas/messages.schema.json plus the ordering rules it cannot express.

>>> message_problems({"messages": [{"role": "user", "content": "什么人一年只上一天班？"},
...                                {"role": "assistant", "content": "圣诞老人"}]})
[]
>>> message_problems({"messages": [{"role": "user", "content": "谜面"},
...                                {"role": "bot", "content": "谜底"}]})
["$.messages[1].role: 'bot' is not one of ['system', 'user', 'assistant']"]
"""

from __future__ import annotations

import codecs
import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from curate.errors import InputError
from curate.lengths import DEFAULT_MAX_TOKENS, length_report

ROLES = ("system", "user", "assistant")
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


def message_problems(obj: object) -> list[str]:
    """Every problem of one parsed line, each starting with its JSON path; [] when valid."""
    problems = [_describe(e) for e in validator().iter_errors(obj)]
    if isinstance(obj, dict) and isinstance(obj.get("messages"), list):
        problems += _ordering_problems(obj["messages"])
    return list(dict.fromkeys(problems))  # "" fails minLength and pattern: say it once


def _no_duplicate_keys(pairs: list[tuple[str, object]]) -> dict:
    keys = [k for k, _ in pairs]
    dupes = sorted({k for k in keys if keys.count(k) > 1})
    if dupes:  # json.loads would silently keep the last one
        raise ValueError(f"duplicate key(s) {', '.join(map(repr, dupes))} in one object")
    return dict(pairs)


def parse_line(text: str) -> tuple[object | None, list[str]]:
    """Parse one JSONL line: (object, []) or (None, [problem])."""
    try:
        return json.loads(text, object_pairs_hook=_no_duplicate_keys), []
    except json.JSONDecodeError as exc:
        return None, [f"malformed JSON: {exc.msg} (column {exc.colno})"]
    except ValueError as exc:
        return None, [f"malformed JSON: {exc}"]


@dataclass
class FileScan:
    """What one file holds: valid records (line, messages), problems and warnings by line."""

    records: int = 0
    valid: list[tuple[int, list]] = field(default_factory=list)
    problems: list[tuple[int, str]] = field(default_factory=list)
    warnings: list[tuple[int, str]] = field(default_factory=list)


def _decode(lineno: int, raw: bytes, scan: FileScan) -> str | None:
    if lineno == 1 and raw.startswith(codecs.BOM_UTF8):
        scan.problems.append((1, "starts with a UTF-8 byte order mark (BOM); save without BOM"))
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


def scan_file(path: str | Path) -> FileScan:
    """Check every line of a JSONL file; line 0 stands for the file as a whole."""
    path, scan = Path(path), FileScan()
    if path.is_dir():
        raise InputError(f"{path} is a directory; pass its files, e.g. {path}/*.jsonl")
    if not path.is_file():
        raise InputError(f"{path} not found")
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
            problems = problems or message_problems(obj)
            scan.problems += [(lineno, p) for p in problems]
            if not problems:
                scan.valid.append((lineno, obj["messages"]))
    if scan.records == 0:
        scan.problems.append((0, "no records (empty file)"))
    return scan


def validate_file(path: str | Path) -> list[tuple[int, str]]:
    """[(line, problem)] for one JSONL file; [] when every line is valid."""
    return scan_file(path).problems


@dataclass(frozen=True)
class ValidateConfig:
    files: tuple[Path, ...]
    tokenizer: Path | None = None
    max_tokens: int = DEFAULT_MAX_TOKENS


@dataclass
class ValidateResult:
    files: int = 0
    records: int = 0
    invalid: int = 0  # records (lines) with at least one problem
    problems: list[tuple[str, int, str]] = field(default_factory=list)
    warnings: list[tuple[str, int, str]] = field(default_factory=list)
    lengths: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems


def validate(config: ValidateConfig) -> ValidateResult:
    """Check files; problems and warnings are returned as data, never raised."""
    counter = None
    if config.tokenizer is not None:
        from curate.lengths import load_token_counter

        counter = load_token_counter(config.tokenizer)
    result, records, tokens = ValidateResult(), [], []
    for path in config.files:
        scan, name = scan_file(path), str(path)
        result.files += 1
        result.records += scan.records
        result.invalid += len({line for line, _ in scan.problems if line > 0})
        result.problems += [(name, line, p) for line, p in scan.problems]
        result.warnings += [(name, line, w) for line, w in scan.warnings]
        if Path(path).suffix != ".jsonl":
            result.warnings.append((name, 0, "SiliconFlow accepts only .jsonl files"))
        for line, messages in scan.valid:
            records.append(messages)
            if counter is None:
                continue
            tokens.append(n := counter(messages))
            if n > config.max_tokens:
                result.warnings.append(
                    (name, line, f"{n} tokens > --max-tokens {config.max_tokens}")
                )
    result.lengths = length_report(records, tokens if counter else None, config.max_tokens)
    return result
