"""How the service's Kafka clients authenticate: librdkafka's security options, read from
the environment once (settings.COMMITLOG_CLIENT_CONFIG) and given to every producer,
consumer and admin client. Free of Django, like config.env."""

from __future__ import annotations

from config.env import EnvReader

PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
MECHANISMS = ("SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN")


def commitlog_client_config(read: EnvReader) -> dict[str, str]:
    """librdkafka options for COMMITLOG_SECURITY_PROTOCOL and, with SASL, the mechanism,
    user name and password; every inconsistency is a problem for `read`."""
    protocol = read.text("COMMITLOG_SECURITY_PROTOCOL", "PLAINTEXT").upper()
    if protocol not in PROTOCOLS:
        read.problem(
            f"COMMITLOG_SECURITY_PROTOCOL={protocol!r} is not one of {', '.join(PROTOCOLS)}"
        )
        return {}
    config = {"security.protocol": protocol}
    mechanism = read.text("COMMITLOG_SASL_MECHANISM", "SCRAM-SHA-512").upper()
    username = read.text("COMMITLOG_SASL_USERNAME", "")
    password = read.text("COMMITLOG_SASL_PASSWORD", "")
    if protocol.startswith("SASL_"):
        if mechanism not in MECHANISMS:
            read.problem(
                f"COMMITLOG_SASL_MECHANISM={mechanism!r} is not one of {', '.join(MECHANISMS)}"
            )
        for name, value in (
            ("COMMITLOG_SASL_USERNAME", username),
            ("COMMITLOG_SASL_PASSWORD", password),
        ):
            if not value:
                read.problem(f"COMMITLOG_SECURITY_PROTOCOL={protocol} requires {name}")
        config.update(
            {"sasl.mechanism": mechanism, "sasl.username": username, "sasl.password": password}
        )
    elif username or password:
        # Credentials that would silently not be sent: the broker would see an anonymous client.
        read.problem(
            f"COMMITLOG_SASL_USERNAME/PASSWORD are set but COMMITLOG_SECURITY_PROTOCOL={protocol} "
            "sends no credentials (use SASL_PLAINTEXT or SASL_SSL)"
        )
    ca_location = read.text("COMMITLOG_SSL_CA_LOCATION", "")
    if ca_location:
        if not protocol.endswith("SSL"):
            read.problem(
                f"COMMITLOG_SSL_CA_LOCATION is set but COMMITLOG_SECURITY_PROTOCOL={protocol}"
            )
        config["ssl.ca.location"] = ca_location
    return config
