"""Long jobs as `curate` subprocesses, one at a time, with their output kept for the page.

A job is a list of `curate` command lines run in order in the app's root. Output (stdout and
stderr together) is split on newlines and carriage returns (progress bars), the API key is
redacted from every line, and a few facts are parsed for the page: the pipeline step running
and the training loss. Cancel terminates the subprocess's process group; every stage commits
its files atomically, so a cancelled stage leaves the previous complete output in place.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from curate.errors import CurateError

MAX_LINES = 5000  # kept per job; older lines are dropped (the page shows the tail)
STEP = re.compile(r"^\[(\d+)/(\d+)\] (\w+)")  # `curate run`: "[2/4] dedupe …"
TQDM = re.compile(r"(\d+)/(\d+) \[")  # "train:  10%|█  | 30/300 [00:01<00:09, ..."
LOSS = re.compile(r"(?<![\w])loss=([0-9.]+(?:e-?\d+)?)")
VAL_LOSS = re.compile(r"val_loss=([0-9.]+(?:e-?\d+)?)")


class Busy(CurateError):
    """Another job is running."""


@dataclass
class Job:
    id: int
    title: str
    commands: list[list[str]]
    kind: str = "job"  # what the page does with it: run, dedupe, export, train, eval
    status: str = "running"  # running | done | failed | cancelled
    returncode: int | None = None
    lines: list[str] = field(default_factory=list)
    dropped: int = 0  # lines dropped from the front
    step: str = ""  # current pipeline step or command
    progress: tuple[int, int] | None = None
    loss: list[tuple[int, float]] = field(default_factory=list)  # (step, train loss)
    val_loss: list[tuple[int, float]] = field(default_factory=list)
    started: float = field(default_factory=time.time)
    ended: float | None = None

    def snapshot(self, since: int = 0) -> dict:
        """What the page needs: new lines since line number `since`, state and curves."""
        start = max(since - self.dropped, 0)
        return {
            "id": self.id,
            "title": self.title,
            "kind": self.kind,
            "status": self.status,
            "returncode": self.returncode,
            "step": self.step,
            "progress": self.progress,
            "next": self.dropped + len(self.lines),
            "lines": self.lines[start:],
            "loss": self.loss,
            "val_loss": self.val_loss,
        }


def curate_command(*args: str) -> list[str]:
    """The command line of `curate ARGS...` with this interpreter."""
    return [sys.executable, "-m", "curate", *args]


class Runner:
    """Runs one job at a time; `secret()` gives the API key (or None) at start time."""

    def __init__(self, cwd: Path, env_name: str, secret) -> None:
        self.cwd = Path(cwd)
        self.env_name = env_name
        self.secret = secret
        self.jobs: list[Job] = []
        self._lock = threading.Lock()
        self._proc: subprocess.Popen | None = None
        self._cancelled = False

    @property
    def current(self) -> Job | None:
        return self.jobs[-1] if self.jobs else None

    @property
    def busy(self) -> bool:
        job = self.current
        return job is not None and job.status == "running"

    def start(self, title: str, commands: list[list[str]], kind: str = "job") -> Job:
        with self._lock:
            if self.busy:
                raise Busy(f"a job is running ({self.current.title}); wait or cancel it")
            job = Job(len(self.jobs) + 1, title, commands, kind)
            self.jobs.append(job)
            self._cancelled = False
        threading.Thread(target=self._run, args=(job,), daemon=True).start()
        return job

    def cancel(self) -> bool:
        """Stop the running job (also one whose subprocess is still starting)."""
        with self._lock:
            if not self.busy:
                return False
            proc, self._cancelled = self._proc, True
        if proc is not None:
            _terminate(proc)
        return True

    def wait(self, timeout: float = 60.0) -> Job | None:
        """Block until the current job ends (tests and the CLI's shutdown)."""
        deadline = time.monotonic() + timeout
        while self.busy and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.current

    def _env(self) -> dict[str, str]:
        env = dict(os.environ, PYTHONUNBUFFERED="1", PYTHONIOENCODING="utf-8", COLUMNS="120")
        key = self.secret()
        if key:
            env[self.env_name] = key
        return env

    def _run(self, job: Job) -> None:
        rc = 0
        for argv in job.commands:
            if self._cancelled:
                break
            job.step = argv[3] if len(argv) > 3 else ""
            job.progress = None
            self._add(job, "$ curate " + " ".join(_quote(a) for a in argv[3:]))
            try:
                proc = subprocess.Popen(
                    argv,
                    cwd=self.cwd,
                    env=self._env(),
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,  # its own process group: cancel ends its children
                )
            except OSError as exc:
                self._add(job, f"could not start: {exc}")
                rc = 1
                break
            with self._lock:
                self._proc = proc
                cancelled = self._cancelled
            if cancelled:  # cancel came while it was starting
                _terminate(proc)
            self._pump(job, proc)
            rc = proc.wait()
            with self._lock:
                self._proc = None
            if rc != 0 or self._cancelled:
                break
        job.returncode = rc
        job.status = "cancelled" if self._cancelled else ("done" if rc == 0 else "failed")
        job.ended = time.time()
        self._add(job, f"[{job.status}]")

    def _pump(self, job: Job, proc: subprocess.Popen) -> None:
        buffer = b""
        while chunk := proc.stdout.read1(65536):
            buffer += chunk
            *complete, buffer = re.split(rb"\r\n|\r|\n", buffer)
            for raw in complete:
                self._add(job, raw.decode("utf-8", "replace"))
        if buffer:
            self._add(job, buffer.decode("utf-8", "replace"))

    def _add(self, job: Job, line: str) -> None:
        key = self.secret()
        if key and key in line:
            line = line.replace(key, "***")
        if not line.strip():
            return
        _parse(job, line)
        job.lines.append(line)
        if len(job.lines) > MAX_LINES:
            cut = len(job.lines) - MAX_LINES
            del job.lines[:cut]
            job.dropped += cut


def _terminate(proc: subprocess.Popen) -> None:
    """SIGTERM to the process group, SIGKILL if it is still there after 10 s."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _parse(job: Job, line: str) -> None:
    if m := STEP.match(line):
        job.step, job.progress = m[3], (int(m[1]), int(m[2]))
        return
    if (m := TQDM.search(line)) and "train" in line:
        done, total = int(m[1]), int(m[2])
        job.progress = (done, total)
        if (loss := LOSS.search(line)) and (not job.loss or job.loss[-1][0] != done):
            job.loss.append((done, float(loss[1])))
        if (val := VAL_LOSS.search(line)) and (
            not job.val_loss or job.val_loss[-1][1] != float(val[1])
        ):
            job.val_loss.append((done, float(val[1])))


def _quote(arg: str) -> str:
    return repr(arg) if not arg or any(c in arg for c in " '\"") else arg
