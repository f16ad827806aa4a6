"use strict";
// Copy buttons, in a file of their own: the CSP allows no inline script.
// - <button class="cp-copy" data-copy="TEXT">: the lists' id cells (config/adminkit/cells.py);
//   copies TEXT and follows no row link.
// - <button data-copy-from="ID">: copies the text of the element with that id (the issued
//   token, its curl) and says so in the element marked data-copied-for="ID".
// The clipboard API needs a secure context (HTTPS or localhost); elsewhere the text is
// copied the older way, from a selection, or left selected for Ctrl-C.
(function () {
  function selectText(element) {
    const range = document.createRange();
    range.selectNodeContents(element);
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  function copyFromSelection(text) {
    const area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.left = "-9999px";
    document.body.appendChild(area);
    area.select();
    const done = document.execCommand("copy");
    document.body.removeChild(area);
    return done;
  }

  async function copy(text) {
    if (navigator.clipboard && window.isSecureContext) {
      try {
        await navigator.clipboard.writeText(text);
        return true;
      } catch (refused) {
        // fall through to the older way
      }
    }
    return copyFromSelection(text);
  }

  async function copyCell(button) {
    const copied = await copy(button.dataset.copy);
    if (!copied) {
      button.title = "The browser refused to copy";
      return;
    }
    button.classList.add("cp-copied");
    button.title = "Copied";
    window.setTimeout(function () {
      button.classList.remove("cp-copied");
      button.title = "Copy the whole id";
    }, 2000);
  }

  async function copyElement(button) {
    const id = button.dataset.copyFrom;
    const source = document.getElementById(id);
    const status = document.querySelector('[data-copied-for="' + id + '"]');
    const copied = await copy(source.textContent.trim());
    if (!copied) {
      selectText(source);
    }
    if (status !== null) {
      status.textContent = copied ? "Copied." : "Selected: copy it with Ctrl-C (or Cmd-C).";
    }
  }

  document.addEventListener("click", function (event) {
    const cell = event.target.closest("button.cp-copy[data-copy]");
    if (cell !== null) {
      event.preventDefault();
      event.stopPropagation();
      copyCell(cell);
      return;
    }
    const button = event.target.closest("button[data-copy-from]");
    if (button !== null) {
      copyElement(button);
    }
  });
})();
