"""The statistical gates: each outcome (quarantine, warn, systemic halt) on generated rows,
and the quarantine's life (opened, judged again, resolved, never deleted)."""

import datetime as dt

import duckdb
import pandas as pd
import pytest

from dagster_project.defs.quality.raw_gates import fed_inputs_missing
from dagster_project.lib.quality import anomalies
from dagster_project.lib.quality.raw_checks import judge_prices, nyse_days
from dagster_project.lib.quality.series_ranges import kind_of, range_table
from dagster_project.lib.settings import GateSettings, SettingsError
from dagster_project.lib.warehouse import store as wh

LOADED = dt.datetime(2024, 8, 1)
GATES = GateSettings()


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


@pytest.fixture
def con():
    with duckdb.connect() as con:
        wh.ensure_raw_schema(con)
        con.execute(
            "INSERT INTO raw.universe VALUES "
            "('SPY', 'S&P 500 ETF', 'etf', 'large', 'blend', NULL, false, 'sample', ?), "
            "('^RUT', 'Russell 2000', 'index', 'small', 'blend', NULL, false, 'sample', ?), "
            "('BIG', 'Big Co', 'stock', 'large', NULL, NULL, false, 'sample', ?), "
            "('TINY', 'Tiny Co', 'stock', 'small', NULL, NULL, false, 'sample', ?)",
            [LOADED] * 4,
        )
        yield con


def sessions(first: str, last: str) -> list[dt.date]:
    days = nyse_days(d(first), d(last))
    return [t.date() for t in days.loc[days["is_session"], "day"]]


def load(con, closes: dict[str, list[float]], first="2024-06-03", loaded_at=LOADED, splits=None):
    """Each ticker's closes on consecutive sessions from ``first``; OHLC bracket the close."""
    days = sessions(first, "2024-12-31")
    for ticker, values in closes.items():
        for day, close in zip(days, values, strict=False):
            split = (splits or {}).get((ticker, day), 0)
            con.execute("DELETE FROM raw.prices WHERE ticker = ? AND trade_date = ?", [ticker, day])
            con.execute(
                "INSERT INTO raw.prices VALUES (?, ?, ?, ?, ?, ?, ?, 100, 0, ?, 'sample', ?)",
                [ticker, day, close, close, close, close, close, split, loaded_at],
            )
    return days


def flat(n: int, level: float = 100.0) -> list[float]:
    return [level + (i % 3) * 0.5 for i in range(n)]


def judge(con, gates: GateSettings = GATES, run: str = "run") -> anomalies.Judgement:
    judgement = judge_prices(con, gates)
    wh.reconcile_findings(
        con,
        "raw.prices",
        judgement.findings,
        "q.action <> 'halt' AND (q.obs_date >= ? OR q.rule = ?)",
        [dt.date.min, anomalies.STALE],
        run,
        LOADED,
    )
    return judgement


def entries(con, status: str = "open") -> set[tuple]:
    rows = con.execute(
        "SELECT key, obs_date, rule, action FROM raw.quarantine WHERE status = ?", [status]
    ).fetchall()
    return {(k, day.isoformat(), rule, action) for k, day, rule, action in rows}


def test_a_real_crash_that_stands_is_kept_and_warned(con):
    tiny = flat(20, 50.0)
    tiny[10:] = [15.0 + i * 0.1 for i in range(10)]  # -70% and it stays down
    days = load(con, {"TINY": tiny, "SPY": flat(20)})
    judgement = judge(con)
    assert entries(con) == {("TINY", days[10].isoformat(), anomalies.STANDS, "warn")}
    assert not judgement.systemic
    assert judgement.count(anomalies.QUARANTINE) == 0


def test_a_one_session_bad_tick_is_quarantined_alone(con):
    spy = flat(20)
    spy[8] *= 10  # a x10 print for one session
    days = load(con, {"SPY": spy, "TINY": flat(20, 50.0)})
    judge(con)
    # the next session, back to normal, is no move of its own
    assert entries(con) == {("SPY", days[8].isoformat(), anomalies.SPIKE, "quarantine")}


def test_a_split_ratio_that_does_not_match_the_price_is_quarantined(con):
    big = flat(20)
    first = sessions("2024-06-03", "2024-12-31")
    # the data says 2-for-1 on day 10, but the close did not halve (already adjusted)
    days = load(con, {"BIG": big}, splits={("BIG", first[10]): 2.0})
    judge(con)
    assert entries(con) == {("BIG", days[10].isoformat(), anomalies.WRONG_SPLIT, "quarantine")}


