"""What a training run records about its data, and the eval command `--attach` prints."""

from __future__ import annotations

import doctest
import json
import shlex
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

import curate.training.records
from curate.cli import main
from curate.files import sha256_file
from curate.training import TrainConfig, train
from curate.training import siliconflow as sf
from curate.training.records import HASHES_FILE, SHARDS_FILE, read_train_hashes, riddle_hashes

FT_ID = "ft:LoRA/Qwen/Qwen2.5-7B-Instruct:acct123456:riddles:abcdefghijklmnopqrst"
TRAIN = [("什么东西越洗越脏？", "水"), ("什么床不能睡？", "牙床"), ("什么酒不能喝？", "碘酒")]
VALIDATION = [("外甥打灯笼", "照旧（舅）"), ("什么门永远关不上？", "球门")]


def line(q: str, a: str) -> str:
    msgs = [{"role": "user", "content": q}, {"role": "assistant", "content": a}]
    return json.dumps({"messages": msgs}, ensure_ascii=False) + "\n"


@pytest.fixture
def export_dir(project) -> Path:
    out = project / "processed" / "export" / "jsonl"
    out.mkdir(parents=True)
    (out / "train-00000-of-00002.jsonl").write_text(line(*TRAIN[0]), "utf-8")
    (out / "train-00001-of-00002.jsonl").write_text(line(*TRAIN[1]) + line(*TRAIN[2]), "utf-8")
    (out / "validation-00000-of-00001.jsonl").write_text("".join(line(*v) for v in VALIDATION))
    return out


def test_docstring_examples_hold():
    assert doctest.testmod(curate.training.records).failed == 0


def test_one_hash_per_riddle_by_match_keys_system_messages_ignored():
    plain = [
        {"role": "user", "content": "什么门永远关不上？"},
        {"role": "assistant", "content": "球门"},
    ]
    system = [{"role": "system", "content": "你是谜语助手。"}, *plain]
    respelled = [
        {"role": "user", "content": "什麼門永遠關不上?"},
        {"role": "assistant", "content": "球門"},
    ]
    hashes = riddle_hashes([plain, system, respelled])
    assert len(hashes) == 3 and len(set(hashes)) == 1
    other = [
        {"role": "user", "content": "什么门永远关不上？"},
        {"role": "assistant", "content": "城门"},
    ]
    assert riddle_hashes([other]) != hashes[:1]


def test_siliconflow_prepare_records_the_shards_and_riddles_it_uploads(export_dir, project):
    config = TrainConfig(backend="siliconflow", data=export_dir, dry_run=True, output=Path("run"))
    train(config)
    info = json.loads((project / "run" / SHARDS_FILE).read_text("utf-8"))
    shards = sorted(export_dir.glob("train-*.jsonl"))
    assert info["shards"] == [{"path": str(s), "sha256": sha256_file(s)} for s in shards]
    assert info["records"] == 3 and info["riddles"] == 3 and info["hashes"] == HASHES_FILE
    assert read_train_hashes(project / "run") == set(
        riddle_hashes([json.loads(line(*t))["messages"] for t in TRAIN])
    )


def test_attach_prints_the_full_three_way_eval_and_it_runs(fake_api, export_dir, monkeypatch):
    monkeypatch.setenv("SILICONFLOW_API_KEY", fake_api.key)
    monkeypatch.setattr(sf, "SLEEP", lambda s: None)
    answers = {FT_ID: "照旧"}
    fake_api.reply = lambda model, msgs: answers.get(model, "不知道")
    base = TrainConfig(
        backend="siliconflow", data=export_dir, base_url=fake_api.url, output=Path("run")
    )
    train(base)
    result = train(replace(base, attach=FT_ID))
    command = next(n for n in result.notes if n.startswith("Evaluate it: "))
    command = command.removeprefix("Evaluate it: ")
    assert "--system-prompt default" in command and f"--finetuned-model '{FT_ID}'" in command
    assert "--train-record run" in command and f"--data {export_dir}" in command
    args = shlex.split(command)
    assert args[:2] == ["curate", "eval"]
    out = CliRunner().invoke(main, [*args[1:], "--output", "eval"])
    assert out.exit_code == 0, out.output
    saved = json.loads(Path("eval/eval.json").read_text("utf-8"))
    assert [r["config"] for r in saved["results"]] == ["base", "system_prompt", "finetuned"]
    assert saved["overlap"]["checked"] and saved["overlap"]["overlapping"] == 0
    assert saved["results"][2]["exact_match"] == 0.5  # 照旧 for 照旧（舅）; not 球门
