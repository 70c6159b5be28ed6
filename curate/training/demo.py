"""The demo model: a tiny random causal LM and a tokenizer trained on the spot, and 16 riddles.

`curate demo-model DIR` saves them, so that the README's CPU examples run as written without
a download; the tests train on the same model. A few hundred thousand parameters, a ChatML
chat template like Qwen's, no hub, no network. Its answers mean nothing until trained.
"""

from __future__ import annotations

import json
from pathlib import Path

from curate.files import sha256_file, write_json, write_text
from curate.verify import MANIFEST, SHARD

ARCHS = ("qwen2", "llama")
SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)

# 16 short riddles (question, answer): what the tests train on and expect back.
RIDDLES = [
    ("什么东西越洗越脏？", "水"),
    ("什么人一年只上一天班还不怕被解雇？", "圣诞老人"),
    ("什么床不能睡？", "牙床"),
    ("什么酒不能喝？", "碘酒"),
    ("什么书在书店里买不到？", "秘书"),
    ("什么路最窄？", "冤家路窄"),
    ("什么门永远关不上？", "球门"),
    ("什么车寸步难行？", "风车"),
    ("什么蛋不能吃？", "笨蛋"),
    ("什么东西有头无脚？", "砖头"),
    ("什么瓜不能吃？", "傻瓜"),
    ("什么帽不能戴？", "螺丝帽"),
    ("什么鸡没有翅膀？", "田鸡"),
    ("什么花不会凋谢？", "雪花"),
    ("什么鼠最爱干净？", "环保鼠"),
    ("什么桥下没有水？", "立交桥"),
]


HELD_OUT = 4  # riddles the demo export keeps out of training, for validation and eval


def riddle_messages(riddles=RIDDLES, system: str | None = None) -> list[dict]:
    """One export line per riddle: {"messages": [system?, user, assistant]}."""
    rows = []
    for question, answer in riddles:
        head = [{"role": "system", "content": system}] if system else []
        turns = [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]
        rows.append({"messages": head + turns})
    return rows


def write_export(folder: Path, train_rows: list[dict], val_rows: list[dict]) -> Path:
    """Write rows in the shape `curate export --format jsonl` produces."""
    folder.mkdir(parents=True, exist_ok=True)
    for split, rows in (("train", train_rows), ("validation", val_rows)):
        lines = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
        write_text(folder / f"{split}-00000-of-00001.jsonl", lines)
    write_manifest(folder)
    return folder


def write_manifest(folder: Path, params: dict | None = None) -> dict:
    """A manifest.json for the shards in `folder`, in the shape `curate export` writes
    (files with split, size and sha256), so readers verify a hand-made export as a real one."""
    files = [
        {
            "path": p.name,
            "split": p.name.split("-")[0],
            "sha256": sha256_file(p),
            "bytes": p.stat().st_size,
        }
        for p in sorted(Path(folder).iterdir())
        if SHARD.match(p.name)
    ]
    manifest = {"stage": "export", "format": "jsonl", "params": params or {}, "files": files}
    write_json(Path(folder) / MANIFEST, manifest)
    return manifest


def write_demo_export(folder: Path, held_out: int = HELD_OUT) -> Path:
    """The 16 riddles as an export: the last `held_out` for validation, the rest for training."""
    rows = riddle_messages(RIDDLES)
    return write_export(Path(folder), rows[:-held_out], rows[-held_out:])


def build_tokenizer(texts: list[str], vocab_size: int = 600):
    """A byte-level BPE trained on `texts`, wrapped as a fast tokenizer with a chat template."""
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    raw = Tokenizer(models.BPE())
    # Split into characters first, so merges stay inside one character (about 1 token per
    # Chinese character, like Qwen's vocabulary), then map bytes the byte-level way.
    raw.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex("."), behavior="isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    raw.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIALS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    raw.train_from_iterator(texts + ["system user assistant\n"], trainer=trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=raw,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        chat_template=CHAT_TEMPLATE,
    )


def build_tiny_model(folder: Path, arch: str = "qwen2", texts: list[str] | None = None) -> Path:
    """Save a random tiny `arch` causal LM and its tokenizer to `folder`; return it."""
    import torch
    from transformers import AutoModelForCausalLM, LlamaConfig, Qwen2Config

    texts = texts if texts is not None else [q + a for q, a in RIDDLES]
    tokenizer = build_tokenizer(texts)
    shape = dict(
        vocab_size=len(tokenizer),
        hidden_size=128,
        intermediate_size=256,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=256,
        tie_word_embeddings=True,
        # Wider random weights than the usual 0.02 give the random features enough spread for a
        # rank-8 adapter to tell the riddles apart within ~300 steps (0.02 stalls near ln(vocab)).
        initializer_range=0.1,
        bos_token_id=None,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    config = {"qwen2": Qwen2Config, "llama": LlamaConfig}[arch](**shape)
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(config)
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder
