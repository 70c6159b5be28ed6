"""Ingest as independent read tasks, for an engine that runs them apart (`--engine ray`): a
file, or a line-aligned byte range of a large JSONL file that keeps its true line numbers.

Each task converts its records with the local engine's own functions (`jsonl.map_lines`,
`batches.convert_batch`, `process.convert_file`), writes its kept rows to a part file in its
own folder and returns a `process.FileResult` (stats, rejects, part paths). `merge` puts the
results of a file's ranges back together, in input order, for the usual commit.

>>> [r.first_line for r in ranges_of(Path("raw/riddles.jsonl"), 1 << 40)]  # doctest: +SKIP
[1]
"""

from __future__ import annotations

import os
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from curate import commit
from curate.errors import InputError
from curate.io import sha256_file
from curate.stages.ingest import batches, filters, jsonl, process

RANGE_BYTES = jsonl.CHUNK  # one range is one batch of the local engine's stream (16 MiB)
_BARE_CR = re.compile(rb"\r(?!\n)")  # a CR alone ends a line, as jsonl.line_batches reads it
_BOM = b"\xef\xbb\xbf"
# CURATE_FAULT=ingested:task (tests): the first task to start kills its worker, once (a
# marker file FAULT_MARKER in the processed directory says it happened).
FAULT_POINT = "task"
FAULT_MARKER = ".ingested.task-killed"


@dataclass(frozen=True)
class Range:
    """Bytes [start, end) of a JSONL file, whose first line is line `first_line`."""

    start: int
    end: int
    first_line: int


@dataclass(frozen=True)
class Task:
    path: Path  # absolute: workers do not share the driver's working directory
    name: str  # the source name recorded in rows
    number: int  # of the task, in input order: its part folder
    range: Range | None = None  # None: the whole file
    given: str = ""  # the path as the user gave it, for error messages (the local engine's)


def ranges_of(path: Path, size: int = RANGE_BYTES) -> list[Range]:
    """Line-aligned ranges of about `size` bytes (each but the last ends with "\\n"), with
    the number of their first line counted as `jsonl.line_batches` counts lines."""
    out, start, line, pending = [], 0, 1, b""
    with open(path, "rb") as f:
        while data := f.read(size):
            pending += data
            cut = pending.rfind(b"\n") + 1
            if not cut:
                continue
            piece, pending = pending[:cut], pending[cut:]
            out.append(Range(start, start + cut, line))
            start += cut
            line += _BARE_CR.sub(b"\n", piece).count(b"\n")
    if pending or not out:
        out.append(Range(start, start + len(pending), line))
    return out


def tasks(files: list[tuple[Path, str]], config, size: int | None = None) -> list[Task]:
    """Read tasks in input order: ranges of plain UTF-8 JSONL files, else whole files."""
    size = size or RANGE_BYTES
    out: list[Task] = []
    for path, name in files:
        given, path = str(path), Path(path).resolve()
        splittable = jsonl.streamable(path, config.encoding) and path.suffix.lower() != ".gz"
        for r in ranges_of(path, size) if splittable else [None]:
            out.append(Task(path, name, len(out), r, given))
    return out


def range_lines(path: Path, r: Range) -> list[str]:
    """The lines of a range, as `jsonl.line_batches` gives them (BOMs, CR line ends)."""
    with open(path, "rb") as f:
        f.seek(r.start)
        piece = f.read(r.end - r.start)
    if r.start == 0 and piece.startswith(_BOM):  # utf-8-sig drops one BOM, then one U+FEFF
        piece = piece[len(_BOM) :]
        piece = piece[len(_BOM) :] if piece.startswith(_BOM) else piece
    lines = _BARE_CR.sub(b"\n", piece).decode("utf-8").split("\n")
    if piece.endswith(b"\n"):
        lines.pop()
    return lines


def run(task: Task, config, parts: Path) -> process.FileResult | None:
    """Convert one task's records; kept rows to a part file under `parts`. None: the file is
    not streamable JSONL after all (not UTF-8, or one JSON document): read it whole."""
    _fault_once(parts)
    spill = parts / f"{task.number:06d}"
    if task.range is None:
        done = process.Done(0, None)
        try:
            result = process.convert_file(task.path, task.name, config, done, spill)
        except InputError as exc:  # named by the path the user gave, as the local engine does
            exc.args = tuple(_given(a, task) for a in exc.args)
            raise
    else:
        result = _convert_range(task, config, spill)
        if result is None:
            return None
    result.flush()
    return result


def _given(arg: object, task: Task) -> object:
    return arg.replace(str(task.path), task.given) if isinstance(arg, str) and task.given else arg


def _fault_once(parts: Path) -> None:
    if os.environ.get(commit.FAULT_ENV) in (FAULT_POINT, f"ingested:{FAULT_POINT}"):
        try:
            (parts.parent / FAULT_MARKER).touch(exist_ok=False)
        except FileExistsError:
            return
        commit.fault(FAULT_POINT, "ingested")


def _convert_range(task: Task, config, spill: Path) -> process.FileResult | None:
    limits = filters.Limits(config.max_question_chars, config.max_answer_chars)
    stats = process.FileStats(task.name, "jsonl", jsonl.encoding_of(task.path), "")
    result = process.FileResult(stats, spill)
    try:
        lines = range_lines(task.path, task.range)
        if task.range.start == 0:
            process.first_line_ok(lines)
        mapped, slow, record, n = jsonl.map_lines(task.range.first_line, lines, config)
    except (UnicodeDecodeError, jsonl.NotStreamable):
        return None
    result.add(batches.convert_batch(mapped, slow, record, task.name, config, limits), n)
    return result


def merge(tasks_: list[Task], results: list[process.FileResult]) -> list[process.FileResult]:
    """One result per file, its ranges joined in order (stats summed, sha256 of the file)."""
    out: dict[Path, process.FileResult] = {}
    for task, r in zip(tasks_, results, strict=True):
        if task.path not in out:
            if task.range is not None:
                r.stats.sha256 = sha256_file(task.path)
            out[task.path] = r
            continue
        into = out[task.path]
        into.kept += r.kept
        into.rejects += r.rejects
        into.stats.records += r.stats.records
        into.stats.kept += r.stats.kept
        into.stats.reasons = Counter(into.stats.reasons) + Counter(r.stats.reasons)
    return list(out.values())


def convert_files(files: list[tuple[Path, str]], config, engine, parts: Path) -> list:
    """Every file's `process.FileResult`, in input order, its tasks run by `engine`
    (`map_tasks`); a file found not to be streamable JSONL is read again whole."""
    parts = Path(parts).resolve()
    todo = tasks(files, config)
    results = dict(zip(todo, engine.map_tasks(lambda t: run(t, config, parts), todo), strict=True))
    again = list(dict.fromkeys((t.path, t.name, t.given) for t, r in results.items() if r is None))
    if again:
        whole = {
            p: Task(p, name, len(todo) + n, given=given) for n, (p, name, given) in enumerate(again)
        }
        redo = list(whole.values())
        redone = engine.map_tasks(lambda t: run(t, config, parts), redo)
        results.update(zip(redo, redone, strict=True))
        order = []
        for t in todo:
            t = whole.get(t.path, t)
            if t not in order:
                order.append(t)
        todo = order
    return merge(todo, [results[t] for t in todo])
