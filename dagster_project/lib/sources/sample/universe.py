"""The sample universe: ``universe.yaml`` read, validated and scaled to a ticker count.

The YAML is the single list of tickers every source covers. The sample market adds one
knob on top: ``tickers=N`` for benchmarks, which trims the baskets or fills them with
synthetic names while keeping every index proxy, sector fund and megacap.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml

from dagster_project.lib.sources.symbols import checked_ticker
from dagster_project.lib.warehouse.schemas import UNIVERSE

UNIVERSE_FILE = Path(__file__).resolve().parents[1] / "universe.yaml"

SECTORS: tuple[str, ...] = (
    "Information Technology",
    "Financials",
    "Health Care",
    "Consumer Discretionary",
    "Consumer Staples",
    "Energy",
    "Industrials",
    "Materials",
    "Utilities",
    "Real Estate",
    "Communication Services",
)
"""The 11 GICS sectors, in a fixed order that indexes the sector factors."""

KINDS = ("index", "etf", "stock")
SIZES = ("large", "small")
STYLES = ("value", "growth", "blend")
LARGE_CAP, SMALL_CAP = "large_cap", "small_cap"
SYNTHETIC_PREFIX = "SYN"


@dataclass(frozen=True)
class Instrument:
    """One ticker of the universe, as configured.

    ``slot`` is the instrument's position in the full configured list (synthetic names
    continue after it). Random draws are keyed by slot, so a ticker's simulated path does
    not change when the universe is trimmed or extended around it.
    """

    ticker: str
    name: str
    kind: str
    size: str | None = None
    style: str | None = None
    sector: str | None = None
    magnificent_7: bool = False
    slot: int = 0

    @property
    def basket(self) -> str | None:
        """``large_cap`` / ``small_cap`` for basket stocks; None for funds and megacaps."""
        if self.kind != "stock" or self.magnificent_7:
            return None
        return LARGE_CAP if self.size == "large" else SMALL_CAP

    @property
    def is_fund(self) -> bool:
        return self.kind in ("index", "etf")


def load_universe(path: Path = UNIVERSE_FILE) -> tuple[Instrument, ...]:
    """Read and validate the universe YAML; fail loudly on anything a source could misread."""
    document = yaml.safe_load(Path(path).read_text())
    entries = (document or {}).get("tickers")
    if not entries:
        raise ValueError(f"{path}: expected a non-empty 'tickers:' list")
    instruments = tuple(
        instrument_from_entry(entry, slot, path) for slot, entry in enumerate(entries)
    )
    tickers = [i.ticker for i in instruments]
    duplicates = sorted({t for t in tickers if tickers.count(t) > 1})
    if duplicates:
        raise ValueError(f"{path}: duplicate tickers {duplicates}")
    return instruments


def instrument_from_entry(entry: dict, slot: int, path: Path) -> Instrument:
    """One validated instrument from a YAML (or CSV) entry; ``path`` names it in errors."""
    try:
        ticker = checked_ticker(entry["ticker"], f"{path} entry {slot}")
        instrument = Instrument(
            ticker=ticker,
            name=str(entry.get("name") or entry["ticker"]),
            kind=entry["kind"],
            size=entry.get("size"),
            style=entry.get("style"),
            sector=entry.get("sector"),
            magnificent_7=bool(entry.get("magnificent_7", False)),
            slot=slot,
        )
    except (KeyError, TypeError) as exc:
        raise ValueError(f"{path}: entry {slot} ({entry!r}) lacks ticker or kind") from exc
    for field, allowed in (("kind", KINDS), ("size", SIZES), ("style", STYLES)):
        value = getattr(instrument, field)
        if value is not None and value not in allowed:
            raise ValueError(f"{path}: {instrument.ticker} has {field}={value!r}; use {allowed}")
    if instrument.sector is not None and instrument.sector not in SECTORS:
        raise ValueError(f"{path}: {instrument.ticker} has unknown sector {instrument.sector!r}")
    if instrument.kind == "stock" and (instrument.size is None or instrument.sector is None):
        raise ValueError(f"{path}: stock {instrument.ticker} needs a size and a sector")
    return instrument


def always_kept(instruments: Sequence[Instrument]) -> list[Instrument]:
    """The instruments outside the baskets (index proxies, sector funds, megacaps): every
    scale keeps them, so their count is the fewest tickers the sample scales to."""
    return [i for i in instruments if i.basket is None]


def scale_universe(instruments: Sequence[Instrument], total: int | None) -> list[Instrument]:
    """The universe with exactly ``total`` tickers (all of it when ``total`` is None).

    Why: benchmarks need a knob from a few dozen to thousands of tickers that keeps the
    instruments the marts are about. Index proxies, sector funds and the Magnificent 7
    always stay; the baskets are trimmed evenly (members taken round-robin across sectors
    so a small basket still spans them) or extended with synthetic stocks.
    """
    if total is None:
        return list(instruments)
    fixed = always_kept(instruments)
    baskets = {
        name: interleave_by_sector([i for i in instruments if i.basket == name])
        for name in (LARGE_CAP, SMALL_CAP)
    }
    if total < len(fixed):
        raise ValueError(
            f"tickers={total} is too few: the sample keeps {len(fixed)} index proxies, "
            "sector funds and megacaps"
        )
    slots = total - len(fixed)
    configured = sum(len(members) for members in baskets.values())
    if slots <= configured:
        counts = share_evenly(slots, [len(members) for members in baskets.values()])
        kept = {
            i.ticker
            for members, count in zip(baskets.values(), counts, strict=True)
            for i in members[:count]
        }
        return [i for i in instruments if i.basket is None or i.ticker in kept]
    return list(instruments) + synthetic_stocks(slots - configured, first_slot=len(instruments))


def interleave_by_sector(members: Sequence[Instrument]) -> list[Instrument]:
    """Members reordered round-robin over sectors: the first k then cover k sectors."""
    by_sector: dict[str | None, list[Instrument]] = {}
    for member in members:
        by_sector.setdefault(member.sector, []).append(member)
    queues = list(by_sector.values())
    ordered: list[Instrument] = []
    for rank in range(max((len(q) for q in queues), default=0)):
        ordered.extend(q[rank] for q in queues if rank < len(q))
    return ordered


def share_evenly(total: int, capacities: Sequence[int]) -> list[int]:
    """Split ``total`` slots over containers as evenly as their capacities allow.

    Slots are dealt one at a time to each container with room, so sizes differ by at most
    one until a container is full; the first containers get the odd slot.
    """
    counts = [0] * len(capacities)
    remaining = min(total, sum(capacities))
    while remaining:
        for index, capacity in enumerate(capacities):
            if remaining and counts[index] < capacity:
                counts[index] += 1
                remaining -= 1
    return counts


def synthetic_stocks(count: int, first_slot: int) -> list[Instrument]:
    """``SYN00001``, ``SYN00002``, ...: alternating small/large, sectors rotating."""
    stocks = []
    for number in range(1, count + 1):
        size = "small" if number % 2 else "large"
        stocks.append(
            Instrument(
                ticker=f"{SYNTHETIC_PREFIX}{number:05d}",
                name=f"Synthetic {size}-cap stock {number:05d}",
                kind="stock",
                size=size,
                sector=SECTORS[(number - 1) % len(SECTORS)],
                slot=first_slot + number - 1,
            )
        )
    return stocks


def universe_frame(instruments: Sequence[Instrument]) -> pd.DataFrame:
    """The payload columns of ``raw.universe``, one row per instrument."""
    frame = pd.DataFrame(
        {
            "ticker": [i.ticker for i in instruments],
            "name": [i.name for i in instruments],
            "kind": [i.kind for i in instruments],
            "size": pd.Series([i.size for i in instruments], dtype=object),
            "style": pd.Series([i.style for i in instruments], dtype=object),
            "sector": pd.Series([i.sector for i in instruments], dtype=object),
            "is_magnificent_7": pd.Series([i.magnificent_7 for i in instruments], dtype=bool),
        }
    )
    return frame[list(UNIVERSE.payload)]