def test_a_correct_reverse_split_is_no_move(con):
    big = flat(20)
    big[10:] = [v * 10 for v in big[10:]]  # 1-for-10: ten times the price, a tenth the shares
    first = sessions("2024-06-03", "2024-12-31")
    load(con, {"BIG": big}, splits={("BIG", first[10]): 0.1})
    judge(con)
    assert entries(con) == set()


def test_limits_follow_the_kind_of_asset(con):
    index, stock = flat(20, 2000.0), flat(20)
    index[10:] = [v * 0.8 for v in index[10:]]  # -20%: huge for an index
    stock[10:] = [v * 0.8 for v in stock[10:]]  # -20%: an ordinary bad day for a stock
    days = load(con, {"^RUT": index, "BIG": stock})
    judge(con)
    assert entries(con) == {("^RUT", days[10].isoformat(), anomalies.STANDS, "warn")}


def test_a_move_on_the_latest_session_waits_then_is_released_when_it_stands(con):
    tiny = flat(11, 50.0)
    tiny[10] = 15.0  # -70% on the latest day loaded
    days = load(con, {"TINY": tiny, "SPY": flat(11)})
    judge(con, run="night-1")
    assert entries(con) == {("TINY", days[10].isoformat(), anomalies.PENDING, "quarantine")}

    later = LOADED + dt.timedelta(days=1)
    load(con, {"TINY": [*tiny, 15.5], "SPY": flat(12)}, loaded_at=later)
    judge(con, run="night-2")
    assert entries(con) == {("TINY", days[10].isoformat(), anomalies.STANDS, "warn")}
    assert entries(con, "resolved") == {
        ("TINY", days[10].isoformat(), anomalies.PENDING, "quarantine")
    }
    released = con.execute(
        "SELECT as_of_load, resolved_at FROM raw.quarantine WHERE status = 'resolved'"
    ).fetchall()
    assert released == [(later, LOADED)]


def test_a_move_on_the_latest_session_that_reverses_stays_quarantined(con):
    spy = flat(11)
    spy[10] *= 10
    days = load(con, {"SPY": spy})
    judge(con)
    load(con, {"SPY": [*spy, 100.0]}, loaded_at=LOADED + dt.timedelta(days=1))
    judge(con)
    assert entries(con) == {("SPY", days[10].isoformat(), anomalies.SPIKE, "quarantine")}


def test_a_corrected_row_resolves_its_quarantine_and_nothing_is_deleted(con):
    spy = flat(20)
    spy[8] *= 10
    days = load(con, {"SPY": spy})
    judge(con)
    load(con, {"SPY": flat(20)}, loaded_at=LOADED + dt.timedelta(days=1))  # the source fixed it
    judge(con)
    assert entries(con) == set()
    assert entries(con, "resolved") == {("SPY", days[8].isoformat(), anomalies.SPIKE, "quarantine")}
    assert con.execute("SELECT count(*) FROM raw.prices").fetchall() == [(20,)]


def test_judging_again_opens_no_second_entry(con):
    spy = flat(20)
    spy[8] *= 10
    load(con, {"SPY": spy})
    judge(con)
    judge(con)
    assert con.execute("SELECT count(*) FROM raw.quarantine").fetchall() == [(1,)]


def test_many_tickers_quarantined_on_one_day_is_systemic(con):
    closes = {f"T{i:02d}": flat(20) for i in range(40)}
    for ticker in ("T00", "T01", "T02"):
        closes[ticker][8] *= 10  # 3 of 40 tickers (7.5%) spike on the same day
    days = load(con, closes)
    judgement = judge(con)
    assert judgement.systemic == [f"{days[8]}: 3 of 40 tickers quarantined"]
    lenient = GateSettings(systemic_share=0.1)
    assert judge_prices(con, lenient).systemic == []


def test_one_bad_tick_among_few_tickers_is_not_systemic(con):
    closes = {"SPY": flat(20), "BIG": flat(20)}
    closes["SPY"][8] *= 10  # 1 of 2 tickers: half, but one ticker is not a broken feed
    load(con, closes)
    assert judge(con).systemic == []


def test_gaps_and_tickers_no_longer_reported_are_warnings(con):
    days = load(con, {"SPY": flat(40), "TINY": flat(20, 50.0)})
    con.execute(
        "DELETE FROM raw.prices WHERE ticker = 'SPY' AND trade_date BETWEEN ? AND ?",
        [days[10], days[16]],
    )
    judge(con)
    assert entries(con) == {
        ("SPY", days[17].isoformat(), anomalies.GAP, "warn"),
        ("TINY", days[19].isoformat(), anomalies.STALE, "warn"),
    }


