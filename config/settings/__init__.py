"""Django settings: every knob comes from the environment or the YAML `gateway` section.

A configuration that must not start (README, "Configuration") ends the process here with
one line on stderr and exit status 2, which covers web, worker, beat and consumer alike.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import django_stubs_ext
import environ

from config.env import EnvReader
from config.logs import logging_config
from config.settings.cache import cache_settings
from config.settings.kafka import commitlog_client_config
from config.settings.production import refuse_weak_prod_settings
from config.settings.rest import REST_FRAMEWORK, SPECTACULAR_SETTINGS  # noqa: F401
from config.settings.security import *  # noqa: F403 (lockout, CSP: fixed settings)
from config.yaml_file import ConfigError, GatewayConfig, load_gateway_config, unknown_keys
from controlplane.api.limits import read_api_limits

# Generic admin/serializer classes (ModelAdmin[Model]) at run time, as the type stubs see them.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parents[2]  # the repository root (config/settings/../..)

env = environ.Env()
# Every setting is read through `read`, which collects what is wrong; the end of this
# module names all of it at once and stops the process.
read = EnvReader(os.environ)


def _fail(message: str) -> None:
    sys.stderr.write(f"controlplane: configuration error: {message}\n")
    raise SystemExit(2)


try:
    GATEWAY: GatewayConfig = load_gateway_config(problems=read.problems)
    for _key in unknown_keys():
        sys.stderr.write(f"controlplane: configuration warning: {_key} is not a setting\n")
except ConfigError as exc:
    _fail(str(exc))
    raise  # unreachable; keeps type checkers sure GATEWAY is bound

PROFILE = GATEWAY.profile
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
if IS_PROD:
    refuse_weak_prod_settings(read, debug=DEBUG, secret_key=SECRET_KEY, allowed_hosts=ALLOWED_HOSTS)
CSRF_TRUSTED_ORIGINS: list[str] = read.items("DJANGO_CSRF_TRUSTED_ORIGINS", [])

_DEV_DATABASE = "postgres://postgres@127.0.0.1:5432/controlplane"
_database_url = _required_in_prod("DATABASE_URL", _DEV_DATABASE)
if not _database_url.startswith(("postgres://", "postgresql://")):
    read.problem(f"DATABASE_URL={_database_url!r} is not a postgres://user@host:port/name URL")
    _database_url = _DEV_DATABASE
DATABASES = {"default": env.db_url_config(_database_url)}
DATABASES["default"].setdefault("CONN_MAX_AGE", read.integer("DATABASE_CONN_MAX_AGE", 60))
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
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

if IS_PROD:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = read.flag("DJANGO_SECURE_SSL_REDIRECT", True)
    # Only a proxy that sets X-Forwarded-Proto itself may vouch for HTTPS (README).
    if read.flag("DJANGO_TRUSTED_PROXY", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = read.integer("DJANGO_SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

_security = read_security_settings(read)  # noqa: F405 (commitlog.signing reads the keys)
SESSION_COOKIE_AGE, AXES_FAILURE_LIMIT, AXES_COOLOFF_TIME, COMMITLOG_SIGNING_KEYS = _security

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

# --- Relay (outbox -> Kafka) ---------------------------------------------------------

RELAY_BATCH_SIZE = read.integer("RELAY_BATCH_SIZE", 1000, minimum=1)
RELAY_MAX_ATTEMPTS = read.integer("RELAY_MAX_ATTEMPTS", 10, minimum=1)
RELAY_BACKOFF_BASE_SECONDS = read.number("RELAY_BACKOFF_BASE_SECONDS", 1.0)
RELAY_BACKOFF_MAX_SECONDS = read.number("RELAY_BACKOFF_MAX_SECONDS", 300.0)
# One run publishes until nothing is due or this budget is spent; the next nudge goes on.
RELAY_RUN_BUDGET_SECONDS = read.number("RELAY_RUN_BUDGET_SECONDS", 20.0)
RELAY_PUBLISH_TIMEOUT_SECONDS = read.number("RELAY_PUBLISH_TIMEOUT_SECONDS", 10.0)
RELAY_BEAT_SECONDS = read.number("RELAY_BEAT_SECONDS", 5.0)
RELAY_NUDGE_ENABLED = read.flag("RELAY_NUDGE_ENABLED", True)
RELAY_NUDGE_EXPIRES_SECONDS = read.number("RELAY_NUDGE_EXPIRES_SECONDS", 60.0)
# How long a queued nudge spares other commits theirs, if the run it starts never clears
# it (a nudge lost after being marked): after that, the next commit sends again.
RELAY_NUDGE_QUEUED_TTL_SECONDS = read.number("RELAY_NUDGE_QUEUED_TTL_SECONDS", 2.0)
# Largest record value a write may produce: below the producer's and broker's
# message.max.bytes (1 MB by default), so an accepted submission can always be published.
COMMITLOG_MAX_RECORD_BYTES = read.integer("COMMITLOG_MAX_RECORD_BYTES", 900_000, minimum=1)
# Published rows not read back this long after publishing, while the consumer reports in
# (within RECONCILE_CONSUMER_FRESH_SECONDS) with no lag, are republished: the log lost them.
RECONCILE_AFTER_SECONDS = read.number("RECONCILE_AFTER_SECONDS", 60.0)
RECONCILE_CONSUMER_FRESH_SECONDS = read.number("RECONCILE_CONSUMER_FRESH_SECONDS", 30.0)
RECONCILE_BEAT_SECONDS = read.number("RECONCILE_BEAT_SECONDS", 30.0)
# Retention (commitlog.upkeep.prune): the log's bookkeeping older than this many days is
# deleted, in transactions of at most COMMITLOG_PRUNE_BATCH_SIZE rows per table, by beat
# every COMMITLOG_PRUNE_BEAT_SECONDS (each run stops after COMMITLOG_PRUNE_BUDGET_SECONDS,
# so the worker soon gets back to relaying; the next run goes on) and by prune_commitlog.
COMMITLOG_RETENTION_DAYS = read.number("COMMITLOG_RETENTION_DAYS", 7.0)
COMMITLOG_PRUNE_BATCH_SIZE = read.integer("COMMITLOG_PRUNE_BATCH_SIZE", 5000, minimum=1)
COMMITLOG_PRUNE_BEAT_SECONDS = read.number("COMMITLOG_PRUNE_BEAT_SECONDS", 600.0)
COMMITLOG_PRUNE_BUDGET_SECONDS = read.number("COMMITLOG_PRUNE_BUDGET_SECONDS", 10.0)
COMMITLOG_TOPIC_PARTITIONS = read.integer("COMMITLOG_TOPIC_PARTITIONS", 3, minimum=1)
COMMITLOG_TOPIC_REPLICATION = read.integer("COMMITLOG_TOPIC_REPLICATION", 1, minimum=1)
# Security options (SASL user and password, TLS) of every Kafka client of the service.
COMMITLOG_CLIENT_CONFIG = commitlog_client_config(read)

# --- Consumer (commit log -> state) ----------------------------------------------------

CONSUMER_BATCH_SIZE = read.integer("CONSUMER_BATCH_SIZE", 500, minimum=1)
CONSUMER_SESSION_TIMEOUT_MS = read.integer("CONSUMER_SESSION_TIMEOUT_MS", 10000, minimum=1)
# An idle consumer still reports its position and liveness this often.
CONSUMER_HEARTBEAT_SECONDS = read.number("CONSUMER_HEARTBEAT_SECONDS", 5.0)
# Fault injection only (tests, drills): hold this long between DB commit and offset commit.
CONSUMER_PAUSE_BEFORE_OFFSET_COMMIT_SECONDS = read.number(
    "CONSUMER_PAUSE_BEFORE_OFFSET_COMMIT_SECONDS", 0.0
)

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
        "schedule": RELAY_BEAT_SECONDS,
        "options": {"expires": RELAY_BEAT_SECONDS * 2},
    },
    "reconcile-outbox": {
        "task": "commitlog.reconcile_outbox",
        "schedule": RECONCILE_BEAT_SECONDS,
        "options": {"expires": RECONCILE_BEAT_SECONDS * 2},
    },
    "prune-commitlog": {
        "task": "commitlog.prune_commitlog",
        "schedule": COMMITLOG_PRUNE_BEAT_SECONDS,
        "options": {"expires": COMMITLOG_PRUNE_BEAT_SECONDS},
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

# Last: every problem found above, one line each, and the process stops.
read.finish()
