// The events map: a popup per event linking to its page. The list of the same events follows the map
// on the page (RGAA: nothing needs the map). Works without tiles.
// A search with few results loads the markers of every event at once (grouped by markercluster in the
// browser). A large one (the national catalogue: 100,000 markers would weigh megabytes) reads events
// counted by cells of the map at national and regional zoom, and markers once zoomed in, for the
// part of the map in view only.
(function () {
  "use strict";
  var el = document.getElementById("carte");
  if (!el || !window.L) return;
  var MARKERS_AT_ONCE = 2000;
  var MARKERS_FROM_ZOOM = 11;
  // No fade: a popup is readable (and checked) at full contrast as soon as it shows.
  // Metropolitan France, fitted to the map's size from the start: the tiles of the first view are
  // the ones kept (a fixed zoom, refitted once the events arrive, loaded a second set on phones).
  var metro = L.latLngBounds([41.2, -5.5], [51.2, 9.7]);
  var map = L.map(el, { maxZoom: 18, minZoom: 2, keyboard: true, fadeAnimation: false }).fitBounds(metro);
  var tiles = el.getAttribute("data-tiles");
  if (tiles) {
    L.tileLayer(tiles, { maxZoom: 18, attribution: "© IGN – Plan IGN" }).addTo(map);
  }
  var url = el.getAttribute("data-url");
  var clustersUrl = el.getAttribute("data-clusters");
  var total = parseInt(el.getAttribute("data-total") || "0", 10);

  function json(address) {
    return fetch(address, { credentials: "same-origin" }).then(function (r) { return r.ok ? r.json() : { rows: [] }; });
  }

  // One event's marker: the title at once, then date, place, audiences and status, fetched when the
  // popup first opens (setPopupContent lays the popup out again for its new size).
  function marker(id, lat, lon, title) {
    var m = L.marker([lat, lon], { title: title, alt: title, keyboard: true });
    var a = document.createElement("a");
    a.href = "/evenements/" + id;
    a.textContent = title;
    m.bindPopup(a);
    var loaded = false;
    m.on("popupopen", function () {
      if (loaded) return;
      loaded = true;
      fetch("/evenements/" + id + "/apercu", { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) {
          if (!html) return;
          var preview = new DOMParser().parseFromString(html, "text/html").querySelector(".si-popup");
          if (preview) m.setPopupContent(document.importNode(preview, true));
        })
        .catch(function () {});
    });
    return m;
  }

  function markersOf(data) {
    return data.rows.map(function (row) { return marker(row[0], row[1], row[2], row[3]); });
  }

  // markercluster draws nothing unless the map has a maxZoom (set above).
  var grouped = L.markerClusterGroup({ chunkedLoading: true, showCoverageOnHover: false });

  if (total <= MARKERS_AT_ONCE) {
    json(url).then(function (data) {
      var markers = markersOf(data);
      grouped.addLayers(markers);
      map.addLayer(grouped);
      // Metropolitan France by default; the markers' own extent when they all lie in one part of the
      // territory (a region, a department, a search around a town, an overseas region).
      var inMetro = markers.filter(function (m) { return metro.contains(m.getLatLng()); }).length;
      if (markers.length && (inMetro === markers.length || inMetro === 0)) {
        map.fitBounds(grouped.getBounds(), { maxZoom: 12, padding: [20, 20] });
      }
    }).catch(function () {});
  } else {
    var cells = L.layerGroup().addTo(map);
    var asked = 0;
    var number = new Intl.NumberFormat("fr-FR");
    // A cell of several events: its count, in markercluster's look; a click (or Enter) zooms in.
    var cell = function (row) {
      var n = row[2];
      var size = n < 10 ? "small" : n < 100 ? "medium" : "large";
      var icon = L.divIcon({
        html: "<div><span>" + number.format(n) + "</span></div>",
        className: "marker-cluster marker-cluster-" + size,
        iconSize: L.point(40, 40)
      });
      var m = L.marker([row[0], row[1]], { icon: icon, keyboard: true });
      m.on("click", function () {
        map.setView(m.getLatLng(), Math.min(map.getZoom() + 2, MARKERS_FROM_ZOOM));
      });
      return m;
    };
    var area = function () {
      var b = map.getBounds();
      var clamp = function (x, limit) { return Math.max(-limit, Math.min(limit, x)).toFixed(4); };
      return "&bbox=" + [clamp(b.getSouth(), 90), clamp(b.getWest(), 180), clamp(b.getNorth(), 90), clamp(b.getEast(), 180)].join(",");
    };
    var refresh = function () {
      var mine = ++asked;
      var zoom = map.getZoom();
      if (zoom >= MARKERS_FROM_ZOOM) {
        json(url + area()).then(function (data) {
          if (mine !== asked) return;
          cells.clearLayers();
          grouped.clearLayers();
          grouped.addLayers(markersOf(data));
          if (!map.hasLayer(grouped)) map.addLayer(grouped);
        }).catch(function () {});
      } else {
        json(clustersUrl + "&zoom=" + zoom + area()).then(function (data) {
          if (mine !== asked) return;
          if (map.hasLayer(grouped)) map.removeLayer(grouped);
          cells.clearLayers();
          data.rows.forEach(function (row) {
            cells.addLayer(row[2] === 1 ? marker(row[3], row[0], row[1], row[4]) : cell(row));
          });
        }).catch(function () {});
      }
    };
    map.on("moveend", refresh);
    refresh();
  }

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
