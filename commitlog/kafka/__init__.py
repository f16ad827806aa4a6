"""The only package that imports confluent_kafka: a transactional writer, a consumer and
topic administration, all speaking plain Python values to the rest of the code."""

from commitlog.kafka.admin import TopicReport, broker_reachable, ensure_topic, wait_for_broker
from commitlog.kafka.consumer import LogConsumer
from commitlog.kafka.producer import OutgoingRecord, Position, PublishError, TransactionalWriter

__all__ = [
    "LogConsumer",
    "OutgoingRecord",
    "Position",
    "PublishError",
    "TopicReport",
    "TransactionalWriter",
    "broker_reachable",
    "ensure_topic",
    "wait_for_broker",
]
