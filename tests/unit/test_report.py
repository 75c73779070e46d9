"""The report's pure helpers on small hand-made frames: charts, HTML, key figures, docs."""

from __future__ import annotations

import base64
import re

import pandas as pd
import pytest

from dagster_project.cli import main
from dagster_project.lib.report import charts, queries
from dagster_project.lib.report.charts import Chart
from dagster_project.lib.report.docs import external_assets, make_offline
from dagster_project.lib.report.html import (
    SYNTHETIC_LABEL,
    VERDICT_COLORS,
    basis_points,
    chart_markdown,
    claim_value,
    key_figure,
    percent,
    percent_and_bp,
    rate_change_bp,
    rate_level,
    render_report,
    yes_no,
)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
DAYS = pd.bdate_range("2024-06-03", periods=60)


def relative_frame() -> pd.DataFrame:
    rows = []
    for pair, drift in (("IWM/SPY", 0.001), ("^RUT/^GSPC", 0.0012)):
        for i, day in enumerate(DAYS):
            rows.append(
                {
                    "pair": pair,
                    "trade_date": day,
                    "ratio": 1 + drift * i,
                    "rel_return_3m": None if i < 40 else 0.01 * (i - 40),
                    "rel_return_12m": None,
                }
            )
    return pd.DataFrame(rows)


def policy_frame() -> pd.DataFrame:
    days = pd.date_range(DAYS[0], DAYS[-1], freq="D")
    upper = [5.5 if d < pd.Timestamp("2024-07-15") else 5.0 for d in days]
    return pd.DataFrame(
        {"calendar_date": days, "target_lower": [u - 0.25 for u in upper], "target_upper": upper}
    )


def cuts_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "decision_date": pd.to_datetime(["2024-07-15", "2024-08-01"]),
            "change_bp": [-50, -25],
            "is_first_cut_of_cycle": [True, False],
        }
    )


def pe_frame() -> pd.DataFrame:
    discount = [-0.30 - 0.002 * i for i in range(len(DAYS))]
    return pd.DataFrame(
        {
            "trade_date": DAYS,
            "discount": discount,
            "discount_percentile": 0.5,
            "discount_median_to_date": pd.Series(discount).expanding().median(),
        }
    )


def megacap_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "period_label": ["2022", "2023", "2024"],
            "period_start": pd.to_datetime(["2022-01-01", "2023-01-01", "2024-01-01"]),
            "mag7_share": [0.5, None, 1.39],
            "mag7_share_of_benchmark": [0.3, 0.6, None],
        }
    )


def summary_frame() -> pd.DataFrame:
    rows = [
        {
            "pair": pair,
            "cut_set": cut_set,
            "horizon_days": h,
            "n_events": n,
            "avg_relative_return": 0.001 * h,
        }
        for pair in ("IWM/SPY", "^RUT/^GSPC")
        for cut_set, n in (("all_cuts", 6), ("first_cuts", 1))
        for h in (1, 5, 21)
    ]
    return pd.DataFrame(rows)


def sectors_frame() -> pd.DataFrame:
    rows = [
        {
            "month_start": pd.Timestamp(f"2025-{m:02d}-01"),
            "month_label": f"2025-{m:02d}",
            "size_bucket": bucket,
            "sector": sector,
            "relative_to_benchmark": 0.01 * m * (1 if sector == "Energy" else -1),
        }
        for bucket in ("large", "small")
        for sector in ("Energy", "Financials")
        for m in (1, 2, 3)
    ]
    return pd.DataFrame(rows)


def claims_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "claim_id": ["rut-aug-2025", "fed-cut", "no-prices"],
            "claim_text": ["The Russell 2000 surged", "The Fed cut 50 bp", "A claim <b>"],
            "metric": ["return", "rate_change", "return"],
            "comparison": [">=", "=", "="],
            "subject": ["^RUT", "DFEDTARU", "NOPE"],
            "claimed_value": [0.073, -0.5, 0.1],
            "measured_value": [0.081, -0.25, None],
            "measured_from": pd.to_datetime(["2025-07-31", "2024-09-17", None]),
            "measured_to": pd.to_datetime(["2025-08-29", "2024-09-18", None]),
            "verdict": ["supported", "contradicted", "no_data"],
            "no_data_reason": [None, None, "unknown ticker 'NOPE'"],
        }
    )


