"""Documentation sites: dbt docs (models, columns, lineage) and GX Data Docs (suites, results).

Both are built from the published copy, never the live warehouse: dbt opens its database
read-write, so it gets a private copy of the published file, and GX validates frames read
from the published copy. A build can run meanwhile; the docs show the last published state.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from dagster_project.lib.quality.validation import SUITES_DIR
from dagster_project.lib.settings import DBT_PROJECT_DIR, ENV_WAREHOUSE
from dagster_project.lib.warehouse.store import connect

EXTERNAL_ASSET = re.compile(
    r"<script[^>]*\bsrc=[\"']https?://[^\"']*[\"'][^>]*>\s*</script>"
    r"|<link[^>]*\bhref=[\"']https?://[^\"']*[\"'][^>]*/?>"
    r"|<img[^>]*\bsrc=[\"']https?://[^\"']*[\"'][^>]*/?>"
    r"|url\([\"']?https?://[^)]*\)",
    re.IGNORECASE,
)
"""A script, stylesheet, image or CSS ``url()`` on the network: what a page fetches on
open. Plain ``<a href>`` links are fine: they load nothing until clicked."""

OFFLINE_HEAD = """<style>
body { font-family: system-ui, sans-serif; margin: 1.5rem; }
table { border-collapse: collapse; margin: .5rem 0; }
th, td { border: 1px solid #ddd; padding: .25rem .5rem; text-align: left; vertical-align: top; }
tr[data-href] { cursor: pointer; } tr[data-href]:hover { background: #f3f6fb; }
.text-danger, .fa-times { color: #b00020; } .text-success, .fa-check-circle { color: #2e7d32; }
.fa-check-circle::before { content: "passed"; } .fa-times::before { content: "failed"; }
.cooltip .top { display: none; }
</style>
<script>
/* Offline stand-in for jQuery + bootstrap-table (GX loads them from CDNs): renders the
   index tables from the data the page embeds; any other jQuery call is a no-op. */
if (!window.jQuery) {
  window.$ = function (target) {
    var nodes = typeof target === "string" ? document.querySelectorAll(target) : [];
    var api = {
      ready: function (callback) { document.addEventListener("DOMContentLoaded", callback); },
      bootstrapTable: function (options) {
        if (!options || !options.columns) return chain;
        var head = options.columns.map(function (c) { return "<th>" + c.title + "</th>"; });
        var rows = (options.data || []).map(function (row) {
          var cells = options.columns.map(function (c) { return "<td>" + row[c.field] + "</td>"; });
          var link = row._table_row_link_path;
          return link ? '<tr data-href="' + link + '" onclick="location.href=this.dataset.href">'
            + cells.join("") + "</tr>" : "<tr>" + cells.join("") + "</tr>";
        });
        nodes.forEach(function (table) {
          table.innerHTML = "<thead><tr>" + head.join("") + "</tr></thead><tbody>"
            + rows.join("") + "</tbody>";
        });
        return chain;
      }
    };
    var chain = new Proxy(api, {
      get: function (t, key) { return key in t ? t[key] : function () { return chain; }; }
    });
    return chain;
  };
}
</script>"""
"""GX Data Docs take their style and the index page's tables from CDNs (Bootstrap, jQuery,
bootstrap-table). Offline, these few rules and the stand-in keep every page readable; the
validation and suite pages are plain HTML and need nothing more."""


class DocsError(RuntimeError):
    """A documentation site could not be built; the message says why."""


@dataclass(frozen=True)
class DocsResult:
    dbt_index: Path
    gx_index: Path


def external_assets(page: str) -> list[str]:
    """The scripts and stylesheets a page would fetch from the network when opened."""
    return EXTERNAL_ASSET.findall(page)


def make_offline(page: str) -> str:
    """Drop network scripts, stylesheets and images; inline a stylesheet and table renderer.

    GX's templates pull Bootstrap, jQuery and Font Awesome from CDNs; offline they fail
    and the index page's tables stay empty, so the pages get our own minimal style and
    table rendering instead, and make no third-party requests at all.
    """
    stripped = EXTERNAL_ASSET.sub(
        lambda m: "none" if m.group(0).lower().startswith("url(") else "", page
    )
    return stripped.replace("</head>", OFFLINE_HEAD + "</head>", 1)


@contextmanager
def _env(name: str, value: str) -> Iterator[None]:
    """Set an environment variable for the duration of a block (dbt's profile reads it)."""
    previous = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = previous


def build_dbt_docs(published: Path, out_dir: Path) -> Path:
    """``dbt docs generate --static`` against a private copy of the published warehouse.

    The static page embeds the manifest and catalog in one HTML file, so it opens from
    disk with no server. The copy keeps dbt's read-write connection off the published file
    that ``rotation sql`` and BI tools read.
    """
    from dbt.cli.main import dbtRunner

    with tempfile.TemporaryDirectory(prefix="rotation-dbt-docs-") as tmp:
        copy = Path(tmp) / "warehouse.duckdb"
        shutil.copyfile(published, copy)
        target = Path(tmp) / "target"
        with _env(ENV_WAREHOUSE, str(copy)):
            result = dbtRunner().invoke(
                [
                    "docs",
                    "generate",
                    "--static",
                    "--quiet",
                    "--project-dir",
                    str(DBT_PROJECT_DIR),
                    "--profiles-dir",
                    str(DBT_PROJECT_DIR),
                    "--target-path",
                    str(target),
                    "--log-path",
                    str(Path(tmp) / "logs"),
                ]
            )
        page = target / "static_index.html"
        if not result.success or not page.exists():
            raise DocsError(f"dbt docs generate failed: {result.exception}")
        out_dir.mkdir(parents=True, exist_ok=True)
        index = out_dir / "index.html"
        shutil.copyfile(page, index)
    return index


def _prices_frame(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """``raw.prices`` with the derived columns the raw_prices suite checks, whole history.

    The blocking check computes them over recent loads only; the docs describe the whole
    table, so the same query runs with its lookback at the first date.
    """
    from dagster_project.lib.quality import raw_checks as raw_quality

    bounds = con.execute("SELECT min(trade_date), max(trade_date) FROM raw.prices").fetchall()
    first, last = bounds[0]
    con.register("nyse_days", raw_quality.nyse_days(first, last))
    try:
        return con.execute(raw_quality.PRICES_CHECKED, {"lookback": first}).df()
    finally:
        con.unregister("nyse_days")


def _rates_frame(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """``raw.rates`` as the structural raw_rates suite reads it."""
    from dagster_project.lib.quality.raw_checks import RATES_CHECKED

    return con.execute(RATES_CHECKED).df()


DERIVED_FRAMES = {"raw_prices": _prices_frame, "raw_rates": _rates_frame}
"""Suites whose frame is derived by the blocking checks' queries, not read as stored."""


def suite_frames(con: duckdb.DuckDBPyConnection, suites: list[dict]) -> dict[str, pd.DataFrame]:
    """The frame each suite validates: derived as the checks derive it, else the table
    its ``meta.table`` names."""
    frames = {}
    for suite in suites:
        name = suite["name"]
        table = suite.get("meta", {}).get("table")
        if name in DERIVED_FRAMES:
            frames[name] = DERIVED_FRAMES[name](con)
        elif table:
            frames[name] = con.execute(f"SELECT * FROM {table}").df()
    return frames


def load_suites(folder: Path = SUITES_DIR) -> list[dict]:
    """Every suite stored as GX JSON under ``quality/suites/``."""
    return [json.loads(path.read_text()) for path in sorted(folder.glob("*.json"))]


def build_gx_docs(published: Path, out_dir: Path) -> Path:
    """Validate every stored suite on the published copy and render GX Data Docs.

    An ephemeral context keeps GX's config out of the repository; its only site writes
    static HTML into a staging folder that replaces ``out_dir`` whole, so stale pages of
    an earlier run never linger.
    """
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    import great_expectations as gx
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.base import ProgressBarsConfig

    # This GX module sets its own logger to INFO on import and logs its scratch folder, and
    # the stderr handler dbt's in-process run left on the root logger prints it: the
    # command should print the two paths only.
    logging.getLogger("great_expectations.data_context.types.base").setLevel(logging.WARNING)

    suites = load_suites()
    with connect(published, read_only=True) as con:
        frames = suite_frames(con, suites)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}-", dir=out_dir.parent))
    try:
        context = gx.get_context(mode="ephemeral")
        context.variables.progress_bars = ProgressBarsConfig(globally=False)
        context.add_data_docs_site(
            site_name="rotation",
            site_config={
                "class_name": "SiteBuilder",
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": str(staging),
                },
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            },
        )
        source = context.data_sources.add_pandas(name="published_warehouse")
        for suite_json in suites:
            name = suite_json["name"]
            if name not in frames:
                continue
            suite = context.suites.add(
                gx.ExpectationSuite(**{k: v for k, v in suite_json.items() if k != "meta"})
            )
            batch = source.add_dataframe_asset(name=name).add_batch_definition_whole_dataframe(
                "whole_table"
            )
            validation = context.validation_definitions.add(
                gx.ValidationDefinition(name=f"{name}_published", data=batch, suite=suite)
            )
            validation.run(
                batch_parameters={"dataframe": frames[name]},
                run_id=RunIdentifier(run_name="published_copy"),
            )
        context.build_data_docs(site_names=["rotation"])
        for page in staging.rglob("*.html"):
            page.write_text(make_offline(page.read_text(encoding="utf-8")), encoding="utf-8")
        if out_dir.exists():
            shutil.rmtree(out_dir)
        # mkdtemp makes the staging folder private (0700); the site is for everyone who
        # may read the warehouse folder, like every other file written beside it
        staging.chmod(0o777 & ~_umask())
        os.replace(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out_dir / "index.html"


def build_docs(published: Path, out_dir: Path) -> DocsResult:
    """Both sites under ``out_dir``: ``dbt/index.html`` and ``gx/index.html``."""
    if not Path(published).exists():
        raise DocsError(
            f"nothing is published yet ({published} does not exist): "
            "run `uv run rotation build` first"
        )
    return DocsResult(
        dbt_index=build_dbt_docs(published, out_dir / "dbt"),
        gx_index=build_gx_docs(published, out_dir / "gx"),
    )


def _umask() -> int:
    """The process's umask (reading it means setting it: set it straight back)."""
    current = os.umask(0)
    os.umask(current)
    return current
