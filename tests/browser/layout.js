// The checks of tests/browser/layout.py, run in the page: a list of problems.
() => {
  const problems = [];
  const root = document.documentElement;
  if (root.scrollWidth > window.innerWidth) {
    const wide = [...document.querySelectorAll("body *")]
      .filter((element) => element.getBoundingClientRect().right > window.innerWidth + 1)
      .slice(-3)
      .map((element) => element.tagName.toLowerCase() + "." + element.className);
    problems.push(`scrolls sideways: ${root.scrollWidth} > ${window.innerWidth} (${wide})`);
  }

  const bar = document.querySelector(".header-bar");
  const items = bar
    ? [...bar.querySelectorAll(".site-name, .header-actions > *")].filter(
        (element) => element.getClientRects().length > 0)
    : [];
  const boxes = items.map((element) => [element, element.getBoundingClientRect()]);
  for (let i = 0; i < boxes.length; i++) {
    for (let j = i + 1; j < boxes.length; j++) {
      const [a, boxA] = boxes[i];
      const [b, boxB] = boxes[j];
      const apart = boxA.right <= boxB.left + 0.5 || boxB.right <= boxA.left + 0.5 ||
        boxA.bottom <= boxB.top + 0.5 || boxB.bottom <= boxA.top + 0.5;
      if (!apart) problems.push(`header items overlap: ${a.className} and ${b.className}`);
    }
  }

  const title = document.querySelector(".site-title");
  if (!title) {
    problems.push("no site name in the header");
  } else {
    const box = title.getBoundingClientRect();
    if (title.scrollWidth > title.clientWidth + 1 || title.scrollHeight > title.clientHeight + 1) {
      problems.push(`the site's name is clipped: "${title.textContent}"`);
    }
    if (box.width < 40) problems.push(`the site's name is crushed to ${box.width}px`);
    const range = document.createRange();
    range.selectNodeContents(title);
    // Lines past a clamp have boxes too, below the visible ones: skip them.
    const shown = [...range.getClientRects()].filter(
      (line) => line.top + line.height / 2 < box.bottom);
    for (const line of shown) {
      const x = line.left + Math.min(line.width / 2, 20);
      const y = line.top + line.height / 2;
      const top = document.elementFromPoint(x, y);
      if (top && !title.closest(".site-name").contains(top)) {
        problems.push(`the site's name is painted over by ${top.tagName.toLowerCase()}.${top.className}`);
        break;
      }
    }
  }

  for (const element of document.querySelectorAll("body *")) {
    if (element.closest(".visually-hidden, .label, [hidden], details:not([open]) > :not(summary)")) continue;
    if (!element.textContent.trim()) continue;
    const style = getComputedStyle(element);
    const hides = (value) => value === "hidden" || value === "clip";
    if (!hides(style.overflowX) && !hides(style.overflowY)) continue;
    if (style.webkitLineClamp !== "none" || style.textOverflow === "ellipsis") continue;
    if (element.clientWidth === 0 && element.clientHeight === 0) continue;
    const cutWide = hides(style.overflowX) && element.scrollWidth > element.clientWidth + 1;
    const cutHigh = hides(style.overflowY) && element.scrollHeight > element.clientHeight + 1;
    if (cutWide || cutHigh) {
      problems.push(`text cut by overflow: ${element.tagName.toLowerCase()}.${element.className}`);
    }
  }
  return problems;
}
