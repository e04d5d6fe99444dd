// Upload files to a draft version through the REST API, one request per file, with a
// <progress> bar each. Without JavaScript the same form posts to the web upload view.
(function () {
  "use strict";

  var form = document.getElementById("upload-form");
  if (!form || !window.XMLHttpRequest || !window.FormData) return;
  var input = form.querySelector("input[type=file]");
  var list = document.getElementById("upload-progress");
  var button = form.querySelector("button[type=submit]");
  var csrfInput = form.querySelector("input[name=csrfmiddlewaretoken]");

  function errorText(xhr) {
    // The API answers errors as {"error": code, "detail": sentence}; show the sentence.
    try {
      var body = JSON.parse(xhr.responseText);
      if (body && body.detail) return body.detail;
    } catch (e) { /* not JSON: a proxy error page, for instance */ }
    if (xhr.status === 413) return "The file is larger than the upload limit.";
    return xhr.status ? "Upload failed (HTTP " + xhr.status + ")." : "Upload failed: the connection was lost.";
  }

  function row(file) {
    var item = document.createElement("li");
    var name = document.createElement("span");
    name.className = "upload-name";
    name.textContent = file.name;
    var bar = document.createElement("progress");
    bar.max = 100;
    bar.value = 0;
    bar.setAttribute("aria-label", "Uploading " + file.name);
    var status = document.createElement("span");
    status.className = "upload-status";
    status.textContent = "waiting";
    item.appendChild(name);
    item.appendChild(bar);
    item.appendChild(status);
    list.appendChild(item);
    return { item: item, bar: bar, status: status };
  }

  function uploadOne(file, ui) {
    return new Promise(function (resolve) {
      var xhr = new XMLHttpRequest();
      var data = new FormData();
      data.append("file", file, file.name);
      xhr.open("POST", form.dataset.apiUrl);
      xhr.setRequestHeader("X-CSRFToken", csrfInput ? csrfInput.value : "");
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.addEventListener("progress", function (event) {
        if (event.lengthComputable) {
          ui.bar.value = Math.round((event.loaded / event.total) * 100);
          ui.status.textContent = ui.bar.value + "%";
        }
      });
      xhr.addEventListener("load", function () {
        if (xhr.status >= 200 && xhr.status < 300) {
          ui.bar.value = 100;
          ui.status.textContent = "done";
          ui.item.className = "upload-ok";
          // The bytes match no known format, or not the one the name claims: say so now.
          var body = null;
          try { body = JSON.parse(xhr.responseText); } catch (e) { /* no body to read */ }
          if (body && body.warning) {
            ui.status.textContent = "done, but: " + body.warning;
            ui.item.className = "upload-warning";
          }
          resolve(true);
        } else {
          ui.status.textContent = errorText(xhr);
          ui.item.className = "upload-failed";
          resolve(false);
        }
      });
      xhr.addEventListener("error", function () {
        ui.status.textContent = errorText(xhr);
        ui.item.className = "upload-failed";
        resolve(false);
      });
      ui.status.textContent = "0%";
      xhr.send(data);
    });
  }

  // The parts of the page an upload changes: the file table (sizes, SHA-256s, format
  // warnings), the submit panel (it needs a file), the signature read from a model file,
  // and what a submission would evaluate with that signature.
  var REFRESHED = ["file-list", "submit", "signature", "evaluate-on"];

  function reloadFileList() {
    // Fetch this page again and swap in those parts, so what they say comes from the server.
    return fetch(window.location.href, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) { return response.text(); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        REFRESHED.forEach(function (id) {
          var fresh = doc.getElementById(id);
          var current = document.getElementById(id);
          if (fresh && current) current.replaceWith(document.importNode(fresh, true));
        });
        document.dispatchEvent(new CustomEvent("registry:uploaded"));
      });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var files = Array.prototype.slice.call(input.files || []);
    if (!files.length) {
      input.focus();
      return;
    }
    list.textContent = "";
    button.disabled = true;
    var rows = files.map(row);
    // One at a time: parallel uploads of large files would only compete for the same link.
    var chain = Promise.resolve(0);
    files.forEach(function (file, index) {
      chain = chain.then(function (okCount) {
        return uploadOne(file, rows[index]).then(function (ok) { return okCount + (ok ? 1 : 0); });
      });
    });
    chain.then(function (okCount) {
      button.disabled = false;
      input.value = "";
      if (okCount > 0) return reloadFileList();
    });
  });
})();
