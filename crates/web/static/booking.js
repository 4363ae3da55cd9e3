// The booking form: once a UAI is typed, the school's name from the Annuaire de l'éducation is shown
// (and fills the name field when it is empty). The form works the same without this script.
(function () {
  var uai = document.getElementById("uai");
  var found = document.getElementById("school-found");
  var school = document.getElementById("school");
  if (!uai || !found) return;
  var last = "";
  function look() {
    var v = uai.value.trim().toUpperCase();
    if (v.length !== 8 || v === last) return;
    last = v;
    fetch("/api/v1/schools/" + encodeURIComponent(v), { headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (s) {
        if (!s) { found.textContent = "Ce numéro UAI n'est pas valide : vérifiez-le."; return; }
        if (s.status === "open") {
          found.textContent = "Établissement : " + s.name + (s.address ? " – " + s.address : "");
          if (school && !school.value.trim()) school.value = s.name;
        } else if (s.status === "closed") {
          found.textContent = "Cet établissement est fermé selon l'annuaire de l'éducation.";
        } else if (s.status === "unknown") {
          found.textContent = "Ce numéro UAI ne figure pas dans l'annuaire de l'éducation.";
        } else {
          found.textContent = "";
        }
      })
      .catch(function () { found.textContent = ""; });
  }
  uai.addEventListener("input", look);
  uai.addEventListener("change", look);
})();
