"""`curate eval`: base vs base + system prompt vs fine-tuned, on the held-out riddles.

A table of contents: check the flags, read the split's riddles, refuse riddles the model was
trained on (`overlap`), ask every configuration every riddle with the same user turn and the
same greedy decoding (`backends`), score the answer each reply states (`metrics`), optionally
ask a judge (`judge`), then summarize with intervals and paired tests (`summary`, `stats`) and
write, in OUTPUT: `eval.json` (scores, intervals, comparisons, overlap, params), `eval.md`
(`report`) and `responses.jsonl` (every reply, in config then riddle order). No wall-clock time
is written, so the same inputs give byte-identical files. Until then every reply is kept in
OUTPUT/replies.partial.jsonl as it arrives (`replylog`): a rerun after a crash or Ctrl-C asks
only what is missing, and writes the same files an uninterrupted run would.

Configurations (each only when it applies); the user turn is the data's own (the export's
user template), the same for all three, and only the system prompt differs:
- `base`: the user message alone (any system message in the data is dropped);
- `system_prompt`: the given system prompt, then the user message;
- `finetuned`: the fine-tuned model id (endpoint) or the base model + adapter (local), asked
  exactly as it was trained: the data's own system message (if the export has one), then the
  user message.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from curate.endpoint import check_base_url
from curate.errors import ConfigError, InputError
from curate.evaluation.config import (  # noqa: F401 (re-exported)
    CONFIGS,
    DEFAULT_SYSTEM_PROMPT,
    EvalConfig,
    Progress,
)
from curate.evaluation.metrics import extracted, score
from curate.evaluation.overlap import check_overlap
from curate.evaluation.replylog import PARTIAL, ReplyLog
from curate.evaluation.report import render_markdown
from curate.evaluation.source import export_params, riddle_types
from curate.evaluation.summary import by_riddle_type, compare, summarize
from curate.files import write_json, write_jsonl, write_text
from curate.messages import Conversation, read_conversations
from curate.verify import check_file, empty_split, split_files


@dataclass(frozen=True)
class Riddle:
    id: str
    question: str
    reference: str
    system: str | None = None


@dataclass(frozen=True)
class EvalResult:
    output: Path
    results: list[dict]  # per config: scores, their intervals, median reply length, n, errors
    n: int
    files: dict[str, Path]
    comparisons: list[dict]  # per pair of configs: McNemar on exact match, Holm-corrected
    overlap: dict  # what the overlap guard checked and found
    reused: tuple[int, int] = (0, 0)  # (replies kept from an interrupted run, replies needed)


def evaluate(config: EvalConfig, progress: Progress | None = None) -> EvalResult:
    """Run every configuration on the same riddles, score them and write the three files."""
    check(config)
    riddles = load_riddles(config.data, config.split, config.limit)
    overlap = check_overlap(config, riddles)  # before any request: refuse early
    output = config.output or default_output(config)
    replies = ReplyLog(output / PARTIAL)  # what an interrupted run received is not asked again
    try:
        rows = generate_rows(config, riddles, progress, replies)
        if config.judge_model:
            from curate.evaluation.judge import judge_rows

            judge_rows(config, rows, _tick(progress, "judge", len(rows)), replies)
    finally:
        replies.close()
    report = {
        "results": summarize(rows),
        "comparisons": compare(rows),
        "by_riddle_type": by_riddle_type(rows, riddle_types(config.data, riddles)),
        "overlap": overlap,
        "params": params(config, len(riddles)),
    }
    files = {n: output / n for n in ("eval.json", "eval.md", "responses.jsonl")}
    write_jsonl(files["responses.jsonl"], rows)
    write_json(files["eval.json"], report)
    write_text(files["eval.md"], render_markdown(report, rows, riddles, config.examples))
    replies.remove()  # every reply is in responses.jsonl now
    return EvalResult(
        output,
        report["results"],
        len(riddles),
        files,
        report["comparisons"],
        overlap,
        (replies.reused, replies.asked),
    )


def generate_rows(
    config: EvalConfig,
    riddles: list[Riddle],
    progress: Progress | None = None,
    replies: ReplyLog | None = None,
) -> list[dict]:
    """Every configuration's scored reply to every riddle, in config then riddle order."""
    backend = _backend(config, replies)
    rows: list[dict] = []
    try:
        for name, model in configurations(config).items():
            prompts = [prompt(name, r, config.system_prompt) for r in riddles]
            answers = backend.generate(name, model, prompts, _tick(progress, name, len(prompts)))
            rows += [_row(name, model, r, a) for r, a in zip(riddles, answers, strict=True)]
    finally:
        backend.close()
    return rows


