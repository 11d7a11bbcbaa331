// Draws the impressions graph of the View details page from the figure JSON embedded in the
// page (json_script): no inline script, so the page works under a strict CSP.
(function () {
  "use strict";
  var data = document.getElementById("impressions-figure");
  var target = document.getElementById("impressions-plot");
  if (!data || !target || typeof Plotly === "undefined") { return; }
  var figure = JSON.parse(data.textContent);
  Plotly.newPlot(target, figure.data, figure.layout, {responsive: true, displaylogo: false});
})();
