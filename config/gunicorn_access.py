"""gunicorn's access log in the one log format (config.logs): gunicorn's own prints the HTTP
Basic user name as decoded from the request, newlines included, so a client could write
whole lines of its choosing into the web process's output. Here every value goes through
the formatter that quotes and escapes it, and the line carries ts, level and logger like
every other record. gunicorn's `--access-logformat` is not read."""

from __future__ import annotations

from typing import Any

from gunicorn.glogging import Logger

from config.logs import FORMAT, KeyValueFormatter

# The fields of gunicorn's default (combined) format, named; the formatter quotes each.
# (gunicorn ships no type hints: Logger is Any to mypy.)
ACCESS_MESSAGE = (
    "event=http_request remote=%s user=%s method=%s path=%s protocol=%s status=%s "
    "bytes=%s duration_ms=%d referer=%s agent=%s"
)


class AccessLogger(Logger):  # type: ignore[misc]
    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for handler in self.access_log.handlers:
            handler.setFormatter(KeyValueFormatter(FORMAT))

    def access(self, resp: Any, req: Any, wsgi_env: dict[str, Any], request_time: Any) -> None:
        if not self.access_log_enabled:
            return
        atoms = self.atoms(resp, req, wsgi_env, request_time)
        # The path as sent (percent-escapes kept), as gunicorn's own request line has it.
        path = atoms["r"].split(" ")[1] if atoms["r"].count(" ") >= 2 else atoms["U"]
        self.access_log.info(
            ACCESS_MESSAGE,
            atoms["h"],
            atoms["u"],
            atoms["m"],
            path,
            atoms["H"],
            atoms["s"],
            atoms["b"],
            atoms["M"],
            atoms["f"],
            atoms["a"],
        )
