"""Paths the app may touch: everything resolved under its root, nothing outside it.

Uploads are written to the raw folder under a cleaned name (never over an existing file),
folders are listed for picking, and detection reuses ingest's own reader.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

from curate.errors import InputError, UndecodableError
from curate.stages.ingest import readers

SAFE_NAME = re.compile(r"[^\w.\-\u3400-\u9fff]+")
MAX_FOLDERS = 200  # folders offered by the picker
# File systems allow 255 bytes a name; keep room for free_path's "-N" and the temp file's
# ".NAME.XXXXXXXX.tmp" that atomic_path writes first.
MAX_NAME_BYTES = 200
# What a browser user can do with a file no encoding reads (the CLI says --encoding).
RESAVE = (
    "open it in an editor, save it as UTF-8 (Save As, encoding UTF-8; in Excel: CSV UTF-8) "
    "and upload it again"
)


def inside(root: Path, relative: str | Path) -> Path:
    """`root/relative`, resolved; an InputError if it leaves `root` (.., absolute, symlink)."""
    root = Path(root).resolve()
    path = (root / relative).resolve()
    if path != root and root not in path.parents:
        raise InputError(f"{relative}: outside the app's root folder")
    return path


def clean_name(name: str) -> str:
    """A file name safe to create: the last path part, odd characters replaced.

    >>> clean_name("../../etc/谜语 集.json")
    '谜语_集.json'
    """
    base = re.split(r"[\\/]", name)[-1].strip().lstrip(".")
    base = SAFE_NAME.sub("_", base)
    if not base or not readers.input_format(Path(base)):
        shown = name if len(name) <= 60 else name[:40] + "…" + name[-15:]
        raise InputError(
            f"{shown!r}: not a supported file type ({', '.join(readers.EXTENSIONS)}, or .gz)"
        )
    return shorten(base)


def shorten(name: str) -> str:
    """`name` cut to MAX_NAME_BYTES of UTF-8 in its stem; the extension (.json, .csv.gz) kept.

    >>> len(shorten("谜" * 100 + ".json").encode())
    200
    """
    path = Path(name)
    ext = "".join(path.suffixes[-2:] if path.suffix.lower() == ".gz" else path.suffixes[-1:])
    stem = name[: len(name) - len(ext)]
    while len((stem + ext).encode("utf-8")) > MAX_NAME_BYTES:
        stem = stem[:-1]
    return stem + ext


def free_path(folder: Path, name: str) -> Path:
    """`folder/name`, or `name` with -1, -2 ... before the extension when that exists."""
    path = folder / name
    stem, dot, ext = name.partition(".")
    n = 1
    while path.exists():
        path = folder / f"{stem}-{n}{dot}{ext}"
        n += 1
    return path


def detect(path: Path, root: Path) -> dict:
    """Format, encoding and record count of one raw file, by ingest's own reader; a file it
    cannot read has its message, naming the file as the page does (relative to `root`).
    Remembered while the file is unchanged: the Data page lists every file on each visit,
    and reading a 200 MB file takes seconds."""
    stat = Path(path).stat()
    return dict(_detect(Path(path), Path(root), stat.st_size, stat.st_mtime_ns, stat.st_ino))


@functools.lru_cache(maxsize=1024)
def _detect(path: Path, root: Path, size: int, mtime_ns: int, inode: int) -> dict:
    try:
        src = readers.read_file(path)
    except UndecodableError as exc:  # the CLI's advice (--encoding) is no use in a browser
        error = f"{rel(root, path)}: {exc.problem}; {RESAVE}"
        return {"format": readers.input_format(path) or "?", "encoding": None, "error": error}
    except InputError as exc:
        error = str(exc).replace(str(path), rel(root, path))
        return {"format": readers.input_format(path) or "?", "encoding": None, "error": error}
    return {"format": src.format, "encoding": src.encoding, "records": len(src.records)}


def raw_files(root: Path, folder: Path) -> list[dict]:
    """The input files ingest would read under `folder`, with size (no parsing)."""
    if not folder.is_dir():
        return []
    try:
        found = readers.find_inputs([folder])
    except InputError:
        return []
    paths = getattr(found, "paths", found)  # a list, or an object with .paths and .warnings
    return [
        {"path": rel(root, p), "name": p.name, "bytes": p.stat().st_size} for p in sorted(paths)
    ]


def folders(root: Path, depth: int = 3) -> list[str]:
    """Folders under root (not hidden, not the processed output) that hold input files."""
    root = Path(root).resolve()
    out = []
    for path in sorted(root.rglob("*")):
        parts = path.relative_to(root).parts
        if len(out) >= MAX_FOLDERS or len(parts) > depth or not path.is_dir():
            continue
        if any(
            p.startswith(".") or p in ("processed", "node_modules", "__pycache__") for p in parts
        ):
            continue
        if any(f.is_file() and readers.input_format(f) for f in path.iterdir()):
            out.append(path.relative_to(root).as_posix())
    return out


def rel(root: Path, path: Path) -> str:
    try:
        return Path(path).resolve().relative_to(Path(root).resolve()).as_posix()
    except ValueError:
        return Path(path).as_posix()
