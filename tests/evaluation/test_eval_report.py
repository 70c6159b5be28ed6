"""What `curate eval` reports beyond the scores: intervals, significance, the judge, riddle
types, eval.md, and `curate ask`; all against the loopback server (tests/fake_siliconflow.py)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner
from fake_siliconflow import FakeSiliconFlow
from tiny import write_manifest

from curate.cli import main
from curate.errors import ConfigError
from curate.evaluation import DEFAULT_SYSTEM_PROMPT, EvalConfig, evaluate
from curate.evaluation.judge import JUDGE_SYSTEM, parse_verdict
from curate.record import content_hash

BASE, TUNED, JUDGE = "Qwen/Qwen2.5-7B-Instruct", "ft:LoRA/Qwen/riddles:ckpt", "judge/Qwen2.5-72B"
# 30 riddles: the fine-tuned model answers all, the base model 3 of them, the prompted one 5.
RIDDLES = [(f"第{i}题是什么？", f"答案{i:02d}") for i in range(30)]
RIGHT = {BASE: 3, "prompted": 5, TUNED: 30}


def write_export(folder: Path, riddles=RIDDLES, template: str = "{question}") -> Path:
    """An export folder like `curate export` writes: shards and a manifest naming its input."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = []
    for q, a in riddles:
        user = template.format(question=q, category="")
        msgs = [{"role": "user", "content": user}, {"role": "assistant", "content": a}]
        lines.append(json.dumps({"messages": msgs}, ensure_ascii=False) + "\n")
    (folder / "validation-00000-of-00001.jsonl").write_text("".join(lines), "utf-8")
    (folder / "train-00000-of-00001.jsonl").write_text(lines[0], "utf-8")
    deduped = folder.parent.parent / "deduped.parquet"
    params = {"user_template": template, "system_prompt": None}
    manifest = write_manifest(folder, params)
    manifest["inputs"] = [{"path": str(deduped), "sha256": "0" * 64}]
    (folder / "manifest.json").write_text(json.dumps(manifest), "utf-8")
    return folder


def reply(model: str, messages: list[dict]) -> str:
    """Canned replies; the judge says correct when the reply names the reference's number."""
    if model == JUDGE:
        user = messages[-1]["content"]
        reference = user.split("参考答案：")[1].split("\n")[0]
        said = user.split("回答：")[1]
        ok = reference[-2:] in said
        verdict = "correct" if ok else "wrong"
        return json.dumps({"verdict": verdict, "reason": f"回答{'提到' if ok else '没有'}编号"})
    i = int(messages[-1]["content"].split("第")[1].split("题")[0])
    key = "prompted" if messages[0]["role"] == "system" else model
    if i < RIGHT[key]:
        return f"答案{i:02d}" if key != "prompted" else f"谜底是“答案{i:02d}”，因为题目这么说。"
    return "不知道，这道题太难了。" if key == BASE else f"编号{i:02d}吧"


@pytest.fixture
def api(fake_api):
    fake_api.key, fake_api.reply = None, reply
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


def test_every_rate_has_a_wilson_interval_and_reply_lengths_are_shown(api, export):
    result = evaluate(config(api, export))
    base, prompted, tuned = result.results
    assert base["exact_match"] == 0.1 and base["exact_match_ci"] == [0.0346, 0.2562]
    assert tuned["exact_match"] == 1.0 and tuned["contains_ci"][1] == 1.0
    assert tuned["exact_match_ci"][0] == pytest.approx(0.8865, abs=1e-4)
    # verbose but right: scored on the stated answer, and its length is shown
    assert prompted["exact_match"] == round(5 / 30, 4)
    assert prompted["median_reply_chars"] == 5.0 and base["median_reply_chars"] == 11.0
    assert tuned["median_reply_chars"] == 4.0
    saved = json.loads((result.output / "eval.json").read_text("utf-8"))
    assert saved["results"] == result.results and saved["comparisons"] == result.comparisons


