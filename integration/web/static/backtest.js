// The backtest page's progress: while a run replays, ask the server how far it got and move the bar;
// when it has finished, reload the page to show the result. Without JavaScript the page offers a
// Refresh link instead.
(function () {
  "use strict";
  var box = document.querySelector("[data-status-url]");
  if (!box || box.getAttribute("data-state") !== "running") { return; }
  var bar = document.getElementById("run-progress");
  var text = box.querySelector("[data-progress-text]");
  var link = box.querySelector("[data-refresh-link]");
  if (link) { link.hidden = true; }

  function poll() {
    fetch(box.getAttribute("data-status-url"), { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.json(); })
      .then(function (run) {
        if (run.id !== box.getAttribute("data-run") || run.status !== "running") {
          window.location.reload();  // finished, failed, or not known to this server process
          return;
        }
        bar.value = run.days_done;
        bar.textContent = run.percent + "%";
        text.textContent = run.days_done + " of " + run.days_total + " days (" + run.percent + "%).";
        window.setTimeout(poll, 700);
      })
      .catch(function () {
        if (link) { link.hidden = false; }  // the server did not answer: the owner can still reload
      });
  }
  window.setTimeout(poll, 300);
}());
