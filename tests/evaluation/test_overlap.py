"""The overlap guard: eval refuses riddles the fine-tuned model was trained on."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from curate.cli import main
from curate.errors import InputError
from curate.evaluation import EvalConfig, evaluate
from curate.training.records import HASHES_FILE, SHARDS_FILE, write_train_record

BASE, TUNED = "Qwen/Qwen2.5-7B-Instruct", "ft:LoRA/Qwen/riddles:ckpt"
VALIDATION = [
    ("什么门永远关不上？", "球门"),
    ("猪鼻子插葱", "装象（相）"),
    ("什么东西越洗越脏？", "水"),
    ("什么床不能睡？", "牙床"),
]


def messages(q: str, a: str) -> dict:
    return {"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": a}]}


def write_split(folder: Path, split: str, riddles) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{split}-00000-of-00001.jsonl"
    lines = [json.dumps(messages(q, a), ensure_ascii=False) + "\n" for q, a in riddles]
    path.write_text("".join(lines), "utf-8")
    return path


@pytest.fixture
def export(project) -> Path:
    folder = project / "processed" / "export" / "jsonl"
    write_split(folder, "validation", VALIDATION)
    return folder


def trained_on(folder: Path, riddles) -> Path:
    """A training run folder whose record lists `riddles` (as `curate train` writes it)."""
    shard = write_split(folder / "data", "train", riddles)
    write_train_record(folder, [shard], [messages(q, a) for q, a in riddles])
    return folder


# Two validation riddles in another spelling (traditional, other punctuation): still the same.
OVERLAPPING = [
    ("什麼門永遠關不上?", "球門"),
    ("猪鼻子插葱。", "装象(相)"),
    ("什么蛋不能吃？", "笨蛋"),
]


def test_eval_refuses_riddles_the_model_was_trained_on(fake_api, export, project):
    fake_api.key = None
    run = trained_on(project / "run", OVERLAPPING)
    cfg = EvalConfig(
        data=export, endpoint=fake_api.url, base_model=BASE, finetuned_model=TUNED, train_record=run
    )
    with pytest.raises(InputError) as err:
        evaluate(cfg)
    message = str(err.value)
    assert message.startswith("2 of 4 eval riddles were in the training data")
    assert "什么门永远关不上？ -> 球门" in message and "猪鼻子插葱 -> 装象（相）" in message
    assert "--allow-overlap" in message
    assert fake_api.requests == []  # refused before any request


def test_allow_overlap_proceeds_and_says_so(fake_api, export, project):
    fake_api.key, fake_api.reply = None, lambda model, msgs: "球门"
    run = trained_on(project / "run", OVERLAPPING)
    args = ["eval", "--data", str(export), "--endpoint", fake_api.url, "--base-model", BASE]
    args += ["--finetuned-model", TUNED, "--train-record", str(run), "--output", "out"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1 and "2 of 4 eval riddles" in result.output
    result = CliRunner().invoke(main, [*args, "--allow-overlap"])
    assert result.exit_code == 0, result.output
    assert "2 riddles were trained on (--allow-overlap)" in result.output
    saved = json.loads(Path("out/eval.json").read_text("utf-8"))
    overlap = saved["overlap"]
    assert overlap["checked"] and overlap["allowed"] and overlap["overlapping"] == 2
    assert overlap["train_riddles"] == 3 and overlap["record"] == str(run / HASHES_FILE)
    assert [e["answer"] for e in overlap["examples"]] == ["球门", "装象（相）"]
    assert saved["params"]["allow_overlap"] is True
    md = Path("out/eval.md").read_text("utf-8")
    assert "**2 of these riddles were in the training data**" in md


def test_disjoint_training_data_passes_and_is_recorded(fake_api, export, project):
    fake_api.key, fake_api.reply = None, lambda model, msgs: "水"
    run = trained_on(project / "run", [("什么蛋不能吃？", "笨蛋"), ("什么瓜不能吃？", "傻瓜")])
    cfg = EvalConfig(
        data=export, endpoint=fake_api.url, base_model=BASE, finetuned_model=TUNED, train_record=run
    )
    result = evaluate(cfg)
    overlap = json.loads(result.files["eval.json"].read_text("utf-8"))["overlap"]
    assert overlap | {"record": None} == {
        "checked": True,
        "record": None,
        "train_riddles": 2,
        "overlapping": 0,
        "examples": [],
        "allowed": False,
    }
    assert "None of these riddles is among the 2 training riddles" in result.files[
        "eval.md"
    ].read_text("utf-8")


def test_a_record_folder_without_hashes_is_refused_unless_allowed(fake_api, export, project):
    fake_api.key = None
    (project / "old-run").mkdir()
    cfg = EvalConfig(
        data=export,
        endpoint=fake_api.url,
        base_model=BASE,
        finetuned_model=TUNED,
        train_record=project / "old-run",
    )
    with pytest.raises(InputError, match=f"has no {HASHES_FILE}.*--allow-overlap"):
        evaluate(cfg)
    result = evaluate(replace(cfg, allow_overlap=True))
    overlap = json.loads(result.files["eval.json"].read_text("utf-8"))["overlap"]
    assert overlap == {
        "checked": False,
        "reason": f"{project / 'old-run'} has no {HASHES_FILE}",
        "allowed": True,
    }


def test_an_adapter_is_checked_before_any_model_is_loaded(export, project):
    adapter = trained_on(project / "adapter", OVERLAPPING)
    (adapter / "adapter_config.json").write_text("{}", "utf-8")
    args = ["eval", "--data", str(export), "--model", "no-such-model", "--adapter", str(adapter)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1, result.output
    assert "2 of 4 eval riddles were in the training data" in result.output


@pytest.mark.slow
def test_local_training_records_its_data_and_eval_refuses_it(project):
    pytest.importorskip("peft")
    import torch
    from tiny import RIDDLES, build_tiny_model, riddle_messages
    from tiny import write_export as write_tiny_export

    from curate.files import sha256_file

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        model = build_tiny_model(project / "tiny")
        rows = riddle_messages(RIDDLES)
        # validation repeats 4 training riddles: what a re-export with another seed can do
        data = write_tiny_export(project / "export", rows, rows[:4])
        train = ["train", "--backend", "local", "--model", str(model), "--data", str(data)]
        result = CliRunner().invoke(main, [*train, "--output", "run", "--epochs", "1"])
        assert result.exit_code == 0, result.output
        shards = json.loads((project / "run" / SHARDS_FILE).read_text("utf-8"))
        shard = data / "train-00000-of-00001.jsonl"
        assert shards["shards"] == [{"path": str(shard), "sha256": sha256_file(shard)}]
        assert shards["records"] == 16
        assert len((project / "run" / HASHES_FILE).read_text("utf-8").splitlines()) == 16

        ev = ["eval", "--data", str(data), "--model", str(model), "--adapter", "run"]
        ev += ["--max-tokens", "4", "--output", "eval"]
        result = CliRunner().invoke(main, ev)
        assert result.exit_code == 1 and "4 of 4 eval riddles were in the training" in result.output
        result = CliRunner().invoke(main, [*ev, "--allow-overlap"])
        assert result.exit_code == 0, result.output
        saved = json.loads((project / "eval" / "eval.json").read_text("utf-8"))
        assert saved["overlap"]["overlapping"] == 4 and saved["overlap"]["allowed"] is True
    finally:
        torch.set_num_threads(threads)
