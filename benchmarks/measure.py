"""Run a command and measure it: wall time and the peak RSS of its whole process tree.

Every contestant (the project's build, the floor, the peer, the data generator) runs as a
subprocess measured the same way, so their figures compare: wall time from spawn to exit,
and the peak over time of the summed resident set size of the process and all its
descendants (dbt runs as a child of the Dagster build), polled every ``interval`` seconds.
Summed RSS counts pages shared between processes once per process, so it errs high.
"""

from __future__ import annotations

import json
import resource
import subprocess
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import psutil

POLL_SECONDS = 0.1


@dataclass
class Measurement:
    command: list[str]
    seconds: float
    cpu_seconds: float
    """User + system CPU time of the whole tree (less sensitive to a busy machine)."""
    peak_rss_bytes: int
    peak_processes: int
    returncode: int
    log: str
    output: dict = field(default_factory=dict)
    """The JSON the command printed last on stdout, if any."""
    peak_breakdown: list[dict] = field(default_factory=list)
    """The processes of the tree at the peak, largest first: which one holds the memory."""
    rss_timeline: list[tuple[float, float]] = field(default_factory=list)
    """(seconds since start, tree RSS in MiB), about once a second."""

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def as_dict(self) -> dict:
        data = asdict(self)
        data["peak_rss_mb"] = round(self.peak_rss_bytes / 2**20, 1)
        return data


def tree_rss(root: psutil.Process) -> list[tuple[psutil.Process, int]]:
    """Each process of the tree (the root and its descendants) with its RSS."""
    try:
        processes = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []
    out = []
    for process in processes:
        try:
            out.append((process, process.memory_info().rss))
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return out


def describe(process: psutil.Process, rss: int) -> dict:
    try:
        command = " ".join(process.cmdline())
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        command = "?"
    return {"pid": process.pid, "command": command[:160], "rss_mb": round(rss / 2**20, 1)}


def run_measured(
    command: list[str],
    log_path: Path,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    interval: float = POLL_SECONDS,
) -> Measurement:
    """Run ``command`` to completion, stderr to ``log_path``, stdout to ``log_path``.out."""
    log_path = Path(log_path)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    out_path = log_path.with_suffix(log_path.suffix + ".out")
    peak, peak_tree, timeline, next_mark = 0, [], [], 0.0
    with open(log_path, "wb") as err, open(out_path, "wb") as out:
        cpu_before = _children_cpu()
        started = time.perf_counter()
        child = subprocess.Popen(command, stdout=out, stderr=err, env=env, cwd=cwd)
        try:
            root = psutil.Process(child.pid)
            while child.poll() is None:
                tree = tree_rss(root)
                rss = sum(r for _, r in tree)
                if rss > peak:
                    peak, peak_tree = rss, [describe(p, r) for p, r in tree]
                elapsed = time.perf_counter() - started
                if elapsed >= next_mark:
                    timeline.append((round(elapsed, 1), round(rss / 2**20, 1)))
                    next_mark = elapsed + 1.0
                time.sleep(interval)
        except BaseException:
            child.kill()
            child.wait()
            raise
        seconds = time.perf_counter() - started
        cpu = _children_cpu() - cpu_before
    return Measurement(
        command=[str(c) for c in command],
        seconds=seconds,
        cpu_seconds=round(cpu, 2),
        peak_rss_bytes=peak,
        peak_processes=len(peak_tree),
        returncode=child.returncode,
        log=str(log_path),
        output=last_json(out_path),
        peak_breakdown=sorted(peak_tree, key=lambda p: -p["rss_mb"]),
        rss_timeline=timeline,
    )


def _children_cpu() -> float:
    """CPU seconds of every waited-for descendant so far (grandchildren included once
    their parents waited for them): the difference around one run is that run's tree."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def last_json(path: Path) -> dict:
    """The last line of a file that parses as a JSON object ({} when there is none)."""
    for line in reversed(Path(path).read_text(errors="replace").splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                return json.loads(line)
            except json.JSONDecodeError:
                continue
    return {}
