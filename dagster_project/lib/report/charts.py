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
from matplotlib import colormaps
from matplotlib.colors import Normalize, to_rgb
from matplotlib.figure import Figure
from matplotlib.text import Text
from matplotlib.ticker import PercentFormatter
from PIL import Image

SYNTHETIC_LABEL = "Synthetic sample data"

DPI = 180
"""Print resolution of the PNG files and the report page: a 10-inch chart is ~1800 px wide,
sharp on paper and on high-density screens (the page scales it down to its width)."""
SCREEN_DPI = 100
"""Resolution of the copy shown in the Dagster UI, which displays images at their pixel size
(no scaling): ~1000 px fits its dialog, and the event log stores half the bytes."""
PAGE_WIDTH_PX = 1100
"""Width the report page shows a chart at (its content width, ``html.STYLE``)."""
MIN_TEXT_PX = 10
"""Smallest text, in CSS pixels at ``PAGE_WIDTH_PX``, that reads without zooming."""
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
    screen_png: bytes | None = None
    """A smaller rendering for the Dagster UI (``png`` when absent)."""


NEAR_WHITE = 250
"""A palette colour with every channel at least this is the background, made pure white."""


def palette_png(image: Image.Image) -> bytes:
    """An RGB image as a palette PNG: a chart has few colours, and 256 of them look the
    same as full colour at under half the bytes, which the page (base64) and the Dagster
    event log carry. The fast octree quantizer takes about a third of median cut's time on
    a chart; it averages each colour box, so the white background comes out a shade off
    (254), and the palette entries that close to white are set back to white."""
    quantized = image.quantize(256, method=Image.Quantize.FASTOCTREE)
    palette = quantized.getpalette()
    for start in range(0, len(palette), 3):
        if min(palette[start : start + 3]) >= NEAR_WHITE:
            palette[start : start + 3] = [255, 255, 255]
    quantized.putpalette(palette)
    out = io.BytesIO()
    quantized.save(out, format="PNG", optimize=True)
    return out.getvalue()


def figure_png(figure: Figure, dpi: int = DPI) -> bytes:
    """PNG bytes of a figure (Agg canvas; the figure is not kept anywhere), as a palette PNG."""
    buffer = io.BytesIO()
    # uncompressed: this PNG is only read back here, to be quantized and then compressed
    figure.savefig(
        buffer,
        format="png",
        dpi=dpi,
        bbox_inches="tight",
        facecolor="white",
        pil_kwargs={"compress_level": 0},
    )
    return palette_png(Image.open(buffer).convert("RGB"))


def stamp_synthetic(figure: Figure) -> Figure:
    """Write the synthetic label above the chart, so a PNG copied out of the report (into
    a slide, a chat) still says its market is made up."""
    figure.text(
        0.0,
        1.0,
        f"{SYNTHETIC_LABEL}: not market figures",
        ha="left",
        va="bottom",
        fontsize=10,
        fontweight="bold",
        color="#5c4300",
        bbox={"boxstyle": "square,pad=0.3", "facecolor": "#fff3cd", "edgecolor": "#e0a800"},
    )
    return figure


def screen_copy(png: bytes) -> bytes:
    """The print PNG scaled down to ``SCREEN_DPI``: the same picture at the UI's size, for a
    third of the cost of drawing the figure again at the lower resolution."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    size = tuple(max(1, round(side * SCREEN_DPI / DPI)) for side in image.size)
    return palette_png(image.resize(size, Image.Resampling.LANCZOS))


def render_chart(name: str, title: str, caption: str, figure: Figure, synthetic: bool) -> Chart:
    """A Chart at print resolution plus its screen copy, stamped when the data is synthetic."""
    if synthetic:
        stamp_synthetic(figure)
    png = figure_png(figure)
    return Chart(name, title, caption, png, screen_copy(png))


def png_width(png: bytes) -> int:
    """Pixel width from a PNG's header (IHDR is always the first chunk)."""
    return int.from_bytes(png[16:20], "big")


