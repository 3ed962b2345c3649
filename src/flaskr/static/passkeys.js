// Passkeys (WebAuthn): adding one on the sign-in security page, and using
// one to log in, as a login's second step, to confirm it is you, or for a
// password reset. Each ceremony asks the server for options (a fresh
// challenge), hands them to the browser, and sends the answer back; the
// server's JSON says where to go next. Without WebAuthn the passkey buttons
// stay hidden and the password and codes work as before.
"use strict";

(function () {
  const supported =
    window.PublicKeyCredential !== undefined &&
    navigator.credentials !== undefined &&
    window.isSecureContext;

  // base64url, both ways, for browsers without parse*FromJSON / toJSON.
  function toBytes(text) {
    const base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    const padded = base64 + "===".slice((base64.length + 3) % 4);
    const binary = atob(padded);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i += 1) bytes[i] = binary.charCodeAt(i);
    return bytes.buffer;
  }

  function toText(buffer) {
    const bytes = new Uint8Array(buffer);
    let binary = "";
    for (let i = 0; i < bytes.length; i += 1) binary += String.fromCharCode(bytes[i]);
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function withIds(list) {
    return (list || []).map(function (item) {
      return Object.assign({}, item, { id: toBytes(item.id) });
    });
  }

  function creationOptions(json) {
    if (PublicKeyCredential.parseCreationOptionsFromJSON) {
      return PublicKeyCredential.parseCreationOptionsFromJSON(json);
    }
    return Object.assign({}, json, {
      challenge: toBytes(json.challenge),
      user: Object.assign({}, json.user, { id: toBytes(json.user.id) }),
      excludeCredentials: withIds(json.excludeCredentials),
    });
  }

  function requestOptions(json) {
    if (PublicKeyCredential.parseRequestOptionsFromJSON) {
      return PublicKeyCredential.parseRequestOptionsFromJSON(json);
    }
    return Object.assign({}, json, {
      challenge: toBytes(json.challenge),
      allowCredentials: withIds(json.allowCredentials),
    });
  }

  function credentialJSON(credential) {
    if (typeof credential.toJSON === "function") {
      return credential.toJSON();
    }
    const response = credential.response;
    const json = {
      id: credential.id,
      rawId: toText(credential.rawId),
      type: credential.type,
      authenticatorAttachment: credential.authenticatorAttachment || undefined,
      clientExtensionResults: credential.getClientExtensionResults(),
      response: { clientDataJSON: toText(response.clientDataJSON) },
    };
    if (response.attestationObject) {
      json.response.attestationObject = toText(response.attestationObject);
      json.response.transports = response.getTransports ? response.getTransports() : [];
    } else {
      json.response.authenticatorData = toText(response.authenticatorData);
      json.response.signature = toText(response.signature);
      if (response.userHandle) json.response.userHandle = toText(response.userHandle);
    }
    return json;
  }

  async function post(element, url, body) {
    const response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json",
        "X-CSRFToken": element.dataset.csrfToken,
      },
      body: JSON.stringify(body),
    });
    let answer = {};
    try {
      answer = await response.json();
    } catch (error) {
      answer = {};
    }
    if (!response.ok) {
      const problem = new Error(firstMessage(answer) || "Something went wrong. Try again.");
      problem.fields = answer.errors || {};
      throw problem;
    }
    return answer;
  }

  function firstMessage(answer) {
    const errors = answer && answer.errors;
    if (!errors) return "";
    return Object.keys(errors)
      .map(function (field) {
        return errors[field].join(" ");
      })
      .join(" ");
  }

  // What the browser's refusal means for the person in front of it.
  function browserMessage(error) {
    if (error.name === "NotAllowedError" || error.name === "AbortError") {
      return "The passkey request was cancelled or timed out. Try again when ready.";
    }
    if (error.name === "InvalidStateError") {
      return "This device already has a passkey for your account.";
    }
    if (error.name === "SecurityError") {
      return "Passkeys do not work at this address: open the site at its own address.";
    }
    return error.message || "The passkey did not work. Try again.";
  }

  // Using a passkey: the login, its second step, confirming, a reset.
  function startWay(way) {
    const button = way.querySelector("button");
    const status = way.querySelector(".passkey-status");
    way.hidden = false;

    async function finish(credential) {
      const answer = await post(way, way.dataset.verifyUrl, {
        credential: credentialJSON(credential),
        next: way.dataset.next || "",
      });
      if (answer.redirect) {
        status.classList.remove("error");
        status.textContent = "Passkey accepted.";
        window.location.assign(answer.redirect);
        return;
      }
      status.textContent =
        "Your passkey is accepted. Now choose the new password and send the form.";
      button.hidden = true;
    }

    function showProblem(error) {
      status.classList.add("error");
      status.textContent = error.fields ? error.message : browserMessage(error);
    }

    // On the login page, the browser may also offer its passkeys in the
    // username field's suggestions (conditional mediation), until the
    // button asks in a dialog instead.
    const suggesting = way.dataset.passkeyWay === "login" ? offerInField(way) : null;

    button.addEventListener("click", async function () {
      button.disabled = true;
      if (suggesting) await suggesting.stop();
      status.classList.remove("error");
      status.textContent = "Waiting for your passkey…";
      try {
        const options = await post(way, way.dataset.optionsUrl, {});
        const credential = await navigator.credentials.get({
          publicKey: requestOptions(options),
        });
        await finish(credential);
      } catch (error) {
        showProblem(error);
      }
      button.disabled = false;
    });

    if (suggesting) {
      suggesting.start(finish, showProblem);
    }
  }

  // Passkeys among the username field's suggestions. Each request for
  // options replaces the challenge the server keeps, so stop() waits for
  // this one's options to have arrived before the button asks for its own.
  function offerInField(way) {
    const field = document.querySelector("input[autocomplete~=username]");
    const controller = new AbortController();
    let asked = Promise.resolve();
    return {
      start: function (finish, showProblem) {
        if (!field || !PublicKeyCredential.isConditionalMediationAvailable) return;
        asked = (async function () {
          if (!(await PublicKeyCredential.isConditionalMediationAvailable())) return;
          field.setAttribute("autocomplete", field.getAttribute("autocomplete") + " webauthn");
          const options = await post(way, way.dataset.optionsUrl, {});
          return options;
        })().catch(function () {
          return undefined;
        });
        asked.then(async function (options) {
          if (!options || controller.signal.aborted) return;
          try {
            const credential = await navigator.credentials.get({
              publicKey: requestOptions(options),
              mediation: "conditional",
              signal: controller.signal,
            });
            await finish(credential);
          } catch (error) {
            // The browser's own refusals (none chosen, none there) are not
            // the person's doing here: only the server's are shown.
            if (error.fields) showProblem(error);
          }
        });
      },
      stop: async function () {
        controller.abort();
        await asked;
      },
    };
  }

  // Adding a passkey on the sign-in security page.
  function startAdding(form) {
    const name = form.querySelector("input[name=name]");
    const nameError = form.querySelector(".error");
    const status = form.querySelector(".passkey-status");
    const button = form.querySelector("button[type=submit]");
    form.hidden = false;

    function showNameError(message) {
      nameError.textContent = message;
      nameError.hidden = !message;
      form.querySelector(".field").classList.toggle("field-invalid", Boolean(message));
      if (message) {
        name.setAttribute("aria-invalid", "true");
        name.setAttribute("aria-describedby", nameError.id + " " + name.id + "-hint");
        name.focus();
      } else {
        name.removeAttribute("aria-invalid");
        name.setAttribute("aria-describedby", name.id + "-hint");
      }
    }

    form.addEventListener("submit", async function (event) {
      event.preventDefault();
      button.disabled = true;
      showNameError("");
      status.classList.remove("error");
      status.textContent = "Follow your browser's steps to make the passkey…";
      try {
        const options = await post(form, form.dataset.optionsUrl, { name: name.value });
        const credential = await navigator.credentials.create({
          publicKey: creationOptions(options),
        });
        const answer = await post(form, form.dataset.verifyUrl, {
          name: name.value,
          credential: credentialJSON(credential),
        });
        status.textContent = "The passkey is added.";
        const recovery = document.querySelector("form[data-passkey-recovery]");
        if (answer.make_recovery_codes && recovery) {
          recovery.submit();
          return;
        }
        window.location.assign(answer.redirect);
        return;
      } catch (error) {
        if (error.fields && error.fields.name) {
          showNameError(error.fields.name.join(" "));
          status.textContent = "";
        } else {
          status.classList.add("error");
          status.textContent = error.fields ? error.message : browserMessage(error);
        }
      }
      button.disabled = false;
    });
  }

  function start() {
    if (!supported) return;
    document.querySelectorAll("[data-passkey-unsupported]").forEach(function (note) {
      note.hidden = true;
    });
    document.querySelectorAll("[data-passkey-way]").forEach(startWay);
    document.querySelectorAll("form[data-passkey-add]").forEach(startAdding);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
