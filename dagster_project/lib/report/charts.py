"""The report's charts: each a pure function from frames to a matplotlib Figure.

Figures are built with ``matplotlib.figure.Figure`` and rendered by the Agg canvas, never
through pyplot: no global figure state and no display backend, so charts render the
same in the CLI, a Dagster run worker and the tests, and can run in threads.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

DPI = 90
WIDE = (11, 4.6)
PAIR_COLORS = {"IWM/SPY": "#1f77b4", "^RUT/^GSPC": "#ff7f0e"}
FIRST_CUT_COLOR, CUT_COLOR = "#c0392b", "#7f8c8d"
CUT_SET_LABELS = {"all_cuts": "all cuts", "first_cuts": "first cut of a cycle"}
BAND = (0.10, 0.90)
"""Percentiles of the P/E discount band: the range the discount kept 80% of the time."""


@dataclass(frozen=True)
class Chart:
    """A rendered chart: ``name`` is its file stem and metadata key."""

    name: str
    title: str
    caption: str
    png: bytes


def figure_png(figure: Figure) -> bytes:
    """PNG bytes of a figure (Agg canvas; the figure is not kept anywhere)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight")
    return buffer.getvalue()


def _empty(figure: Figure, ax, message: str) -> Figure:
    """A chart without data still renders, saying why it is empty."""
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, color="gray")
    ax.set_xticks([])
    ax.set_yticks([])
    return figure


def relative_strength_chart(
    relative: pd.DataFrame, policy: pd.DataFrame, cuts: pd.DataFrame
) -> Figure:
    """Small/large ratios with the Fed's target range behind them and every cut marked.

    The range sits on its own axis (percent) so both scales stay readable; first cuts of
    an easing cycle are drawn solid and red because they are what the "small caps rally
    when the Fed starts cutting" claim is about, later cuts dotted grey.
    """
    figure = Figure(figsize=WIDE)
    ax = figure.add_subplot()
    if relative.empty:
        return _empty(figure, ax, "no relative performance data")
    for pair, rows in relative.groupby("pair", sort=True):
        ax.plot(
            rows["trade_date"],
            rows["ratio"],
            label=f"{pair} ratio",
            lw=1.3,
            color=PAIR_COLORS.get(pair),
        )
    ax.set_ylabel("total return ratio (small / large)")
    first, last = relative["trade_date"].min(), relative["trade_date"].max()
    rates = ax.twinx()
    window = policy[(policy["calendar_date"] >= first) & (policy["calendar_date"] <= last)]
    if not window.empty:
        rates.fill_between(
            window["calendar_date"],
            window["target_lower"],
            window["target_upper"],
            step="post",
            color="#2ca02c",
            alpha=0.18,
            label="Fed target range",
        )
        rates.plot(
            window["calendar_date"],
            window["target_upper"],
            drawstyle="steps-post",
            color="#2ca02c",
            lw=0.8,
        )
        rates.set_ylim(bottom=0)
    rates.set_ylabel("Fed target range, %")
    shown = cuts[(cuts["decision_date"] >= first) & (cuts["decision_date"] <= last)]
    for first_cut, style, color, label in (
        (True, "-", FIRST_CUT_COLOR, "first cut of a cycle"),
        (False, ":", CUT_COLOR, "other cuts"),
    ):
        dates = shown.loc[shown["is_first_cut_of_cycle"].fillna(False) == first_cut]
        for i, day in enumerate(dates["decision_date"]):
            ax.axvline(
                day,
                ls=style,
                color=color,
                lw=1.4 if first_cut else 0.9,
                label=label if i == 0 else None,
            )
    handles, labels = ax.get_legend_handles_labels()
    more_handles, more_labels = rates.get_legend_handles_labels()
    ax.legend(
        handles + more_handles[:1],
        labels + more_labels[:1],
        loc="upper center",
        bbox_to_anchor=(0.5, -0.08),
        ncol=5,
        fontsize=8,
        frameon=False,
    )
    ax.set_title("Small vs large caps: relative strength and Fed policy")
    return figure


def percentile_band(pe: pd.DataFrame, band: tuple[float, float] = BAND) -> pd.DataFrame:
    """Expanding low/high percentiles of the discount, using only the days up to each row.

    Expanding (not full-sample) for the same reason the mart's median is: a band drawn
    with later data would make past discounts look more or less extreme than they were.
    """
    expanding = pe["discount"].expanding(min_periods=1)
    return pd.DataFrame(
        {
            "trade_date": pe["trade_date"],
            "low": expanding.quantile(band[0]),
            "high": expanding.quantile(band[1]),
        }
    )


