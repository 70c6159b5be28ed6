"""`curate eval` against a real OpenAI-compatible HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from fake_siliconflow import KEY

from curate.cli import main
from curate.errors import BackendError, ConfigError, InputError
from curate.evaluation import DEFAULT_SYSTEM_PROMPT, EvalConfig, evaluate, load_riddles

BASE, TUNED = "Qwen/Qwen2.5-7B-Instruct", "ft:LoRA/Qwen/Qwen2.5-7B-Instruct:riddles:ckpt_1"
RIDDLES = [
    ("什么人一年只上一天班还不怕被解雇？", "圣诞老人"),
    ("什么床不能睡？", "牙床"),
    ("做贼碰上劫路人", "坏到一块了；冤家路窄"),
    ("什么酒不能喝？", "碘酒"),
]
# Canned answers per (model, system prompt present?), one per riddle above, chosen so that
# each configuration has known scores: base 1/4 exact, 2/4 contains (two guesses score 0;
# 冤家路窄 inside a sentence is contained, not stated); with the system prompt 2/4 exact,
# 3/4 contains; fine-tuned 4/4 (one through a xiehouyu alternative).
REPLIES = {
    (BASE, False): ["圣诞老人。", "是木床还是牙床", "这就像冤家路窄一样", "啤酒"],
    (BASE, True): ["“圣诞老人”", "牙床！", "他们是一路货色，坏到一块了", "白酒"],
    (TUNED, False): ["圣诞老人", "牙床", "冤家路窄", "碘酒"],
}
EXPECTED = {
    "base": {"exact_match": 0.25, "contains": 0.5},
    "system_prompt": {"exact_match": 0.5, "contains": 0.75},
    "finetuned": {"exact_match": 1.0, "contains": 1.0},
}


def write_export(folder: Path, riddles=RIDDLES, system: str | None = None) -> Path:
    """An export folder: validation shard (the riddles) and a train shard (never read)."""
    folder.mkdir(parents=True, exist_ok=True)
    head = [{"role": "system", "content": system}] if system else []
    lines = [
        json.dumps(
            {
                "messages": [
                    *head,
                    {"role": "user", "content": q},
                    {"role": "assistant", "content": a},
                ]
            },
            ensure_ascii=False,
        )
        for q, a in riddles
    ]
    (folder / "validation-00000-of-00001.jsonl").write_text("\n".join(lines) + "\n", "utf-8")
    (folder / "train-00000-of-00001.jsonl").write_text(lines[0] + "\n", "utf-8")
    return folder


def canned(model: str, messages: list[dict]) -> str:
    question = messages[-1]["content"]
    index = [q for q, _ in RIDDLES].index(question)
    has_system = messages[0]["role"] == "system"
    return REPLIES[(model, has_system)][index]


@pytest.fixture
def api(fake_api):
    fake_api.reply = canned
    return fake_api


@pytest.fixture
def export(project) -> Path:
    return write_export(project / "processed" / "export" / "jsonl")


def config(api, export, **kw) -> EvalConfig:
    kw = {
        "data": export,
        "endpoint": api.url,
        "base_model": BASE,
        "finetuned_model": TUNED,
        "system_prompt": "你是猜谜高手。",
        "output": export.parent / "eval",
    } | kw
    return EvalConfig(**kw)


def test_three_way_comparison_has_the_known_scores(api, export, monkeypatch):
    monkeypatch.setenv("SILICONFLOW_API_KEY", KEY)
    result = evaluate(config(api, export))
    assert [r["config"] for r in result.results] == ["base", "system_prompt", "finetuned"]
    for r in result.results:
        assert {k: r[k] for k in ("exact_match", "contains")} == EXPECTED[r["config"]]
        assert r["n"] == 4 and r["errors"] == 0
    assert result.results[2]["char_f1"] == 1.0
    assert 0 < result.results[0]["char_f1"] < result.results[1]["char_f1"] < 1

    saved = json.loads((result.output / "eval.json").read_text("utf-8"))
    assert saved["results"] == result.results
    assert saved["params"]["temperature"] == 0 and saved["params"]["max_tokens"] == 256
    assert KEY not in "".join(p.read_text("utf-8") for p in result.files.values())

    rows = [json.loads(line) for line in result.files["responses.jsonl"].open(encoding="utf-8")]
    assert [(r["config"], r["id"]) for r in rows] == [
        (c, f"validation-00000-of-00001.jsonl:{i}") for c in EXPECTED for i in range(1, 5)
    ]
    assert (
        rows[2]["response"] == "这就像冤家路窄一样"
        and rows[2]["reference"] == "坏到一块了；冤家路窄"
    )
    assert rows[1]["answer"] == "木床还是牙床" and rows[4]["answer"] == "圣诞老人"


def test_every_config_sends_the_same_riddles_and_decoding(api, export, monkeypatch):
    monkeypatch.setenv("SILICONFLOW_API_KEY", KEY)
    evaluate(config(api, export))
    sent = [r.json for r in api.calls("POST /v1/chat/completions")]
    assert len(sent) == 12
    assert {(s["temperature"], s["max_tokens"]) for s in sent} == {(0.0, 256)}
    assert all(r.headers["authorization"] == f"Bearer {KEY}" for r in api.requests)
    by_kind = {}
    for s in sent:
        kind = (s["model"], s["messages"][0]["role"])
        by_kind.setdefault(kind, set()).add(s["messages"][-1]["content"])
    assert by_kind == {
        (BASE, "user"): {q for q, _ in RIDDLES},
        (BASE, "system"): {q for q, _ in RIDDLES},
        (TUNED, "user"): {q for q, _ in RIDDLES},
    }


def test_same_inputs_give_byte_identical_files(api, export, monkeypatch):
    monkeypatch.setenv("SILICONFLOW_API_KEY", KEY)
    first = evaluate(config(api, export, output=export.parent / "a", concurrency=1))
    second = evaluate(config(api, export, output=export.parent / "a2", concurrency=4))
    for name in ("responses.jsonl", "eval.md"):
        assert first.files[name].read_bytes() == second.files[name].read_bytes()


def test_requests_in_flight_are_bounded_and_answers_stay_in_order(fake_api, export):
    riddles = [(f"第{i}题？", f"答案{i}") for i in range(24)]
    write_export(export, riddles)
    state = {"now": 0, "max": 0}
    lock = threading.Lock()

    def slow(model, messages):
        with lock:
            state["now"] += 1
            state["max"] = max(state["max"], state["now"])
        time.sleep(0.02 * (hash(messages[-1]["content"]) % 3))  # finish out of order
        with lock:
            state["now"] -= 1
        return messages[-1]["content"].replace("第", "答案").replace("题？", "")

    fake_api.key, fake_api.reply = None, slow  # no key needed: like a local vLLM
    only_base = EvalConfig(data=export, endpoint=fake_api.url, base_model=BASE, concurrency=3)
    result = evaluate(only_base)
    assert state["max"] == 3
    assert result.results[0]["exact_match"] == 1.0
    assert result.output == Path("train/runs/eval-Qwen2.5-7B-Instruct")
    rows = result.files["responses.jsonl"].read_text("utf-8").splitlines()
    assert [json.loads(r)["reference"] for r in rows] == [a for _, a in riddles]


def test_base_drops_the_datas_system_message_finetuned_keeps_it(api, project, monkeypatch):
    export = write_export(project / "exp", system="你是一个谜语助手。")
    monkeypatch.setenv("SILICONFLOW_API_KEY", KEY)
    api.reply = lambda model, messages: "圣诞老人"
    evaluate(config(api, export, system_prompt=None))
    sent = [r.json for r in api.calls("POST /v1/chat/completions")]
    roles = {(s["model"], tuple(m["role"] for m in s["messages"])) for s in sent}
    assert roles == {(BASE, ("user",)), (TUNED, ("system", "user"))}
    assert {s["messages"][0]["content"] for s in sent if s["model"] == TUNED} == {
        "你是一个谜语助手。"
    }


def test_cli_prints_the_table_and_writes_files(api, export, monkeypatch):
    monkeypatch.setenv("SILICONFLOW_API_KEY", KEY)
    out = export.parent / "cli-eval"
    args = ["eval", "--data", str(export), "--endpoint", api.url, "--base-model", BASE]
    args += ["--finetuned-model", TUNED, "--system-prompt", "default", "--output", str(out)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    for text in ("base", "system_prompt", "finetuned", "25.0%", "75.0%", "100.0%", "4 riddles"):
        assert text in result.output
    assert KEY not in result.output
    # no --train-record: the fine-tuned score may include trained riddles, and it is said
    said = " ".join(result.output.split())
    assert "overlap with the training data not checked" in said and "--train-record" in said
    assert sorted(p.name for p in out.iterdir()) == ["eval.json", "eval.md", "responses.jsonl"]
    md = (out / "eval.md").read_text("utf-8")
    assert "| base |" in md and "## Where the configurations disagree (3 riddles)" in md
    systems = {r.json["messages"][0]["content"] for r in api.calls("POST /v1/chat/completions")}
    assert DEFAULT_SYSTEM_PROMPT in systems


def test_cli_missing_key_for_a_remote_endpoint_is_a_clear_error(export):
    args = ["eval", "--data", str(export), "--endpoint", "https://api.siliconflow.cn/v1"]
    result = CliRunner().invoke(main, [*args, "--base-model", BASE])
    assert result.exit_code == 2  # a setting is missing: a usage mistake
    assert "Error: SILICONFLOW_API_KEY is not set" in result.output
    assert "--no-key" in result.output


def test_rejected_key_unknown_model_and_usage_errors_read_well(api, export, monkeypatch):
    monkeypatch.setenv("SILICONFLOW_API_KEY", "sk-wrong-key-42")
    with pytest.raises(BackendError, match="key .* was rejected") as err:
        evaluate(config(api, export))
    assert "sk-wrong-key-42" not in str(err.value)
    monkeypatch.setenv("SILICONFLOW_API_KEY", KEY)
    api.pending[TUNED] = -1  # never ready: 20012 for every request
    with pytest.raises(BackendError, match="finetuned: model .* is not ready .code 20012"):
        evaluate(config(api, export))
    with pytest.raises(ConfigError, match="either --endpoint"):
        evaluate(EvalConfig(data=export))
    with pytest.raises(InputError, match="run `curate export` first"):
        load_riddles(export, "test")


def test_a_request_failing_for_one_riddle_is_recorded_not_fatal(api, export, monkeypatch):
    monkeypatch.setenv("SILICONFLOW_API_KEY", KEY)
    api.fail("POST /v1/chat/completions", 400, {"code": 20015, "message": "content filtered"})
    result = evaluate(config(api, export, system_prompt=None, finetuned_model=None, concurrency=1))
    assert result.results[0]["errors"] == 1 and result.results[0]["n"] == 4
    rows = [json.loads(line) for line in result.files["responses.jsonl"].open(encoding="utf-8")]
    assert "content filtered" in rows[0]["error"] and rows[0]["exact_match"] == 0.0


def test_a_busy_service_is_retried(api, export, monkeypatch):
    monkeypatch.setenv("SILICONFLOW_API_KEY", KEY)
    api.fail("POST /v1/chat/completions", 503, {"code": 50505, "message": "overloaded"})
    result = evaluate(config(api, export, system_prompt=None, finetuned_model=None))
    assert result.results[0]["exact_match"] == 0.25 and result.results[0]["errors"] == 0
    assert len(api.calls("POST /v1/chat/completions")) == 5  # 4 riddles + 1 retry


def test_inputs_that_cannot_work_fail_before_any_request(api, export, project):
    (project / "empty").mkdir()
    (project / "empty" / "validation-00000-of-00001.jsonl").write_text("\n", "utf-8")
    with pytest.raises(InputError, match=r"validation-00000-of-00001\.jsonl: no records"):
        load_riddles(project / "empty", "validation")
    args = ["eval", "--data", str(export), "--model", "./missing"]
    result = CliRunner().invoke(main, args)  # the path as typed, not taken for a hub id
    assert result.exit_code == 1 and "--model ./missing: no such folder" in result.output
    (export / "validation-00000-of-00001.jsonl").write_text('{"messages": []}\n', "utf-8")
    with pytest.raises(InputError, match=r"\.jsonl:1: \$\.messages: has 0 message"):
        load_riddles(export, "validation")
    args = ["eval", "--data", str(export), "--model", "m", "--adapter", str(project)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1 and "has no adapter_config.json" in result.output
    result = CliRunner().invoke(main, ["eval", "--data", str(export), "--endpoint", api.url])
    assert result.exit_code == 2 and "--endpoint needs --base-model" in result.output
    assert api.requests == []


def test_limit_takes_the_first_riddles(export):
    assert [r.question for r in load_riddles(export, "validation", 2)] == [
        q for q, _ in RIDDLES[:2]
    ]


# -- a local model: a tiny random LM (tests/tiny.py) and a LoRA adapter trained here ----------


def train_adapter(model_dir: Path, riddles: list[tuple[str, str]], out: Path) -> Path:
    """A peft LoRA adapter folder, as `curate train` writes one, fitted to `riddles`.

    A plain full-batch loop (loss on the answer tokens) rather than `curate train`: the
    Trainer's per-epoch checkpoints cost more than the learning on a model this small.
    """
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.manual_seed(0)
    tok = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir)
    lora = LoraConfig(r=8, lora_alpha=32, target_modules="all-linear", task_type="CAUSAL_LM")
    model = get_peft_model(model, lora)
    ids, labels = [], []
    for question, answer in riddles:
        user = [{"role": "user", "content": question}]
        prompt = tok.apply_chat_template(user, add_generation_prompt=True, tokenize=False)
        full = tok(prompt + answer + tok.eos_token, add_special_tokens=False)["input_ids"]
        n_prompt = len(tok(prompt, add_special_tokens=False)["input_ids"])
        ids.append(full)
        labels.append([-100] * n_prompt + full[n_prompt:])
    width = max(map(len, ids))
    pad = [(width - len(x)) for x in ids]
    batch = {
        "input_ids": torch.tensor(
            [x + [tok.pad_token_id] * p for x, p in zip(ids, pad, strict=True)]
        ),
        "attention_mask": torch.tensor(
            [[1] * len(x) + [0] * p for x, p in zip(ids, pad, strict=True)]
        ),
        "labels": torch.tensor([y + [-100] * p for y, p in zip(labels, pad, strict=True)]),
    }
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=5e-3)
    for _ in range(120):
        model(**batch).loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    model.save_pretrained(out)
    return out


@pytest.fixture(scope="module")
def one_thread():
    """Torch on one thread: a model this small gains nothing from two, and on a busy machine
    (the whole suite in parallel) two threads spin against each other several times slower."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def trained(tmp_path_factory, one_thread):
    """(model folder, adapter folder, export folder): the adapter memorized 8 riddles."""
    from tiny import RIDDLES as TINY
    from tiny import build_tiny_model, riddle_messages
    from tiny import write_export as write_tiny_export

    root = tmp_path_factory.mktemp("local")
    model = build_tiny_model(root / "tiny-qwen2")
    adapter = train_adapter(model, TINY[:8], root / "adapter")
    rows = riddle_messages(TINY[:8])
    # The "held-out" split repeats the training riddles: a model this small can only show
    # what it learned on riddles it saw.
    return model, adapter, write_tiny_export(root / "export", rows, rows)


