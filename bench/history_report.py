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
    results: list[dict[str, float]]  # milliseconds per path at each size
    empties: list[dict[str, float]]  # the empty database, measured beside each size
    ratios: list[dict[str, float]]  # the median of the rounds' ratios at each size
    seeded: int
    seeding_s: float
    pruned: Any  # commitlog.upkeep.prune.PruneRun
    locks: list[str]
    ids: str  # the strategy ids of the history and the writes (bench.history_seed)
    rounds: int  # timed rounds per size, after one untimed


def _ratios(history: History, path: str) -> list[float]:
    return [ratio[path] for ratio in history.ratios]


def _plot(history: History) -> str:
    def draw(figure: Any) -> None:
        axes = figure.add_subplot(1, 1, 1)
        xs = [0.0] + [n / 1e6 for n in history.sizes]
        for path in PATHS:
            axes.plot(xs, [1.0, *_ratios(history, path)], marker="o", label=path)
        axes.axhline(1.1, color="grey", linestyle=":", linewidth=1)
        axes.axhline(2.0, color="grey", linestyle="--", linewidth=1)
        axes.set_xlabel("history (millions of recorded submissions, outbox rows, marks)")
        axes.set_ylabel("time / time on the empty database beside it")
        axes.set_title("Cost against history size (dotted: 1.1, dashed: 2)")
        axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=3, fontsize="small")

    return save_plot(SECTION, draw)


def report(history: History, machine: Machine, command: str, *, write: bool) -> None:
    pruned, locks = history.pruned, history.locks
    headers = ["path"]
    for n in history.sizes:
        label = f"{n / 1e6:g}M"
        headers += ["empty (ms)", f"{label} (ms)", f"{label} / empty"]
    rows = []
    # The paths of the plot, then the admin's other pages in the order they were timed.
    timed = [*PATHS, *(p for p in history.results[0] if p not in PATHS)] if history.results else []
    for path in timed:
        row = [path]
        for empty, result, ratio in zip(
            history.empties, history.results, history.ratios, strict=True
        ):
            row += [f"{empty[path]:.1f}", f"{result[path]:.1f}", f"{ratio[path]:.2f}"]
        rows.append(row)
    for line in rows:
        progress(" | ".join(line))
    if not write:
        return
    image = _plot(history)
    body = run_header("History: cost against the rows a control plane has kept", command, machine)
    body += (
        f"\nThe seeded database is filled with `generate_series` (`bench/history_seed.py`, "
        f"{history.seeding_s:.0f} s for {history.seeded:,} rows of each table), then vacuumed "
        "and analyzed, as autovacuum would have done: N recorded submissions, their outbox "
        "rows published and read back, their dedup marks, N recorded rebalance batches and "
        f"an Idempotency-Key for each, with {history.ids} strategy ids "
        "(the writes measured make theirs the same way). Beside it runs an empty database "
        "(a copy of the seeded one before seeding: the same staff user and token). At each "
        "size both are measured in alternating rounds, one untimed and then "
        f"{history.rounds} timed, so that the machine's drift over the minutes of the run falls on "
        "both alike. Each round times one reconciler run (a live consumer with no lag), the "
        "dashboard, `/metrics`, the submissions changelist and a hash search on it, every "
        "other changelist with each of its filters (its first choice that names a value), "
        "the first chunk of each CSV export (a full chunk of 2,000 rows on the seeded database, "
        "what the writes left on the empty one: compare it across sizes) and the batch "
        "search by Idempotency-Key (staff "
        "login, Django's test client in process; a filtered page the best of 3 single "
        "calls), `POST /strategies` (in process), a relay "
        "batch of 1,000 pending rows to the embedded broker, and an `apply_batch` of 500 of "
        "those records. In a round a page or a submission is the best of 3 tries of the mean "
        "of 3 to 20 calls, a relay or consumer batch the best of 5 batches. The times are "
        "each path's median over the rounds on either database; the ratio is the median of "
        "the rounds' ratios, each round's pair measured seconds apart. (Two copies of one "
        "database measured this way differ by up to a tenth on the writes and a quarter on "
        "the pages: read the ratios with that noise in mind.) Both databases keep what the "
        "rounds write (a few thousand rows a round), so "
        "the pages show a full page on both.\n\n"
    )
    body += table(headers, rows)
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