@pytest.mark.parametrize(
    "figure",
    [
        lambda: charts.relative_strength_chart(relative_frame(), policy_frame(), cuts_frame()),
        lambda: charts.pe_discount_chart(pe_frame()),
        lambda: charts.event_study_chart(summary_frame()),
        lambda: charts.sector_heatmap(sectors_frame()),
        lambda: charts.megacap_share_chart(megacap_frame()),
        # Empty inputs still give a chart (saying there is no data), never an exception.
        lambda: charts.relative_strength_chart(
            relative_frame().iloc[0:0], policy_frame(), cuts_frame()
        ),
        lambda: charts.pe_discount_chart(pe_frame().iloc[0:0]),
        lambda: charts.event_study_chart(summary_frame().iloc[0:0]),
        lambda: charts.sector_heatmap(sectors_frame().iloc[0:0]),
        lambda: charts.megacap_share_chart(megacap_frame().iloc[0:0]),
    ],
    ids=[
        "relative",
        "pe",
        "events",
        "sectors",
        "megacap",
        "relative0",
        "pe0",
        "events0",
        "sectors0",
        "megacap0",
    ],
)
def test_every_chart_renders_a_png(figure):
    png = charts.figure_png(figure())
    assert png.startswith(PNG_MAGIC)
    assert len(png) > 1_000


def test_percentile_band_uses_only_the_days_so_far():
    pe = pe_frame()
    band = charts.percentile_band(pe)
    assert band["low"].iloc[0] == band["high"].iloc[0] == pe["discount"].iloc[0]
    # Appending a later extreme day leaves every earlier band value unchanged.
    later = pd.concat(
        [pe, pd.DataFrame({"trade_date": [DAYS[-1] + pd.Timedelta(days=1)], "discount": [-0.9]})]
    )
    pd.testing.assert_frame_equal(
        charts.percentile_band(later).iloc[: len(pe)].reset_index(drop=True),
        band.reset_index(drop=True),
    )


def test_key_figures_are_the_latest_known_values():
    relative = relative_frame()
    figures = {
        **queries.pe_key_figures(pe_frame()),
        **queries.relative_key_figures(relative),
        **queries.policy_key_figures(policy_frame()),
    }
    assert figures == {
        "pe_discount": pytest.approx(-0.30 - 0.002 * 59),
        "iwm_spy_rel_return_3m": pytest.approx(0.19),
        "fed_target_upper": 5.0,
    }  # no 12m figure: the frame has no 12m history, so none is invented


def test_megacap_key_figures_come_from_one_year():
    # 2024 has no share of SPY's return: none is borrowed from 2023.
    assert queries.megacap_key_figures(megacap_frame()) == {"mag7_share": pytest.approx(1.39)}
    assert queries.megacap_key_figures(megacap_frame().iloc[0:0]) == {}


def test_pe_caption_names_the_membership_of_each_period():
    from dagster_project.lib.report.writer import membership_caption

    pe = pe_frame().assign(
        discount_ex_losses=-0.2,
        small_membership_method=["static_list"] * 20 + ["reconstitution"] * 40,
        large_membership_method=["static_list"] * 20 + ["reconstitution"] * 40,
    )
    caption = membership_caption(pe)
    assert caption.index("today's universe list") < caption.index("reconstituted each June")
    assert f"to {DAYS[19]:%Y-%m-%d}" in caption and f"({DAYS[20]:%Y-%m-%d} to" in caption
    assert queries.pe_key_figures(pe)["pe_discount_ex_losses"] == pytest.approx(-0.2)
    assert charts.figure_png(charts.pe_discount_chart(pe)).startswith(PNG_MAGIC)


def render(synthetic: bool, png: bytes) -> str:
    return render_report(
        sources=["sample"] if synthetic else ["live"],
        synthetic=synthetic,
        as_of="2024-08-23",
        generated_at="2024-08-24 06:00 UTC",
        warehouse="/tmp/published/warehouse.duckdb",
        charts=[Chart("pe_discount", "Small-cap P/E discount", "caption", png)],
        figures={"pe_discount": -0.42},
        claims=claims_frame(),
    )


