"""Atomic text writers without heavy imports (no polars): the training path uses these alone.

Every text file written here passes `curate.redact.redact` first, so no registered secret
reaches a file; with none registered (the data stages) the bytes are unchanged.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from curate.redact import redact

if sys.version_info >= (3, 11):
    import tomllib  # noqa: F401 (re-exported: the one TOML reader)
else:  # pragma: no cover
    import tomli as tomllib  # noqa: F401

UMASK = os.umask(0)  # read once: outputs get the permissions a plain open() would give
os.umask(UMASK)


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temp path beside `path`; rename it over `path` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        # mkstemp creates 0600; outputs get the ordinary permissions a plain open() would give.
        os.chmod(tmp, 0o666 & ~UMASK)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def dumps(row: dict) -> str:
    """One JSONL line: UTF-8, Chinese unescaped, stable key order as given."""
    return json.dumps(row, ensure_ascii=False)


def write_text(path: str | Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(redact(text), encoding="utf-8", newline="\n")


def write_json(path: str | Path, obj: object) -> None:
    write_text(path, json.dumps(obj, ensure_ascii=False, indent=2, sort_keys=False) + "\n")


def write_jsonl(path: str | Path, rows: Iterable[dict]) -> int:
    """Write rows as JSON lines atomically; return how many."""
    n = 0
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8", newline="\n") as f:
        for row in rows:
            f.write(redact(dumps(row)) + "\n")
            n += 1
    return n


def sha256_file(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
