// Channel feeds: the "Copy URL" buttons (no inline scripts: the CSP allows only files).
(function () {
  "use strict";
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    button.addEventListener("click", function () {
      var input = document.getElementById(button.getAttribute("data-copy"));
      input.select();
      var done = function () { button.textContent = "Copied"; };
      if (navigator.clipboard) {
        navigator.clipboard.writeText(input.value).then(done, function () { document.execCommand("copy"); done(); });
      } else {
        document.execCommand("copy");
        done();
      }
    });
  });
})();

// Live preview: while the settings or rules are edited, ask the page for its preview of the
// unsaved values (the same POST as the Preview button) and swap in the preview card.
(function () {
  "use strict";
  var form = document.getElementById("settings-form");
  var card = document.getElementById("preview");
  if (!form || !card || !window.fetch || !window.DOMParser) { return; }
  var timer = null;
  var seq = 0;
  function refresh() {
    var data = new FormData(form);
    data.set("action", "preview");
    var mine = ++seq;
    fetch(window.location.pathname, { method: "POST", body: data, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (!html || mine !== seq) { return; }
        var fresh = new DOMParser().parseFromString(html, "text/html");
        var next = fresh.getElementById("preview");
        var errors = fresh.getElementById("rules-errors");
        if (next) { card.replaceWith(next); card = next; }
        var mineErrors = document.getElementById("rules-errors");
        if (mineErrors && errors) { mineErrors.replaceWith(errors); }
      })
      .catch(function () {});
  }
  form.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(refresh, 500);
  });
  form.addEventListener("change", function () {
    clearTimeout(timer);
    timer = setTimeout(refresh, 100);
  });
})();
