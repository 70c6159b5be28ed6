"""Helpers of the browser tests (the fixtures are in conftest.py)."""

from __future__ import annotations

import time


def run_job(page, app, click, timeout: float = 180.0):
    """Click what starts a job, wait for it on the server, then for the page to show the end
    (a finished job reloads the page; a failed or cancelled one stays). The job."""
    runner = app.state.curate.runner
    before = len(runner.jobs)
    click()
    deadline = time.monotonic() + 20
    while len(runner.jobs) == before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(runner.jobs) > before, page.locator("#flash").inner_text()
    job = runner.wait(timeout)
    page.wait_for_function(
        "n => (document.body.dataset.job === n && document.body.dataset.busy === 'no')"
        " || !!document.body.dataset.jobEnded",
        arg=str(job.id),
        timeout=30_000,
    )
    page.wait_for_load_state()
    return job
