// Pictures are checked in the browser before they are sent: a file that is
// not a JPEG, PNG, WebP or GIF, or is larger than the input's data-max-bytes,
// is refused at once with the reason beside the input, and never uploaded.
// The server checks again (and answers the same form) without this script.
(function () {
  "use strict";

  const TYPES = ["image/jpeg", "image/png", "image/webp", "image/gif"];

  // Sizes as the server words them: whole MB from 10 MB, else one decimal,
  // rounded up so a picture just over the limit never reads as equal to it.
  function megabytes(size) {
    if (size >= 10000000) {
      return Math.ceil(size / 1000000) + " MB";
    }
    return String(Math.ceil(size / 100000) / 10) + " MB";
  }

  // Why ``file`` cannot be sent, or "" if it can.
  function pictureProblem(file, maxBytes) {
    if (file.type && !TYPES.includes(file.type)) {
      return "“" + file.name + "” is not a JPEG, PNG, WebP or GIF picture.";
    }
    if (maxBytes && file.size > maxBytes) {
      return (
        "This picture is " + megabytes(file.size) + "; the limit is " +
        megabytes(maxBytes) + ". Choose a smaller one."
      );
    }
    return "";
  }
  window.flaskrPictureProblem = pictureProblem;

  function messageFor(input) {
    const id = input.id + "-refused";
    let message = document.getElementById(id);
    if (!message) {
      message = document.createElement("p");
      message.id = id;
      message.className = "error";
      message.setAttribute("role", "alert");
      input.after(message);
      const described = input.getAttribute("aria-describedby");
      input.setAttribute("aria-describedby", described ? described + " " + id : id);
    }
    return message;
  }

  document.querySelectorAll("input[type=file][data-max-bytes]").forEach(function (input) {
    input.addEventListener("change", function () {
      const file = input.files && input.files[0];
      const problem = file ? pictureProblem(file, Number(input.dataset.maxBytes)) : "";
      const message = messageFor(input);
      message.textContent = problem;
      message.hidden = !problem;
      if (problem) {
        input.value = "";
        input.setAttribute("aria-invalid", "true");
      } else {
        input.removeAttribute("aria-invalid");
      }
    });
  });
})();
