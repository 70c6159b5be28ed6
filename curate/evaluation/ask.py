"""`curate ask "什么门永远关不上？"`: the seed's demonstration as one command.

One typed question goes to every configuration exactly as `curate eval` would send a riddle
of the export: the export's user template around it (from its manifest, when --data is an
export), no system prompt for `base`, the given one for `system_prompt`, and the export's own
for `finetuned`; the same greedy decoding and max_tokens.
"""

from __future__ import annotations

from curate.errors import ConfigError
from curate.evaluation import EvalConfig, Riddle, check, generate_rows
from curate.evaluation.source import export_params


def ask(config: EvalConfig, question: str) -> list[dict]:
    """Each configuration's reply: [{"config", "model", "response", "answer", ...}]."""
    if not question.strip():
        raise ConfigError('give the riddle to ask, e.g. curate ask "什么门永远关不上？"')
    check(config)
    export = export_params(config.data)
    template = export.get("user_template") or "{question}"
    try:
        user = template.format(question=question.strip(), category="")
    except (KeyError, IndexError, ValueError):
        raise ConfigError(
            f"the export's user template {template!r} needs fields a typed question lacks"
        ) from None
    riddle = Riddle("ask", user, "", export.get("system_prompt"))
    rows = generate_rows(config, [riddle])
    unscored = ("id", "reference", "exact_match", "contains", "char_f1")  # no reference here
    return [{k: v for k, v in row.items() if k not in unscored} for row in rows]
