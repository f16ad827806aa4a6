"""Typed reads of the environment that collect every problem instead of stopping at the
first: a process with three settings wrong hears of all three, one line each, and no
traceback. Free of Django, like config.yaml_file."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from config.yaml_file import ConfigError, env_value

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
_PERIODS = {
    **dict.fromkeys(("s", "sec", "second"), 1.0),
    **dict.fromkeys(("m", "min", "minute"), 60.0),
    **dict.fromkeys(("h", "hour"), 3600.0),
    **dict.fromkeys(("d", "day"), 86400.0),
}


class EnvReader:
    def __init__(self, environ: Mapping[str, str]) -> None:
        self.environ = environ
        self.problems: list[str] = []

    def _raw(self, name: str) -> str | None:
        return env_value(self.environ, name)

    def problem(self, message: str) -> None:
        self.problems.append(message)

    def text(self, name: str, default: str) -> str:
        value = self._raw(name)
        return default if value is None else value

    def items(self, name: str, default: list[str]) -> list[str]:
        value = self._raw(name)
        if value is None:
            return default
        return [item.strip() for item in value.split(",") if item.strip()]

    def flag(self, name: str, default: bool) -> bool:
        value = self._raw(name)
        if value is None:
            return default
        if value.lower() in _TRUE:
            return True
        if value.lower() in _FALSE:
            return False
        self.problem(f"{name}={value!r} is not true or false")
        return default

    def integer(self, name: str, default: int, *, minimum: int = 0) -> int:
        return int(self._number(name, default, minimum, int, "a whole number"))

    def number(self, name: str, default: float, *, minimum: float = 0.0) -> float:
        return float(self._number(name, default, minimum, float, "a number"))

    def _number(
        self,
        name: str,
        default: float,
        minimum: float,
        convert: Callable[[str], float],
        kind: str,
    ) -> float:
        value = self._raw(name)
        if value is None:
            return default
        try:
            number = convert(value)
        except ValueError:
            self.problem(f"{name}={value!r} is not {kind}")
            return default
        if not number >= minimum:  # NaN too
            self.problem(f"{name}={value} is below its minimum of {minimum:g}")
            return default
        return number

    def rate(self, name: str, default: str) -> tuple[int, float] | None:
        """A rate `N/s`, `N/min`, `N/h` or `N/day` as (N, seconds); `off` means none."""
        value = self._raw(name)
        if value is not None:
            try:
                return _parse_rate(value)
            except ValueError:
                self.problem(f"{name}={value!r} is not a rate such as 100/min (or off)")
        return _parse_rate(default)

    def required_in_prod(self, name: str, dev_default: str, *, is_prod: bool) -> str:
        value = self._raw(name)
        if value is not None:
            return value
        if is_prod:
            self.problem(f"profile prod requires {name}")
        return dev_default

    def typed(self, name: str, default: object, *, minimum: float | None = None) -> object:
        """A value of the default's type: a flag, a whole number, a number or a text."""
        if isinstance(default, bool):
            return self.flag(name, default)
        if isinstance(default, int):
            return self.integer(name, default, minimum=int(minimum or 0))
        if isinstance(default, float):
            return self.number(name, default, minimum=minimum or 0.0)
        if isinstance(default, str):
            return self.text(name, default)
        raise TypeError(f"{name}: no reading for a {type(default).__name__} default")

    def finish(self) -> None:
        """Raise ConfigError naming every problem found, if any."""
        if self.problems:
            raise ConfigError(*self.problems)


def _parse_rate(text: str) -> tuple[int, float] | None:
    if text.strip().lower() == "off":
        return None
    count, _, unit = text.partition("/")
    seconds = _PERIODS.get(unit.strip().lower())
    if not count.strip().isdigit() or int(count) < 1 or seconds is None:
        raise ValueError(text)
    return int(count), seconds
