"""One self-contained HTML page: inline CSS, charts as base64 data URIs, no scripts.

Nothing is fetched when the page opens (no CDN, fonts or JavaScript), so it can be
mailed, archived or opened offline and always shows what the build saw.
"""

from __future__ import annotations

import base64
import html
import math
from collections.abc import Callable, Mapping, Sequence
from typing import NamedTuple

import pandas as pd

from dagster_project.lib.report.charts import SYNTHETIC_LABEL, Chart

VERDICT_COLORS = {
    "supported": ("#d1e7dd", "#0f5132"),
    "contradicted": ("#f8d7da", "#842029"),
    "no_data": ("#e2e3e5", "#41464b"),
}
"""Verdict -> (background, text): green, red, grey, each pair above 7:1 contrast."""
VERDICT_TEXT = {"no_data": "no data"}
"""How a verdict reads on the page; the class (``verdict-no_data``) keeps the stored word."""

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 2rem auto;
       max-width: 1100px; color: #222; padding: 0 1rem; }
header { border-bottom: 2px solid #ddd; margin-bottom: 1.5rem; }
.synthetic { background: #fff3cd; border: 2px solid #e0a800; color: #7a5a00; padding: .6rem 1rem;
             font-size: 1.2rem; font-weight: 700; margin: 1rem 0; }
.meta { color: #555; font-size: .9rem; }
figure { margin: 0 0 2rem 0; }
figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { color: #555; font-size: .9rem; }
.figures td, .figures th { padding: .2rem .8rem; text-align: left; }
table.claims { border-collapse: collapse; font-size: .85rem; width: 100%; }
table.claims th, table.claims td { border: 1px solid #ddd; padding: .3rem .5rem;
                                   vertical-align: top; }
table.claims th { background: #f5f5f5; }
table.claims td.number { text-align: right; white-space: nowrap;
                         font-variant-numeric: tabular-nums; }
table.claims td.date { white-space: nowrap; }
.figures td { font-variant-numeric: tabular-nums; font-weight: 600; }
""" + "".join(
    f".verdict-{verdict} {{ background: {bg}; color: {fg}; font-weight: 600; }}\n"
    for verdict, (bg, fg) in VERDICT_COLORS.items()
)

CLAIM_COLUMNS = {
    "claim_id": "Claim",
    "claim_text": "Text",
    "subject": "Subject",
    "claimed_value": "Claimed",
    "measured_value": "Measured",
    "measured_from": "From",
    "measured_to": "To",
    "verdict": "Verdict",
}


NUMBER_COLUMNS = {"claimed_value", "measured_value"}
DATE_COLUMNS = {"measured_from", "measured_to"}


def _is_missing(value) -> bool:
    return value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value))


def _signed(number: float, digits: int) -> str:
    """``number`` rounded, with ``+`` or ``-`` unless it rounds to zero: a relative figure
    reads as a direction, and ``+0.0`` or ``-0`` would claim one that is not there."""
    text = f"{abs(number):,.{digits}f}"
    if float(text.replace(",", "")) == 0:
        return text
    return ("+" if number > 0 else "-") + text


def percent(fraction: float, digits: int = 1) -> str:
    """A fraction (how the marts store returns and discounts) as a signed percent:
    ``-0.4708`` -> ``-47.1%``."""
    return f"{_signed(fraction * 100, digits)}%"


def basis_points(fraction: float) -> str:
    """A fraction as signed basis points, for spreads: ``-0.083`` -> ``-830 bp``."""
    return f"{_signed(fraction * 10_000, 0)} bp"


def percent_and_bp(fraction: float) -> str:
    """A relative return both ways: ``-8.3% (-830 bp)``; commentary quotes either."""
    return f"{percent(fraction)} ({basis_points(fraction)})"


def rate_level(points: float) -> str:
    """A rate stored in percent points (the Fed's target, a yield) as ``5.50%``."""
    return f"{points:.2f}%"


def rate_change_bp(points: float) -> str:
    """A change of a rate stored in percent points, in basis points: ``-0.5`` -> ``-50 bp``."""
    return f"{_signed(points * 100, 0)} bp"


def yes_no(value: float) -> str:
    """A 0/1 flag (``record_high``) as ``yes``/``no`` rather than ``1.0000``."""
    return "yes" if value >= 0.5 else "no"


def plain(value: float) -> str:
    """Fallback for a number without a known unit: 4 decimals, as SQL would show it."""
    return f"{value:.4f}"


class FigureFormat(NamedTuple):
    label: str
    format: Callable[[float], str]


KEY_FIGURES = {
    "pe_discount": FigureFormat("Small-cap P/E discount to large caps", percent),
    "pe_discount_ex_losses": FigureFormat(
        "Small-cap P/E discount, loss-makers left out (FTSE Russell convention)", percent
    ),
    "mag7_share": FigureFormat(
        "Magnificent 7 share of the large-cap universe's return, latest year", percent
    ),
    "mag7_share_of_benchmark": FigureFormat(
        "Magnificent 7 contribution over SPY's return, latest year", percent
    ),
    "iwm_spy_rel_return_3m": FigureFormat("IWM vs SPY, 3 months", percent_and_bp),
    "iwm_spy_rel_return_12m": FigureFormat("IWM vs SPY, 12 months", percent_and_bp),
    "fed_target_upper": FigureFormat("Fed funds target range, upper bound", rate_level),
}
"""Key figure (the metadata key, numeric in Dagster) -> how a reader sees it."""

CLAIM_FORMATS: dict[str, Callable[[float], str]] = {
    "return": percent,
    "drawdown": percent,
    "rally": percent,
    "pe_discount": percent,
    "relative_return": percent_and_bp,
    "rate": rate_level,
    "rate_change": rate_change_bp,
    "record_high": yes_no,
}
"""Claim metric -> how its claimed and measured values read (units as in claims.yaml)."""

COMPARISON_PREFIX = {">=": "≥ ", "<=": "≤ "}


def key_figure(name: str, value: float) -> tuple[str, str]:
    """(label, formatted value) of a key figure; an unknown key shows as itself, 4 decimals."""
    spec = KEY_FIGURES.get(name, FigureFormat(name, plain))
    return spec.label, spec.format(value)


def claim_value(metric: str | None, value, comparison: str | None = None) -> str:
    """A claimed or measured value in its metric's unit; a claimed bound gets its ``≥``."""
    if _is_missing(value):
        return ""
    text = CLAIM_FORMATS.get(metric or "", plain)(float(value))
    return COMPARISON_PREFIX.get(comparison or "", "") + text


def png_data_uri(png: bytes) -> str:
    """A ``data:`` URI for a PNG, so the image travels inside the page (or metadata)."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def chart_markdown(chart: Chart, synthetic: bool = False) -> str:
    """The chart as Markdown for Dagster metadata, the image first: the UI opens it in a
    dialog behind "[Show Markdown]", so the picture is what that click should show. The
    screen-resolution copy, since the UI shows images at pixel size."""
    label = f"**{SYNTHETIC_LABEL}**: not market figures. " if synthetic else ""
    return (
        f"![{chart.title}]({png_data_uri(chart.screen_png or chart.png)})\n\n"
        f"{label}**{chart.title}**: {chart.caption}"
    )


def figures_markdown(figures: Mapping[str, float]) -> str:
    """The key figures as a short Markdown list with labels and units (a few hundred
    characters: short enough for the UI to show inline next to the raw numbers)."""
    return "\n".join(
        "- **{}**: {}".format(*key_figure(name, value)) for name, value in figures.items()
    )


def _cell(value) -> str:
    """A table cell's text: dates as ``YYYY-MM-DD``, numbers to 4 decimals, gaps empty."""
    if _is_missing(value):
        return ""
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def claims_table(claims: pd.DataFrame) -> str:
    """The ledger as an HTML table, one row per claim, verdict cells coloured by verdict."""
    if claims.empty:
        return "<p>No claims in the ledger.</p>"
    head = "".join(f"<th>{html.escape(label)}</th>" for label in CLAIM_COLUMNS.values())
    rows = []
    for record in claims.to_dict("records"):
        cells = []
        for column in CLAIM_COLUMNS:
            text, css = _cell(record.get(column)), ""
            if column in NUMBER_COLUMNS:
                comparison = record.get("comparison") if column == "claimed_value" else None
                text = claim_value(record.get("metric"), record.get(column), comparison)
                css = ' class="number"'
            elif column in DATE_COLUMNS:
                css = ' class="date"'  # a date broken at its hyphens reads as two numbers
            elif column == "verdict":
                css = f' class="verdict-{html.escape(text)}"'
                reason = _cell(record.get("no_data_reason"))
                text = VERDICT_TEXT.get(text, text)
                text = f"{text}: {reason}" if reason else text
            cells.append(f"<td{css}>{html.escape(text)}</td>")
        rows.append(f'<tr id="claim-{html.escape(str(record["claim_id"]))}">{"".join(cells)}</tr>')
    body = "".join(rows)
    return f'<table class="claims"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def verdict_counts(claims: pd.DataFrame) -> str:
    """``3 supported, 1 contradicted, 0 no data``: the ledger at a glance."""
    counts = claims["verdict"].value_counts().to_dict() if not claims.empty else {}
    return ", ".join(
        f"{counts.get(v, 0)} {VERDICT_TEXT.get(v, v)}"
        for v in ("supported", "contradicted", "no_data")
    )


def figures_table(figures: Mapping[str, float]) -> str:
    """The key figures as a two-column table of labels and values with units; each row's
    tooltip names the stored figure (a fraction or percent points, as SQL returns it)."""
    rows = []
    for name, value in figures.items():
        label, text = key_figure(name, value)
        rows.append(
            f'<tr title="{html.escape(name)} = {value:.4f}"><th>{html.escape(label)}</th>'
            f"<td>{html.escape(text)}</td></tr>"
        )
    return f'<table class="figures">{"".join(rows)}</table>'


def render_report(
    *,
    sources: Sequence[str],
    synthetic: bool,
    as_of: str,
    generated_at: str,
    warehouse: str,
    charts: Sequence[Chart],
    figures: Mapping[str, float],
    claims: pd.DataFrame,
) -> str:
    """The whole page. Keyword-only so a caller cannot swap two strings by position."""
    source_text = ", ".join(sources) or "unknown"
    banner = (
        f'<div class="synthetic" id="synthetic">{SYNTHETIC_LABEL}: generated by the sample '
        "source; the market is not real (the FOMC decisions are), so figures and verdicts "
        "illustrate the method, not the market.</div>"
        if synthetic
        else ""
    )
    sections = "".join(
        f'<section id="{html.escape(c.name)}"><h2>{html.escape(c.title)}</h2><figure>'
        f'<img alt="{html.escape(c.title)}" src="{png_data_uri(c.png)}">'
        f"<figcaption>{html.escape(c.caption)}</figcaption></figure></section>"
        for c in charts
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Small vs large caps and the Fed: rotation report</title>
<style>{STYLE}</style>
</head>
<body>
<header>
<h1>Small vs large caps and the Fed</h1>
{banner}
<p class="meta">Source: <strong>{html.escape(source_text)}</strong>
 &middot; data to {html.escape(as_of)} &middot; generated {html.escape(generated_at)}
 &middot; warehouse {html.escape(warehouse)}</p>
</header>
<section id="key-figures"><h2>Key figures</h2>{figures_table(figures)}</section>
{sections}
<section id="claims"><h2>Claims ledger</h2>
<p>{html.escape(verdict_counts(claims))}</p>
{claims_table(claims)}
</section>
</body>
</html>
"""