def shown_px(points: float, png: bytes, dpi: int = DPI, page_px: int = PAGE_WIDTH_PX) -> float:
    """Height in CSS pixels of ``points``-sized text once the page scales the PNG to fit its
    width: what a reader sees, unlike the point size, which says nothing about scaling."""
    scale = min(1.0, page_px / png_width(png))
    return points * dpi / 72 * scale


def visible_text_sizes(figure: Figure) -> list[float]:
    """Font sizes (points) of every visible, non-empty text drawn in the figure."""
    return [
        t.get_fontsize()
        for t in figure.findobj(Text)
        if t.get_visible() and t.get_text().strip() and t.get_figure() is not None
    ]


def _luminance(color) -> float:
    """WCAG relative luminance of a colour (any matplotlib colour spec)."""
    channels = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in to_rgb(color)]
    return 0.2126 * channels[0] + 0.7152 * channels[1] + 0.0722 * channels[2]


def contrast_ratio(one, other) -> float:
    """WCAG contrast ratio of two colours, 1 (none) to 21 (black on white); 4.5 is the
    minimum for body text (AA)."""
    high, low = sorted((_luminance(one), _luminance(other)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def text_color_on(background) -> str:
    """Black or white, whichever reads better on ``background``: white on dark heatmap
    cells, black on light ones, never black on dark red."""
    return (
        "black"
        if contrast_ratio("black", background) >= contrast_ratio("white", background)
        else "white"
    )


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
    when the Fed starts cutting" claim is about, later cuts dotted grey. Without Fed data
    for the period there is no second axis (an empty one would read as a zero rate), and
    the chart says so.
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
    window = policy[(policy["calendar_date"] >= first) & (policy["calendar_date"] <= last)]
    window = window.dropna(subset=["target_upper"])
    more_handles, more_labels = [], []
    if window.empty:
        ax.text(
            0.99,
            0.97,
            "no Fed target range data for this period",
            transform=ax.transAxes,
            ha="right",
            va="top",
            color="gray",
        )
    else:
        rates = ax.twinx()
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
        more_handles, more_labels = rates.get_legend_handles_labels()
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
    ax.legend(
        handles + more_handles[:1],
        labels + more_labels[:1],
        loc="upper center",
        bbox_to_anchor=(0.5, -0.08),
        ncol=5,
        fontsize=9,
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
    """The small/large P/E discount against its own history: median and 10-90% band,
    under both index conventions (with loss-makers, and without them when the frame
    has ``discount_ex_losses``). The band is drawn only where the mart ranks the day
    (``discount_percentile`` known: after its minimum history), so the chart never
    shows a percentile the mart itself withholds."""
    figure = Figure(figsize=WIDE)
    ax = figure.add_subplot()
    if pe.empty:
        return _empty(figure, ax, "no P/E discount data")
    pe = pe.sort_values("trade_date")
    band = percentile_band(pe.dropna(subset=["discount"]))
    if "discount_percentile" in pe:
        ranked = pe.dropna(subset=["discount"])["discount_percentile"].notna().to_numpy()
        band = band[ranked]
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
        label="discount, loss-makers counted (S&P convention)",
    )
    if "discount_ex_losses" in pe and pe["discount_ex_losses"].notna().any():
        ax.plot(
            pe["trade_date"],
            pe["discount_ex_losses"],
            color="#e6550d",
            lw=1.0,
            label="discount, loss-makers left out (FTSE Russell convention)",
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
    ax.legend(loc="best", fontsize=9, frameon=False)
    ax.set_title("Small-cap P/E discount to large caps")
    return figure


def megacap_share_chart(megacap: pd.DataFrame) -> Figure:
    """The Magnificent 7's yearly contribution as a share of the large universe's
    return and of SPY's, side by side: the same contribution over two denominators,
    since a share of the narrower universe's return overstates the share of the index.
    A missing share (its denominator near zero) is a gap, not a zero bar."""
    figure = Figure(figsize=WIDE)
    ax = figure.add_subplot()
    if megacap.empty:
        return _empty(figure, ax, "no Magnificent 7 contribution data")
    years = megacap.sort_values("period_start")
    x = np.arange(len(years))
    width = 0.38
    for offset, column, color, label in (
        (-width / 2, "mag7_share", "#6baed6", "share of the large universe's return"),
        (width / 2, "mag7_share_of_benchmark", "#08519c", "share of SPY's return"),
    ):
        ax.bar(x + offset, years[column].astype(float), width, color=color, label=label)
    ax.axhline(0, color="gray", lw=0.6)
    ax.axhline(1, color="gray", lw=0.6, ls=":")
    step = max(1, len(years) // 20)
    ax.set_xticks(x[::step], years["period_label"].iloc[::step], fontsize=9, rotation=45)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.legend(loc="best", fontsize=9, frameon=False)
    ax.set_title("Magnificent 7 contribution to large-cap returns, by year")
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
            ax.bar_label(bars, labels=[f"n={n}" for n in counts], fontsize=8, padding=2)
        ax.axhline(0, color="gray", lw=0.6)
        ax.set_xticks(x, [f"{h}d" for h in horizons])
        ax.set_xlabel("trading days after the cut")
        ax.set_title(pair, fontsize=10)
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    axes[0].set_ylabel("avg small minus large return")
    axes[0].legend(fontsize=9, frameon=False)
    figure.suptitle("Do small caps beat large caps after the Fed cuts?")
    return figure


def cell_label(value: float) -> str:
    """A heatmap cell's signed percent, unsigned when it rounds to zero (``+0.0%`` would
    show a direction that is not there)."""
    text = f"{value:+.1%}"
    return text[1:] if text[1:] == "0.0%" else text


def sector_heatmap(sectors: pd.DataFrame) -> Figure:
    """Sectors x recent months, coloured by return relative to the bucket's benchmark.

    The colour scale is symmetric around zero so green and red mean the same size of
    out- or under-performance; one panel per size bucket (large: S&P, small: Russell).
    Each cell's number is black or white, whichever contrasts more with the cell.
    """
    buckets = sorted(sectors["size_bucket"].unique()) if not sectors.empty else []
    n_sectors = max(sectors.groupby("size_bucket")["sector"].nunique().max(), 1) if buckets else 1
    figure = Figure(
        figsize=(11, 1.4 + 0.4 * n_sectors * max(len(buckets), 1)), layout="constrained"
    )
    if not buckets:
        return _empty(figure, figure.add_subplot(), "no sector rotation data")
    months = sorted(sectors["month_label"].unique())
    axes = figure.subplots(len(buckets), 1, squeeze=False, sharex=True)[:, 0]
    limit = float(np.nanmax(np.abs(sectors["relative_to_benchmark"].astype(float))))
    limit = limit if limit > 0 else 0.01
    cmap, norm = colormaps["RdYlGn"], Normalize(vmin=-limit, vmax=limit)
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
        image = ax.imshow(grid.values, cmap=cmap, norm=norm, aspect="auto")
        ax.set_yticks(range(len(grid.index)), grid.index, fontsize=9)
        for (i, j), value in np.ndenumerate(grid.values):
            if not np.isnan(value):
                ax.text(
                    j,
                    i,
                    cell_label(value),
                    ha="center",
                    va="center",
                    fontsize=8,
                    color=text_color_on(cmap(norm(value))),
                )
        ax.set_title(f"{bucket} caps: sector return minus benchmark", fontsize=11)
    axes[-1].set_xticks(range(len(months)), months, fontsize=9, rotation=45)
    figure.colorbar(image, ax=list(axes), format=PercentFormatter(1.0), shrink=0.8)
    return figure
