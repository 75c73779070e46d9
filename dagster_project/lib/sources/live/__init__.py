"""The live source: yfinance (prices, fundamentals, valuations) and FRED (rates).

``LiveSource`` is imported on first use: every build imports this package's network and
retry helpers, and only a live build needs yfinance and its HTTP stack (about a second
of imports in each process).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dagster_project.lib.sources.live.source import LiveSource

__all__ = ["LiveSource"]


def __getattr__(name: str):
    if name == "LiveSource":
        from dagster_project.lib.sources.live.source import LiveSource

        return LiveSource
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
