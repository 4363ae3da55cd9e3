// Suggestions for the « Où ? » fields: communes whose name starts with what is typed, read from
// /api/v1/communes?q=… into the field's <datalist>. The field works without this script (the server
// understands a name, a postal code or an INSEE code); it only saves typing.
(function () {
  "use strict";
  Array.prototype.forEach.call(document.querySelectorAll("input[data-place-suggest]"), function (input) {
    var list = document.getElementById(input.getAttribute("list"));
    if (!list) return;
    var timer = null;
    var last = "";
    input.addEventListener("input", function () {
      var typed = input.value.trim();
      if (typed.length < 2 || /^[0-9]/.test(typed) || typed === last) return;
      last = typed;
      clearTimeout(timer);
      timer = setTimeout(function () {
        fetch("/api/v1/communes?q=" + encodeURIComponent(typed), { headers: { Accept: "application/json" } })
          .then(function (r) { return r.ok ? r.json() : []; })
          .then(function (communes) {
            list.textContent = "";
            communes.forEach(function (c) {
              var option = document.createElement("option");
              option.value = c.name + " (" + c.department + ")";
              list.appendChild(option);
            });
          })
          .catch(function () {});
      }, 150);
    });
  });
})();
