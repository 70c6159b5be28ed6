"""`curate train --backend siliconflow`: validate, upload, console hand-off, attach the model.

SiliconFlow has no public API for fine-tuning jobs (reference/siliconflow.md section 0): the job
is created in the web console. So this backend (1) checks the export against the platform's
rules and the console's bounds, writes the upload file(s) and uploads them with purpose
`fine-tune`, then prints the console steps with the exact values; (2) with `--attach`, takes
the `ft:LoRA/...` id the user copied from the console and proves it answers a chat request.
Everything is recorded in OUTPUT/siliconflow.json (never the key).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from curate.endpoint import ApiError, BackendError, Client, api_key_from_env
from curate.errors import ConfigError, InputError
from curate.files import write_json, write_text
from curate.training import records
from curate.training.base import SILICONFLOW_BOUNDS, TrainConfig, TrainResult, check_bounds
from curate.training.upload_files import data_warnings, describe, read_split

CONSOLE_URL = "https://cloud.siliconflow.cn/fine-tune"
# Chat base models the fine-tune guide lists (2025); the console has the latest list, so
# another model is a warning, not an error.
DOCUMENTED_MODELS = (
    "Qwen/Qwen2.5-7B-Instruct",
    "Qwen/Qwen2.5-14B-Instruct",
    "Qwen/Qwen2.5-32B-Instruct",
    "Qwen/Qwen2.5-72B-Instruct",
)
PURPOSE = "fine-tune"  # undocumented but used in practice (reference section 2.1)
RECORD = "siliconflow.json"
TRAIN_FILE = "siliconflow-train.jsonl"
VALIDATION_FILE = "siliconflow-validation.jsonl"
NOT_READY = 20012  # "Model does not exist": a wrong id, or a job that has not finished
# Only the batch API documents these limits; above them we warn, since fine-tuning may differ.
SMOKE_MAX_TOKENS = 64
SMOKE_PROMPT = [{"role": "user", "content": "什么东西越洗越脏？"}]  # answer: 水
FIRST_POLL, MAX_POLL = 30.0, 600.0  # seconds between --wait polls: doubling, capped
# The console's field names (guide section 3) for each config field, in console order.
CONSOLE_FIELDS = {
    "lr": "Learning Rate",
    "epochs": "Number of Epochs",
    "batch_size": "Batch Size",
    "max_seq_len": "Max Tokens",
    "lora_rank": "LoRA Rank",
    "lora_alpha": "LoRA Alpha",
    "lora_dropout": "LoRA Dropout",
}
# Settable in tests so that retries and --wait polls take no real time.
SLEEP = time.sleep
CLOCK = time.monotonic


def run(config: TrainConfig) -> TrainResult:
    """Prepare and upload the data, or (with `attach`) verify and record a fine-tuned model."""
    return attach(config) if config.attach else prepare(config)


def _client(config: TrainConfig, key: str) -> Client:
    return Client(
        config.base_url, key, key_env=config.api_key_env, sleep=SLEEP, max_wait=config.max_wait
    )


# -- prepare: check, write, upload, hand off ---------------------------------------------


def prepare(config: TrainConfig) -> TrainResult:
    """Check the export and the parameters, write and upload the file(s), say what to click."""
    key = None if config.dry_run else api_key_from_env(config.api_key_env)  # before any work
    warnings = check_parameters(config)
    output = Path(config.output)
    splits = {"train": TRAIN_FILE}
    if config.own_validation:
        splits["validation"] = VALIDATION_FILE
    files: dict[str, dict] = {}
    for split, name in splits.items():
        lines, shards = read_split(config.data, split)
        warnings += data_warnings(split, lines, config.max_seq_len)
        write_text(output / name, "".join(line + "\n" for line in lines))
        files[split] = describe(output / name, lines, shards)
        if split == "train":  # what eval's overlap guard compares against
            data = Path(config.data)
            paths = [data] if data.is_file() else [data / s for s in shards]
            records.write_train_record(output, paths, [json.loads(x) for x in lines])
    if key is not None:
        with _client(config, key) as client:
            for info in files.values():
                info["file_id"] = upload(client, output / info["path"])
    record = {
        "backend": "siliconflow",
        "status": "dry_run" if config.dry_run else "uploaded",
        "base_url": config.base_url,
        "console_url": CONSOLE_URL,
        "task": {
            "name": config.name,
            "base_model": config.model,
            "parameters": console_values(config),
        },
        "data": str(config.data),
        "files": files,
        "validation": "own file" if config.own_validation else "console split (10%)",
        "warnings": warnings,
        "model": None,
    }
    record["console_steps"] = console_steps(config, files)
    write_json(output / RECORD, record)
    notes = [*(f"warning: {w}" for w in warnings), *record["console_steps"]]
    if config.dry_run:  # the record says dry_run; the terminal should say what that means
        notes.append(
            f"Dry run: nothing was uploaded. To upload, set ${config.api_key_env} and run "
            "this command again without --dry-run (or upload the file yourself at step 4)."
        )
    return _result(config, record, notes)


def check_parameters(config: TrainConfig) -> list[str]:
    """Raise on a value the console would refuse; return warnings for the rest."""
    check_bounds(config, SILICONFLOW_BOUNDS, "the SiliconFlow console")
    warnings = []
    if config.model not in DOCUMENTED_MODELS:
        warnings.append(
            f"base model {config.model!r} is not in the documented list "
            f"({', '.join(DOCUMENTED_MODELS)}); check the console's current list"
        )
    if config.grad_accum not in (None, 1):
        warnings.append(
            f"--grad-accum {config.grad_accum} is ignored: the console has no such field"
        )
    return warnings


def upload(client: Client, path: Path) -> str:
    """Upload one file with purpose fine-tune; its id. A refusal says how to do it by hand."""
    try:
        return client.upload_file(path, PURPOSE)["id"]
    except ApiError as exc:
        if exc.status in (401, 403) or exc.status is None or exc.status >= 500:
            raise
        raise BackendError(
            f"{exc}; the files API refused the upload: upload {path} by hand "
            f"in the console ({CONSOLE_URL}) instead"
        ) from None


def console_values(config: TrainConfig) -> dict[str, str]:
    """The values to type into the console, by the console's field names."""
    return {label: _number(getattr(config, name)) for name, label in CONSOLE_FIELDS.items()}


