"""Write the report: read the published copy, render the charts, save the HTML and PNGs.

The CLI (``rotation report``) and the Dagster asset both call ``write_report``, so the
report a person runs and the one the nightly build attaches are the same page.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from dagster_project.lib.report import charts, queries
from dagster_project.lib.report.charts import Chart
from dagster_project.lib.report.html import render_report
from dagster_project.lib.warehouse.store import WarehouseError, connect

REPORT_FILE = "rotation_report.html"


_DRAWN: OrderedDict[tuple, Chart] = OrderedDict()
_DRAWN_KEPT = 10


def frames_digest(*frames: pd.DataFrame) -> str:
    """A digest of the frames' columns and values: equal frames, equal digest."""
    digest = hashlib.sha1()
    for frame in frames:
        digest.update(repr(list(frame.columns)).encode())
        digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return digest.hexdigest()


def drawn_once(
    name: str, frames: tuple[pd.DataFrame, ...], synthetic: bool, draw: Callable[[], Chart]
) -> Chart:
    """``draw()``, or the chart this process already drew from equal frames.

    A build draws the relative strength and P/E charts twice from the same data: in the dbt
    step (the marts' materializations carry their chart) and in the report. Drawing one
    takes about a second; a digest of its frames takes milliseconds.
    """
    key = (name, synthetic, frames_digest(*frames))
    if key in _DRAWN:
        _DRAWN.move_to_end(key)
        return _DRAWN[key]
    chart = _DRAWN[key] = draw()
    while len(_DRAWN) > _DRAWN_KEPT:
        _DRAWN.popitem(last=False)
    return chart


class ReportError(RuntimeError):
    """The report cannot be written; the message says what to run first."""


@dataclass(frozen=True)
class ReportResult:
    html_path: Path
    png_paths: list[Path]
    charts: list[Chart]
    figures: dict[str, float]
    sources: list[str]
    synthetic: bool
    as_of: str


def relative_strength(
    relative: pd.DataFrame, policy: pd.DataFrame, cuts: pd.DataFrame, synthetic: bool = False
) -> Chart:
    return drawn_once(
        "relative_strength",
        (relative, policy, cuts),
        synthetic,
        lambda: charts.render_chart(
            "relative_strength",
            "Relative strength and the Fed",
            "Total return ratio of small to large caps (rising: small caps outperform), the "
            "Fed's target range on the right axis, cuts as vertical lines (solid red: the first "
            "cut of an easing cycle).",
            charts.relative_strength_chart(relative, policy, cuts),
            synthetic,
        ),
    )


METHOD_TEXT = {
    "reconstitution": "reconstituted each June by market cap rank (point in time)",
    "etf_holdings": "the ETF holdings files in force",
    "static_list": "today's universe list applied to the past (no ranking yet)",
    "none": "no members",
}


def membership_caption(pe: pd.DataFrame) -> str:
    """Which membership the baskets used over the charted days, in words."""
    spans = queries.membership_methods(pe)
    if not spans:
        return ""
    parts = [
        f"{METHOD_TEXT.get(method.split('+')[0], method)} ({first:%Y-%m-%d} to {last:%Y-%m-%d})"
        for method, (first, last) in spans.items()
    ]
    return " Baskets: " + "; ".join(parts) + "."


def pe_discount(pe: pd.DataFrame, synthetic: bool = False) -> Chart:
    return drawn_once(
        "pe_discount",
        (pe,),
        synthetic,
        lambda: charts.render_chart(
            "pe_discount",
            "Small-cap P/E discount",
            "Small-cap basket trailing P/E over large-cap basket trailing P/E, minus 1: with "
            "loss-makers counted (S&P's index convention) and left out (FTSE Russell's), with "
            "the median and 10th-90th percentile band over all days up to each date (after three "
            "years of history)." + membership_caption(pe),
            charts.pe_discount_chart(pe),
            synthetic,
        ),
    )


