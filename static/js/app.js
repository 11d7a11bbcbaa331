// Catalog Health: small progressive enhancements (no inline scripts: the CSP allows only files).
(function () {
  "use strict";
  // Product images come from shops' feeds and may be unreachable: show a neutral tile instead
  // of the browser's broken-image icon.
  function hideBroken(img) {
    var tile = document.createElement("span");
    tile.className = img.className + " img-broken d-inline-block";
    tile.setAttribute("role", "img");
    tile.setAttribute("aria-label", "Image not reachable");
    tile.title = "The image link could not be loaded";
    img.replaceWith(tile);
  }
  document.querySelectorAll("img.product-thumb, img.product-thumb-lg").forEach(function (img) {
    if (img.complete && img.naturalWidth === 0) {
      hideBroken(img);
    } else {
      img.addEventListener("error", function () { hideBroken(img); }, { once: true });
    }
  });
})();
