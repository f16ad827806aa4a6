"""Security checks (issue 7): every route the URL resolver knows is protected, prod refuses
to start without a secret key, the body and depth limits hold on every write route, and
SQL never gets request data spliced into its text.

The routes come from `get_resolver()`, not from a list in this file: a new route that
answers without a credential (API) or a staff login (admin) fails these tests.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys

import pytest

from tests.support.commands import PROD_ENV
from tests.support.paths import ROOT

# --- Prod has no secret default ---------------------------------------------------------------


def _prod_process(args: list[str], **overrides: str | None) -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("COMMITLOG_", "PROFILE", "DJANGO_", "API_", "CONTROLPLANE_CONFIG"))
    }
    env.update({**PROD_ENV, "COMMITLOG_BOOTSTRAP": "kafka.example:9092"})
    for name, value in overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return subprocess.run(
        [sys.executable, *args], env=env, capture_output=True, text=True, timeout=120, cwd=ROOT
    )


WEB = ["-c", "import config.wsgi"]  # what gunicorn loads
MANAGE = [str(ROOT / "manage.py"), "check"]  # every manage.py process: consumer, migrate...


@pytest.mark.parametrize("entry", [WEB, MANAGE], ids=["wsgi", "manage.py"])
@pytest.mark.parametrize("secret", [None, "", "   "], ids=["unset", "empty", "blank"])
def test_prod_refuses_to_start_without_a_secret_key(entry: list[str], secret: str | None) -> None:
    result = _prod_process(entry, DJANGO_SECRET_KEY=secret)
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "DJANGO_SECRET_KEY" in lines[0]
    assert "Traceback" not in result.stderr


def test_prod_starts_with_a_secret_key() -> None:
    """The control: the same process, given the key, starts."""
    result = _prod_process(WEB)
    assert result.returncode == 0, result.stderr


def _dev_fallback_secret_key() -> str:
    """The literal default of DJANGO_SECRET_KEY in settings.py (used in dev only)."""
    tree = ast.parse((ROOT / "config" / "settings" / "__init__.py").read_text())
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and len(node.args) == 2
            and isinstance(node.args[0], ast.Constant)
            and node.args[0].value == "DJANGO_SECRET_KEY"
            and isinstance(node.args[1], ast.Constant)
        ):
            return str(node.args[1].value)
    raise AssertionError("no DJANGO_SECRET_KEY default found in settings.py")


def test_the_dev_fallback_key_is_refused_in_prod() -> None:
    """Copying the dev key into a prod environment stops the process at start-up."""
    result = _prod_process(
        [*MANAGE, "--deploy", "--fail-level", "WARNING"],
        DJANGO_SECRET_KEY=_dev_fallback_secret_key(),
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "configuration error: DJANGO_SECRET_KEY" in result.stderr