def megacap_contribution(megacap: pd.DataFrame, synthetic: bool = False) -> Chart:
    return drawn_once(
        "megacap_contribution",
        (megacap,),
        synthetic,
        lambda: charts.render_chart(
            "megacap_contribution",
            "Magnificent 7 share of large-cap gains",
            "Each year, the Magnificent 7's cap-weighted contribution (start-of-year weights over "
            "every large member valid at the start) divided by that universe's return, and the "
            "same contribution divided by SPY's return. Gaps: a return too close to zero to divide "
            "by.",
            charts.megacap_share_chart(megacap),
            synthetic,
        ),
    )


def rate_cut_event_study(summary: pd.DataFrame, synthetic: bool = False) -> Chart:
    return drawn_once(
        "rate_cut_event_study",
        (summary,),
        synthetic,
        lambda: charts.render_chart(
            "rate_cut_event_study",
            "After the Fed cuts",
            "Average small minus large total return from the close before each cut, by horizon "
            "in trading days: all cuts vs first cuts of an easing cycle (n = complete events).",
            charts.event_study_chart(summary),
            synthetic,
        ),
    )


def sector_rotation(sectors: pd.DataFrame, synthetic: bool = False) -> Chart:
    return drawn_once(
        "sector_rotation",
        (sectors,),
        synthetic,
        lambda: charts.render_chart(
            "sector_rotation",
            "Sector rotation",
            f"Cap-weighted sector return minus the size bucket's benchmark, last "
            f"{queries.HEATMAP_MONTHS} months.",
            charts.sector_heatmap(sectors),
            synthetic,
        ),
    )


def render_charts(data: queries.ReportData) -> list[Chart]:
    """Every chart of the report, in page order, stamped when the data is the sample."""
    return [
        relative_strength(data.relative, data.policy, data.cuts, data.synthetic),
        pe_discount(data.pe, data.synthetic),
        megacap_contribution(data.megacap, data.synthetic),
        rate_cut_event_study(data.event_summary, data.synthetic),
        sector_rotation(data.sectors, data.synthetic),
    ]


def read_published(published: Path) -> queries.ReportData:
    """Read the report's frames from the published copy (read-only: no writer lock taken)."""
    if not Path(published).exists():
        raise ReportError(
            f"nothing is published yet ({published} does not exist): "
            "run `uv run rotation build` first"
        )
    try:
        with connect(published, read_only=True) as con:
            return queries.read_report_data(con)
    except duckdb.CatalogException as exc:
        raise ReportError(
            f"{published} lacks a mart the report needs ({exc}); "
            "run `uv run rotation build` to rebuild and publish"
        ) from exc
    except WarehouseError as exc:
        raise ReportError(str(exc)) from exc


def _write_atomic(path: Path, payload: bytes) -> None:
    """Write beside the target and rename, so a reader never opens a half-written file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(payload)
    os.replace(tmp, path)


def write_report(published: Path, out_dir: Path) -> ReportResult:
    """Render every chart from the published copy into ``out_dir``: HTML page plus PNGs."""
    data = read_published(published)
    rendered = render_charts(data)
    figures = queries.key_figures(data)
    as_of = data.as_of.strftime("%Y-%m-%d") if data.as_of is not None else "unknown"
    page = render_report(
        sources=data.sources,
        synthetic=data.synthetic,
        as_of=as_of,
        generated_at=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        warehouse=str(published),
        charts=rendered,
        figures=figures,
        claims=data.claims,
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    png_paths = []
    for chart in rendered:
        path = out_dir / f"{chart.name}.png"
        _write_atomic(path, chart.png)
        png_paths.append(path)
    html_path = out_dir / REPORT_FILE
    _write_atomic(html_path, page.encode("utf-8"))
    return ReportResult(
        html_path=html_path,
        png_paths=png_paths,
        charts=rendered,
        figures=figures,
        sources=data.sources,
        synthetic=data.synthetic,
        as_of=as_of,
    )
