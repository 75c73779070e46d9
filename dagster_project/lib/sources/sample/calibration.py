"""The numbers that make the sample market look like the US market, in one place.

Targets (checked against real data while calibrating, never read at run time): the S&P
500's daily volatility is about 1.0-1.2% and its price index grew about 8% a year since
1990; the Russell 2000 moves about 1.3-1.5% a day with a 0.85-0.9 daily correlation to
it; Fama-French SMB and HML move about 0.6% and 0.7% a day.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

EPOCH = dt.date(1990, 1, 2)
"""First session of the common factors; every run simulates them from here."""

EPOCH_LEVELS = {"^GSPC": 353.40, "^RUT": 168.30, "SPY": 35.34, "IWM": 16.83}
"""Closes on the eve of the epoch (1989-12-29) where an obvious level is expected."""

SESSIONS_PER_YEAR = 252
RISK_FREE_GROWTH = 0.03
"""Long-run log growth of cash: the zero-beta rate in the CAPM drift of every asset."""
EXPECTED_SIZE_DRIFT = -0.006
"""Long-run mean of the size factor, averaging its regime drifts over 1990-2025."""


@dataclass(frozen=True)
class MarketCalibration:
    """The common factors' dynamics (daily units unless named annual)."""

    market_vol: float = 0.0100
    """Long-run daily volatility of the large-cap index."""
    market_growth: float = 0.08
    """Geometric annual growth of the large-cap price index (its trend)."""
    market_reversion: float = 0.30
    """Annual pull of the index back to its trend: keeps levels plausible over decades."""
    garch_alpha: float = 0.03
    garch_leverage: float = 0.10
    """Extra reaction to down days (GJR): volatility spikes in sell-offs, as it does."""
    garch_beta: float = 0.90
    tail_df: float = 7.0
    """Student-t degrees of freedom of the factor shocks: fat tails."""
    small_cap_beta: float = 1.20
    """Small caps' beta to the large-cap market factor."""
    size_vol: float = 0.0060
    size_reversion: float = 0.15
    """Annual pull of the cumulative size factor back to its regime-drift path."""
    size_drift_by_regime: tuple[tuple[str, float], ...] = (
        ("easing", 0.08),
        ("tightening", -0.07),
        ("hold", -0.025),
    )
    """Annual drift of the size factor by Fed regime: small caps lead when the Fed cuts."""
    value_vol: float = 0.0045
    value_drift: float = 0.01
    style_loading: float = 0.5
    """How much a value (+) or growth (-) fund loads on the value factor."""


@dataclass(frozen=True)
class SectorProfile:
    """How a GICS sector moves: beta to the market, residual volatility, drift, yield."""

    beta: float
    residual_vol: float
    annual_drift: float
    dividend_yield: float


SECTOR_PROFILES: dict[str, SectorProfile] = {
    "Information Technology": SectorProfile(1.20, 0.0070, 0.020, 0.009),
    "Financials": SectorProfile(1.10, 0.0070, -0.005, 0.022),
    "Health Care": SectorProfile(0.80, 0.0060, 0.005, 0.016),
    "Consumer Discretionary": SectorProfile(1.10, 0.0050, 0.000, 0.010),
    "Consumer Staples": SectorProfile(0.60, 0.0060, 0.000, 0.026),
    "Energy": SectorProfile(0.90, 0.0120, -0.015, 0.034),
    "Industrials": SectorProfile(1.05, 0.0045, 0.000, 0.017),
    "Materials": SectorProfile(1.00, 0.0060, -0.005, 0.020),
    "Utilities": SectorProfile(0.50, 0.0080, -0.005, 0.032),
    "Real Estate": SectorProfile(0.85, 0.0090, -0.005, 0.033),
    "Communication Services": SectorProfile(1.00, 0.0070, 0.000, 0.012),
}


@dataclass(frozen=True)
class FundCalibration:
    """Index funds and indices."""

    tracking_vol_broad: float = 0.0004
    """Daily tracking noise of a fund against the index it follows."""
    tracking_vol_style: float = 0.0015
    tracking_vol_sector: float = 0.0010
    tracking_half_life: float = 20.0
    """Sessions for a tracking gap to halve: funds do not wander off their index."""
    expense_ratio: float = 0.0015
    reference_price_range: tuple[float, float] = (60.0, 350.0)
    """Where a fund without an obvious level trades at the reference date."""
    index_volume: tuple[float, float] = (1e9, 4e9)
    etf_volume: tuple[float, float] = (2e6, 6e7)
    broad_yield: float = 0.016
    small_yield: float = 0.012
    value_yield_extra: float = 0.008
    growth_yield_cut: float = 0.008


FUND_TILTS: dict[str, dict[str, float]] = {
    "RSP": {"size": 0.25, "tracking_vol": 0.0020},
    "IJR": {"tracking_vol": 0.0030},
}
"""Funds that are not just their size/style/sector: equal weight leans small; the S&P 600
differs from the Russell 2000 by its profitability screen."""


