"""The admin form that issues a credential or edits its limits (worlds and scopes), and
what the page showing a newly issued token offers next."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from django import forms
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.cache import add_never_cache_headers

from controlplane.api.examples import curl_submit
from controlplane.domain.scopes import Scope
from controlplane.models import ApiCredential
from controlplane.services.credentials import credential_limits


class CredentialForm(forms.ModelForm[ApiCredential]):
    allowed_worlds = forms.CharField(
        label="Worlds",
        required=False,
        strip=False,  # the box as posted: an untouched box keeps its worlds as stored
        widget=forms.Textarea(attrs={"rows": 4, "cols": 40}),
        help_text=(
            "One world id a line. Empty: every world. A global rebalance batch's world is "
            "`global`: list it to allow global orders."
        ),
    )
    allowed_scopes = forms.MultipleChoiceField(
        label="Rebalance scopes",
        required=False,
        choices=Scope.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every scope.",
    )

    class Meta:
        model = ApiCredential
        fields = ("name", "allowed_worlds", "allowed_scopes")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.initial["allowed_worlds"] = "\n".join(self.instance.allowed_worlds)
        self.limits = credential_limits()

    def clean_allowed_worlds(self) -> list[str]:
        # A list, even when clean() refuses it: the model's own checks read it as one.
        # Lines end at a newline only (a browser posts CRLF): splitlines() would also cut a
        # stored world at the other separators it knows (\x1c, \u2028, ...).
        text = str(self.cleaned_data.get("allowed_worlds") or "").replace("\r\n", "\n")
        if self.instance.pk is not None and text == self.initial.get("allowed_worlds"):
            return list(self.instance.allowed_worlds)  # untouched: as stored, byte for byte
        return text.split("\n") if text else []

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean() or {}
        worlds = cleaned.get("allowed_worlds") or []
        untouched = self.instance.pk is not None and worlds == self.instance.allowed_worlds
        try:
            self.limits = credential_limits(
                worlds=[] if untouched else worlds, scopes=cleaned.get("allowed_scopes") or []
            )
        except ValueError as error:
            raise forms.ValidationError(str(error)) from None
        if untouched:  # kept as stored (before today's cleaning, or by hand), not stripped
            self.limits = replace(self.limits, worlds=list(self.instance.allowed_worlds))
        cleaned["allowed_worlds"] = self.limits.worlds
        cleaned["allowed_scopes"] = self.limits.scopes
        return cleaned


def issued_token_page(
    request: HttpRequest, context: dict[str, Any], credential: ApiCredential, token: str
) -> TemplateResponse:
    """The one page that shows a newly issued token (never cached), with a curl example
    addressed to the server that issued it, then where the form's button asked to go."""
    page = {
        **context,
        "title": "Credential issued",
        "credential": credential,
        "token": token,
        "curl": curl_submit(request.build_absolute_uri("/"), token),
    }
    next_step = _next_step(request, credential)
    if next_step is not None:
        page["next_url"], page["next_label"] = next_step
    response = TemplateResponse(request, "admin/controlplane/credential_issued.html", page)
    add_never_cache_headers(response)
    return response


def _next_step(request: HttpRequest, credential: ApiCredential) -> tuple[str, str] | None:
    """Where "Save and add another" / "Save and continue editing" lead, as a link under
    the token (a redirect would lose it): (url, label); None for "Save"."""
    if "_addanother" in request.POST:
        return reverse("admin:controlplane_apicredential_add"), "Add another credential"
    if "_continue" in request.POST:
        change = reverse("admin:controlplane_apicredential_change", args=[credential.pk])
        return change, "Continue editing this credential"
    return None
