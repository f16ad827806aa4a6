"""The benchmarks' private stack: a database of their own, an embedded broker, a Celery
queue, and the processes they measure; everything stopped and dropped at the end."""

from __future__ import annotations

import logging
import os
import platform
import shutil
import signal
import tempfile
import uuid
from importlib import metadata
from pathlib import Path
from types import FrameType, TracebackType

from bench.harness import PG_SERVER_URL, REDIS_URL, ROOT, Machine, progress
from devstack.process import ChildProcess


def _on_server(statement: str, *names: str) -> None:
    """One statement on the server's maintenance database, `names` quoted into it."""
    import psycopg
    from psycopg import sql

    query = sql.SQL(statement).format(*(sql.Identifier(n) for n in names))
    with psycopg.connect(f"{PG_SERVER_URL}/postgres", autocommit=True) as admin:
        admin.execute(query)


def drop_database(name: str) -> None:
    _on_server("DROP DATABASE IF EXISTS {} WITH (FORCE)", name)


def copy_database(source: str | None, target: str) -> None:
    """`target` afresh: a copy of `source`, or empty when `source` is None."""
    drop_database(target)
    if source is None:
        _on_server("CREATE DATABASE {}", target)
    else:
        _on_server("CREATE DATABASE {} TEMPLATE {}", target, source)


def _terminate_as_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


