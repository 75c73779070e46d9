"""Every setting in one place, read from the environment.

The CLI, ``dagster dev`` and the tests all build their settings here, so the same
environment variable means the same thing on every path. CLI flags are written into
these variables before the definitions are built.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt"
DEFAULT_WAREHOUSE = PROJECT_ROOT / "data" / "warehouse.duckdb"
DEFAULT_DAGSTER_HOME = PROJECT_ROOT / "dagster_home"
DEFAULT_CLAIMS_FILE = PROJECT_ROOT / "claims.yaml"

SAMPLE_START = dt.date(1990, 1, 2)
SAMPLE_END = dt.date(2025, 12, 31)

ENV_SOURCE = "ROTATION_SOURCE"
ENV_WAREHOUSE = "ROTATION_WAREHOUSE"
ENV_START = "ROTATION_START"
ENV_END = "ROTATION_END"
ENV_SAMPLE_TICKERS = "ROTATION_SAMPLE_TICKERS"
ENV_SAMPLE_YEARS = "ROTATION_SAMPLE_YEARS"
ENV_SAMPLE_SEED = "ROTATION_SAMPLE_SEED"
ENV_CLAIMS = "ROTATION_CLAIMS"

_SOURCE_PATTERN = re.compile(r"^(sample|live|files:.+)$")


class SettingsError(ValueError):
    """A setting has a value we cannot use; the message names the variable."""


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
            raise SettingsError(
                f"{ENV_SOURCE}={source!r} is not a source: use sample, live or files:DIR"
            )
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


def _parse_date(env, name: str) -> dt.date | None:
    raw = env.get(name, "").strip()
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError as exc:
        raise SettingsError(f"{name}={raw!r} is not a date (expected YYYY-MM-DD)") from exc


def _parse_int(env, name: str) -> int | None:
    raw = env.get(name, "").strip()
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError as exc:
        raise SettingsError(f"{name}={raw!r} is not a whole number") from exc
    if value <= 0:
        raise SettingsError(f"{name}={raw!r} must be positive")
    return value


def ensure_dagster_home() -> Path:
    """Point DAGSTER_HOME at the project's instance unless the user chose another.

    The CLI and ``dagster dev`` must share one instance so CLI runs show in the UI; the
    instance config (pools, run queue) is committed in ``dagster_home/dagster.yaml``.
    """
    home = Path(os.environ.setdefault("DAGSTER_HOME", str(DEFAULT_DAGSTER_HOME)))
    home.mkdir(parents=True, exist_ok=True)
    return home
