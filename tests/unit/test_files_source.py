"""The files source: every layout variant it reads, and every bad file it refuses."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from dagster_project.lib.settings import Settings
from dagster_project.lib.sources import build_source, default_window
from dagster_project.lib.sources.base import SourceError, Window
from dagster_project.lib.sources.files import FilesSource
from dagster_project.lib.sources.files.holdings import read_holdings
from dagster_project.lib.warehouse.schemas import (
    ETF_HOLDINGS,
    FUNDAMENTALS,
    PRICES,
    RATES,
    UNIVERSE,
)

YAHOO_HEADER = "Date,Open,High,Low,Close,Adj Close,Volume,Dividends,Stock Splits"
ALL = Window(dt.date(2000, 1, 1), dt.date(2030, 1, 1))


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.fixture
def folder(tmp_path) -> Path:
    """A small, valid folder: a Yahoo export with a split, a close-only file, a Parquet
    file, FRED rates, and fundamentals."""
    root = tmp_path / "data"
    write(
        root,
        "prices/NVDA.csv",
        "\n".join(
            [
                YAHOO_HEADER,
                "2024-06-06 00:00:00-04:00,120.0,121.0,119.0,120.5,120.4,100,0.0,0.0",
                "2024-06-07 00:00:00-04:00,121.0,122.0,120.0,121.0,120.9,100,0.01,0.0",
                "2024-06-10 00:00:00-04:00,122.0,123.0,121.0,121.8,121.7,1000,0.0,10.0",
            ]
        )
        + "\n",
    )
    write(root, "prices/^RUT.csv", "Date,Close\n2024-06-06,2050.1\n2024-06-07,2048.0\n")
    pd.DataFrame(
        {
            "Date": pd.to_datetime(["2024-06-06", "2024-06-07"]),
            "Close": [530.0, 532.5],
            "Volume": [5e7, 4e7],
        }
    ).to_parquet(root / "prices" / "SPY.parquet")
    write(
        root,
        "rates/DFF.csv",
        "observation_date,DFF\n2024-06-06,5.33\n2024-06-07,.\n2024-06-08,\n2024-06-09,5.33\n",
    )
    write(root, "rates/DGS2.csv", "DATE,DGS2\n2024-06-06,4.70\n")
    write(root, "rates/T10Y2Y.csv", "date,T10Y2Y\n2024-06-06,-0.42\n")
    write(
        root,
        "fundamentals/NVDA.csv",
        "period_end,eps,shares_outstanding,eps_estimate,"
        "report_date\n2024-04-30,5.98,2.46e9,5.59,2024-05-22\n2024-01-31,4.93,,,\n",
    )
    write(root, "fundamentals/ACME.csv", "period_end,eps\n2024-03-31,0.42\n")
    return root


def test_every_layout_variant_loads_in_the_canonical_schemas(folder):
    source = FilesSource(folder)
    prices = source.prices(ALL)
    assert list(prices.columns) == list(PRICES.payload)
    nvda = prices[prices["ticker"] == "NVDA"].set_index("trade_date")
    # Yahoo's Close is split-adjusted: the days before the 10-for-1 split are restored.
    assert list(nvda["close"]) == [1205.0, 1210.0, 121.8]
    assert nvda.loc["2024-06-07", "dividends"] == pytest.approx(0.1)
    assert list(nvda["volume"]) == [10.0, 10.0, 1000.0]
    assert nvda.loc["2024-06-10", "splits"] == 10.0
    rut = prices[prices["ticker"] == "^RUT"]
    assert list(rut["close"]) == [2050.1, 2048.0] and (rut["dividends"] == 0).all()
    spy = prices[prices["ticker"] == "SPY"]
    assert list(spy["close"]) == [530.0, 532.5] and spy["open"].isna().all()
    rates = source.rates(ALL)
    assert list(rates.columns) == list(RATES.payload)
    assert rates.groupby("series_id").size().to_dict() == {"DFF": 2, "DGS2": 1, "T10Y2Y": 1}
    fundamentals = source.fundamentals(ALL).set_index(["ticker", "period_end"])
    assert list(source.fundamentals(ALL).columns) == list(FUNDAMENTALS.payload)
    row = fundamentals.loc[("NVDA", pd.Timestamp("2024-04-30"))]
    assert (row["eps"], row["eps_estimate"], row["report_date"]) == (
        5.98,
        5.59,
        pd.Timestamp("2024-05-22"),
    )
    assert pd.isna(fundamentals.loc[("NVDA", pd.Timestamp("2024-01-31")), "report_date"])


def test_the_source_label_is_the_absolute_folder(folder, monkeypatch):
    monkeypatch.chdir(folder.parent)
    source = build_source(Settings(source="files:data"))
    assert source.label == f"files:{folder}"


def test_the_universe_is_derived_from_the_yaml_and_the_files(folder):
    universe = FilesSource(folder).universe().set_index("ticker")
    assert list(FilesSource(folder).universe().columns) == list(UNIVERSE.payload)
    assert set(universe.index) == {"NVDA", "^RUT", "SPY", "ACME"}
    assert universe.loc["NVDA", "is_magnificent_7"]  # from universe.yaml
    assert universe.loc["^RUT", "kind"] == "index"
    assert universe.loc["ACME", "kind"] == "stock"  # unknown, with fundamentals


def test_a_universe_csv_overrides_the_derivation(folder):
    write(
        folder,
        "universe.csv",
        "ticker,name,kind,size,style,sector,is_magnificent_7\n"
        "ACME,Acme Corp,stock,small,value,Industrials,false\n",
    )
    universe = FilesSource(folder).universe().set_index("ticker")
    assert universe.loc["ACME", "size"] == "small" and universe.loc["ACME", "name"] == "Acme Corp"


def test_the_default_window_is_the_span_of_the_files(folder):
    window = default_window(Settings(source=f"files:{folder}"))
    assert window == Window(dt.date(2024, 1, 31), dt.date(2024, 6, 10))
    narrow = default_window(Settings(source=f"files:{folder}", start=dt.date(2024, 6, 7)))
    assert narrow.start == dt.date(2024, 6, 7)
    assert set(FilesSource(folder).prices(narrow)["trade_date"].dt.day) == {7, 10}


BAD_FILES = [
    ("prices/IWM.csv", "Day,Close\n2024-06-06,1\n", r"IWM.csv has no date column \(expected Date"),
    ("prices/IWM.csv", "Date,Open\n2024-06-06,1\n", r"IWM.csv has no Close column"),
    (
        "prices/IWM.csv",
        "Date,Close\n2024-06-06,1\n2024-06-31,2\n",
        r"IWM.csv line 3: Date '2024-06-31' is not a date",
    ),
    (
        "prices/IWM.csv",
        "Date,Close\n2024-06-06,1\n2024-06-07,n/a\n",
        r"IWM.csv line 3: Close 'n/a' is not a number",
    ),
    (
        "prices/IWM.csv",
        "Date,Close,Volume\n2024-06-06,1,lots\n",
        r"IWM.csv line 2: Volume 'lots' is not a number",
    ),
    (
        "prices/IWM.csv",
        "Date,Close\n2024-06-06,1\n2024-06-07,2\n2024-06-06,3\n",
        r"IWM.csv line 4: duplicate Date 2024-06-06 \(first at .*IWM.csv line 2\)",
    ),
    ("prices/IWM.csv", "", r"IWM.csv is empty"),
    ("prices/IWM.csv", "Date,Close\n", r"IWM.csv has a header but no rows"),
    ("prices/IWM.csv", "Date,Close\n2024-06-06,\n", r"IWM.csv line 2: Close is empty"),
    ("rates/DFF.csv", "observation_date,DGS2\n2024-06-06,5\n", r"DFF.csv has no DFF value"),
    (
        "rates/DFF.csv",
        "observation_date,DFF\n2024-06-06,high\n",
        r"DFF.csv line 2: DFF 'high' is not a number",
    ),
    (
        "fundamentals/NVDA.csv",
        "period_end,eps\n2024-04-30,x\n",
        r"NVDA.csv line 2: eps 'x' is not a number",
    ),
    (
        "fundamentals/NVDA.csv",
        "period_end,eps,report_date\n2024-04-30,1,soon\n",
        r"NVDA.csv line 2: report_date 'soon' is not a date",
    ),
    ("prices/spy;drop.csv", "Date,Close\n2024-06-06,1\n", r"not a valid ticker symbol"),
    ("universe.csv", "ticker,kind\nSPY,bond\n", r"universe.csv line 2: .*kind='bond'"),
]


@pytest.mark.parametrize(
    ("name", "text", "message"), BAD_FILES, ids=[f"{n}:{m[:20]}" for n, _, m in BAD_FILES]
)
def test_a_bad_file_is_refused_naming_file_and_line(folder, name, text, message):
    write(folder, name, text)
    source = FilesSource(folder)
    with pytest.raises(SourceError, match=message):
        source.prices(ALL)  # any table: the whole folder is validated before any write


def test_a_bad_parquet_value_names_the_row(folder):
    pd.DataFrame({"Date": ["2024-06-06", "someday"], "Close": [1.0, 2.0]}).to_parquet(
        folder / "prices" / "SPY.parquet"
    )
    with pytest.raises(SourceError, match=r"SPY.parquet row 2: Date 'someday' is not a date"):
        FilesSource(folder).rates(ALL)


def test_two_files_for_one_ticker_are_refused(folder):
    write(folder, "prices/SPY.csv", "Date,Close\n2024-06-06,1\n")
    with pytest.raises(SourceError, match="both hold SPY"):
        FilesSource(folder).prices(ALL)


def test_a_folder_without_prices_fails_loudly(tmp_path):
    (tmp_path / "prices").mkdir()
    with pytest.raises(SourceError, match="has no .csv or .parquet files"):
        FilesSource(tmp_path).universe()
    with pytest.raises(SourceError, match="is not a folder"):
        FilesSource(tmp_path / "nope").universe()


def test_no_valuation_snapshots_come_from_files(folder):
    assert FilesSource(folder).valuation_snapshots(dt.date(2024, 6, 7)).empty


# --- ETF holdings files (holdings/, iShares' holdings CSV layout) -----------------------

HOLDINGS_FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "holdings"
ISHARES_HEADER = (
    "Ticker,Name,Sector,Asset Class,Market Value,Weight (%),Notional Value,Quantity,Price,"
    "Location,Exchange,Currency,FX Rate,Market Currency,Accrual Date"
)


def ishares_file(rows: list[str], as_of: str | None = '"Jun 28, 2024"', header=ISHARES_HEADER):
    """An iShares holdings download: the nine-line preamble, the header, ``rows``, a footer."""
    preamble = ["iShares Russell 2000 ETF"]
    if as_of is not None:
        preamble.append(f"Fund Holdings as of,{as_of}")
    preamble += ['Inception Date,"May 22, 2000"', 'Shares Outstanding,"1.00"']
    preamble += ['Stock,"-"', 'Bond,"-"', 'Cash,"-"', 'Other,"-"', "\xa0"]
    footer = ["\xa0", '"The content contained herein is owned or licensed by BlackRock."']
    return "\n".join([*preamble, header, *rows, *footer]) + "\n"


def equity(ticker: str, weight: str = "0.50", quantity: str = "1,000.00") -> str:
    return (
        f'"{ticker}","{ticker} INC","Health Care","Equity","1,234.50","{weight}","1,234.50",'
        f'"{quantity}","1.23","United States","NASDAQ","USD","1.00","USD","-"'
    )


def test_holdings_files_load_equity_rows_with_the_preamble_date(folder):
    (folder / "holdings").mkdir()
    for fixture in HOLDINGS_FIXTURES.iterdir():
        (folder / "holdings" / fixture.name).write_bytes(fixture.read_bytes())
    batch = FilesSource(folder).etf_holdings()
    frame = batch.frame
    assert list(frame.columns) == list(ETF_HOLDINGS.payload)
    files = frame.groupby(["fund", frame["as_of_date"].dt.date.astype(str)])["ticker"]
    assert files.apply(sorted).to_dict() == {
        ("IWB", "2024-06-28"): ["AAPL", "BRK-B", "MSFT", "NVDA"],  # BRK.B: Yahoo's BRK-B
        ("IWM", "2024-06-28"): ["FTAI", "INSM", "SFM"],  # from IWM_holdings.csv
        ("IWM", "2024-09-30"): ["INSM", "PCVX", "SFM"],  # from IWM_2024-09-30.csv
    }
    insm = frame[(frame["ticker"] == "INSM") & (frame["as_of_date"] == "2024-06-28")].iloc[0]
    assert (insm["name"], insm["sector"], insm["asset_class"]) == (
        "INSMED INC",
        "Health Care",
        "Equity",
    )
    assert insm["weight"] == pytest.approx(0.0056)  # 0.56 %
    assert insm["market_value"] == pytest.approx(376_436_380.24)
    assert insm["shares"] == 5_618_453.0
    # cash, money-market and futures lines are dropped, and counted
    assert batch.skipped == {"Cash": 3, "Futures": 2, "Money Market": 1}


def test_a_folder_without_holdings_has_none(folder):
    batch = FilesSource(folder).etf_holdings()
    assert batch.frame.empty and list(batch.frame.columns) == list(ETF_HOLDINGS.payload)


def test_a_holdings_file_reads_down_to_the_footer(tmp_path):
    text = ishares_file(
        [
            equity("AAA", "1.50"),
            equity("AAA", "0.25", "500.00"),  # a second lot of one stock: summed
            '"-","UNLISTED RIGHTS","Health Care","Equity","-","0.00","-","10.00","-",'
            '"United States","-","USD","1.00","USD","-"',
            '"USD","USD CASH","Cash and/or Derivatives","Cash","9.00","0.01","9.00","9.00",'
            '"100.00","United States","-","USD","1.00","USD","-"',
            equity("BBB", "0.75", "-"),
        ]
    )
    held = read_holdings(write(tmp_path, "IWM_holdings.csv", text))
    assert (held.fund, held.as_of_date) == ("IWM", dt.date(2024, 6, 28))
    rows = held.frame.set_index("ticker")
    assert rows.loc["AAA", "weight"] == pytest.approx(0.0175)
    assert rows.loc["AAA", "shares"] == 1_500.0
    assert pd.isna(rows.loc["BBB", "shares"])  # "-": no quantity
    assert held.dropped == {"Cash": 1, "Equity without a ticker": 1}


BAD_HOLDINGS = [
    (ishares_file([equity("AAA")], as_of=None), r"IWM_holdings.csv: no 'Fund Holdings as of'"),
    (
        ishares_file([equity("AAA")], as_of='"-"'),
        r"IWM_holdings.csv line 2: Fund Holdings as of '-' is not a date",
    ),
    (
        ishares_file([equity("AAA")], header=ISHARES_HEADER.replace("Ticker", "Symbol")),
        r"IWM_holdings.csv: no header row starting with Ticker",
    ),
    (
        ishares_file([equity("AAA")], header=ISHARES_HEADER.replace("Weight (%)", "Wt")),
        r"IWM_holdings.csv line 10: the header has no Weight \(%\) column",
    ),
    (
        ishares_file([equity("AAA"), equity("BBB", "heavy")]),
        r"IWM_holdings.csv line 12: Weight \(%\) 'heavy' is not a number",
    ),
    (
        ishares_file([equity("AAA", "-")]),
        r"IWM_holdings.csv line 11: Weight \(%\) is empty",
    ),
    (
        ishares_file([equity("AAA", quantity="many")]),
        r"IWM_holdings.csv line 11: Quantity 'many' is not a number",
    ),
    (
        ishares_file([equity("AAA") + ',"extra"']),
        r"IWM_holdings.csv line 11: 16 cells under a header of 15",
    ),
    (ishares_file([equity("A;B")]), r"not a valid ticker symbol .*IWM_holdings.csv line 11"),
]


@pytest.mark.parametrize(
    ("text", "message"), BAD_HOLDINGS, ids=[m.split("csv", 1)[1][:32] for _, m in BAD_HOLDINGS]
)
def test_a_bad_holdings_file_is_refused_naming_file_and_line(folder, text, message):
    write(folder, "holdings/IWM_holdings.csv", text)
    with pytest.raises(SourceError, match=message):
        FilesSource(folder).prices(ALL)  # validated with the whole folder, before any write


def test_two_holdings_files_of_one_fund_and_date_are_refused(folder):
    write(folder, "holdings/IWM_holdings.csv", ishares_file([equity("AAA")]))
    write(folder, "holdings/IWM_2024-06-28.csv", ishares_file([equity("BBB")]))
    with pytest.raises(SourceError, match=r"both hold IWM as of 2024-06-28: keep one"):
        FilesSource(folder).etf_holdings()
