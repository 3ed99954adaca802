/* The booth scanning page. A keyboard-wedge scanner (or a person) types a badge code and Enter into the scan box, or
   the camera reads the QR; the server answers with the visitor as the exhibitor may see them and the lead, new or
   existing. The staff member rates it, answers the exhibitor's questions, writes a note and saves. Without a network
   the reading and the edits wait in this browser's localStorage and upload as one batch when it is back: every item
   carries its own scan_id, so an upload repeated after a lost reply records nothing twice. */
(function () {
  "use strict";

  var KEY = "exhibit_crm.booth.queue";
  var TIMEOUT_MS = 5000;
  var BATCH_TIMEOUT_MS = 30000;
  var RETRY_MS = 10000;
  var BATCH_MAX = 500;
  var CAMERA_REPEAT_MS = 3000;

  var text = JSON.parse(document.getElementById("booth-text").textContent);
  var script = document.currentScript;
  var root = document.getElementById("scanner");
  var box = document.getElementById("scan");
  var form = document.getElementById("lead-form");
  var message = document.getElementById("message");
  var net = document.getElementById("net");
  var current = null;         // {code, lead: id or null}
  var online = null;
  var flushing = false;

  var shared = window.OfflineScans;
  var format = shared.format.bind(shared);

  function queue() { return shared.storedList(KEY); }

  function showNet() { shared.showNet(net, online, queue().length, text, "yes"); }

  function saveQueue(items) {
    shared.storeList(KEY, items);
    showNet();
  }

  function call(path, payload, timeoutMs) {
    // the booth page runs in the signed-in session: its cookie and the page's CSRF token
    return shared.timedFetch(path, {method: "POST", credentials: "same-origin", payload: payload,
                                    headers: {"X-CSRF-Token": root.getAttribute("data-csrf")}},
                             timeoutMs || TIMEOUT_MS);
  }

  function setOnline(value) {
    online = value;
    showNet();
  }

  function say(words, kind) {
    message.textContent = words || "";
    message.setAttribute("data-kind", kind || "");
  }

  function signedOut() {
    say(text.signed_out, "bad");
  }

  // Reading a badge.

  function submit(code) {
    var item = {code: code, scan_id: shared.newScanId("b-"), scanned_at: new Date().toISOString()};
    say("");
    if (queue().length) { keep(item); return; }
    call(root.getAttribute("data-scan-url"), item).then(function (response) {
      if (response.status === 401 || response.status === 403) { signedOut(); return; }
      if (response.status === 422) { showRejected("invalid_code"); return; }
      if (!response.ok) throw new Error("scan " + response.status);
      return response.json().then(function (result) {
        setOnline(true);
        if (result.verdict !== "accepted") { showRejected(result.reason); return; }
        showLead(code, result);
      });
    }).catch(function () { setOnline(false); keep(item); });
  }

  function keep(item) {
    // read while offline: the scan waits, and the form is there to rate and note it all the same
    saveQueue(queue().concat([item]));
    current = {code: item.code, lead: null};
    fill(null, null);
    document.getElementById("visitor").textContent = format(text.badge, {code: item.code.slice(0, 12) + "…"});
    document.getElementById("lead-state").textContent = text.offline_scan;
    form.hidden = false;
    flushSoon();
  }

  function showRejected(reason) {
    form.hidden = true;
    current = null;
    say(text.reasons[reason] || text.reasons.unknown, "bad");
    box.focus();
  }

  function showLead(code, result) {
    var lead = result.lead;
    current = {code: code, lead: lead.id};
    renderVisitor(result.visitor);
    fill(lead, result.visitor);
    document.getElementById("lead-state").textContent =
      lead.created_at !== lead.updated_at ? text.scanned_before : text.new_lead;
    var open = document.getElementById("open-lead");
    open.href = root.getAttribute("data-lead-page") + lead.id;
    open.hidden = false;
    form.hidden = false;
  }

  function renderVisitor(visitor) {
    var card = document.getElementById("visitor");
    card.textContent = "";
    card.setAttribute("data-shared", visitor.shared ? "yes" : "no");
    var name = document.createElement("strong");
    name.className = "name";
    name.textContent = visitor.name;
    card.appendChild(name);
    [visitor.company, visitor.badge_type, visitor.title, visitor.email, visitor.phone].forEach(function (value, i) {
      if (!value) return;
      var line = document.createElement("div");
      line.setAttribute("data-field", ["company", "badge_type", "title", "email", "phone"][i]);
      line.textContent = value;
      card.appendChild(line);
    });
  }

  function fields() {
    return Array.prototype.slice.call(form.querySelectorAll("[data-question]"));
  }

  function fill(lead) {
    var answers = (lead && lead.answers) || {};
    Array.prototype.forEach.call(form.querySelectorAll("input[name=rating]"), function (radio) {
      radio.checked = !!lead && radio.value === lead.rating;
    });
    fields().forEach(function (field) {
      var value = answers[field.getAttribute("data-question")];
      if (field.type === "checkbox") field.checked = value === true;
      else field.value = value == null ? "" : value;
    });
    document.getElementById("notes").value = lead ? lead.notes || "" : "";
    document.getElementById("open-lead").hidden = true;
  }

  function edits() {
    var chosen = form.querySelector("input[name=rating]:checked");
    var answers = {};
    fields().forEach(function (field) {
      var id = field.getAttribute("data-question");
      answers[id] = field.type === "checkbox" ? field.checked : (field.value.trim() || null);
    });
    return {rating: chosen ? chosen.value : null, notes: document.getElementById("notes").value, answers: answers};
  }

  // Saving: straight to the lead when the server knows it, else as a scan carrying the edits, kept for upload.

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (!current) return;
    var data = edits();
    var done = current.lead && online !== false && !queue().length
      ? call(root.getAttribute("data-lead-url") + current.lead, data).then(function (response) {
          if (response.status === 401 || response.status === 403) { signedOut(); return true; }
          if (!response.ok) throw new Error("save " + response.status);
          setOnline(true);
          say(text.saved, "good");
          return true;
        }).catch(function () { setOnline(false); return false; })
      : Promise.resolve(false);
    var code = current.code;
    done.then(function (saved) {
      if (saved) { after(); return; }
      var item = {code: code, scan_id: shared.newScanId("b-"), scanned_at: new Date().toISOString(), notes: data.notes,
                  answers: data.answers};
      if (data.rating) item.rating = data.rating;
      saveQueue(queue().concat([item]));
      say(text.saved_offline, "good");
      after();
      flushSoon();
    });
  });

  function after() {
    form.hidden = true;
    current = null;
    box.focus();
  }

  // Uploading what waits.

  function flushSoon() {
    setTimeout(flush, 0);
  }

  function flush() {
    var waiting = queue();
    if (flushing || !waiting.length) return;
    flushing = true;
    var url = root.getAttribute("data-batch-url");
    shared.flush({items: queue, save: saveQueue, refused: signedOut, online: setOnline, again: flushSoon,
                  send: function (batch) { return call(url, {leads: batch}, BATCH_TIMEOUT_MS); }},
                 BATCH_MAX).finally(function () { flushing = false; });
  }

  document.getElementById("scan-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var code = box.value.trim();
    box.value = "";
    if (code) submit(code);
  });

  // The camera, for phones (camera.js): a badge read while a lead is open must not replace it.
  window.QrCamera({
    button: document.getElementById("camera"), video: document.getElementById("camera-view"),
    jsqrUrl: script.getAttribute("data-jsqr"), repeatMs: CAMERA_REPEAT_MS, onCode: submit,
    ready: function () { return form.hidden; }, onText: text.camera_on, offText: text.camera_off,
    onFail: function () { say(text.camera_failed, "bad"); }
  });

  showNet();
  flush();
  setInterval(flush, RETRY_MS);
  window.addEventListener("online", flush);
  box.focus();
})();
