"""The error codes the docs name are the service's (controlplane/errors/codes.py), and
docs/API.md names every one of them: a renamed or removed code fails here, as does one
added without its line in the contract. Read from the files, with no server."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from rest_framework import fields, serializers

from controlplane.errors.codes import CODES

ROOT = Path(__file__).resolve().parents[2]
CODE = re.compile(r"\bE_[A-Z][A-Z0-9_]*[A-Z0-9]\b")


def named_in(path: Path) -> set[str]:
    return set(CODE.findall(path.read_text()))


def drf_field_codes() -> set[str]:
    """A field's own error, as controlplane/api/errors.py names it: `E_` and DRF's code."""
    found: set[str] = set()
    for module in (fields, serializers):
        for _, cls in inspect.getmembers(module, inspect.isclass):
            found |= {f"E_{key.upper()}" for key in getattr(cls, "default_error_messages", {})}
    return found


def test_every_code_the_docs_name_is_one_the_service_answers() -> None:
    known = set(CODES) | drf_field_codes()
    docs = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    unknown = {doc.name: sorted(named_in(doc) - known) for doc in docs}
    assert {name: codes for name, codes in unknown.items() if codes} == {}


def test_the_contract_names_every_code() -> None:
    assert sorted(set(CODES) - named_in(ROOT / "docs" / "API.md")) == []