def test_rate_ranges_come_from_what_a_series_is(con):
    rows = [
        ("DFII10", "2020-08-06", -1.08),  # a negative real yield: a real value
        ("VIXCLS", "2020-03-16", 82.69),  # an index level, not a rate
        ("CPIAUCSL", "2024-06-01", 313.0),
        ("DGS2", "2024-06-03", 420.0),  # 4.20% written in basis points
        ("DGS2", "2024-06-04", 4.21),
        ("MYSERIES", "2024-06-03", 1e6),  # unknown units: only absurd values fail
        ("MYRATE", "2024-06-03", 120.0),  # a rate by the user's series.csv
    ]
    for series, day, value in rows:
        con.execute(
            "INSERT INTO raw.rates VALUES (?, ?, ?, 'files:x', ?)", [series, day, value, LOADED]
        )
    judgement = anomalies.rate_findings(con, {"MYRATE": "Percent"}, GATES)
    flagged = {(r.key, r.obs_date.date().isoformat()) for r in judgement.findings.itertuples()}
    assert flagged == {("DGS2", "2024-06-03"), ("MYRATE", "2024-06-03")}
    assert judgement.systemic == []


def test_a_series_in_the_wrong_units_is_systemic(con):
    for i, day in enumerate(sessions("2024-06-03", "2024-06-28")):
        con.execute(
            "INSERT INTO raw.rates VALUES ('DFF', ?, ?, 'files:x', ?)", [day, 533.0 + i, LOADED]
        )
    judgement = anomalies.rate_findings(con, {}, GATES)
    assert judgement.systemic == ["DFF: 19 of 19 values out of range"]


def test_units_text_maps_to_a_kind():
    assert kind_of("Percent").name == "rate"
    assert kind_of("Index 1982-1984=100").name == "index level"
    assert kind_of("Percent Change from Year Ago").name == "percent change"
    assert kind_of("+1 or 0").name == "indicator"
    assert kind_of(None).name == "unknown units"
    table = range_table(["DFII10", "VIXCLS", "NOPE"], {}).set_index("series_id")
    assert table.loc["DFII10", "min_value"] < -1.5
    assert table.loc["VIXCLS", "kind"] == "index level"
    assert table.loc["NOPE", "kind"] == "unknown units"


def test_the_fed_marts_say_which_series_they_miss():
    prices = (d("1999-01-04"), d("2025-09-24"))
    full = {
        "DFEDTAR": (d("1990-01-02"), d("2008-12-15")),
        "DFEDTARU": (d("2008-12-16"), d("2025-09-25")),
        "DFEDTARL": (d("2008-12-16"), d("2025-09-25")),
        "DFF": (d("1990-01-01"), d("2025-09-25")),
        "DGS2": (d("1999-01-04"), d("2025-09-25")),
        "DGS10": (d("1999-01-04"), d("2025-09-25")),
    }
    assert fed_inputs_missing(full, prices) == []
    only_dff = fed_inputs_missing({"DFF": full["DFF"]}, prices)
    assert any("need DFEDTARU and DFEDTARL" in m for m in only_dff)
    assert any("need DFEDTAR " in m for m in only_dff)
    assert any("need DGS2 and DGS10" in m for m in only_dff)
    recent = fed_inputs_missing(
        {k: v for k, v in full.items() if k != "DFEDTAR"}, (d("2015-01-02"), d("2025-09-24"))
    )
    assert recent == []  # no priced day before the range era: DFEDTAR is not needed


def test_gate_thresholds_are_overridden_from_the_environment():
    gates = GateSettings.from_env(
        {"ROTATION_GATE_MOVE_SMALL_STOCK": "0.8", "ROTATION_GATE_SYSTEMIC_MIN_COUNT": "10"}
    )
    assert (gates.move_small_stock, gates.systemic_min_count) == (0.8, 10)
    with pytest.raises(SettingsError, match="ROTATION_GATE_MOVE_ETF='lots' is not a number"):
        GateSettings.from_env({"ROTATION_GATE_MOVE_ETF": "lots"})
    with pytest.raises(SettingsError, match="must be positive"):
        GateSettings.from_env({"ROTATION_GATE_SYSTEMIC_SHARE": "0"})


def test_findings_frame_is_empty_on_an_empty_table(con):
    judgement = judge_prices(con, GATES)
    assert judgement.findings.empty and judgement.systemic == []
    assert isinstance(judgement.findings, pd.DataFrame)
