"""Messages and JSONL lines for the tests of curate.messages and its consumers."""

from __future__ import annotations

import json
from pathlib import Path


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