def _number(value: float | int) -> str:
    """1e-4 -> "0.0001", 32.0 -> "32": as the console shows them."""
    return f"{value:.10f}".rstrip("0").rstrip(".") if isinstance(value, float) else str(value)


def console_steps(config: TrainConfig, files: dict[str, dict]) -> list[str]:
    """The console hand-off, step by step, with the exact values."""

    def pick(info: dict) -> str:
        if info["file_id"]:
            return (
                f"pick the uploaded file {info['file_id']} ({info['path']}, {info['lines']} lines)"
            )
        return f"upload {Path(config.output) / info['path']} ({info['lines']} lines)"

    validation = files.get("validation")
    split = "split from the training set, 10%"
    params = ", ".join(f"{k} {v}" for k, v in console_values(config).items())
    return [
        f"1. Open {CONSOLE_URL} and create a fine-tuning task; task type: chat model fine-tuning.",
        f"2. Task name: {config.name}",
        f"3. Base model: {config.model}",
        f"4. Training data: {pick(files['train'])}",
        f"5. Validation data: {pick(validation) if validation else split}",
        f"6. Parameters: {params}",
        "7. Start the task. When it has finished, copy the model identifier (ft:LoRA/...) and run:",
        f"   curate train --backend siliconflow --output {config.output} --attach 'ft:LoRA/...'",
        "   (add --wait to poll until the model answers, for up to --wait-timeout seconds)",
    ]


# -- attach: verify and record the fine-tuned model ---------------------------------------


