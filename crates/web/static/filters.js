// On a phone, the catalogue folds its filters behind one « Filtrer » button above the results (a
// disclosure: aria-expanded, aria-controls), which says how many filters are active: the results
// come first on the screen.
// Without this script, or on a wider screen, the filters stay visible beside the results.
(function () {
  "use strict";
  var panel = document.getElementById("filtres");
  var button = document.getElementById("filtrer");
  if (!panel || !button) return;
  var phone = window.matchMedia("(max-width: 47.98em)");
  var active = Number(button.getAttribute("data-active") || "0");
  if (active > 0) button.textContent = "Filtrer (" + active + " actif" + (active > 1 ? "s" : "") + ")";
  function open(yes) {
    button.setAttribute("aria-expanded", yes ? "true" : "false");
    panel.hidden = !yes;
  }
  function layout() {
    if (phone.matches) {
      button.hidden = false;
      open(button.getAttribute("aria-expanded") === "true");
    } else {
      button.hidden = true;
      panel.hidden = false;
    }
  }
  button.addEventListener("click", function () {
    var yes = button.getAttribute("aria-expanded") !== "true";
    open(yes);
    if (yes) {
      var first = panel.querySelector("input, select");
      if (first) first.focus();
    }
  });
  if (phone.addEventListener) phone.addEventListener("change", layout);
  layout();
})();
