#!/usr/bin/env bash
# The compose stack's Kafka broker (KRaft, one node) with SASL/SCRAM for every client and
# ACLs (deploy/kafka/acls.sh) behind a deny-by-default authorizer. Three principals:
#   admin  - the broker itself (inter-broker and controller links) and acls.sh; superuser
#   relay  - the Celery worker's relay and migrate: the only writer of the commit-log topic
#   reader - the consumer, web (broker probe) and beat: reads the topic, nothing more
# SCRAM credentials live in the cluster metadata, so they are added when the storage is
# formatted (the first start with an empty volume); a later password change needs
# kafka-configs.sh --alter --add-config on a running broker.
# Passwords are pasted into JAAS strings: use letters, digits, '-' and '_' only.
set -euo pipefail
: "${KAFKA_ADMIN_PASSWORD:?}" "${KAFKA_RELAY_PASSWORD:?}" "${KAFKA_READER_PASSWORD:?}" "${CLUSTER_ID:?}"
for password in "$KAFKA_ADMIN_PASSWORD" "$KAFKA_RELAY_PASSWORD" "$KAFKA_READER_PASSWORD"; do
  [[ $password =~ ^[A-Za-z0-9_-]+$ ]] || { echo "Kafka passwords: letters, digits, - and _ only" >&2; exit 2; }
done
config=/opt/kafka/config/compose-server.properties
cat > "$config" <<PROPERTIES
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@kafka:9093
listeners=CLIENT://:9092,CONTROLLER://:9093
advertised.listeners=CLIENT://kafka:9092
listener.security.protocol.map=CLIENT:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT
inter.broker.listener.name=CLIENT
controller.listener.names=CONTROLLER
sasl.enabled.mechanisms=SCRAM-SHA-512
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
listener.name.client.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="$KAFKA_ADMIN_PASSWORD";
# KRaft's controller link cannot use SCRAM (its credentials are in the metadata it serves).
sasl.mechanism.controller.protocol=PLAIN
listener.name.controller.sasl.enabled.mechanisms=PLAIN
listener.name.controller.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="$KAFKA_ADMIN_PASSWORD" user_admin="$KAFKA_ADMIN_PASSWORD";
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
super.users=User:admin
allow.everyone.if.no.acl.found=false
log.dirs=/var/lib/kafka/data
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
PROPERTIES
# The admin's client configuration, for the health check and acls.sh.
cat > /opt/kafka/config/admin-client.properties <<PROPERTIES
security.protocol=SASL_PLAINTEXT
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="$KAFKA_ADMIN_PASSWORD";
PROPERTIES
/opt/kafka/bin/kafka-storage.sh format --ignore-formatted --cluster-id "$CLUSTER_ID" --config "$config" \
  --add-scram "SCRAM-SHA-512=[name=admin,password=$KAFKA_ADMIN_PASSWORD]" \
  --add-scram "SCRAM-SHA-512=[name=relay,password=$KAFKA_RELAY_PASSWORD]" \
  --add-scram "SCRAM-SHA-512=[name=reader,password=$KAFKA_READER_PASSWORD]"
exec /opt/kafka/bin/kafka-server-start.sh "$config"
