// The wording editor's live preview: while the owner types, post the form to preview.json and show
// the subject, the text and any field's error beside it. Without this script the page still works:
// saving shows the preview and the errors.
(function () {
  "use strict";
  const form = document.getElementById("wording-form");
  if (!form) { return; }
  let timer = null;
  function show(data) {
    for (const box of form.querySelectorAll("[data-error-for]")) {
      const message = (data.errors || {})[box.dataset.errorFor] || "";
      box.textContent = message;
      box.hidden = !message;
    }
    if (data.subject !== undefined) {
      document.getElementById("preview-subject").textContent = data.subject;
      document.getElementById("preview-text").textContent = data.text;
    }
  }
  function refresh() {
    fetch(form.dataset.previewUrl, { method: "POST", body: new FormData(form), credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(show)
      .catch(function () { /* the preview is a convenience; saving still checks everything */ });
  }
  form.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(refresh, 300);
  });
}());
