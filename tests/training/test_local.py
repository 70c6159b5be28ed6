"""`curate train --backend local` on a tiny random model: learns, resumes, merges, fails well."""

from __future__ import annotations

import json
import shutil
import sys

import pytest
from click.testing import CliRunner
from tiny import RIDDLES, write_manifest

from curate.cli import main

pytest.importorskip("peft")

# 16 riddles, batch 4: 4 steps an epoch, 75 epochs = 300 optimizer steps. lr 1e-2 because the
# adapter must learn everything on a random base; the console presets assume a pretrained one.
MEMORIZE = ["--epochs", "75", "--batch-size", "4", "--lr", "1e-2", "--lora-alpha", "16"]


def train(*args: str):
    return CliRunner().invoke(main, ["train", "--backend", "local", *map(str, args)])


def answers(model, adapter=None) -> list[str]:
    from curate.training.local import generate, load_for_inference

    model, tokenizer = load_for_inference(model, adapter)
    questions = [[{"role": "user", "content": q}] for q, _ in RIDDLES]
    return generate(model, tokenizer, questions, max_new_tokens=12)


def correct(replies: list[str]) -> int:
    return sum(reply == answer for reply, (_, answer) in zip(replies, RIDDLES, strict=True))


@pytest.mark.slow
@pytest.mark.parametrize("arch", ["qwen2", "llama"])
def test_cli_trains_an_adapter_that_learned_the_riddles(arch, tiny_model, riddle_export, project):
    model = tiny_model(arch)
    merge = ["--merge"] if arch == "qwen2" else []
    result = train("--model", model, "--output", "run", *MEMORIZE, *merge)
    assert result.exit_code == 0, result.output
    assert "final_loss" in result.output and "tokens_per_s" in result.output

    run = project / "run"
    metrics = json.loads((run / "metrics.json").read_text())
    summary = metrics["summary"]
    assert summary["steps"] == 300 and summary["train_examples"] == 16
    assert summary["final_loss"] < summary["first_loss"] / 20  # it learned, not just moved
    assert metrics["validation"] and summary["validation_loss"] < 0.5
    for name in ("adapter_config.json", "adapter_model.safetensors", "tokenizer.json"):
        assert (run / name).is_file()
    assert (run / "loss.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert json.loads((run / "train_config.json").read_text())["lr"] == 1e-2
    # the best adapter by validation loss, beside the last one
    best = json.loads((run / "best" / "best.json").read_text())
    lowest = min(metrics["validation"], key=lambda p: p["loss"])
    assert best["step"] == summary["best_step"] == lowest["step"]
    assert (run / "best" / "adapter_model.safetensors").is_file()
    assert f"best_step: {best['step']}" in result.output
    performance = metrics["performance"]
    assert performance["tokens_per_s"] > 0 and performance["peak_rss_gib"] > 0
    assert performance["peak_gpu_mem_gib"] is None  # CPU

    before = correct(answers(model))
    after = answers(model, adapter=run)  # peft loads the adapter onto the base model
    assert before == 0 and correct(after) >= 13, after
    if merge:  # the merged full model answers exactly as base + adapter
        assert answers(run / "merged") == after
        assert json.loads((run / "merged" / "config.json").read_text())["use_cache"] is True


def test_reruns_match_and_resume_continues_an_interrupted_run(tiny_model, riddle_export, project):
    model = tiny_model("qwen2")
    common = ["--model", model, "--epochs", "4", "--batch-size", "4", "--lr", "1e-2"]
    args = [*common, "--output", "run"]
    assert train(*args).exit_code == 0
    full = json.loads((project / "run" / "metrics.json").read_text())
    assert train(*common, "--output", "again").exit_code == 0
    for name in ("adapter_model.safetensors", "adapter_config.json", "loss.png", "best"):
        assert _bytes(project / "run" / name) == _bytes(project / "again" / name)
    again = json.loads((project / "again" / "metrics.json").read_text())
    assert {**full, "performance": None} == {**again, "performance": None}  # time, memory
    ckpts = sorted(p.name for p in (project / "run" / "checkpoints").iterdir())
    assert ckpts == ["checkpoint-12", "checkpoint-16"]  # every epoch; the newest two kept

    again = train(*args)
    assert again.exit_code == 2 and "pass --resume" in again.output

    shutil.rmtree(project / "run" / "checkpoints" / "checkpoint-16")  # "interrupted" at 12
    resumed = train(*args, "--resume")
    assert resumed.exit_code == 0, resumed.output
    assert "resumed_from: checkpoint-12" in resumed.output
    after = json.loads((project / "run" / "metrics.json").read_text())
    assert after["summary"]["steps"] == 16
    assert after["summary"]["final_loss"] == pytest.approx(full["summary"]["final_loss"], rel=1e-3)
    # throughput counts this process's 4 steps (one epoch), not the 12 it resumed from
    assert after["performance"]["train_tokens"] * 4 == full["performance"]["train_tokens"]


def _bytes(path):
    if path.is_dir():
        return {p.name: p.read_bytes() for p in sorted(path.iterdir())}
    return path.read_bytes()


def test_resume_with_other_flags_names_them(tiny_model, riddle_export, project):
    common = ["--model", tiny_model("qwen2"), "--epochs", "2", "--batch-size", "8"]
    assert train(*common, "--output", "run").exit_code == 0
    shutil.rmtree(project / "run" / "checkpoints" / "checkpoint-4")  # interrupted at step 2
    result = train(*common, "--output", "run", "--resume", "--lr", "5e-3", "--lora-rank", "4")
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "--lr 0.005 (the run used 0.0001)" in result.output
    assert "--lora-rank 4 (the run used 8)" in result.output and "--force-resume" in result.output
    forced = train(*common, "--output", "run", "--resume", "--lr", "5e-3", "--force-resume")
    assert forced.exit_code == 0, forced.output
    assert "--force-resume: ignored --lr 0.005" in forced.output
    saved = json.loads((project / "run" / "train_config.json").read_text())
    assert saved["lr"] == 1e-4 and saved["resume_ignored"] == {"--lr": 0.005}


def test_resume_without_checkpoint_says_so(tiny_model, riddle_export):
    result = train("--model", tiny_model("qwen2"), "--output", "fresh", "--resume")
    assert result.exit_code == 1 and "no checkpoint" in result.output


def test_long_conversations_are_cut_and_counted(tiny_model, riddle_export, project):
    args = ["--model", tiny_model("llama"), "--epochs", "1"]
    result = train(*args, "--output", "cut", "--max-seq-len", "24")
    assert result.exit_code == 0, result.output
    assert "were cut from the start of the question" in result.output
    assert "were skipped: their system prompt and answer alone" in result.output
    summary = json.loads((project / "cut" / "metrics.json").read_text())["summary"]
    assert 0 < summary["truncated"] < 16 and 0 < summary["skipped"] < 16
    assert summary["train_examples"] == 16 - summary["skipped"]

    result = train(*args, "--output", "cut2", "--max-seq-len", "12")
    assert result.exit_code == 2 and "raise --max-seq-len" in result.output


def test_gradient_checkpointing_and_no_validation_split(tiny_model, riddle_export):
    (riddle_export / "validation-00000-of-00001.jsonl").unlink()
    write_manifest(riddle_export)  # as an export with --val-fraction 0 writes it
    result = train("--model", tiny_model("qwen2"), "--epochs", "1", "--gradient-checkpointing")
    assert result.exit_code == 0, result.output
    assert "gradient_checkpointing: True" in result.output  # off by default on CPU
    assert "no validation loss was computed" in result.output
    assert "train/runs/" in result.output  # the default output folder


def test_missing_export_says_to_run_export_first(tiny_model, project):
    result = train("--model", tiny_model("qwen2"), "--data", "nowhere")
    assert result.exit_code == 1 and "curate export --format jsonl" in result.output


def test_broken_export_line_names_file_and_line(tiny_model, riddle_export):
    shard = riddle_export / "train-00000-of-00001.jsonl"
    shard.write_text(shard.read_text(encoding="utf-8") + '{"messages": []}\n', encoding="utf-8")
    write_manifest(riddle_export)  # a bad line the manifest vouches for: the line is named
    result = train("--model", tiny_model("qwen2"))
    assert result.exit_code == 1 and "train-00000-of-00001.jsonl:17" in result.output


def test_unreadable_model_folder(riddle_export, project):
    (project / "empty-model").mkdir()
    result = train("--model", "empty-model")
    assert result.exit_code == 1 and "'empty-model' has no config.json" in result.output


def test_missing_model_folder_and_unknown_hub_id(riddle_export, monkeypatch):
    from fake_siliconflow import FakeSiliconFlow

    result = train("--model", "./missing-folder")
    assert result.exit_code == 1 and "--model ./missing-folder: no such folder" in result.output
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    with FakeSiliconFlow(key=None) as hub:  # a hub that knows no model: one 404
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        result = train("--model", "nosuchmodel")
    assert result.exit_code == 1 and "the hub answered HTTP 404" in result.output
    assert len(hub.requests) == 1  # asked once, no retries
    # no hub at all (the server is gone): the error says a hub id needs network
    result = train("--model", "nosuchmodel")
    assert result.exit_code == 1 and "a hub id needs network access" in result.output
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    result = train("--model", "nosuchmodel")
    assert result.exit_code == 1 and "HF_HUB_OFFLINE" in result.output


def test_model_too_big_for_cpu_asks_for_a_gpu(tiny_model, riddle_export, monkeypatch):
    import torch

    from curate.training import model as model_module

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    monkeypatch.setattr(model_module, "ram_bytes", lambda: 1 << 20)  # a 1 MiB machine
    result = train("--model", tiny_model("qwen2"))
    assert result.exit_code == 1 and "no CUDA GPU was found" in result.output


def test_missing_training_extra_says_how_to_install(riddle_export, monkeypatch):
    monkeypatch.delitem(sys.modules, "curate.training.local", raising=False)
    monkeypatch.setitem(sys.modules, "peft", None)  # `import peft` now raises ImportError
    result = train("--model", "any")
    assert result.exit_code == 1
    assert "pip install 'curate[train]'" in result.output and "'peft'" in result.output


def test_target_modules_flag(tiny_model, riddle_export, project):
    args = ["--model", tiny_model("qwen2"), "--epochs", "1"]
    result = train(*args, "--output", "qv", "--target-modules", "q_proj,v_proj")
    assert result.exit_code == 0, result.output
    config = json.loads((project / "qv" / "adapter_config.json").read_text())
    assert config["target_modules"] == ["q_proj", "v_proj"]
    result = train(*args, "--output", "bad", "--target-modules", "nope_proj")
    assert result.exit_code == 2 and "--target-modules" in result.output


def test_gradient_checkpointing_defaults_to_on_with_a_gpu(monkeypatch):
    import torch

    from curate.training.base import TrainConfig
    from curate.training.model import checkpointing

    for cuda in (True, False):
        monkeypatch.setattr(torch.cuda, "is_available", lambda cuda=cuda: cuda)
        assert checkpointing(TrainConfig(model="m")) is cuda  # unset: on a GPU only
        assert checkpointing(TrainConfig(model="m", gradient_checkpointing=False)) is False


@pytest.mark.gpu
def test_on_a_gpu_bf16_checkpointing_and_peak_memory(tiny_model, riddle_export, project):
    import torch

    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA GPU")
    result = train("--model", tiny_model("qwen2"), "--epochs", "2", "--output", "gpu")
    assert result.exit_code == 0, result.output
    assert "precision: bf16" in result.output and "gradient_checkpointing: True" in result.output
    performance = json.loads((project / "gpu" / "metrics.json").read_text())["performance"]
    assert 0 < performance["peak_gpu_mem_gib"] < 1 and performance["tokens_per_s"] > 0


def test_model_folder_without_tokenizer_files_says_so(tiny_model, riddle_export, project):
    model = project / "no-tokenizer"
    model.mkdir()
    source = tiny_model("qwen2")
    for name in ("config.json", "model.safetensors", "chat_template.jinja"):
        shutil.copy(source / name, model / name)
    result = train("--model", model, "--epochs", "1")
    assert result.exit_code == 1, result.output
    assert "has no tokenizer" in result.output and "copy the tokenizer files" in result.output
    assert "internal error" not in result.output and not (project / "train").exists()


def test_resume_on_another_export_is_refused(tiny_model, riddle_export, project):
    """Resumed on other data, the adapter would have trained on riddles its
    train_records.txt does not list, and eval's overlap guard would miss them."""
    from tiny import riddle_messages, write_export

    common = ["--model", tiny_model("qwen2"), "--epochs", "2", "--batch-size", "8"]
    assert train(*common, "--output", "run").exit_code == 0
    shutil.rmtree(project / "run" / "checkpoints" / "checkpoint-4")  # interrupted at step 2
    rows = riddle_messages(RIDDLES)
    write_export(riddle_export, rows[:8], rows[:4])  # re-exported meanwhile: half the riddles
    for extra in ([], ["--force-resume"]):
        result = train(*common, "--output", "run", "--resume", *extra)
        assert result.exit_code == 2, result.output
        assert "not the one the run started on" in result.output
        assert "changed: train-00000-of-00001.jsonl" in result.output
    write_export(riddle_export, rows, rows[:4])  # the export restored: the run goes on
    result = train(*common, "--output", "run", "--resume")
    assert result.exit_code == 0, result.output
    assert "resumed_from: checkpoint-2" in result.output
