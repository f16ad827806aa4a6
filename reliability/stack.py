"""A private, restartable stack for fault injection: embedded PostgreSQL, Kafka-protocol
broker and Redis on fixed ports, and the control plane's processes (gunicorn, Celery
worker and beat, consumer), each of which can be killed and started again.

Every process reaches every server through a link of the fault proxy of its own (web,
worker and consumer to PostgreSQL; web, worker and beat to Redis), except Kafka: the
broker advertises one address, so the relay and the consumer share one link to it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from devstack.demo import wait_until_up
from devstack.kafka import EmbeddedKafka
from devstack.net import free_port
from devstack.postgres import EmbeddedPostgres
from devstack.process import ChildProcess
from devstack.redis import EmbeddedRedis
from reliability.proxy_process import ProxyProcess, RemoteLink

ROOT = Path(__file__).resolve().parent.parent

# The trigger counts every time a submission or batch is marked recorded: an independent
# witness of "applied twice" that does not trust the consumer's own bookkeeping.
AUDIT_SQL = """
CREATE TABLE IF NOT EXISTS fault_apply_audit (
  aggregate_id text NOT NULL, at timestamptz NOT NULL DEFAULT now()
);
CREATE OR REPLACE FUNCTION fault_audit_submission() RETURNS trigger AS $$
BEGIN
  IF NEW.status = 'recorded'
     AND (TG_OP = 'INSERT' OR NEW.recorded_at IS DISTINCT FROM OLD.recorded_at)
  THEN INSERT INTO fault_apply_audit (aggregate_id) VALUES (NEW.strategy_id::text);
  END IF;
  RETURN NEW;
END $$ LANGUAGE plpgsql;
CREATE OR REPLACE FUNCTION fault_audit_batch() RETURNS trigger AS $$
BEGIN
  IF NEW.status = 'recorded'
     AND (TG_OP = 'INSERT' OR NEW.recorded_at IS DISTINCT FROM OLD.recorded_at)
  THEN INSERT INTO fault_apply_audit (aggregate_id) VALUES (NEW.batch_id);
  END IF;
  RETURN NEW;
END $$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS fault_audit_submission ON controlplane_strategysubmission;
CREATE TRIGGER fault_audit_submission AFTER INSERT OR UPDATE ON controlplane_strategysubmission
  FOR EACH ROW EXECUTE FUNCTION fault_audit_submission();
DROP TRIGGER IF EXISTS fault_audit_batch ON controlplane_rebalancebatch;
CREATE TRIGGER fault_audit_batch AFTER INSERT OR UPDATE ON controlplane_rebalancebatch
  FOR EACH ROW EXECUTE FUNCTION fault_audit_batch();
