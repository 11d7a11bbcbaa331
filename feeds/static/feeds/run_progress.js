// Live progress of a feed run: polls the run's small JSON endpoint and updates the page
// in place; reloads once when the run finishes so the result (errors, diff) is shown.
(function () {
  "use strict";
  var box = document.getElementById("run-progress");
  if (!box || box.dataset.active !== "1") return;
  var url = box.dataset.url;
  var order = ["queued", "fetching", "parsing", "validating", "applying", "reviewing", "done"];
  var fmt = new Intl.NumberFormat();

  function size(n) {
    if (n < 1024) return n + " B";
    var units = ["KB", "MB", "GB"], i = -1;
    do { n /= 1024; i++; } while (n >= 1024 && i < units.length - 1);
    return n.toFixed(1) + " " + units[i];
  }

  function render(p) {
    var idx = order.indexOf(p.phase);
    document.querySelectorAll("#run-phases [data-phase]").forEach(function (li) {
      var i = order.indexOf(li.dataset.phase);
      li.classList.toggle("fw-bold", i === idx);
      li.classList.toggle("text-body-secondary", i > idx);
      li.classList.toggle("text-success", i < idx);
    });
    var pct = Math.max(5, Math.round((Math.max(idx, 0) / (order.length - 1)) * 100));
    if (p.phase === "parsing" && p.rows_total) pct = Math.round(30 + 30 * p.rows_done / p.rows_total);
    document.getElementById("run-bar").style.width = pct + "%";
    var text = "Phase: " + p.phase_label + " · " + fmt.format(p.rows_done) + " rows";
    if (p.rows_total) text += " of " + fmt.format(p.rows_total);
    text += " · " + size(p.bytes_downloaded) + " downloaded";
    document.getElementById("run-progress-text").textContent = text;
    // the badge follows the same poll as the phase bar: they cannot disagree
    var badge = document.querySelector("#run-status [data-run-status]");
    if (badge) {
      badge.textContent = p.state_label;
      badge.dataset.runStatus = p.status;
    }
    Object.keys(p.counts).forEach(function (k) {
      var el = document.querySelector('[data-count="' + k + '"]');
      if (!el) return;
      el.textContent = fmt.format(p.counts[k]);
      // rejected rows and warnings are in colour only when there are some
      if (el.dataset.alarm) el.classList.toggle(el.dataset.alarm, p.counts[k] > 0);
    });
  }

  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (p) {
        render(p);
        if (p.finished) { window.location.reload(); return; }
        setTimeout(poll, 1000);
      })
      .catch(function () { setTimeout(poll, 3000); });
  }
  poll();
})();
