/* The gate page. A keyboard-wedge scanner types a badge code and Enter into the always-focused box (or the camera
   reads the QR); the server's verdict shows at once, full screen, with a beep. When the server cannot be reached
   the page judges by itself (signature and the snapshot's revocations), keeps the scan in a queue in this browser,
   and uploads the queue as a batch when the network is back. The device token comes from the link's #token=…
   and stays in this browser only. */
(function () {
  "use strict";

  var KEY = "exhibit_crm.gate.";
  var ONLINE_TIMEOUT_MS = 2500;     // slower than this, the person at the gate is better served by the offline check
  var BATCH_TIMEOUT_MS = 30000;
  var RETRY_MS = 5000;
  var SNAPSHOT_MS = 60000;
  var STALE_MS = 5000;              // an answer fades after this, so the next person does not take it for theirs
  var CAMERA_REPEAT_MS = 3000;      // the camera sees the same badge many times a second
  var BATCH_MAX = 1000;
  var B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

  var text = JSON.parse(document.getElementById("gate-text").textContent);
  var script = document.currentScript;
  var body = document.body;
  var box = document.getElementById("scan");
  var answer = document.getElementById("answer");
  var net = document.getElementById("net");
  var token = takeToken();
  var direction = localStorage.getItem(KEY + "direction") === "out" ? "out" : "in";
  var snapshot = loadSnapshot();
  var verifyKey = null;             // a CryptoKey once the snapshot's public key is imported; false if unsupported
  var insideHere = {};              // strict zones: who this device let in while offline
  var online = null;
  var flushing = false;
  var chain = Promise.resolve();
  var staleTimer = null;

  var shared = window.OfflineScans;
  var format = shared.format.bind(shared);

  // The token, the snapshot and the queue live in localStorage, so a reload while offline loses nothing.

  function takeToken() {
    var match = /(?:^#|&)token=([^&]+)/.exec(window.location.hash);
    if (match) {
      var given = decodeURIComponent(match[1]);
      if (given !== localStorage.getItem(KEY + "token")) localStorage.removeItem(KEY + "snapshot");
      localStorage.setItem(KEY + "token", given);
      // off the address bar and the history, so it is not shared by a screenshot or a copied link
      window.history.replaceState(null, "", window.location.pathname + window.location.search);
    }
    return localStorage.getItem(KEY + "token");
  }

  function loadSnapshot() {
    try { return JSON.parse(localStorage.getItem(KEY + "snapshot")); } catch (e) { return null; }
  }

  function queue() {
    return shared.storedList(KEY + "queue");
  }

  function saveQueue(items) {
    shared.storeList(KEY + "queue", items);
    showNet();
  }

  // Talking to the scanner API.

  function call(method, path, payload, timeoutMs) {
    return shared.timedFetch(path, {method: method, credentials: "omit", payload: payload,
                                    headers: {"Authorization": "Bearer " + token}}, timeoutMs || ONLINE_TIMEOUT_MS);
  }

  function setOnline(value) {
    online = value;
    showNet();
  }

  function showNet() {
    shared.showNet(net, online, queue().length, text, "unknown");
  }

  function refused() {
    body.setAttribute("data-state", "refused");
    show({verdict: "rejected", title: text.device_refused, reason: text.refused});
  }

  // The snapshot: the public key, the days, the zone's rule and the revoked badges, fetched by cursor.

  function refreshSnapshot() {
    var cursor = snapshot && snapshot.cursor ? snapshot.cursor : 0;
    return call("GET", "/api/v1/scanner/snapshot?cursor=" + encodeURIComponent(cursor), undefined, BATCH_TIMEOUT_MS)
      .then(function (response) {
        if (response.status === 401 || response.status === 403) { refused(); return null; }
        if (!response.ok) throw new Error("snapshot " + response.status);
        return response.json().then(function (data) {
          var revoked = cursor && snapshot ? snapshot.revoked || {} : {};
          (data.revocations || []).forEach(function (item) { revoked[item.registration_id] = item; });
          snapshot = {edition: data.edition, gate: data.gate, zone: data.zone, public_key: data.public_key,
                      days: data.days || [], cursor: data.cursor, revoked: revoked};
          localStorage.setItem(KEY + "snapshot", JSON.stringify(snapshot));
          setOnline(true);
          prepare();
        });
      })
      .catch(function () { setOnline(false); });
  }

  function prepare() {
    if (!snapshot) return;
    document.getElementById("gate-name").textContent = snapshot.gate.name;
    var zone = snapshot.zone;
    var zh = document.documentElement.lang === "zh-CN" && zone.name_zh;
    document.getElementById("zone-name").textContent = zh ? zone.name_zh : zone.name;
    if (verifyKey === null && window.crypto && crypto.subtle) {
      verifyKey = crypto.subtle.importKey("raw", fromBase64(snapshot.public_key), {name: "Ed25519"}, false, ["verify"])
        .then(function (key) {
          return crypto.subtle.digest("SHA-256", fromBase64(snapshot.public_key)).then(function (hash) {
            return {key: key, id: new Uint8Array(hash)[0]};
          });
        })
        .catch(function () { return false; });
    }
  }

  function fromBase64(value) {
    var raw = atob(value);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes;
  }

  // Judging without the server: the same code format and the same reasons as the server's.

  function decodeCode(code) {
    var value = code.trim().toUpperCase();
    if (value.length !== 116 || !/^[A-Z2-7]+$/.test(value)) return null;
    var bytes = new Uint8Array(72);
    var bits = 0;
    var acc = 0;
    var at = 0;
    for (var i = 0; i < value.length; i++) {
      acc = (acc << 5) | B32.indexOf(value[i]);
      bits += 5;
      if (bits >= 8) {
        bits -= 8;
        if (at < 72) bytes[at++] = (acc >> bits) & 255;
      }
      acc &= (1 << bits) - 1;
    }
    if (acc !== 0) return null;   // unused trailing bits must be zero, as the server insists
    var view = new DataView(bytes.buffer);
    return {format: bytes[0], keyId: bytes[1], registrationId: view.getUint32(2), version: view.getUint16(6),
            header: bytes.slice(0, 8), signature: bytes.slice(8)};
  }

  function localClock(timezone) {
    var parts = {};
    new Intl.DateTimeFormat("en-CA", {timeZone: timezone, year: "numeric", month: "2-digit", day: "2-digit",
                                      hour: "2-digit", minute: "2-digit", hourCycle: "h23"})
      .formatToParts(new Date()).forEach(function (part) { parts[part.type] = part.value; });
    return {day: parts.year + "-" + parts.month + "-" + parts.day, minutes: +parts.hour * 60 + +parts.minute};
  }

  function minutesOf(hhmm) {
    var bits = String(hhmm).split(":");
    return +bits[0] * 60 + +bits[1];
  }

  function isOpen() {
    if (!snapshot.days || !snapshot.days.length) return true;
    var now = localClock(snapshot.edition.timezone);
    var margin = snapshot.zone.margin_minutes || 0;
    return snapshot.days.some(function (day) {
      return day.day === now.day && now.minutes >= minutesOf(day.opens_at) - margin &&
        now.minutes <= minutesOf(day.closes_at) + margin;
    });
  }

  function rejected(reason) {
    return Promise.resolve({verdict: "rejected", reason: reason});
  }

  function judgeOffline(code, way) {
    var badge = decodeCode(code);
    if (!badge || badge.format !== 1) return rejected("invalid_code");
    if (!snapshot) return Promise.resolve({verdict: "accepted", reason: null, unchecked: true, badge: badge});
    return Promise.resolve(verifyKey).then(function (key) {
      if (key && key.id !== badge.keyId) return {verdict: "rejected", reason: "invalid_code"};
      var check = key ? crypto.subtle.verify({name: "Ed25519"}, key.key, badge.signature, badge.header)
        : Promise.resolve(null);
      return check.then(function (genuine) {
        if (genuine === false) return {verdict: "rejected", reason: "invalid_code"};
        return rules(badge, way, genuine === null);
      });
    });
  }

  function rules(badge, way, unchecked) {
    var change = way === "in" && snapshot.revoked[badge.registrationId];   // leaving is never refused for the badge
    if (change && change.status === "cancelled") return {verdict: "rejected", reason: "revoked"};
    if (change && badge.version < change.valid_version) return {verdict: "rejected", reason: "outdated_badge"};
    if (way === "in" && !isOpen()) return {verdict: "rejected", reason: "closed"};
    if (snapshot.zone.reentry === "strict") {
      var id = badge.registrationId;
      if (way === "in" && insideHere[id]) return {verdict: "rejected", reason: "already_inside"};
      if (way === "in") insideHere[id] = true; else delete insideHere[id];
    }
    return {verdict: "accepted", reason: null, unchecked: unchecked, badge: badge};
  }

  // One scan: the server's verdict when it answers in time, else our own and the scan goes into the queue.

  function submit(code) {
    chain = chain.then(function () { return scan(code); }, function () { return scan(code); });
  }

  function scan(code) {
    var item = {code: code, direction: direction, scan_id: shared.newScanId(""), scanned_at: new Date().toISOString()};
    if (!token) { body.setAttribute("data-state", "no-token"); return null; }
    var direct = queue().length ? Promise.resolve(null) : sendOne(item);
    return direct.then(function (answered) {
      if (answered) return null;
      return judgeOffline(code, item.direction).then(function (verdict) {
        saveQueue(queue().concat([Object.assign(item, {offline: true, device_verdict: verdict.verdict,
                                                       device_reason: verdict.reason})]));
        showVerdict(verdict, true);
        flushSoon();
      });
    });
  }

  function sendOne(item) {
    return call("POST", "/api/v1/scans", item).then(function (response) {
      if (response.status === 401 || response.status === 403) { refused(); return true; }
      if (response.status === 422) { showVerdict({verdict: "rejected", reason: "invalid_code"}, false); return true; }
      if (!response.ok) throw new Error("scan " + response.status);
      return response.json().then(function (result) {
        setOnline(true);
        showVerdict(result, false);
        return true;
      });
    }).catch(function () { setOnline(false); return false; });
  }

  function flushSoon() {
    setTimeout(flush, 0);
  }

  function flush() {
    var waiting = queue();
    if (flushing || !waiting.length || !token) return;
    flushing = true;
    var send = function (batch) { return call("POST", "/api/v1/scans/batch", {scans: batch}, BATCH_TIMEOUT_MS); };
    shared.flush({items: queue, save: saveQueue, send: send, refused: refused, online: setOnline, again: flushSoon},
                 BATCH_MAX).finally(function () { flushing = false; });
  }

  // The answer: full screen colour, name, reason, and a beep.

  function showVerdict(result, offline) {
    var ok = result.verdict === "accepted";
    var person = result.person;
    var name = person ? person.name : result.badge ? format(text.badge_number, {id: result.badge.registrationId}) : "";
    var note = result.unchecked ? text.unchecked_note : offline ? text.offline_note : "";
    // accepted, the line under the name says whose company; rejected, it says why
    var detail = ok ? (person && person.company) || "" : text.reasons[result.reason] || text.reasons.unknown;
    show({verdict: result.verdict, title: ok ? text["accepted_" + direction] : text.rejected, name: name,
          reason: detail, note: note, reasonCode: result.reason || ""});
    beep(ok);
  }

  function show(view) {
    clearTimeout(staleTimer);
    answer.setAttribute("data-verdict", view.verdict || "");
    answer.setAttribute("data-reason", view.reasonCode || "");
    document.getElementById("answer-title").textContent = view.title || "";
    document.getElementById("answer-name").textContent = view.name || "";
    document.getElementById("answer-reason").textContent = view.reason || "";
    document.getElementById("answer-note").textContent = view.note || "";
    answer.classList.remove("stale", "fresh");
    void answer.offsetWidth;   // restart the flash even when two answers in a row look the same
    answer.classList.add("fresh");
    staleTimer = setTimeout(function () { answer.classList.add("stale"); }, STALE_MS);
  }

  var audio = null;

  function beep(ok) {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      var tones = ok ? [[1046, 0, 0.12]] : [[220, 0, 0.2], [180, 0.28, 0.3]];
      tones.forEach(function (tone) {
        var oscillator = audio.createOscillator();
        var gain = audio.createGain();
        oscillator.type = ok ? "sine" : "square";
        oscillator.frequency.value = tone[0];
        gain.gain.value = 0.25;
        oscillator.connect(gain);
        gain.connect(audio.destination);
        oscillator.start(audio.currentTime + tone[1]);
        oscillator.stop(audio.currentTime + tone[1] + tone[2]);
      });
    } catch (e) { /* no sound on this device: the colour still tells */ }
  }

  // Input: the box always has the focus, as a wedge scanner types wherever the focus is.

  function keepFocus() {
    if (document.activeElement !== box) box.focus({preventScroll: true});
  }

  document.getElementById("scan-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var code = box.value.trim();
    box.value = "";
    if (code) submit(code);
  });
  box.addEventListener("blur", function () { setTimeout(keepFocus, 0); });
  document.addEventListener("pointerup", function () { setTimeout(keepFocus, 0); });

  function setDirection(way) {
    direction = way;
    localStorage.setItem(KEY + "direction", way);
    Array.prototype.forEach.call(document.querySelectorAll("[data-direction]"), function (button) {
      button.setAttribute("aria-pressed", String(button.getAttribute("data-direction") === way));
    });
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-direction]"), function (button) {
    button.addEventListener("mousedown", function (event) { event.preventDefault(); });
    button.addEventListener("click", function () { setDirection(button.getAttribute("data-direction")); keepFocus(); });
  });

  // The camera, for phones (camera.js); the box keeps the focus for a wedge scanner.
  var camera = document.getElementById("camera");
  window.QrCamera({
    button: camera, video: document.getElementById("camera-view"), jsqrUrl: script.getAttribute("data-jsqr"),
    repeatMs: CAMERA_REPEAT_MS, onCode: submit, onText: text.camera_on, offText: text.camera_off,
    onFail: function () { show({verdict: "rejected", title: text.camera_failed}); }
  });
  camera.addEventListener("mousedown", function (event) { event.preventDefault(); });
  camera.addEventListener("click", keepFocus);

  // Start: with no token there is nothing to do but say how to get one.

  // a new device link opened in a tab that already shows the page changes only the hash: start again with it
  window.addEventListener("hashchange", function () {
    if (/(?:^#|&)token=/.test(window.location.hash)) window.location.reload();
  });
  setDirection(direction);
  if (!token) {
    body.setAttribute("data-state", "no-token");
    show({verdict: "", title: text.ready, note: text.no_token});
    return;
  }
  body.setAttribute("data-state", "ready");
  prepare();
  showNet();
  refreshSnapshot().then(flush);
  setInterval(refreshSnapshot, SNAPSHOT_MS);
  setInterval(flush, RETRY_MS);
  window.addEventListener("online", flush);
  keepFocus();
})();
