"""How sure a difference is: Wilson intervals for rates, exact McNemar tests with Holm's
correction for pairs of configurations. Pure functions, no dependencies.

>>> [round(x, 3) for x in wilson(8, 10)]
[0.49, 0.943]
>>> round(mcnemar(0, 6), 4)
0.0312
"""

from __future__ import annotations

import math
from itertools import combinations

Z95 = 1.959963984540054  # the 97.5% quantile of the standard normal: a two-sided 95% interval
ALPHA = 0.05


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of a binomial rate (Wilson 1927; Agresti & Coull 1998).

    Unlike the normal approximation p ± z·sqrt(p(1-p)/n) it stays inside [0, 1] and does not
    collapse to a point at 0% or 100%, which small evaluations (33 riddles) hit often.
    """
    if n == 0:
        return (0.0, 1.0)
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return (max(0.0, centre - half), min(1.0, centre + half))


def mcnemar(only_a: int, only_b: int) -> float:
    """Two-sided exact McNemar p-value from the discordant pairs.

    Under "no difference" each riddle that one config gets right and the other wrong is
    equally likely to go either way, so min(only_a, only_b) follows Binomial(n, 1/2) with
    n = only_a + only_b; p = 2·P(X <= min), capped at 1. No discordant pairs: p = 1.
    """
    n = only_a + only_b
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, i) for i in range(min(only_a, only_b) + 1)) / 2**n
    return min(1.0, 2 * tail)


def holm(p_values: list[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values, in input order (controls the family-wise error).

    >>> holm([0.01, 0.04, 0.03])
    [0.03, 0.06, 0.06]
    """
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted, running = [0.0] * m, 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        adjusted[i] = round(running, 10)
    return adjusted


def comparisons(correct: dict[str, list[bool]], metric: str = "exact_match") -> list[dict]:
    """Every pair of configurations (in the given order), compared riddle by riddle."""
    pairs = list(combinations(correct, 2))
    rows = []
    for a, b in pairs:
        only_a = sum(x and not y for x, y in zip(correct[a], correct[b], strict=True))
        only_b = sum(y and not x for x, y in zip(correct[a], correct[b], strict=True))
        n = len(correct[a])
        diff = (sum(correct[b]) - sum(correct[a])) / n if n else 0.0
        rows.append(
            {"a": a, "b": b, "metric": metric, "difference": round(diff, 4)}
            | {"only_a": only_a, "only_b": only_b, "p_value": round(mcnemar(only_a, only_b), 6)}
        )
    for row, adjusted in zip(rows, holm([r["p_value"] for r in rows]), strict=True):
        row["p_holm"] = round(adjusted, 6)
        row["significant"] = adjusted < ALPHA
    return rows


def interval(values: list[float]) -> list[float]:
    """The 95% Wilson interval of a list of 0/1 scores, rounded for the files."""
    low, high = wilson(round(sum(values)), len(values))
    return [round(low, 4), round(high, 4)]


def median(values: list[float]) -> float:
    """The median (mean of the two middle values for an even count); 0 for no values."""
    ordered = sorted(values)
    n = len(ordered)
    if n == 0:
        return 0.0
    mid = n // 2
    return float(ordered[mid]) if n % 2 else (ordered[mid - 1] + ordered[mid]) / 2
