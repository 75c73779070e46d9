"""The real FOMC federal funds target history since 1990, typed in as public facts.

The sample market is synthetic, but the Fed's decisions are not: they are a short public
record (the Federal Reserve's "Open Market Operations" tables and FOMC statements), and
the rotation question is about how small caps behave around them. So the sample uses the
real dates and levels, and its size factor and yields are driven by them.

Each entry is the day the FOMC announced the change, including intermeeting moves. Until
2008-12-16 the Fed set a single target (``lower == upper``); since then a range. FRED's
daily series record a change on the day *after* the decision; that convention belongs to
the rates generator, not to these facts.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class FomcDecision:
    """One change of the federal funds target: announced on ``decision_date``, in percent."""

    decision_date: dt.date
    lower: float
    upper: float

    @property
    def midpoint(self) -> float:
        return (self.lower + self.upper) / 2


def _single(day: str, target: float) -> FomcDecision:
    return FomcDecision(dt.date.fromisoformat(day), target, target)


def _range(day: str, lower: float, upper: float) -> FomcDecision:
    return FomcDecision(dt.date.fromisoformat(day), lower, upper)


FOMC_DECISIONS: tuple[FomcDecision, ...] = (
    # The target in force on 1990-01-01 (cut from 8.50 on 1989-12-20).
    _single("1989-12-20", 8.25),
    # 1990-1992: the early-1990s easing cycle.
    _single("1990-07-13", 8.00),
    _single("1990-10-29", 7.75),
    _single("1990-11-13", 7.50),
    _single("1990-12-07", 7.25),
    _single("1990-12-18", 7.00),
    _single("1991-01-09", 6.75),
    _single("1991-02-01", 6.25),
    _single("1991-03-08", 6.00),
    _single("1991-04-30", 5.75),
    _single("1991-08-06", 5.50),
    _single("1991-09-13", 5.25),
    _single("1991-10-31", 5.00),
    _single("1991-11-06", 4.75),
    _single("1991-12-06", 4.50),
    _single("1991-12-20", 4.00),
    _single("1992-04-09", 3.75),
    _single("1992-07-02", 3.25),
    _single("1992-09-04", 3.00),
    # 1994-1995: the bond-market tightening.
    _single("1994-02-04", 3.25),
    _single("1994-03-22", 3.50),
    _single("1994-04-18", 3.75),
    _single("1994-05-17", 4.25),
    _single("1994-08-16", 4.75),
    _single("1994-11-15", 5.50),
    _single("1995-02-01", 6.00),
    # 1995-1998: mid-cycle adjustments and the LTCM cuts.
    _single("1995-07-06", 5.75),
    _single("1995-12-19", 5.50),
    _single("1996-01-31", 5.25),
    _single("1997-03-25", 5.50),
    _single("1998-09-29", 5.25),
    _single("1998-10-15", 5.00),
    _single("1998-11-17", 4.75),
    # 1999-2000: tightening into the dot-com peak.
    _single("1999-06-30", 5.00),
    _single("1999-08-24", 5.25),
    _single("1999-11-16", 5.50),
    _single("2000-02-02", 5.75),
    _single("2000-03-21", 6.00),
    _single("2000-05-16", 6.50),
    # 2001-2003: the dot-com bust and 9/11 (intermeeting cuts on Jan 3, Apr 18, Sep 17).
    _single("2001-01-03", 6.00),
    _single("2001-01-31", 5.50),
    _single("2001-03-20", 5.00),
    _single("2001-04-18", 4.50),
    _single("2001-05-15", 4.00),
    _single("2001-06-27", 3.75),
    _single("2001-08-21", 3.50),
    _single("2001-09-17", 3.00),
    _single("2001-10-02", 2.50),
    _single("2001-11-06", 2.00),
    _single("2001-12-11", 1.75),
    _single("2002-11-06", 1.25),
    _single("2003-06-25", 1.00),
    # 2004-2006: seventeen measured 25 bp hikes.
    _single("2004-06-30", 1.25),
    _single("2004-08-10", 1.50),
    _single("2004-09-21", 1.75),
    _single("2004-11-10", 2.00),
    _single("2004-12-14", 2.25),
    _single("2005-02-02", 2.50),
    _single("2005-03-22", 2.75),
    _single("2005-05-03", 3.00),
    _single("2005-06-30", 3.25),
    _single("2005-08-09", 3.50),
    _single("2005-09-20", 3.75),
    _single("2005-11-01", 4.00),
    _single("2005-12-13", 4.25),
    _single("2006-01-31", 4.50),
    _single("2006-03-28", 4.75),
    _single("2006-05-10", 5.00),
    _single("2006-06-29", 5.25),
    # 2007-2008: the financial crisis (intermeeting cuts on 2008-01-22 and 2008-10-08).
    _single("2007-09-18", 4.75),
    _single("2007-10-31", 4.50),
    _single("2007-12-11", 4.25),
    _single("2008-01-22", 3.50),
    _single("2008-01-30", 3.00),
    _single("2008-03-18", 2.25),
    _single("2008-04-30", 2.00),
    _single("2008-10-08", 1.50),
    _single("2008-10-29", 1.00),
    # From here on a target range.
    _range("2008-12-16", 0.00, 0.25),
    # 2015-2018: liftoff and normalization.
    _range("2015-12-16", 0.25, 0.50),
    _range("2016-12-14", 0.50, 0.75),
    _range("2017-03-15", 0.75, 1.00),
    _range("2017-06-14", 1.00, 1.25),
    _range("2017-12-13", 1.25, 1.50),
    _range("2018-03-21", 1.50, 1.75),
    _range("2018-06-13", 1.75, 2.00),
    _range("2018-09-26", 2.00, 2.25),
    _range("2018-12-19", 2.25, 2.50),
    # 2019: the mid-cycle adjustment.
    _range("2019-07-31", 2.00, 2.25),
    _range("2019-09-18", 1.75, 2.00),
    _range("2019-10-30", 1.50, 1.75),
    # 2020: the pandemic (both intermeeting; 2020-03-15 was a Sunday).
    _range("2020-03-03", 1.00, 1.25),
    _range("2020-03-15", 0.00, 0.25),
    # 2022-2023: the inflation tightening.
    _range("2022-03-16", 0.25, 0.50),
    _range("2022-05-04", 0.75, 1.00),
    _range("2022-06-15", 1.50, 1.75),
    _range("2022-07-27", 2.25, 2.50),
    _range("2022-09-21", 3.00, 3.25),
    _range("2022-11-02", 3.75, 4.00),
    _range("2022-12-14", 4.25, 4.50),
    _range("2023-02-01", 4.50, 4.75),
    _range("2023-03-22", 4.75, 5.00),
    _range("2023-05-03", 5.00, 5.25),
    _range("2023-07-26", 5.25, 5.50),
    # 2024-2025: the easing cycle.
    _range("2024-09-18", 4.75, 5.00),
    _range("2024-11-07", 4.50, 4.75),
    _range("2024-12-18", 4.25, 4.50),
    _range("2025-09-17", 4.00, 4.25),
    _range("2025-10-29", 3.75, 4.00),
    _range("2025-12-10", 3.50, 3.75),
)

TARGET_BEFORE_HISTORY = 8.50
"""The target before the first decision above (set 1989-11-06): gives that cut its direction."""

RANGE_START = dt.date(2008, 12, 16)
"""The first target range; before it the Fed announced a single target."""

HOLD_AFTER_DAYS = 180
"""Calendar days without a move after which the policy regime counts as a hold."""

EASING, TIGHTENING, HOLD = "easing", "tightening", "hold"

_DECISION_DAYS = np.array([d.decision_date for d in FOMC_DECISIONS], dtype="datetime64[D]")
_LOWERS = np.array([d.lower for d in FOMC_DECISIONS])
_UPPERS = np.array([d.upper for d in FOMC_DECISIONS])
_DIRECTIONS = np.sign(np.diff([TARGET_BEFORE_HISTORY, *(d.midpoint for d in FOMC_DECISIONS)]))


def as_days(dates) -> np.ndarray:
    """Any dates (``date``, strings, ``datetime64``, a pandas index) as ``datetime64[D]``.

    One normalisation point, so every helper here accepts what callers naturally hold.
    """
    return np.asarray(pd.to_datetime(np.atleast_1d(np.asarray(dates, dtype=object)))).astype(
        "datetime64[D]"
    )


def _last_decision_index(days: np.ndarray) -> np.ndarray:
    """Index of the last decision announced on or before each day (-1 before the history).

    A decision counts on its own date: the policy is known from the announcement.
    """
    return np.searchsorted(_DECISION_DAYS, days, side="right") - 1


def targets_on(dates) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised ``target_on``: arrays of (lower, upper) in percent for many dates."""
    index = _last_decision_index(as_days(dates))
    if (index < 0).any():
        raise ValueError(
            f"the FOMC history here begins {FOMC_DECISIONS[0].decision_date}; "
            "no target is recorded before it"
        )
    return _LOWERS[index], _UPPERS[index]


