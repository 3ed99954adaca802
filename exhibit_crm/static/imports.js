/* The import job page while the commit runs: polls the job's status and moves the progress bar; reloads the page
   when the import has finished. Without this file the page refreshes itself every few seconds. */
(function () {
  "use strict";

  var box = document.getElementById("progress");
  if (!box) { return; }
  var bar = box.querySelector("progress");
  var shown = box.querySelector("[data-rows-done]");
  var refresh = document.querySelector('meta[http-equiv="refresh"]');
  if (refresh) { refresh.parentNode.removeChild(refresh); }

  function poll() {
    fetch(box.getAttribute("data-status-url"), {headers: {"Accept": "application/json"}, credentials: "same-origin"})
      .then(function (response) { return response.json(); })
      .then(function (job) {
        bar.value = job.rows_done;
        shown.textContent = job.rows_done;
        if (job.status === "running") { setTimeout(poll, 1000); } else { window.location.reload(); }
      })
      .catch(function () { setTimeout(poll, 3000); });
  }

  setTimeout(poll, 500);
})();
