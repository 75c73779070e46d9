"""Each instrument's fixed traits: factor exposures, volatility, dividends, splits, size.

Traits come from a generator keyed by the ticker's name, so AAPL has the same beta and
dividend policy in a 40-ticker sample as in a 3,000-ticker one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, fields

import numpy as np

from dagster_project.lib.sources.sample.calibration import (
    BASKET_PROFILES,
    EPOCH,
    EPOCH_LEVELS,
    EXPECTED_SIZE_DRIFT,
    FUND_TILTS,
    FUNDS,
    JUMPS,
    MARKET,
    REFERENCE_DATE,
    RISK_FREE_GROWTH,
    SECTOR_PROFILES,
    SESSIONS_PER_YEAR,
    STOCKS,
)
from dagster_project.lib.sources.sample.factors import (
    FACTOR_NAMES,
    FIRST_SECTOR_COLUMN,
    MARKET_COLUMN,
    SIZE_COLUMN,
    VALUE_COLUMN,
)
from dagster_project.lib.sources.sample.randomness import ticker_rng
from dagster_project.lib.sources.sample.universe import SECTORS, SMALL_CAP, Instrument

NEVER = np.inf
"""Split threshold of instruments that never split (indices and funds)."""


@dataclass(frozen=True)
class Traits:
    """Traits of many instruments, one array per field, aligned with ``tickers``.

    Volatilities are daily, drifts, yields and growth annual. ``fund_trait`` and
    ``stock_trait`` return one instrument's values as a dict keyed by these field names.
    """

    tickers: np.ndarray
    slots: np.ndarray
    """Random-draw slot of each instrument (see ``randomness``)."""
    exposures: np.ndarray
    """Loadings on (market, size, value, *sectors), one row per instrument."""
    annual_drift: np.ndarray
    idio_vol: np.ndarray
    idio_half_life: np.ndarray
    """Sessions for an idiosyncratic (or tracking) gap to halve."""
    start_price: np.ndarray
    dividend_yield: np.ndarray
    dividend_month: np.ndarray
    """First ex-dividend month of the year (1-3); the others follow every 3 months."""
    dividend_day: np.ndarray
    split_threshold: np.ndarray
    split_ratio: np.ndarray
    daily_volume: np.ndarray
    """Shares traded on a typical day at the start (scaled by later splits)."""
    pe: np.ndarray
    loss_maker: np.ndarray
    report_lag: np.ndarray
    """Usual days from quarter end to the earnings report."""
    shares: np.ndarray
    """Shares outstanding at the start of the simulated history."""
    share_growth: np.ndarray
    jump_rate: np.ndarray
    """Chance per session of a jump in the stock's own level (small-cap basket stocks)."""

    def __len__(self) -> int:
        return len(self.tickers)

    @property
    def total_vol(self) -> np.ndarray:
        """Approximate daily volatility of each instrument: sizes its intraday range."""
        return np.hypot(self.exposures[:, MARKET_COLUMN] * MARKET.market_vol, self.idio_vol)


def instrument_traits(instruments: Sequence[Instrument], seed: int, start: dt.date) -> Traits:
    """Traits of ``instruments``; ``start`` is where the stocks' history begins."""
    rows = [
        fund_trait(i, ticker_rng(seed, i.ticker))
        if i.is_fund
        else stock_trait(i, ticker_rng(seed, i.ticker), start)
        for i in instruments
    ]
    names = [f.name for f in fields(Traits) if f.name not in ("tickers", "slots")]
    columns = {name: np.array([row[name] for row in rows]) for name in names}
    columns["exposures"] = columns["exposures"].reshape(len(rows), len(FACTOR_NAMES))
    return Traits(
        tickers=np.array([i.ticker for i in instruments], dtype=object),
        slots=np.array([i.slot for i in instruments], dtype=np.int64),
        **columns,
    )


