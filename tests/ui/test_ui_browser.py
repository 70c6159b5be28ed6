"""The whole path in a real browser: upload -> run -> review (different riddles, keep this one,
this answer is right; each followed by a rerun) -> export -> download."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
from uihelpers import run_job

from curate.ui import UiConfig

REPO = Path(__file__).resolve().parents[2]
RAW = sorted(p for p in (REPO / "raw").iterdir() if p.suffix != ".md")


def test_upload_run_review_rerun_export_download(project, serve, page, shoot):
    url, app = serve(UiConfig(root=project))
    page.goto(f"{url}/data")
    page.set_input_files("#files", [str(p) for p in RAW])
    page.wait_for_selector("#listing")
    listing = page.locator("#listing").inner_text()
    assert "zimi_gbk.txt" in listing and "gb18030" in listing  # detected encoding
    assert "riddles.csv" in listing and "utf-8-sig" in listing
    assert sorted(p.name for p in (project / "raw").iterdir()) == [p.name for p in RAW]

    job = run_job(page, app, lambda: page.click("#run"))
    assert job.status == "done", job.lines[-5:]
    assert [line for line in job.lines if line.startswith("[")][:4] == [
        "[1/4] ingest …",
        "[2/4] dedupe …",
        "[3/4] export …",
        "[4/4] report …",
    ]
    assert "411 read, 388 kept" in page.locator("main").inner_text()
    shoot(page, "data")

    page.goto(f"{url}/report?reason=mojibake")
    rows = page.locator("#rejects tbody tr")
    assert rows.count() == 4 and "mojibake" in rows.first.inner_text()
    shoot(page, "report")

    # Review: a two-record cluster; mark the pair as different riddles.
    page.goto(f"{url}/review?kind=variant")
    cluster = page.locator(".cluster").filter(has=page.locator(".member")).first
    question = cluster.locator(".member .q").first.inner_text()
    kept_before = _kept(project)
    cluster.locator("button[data-decision=distinct]").first.click()
    page.wait_for_selector(".tag.decided")
    shoot(page, "review")
    override = json.loads((project / "dedupe.overrides.jsonl").read_text(encoding="utf-8"))
    assert override["decision"] == "distinct" and override["b"] == question

    job = run_job(page, app, lambda: page.click("#rerun"))
    assert job.status == "done", job.lines[-5:]
    assert _kept(project) == kept_before + 1  # the pair is no longer merged
    assert question not in page.locator("main").inner_text()  # gone from the clusters

    # Keep the removed copy instead of the survivor: after the rerun it is the kept record.
    page.goto(f"{url}/review?kind=near_duplicate")
    cluster = page.locator(".cluster").filter(has=page.locator(".member")).first
    old_survivor = cluster.locator(".survivor .q").inner_text()
    chosen = cluster.locator(".member .q").first.inner_text()
    cluster.locator(".member button[data-decision=survivor]").first.click()
    page.wait_for_selector(".tag.decided")
    job = run_job(page, app, lambda: page.click("#rerun"))
    assert job.status == "done", job.lines[-5:]
    page.goto(f"{url}/review?kind=near_duplicate")
    swapped = page.locator(".cluster").filter(has=page.locator(".survivor .q", has_text=chosen))
    assert swapped.count() == 1 and old_survivor in swapped.locator(".member .q").all_inner_texts()
    assert _kept(project) == kept_before + 1  # the same riddles, another copy kept

    page.goto(f"{url}/review?tab=conflicts")
    manifest = json.loads((project / "processed" / "deduped.manifest.json").read_text())
    assert page.locator(".conflict").count() == manifest["conflicts"] >= 1
    shoot(page, "conflicts")
    # Settle the first conflict: A's answer is right; B's is removed as a conflict of A.
    wrong = page.locator(".conflict").first.locator(".side").nth(1).locator(".a").inner_text()
    page.locator(".conflict").first.locator("button[data-decision=answer]").first.click()
    page.wait_for_selector(".conflict .tag.decided")
    job = run_job(page, app, lambda: page.click("#rerun"))
    assert job.status == "done", job.lines[-5:]
    after = json.loads((project / "processed" / "deduped.manifest.json").read_text())
    assert after["conflicts"] == manifest["conflicts"] - 1
    assert after["removed_by_kind"]["conflict"] == manifest["removed_by_kind"]["conflict"] + 1
    assert _kept(project) == kept_before
    rejects = (project / "processed" / "deduped.rejects.jsonl").read_text(encoding="utf-8")
    settled = [json.loads(x) for x in rejects.splitlines() if '"conflict"' in x]
    assert [r["kind"] for r in settled] == ["conflict"]
    ingested = pl.read_parquet(project / "processed" / "ingested.parquet")
    assert ingested.filter(pl.col("id") == settled[0]["id"])["answer"].to_list() == [wrong]

    page.goto(f"{url}/export")
    page.fill("#val_fraction", "0.2")
    page.fill("#system_prompt", "你是猜谜高手。")
    job = run_job(page, app, lambda: page.click("#export"))
    assert job.status == "done", job.lines[-5:]
    shoot(page, "export")
    link = page.locator(".export[data-format=jsonl] a", has_text="train-00000").first
    with page.expect_download() as download:
        link.click()
    path = Path(download.value.path())
    first = json.loads(path.read_text(encoding="utf-8").splitlines()[0])
    assert first["messages"][0] == {"role": "system", "content": "你是猜谜高手。"}
    card = page.locator(".export[data-format=jsonl] a", has_text="README.md")
    assert card.count() == 1
    assert page.errors == []


def _kept(project: Path) -> int:
    manifest = project / "processed" / "deduped.manifest.json"
    return json.loads(manifest.read_text(encoding="utf-8"))["counts"]["kept"]


def test_an_unreadable_upload_is_named_after_the_others_are_listed(project, serve, page):
    url, _ = serve(UiConfig(root=project))
    page.goto(f"{url}/data")
    good = json.dumps([{"question": "什么花不能看？", "answer": "雪花"}], ensure_ascii=False)
    page.set_input_files(
        "#files",
        [
            {"name": "坏.json", "mimeType": "application/json", "buffer": bytes(range(128, 256))},
            {"name": "好.json", "mimeType": "application/json", "buffer": good.encode()},
        ],
    )
    page.wait_for_selector("#listing")  # the page reloaded to list the saved file
    assert "raw/好.json" in page.locator("#listing").inner_text()
    assert "坏" not in page.locator("#listing").inner_text()
    flash = page.locator("#flash")
    assert flash.is_visible() and flash.inner_text().startswith("坏.json was not saved")
    page.reload()  # said once, not on every later visit
    assert page.locator("#flash").is_hidden()
