"use strict";
// A <button data-copy="ID"> copies the text of the element with that id and says so in
// the element marked data-copied-for="ID". A file of its own: the CSP allows no inline
// script. The clipboard API needs a secure context (HTTPS or localhost); elsewhere the
// text is selected and copied the older way, or left selected for Ctrl-C.
(function () {
  function selectText(element) {
    const range = document.createRange();
    range.selectNodeContents(element);
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  async function copy(text, element) {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
    selectText(element);
    return document.execCommand("copy");
  }

  document.addEventListener("click", async function (event) {
    const button = event.target.closest("button[data-copy]");
    if (button === null) {
      return;
    }
    const id = button.dataset.copy;
    const source = document.getElementById(id);
    const status = document.querySelector('[data-copied-for="' + id + '"]');
    let copied = false;
    try {
      copied = await copy(source.textContent.trim(), source);
    } catch (refused) {
      copied = false;
    }
    if (!copied) {
      selectText(source);
    }
    if (status !== null) {
      status.textContent = copied ? "Copied." : "Selected: copy it with Ctrl-C (or Cmd-C).";
    }
  });
})();
