// On a phone the catalog's facets fold behind a "Filters" button so the results come first.
// Without JavaScript they stay open (the <details> is rendered open).
(function () {
  "use strict";
  var fold = document.querySelector("[data-fold-on-phone]");
  if (!fold) return;
  var phone = window.matchMedia("(max-width: 899px)");
  function apply() { fold.open = !phone.matches; }
  apply();
  phone.addEventListener("change", apply);
})();