def target_on(date: dt.date) -> tuple[float, float]:
    """The (lower, upper) federal funds target in force on ``date``, in percent.

    Why: downstream code (rates, regimes, event studies) needs the policy rate on any day,
    not just on decision days. The decision day itself already has the new target, since
    it is announced during that day; a single target before 2008-12-16 has lower == upper.
    """
    lower, upper = targets_on([date])
    return float(lower[0]), float(upper[0])


def regime_on(dates) -> np.ndarray:
    """The policy regime on each date: ``'easing'``, ``'tightening'`` or ``'hold'``.

    Why: markets price the direction of policy, not its level; small caps, which borrow
    short and floating, tend to lead when the Fed is cutting and lag when it is hiking.
    The regime is the direction of the last move while it is recent, and a hold once
    ``HOLD_AFTER_DAYS`` (180) calendar days pass without a move, because by then the cycle
    is no longer what the market trades on.
    """
    days = as_days(dates)
    index = _last_decision_index(days)
    safe = np.maximum(index, 0)
    age = (days - _DECISION_DAYS[safe]).astype(np.int64)
    direction = np.where(index >= 0, _DIRECTIONS[safe], 0.0)
    recent = (index >= 0) & (age < HOLD_AFTER_DAYS)
    return np.where(
        recent & (direction < 0), EASING, np.where(recent & (direction > 0), TIGHTENING, HOLD)
    ).astype(object)
