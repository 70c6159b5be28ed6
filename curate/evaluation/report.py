"""eval.md: the result as a person reads it, to decide what to do next.

The setup in one paragraph, the scores with their 95% intervals, a plain sentence per pair of
configurations saying whether the difference in exact match is significant, the overlap check,
the scores by riddle type (when known) and riddles where the configurations disagree.
"""

from __future__ import annotations

from curate.evaluation.stats import ALPHA

_LEGEND = (
    "✓ exact match, ≈ the answer is in the reply, ✗ neither; "
    "→ the answer the reply states, as scored."
)


def render_markdown(report: dict, rows: list[dict], riddles: list, examples: int) -> str:
    """The whole eval.md from eval.json's content and the per-reply rows."""
    results, p = report["results"], report["params"]
    lines = ["# Evaluation", "", *_setup(p, len(riddles)), ""]
    lines += _scores(results)
    lines += _significance(report["comparisons"], len(riddles))
    lines += _overlap(report["overlap"])
    lines += _types(report.get("by_riddle_type") or [], [r["config"] for r in results])
    lines += _disagreements(rows, riddles, [r["config"] for r in results], examples)
    return "\n".join(lines) + "\n"


def _setup(p: dict, n: int) -> list[str]:
    template = p.get("user_template") or "{question}"
    systems = {
        "base": "none",
        "system_prompt": _quote(p.get("system_prompt") or ""),
        "finetuned": "the data's own, as trained",
    }
    return [
        f"{n} riddles from the `{p['split']}` split of `{p['data']}`; greedy decoding "
        f"(temperature 0), at most {p['max_tokens']} new tokens per reply.",
        "",
        f"Every configuration gets the same user turn (the export's user template `{template}`); "
        "only the system prompt differs: "
        + "; ".join(f"`{c}`: {systems[c]}" for c in p["configs"])
        + ".",
        "",
        "Scores are on the answer each reply states (after 谜底是 / 答案：, a quoted span, or "
        "its first clause), so a right answer with an explanation is not penalised for its "
        "length; a reply listing several guesses states none. A bracketed note in a reference "
        "accepts either side (装象（相）: 装象 or 装相). Intervals are 95% Wilson intervals.",
    ]