def test_pairs_are_compared_and_eval_md_says_which_difference_is_noise(api, export):
    result = evaluate(config(api, export))
    pairs = {(c["a"], c["b"]): c for c in result.comparisons}
    assert set(pairs) == {
        ("base", "system_prompt"),
        ("base", "finetuned"),
        ("system_prompt", "finetuned"),
    }
    assert pairs[("base", "finetuned")]["significant"] is True
    assert pairs[("base", "system_prompt")] | {"p_value": None, "p_holm": None} == {
        "a": "base",
        "b": "system_prompt",
        "metric": "exact_match",
        "difference": round(2 / 30, 4),
        "only_a": 0,
        "only_b": 2,
        "p_value": None,
        "p_holm": None,
        "significant": False,
    }
    md = (result.output / "eval.md").read_text("utf-8")
    assert "| base | `Qwen/Qwen2.5-7B-Instruct` | 10.0% [3.5–25.6] |" in md
    assert "`system_prompt` vs `base`: +6.7 points exact match is not significant" in md
    assert "could be chance" in md
    assert "`finetuned` vs `base`: +90.0 points exact match, significant" in md
    assert "## Where the configurations disagree (10 riddles)" in md
    table = md.split("## Where the configurations disagree")[1]
    assert table.count("\n| 第") == 10 and "✓ 答案03" in table and "✗ 不知道" in table


def test_the_judge_is_its_own_column_with_a_reason_per_reply(api, export):
    result = evaluate(config(api, export, judge_model=JUDGE))
    by_config = {r["config"]: r for r in result.results}
    # the judge sees "编号07吧" as right (it names the number), exact match does not
    assert (
        by_config["system_prompt"]["judge"] == 1.0
        and by_config["system_prompt"]["exact_match"] < 0.2
    )
    assert by_config["base"]["judge"] == 0.1 and by_config["base"]["judge_ci"] == [0.0346, 0.2562]
    rows = [json.loads(x) for x in result.files["responses.jsonl"].read_text("utf-8").splitlines()]
    assert all(r["judge"] in (0.0, 1.0) and r["judge_reason"] for r in rows)
    asked = [r.json for r in api.calls("POST /v1/chat/completions") if r.json["model"] == JUDGE]
    # one request per distinct (riddle, reply): 87 for the 90 rows, 3 replies being shared
    distinct = {(r["question"], r["reference"], r["response"]) for r in rows}
    assert len(asked) == len(distinct) == 87 and len(rows) == 90
    assert {a["messages"][0]["content"] for a in asked} == {JUDGE_SYSTEM}
    assert {(a["temperature"], a["max_tokens"]) for a in asked} == {(0.0, 128)}
    assert "| judge |" in (result.output / "eval.md").read_text("utf-8")


def test_the_judge_is_off_by_default_and_can_live_on_another_endpoint(api, export):
    result = evaluate(config(api, export, system_prompt=None, finetuned_model=None))
    assert "judge" not in result.results[0]
    assert all(r.json["model"] != JUDGE for r in api.calls("POST /v1/chat/completions"))
    with FakeSiliconFlow(key=None, reply=lambda m, msgs: "正确。回答给出了答案") as judge:
        cfg = config(api, export, system_prompt=None, finetuned_model=None)
        result = evaluate(replace(cfg, judge_model=JUDGE, judge_endpoint=judge.url))
        assert len(judge.calls("POST /v1/chat/completions")) == 30
    assert result.results[0]["judge"] == 1.0 and result.results[0]["judge_unreadable"] == 0
    with pytest.raises(ConfigError, match="--judge-endpoint URL"):
        evaluate(EvalConfig(data=export, model=Path("m"), judge_model=JUDGE))


def test_parse_verdict_reads_json_or_a_leading_word_and_flags_the_rest():
    assert parse_verdict('好的。{"verdict": "wrong", "reason": "猜了两个答案"}') == (
        0.0,
        "猜了两个答案",
    )
    assert parse_verdict("Correct - both say 装相") == (1.0, "Correct - both say 装相")
    assert parse_verdict("我不确定")[0] is None


def write_deduped(export: Path, types: dict[int, str] | None) -> None:
    rows = {"question": [q for q, _ in RIDDLES], "answer": [a for _, a in RIDDLES]}
    rows["category"] = [None] * len(RIDDLES)
    if types is not None:
        rows["riddle_type"] = [types.get(i, "脑筋急转弯") for i in range(len(RIDDLES))]
    rows["content_hash"] = [content_hash(q, a) for q, a in RIDDLES]
    pl.DataFrame(rows).write_parquet(export.parent.parent / "deduped.parquet")