def test_report_embeds_the_png_and_the_claims_and_loads_nothing_from_the_network():
    png = charts.figure_png(charts.pe_discount_chart(pe_frame()))
    page = render(synthetic=True, png=png)
    uris = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
    assert [base64.b64decode(uri) for uri in uris] == [png]
    assert SYNTHETIC_LABEL in page
    assert "Source: <strong>sample</strong>" in page
    for claim_id in claims_frame()["claim_id"]:
        assert f'id="claim-{claim_id}"' in page
    assert '<td class="verdict-supported">supported</td>' in page
    assert '<td class="verdict-no_data">no data: unknown ticker &#x27;NOPE&#x27;</td>' in page
    assert "A claim &lt;b&gt;" in page  # claim text is escaped, never markup
    assert "1 supported, 1 contradicted, 1 no data" in page
    # Values in their metric's unit, not raw fractions: a return in %, a rate change in bp.
    assert '<td class="number">≥ +7.3%</td><td class="number">+8.1%</td>' in page
    assert '<td class="number">-50 bp</td><td class="number">-25 bp</td>' in page
    assert "0.0730" not in page and "-0.5000" not in page
    # Key figures by name and unit; the stored name and number stay in the tooltip.
    assert "<th>Small-cap P/E discount to large caps</th><td>-42.0%</td>" in page
    assert 'title="pe_discount = -0.4200"' in page and ">pe_discount<" not in page
    assert external_assets(page) == []
    assert "<script" not in page


def test_real_data_has_no_synthetic_label():
    page = render(synthetic=False, png=PNG_MAGIC)
    assert SYNTHETIC_LABEL not in page
    assert "Source: <strong>live</strong>" in page


def test_sample_source_is_recognised_as_synthetic():
    assert queries.is_synthetic(["sample"])
    assert not queries.is_synthetic(["live"])
    assert not queries.is_synthetic(["files:/data/mine"])


def test_chart_markdown_embeds_the_image_for_the_dagster_ui():
    chart = Chart("x", "Title", "Caption", PNG_MAGIC)
    text = chart_markdown(chart, synthetic=True)
    # The image comes first: the UI shows the Markdown in a dialog, picture on top.
    assert text.startswith(
        f"![Title](data:image/png;base64,{base64.b64encode(PNG_MAGIC).decode()})"
    )
    assert SYNTHETIC_LABEL in text and "Caption" in text
    assert SYNTHETIC_LABEL not in chart_markdown(chart)


def test_chart_markdown_prefers_the_screen_copy():
    chart = Chart("x", "Title", "Caption", PNG_MAGIC + b"print", PNG_MAGIC + b"screen")
    uri = base64.b64encode(PNG_MAGIC + b"screen").decode()
    assert chart_markdown(chart).startswith(f"![Title](data:image/png;base64,{uri})")


@pytest.mark.parametrize(
    ("formatter", "value", "text"),
    [
        (percent, -0.4708, "-47.1%"),
        (percent, 0.073, "+7.3%"),
        (percent, 0.00004, "0.0%"),  # rounds to zero: no sign claiming a direction
        (percent, -0.00004, "0.0%"),
        (basis_points, -0.083, "-830 bp"),
        (basis_points, 0.0465, "+465 bp"),
        (percent_and_bp, -0.083, "-8.3% (-830 bp)"),
        (rate_level, 5.5, "5.50%"),
        (rate_level, 3.75, "3.75%"),
        (rate_change_bp, -0.5, "-50 bp"),
        (rate_change_bp, 1.0, "+100 bp"),
        (rate_change_bp, 0.0, "0 bp"),
        (yes_no, 1.0, "yes"),
        (yes_no, 0.0, "no"),
    ],
)
def test_number_formats(formatter, value, text):
    assert formatter(value) == text


def test_key_figures_read_as_labels_with_units():
    assert key_figure("pe_discount", -0.4708) == ("Small-cap P/E discount to large caps", "-47.1%")
    assert key_figure("iwm_spy_rel_return_12m", -0.083) == (
        "IWM vs SPY, 12 months",
        "-8.3% (-830 bp)",
    )
    assert key_figure("fed_target_upper", 4.0) == ("Fed funds target range, upper bound", "4.00%")
    assert key_figure("something_new", 0.12345) == ("something_new", "0.1235")  # never fails


