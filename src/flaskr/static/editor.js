// The post form, as a writer types: a live preview beside the text (rendered
// by the server, as a save would), the word count and reading time, autosave
// of drafts, and a warning before leaving with changes not saved. Without
// this script the form works as before: Preview and Save draft are buttons.
(function () {
  "use strict";

  const form = document.querySelector("form[data-editor]");
  if (!form) {
    return;
  }
  const body = form.querySelector("textarea[name=body]");
  const token = form.querySelector("input[name=csrf_token]");
  const version = form.querySelector("input[name=version]");
  const previewUrl = form.dataset.previewUrl;
  const autosaveUrl = form.dataset.autosaveUrl;
  if (!body || !token) {
    return;
  }

  const status = document.createElement("p");
  status.className = "editor-status";
  status.setAttribute("role", "status");
  const counts = document.createElement("span");
  const saved = document.createElement("span");
  status.append(counts, saved);

  const pane = document.createElement("section");
  pane.className = "live-preview body";
  pane.setAttribute("aria-label", "Live preview");
  // It scrolls on its own: keyboard users reach it to scroll it.
  pane.tabIndex = 0;
  const heading = document.createElement("h2");
  heading.className = "live-preview-heading";
  heading.textContent = "Preview";
  const rendered = document.createElement("div");
  pane.append(heading, rendered);

  const field = body.closest(".field") || body.parentElement;
  const side = document.createElement("div");
  side.className = "editor";
  field.before(side);
  side.append(field, pane);
  side.after(status);
  form.classList.add("has-live-preview");

  let dirty = false;
  let stopped = false;

  function later(action, wait) {
    let timer = null;
    return function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(action, wait);
    };
  }

  function post(url, data) {
    return fetch(url, {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: { "X-CSRFToken": token.value, Accept: "application/json" },
    });
  }

  function showCounts(words, minutes) {
    const noun = words === 1 ? "word" : "words";
    counts.textContent = words.toLocaleString() + " " + noun + " · " + minutes + " min read";
  }

  async function refreshPreview() {
    const data = new FormData();
    data.append("body", body.value);
    try {
      const response = await post(previewUrl, data);
      const answer = await response.json();
      if (!response.ok) {
        counts.textContent = answer.error || "The preview is not available.";
        return;
      }
      // The server's own renderer made this HTML and cleaned it (nh3).
      rendered.innerHTML = answer.html;
      showCounts(answer.words, answer.minutes);
    } catch (error) {
      counts.textContent = "The preview is not available right now.";
    }
  }

  function clock() {
    const now = new Date();
    return now.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  async function autosave() {
    if (!autosaveUrl || !version || stopped || !dirty) {
      return;
    }
    const data = new FormData(form);
    data.delete("image_file");
    try {
      const response = await post(autosaveUrl, data);
      const answer = await response.json();
      if (response.ok) {
        version.value = String(answer.version);
        dirty = false;
        saved.textContent = " · Saved " + clock();
        saved.dataset.state = "saved";
      } else {
        saved.textContent = " · " + (answer.error || "Not saved.");
        saved.dataset.state = "error";
        if (response.status === 409) {
          stopped = true;
        }
      }
    } catch (error) {
      saved.textContent = " · Not saved: the server did not answer.";
      saved.dataset.state = "error";
    }
  }

  // Pictures in the text: a button, dropping a file on the text, or pasting
  // one. Each asks for its description (alt text) and is uploaded to the
  // writer's library; its Markdown goes where the cursor is.
  const uploadUrl = form.dataset.uploadUrl;
  const picker = document.createElement("input");
  picker.type = "file";
  picker.accept = "image/jpeg,image/png,image/webp,image/gif";
  picker.hidden = true;
  const insert = document.createElement("button");
  insert.type = "button";
  insert.className = "secondary";
  insert.textContent = "Insert picture…";
  const pictureNote = document.createElement("span");
  pictureNote.setAttribute("role", "status");
  const tools = document.createElement("p");
  tools.className = "editor-tools";
  tools.append(insert, picker, " ", pictureNote);
  side.before(tools);

  function insertAtCursor(text) {
    const start = body.selectionStart;
    const end = body.selectionEnd;
    const before = body.value.slice(0, start);
    const gap = before && !before.endsWith("\n") ? "\n\n" : "";
    body.setRangeText(gap + text + "\n", start, end, "end");
    body.dispatchEvent(new Event("input", { bubbles: true }));
    body.focus();
  }

  async function uploadPicture(file) {
    if (!uploadUrl || !file) {
      return;
    }
    const alt = window.prompt(
      "Describe the picture for people who cannot see it (alt text):"
    );
    if (!alt || !alt.trim()) {
      pictureNote.textContent = "Not inserted: a picture needs a description.";
      return;
    }
    const data = new FormData();
    data.append("picture", file);
    data.append("alt", alt);
    data.append("csrf_token", token.value);
    pictureNote.textContent = "Uploading " + file.name + "…";
    try {
      const response = await post(uploadUrl, data);
      const answer = await response.json();
      if (!response.ok) {
        pictureNote.textContent = answer.error || "Not inserted.";
        return;
      }
      insertAtCursor(answer.markdown);
      pictureNote.textContent = "Inserted " + file.name + ".";
    } catch (error) {
      pictureNote.textContent = "Not inserted: the server did not answer.";
    }
  }

  insert.addEventListener("click", function () {
    picker.click();
  });
  picker.addEventListener("change", function () {
    uploadPicture(picker.files[0]);
    picker.value = "";
  });
  body.addEventListener("dragover", function (event) {
    if (event.dataTransfer && event.dataTransfer.types.includes("Files")) {
      event.preventDefault();
    }
  });
  body.addEventListener("drop", function (event) {
    const files = event.dataTransfer ? event.dataTransfer.files : [];
    if (files.length) {
      event.preventDefault();
      uploadPicture(files[0]);
    }
  });
  body.addEventListener("paste", function (event) {
    const files = event.clipboardData ? event.clipboardData.files : [];
    if (files.length) {
      event.preventDefault();
      uploadPicture(files[0]);
    }
  });

  const previewSoon = later(refreshPreview, 300);
  const autosaveSoon = later(autosave, 1500);

  form.addEventListener("input", function (event) {
    dirty = true;
    saved.textContent = autosaveUrl ? " · Not saved yet" : " · Not saved";
    saved.dataset.state = "dirty";
    if (event.target === body) {
      previewSoon();
    }
    autosaveSoon();
  });
  form.addEventListener("submit", function () {
    dirty = false;
  });
  window.addEventListener("beforeunload", function (event) {
    if (dirty) {
      event.preventDefault();
      event.returnValue = "";
    }
  });

  refreshPreview();
})();
