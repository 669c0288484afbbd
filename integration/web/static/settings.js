// The settings page's live preview: once the owner has asked for a stage's preview, it follows
// what they type (nothing is saved). Without JavaScript the Preview buttons post the form instead.
(function () {
  "use strict";
  var form = document.getElementById("rules-form");
  if (!form) { return; }
  var shown = {};  // stage -> true once previewed
  var timer = null;

  function query(stage) {
    var data = new FormData(form);
    data.delete("csrf_token");  // the token never goes into an address
    var params = new URLSearchParams();
    data.forEach(function (value, key) { params.append(key, value); });
    return form.getAttribute("data-preview-url").replace("STAGE", encodeURIComponent(stage)) + "?" + params.toString();
  }

  function panel(stage) {
    var found = document.getElementById("preview-" + stage);
    if (found) { return found; }
    var box = document.createElement("div");
    box.className = "stage-preview";
    box.id = "preview-" + stage;
    box.setAttribute("aria-live", "polite");
    box.tabIndex = -1;
    var stageBox = document.getElementById("stage-" + stage);
    stageBox.classList.add("stage-previewing");  // the email needs the page's width
    stageBox.appendChild(box);
    return box;
  }

  function show(stage, title) {
    fetch(query(stage), { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.json(); })
      .then(function (result) { draw(panel(stage), title, result); })
      .catch(function () { draw(panel(stage), title, { error: { message: "The preview could not be loaded; try again." } }); });
  }

  function draw(box, title, result) {
    box.textContent = "";
    var heading = document.createElement("h4");
    heading.textContent = "Preview: " + title;
    box.appendChild(heading);
    if (result.error) {
      var error = document.createElement("p");
      error.className = "field-error";
      error.textContent = "To preview, correct the form: " + result.error.message;
      box.appendChild(error);
      return;
    }
    var subject = document.createElement("p");
    var label = document.createElement("strong");
    label.textContent = "Subject: ";
    subject.appendChild(label);
    subject.appendChild(document.createTextNode(result.subject));
    box.appendChild(subject);
    var frame = document.createElement("iframe");
    frame.setAttribute("sandbox", "");
    frame.title = "Email preview: " + title;
    frame.src = result.html_url;
    box.appendChild(frame);
    var details = document.createElement("details");
    var summary = document.createElement("summary");
    summary.textContent = "Plain-text version";
    var text = document.createElement("pre");
    text.textContent = result.text;
    details.appendChild(summary);
    details.appendChild(text);
    box.appendChild(details);
  }

  function title(stage) {
    return document.querySelector("#stage-" + stage + " > legend").textContent;
  }

  form.addEventListener("click", function (event) {
    var button = event.target.closest(".preview-button");
    if (!button) { return; }
    event.preventDefault();
    var stage = button.getAttribute("data-stage");
    shown[stage] = true;
    show(stage, title(stage));
  });

  form.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(function () {
      Object.keys(shown).forEach(function (stage) { show(stage, title(stage)); });
    }, 400);
  });

  // A preview drawn by the server (no-JavaScript path or a reload) keeps following the typing.
  document.querySelectorAll(".stage-preview").forEach(function (box) {
    shown[box.id.replace("preview-", "")] = true;
  });
})();
