"""Where a build's time went, read from its own progress log.

``rotation build`` prints ``[  12.3s] ▶ step`` / ``[  15.0s] ✔ step`` lines for every
Dagster step, and dbt prints one line per node with its duration (prefixed with the time
of day when dbt runs by itself, as for the EDGAR models). Parsing them needs no
access to the Dagster instance or to dbt's target folder (which other runs may share).
"""

from __future__ import annotations

import re
from pathlib import Path

ANSI = re.compile(r"\x1b\[[0-9;]*m")
STEP = re.compile(r"^\[\s*([\d.]+)s\] (▶|✔|✖|✘) (\S+)(?:\s.*)?$")
DBT_NODE = re.compile(
    r"^(?:\d\d:\d\d:\d\d\s+)?\d+ of \d+ (?:OK created sql (?P<kind>table|view|incremental) model"
    r"|OK loaded seed file|(?P<result>PASS|FAIL|WARN|ERROR)) (?P<name>\S+).*?"
    r" in (?P<seconds>[\d.]+)s\]\s*$"
)
DBT_TOTAL = re.compile(r"^(?:\d\d:\d\d:\d\d\s+)?Finished running .* \(([\d.]+)s\)\.\s*$")


def parse_build_log(paths: list[Path], wall_seconds: float | None = None) -> dict:
    """Step durations (Dagster) and node durations (dbt) from a build's output.

    ``paths``: the build's stderr (Dagster's progress) and stdout (dbt's node lines).
    ``run_seconds`` is the run's own clock at its last step; with ``wall_seconds`` it
    gives the time spent outside the run (interpreter start, imports, loading the
    definitions and the dbt manifest, the Dagster instance, shutdown).
    """
    lines = [
        ANSI.sub("", raw).rstrip()
        for path in paths
        if Path(path).exists()
        for raw in Path(path).read_text(errors="replace").splitlines()
    ]
    starts: dict[str, float] = {}
    steps: dict[str, float] = {}
    models: dict[str, float] = {}
    tests_seconds, tests, dbt_seconds, run_seconds = 0.0, 0, None, 0.0
    for line in lines:
        if step := STEP.match(line):
            at, mark, name = float(step.group(1)), step.group(2), step.group(3)
            run_seconds = max(run_seconds, at)
            if mark == "▶":
                starts[name] = at
            elif name in starts:
                steps[name] = round(at - starts[name], 2)
        elif node := DBT_NODE.match(line):
            seconds = float(node.group("seconds"))
            if node.group("result"):
                tests_seconds += seconds
                tests += 1
            else:
                models[node.group("name")] = seconds
        elif total := DBT_TOTAL.match(line):
            dbt_seconds = float(total.group(1))
    return {
        "run_seconds": run_seconds,
        "outside_run_seconds": (
            round(wall_seconds - run_seconds, 2) if wall_seconds is not None else None
        ),
        "steps_seconds": dict(sorted(steps.items(), key=lambda kv: -kv[1])),
        "dbt_seconds": dbt_seconds,
        "dbt_models_seconds": dict(sorted(models.items(), key=lambda kv: -kv[1])),
        "dbt_tests": tests,
        "dbt_tests_seconds": round(tests_seconds, 2),
    }
