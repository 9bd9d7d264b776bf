// Today (dashboard): refresh arrivals, unit figures and stations from the live feed.
// Text goes in with textContent only, so names are never read as HTML.
(function () {
  "use strict";
  var root = document.getElementById("dashboard");
  if (!root || !window.fetch) { return; }
  var every = (parseInt(root.dataset.refresh, 10) || 15) * 1000;

  var decimalComma = document.documentElement.lang === "vi";  // as web.format.percent

  function percent(value) {
    if (value === null || value === undefined) { return "\u2014"; }
    var text = (value * 100).toFixed(1) + "%";
    return decimalComma ? text.replace(".", ",") : text;
  }
  function cell(row, label, text, className) {
    var td = document.createElement("td");
    td.setAttribute("data-label", label);
    if (text !== undefined && text !== null) { td.textContent = text; }
    if (className) { td.className = className; }
    row.appendChild(td);
    return td;
  }
  function labels(table) {
    return Array.prototype.map.call(table.querySelectorAll("thead th"), function (th) {
      return th.textContent;
    });
  }
  function emptyRow(body, columns, text) {
    var row = document.createElement("tr");
    row.className = "empty";
    var td = cell(row, "", text, "muted");
    td.colSpan = columns;
    body.appendChild(row);
  }

  function showArrivals(items) {
    var body = document.getElementById("arrivals");
    var names = labels(body.parentNode);
    body.textContent = "";
    if (!items.length) { emptyRow(body, 4, root.dataset.emptyArrivals); return; }
    items.forEach(function (a) {
      var row = document.createElement("tr");
      cell(row, names[0], a.time);
      var who = cell(row, names[1], a.full_name + " ");
      var code = document.createElement("span");
      code.className = "muted";
      code.textContent = "(" + a.employee + ")";
      who.appendChild(code);
      if (a.photo) {
        var link = document.createElement("a");
        link.href = a.photo;
        link.target = "_blank";
        link.rel = "noopener";
        link.textContent = root.dataset.photoLabel;
        who.appendChild(document.createTextNode(" "));
        who.appendChild(link);
      }
      cell(row, names[2], a.unit);
      cell(row, names[3], a.station);
      body.appendChild(row);
    });
  }

  function showUnits(units) {
    var body = document.getElementById("units");
    var names = labels(body.parentNode);
    body.textContent = "";
    if (!units.length) { return; }
    units.forEach(function (u) {
      var row = document.createElement("tr");
      var name = cell(row, names[0]);
      var link = document.createElement("a");
      link.href = root.dataset.reportUrl + "?unit=" + encodeURIComponent(u.unit);
      link.textContent = u.name;
      name.appendChild(link);
      var code = document.createElement("span");  // names repeat across units
      code.className = "muted";
      code.textContent = "(" + u.unit + ")";
      name.appendChild(document.createTextNode(" "));
      name.appendChild(code);
      cell(row, names[1], String(u.expected));
      cell(row, names[2], String(u.present));
      cell(row, names[3], String(u.late));
      cell(row, names[4], String(u.no_badge));
      cell(row, names[5], percent(u.badge_compliance),
           u.badge_compliance !== null && u.badge_compliance < 1 ? "bad" : "");
      cell(row, names[6], percent(u.punctuality));
      body.appendChild(row);
    });
  }

  function showTotals(totals) {
    Object.keys(totals).forEach(function (key) {
      var dd = document.querySelector('#totals [data-field="' + key + '"]');
      if (!dd) { return; }
      var value = totals[key];
      dd.textContent = key === "badge_compliance" || key === "punctuality" ? percent(value) : String(value);
      if (key === "badge_compliance") {
        dd.parentNode.className = value !== null && value < 1 ? "bad" : "";
      }
    });
  }

  function showStations(stations) {
    var list = document.getElementById("stations");
    var lastLabel = list.dataset.lastLabel;
    list.textContent = "";
    if (!stations.length) {
      var none = document.createElement("li");
      none.className = "muted";
      none.textContent = root.dataset.emptyStations;
      list.appendChild(none);
      return;
    }
    stations.forEach(function (s) {
      var item = document.createElement("li");
      item.className = "station station-" + s.status;
      var code = document.createElement("strong");
      code.textContent = s.code;
      var tag = document.createElement("span");
      tag.className = "tag";
      tag.textContent = s.status_label;
      var detail = document.createElement("span");
      detail.className = "muted";
      detail.textContent = s.unit + " \u00b7 " + lastLabel + ": " +
        (s.last_seen_text || root.dataset.neverSeen);
      item.appendChild(code);
      item.appendChild(document.createTextNode(" "));
      item.appendChild(tag);
      item.appendChild(document.createElement("br"));
      item.appendChild(detail);
      list.appendChild(item);
    });
  }

  function refresh() {
    fetch(root.dataset.liveUrl, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.json();
      })
      .then(function (live) {
        showArrivals(live.arrivals);
        showUnits(live.units);
        showTotals(live.totals);
        showStations(live.stations);
        document.getElementById("updated-at").textContent = live.now.slice(11, 16);
        root.dataset.updated = live.now;
      })
      .catch(function () { /* keep what is shown; the next round tries again */ })
      .then(function () { window.setTimeout(refresh, every); });
  }
  window.setTimeout(refresh, every);
}());
