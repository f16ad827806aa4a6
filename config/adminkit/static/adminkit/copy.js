// The lists' copy buttons (config/adminkit/cells.py): a click puts the button's whole id on
// the clipboard and does nothing else (no row link followed). A static file, as the
// Content-Security-Policy allows no inline script.
"use strict";
(function () {
  function fallbackCopy(text) {
    // Outside a secure context (plain http to a host other than localhost) the browser
    // has no navigator.clipboard: a selected, off-screen text area is copied instead.
    const area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.left = "-9999px";
    document.body.appendChild(area);
    area.select();
    const done = document.execCommand("copy");
    document.body.removeChild(area);
    return done ? Promise.resolve() : Promise.reject(new Error("copy refused"));
  }

  function copy(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).catch(function () {
        return fallbackCopy(text);
      });
    }
    return fallbackCopy(text);
  }

  document.addEventListener("click", function (event) {
    const button = event.target.closest("button.cp-copy");
    if (!button) {
      return;
    }
    event.preventDefault();
    event.stopPropagation();
    copy(button.dataset.copy).then(
      function () {
        button.classList.add("cp-copied");
        button.title = "Copied";
        window.setTimeout(function () {
          button.classList.remove("cp-copied");
          button.title = "Copy the whole id";
        }, 2000);
      },
      function () {
        button.title = "The browser refused to copy";
      }
    );
  });
})();