class BenchStack:
    """A fresh database and an embedded Kafka-protocol broker for one benchmark script.

    `start()` creates both, sets the environment (child processes inherit `env`),
    sets up Django and migrates; `stop()` (or leaving the `with` block) stops every child
    process, the broker, and drops the database.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        suffix = uuid.uuid4().hex[:8]
        # The pid keeps two runs of one section (from two checkouts) off each other's database.
        self.database = f"bench_controlplane_{name}_{os.getpid()}"
        self.database_url = f"{PG_SERVER_URL}/{self.database}"
        self.topic = f"bench-{name}-{suffix}"
        self.group = f"bench-{name}-{suffix}"
        self.transactional_id = f"bench-{name}-{suffix}"
        self.celery_queue = f"bench-{name}-{suffix}"
        self.log_dir = Path(tempfile.mkdtemp(prefix=f"bench-{name}-"))
        self.children: list[ChildProcess] = []
        self.bootstrap = ""
        self._broker: object | None = None
        self.env: dict[str, str] = {}
        self._load_at_start = 0.0

    # --- lifecycle -------------------------------------------------------------------

    def __enter__(self) -> BenchStack:
        try:
            self.start()
        except BaseException:
            # `__exit__` is not called when `__enter__` fails: stop the broker and drop the
            # database a half-done start left behind.
            self.stop()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        signal.signal(signal.SIGTERM, _terminate_as_interrupt)
        self._load_at_start = os.getloadavg()[0]
        from devstack.kafka import EmbeddedKafka

        broker = EmbeddedKafka(log_file=self.log_dir / "tansu.log")
        self._broker = broker
        self.bootstrap = broker.start()
        progress(f"embedded broker at {self.bootstrap}")
        self._recreate_database()
        self.env = {
            **os.environ,
            "PROFILE": "dev",
            "DJANGO_DEBUG": "false",
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": self.database_url,
            "COMMITLOG_BOOTSTRAP": self.bootstrap,
            "COMMITLOG_TOPIC": self.topic,
            "COMMITLOG_GROUP": self.group,
            "COMMITLOG_TRANSACTIONAL_ID": self.transactional_id,
            "CELERY_BROKER_URL": REDIS_URL,
            "CELERY_TASK_DEFAULT_QUEUE": self.celery_queue,
            "CELERY_BEAT_SCHEDULE_FILENAME": str(self.log_dir / "celerybeat-schedule"),
            "CONSUMER_SESSION_TIMEOUT_MS": "6000",
            "LOG_LEVEL": "INFO",
            # The load is one client's, far beyond a credential's default rate.
            "API_THROTTLE_WRITE_RATE": "100000/s",
            "API_THROTTLE_READ_RATE": "100000/s",
        }
        os.environ.update(self.env)
        import django
        from django.core.management import call_command

        django.setup()
        # Child processes log at INFO as in production; this process only shows progress.
        logging.getLogger().setLevel(logging.WARNING)
        call_command("migrate", verbosity=0)
        progress(f"database {self.database} migrated")
        self.create_topic(self.topic)

    def stop(self) -> None:
        for child in reversed(self.children):
            child.stop()
        self.children.clear()
        try:
            from django.db import connections

            connections.close_all()
        except Exception as exc:  # Django may not be set up if start() failed early
            progress(f"closing connections: {exc}")
        self._drop_database()
        self._forget_celery_queue()
        broker = self._broker
        self._broker = None
        if broker is not None:
            from devstack.kafka import EmbeddedKafka

            assert isinstance(broker, EmbeddedKafka)
            broker.stop()
        shutil.rmtree(self.log_dir, ignore_errors=True)
        progress("stopped every process, dropped the database")

    # --- helpers ---------------------------------------------------------------------

    def create_topic(self, topic: str, partitions: int = 3) -> str:
        from commitlog.kafka import ensure_topic
        from commitlog.upkeep.topics import TOPIC_CONFIG

        ensure_topic(
            bootstrap=self.bootstrap,
            topic=topic,
            partitions=partitions,
            replication_factor=1,
            config=TOPIC_CONFIG,
        )
        return topic

    def delete_topic(self, topic: str) -> None:
        """Drop a topic the run is done with: the embedded broker keeps every record in
        memory (50,000 records of 7.6 KB held 400 MB), and a broker grown by the earlier
        rounds of a run measured them slower than the first."""
        from confluent_kafka.admin import AdminClient

        admin = AdminClient({"bootstrap.servers": self.bootstrap})
        admin.delete_topics([topic], operation_timeout=30)[topic].result(timeout=60)

    def spawn(self, name: str, args: list[str], **env: str) -> ChildProcess:
        log = self.log_dir / f"{name}.log"
        log.unlink(missing_ok=True)  # a respawned name starts a fresh log
        child = ChildProcess(name, args, env={**self.env, **env}, cwd=ROOT, log_path=log)
        self.children.append(child.start())
        return child

    def retire(self, child: ChildProcess) -> None:
        child.stop()
        if child in self.children:
            self.children.remove(child)

    @property
    def broker_pid(self) -> int | None:
        """The embedded broker's process id, for reading its CPU."""
        from devstack.kafka import EmbeddedKafka

        return self._broker.pid if isinstance(self._broker, EmbeddedKafka) else None

    def queued_tasks(self) -> int:
        """Messages waiting in this stack's Celery queue (relay nudges, when no worker runs)."""
        import redis

        client = redis.Redis.from_url(REDIS_URL)
        try:
            return int(client.llen(self.celery_queue))
        finally:
            client.close()

    def machine(self) -> Machine:
        import confluent_kafka
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            postgres = str(cursor.fetchone()[0]).split()[0]
        cpu = "unknown CPU"
        memory_kib = 0
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
        with open("/proc/meminfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("MemTotal:"):
                    memory_kib = int(line.split()[1])
        return Machine(
            cores=os.cpu_count() or 0,
            cpu=cpu,
            memory_gib=memory_kib / 1024 / 1024,
            postgres=postgres,
            python=platform.python_version(),
            kafka_client=(
                f"confluent-kafka {metadata.version('confluent-kafka')}, "
                f"librdkafka {confluent_kafka.libversion()[0]}"
            ),
            load=(self._load_at_start, os.getloadavg()[0]),
        )

    def _recreate_database(self) -> None:
        copy_database(None, self.database)

    def _drop_database(self) -> None:
        import psycopg

        try:
            drop_database(self.database)
        except psycopg.Error as exc:
            progress(f"could not drop {self.database}: {exc}")

    def _forget_celery_queue(self) -> None:
        import redis

        try:
            client = redis.Redis.from_url(REDIS_URL)
            client.delete(self.celery_queue, f"_kombu.binding.{self.celery_queue}")
            for key in client.scan_iter(match=f"*{self.celery_queue}*"):
                client.delete(key)
            client.close()
        except redis.RedisError as exc:
            progress(f"could not clean the Celery queue: {exc}")


# --- results ---------------------------------------------------------------------------
