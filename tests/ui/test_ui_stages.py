"""The pages read stages through the verified readers: a refused stage is a message on the
page (not a 500), and an export lists each of its files once."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest.importorskip("starlette")
from exportdata import as_stage, records, write_deduped  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402

from curate.stages.export import ExportConfig, export  # noqa: E402
from curate.ui import UiConfig, create_app  # noqa: E402

PAIRS = [(f"第{i}个谜语是什么？", f"谜底{i}") for i in range(12)]


@pytest.fixture
def client(project):
    import polars as pl

    from curate.record import SCHEMA

    processed = project / "processed"
    as_stage(processed, "ingested", pl.DataFrame(records(PAIRS), schema=SCHEMA))
    write_deduped(processed, records(PAIRS))
    for fmt in ("jsonl", "alpaca"):
        export(ExportConfig(processed=Path("processed"), format=fmt))
    app = create_app(UiConfig(root=project))
    with TestClient(app, base_url="http://127.0.0.1:8765") as c:
        yield c


def refusal(html: str) -> list[str]:
    return re.findall(r'<p class="bad stage-error"[^>]*>([^<]*)</p>', html)


def test_complete_stages_show_and_each_export_file_is_listed_once(client):
    for page in ("/data", "/report", "/review", "/export"):
        response = client.get(page)
        assert response.status_code == 200 and refusal(response.text) == [], page
    html = client.get("/export").text
    assert html.count(">export/alpaca/dataset_info.json</a>") == 1
    assert "export/jsonl/train-00000-of-00001.jsonl" in html


def test_a_changed_dedupe_stage_is_a_message_on_its_pages(client, project):
    parquet = project / "processed" / "deduped.parquet"
    size = parquet.stat().st_size
    with open(parquet, "ab") as f:
        f.write(b"\0")
    processed = (project / "processed").as_posix()
    for page in ("/report", "/review", "/review?tab=conflicts"):
        response = client.get(page)
        assert response.status_code == 200, page
        assert refusal(response.text) == [
            f"{processed}/deduped.* is incomplete or from two runs (deduped.parquet has "
            f"{size + 1} bytes, its manifest says {size}); rerun "
            f"`curate dedupe --processed {processed}`"
        ], page
    assert refusal(client.get("/data").text) == []  # ingest is complete


def test_an_export_without_its_manifest_is_a_message_and_lists_no_files(client, project):
    (project / "processed" / "export" / "alpaca" / "manifest.json").unlink()
    response = client.get("/export")
    assert response.status_code == 200
    assert refusal(response.text) == [
        f"{(project / 'processed').as_posix()}/export/alpaca/ is incomplete or from two runs "
        "(manifest.json is missing); rerun `curate export`"
    ]
    assert "export/alpaca/train-" not in response.text  # no download of a refused export
    assert "export/jsonl/train-00000-of-00001.jsonl" in response.text


def test_the_export_form_starts_from_the_last_export_run(client, project):
    import os

    processed = Path("processed")
    for n, (fmt, fraction) in enumerate([("jsonl", 0.3), ("alpaca", 0.2), ("jsonl", 0.25)]):
        export(ExportConfig(processed=processed, format=fmt, val_fraction=fraction))
        manifest = project / "processed" / "export" / fmt / "manifest.json"
        os.utime(manifest, (1_000_000 + n, 1_000_000 + n))  # written in this order
    html = client.get("/export").text
    assert re.search(r"<option selected>jsonl</option>", html)
    assert re.search(r'id="val_fraction"[^>]*value="0.25"', html)
