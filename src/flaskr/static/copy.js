// "Copy" buttons: <button data-copy="ID" hidden> copies the value of the
// field with that id. Without this script the buttons stay hidden and the
// field, selectable, is there to copy by hand.
"use strict";

(function () {
  function copyText(field) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(field.value);
    }
    // Plain http on another machine has no clipboard API: select and copy.
    field.select();
    return document.execCommand("copy") ? Promise.resolve() : Promise.reject();
  }

  function start() {
    document.querySelectorAll("button[data-copy]").forEach(function (button) {
      const field = document.getElementById(button.dataset.copy);
      if (!field) return;
      const status = document.createElement("span");
      status.className = "copy-status";
      status.setAttribute("role", "status");
      button.after(status);
      button.hidden = false;
      button.addEventListener("click", function () {
        copyText(field).then(
          function () {
            status.textContent = "Copied";
          },
          function () {
            field.select();
            status.textContent = "Selected: press Ctrl+C or ⌘C to copy";
          }
        );
        window.setTimeout(function () {
          status.textContent = "";
        }, 4000);
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