@pytest.mark.parametrize(
    ("metric", "value", "comparison", "text"),
    [
        ("return", 0.073, ">=", "≥ +7.3%"),
        ("relative_return", 0.0465, "=", "+4.7% (+465 bp)"),
        ("drawdown", -0.23, None, "-23.0%"),
        ("pe_discount", -0.40, "=", "-40.0%"),
        ("rate", 5.5, "=", "5.50%"),
        ("rate_change", -0.5, "<=", "≤ -50 bp"),
        ("record_high", 1.0, "=", "yes"),
        ("record_high", 0.0, "=", "no"),
        ("return", None, "=", ""),
        ("return", float("nan"), "=", ""),
        (None, 0.5, None, "0.5000"),
    ],
)
def test_claim_values_in_their_metric_unit(metric, value, comparison, text):
    assert claim_value(metric, value, comparison) == text


def test_contrast_picks_white_on_dark_and_black_on_light():
    assert charts.contrast_ratio("black", "white") == pytest.approx(21)
    assert charts.contrast_ratio("#777777", "#777777") == pytest.approx(1)
    assert charts.text_color_on("#a50026") == "white"  # RdYlGn's dark red end
    assert charts.text_color_on("#006837") == "white"  # its dark green end
    assert charts.text_color_on("#ffffbf") == "black"  # its pale yellow middle
    assert charts.text_color_on("#fdae61") == "black"  # light orange


@pytest.mark.parametrize("verdict", sorted(VERDICT_COLORS))
def test_verdict_colours_are_readable(verdict):
    background, text = VERDICT_COLORS[verdict]
    assert charts.contrast_ratio(background, text) >= 7  # WCAG AAA for body text


@pytest.mark.parametrize(
    ("value", "text"), [(0.0123, "+1.2%"), (-0.5, "-50.0%"), (0.0004, "0.0%"), (-0.0004, "0.0%")]
)
def test_heatmap_cell_labels(value, text):
    assert charts.cell_label(value) == text


def test_heatmap_cell_text_contrasts_with_its_cell():
    sectors = sectors_frame()
    sectors.loc[0, "relative_to_benchmark"] = -0.5  # the darkest red cell
    figure = charts.sector_heatmap(sectors)
    cells = {t.get_text(): t.get_color() for ax in figure.axes for t in ax.texts}
    assert cells["-50.0%"] == "white"
    assert cells["+1.0%"] == "black"


@pytest.mark.parametrize(
    "figure",
    [
        lambda: charts.relative_strength_chart(relative_frame(), policy_frame(), cuts_frame()),
        lambda: charts.pe_discount_chart(pe_frame()),
        lambda: charts.event_study_chart(summary_frame()),
        lambda: charts.sector_heatmap(sectors_frame()),
    ],
    ids=["relative", "pe", "events", "sectors"],
)
def test_charts_print_sharp_and_read_at_page_width(figure):
    figure = charts.stamp_synthetic(figure())
    png = charts.figure_png(figure)
    assert charts.png_width(png) >= 1600
    smallest = min(charts.visible_text_sizes(figure))
    assert charts.shown_px(smallest, png) >= charts.MIN_TEXT_PX


def test_relative_strength_without_fed_data_draws_no_rate_axis():
    figure = charts.relative_strength_chart(
        relative_frame(), policy_frame().iloc[0:0], cuts_frame()
    )
    assert len(figure.axes) == 1  # no empty "Fed target range" axis reading as zero
    assert "no Fed target range data for this period" in [
        t.get_text() for t in figure.axes[0].texts
    ]
    with_fed = charts.relative_strength_chart(relative_frame(), policy_frame(), cuts_frame())
    assert len(with_fed.axes) == 2


def test_sample_charts_carry_the_synthetic_label_in_the_image():
    def texts(chart_figure):
        return [t.get_text() for t in chart_figure.texts]

    stamped = charts.render_chart("pe", "T", "C", charts.pe_discount_chart(pe_frame()), True)
    plain_figure = charts.pe_discount_chart(pe_frame())
    plain = charts.render_chart("pe", "T", "C", plain_figure, False)
    assert not any(SYNTHETIC_LABEL in t for t in texts(plain_figure))
    assert stamped.png != plain.png
    assert charts.png_width(stamped.screen_png) < charts.png_width(stamped.png)
    figure = charts.stamp_synthetic(charts.pe_discount_chart(pe_frame()))
    assert any(t.startswith(SYNTHETIC_LABEL) for t in texts(figure))


