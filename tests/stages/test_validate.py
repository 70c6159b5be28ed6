"""`curate validate`: schema + ordering rules, with JSON paths and line numbers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from exportdata import record, tiny_tokenizer

from curate.cli import main
from curate.stages.validate import (
    ValidateConfig,
    message_problems,
    schema_path,
    validate,
    validate_file,
    validator,
)

REPO = Path(__file__).resolve().parents[2]


def msg(role: str, content: str) -> dict:
    return {"role": role, "content": content}


S, U, A = (
    (lambda c="s": msg("system", c)),
    (lambda c="q": msg("user", c)),
    (lambda c="a": msg("assistant", c)),
)
GOOD = {"messages": [S("猜谜"), U("什么东西越洗越脏？"), A("水")]}


def write_lines(path: Path, lines: list) -> Path:
    """Objects become JSON lines; str and bytes are written as they are."""
    out = b""
    for line in lines:
        if isinstance(line, bytes):
            out += line + b"\n"
        elif isinstance(line, str):
            out += line.encode() + b"\n"
        else:
            out += json.dumps(line, ensure_ascii=False).encode() + b"\n"
    path.write_bytes(out)
    return path


@pytest.mark.parametrize(
    "obj",
    [GOOD, {"messages": [U(), A()]}, {"messages": [U(), A(), U(), A()]}],
)
def test_valid_lines_have_no_problems(obj):
    assert message_problems(obj) == []


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        ({"messages": [U(), S(), A()]}, "$.messages[1].role: a system message may only come first"),
        ({"messages": [U(), U(), A()]}, "$.messages[1].role: expected 'assistant', got 'user'"),
        ({"messages": [A(), U(), A()]}, "$.messages[0].role: expected 'user', got 'assistant'"),
        ({"messages": [S(), U(), A(), U()]}, "$.messages[3].role: the last message must be"),
        ({"messages": [S(), U()]}, "$.messages: needs at least one user message and one assist"),
        ({"messages": [U()]}, "$.messages: has 1 message(s)"),
        ({"messages": []}, "$.messages: has 0 message(s)"),
        ({**GOOD, "id": "x"}, "$: extra key(s) 'id' not allowed"),
        ({"messages": [U(), {**A(), "weight": 1}]}, "$.messages[1]: extra key(s) 'weight'"),
        ({"messages": [U(""), A()]}, "$.messages[0].content: empty text"),
        ({"messages": [U(), A(" \n")]}, "$.messages[1].content: empty text"),
        ({"messages": [U(), msg("bot", "a")]}, "$.messages[1].role: 'bot' is not one of"),
        ({"messages": [U(), {"role": "assistant"}]}, "$.messages[1]: 'content' is a required"),
        ({"messages": [U(), {"role": "assistant", "content": 3}]}, "$.messages[1].content: 3 is"),
        ({"conversations": []}, "$: 'messages' is a required property"),
        ([GOOD], "$: [{"),
    ],
)
def test_each_rule_reports_its_json_path(obj, expected):
    problems = message_problems(obj)
    assert any(p.startswith(expected) for p in problems), problems


def test_an_empty_content_is_reported_once():
    assert len(message_problems({"messages": [U(), A("")]})) == 1


def test_validate_file_gives_line_numbers(tmp_path):
    path = write_lines(
        tmp_path / "mixed.jsonl",
        [
            GOOD,
            '{"messages": [',  # malformed JSON
            {"messages": [U(), msg("bot", "a")]},
            "",  # blank line: a warning, not a problem
            '{"messages": [{"role": "user", "content": "q"}], "messages": []}',
            b'{"messages": [{"role": "user", "content": "\xff"}]}',  # not UTF-8
            {"messages": [U(), A(), U()]},
            GOOD,
        ],
    )
    problems = validate_file(path)
    assert [line for line, _ in problems] == [2, 3, 5, 6, 7]
    assert problems[0][1].startswith("malformed JSON")
    assert problems[1][1].startswith("$.messages[1].role")
    assert "duplicate key(s) 'messages'" in problems[2][1]
    assert "not valid UTF-8 (byte 0xff" in problems[3][1]
    assert problems[4][1].startswith("$.messages[2].role: the last message")


def test_bom_and_empty_file_are_problems(tmp_path):
    bom = tmp_path / "bom.jsonl"
    bom.write_bytes(b"\xef\xbb\xbf" + json.dumps(GOOD).encode() + b"\n")
    assert [p for _, p in validate_file(bom)] == [
        "starts with a UTF-8 byte order mark (BOM); save without BOM"
    ]
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    assert validate_file(empty) == [(0, "no records (empty file)")]


def test_cli_lists_problems_then_fails(tmp_path):
    good = write_lines(tmp_path / "good.jsonl", [GOOD, GOOD])
    bad = write_lines(tmp_path / "bad.jsonl", [GOOD, {"messages": [U(), S(), A()]}])
    result = CliRunner().invoke(main, ["validate", str(good), str(bad)])
    assert result.exit_code == 1
    assert f"{bad}:2: $.messages[1].role: a system message may only come first" in result.output
    assert "4 records in 2 file(s): 1 invalid, 1 problem(s)" in result.output
    assert "Error: 1 problem(s) found" in result.output
    # the listing comes before the error line, so the boundary did not swallow it
    assert result.output.index(f"{bad}:2:") < result.output.index("Error:")


def test_cli_passes_a_valid_file(tmp_path):
    good = write_lines(tmp_path / "good.jsonl", [GOOD])
    result = CliRunner().invoke(main, ["validate", str(good)])
    assert result.exit_code == 0, result.output
    assert "1 records in 1 file(s): 0 invalid, 0 problem(s), 0 warning(s)" in result.output
    assert "chars/record: p50 12, p90 12, p99 12, max 12" in result.output


def test_tokenizer_warns_about_long_records(tmp_path):
    tok = tiny_tokenizer(tmp_path / "tok", ["猜谜什么东西越洗越脏？水"])
    path = write_lines(tmp_path / "d.jsonl", [GOOD, {"messages": [U("水"), A("水")]}])
    result = validate(ValidateConfig((path,), tokenizer=tok, max_tokens=30))
    assert result.ok
    # one token per character plus ChatML framing: line 1 has 43 tokens, line 2 has 23
    assert [(line, w) for _, line, w in result.warnings] == [(1, "43 tokens > --max-tokens 30")]
    assert result.lengths["tokens"] == {"p50": 23, "p90": 43, "p99": 43, "max": 43}
    assert result.lengths["over_max_tokens"] == 1
    cli = CliRunner().invoke(
        main, ["validate", str(path), "--tokenizer", str(tok), "--max-tokens", "30"]
    )
    assert cli.exit_code == 0  # long records are warnings, not errors
    assert f"{path}:1: warning: 43 tokens > --max-tokens 30" in cli.output


def test_schema_comes_from_the_repo_schemas_folder():
    # one source of truth: curate/schemas is a link to (or, installed, a copy of) schemas/
    assert schema_path("messages.schema.json").resolve() == REPO / "schemas/messages.schema.json"
    assert validator().schema["$schema"].endswith("2020-12/schema")


def test_canonical_records_match_the_record_schema():
    row = record("什么東西越洗越髒?", "水", category="脑筋急转弯")
    assert list(validator("record.schema.json").iter_errors(row)) == []
    bad = {**row, "question": "", "extra": 1}
    assert len(list(validator("record.schema.json").iter_errors(bad))) == 2
