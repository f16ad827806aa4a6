"""What the layout tests measure in the page: lines of text per row, header and cell, the
shortened ids and compact times, and the document against the window."""

from __future__ import annotations

import re

# Characters no page may show as they are: C0 and C1 controls (but the whitespace HTML
# collapses) and the bidirectional marks, embeddings, overrides and isolates.
RAW_UNSAFE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)
RAW_UNSAFE_JS = (
    r"/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f"
    r"\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/"
)

# `lines(el)`: the element's content height in lines of its own line height.
_LINES = """
  const lineOf = (el) => {
    const s = getComputedStyle(el);
    const line = parseFloat(s.lineHeight);
    return Number.isNaN(line) ? parseFloat(s.fontSize) * 1.2 : line;
  };
  const lines = (el) => {
    const s = getComputedStyle(el);
    const height = el.getBoundingClientRect().height - parseFloat(s.paddingTop)
      - parseFloat(s.paddingBottom) - parseFloat(s.borderTopWidth)
      - parseFloat(s.borderBottomWidth);
    return height / lineOf(el);
  };
  // A header's words sit in its sort link or span, with padding of their own.
  const heading = (th) => lines(th.querySelector('.text > a, .text > span') || th);
  const said = (el) => (el.className || el.tagName) + ': ' + el.innerText.trim().slice(0, 60);
  const unsafe = RAW_UNSAFE;
  const titles = [...document.querySelectorAll('[title]')].map((el) => el.title);
  const raw = [document.body.innerText, ...titles].filter((text) => unsafe.test(text))
    .map((text) => JSON.stringify(text.slice(0, 80)));
  const page = { page: document.documentElement.scrollWidth, window: window.innerWidth, raw };
""".replace("RAW_UNSAFE", RAW_UNSAFE_JS)

# A change list: rows and headers, the id and time cells, the table against its box.
MEASURE_LIST = (
    "() => {"
    + _LINES
    + """
  const table = document.querySelector('#result_list');
  const box = table.closest('.results') || table.parentElement;
  const rows = [...table.querySelectorAll('tbody tr')];
  const ids = [...table.querySelectorAll('.cp-id')];
  const times = [...table.querySelectorAll('.cp-time')];
  return { ...page,
    rows: rows.length, table: table.scrollWidth, box: box.clientWidth,
    tallRows: rows.filter((tr) => Math.max(...[...tr.cells].map(lines)) > 1.6)
      .map((tr) => tr.innerText.replace(/\\s+/g, ' ').slice(0, 100)),
    tallHeaders: [...table.querySelectorAll('thead th')]
      .filter((th) => heading(th) > 2.6 || th.scrollWidth > th.clientWidth + 1).map(said),
    brokenWords: [...table.querySelectorAll('th, td')].filter((cell) => {
      const s = getComputedStyle(cell);
      return s.overflowWrap === 'anywhere' || s.wordBreak === 'break-all';
    }).length,
    clipped: [...table.querySelectorAll('th, td')]
      .filter((cell) => cell.scrollWidth > cell.clientWidth + 1).map(said),
    idsPerRow: ids.length / Math.max(rows.length, 1),
    timesPerRow: times.length / Math.max(rows.length, 1),
    badIds: ids.filter((el) => {
      const copy = el.parentElement.querySelector('.cp-copy');
      const shortened = el.innerText.includes('…') && el.innerText.length < el.title.length;
      return lines(el) > 1.6 || !el.title || !copy || copy.dataset.copy !== el.title
        || (el.title.length > 14 && !shortened);
    }).map((el) => el.title + ' shown as ' + el.innerText),
    badTimes: times.filter((el) => lines(el) > 1.6
        || !/^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d UTC$/.test(el.title)
        || !/^\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d$/.test(el.innerText.trim()))
      .map((el) => el.title + ' shown as ' + el.innerText),
  };
}"""
)

# The home page and the dashboard: the partition table, the charts against the width.
MEASURE_OVERVIEW = (
    "() => {"
    + _LINES
    + """
  const main = document.querySelector('#content-main') || document.querySelector('#content');
  const box = main.getBoundingClientRect();
  const figures = [...document.querySelectorAll('#cp-history figure')]
    .map((f) => f.getBoundingClientRect());
  const used = figures.length
    ? (Math.max(...figures.map((r) => r.right)) - box.left) / box.width : null;
  return { ...page,
    tallHeaders: [...document.querySelectorAll('#content table th')]
      .filter((th) => heading(th) > 1.6).map(said),
    tallRows: [...document.querySelectorAll('#cp-partitions tbody tr, #cp-lag tbody tr')]
      .filter((tr) => Math.max(...[...tr.cells].map(lines)) > 1.6).map(said),
    used,
    dashboardLinks: document.querySelectorAll('#content a[href$="/admin/dashboard/"]').length,
    lagRows: document.querySelectorAll('#cp-lag tbody tr[data-partition]').length,
    lagBars: document.querySelectorAll('svg[data-chart=lag-partitions] [data-partition]').length,
  };
}"""
)
