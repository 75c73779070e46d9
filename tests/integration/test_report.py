"""The report and the docs sites from a real (small) sample build, through the CLI and Dagster."""

from __future__ import annotations

import re

import dagster as dg
import pytest

from dagster_project.cli import main
from dagster_project.defs.report.report_asset import rotation_report
from dagster_project.defs.resources import WarehouseResource
from dagster_project.lib.report.charts import png_width
from dagster_project.lib.report.docs import external_assets
from dagster_project.lib.report.html import SYNTHETIC_LABEL
from dagster_project.lib.settings import ENV_WAREHOUSE, docs_dir, reports_dir

pytestmark = pytest.mark.slow

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
CHARTS = (
    "relative_strength",
    "pe_discount",
    "megacap_contribution",
    "rate_cut_event_study",
    "sector_rotation",
)
KEY_FIGURES = ("pe_discount", "iwm_spy_rel_return_3m", "iwm_spy_rel_return_12m", "fed_target_upper")


@pytest.fixture
def cli_env(built_sample, monkeypatch):
    """The CLI writes its flags into the environment; monkeypatch restores them after."""
    monkeypatch.setenv(ENV_WAREHOUSE, str(built_sample.warehouse))
    return ["--warehouse", str(built_sample.warehouse)]


def test_report_command_writes_a_self_contained_page_and_the_pngs(built_sample, cli_env, capsys):
    assert main(["report", *cli_env]) == 0
    out = capsys.readouterr().out.split()
    folder = reports_dir(built_sample.warehouse)
    page_path = folder / "rotation_report.html"
    assert out == [str(page_path), *(str(folder / f"{name}.png") for name in CHARTS)]
    for name in CHARTS:
        png = (folder / f"{name}.png").read_bytes()
        assert png.startswith(PNG_MAGIC)
        assert png_width(png) >= 1600, name  # print resolution
        assert len(png) < 400_000, name  # palette PNG: sharp without bloating the page
    page = page_path.read_text()
    assert SYNTHETIC_LABEL in page
    assert "<th>Small-cap P/E discount to large caps</th>" in page  # labels, not column names
    assert "<th>IWM vs SPY, 12 months</th>" in page and " bp)</td>" in page
    for name in (*CHARTS, "claims", "key-figures"):
        assert f'<section id="{name}">' in page
    assert len(re.findall(r'src="data:image/png;base64,', page)) == len(CHARTS)
    assert page.count('<tr id="claim-') == 15  # the default ledger
    assert 'id="claim-fed-first-cut-2024-50bp"' in page
    assert external_assets(page) == [] and "<script" not in page


def test_docs_command_builds_both_sites_for_offline_reading(built_sample, cli_env, capsys, caplog):
    assert main(["docs", *cli_env]) == 0
    assert "ephemeral docs site" not in caplog.text  # GX's INFO chatter stays quiet
    folder = docs_dir(built_sample.warehouse)
    dbt_index, gx_index = folder / "dbt" / "index.html", folder / "gx" / "index.html"
    assert capsys.readouterr().out.split("\n")[:2] == [
        f"dbt docs: {dbt_index}",
        f"GX Data Docs: {gx_index}",
    ]
    dbt_page = dbt_index.read_text()
    assert "model.rotation.pe_discount" in dbt_page  # the manifest is embedded
    assert "marts" in dbt_page and external_assets(dbt_page) == []
    pages = list((folder / "gx").rglob("*.html"))
    assert {"raw_prices.html", "raw_rates.html"} <= {p.name for p in pages}
    assert any("validations" in p.parts for p in pages)
    for page in pages:
        assert external_assets(page.read_text()) == [], page
    assert "raw_prices" in gx_index.read_text()


def test_report_asset_records_charts_and_key_figures(built_sample, tmp_path):
    result = dg.materialize(
        [rotation_report],
        resources={"warehouse": WarehouseResource(path=str(built_sample.warehouse))},
        instance=dg.DagsterInstance.ephemeral(),
    )
    assert result.success
    (materialization,) = result.asset_materializations_for_node("report__rotation_report")
    metadata = materialization.metadata
    for name in KEY_FIGURES:
        assert isinstance(metadata[name], dg.FloatMetadataValue), name
    assert 0 < metadata["fed_target_upper"].value < 10
    for name in CHARTS:
        assert metadata[f"{name}_chart"].md_str.startswith("![")  # the image first
        assert "](data:image/png;base64," in metadata[f"{name}_chart"].md_str
    assert "**Fed funds target range, upper bound**: " in metadata["key_figures"].md_str
    assert metadata["source"].text == "sample (synthetic sample data)"


def test_the_build_attaches_charts_to_the_chart_marts(built_sample):
    expected = {
        ("marts", "relative_performance"): ("relative_strength_chart", "iwm_spy_rel_return_3m"),
        ("marts", "pe_discount"): ("pe_discount_chart", "pe_discount"),
        ("marts", "megacap_contribution"): ("megacap_contribution_chart", "mag7_share"),
        ("marts", "rate_cut_event_summary"): ("rate_cut_event_study_chart", None),
        ("marts", "sector_rotation"): ("sector_rotation_chart", None),
        ("report", "rotation_report"): ("sector_rotation_chart", "fed_target_upper"),
    }
    for key, (chart, figure) in expected.items():
        event = built_sample.instance.get_latest_materialization_event(dg.AssetKey(list(key)))
        metadata = event.asset_materialization.metadata
        assert SYNTHETIC_LABEL in metadata[chart].md_str, key
        if figure:
            assert isinstance(metadata[figure], dg.FloatMetadataValue), key
