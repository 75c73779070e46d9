"""The sample source: an offline, seeded market generator with the real FOMC history."""

from dagster_project.lib.sources.sample.generator import SampleSource

__all__ = ["SampleSource"]
