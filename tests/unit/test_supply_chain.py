"""The hash-locked requirement files and the image built from them."""

from __future__ import annotations

import re
import tomllib

import pytest

from tests.support.paths import ROOT

LOCKS = {"prod": ROOT / "requirements" / "prod.txt", "dev": ROOT / "requirements" / "dev.txt"}
# A requirement line of a lock: `name==version [; marker] \`, then its hashes.
LOCKED = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+?)(?:\s*;[^\\]*)?\s*\\$")


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def locked(kind: str) -> dict[str, str]:
    """name -> version; fails on a requirement that carries no hash."""
    lines = LOCKS[kind].read_text().splitlines()
    found: dict[str, str] = {}
    for index, line in enumerate(lines):
        match = LOCKED.match(line)
        if match is None:
            assert not re.match(r"^[A-Za-z0-9].*==", line), f"{kind}: unhashed {line!r}"
            continue
        assert lines[index + 1].strip().startswith("--hash=sha256:"), line
        found[normalise(match[1])] = match[2]
    return found


def pinned(requirements: list[str]) -> dict[str, str]:
    pins = {}
    for requirement in requirements:
        name, _, version = requirement.partition("==")
        if version:
            pins[normalise(re.sub(r"\[.*\]", "", name))] = version
    return pins


PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
RUNTIME = pinned(PROJECT["dependencies"])
EXTRAS = PROJECT["optional-dependencies"]
DEV = {**RUNTIME, **pinned(EXTRAS["embedded"]), **pinned(EXTRAS["dev"])}


@pytest.mark.parametrize(("kind", "wanted"), [("prod", RUNTIME), ("dev", DEV)])
def test_each_lock_holds_every_pin_of_pyproject_at_its_version(
    kind: str, wanted: dict[str, str]
) -> None:
    versions = locked(kind)
    assert {name: versions.get(name) for name in wanted} == wanted, "run bin/lock"


def test_the_production_lock_leaves_the_development_packages_out() -> None:
    prod, dev = locked("prod"), locked("dev")
    development_only = set(pinned(EXTRAS["embedded"]) | pinned(EXTRAS["dev"])) - set(RUNTIME)
    assert development_only <= set(dev)
    assert not development_only & set(prod), development_only & set(prod)
    # One resolution: what both install, they install at one version.
    assert {name: dev[name] for name in prod if name in dev} == {
        name: version for name, version in prod.items() if name in dev
    }


DOCKERFILE = (ROOT / "Dockerfile").read_text()


def test_the_image_installs_only_from_the_production_lock_with_hashes() -> None:
    installs = re.findall(r"pip install [^\n]*", DOCKERFILE)
    assert installs == ["pip install --no-cache-dir --require-hashes -r requirements/prod.txt"]


def test_the_base_image_is_pinned_by_digest() -> None:
    bases = re.findall(r"^FROM\s+(\S+)", DOCKERFILE, flags=re.MULTILINE)
    assert bases, "no FROM line"
    assert all(re.fullmatch(r"[\w./:-]+@sha256:[0-9a-f]{64}", base) for base in bases), bases


def test_the_code_is_owned_by_root_and_unwritable_by_the_runtime_user() -> None:
    assert "chown" not in DOCKERFILE  # COPY --chown too
    assert "chmod -R go-w /app" in DOCKERFILE
    users = re.findall(r"^USER\s+(\S+)", DOCKERFILE, flags=re.MULTILINE)
    assert users
    assert users[-1] not in {"root", "0"}
    # The chmod comes after the last COPY into /app, so nothing copied later escapes it.
    last_copy = max(m.start() for m in re.finditer(r"^COPY ", DOCKERFILE, flags=re.MULTILINE))
    assert DOCKERFILE.index("chmod -R go-w /app") > last_copy


def test_the_development_environment_installs_from_the_dev_lock_with_hashes() -> None:
    script = (ROOT / "bin" / "_venv.sh").read_text()
    assert re.search(r"pip install [^\n]*--require-hashes \\\n\s*-r requirements/dev.txt", script)
    # The project itself adds nothing unlocked.
    assert re.search(r"pip install [^\n]*--no-deps -e \.", script)
    assert "requirements/dev.txt" in script.split("stamp=")[1].splitlines()[0]
