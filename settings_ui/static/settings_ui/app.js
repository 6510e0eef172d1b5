// zoomsync settings UI: small progressive enhancement only. Every page works without it.
(function () {
  "use strict";
  // Filter boxes: <input data-filter-target="CSS selector"> hides .option rows not matching.
  document.querySelectorAll("input[data-filter-target]").forEach(function (input) {
    var box = document.querySelector(input.dataset.filterTarget);
    if (!box) return;
    input.hidden = false;
    input.addEventListener("input", function () {
      var q = input.value.trim().toLowerCase();
      box.querySelectorAll(".option").forEach(function (el) {
        el.hidden = q !== "" && (el.dataset.text || el.textContent).toLowerCase().indexOf(q) === -1;
      });
    });
  });
  // Sync progress: poll the run's JSON until it is finished, then reload for the full report.
  var panel = document.getElementById("progress");
  if (panel && panel.dataset.finished === "0") {
    var poll = function () {
      fetch(panel.dataset.progressUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (d) {
          document.getElementById("run-status").textContent = d.status;
          var phase = document.getElementById("progress-phase");
          if (phase) phase.textContent = d.phase || "waiting for a worker";
          var count = document.getElementById("progress-count");
          if (count) count.textContent = d.done + " / " + (d.total || "?");
          var bar = document.getElementById("progress-bar");
          if (bar) { bar.max = d.total || 1; bar.value = d.done; }
          Object.keys(d.summary).forEach(function (k) {
            var dd = panel.querySelector('[data-key="' + k + '"]');
            if (dd) dd.textContent = d.summary[k];
          });
          if (d.finished) { window.location.reload(); } else { setTimeout(poll, 1000); }
        })
        .catch(function () { setTimeout(poll, 3000); });
    };
    setTimeout(poll, 500);
  }
})();
