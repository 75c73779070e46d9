"""The FOMC history typed into the sample source, and the helpers that read it."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from dagster_project.lib.sources.sample import fomc
from dagster_project.lib.sources.sample.fomc import FOMC_DECISIONS, regime_on, target_on


def decision_on(day: str) -> fomc.FomcDecision:
    matches = [d for d in FOMC_DECISIONS if d.decision_date == dt.date.fromisoformat(day)]
    assert matches, f"no FOMC decision recorded on {day}"
    return matches[0]


def previous_decision(decision: fomc.FomcDecision) -> fomc.FomcDecision:
    return FOMC_DECISIONS[FOMC_DECISIONS.index(decision) - 1]


def test_decisions_are_sorted_unique_and_each_one_moves_the_target():
    dates = [d.decision_date for d in FOMC_DECISIONS]
    assert dates == sorted(set(dates))
    midpoints = [fomc.TARGET_BEFORE_HISTORY] + [d.midpoint for d in FOMC_DECISIONS]
    assert all(a != b for a, b in zip(midpoints, midpoints[1:], strict=False))


def test_history_starts_with_the_target_in_force_on_1990_01_01():
    first = FOMC_DECISIONS[0]
    assert first.decision_date == dt.date(1989, 12, 20)
    assert target_on(dt.date(1990, 1, 1)) == (8.25, 8.25)


def test_single_target_until_2008_12_16_then_a_quarter_point_range():
    for decision in FOMC_DECISIONS:
        if decision.decision_date < fomc.RANGE_START:
            assert decision.lower == decision.upper
        else:
            assert decision.upper - decision.lower == pytest.approx(0.25)
    assert decision_on("2008-12-16") == fomc.FomcDecision(dt.date(2008, 12, 16), 0.0, 0.25)


def test_september_2024_was_a_50bp_cut_to_4_75_5_00():
    cut = decision_on("2024-09-18")
    assert (cut.lower, cut.upper) == (4.75, 5.00)
    assert previous_decision(cut).upper - cut.upper == pytest.approx(0.50)


def test_history_ends_with_the_december_2025_cut_to_3_50_3_75():
    last = FOMC_DECISIONS[-1]
    assert last.decision_date == dt.date(2025, 12, 10)
    assert (last.lower, last.upper) == (3.50, 3.75)


@pytest.mark.parametrize(
    ("day", "target"),
    [
        ("2001-01-03", 6.00),
        ("2001-09-17", 3.00),
        ("2008-01-22", 3.50),
        ("2020-03-03", 1.125),
        ("2020-03-15", 0.125),
    ],
)
def test_intermeeting_moves_are_recorded(day, target):
    assert decision_on(day).midpoint == pytest.approx(target)


def test_target_on_counts_the_decision_day_and_not_the_day_before():
    assert target_on(dt.date(2024, 9, 17)) == (5.25, 5.50)
    assert target_on(dt.date(2024, 9, 18)) == (4.75, 5.00)
    assert target_on(dt.date(2030, 1, 1)) == (3.50, 3.75)


def test_target_on_refuses_dates_before_the_history():
    with pytest.raises(ValueError, match="begins 1989-12-20"):
        target_on(dt.date(1989, 12, 19))


@pytest.mark.parametrize(
    ("day", "regime"),
    [
        ("1990-01-02", "easing"),  # 13 days after the December 1989 cut
        ("1993-06-01", "hold"),  # no move since September 1992
        ("1994-03-01", "tightening"),
        ("2008-12-31", "easing"),
        ("2012-06-01", "hold"),
        ("2022-06-15", "tightening"),
        ("2024-09-17", "hold"),  # last move July 2023
        ("2024-09-18", "easing"),  # the decision day itself
        ("2025-06-20", "hold"),  # 184 days after December 2024
    ],
)
def test_regime_examples(day, regime):
    assert regime_on([day])[0] == regime


def test_regime_turns_to_hold_after_180_days_without_a_move():
    last_hike = dt.date(2023, 7, 26)
    days = [last_hike + dt.timedelta(days=n) for n in (0, 179, 180)]
    assert list(regime_on(days)) == ["tightening", "tightening", "hold"]


def test_regime_on_is_vectorised_over_any_date_like_input():
    days = pd.date_range("2018-07-01", "2021-12-31")
    regimes = regime_on(days)
    assert len(regimes) == len(days)
    assert set(regimes) == {"tightening", "easing", "hold"}
    assert (
        list(regime_on(["2019-08-01", dt.date(2019, 8, 1), pd.Timestamp("2019-08-01")]))
        == ["easing"] * 3
    )
