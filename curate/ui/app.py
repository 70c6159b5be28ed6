"""The Starlette app: the routes of every page, the static assets, one State; bound to
loopback, only requests addressed to loopback (`hosts.py`: DNS rebinding)."""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import RedirectResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from curate.ui import files, pages_data, pages_model
from curate.ui.config import LOOPBACK, UiConfig
from curate.ui.hosts import LoopbackHostOnly
from curate.ui.jobs import Runner
from curate.ui.web import State, download, job_cancel, job_events, job_state


def create_app(config: UiConfig) -> Starlette:

    root = Path(config.root).resolve()
    holder: dict[str, State] = {}
    runner = Runner(root, config.api_key_env, lambda: holder["state"].api_key())
    holder["state"] = State(
        config, root, files.inside(root, config.processed), files.inside(root, config.raw), runner
    )
    routes = [
        Route("/", lambda request: RedirectResponse("/data")),
        Route("/jobs/events", job_events),
        Route("/jobs/current", job_state),
        Route("/jobs/cancel", job_cancel, methods=["POST"]),
        Route("/files/{path:path}", download),
        *pages_data.routes(),
        *pages_model.routes(),
        Mount("/static", StaticFiles(packages=[("curate.ui", "static")]), name="static"),
    ]
    guard = [Middleware(LoopbackHostOnly, port=config.port)] if config.host in LOOPBACK else []
    app = Starlette(routes=routes, middleware=guard)
    app.state.curate = holder["state"]
    return app
