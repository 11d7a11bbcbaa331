// Manage Orders: "select all" checkbox, a typed tracking number selects its row, and Enter in
// a row's tracking box presses that row's button (the page is one form, and a form's Enter
// presses its first button: the first row's).
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
    input.addEventListener("keydown", function (event) {
      if (event.key !== "Enter" || event.isComposing) { return; }
      var button = input.parentElement.querySelector("button[name='ship_one']");
      if (button) {
        event.preventDefault();
        button.click();
      }
    });
  });
})();
