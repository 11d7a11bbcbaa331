// Manage Orders: "select all" checkbox, and a typed tracking number selects its row.
(function () {
  "use strict";
  var all = document.getElementById("select-all");
  var checks = document.querySelectorAll(".order-check");
  if (all) {
    all.addEventListener("change", function () {
      checks.forEach(function (c) { c.checked = all.checked; });
    });
  }
  document.querySelectorAll("input[name^='tracking-']").forEach(function (input) {
    input.addEventListener("input", function () {
      var pk = input.name.slice("tracking-".length);
      var box = document.querySelector(".order-check[value='" + pk + "']");
      if (box && input.value.trim()) { box.checked = true; }
    });
  });
})();
