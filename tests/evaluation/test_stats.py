"""Intervals and paired tests: known values, and the exact binomial against scipy's."""

from __future__ import annotations

import doctest

import pytest

import curate.evaluation.stats
from curate.evaluation.stats import comparisons, holm, interval, mcnemar, median, wilson


def test_docstring_examples_hold():
    assert doctest.testmod(curate.evaluation.stats).failed == 0


def test_wilson_interval_known_values():
    # Newcombe (1998), Table I: 81/263 -> 0.2553 to 0.3662; 15/148 -> 0.0624 to 0.1605.
    assert wilson(81, 263) == pytest.approx((0.2553, 0.3662), abs=1e-4)
    assert wilson(15, 148) == pytest.approx((0.0624, 0.1605), abs=1e-4)
    low, high = wilson(0, 33)
    assert low == 0.0 and 0.10 < high < 0.11  # never collapses to a point at 0%
    assert wilson(33, 33)[1] == 1.0 and wilson(33, 33)[0] > 0.89
    assert interval([1.0, 0.0, 1.0, 1.0]) == [0.3006, 0.9544]


def test_mcnemar_exact_equals_the_two_sided_binomial_test():
    scipy_stats = pytest.importorskip("scipy.stats")
    for only_a, only_b in [(0, 6), (3, 9), (5, 5), (1, 10), (7, 2), (0, 1), (12, 30)]:
        n = only_a + only_b
        expected = scipy_stats.binomtest(min(only_a, only_b), n, 0.5).pvalue
        assert mcnemar(only_a, only_b) == pytest.approx(expected, rel=1e-9)
    assert mcnemar(0, 0) == 1.0


def test_holm_adjusts_in_input_order_and_stays_monotone():
    assert holm([0.01, 0.04, 0.03]) == [0.03, 0.06, 0.06]
    assert holm([0.5]) == [0.5]
    assert holm([0.001, 0.9, 0.02]) == [0.003, 0.9, 0.04]


def test_comparisons_pair_every_config_and_flag_only_real_differences():
    n = 40
    base = [False] * n
    prompt = [i < 3 for i in range(n)]  # right on 3 more riddles than base
    tuned = [i < 25 for i in range(n)]  # right on 25
    rows = comparisons({"base": base, "system_prompt": prompt, "finetuned": tuned})
    assert [(r["a"], r["b"]) for r in rows] == [
        ("base", "system_prompt"),
        ("base", "finetuned"),
        ("system_prompt", "finetuned"),
    ]
    by_pair = {(r["a"], r["b"]): r for r in rows}
    assert by_pair[("base", "system_prompt")]["significant"] is False
    assert by_pair[("base", "finetuned")]["significant"] is True
    assert by_pair[("base", "finetuned")]["only_b"] == 25
    assert by_pair[("base", "finetuned")]["difference"] == 0.625
    assert all(r["p_holm"] >= r["p_value"] for r in rows)


def test_median():
    assert median([3, 1, 2]) == 2.0 and median([4, 1, 2, 3]) == 2.5 and median([]) == 0.0
