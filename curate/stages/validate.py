"""`curate validate`: every problem of messages JSONL files, with line numbers and lengths.

What a valid line is lives in `curate.messages`, the one reader that export, training and
eval use too; this stage adds the report: counts, warnings and length percentiles.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from curate.lengths import DEFAULT_MAX_TOKENS, length_report
from curate.messages import scan_file
from curate.normalize import content_hash, display


def validate_file(path: str | Path) -> list[tuple[int, str]]:
    """[(line, problem)] for one JSONL file; [] when every line is valid."""
    return scan_file(path).problems


@dataclass(frozen=True)
class ValidateConfig:
    files: tuple[Path, ...]
    tokenizer: Path | None = None
    max_tokens: int = DEFAULT_MAX_TOKENS


@dataclass
class ValidateResult:
    files: int = 0
    records: int = 0
    invalid: int = 0  # records (lines) with at least one problem
    problems: list[tuple[str, int, str]] = field(default_factory=list)
    warnings: list[tuple[str, int, str]] = field(default_factory=list)
    lengths: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems


def validate(config: ValidateConfig) -> ValidateResult:
    """Check files; problems and warnings are returned as data, never raised."""
    counter = None
    if config.tokenizer is not None:
        from curate.lengths import load_token_counter

        counter = load_token_counter(config.tokenizer)
    result, records, tokens = ValidateResult(), [], []
    # a riddle's key -> where it first appeared; the key is eval's trained-on hash (display text,
    # so script and punctuation apart), so what warns here is what eval would call a leak
    seen: dict[tuple, str] = {}
    for path in config.files:
        scan, name = scan_file(path), str(path)
        result.files += 1
        result.records += scan.records
        result.invalid += len({line for line, _ in scan.problems if line > 0})
        result.problems += [(name, line, p) for line, p in scan.problems]
        result.warnings += [(name, line, w) for line, w in scan.warnings]
        if Path(path).suffix != ".jsonl":
            result.warnings.append((name, 0, "SiliconFlow accepts only .jsonl files"))
        for conversation in scan.valid:
            line, messages = conversation.line, conversation.messages
            records.append(messages)
            key = tuple(content_hash(display(q), display(a)) for q, a in conversation.pairs)
            if key in seen:  # in train and validation: it leaks; in one split: it weighs twice
                result.warnings.append((name, line, f"the same riddle as {seen[key]}"))
            seen.setdefault(key, conversation.where)
            if counter is None:
                continue
            tokens.append(n := counter(messages))
            if n > config.max_tokens:
                result.warnings.append(
                    (name, line, f"{n} tokens > --max-tokens {config.max_tokens}")
                )
    result.lengths = length_report(records, tokens if counter else None, config.max_tokens)
    return result
