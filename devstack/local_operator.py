"""The local operator of a development stack: one admin login and one API token,
kept in a state file so that every local run shows the same ones.

Development tooling, never in the production image: `bin/run` calls it as
`python -m devstack.local_operator --state-file PATH [--base-url URL]`."""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
from dataclasses import dataclass
from pathlib import Path

import django
from django.contrib.auth import get_user_model
from django.db import transaction

from controlplane.api.examples import curl_submit

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
    from controlplane.services.credentials import credential_authenticate, credential_issue

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


def _usage(base: str, operator: LocalOperator) -> str:
    return (
        "Local operator ready:"
        f"\n  admin:     {base}/admin/  user {operator.username}  password {operator.password}"
        f"\n  API docs:  {base}/api/docs (log in to the admin first)"
        f"\n  API token: {operator.token}"
        f"\n  try:       {curl_submit(base, operator.token)}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devstack.local_operator",
        description="Create (or reuse) the local admin login and API token, and print them.",
    )
    parser.add_argument(
        "--state-file",
        type=Path,
        required=True,
        help="JSON file keeping the local operator's login and API token (required)",
    )
    parser.add_argument(
        "--base-url",
        default="http://127.0.0.1:8000",
        help="where the printed links point (default http://127.0.0.1:8000)",
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    operator = local_operator_ensure(state_file=args.state_file)
    print(_usage(args.base_url.rstrip("/"), operator))
    return 0


if __name__ == "__main__":
    sys.exit(main())
