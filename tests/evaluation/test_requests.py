"""How `curate eval` sends its requests: a per-request --timeout, and each distinct request once."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter

import pytest
from click.testing import CliRunner
from test_evaluate import BASE, RIDDLES, canned, config, write_export

from curate.cli import main
from curate.errors import BackendError, ConfigError
from curate.evaluation import evaluate

HANG = 0.6  # seconds a stuck request takes on the fake server; the tests' --timeout is 0.2


@pytest.fixture
def export(project):
    return write_export(project / "processed" / "export" / "jsonl")


@pytest.fixture(autouse=True)
def no_waits(monkeypatch):
    """Retries still happen, without the real backoff between them."""
    monkeypatch.setattr("curate.evaluation.backends.SLEEP", lambda _s: None)


def stuck_on(*questions: str, times: int = -1):
    """A reply function that hangs (HANG s) on `questions`: `times` times each, -1 always."""
    left = Counter({q: times for q in questions})
    lock = threading.Lock()

    def reply(model: str, messages: list[dict]) -> str:
        question = messages[-1]["content"]
        with lock:
            hang = left[question] != 0
            left[question] -= hang
        if hang:
            time.sleep(HANG)
        return canned(model, messages)

    return reply


def rows_of(result) -> list[dict]:
    text = result.files["responses.jsonl"].read_text("utf-8")
    return [json.loads(line) for line in text.splitlines()]


def test_a_request_stuck_past_the_timeout_is_retried_then_recorded_for_its_riddle(fake_api, export):
    fake_api.key = None
    fake_api.reply = stuck_on(RIDDLES[1][0])  # 什么床不能睡？ never answers in time
    only_base = config(fake_api, export, system_prompt=None, finetuned_model=None)
    start = time.monotonic()
    result = CliRunner().invoke(
        main,
        [
            *("eval", "--data", str(export), "--endpoint", fake_api.url, "--base-model", BASE),
            *("--output", str(only_base.output), "--timeout", "0.2"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert time.monotonic() - start < 10  # 5 tries of 0.2 s, not 5 of 60 s
    rows = [json.loads(line) for line in (only_base.output / "responses.jsonl").open()]
    stuck = rows[1]
    assert "no answer within 0.2s on 5 attempts" in stuck["error"]
    assert stuck["exact_match"] == 0.0 and stuck["response"] == ""
    assert [r.get("error") for r in rows[::2]] == [None, None]  # the others are scored
    asked = Counter(r.json["messages"][-1]["content"] for r in fake_api.requests)
    assert asked[RIDDLES[1][0]] == 5 and asked[RIDDLES[0][0]] == 1  # 1 try + 4 retries
    assert "1 requests failed; they are scored wrong" in result.output


def test_a_request_stuck_once_is_retried_and_answered(fake_api, export, monkeypatch):
    monkeypatch.setenv("SILICONFLOW_API_KEY", fake_api.key)
    fake_api.reply = stuck_on(RIDDLES[0][0], times=1)
    result = evaluate(
        config(fake_api, export, system_prompt=None, finetuned_model=None, timeout=0.2)
    )
    assert result.results[0]["errors"] == 0 and result.results[0]["exact_match"] == 0.25
    assert len(fake_api.requests) == len(RIDDLES) + 1


def test_when_every_request_times_out_the_run_stops(fake_api, export, monkeypatch):
    monkeypatch.setenv("SILICONFLOW_API_KEY", fake_api.key)
    fake_api.reply = stuck_on(*(q for q, _ in RIDDLES))
    with pytest.raises(BackendError, match=r"every request for base .* no answer within 0.2s"):
        evaluate(config(fake_api, export, system_prompt=None, finetuned_model=None, timeout=0.2))


def test_timeout_must_be_positive(fake_api, export):
    with pytest.raises(ConfigError, match="--timeout must be more than 0"):
        evaluate(config(fake_api, export, timeout=0.0))
    assert fake_api.requests == []


JUDGE = "judge/Qwen-72B"
SAID = {"base": "不知道", "system_prompt": "不知道", "finetuned": None}  # None: the answer


def same_answers(model: str, messages: list[dict]) -> str:
    """Base and system_prompt say 不知道 (so the judge is shown the same reply twice), the
    fine-tuned model the answer; the judge says correct when the reply names the answer."""
    last = messages[-1]["content"]
    if model == JUDGE:
        reference, reply = (last.split(key)[1].split("\n")[0] for key in ("参考答案：", "回答："))
        return '{"verdict": "correct"}' if reference == reply else '{"verdict": "wrong"}'
    return dict(RIDDLES)[last] if model != BASE else "不知道"


def test_identical_requests_are_sent_once_and_every_row_gets_the_reply(fake_api, project):
    fake_api.key, fake_api.reply = None, same_answers
    twice = [*RIDDLES, RIDDLES[1]]  # a riddle in the data twice (two sources, one question)
    export = write_export(project / "export", twice)
    out = project / "eval"
    args = ["eval", "--data", str(export), "--endpoint", fake_api.url, "--base-model", BASE]
    args += ["--finetuned-model", "ft:riddles", "--system-prompt", "default"]
    result = CliRunner().invoke(main, [*args, "--judge-model", JUDGE, "--output", str(out)])
    assert result.exit_code == 0, result.output
    sent = [(r.json["model"], json.dumps(r.json["messages"])) for r in fake_api.requests]
    assert len(sent) == len(set(sent))  # nothing asked twice
    # 3 configs x 4 distinct riddles; the judge: base 4, system_prompt 0 (its 不知道 replies
    # are base's), finetuned 4: 20 requests where 30 were sent before.
    assert len(sent) == 3 * 4 + 8
    rows = [json.loads(line) for line in (out / "responses.jsonl").open(encoding="utf-8")]
    assert len(rows) == 3 * len(twice)
    for row in rows:  # every row as if its own request had been sent
        said = SAID[row["config"]] or row["reference"]
        assert row["response"] == said and "error" not in row
        assert row["judge"] == (1.0 if said == row["reference"] else 0.0)
    assert "reused" not in result.output  # nothing came from an interrupted run


def test_a_request_shared_by_two_configs_is_not_said_to_be_reused(fake_api, export):
    fake_api.key = None
    fake_api.reply = canned
    args = ["eval", "--data", str(export), "--endpoint", fake_api.url, "--base-model", BASE]
    # the base model again as "finetuned", and no system message in the data: base's requests
    args += ["--finetuned-model", BASE, "--output", str(export.parent / "eval")]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert len(fake_api.requests) == len(RIDDLES)
    assert "reused" not in result.output  # not "reused 4 of 8 replies from an interrupted run"
