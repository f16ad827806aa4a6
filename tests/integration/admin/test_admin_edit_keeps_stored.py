"""An edit form saved without an edit writes back what was stored, byte for byte, though
the value holds control or bidirectional characters (stored before the API refused them,
or by hand): the box holds the value as stored, a note beside it shows it escaped, and
nothing else on the page shows such a character as it is."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client

from controlplane.models import ApiCredential
from tests.support.forms import posted_unchanged, shown_text
from tests.support.layout import RAW_UNSAFE

pytestmark = pytest.mark.django_db

# A right-to-left override, an isolate, a terminal escape and a bell; a file separator
# (a line break to str.splitlines) and one at the end (whitespace to str.strip).
SPOOF = "fx\u202elive\u2066x\x1b[2J\x07"
SHOWN = "fx\\u202elive\\u2066x\\u001b[2J\\u0007"
WORLDS = [SPOOF, "w\x1cx", "global\x1f"]


def _saved_unchanged(client: Client, path: str, form_id: str) -> str:
    """The change page at `path`, checked and saved as loaded; the page's HTML."""
    page = client.get(path)
    assert page.status_code == 200
    html = page.content.decode()
    assert RAW_UNSAFE.findall(shown_text(html)) == []  # only inside the form's values
    saved = client.post(path, posted_unchanged(html, form_id))
    assert saved.status_code == 302, saved.content.decode()[-3000:]
    return html


def test_a_credential_saved_unchanged_keeps_its_stored_worlds(admin_client: Client) -> None:
    credential = ApiCredential.objects.create(
        name=SPOOF, key_prefix="cp_spoof", key_hash="1" * 64, allowed_worlds=WORLDS
    )
    path = f"/admin/controlplane/apicredential/{credential.pk}/change/"
    html = _saved_unchanged(admin_client, path, "apicredential_form")
    credential.refresh_from_db()
    assert credential.allowed_worlds == WORLDS
    assert credential.name == SPOOF
    assert 'class="help cp-unprintable"' in html
    assert SHOWN in html  # the note beside the box, and the read-only name


def test_a_user_saved_unchanged_keeps_a_stored_override_and_control(
    admin_client: Client,
) -> None:
    user = User.objects.create_user("desk", first_name=SPOOF, last_name="a\x07b")
    path = f"/admin/auth/user/{user.pk}/change/"
    html = _saved_unchanged(admin_client, path, "user_form")
    user.refresh_from_db()
    assert (user.first_name, user.last_name) == (SPOOF, "a\x07b")
    assert f"<code>{SHOWN}</code>" in html
    assert "<code>a\\u0007b</code>" in html


def test_a_group_saved_unchanged_keeps_its_stored_name(admin_client: Client) -> None:
    group = Group.objects.create(name=SPOOF)
    path = f"/admin/auth/group/{group.pk}/change/"
    html = _saved_unchanged(admin_client, path, "group_form")
    group.refresh_from_db()
    assert group.name == SPOOF
    assert f"<code>{SHOWN}</code>" in html
    assert f"<title>{SHOWN} | Change group" in html
