"""Every setting in one place, read from the environment.

The CLI, ``dagster dev`` and the tests all build their settings here, so the same
environment variable means the same thing on every path. CLI flags are written into
these variables before the definitions are built.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass, fields
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt"
DEFAULT_WAREHOUSE = PROJECT_ROOT / "data" / "warehouse.duckdb"
DEFAULT_DAGSTER_HOME = PROJECT_ROOT / "dagster_home"
DEFAULT_CLAIMS_FILE = PROJECT_ROOT / "claims.yaml"

ENV_SOURCE = "ROTATION_SOURCE"
ENV_WAREHOUSE = "ROTATION_WAREHOUSE"
ENV_START = "ROTATION_START"
ENV_END = "ROTATION_END"
ENV_SAMPLE_TICKERS = "ROTATION_SAMPLE_TICKERS"
ENV_SAMPLE_YEARS = "ROTATION_SAMPLE_YEARS"
ENV_SAMPLE_SEED = "ROTATION_SAMPLE_SEED"
ENV_CLAIMS = "ROTATION_CLAIMS"
ENV_DUCKDB_MEMORY_LIMIT = "ROTATION_DUCKDB_MEMORY_LIMIT"
ENV_DUCKDB_THREADS = "ROTATION_DUCKDB_THREADS"
ENV_DUCKDB_TEMP_DIRECTORY = "ROTATION_DUCKDB_TEMP_DIRECTORY"

DEFAULT_DUCKDB_MEMORY_LIMIT = "800MB"
"""DuckDB's own default is 80% of RAM: a 19M-row window sort then takes 5 GB on a laptop
shared with everything else. Past this limit DuckDB spills to ``temp_directory``.

