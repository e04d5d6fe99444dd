// Keyboard decisions on a review page (no inline script: the CSP forbids it).
// Alt+A / Alt+C / Alt+R pick approve / request changes / reject and leave the focus in the
// comment; Ctrl+Enter (or Cmd+Enter) submits. The submit button names the chosen decision.
(function () {
  "use strict";
  var form = document.getElementById("decision-form");
  if (!form) return;
  var comment = form.querySelector("textarea");
  var button = document.getElementById("decision-submit");
  var options = form.querySelectorAll(".decision-option[data-key]");

  function label(option) {
    var text = option.querySelector("span");
    return text ? text.textContent.trim() : "Submit decision";
  }

  function sync() {
    options.forEach(function (option) {
      var radio = option.querySelector("input[type=radio]");
      option.classList.toggle("is-selected", radio.checked);
      if (radio.checked) button.textContent = label(option);
    });
  }

  options.forEach(function (option) {
    option.querySelector("input[type=radio]").addEventListener("change", sync);
    option.setAttribute("aria-keyshortcuts", "Alt+" + option.dataset.key.toUpperCase());
  });

  document.addEventListener("keydown", function (event) {
    if (event.altKey && !event.ctrlKey && !event.metaKey) {
      // event.code, not event.key: on macOS Option+A types "å".
      var key = (event.code || "").replace(/^Key/, "").toLowerCase();
      var option = form.querySelector('.decision-option[data-key="' + key + '"]');
      if (!option) return;
      event.preventDefault();
      option.querySelector("input[type=radio]").checked = true;
      sync();
      if (comment) comment.focus();
    } else if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && form.contains(document.activeElement)) {
      event.preventDefault();
      if (form.requestSubmit) form.requestSubmit(button); else form.submit();
    }
  });
  sync();
})();