@dataclass(frozen=True)
class BasketProfile:
    """How the stocks of one basket behave (daily volatility, annual drifts and growth)."""

    idio_vol: float
    alpha: tuple[float, float]
    """Mean and spread of a stock's own annual drift."""
    start_price: tuple[float, float]
    reference_cap: tuple[float, float]
    """Range of market caps at the reference date."""
    share_growth: tuple[float, float]
    """Mean and spread of the annual change in share count (buybacks < 0 < issuance)."""
    pe: float
    """Centre of the basket's P/E trait."""


BASKET_PROFILES: dict[str, BasketProfile] = {
    "large": BasketProfile(
        idio_vol=0.011,
        alpha=(0.0, 0.02),
        start_price=(20.0, 300.0),
        reference_cap=(3e10, 7e11),
        share_growth=(-0.01, 0.01),
        pe=19.5,
    ),
    "small": BasketProfile(
        idio_vol=0.022,
        alpha=(-0.005, 0.03),
        start_price=(4.0, 80.0),
        reference_cap=(3e8, 5e9),
        share_growth=(0.015, 0.015),
        pe=14.0,
    ),
    "megacap": BasketProfile(
        idio_vol=0.015,
        alpha=(0.06, 0.015),
        start_price=(20.0, 250.0),
        reference_cap=(1e12, 4.5e12),
        share_growth=(-0.01, 0.01),
        pe=28.0,
    ),
}
"""Small caps: twice the idiosyncratic noise, issuance, and a lower P/E (they trade
cheaper). The Magnificent 7: a high own drift, so their index weight grows as it did."""


@dataclass(frozen=True)
class StockCalibration:
    """What all single stocks share."""

    idio_half_life_years: float = 2.0
    """Idiosyncratic price moves fade over years rather than compound forever."""
    megacap_beta: float = 1.15
    split_threshold_range: tuple[float, float] = (400.0, 600.0)
    split_ratios: tuple[tuple[int, float], ...] = ((2, 0.60), (3, 0.20), (4, 0.15), (10, 0.05))
    loss_maker_share: float = 0.12
    """Share of small caps that lose money in many quarters."""
    report_lag_days: tuple[int, int] = (22, 40)
    fourth_quarter_extra_lag: int = 5
    """Annual reports (Q4) come out later than quarterly ones."""


@dataclass(frozen=True)
class JumpCalibration:
    """Jumps of small-cap stocks: the days a stock's own news moves it by a quarter or more.

    Measured once on real daily closes (dividend- and split-adjusted, Yahoo) of four small
    and mid caps, DXCM, OVV, RGEN and VSAT, over the decimal-price era 2001-04-09 to
    2026-08-03 (96.1 stock-years; RGEN's and VSAT's 1/8-dollar ticks before it make a
    sub-dollar stock move 25% on one tick): 23 daily moves beyond +/-25% (0.24 per
    stock-year), 2 beyond +/-50% (0.021 per stock-year), 7 of the 23 down. Over each
    file's whole history (115.4 stock-years) it is 0.49 and 0.035, penny-stock ticks
    included. Four survivors understate a Russell 2000 name's jumps; these are a floor.
    Nothing of the data is kept here, only these counts.
    """

    moves_beyond_25_per_year: float = 0.24
    """Daily moves beyond +/-25% per stock-year: how often a jump happens (sizes start
    at 25%)."""
    moves_beyond_50_per_year: float = 0.021
    """Daily moves beyond +/-50% per stock-year: sets how fast jump sizes thin out."""
    down_share: float = 0.30
    """Share of those jumps that are falls (7 of 23): small caps jump up more often."""
    smallest: float = 0.25
    """Smallest jump, as a simple return."""
    largest_fall: float = 0.85
    largest_rise: float = 3.0
    """Caps on a jump (-85%, +300%): one stock-day's news, never a wipe-out to zero."""

    @property
    def per_session(self) -> float:
        """Chance of a jump on one session."""
        return self.moves_beyond_25_per_year / SESSIONS_PER_YEAR

    @property
    def tail_index(self) -> float:
        """Pareto index alpha of the jump size, P(size > x) = (x / smallest) ** -alpha:
        the one that makes moves beyond 50% as rare next to those beyond 25% as measured
        (0.021 / 0.24), about 3.5."""
        return math.log(self.moves_beyond_25_per_year / self.moves_beyond_50_per_year) / math.log(
            0.50 / self.smallest
        )


MARKET = MarketCalibration()
FUNDS = FundCalibration()
STOCKS = StockCalibration()
JUMPS = JumpCalibration()
REFERENCE_DATE = dt.date(2025, 12, 31)
"""Market caps are drawn for this date and discounted back to the start of history."""
