// Live status of evaluations (no inline script: the CSP forbids it). Every 2 s, while any
// element with data-poll-url is queued or running, ask the API for its status; update the
// badge, and when one has finished fetch the page again and swap in the fresh
// [data-eval-section] (metrics, charts, the failure's sentence). Falls back to a reload.
(function () {
  "use strict";
  var INTERVAL = 2000;
  var LABELS = { queued: "Queued", running: "Running", succeeded: "Succeeded", failed: "Failed" };

  function pending() {
    return Array.prototype.slice.call(document.querySelectorAll("[data-poll-url]"));
  }

  function setBadge(element, status) {
    var badge = element.querySelector("[data-status-badge]") || document.querySelector("h1 [data-status-badge]");
    if (!badge || !LABELS[status]) return;
    badge.className = "badge badge-eval-" + status;
    badge.textContent = "";
    if (status === "running") {
      var spinner = document.createElement("span");
      spinner.className = "spinner";
      spinner.setAttribute("aria-hidden", "true");
      badge.appendChild(spinner);
      badge.appendChild(document.createTextNode(" "));
    }
    badge.appendChild(document.createTextNode(LABELS[status]));
    element.setAttribute("data-status", status);
  }

  function refreshSection() {
    return fetch(window.location.href, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) {
        if (!response.ok) throw new Error("page answered " + response.status);
        return response.text();
      })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html");
        var sections = document.querySelectorAll("[data-eval-section]");
        if (!sections.length) throw new Error("no section");
        sections.forEach(function (section) {
          var replacement = section.id && fresh.getElementById(section.id);
          if (!replacement) throw new Error("no fresh section");
          section.replaceWith(document.importNode(replacement, true));
        });
        var heading = document.querySelector("h1 [data-status-badge]");
        var freshHeading = fresh.querySelector("h1 [data-status-badge]");
        if (heading && freshHeading) heading.replaceWith(document.importNode(freshHeading, true));
      })
      .catch(function () { window.location.reload(); });
  }

  function poll() {
    var elements = pending();
    if (!elements.length) return;
    Promise.all(elements.map(function (element) {
      return fetch(element.getAttribute("data-poll-url"), { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (data) {
          if (!data) return false;
          setBadge(element, data.status);
          return data.status === "succeeded" || data.status === "failed";
        })
        .catch(function () { return false; });
    })).then(function (finished) {
      if (finished.some(Boolean)) {
        refreshSection().then(function () { window.setTimeout(poll, INTERVAL); });
      } else {
        window.setTimeout(poll, INTERVAL);
      }
    });
  }

  if (pending().length) window.setTimeout(poll, INTERVAL);
})();
