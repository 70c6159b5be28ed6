"""`train --backend siliconflow` against the fake SiliconFlow server on 127.0.0.1."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from curate.errors import BackendError, ConfigError, InputError
from curate.messages import message_problems
from curate.training import TrainConfig, train
from curate.training import siliconflow as sf
from curate.training.demo import write_manifest

FT_ID = "ft:LoRA/Qwen/Qwen2.5-7B-Instruct:acct123456:riddles:abcdefghijklmnopqrst"
RIDDLES = [
    ("什么东西越洗越脏？", "水"),
    ("什么人一年只上一天班？", "圣诞老人"),
    ("什么床不能睡？", "牙床"),
    ("什么酒不能喝？", "碘酒"),
    ("外甥打灯笼", "照旧（舅）"),
]


def line(q: str, a: str) -> str:
    msgs = [{"role": "user", "content": q}, {"role": "assistant", "content": a}]
    return json.dumps({"messages": msgs}, ensure_ascii=False) + "\n"


@pytest.fixture
def export_dir(project) -> Path:
    """A jsonl export: two train shards and one validation shard."""
    out = project / "processed" / "export" / "jsonl"
    out.mkdir(parents=True)
    (out / "train-00000-of-00002.jsonl").write_text("".join(line(*r) for r in RIDDLES[:2]))
    (out / "train-00001-of-00002.jsonl").write_text(line(*RIDDLES[2]) + line(*RIDDLES[3]))
    (out / "validation-00000-of-00001.jsonl").write_text(line(*RIDDLES[4]))
    write_manifest(out)
    return out


@pytest.fixture
def clock(monkeypatch) -> list[float]:
    """Every sleep the backend asks for, taking no real time; CLOCK advances with it."""
    slept: list[float] = []
    monkeypatch.setattr(sf, "SLEEP", slept.append)
    monkeypatch.setattr(sf, "CLOCK", lambda: sum(slept))
    return slept


@pytest.fixture
def keyed(fake_api, project, monkeypatch):
    monkeypatch.setenv("SILICONFLOW_API_KEY", fake_api.key)
    return fake_api


def config(api, export_dir, **kw) -> TrainConfig:
    return TrainConfig(backend="siliconflow", data=export_dir, base_url=api.url, **kw)


def assert_no_key(key: str, root: Path, *texts: str) -> None:
    for text in texts:
        assert key not in text
    for path in root.rglob("*"):
        if path.is_file():
            assert key.encode() not in path.read_bytes(), path


def test_upload_writes_one_file_uploads_it_and_records_the_handoff(keyed, export_dir, clock):
    result = train(config(keyed, export_dir, output=Path("run")))
    upload = keyed.uploads[0]
    sent = keyed.calls("POST /v1/files")[0]
    assert sent.fields["purpose"] == "fine-tune" and sent.filenames["file"] == sf.TRAIN_FILE
    # the uploaded file is the train shards concatenated, in order, as valid JSONL
    lines = upload["content"].decode("utf-8").splitlines()
    assert [json.loads(x)["messages"][1]["content"] for x in lines] == [a for _, a in RIDDLES[:4]]
    assert all(message_problems(json.loads(x)) == [] for x in lines)
    assert upload["content"] == Path("run", sf.TRAIN_FILE).read_bytes()

    record = json.loads(Path("run/siliconflow.json").read_text(encoding="utf-8"))
    assert record["status"] == "uploaded" and record["files"]["train"]["file_id"] == "file-fake0001"
    assert record["files"]["train"]["lines"] == 4 and record["validation"].startswith("console")
    assert record["task"]["base_model"] == "Qwen/Qwen2.5-7B-Instruct"
    assert record["task"]["parameters"] == {
        "Learning Rate": "0.0001", "Number of Epochs": "3", "Batch Size": "8",
        "Max Tokens": "4096", "LoRA Rank": "8", "LoRA Alpha": "32", "LoRA Dropout": "0.05",
    }  # fmt: skip
    steps = "\n".join(result.notes)
    for expected in (
        sf.CONSOLE_URL,
        "Base model: Qwen/Qwen2.5-7B-Instruct",
        "file-fake0001",
        "Learning Rate 0.0001",
        "split from the training set, 10%",
        "--attach",
    ):
        assert expected in steps
    assert result.metrics["train_file_id"] == "file-fake0001"
    assert_no_key(keyed.key, Path("run"), steps, repr(result))


def test_own_validation_uploads_a_second_file(keyed, export_dir, clock):
    result = train(config(keyed, export_dir, output=Path("run"), own_validation=True))
    assert [u["filename"] for u in keyed.uploads] == [sf.TRAIN_FILE, sf.VALIDATION_FILE]
    assert "Validation data: pick the uploaded file file-fake0002" in "\n".join(result.notes)
    assert result.metrics["validation_lines"] == 1


def test_dry_run_needs_no_key_and_sends_nothing(fake_api, export_dir):
    result = train(config(fake_api, export_dir, output=Path("run"), dry_run=True))
    assert fake_api.requests == []
    record = json.loads(Path("run/siliconflow.json").read_text(encoding="utf-8"))
    assert record["status"] == "dry_run" and record["files"]["train"]["file_id"] is None
    assert f"Training data: upload {Path('run', sf.TRAIN_FILE)} (4 lines)" in "\n".join(
        result.notes
    )


def test_same_inputs_give_byte_identical_files(fake_api, export_dir):
    for out in ("a", "b"):
        train(config(fake_api, export_dir, output=Path("same"), dry_run=True))
        Path("same").rename(out)
    for name in (sf.TRAIN_FILE, sf.RECORD):
        assert Path("a", name).read_bytes() == Path("b", name).read_bytes()


def test_missing_key_fails_before_any_work(fake_api, export_dir):
    with pytest.raises(ConfigError, match="SILICONFLOW_API_KEY is not set"):
        train(config(fake_api, export_dir, output=Path("run")))
    with pytest.raises(ConfigError, match="MY_SF_KEY is not set"):
        train(config(fake_api, export_dir, api_key_env="MY_SF_KEY", attach=FT_ID))
    assert not Path("run").exists() and fake_api.requests == []


@pytest.mark.parametrize(
    "flag",
    [dict(lr=0.2), dict(epochs=11), dict(batch_size=64), dict(lora_rank=128),
     dict(lora_alpha=256), dict(max_seq_len=8192)],
)  # fmt: skip
def test_console_bounds_are_enforced(fake_api, export_dir, flag):
    name = next(iter(flag))
    with pytest.raises(ConfigError, match=f"--{name.replace('_', '-')} .* SiliconFlow console"):
        train(config(fake_api, export_dir, dry_run=True, **flag))


def test_undocumented_base_model_is_a_warning(fake_api, export_dir):
    result = train(config(fake_api, export_dir, dry_run=True, model="Qwen/Qwen3-8B"))
    assert any("not in the documented list" in n for n in result.notes)
    record = json.loads((result.output / sf.RECORD).read_text(encoding="utf-8"))
    assert "Qwen/Qwen3-8B" in record["warnings"][0]


def test_bad_data_names_file_and_line(fake_api, export_dir):
    bad = {"messages": [{"role": "assistant", "content": "谜底"}, {"role": "user", "content": "?"}]}
    with open(export_dir / "train-00001-of-00002.jsonl", "a", encoding="utf-8") as f:
        f.write(json.dumps(bad, ensure_ascii=False) + "\n")
    write_manifest(export_dir)  # a bad line the manifest vouches for: the line is named
    with pytest.raises(InputError, match=r"train-00001-of-00002\.jsonl:3: .*expected 'user'"):
        train(config(fake_api, export_dir, dry_run=True))


def test_missing_export_says_what_to_run(fake_api, project):
    with pytest.raises(InputError, match="no train-.*jsonl.*curate export --format jsonl"):
        train(config(fake_api, project / "processed" / "nothing", dry_run=True))


def test_upload_retries_busy_server(keyed, export_dir, clock):
    keyed.fail("POST /v1/files", 503, {"code": 50505, "message": "overloaded"}, times=2)
    result = train(config(keyed, export_dir, output=Path("run")))
    assert result.metrics["train_file_id"] == "file-fake0001" and len(clock) == 2


def test_rejected_key_reads_well_and_is_not_shown(fake_api, export_dir, monkeypatch, clock):
    monkeypatch.setenv("SILICONFLOW_API_KEY", "sk-not-the-right-one-42")
    with pytest.raises(BackendError) as err:
        train(config(fake_api, export_dir, output=Path("run")))
    assert "the API key in $SILICONFLOW_API_KEY was rejected" in str(err.value)
    assert_no_key("sk-not-the-right-one-42", Path("run"), str(err.value))


def test_refused_upload_says_to_use_the_console(keyed, export_dir, clock):
    refusal = {"code": 20015, "message": "Value error, purpose must be batch", "data": None}
    keyed.fail("POST /v1/files", 400, refusal)
    with pytest.raises(BackendError, match="code 20015.*upload .* by hand in the console"):
        train(config(keyed, export_dir, output=Path("run")))


def test_attach_smoke_tests_and_records_the_model(keyed, export_dir, clock):
    keyed.reply = lambda model, messages: "水" if model == FT_ID else "?"
    train(config(keyed, export_dir, output=Path("run")))
    result = train(config(keyed, export_dir, output=Path("run"), attach=f"  {FT_ID}\n"))
    chat = keyed.calls("POST /v1/chat/completions")[0].json
    assert chat["model"] == FT_ID and chat["max_tokens"] == sf.SMOKE_MAX_TOKENS
    assert chat["messages"] == [{"role": "user", "content": "什么东西越洗越脏？"}]
    record = json.loads(Path("run/siliconflow.json").read_text(encoding="utf-8"))
    assert record["status"] == "attached" and record["files"]["train"]["file_id"]
    assert record["model"]["id"] == FT_ID and record["model"]["smoke_test"]["reply"] == "水"
    assert record["model"]["smoke_test"]["expected"] == "水" and record["warnings"] == []
    assert result.metrics["model"] == FT_ID
    assert_no_key(keyed.key, Path("run"), "\n".join(result.notes))


def test_attach_rejects_an_id_that_is_not_a_fine_tune(keyed, export_dir):
    with pytest.raises(ConfigError, match="does not look like a fine-tuned model id"):
        train(config(keyed, export_dir, attach="Qwen/Qwen2.5-7B-Instruct"))
    assert keyed.requests == []


def test_attach_unfinished_model_suggests_wait(keyed, export_dir, clock):
    keyed.pending[FT_ID] = 1
    with pytest.raises(BackendError, match="not available .*20012.*--wait"):
        train(config(keyed, export_dir, output=Path("run"), attach=FT_ID))
    assert not Path("run/siliconflow.json").exists()


def test_attach_wait_polls_with_backoff_until_ready(keyed, export_dir, clock):
    keyed.pending[FT_ID] = 3
    result = train(config(keyed, export_dir, output=Path("run"), attach=FT_ID, wait=True))
    assert clock == [30.0, 60.0, 120.0]
    assert result.metrics["model"] == FT_ID
    record = json.loads(Path("run/siliconflow.json").read_text(encoding="utf-8"))
    assert record["model"]["polls"] == 3
    assert record["model"]["smoke_test"]["messages"] == sf.SMOKE_PROMPT  # no upload here


def test_attach_wait_gives_up_at_the_time_limit(keyed, export_dir, clock):
    keyed.pending[FT_ID] = -1
    cfg = config(keyed, export_dir, output=Path("run"), attach=FT_ID, wait=True, wait_timeout=200)
    with pytest.raises(BackendError, match="still answers code 20012 after 3 tries in 200s"):
        train(cfg)
    assert clock == [30.0, 60.0]


# -- the command line ---------------------------------------------------------------------


def cli(*args: str):
    from click.testing import CliRunner

    from curate.cli import main

    return CliRunner().invoke(main, ["train", "--backend", "siliconflow", *args])


def test_cli_upload_prints_file_id_and_console_steps(keyed, export_dir, clock):
    result = cli("--data", str(export_dir), "--base-url", keyed.url, "--output", "run",
                 "--name", "riddles", "--preset", "quality")  # fmt: skip
    assert result.exit_code == 0, result.output
    for expected in ("train_file_id: file-fake0001", sf.CONSOLE_URL, "Task name: riddles",
                     "Number of Epochs 5", "LoRA Rank 16"):  # fmt: skip
        assert expected in result.output
    assert_no_key(keyed.key, Path("run"), result.output)


def test_cli_dry_run_without_key(fake_api, export_dir):
    result = cli("--data", str(export_dir), "--base-url", fake_api.url, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "status: dry_run" in result.output and fake_api.requests == []
    # A newcomer learns what the dry run did not do and how to do it for real.
    out = " ".join(result.output.split())
    assert "Dry run: nothing was uploaded" in out
    assert "set $SILICONFLOW_API_KEY and run this command again without --dry-run" in out


def test_cli_expected_failures_are_one_line_errors(fake_api, export_dir, monkeypatch, clock):
    result = cli("--data", str(export_dir), "--base-url", fake_api.url)
    assert result.exit_code == 2 and "Error: SILICONFLOW_API_KEY is not set" in result.output
    monkeypatch.setenv("SILICONFLOW_API_KEY", "sk-wrong-but-secret")
    result = cli("--data", str(export_dir), "--base-url", fake_api.url, "--output", "run")
    assert result.exit_code == 1 and "was rejected" in result.output
    assert "Traceback" not in result.output
    assert_no_key("sk-wrong-but-secret", Path("run"), result.output)


def test_cli_attach_and_wait(keyed, export_dir, clock):
    keyed.pending[FT_ID] = 2
    result = cli("--base-url", keyed.url, "--output", "run", "--attach", FT_ID)
    assert result.exit_code == 1 and "--wait" in result.output
    assert "Traceback" not in result.output
    result = cli("--base-url", keyed.url, "--output", "run", "--attach", FT_ID, "--wait")
    assert result.exit_code == 0, result.output
    assert "status: attached" in result.output and FT_ID in result.output and clock == [30.0]
    assert "is not ready yet (code 20012); next try in 30s" in result.output
    assert json.loads(Path("run/siliconflow.json").read_text())["model"]["id"] == FT_ID