"""


@dataclass
class FaultStack:
    workdir: Path
    web_port: int = field(default_factory=free_port)
    postgres: EmbeddedPostgres = field(init=False)
    kafka: EmbeddedKafka = field(init=False)
    redis: EmbeddedRedis = field(init=False)
    services: dict[str, ChildProcess] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)  # direct to the servers
    proxy: ProxyProcess = field(default_factory=ProxyProcess)

    def __post_init__(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.postgres = EmbeddedPostgres(self.workdir / "postgres", port=free_port())
        self.redis = EmbeddedRedis(self.workdir / "redis")
        self.proxy.start()
        self.kafka_link = self.proxy.add("kafka", free_port())
        self.kafka = EmbeddedKafka(
            port=self.kafka_link.upstream_port,
            advertised_port=self.kafka_link.port,
            log_file=self.workdir / "kafka.log",
        )

    @property
    def links(self) -> dict[str, RemoteLink]:
        return self.proxy.links

    def _service_env(self, name: str, servers: tuple[str, ...]) -> dict[str, str]:
        env = dict(self.env)
        assert self.postgres.port is not None
        if "postgres" in servers:
            link = self.proxy.add(f"{name}-postgres", self.postgres.port)
            env["DATABASE_URL"] = self.env["DATABASE_URL"].replace(
                f":{self.postgres.port}/", f":{link.port}/"
            )
        if "redis" in servers:
            link = self.proxy.add(f"{name}-redis", self.redis.port)
            env["CELERY_BROKER_URL"] = f"redis://{link.address}/0"
        return env

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def start(self) -> None:
        self.postgres.start()
        database_url = self.postgres.ensure_database("controlplane")
        self.kafka.start()
        self.redis.start()
        self.env = {
            **os.environ,
            "PROFILE": "dev",
            "DATABASE_URL": database_url,
            "DATABASE_CONN_MAX_AGE": "60",
            "COMMITLOG_BOOTSTRAP": self.kafka_link.address,
            "COMMITLOG_TOPIC": "commit-log",
            "COMMITLOG_GROUP": "gateway-commits",
            "CELERY_BROKER_URL": self.redis.url,
            "CELERY_BEAT_SCHEDULE_FILENAME": str(self.workdir / "celerybeat-schedule"),
            "RELAY_BEAT_SECONDS": "1",
            "RELAY_PUBLISH_TIMEOUT_SECONDS": "3",
            "RELAY_BACKOFF_BASE_SECONDS": "0.2",
            "RELAY_BACKOFF_MAX_SECONDS": "2",
            "RELAY_MAX_ATTEMPTS": "1000",
            "RECONCILE_BEAT_SECONDS": "2",
            "RECONCILE_AFTER_SECONDS": "10",
            "RECONCILE_CONSUMER_FRESH_SECONDS": "10",
            "CONSUMER_SESSION_TIMEOUT_MS": "6000",
            "CONSUMER_HEARTBEAT_SECONDS": "1",
            # The load is one client's, far beyond a credential's default rate.
            "API_THROTTLE_WRITE_RATE": "100000/s",
            "API_THROTTLE_READ_RATE": "100000/s",
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
        }
        self._manage("migrate", "--noinput")
        self._manage("ensure_commitlog_topic", "--partitions", "3")
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute(AUDIT_SQL)
        python = sys.executable
        logs = self.workdir
        envs = {
            "web": self._service_env("web", ("postgres", "redis")),
            "worker": self._service_env("worker", ("postgres", "redis")),
            "beat": self._service_env("beat", ("redis",)),
            "consumer": self._service_env("consumer", ("postgres",)),
        }
        self.services = {
            "web": self._service(
                "web",
                [python, "-m", "gunicorn", "config.wsgi:application", "--bind",
                 f"127.0.0.1:{self.web_port}", "--workers", "2", "--threads", "4",
                 "--graceful-timeout", "5"],
                logs / "web.log",
            ),
            "worker": self._service(
                "worker",
                [python, "-m", "celery", "-A", "config", "worker", "--concurrency", "1",
                 "--without-gossip", "--without-mingle", "--loglevel", "WARNING"],
                logs / "worker.log",
            ),
            "beat": self._service(
                "beat",
                [python, "-m", "celery", "-A", "config", "beat", "--loglevel", "WARNING",
                 "--schedule", str(logs / "celerybeat-schedule")],
                logs / "beat.log",
            ),
            "consumer": self._service(
                "consumer", [python, "manage.py", "consume_commitlog"], logs / "consumer.log"
            ),
        }  # fmt: skip
        for name, service in self.services.items():
            service.start(envs[name])
        self.wait_for_web()

    def _service(self, name: str, argv: list[str], log: Path) -> ChildProcess:
        # Own group, so a kill takes the whole process group (Celery's pool children).
        return ChildProcess(name, argv, env=self.env, cwd=ROOT, log_path=log, own_group=True)

    def _manage(self, *args: str) -> None:
        subprocess.run(  # noqa: S603
            [sys.executable, "manage.py", *args], env=self.env, cwd=ROOT, check=True,
            stdout=subprocess.DEVNULL,
        )  # fmt: skip

    def wait_for_web(self, timeout_s: float = 60.0) -> None:
        wait_until_up(self.base_url, timeout_s)

    # --- faults --------------------------------------------------------------------------

    def kill_and_restart(self, name: str) -> None:
        service = self.services[name]
        service.kill()
        service.start()

    def restart_broker(self, down_s: float) -> None:
        self.kafka.stop()
        time.sleep(down_s)
        self.kafka.start()
        # Memory storage starts empty: the topic comes back before clients recreate it wrong.
        # The admin client follows the advertised address, through the proxy, which may be
        # faulted right now: try until it goes through.
        deadline = time.monotonic() + 120
        while True:
            try:
                self._manage("ensure_commitlog_topic", "--partitions", "3")
                return
            except subprocess.CalledProcessError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)

    def kill_redis(self, down_s: float) -> None:
        """SIGKILL the Celery broker (queued messages go with it), start it again."""
        self.redis.kill()
        time.sleep(down_s)
        self.redis.start()

    def restart_postgres(self, down_s: float, mode: str) -> None:
        self.postgres.stop(mode=mode)
        time.sleep(down_s)
        self.postgres.start()

    def ensure_all_running(self) -> None:
        for service in self.services.values():
            if not service.alive:
                service.start()

    def stop(self) -> None:
        for service in self.services.values():
            service.stop()
        self.proxy.stop()
        self.redis.stop()
        self.kafka.stop()
        self.postgres.stop()