@pytest.mark.slow
def test_local_model_with_adapter_beats_the_base_model(trained, tmp_path):
    model, adapter, data = trained
    args = ["eval", "--data", str(data), "--model", str(model), "--adapter", str(adapter)]
    args += ["--allow-overlap"]  # the adapter saw these riddles, and has no train record
    args += ["--system-prompt", "default", "--max-tokens", "12", "--batch-size", "3"]
    result = CliRunner().invoke(main, [*args, "--output", str(tmp_path / "eval")])
    assert result.exit_code == 0, result.output
    assert "finetuned" in result.output and "8 riddles" in result.output
    scores = json.loads((tmp_path / "eval" / "eval.json").read_text("utf-8"))["results"]
    by_config = {r["config"]: r for r in scores}
    assert list(by_config) == ["base", "system_prompt", "finetuned"]
    assert by_config["base"]["exact_match"] == 0.0  # a random model knows no riddle
    assert by_config["finetuned"]["exact_match"] >= 0.75
    assert by_config["finetuned"]["char_f1"] > by_config["system_prompt"]["char_f1"]
    assert all(r["n"] == 8 for r in scores)
    # Greedy and batched: a second run, with another batch size, answers the same.
    again = [*args[:-2], "--batch-size", "8", "--output", str(tmp_path / "again")]
    rerun = CliRunner().invoke(main, again)
    assert rerun.exit_code == 0, rerun.output
    first = (tmp_path / "eval" / "responses.jsonl").read_text("utf-8")
    assert (tmp_path / "again" / "responses.jsonl").read_text("utf-8") == first


