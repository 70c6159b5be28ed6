"""All-or-nothing stage commits, one writer per processed directory, named fault points.

A commit writes every file of a stage under a temp name beside its target, fsyncs them,
removes the old manifest, renames the files into place and writes the manifest last. A kill
at any moment leaves the old complete stage, the new complete stage, or files without a
manifest, which every reader refuses (`curate.stage.read_manifest`).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import secrets
import shutil
import signal
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

from curate import io
from curate.errors import CurateError
from curate.verify import LOCK_NAME, sha256_files  # noqa: F401 (sha256_files re-exported)

# CURATE_FAULT=<point> or <stage>:<point>: the process SIGKILLs itself there (tests only).
FAULT_ENV = "CURATE_FAULT"
FAULT_POINTS = ("write", "synced", "unlinked", "rename", "renamed", "manifest")
LOCK_WAIT_ENV = "CURATE_LOCK_WAIT"  # seconds a second writer waits; default LOCK_WAIT
LOCK_WAIT = 30.0
# Temp names: ".<name>.<8 random characters>.tmp", as Commit.path and io.atomic_path
# (tempfile.mkstemp) make them.
_TEMP = re.compile(r"^\..+\.[a-z0-9_]{8}\.tmp$")
# Part folders of a stage's workers (ingest: tempfile.TemporaryDirectory(prefix=".ingested.parts."))
_PARTS = re.compile(r"^\.[a-z]+\.parts\.")
_held: set[Path] = set()  # locks this process holds: it may take its own lock again


def fault(point: str, stage: str) -> None:
    """Die here (SIGKILL, no cleanup) when CURATE_FAULT names this point of this stage."""
    wanted = os.environ.get(FAULT_ENV)
    if wanted in (point, f"{stage}:{point}"):
        os.kill(os.getpid(), signal.SIGKILL)


def remove_stale(folder: Path) -> list[Path]:
    """Delete the temp files an earlier, killed run left in `folder` (call with the lock)."""
    stale = [p for p in folder.iterdir() if _TEMP.match(p.name) and p.is_file()]
    for path in stale:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
    parts = [p for p in folder.iterdir() if _PARTS.match(p.name) and p.is_dir()]
    for path in parts:
        shutil.rmtree(path, ignore_errors=True)
    return stale + parts


@contextlib.contextmanager
def lock(processed: str | Path, wait: float | None = None) -> Iterator[None]:
    """Hold `<processed>/.curate.lock` (flock) for the block; wait up to `wait` seconds
    (default $CURATE_LOCK_WAIT or 30) for another writer, then fail naming its pid.

    The first holder removes stale temp files under the processed directory. Re-entrant
    within one process (`curate run` holds it while each stage takes it again)."""
    processed = Path(processed)
    processed.mkdir(parents=True, exist_ok=True)
    path = (processed / LOCK_NAME).resolve()
    if path in _held:
        yield
        return
    f = open(path, "a+", encoding="utf-8")  # noqa: SIM115 (held across the yield)
    try:
        _acquire(f, processed, _lock_wait() if wait is None else wait)
        f.seek(0)
        f.truncate()
        f.write(f"{os.getpid()}\n")
        f.flush()
        exports = sorted(p for p in (processed / "export").glob("*") if p.is_dir())
        for folder in [processed, *exports]:
            remove_stale(folder)
        _held.add(path)
        try:
            yield
        finally:
            _held.discard(path)
    finally:
        f.close()  # closing the descriptor releases the flock


def _lock_wait() -> float:
    try:
        return float(os.environ.get(LOCK_WAIT_ENV, LOCK_WAIT))
    except ValueError:
        raise CurateError(f"{LOCK_WAIT_ENV} must be a number of seconds") from None


def _acquire(f, processed: Path, wait: float) -> None:
    deadline = time.monotonic() + wait
    while True:
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                f.seek(0)
                holder = f.read().strip() or "unknown"
                raise CurateError(
                    f"{processed.as_posix()}/ is being written by another curate command "
                    f"(pid {holder}); waited {wait:.0f}s. Run again when it has finished "
                    f"(or set {LOCK_WAIT_ENV} to wait longer)."
                ) from None
            time.sleep(0.05)


def fsync(path: Path) -> None:
    """Flush a file's (or a directory's entries') data to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Commit:
    """The files of one stage run, written under temp names and published together.

    >>> with Commit(Path("processed/deduped.manifest.json"), "deduped") as c:  # doctest: +SKIP
    ...     io.write_parquet(c.path(Path("processed/deduped.parquet")), frame)
    ...     c.publish(manifest)
    """

    def __init__(self, manifest: Path, stage: str) -> None:
        self.manifest = Path(manifest)
        self.stage = stage
        self.pending: list[tuple[Path, Path, dict]] = []  # (temp, target, manifest fields)

    def __enter__(self) -> Commit:
        return self

    def __exit__(self, *exc) -> None:
        for temp, _, _ in self.pending:  # an error before publish: nothing of this run stays
            with contextlib.suppress(FileNotFoundError):
                temp.unlink()

    def path(self, target: Path, **fields) -> Path:
        """A new temp file beside `target`, published as `target` by `publish`; `fields`
        (split, records, ...) go into its entry in the manifest's file list."""
        if self.pending:
            fault("write", self.stage)  # one file written, the next not yet
        target = Path(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        while True:  # O_EXCL with mode 0666: the umask applies, as to any plain open()
            temp = target.parent / f".{target.name}.{secrets.token_hex(4)}.tmp"
            with contextlib.suppress(FileExistsError):
                os.close(os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
                break
        self.pending.append((temp, target, fields))
        return temp

    def publish(self, manifest: dict, remove: Iterable[Path] = ()) -> dict:
        """fsync the temps, drop the old manifest, rename the files into place, delete
        `remove` (files of an earlier run), then write the manifest, its `files` listing every
        file with its sha256 and size (paths relative to the manifest). Returns the manifest."""
        self.manifest.parent.mkdir(parents=True, exist_ok=True)
        digests = sha256_files([temp for temp, _, _ in self.pending])
        manifest["files"] = [
            {
                "path": Path(os.path.relpath(target, self.manifest.parent)).as_posix(),
                **fields,
                "sha256": digest,
                "bytes": temp.stat().st_size,
            }
            for (temp, target, fields), digest in zip(self.pending, digests, strict=True)
        ]
        for temp, _, _ in self.pending:
            fsync(temp)
        fault("synced", self.stage)
        with contextlib.suppress(FileNotFoundError):
            self.manifest.unlink()
        fsync(self.manifest.parent)
        fault("unlinked", self.stage)
        for n, (temp, target, _) in enumerate(self.pending):
            os.replace(temp, target)
            if n == 0:
                fault("rename", self.stage)
        for path in remove:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        for folder in {target.parent for _, target, _ in self.pending}:
            fsync(folder)
        self.pending = []
        fault("renamed", self.stage)
        temp = self.path(self.manifest)
        io.write_json(temp, manifest)
        fsync(temp)
        fault("manifest", self.stage)
        os.replace(temp, self.manifest)
        fsync(self.manifest.parent)
        self.pending = []
        return manifest