def exposure_vector(
    beta: float, size: float = 0.0, value: float = 0.0, sector: str | None = None
) -> np.ndarray:
    """Loadings on (market, size, value, *sectors): one row of the exposure matrix."""
    exposures = np.zeros(len(FACTOR_NAMES))
    exposures[MARKET_COLUMN] = beta
    exposures[SIZE_COLUMN] = size
    exposures[VALUE_COLUMN] = value
    if sector is not None:
        exposures[FIRST_SECTOR_COLUMN + SECTORS.index(sector)] = 1.0
    return exposures


def style_loading(style: str | None) -> float:
    """Value funds load positively on the value factor, growth funds negatively."""
    return {"value": MARKET.style_loading, "growth": -MARKET.style_loading}.get(style or "", 0.0)


def fund_trait(fund: Instrument, rng: np.random.Generator) -> dict:
    """An index or ETF: its index's factor mix, a little tracking noise, no splits.

    ^GSPC and ^RUT *are* the large- and small-cap factor mixes (price indices: no
    dividends, no noise); ETFs add tracking noise, pay their index's dividends quarterly
    and lose their expense ratio. A fund's first price is set so that it lands at a
    plausible level by the reference date (SPY and IWM simply track a tenth of their index).
    """
    small = fund.size == "small"
    beta = (
        SECTOR_PROFILES[fund.sector].beta
        if fund.sector
        else MARKET.small_cap_beta
        if small
        else 1.0
    )
    exposures = exposure_vector(
        beta,
        size=(1.0 if small else 0.0) + FUND_TILTS.get(fund.ticker, {}).get("size", 0.0),
        value=style_loading(fund.style),
        sector=fund.sector,
    )
    is_index = fund.kind == "index"
    yield_ = fund_yield(fund)
    price_drift = capm_drift(beta) - (0.0 if is_index else FUNDS.expense_ratio)
    reference_price = log_uniform(rng, *FUNDS.reference_price_range)
    start_price = EPOCH_LEVELS.get(fund.ticker) or discount_to(
        EPOCH, reference_price, expected_growth(exposures, price_drift)
    )
    return dict(
        exposures=exposures,
        annual_drift=price_drift + yield_,
        idio_vol=fund_tracking_vol(fund),
        idio_half_life=FUNDS.tracking_half_life,
        start_price=start_price,
        dividend_yield=yield_,
        dividend_month=3,
        dividend_day=int(rng.integers(15, 22)),
        split_threshold=NEVER,
        split_ratio=1.0,
        daily_volume=log_uniform(rng, *(FUNDS.index_volume if is_index else FUNDS.etf_volume)),
        pe=np.nan,
        loss_maker=False,
        report_lag=0,
        shares=np.nan,
        share_growth=0.0,
        jump_rate=0.0,
    )


def fund_yield(fund: Instrument) -> float:
    """Annual dividend yield of a fund: its sector's or size's, more for value, less for
    growth; price indices pay nothing."""
    if fund.kind == "index":
        return 0.0
    if fund.sector:
        base = SECTOR_PROFILES[fund.sector].dividend_yield
    else:
        base = FUNDS.small_yield if fund.size == "small" else FUNDS.broad_yield
    style = {"value": FUNDS.value_yield_extra, "growth": -FUNDS.growth_yield_cut}
    return base + style.get(fund.style or "", 0.0)


def fund_tracking_vol(fund: Instrument) -> float:
    """Daily tracking noise: none for an index, more for style funds than broad ones."""
    if fund.kind == "index":
        return 0.0
    if "tracking_vol" in FUND_TILTS.get(fund.ticker, {}):
        return FUND_TILTS[fund.ticker]["tracking_vol"]
    if fund.sector:
        return FUNDS.tracking_vol_sector
    if fund.style in ("value", "growth"):
        return FUNDS.tracking_vol_style
    return FUNDS.tracking_vol_broad


