"""Train and Eval pages in a real browser: the SiliconFlow hand-off against the loopback
server, local training started and cancelled on the tiny model, and the eval table."""

from __future__ import annotations

from tiny import RIDDLES, riddle_messages, write_export
from uihelpers import run_job

from curate.ui import UiConfig

FT = "ft:LoRA/Qwen/Qwen2.5-7B-Instruct:acct:riddles:abcdefghij"


def _export(project, train=RIDDLES, validation=RIDDLES[:4]):
    folder = project / "processed" / "export" / "jsonl"
    return write_export(folder, riddle_messages(train), riddle_messages(validation))


def _type_key(page, key):
    page.fill("#api_key", key)
    page.click("#set-key")
    page.wait_for_selector("#key-state:has-text('typed in this session')")


def _files_hold(project, text: str) -> bool:
    return any(text in p.read_text(errors="ignore") for p in project.rglob("*") if p.is_file())


def test_siliconflow_handoff_validate_upload_attach(project, serve, page, shoot, fake_api):
    _export(project)
    url, app = serve(UiConfig(root=project))
    page.goto(f"{url}/train")
    _type_key(page, fake_api.key)
    page.fill("#sf-url", fake_api.url)

    job = run_job(page, app, lambda: page.click("#sf-validate"))
    assert job.status == "done", job.lines[-5:]
    handoff = page.locator(".handoff[data-run=riddles]")
    assert "dry_run" in handoff.inner_text() and fake_api.uploads == []

    job = run_job(page, app, lambda: page.click("#sf-upload"))
    assert job.status == "done", job.lines[-5:]
    assert "uploaded" in handoff.inner_text() and len(fake_api.uploads) == 1
    assert handoff.locator(".file-id").inner_text().startswith("file-")
    steps = handoff.locator(".console li").all_inner_texts()
    assert any("Task name: riddles" in s for s in steps)
    assert any("LoRA Rank 8" in s for s in steps)

    page.fill("#sf-model-id", FT)
    job = run_job(page, app, lambda: page.click("#sf-attach"))
    assert job.status == "done", job.lines[-5:]
    assert FT in handoff.locator(".attached").inner_text()
    shoot(page, "train")
    # The key went to the server only as a header; never to the page, the output or a file.
    assert (
        fake_api.calls("POST /v1/chat/completions")[-1]
        .headers["authorization"]
        .endswith(fake_api.key)
    )
    assert fake_api.key not in page.content()
    assert not any(fake_api.key in line for j in app.state.curate.runner.jobs for line in j.lines)
    assert not _files_hold(project, fake_api.key)
    assert page.errors == []


def test_local_training_shows_live_loss_and_cancels(project, serve, page, shoot, tmp_path):
    import pytest

    pytest.importorskip("torch")
    from tiny import build_tiny_model

    model = build_tiny_model(tmp_path / "tiny")
    _export(project)
    url, app = serve(UiConfig(root=project))
    page.goto(f"{url}/train")
    page.fill("#local-model", str(model))
    page.fill("#local-epochs", "2000")  # far more than it gets to run
    page.fill("#local-batch", "16")  # one step an epoch: the first loss is logged at step 20
    page.fill("#local-lr", "0.01")
    page.click("#local-start")
    page.wait_for_selector("#loss-last", timeout=180_000)  # the live curve
    shoot(page, "train-local")
    page.click("#cancel")
    job = app.state.curate.runner.wait(60)
    page.wait_for_function("document.body.dataset.jobEnded === 'cancelled'")
    assert job.status == "cancelled" and len(job.loss) >= 1
    assert page.locator("#job-status").inner_text() == "cancelled"
    out = project / "train" / "runs" / "local"
    assert not (out / "adapter_model.safetensors").exists()  # no half-written adapter
    assert not app.state.curate.runner.busy


def test_eval_page_three_way_table_and_disagreements(project, serve, page, shoot, fake_api):
    answers = dict(RIDDLES)
    fake_api.reply = lambda model, messages: (
        answers.get(messages[-1]["content"], "?") if model.startswith("ft:") else "不知道"
    )
    _export(project, train=RIDDLES[4:], validation=RIDDLES[:4])
    url, app = serve(UiConfig(root=project))
    page.goto(f"{url}/train")
    _type_key(page, fake_api.key)
    page.goto(f"{url}/eval")
    form = page.locator("form[action='/eval/run']")
    form.locator("input[name=name]").fill("eval-ft")
    form.locator("input[name=endpoint]").fill(fake_api.url)
    form.locator("input[name=finetuned_model]").fill(FT)
    job = run_job(page, app, lambda: form.locator("button").click())
    assert job.status == "done", job.lines[-8:]
    rows = page.locator("#eval-table tbody tr").all_inner_texts()
    assert [r.split("\t")[0] for r in rows] == ["base", "system_prompt", "finetuned"]
    assert "100.0%" in rows[2] and "0.0%" in rows[0]
    assert page.locator("#eval-table .ci").count() >= 6  # 95% intervals of the two rates
    assert "finetuned" in page.locator("#comparisons").inner_text()  # paired tests
    assert page.locator("#disagree tbody tr").count() == 4
    shoot(page, "eval")
    assert page.errors == []
