"""How the service's Kafka clients authenticate: librdkafka's security options, read from
the environment once (settings.COMMITLOG_CLIENT_CONFIG) and given to every producer,
consumer and admin client. Free of Django, like config.env."""

from __future__ import annotations

from pathlib import Path

from config.env import EnvReader

PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
MECHANISMS = ("SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN")
PASSWORD_FILE = "COMMITLOG_SASL_PASSWORD_FILE"  # noqa: S105 (a variable's name)


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
    password = _password(read)
    if protocol.startswith("SASL_"):
        if mechanism not in MECHANISMS:
            read.problem(
                f"COMMITLOG_SASL_MECHANISM={mechanism!r} is not one of {', '.join(MECHANISMS)}"
            )
        if not username:
            read.problem(f"COMMITLOG_SECURITY_PROTOCOL={protocol} requires COMMITLOG_SASL_USERNAME")
        # An unreadable or empty password file has been named already.
        if not password and not read.text(PASSWORD_FILE, ""):
            read.problem(f"COMMITLOG_SECURITY_PROTOCOL={protocol} requires COMMITLOG_SASL_PASSWORD")
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


def _password(read: EnvReader) -> str:
    """COMMITLOG_SASL_PASSWORD, or the content of COMMITLOG_SASL_PASSWORD_FILE (a compose
    secret: then the password is in neither the command line nor the environment)."""
    password = read.text("COMMITLOG_SASL_PASSWORD", "")
    path = read.text(PASSWORD_FILE, "")
    if not path:
        return password
    if password:
        read.problem("COMMITLOG_SASL_PASSWORD and COMMITLOG_SASL_PASSWORD_FILE are both set")
        return password
    try:
        # One line, as a secret file is written: its final newline is no part of it.
        from_file = Path(path).read_text().rstrip("\r\n")
    except OSError as exc:
        read.problem(f"{PASSWORD_FILE}={path!r} cannot be read: {exc.strerror or exc}")
        return ""
    except UnicodeDecodeError:
        read.problem(f"{PASSWORD_FILE}={path!r} is not text")
        return ""
    if not from_file:
        read.problem(f"{PASSWORD_FILE}={path!r} is empty")
    return from_file
