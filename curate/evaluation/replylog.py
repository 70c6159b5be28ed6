"""Replies kept as they arrive, so that an interrupted `curate eval` loses none of them.

`<output>/replies.partial.jsonl` gets one line per successful reply, `{"key", "reply"}`,
appended and flushed as each request completes. The key is a hash of everything the reply
depends on (who answers: the endpoint URL, or the local model, adapter and batch; the model id;
the full messages; the decoding), never a position, so a rerun with other riddles, prompts or
flags reuses only what still applies. Failed requests are not kept: the rerun asks them again.
A line that cannot be read (a run killed mid-write) is skipped, and its request asked again.
`evaluate` removes the file once eval.json, eval.md and responses.jsonl are written.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path
from typing import IO

from curate.files import dumps
from curate.redact import redact

PARTIAL = "replies.partial.jsonl"


def reply_key(*parts: object) -> str:
    """A stable hash of the JSON of `parts` (dict keys sorted, so their order does not count)."""
    text = json.dumps(parts, ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class ReplyLog:
    """The replies of earlier, interrupted runs (`get`), and this run's as they come (`add`)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.replies = _read(self.path)
        self.earlier = frozenset(self.replies)  # an interrupted run's; this run's are added
        self.asked = 0  # lookups: every request this run needed
        self.reused = 0  # of them, answered from the file an interrupted run left
        self.added = 0
        self._file: IO[str] | None = None
        self._lock = threading.Lock()

    def get(self, key: str) -> str | None:
        """The kept reply for `key`, or None; call once per request (it counts reuse)."""
        self.asked += 1
        reply = self.replies.get(key)
        # A reply this run already received (the same request in another config) is shared,
        # not "reused from an interrupted run".
        self.reused += key in self.earlier
        return reply

    def add(self, key: str, reply: str) -> None:
        """Append one reply and flush it to disk before the next request is counted."""
        with self._lock:
            if self.replies.get(key) == reply:
                return
            self.replies[key] = reply
            if self._file is None:
                self._file = self._open()
            # Redacted like every file curate writes: no registered secret reaches the disk.
            self._file.write(redact(dumps({"key": key, "reply": reply})) + "\n")
            self._file.flush()
            os.fsync(self._file.fileno())  # kept even if the machine, not only curate, stops
            self.added += 1

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None

    def remove(self) -> None:
        """The run is written: its replies live in responses.jsonl now."""
        self.close()
        self.path.unlink(missing_ok=True)

    def _open(self) -> IO[str]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "ab") as f:
            # A line torn by a kill has no newline: start on a fresh line, or the next reply
            # would be glued to it and lost as well.
            if f.tell() and _last_byte(self.path) != b"\n":
                f.write(b"\n")
        return open(self.path, "a", encoding="utf-8", newline="\n")


def _last_byte(path: Path) -> bytes:
    with open(path, "rb") as f:
        f.seek(-1, os.SEEK_END)
        return f.read(1)


def _read(path: Path) -> dict[str, str]:
    """key -> reply from an earlier run's file; unreadable lines are skipped (asked again)."""
    if not path.is_file():
        return {}
    replies: dict[str, str] = {}
    with open(path, "rb") as f:
        for raw in f:
            try:
                line = json.loads(raw.decode("utf-8"))
            except ValueError:  # torn mid-write (UnicodeDecodeError is a ValueError too)
                continue
            if isinstance(line, dict) and {type(line.get(f)) for f in ("key", "reply")} == {str}:
                replies[line["key"]] = line["reply"]
    return replies
