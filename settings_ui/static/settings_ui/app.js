// zoomsync settings UI: small progressive enhancement only. Every page works without it.
(function () {
  "use strict";
  // The section menu folds into a "Menu" button on narrow screens (open by default without JS).
  var menu = document.getElementById("menu");
  if (menu && window.matchMedia("(max-width: 760px)").matches) menu.open = false;
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
  // Import: a paste over the server's limit is refused here, so the text is never lost.
  var importForm = document.getElementById("import-form");
  if (importForm) {
    importForm.addEventListener("submit", function (ev) {
      var max = parseInt(importForm.dataset.maxBytes, 10);
      var text = importForm.querySelector("textarea");
      var note = document.getElementById("too-large");
      if (text && max && new Blob([text.value]).size > max) {
        ev.preventDefault();
        note.textContent = "The pasted text is larger than " + (max / 1e6).toFixed(1) + " MB, more than can be pasted: save it to a file and upload that instead. Nothing was sent; your text is kept below.";
        note.hidden = false;
      }
    });
  }
  // Sync progress: poll the run's JSON until it is finished, then reload for the full report.
  var panel = document.getElementById("progress");
  if (panel && panel.dataset.finished === "0") {
    var poll = function () {
      fetch(panel.dataset.progressUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (d) {
          var status = document.getElementById("run-status");
          status.textContent = d.status_words;
          status.className = "badge " + d.status;
          document.getElementById("progress-text").textContent = d.text;
          document.getElementById("progress-percent").textContent = d.percent;
          var bar = document.getElementById("progress-bar");
          if (bar) { bar.value = d.percent; bar.textContent = d.percent + "%"; }
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
