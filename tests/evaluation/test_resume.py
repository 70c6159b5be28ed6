"""An interrupted `curate eval` keeps every reply it received, and the rerun asks only the rest;
against the loopback server (tests/fake_siliconflow.py), counting the requests it sees."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from curate.cli import main
from curate.errors import BackendError
from curate.evaluation import EvalConfig, evaluate

BASE, TUNED, JUDGE = "Qwen/Qwen2.5-7B-Instruct", "ft:LoRA/Qwen/riddles:ckpt", "judge/Qwen-72B"
CHAT = "POST /v1/chat/completions"
FILES = ("responses.jsonl", "eval.json", "eval.md")
RIDDLES = [(f"第{i}题是什么？", f"答案{i}") for i in range(10)]  # x3 configs: 30 requests


def reply(model: str, messages: list[dict]) -> str:
    """Right for the fine-tuned model and for even riddles with a system prompt (named in the
    reply, so a changed prompt shows); the judge says correct when the number is named."""
    last = messages[-1]["content"]
    if model == JUDGE:
        return (
            '{"verdict": "correct", "reason": "对"}' if "答案" in last else '{"verdict": "wrong"}'
        )
    i = int(last[1:].split("题")[0])
    if model == TUNED:
        return f"答案{i}"
    system = messages[0]["content"] if messages[0]["role"] == "system" else None
    if system:  # a reply of its own, so that no two judge requests are the same
        return f"答案{i}（{system}）" if i % 2 == 0 else "想不出来"
    return "不知道"


def stop_after(api, n: int, status: int = 200, body: object = None) -> None:
    """Answer normally n times, then one fatal answer (default: a 200 with `choices: []`)."""
    count = itertools.count(1)

    def answer(model, messages):
        if next(count) == n:
            api.fail(CHAT, status, {"choices": []} if body is None else body)
        return reply(model, messages)

    api.reply = answer


@pytest.fixture
def api(fake_api):
    fake_api.key, fake_api.reply = None, reply
    return fake_api


@pytest.fixture
def export(project) -> Path:
    folder = project / "processed" / "export" / "jsonl"
    folder.mkdir(parents=True)
    lines = [
        json.dumps(
            {"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": a}]}
        )
        for q, a in RIDDLES
    ]
    (folder / "validation-00000-of-00001.jsonl").write_text("\n".join(lines) + "\n", "utf-8")
    return folder


def config(api, export, output: str = "eval", **kw) -> EvalConfig:
    kw = {
        "data": export,
        "endpoint": api.url,
        "base_model": BASE,
        "finetuned_model": TUNED,
        "system_prompt": "你是猜谜高手。",
        "output": export.parent / output,
        "concurrency": 1,  # the fatal answer comes after exactly n replies
    } | kw
    return EvalConfig(**kw)


def sent(api) -> int:
    return len(api.calls(CHAT))


def same_files(a: Path, b: Path) -> bool:
    return all((a / name).read_bytes() == (b / name).read_bytes() for name in FILES)


def interrupted(api, cfg: EvalConfig, n: int, status: int = 200, body: object = None) -> int:
    """Run `cfg` until a fatal answer after n replies; how many replies it received (n, or
    one more: with --concurrency 1 the next request may be in flight when the fatal one lands)."""
    stop_after(api, n, status, body)
    before = sent(api)
    with pytest.raises(BackendError):
        evaluate(cfg)
    api.reply = reply
    return sent(api) - before - 1  # all but the fatal answer


def kept_lines(cfg: EvalConfig) -> int:
    return len((cfg.output / "replies.partial.jsonl").read_text("utf-8").splitlines())


def test_a_run_stopped_by_a_malformed_answer_resumes_with_only_the_missing_requests(api, export):
    whole = evaluate(config(api, export, "whole"))
    assert sent(api) == 30 and whole.reused == (0, 30)

    cfg = config(api, export)
    received = interrupted(api, cfg, 12)  # `choices: []` after 12 replies
    assert received >= 12 and kept_lines(cfg) == received  # every reply received is kept
    before = sent(api)
    resumed = evaluate(cfg)
    assert sent(api) - before == 30 - received and resumed.reused == (received, 30)
    assert same_files(whole.output, resumed.output)
    assert sorted(p.name for p in resumed.output.iterdir()) == sorted(FILES)  # log removed


def test_cli_says_what_was_kept_after_a_rejected_key_and_what_the_rerun_reused(api, export):
    stop_after(api, 7, 401, "Invalid token")
    args = ["eval", "--data", str(export), "--endpoint", api.url, "--base-model", BASE]
    args += ["--finetuned-model", TUNED, "--output", str(export.parent / "cli"), "--no-key"]
    args += ["--concurrency", "1"]
    failed = CliRunner().invoke(main, args)
    assert failed.exit_code == 1 and "HTTP 401" in failed.output
    received = sent(api) - 1
    assert f"{received} replies kept in" in failed.output and "asks only the rest" in failed.output
    api.reply = reply

    rerun = CliRunner().invoke(main, args)
    assert rerun.exit_code == 0, rerun.output
    assert sent(api) - received - 1 == 20 - received
    said = " ".join(rerun.output.split())
    assert f"reused {received} of 20 replies from an interrupted run" in said


def test_ctrl_c_keeps_the_replies_that_were_in_flight(api, export):
    def interrupt(name, advance, total):
        if advance:
            raise KeyboardInterrupt

    cfg = config(api, export, system_prompt=None, finetuned_model=None, concurrency=4)
    with pytest.raises(KeyboardInterrupt):
        evaluate(cfg, progress=interrupt)
    kept = kept_lines(cfg)
    assert kept >= 4 and kept == sent(api)  # the reply that stopped it and those in flight
    resumed = evaluate(cfg)
    assert sent(api) == 10 and resumed.reused == (kept, 10)


def test_a_torn_last_line_is_ignored_and_later_replies_still_kept(api, export):
    whole = evaluate(config(api, export, "whole"))
    cfg = config(api, export)
    first = interrupted(api, cfg, 5)
    with (cfg.output / "replies.partial.jsonl").open("ab") as f:  # killed mid-write
        f.write('{"key": "0f3a", "reply": "答'.encode()[:-1])  # half a line, half a character
    second = interrupted(api, cfg, 8)  # appends after the torn line
    before = sent(api)
    resumed = evaluate(cfg)
    assert sent(api) - before == 30 - first - second
    assert resumed.reused == (first + second, 30)
    assert same_files(whole.output, resumed.output)


def test_a_changed_system_prompt_asks_again_what_it_changes(api, export):
    whole = evaluate(config(api, export, "whole", system_prompt="新的提示。"))
    interrupted(api, config(api, export), 14)  # base's 10 and 4 or 5 with the old prompt
    before = sent(api)
    resumed = evaluate(config(api, export, system_prompt="新的提示。"))
    asked = [r.json for r in api.calls(CHAT)[before:]]
    assert len(asked) == 20 and resumed.reused == (10, 30)  # only base's replies still apply
    prompted = [a for a in asked if a["messages"][0]["role"] == "system"]
    assert len(prompted) == 10 and {a["messages"][0]["content"] for a in prompted} == {"新的提示。"}
    assert same_files(whole.output, resumed.output)


def test_judge_replies_are_kept_and_reused(api, export):
    whole = evaluate(config(api, export, "whole", judge_model=JUDGE))
    cfg = config(api, export, judge_model=JUDGE)
    received = interrupted(api, cfg, 30 + 6)  # every model reply and 6 verdicts
    before = sent(api)
    resumed = evaluate(cfg)
    asked = [r.json["model"] for r in api.calls(CHAT)[before:]]
    assert asked == [JUDGE] * (60 - received) and resumed.reused == (received, 60)
    assert same_files(whole.output, resumed.output)


def test_a_request_that_failed_for_one_riddle_is_asked_again(api, export):
    cfg = config(api, export, system_prompt=None, finetuned_model=None)
    api.fail(CHAT, 400, {"code": 20015, "message": "content filtered"})  # the first request
    received = interrupted(api, cfg, 4) - 1  # not the filtered one
    before = sent(api)
    resumed = evaluate(cfg)
    asked = [r.json["messages"][-1]["content"] for r in api.calls(CHAT)[before:]]
    assert len(asked) == 10 - received and RIDDLES[0][0] in asked  # the filtered one, again
    assert resumed.results[0]["errors"] == 0
