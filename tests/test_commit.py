"""Atomic stage commits: a stage killed (SIGKILL, in a subprocess) at every named step of its
commit leaves the old complete stage, the new one, or files every reader refuses; the next
run cleans up and succeeds. One writer at a time per processed directory."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from stagedata import NEW, OLD, run_stage, write_riddles

from curate import commit, stage
from curate.errors import CurateError, StageError
from curate.stages.export import read_manifest
from curate.stages.report import ReportConfig, report

# Where each fault leaves a stage: before the old manifest goes, the old stage stands intact;
# after it, until the new manifest is in place, nothing may be read.
OUTCOME = {
    "write": "old",
    "synced": "old",
    "unlinked": "refused",
    "rename": "refused",
    "renamed": "refused",
    "manifest": "refused",
}
# The stage each command writes, and how a reader reads it.
STAGES = {
    "ingest": ("ingested", lambda p: stage.read_stage(p, "ingested")),
    "dedupe": ("deduped", lambda p: stage.read_stage(p, "deduped")),
    "export": ("export", lambda p: read_manifest(p / "export" / "jsonl")),
}


def prepared(folder: Path, command: str) -> Path:
    """The old complete stage of `command` on OLD input, then every stage before it on NEW
    input: what `command` run again finds."""
    (folder / "raw").mkdir(parents=True)
    order = ["ingest", "dedupe", "export"][: ["ingest", "dedupe", "export"].index(command) + 1]
    write_riddles(folder, OLD)
    for c in order:
        run_stage(c, folder)
    write_riddles(folder, NEW)
    for c in order[:-1]:
        run_stage(c, folder)
    return folder


def files_of(processed: Path, command: str) -> dict[str, str]:
    """The verified stage's files as {path: sha256}."""
    name, _ = STAGES[command]
    if command == "export":
        manifest = read_manifest(processed / "export" / "jsonl")
    else:
        manifest = stage.read_manifest(processed, name)
    return {f["path"]: f["sha256"] for f in manifest["files"]}


def temps(processed: Path) -> list[Path]:
    return [p for p in processed.rglob(".*.tmp")]


@pytest.fixture(scope="module", params=["ingest", "dedupe", "export"])
def states(request, tmp_path_factory):
    """(command, folder with the old stage, {path: sha256} of the old and of the new stage)."""
    command = request.param
    base = prepared(tmp_path_factory.mktemp(command) / "base", command)
    old = files_of(base / "processed", command)
    fresh = base.parent / "fresh"
    shutil.copytree(base, fresh)
    run_stage(command, fresh)
    new = files_of(fresh / "processed", command)
    assert new != old
    return command, base, old, new


def kill_at(point: str, command: str, folder: Path) -> None:
    """`python -m curate <command>` with CURATE_FAULT=<point>: it must die there."""
    args = {"export": ["--shard-size", "2", "--val-fraction", "0.3"]}.get(command, [])
    env = {**os.environ, commit.FAULT_ENV: point}
    done = subprocess.run(
        [sys.executable, "-m", "curate", command, *args],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr[-2000:]


@pytest.mark.slow
@pytest.mark.parametrize("point", commit.FAULT_POINTS)
def test_a_stage_killed_at_any_commit_step_is_old_new_or_refused(states, point, tmp_path):
    command, base, old, new = states
    folder = tmp_path / "project"
    shutil.copytree(base, folder)
    processed = folder / "processed"
    kill_at(point, command, folder)
    name, read = STAGES[command]
    if OUTCOME[point] == "old":
        assert files_of(processed, command) == old
        read(processed)
        assert temps(processed)  # the killed run's files, under temp names
    else:
        with pytest.raises(StageError, match="is incomplete or from two runs"):
            read(processed)
        with pytest.raises(StageError, match=r"is incomplete or from two runs \(.*\); rerun `"):
            report(ReportConfig(processed=processed, export_dir=processed / "export" / "jsonl"))
        if command != "export":
            with pytest.raises(StageError, match=f"{name}.* is incomplete"):
                run_stage({"ingest": "dedupe", "dedupe": "export"}[command], folder)
    run_stage(command, folder)  # the next run: the lock holder removes the leftovers
    assert files_of(processed, command) == new
    assert temps(processed) == []
    if command == "export":  # only the new run's shards are left
        shards = {p.name for p in (processed / "export" / "jsonl").glob("*-of-*")}
        assert shards == {Path(p).name for p in new if "-of-" in p}


def test_a_second_writer_waits_then_names_the_holder(project, monkeypatch):
    write_riddles(project, OLD)
    code = (
        "import sys, time; from curate.commit import lock\n"
        "with lock('processed'):\n    print('held', flush=True); time.sleep(60)"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", code], cwd=project, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        monkeypatch.setenv(commit.LOCK_WAIT_ENV, "0.2")
        with pytest.raises(CurateError, match=f"another curate command \\(pid {holder.pid}\\)"):
            run_stage("ingest", project)
        assert not (project / "processed" / "ingested.parquet").exists()
    finally:
        holder.kill()
        holder.wait()
    run_stage("ingest", project)  # the holder is gone: its lock went with it
    assert stage.read_stage(project / "processed", "ingested").height == len(OLD)


def test_the_lock_is_reentrant_and_cleans_only_temp_names(project):
    processed = project / "processed"
    stale = processed / ".deduped.parquet.a1b2c3d4.tmp"
    keep = processed / "notes.tmp"
    stale.write_text("x")
    keep.write_text("mine")
    with commit.lock(processed), commit.lock(processed):
        assert not stale.exists() and keep.exists()


def test_the_lock_removes_part_folders_of_a_killed_run(project):
    processed = project / "processed"
    parts = processed / ".ingested.parts.k3x9q2ab"  # TemporaryDirectory's name in ingest
    (parts / "sub").mkdir(parents=True)
    (parts / "sub" / "part-00000.parquet").write_bytes(b"x")
    mine = processed / "parts.of.mine"
    mine.mkdir()
    with commit.lock(processed):
        assert not parts.exists() and mine.exists()
