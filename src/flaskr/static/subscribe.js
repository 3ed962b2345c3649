// The Subscribe page: a Copy button beside each feed address. Without this
// script the buttons stay hidden and the addresses can be selected and copied.
"use strict";

(function () {
  function start() {
    const status = document.querySelector(".copy-status");
    if (!navigator.clipboard) return;
    document.querySelectorAll(".copy-button").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        const address = button.dataset.copies;
        navigator.clipboard.writeText(address).then(
          function () {
            if (status) status.textContent = "Copied " + address;
          },
          function () {
            // Refused (no permission): select the address to copy by hand.
            const field = button.parentElement.querySelector("input");
            if (field) field.select();
            if (status) status.textContent = "Press Ctrl+C (or ⌘C) to copy the selected address.";
          }
        );
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
