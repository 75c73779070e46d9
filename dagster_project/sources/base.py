"""The source interface: one protocol, several implementations (sample, live, files).

A source answers for a date window and returns frames whose columns are exactly the
payload columns of the canonical raw schemas (``dagster_project.schemas``). It never
writes: the warehouse writer owns every write.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol

import pandas as pd


@dataclass(frozen=True)
class Window:
    """An inclusive date window [start, end] to load."""

    start: dt.date
    end: dt.date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"window end {self.end} is before its start {self.start}")


class SourceError(RuntimeError):
    """A source could not produce data; the message names what and why."""


class Source(Protocol):
    """What every source implements."""

    label: str
    """Stored in every raw row's ``source`` column, e.g. ``sample`` or ``live``."""

    synthetic: bool
    """True when the data is generated, so every surface can say so."""

    def universe(self) -> pd.DataFrame:
        """Payload columns of ``raw.universe``: every ticker the source covers."""
        ...

    def prices(self, window: Window) -> pd.DataFrame:
        """Payload columns of ``raw.prices`` for trade dates inside the window."""
        ...

    def fundamentals(self, window: Window) -> pd.DataFrame:
        """Payload columns of ``raw.fundamentals`` for period ends inside the window."""
        ...

    def rates(self, window: Window) -> pd.DataFrame:
        """Payload columns of ``raw.rates`` for observation dates inside the window."""
        ...