@pytest.mark.slow
def test_an_interrupted_local_eval_generates_only_the_missing_batches(
    trained, tmp_path, monkeypatch
):
    from curate.evaluation.backends import LocalBackend

    model, adapter, data = trained
    cfg = EvalConfig(data=data, model=str(model), adapter=adapter, allow_overlap=True)
    cfg = replace(cfg, max_tokens=12, batch_size=3, output=tmp_path / "eval")
    whole = evaluate(replace(cfg, output=tmp_path / "whole"))

    def ctrl_c(name, advance, total):
        if name == "finetuned" and advance:  # after the first fine-tuned batch
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        evaluate(cfg, progress=ctrl_c)
    kept = (cfg.output / "replies.partial.jsonl").read_text("utf-8").splitlines()
    assert len(kept) == 8 + 3  # base, and one batch of the fine-tuned model
    batches = []
    generate = LocalBackend._batch
    monkeypatch.setattr(
        LocalBackend, "_batch", lambda self, t: batches.append(t) or generate(self, t)
    )
    resumed = evaluate(cfg)
    assert [len(b) for b in batches] == [3, 2] and resumed.reused == (11, 16)
    for name in ("responses.jsonl", "eval.json", "eval.md"):
        assert (whole.output / name).read_bytes() == (resumed.output / name).read_bytes()


