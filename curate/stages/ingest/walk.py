"""Find the input files of `curate ingest`: files as given, folders searched recursively.

Hidden names (`.git`, `.cache`) are skipped. Symlinked files and folders are followed; a
symlink loop or a dangling link is skipped with a warning naming it; a folder that cannot be
listed is an error naming it (never skipped silently). The processed folder is skipped when it
lies inside a source folder, so that a rerun does not read its own output.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from curate.errors import InputError


@dataclass
class Found:
    paths: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def scan(
    sources: list[Path],
    known: Callable[[Path], object],
    skip: Path | None = None,
    unread: Callable[[Path], str | None] = lambda path: None,
) -> Found:
    """Files to read (those `known` accepts, in path order, the arguments' too) and warnings
    about what was left out: links, the processed folder, and files `unread` says why it
    cannot read (an Excel workbook among the CSV files would otherwise be skipped unsaid)."""
    found: dict[Path, Path] = {}
    out = Found()
    skip_real = skip.resolve() if skip is not None else None
    for source in sources:
        if source.is_dir():
            files: list[Path] = []
            walker = _Walker(known, unread, skip_real, files, out.warnings)
            walker.visit(source, {source.resolve()}, set())
            files.sort()
        elif source.is_file():
            files = [source]
        else:
            raise InputError(f"{source}: no such file or directory")
        for path in files:
            _check_name(path)
            found.setdefault(path.resolve(), path)
    # In path order whatever the order of the arguments: `ingest raw/b raw/a` writes the
    # same bytes as `ingest raw/a raw/b` (or `ingest raw`).
    out.paths = sorted(found.values())
    return out


@dataclass
class _Walker:
    known: Callable[[Path], object]
    unread: Callable[[Path], str | None]
    skip: Path | None
    files: list[Path]
    warnings: list[str]

    def visit(self, folder: Path, chain: set[Path], seen: set[Path]) -> None:
        """Depth-first through `folder`; `chain` = real paths of the folders above (loop check)."""
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            raise InputError(
                f"{folder}: cannot read this folder ({exc.strerror}); fix its permissions, "
                "or pass the files or folders to read as arguments"
            ) from None
        for entry in entries:
            if entry.name.startswith("."):
                continue
            path = Path(entry.path)
            try:
                os.stat(path)  # follows links: fails for a loop or a dangling link
            except OSError as exc:
                loop = exc.errno == errno.ELOOP
                what = "a symlink loop" if loop else f"a dangling symlink ({exc.strerror})"
                self.warnings.append(f"{path}: skipped, {what}")
                continue
            if entry.is_dir():
                real = path.resolve()
                if self.skip is not None and real == self.skip:
                    self.warnings.append(
                        f"{path}: skipped, it is the processed folder (the output)"
                    )
                elif real in chain:
                    self.warnings.append(
                        f"{path}: skipped, a symlink loop (it points back to {real})"
                    )
                elif real not in seen:  # a second link to a folder already read adds nothing
                    seen.add(real)
                    self.visit(path, chain | {real}, seen)
            elif entry.is_file() and self.known(path):
                self.files.append(path)
            elif entry.is_file() and (why := self.unread(path)):
                self.warnings.append(f"{path}: skipped, {why}")


def _check_name(path: Path) -> None:
    """A file name that is not valid UTF-8 (bytes from another system) cannot be recorded."""
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        shown = os.fsencode(path).decode("utf-8", "backslashreplace")
        raise InputError(f"{shown}: the file name is not valid UTF-8; rename the file") from None
