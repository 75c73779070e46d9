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
from dagster_project.lib.report.html import SYNTHETIC_LABEL, chart_markdown, render_report

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
            "subject": ["^RUT", "DFEDTARU", "NOPE"],
            "claimed_value": [0.073, -0.5, 0.1],
            "measured_value": [0.081, -0.5, None],
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
        # Empty inputs still give a chart (saying there is no data), never an exception.
        lambda: charts.relative_strength_chart(
            relative_frame().iloc[0:0], policy_frame(), cuts_frame()
        ),
        lambda: charts.pe_discount_chart(pe_frame().iloc[0:0]),
        lambda: charts.event_study_chart(summary_frame().iloc[0:0]),
        lambda: charts.sector_heatmap(sectors_frame().iloc[0:0]),
    ],
    ids=["relative", "pe", "events", "sectors", "relative0", "pe0", "events0", "sectors0"],
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
    assert "no_data: unknown ticker &#x27;NOPE&#x27;" in page
    assert "A claim &lt;b&gt;" in page  # claim text is escaped, never markup
    assert "1 supported, 1 contradicted, 1 no_data" in page
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
    assert f"![Title](data:image/png;base64,{base64.b64encode(PNG_MAGIC).decode()})" in text
    assert SYNTHETIC_LABEL in text
    assert SYNTHETIC_LABEL not in chart_markdown(chart)


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
    assert "run `uv run rotation build` first" in err
    assert not (tmp_path / "reports").exists()


def test_only_the_chart_marts_and_what_is_built_on_them_wait_for_dbt_to_exit():
    from dagster_project.defs.report.report_asset import MART_METADATA, chart_marts_and_dependents
    from dagster_project.defs.transform.dbt import rotation_dbt_models

    holding = chart_marts_and_dependents(rotation_dbt_models.asset_deps)
    keys = {"/".join(key.path) for key in holding}
    assert {"/".join(key.path) for key in MART_METADATA} <= keys
    assert "marts/claims" in keys  # reads pe_discount
    assert "marts/fct_daily_prices" not in keys  # upstream: streams while dbt runs
    assert "intermediate/int_stock_valuation_daily" not in keys
    assert len(keys) < len(rotation_dbt_models.keys) / 2