def attach(config: TrainConfig) -> TrainResult:
    """Check the copied id loosely, smoke-test it with one chat request, record it."""
    model_id = config.attach.strip()
    # Loose on purpose: the id's inner shape is undocumented (reference section 4).
    if not model_id.startswith("ft:") or len(model_id) < 12 or any(c.isspace() for c in model_id):
        raise ConfigError(
            f"--attach {model_id!r} does not look like a fine-tuned model id; copy "
            f"it from {CONSOLE_URL}: it looks like ft:LoRA/{config.model}:...:NAME:..."
        )
    key = api_key_from_env(config.api_key_env)
    output = Path(config.output)
    record = _load_record(output / RECORD) or {
        "backend": "siliconflow",
        "base_url": config.base_url,
        "console_url": CONSOLE_URL,
        "warnings": [],
    }
    warnings = []
    base = (record.get("task") or {}).get("base_model") or config.model
    if not model_id.startswith("ft:LoRA/") or base not in model_id:
        warnings.append(f"{model_id!r} does not start with ft:LoRA/{base}; is it the right task?")
    messages, expected = smoke_prompt(output / TRAIN_FILE)
    with _client(config, key) as client:
        reply, polls = smoke_test(client, model_id, messages, config)
    record.update(status="attached", base_url=config.base_url)
    record["model"] = {
        "id": model_id,
        "polls": polls,
        "smoke_test": {"messages": messages, "expected": expected, "reply": reply},
    }
    record["warnings"] = list(dict.fromkeys([*record.get("warnings", []), *warnings]))
    write_json(output / RECORD, record)
    notes = [
        *(f"warning: {w}" for w in warnings),
        f"{model_id} answers: {reply!r}",
        f"Evaluate it: {eval_command(config, record, base, model_id)}",
    ]
    return _result(config, record, notes)


def eval_command(config: TrainConfig, record: dict, base: str, model_id: str) -> str:
    """The full three-way `curate eval` (base, base + system prompt, fine-tuned) for this run."""
    command = (
        f"curate eval --endpoint {config.base_url} --base-model {base} "
        f"--finetuned-model '{model_id}' --system-prompt default"
    )
    if record.get("data"):
        command += f" --data {record['data']}"
    if (Path(config.output) / records.HASHES_FILE).is_file():
        command += f" --train-record {config.output}"
    return command


def _load_record(path: Path) -> dict | None:
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        raise InputError(
            f"{path} is not valid JSON; move it away or pick another --output"
        ) from None


def smoke_prompt(train_file: Path) -> tuple[list[dict], str | None]:
    """The first training riddle without its answer (and the answer), or a fixed riddle."""
    if train_file.exists():
        with open(train_file, encoding="utf-8") as f:
            messages = json.loads(f.readline())["messages"]
        return messages[:-1], messages[-1]["content"]
    return SMOKE_PROMPT, None


def smoke_test(
    client: Client, model_id: str, messages: list[dict], config: TrainConfig
) -> tuple[str, int]:
    """The model's reply and how many 'not ready' answers came first (polling with --wait)."""
    deadline, delay, polls = CLOCK() + config.wait_timeout, FIRST_POLL, 0
    while True:
        try:
            reply = client.chat(model_id, messages, max_tokens=SMOKE_MAX_TOKENS, temperature=0)
            return reply, polls
        except ApiError as exc:
            if str(exc.code) != str(NOT_READY):
                raise
            if not config.wait:
                raise BackendError(
                    f"{model_id} is not available (code {NOT_READY}: {exc.detail}): the task may "
                    f"still be running, or the id is incomplete; check {CONSOLE_URL}, or add "
                    "--wait to poll until it answers"
                ) from None
            if CLOCK() + delay > deadline:
                raise BackendError(
                    f"{model_id} still answers code {NOT_READY} after {polls + 1} tries in "
                    f"{config.wait_timeout:g}s; check the task in {CONSOLE_URL} or raise "
                    "--wait-timeout"
                ) from None
        polls += 1
        client.notify(
            f"{model_id} is not ready yet (code {NOT_READY}); next try in {delay:.0f}s "
            f"(--wait-timeout {config.wait_timeout:g}s in all)"
        )
        SLEEP(delay)
        delay = min(delay * 2, MAX_POLL)


def _result(config: TrainConfig, record: dict, notes: list[str]) -> TrainResult:
    output = Path(config.output)
    metrics: dict[str, float | int | str] = {"status": record["status"]}
    files = {"record": output / RECORD}
    for split, info in (record.get("files") or {}).items():
        metrics[f"{split}_lines"] = info["lines"]
        files[f"{split}_upload"] = output / info["path"]
        if info.get("file_id"):
            metrics[f"{split}_file_id"] = info["file_id"]
    if record.get("model"):
        metrics["model"] = record["model"]["id"]
    return TrainResult("siliconflow", output, config, metrics, files, tuple(notes))
