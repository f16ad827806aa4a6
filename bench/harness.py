"""What every benchmark needs: its own database and broker, Django pointed at them, child
processes that are always stopped, progress lines, and its own section of BENCHMARKS.md.

The harness must configure the environment before Django is imported, so scripts create
a `BenchStack` first and import project modules that touch settings only after `start()`.
"""

from __future__ import annotations

import math
import os
import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
RESULTS = DOCS / "BENCHMARKS.md"
PG_SERVER_URL = os.environ.get("BENCH_PG_SERVER", "postgres://postgres@127.0.0.1:5432")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")

_started = time.monotonic()


def progress(message: str) -> None:
    """One line on stderr, prefixed with the seconds since the script started."""
    sys.stderr.write(f"[{time.monotonic() - _started:6.1f}s] {message}\n")
    sys.stderr.flush()


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (pct in 0..100) of a non-empty sequence."""
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def rss_kib(pid: int) -> int | None:
    """Resident set size of a live process in KiB, from /proc; None once it is gone."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None


def cpu_seconds(pid: int) -> float:
    """CPU (user + system) used so far by a live process and its live children, from /proc.

    Children that have exited count only once reaped, so callers read this around a window
    in which the processes they measure stay up (gunicorn's workers, say).
    """
    total = 0.0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            with open(f"/proc/{current}/stat", encoding="ascii") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{current}/task/{current}/children", encoding="ascii") as kids:
                pending.extend(int(child) for child in kids.read().split())
        except (FileNotFoundError, ProcessLookupError):
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime in clock ticks
    return total / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Machine:
    cores: int
    cpu: str
    memory_gib: float
    postgres: str
    python: str
    kafka_client: str
    load: tuple[float, float]  # 1-minute load average when the run started and ended

    def describe(self) -> str:
        return (
            f"{self.cores} cores ({self.cpu}), {self.memory_gib:.0f} GiB RAM; "
            f"PostgreSQL {self.postgres} (the machine's service, default durability settings); "
            f"Tansu broker (embedded, memory storage); Python {self.python}; {self.kafka_client}; "
            f"1-minute load average {self.load[0]:.1f} at the start, {self.load[1]:.1f} at the "
            "end (other work shares this machine)"
        )


def _markers(name: str) -> tuple[str, str]:
    return f"<!-- bench:{name}:start -->", f"<!-- bench:{name}:end -->"


def write_section(name: str, body: str) -> None:
    """Replace this script's section of BENCHMARKS.md (between its markers), or append it."""
    start, end = _markers(name)
    block = f"{start}\n{body.strip()}\n{end}"
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmarks\n"
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _: block, text, count=1)
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    RESULTS.write_text(text, encoding="utf-8")
    progress(f"wrote section {name!r} of {RESULTS.relative_to(ROOT)}")


def run_header(title: str, command: str, machine: Machine) -> str:
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"## {title}\n\nRun {stamp} with `{command}` on {machine.describe()}.\n"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join(" --- " for _ in headers) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def save_plot(name: str, draw: Callable[..., None]) -> str:
    """Draw a figure with `draw(figure)` and save it as docs/<name>.png; returns the file name."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    figure = pyplot.figure(figsize=(9, 5), dpi=100)
    draw(figure)
    figure.tight_layout()
    DOCS.mkdir(exist_ok=True)
    filename = f"{name}.png"
    figure.savefig(DOCS / filename)
    pyplot.close(figure)
    progress(f"saved docs/{filename}")
    return filename


def rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else 0.0


def fmt_rate(value: float) -> str:
    return f"{value:,.0f}"
