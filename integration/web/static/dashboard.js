// The dashboard's live part. It asks /progress where the cycles stand and shows it in the status
// line (#progress); when a cycle has ended since the page was drawn, it fetches the page again and
// swaps in the parts marked data-refresh (the tiles, calls, aging and trend), leaving alone a part
// the owner is using (typing in, or with a disclosure opened). Without JavaScript the page is whole
// as served; a reload brings it up to date.
(function () {
  "use strict";
  var box = document.getElementById("progress");
  if (!box || !window.fetch || !window.DOMParser) {
    return;
  }
  var RUNNING_EVERY = 2000; // ms between polls while a cycle runs, or the first one is awaited
  var IDLE_EVERY = 20000;
  var finished = box.getAttribute("data-finished");

  function show(state) {
    var messages = state.companies.map(function (c) { return c.message; }).filter(Boolean);
    var text = messages.join(" ");
    if (box.textContent !== text) {
      box.textContent = text;
    }
    box.hidden = messages.length === 0;
  }

  function refresh() {
    return fetch(window.location.pathname, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (!html) {
          return;
        }
        var fresh = new DOMParser().parseFromString(html, "text/html");
        document.querySelectorAll("[data-refresh]").forEach(function (part) {
          var replacement = fresh.getElementById(part.id);
          var inUse = part.contains(document.activeElement) || part.querySelector("details[open]");
          if (replacement && !inUse) {
            part.replaceWith(document.importNode(replacement, true));
          }
        });
      });
  }

  function poll() {
    fetch(box.getAttribute("data-url"), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        var type = response.headers.get("Content-Type") || "";
        if (type.indexOf("application/json") === -1) {
          throw new Error("signed out"); // the sign-in page came back instead: stop asking
        }
        if (!response.ok) {
          return { retry: true };
        }
        return response.json();
      })
      .then(function (state) {
        if (state.retry) {
          window.setTimeout(poll, IDLE_EVERY);
          return;
        }
        show(state);
        var now = JSON.stringify(state.finished);
        var next = state.running || state.first_sync_pending ? RUNNING_EVERY : IDLE_EVERY;
        if (now !== finished) {
          finished = now;
          return refresh().then(function () { window.setTimeout(poll, next); });
        }
        window.setTimeout(poll, next);
      })
      .catch(function () {
        // Signed out (or offline): the page stays as it is; a reload starts again.
      });
  }

  window.setTimeout(poll, RUNNING_EVERY);
})();