Why 800MB: once the raw loads stream in chunks, every phase of a 3,000 x 25-year build
peaks at one DuckDB working at its limit (the prices insert, the quality gate's window
query, dbt's marts) beside ~0.6 GB of Dagster process and, while dbt runs, ~0.3 GB of dbt's
own Python; DuckDB also holds some memory outside the limit. At 1.5GB those phases reached
2.0-2.4 GB for the tree; at 800MB the build stays under 2 GB (benchmarks/RESULTS.md)."""

_SOURCE_PATTERN = re.compile(r"^(sample|live|files:.+)$")


class SettingsError(ValueError):
    """A setting has a value we cannot use; the message names the variable.

    ``variable`` is that variable and ``for_flag`` words the same complaint for the flag
    it was written from, so the CLI names what the user typed (``--tickers must be
    positive``), not a ROTATION_SAMPLE_TICKERS they never set.
    """

    def __init__(
        self, message: str, variable: str | None = None, flag_detail: str | None = None
    ) -> None:
        super().__init__(message)
        self.variable = variable
        self.flag_detail = flag_detail

    def for_flag(self, flag: str) -> str:
        return f"{flag} {self.flag_detail}" if self.flag_detail else str(self)


def _invalid(name: str, raw: str, problem: str, flag_detail: str | None = None) -> SettingsError:
    """``NAME='raw' problem`` from the environment; ``--flag 'raw' problem`` from a flag."""
    return SettingsError(f"{name}={raw!r} {problem}", name, flag_detail or f"{raw!r} {problem}")


@dataclass(frozen=True)
class Settings:
    source: str = "sample"
    warehouse: Path = DEFAULT_WAREHOUSE
    start: dt.date | None = None
    end: dt.date | None = None
    sample_tickers: int | None = None
    sample_years: int | None = None
    sample_seed: int = 42
    claims_file: Path = DEFAULT_CLAIMS_FILE

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        source = env.get(ENV_SOURCE, "sample").strip() or "sample"
        if not _SOURCE_PATTERN.match(source):
            raise _invalid(ENV_SOURCE, source, "is not a source (sample, live, files:DIR)")
        warehouse = Path(env.get(ENV_WAREHOUSE) or DEFAULT_WAREHOUSE).expanduser().resolve()
        return cls(
            source=source,
            warehouse=warehouse,
            start=_parse_date(env, ENV_START),
            end=_parse_date(env, ENV_END),
            sample_tickers=_parse_int(env, ENV_SAMPLE_TICKERS),
            sample_years=_parse_int(env, ENV_SAMPLE_YEARS),
            sample_seed=_parse_int(env, ENV_SAMPLE_SEED) or 42,
            claims_file=Path(env.get(ENV_CLAIMS) or DEFAULT_CLAIMS_FILE).expanduser().resolve(),
        )


@dataclass(frozen=True)
class DuckDBSettings:
    """Memory, threads and spill folder for every DuckDB connection: ours and dbt's.

    One place, read from the environment, so the writer, the checks, the publish step and
    dbt (``dbt/profiles.yml`` reads the same variables) all stay inside one budget.
    """

    memory_limit: str = DEFAULT_DUCKDB_MEMORY_LIMIT
    threads: int | None = None
    temp_directory: Path | None = None

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> DuckDBSettings:
        env = os.environ if environ is None else environ
        memory = env.get(ENV_DUCKDB_MEMORY_LIMIT, "").strip() or DEFAULT_DUCKDB_MEMORY_LIMIT
        if not _MEMORY_PATTERN.match(memory):
            raise SettingsError(
                f"{ENV_DUCKDB_MEMORY_LIMIT}={memory!r} is not a size (e.g. 1.5GB, 800MB)"
            )
        temp = env.get(ENV_DUCKDB_TEMP_DIRECTORY, "").strip()
        return cls(
            memory_limit=memory,
            threads=_parse_int(env, ENV_DUCKDB_THREADS),
            temp_directory=Path(temp).expanduser().resolve() if temp else None,
        )

    def config(self, database: Path | None = None) -> dict[str, str]:
        """``duckdb.connect(config=...)`` for a connection to ``database``.

        The spill folder defaults to DuckDB's own choice for a file (``<file>.tmp``), made
        explicit so an in-memory connection (the publish step) can spill too.
        """
        temp = self.temp_directory or (Path(f"{database}.tmp") if database else None)
        config = {"memory_limit": self.memory_limit}
        if self.threads:
            config["threads"] = str(self.threads)
        if temp:
            config["temp_directory"] = str(temp)
        return config

    def environment(self) -> dict[str, str]:
        """The variables ``dbt/profiles.yml`` reads, so dbt runs under the same budget (its
        spill folder defaults to ``<warehouse>.tmp`` there, as here)."""
        env = {
            ENV_DUCKDB_MEMORY_LIMIT: self.memory_limit,
            ENV_DUCKDB_THREADS: str(self.threads or os.cpu_count() or 1),
        }
        if self.temp_directory:
            env[ENV_DUCKDB_TEMP_DIRECTORY] = str(self.temp_directory)
        return env


ENV_GATE_PREFIX = "ROTATION_GATE_"


@dataclass(frozen=True)
class GateSettings:
    """Thresholds of the statistical quality gates (``quality/anomalies.py``).

    Each field is overridden by ``ROTATION_GATE_<FIELD>`` (upper case), e.g.
    ``ROTATION_GATE_MOVE_SMALL_STOCK=0.8``. Moves are daily fractions (0.5 = 50%).

    Why these defaults: on real daily closes 1990-2026 the S&P 500 and Russell 2000 never
    moved 15% in a session, broad ETFs never 25%, while single stocks have real -70% and
    +100% days (OVV 2020-03-09, RGEN 1998-05-04): a move past the threshold is only looked
    at more closely (does it reverse? does a split explain it?), never rejected for its size.
    """

    move_index: float = 0.15
    move_etf: float = 0.25
    move_large_stock: float = 0.4
    move_small_stock: float = 0.5
    reversal_share: float = 0.1
    """A large move is a one-session spike (a bad tick) when the next close lands back
    within this share of the move (in log terms) of the close before it."""
    max_gap_sessions: int = 5
    stale_sessions: int = 5
    systemic_share: float = 0.02
    """The build halts when more than this share of the tickers priced on one day (or of
    one rate series' rows) is quarantined ..."""
    systemic_min_count: int = 3
    """... and at least this many: one bad tick among 49 tickers is a bad tick, not a
    broken feed."""

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> GateSettings:
        env = os.environ if environ is None else environ
        values = {}
        for item in fields(cls):
            name = ENV_GATE_PREFIX + item.name.upper()
            raw = env.get(name, "").strip()
            if not raw:
                continue
            try:
                value = int(raw) if item.type == "int" else float(raw)
            except ValueError as exc:
                raise SettingsError(f"{name}={raw!r} is not a number") from exc
            if not value > 0:
                raise SettingsError(f"{name}={raw!r} must be positive")
            values[item.name] = value
        return cls(**values)


_MEMORY_PATTERN = re.compile(r"^\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$", re.IGNORECASE)


def _parse_date(env, name: str) -> dt.date | None:
    raw = env.get(name, "").strip()
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError as exc:
        raise _invalid(name, raw, "is not a date (expected YYYY-MM-DD)") from exc


def _parse_int(env, name: str) -> int | None:
    raw = env.get(name, "").strip()
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError as exc:
        raise _invalid(name, raw, "is not a whole number") from exc
    if value <= 0:
        raise _invalid(name, raw, "must be positive", flag_detail=f"must be positive (got {raw})")
    return value


def reports_dir(warehouse: Path) -> Path:
    """Where ``rotation report`` and the report asset write: ``reports/`` beside the
    warehouse (``data/reports/`` by default), so each warehouse keeps its own report."""
    return Path(warehouse).parent / "reports"


def docs_dir(warehouse: Path) -> Path:
    """Where ``rotation docs`` writes the dbt and GX sites: ``docs/`` beside the warehouse."""
    return Path(warehouse).parent / "docs"


def dbt_log_path(warehouse: Path) -> Path:
    """Where a quiet ``rotation build`` keeps dbt's console output: ``logs/`` beside the
    warehouse, one file per warehouse, overwritten by its next build."""
    return Path(warehouse).parent / "logs" / f"{Path(warehouse).stem}-dbt.log"


def ensure_dagster_home() -> Path:
    """Point DAGSTER_HOME at the project's instance unless the user chose another.

    The CLI and ``dagster dev`` must share one instance so CLI runs show in the UI; the
    instance config (pools, run queue) is committed in ``dagster_home/dagster.yaml``.
    """
    home = Path(os.environ.setdefault("DAGSTER_HOME", str(DEFAULT_DAGSTER_HOME)))
    home.mkdir(parents=True, exist_ok=True)
    return home
