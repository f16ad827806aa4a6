"""An admin page read as a browser reads it: the text and attributes it shows, apart from
the values its forms post back, and what a form posts when saved as it was loaded (the
HTML rules a browser follows: a textarea's first newline dropped and its lines posted
with CRLF, line breaks stripped from a one-line box, checked boxes and selected options
only)."""

from __future__ import annotations

from html.parser import HTMLParser

ONE_LINE = {"text", "password", "email", "search", "url", "tel", "number"}
NOT_POSTED = {"submit", "button", "image", "reset", "file"}


class _Page(HTMLParser):
    def __init__(self, form_id: str | None) -> None:
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.shown: list[str] = []  # text and attribute values, form values left out
        self.posted: list[tuple[str, str]] = []
        self._in_form = False
        self._in_textarea = False
        self._textarea: tuple[str, list[str]] | None = None
        self._select: tuple[str, bool, list[tuple[str, bool]]] | None = None
        self._option: tuple[str | None, bool, list[str]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = {key: value or "" for key, value in attrs}
        form_value = tag in ("input", "option")
        self.shown += [v for k, v in named.items() if not (form_value and k == "value")]
        if tag == "form":
            self._in_form = self.form_id is not None and named.get("id") == self.form_id
        if tag == "textarea":
            self._in_textarea = True
        if not self._in_form:
            return
        name = named.get("name")
        if tag == "input" and name and "disabled" not in named:
            kind = named.get("type", "text").lower()
            value = named.get("value", "")
            if kind in ("checkbox", "radio"):
                if "checked" in named:
                    self.posted.append((name, named.get("value", "on")))
            elif kind not in NOT_POSTED:
                one_line = kind in ONE_LINE
                self.posted.append(
                    (name, value.replace("\r", "").replace("\n", "") if one_line else value)
                )
        elif tag == "textarea" and name:
            self._textarea = (name, [])
        elif tag == "select" and name:
            self._select = (name, "multiple" in named, [])
        elif tag == "option" and self._select is not None:
            self._option = (named.get("value"), "selected" in named, [])

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._in_form = False
        if tag == "textarea":
            self._in_textarea = False
        if tag == "textarea" and self._textarea is not None:
            name, parts = self._textarea
            body = "".join(parts)
            body = body[1:] if body.startswith("\n") else body
            self.posted.append((name, body.replace("\r\n", "\n").replace("\n", "\r\n")))
            self._textarea = None
        elif tag == "option" and self._option is not None and self._select is not None:
            value, selected, text = self._option
            self._select[2].append((value if value is not None else "".join(text), selected))
            self._option = None
        elif tag == "select" and self._select is not None:
            name, multiple, options = self._select
            chosen = [value for value, selected in options if selected]
            if not chosen and not multiple and options:
                chosen = [options[0][0]]
            self.posted += [(name, value) for value in chosen]
            self._select = None

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea[1].append(data)
        if self._in_textarea:
            return
        if self._option is not None:
            self._option[2].append(data)
        self.shown.append(data)


def shown_text(html: str) -> str:
    """Every text and attribute value of the page but its form values (inputs' and
    options' value attributes, textareas' bodies), one a line."""
    page = _Page(None)
    page.feed(html)
    return "\n".join(page.shown)


def posted_unchanged(html: str, form_id: str, button: str = "_save") -> dict[str, list[str]]:
    """What the form `form_id` posts when its `button` is pressed without an edit."""
    page = _Page(form_id)
    page.feed(html)
    data: dict[str, list[str]] = {button: [""]}
    for name, value in page.posted:
        data.setdefault(name, []).append(value)
    return data