def _scores(results: list[dict]) -> list[str]:
    judged = "judge" in results[0]
    head = ["config", "model", "exact match", "contains", "char F1"]
    head += ["judge"] if judged else []
    head += ["median reply (chars)", "n"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in results:
        cells = [r["config"], f"`{r['model']}`", rate(r, "exact_match"), rate(r, "contains")]
        cells.append(f"{r['char_f1']:.3f}")
        cells += [rate(r, "judge")] if judged else []
        cells += [f"{r['median_reply_chars']:g}", str(r["n"])]
        lines.append("| " + " | ".join(cells) + " |")
    return lines + [line for note in notes(results) for line in ("", note)]


def notes(results: list[dict]) -> list[str]:
    """What makes a score mean less than it seems: failed requests, empty replies, judge
    verdicts that could not be read. All are scored wrong, so a broken endpoint or judge
    would otherwise read as a model that knows no riddle."""
    out = []
    errors = sum(r["errors"] for r in results)
    if errors:
        out.append(f"{errors} requests failed; they are scored wrong (`error` in responses.jsonl).")
    for r in results:
        if r.get("empty_replies"):
            out.append(
                f"{r['empty_replies']} of {r['n']} replies of `{r['config']}` were empty; they "
                "are scored wrong: check the model id, the endpoint, and --max-tokens."
            )
    unread = sum(r.get("judge_unreadable", 0) for r in results)
    if unread:
        total = sum(r["n"] for r in results)
        out.append(
            f"The judge's verdict could not be read for {unread} of {total} replies; they are "
            "scored wrong in the judge column (`judge_reason` in responses.jsonl holds what it "
            "said): pick another --judge-model."
        )
    return out


def rate(result: dict, metric: str) -> str:
    """ "45.5% [29.9–62.0]": a rate with its 95% interval."""
    low, high = result[f"{metric}_ci"]
    return f"{result[metric]:.1%} [{low * 100:.1f}–{high * 100:.1f}]"


def significance_sentence(c: dict, n: int) -> str:
    """One plain sentence on one pair's exact-match difference."""
    points = f"{c['difference'] * 100:+.1f} points"
    how = f"only {c['b']} right on {c['only_b']} riddles, only {c['a']} on {c['only_a']}"
    if c["significant"]:
        return (
            f"`{c['b']}` vs `{c['a']}`: {points} exact match, significant "
            f"(p = {c['p_holm']:.3g} after Holm; {how})."
        )
    return (
        f"`{c['b']}` vs `{c['a']}`: {points} exact match is not significant "
        f"(p = {c['p_holm']:.3g} after Holm; {how}): with {n} riddles this difference "
        "could be chance; evaluate on more riddles before acting on it."
    )


def _significance(comparisons: list[dict], n: int) -> list[str]:
    if not comparisons:
        return []
    lines = ["", "## Is the difference real?", ""]
    lines.append(
        f"Paired exact McNemar test on exact match, riddle by riddle, Holm-corrected over "
        f"{len(comparisons)} pair(s); significant means p < {ALPHA} after correction."
    )
    lines.append("")
    lines += [f"- {significance_sentence(c, n)}" for c in comparisons]
    return lines


def _overlap(overlap: dict) -> list[str]:
    lines = ["", "## Overlap with the training data", ""]
    if not overlap.get("checked"):
        lines.append(f"Not checked: {overlap['reason']}.")
    elif overlap["overlapping"]:
        lines.append(
            f"**{overlap['overlapping']} of these riddles were in the training data** "
            f"({overlap['record']}); evaluated anyway because of --allow-overlap, so the "
            "fine-tuned scores overstate what it learned."
        )
    else:
        lines.append(
            f"None of these riddles is among the {overlap['train_riddles']} training riddles "
            f"of {overlap['record']}."
        )
    return lines


def _types(by_type: list[dict], names: list[str]) -> list[str]:
    if not by_type:
        return []
    lines = ["", "## Exact match by riddle type", ""]
    lines += ["| riddle type | n | " + " | ".join(names) + " |", "|---|---|" + "---|" * len(names)]
    for kind in dict.fromkeys(e["riddle_type"] for e in by_type):
        mine = {e["config"]: e for e in by_type if e["riddle_type"] == kind}
        n = next(iter(mine.values()))["n"]
        cells = [rate(mine[c], "exact_match") if c in mine else "" for c in names]
        lines.append(f"| {kind} | {n} | " + " | ".join(cells) + " |")
    return lines


def disagreements(rows: list[dict], riddles: list, names: list[str], k: int) -> list:
    """Up to k riddles where configurations differ: on exact match first, then contains."""
    by_id = {(r["config"], r["id"]): r for r in rows}

    def differs(riddle, metric: str) -> bool:
        return len({by_id[(n, riddle.id)][metric] for n in names}) > 1

    exact = [q for q in riddles if differs(q, "exact_match")]
    rest = [q for q in riddles if q not in exact and differs(q, "contains")]
    return (exact + rest)[:k]


def _disagreements(rows: list[dict], riddles: list, names: list[str], k: int) -> list[str]:
    if len(names) < 2:
        return []
    chosen = disagreements(rows, riddles, names, k)
    lines = ["", f"## Where the configurations disagree ({len(chosen)} riddles)", ""]
    if not chosen:
        return [*lines, "The configurations agree on every riddle."]
    lines += [_LEGEND, "", "| riddle | reference | " + " | ".join(names) + " |"]
    lines.append("|---|---|" + "---|" * len(names))
    by_id = {(r["config"], r["id"]): r for r in rows}
    for q in chosen:
        cells = [cell(by_id[(n, q.id)]) for n in names]
        lines.append(f"| {_md(q.question)} | {_md(q.reference)} | " + " | ".join(cells) + " |")
    return lines


def cell(row: dict) -> str:
    """One reply in a table: its mark, the stated answer, and the reply when it says more."""
    mark = "✓" if row["exact_match"] else ("≈" if row["contains"] else "✗")
    reply, answer = _md(row["response"]), _md(row.get("answer") or "", 30)
    text = reply or "(empty)"
    if answer and answer != reply:
        text = f"{reply} → {answer}"
    if row.get("judge") is not None:
        text += f" (judge: {'correct' if row['judge'] else 'wrong'})"
    return f"{mark} {text}"


def _quote(text: str) -> str:
    return f"“{_md(text, 200)}”" if text else "none"


def _md(text: str, width: int = 60) -> str:
    text = " ".join(text.split()).replace("|", "\\|")
    return text if len(text) <= width else text[: width - 1] + "…"
