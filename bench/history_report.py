"""The history benchmark's table, plot and section of BENCHMARKS.md."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Any

from bench.harness import Machine, progress, run_header, save_plot, table, write_section

SECTION = "history"
PATHS = [
    "reconciler run",
    "dashboard page",
    "/metrics",
    "submissions changelist",
    "changelist hash search",
    "POST /strategies",
    "relay batch (1,000 rows)",
    "consumer batch (500 records)",
]


@dataclass(frozen=True)
class History:
    sizes: list[int]
    results: list[dict[str, float]]  # milliseconds per path, one dict per size
    seeded: int
    seeding_s: float
    pruned: Any  # commitlog.prune.PruneRun
    locks: list[str]
    empty_rows: int  # submissions the measurement itself left in the "empty" database


def _plot(sizes: list[int], results: list[dict[str, float]]) -> str:
    def draw(figure: Any) -> None:
        axes = figure.add_subplot(1, 1, 1)
        for path in PATHS:
            axes.plot([n / 1e6 for n in sizes], [r[path] for r in results], marker="o", label=path)
        axes.set_xlabel("history (millions of recorded submissions, outbox rows, marks)")
        axes.set_ylabel("milliseconds (best of 3; relay and consumer: of 5)")
        axes.set_yscale("log")
        axes.set_title("Cost against history size")
        axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=3, fontsize="small")

    return save_plot(SECTION, draw)


def report(history: History, machine: Machine, command: str, *, write: bool) -> None:
    sizes, results, seeded, seeding_s = (
        history.sizes,
        history.results,
        history.seeded,
        history.seeding_s,
    )
    pruned, locks = history.pruned, history.locks
    marks = [n for n in (1_000_000, sizes[-1]) if n in sizes[1:]]
    headers = ["path", "empty (ms)"] + [f"{n / 1e6:g}M (ms)" for n in sizes[1:]]
    headers += [f"{n / 1e6:g}M / empty" for n in dict.fromkeys(marks)]
    rows = []
    for path in PATHS:
        row = [path] + [f"{result[path]:.1f}" for result in results]
        row += [
            f"{results[sizes.index(n)][path] / results[0][path]:.2f}" for n in dict.fromkeys(marks)
        ]
        rows.append(row)
    for line in rows:
        progress(" | ".join(line))
    if not write:
        return
    image = _plot(sizes, results)
    body = run_header("History: cost against the rows a control plane has kept", command, machine)
    body += (
        f"\nThe database is seeded with `generate_series` (`bench/history_seed.py`, "
        f"{seeding_s:.0f} s for {seeded:,} rows of each table), then vacuumed and analyzed, as "
        "autovacuum would have done: N recorded submissions, their outbox rows published and "
        "read back, their dedup marks. At each size, side by side in one run: one reconciler "
        "run (a live consumer with no lag), the dashboard, `/metrics`, the submissions "
        "changelist and a hash search on it (staff login, Django's test client in process), "
        "one `POST /strategies` (in process), one relay batch of 1,000 pending rows to the "
        "embedded broker, and one `apply_batch` of 500 of those records, all of them once "
        "untimed first (a fresh process's first calls). The writes go first, "
        f'so "empty" holds only the {history.empty_rows:,} submissions they leave (the pages '
        "show a full page at every size). Best of 3, each try the mean of 3 to 20 calls; "
        "relay and consumer: best of 5 batches.\n\n"
    )
    body += table(headers, rows)
    body += (
        "\n\nThe write paths are single calls and batches on a machine other work shares: "
        "they move with its load (the start and end load averages above), so read them over "
        "several runs."
    )
    deleted = ", ".join(f"{n:,} {name}" for name, n in pruned.deleted.items() if n)
    body += (
        f"\n\nThen `prune_commitlog`'s work with the default window: it deleted {deleted} "
        f"in {pruned.transactions:,} transactions of at most 5,000 rows, the median "
        f"{statistics.median(pruned.transaction_s) * 1000:.0f} ms, the longest "
        f"{pruned.longest_transaction_s * 1000:.0f} ms. "
        f"A slice holds row locks on its own rows and {', '.join(locks)} (and the same on "
        "their indexes), which no insert, update or other delete waits for.\n\n"
    )
    body += f"![cost against history size]({image})\n"
    write_section(SECTION, body)
