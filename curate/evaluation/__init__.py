"""`curate eval`: base vs base + system prompt vs fine-tuned, on the held-out riddles.

Reads the export's `<split>-*.jsonl` shards (one system? + user + assistant per line), asks
each configuration every question with the same decoding settings (greedy / temperature 0,
the same max_tokens), scores the answers with `curate.metrics` and writes, in OUTPUT:
`eval.json` (scores + params), `eval.md` (table + side-by-side examples) and
`responses.jsonl` (every answer, in config then riddle order). No wall-clock time is written,
so the same inputs give byte-identical files.

Configurations (each only when it applies):
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

from curate.errors import ConfigError, InputError
from curate.evaluation.config import (  # noqa: F401 (re-exported)
    CONFIGS,
    DEFAULT_SYSTEM_PROMPT,
    EvalConfig,
    Progress,
)
from curate.evaluation.metrics import METRICS, score
from curate.io import write_json, write_jsonl, write_text
from curate.messages import Conversation, read_conversations


@dataclass(frozen=True)
class Riddle:
    id: str
    question: str
    reference: str
    system: str | None = None


@dataclass(frozen=True)
class EvalResult:
    output: Path
    results: list[dict]  # one {"config", "model", "exact_match", "contains", "char_f1", "n", ...}
    n: int
    files: dict[str, Path]


def evaluate(config: EvalConfig, progress: Progress | None = None) -> EvalResult:
    """Run every configuration on the same riddles, score them and write the three files."""
    check(config)
    riddles = load_riddles(config.data, config.split, config.limit)
    backend = _backend(config)
    rows: list[dict] = []
    try:
        for name, model in configurations(config).items():
            prompts = [prompt(name, r, config.system_prompt) for r in riddles]
            answers = backend.generate(name, model, prompts, _tick(progress, name, len(prompts)))
            rows += [_row(name, model, r, a) for r, a in zip(riddles, answers, strict=True)]
    finally:
        backend.close()
    results = summarize(rows)
    output = config.output or default_output(config)
    files = {n: output / n for n in ("eval.json", "eval.md", "responses.jsonl")}
    write_jsonl(files["responses.jsonl"], rows)
    write_json(files["eval.json"], {"results": results, "params": params(config, len(riddles))})
    write_text(files["eval.md"], render_markdown(results, rows, riddles, config))
    return EvalResult(output, results, len(riddles), files)


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
    for name in ("max_tokens", "concurrency", "batch_size"):
        if getattr(config, name) < 1:
            raise ConfigError(f"--{name.replace('_', '-')} must be at least 1")
    if config.limit is not None and config.limit < 1:
        raise ConfigError("--limit must be at least 1")
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
    files = [data] if data.is_file() else sorted(data.glob(f"{split}-*.jsonl"))
    if not files:
        raise InputError(f"no {split}-*.jsonl in {data}; run `curate export` first")
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


def _row(name: str, model: str, riddle: Riddle, answer: str | Exception) -> dict:
    error = str(answer) if isinstance(answer, Exception) else None
    response = "" if error else answer
    row = {"config": name, "model": model, "id": riddle.id, "question": riddle.question}
    row |= {"reference": riddle.reference, "response": response}
    row |= {k: round(v, 4) for k, v in score(response, riddle.reference).items()}
    return row | ({"error": error} if error else {})


def summarize(rows: list[dict]) -> list[dict]:
    """Mean of each metric per configuration, in configuration order, rounded to 4 places."""
    results = []
    for name in CONFIGS:
        mine = [r for r in rows if r["config"] == name]
        if not mine:
            continue
        result = {"config": name, "model": mine[0]["model"]}
        result |= {m: round(sum(r[m] for r in mine) / len(mine), 4) for m in METRICS}
        result |= {"n": len(mine), "errors": sum("error" in r for r in mine)}
        results.append(result)
    return results


def params(config: EvalConfig, n: int) -> dict:
    """What the scores depend on (never the key itself: only the variable's name)."""
    p = {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(config).items()}
    p.pop("output")
    p |= {"riddles": n, "temperature": 0.0, "do_sample": False}
    return p


def default_output(config: EvalConfig) -> Path:
    """train/runs/eval-<what was fine-tuned>: the adapter folder or fine-tuned id, else base."""
    label = config.adapter.name if config.adapter else None
    label = label or config.finetuned_model or config.base_model or Path(config.model).name
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", label.split("/")[-1]).strip("-.") or "model"
    return Path("train/runs") / f"eval-{slug}"


def _tick(progress: Progress | None, name: str, total: int) -> Callable[[int], None]:
    if progress is None:
        return lambda _n: None
    progress(name, 0, total)
    return lambda n: progress(name, n, total)


def _backend(config: EvalConfig):
    # Imported here: the local backend pulls in torch, the endpoint one httpx.
    if config.endpoint:
        from curate.evaluation.backends import EndpointBackend

        return EndpointBackend(config)
    from curate.evaluation.backends import LocalBackend

    return LocalBackend(config)


def render_markdown(
    results: list[dict], rows: list[dict], riddles: list[Riddle], config: EvalConfig
) -> str:
    """The scores table, then side by side: the first k riddles, then k where configs differ."""
    k = config.examples
    source = f"the `{config.split}` split of `{config.data}`"
    decoding = f"greedy decoding (temperature 0), at most {config.max_tokens} new tokens"
    lines = ["# Evaluation", "", f"{len(riddles)} riddles from {source}; {decoding}.", ""]
    if config.system_prompt:
        lines += [f"System prompt of `system_prompt`: {_md(config.system_prompt, 200)}", ""]
    lines += [
        "| config | model | exact match | contains | char F1 | n |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['config']} | `{r['model']}` | {r['exact_match']:.1%} | {r['contains']:.1%} "
            f"| {r['char_f1']:.3f} | {r['n']} |"
        )
    names = [r["config"] for r in results]
    by_id = {(r["config"], r["id"]): r for r in rows}
    # Riddles past the first k where at least one config finds the answer and another does not.
    differ = [q for q in riddles[k:] if len({by_id[(n, q.id)]["contains"] for n in names}) > 1]
    lines += _side_by_side("Examples", riddles[:k], names, by_id)
    lines += _side_by_side("Where the configurations differ", differ[:k], names, by_id)
    return "\n".join(lines) + "\n"


def _side_by_side(title: str, chosen: list[Riddle], names: list[str], by_id: dict) -> list[str]:
    if not chosen:
        return []
    lines = ["", f"## {title}", "", _LEGEND, "", "| | " + " | ".join(["reference", *names]) + " |"]
    lines.append("|---" * (len(names) + 2) + "|")
    for q in chosen:
        cells = [_cell(by_id[(n, q.id)]) for n in names]
        lines.append(f"| {_md(q.question)} | {_md(q.reference)} | " + " | ".join(cells) + " |")
    return lines


_LEGEND = "✓ exact match, ≈ the answer is contained in the response, ✗ neither."


def _cell(row: dict) -> str:
    mark = "✓" if row["exact_match"] else ("≈" if row["contains"] else "✗")
    return f"{mark} {_md(row['response']) or '(empty)'}"


def _md(text: str, width: int = 60) -> str:
    text = " ".join(text.split()).replace("|", "\\|")
    return text if len(text) <= width else text[: width - 1] + "…"