def test_scores_are_broken_down_by_riddle_type_when_the_data_has_it(api, export):
    write_deduped(export, {i: "字谜" for i in range(10)})
    result = evaluate(config(api, export))
    saved = json.loads((result.output / "eval.json").read_text("utf-8"))
    by = {(e["riddle_type"], e["config"]): e for e in saved["by_riddle_type"]}
    assert by[("字谜", "base")]["n"] == 10 and by[("字谜", "base")]["exact_match"] == 0.3
    assert by[("脑筋急转弯", "base")]["n"] == 20 and by[("脑筋急转弯", "base")]["exact_match"] == 0
    assert by[("字谜", "finetuned")]["exact_match_ci"][1] == 1.0
    md = (result.output / "eval.md").read_text("utf-8")
    assert "## Exact match by riddle type" in md and "| 字谜 | 10 | 30.0% [10.8–60.3] |" in md


def test_no_riddle_type_column_no_breakdown(api, export):
    write_deduped(export, None)  # a deduped.parquet from before the column existed
    result = evaluate(config(api, export))
    assert json.loads((result.output / "eval.json").read_text("utf-8"))["by_riddle_type"] == []
    assert "by riddle type" not in (result.output / "eval.md").read_text("utf-8")


# -- curate ask --------------------------------------------------------------------------------


def test_ask_shows_the_three_replies_side_by_side(fake_api, project):
    export = write_export(project / "processed" / "export" / "jsonl", template="谜语：{question}")
    fake_api.key = None
    answers = {BASE: "我不知道。", TUNED: "球门"}
    fake_api.reply = lambda model, msgs: (
        "足球的球门" if msgs[0]["role"] == "system" else answers[model]
    )
    args = ["ask", "什么门永远关不上？", "--data", str(export), "--endpoint", fake_api.url]
    args += ["--base-model", BASE, "--finetuned-model", TUNED, "--system-prompt", "default"]
    result = CliRunner().invoke(main, args, env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.output
    for text in ("base", "system_prompt", "finetuned", "我不知道。", "足球的球门", "球门"):
        assert text in result.output
    sent = [r.json for r in fake_api.calls("POST /v1/chat/completions")]
    # the same user turn for all three (the export's template), only the system prompt differs
    assert {s["messages"][-1]["content"] for s in sent} == {"谜语：什么门永远关不上？"}
    systems = sorted(
        s["messages"][0]["content"] for s in sent if s["messages"][0]["role"] == "system"
    )
    assert systems == [DEFAULT_SYSTEM_PROMPT] and {s["max_tokens"] for s in sent} == {256}


def test_ask_needs_a_question_and_a_model(project):
    result = CliRunner().invoke(main, ["ask", "  ", "--endpoint", "http://127.0.0.1:9/v1"])
    assert result.exit_code == 2 and "give the riddle to ask" in result.output
    result = CliRunner().invoke(main, ["ask", "什么门永远关不上？"])
    assert result.exit_code == 2 and "either --endpoint" in result.output


def test_empty_replies_and_unreadable_judge_verdicts_are_said_not_just_scored_zero(
    api, export, monkeypatch
):
    """A model that says nothing and a judge that answers no verdict read as 0% otherwise."""
    monkeypatch.setenv("SILICONFLOW_API_KEY", "sk-x")

    def broken(model: str, messages: list[dict]) -> str:
        if model == JUDGE:
            return "嗯……这个嘛，{不好说}"  # no verdict to read
        return "" if model == TUNED else reply(model, messages)

    api.reply = broken
    out = export.parent / "eval-broken"
    args = ["eval", "--data", str(export), "--endpoint", api.url, "--base-model", BASE]
    args += ["--finetuned-model", TUNED, "--judge-model", JUDGE, "--output", str(out)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert "30 of 30 replies of `finetuned` were empty" in said
    assert "could not be read for 60 of 60 replies" in said
    md = " ".join((out / "eval.md").read_text("utf-8").split())
    assert "30 of 30 replies of `finetuned` were empty" in md
    assert "could not be read for 60 of 60 replies" in md
    saved = json.loads((out / "eval.json").read_text("utf-8"))
    tuned = next(r for r in saved["results"] if r["config"] == "finetuned")
    assert tuned["empty_replies"] == 30 and tuned["judge_unreadable"] == 30
