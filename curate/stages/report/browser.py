"""Open an HTML file in headless Chromium: console errors, outside requests, plots, screenshot.

Talks the DevTools protocol over `--remote-debugging-pipe` (NUL-terminated JSON on fds 3/4),
so no websocket library and no open port are needed. Used by `curate report --screenshot`
and by the browser test of the report.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from curate.errors import CurateError

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--hide-scrollbars",
    "--disable-dev-shm-usage",  # containers often have a tiny /dev/shm
    "--remote-debugging-pipe",
)
# What the page reports about itself once loaded: plots that actually occupy space.
_PROBE = """JSON.stringify({
  title: document.title,
  plots: [...document.querySelectorAll('svg.plot')]
    .filter(s => s.getBoundingClientRect().width > 50 && s.getBoundingClientRect().height > 20)
    .length,
  height: document.documentElement.scrollHeight,
})"""


def find_chromium() -> str | None:
    """The Chromium executable: $CURATE_CHROMIUM, else the first known name on PATH."""
    env = os.environ.get("CURATE_CHROMIUM")
    if env:
        return env
    return next((p for p in map(shutil.which, CANDIDATES) if p), None)


@dataclass
class PageCheck:
    title: str = ""
    plots: int = 0
    height: int = 0
    errors: list[str] = field(default_factory=list)  # console errors, exceptions, log errors
    requests: list[str] = field(default_factory=list)  # anything not file: or data:


class _Pipe:
    """A DevTools session over the two pipes; `call` waits for its reply, buffering events."""

    def __init__(self, proc: subprocess.Popen, write_fd: int, read_fd: int, timeout: float):
        self.proc, self.wfd, self.rfd = proc, write_fd, read_fd
        self.deadline = time.monotonic() + timeout
        self.buf, self.events, self.next_id = b"", [], 0

    def _read_message(self) -> dict:
        while b"\0" not in self.buf:
            left = self.deadline - time.monotonic()
            if left <= 0 or not select.select([self.rfd], [], [], left)[0]:
                raise CurateError("chromium did not answer in time")
            chunk = os.read(self.rfd, 1 << 20)
            if not chunk:
                raise CurateError("chromium closed the DevTools pipe")
            self.buf += chunk
        raw, self.buf = self.buf.split(b"\0", 1)
        return json.loads(raw)

    def call(self, method: str, session: str | None = None, **params) -> dict:
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params}
        if session:
            msg["sessionId"] = session
        os.write(self.wfd, json.dumps(msg).encode() + b"\0")
        while True:
            reply = self._read_message()
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise CurateError(f"chromium: {method} failed: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method: str) -> None:
        while not any(e.get("method") == method for e in self.events):
            self.events.append(self._read_message())


def _start(exe: str, profile: str) -> tuple[subprocess.Popen, int, int]:
    to_child_r, to_child_w = os.pipe()
    from_child_r, from_child_w = os.pipe()

    def _wire():  # runs in the child: Chromium reads commands on fd 3, writes replies on fd 4
        a = fcntl.fcntl(to_child_r, fcntl.F_DUPFD, 10)  # above 4, so the dup2s cannot collide
        b = fcntl.fcntl(from_child_w, fcntl.F_DUPFD, 10)
        os.dup2(a, 3)  # dup2 leaves the new fds inheritable; the rest close on exec
        os.dup2(b, 4)
        os.close(a)
        os.close(b)

    proc = subprocess.Popen(
        [exe, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=_wire,
        close_fds=False,
    )
    os.close(to_child_r)
    os.close(from_child_w)
    return proc, to_child_w, from_child_r


def _collect(events: list[dict], check: PageCheck) -> None:
    for e in events:
        method, p = e.get("method"), e.get("params", {})
        if method == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            check.errors.append(
                " ".join(str(a.get("value", a.get("description"))) for a in p.get("args", []))
            )
        elif method == "Runtime.exceptionThrown":
            d = p["exceptionDetails"]
            check.errors.append(d.get("exception", {}).get("description") or d.get("text", ""))
        elif method == "Log.entryAdded" and p["entry"].get("level") == "error":
            check.errors.append(p["entry"].get("text", ""))
        elif method == "Network.requestWillBeSent":
            url = p["request"]["url"]
            if not url.startswith(("file:", "data:", "about:")):
                check.requests.append(url)


def check_page(
    html: str | Path, screenshot: str | Path | None = None, width: int = 1280, timeout: float = 60.0
) -> PageCheck:
    """Load `html` in a fresh headless Chromium profile; optionally save a full-page PNG."""
    exe = find_chromium()
    if exe is None:
        raise CurateError(
            "chromium not found; install it (Debian: apt-get install chromium) "
            "or set CURATE_CHROMIUM to its path"
        )
    url = Path(html).resolve().as_uri()
    with tempfile.TemporaryDirectory(prefix="curate-chromium-") as profile:
        proc, wfd, rfd = _start(exe, profile)
        try:
            cdp = _Pipe(proc, wfd, rfd, timeout)
            target = cdp.call("Target.createTarget", url="about:blank")["targetId"]
            s = cdp.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
            for domain in ("Page", "Runtime", "Log", "Network"):
                cdp.call(f"{domain}.enable", session=s)
            cdp.call(
                "Emulation.setDeviceMetricsOverride",
                session=s,
                width=width,
                height=900,
                deviceScaleFactor=1,
                mobile=False,
            )
            cdp.call("Page.navigate", session=s, url=url)
            cdp.wait_for("Page.loadEventFired")
            probe = cdp.call("Runtime.evaluate", session=s, expression=_PROBE)
            check = PageCheck(**json.loads(probe["result"]["value"]))
            if screenshot is not None:
                shot = cdp.call(
                    "Page.captureScreenshot",
                    session=s,
                    format="png",
                    captureBeyondViewport=True,
                    clip={"x": 0, "y": 0, "width": width, "height": check.height, "scale": 1},
                )
                Path(screenshot).write_bytes(base64.b64decode(shot["data"]))
            _collect(cdp.events, check)
            cdp.call("Browser.close")
        finally:
            os.close(wfd)
            os.close(rfd)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    return check
