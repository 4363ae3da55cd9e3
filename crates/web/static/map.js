// The events map: markers grouped in clusters, a popup per event linking to its page. The list of the
// same events follows the map on the page (RGAA: nothing needs the map). Works without tiles.
(function () {
  "use strict";
  var el = document.getElementById("carte");
  if (!el || !window.L) return;
  // No fade: a popup is readable (and checked) at full contrast as soon as it shows.
  var map = L.map(el, { maxZoom: 18, minZoom: 2, keyboard: true, fadeAnimation: false }).setView([46.6, 2.4], 5);
  var tiles = el.getAttribute("data-tiles");
  if (tiles) {
    L.tileLayer(tiles, { maxZoom: 18, attribution: "© IGN – Plan IGN" }).addTo(map);
  }
  // markercluster draws nothing unless the map has a maxZoom (set above).
  var clusters = L.markerClusterGroup({ chunkedLoading: true, showCoverageOnHover: false });
  fetch(el.getAttribute("data-url"), { credentials: "same-origin" })
    .then(function (r) { return r.ok ? r.json() : { rows: [] }; })
    .then(function (data) {
      var markers = data.rows.map(function (row) {
        var m = L.marker([row[1], row[2]], { title: row[3], alt: row[3], keyboard: true });
        // The title at once, then date, place, audiences and status, fetched when the popup first
        // opens (setPopupContent lays the popup out again for its new size).
        var a = document.createElement("a");
        a.href = "/evenements/" + row[0];
        a.textContent = row[3];
        m.bindPopup(a);
        var loaded = false;
        m.on("popupopen", function () {
          if (loaded) return;
          loaded = true;
          fetch("/evenements/" + row[0] + "/apercu", { credentials: "same-origin" })
            .then(function (r) { return r.ok ? r.text() : null; })
            .then(function (html) {
              if (!html) return;
              var preview = new DOMParser().parseFromString(html, "text/html").querySelector(".si-popup");
              if (preview) m.setPopupContent(document.importNode(preview, true));
            })
            .catch(function () {});
        });
        return m;
      });
      clusters.addLayers(markers);
      map.addLayer(clusters);
      // Metropolitan France by default; the markers' own extent when they all lie in one part of the
      // territory (a region, a department, a search around a town, an overseas region).
      var metro = L.latLngBounds([41.2, -5.5], [51.2, 9.7]);
      var inMetro = markers.filter(function (m) { return metro.contains(m.getLatLng()); }).length;
      if (markers.length && (inMetro === markers.length || inMetro === 0)) {
        map.fitBounds(clusters.getBounds(), { maxZoom: 12, padding: [20, 20] });
      } else {
        map.fitBounds(metro);
      }
    })
    .catch(function () {});
  // Cluster buttons are divs: give them a name and make them reachable with the keyboard.
  function label(root) {
    var nodes = root.querySelectorAll ? root.querySelectorAll(".marker-cluster") : [];
    Array.prototype.forEach.call(nodes, function (n) {
      if (n.getAttribute("aria-label")) return;
      var count = n.textContent.trim();
      n.setAttribute("aria-label", count + " événements à cet endroit : zoomer");
      n.setAttribute("role", "button");
      n.setAttribute("tabindex", "0");
    });
  }
  new MutationObserver(function () { label(el); }).observe(el, { childList: true, subtree: true });
  el.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter" && ev.target.classList && ev.target.classList.contains("marker-cluster")) ev.target.click();
  });
})();
