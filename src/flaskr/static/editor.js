// The post form as a writing space: a live preview in the published post's
// typography (a toggle), the word count and reading time, autosave (a new
// post becomes a draft from its first words), pictures added by a button,
// a drop or a paste with the alt text asked in the page, Enter in the title
// going to the text, and a warning before leaving with changes not saved.
// Without this script the form still works: its buttons save, preview on
// the server and publish.
(function () {
  "use strict";

  const form = document.querySelector("form[data-editor]");
  if (!form) {
    return;
  }
  const title = form.querySelector("input[name=title]");
  const body = form.querySelector("textarea[name=body]");
  const token = form.querySelector("input[name=csrf_token]");
  if (!title || !body || !token) {
    return;
  }
  let version = form.querySelector("input[name=version]");

  // The new-post form's one-time token belongs to this place in the tab's
  // history: Back after Publish loads the page anew (it is never cached),
  // and the form must still be the one that made the post, so that
  // Publishing again edits that post instead of making a second.
  const formToken = form.querySelector("input[name=form_token]");
  if (formToken) {
    const state = history.state || {};
    if (state.formToken) {
      formToken.value = state.formToken;
    } else {
      history.replaceState(Object.assign({}, state, { formToken: formToken.value }), "");
    }
  }
  const previewUrl = form.dataset.previewUrl;
  let autosaveUrl = form.dataset.autosaveUrl;
  const autosaveNewUrl = form.dataset.autosaveNewUrl;
  const maxBytes = Number(form.dataset.maxBytes);

  // The status line in the bar: the post's state, its counts, its saving.
  const status = form.querySelector(".editor-status");
  const counts = document.createElement("span");
  const saved = document.createElement("span");
  saved.className = "editor-saved";
  status.append(counts, saved);

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

  async function answerOf(response) {
    try {
      return await response.json();
    } catch (error) {
      return {};
    }
  }

  // The preview: the pane the server fills on "Preview", kept live here.
  const panes = form.querySelector(".editor-panes");
  const pane = form.querySelector(".preview-pane");
  const previewTitle = pane.querySelector(".preview-title");
  const rendered = pane.querySelector(".body");
  const previewButton = form.querySelector("[data-preview-button]");

  function showCounts(words, minutes) {
    if (!words) {
      counts.textContent = "";
      return;
    }
    const noun = words === 1 ? "word" : "words";
    counts.textContent = " · " + words.toLocaleString() + " " + noun + " · " + minutes + " min read";
  }

  async function refreshPreview() {
    const data = new FormData();
    data.append("body", body.value);
    previewTitle.textContent = title.value;
    try {
      const response = await post(previewUrl, data);
      const answer = await answerOf(response);
      if (!response.ok) {
        counts.textContent = " · " + (answer.error || "The preview is not available.");
        return;
      }
      // The server's own renderer made this HTML and cleaned it (nh3).
      rendered.innerHTML = answer.html;
      showCounts(answer.words, answer.minutes);
    } catch (error) {
      counts.textContent = " · The preview is not available right now.";
    }
  }

  function setPreviewing(on) {
    pane.hidden = !on;
    panes.classList.toggle("previewing", on);
    fitTitle();
    if (previewButton) {
      previewButton.setAttribute("aria-pressed", String(on));
      previewButton.setAttribute("aria-controls", "preview");
    }
  }

  // With the script the preview is a toggle: on narrow windows it takes the
  // writing's place (the stylesheet hides the text while it shows).
  form.classList.add("editor-live");
  if (previewButton) {
    setPreviewing(!pane.hidden);
    // Also pressed by Enter in a one-line field of a published post (the
    // form's first button): it only shows the preview, as on the server.
    previewButton.addEventListener("click", function (event) {
      event.preventDefault();
      const on = pane.hidden;
      setPreviewing(on);
      if (on) {
        refreshPreview();
        if (window.matchMedia("(max-width: 63.99rem)").matches) {
          pane.focus({ preventScroll: true });
          pane.scrollIntoView({ block: "start" });
        }
      }
    });
  }

  // Enter in the title goes on to the text (the first line of a post is
  // its title, as on paper), never to the form's first button.
  title.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.isComposing) {
      event.preventDefault();
      body.focus();
      body.setSelectionRange(0, 0);
    }
  });

  // A title over the limit is said at once (the server says it again).
  const titleLimit = Number(title.dataset.maxLength);
  const titleNote = document.createElement("p");
  titleNote.className = "error";
  titleNote.id = "title-length";
  titleNote.hidden = true;
  title.after(titleNote);
  // A one-line field does not wrap: a long title is set smaller so more of
  // it shows.
  function fitTitle() {
    title.classList.remove("long-title");
    title.classList.toggle("long-title", title.scrollWidth > title.clientWidth);
  }
  fitTitle();
  window.addEventListener("resize", fitTitle);

  function checkTitle() {
    fitTitle();
    const over = titleLimit && title.value.length > titleLimit;
    titleNote.hidden = !over;
    titleNote.textContent = over
      ? "The title is " + title.value.length + " characters; at most " + titleLimit + " fit. Shorten it to save."
      : "";
    const serverSaid = form.querySelector("#title-error");
    if (serverSaid) {
      // What the server said of the title sent is stale once it is edited.
      serverSaid.hidden = true;
    }
    if (over) {
      title.setAttribute("aria-describedby", "title-length");
      title.setAttribute("aria-invalid", "true");
    } else {
      title.removeAttribute("aria-describedby");
      title.removeAttribute("aria-invalid");
    }
  }

  // Autosave: a draft as its writer types; a new post becomes a draft with
  // its first words, and the page becomes that draft's edit page.
  let dirty = false;
  let stopped = false;
  let saving = false;

  function clock() {
    return new Date().toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  function sayState(text, state) {
    saved.textContent = text ? " · " + text : "";
    saved.dataset.state = state;
  }

  function becameDraft(answer) {
    autosaveUrl = answer.autosave_url;
    form.dataset.autosaveUrl = autosaveUrl;
    form.action = answer.update_url;
    if (!version) {
      version = document.createElement("input");
      version.type = "hidden";
      version.name = "version";
      form.prepend(version);
    }
    status.querySelector(".editor-state").textContent = "Draft";
    history.replaceState(history.state, "", answer.update_url);
  }

  function hasWords() {
    return title.value.trim() !== "" || body.value.trim() !== "";
  }

  async function autosave() {
    const url = autosaveUrl || autosaveNewUrl;
    if (!url || stopped || !dirty || saving) {
      return;
    }
    if (!autosaveUrl && !hasWords()) {
      return;
    }
    if (titleLimit && title.value.length > titleLimit) {
      sayState("Not saved: the title is too long.", "error");
      return;
    }
    const data = new FormData(form);
    data.delete("image_file");
    data.delete("action");
    dirty = false;
    saving = true;
    try {
      const response = await post(url, data);
      const answer = await answerOf(response);
      if (response.ok) {
        if (!autosaveUrl) {
          becameDraft(answer);
        }
        version.value = String(answer.version);
        sayState(dirty ? "Not saved yet" : "Saved " + clock(), dirty ? "dirty" : "saved");
      } else {
        dirty = true;
        sayState(answer.error || "Not saved.", "error");
        if (response.status === 409) {
          stopped = true;
        }
      }
    } catch (error) {
      dirty = true;
      sayState("Not saved: the server did not answer.", "error");
    } finally {
      saving = false;
    }
    if (dirty && !stopped) {
      autosaveSoon();
    }
  }

  const previewSoon = later(refreshPreview, 300);
  const autosaveSoon = later(autosave, 1500);

  // The schedule: its zone starts as the browser's, and a time to come
  // turns the bar's Publish into Schedule.
  const schedule = form.querySelector(".schedule");
  const zones = form.querySelector("select[name=time_zone]");
  if (schedule && zones && schedule.hasAttribute("data-zone-unset")) {
    const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone && Array.from(zones.options).some((option) => option.value === zone)) {
      zones.value = zone;
    }
  }
  const publishAt = form.querySelector("input[name=publish_at]");
  const publishButton = form.querySelector("[data-publish-button]");
  function showScheduling() {
    if (!publishAt || !publishButton) {
      return;
    }
    const scheduling = publishAt.value !== "";
    publishButton.value = scheduling ? "schedule" : "publish";
    publishButton.textContent = scheduling ? "Schedule" : "Publish";
  }
  showScheduling();

  // The cover picture chosen (and passed by picture-check.js) shows at the
  // top of the preview, as on the published post.
  const cover = form.querySelector("input[name=image_file]");
  if (cover) {
    cover.addEventListener("change", function () {
      const file = cover.files && cover.files[0];
      let figure = pane.querySelector(".post-full > .picture");
      if (!file) {
        return;
      }
      const reader = new FileReader();
      reader.addEventListener("load", function () {
        if (!figure) {
          figure = document.createElement("figure");
          figure.className = "picture";
          previewTitle.after(figure);
        }
        const image = document.createElement("img");
        image.src = String(reader.result);
        const alt = form.querySelector("input[name=image_alt]");
        image.alt = alt ? alt.value : "";
        figure.replaceChildren(image);
      });
      reader.readAsDataURL(file);
    });
  }

  // Pictures in the text: a button, a file dropped on the text, or one
  // pasted. Each is checked here first, then its description (alt text) is
  // asked in the page; it goes to the writer's library and its Markdown
  // goes where the cursor was.
  const uploadUrl = form.dataset.uploadUrl;
  const tools = form.querySelector(".body-tools");
  const picker = document.createElement("input");
  picker.type = "file";
  picker.accept = "image/jpeg,image/png,image/webp,image/gif";
  picker.hidden = true;
  const addPicture = document.createElement("button");
  addPicture.type = "button";
  addPicture.className = "secondary add-picture";
  addPicture.textContent = "Add picture";
  tools.prepend(addPicture, picker);

  const pictureNote = document.createElement("p");
  pictureNote.className = "picture-note";
  pictureNote.setAttribute("role", "status");
  tools.after(pictureNote);

  const dialog = document.createElement("div");
  dialog.className = "picture-dialog";
  dialog.setAttribute("role", "group");
  dialog.setAttribute("aria-label", "Picture to add");
  dialog.hidden = true;
  const thumbnail = document.createElement("img");
  thumbnail.alt = "";
  const altLabel = document.createElement("label");
  altLabel.id = "picture-dialog-label";
  altLabel.htmlFor = "picture-alt";
  altLabel.textContent = "Describe the picture for people who cannot see it";
  const altInput = document.createElement("input");
  altInput.id = "picture-alt";
  altInput.type = "text";
  altInput.maxLength = 500;
  altInput.autocomplete = "off";
  const altError = document.createElement("p");
  altError.className = "error";
  altError.id = "picture-alt-error";
  altError.hidden = true;
  const insertButton = document.createElement("button");
  insertButton.type = "button";
  insertButton.textContent = "Insert picture";
  const cancelButton = document.createElement("button");
  cancelButton.type = "button";
  cancelButton.className = "secondary";
  cancelButton.textContent = "Cancel";
  const dialogFields = document.createElement("div");
  dialogFields.className = "picture-dialog-fields";
  const dialogButtons = document.createElement("div");
  dialogButtons.className = "buttons";
  dialogButtons.append(insertButton, cancelButton);
  dialogFields.append(altLabel, altError, altInput, dialogButtons);
  dialog.append(thumbnail, dialogFields);
  pictureNote.after(dialog);

  let chosen = null;
  let cursor = [0, 0];

  function insertAtCursor(text) {
    const [start, end] = cursor;
    const before = body.value.slice(0, start);
    const gap = before && !before.endsWith("\n") ? "\n\n" : "";
    body.setRangeText(gap + text + "\n", start, end, "end");
    body.dispatchEvent(new Event("input", { bubbles: true }));
    body.focus();
  }

  function closeDialog(focusBody) {
    chosen = null;
    dialog.hidden = true;
    altInput.value = "";
    altError.hidden = true;
    altInput.removeAttribute("aria-invalid");
    thumbnail.removeAttribute("src");
    if (focusBody) {
      body.focus();
      body.setSelectionRange(cursor[0], cursor[1]);
    }
  }

  function choosePicture(file) {
    if (!file) {
      return;
    }
    const check = window.flaskrPictureProblem;
    const problem = check ? check(file, maxBytes) : "";
    if (problem) {
      pictureNote.textContent = "Not added: " + problem;
      pictureNote.dataset.state = "error";
      return;
    }
    cursor = [body.selectionStart, body.selectionEnd];
    chosen = file;
    pictureNote.textContent = "";
    delete pictureNote.dataset.state;
    const reader = new FileReader();
    reader.addEventListener("load", function () {
      if (chosen === file) {
        thumbnail.src = String(reader.result);
      }
    });
    reader.readAsDataURL(file);
    dialog.hidden = false;
    altInput.focus();
  }

  async function uploadChosen() {
    const file = chosen;
    const alt = altInput.value.trim();
    if (!file) {
      return;
    }
    if (!alt) {
      altError.textContent = "Describe the picture first: it is what people who cannot see it read.";
      altError.hidden = false;
      altInput.setAttribute("aria-invalid", "true");
      altInput.setAttribute("aria-describedby", "picture-alt-error");
      altInput.focus();
      return;
    }
    closeDialog(false);
    const data = new FormData();
    data.append("picture", file);
    data.append("alt", alt);
    data.append("csrf_token", token.value);
    pictureNote.textContent = "Uploading " + file.name + "…";
    delete pictureNote.dataset.state;
    try {
      const response = await post(uploadUrl, data);
      const answer = await answerOf(response);
      if (!response.ok) {
        pictureNote.textContent = "Not added: " + (answer.error || "the server refused it.");
        pictureNote.dataset.state = "error";
        return;
      }
      insertAtCursor(answer.markdown);
      pictureNote.textContent = "Added " + file.name + " to the text and to your pictures.";
    } catch (error) {
      pictureNote.textContent = "Not added: the server did not answer.";
      pictureNote.dataset.state = "error";
    }
  }

  addPicture.addEventListener("click", function () {
    picker.click();
  });
  picker.addEventListener("change", function () {
    choosePicture(picker.files[0]);
    picker.value = "";
  });
  insertButton.addEventListener("click", uploadChosen);
  cancelButton.addEventListener("click", function () {
    closeDialog(true);
  });
  dialog.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      event.preventDefault();
      closeDialog(true);
    } else if (event.key === "Enter" && event.target === altInput) {
      // Not the form's first button: Enter here inserts the picture.
      event.preventDefault();
      uploadChosen();
    }
  });

  function hasFiles(event) {
    return event.dataTransfer && Array.from(event.dataTransfer.types).includes("Files");
  }
  body.addEventListener("dragover", function (event) {
    if (hasFiles(event)) {
      event.preventDefault();
      body.classList.add("dropping");
    }
  });
  body.addEventListener("dragleave", function () {
    body.classList.remove("dropping");
  });
  body.addEventListener("drop", function (event) {
    body.classList.remove("dropping");
    const files = event.dataTransfer ? event.dataTransfer.files : [];
    if (files.length) {
      event.preventDefault();
      choosePicture(files[0]);
    }
  });
  body.addEventListener("paste", function (event) {
    const files = event.clipboardData ? event.clipboardData.files : [];
    if (files.length) {
      event.preventDefault();
      choosePicture(files[0]);
    }
  });

  form.addEventListener("input", function (event) {
    if (dialog.contains(event.target)) {
      return;
    }
    dirty = true;
    sayState(autosaveUrl || autosaveNewUrl ? "Not saved yet" : "Not saved", "dirty");
    if (event.target === title) {
      checkTitle();
      previewTitle.textContent = title.value;
    }
    if (event.target === body) {
      previewSoon();
    }
    if (event.target === publishAt) {
      showScheduling();
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
