"""Secrets never leave the process: curate.redact, and every endpoint command against a server
that echoes the key in its headers, its bodies and the model's output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
from fake_siliconflow import FakeSiliconFlow
from tiny import RIDDLES, riddle_messages, write_export

from curate import redact

KEY = "sk-hostile-9f8e7d6c5b4a39281706"
FT_ID = "ft:LoRA/Qwen/Qwen2.5-7B-Instruct:acct:riddles:abcdefghij"


@pytest.fixture
def registered():
    redact.register(KEY)
    yield KEY
    redact.forget()


def test_every_form_of_the_key_is_masked(registered):
    forms = [
        KEY,
        f"Bearer {KEY[:8]}",  # cut short by a truncating message
        KEY[:15] + "…",
        quote(KEY, safe=""),
        "sk%2Dhostile%2D9f8e",  # any character percent-encoded
        json.dumps(KEY).replace("s", "\\u0073"),  # JSON escapes
    ]
    for text in forms:
        masked = redact.redact(f"before {text} after")
        assert "hostile" not in masked and masked.startswith("before ") and "***" in masked
    wrapped = redact.redact(f"│ {KEY[:13]} │\n│ {KEY[13:]} │")  # a table cell wrapped it
    assert wrapped == "│ *** │\n│ *** │"
    assert redact.redact("sk-host is short") == "sk-host is short"  # 7 characters: kept
    assert redact.redact("https://bob:pw@host/v1") == "https://***@host/v1"


def test_redacting_stream_and_files(registered, tmp_path, capsys):
    from curate.files import write_json, write_jsonl, write_text

    with redact.redacted_streams():
        print(f"key={KEY}")
        print(f"cut={KEY[:10]}", file=sys.stderr)
    out, err = capsys.readouterr()
    assert out == "key=***\n" and err == "cut=***\n"
    write_text(tmp_path / "a.md", f"| {KEY} |")
    write_json(tmp_path / "b.json", {"reply": KEY})
    write_jsonl(tmp_path / "c.jsonl", [{"reply": KEY[:12]}])
    for path in tmp_path.iterdir():
        assert b"hostile" not in path.read_bytes(), path


# -- every endpoint command against a hostile server, as a user runs it --------------------


def leaks(text: str | bytes) -> list[str]:
    """The forms of KEY (and of the URL password) found in `text`."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    needles = [KEY[:8], quote(KEY[:8], safe=""), KEY[8:20], "hunter2-secret"]
    return [n for n in needles if n in text]


def curate(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "SILICONFLOW_API_KEY": KEY, "NO_PROXY": "127.0.0.1,localhost"}
    return subprocess.run(
        [sys.executable, "-m", "curate", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        timeout=120,
    )


@pytest.mark.slow
def test_no_command_prints_or_writes_an_echoed_key(tmp_path):
    export = write_export(tmp_path / "export", riddle_messages(), riddle_messages(RIDDLES[:3]))
    reply = f"水 {KEY} {KEY[:10]} {quote(KEY)} {json.dumps(KEY)} Authorization: Bearer {KEY}"
    with FakeSiliconFlow(key=KEY, reply=lambda model, messages: reply) as api:
        api.hostile = True
        host = api.url.split("//")[1]
        creds = f"http://admin:hunter2-secret@{host}"
        runs = {
            "upload": ("train", "--backend", "siliconflow", "--data", str(export),
                       "--base-url", api.url, "--output", "run", "--own-validation"),
            "attach": ("train", "--backend", "siliconflow", "--base-url", api.url,
                       "--output", "run", "--attach", FT_ID),
            "eval": ("eval", "--data", str(export), "--endpoint", api.url,
                     "--base-model", "Qwen/Qwen2.5-7B-Instruct", "--finetuned-model", FT_ID,
                     "--system-prompt", "default", "--output", "ev"),
            "ask": ("ask", "什么门永远关不上？", "--endpoint", api.url, "--base-model",
                    "Qwen/Qwen2.5-7B-Instruct", "--finetuned-model", FT_ID, "--data", str(export)),
            "refused": ("train", "--backend", "siliconflow", "--data", str(export),
                        "--base-url", api.url, "--output", "refused"),
            "credentials": ("train", "--backend", "siliconflow", "--data", str(export),
                            "--base-url", creds, "--output", "creds"),
        }  # fmt: skip
        results = {}
        for name, args in runs.items():
            if name == "refused":
                api.fail("POST /v1/files", 400, {"code": 1, "message": f"bad Bearer {KEY}"})
            results[name] = curate(*args, cwd=tmp_path)
    for name in ("upload", "attach", "eval", "ask"):
        assert results[name].returncode == 0, results[name].stderr.decode()
    assert results["refused"].returncode == 1 and results["credentials"].returncode == 1
    assert b"http://***@127.0.0.1" in results["credentials"].stderr
    for name in ("ask", "attach"):  # they show the reply "水 <key> ...", masked
        assert "水".encode() in results[name].stdout and b"***" in results[name].stdout
    assert api.calls("POST /v1/chat/completions")  # the replies holding the key were received
    for name, result in results.items():
        assert leaks(result.stdout + result.stderr) == [], name
    written = [p for p in tmp_path.rglob("*") if p.is_file() and not p.is_relative_to(export)]
    assert any(p.name == "responses.jsonl" for p in written)
    for path in written:
        assert leaks(path.read_bytes()) == [], path
