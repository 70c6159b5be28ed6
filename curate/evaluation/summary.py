"""From per-reply rows to what eval.json reports: scores with intervals, comparisons, types."""

from __future__ import annotations

from curate.evaluation.config import CONFIGS
from curate.evaluation.metrics import METRICS, RATES
from curate.evaluation.stats import comparisons, interval, median


def _by_config(rows: list[dict]) -> dict[str, list[dict]]:
    """Rows grouped by configuration, in CONFIGS order."""
    groups = {name: [r for r in rows if r["config"] == name] for name in CONFIGS}
    return {name: mine for name, mine in groups.items() if mine}


def summarize(rows: list[dict]) -> list[dict]:
    """Per configuration: each metric's mean, a 95% Wilson interval for each rate, the median
    reply length in characters, n and errors; judge columns when the rows were judged."""
    results = []
    for name, mine in _by_config(rows).items():
        result = {"config": name, "model": mine[0]["model"], "n": len(mine)}
        for metric in METRICS:
            values = [r[metric] for r in mine]
            result[metric] = round(sum(values) / len(mine), 4)
            if metric in RATES:
                result[f"{metric}_ci"] = interval(values)
        if "judge" in mine[0]:
            verdicts = [r["judge"] or 0.0 for r in mine]
            result |= {"judge": round(sum(verdicts) / len(mine), 4)}
            result |= {"judge_ci": interval(verdicts)}
            result |= {"judge_unreadable": sum(r["judge"] is None for r in mine)}
        result["median_reply_chars"] = median([len(r["response"]) for r in mine])
        result["errors"] = sum("error" in r for r in mine)
        result["empty_replies"] = sum(not r["response"] and "error" not in r for r in mine)
        results.append(result)
    return results


def compare(rows: list[dict]) -> list[dict]:
    """Paired exact McNemar tests on exact match for every pair of configurations, Holm-
    corrected across the pairs (rows of one config are in riddle order, as evaluate writes)."""
    groups = _by_config(rows)
    correct = {name: [r["exact_match"] == 1.0 for r in mine] for name, mine in groups.items()}
    return comparisons(correct, "exact_match")


def by_riddle_type(rows: list[dict], types: dict[str, str]) -> list[dict]:
    """Exact match and contains (with intervals) per riddle_type and configuration."""
    if not types:
        return []
    out = []
    for kind in sorted({types[r["id"]] for r in rows if r["id"] in types}):
        for name, mine in _by_config([r for r in rows if types.get(r["id"]) == kind]).items():
            entry = {"riddle_type": kind, "config": name, "n": len(mine)}
            for metric in RATES:
                values = [r[metric] for r in mine]
                entry[metric] = round(sum(values) / len(mine), 4)
                entry[f"{metric}_ci"] = interval(values)
            out.append(entry)
    return out
