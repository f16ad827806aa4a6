"""The rate the stack sustains without faults, found by a ramp: steps of rising request
rate, each held for a while; a step is sustained when the API kept the pace with every
request accepted quickly and the pipeline recorded all of it soon after."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from reliability.checks import unrecorded
from reliability.load import LoadGenerator, LoadResults

P95_LIMIT_S = 1.0
KEPT_PACE = 0.95  # of the step's rate
DRAINED_WITHIN_S = 10.0


@dataclass
class Step:
    rate: float
    achieved: float
    p95_s: float
    drained: bool
    failures: int  # answers other than 202, and attempts without an answer

    @property
    def sustained(self) -> bool:
        return (
            self.achieved >= KEPT_PACE * self.rate
            and self.p95_s <= P95_LIMIT_S
            and self.drained
            and self.failures == 0
        )

    def line(self) -> str:
        verdict = "sustained" if self.sustained else "not sustained"
        return (
            f"{self.rate:.0f}/s: {self.achieved:.0f}/s accepted, p95 {self.p95_s * 1000:.0f} ms,"
            f" {'drained' if self.drained else 'backlog left'}, {self.failures} failures:"
            f" {verdict}"
        )


@dataclass
class Ramp:
    steps: list[Step] = field(default_factory=list)
    results: list[LoadResults] = field(default_factory=list)

    @property
    def sustained_rate(self) -> float:
        """The highest step rate sustained (a retried step counts once it held)."""
        rates = [step.rate for step in self.steps if step.sustained]
        return max(rates, default=0.0)


def _drained(database_url: str, within_s: float) -> bool:
    deadline = time.monotonic() + within_s
    while unrecorded(database_url) > 0:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.25)
    return True


def find_sustained_rate(
    make_load: Callable[[float, float], LoadGenerator],
    database_url: str,
    *,
    start: float = 10.0,
    factor: float = 1.3,
    step_s: float = 15.0,
    ceiling: float = 1000.0,
    log: Callable[[str], None] = print,
) -> Ramp:
    """Raise the rate by `factor` from `start` until a step is not sustained."""
    ramp = Ramp()
    rate = start
    while rate <= ceiling:
        # A step that fails is tried once more: the machine is shared, and one slow
        # moment of another's work should not end the ramp.
        for _ in range(2):
            step = _step(make_load, database_url, ramp, rate, step_s)
            log(f"ramp {step.line()}")
            if step.sustained:
                break
        if not step.sustained:
            break
        rate *= factor
    return ramp


def _step(
    make_load: Callable[[float, float], LoadGenerator],
    database_url: str,
    ramp: Ramp,
    rate: float,
    step_s: float,
) -> Step:
    load = make_load(rate, step_s)
    load.start()
    load.join()
    results = load.results
    ramp.results.append(results)
    answered = sum(results.statuses.values())
    step = Step(
        rate=rate,
        achieved=results.accepted_requests / step_s,
        p95_s=results.p95_s(),
        drained=_drained(database_url, DRAINED_WITHIN_S),
        failures=answered - results.statuses[202] + results.transport_errors,
    )
    ramp.steps.append(step)
    return step
