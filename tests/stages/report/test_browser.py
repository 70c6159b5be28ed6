"""The headless-Chromium check itself: it must see console errors and outside requests."""

from __future__ import annotations

import pytest

from curate.stages.report.browser import check_page, find_chromium

pytestmark = pytest.mark.skipif(find_chromium() is None, reason="chromium is not installed")


def test_check_page_reports_console_errors_requests_and_plots(tmp_path):
    page = tmp_path / "bad.html"
    page.write_text(
        "<!doctype html><title>bad</title>"
        '<svg class="plot" width="200" height="100"><rect width="9" height="9"/></svg>'
        '<img src="http://127.0.0.1:9/missing.png">'
        "<script>console.error('boom'); undefinedFunction();</script>",
        encoding="utf-8",
    )
    check = check_page(page)
    assert check.title == "bad" and check.plots == 1
    assert "boom" in check.errors
    assert any("undefinedFunction" in e for e in check.errors)
    assert check.requests == ["http://127.0.0.1:9/missing.png"]


def test_check_page_on_a_clean_page_finds_nothing(tmp_path):
    page = tmp_path / "ok.html"
    page.write_text("<!doctype html><title>ok</title><p>你好</p>", encoding="utf-8")
    check = check_page(page, screenshot=tmp_path / "ok.png")
    assert (check.errors, check.requests, check.plots) == ([], [], 0)
    assert (tmp_path / "ok.png").read_bytes()[:4] == b"\x89PNG"
