"""docs/CONFIGURATION.md names every setting the code reads: the names are collected from
the reads themselves (the environment reader's calls, commitlog's declarations, direct
environment reads), so a new setting without a line in the doc fails here."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from commitlog.conf import declarations
from controlplane.domain.request_caps import CAP_VARIABLES

ROOT = Path(__file__).resolve().parents[3]
DOC = ROOT / "docs" / "CONFIGURATION.md"
# The EnvReader's reading methods (config/env.py) and the settings' prod-required reader
# take the name first; env_value(environ, name) second; os.environ.get / os.getenv first.
READERS = {"text", "items", "flag", "integer", "number", "rate", "required_in_prod", "typed",
           "_required_in_prod"}  # fmt: skip
ENVIRON_NAMES = {"environ", "env", "os"}
SOURCES = ("config", "controlplane", "commitlog")
ENV_NAME = re.compile(r"^[A-Z][A-Z0-9_]+$")


def _names_read_in(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        receiver = func.value if isinstance(func, ast.Attribute) else None
        on_environ = isinstance(receiver, ast.Name | ast.Attribute) and (
            getattr(receiver, "id", None) in ENVIRON_NAMES
            or getattr(receiver, "attr", None) == "environ"
        )
        if name in READERS or (name in ("get", "getenv") and on_environ):
            position = 0
        elif name == "env_value":
            position = 1
        else:
            continue
        if len(node.args) > position:
            arg = node.args[position]
            text = arg.value if isinstance(arg, ast.Constant) else None
            if isinstance(text, str) and ENV_NAME.match(text):
                found.add(text)
    return found


def settings_read_in_code() -> set[str]:
    names = set()
    for source in SOURCES:
        for path in (ROOT / source).rglob("*.py"):
            if "migrations" not in path.parts:
                names |= _names_read_in(path)
    names |= {d.name for d in declarations() if not d.built}
    # The API's caps are read from their table by name (controlplane.api.limits).
    names |= set(CAP_VARIABLES.values())
    return names


def test_the_collection_finds_the_settings_it_must() -> None:
    found = settings_read_in_code()
    # One of each kind of read: the reader, commitlog's declarations, the YAML file's path.
    assert {"DJANGO_SECRET_KEY", "RELAY_BATCH_SIZE", "CONTROLPLANE_CONFIG"} <= found


def test_every_setting_read_in_code_is_in_the_configuration_doc() -> None:
    documented = set(re.findall(r"`([A-Z][A-Z0-9_]+)`", DOC.read_text()))
    missing = sorted(settings_read_in_code() - documented)
    assert not missing, f"docs/CONFIGURATION.md does not name: {', '.join(missing)}"


def test_every_yaml_key_is_in_the_configuration_doc() -> None:
    from config import yaml_file

    text = DOC.read_text()
    for key in yaml_file._GATEWAY_KEYS:
        assert f"gateway.{key}" in text or f"  {key}:" in text, key