def test_key_figures_stay_numbers_in_dagster_metadata():
    import dagster as dg

    from dagster_project.lib.report.metadata import figure_metadata

    metadata = figure_metadata({"pe_discount": -0.4708, "fed_target_upper": 4.0})
    assert metadata["pe_discount"] == dg.MetadataValue.float(-0.4708)  # plotted run after run
    assert metadata["fed_target_upper"] == dg.MetadataValue.float(4.0)
    summary = metadata["key_figures"].md_str
    assert "**Small-cap P/E discount to large caps**: -47.1%" in summary
    assert len(summary) < 1000  # short enough for the UI to show inline
    assert figure_metadata({}) == {}


def test_make_offline_drops_network_assets_and_keeps_links():
    page = (
        '<html><head><script src="https://code.jquery.com/jquery.js"></script>'
        '<link rel="stylesheet" href="https://cdn.example/bootstrap.css">'
        "<style>a { background: url('https://cdn.example/logo.png') 0 0; }</style></head>"
        '<body><img src="https://cdn.example/logo.png"><a href="https://docs.example">docs</a>'
        '<script src="static/local.js"></script></body></html>'
    )
    assert len(external_assets(page)) == 4
    offline = make_offline(page)
    assert external_assets(offline) == []
    assert '<a href="https://docs.example">docs</a>' in offline
    assert '<script src="static/local.js"></script>' in offline
    assert "background: none 0 0" in offline


@pytest.mark.parametrize("command", ["report", "docs"])
def test_commands_say_to_build_first_when_nothing_is_published(
    command, tmp_path, monkeypatch, capsys
):
    warehouse = tmp_path / "warehouse.duckdb"
    monkeypatch.setenv("ROTATION_WAREHOUSE", str(warehouse))
    assert main([command, "--warehouse", str(warehouse)]) == 1
    err = capsys.readouterr().err
    assert "nothing is published yet" in err
    assert f"run `uv run rotation build --warehouse {warehouse}` first" in err
    assert not (tmp_path / "reports").exists()


def test_only_the_chart_marts_and_what_is_built_on_them_wait_for_dbt_to_exit():
    from dagster_project.defs.transform.dbt import rotation_dbt_models
    from dagster_project.lib.report.metadata import MART_METADATA, chart_marts_and_dependents

    holding = chart_marts_and_dependents(rotation_dbt_models.asset_deps)
    keys = {"/".join(key.path) for key in holding}
    assert {"/".join(key.path) for key in MART_METADATA} <= keys
    assert "marts/claims" in keys  # reads pe_discount
    assert "marts/fct_daily_prices" not in keys  # upstream: streams while dbt runs
    assert "intermediate/int_stock_valuation_daily" not in keys
    assert len(keys) < len(rotation_dbt_models.keys) / 2


def test_a_chart_drawn_from_equal_frames_is_drawn_once_per_process(monkeypatch):
    from dagster_project.lib.report import writer

    drawn = []
    real = charts.render_chart

    def counting(name, *args):
        drawn.append(name)
        return real(name, *args)

    monkeypatch.setattr(charts, "render_chart", counting)
    monkeypatch.setattr(writer, "_DRAWN", type(writer._DRAWN)())
    megacap = megacap_frame()
    first = writer.megacap_contribution(megacap)
    again = writer.megacap_contribution(megacap.copy())
    assert again is first and drawn == ["megacap_contribution"]

    changed = megacap.assign(mag7_share=[0.5, None, 1.4])
    assert writer.megacap_contribution(changed) is not first
    assert writer.megacap_contribution(megacap, synthetic=True) is not first
    assert drawn == ["megacap_contribution"] * 3


def test_the_screen_copy_is_the_print_png_at_screen_resolution():
    figure = charts.event_study_chart(pd.DataFrame())
    chart = charts.render_chart("empty", "t", "c", figure, synthetic=False)
    expected = round(charts.png_width(chart.png) * charts.SCREEN_DPI / charts.DPI)
    assert charts.png_width(chart.screen_png) == expected
