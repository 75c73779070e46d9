import datetime as dt
import textwrap

import pytest

from dagster_project.lib import claims as ledger
from dagster_project.lib.settings import DEFAULT_CLAIMS_FILE

TICKERS = {"^RUT", "^GSPC", "IWM", "SPY"}
SERIES = {"DFEDTARU", "DGS10"}


def validate(**fields):
    return ledger.validate_claim(fields, 0, TICKERS, SERIES)


def test_on_is_a_key_not_a_boolean(tmp_path):
    path = tmp_path / "claims.yaml"
    path.write_text(
        textwrap.dedent(
            """
            claims:
              - id: fed-end-2025
                text: "The range ended 2025 at 3.50-3.75%"
                metric: rate
                series: DFEDTARU
                on: 2025-12-31
                claimed: 3.75
            """
        )
    )
    (row,) = ledger.claims_frame(ledger.read_claims_file(path), path, TICKERS, SERIES).itertuples()
    assert row.error is None
    assert row.on_date == dt.date(2025, 12, 31)


def test_a_good_return_claim_gets_defaults():
    row = validate(
        id="rut",
        text="t",
        metric="return",
        ticker="^rut",
        start="2025-07-31",
        end=dt.date(2025, 8, 29),
        claimed=0.073,
    )
    assert row.error is None
    assert (row.ticker, row.comparison, row.tolerance) == ("^RUT", "=", 0.005)


def test_one_sided_claims_are_strict_and_take_no_tolerance():
    base = {"id": "c1", "metric": "pe_discount", "on": "2024-12-31", "claimed": -0.4}
    # ">=" means measured >= claimed exactly: no default tolerance is added ...
    assert validate(**base, comparison=">=").tolerance == 0.0
    assert validate(**base, comparison="<=", tolerance=0).tolerance == 0.0
    # ... and a tolerance there would quietly move the claimed figure: refused.
    row = validate(**base, comparison=">=", tolerance=0.005)
    assert row.error == (
        "claim c1: tolerance: widens '=' only; a '>=' claim is strict (measured >= "
        "claimed): drop the tolerance or change the claimed figure"
    )
    # "=" keeps the default tolerance.
    assert validate(**base).tolerance == ledger.DEFAULT_TOLERANCE


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"metric": "beta", "ticker": "IWM"}, "claim c1: metric: 'beta' is not one of"),
        ({"metric": "return", "start": "2024-01-02", "end": "2024-02-01"}, "ticker: is required"),
        (
            {"metric": "return", "ticker": "XYZ", "start": "2024-01-02", "end": "2024-02-01"},
            "ticker: unknown ticker 'XYZ'",
        ),
        (
            {"metric": "return", "ticker": "IWM", "start": "2024-03-01", "end": "2024-02-01"},
            "end: 2024-02-01 is before start 2024-03-01",
        ),
        (
            {"metric": "return", "ticker": "IWM; DROP", "start": "2024-01-02", "end": "2024-02-01"},
            "ticker: 'IWM; DROP' is not a valid symbol",
        ),
        (
            {
                "metric": "relative_return",
                "ticker": "IWM",
                "start": "2024-01-02",
                "end": "2024-02-01",
            },
            "versus: is required",
        ),
        ({"metric": "rate", "series": "DFF"}, "series: unknown series 'DFF'"),
        ({"metric": "rate", "series": "DGS10"}, "on: is required for metric rate"),
        (
            {"metric": "record_high", "ticker": "IWM", "on": "2024-01-02", "claimed": 1},
            "claimed: must be true or false",
        ),
        ({"metric": "pe_discount", "on": "someday"}, "on: 'someday' is not a date"),
        (
            {"metric": "pe_discount", "on": "2024-01-02", "comparison": "~"},
            "comparison: '~' is not one of",
        ),
        (
            {"metric": "pe_discount", "on": "2024-01-02", "claimd": 1},
            "claimd: is not a claim field",
        ),
    ],
)
def test_a_malformed_claim_names_its_id_and_field(fields, message):
    row = validate(**{"id": "c1", "text": "t", "claimed": -0.4, **fields})
    assert row.error is not None and message in row.error, row.error
    assert row.error.startswith("claim c1: ")


def test_bad_claims_do_not_stop_the_others(tmp_path):
    raw = [
        {"id": "good", "metric": "pe_discount", "on": "2024-12-31", "claimed": -0.4},
        {"id": "bad", "metric": "nope", "claimed": 1},
        "not a mapping",
        {"id": "good", "metric": "pe_discount", "on": "2024-12-31", "claimed": -0.3},
    ]
    frame = ledger.claims_frame(raw, tmp_path / "c.yaml", TICKERS, SERIES)
    assert frame["error"].isna().tolist() == [True, False, False, False]
    assert "claim #3: claim: must be a mapping" in frame.loc[2, "error"]
    assert frame.loc[3, "error"] == "claim good: id: is used by an earlier claim"
    assert frame["claim_id"].is_unique


def test_unreadable_files_name_the_file(tmp_path):
    with pytest.raises(ledger.ClaimsFileError, match="does not exist"):
        ledger.read_claims_file(tmp_path / "missing.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("claims: [unclosed")
    with pytest.raises(ledger.ClaimsFileError, match="broken.yaml is not valid YAML"):
        ledger.read_claims_file(broken)
    broken.write_text("something: else")
    with pytest.raises(ledger.ClaimsFileError, match="top-level list `claims:`"):
        ledger.read_claims_file(broken)


def test_the_default_ledger_is_well_formed_and_large_enough():
    raw = ledger.read_claims_file(DEFAULT_CLAIMS_FILE)
    frame = ledger.claims_frame(raw, DEFAULT_CLAIMS_FILE)
    assert len(frame) >= 12
    assert frame["error"].isna().all(), frame["error"].dropna().tolist()
    assert set(frame["metric"]) == set(ledger.METRICS)
    assert all(claim.get("source") for claim in raw)


def test_the_cli_renders_the_ledgers_own_measuring_sql():
    """``rotation claims --file`` renders the dbt macro itself, with plain (strict) Jinja:
    a dbt-only call slipped into the macro would raise here, not at a user's prompt."""
    from dagster_project.lib import claims_measure

    sql = claims_measure.measuring_sql("my_claims")
    assert "select * from my_claims" in sql
    for relation in claims_measure.INPUTS.values():
        assert f"from {relation}" in sql
    # The settings are the dbt project's vars, the ones marts.claims is built with.
    project_vars = claims_measure.dbt_vars()
    assert f"needs at least {project_vars['claims_record_high_min_sessions']} closes" in sql
    staged = claims_measure.staging_sql("raw_frame")
    assert "from raw_frame" in staged and "as claim_position" in staged
