"""The files source: bring-your-own CSV/Parquet prices, FRED CSV rates, fundamentals."""

from dagster_project.lib.sources.files.source import FilesSource

__all__ = ["FilesSource"]
