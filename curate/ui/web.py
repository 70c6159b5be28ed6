"""What every page shares: sessions and CSRF, rendering, the job endpoints, downloads.

Every browser gets a session cookie (HttpOnly, SameSite=Strict) and a CSRF token bound to it;
every state-changing request (POST) must send that token (form field `csrf` or header
`X-CSRF-Token`). The API key lives in this process's memory only (`State.api_key`): never
rendered, never logged, handed to job subprocesses through their environment.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    Response,
    StreamingResponse,
)

from curate.errors import CurateError
from curate.ui import files
from curate.ui.config import UiConfig
from curate.ui.jobs import Busy, Runner

COOKIE = "curate_session"
PAGES = ("data", "report", "review", "export", "train", "eval")


@dataclass
class State:
    config: UiConfig
    root: Path
    processed: Path
    raw: Path
    runner: Runner
    sessions: dict[str, str] = field(default_factory=dict)  # session id -> CSRF token
    typed_key: str | None = None  # typed into the Train page; memory only

    def api_key(self) -> str | None:
        return self.typed_key or os.environ.get(self.config.api_key_env) or None

    def key_source(self) -> str:
        if self.typed_key:
            return "typed in this session (memory only)"
        if os.environ.get(self.config.api_key_env):
            return f"from ${self.config.api_key_env}"
        return ""


_env = Environment(loader=PackageLoader("curate.ui", "templates"), autoescape=select_autoescape())
_env.filters["tojson_attr"] = lambda v: json.dumps(v, ensure_ascii=False)


def state(request: Request) -> State:
    return request.app.state.curate


def session(request: Request) -> tuple[str, str, bool]:
    """(session id, csrf token, new?) for this browser."""
    sessions = state(request).sessions
    sid = request.cookies.get(COOKIE, "")
    if sid in sessions:
        return sid, sessions[sid], False
    sid, token = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    sessions[sid] = token
    return sid, token, True


def check_csrf(request: Request, form=None) -> None:
    sid = request.cookies.get(COOKIE, "")
    expected = state(request).sessions.get(sid)
    sent = request.headers.get("x-csrf-token") or (form or {}).get("csrf")
    if not expected or not sent or not hmac.compare_digest(str(sent), expected):
        raise PermissionError("missing or wrong CSRF token; reload the page")


def render(request: Request, template: str, **context) -> HTMLResponse:
    st = state(request)
    sid, token, new = session(request)
    job = st.runner.current
    html = _env.get_template(template).render(
        request=request,
        csrf=token,
        pages=PAGES,
        page=template.removesuffix(".html"),
        job=job.snapshot() if job else None,
        busy=st.runner.busy,
        processed=files.rel(st.root, st.processed),
        **context,
    )
    response = HTMLResponse(html)
    if new:
        response.set_cookie(COOKIE, sid, httponly=True, samesite="strict", path="/")
    return response


def guarded(handler):
    """POST handlers: CSRF first; library errors become a 400 with the message."""

    async def wrapped(request: Request) -> Response:
        form: dict = {}
        kind = request.headers.get("content-type", "")
        if "form" in kind and "multipart" not in kind:
            form = await request.form()
        try:
            check_csrf(request, form)
        except PermissionError as exc:
            return JSONResponse({"error": str(exc)}, status_code=403)
        try:
            return await handler(request, form)
        except Busy as exc:
            return JSONResponse({"error": str(exc)}, status_code=409)
        except CurateError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)

    return wrapped


def start_job(request: Request, title: str, commands: list[list[str]], kind: str) -> JSONResponse:
    job = state(request).runner.start(title, commands, kind)
    return JSONResponse({"job": job.id, "title": job.title})


async def job_events(request: Request) -> StreamingResponse:
    """Server-sent events: the current job's new lines, state and curves, until it ends."""
    runner = state(request).runner
    since = int(request.query_params.get("since", "0"))

    async def stream():
        nonlocal since
        sent_end = False
        while not sent_end:
            if await request.is_disconnected():
                return
            job = runner.current
            if job is not None:
                snap = job.snapshot(since)
                since = snap["next"]
                sent_end = snap["status"] != "running"
                yield f"data: {json.dumps(snap, ensure_ascii=False)}\n\n"
            else:
                yield ": idle\n\n"
            await asyncio.sleep(0.25)

    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)


async def job_state(request: Request) -> JSONResponse:
    job = state(request).runner.current
    return JSONResponse(job.snapshot() if job else {"status": "idle"})


@guarded
async def job_cancel(request: Request, form) -> JSONResponse:
    return JSONResponse({"cancelled": state(request).runner.cancel()})


async def download(request: Request) -> Response:
    """A file under the processed folder or train/runs (no path traversal)."""
    st = state(request)
    wanted = request.path_params["path"]
    for base in (st.processed, st.root / "train" / "runs"):
        try:
            path = files.inside(base, wanted)
        except CurateError:
            continue
        if path.is_file():
            inline = path.suffix in (".html", ".png", ".svg")
            return FileResponse(
                path,
                filename=None if inline else path.name,
                content_disposition_type="inline" if inline else "attachment",
            )
    return JSONResponse({"error": f"{wanted}: not found"}, status_code=404)
