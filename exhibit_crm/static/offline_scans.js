/* What the gate page and the booth page share for scanning without a network: scans waiting in this browser's
   localStorage, scan ids made here (so a repeated upload records nothing twice), JSON calls that give up after a
   timeout, and the network line that says whether the server answers and how many scans wait. */
(function () {
  "use strict";

  window.OfflineScans = {
    // "%(n)s waiting" with {n: 3}: the catalogues' placeholders, filled in the browser
    format: function (template, values) {
      return template.replace(/%\((\w+)\)s/g, function (_, name) { return String(values[name]); });
    },

    storedList: function (key) {
      try { return JSON.parse(localStorage.getItem(key)) || []; } catch (e) { return []; }
    },

    storeList: function (key, items) {
      localStorage.setItem(key, JSON.stringify(items));
    },

    newScanId: function (prefix) {
      var bytes = new Uint8Array(16);
      crypto.getRandomValues(bytes);
      var hex = Array.prototype.map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); });
      return prefix + hex.join("");
    },

    // a JSON request (init: method, credentials, headers beyond the JSON ones, payload) aborted after timeoutMs
    timedFetch: function (path, init, timeoutMs) {
      var controller = new AbortController();
      var timer = setTimeout(function () { controller.abort(); }, timeoutMs);
      var headers = Object.assign({"Content-Type": "application/json", "Accept": "application/json"}, init.headers);
      return fetch(path, {
        method: init.method, cache: "no-store", signal: controller.signal, credentials: init.credentials,
        headers: headers, body: init.payload === undefined ? undefined : JSON.stringify(init.payload)
      }).finally(function () { clearTimeout(timer); });
    },

    // Upload the first `max` waiting items as one batch; once the server has answered for them they leave the
    // queue. The same scan ids sent again get the same answers, so a lost reply costs nothing. page: items(),
    // save(items), send(batch) (a timedFetch), refused() (401 or 403), online(true or false), again().
    flush: function (page, max) {
      var batch = page.items().slice(0, max);
      return page.send(batch).then(function (response) {
        if (response.status === 401 || response.status === 403) { page.refused(); return; }
        if (!response.ok) throw new Error("batch " + response.status);
        return response.json().then(function () {
          var sent = {};
          batch.forEach(function (item) { sent[item.scan_id] = true; });
          page.save(page.items().filter(function (item) { return !sent[item.scan_id]; }));
          page.online(true);
          if (page.items().length) page.again();
        });
      }).catch(function () { page.online(false); });
    },

    // online: true, false, or null before the first answer (shown as `before`: "unknown" or "yes")
    showNet: function (net, online, waiting, text, before) {
      net.setAttribute("data-online", online === null ? before : online ? "yes" : "no");
      net.textContent = (online === false ? text.offline : text.online) +
        (waiting ? " · " + this.format(text.waiting, {n: waiting}) : "");
    }
  };
})();
