"""gunicorn's configuration file (`gunicorn -c python:config.gunicorn config.wsgi`): the
settings are loaded once in the arbiter before any worker starts, so a configuration that
must not start is reported as lines, without a traceback per worker."""

from typing import Any

from config.startup import load_settings_or_exit

# The access log (`--access-logfile -`) in the escaping key=value format, never a raw
# value a client sent (config.gunicorn_access).
logger_class = "config.gunicorn_access.AccessLogger"


def on_starting(server: Any) -> None:
    load_settings_or_exit()
