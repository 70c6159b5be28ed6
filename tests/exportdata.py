"""Deduped-stage frames for export tests, built from canonical record helpers (no dedupe run).

`from exportdata import record, write_deduped, as_stage, tiny_tokenizer`
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from curate.normalize import display
from curate.record import SCHEMA, content_hash, record_id
from curate.riddle_type import detect
from curate.stage import write_stage

# Twenty different riddles: no two questions are near (`curate.stages.export.leaks`), so
# an export of them splits by answer alone.
RIDDLES = [
    ("什么东西越洗越脏？", "水"),
    ("什么书在书店里买不到？", "秘书"),
    ("什么路最窄？", "冤家路窄"),
    ("什么人一年只上一天班？", "圣诞老人"),
    ("什么车寸步难行？", "风车"),
    ("什么床不能睡？", "牙床"),
    ("什么酒不能喝？", "碘酒"),
    ("什么鸟不会飞？", "鸵鸟"),
    ("什么瓜不能吃？", "傻瓜"),
    ("什么蛋不能吃？", "笨蛋"),
    ("哪种动物最怕冷？", "老鼠"),
    ("什么门永远关不上？", "球门"),
    ("什么海没有水？", "辞海"),
    ("什么东西有脚却不会走路？", "桌子"),
    ("脱裤子放屁", "多此一举"),
    ("泥菩萨过江", "自身难保"),
    ("外甥打灯笼", "照舅"),
    ("半个月亮（打一字）", "胖"),
    ("一口咬掉牛尾巴（打一字）", "告"),
    ("早上起来看太阳，手里拿着一根棒，打一水果", "香蕉"),
]


def record(
    question: str,
    answer: str,
    *,
    source: str = "raw/demo.jsonl",
    line: int = 0,
    category: str | None = None,
) -> dict:
    """One canonical row, as ingest would make it."""
    q, a = display(question), display(answer)
    return {
        "id": record_id(source, line),
        "source": source,
        "line": line,
        "category": category,
        "riddle_type": detect(q, a, category),
        "question": q,
        "answer": a,
        "question_raw": question,
        "answer_raw": answer,
        "content_hash": content_hash(q, a),
        "meta": None,
    }


def records(pairs: list[tuple[str, str]], source: str = "raw/demo.jsonl") -> list[dict]:
    return [record(q, a, source=source, line=i) for i, (q, a) in enumerate(pairs)]


def write_deduped(processed: Path, rows: list[dict]) -> Path:
    """Commit rows as the deduped stage (`<processed>/deduped.parquet` and its manifest)."""
    return as_stage(processed, "deduped", pl.DataFrame(rows, schema=SCHEMA))


def as_stage(processed: Path, name: str, frame: pl.DataFrame) -> Path:
    """Commit `frame` as stage `name` of `processed` (no rejects), as a stage run would."""
    write_stage(processed, name, frame, [], n_in=frame.height, params={}, inputs=[])
    return processed / f"{name}.parquet"


def xiehouyu_rows(path: Path) -> list[dict]:
    """The shared xiehouyu.json as canonical rows, exact duplicates dropped (first kept)."""
    rows, seen = [], set()
    for i, item in enumerate(json.loads(path.read_text(encoding="utf-8"))):
        row = record(
            item["riddle"], item["answer"], source="raw/xiehouyu.json", line=i, category="歇后语"
        )
        if row["question"] and row["answer"] and row["content_hash"] not in seen:
            seen.add(row["content_hash"])
            rows.append(row)
    return rows


CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def tiny_tokenizer(folder: Path, texts: list[str]) -> Path:
    """A character-level tokenizer with a ChatML chat template, saved to `folder` (no hub)."""
    from tokenizers import Regex, Tokenizer, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    raw = Tokenizer(models.WordLevel(unk_token="<unk>"))
    raw.pre_tokenizer = pre_tokenizers.Split(Regex("."), behavior="isolated")
    specials = ["<unk>", "<|im_start|>", "<|im_end|>"]
    raw.train_from_iterator(
        texts + ["system user assistant\n"], trainers.WordLevelTrainer(special_tokens=specials)
    )
    tok = PreTrainedTokenizerFast(
        tokenizer_object=raw, unk_token="<unk>", additional_special_tokens=specials[1:]
    )
    tok.chat_template = CHAT_TEMPLATE
    tok.save_pretrained(folder)
    return folder
