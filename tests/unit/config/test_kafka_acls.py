"""deploy/kafka/acls.sh, read as kafka-acls.sh reads its arguments: every grant is a Kafka
operation on a resource type that has it, and the relay and the reader get exactly what
their clients need (Kafka's "Operations and resources on protocols") and nothing more."""

from __future__ import annotations

import re
import shlex

from confluent_kafka.admin import AclOperation

from tests.support.compose import APP_SERVICES, SERVICES
from tests.support.paths import ROOT

SCRIPT = ROOT / "deploy" / "kafka" / "acls.sh"

# kafka-acls.sh's resource options and Kafka's resource types they name.
RESOURCE_OPTIONS = {
    "--topic": "Topic",
    "--group": "Group",
    "--transactional-id": "TransactionalId",
    "--cluster": "Cluster",
}
# The operations Kafka's authorizer knows for each resource type (AclCommand refuses others).
VALID = {
    "Topic": {"Read", "Write", "Create", "Delete", "Alter", "Describe", "DescribeConfigs",
              "AlterConfigs"},
    "Group": {"Read", "Describe", "Delete"},
    "TransactionalId": {"Describe", "Write"},
    "Cluster": {"Create", "ClusterAction", "DescribeConfigs", "AlterConfigs", "IdempotentWrite",
                "Alter", "Describe"},
}  # fmt: skip

Grant = tuple[str, str, str, str]  # principal, resource type, resource name, operation


def pascal(name: str) -> str:
    """IDEMPOTENT_WRITE -> IdempotentWrite: the form kafka-acls.sh takes (SecurityUtils)."""
    return "".join(part.capitalize() for part in name.split("_"))


KAFKA_OPERATIONS = {pascal(op.name) for op in AclOperation} - {"Unknown", "Any"}


def grants() -> set[Grant]:
    """Every ACL the script adds; an option it does not know fails the reading."""
    found: set[Grant] = set()
    for line in SCRIPT.read_text().replace("\\\n", " ").splitlines():
        if not line.startswith("acl "):
            continue
        words = shlex.split(line)[1:]
        principals, operations, resources = [], [], []
        while words:
            option = words.pop(0)
            if option == "--allow-principal":
                principals.append(words.pop(0))
            elif option == "--operation":
                operations.append(words.pop(0))
            elif option == "--cluster":
                resources.append(("Cluster", "kafka-cluster"))
            elif option in RESOURCE_OPTIONS:
                resources.append((RESOURCE_OPTIONS[option], words.pop(0)))
            else:
                raise AssertionError(f"acls.sh: option {option} is not read by this test")
        assert principals, line
        assert operations, line
        assert len(resources) == 1, line
        [(kind, name)] = resources
        found |= {(p, kind, name, op) for p in principals for op in operations}
    return found


def test_every_grant_names_a_kafka_operation_its_resource_type_has() -> None:
    assert grants()
    for principal, kind, name, operation in grants():
        assert operation in KAFKA_OPERATIONS, f"{operation} is not one of Kafka's operations"
        assert operation != "All", (principal, kind, name)
        assert operation in VALID[kind], f"{kind} has no operation {operation}"
        assert "*" not in name, (principal, kind, name)
        assert principal.startswith("User:"), principal


def test_the_relay_and_the_reader_get_what_their_clients_need_and_no_more() -> None:
    acls = SERVICES["kafka-acls"]["environment"]
    topic, group, txn = (
        f"${name}" for name in ("COMMITLOG_TOPIC", "COMMITLOG_GROUP", "COMMITLOG_TRANSACTIONAL_ID")
    )
    assert grants() == {
        # The relay's transactional producer: its transactional id, idempotent writes, the
        # topic's records; and migrate (same principal) creates the topic and reads its
        # configuration (ensure_commitlog_topic), which metadata requests describe.
        ("User:relay", "TransactionalId", txn, "Write"),
        ("User:relay", "TransactionalId", txn, "Describe"),
        ("User:relay", "Cluster", "kafka-cluster", "IdempotentWrite"),
        ("User:relay", "Topic", topic, "Write"),
        ("User:relay", "Topic", topic, "Describe"),
        ("User:relay", "Topic", topic, "Create"),
        ("User:relay", "Topic", topic, "DescribeConfigs"),
        # The consumer (and web's and beat's probes): the topic's records and metadata,
        # its group's membership and offsets.
        ("User:reader", "Topic", topic, "Read"),
        ("User:reader", "Topic", topic, "Describe"),
        ("User:reader", "Group", group, "Read"),
        ("User:reader", "Group", group, "Describe"),
    }
    # The names the script is given are the ones the app's clients use.
    for service in APP_SERVICES:
        env = SERVICES[service]["environment"]
        for name in ("COMMITLOG_TOPIC", "COMMITLOG_GROUP", "COMMITLOG_TRANSACTIONAL_ID"):
            assert env[name] == acls[name], (service, name)


def test_the_principals_granted_are_the_ones_the_broker_creates() -> None:
    start = (ROOT / "deploy" / "kafka" / "start.sh").read_text()
    created = set(re.findall(r"SCRAM-SHA-512=\[name=(\w+),", start))
    granted = {principal.removeprefix("User:") for principal, *_ in grants()}
    assert granted == created - {"admin"}  # admin is the superuser, granted nothing
    users = {SERVICES[s]["environment"]["COMMITLOG_SASL_USERNAME"] for s in APP_SERVICES}
    assert users == granted
