"""The admin's list cells and the one rule for showing stored text (config.visible),
without a server: shortened ids, compact UTC times, escapes never cut in two."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from config.adminkit.cells import id_cell, short_id, text_cell, utc_cell
from config.adminkit.display import PAGE_KEEPS, pretty_json, visible_page
from config.visible import printable, visible
from controlplane.admin.dashboard.charts import Bar, bar_chart


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ("plain id-1", "plain id-1"),
        ("fx\u202elive", "fx\\u202elive"),  # a right-to-left override
        ("a\u2066b\u2069", "a\\u2066b\\u2069"),  # an isolate
        ("x\x1b[2J\x07", "x\\u001b[2J\\u0007"),  # a terminal escape, a bell
        ("line\nnext\tcol", "line\\nnext\\tcol"),
        ("zero\u200bwidth", "zero\\u200bwidth"),
        ("\U000e0041tag", "\\U000e0041tag"),  # a tag character, outside the BMP
        ("café ✓", "café ✓"),  # printable text from anywhere is left alone
    ],
)
def test_unprintable_characters_are_written_as_their_escapes(stored: str, shown: str) -> None:
    assert visible(stored) == shown


def test_a_page_keeps_the_whitespace_its_markup_uses() -> None:
    assert visible("<p>\n\ta\u202eb</p>", keep="\n\t") == "<p>\n\ta\\u202eb</p>"


def test_an_id_keeps_its_first_eight_and_last_four_characters() -> None:
    strategy_id = "01a25085-9f83-75fb-bd57-d2bbf0c70101"
    assert short_id(strategy_id) == "01a25085…0101"
    assert short_id("short-id") == "short-id"


def test_an_escape_is_never_cut_in_two() -> None:
    shown = short_id("fx\u202elive:" + "e" * 32)
    assert shown == "fx\\u202elive:…eeee"  # eight characters stored, one escaped


def test_an_id_cell_has_the_whole_id_in_its_tooltip_and_copy_button() -> None:
    cell = id_cell("crypto-eu:0a56f777fc8a464b9404da51534a9ac1", "/admin/x/")
    assert (
        '<a class="cp-id" href="/admin/x/" title="crypto-eu:0a56f777fc8a464b9404da51534a9ac1"'
        in cell
    )
    assert 'data-copy="crypto-eu:0a56f777fc8a464b9404da51534a9ac1"' in cell
    assert ">crypto-e…9ac1<" in cell
    assert id_cell(None) == "-"


def test_stored_markup_is_escaped_in_a_cell() -> None:
    assert "<b>" not in text_cell("<b>x\u202e</b>")
    assert "&lt;b&gt;x\\u202e&lt;/b&gt;" in text_cell("<b>x\u202e</b>")


def test_a_time_reads_in_utc_without_its_year_which_is_in_the_tooltip() -> None:
    at = datetime(2026, 12, 7, 16, 3, 22, tzinfo=timezone(timedelta(hours=2)))
    cell = utc_cell(at)
    assert ">12-07 14:03:22</time>" in cell
    assert 'title="2026-12-07 14:03:22 UTC"' in cell
    assert f'datetime="{at.astimezone(UTC).isoformat()}"' in cell
    assert utc_cell(None) == "-"


def test_a_bar_per_partition_labelled_and_escaped() -> None:
    bars = [Bar("0", "0", 3.0, "g\u202e, t partition 0"), Bar("1", "1", 0.0, "g, t partition 1")]
    svg = bar_chart(slug="lag-partitions", title="Lag", bars=bars, color="#000")
    assert svg.count("data-partition=") == 2
    assert 'data-partition="0" data-value="3"' in svg
    assert "g\\u202e, t partition 0: 3" in svg
    assert "\u202e" not in svg


def test_a_rendered_page_shows_stored_characters_escaped_but_keeps_its_markup() -> None:
    from django.http import HttpResponse

    page = visible_page(HttpResponse("<td>\n\tfx\u202elive\xa0<b>x\x07</b></td>"))
    assert page.content.decode() == "<td>\n\tfx\\u202elive\xa0<b>x\\u0007</b></td>"
    data = visible_page(HttpResponse("a\u202eb", content_type="text/csv"))
    assert data.content.decode() == "a\u202eb"  # an export is data, not a page


def test_printable_text_is_told_apart_but_for_the_characters_kept() -> None:
    assert printable("a b")
    assert printable("a\n\tb\xa0", keep=PAGE_KEEPS)
    assert not printable("a\nb")
    assert not printable("a\n\u202e", keep=PAGE_KEEPS)
    assert visible("a\n\u202e", keep="\n") == "a\n\\u202e"


def test_a_rendered_page_leaves_the_values_a_form_posts_back_as_stored() -> None:
    from django.http import HttpResponse

    form = (
        '<input type="text" name="n" value="a\u202eb" title="t\u202e">'
        '<textarea name="w">\nx\u202ey\x07</textarea>'
        '<select name="g"><option value="v\u202e" selected>g\u202e</option></select>'
        "<p>a\u202eb</p>"
    )
    page = visible_page(HttpResponse(form)).content.decode()
    assert page == (
        '<input type="text" name="n" value="a\u202eb" title="t\\u202e">'
        '<textarea name="w">\nx\u202ey\x07</textarea>'
        '<select name="g"><option value="v\u202e" selected>g\\u202e</option></select>'
        "<p>a\\u202eb</p>"
    )


def test_pretty_json_shows_a_stored_override_escaped() -> None:
    shown = pretty_json({"note": "a\u202eb\nc"})
    assert "\u202e" not in shown
    assert "&quot;a\\u202eb\\nc&quot;" in shown
