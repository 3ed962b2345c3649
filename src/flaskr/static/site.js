// Flaskr on every page: the account menu, and dates in the reader's time zone.
// Without this script the menu still opens and dates stay in UTC.
"use strict";

(function () {
  // The account menu is a <details> element: it opens and its links are
  // reached without this script. Here it also closes on Escape (focus goes
  // back to its button), on a click elsewhere, and when focus leaves it.
  function accountMenu() {
    const menu = document.querySelector(".account-menu");
    if (!menu) return;
    const button = menu.querySelector("summary");
    function close(returnFocus) {
      if (!menu.open) return;
      menu.open = false;
      if (returnFocus) button.focus();
    }
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && menu.open) close(true);
    });
    document.addEventListener("click", function (event) {
      if (!menu.contains(event.target)) close(false);
    });
    menu.addEventListener("focusout", function (event) {
      if (event.relatedTarget && !menu.contains(event.relatedTarget)) close(false);
    });
  }

  // <time datetime="…" data-local="date|datetime">: the server wrote the UTC
  // date; show the reader's own, with the zone's name for times of day.
  function localTimes() {
    const dateOnly = new Intl.DateTimeFormat(undefined, { dateStyle: "long" });
    const withTime = new Intl.DateTimeFormat(undefined, {
      dateStyle: "long",
      timeStyle: "short",
    });
    const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    document.querySelectorAll("time[data-local]").forEach(function (element) {
      const moment = new Date(element.getAttribute("datetime"));
      if (Number.isNaN(moment.getTime())) return;
      if (element.dataset.local === "datetime") {
        element.textContent = withTime.format(moment);
        element.title = zone;
      } else {
        element.textContent = dateOnly.format(moment);
      }
    });
  }

  function start() {
    accountMenu();
    localTimes();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
