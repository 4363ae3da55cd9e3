// Live conditions panel and postal code lookup for the event form. The form works without this
// script (the server checks everything at each save); it only makes the answer immediate.
(function () {
  "use strict";
  var form = document.getElementById("event-form");
  if (!form) return;
  var edition = parseInt(form.getAttribute("data-edition"), 10);
  var list = document.getElementById("conditions-list");
  var summary = document.getElementById("conditions-summary");
  var titles = {};
  Array.prototype.forEach.call(list.querySelectorAll("li"), function (li) {
    var strong = li.querySelector("strong");
    titles[li.getAttribute("data-code")] = strong ? strong.textContent.split(" : ")[0] : "";
  });

  function values(name) {
    return Array.prototype.filter.call(form.elements[name] ? form.querySelectorAll('[name="' + name + '"]') : [], function (el) {
      return el.checked;
    }).map(function (el) { return el.value; });
  }

  function payload() {
    var starts = form.querySelectorAll('[name="session_start"]');
    var ends = form.querySelectorAll('[name="session_end"]');
    var sessions = [];
    for (var i = 0; i < starts.length; i++) {
      if (starts[i].value && ends[i] && ends[i].value) sessions.push({ start: starts[i].value, end: ends[i].value });
    }
    var free = values("free")[0];
    return {
      edition: edition,
      sessions: sessions,
      audiences: values("audiences"),
      free: free === "oui" ? true : free === "non" ? false : null,
      industry_objective: form.elements["industry_objective"].checked,
      title: form.elements["title"].value,
      description: form.elements["summary"].value + "\n" + form.elements["description"].value
    };
  }

  var timer = null;
  function refresh() {
    clearTimeout(timer);
    timer = setTimeout(function () {
      fetch("/api/v1/eligibility", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        credentials: "same-origin",
        body: JSON.stringify(payload())
      }).then(function (r) { return r.ok ? r.json() : null; }).then(function (report) {
        if (!report) return;
        report.conditions.forEach(function (c) {
          var li = list.querySelector('[data-code="' + c.code + '"]');
          if (!li) return;
          li.className = c.met ? "si-condition--met" : "si-condition--failed";
          li.querySelector("strong").textContent = titles[c.code] + " : " + (c.met ? "remplie." : "non remplie.");
          li.querySelector("span").textContent = c.message;
        });
        summary.textContent = report.eligible ? "Toutes les conditions sont remplies." : "Certaines conditions ne sont pas encore remplies.";
      }).catch(function () {});
    }, 300);
  }
  form.addEventListener("input", refresh);
  form.addEventListener("change", refresh);

  var postal = form.elements["postal_code"];
  var commune = form.elements["commune_code"];
  postal.addEventListener("input", function () {
    var pc = postal.value.trim();
    if (!/^\d{5}$/.test(pc)) return;
    fetch("/api/v1/communes?postal_code=" + pc).then(function (r) { return r.ok ? r.json() : []; }).then(function (list) {
      var current = commune.value;
      commune.innerHTML = "";
      var first = document.createElement("option");
      first.value = "";
      first.textContent = list.length ? "Choisir la commune" : "Aucune commune pour ce code postal";
      commune.appendChild(first);
      list.forEach(function (c) {
        var o = document.createElement("option");
        o.value = c.code;
        o.textContent = c.name;
        if (c.code === current || list.length === 1) o.selected = true;
        commune.appendChild(o);
      });
    }).catch(function () {});
  });
})();
