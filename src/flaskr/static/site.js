// Flaskr on every page: the phone menu, and dates in the reader's time zone.
// Without this script the menu stays open and dates stay in UTC.
"use strict";

(function () {
  // The site menu folds behind a button on narrow screens (the stylesheet
  // hides it there only while the header carries "menu-folds").
  function foldMenu() {
    const header = document.querySelector(".site-header");
    const menu = document.getElementById("site-menu");
    if (!header || !menu) return;
    const button = document.createElement("button");
    button.type = "button";
    button.className = "menu-button secondary";
    button.textContent = "Menu";
    button.setAttribute("aria-expanded", "false");
    button.setAttribute("aria-controls", "site-menu");
    button.addEventListener("click", function () {
      const open = button.getAttribute("aria-expanded") !== "true";
      button.setAttribute("aria-expanded", String(open));
      header.classList.toggle("menu-open", open);
      if (open) {
        const first = menu.querySelector("input, a, button");
        if (first) first.focus();
      }
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && header.classList.contains("menu-open")) {
        header.classList.remove("menu-open");
        button.setAttribute("aria-expanded", "false");
        button.focus();
      }
    });
    menu.before(button);
    header.classList.add("menu-folds");
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
    foldMenu();
    localTimes();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
