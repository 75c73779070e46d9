"""The live source: yfinance (prices, fundamentals, valuations) and FRED (rates)."""

from dagster_project.lib.sources.live.source import LiveSource

__all__ = ["LiveSource"]
