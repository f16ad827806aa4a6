"""Django settings: every knob comes from the environment or the YAML `gateway` section.

A configuration that must not start raises ConfigError with every problem found, one line
each; manage.py, gunicorn (config/gunicorn.py), Celery (config/celery.py) and bin/run print
them and exit with status 2 (docs/CONFIGURATION.md).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import django_stubs_ext
import environ

from commitlog.conf import declarations
from config.env import EnvReader
from config.logs import logging_config
from config.settings.cache import REDIS_BACKEND, cache_settings
from config.settings.kafka import commitlog_client_config
from config.settings.production import ProdValues, refuse_weak_prod_settings
from config.settings.rest import REST_FRAMEWORK, SPECTACULAR_SETTINGS  # noqa: F401
from config.settings.security import *  # noqa: F403 (lockout, CSP: fixed settings)
from config.yaml_file import ConfigError, load_gateway_config
from controlplane.api.limits import read_api_limits

# Generic admin/serializer classes (ModelAdmin[Model]) at run time, as the type stubs see them.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parents[2]  # the repository root (config/settings/../..)

env = environ.Env()
# Every setting is read through `read`, which collects what is wrong; the end of this
# module names all of it at once and stops the process.
read = EnvReader(os.environ)


try:
    _file = load_gateway_config(problems=read.problems)
except ConfigError as exc:
    raise ConfigError(*read.problems, *exc.problems) from None
for _key in _file.unknown_keys:
    sys.stderr.write(f"controlplane: configuration warning: {_key} is not a setting\n")

PROFILE = _file.profile
IS_PROD = PROFILE == "prod"


def _required_in_prod(name: str, dev_default: str) -> str:
    return read.required_in_prod(name, dev_default, is_prod=IS_PROD)


SECRET_KEY = _required_in_prod("DJANGO_SECRET_KEY", "dev-only-insecure-key-do-not-use-in-prod")
DEBUG = read.flag("DJANGO_DEBUG", not IS_PROD)
ALLOWED_HOSTS: list[str] = read.items(
    "DJANGO_ALLOWED_HOSTS", [] if IS_PROD else ["localhost", "127.0.0.1", "[::1]"]
)
if IS_PROD and not ALLOWED_HOSTS:
    read.problem("profile prod requires DJANGO_ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS: list[str] = read.items("DJANGO_CSRF_TRUSTED_ORIGINS", [])

_DEV_DATABASE = "postgres://postgres@127.0.0.1:5432/controlplane"
_database_url = _required_in_prod("DATABASE_URL", _DEV_DATABASE)
if not _database_url.startswith(("postgres://", "postgresql://")):
    read.problem(f"DATABASE_URL={_database_url!r} is not a postgres://user@host:port/name URL")
    _database_url = _DEV_DATABASE
DATABASES = {"default": env.db_url_config(_database_url)}
DATABASES["default"].setdefault("CONN_MAX_AGE", read.integer("DATABASE_CONN_MAX_AGE", 60))
# No `SELECT 1` before each request's first statement on a kept connection: a connection
# the server dropped is replaced at that statement instead (config/db_retry.py).
DATABASES["default"]["CONN_HEALTH_CHECKS"] = False
# PostgreSQL's JIT compiles any statement the planner costs above jit_above_cost, and on a
# table with millions of rows even the planner's row estimate (EXPLAIN) of a page count
# crosses it: each new connection's first such statement then spends tens of
# milliseconds compiling, a cost that grows with the history. Our statements are short;
# none gains from JIT.
if not read.flag("DATABASE_JIT", False):
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    _options["options"] = f"{_options.get('options', '')} -c jit=off".strip()
# A name per test run, so that runs sharing one server do not drop each other's database.
DATABASES["default"]["TEST"] = {"NAME": read.text("DATABASE_TEST_NAME", "") or None}

INSTALLED_APPS = [
    "controlplane.apps.ControlPlaneAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI's assets, pinned and served by this process
    "axes",  # admin login lockout (config.settings.security)
    "csp",
    "controlplane.apps.ControlPlaneConfig",
    "commitlog.apps.CommitLogConfig",
    "config.adminkit.apps.AdminKitConfig",
]

MIDDLEWARE = [
    "controlplane.ops.response_counts.ResponseCountMiddleware",  # outermost: sees every answer
    "django.middleware.security.SecurityMiddleware",
    # Serves the admin's static files under gunicorn, without a separate web server.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as axes asks
]

# How often a web process adds its response counts to the shared counters (/metrics).
METRICS_FLUSH_SECONDS = read.number("METRICS_FLUSH_SECONDS", 5.0)

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
APPEND_SLASH = False

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
FORMAT_MODULE_PATH = ["config.formats"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# prod serves collected files (the image runs collectstatic); dev serves from the apps.
STATIC_ROOT = read.text("DJANGO_STATIC_ROOT", str(BASE_DIR / "static") if IS_PROD else "") or None
WHITENOISE_USE_FINDERS = STATIC_ROOT is None
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Behind a proxy that sets X-Forwarded-Proto and X-Forwarded-For itself (nginx in compose).
TRUSTED_PROXY = read.flag("DJANGO_TRUSTED_PROXY", False)

if IS_PROD:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = read.flag("DJANGO_SECURE_SSL_REDIRECT", True)
    # Only a proxy that sets X-Forwarded-Proto itself may vouch for HTTPS (README).
    if TRUSTED_PROXY:
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = read.integer("DJANGO_SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

_security = read_security_settings(read)  # noqa: F405
SESSION_COOKIE_AGE = _security.session_cookie_age
AXES_FAILURE_LIMIT = _security.login_failure_limit
AXES_COOLOFF_TIME = _security.login_lockout

# --- API -------------------------------------------------------------------------------

# Largest request body the API reads; larger ones get 413 before any parsing.
API_MAX_BODY_BYTES = read.integer("API_MAX_BODY_BYTES", 1024 * 1024, minimum=1)
# Deepest JSON nesting accepted in a request body.
API_MAX_JSON_DEPTH = read.integer("API_MAX_JSON_DEPTH", 64, minimum=1)
# Caps per request and rates per credential (controlplane.api.limits); REST framework's
# and the OpenAPI schema's settings are constants, in config.settings.rest.
API_LIMITS = read_api_limits(read)
# Anonymous API calls: dev only, and only when asked for explicitly.
API_ALLOW_ANONYMOUS = read.flag("API_ALLOW_ANONYMOUS", False)
if IS_PROD and API_ALLOW_ANONYMOUS:
    read.problem("API_ALLOW_ANONYMOUS cannot be enabled with profile prod")
# Append the VersionSentinel node to submitted DAGs (docs/API.md).
GATEWAY_INSERT_SENTINEL = read.flag("GATEWAY_INSERT_SENTINEL", True)
DATA_UPLOAD_MAX_MEMORY_SIZE = API_MAX_BODY_BYTES

# The admin dashboard reloads itself this often (0: never).
DASHBOARD_REFRESH_SECONDS = read.integer("DASHBOARD_REFRESH_SECONDS", 15)
# Most rows one admin export (CSV or JSON) sends (config.adminkit.export_admin).
ADMIN_EXPORT_MAX_ROWS = read.integer("ADMIN_EXPORT_MAX_ROWS", 100_000, minimum=1)
# A filter on a column without an index searches only this many of the latest rows the
# other filters select (config.adminkit.window): as many as an export sends at most.
ADMIN_FILTER_SCAN_ROWS = read.integer("ADMIN_FILTER_SCAN_ROWS", 100_000, minimum=1)

# --- The commit log (commitlog.conf declares each setting, its default and minimum) ------

# The four commitlog_* keys may also come from the YAML file's `gateway` section.
_from_file = {key.upper(): getattr(_file, key) for key in ("commitlog_bootstrap",
    "commitlog_topic", "commitlog_group", "commitlog_transactional_id")}  # fmt: skip
_built: dict[str, Any] = {
    # Security options (SASL user and password, TLS) of every Kafka client of the service.
    "COMMITLOG_CLIENT_CONFIG": commitlog_client_config(read),
    "COMMITLOG_SIGNING_KEYS": _security.signing_keys,
}
_DECLARED = declarations()
for _declared in _DECLARED:
    _name = _declared.name
    if _declared.built:
        _value: Any = _built[_name]
    elif _name in _from_file:
        _value = _from_file[_name]
    else:
        _value = read.typed(_name, _declared.default, minimum=_declared.minimum)
    globals()[_name] = _value
COMMITLOG = {d.name: globals()[d.name] for d in _DECLARED}  # read by the beat schedule

# --- Celery ------------------------------------------------------------------------------

CELERY_BROKER_URL = _required_in_prod("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0")
CACHES = cache_settings(read, CELERY_BROKER_URL)  # the throttle's counters, in Redis
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_DEFAULT_QUEUE = read.text("CELERY_TASK_DEFAULT_QUEUE", "controlplane")
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Keep the worker's database connection across tasks (Celery closes it after each task
# otherwise); commitlog.tasks closes connections that are old or broke, as Django does.
# Reuse is safe here because no task has a time limit that could interrupt a query.
CELERY_DB_REUSE_MAX = 1_000_000
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Publishing a nudge must not stall a request when the Celery broker is away.
CELERY_BROKER_CONNECTION_TIMEOUT = 2.0
CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_timeout": 2.0, "socket_connect_timeout": 2.0}
CELERY_BEAT_SCHEDULE = {
    "relay-outbox": {
        "task": "commitlog.relay_outbox",
        "schedule": COMMITLOG["RELAY_BEAT_SECONDS"],
        "options": {"expires": COMMITLOG["RELAY_BEAT_SECONDS"] * 2},
    },
    "reconcile-outbox": {
        "task": "commitlog.reconcile_outbox",
        "schedule": COMMITLOG["RECONCILE_BEAT_SECONDS"],
        "options": {"expires": COMMITLOG["RECONCILE_BEAT_SECONDS"] * 2},
    },
    "prune-commitlog": {
        "task": "commitlog.prune_commitlog",
        "schedule": COMMITLOG["COMMITLOG_PRUNE_BEAT_SECONDS"],
        "options": {"expires": COMMITLOG["COMMITLOG_PRUNE_BEAT_SECONDS"]},
    },
}
CELERY_BEAT_SCHEDULE_FILENAME = read.text(
    "CELERY_BEAT_SCHEDULE_FILENAME", str(BASE_DIR / ".local" / "celerybeat-schedule")
)

# --- Logs ------------------------------------------------------------------------------

LOG_LEVEL = read.text("LOG_LEVEL", "INFO").upper()
LOGGING = logging_config(LOG_LEVEL)
# Celery logs through the same configuration instead of installing its own format.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# --- What prod refuses (config.settings.production) -------------------------------------

if IS_PROD:
    # What was given (an absent setting is already reported missing); each Redis URL
    # once: the cache falls back to the broker's.
    _redis_urls = {"CELERY_BROKER_URL": read.text("CELERY_BROKER_URL", "")}
    if CACHES["default"]["BACKEND"] == REDIS_BACKEND:
        _redis_urls.setdefault("CACHE_URL", CACHES["default"]["LOCATION"])
        if _redis_urls["CACHE_URL"] == CELERY_BROKER_URL:
            del _redis_urls["CACHE_URL"]
    _prod_values = ProdValues(
        secret_key=read.text("DJANGO_SECRET_KEY", ""),
        allowed_hosts=ALLOWED_HOSTS,
        database_url=read.text("DATABASE_URL", ""),
        redis_urls={k: v for k, v in _redis_urls.items() if v.startswith("redis")},
        signing_keys=_security.signing_keys,
        lockout_minutes=_security.login_lockout.total_seconds() / 60,
        throttle_rates={
            "API_THROTTLE_WRITE_RATE": API_LIMITS.write_rate,
            "API_THROTTLE_READ_RATE": API_LIMITS.read_rate,
            "API_AUTH_FAILURE_RATE": API_LIMITS.auth_failure_rate,
        },
        hsts_seconds=SECURE_HSTS_SECONDS,
    )
    refuse_weak_prod_settings(read, _prod_values, debug=DEBUG)

# Last: every problem found above, one line each, and the process stops.
read.finish()
