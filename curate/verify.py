"""Verified reads of a stage's manifest, without heavy imports (no polars): the training and
eval paths use these alone, the data stages through `curate.stage`.

A manifest lists every file its stage wrote with its size and sha256 (`curate.commit`). A
reader takes a stage only when every listed file is there with that size and digest; else it
refuses with "`label` is incomplete or from two runs (why); rerun `command`".

Export folders are read by training and eval, which also take plain JSONL files of the user's:
`split_files` verifies a folder against its `manifest.json` when it has one, and refuses a
folder of a processed directory (`<processed>/export/<format>/`) whose manifest is missing,
the state a killed export leaves; a folder of the user's own files without one is read as is.
"""

from __future__ import annotations

import json
import os
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from curate.errors import StageError
from curate.files import sha256_file

MANIFEST = "manifest.json"
EXPORT_RERUN = "curate export"
LOCK_NAME = ".curate.lock"  # in every processed directory a stage has written to
SHARD = re.compile(r"^(train|validation)-\d{5}-of-\d{5}\.(jsonl|json|parquet)$")


def sha256_files(paths: list[Path]) -> list[str]:
    """sha256 of each file, hashed in parallel (hashlib releases the GIL on large reads)."""
    if len(paths) < 2:
        return [sha256_file(p) for p in paths]
    with ThreadPoolExecutor(min(len(paths), os.cpu_count() or 1)) as pool:
        return list(pool.map(sha256_file, paths))


def verified(path: Path, label: str, rerun: str, outside: bool = True) -> dict:
    """The manifest at `path` once every file it lists has its size and sha256; else a
    StageError: "`label` is incomplete or from two runs (why); rerun `rerun`".
    outside=False: only the files in the manifest's folder or below are checked."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        files = data["files"]
        if not outside:
            files = [f for f in files if not f["path"].startswith("../")]
        problem = mismatch(Path(path).parent, files)
    except FileNotFoundError:
        problem = f"{Path(path).name} is missing"
    except (ValueError, KeyError, TypeError):
        problem = f"{Path(path).name} is not a stage manifest"
    if problem:
        raise StageError(f"{label} is incomplete or from two runs ({problem}); rerun `{rerun}`")
    return data


def mismatch(folder: Path, files: list[dict]) -> str | None:
    """The first listed file that is missing or differs in size or sha256, or None."""
    paths = [folder / f["path"] for f in files]
    for f, path in zip(files, paths, strict=True):
        if not path.is_file():
            return f"{f['path']} is missing"
        if path.stat().st_size != f["bytes"]:
            return f"{f['path']} has {path.stat().st_size} bytes, its manifest says {f['bytes']}"
    for f, digest in zip(files, sha256_files(paths), strict=True):
        if digest != f["sha256"]:
            return f"{f['path']}'s sha256 differs from its manifest"
    return None


def export_manifest(folder: Path) -> dict | None:
    """The verified manifest of the export in `folder`; None for a folder of the user's own
    files (no manifest, not in a processed directory). StageError for an export whose files
    differ from its manifest, or one in a processed directory without its manifest."""
    folder = Path(folder)
    label = f"{folder.as_posix()}/"
    if (folder / MANIFEST).is_file():
        # The export's rejects (../../exported.rejects.jsonl) are not read from here, and an
        # export folder copied alone (to the machine that trains) leaves them behind.
        try:
            return verified(folder / MANIFEST, label, EXPORT_RERUN, outside=False)
        except StageError as exc:  # rerunning the export would undo edits made on purpose
            raise StageError(
                f"{exc}; or, to use files you edited on purpose, copy the train-*/validation-* "
                "files to a folder of their own (no manifest.json) and pass that folder"
            ) from None
    written_by_curate = (folder.parent.parent / LOCK_NAME).is_file()
    if written_by_curate and folder.is_dir() and any(SHARD.match(p.name) for p in folder.iterdir()):
        return verified(folder / MANIFEST, label, EXPORT_RERUN)  # says it is missing
    return None


def split_files(data: Path, split: str, ext: str = "jsonl") -> list[Path]:
    """The `<split>-*.<ext>` files of the folder `data`, in order; from an export, the ones
    its verified manifest lists (a shard on disk it does not list is refused)."""
    data = Path(data)
    found = sorted(data.glob(f"{split}-*.{ext}"))
    manifest = export_manifest(data)
    if manifest is None:
        return found
    listed = sorted(data / f["path"] for f in manifest["files"] if f.get("split") == split)
    listed = [p for p in listed if p.name.endswith(f".{ext}")]
    extra = [p.name for p in found if p not in listed and SHARD.match(p.name)]
    if extra:
        raise StageError(
            f"{data.as_posix()}/ is incomplete or from two runs ({extra[0]} is not in its "
            f"manifest); rerun `{EXPORT_RERUN}`"
        )
    return listed


def empty_split(data: Path, split: str) -> str | None:
    """Why the export in `data` has no `split` file, when it is an export that ran: it held
    nothing out (a tiny set), or was written in another format. None otherwise.
    ("run `curate export` first" is no help there: it ran.)"""
    manifest = export_manifest(data) if Path(data).is_dir() else None
    if not manifest:
        return None
    if manifest.get("format", "jsonl") != "jsonl":
        fmt = manifest["format"]
        return f"{data} holds a --format {fmt} export; this reads jsonl: run `curate export`"
    if not manifest.get("counts", {}).get("kept", 1):
        return f"the export in {data} holds no records; see why with `curate report`"
    if (manifest.get("splits") or {}).get(split, {}).get("records") == 0:
        fraction = (manifest.get("params") or {}).get("val_fraction")
        change = "a smaller" if split == "train" else "a larger"
        return (
            f"the export in {data} has no {split} records ({manifest['counts']['kept']} in "
            f"all, --val-fraction {fraction}); export more riddles or {change} --val-fraction"
        )
    return None


def check_file(path: Path) -> Path:
    """`path`, once verified when it is a shard of an export (a manifest beside it)."""
    path = Path(path)
    if SHARD.match(path.name):
        manifest = export_manifest(path.parent)
        if manifest is not None and path.name not in {f["path"] for f in manifest["files"]}:
            raise StageError(
                f"{path.parent.as_posix()}/ is incomplete or from two runs ({path.name} is "
                f"not in its manifest); rerun `{EXPORT_RERUN}`"
            )
    return path
