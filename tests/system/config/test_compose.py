"""docker-compose.yml, checked without a Docker engine: shape, commands, configuration."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.compose import APP_SERVICES, REQUIRED_SECRETS, service_environment
from tests.support.paths import ROOT


@pytest.mark.parametrize("service", APP_SERVICES)
def test_each_service_environment_starts_with_the_prod_profile(
    service: str, tmp_path: Path
) -> None:
    given = {**REQUIRED_SECRETS, "DJANGO_SECRET_KEY": secrets.token_urlsafe(50)}
    env = service_environment(service, given, tmp_path)  # its secrets as files
    assert env["PROFILE"] == "prod"
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("COMMITLOG_", "DJANGO_", "CELERY_"))
    }
    clean.pop("PROFILE", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        env={**clean, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    # The only deploy warning allowed: no HTTPS redirect, as TLS ends in front of the stack.
    assert set(re.findall(r"\(([\w.]+\.W\d+)\)", output)) <= {"security.W008"}, output
