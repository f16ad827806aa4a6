#!/usr/bin/env bash
# Grants the compose stack's principals (deploy/kafka/start.sh) what they need and no
# more; run once the broker is up (the `kafka-acls` service). Adding an ACL twice is a no-op.
set -euo pipefail
: "${KAFKA_ADMIN_PASSWORD:?}" "${COMMITLOG_TOPIC:?}" "${COMMITLOG_GROUP:?}" "${COMMITLOG_TRANSACTIONAL_ID:?}"
client=/tmp/admin-client.properties
cat > "$client" <<PROPERTIES
security.protocol=SASL_PLAINTEXT
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="$KAFKA_ADMIN_PASSWORD";
PROPERTIES
acl() { /opt/kafka/bin/kafka-acls.sh --bootstrap-server kafka:9092 --command-config "$client" --add "$@"; }
# The relay: writes the topic in transactions; migrate (same principal) creates the topic.
acl --allow-principal User:relay --operation Write --operation Describe --operation Create \
  --operation DescribeConfigs --topic "$COMMITLOG_TOPIC"
acl --allow-principal User:relay --operation Write --operation Describe \
  --transactional-id "$COMMITLOG_TRANSACTIONAL_ID"
acl --allow-principal User:relay --operation IdempotentWrite --cluster
# The reader: the consumer group reads the topic and commits its offsets.
acl --allow-principal User:reader --operation Read --operation Describe --topic "$COMMITLOG_TOPIC"
acl --allow-principal User:reader --operation Read --operation Describe --group "$COMMITLOG_GROUP"
/opt/kafka/bin/kafka-acls.sh --bootstrap-server kafka:9092 --command-config "$client" --list