def stock_trait(stock: Instrument, rng: np.random.Generator, start: dt.date) -> dict:
    """A single stock: sector and basket set its exposures, a per-name draw the rest.

    Its share count is set from a market cap drawn for the reference date and discounted
    back to ``start`` at the stock's expected growth, so caps are plausible whichever year
    the history starts in.
    """
    profile = SECTOR_PROFILES[stock.sector]
    small, megacap = stock.size == "small", stock.magnificent_7
    basket_name = "megacap" if megacap else "small" if small else "large"
    beta = profile.beta * np.exp(rng.normal(0.0, 0.15))
    beta *= MARKET.small_cap_beta if small else STOCKS.megacap_beta if megacap else 1.0
    exposures = exposure_vector(
        beta,
        size=rng.uniform(0.8, 1.2) if small else 0.0,
        value=style_loading(stock.style) if stock.style else rng.normal(0.0, 0.15),
        sector=stock.sector,
    )
    basket = BASKET_PROFILES[basket_name]
    pays = rng.random() < dividend_probability(stock)
    yield_ = profile.dividend_yield * np.exp(rng.normal(0.0, 0.35)) * (0.8 if small else 1.0)
    yield_ = yield_ if pays else 0.0
    drift = rng.normal(*basket.alpha) + capm_drift(beta)
    threshold = rng.uniform(*STOCKS.split_threshold_range)
    price = log_uniform(rng, *basket.start_price)
    ratios, weights = zip(*STOCKS.split_ratios, strict=True)
    cap_now = log_uniform(rng, *basket.reference_cap)
    shares = discount_to(start, cap_now, expected_growth(exposures, drift) - yield_) / price
    return dict(
        exposures=exposures,
        annual_drift=drift,
        idio_vol=basket.idio_vol * np.exp(rng.normal(0.0, 0.2)),
        idio_half_life=STOCKS.idio_half_life_years * SESSIONS_PER_YEAR * np.exp(rng.normal(0, 0.3)),
        start_price=price,
        dividend_yield=yield_,
        dividend_month=int(rng.integers(1, 4)),
        dividend_day=int(rng.integers(1, 29)),
        split_threshold=threshold,
        split_ratio=float(rng.choice(ratios, p=weights)),
        daily_volume=shares * rng.uniform(0.004, 0.012),
        pe=basket.pe * np.exp(rng.normal(0.0, 0.22)),
        loss_maker=bool(small and rng.random() < STOCKS.loss_maker_share),
        report_lag=int(rng.integers(*STOCKS.report_lag_days)),
        shares=shares,
        share_growth=rng.normal(*basket.share_growth),
        # Set, not drawn: a new trait must not move the draws of the traits above.
        jump_rate=JUMPS.per_session if stock.basket == SMALL_CAP else 0.0,
    )


def capm_drift(beta: float) -> float:
    """Drift that makes a beta-b asset grow at rf + b * (market - rf), not b * market.

    Exposures multiply the market's whole log return, cash included; without this a
    beta-1.2 sector would out-grow the market by a fifth of its growth for ever.
    """
    return (1.0 - beta) * RISK_FREE_GROWTH


def expected_growth(exposures: np.ndarray, drift: float) -> float:
    """Expected annual log growth of a price with these exposures and own drift."""
    return float(exposures @ _FACTOR_ANNUAL_MEANS + drift)


def discount_to(day: dt.date, value_at_reference: float, growth: float) -> float:
    """A value at ``REFERENCE_DATE`` taken back to ``day`` at an annual log growth."""
    years = (REFERENCE_DATE - day).days / 365.25
    return float(value_at_reference * np.exp(-growth * years))


def log_uniform(rng: np.random.Generator, low: float, high: float) -> float:
    """A draw spread evenly in log terms: prices and caps span orders of magnitude."""
    return float(np.exp(rng.uniform(np.log(low), np.log(high))))


def dividend_probability(stock: Instrument) -> float:
    """Most large value names pay, few small growth names do."""
    by_style = {"value": 0.95, "growth": 0.45}.get(stock.style or "", 0.85)
    return by_style * (0.65 if stock.size == "small" else 1.0)


_FACTOR_ANNUAL_MEANS = np.array(
    [np.log1p(MARKET.market_growth), EXPECTED_SIZE_DRIFT, MARKET.value_drift]
    + [SECTOR_PROFILES[sector].annual_drift for sector in SECTORS]
)
"""Rough long-run annual mean of each factor: to discount prices and caps back in time."""