def pe_discount_chart(pe: pd.DataFrame) -> Figure:
    """The small/large P/E discount against its own history: median and 10-90% band."""
    figure = Figure(figsize=WIDE)
    ax = figure.add_subplot()
    if pe.empty:
        return _empty(figure, ax, "no P/E discount data")
    pe = pe.sort_values("trade_date")
    band = percentile_band(pe)
    ax.fill_between(
        band["trade_date"],
        band["low"],
        band["high"],
        color="#9ecae1",
        alpha=0.5,
        label=f"{BAND[0]:.0%}-{BAND[1]:.0%} percentile to date",
    )
    ax.plot(
        pe["trade_date"],
        pe["discount"],
        color="#08519c",
        lw=1.2,
        label="discount (small / large trailing P/E - 1)",
    )
    ax.plot(
        pe["trade_date"],
        pe["discount_median_to_date"],
        color="black",
        ls="--",
        lw=1,
        label="median to date",
    )
    ax.axhline(0, color="gray", lw=0.6)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.legend(loc="best", fontsize=8, frameon=False)
    ax.set_title("Small-cap P/E discount to large caps")
    return figure


def event_study_chart(summary: pd.DataFrame) -> Figure:
    """Average small-minus-large return after cuts by horizon: all cuts vs first cuts.

    One panel per pair, bars labelled with the number of complete events, since an
    average over two first cuts deserves less trust than one over twenty cuts.
    """
    pairs = sorted(summary["pair"].unique()) if not summary.empty else []
    figure = Figure(figsize=(11, 4.2))
    if not pairs:
        return _empty(figure, figure.add_subplot(), "no rate-cut event study data")
    axes = figure.subplots(1, len(pairs), sharey=True, squeeze=False)[0]
    horizons = sorted(summary["horizon_days"].unique())
    x = np.arange(len(horizons))
    width = 0.38
    for ax, pair in zip(axes, pairs, strict=True):
        rows = summary[summary["pair"] == pair]
        for offset, (cut_set, color) in zip(
            (-width / 2, width / 2),
            (("all_cuts", CUT_COLOR), ("first_cuts", FIRST_CUT_COLOR)),
            strict=True,
        ):
            part = rows[rows["cut_set"] == cut_set].set_index("horizon_days").reindex(horizons)
            values = part["avg_relative_return"].astype(float).fillna(0.0)
            bars = ax.bar(x + offset, values, width, color=color, label=CUT_SET_LABELS[cut_set])
            counts = part["n_events"].fillna(0).astype(int)
            ax.bar_label(bars, labels=[f"n={n}" for n in counts], fontsize=7, padding=2)
        ax.axhline(0, color="gray", lw=0.6)
        ax.set_xticks(x, [f"{h}d" for h in horizons])
        ax.set_xlabel("trading days after the cut")
        ax.set_title(pair, fontsize=10)
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    axes[0].set_ylabel("avg small minus large return")
    axes[0].legend(fontsize=8, frameon=False)
    figure.suptitle("Do small caps beat large caps after the Fed cuts?")
    return figure


def sector_heatmap(sectors: pd.DataFrame) -> Figure:
    """Sectors x recent months, coloured by return relative to the bucket's benchmark.

    The colour scale is symmetric around zero so green and red mean the same size of
    out- or under-performance; one panel per size bucket (large: S&P, small: Russell).
    """
    buckets = sorted(sectors["size_bucket"].unique()) if not sectors.empty else []
    n_sectors = max(sectors.groupby("size_bucket")["sector"].nunique().max(), 1) if buckets else 1
    figure = Figure(
        figsize=(11, 1.2 + 0.34 * n_sectors * max(len(buckets), 1)), layout="constrained"
    )
    if not buckets:
        return _empty(figure, figure.add_subplot(), "no sector rotation data")
    months = sorted(sectors["month_label"].unique())
    axes = figure.subplots(len(buckets), 1, squeeze=False, sharex=True)[:, 0]
    limit = float(np.nanmax(np.abs(sectors["relative_to_benchmark"].astype(float))))
    limit = limit if limit > 0 else 0.01
    image = None
    for ax, bucket in zip(axes, buckets, strict=True):
        grid = (
            sectors[sectors["size_bucket"] == bucket]
            .pivot_table(
                index="sector",
                columns="month_label",
                values="relative_to_benchmark",
                aggfunc="first",
            )
            .reindex(columns=months)
            .astype(float)
        )
        image = ax.imshow(grid.values, cmap="RdYlGn", vmin=-limit, vmax=limit, aspect="auto")
        ax.set_yticks(range(len(grid.index)), grid.index, fontsize=8)
        for (i, j), value in np.ndenumerate(grid.values):
            if not np.isnan(value):
                ax.text(j, i, f"{value:+.1%}", ha="center", va="center", fontsize=6.5)
        ax.set_title(f"{bucket} caps: sector return minus benchmark", fontsize=10)
    axes[-1].set_xticks(range(len(months)), months, fontsize=8, rotation=45)
    figure.colorbar(image, ax=list(axes), format=PercentFormatter(1.0), shrink=0.8)
    return figure