def check(config: EvalConfig) -> None:
    """Flag combinations: exactly one of --endpoint / --model, and what each needs."""
    if bool(config.endpoint) == bool(config.model):
        raise ConfigError("give either --endpoint URL --base-model ID, or --model PATH")
    if config.endpoint and not config.base_model:
        raise ConfigError("--endpoint needs --base-model ID (the model before fine-tuning)")
    if config.endpoint and config.adapter:
        raise ConfigError(
            "--adapter works with --model PATH; for an endpoint use --finetuned-model"
        )
    if config.model and (config.base_model or config.finetuned_model):
        raise ConfigError("--base-model/--finetuned-model work with --endpoint, not with --model")
    if config.judge_endpoint and not config.judge_model:
        raise ConfigError("--judge-endpoint needs --judge-model MODEL")
    if config.judge_model and not (config.judge_endpoint or config.endpoint):
        raise ConfigError("--judge-model with --model PATH needs --judge-endpoint URL")
    for name in ("max_tokens", "concurrency", "batch_size"):
        if getattr(config, name) < 1:
            raise ConfigError(f"--{name.replace('_', '-')} must be at least 1")
    if not config.timeout > 0:  # also NaN
        raise ConfigError("--timeout must be more than 0 seconds")
    if config.limit is not None and config.limit < 1:
        raise ConfigError("--limit must be at least 1")
    if config.examples < 0:
        raise ConfigError("--examples must be at least 0")
    for url in (config.endpoint, config.judge_endpoint):
        if url:  # the judge's client is made after every reply: a bad URL must stop us here
            check_base_url(url)
    output = config.output or default_output(config)
    if output.exists() and not output.is_dir():  # found now, not after every request
        raise InputError(f"--output {output} is a file; pass a folder")
    if config.adapter and not (Path(config.adapter) / "adapter_config.json").is_file():
        raise InputError(f"{config.adapter} has no adapter_config.json; pass a `curate train` run")


def configurations(config: EvalConfig) -> dict[str, str]:
    """Configuration name -> the model it asks (an id for endpoints, a path for local)."""
    base = config.base_model or str(config.model)
    runs = {"base": base}
    if config.system_prompt:
        runs["system_prompt"] = base
    if config.finetuned_model:
        runs["finetuned"] = config.finetuned_model
    elif config.adapter:
        runs["finetuned"] = f"{base} + {config.adapter}"
    return runs


def load_riddles(data: Path, split: str, limit: int | None = None) -> list[Riddle]:
    """The (system?, user, assistant) of each line of the split's shards, in file order."""
    data = Path(data)
    files = [check_file(data)] if data.is_file() else split_files(data, split)
    if not files:
        why = empty_split(data, split) or f"no {split}-*.jsonl in {data}; run `curate export` first"
        raise InputError(why)
    hint = "export with --format jsonl, or check the files with `curate validate`"
    # An empty file is a problem of the reader, so there is at least one riddle here.
    riddles = [_riddle(c) for c in read_conversations(files, f"the {split} data", hint)]
    return riddles[:limit] if limit else riddles


def _riddle(conversation: Conversation) -> Riddle:
    """Eval's own need on top of a valid line: exactly one question and its answer."""
    pairs = conversation.pairs
    if len(pairs) != 1:
        raise InputError(
            f"{conversation.where}: has {len(pairs)} user/assistant pairs; eval needs one "
            "riddle per line (an optional system message, one user message, one answer)"
        )
    (question, answer), path = pairs[0], conversation.path
    return Riddle(f"{path.name}:{conversation.line}", question, answer, conversation.system)


def prompt(name: str, riddle: Riddle, system_prompt: str | None) -> list[dict]:
    """The messages one configuration sends for one riddle (see the module docstring)."""
    system = {"base": None, "system_prompt": system_prompt, "finetuned": riddle.system}[name]
    user = [{"role": "user", "content": riddle.question}]
    return [{"role": "system", "content": system}, *user] if system else user


def _row(name: str, model: str, riddle: Riddle, reply: str | Exception) -> dict:
    error = str(reply) if isinstance(reply, Exception) else None
    response = "" if error else reply
    row = {"config": name, "model": model, "id": riddle.id, "question": riddle.question}
    row |= {"reference": riddle.reference, "response": response, "answer": extracted(response)}
    row |= {k: round(v, 4) for k, v in score(response, riddle.reference).items()}
    return row | ({"error": error} if error else {})


def params(config: EvalConfig, n: int) -> dict:
    """What the scores depend on (never the key itself: only the variable's name)."""
    p = {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(config).items()}
    p.pop("output")
    p |= {"riddles": n, "temperature": 0.0, "do_sample": False}
    p |= {"configs": list(configurations(config))}
    p["user_template"] = export_params(config.data).get("user_template")
    return p


def default_output(config: EvalConfig) -> Path:
    """train/runs/eval-<what was fine-tuned>: the adapter folder or fine-tuned id, else base."""
    label = config.adapter.name if config.adapter else None
    label = label or config.finetuned_model or config.base_model or Path(config.model or "").name
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", label.split("/")[-1]).strip("-.") or "model"
    return Path("train/runs") / f"eval-{slug}"


def _tick(progress: Progress | None, name: str, total: int) -> Callable[[int], None]:
    if progress is None:
        return lambda _n: None
    progress(name, 0, total)
    return lambda n: progress(name, n, total)


def _backend(config: EvalConfig, replies: ReplyLog | None):
    # Imported here: the local backend pulls in torch, the endpoint one the HTTP client.
    if config.endpoint:
        from curate.evaluation.backends import EndpointBackend

        return EndpointBackend(config, replies)
    from curate.evaluation.backends import LocalBackend

    return LocalBackend(config, replies)
