"""A credential's log lines carry its limits as fields of their own (`worlds=`, `scopes=`),
never as pairs inside one quoted value."""

from __future__ import annotations

import logging

import pytest

from config.logs import FORMAT, KeyValueFormatter
from controlplane.services.credentials import (
    credential_issue,
    credential_limits,
    credential_set_limits,
)
from tests.support.logs import logfmt_fields

pytestmark = pytest.mark.django_db


def _fields(caplog: pytest.LogCaptureFixture, event: str) -> dict[str, str]:
    formatter = KeyValueFormatter(FORMAT)
    found = [logfmt_fields(formatter.format(r)) for r in caplog.records]
    (fields,) = [f for f in found if f.get("event") == event]
    return fields


def test_credential_lines_have_a_field_per_limit(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="controlplane.services.credentials")
    issued = credential_issue(name="test client")
    fields = _fields(caplog, "credential_issued")
    assert (fields["name"], fields["worlds"], fields["scopes"]) == ("test client", "*", "*")

    limits = credential_limits(worlds=["w1", "w 2"], scopes=[])
    credential_set_limits(credential=issued.credential, limits=limits)
    fields = _fields(caplog, "credential_limits_changed")
    assert fields["credential_id"] == str(issued.credential.pk)
    assert (fields["worlds"], fields["scopes"]) == ("w1,w 2", "*")
