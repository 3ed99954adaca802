/* The registration desk, keyboard first: the search box finds people as you type (arrows choose, Enter opens,
   Esc clears, focus stays in the box); a reprint opens the new badge at once; cancelling asks first; the
   exhibitor list filters as you type. Every page works without this file: these only make the desk quicker. */
(function () {
  "use strict";

  var DEBOUNCE_MS = 120;

  function setupSearch(box) {
    var results = document.getElementById(box.getAttribute("aria-controls"));
    var walkIn = document.getElementById("walk-in-link");
    var timer = null;
    var controller = null;
    var latest = 0;
    var loading = null;

    function rows() {
      return Array.prototype.slice.call(results.querySelectorAll("[data-hit]"));
    }

    function shownQuery() {
      var shown = results.querySelector("[data-query]");
      return shown ? shown.getAttribute("data-query") : null;
    }

    function choose(index) {
      rows().forEach(function (row, i) {
        row.classList.toggle("selected", i === index);
        if (i === index) {
          row.setAttribute("aria-selected", "true");
          row.scrollIntoView({block: "nearest"});
        } else {
          row.removeAttribute("aria-selected");
        }
      });
    }

    function chosen() {
      var all = rows();
      for (var i = 0; i < all.length; i++) {
        if (all[i].classList.contains("selected")) return i;
      }
      return all.length ? 0 : -1;
    }

    function remember(query) {
      // the address keeps the query, so that Back from a person page shows the same people again
      var url = new URL(window.location.href);
      if (query) url.searchParams.set("q", query); else url.searchParams.delete("q");
      window.history.replaceState(null, "", url.toString());
      if (walkIn) walkIn.href = walkIn.getAttribute("data-base") + (query ? "?q=" + encodeURIComponent(query) : "");
    }

    function load() {
      clearTimeout(timer);
      timer = null;
      var query = box.value.trim();
      if (controller) controller.abort();
      controller = new AbortController();
      var mine = ++latest;
      var url = box.getAttribute("data-desk-search") + "?q=" + encodeURIComponent(query);
      loading = fetch(url, {signal: controller.signal, credentials: "same-origin", headers: {"Accept": "text/html"}})
        .then(function (response) {
          if (!response.headers.get("X-Desk-Fragment")) {
            window.location.reload();  // signed out meanwhile: the reload shows the login page
            throw new Error("not a desk answer");
          }
          return response.text();
        })
        .then(function (html) {
          if (mine !== latest) return;  // a later keystroke has its own answer coming
          results.innerHTML = html;
          choose(0);
          remember(query);
        })
        .catch(function () {
          // aborted by a later keystroke, or the network hiccupped: the next keystroke or Enter tries again
        })
        .finally(function () {
          if (mine === latest) loading = null;
        });
      return loading;
    }

    function open() {
      var all = rows();
      var index = chosen();
      if (index >= 0) window.location.assign(all[index].getAttribute("data-href"));
    }

    function later() {
      clearTimeout(timer);
      timer = setTimeout(load, DEBOUNCE_MS);
    }

    // while a Chinese input method composes, the box holds pinyin, not the name: search once it is committed
    box.addEventListener("input", function (event) {
      if (!event.isComposing) later();
    });
    box.addEventListener("compositionend", later);

    box.addEventListener("keydown", function (event) {
      if (event.isComposing || event.keyCode === 229) return;  // the input method's own Enter and arrows
      var all = rows();
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        if (!all.length) return;
        var step = event.key === "ArrowDown" ? 1 : -1;
        choose((chosen() + step + all.length) % all.length);
      } else if (event.key === "Enter") {
        event.preventDefault();
        // a badge scanner types the code and Enter at once: search first, then open what it found
        if (timer !== null || loading !== null || shownQuery() !== box.value.trim()) {
          (timer !== null || loading === null ? load() : loading).then(function () {
            if (shownQuery() === box.value.trim()) open();
          });
        } else {
          open();
        }
      } else if (event.key === "Escape") {
        event.preventDefault();
        box.value = "";
        load();
      }
    });

    results.addEventListener("click", function (event) {
      var row = event.target.closest("[data-hit]");
      if (row && !event.target.closest("a")) window.location.assign(row.getAttribute("data-href"));
    });

    // coming back to the desk (Back, or a restored tab): ready for the next person at once
    window.addEventListener("pageshow", function () {
      box.focus();
      box.select();
    });
  }

  function setupReprint(form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      // opened while handling the click, so that popup blockers let it through; filled once the badge exists
      var tab = window.open("", "_blank");
      fetch(form.action, {method: "POST", body: new FormData(form), credentials: "same-origin",
                          headers: {"Accept": "application/json"}})
        .then(function (response) {
          return response.json().then(function (body) { return {ok: response.ok, body: body}; });
        })
        .then(function (answer) {
          if (!answer.ok) {
            if (tab) tab.close();
            form.submit();  // nothing changed: the page explains the refusal in its own language
            return;
          }
          if (tab) tab.location.href = answer.body.badge_url; else window.open(answer.body.badge_url, "_blank");
          window.location.assign(answer.body.page_url);
        })
        .catch(function () {
          if (tab) tab.close();
          window.location.reload();
        });
    });
  }

  function setupConfirm(form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) event.preventDefault();
    });
  }

  function setupFilter(input) {
    var selector = input.getAttribute("data-filter");
    input.addEventListener("input", function () {
      var words = input.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
      document.querySelectorAll(selector).forEach(function (row) {
        var text = row.getAttribute("data-text") || "";
        row.hidden = !words.every(function (word) { return text.indexOf(word) >= 0; });
      });
    });
  }

  document.querySelectorAll("[data-desk-search]").forEach(setupSearch);
  document.querySelectorAll("form[data-reprint]").forEach(setupReprint);
  document.querySelectorAll("form[data-confirm]").forEach(setupConfirm);
  document.querySelectorAll("input[data-filter]").forEach(setupFilter);
  var focus = document.querySelector(".desk [autofocus]");
  if (focus && document.activeElement !== focus) focus.focus();
})();
