"""The app served for real (uvicorn on 127.0.0.1, ephemeral port) and Debian's chromium.

Browser tests skip with a reason when the `ui` extra, playwright or chromium is missing.
Screenshots of every page go to PROJECT/processed/screenshots/; set CURATE_UI_SCREENSHOTS=DIR
to keep copies in DIR as well.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from pathlib import Path

import pytest

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-dev-shm-usage",
]


def find_chromium() -> str | None:
    return os.environ.get("CURATE_CHROMIUM") or shutil.which("chromium")


@pytest.fixture
def serve():
    """serve(config) -> (base url, app): the app on a real socket until the test ends."""
    uvicorn = pytest.importorskip("uvicorn")
    from curate.ui import create_app

    servers = []

    def _serve(config):
        app = create_app(config)
        server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 20
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        port = server.servers[0].sockets[0].getsockname()[1]
        servers.append((server, thread, app))
        return f"http://127.0.0.1:{port}", app

    yield _serve
    for server, thread, app in servers:
        app.state.curate.runner.cancel()
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def chromium():
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    path = find_chromium()
    if path is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium, project):
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.errors = errors
    yield page
    context.close()


@pytest.fixture
def shoot(project):
    """shoot(page, name): a PNG under processed/screenshots (and $CURATE_UI_SCREENSHOTS)."""
    folder = project / "processed" / "screenshots"
    keep = os.environ.get("CURATE_UI_SCREENSHOTS")

    def _shoot(page, name: str) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        if keep:
            Path(keep).mkdir(parents=True, exist_ok=True)
            shutil.copy(path, Path(keep) / path.name)
        return path

    return _shoot