def test_endpoint_eval_needs_no_training_libraries():
    """An endpoint-only user installs no torch: the eval modules must not import it."""
    code = (
        "import sys, curate.evaluation, curate.evaluation.backends, curate.evaluation.metrics; "
        "bad = [m for m in ('torch', 'transformers', 'peft') if m in sys.modules]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--output", "taken"], "--output taken is a file; pass a folder"),
        (["--judge-model", "j", "--judge-endpoint", "http://[::1"], "is not a valid URL"),
        (["--examples", "-1"], "--examples must be at least 0"),
    ],
)
def test_flags_that_would_fail_after_every_request_fail_before_the_first(project, args, said):
    # Each was found only once every reply had been asked for (or never: --examples -1).
    from exportdata import records, write_deduped

    from curate.stages.export import ExportConfig, export

    write_deduped(
        project / "processed", records([(f"第{i}个谜语？", f"谜底{i}") for i in range(20)])
    )
    export(ExportConfig(processed=project / "processed"))
    Path("taken").write_text("a file", encoding="utf-8")
    dead = [
        "--endpoint",
        "http://127.0.0.1:9/v1",
        "--base-model",
        "m",
        "--no-key",
        "--max-wait",
        "0",
    ]
    result = CliRunner().invoke(main, ["eval", *dead, *args])
    assert result.exit_code in (1, 2), result.output
    assert said in result.output and "could not reach" not in result.output
