"""``rotation sql``: its output formats, its answers to empty queries, its synthetic label,
and that it stays light (no pandas, no Dagster) so it answers in well under a second."""

import datetime as dt
import decimal
import json
import re
import subprocess
import sys

import duckdb
import pytest

from dagster_project.cli import SYNTHETIC_NOTE, main
from dagster_project.lib.sources.sample import SampleSource
from dagster_project.lib.warehouse.connection import SAMPLE_SOURCE_LABEL, published_path
from dagster_project.lib.warehouse.results import (
    MAX_CELL_WIDTH,
    format_result,
    plain_number,
    table_number,
)


def test_null_is_null_in_every_format():
    columns, rows = ["n", "x"], [(None, 1.5)]
    assert format_result(columns, rows, "table").splitlines()[-1].split() == ["NULL", "1.5"]
    assert format_result(columns, rows, "csv") == "n,x\n,1.5"
    assert json.loads(format_result(columns, rows, "json")) == [{"n": None, "x": 1.5}]


@pytest.mark.parametrize(
    ("value", "table", "plain"),
    [
        (1.5e20, "150000000000000000000", "150000000000000000000.0"),
        (1e-05, "0.00001", "0.00001"),
        (0.000012345678, "0.0000123457", "0.000012345678"),
        (1 / 3, "0.333333", "0.3333333333333333"),
        (-1234567.891, "-1234567.891", "-1234567.891"),
        (2.0, "2", "2.0"),
        (0.0, "0", "0.0"),
    ],
)
def test_numbers_print_in_fixed_point(value, table, plain):
    assert table_number(value) == table
    assert plain_number(value) == plain
    assert float(plain) == value  # CSV and JSON keep full precision


def test_json_and_csv_never_use_an_exponent():
    rows = [(1e-7, 3e21, decimal.Decimal("12.345"), 2**70)]
    text = format_result(["a", "b", "c", "d"], rows, "json")
    assert not re.search(r"\d[eE][+-]?\d", text)
    assert json.loads(text) == [
        {"a": 1e-7, "b": 3e21, "c": 12.345, "d": 2**70},
    ]
    assert "0.0000001" in text and "3000000000000000000000.0" in text
    assert format_result(["a", "b", "c", "d"], rows, "csv").splitlines()[1] == (
        f"0.0000001,3000000000000000000000.0,12.345,{2**70}"
    )


def test_json_keeps_slashes_and_writes_dates_as_iso_strings():
    rows = [("IWD/IWF", dt.date(2024, 1, 2), dt.datetime(2024, 1, 2, 16, 30), float("nan"))]
    text = format_result(["pair", "day", "at", "ratio"], rows, "json")
    assert '"IWD/IWF"' in text and "\\/" not in text
    assert json.loads(text) == [
        {"pair": "IWD/IWF", "day": "2024-01-02", "at": "2024-01-02T16:30:00", "ratio": None}
    ]
    assert format_result(["day"], [(dt.date(2024, 1, 2),)], "csv") == "day\n2024-01-02"


def test_a_table_cuts_long_cells_and_aligns_numbers():
    long = "x" * 500
    table = format_result(["name", "value"], [(long, 1.5), ("short", 12.25)], "table")
    lines = table.splitlines()
    assert max(len(line) for line in lines) <= MAX_CELL_WIDTH + 2 + len("value")
    assert lines[2].startswith("x" * (MAX_CELL_WIDTH - 1) + "…")
    assert lines[2].endswith("  1.5") and lines[3].endswith("12.25")
    assert format_result(["a"], [], "table") == "(no rows)"
    assert format_result(["a"], [], "csv") == "a"
    assert format_result(["a"], [], "json") == "[]"


def test_nested_values_print_as_json_in_a_table():
    table = format_result(["cols", "flag"], [(["a", "b"], True)], "table")
    assert table.splitlines()[-1].split("  ")[0] == '["a", "b"]'
    assert table.splitlines()[-1].endswith("true")


@pytest.fixture
def published(tmp_path, monkeypatch):
    """A tiny warehouse at the published-copy layout: raw.prices from ``source``."""
    for name in ("ROTATION_WAREHOUSE", "ROTATION_SOURCE"):
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    warehouse = tmp_path / "warehouse.duckdb"

    def make(source: str):
        path = published_path(warehouse)
        path.parent.mkdir(parents=True, exist_ok=True)
        with duckdb.connect(str(path)) as con:
            con.execute("CREATE SCHEMA IF NOT EXISTS raw")
            con.execute("CREATE OR REPLACE TABLE raw.prices (ticker VARCHAR, source VARCHAR)")
            con.execute("INSERT INTO raw.prices VALUES ('IWD/IWF', ?)", [source])
        return warehouse

    return make


def sql(capsys, warehouse, query, *flags):
    code = main(["sql", query, "--warehouse", str(warehouse), *flags])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("query", ["", "   \n", "-- only a comment", "/* nothing */"])
def test_an_empty_query_is_a_usage_error(query, published, capsys):
    code, out, err = sql(capsys, published("sample"), query)
    assert code == 2 and out == ""
    assert err.startswith("rotation sql: the query is empty")
    assert "Traceback" not in err


def test_sample_data_is_labelled_on_stderr_only(published, capsys):
    warehouse = published(SAMPLE_SOURCE_LABEL)
    code, out, err = sql(capsys, warehouse, "select ticker from raw.prices", "--format", "json")
    assert code == 0
    assert json.loads(out) == [{"ticker": "IWD/IWF"}]
    assert err.strip() == SYNTHETIC_NOTE


def test_other_sources_carry_no_label(published, capsys):
    code, out, err = sql(capsys, published("live"), "select 1 as one", "--format", "csv")
    assert (code, out, err) == (0, "one\n1\n", "")


def test_the_sample_label_is_the_one_the_sample_writes():
    assert SampleSource.label == SAMPLE_SOURCE_LABEL


def test_sql_errors_still_explain_the_read_only_copy(published, capsys):
    warehouse = published("live")
    code, out, err = sql(capsys, warehouse, "create table x as select 1")
    assert code == 1 and out == ""
    assert "is the published read-only copy" in err
    assert f"`rotation build --warehouse {warehouse}`" in err


def test_the_sql_path_imports_neither_pandas_nor_dagster():
    """What makes ``rotation sql`` fast; checked in a fresh interpreter, since this one
    has imported everything already."""
    code = (
        "import sys\n"
        "from dagster_project import cli\n"
        "cli.build_parser()\n"
        "from dagster_project.lib.warehouse import connection, results\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'pandas', 'numpy', "
        "'dagster', 'dagster_dbt', 'yaml', 'pyarrow'})\n"
        "print(','.join(heavy))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""
