/* The live gate dashboard: asks for the figures every few seconds and redraws the page's tables and the entries
   chart (through window.Charts, exhibit_crm/charts.js), without reloading the page. */
(function () {
  "use strict";

  var root = document.getElementById("dashboard");
  if (!root) return;
  var text = JSON.parse(document.getElementById("dashboard-text").textContent);
  var url = root.getAttribute("data-url");
  var pollMs = (+root.getAttribute("data-poll") || 5) * 1000;
  var timezone = root.getAttribute("data-timezone");
  var language = root.getAttribute("data-language");
  var zh = language === "zh-CN";
  var lastGood = null;

  function format(message, values) {
    return message.replace(/%\((\w+)\)s/g, function (_, name) { return String(values[name]); });
  }

  function clock(iso, withDate) {
    if (!iso) return text.never;
    var options = {timeZone: timezone, hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23"};
    if (withDate) { options.month = "2-digit"; options.day = "2-digit"; }
    return new Date(iso).toLocaleString(language, options);
  }

  function cell(row, value, className) {
    var td = document.createElement("td");
    td.textContent = value;
    if (className) td.className = className;
    row.appendChild(td);
    return td;
  }

  function fill(tbody, items, columns, makeRow) {
    tbody.textContent = "";
    if (!items.length) {
      var row = tbody.insertRow();
      cell(row, text.none, "none").colSpan = columns;
      return;
    }
    items.forEach(function (item) { makeRow(tbody.insertRow(), item); });
  }

  function reason(code) {
    return text.reasons[code] || code;
  }

  function said(verdict, why) {
    return (text.verdicts[verdict] || verdict || "") + (why ? " (" + reason(why) + ")" : "");
  }

  function render(data) {
    root.querySelector("[data-figure=today]").textContent = data.visitors.today;
    root.querySelector("[data-figure=total]").textContent = data.visitors.total;
    fill(root.querySelector("#zones tbody"), data.zones, 3, function (row, zone) {
      row.setAttribute("data-zone-id", zone.id);
      cell(row, zh && zone.name_zh ? zone.name_zh : zone.name);
      cell(row, zone.visitors, "n").setAttribute("data-visitors", "");
      cell(row, zone.inside, "n").setAttribute("data-inside", "");
    });
    var rejected = Object.keys(data.rejected).map(function (code) { return [code, data.rejected[code]]; });
    fill(root.querySelector("#rejected tbody"), rejected, 2, function (row, item) {
      row.setAttribute("data-reason", item[0]);
      cell(row, text.reasons[item[0]] || text.reasons.unknown);
      cell(row, item[1], "n");
    });
    fill(root.querySelector("#devices tbody"), data.devices, 3, function (row, device) {
      row.setAttribute("data-device-id", device.id);
      if (device.revoked) row.className = "revoked";
      cell(row, device.name);
      cell(row, device.gate);
      cell(row, clock(device.last_seen_at, true));
    });
    fill(root.querySelector("#double-entries tbody"), data.double_entries, 4, function (row, entry) {
      row.setAttribute("data-registration-id", entry.registration_id);
      cell(row, entry.person);
      cell(row, entry.zone);
      cell(row, entry.times, "n");
      cell(row, clock(entry.last_at, true));
    });
    fill(root.querySelector("#disagreements tbody"), data.disagreements, 6, function (row, scan) {
      row.setAttribute("data-scan-id", scan.scan_id);
      cell(row, clock(scan.scanned_at, true));
      cell(row, scan.gate);
      cell(row, scan.device);
      cell(row, scan.person);
      cell(row, said(scan.device_verdict, scan.device_reason));
      cell(row, said(scan.verdict, scan.reason));
    });
    root.querySelector("[data-day]").textContent = data.entries.day;
    if (data.entries.rows) chart(data.entries);
  }

  // The chart is drawn by the charts' script from the definition the server wrote; each poll replaces its rows.
  function chart(entries) {
    var element = document.getElementById("chart");
    var total = entries.rows.reduce(function (sum, row) { return sum + row.entries; }, 0);
    document.getElementById("no-entries").hidden = total > 0;
    window.Charts.replace(element, element.getAttribute("data-dataset"), entries.rows)
      .catch(function (error) { console.error("chart:", error); });
  }

  function status(message, stale) {
    var line = document.getElementById("updated");
    line.textContent = message;
    line.setAttribute("data-stale", String(stale));
  }

  function poll() {
    fetch(url, {headers: {"Accept": "application/json"}, cache: "no-store", credentials: "same-origin"})
      .then(function (response) {
        if (response.status === 401 || response.status === 403) {
          status(text.signed_out, true);
          return null;
        }
        if (!response.ok) throw new Error(String(response.status));
        return response.json().then(function (data) {
          lastGood = data.now;
          render(data);
          status(format(text.updated, {time: clock(data.now)}), false);
        });
      })
      .catch(function () { status(format(text.stale, {time: clock(lastGood)}), true); })
      .finally(function () { setTimeout(poll, pollMs); });
  }

  var first = JSON.parse(document.getElementById("dashboard-data").textContent);
  lastGood = first.now;
  render(first);
  status(format(text.updated, {time: clock(first.now)}), false);
  setTimeout(poll, pollMs);
})();
