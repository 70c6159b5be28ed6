"""curate's local trainer against a plain TRL SFTTrainer: same data, model, LoRA, length, batch.

    .venv/bin/python bench/bench_train.py          # CPU smoke run on the demo model (noise)
    python3 bench/bench_train.py --gpu             # Qwen2.5-7B-Instruct's shape, random bf16

Each trainer runs in its own process (peak host RSS is per process) and is measured the same
way: `curate.training.callbacks.Meter` (non-padding tokens over the optimizer steps' time only,
torch.cuda.max_memory_allocated, ru_maxrss). TRL gets the same export as prompt-completion
records with completion_only_loss=True (Qwen2.5's stock template has no generation markers for
assistant_only_loss), packing off, the same LoRA rank/alpha/dropout/targets, max length, batch,
steps, learning rate, warmup fraction and activation checkpointing. See bench/README.md for what
still differs. Needs trl (bench/requirements.txt); the test suite does not.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from curate.training.demo import (
    RIDDLES,
    build_tiny_model,
    build_tokenizer,
    write_export,
    write_manifest,
)

# --gpu: sized to finish both runs in under 8 minutes on one H100/H200.
GPU = dict(steps=40, length=512, batch=8)
CPU = dict(steps=8, length=64, batch=4)
LORA = dict(lora_rank=8, lora_alpha=32.0, lora_dropout=0.05, lr=1e-4)
# Qwen/Qwen2.5-7B-Instruct's config.json (the shape; the weights here are random)
QWEN_7B = dict(
    vocab_size=152064,
    hidden_size=3584,
    intermediate_size=18944,
    num_hidden_layers=28,
    num_attention_heads=28,
    num_key_value_heads=4,
    max_position_embeddings=32768,
    rope_theta=1000000.0,
    rms_norm_eps=1e-6,
    tie_word_embeddings=False,
)


def build_model(folder: Path, gpu: bool) -> Path:
    """The model folder: the demo model on CPU; Qwen2.5-7B's shape in bf16 with --gpu."""
    if not gpu:
        return build_tiny_model(folder)
    import torch
    from transformers import AutoModelForCausalLM, Qwen2Config

    texts = [q + a for q, a in RIDDLES]
    tokenizer = build_tokenizer(texts)  # ~1 token per character, ids < 600 of Qwen's 152k
    config = Qwen2Config(**QWEN_7B, eos_token_id=tokenizer.eos_token_id,
                         pad_token_id=tokenizer.pad_token_id, bos_token_id=None)  # fmt: skip
    torch.manual_seed(0)
    with torch.device("cuda"):
        model = AutoModelForCausalLM.from_config(config, dtype=torch.bfloat16)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def build_data(folder: Path, rows: int, length: int) -> Path:
    """`rows` riddle conversations of about `length` tokens (the question made long)."""
    out = []
    for i in range(rows):
        question, answer = RIDDLES[i % len(RIDDLES)]
        filler = "".join(q for q, _ in RIDDLES) * (length // 100 + 1)
        long_question = (filler[i % 50 :] + question)[-(length - 24) :]  # room for the template
        messages = [{"role": "user", "content": long_question},
                    {"role": "assistant", "content": answer}]  # fmt: skip
        out.append({"messages": messages})
    write_export(folder, out, [])
    (folder / "validation-00000-of-00001.jsonl").unlink()  # no validation: steps only
    write_manifest(folder)  # list what is there now, or train refuses the folder as incomplete
    return folder


def run_curate(model: Path, data: Path, out: Path, shape: dict, gpu: bool) -> dict:
    from curate.training import TrainConfig, train

    config = TrainConfig(
        model=str(model), data=data, output=out, epochs=1, batch_size=shape["batch"],
        grad_accum=1, max_seq_len=shape["length"], gradient_checkpointing=gpu, **LORA,
    )  # fmt: skip
    metrics = train(config).metrics
    keys = ("tokens_per_s", "train_tokens", "train_seconds", "peak_gpu_mem_gib", "peak_rss_gib")
    return {k: metrics[k] for k in keys} | {"steps": metrics["steps"]}


def run_trl(model: Path, data: Path, out: Path, shape: dict, gpu: bool) -> dict:
    import torch
    from datasets import Dataset
    from peft import LoraConfig
    from trl import SFTConfig, SFTTrainer

    from curate.training.callbacks import Meter
    from curate.training.local import linear_layers

    lines = [x for f in sorted(data.glob("train-*.jsonl")) for x in f.read_text().splitlines()]
    rows = [json.loads(line) for line in lines]
    records = [{"prompt": r["messages"][:-1], "completion": r["messages"][-1:]} for r in rows]
    dtype = torch.bfloat16 if gpu else torch.float32
    args = SFTConfig(
        output_dir=str(out), num_train_epochs=1, per_device_train_batch_size=shape["batch"],
        gradient_accumulation_steps=1, learning_rate=LORA["lr"], warmup_steps=0.03,
        max_length=shape["length"], packing=False, completion_only_loss=True,
        gradient_checkpointing=gpu, gradient_checkpointing_kwargs={"use_reentrant": False},
        bf16=gpu, use_cpu=not gpu, save_strategy="no", report_to="none", logging_steps=1,
        include_num_input_tokens_seen="non_padding", model_init_kwargs={"dtype": dtype},
        seed=42, data_seed=42,
    )  # fmt: skip
    from transformers import AutoModelForCausalLM

    base = AutoModelForCausalLM.from_pretrained(str(model), dtype=dtype)
    lora = LoraConfig(r=LORA["lora_rank"], lora_alpha=LORA["lora_alpha"],
                      lora_dropout=LORA["lora_dropout"], target_modules=linear_layers(base),
                      task_type="CAUSAL_LM")  # fmt: skip
    meter = Meter()
    trainer = SFTTrainer(model=base, args=args, train_dataset=Dataset.from_list(records),
                         peft_config=lora, callbacks=[meter])  # fmt: skip
    trainer.train()
    return meter.report() | {"steps": trainer.state.global_step}


def child(args) -> None:
    shape = GPU if args.gpu else CPU
    run = {"curate": run_curate, "trl": run_trl}[args.only]
    result = run(Path(args.model), Path(args.data), Path(args.work) / args.only, shape, args.gpu)
    print("RESULT " + json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gpu", action="store_true", help="Qwen2.5-7B's shape in bf16 on CUDA")
    parser.add_argument("--only", choices=["curate", "trl"], help=argparse.SUPPRESS)
    parser.add_argument("--model", help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    parser.add_argument("--work", help="folder for the model, data and runs [default: a temp]")
    args = parser.parse_args()
    if args.only:
        return child(args)
    import trl

    shape = GPU if args.gpu else CPU
    work = Path(args.work or tempfile.mkdtemp(prefix="bench-train-"))
    model = build_model(work / "model", args.gpu)
    data = build_data(work / "data", shape["steps"] * shape["batch"], shape["length"])
    results = {}
    for name in ("curate", "trl"):
        cmd = [sys.executable, __file__, "--only", name, "--model", str(model), "--data",
               str(data), "--work", str(work), *(["--gpu"] if args.gpu else [])]  # fmt: skip
        done = subprocess.run(cmd, capture_output=True, text=True, env=os.environ)
        line = [x for x in done.stdout.splitlines() if x.startswith("RESULT ")]
        if done.returncode or not line:
            sys.exit(f"{name} failed:\n{done.stderr[-4000:]}")
        results[name] = json.loads(line[-1][7:])
    mode = "gpu" if args.gpu else "cpu"
    report = {"mode": mode, "trl_version": trl.__version__, **shape, **results}
    report["tokens_per_s_ratio"] = round(
        results["curate"]["tokens_per_s"] / max(results["trl"]["tokens_per_s"], 1e-9), 3
    )
    print(json.dumps(report, indent=2))
    (work / "results.json").write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
