// The event form's pin: a map centred on the chosen commune, whose marker the organiser drags (or
// places with a click) onto the exact place; the latitude and longitude fields follow it, and stay
// typed by hand without this script. Changing the commune clears a pin left elsewhere.
(function () {
  "use strict";
  var el = document.getElementById("pin-map");
  var lat = document.getElementById("lat");
  var lon = document.getElementById("lon");
  var postal = document.getElementById("postal_code");
  var commune = document.getElementById("commune_code");
  if (!el || !lat || !lon || !window.L) return;
  el.hidden = false;
  var map = L.map(el, { maxZoom: 18, minZoom: 5, keyboard: true, fadeAnimation: false }).setView([46.6, 2.4], 5);
  var tiles = el.getAttribute("data-tiles");
  if (tiles) L.tileLayer(tiles, { maxZoom: 18, attribution: "© IGN – Plan IGN" }).addTo(map);
  var marker = L.marker([46.6, 2.4], { draggable: true, keyboard: true, title: "Point de l'événement", alt: "Point de l'événement" });
  function typed() {
    var a = parseFloat(lat.value.replace(",", "."));
    var b = parseFloat(lon.value.replace(",", "."));
    return isFinite(a) && isFinite(b) ? [a, b] : null;
  }
  function put(p, zoom) {
    marker.setLatLng(p).addTo(map);
    map.setView(p, zoom || Math.max(map.getZoom(), 13));
  }
  function write(p) {
    lat.value = p.lat.toFixed(5);
    lon.value = p.lng.toFixed(5);
  }
  marker.on("dragend", function () { write(marker.getLatLng()); });
  map.on("click", function (e) { marker.setLatLng(e.latlng).addTo(map); write(e.latlng); });
  // The commune's reference point, from the communes of the postal code.
  function centre(clear) {
    var pc = postal && postal.value.trim();
    if (!pc || !/^[0-9]{5}$/.test(pc)) return;
    fetch("/api/v1/communes?postal_code=" + pc, { headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : []; })
      .then(function (list) {
        var code = commune && commune.value;
        var c = list.filter(function (x) { return x.code === code; })[0] || list[0];
        if (!c) return;
        if (clear) { lat.value = ""; lon.value = ""; }
        var p = typed();
        put(p || [c.lat, c.lon], 13);
      })
      .catch(function () {});
  }
  [lat, lon].forEach(function (i) {
    i.addEventListener("change", function () { var p = typed(); if (p) put(p); });
  });
  if (commune) commune.addEventListener("change", function () { centre(true); });
  // Leaflet measures its box when shown: the map sits in a <details>.
  var details = el.closest("details");
  if (details) details.addEventListener("toggle", function () { map.invalidateSize(); });
  var p = typed();
  if (p) put(p, 15); else centre(false);
})();
