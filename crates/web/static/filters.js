// On a phone, the catalogue folds its filters behind one « Filtrer » button above the results (a
// disclosure: aria-expanded, aria-controls; its label says how many filters are active): the
// results come first on the screen. The folding itself is the style sheet's (app.css, `si-js`), from the
// first paint; this script opens and closes.
// Without scripts, or on a wider screen, the filters stay visible beside the results.
(function () {
  "use strict";
  var panel = document.getElementById("filtres");
  var button = document.getElementById("filtrer");
  if (!panel || !button) return;
  button.addEventListener("click", function () {
    var yes = button.getAttribute("aria-expanded") !== "true";
    button.setAttribute("aria-expanded", yes ? "true" : "false");
    panel.classList.toggle("si-open", yes);
    if (yes) {
      var first = panel.querySelector("input, select");
      if (first) first.focus();
    }
  });
})();
