// "Add a row" for the formsets of a form (partials/formset_rows.html): clones the empty
// row's <template>, numbers it, and counts it in the management form's TOTAL_FORMS.
// Without JavaScript the page always ends each formset with one blank row.
(function () {
  "use strict";

  document.querySelectorAll("fieldset[data-formset]").forEach(function (fieldset) {
    var prefix = fieldset.dataset.formset;
    var total = fieldset.querySelector("input[name='" + prefix + "-TOTAL_FORMS']");
    var max = fieldset.querySelector("input[name='" + prefix + "-MAX_NUM_FORMS']");
    var template = fieldset.querySelector("template[data-formset-empty]");
    var rows = fieldset.querySelector("[data-formset-rows]");
    var button = fieldset.querySelector("[data-formset-add]");
    if (!total || !template || !rows || !button) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      var index = parseInt(total.value, 10);
      if (max && index >= parseInt(max.value, 10)) return;
      var html = template.innerHTML.replace(/__prefix__/g, String(index));
      var body = document.createElement("tbody");
      body.innerHTML = html;
      var row = body.firstElementChild;
      rows.appendChild(row);
      total.value = String(index + 1);
      var first = row.querySelector("input");
      if (first) first.focus();
    });
  });
})();
