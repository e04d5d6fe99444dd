// Add a "Copy" button to each code snippet (progressive enhancement; no inline script).
(function () {
  "use strict";
  if (!navigator.clipboard) return;
  document.querySelectorAll("pre.snippet").forEach(function (pre) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "copy-button";
    button.textContent = "Copy";
    button.addEventListener("click", function () {
      var code = pre.querySelector("code") || pre;
      navigator.clipboard.writeText(code.innerText).then(function () {
        button.textContent = "Copied";
        setTimeout(function () { button.textContent = "Copy"; }, 1500);
      });
    });
    pre.appendChild(button);
  });
})();
