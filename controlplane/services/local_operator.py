"""The local operator of a development stack: one admin login and one API token,
kept in a state file so that every local run shows the same ones."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from pathlib import Path

from django.contrib.auth import get_user_model
from django.db import transaction

from controlplane.services.credentials import credential_authenticate, credential_issue

ADMIN_USERNAME = "admin"
TOKEN_NAME = "local operator"  # noqa: S105 (a label)


@dataclass(frozen=True)
class LocalOperator:
    username: str
    password: str
    token: str


def _load(state_file: Path) -> dict[str, str]:
    try:
        loaded = json.loads(state_file.read_text())
    except (FileNotFoundError, ValueError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


@transaction.atomic
def local_operator_ensure(*, state_file: Path) -> LocalOperator:
    state = _load(state_file)
    user_model = get_user_model()
    password = state.get("password") or secrets.token_urlsafe(12)
    user = user_model.objects.filter(username=ADMIN_USERNAME).first()
    if user is None:
        user_model.objects.create_superuser(ADMIN_USERNAME, "", password)
    elif not user.check_password(password):
        # The state file was lost or belongs to another database: reset to a known password.
        user.set_password(password)
        user.save(update_fields=["password"])

    token = state.get("token", "")
    if not token or credential_authenticate(token) is None:
        token = credential_issue(name=TOKEN_NAME).token

    state_file.parent.mkdir(parents=True, exist_ok=True)
    state_file.write_text(json.dumps({"password": password, "token": token}))
    state_file.chmod(0o600)
    return LocalOperator(username=ADMIN_USERNAME, password=password, token=token)
